"""PettingZoo's own conformance utilities over representative spread_v0 configs (MPE2 style), plus seeding.

``pettingzoo.test`` checks the API contract (spaces, dict keys, agent removal, ``last()``
bookkeeping, render return types, state space) but little about determinism, so the second
half of this file checks seeding properly: whole trajectories, stream continuation and copies.
"""

import copy
import functools
import pickle
import types

import numpy as np
import pettingzoo
import pytest
import torch

from marl_envs import spread_v0
from tests.api.pettingzoo_suite import (
    StepReturnsObservation,
    api_test,
    bombardment_test,
    max_cycles_test,
    parallel_api_test,
    parallel_seed_test,
    render_test,
    seed_test,
    state_test,
)

CONFIGS = {
    "default": {},
    "N1": {"N": 1},
    "N4_continuous": {"N": 4, "continuous_actions": True},
    "N5_local_only": {"N": 5, "local_ratio": 1.0},
    "global_only_terminating": {"local_ratio": 0.0, "terminate_on_success": True},
    "max_cycles5": {"max_cycles": 5},
}
CONFIG_IDS = list(CONFIGS)


@pytest.mark.parametrize("name", CONFIG_IDS)
def test_api_test(name):
    api_test(spread_v0.env(**CONFIGS[name]), num_cycles=30)


@pytest.mark.parametrize("name", CONFIG_IDS)
def test_parallel_api_test(name):
    parallel_api_test(spread_v0.parallel_env(**CONFIGS[name]), num_cycles=30)


@pytest.mark.parametrize("name", CONFIG_IDS)
def test_seed_test(name):
    seed_test(functools.partial(spread_v0.env, **CONFIGS[name]), num_cycles=30)


@pytest.mark.parametrize("name", CONFIG_IDS)
def test_parallel_seed_test(name):
    parallel_seed_test(functools.partial(spread_v0.parallel_env, **CONFIGS[name]), num_cycles=30)


@pytest.mark.parametrize("name", CONFIG_IDS)
def test_max_cycles_test(name):
    """max_cycles_test needs a module; a namespace that fixes the other arguments acts as one."""
    kwargs = {k: v for k, v in CONFIGS[name].items() if k != "max_cycles"}
    if not kwargs:
        max_cycles_test(spread_v0)
        return
    mod = types.SimpleNamespace(
        env=functools.partial(spread_v0.env, **kwargs),
        parallel_env=functools.partial(spread_v0.parallel_env, **kwargs),
        raw_env=functools.partial(spread_v0.raw_env, **kwargs),
    )
    max_cycles_test(mod)


@pytest.mark.parametrize("name", ["default", "N1", "N4_continuous"])
def test_render_test(name):
    """rgb_array must give (H, W, 3) uint8 frames and human mode None (SDL dummy driver, see conftest)."""
    render_test(functools.partial(spread_v0.env, **CONFIGS[name]))


@pytest.mark.parametrize("name", CONFIG_IDS)
def test_state_test(name):
    kwargs = CONFIGS[name]
    state_test(spread_v0.env(**kwargs), spread_v0.parallel_env(**kwargs), num_cycles=10)


@pytest.mark.parametrize("name", CONFIG_IDS)
def test_bombardment_test(name):
    bombardment_test(StepReturnsObservation(spread_v0.env(**CONFIGS[name])), cycles=30)


def test_aec_step_returns_none():
    env = spread_v0.env()
    env.reset(seed=0)
    assert env.step(0) is None


# -- pettingzoo.make ------------------------------------------------------------------


def test_pettingzoo_make_parallel_accepts_kwargs():
    env = pettingzoo.make("parallel", "marl_envs/spread-v0", N=2, max_cycles=3, local_ratio=0.0)
    assert isinstance(env, pettingzoo.ParallelEnv)
    assert env.possible_agents == ["agent_0", "agent_1"]
    env.reset(seed=0)
    for _ in range(3):
        _, rew, _, trunc, _ = env.step({a: 0 for a in env.agents})
    assert all(trunc.values()) and env.agents == []
    assert rew["agent_0"] == rew["agent_1"]  # local_ratio=0: the global reward only


def test_pettingzoo_make_aec_accepts_kwargs():
    env = pettingzoo.make("aec", "marl_envs/spread-v0", N=4, continuous_actions=True)
    assert isinstance(env, pettingzoo.AECEnv)
    env.reset(seed=0)
    assert env.num_agents == 4
    assert env.action_space("agent_3").shape == (5,)
    assert env.observation_space("agent_0").shape == (24,)


def test_pettingzoo_make_max_cycles_argument():
    env = pettingzoo.make("parallel", "marl_envs/spread-v0", max_cycles=2)
    env.reset(seed=0)
    env.step({a: 0 for a in env.agents})
    _, _, _, trunc, _ = env.step({a: 0 for a in env.agents})
    assert all(trunc.values())


# -- episode ends through the PettingZoo views ------------------------------------------


def _cover_landmarks(parallel):
    """Put every agent of the single world on its own landmark, at rest and apart."""
    state = parallel.batched.scenario.world.state
    n = len(parallel.possible_agents)
    spots = torch.stack([torch.linspace(-0.9, 0.9, n), torch.zeros(n)], dim=-1)
    state.pos[0, :n] = spots
    state.pos[0, n:] = spots
    state.vel.zero_()


