"""Which compute path runs is visible and changes nothing a seed fixes, and the kernels survive a fork.

Same seed, same worlds on the CPU kernels and on the torch reference (the spawn candidates are one
counter-based stream that both paths read); one warning when numba is missing; and a process that
stepped hide-and-seek with the kernels can still start SuperSuit's fork-based vector env workers.
"""

import importlib.metadata
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from marl_envs import make_batched, native
from marl_envs.physics import Walls, accel
from marl_envs.scenarios.spawn import STREAM, candidate_uniforms, sample_positions

pytest.importorskip("numba")


def _run(code: str) -> subprocess.CompletedProcess:
    """``code`` in a fresh process, kernels on, without a wait policy or threading layer chosen by the caller's
    environment."""
    chosen = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "NUMBA_THREADING_LAYER", "MARL_ENVS_NATIVE")
    env = {k: v for k, v in os.environ.items() if k not in chosen}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=600,
                          env=env)


STEP = """
        env = make_batched("hide_and_seek_v1", num_envs=128, seed=0)
        env.reset(seed=0)
        env.step(env.scenario.heuristic_action())
"""


def _has_tbb() -> bool:
    try:
        importlib.metadata.version("tbb")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def test_idle_threads_sleep_when_marl_envs_is_imported_first():
    result = _run("""
        import os
        import marl_envs, numba, torch
        from marl_envs import make_batched
        torch.set_num_threads(2)
    """ + STEP + """
        print(os.environ.get("OMP_WAIT_POLICY"), numba.threading_layer())
    """)
    expected_layer = "tbb" if _has_tbb() else "workqueue"  # never numba's OpenMP layer (fork, spinning)
    assert result.returncode == 0 and result.stdout.split() == ["PASSIVE", expected_layer], result.stderr[-3000:]
    assert "spin-wait" not in result.stderr


def test_torch_imported_first_is_said_once():
    result = _run("""
        import torch
        torch.set_num_threads(2)
        from marl_envs import make_batched
    """ + STEP + STEP)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.count("spin-wait") == 1 and "OMP_WAIT_POLICY=PASSIVE" in result.stderr


def test_each_package_offers_exactly_the_kernels_it_loads():
    from marl_envs.scenarios.hide_and_seek import kernels as hide_and_seek_kernels

    for package in (native, hide_and_seek_kernels):
        assert set(package.kernels()) == set(package.NAMES)
        for name in package.NAMES:
            assert accel.kernel(name, torch.zeros(1)) is package.kernels()[name]


def test_a_scenario_can_bring_its_own_kernel(monkeypatch):
    monkeypatch.setattr(accel, "_LOADERS", dict(accel._LOADERS))
    monkeypatch.setattr(accel, "_LOADED", dict(accel._LOADED))
    accel.register("my_rule", lambda: torch.neg)
    assert accel.kernel("my_rule", torch.zeros(1)) is torch.neg
    with accel.disabled():
        assert accel.kernel("my_rule", torch.zeros(1)) is None


def test_the_torch_stream_is_the_kernels_stream():
    """``candidate_uniforms`` (torch, int64 bits) against SplitMix64 in plain Python integers."""
    seeds = torch.tensor([0, 1, 2**62 - 1, 123456789])
    counters = torch.arange(1, 9)
    golden, mix1, mix2 = STREAM
    mask = (1 << 64) - 1
    expected = []
    for seed in seeds.tolist():
        row = []
        for k in counters.tolist():
            z = (seed + k * golden) & mask
            z = ((z ^ (z >> 30)) * mix1) & mask
            z = ((z ^ (z >> 27)) * mix2) & mask
            z = z ^ (z >> 31)
            row.append((z >> 40) / (1 << 24))
        expected.append(row)
    assert torch.equal(candidate_uniforms(seeds, counters), torch.tensor(expected))


