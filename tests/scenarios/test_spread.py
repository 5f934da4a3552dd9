"""spread_v0 against the real MPE2 simple_spread_v3: same state in, same obs, rewards and next state out.

After JaxMARL's MPE test: copy our initial state into MPE2's world, step both with the same
random actions for whole episodes, and compare every step. A policy trained on one then
scores the same on the other.
"""

import numpy as np
import pytest
import torch

from marl_envs import make_batched

mpe2 = pytest.importorskip("mpe2")
from mpe2 import simple_spread_v3  # noqa: E402

TOL = 1e-4
# Spread's worlds are discs without walls: no kernel serves them (``World.step`` keeps its torch path), so
# a second run on the reference path would repeat the first.
pytestmark = pytest.mark.one_compute_path


def _copy_state_into_mpe(mpe_env, benv):
    world = mpe_env.unwrapped.world
    n = len(world.agents)
    pos = benv.scenario.world.state.pos[0].double().numpy()
    vel = benv.scenario.world.state.vel[0].double().numpy()
    for i, agent in enumerate(world.agents):
        agent.state.p_pos = pos[i].copy()
        agent.state.p_vel = vel[i].copy()
    for k, landmark in enumerate(world.landmarks):
        landmark.state.p_pos = pos[n + k].copy()


def _run_parity(n, local_ratio, continuous, episodes, seed):
    rng = np.random.default_rng(seed)
    kwargs = dict(N=n, local_ratio=local_ratio, max_cycles=25, continuous_actions=continuous)
    mpe_env = simple_spread_v3.parallel_env(**kwargs)
    benv = make_batched("spread_v0", num_envs=1, seed=seed, autoreset=False, **kwargs)
    agents = benv.agents
    worst = 0.0
    for _ in range(episodes):
        mpe_env.reset(seed=int(rng.integers(1 << 31)))
        obs, _ = benv.reset()
        _copy_state_into_mpe(mpe_env, benv)
        mpe_obs = {a: mpe_env.unwrapped.observe(a) for a in agents}
        np.testing.assert_allclose(np.stack([mpe_obs[a] for a in agents]), obs[0].numpy(), atol=TOL)
        for _t in range(25):
            if continuous:
                # include values outside [0, 1]: both clip them
                act = rng.uniform(-0.2, 1.2, size=(n, 5)).astype(np.float32)
                mpe_act = {a: act[i] for i, a in enumerate(agents)}
            else:
                act = rng.integers(0, 5, size=n)
                mpe_act = {a: int(act[i]) for i, a in enumerate(agents)}
            m_obs, m_rew, m_term, m_trunc, _ = mpe_env.step(mpe_act)
            obs, rew, term, trunc, _ = benv.step(torch.as_tensor(act)[None])
            ours = obs[0].numpy()
            theirs = np.stack([m_obs[a] for a in agents])
            np.testing.assert_allclose(ours, theirs, atol=TOL)
            np.testing.assert_allclose(rew[0].numpy(), [m_rew[a] for a in agents], atol=TOL)
            world = mpe_env.unwrapped.world
            their_pos = np.stack([e.state.p_pos for e in world.entities])
            np.testing.assert_allclose(benv.scenario.world.state.pos[0].numpy(), their_pos, atol=TOL)
            assert trunc[0].tolist() == [m_trunc[a] for a in agents]
            assert term[0].tolist() == [m_term[a] for a in agents]
            worst = max(worst, float(np.abs(ours - theirs).max()))
    return worst


@pytest.mark.parametrize("continuous", [False, True])
def test_parity_with_mpe2_default_config(continuous):
    """200 random-action episodes per action type with the default N=3."""
    worst = _run_parity(3, 0.5, continuous, episodes=200, seed=1)
    assert worst < TOL


@pytest.mark.parametrize("n, local_ratio", [(1, 0.0), (2, 1.0), (5, 0.25)])
def test_parity_with_mpe2_other_configs(n, local_ratio):
    _run_parity(n, local_ratio, continuous=False, episodes=20, seed=n)


def test_collision_penalty_counts_other_overlapping_agents():
    benv = make_batched("spread_v0", num_envs=1, N=3, local_ratio=1.0, seed=0)
    benv.reset()
    state = benv.scenario.world.state
    state.pos[0, :3] = torch.tensor([[0.0, 0.0], [0.2, 0.0], [0.0, 0.25]])  # 0-1 and 0-2 overlap, 1-2 not
    _, rew, *_ = benv.step(torch.zeros(1, 3, dtype=torch.long))
    assert rew[0].tolist() == [-2.0, -1.0, -1.0]


def test_global_reward_is_minus_sum_of_closest_distances():
    benv = make_batched("spread_v0", num_envs=1, N=2, local_ratio=0.0, seed=0)
    benv.reset()
    state = benv.scenario.world.state
    state.pos[0] = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 0.5], [2.0, -1.0]])
    _, rew, *_ = benv.step(torch.zeros(1, 2, dtype=torch.long))
    assert rew[0].tolist() == pytest.approx([-1.5, -1.5])


def test_heuristic_beats_random():
    """The scripted controller covers landmarks far better than random moves (sanity for tests/examples)."""
    returns = {}
    for name in ("heuristic", "random"):
        benv = make_batched("spread_v0", num_envs=256, seed=3)
        obs, _ = benv.reset()
        total = torch.zeros(256)
        gen = torch.Generator().manual_seed(0)
        for _ in range(25):
            if name == "heuristic":
                act = benv.scenario.heuristic_action(benv.scenario.sense())
            else:
                act = torch.randint(0, 5, (256, 3), generator=gen)
            obs, rew, term, trunc, info = benv.step(act)
            total += rew.sum(-1)
        returns[name] = total.mean().item()
    assert returns["random"] < -70
    assert returns["heuristic"] > -45
