"""BatchedEnv: shapes, spaces, same-step autoreset with final obs, per-world resets, rendering.

Determinism and agreement with other views of the same worlds: ``test_batched_agreement.py``.

The strong checks compare against a twin: an env that must agree bit for bit (same seed,
same actions) except where the property under test says otherwise.
"""

import numpy as np
import pytest
import torch
from gymnasium.vector import AutoresetMode

from marl_envs import make_batched
from tests.api.spread_worlds import CONFIGS, random_actions, same_step

# -- shapes, dtypes, spaces -------------------------------------------------------------


@pytest.mark.parametrize("name", list(CONFIGS))
@pytest.mark.parametrize("num_envs", [1, 5])
def test_shapes_dtypes_and_spaces(name, num_envs, device):
    env = make_batched("spread_v0", num_envs=num_envs, device=device, seed=0, **CONFIGS[name])
    b, a = num_envs, env.num_agents
    n = CONFIGS[name].get("N", 3)
    assert env.agents == [f"agent_{i}" for i in range(n)] and a == n
    obs_dim = 6 * n
    obs, info = env.reset()
    assert obs.shape == (b, a, obs_dim) and obs.dtype == torch.float32 and obs.device.type == device
    assert info["state"].shape == (b, 6 * n)
    assert env.single_observation_space.shape == (obs_dim,)
    assert env.observation_space.shape == (b, a, obs_dim)
    assert env.state_space.shape == (6 * n,)
    assert env.action_space.shape == ((b, a) if name != "continuous_N4" else (b, a, 5))
    gen = torch.Generator().manual_seed(0)
    for step in range(30):
        if step % 2:
            act = random_actions(env, gen)
        else:  # the batched action space's own samples are valid actions
            act = torch.as_tensor(env.action_space.sample())
        assert env.single_action_space.contains(act[0, 0].cpu().numpy().astype(env.single_action_space.dtype))
        obs, rew, term, trunc, info = env.step(act)
        assert obs.shape == (b, a, obs_dim) and obs.dtype == torch.float32
        assert rew.shape == (b, a) and rew.dtype == torch.float32
        assert term.shape == (b, a) and term.dtype == torch.bool
        assert trunc.shape == (b, a) and trunc.dtype == torch.bool
        assert info["final_obs"].shape == (b, a, obs_dim)
        assert info["final_state"].shape == (b, 6 * n)
        assert info["episode_return"].shape == (b, a)
        assert info["episode_length"].shape == (b,)
        assert env.observation_space.contains(obs.cpu().numpy())
        assert env.single_observation_space.contains(obs[-1, -1].cpu().numpy())
        state = env.state()
        assert state.shape == (b, 6 * n) and state.dtype == torch.float32
        assert all(env.state_space.contains(s) for s in state.cpu().numpy())
        for tensor in (obs, rew, state, info["final_obs"]):
            assert torch.isfinite(tensor).all()


def test_metadata():
    env = make_batched("spread_v0", num_envs=2)
    assert env.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    assert env.metadata["name"] == "spread_v0"
    assert set(env.metadata["render_modes"]) == {"human", "rgb_array"}
    assert env.metadata["render_fps"] > 0


def test_state_is_the_true_state_layout():
    """state() = agent positions, agent velocities, landmark positions (the doc page's layout)."""
    env = make_batched("spread_v0", num_envs=3, seed=0)
    env.reset()
    env.step(torch.full((3, 3), 4))
    world = env.scenario.world.state
    expected = torch.cat([world.pos[:, :3].flatten(1), world.vel[:, :3].flatten(1), world.pos[:, 3:].flatten(1)], 1)
    assert torch.equal(env.state(), expected)


# -- lockstep truncation with same-step autoreset ----------------------------------------