def test_same_seed_same_spawns_on_both_cpu_paths():
    b = 512
    walls = Walls.from_segments([[((-0.5, -2.0), (-0.5, 0.6)), ((0.5, -0.6), (0.5, 2.0))]] * b, half_thickness=0.05)
    regions = torch.tensor([-2.0, -2.0, 2.0, 2.0]).expand(8, 4)
    exclude = torch.tensor([[-0.5, -2.0, 0.5, 2.0]] * 4 + [[float("nan")] * 4] * 4)
    radii = [0.15] * 4 + [0.43] * 4  # crowded: many worlds redraw, so the rounds are compared too

    def sample():
        return sample_positions(torch.Generator().manual_seed(11), b, radii, regions, walls=walls, exclude=exclude)

    kernels = sample()
    with accel.disabled():
        reference = sample()
    assert torch.equal(kernels, reference)
    assert not torch.equal(kernels, sample_positions(torch.Generator().manual_seed(12), b, radii, regions,
                                                     walls=walls, exclude=exclude))


@pytest.mark.parametrize("env_id,kwargs", [("hide_and_seek_v1", {"map": "random_rooms"}), ("transport_v0", {})])
def test_same_seed_same_worlds_after_reset_on_both_cpu_paths(env_id, kwargs):
    def start():
        env = make_batched(env_id, num_envs=256, seed=7, **kwargs)
        env.reset(seed=7)
        return env.scenario.world.state

    kernels = start()
    with accel.disabled():
        reference = start()
    for name in ("pos", "vel", "angle", "ang_vel"):
        assert torch.equal(getattr(kernels, name), getattr(reference, name)), name


def test_one_warning_when_numba_is_missing():
    result = _run("""
        import sys, warnings
        class Blocker:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "numba":
                    raise ModuleNotFoundError("No module named 'numba'", name=name)
        sys.meta_path.insert(0, Blocker())
        import torch
        from marl_envs import make_batched, native
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            env = make_batched("hide_and_seek_v1", num_envs=64, seed=0)
            env.reset(seed=0)
            for _ in range(3):
                env.step(env.scenario.heuristic_action())
        lines = [str(w.message) for w in caught if "kernels unavailable" in str(w.message)]
        print(len(lines), lines[0] if lines else "")
    """)
    assert result.returncode == 0, result.stderr[-3000:]
    count, message = result.stdout.strip().split(" ", 1)
    assert count == "1" and "torch reference path" in message and "pip install numba" in message


def test_supersuit_multiprocess_vector_env_after_stepping_with_kernels():
    """SB3's recipe (fork-started workers) after the parent stepped an env on the kernels."""
    pytest.importorskip("supersuit")
    pytest.importorskip("stable_baselines3")
    result = _run("""
        import numpy as np, supersuit as ss
        from marl_envs import hide_and_seek_v1
        from marl_envs.physics import accel
        import numba, torch
        from marl_envs import make_batched
        torch.set_num_threads(2)
        env = hide_and_seek_v1.parallel_env()
        env.reset(seed=0)
        for _ in range(3):
            env.step({a: env.action_space(a).sample() for a in env.agents})
        batched = make_batched("hide_and_seek_v1", num_envs=256, seed=0)  # 2 threads: the kernels' parallel layer
        batched.reset(seed=0)
        batched.step(batched.scenario.heuristic_action())
        layer = numba.threading_layer()  # raises ValueError unless a parallel kernel ran in this process
        vec = ss.concat_vec_envs_v1(ss.pettingzoo_env_to_vec_env_v1(hide_and_seek_v1.parallel_env()), 2,
                                    num_cpus=2, base_class="stable_baselines3")
        obs = vec.reset()
        for _ in range(3):
            obs, reward, done, info = vec.step(np.stack([vec.action_space.sample() for _ in range(vec.num_envs)]))
        vec.close()
        print("OK", layer, obs.shape)
    """)
    assert result.returncode == 0 and result.stdout.strip().startswith("OK"), result.stderr[-3000:]
