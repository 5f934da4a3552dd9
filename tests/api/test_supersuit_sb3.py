"""SuperSuit's vector wrappers on spread_v0, and Stable-Baselines3 PPO training through them.

SuperSuit (``pettingzoo_env_to_vec_env_v1`` + ``concat_vec_envs_v1``) gives one vector slot per
agent and per copy, in ``possible_agents`` order, resets an episode once every agent is done
and puts the last observation in ``infos[i]["terminal_observation"]``. Copies are made by
pickling the env, which is why unseeded copies must draw fresh entropy (see ParallelEnv).
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from gymnasium import spaces

from marl_envs import spread_v0

ss = pytest.importorskip("supersuit")
HAS_SB3 = importlib.util.find_spec("stable_baselines3") is not None
needs_sb3 = pytest.mark.skipif(not HAS_SB3, reason="stable-baselines3 not installed")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sb3_supersuit.py"
# SuperSuit's SB3 wrapper forwards render_mode in a form SB3's VecEnv does not recognise.
pytestmark = pytest.mark.filterwarnings("ignore:The `render_mode` attribute is not defined:UserWarning")


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny MLPs: one thread is ~10x faster than two contended ones on a 2-core CI machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _vec(base_class="gymnasium", num_vec_envs=2, **kwargs):
    venv = ss.pettingzoo_env_to_vec_env_v1(spread_v0.parallel_env(**kwargs))
    return ss.concat_vec_envs_v1(venv, num_vec_envs=num_vec_envs, num_cpus=0, base_class=base_class)


def test_gymnasium_vec_env_matches_the_parallel_env_through_episode_ends():
    """Slot i of copy 0 is agent i of a parallel env seeded like copy 0 (seed + 0), for 60 steps."""
    venv = _vec(max_cycles=25)
    assert venv.num_envs == 6
    ref = spread_v0.parallel_env(max_cycles=25)
    obs, infos = venv.reset(seed=10)
    ref_obs, _ = ref.reset(seed=10)
    assert obs.shape == (6, 18) and obs.dtype == np.float32 and len(infos) == 6
    rng = np.random.default_rng(0)
    boundaries = 0
    for t in range(1, 61):
        np.testing.assert_array_equal(obs[:3], np.stack([ref_obs[a] for a in ref.possible_agents]))
        actions = rng.integers(0, 5, size=6)
        obs, rew, term, trunc, infos = venv.step(actions)
        ref_obs, ref_rew, _, _, _ = ref.step({a: int(actions[i]) for i, a in enumerate(ref.agents)})
        assert obs.shape == (6, 18) and rew.shape == (6,) and term.shape == (6,) and trunc.shape == (6,)
        np.testing.assert_allclose(rew[:3], [ref_rew[a] for a in ref.possible_agents], rtol=0, atol=0)
        assert not term.any()
        if t % 25 == 0:
            boundaries += 1
            assert trunc.all()
            terminal = np.stack([infos[i]["terminal_observation"] for i in range(6)])
            np.testing.assert_array_equal(terminal[:3], np.stack([ref_obs[a] for a in ref.possible_agents]))
            assert (obs[:, 0:2] == 0).all(), "the returned observation starts a new episode at rest"
            assert not np.array_equal(terminal, obs)
            ref_obs, _ = ref.reset()
        else:
            assert not trunc.any() and all("terminal_observation" not in info for info in infos)
    assert boundaries == 2


def test_unseeded_copies_play_different_worlds():
    """Regression: copies are pickled clones; sharing the generator state made them identical."""
    obs, _ = _vec().reset()
    assert not np.array_equal(obs[:3], obs[3:])


def test_seeded_copies_are_distinct_and_reproducible():
    a, _ = _vec().reset(seed=5)
    b, _ = _vec().reset(seed=5)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[:3], a[3:])


@needs_sb3
@pytest.mark.parametrize("continuous", [False, True])
def test_sb3_vec_env_spaces_and_steps(continuous):
    n = 2 if continuous else 3
    venv = _vec("stable_baselines3", N=n, continuous_actions=continuous, max_cycles=5)
    assert venv.num_envs == 2 * n
    assert venv.observation_space == spaces.Box(-np.inf, np.inf, (6 * n,), np.float32)
    expected_action = spaces.Box(0.0, 1.0, (5,), np.float32) if continuous else spaces.Discrete(5)
    assert venv.action_space == expected_action
    obs = venv.reset()
    assert obs.shape == (2 * n, 6 * n)
    for t in range(1, 11):
        obs, rew, dones, infos = venv.step(np.stack([venv.action_space.sample() for _ in range(venv.num_envs)]))
        assert obs.shape == (2 * n, 6 * n) and rew.shape == (2 * n,) and dones.shape == (2 * n,)
        assert dones.all() == (t % 5 == 0) and dones.any() == (t % 5 == 0)
        if t % 5 == 0:
            assert all(info["terminal_observation"].shape == (6 * n,) for info in infos)


@needs_sb3
@pytest.mark.parametrize("continuous", [False, True])
def test_sb3_ppo_trains_on_spread(continuous):
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecMonitor

    n = 2 if continuous else 3
    venv = VecMonitor(_vec("stable_baselines3", N=n, continuous_actions=continuous, max_cycles=25))
    model = PPO("MlpPolicy", venv, n_steps=64, batch_size=64, n_epochs=2, device="cpu")
    assert model.observation_space == venv.observation_space and model.action_space == venv.action_space
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(total_timesteps=256)
    assert model.num_timesteps >= 256
    assert any(not torch.equal(a, b) for a, b in zip(before, model.policy.parameters(), strict=True))
    assert all(torch.isfinite(p).all() for p in model.policy.parameters())
    # 64 steps per slot cross the 25-step episode end twice: SB3 saw whole episodes of length 25
    assert len(model.ep_info_buffer) >= 2 * venv.num_envs
    assert {ep["l"] for ep in model.ep_info_buffer} == {25}
    actions, _ = model.predict(venv.reset(), deterministic=True)
    assert actions.shape == ((venv.num_envs, 5) if continuous else (venv.num_envs,))


def _load_example():
    spec = importlib.util.spec_from_file_location("sb3_supersuit_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_sb3
def test_example_script_trains_reproducibly():
    example = _load_example()
    runs = [example.train(total_timesteps=128, num_vec_envs=2, seed=3, n_steps=32) for _ in range(2)]
    for a, b in zip(runs[0].policy.parameters(), runs[1].policy.parameters(), strict=True):
        assert torch.equal(a, b)
    assert runs[0].num_timesteps >= 128
    assert "total-timesteps" in EXAMPLE.read_text() and example.__doc__


def test_sb3_vec_env_on_transport_reports_success_at_episode_ends():
    from marl_envs import transport_v0

    venv = ss.concat_vec_envs_v1(ss.pettingzoo_env_to_vec_env_v1(transport_v0.parallel_env(max_cycles=6)),
                                 num_vec_envs=2, num_cpus=0, base_class="stable_baselines3")
    assert venv.num_envs == 6 and venv.observation_space.shape == (17,) and venv.action_space == spaces.Discrete(5)
    venv.reset()
    for t in range(1, 13):
        obs, rew, dones, infos = venv.step(np.zeros(6, dtype=np.int64))
        assert obs.shape == (6, 17) and np.isfinite(rew).all()
        assert dones.all() == (t % 6 == 0)
        if t % 6 == 0:  # standing still never delivers the package: truncated, not a success
            assert all(info["is_success"] is False and info["terminal_observation"].shape == (17,) for info in infos)
