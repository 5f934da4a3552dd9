"""``python -m baselines.evaluate RUN_DIR --render human | --video PATH`` for every algorithm and env.

Frame rule under test: one frame after each reset plus one after each step, episodes concatenated,
so E episodes of ``max_cycles`` steps (no early end in 5 steps of an untrained policy) give
E * (max_cycles + 1) frames, at the env's own frame size and ``metadata["render_fps"]``.
"""

import os

import imageio.v2 as iio2
import numpy as np
import pytest

from baselines import evaluate as ev
from baselines import ippo, mappo, npg, trpo
from baselines.common.video import VideoWriter
from marl_envs import make_batched

pytestmark = pytest.mark.usefixtures("one_torch_thread")

MAX_CYCLES = 5
KWARGS = f'{{"max_cycles": {MAX_CYCLES}}}'
EPISODES = 2
ALGOS = {"mappo": mappo, "ippo": ippo, "trpo": trpo, "npg": npg}
#: (algorithm, env): both kinds of checkpoint (shared actor through PettingZoo, joint policy through
#: Gymnasium) on every env
CASES = [("mappo", "spread_v0"), ("npg", "spread_v0"), ("ippo", "transport_v0"), ("trpo", "transport_v0"),
         ("mappo", "hide_and_seek_v1"), ("trpo", "hide_and_seek_v1")]


@pytest.fixture(scope="module")
def runs(tmp_path_factory, one_torch_thread):
    """One tiny training run (a single update) per case: {(algo, env_id): run_dir}."""
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for algo, env_id in CASES:
        module = ALGOS[algo]
        args = module.Args(env_id=env_id, env_kwargs=KWARGS, num_envs=4, num_steps=MAX_CYCLES,
                           total_timesteps=4 * MAX_CYCLES, seed=0, run_dir=str(root / f"{algo}_{env_id}"),
                           progress=False, tensorboard=False, device="cpu")
        out[algo, env_id] = module.train(args).run_dir
    return out


def _env_frame(env_id: str) -> tuple[tuple[int, int, int], float]:
    """The env's own rgb_array frame shape and render_fps."""
    env = make_batched(env_id, num_envs=1, seed=0, render_mode="rgb_array", max_cycles=MAX_CYCLES)
    env.reset(seed=0)
    shape = env.render().shape
    env.close()
    return shape, float(env.metadata["render_fps"])


def _decode(path) -> tuple[list[np.ndarray], dict]:
    reader = iio2.get_reader(str(path))
    frames = [np.asarray(frame)[..., :3] for frame in reader]  # iterate: an mp4 reader's len() is inf
    meta = reader.get_meta_data()
    reader.close()
    return frames, meta


@pytest.mark.parametrize("ext", ["mp4", "gif"])
@pytest.mark.parametrize("algo,env_id", CASES, ids=[f"{a}-{e}" for a, e in CASES])
def test_video_has_one_frame_per_reset_and_step(runs, algo, env_id, ext, tmp_path, capsys):
    path = tmp_path / "new" / "dir" / f"episodes.{ext}"  # missing directories are created
    ev.main([runs[algo, env_id], "--episodes", str(EPISODES), "--env-kwargs", KWARGS, "--video", str(path)])
    expected = EPISODES * (MAX_CYCLES + 1)
    assert f"saved {expected} frames" in capsys.readouterr().out
    frames, meta = _decode(path)
    shape, fps = _env_frame(env_id)
    assert len(frames) == expected
    assert all(frame.shape == shape for frame in frames), (frames[0].shape, shape)  # never resized
    for frame in (frames[0], frames[MAX_CYCLES + 1], frames[-1]):  # first frames of both episodes, last frame
        assert (frame != frame[0, 0]).any(), "blank frame: one colour"
    if ext == "mp4":
        assert meta["fps"] == pytest.approx(fps)
    else:
        assert meta["duration"] == pytest.approx(1000 / fps, abs=10)