def test_parallel_env_terminates_on_success():
    env = spread_v0.parallel_env(terminate_on_success=True)
    env.reset(seed=0)
    _cover_landmarks(env)
    _, _, term, trunc, _ = env.step({a: 0 for a in env.agents})
    assert all(term.values()) and not any(trunc.values())
    assert env.agents == []
    with pytest.raises(RuntimeError, match="reset"):
        env.step({})


def test_aec_env_terminates_on_success():
    env = spread_v0.env(terminate_on_success=True)
    env.reset(seed=0)
    _cover_landmarks(env.unwrapped)  # parallel_to_aec: unwrapped is the native parallel env
    for _ in env.agent_iter(env.num_agents):
        env.step(0)
    assert all(env.terminations.values()) and not any(env.truncations.values())


@pytest.mark.parametrize("max_cycles", [1, 3, 25])
@pytest.mark.parametrize("terminating", [False, True])
def test_parallel_truncates_exactly_at_max_cycles(max_cycles, terminating):
    """Regression: with terminate_on_success the parallel env used never to truncate."""
    env = spread_v0.parallel_env(max_cycles=max_cycles, terminate_on_success=terminating)
    for episode in range(2):
        env.reset(seed=episode)
        for t in range(1, max_cycles + 1):
            _, _, term, trunc, _ = env.step({a: 0 for a in env.agents})  # standing still never covers
            assert not any(term.values())
            assert all(trunc.values()) == (t == max_cycles), f"step {t}"
        assert env.agents == []


# -- seeding: whole trajectories, not just the first step --------------------------------


def _rollout(env, seed, episodes):
    """Observations and rewards of ``episodes`` episodes; seeded once, then reset() continues."""
    trace = []
    obs, _ = env.reset(seed=seed)
    for i, agent in enumerate(env.possible_agents):
        env.action_space(agent).seed(seed + i)
    for episode in range(episodes):
        if episode:
            obs, _ = env.reset()
        trace.append(("reset", obs))
        while env.agents:
            actions = {a: env.action_space(a).sample() for a in env.agents}
            obs, rew, *_ = env.step(actions)
            trace.append((obs, rew))
    return trace


def _assert_same_trace(a, b):
    assert len(a) == len(b)
    for step, (x, y) in enumerate(zip(a, b, strict=True)):
        for dx, dy in zip(x, y, strict=True):
            if isinstance(dx, str):
                assert dx == dy
                continue
            assert dx.keys() == dy.keys()
            for agent in dx:
                np.testing.assert_array_equal(dx[agent], dy[agent], err_msg=f"step {step}, {agent}")


@pytest.mark.parametrize("name", ["default", "N4_continuous"])
def test_same_seed_same_multi_episode_trajectory(name):
    kwargs = {**CONFIGS[name], "max_cycles": 10}
    a = _rollout(spread_v0.parallel_env(**kwargs), seed=7, episodes=3)
    b = _rollout(spread_v0.parallel_env(**kwargs), seed=7, episodes=3)
    assert len(a) == 3 * 11
    _assert_same_trace(a, b)


def test_different_seeds_give_different_initial_observations():
    env = spread_v0.parallel_env()
    first = [env.reset(seed=s)[0]["agent_0"] for s in range(5)]
    for i in range(5):
        for j in range(i):
            assert not np.array_equal(first[i], first[j]), (i, j)


def test_reset_without_seed_continues_the_stream():
    env = spread_v0.parallel_env(max_cycles=2)
    obs0, _ = env.reset(seed=3)
    obs1, _ = env.reset()
    obs2, _ = env.reset()
    assert not np.array_equal(obs0["agent_0"], obs1["agent_0"])
    assert not np.array_equal(obs1["agent_0"], obs2["agent_0"])
    # ...and the continuation is itself determined by the seed
    again = spread_v0.parallel_env(max_cycles=2)
    again.reset(seed=3)
    np.testing.assert_array_equal(again.reset()[0]["agent_0"], obs1["agent_0"])
    # reseeding restarts the stream
    np.testing.assert_array_equal(env.reset(seed=3)[0]["agent_0"], obs0["agent_0"])


def test_unseeded_envs_are_independent_draws():
    a, b = spread_v0.parallel_env(), spread_v0.parallel_env()
    assert not np.array_equal(a.reset()[0]["agent_0"], b.reset()[0]["agent_0"])


@pytest.mark.parametrize("clone", [copy.deepcopy, lambda env: pickle.loads(pickle.dumps(env))])
def test_copies_of_an_unseeded_env_are_independent(clone):
    """Vector wrappers copy envs by pickling; copies must not replay the original's episodes."""
    env = spread_v0.parallel_env()
    twin = clone(env)
    assert not np.array_equal(env.reset()[0]["agent_0"], twin.reset()[0]["agent_0"])


@pytest.mark.parametrize("clone", [copy.deepcopy, lambda env: pickle.loads(pickle.dumps(env))])
def test_copies_of_a_seeded_env_are_exact(clone):
    env = spread_v0.parallel_env()
    env.reset(seed=11)
    twin = clone(env)
    actions = {a: 2 for a in env.agents}
    for _ in range(3):
        obs, rew, *_ = env.step(actions)
        tobs, t_rew, *_ = twin.step(actions)
        assert rew == t_rew
        np.testing.assert_array_equal(obs["agent_1"], tobs["agent_1"])
    np.testing.assert_array_equal(env.reset()[0]["agent_2"], twin.reset()[0]["agent_2"])