@pytest.mark.parametrize("max_cycles", [1, 5])
def test_lockstep_truncation_autoresets_with_final_obs(max_cycles, device):
    """Autoreset env vs a twin that does not autoreset: same seed, same actions."""
    kwargs = dict(num_envs=3, device=device, seed=4, max_cycles=max_cycles)
    env = make_batched("spread_v0", **kwargs)
    twin = make_batched("spread_v0", autoreset=False, **kwargs)
    env.reset()
    twin.reset()
    gen = torch.Generator().manual_seed(1)
    for episode in range(2):
        rewards = []
        for t in range(1, max_cycles + 1):
            act = random_actions(env, gen)
            obs, rew, term, trunc, info = env.step(act)
            tobs, t_rew, tterm, ttrunc, tinfo = twin.step(act)
            rewards.append(rew)
            assert torch.equal(rew, t_rew) and not term.any()
            assert bool(trunc.all()) == (t == max_cycles) and bool(trunc.any()) == (t == max_cycles)
            assert torch.equal(info["final_obs"], tobs)
            assert torch.equal(info["final_state"], twin.state())
            assert (info["episode_length"] == t).all()
            torch.testing.assert_close(info["episode_return"], torch.stack(rewards).sum(0))
            if t < max_cycles:
                assert torch.equal(obs, tobs)
        # the returned obs starts a fresh episode: agents at rest, not where the old one ended
        assert (obs[..., 0:2] == 0).all()
        assert not torch.equal(obs, info["final_obs"])
        assert (tobs[..., 0:2] != 0).any()
        # and it is exactly the episode a manual reset() would have started (same stream)
        reset_obs, _ = twin.reset()
        assert torch.equal(obs, reset_obs), f"episode {episode}"
        assert torch.equal(env.state(), twin.state())


def test_episode_statistics_restart_after_autoreset():
    env = make_batched("spread_v0", num_envs=2, seed=0, max_cycles=3)
    env.reset()
    for _ in range(3):
        env.step(torch.zeros(2, 3, dtype=torch.long))
    _, rew, _, trunc, info = env.step(torch.zeros(2, 3, dtype=torch.long))
    assert not trunc.any()
    assert (info["episode_length"] == 1).all()
    assert torch.equal(info["episode_return"], rew)


# -- per-world termination and reset ------------------------------------------------------


def _cover_world(env, k):
    """Script world ``k``: each agent at rest on its own landmark, landmarks far apart."""
    state = env.scenario.world.state
    n = env.num_agents
    spots = torch.stack([torch.linspace(-0.9, 0.9, n), torch.full((n,), 0.3)], dim=-1).to(env.device)
    state.pos[k, :n] = spots
    state.pos[k, n:] = spots
    state.vel[k] = 0.0


@pytest.mark.parametrize("k", [0, 2])
def test_only_the_terminated_world_resets(k, device):
    """World k covers every landmark: it alone terminates and resets; the others are untouched."""
    kwargs = dict(num_envs=4, device=device, seed=9, terminate_on_success=True, local_ratio=0.0, max_cycles=5)
    env = make_batched("spread_v0", **kwargs)
    twin = make_batched("spread_v0", **kwargs)  # same worlds, but world k left as drawn
    env.reset()
    twin.reset()
    _cover_world(env, k)
    before = env.state().clone()
    gen = torch.Generator().manual_seed(2)
    act = random_actions(env, gen)
    act[k] = 0  # stand still on the landmarks
    obs, rew, term, trunc, info = env.step(act)
    tobs, t_rew, tterm, ttrunc, tinfo = twin.step(act)
    others = [i for i in range(4) if i != k]

    assert not tterm.any() and not ttrunc.any()  # the unscripted worlds do not end by chance
    assert term[k].all() and not term[others].any() and not trunc.any()
    assert rew[k].tolist() == pytest.approx([0.0] * 3, abs=1e-6)  # every landmark covered exactly
    # world k: final values are the covered world; the returned obs is a new episode
    assert torch.equal(info["final_state"][k], before[k])
    assert torch.equal(info["final_obs"][k, :, 2:4], before[k, :6].view(3, 2))  # own positions
    assert (obs[k, :, 0:2] == 0).all() and not torch.equal(obs[k], info["final_obs"][k])
    assert not torch.equal(env.state()[k], before[k])
    # the other worlds are bit-identical to the twin that reset nothing
    assert torch.equal(obs[others], tobs[others])
    assert torch.equal(rew[others], t_rew[others])
    assert torch.equal(info["final_obs"][others], tobs[others])
    assert torch.equal(info["final_state"][others], twin.state()[others])
    assert torch.equal(env.state()[others], twin.state()[others])
    for field in ("pos", "vel", "angle", "ang_vel"):
        mine, theirs = getattr(env.scenario.world.state, field), getattr(twin.scenario.world.state, field)
        assert torch.equal(mine[others], theirs[others]), field
    assert (info["episode_length"] == 1).all()

    # keep going: the others stay identical, and the per-world clocks now differ by one
    for t in range(2, 7):
        act = random_actions(env, gen)
        obs, rew, term, trunc, info = env.step(act)
        if t <= 5:
            tobs, t_rew, _, _, tinfo = twin.step(act)
            assert torch.equal(info["final_obs"][others], tinfo["final_obs"][others])
            assert torch.equal(rew[others], t_rew[others])
        assert not term.any()
        assert info["episode_length"][k] == t - 1
        assert (info["episode_length"][others] == (t if t <= 5 else t - 5)).all()
        assert bool(trunc[others].all()) == (t == 5) and bool(trunc[others].any()) == (t == 5)
        assert bool(trunc[k].all()) == (t == 6) and bool(trunc[k].any()) == (t == 6)