def test_gif_frames_are_the_rendered_frames(runs, tmp_path):
    recorded = []
    result = ev.evaluate(runs["ippo", "transport_v0"], episodes=1, env_kwargs=KWARGS, video=str(tmp_path / "t.gif"),
                         on_frame=recorded.append)
    frames, _ = _decode(tmp_path / "t.gif")
    assert result["frames"] == len(recorded) == len(frames) == MAX_CYCLES + 1
    for got, want in zip(frames, recorded, strict=True):  # ≤ 256 colours per changed rectangle: lossless
        assert np.abs(got.astype(int) - want.astype(int)).mean() < 1.0


def test_writer_keeps_identical_frames_and_pads_odd_sizes(tmp_path):
    frame = np.full((31, 41, 3), 40, np.uint8)
    frame[5:12, 3:9] = (220, 30, 30)
    other = frame.copy()
    other[20:26, 30:38] = (30, 200, 30)
    sequence = [frame, frame, frame.copy(), other, other, frame]
    for ext in ("gif", "mp4"):
        with VideoWriter(tmp_path / f"odd.{ext}", fps=12) as writer:
            for f in sequence:
                writer.append(f)
        frames, meta = _decode(tmp_path / f"odd.{ext}")
        assert writer.count == len(frames) == len(sequence)  # Pillow's save_all would merge the repeats
        if ext == "gif":
            assert all(np.array_equal(a, b) for a, b in zip(frames, sequence, strict=True))
        else:  # H.264 needs even sizes: one replicated row and column, no rescaling
            assert frames[0].shape == (32, 42, 3) and meta["fps"] == pytest.approx(12)
            assert np.abs(frames[3][22, 33].astype(int) - (30, 200, 30)).max() < 40
    writer = VideoWriter(tmp_path / "sizes.gif")
    writer.append(frame)
    with pytest.raises(ValueError, match="frame 1 is 40x31, the video is 41x31"):
        writer.append(frame[:, :40])
    writer.close()


@pytest.mark.parametrize("algo,env_id", [("mappo", "spread_v0"), ("trpo", "transport_v0")])
def test_render_human_runs_headless_one_draw_per_reset_and_step(runs, algo, env_id, monkeypatch, capsys):
    assert os.environ.get("SDL_VIDEODRIVER") == "dummy"  # tests/conftest.py
    from marl_envs.render.renderer import PygameRenderer

    draws = []
    original = PygameRenderer.render

    def counting(self, snapshot):
        draws.append(self.render_mode)
        return original(self, snapshot)

    monkeypatch.setattr(PygameRenderer, "render", counting)
    ev.main([runs[algo, env_id], "--episodes", "1", "--env-kwargs", KWARGS, "--render", "human"])
    assert draws == ["human"] * (MAX_CYCLES + 1)
    assert "over 1 episodes" in capsys.readouterr().out


def test_unsupported_extension_fails_before_anything_runs(runs, tmp_path, capsys):
    path = tmp_path / "out" / "episodes.avi"
    with pytest.raises(SystemExit) as exc:
        ev.main([runs["mappo", "spread_v0"], "--video", str(path)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "unsupported extension '.avi'" in err and ".mp4" in err and ".gif" in err
    assert not path.parent.exists()
    # the API checks the path before it even loads the checkpoint
    with pytest.raises(ValueError, match="unsupported extension '\\(none\\)'"):
        ev.evaluate(str(tmp_path / "no_such_run"), video=str(tmp_path / "episodes"))


def test_render_and_video_are_exclusive(runs, tmp_path, capsys):
    with pytest.raises(SystemExit):
        ev.main([runs["mappo", "spread_v0"], "--render", "human", "--video", str(tmp_path / "v.gif")])
    assert "not allowed with argument" in capsys.readouterr().err
    with pytest.raises(ValueError, match="exclusive"):
        ev.evaluate(runs["mappo", "spread_v0"], render="human", video=str(tmp_path / "v.gif"))


def test_single_agent_run_on_a_pettingzoo_factory_env_refuses_to_render(runs, tmp_path):
    with pytest.raises(ValueError, match="cannot render a trpo run"):
        ev.evaluate(runs["trpo", "transport_v0"], env_id="mpe2.simple_spread_v3:parallel_env",
                    video=str(tmp_path / "v.mp4"))
