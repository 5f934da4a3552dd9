"""The lean install: the core works without the extras, and each feature that needs one names it.

A missing package is simulated by ``sys.modules[name] = None``, which makes ``import name`` raise
ImportError, as on a machine where ``pip install marl-envs`` installed only the core.
"""

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from baselines.common.optional import MissingExtra, require

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

ROOT = Path(__file__).resolve().parents[1]
EXTRA_MODULES = ["pygame", "tyro", "rich", "tensorboard", "torch.utils.tensorboard", "matplotlib", "imageio",
                 "imageio_ffmpeg", "supersuit", "stable_baselines3", "sb3_contrib", "ray"]


def _hide(monkeypatch, *names):
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)


def test_require_names_the_extra(monkeypatch):
    _hide(monkeypatch, "tyro")
    with pytest.raises(MissingExtra, match=r'the training command lines needs tyro.*pip install "marl-envs\[train\]"'):
        require("tyro", "train", "the training command lines")
    assert require("json", "train", "x").dumps([1]) == "[1]"


def test_pyproject_keeps_the_core_lean_and_every_extra_resolvable():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {dep.split(";")[0].split(">")[0].split("=")[0].split("<")[0] for dep in project["dependencies"]}
    assert core == {"torch", "numpy", "numba", "tbb", "gymnasium", "pettingzoo"}
    tbb = next(dep for dep in project["dependencies"] if dep.startswith("tbb"))
    assert "sys_platform == 'linux'" in tbb and "platform_machine == 'x86_64'" in tbb  # wheels exist there only
    assert "torch>=2.4" in project["dependencies"]  # Adam(fused=True) on CPU
    extras = project["optional-dependencies"]
    assert {"render", "train", "examples", "ray", "docs", "all", "dev"} <= set(extras)
    assert any(dep.startswith("pygame-ce") for dep in extras["render"])
    assert "marl-envs[render]" in extras["train"]  # evaluate --render/--video draw through pygame
    for name, deps in extras.items():  # a self-reference must name extras that exist
        for dep in deps:
            if dep.startswith("marl-envs["):
                assert set(dep[len("marl-envs["):-1].split(",")) <= set(extras), (name, dep)


def test_the_core_builds_steps_and_trains_without_any_extra(tmp_path):
    """Every env through PettingZoo and the batched API, then a MAPPO run from Python, with the extras hidden."""
    code = f"""
import sys
for name in {EXTRA_MODULES!r}:
    sys.modules[name] = None
import pettingzoo, torch
import marl_envs
from marl_envs import make_batched
for env_id in marl_envs.list_envs():
    env = getattr(marl_envs, env_id).parallel_env()
    obs, _ = env.reset(seed=0)
    env.step({{a: env.action_space(a).sample() for a in env.agents}})
    make_batched(env_id, num_envs=2, seed=0).reset()
from baselines import mappo
run = mappo.train(mappo.Args(num_envs=2, num_steps=5, total_timesteps=10, update_epochs=1, run_dir={str(tmp_path)!r},
                             progress=False, tensorboard=False, torch_threads=1))
assert run.global_step == 10
loaded = [m for m in {EXTRA_MODULES!r} if sys.modules.get(m) is not None]
assert not loaded, loaded
print("core ok")
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0 and "core ok" in proc.stdout, proc.stderr[-3000:]


def test_the_training_cli_without_tyro_names_the_train_extra(monkeypatch):
    from baselines import mappo

    _hide(monkeypatch, "tyro")
    with pytest.raises(MissingExtra, match=r'pip install "marl-envs\[train\]"'):
        mappo.main(["--help"])


def test_rendering_without_pygame_names_the_render_extra(monkeypatch):
    from gymnasium.error import DependencyNotInstalled

    from marl_envs import spread_v0

    _hide(monkeypatch, "pygame")
    env = spread_v0.parallel_env(render_mode="rgb_array")
    env.reset(seed=0)
    with pytest.raises((ImportError, DependencyNotInstalled), match=r'pip install "marl-envs\[render\]"'):
        env.render()


def test_videos_without_imageio_or_pillow_name_the_train_extra(monkeypatch, tmp_path):
    from baselines.common.video import VideoWriter

    _hide(monkeypatch, "imageio", "imageio.v2")
    with pytest.raises(MissingExtra, match=r'mp4 videos needs imageio.*marl-envs\[train\]'):
        VideoWriter(tmp_path / "a.mp4").append(np.zeros((4, 4, 3), np.uint8))
    _hide(monkeypatch, "PIL", "PIL.GifImagePlugin", "PIL.Image")
    with pytest.raises(MissingExtra, match=r'GIF videos needs pillow.*marl-envs\[train\]'):
        VideoWriter(tmp_path / "a.gif").append(np.zeros((4, 4, 3), np.uint8))


def test_plot_without_matplotlib_names_the_train_extra(monkeypatch, tmp_path):
    from baselines import plot

    _hide(monkeypatch, "matplotlib", "matplotlib.figure", "matplotlib.backends", "matplotlib.backends.backend_agg")
    with pytest.raises(SystemExit, match=r'plotting needs matplotlib.*marl-envs\[train\]'):
        plot.main([str(tmp_path), "--out", str(tmp_path / "c.png")])


def test_tensorboard_missing_warns_with_the_extra_and_the_run_goes_on(monkeypatch, tmp_path):
    from baselines.common.logger import RunLogger

    _hide(monkeypatch, "torch.utils.tensorboard")
    with pytest.warns(UserWarning, match=r'--tensorboard needs tensorboard.*marl-envs\[train\]'):
        logger = RunLogger(str(tmp_path), {"a": 1}, tensorboard=True)
    logger.log({"global_step": 1, "wall_time": 0.0, "x": 1.0}, {})
    logger.close()
    assert (tmp_path / "metrics.csv").read_text().startswith("global_step,wall_time,x")


def test_progress_bar_without_rich_falls_back_to_plain_lines(monkeypatch):
    import io

    from baselines.common.console import RunConsole

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    _hide(monkeypatch, "rich", "rich.progress", "rich.console")
    out = Terminal()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        console = RunConsole("mappo", "r", 2, 10, 20, stream=out, log_interval=0)
    assert any('marl-envs[train]' in str(w.message) for w in caught)
    console.update(1, 10, {"episodic_return": -1.0, "SPS": 5.0})
    assert "[mappo] update 1/2" in out.getvalue()


def test_ray_and_sb3_contrib_name_their_extras(monkeypatch):
    from baselines import benchmark
    from baselines.common.ray_backend import import_ray

    _hide(monkeypatch, "ray", "sb3_contrib")
    with pytest.raises(ImportError, match=r'marl-envs\[ray\]'):
        import_ray()
    with pytest.raises(SystemExit, match=r'marl-envs\[bench\]'):
        benchmark.run_sb3("CartPole-v1", 1, {"num_envs": 1, "total_timesteps": 10}, 1)