def test_terminated_world_reset_matches_a_manual_reset():
    """A per-world reset draws from the env's stream and is reproducible for a given seed."""
    outs = []
    for _ in range(2):
        env = make_batched("spread_v0", num_envs=3, seed=5, terminate_on_success=True)
        env.reset()
        _cover_world(env, 1)
        act = torch.zeros(3, 3, dtype=torch.long)
        outs.append(env.step(act))
    same_step(outs[0], outs[1])


# -- determinism and errors -------------------------------------------------------------


def test_step_before_reset_raises():
    env = make_batched("spread_v0", num_envs=2, seed=0)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(torch.zeros(2, 3, dtype=torch.long))


@pytest.mark.parametrize("terminating", [False, True])
def test_without_autoreset_stepping_after_the_end_raises(terminating):
    env = make_batched("spread_v0", num_envs=2, seed=0, max_cycles=3, autoreset=False,
                       terminate_on_success=terminating)
    act = torch.zeros(2, 3, dtype=torch.long)
    env.reset()
    for _ in range(3):
        obs, _, _, trunc, info = env.step(act)
    assert trunc.all()
    assert torch.equal(obs, info["final_obs"])  # nothing was reset
    for _ in range(2):
        with pytest.raises(RuntimeError, match="reset"):
            env.step(act)
    env.reset()
    _, _, _, trunc, info = env.step(act)
    assert not trunc.any() and (info["episode_length"] == 1).all()


def test_without_autoreset_a_termination_requires_reset():
    env = make_batched("spread_v0", num_envs=2, seed=0, autoreset=False, terminate_on_success=True)
    env.reset()
    _cover_world(env, 0)
    act = torch.zeros(2, 3, dtype=torch.long)
    _, _, term, _, _ = env.step(act)
    assert term[0].all() and not term[1].any()
    with pytest.raises(RuntimeError, match="reset"):
        env.step(act)


# -- equivalences ---------------------------------------------------------------------


# -- rendering --------------------------------------------------------------------------


def test_render_chosen_world():
    frames = []
    for index in (0, 1):
        env = make_batched("spread_v0", num_envs=2, seed=0, render_mode="rgb_array", render_env_index=index)
        env.reset()
        frame = env.render()
        assert isinstance(frame, np.ndarray) and frame.dtype == np.uint8
        assert frame.ndim == 3 and frame.shape[2] == 3
        frames.append(frame)
        env.close()
    assert frames[0].shape == frames[1].shape
    assert not np.array_equal(frames[0], frames[1])


def test_render_follows_the_world():
    env = make_batched("spread_v0", num_envs=1, seed=0, render_mode="rgb_array")
    env.reset()
    first = env.render()
    for _ in range(5):
        env.step(torch.full((1, 3), 2))
    assert not np.array_equal(first, env.render())
    env.close()
