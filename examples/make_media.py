"""Write the animated GIFs of README and the env pages to assets/: each env played by its scripted policy.

    python examples/make_media.py                                   # assets/ENV_ID.gif of every env below
    python examples/make_media.py --env transport_v0 --seed 3       # one env, another episode
    python examples/make_media.py --checkpoint spread_v0=runs/spread_v0__mappo__1__1700000000
    python examples/make_media.py --size 256 --out-dir /tmp/media   # smaller frames, elsewhere

Scripted policy: ``env.scenario.heuristic_action(env.scenario.sense())``, the same one the tests
and ``marl_envs.play`` use (spread: greedy landmark claiming; transport: line up behind the
package and push; hide_and_seek_v1 and hide_and_seek_v2 on the quadrant map: hiders lock the
room's doors with the boxes, seekers chase what they see). ``--checkpoint ENV_ID=RUN_DIR``
(repeatable) renders a trained IPPO/MAPPO/TRPO/NPG policy on ENV_ID instead, through
``baselines.evaluate`` (greedy actions, the run's env arguments), and writes it to the same
``ENV_ID.gif``.

Frames follow ``baselines.evaluate``'s rule (one after each reset, one after each step,
episodes back to back), then are downscaled so that the longer side is ``--size`` pixels and,
when an env's episodes give more than ``--max-frames`` frames, only every k-th frame is kept
(k as small as fits), and reduced to ``--colors`` colours. Each env's clip (``ENVS``):
spread_v0 4 episodes of 25 steps (seeds 0-3), transport_v0 one episode (seed 2: the package
reaches the goal after 102 of at most 200 steps), hide_and_seek_v1 and hide_and_seek_v2 one
80-step episode each on the quadrant map (seed 0); ``--seed`` / ``--episodes`` override them.
GIFs loop forever at ``--fps`` frames per second and are written by ``baselines.common.video.VideoWriter`` (each
frame stores only its changed rectangle). The script prints each file's frames and size;
with the defaults each GIF takes 0.1-1.4 MB.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENVS = {  # env id -> (episodes, seed, env arguments) of the clip
    "spread_v0": (4, 0, {}),
    "transport_v0": (1, 2, {}),  # the scripted team delivers the package in 102 steps
    "hetero_transport_v0": (1, 2, {}),  # the same task, pushers of their own mass, strength and action frame
    "hide_and_seek_v1": (1, 0, {"map": "quadrant"}),
    "hide_and_seek_v2": (1, 0, {"map": "quadrant"}),  # v2's defaults: two 0.5 m cubes, sight with heights
    "hide_and_seek_v3": (1, 0, {"map": "quadrant"}),  # v2 in 0.2 s steps
    "hide_and_seek_v4": (1, 0, {"map": "quadrant"}),  # v3 under the released game's lock rule
}


def scripted_frames(env_id: str, episodes: int, seed: int, **kwargs) -> list:
    """rgb frames of ``episodes`` episodes of the env's scripted policy (one world, world 0 shown)."""
    from marl_envs import make_batched

    env = make_batched(env_id, num_envs=1, seed=seed, render_mode="rgb_array", autoreset=False, **kwargs)
    frames = []
    for episode in range(episodes):
        env.reset(seed=seed + episode)
        frames.append(env.render())
        done = False
        while not done:
            sc = env.scenario
            _, _, terminated, truncated, _ = env.step(sc.heuristic_action(sc.sense()))
            frames.append(env.render())
            done = bool((terminated | truncated).all())
    env.close()
    return frames


def checkpoint_frames(env_id: str, run_dir: str, episodes: int, seed: int) -> list:
    """rgb frames of a trained policy's greedy episodes, recorded by ``baselines.evaluate``."""
    from baselines.evaluate import evaluate

    frames: list = []
    result = evaluate(run_dir, episodes=episodes, env_id=env_id, seed=seed, on_frame=frames.append)
    print(f"  {run_dir}: team return {result['mean']:.2f} over {episodes} episode(s)")
    return frames


def shrink(frames: list, size: int, max_frames: int, colors: int = 256) -> list:
    """Every k-th frame (k the smallest that keeps at most ``max_frames``), longer side resized to ``size``,
    reduced to ``colors`` colours.

    Downscaling blends edges into thousands of colours; Pillow's octree quantiser (no dithering)
    brings them back to a palette that LZW compresses well (hide-and-seek's lidar rays: 2.1 MB
    with the writer's median-cut palette, 1.2 MB this way), after which the GIF writer is lossless.
    """
    import numpy as np
    from PIL import Image

    step = max(1, math.ceil(len(frames) / max_frames))
    out = []
    for frame in frames[::step]:
        h, w = frame.shape[:2]
        scale = size / max(h, w)
        image = Image.fromarray(frame).resize((round(w * scale), round(h * scale)), Image.Resampling.LANCZOS)
        image = image.quantize(colors=colors, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
        out.append(np.asarray(image.convert("RGB")))
    return out


def write_gif(path: Path, frames: list, fps: float) -> int:
    """Write the frames; return the file's size in bytes."""
    from baselines.common.video import VideoWriter

    with VideoWriter(path, fps=fps) as writer:
        for frame in frames:
            writer.append(frame)
    return path.stat().st_size


def parse_checkpoints(items: list[str], parser: argparse.ArgumentParser) -> dict[str, str]:
    out = {}
    for item in items:
        env_id, sep, run_dir = item.partition("=")
        if not sep or not env_id or not run_dir:
            parser.error(f"--checkpoint wants ENV_ID=RUN_DIR, got {item!r}")
        if env_id not in ENVS:
            parser.error(f"--checkpoint {item!r}: unknown env id {env_id!r}, use one of {', '.join(ENVS)}")
        out[env_id] = run_dir
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", action="append", choices=list(ENVS), default=None,
                        help="env to render (repeatable; default: all, or those given by --checkpoint)")
    parser.add_argument("--checkpoint", action="append", default=[], metavar="ENV_ID=RUN_DIR",
                        help="render this run's trained policy on ENV_ID instead of the scripted one (repeatable)")
    parser.add_argument("--episodes", type=int, default=None, help="episodes per GIF (default: per env, see above)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the first episode (default: per env)")
    parser.add_argument("--size", type=int, default=320, help="longer side of the GIF in pixels")
    parser.add_argument("--colors", type=int, default=256, help="colours per frame (2-256)")
    parser.add_argument("--max-frames", type=int, default=110, help="keep every k-th frame above this many")
    parser.add_argument("--fps", type=float, default=12.0)
    parser.add_argument("--out-dir", type=Path, default=ROOT / "assets")
    args = parser.parse_args(argv)
    checkpoints = parse_checkpoints(args.checkpoint, parser)
    if args.env and set(checkpoints) - set(args.env):
        parser.error(f"--checkpoint for {sorted(set(checkpoints) - set(args.env))} but --env {args.env}")
    for name, value in (("--episodes", args.episodes or 1), ("--size", args.size), ("--max-frames", args.max_frames)):
        if value < 1:
            parser.error(f"{name} must be >= 1")
    if not args.fps > 0:
        parser.error("--fps must be > 0")
    if not 2 <= args.colors <= 256:
        parser.error("--colors must be in [2, 256]")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    if str(ROOT) not in sys.path:  # run from a checkout without `pip install -e .`
        sys.path.insert(0, str(ROOT))
    for env_id in args.env or (list(checkpoints) if checkpoints else list(ENVS)):
        start = time.perf_counter()
        episodes, seed, kwargs = ENVS[env_id]
        episodes = args.episodes or episodes
        seed = seed if args.seed is None else args.seed
        if env_id in checkpoints:
            raw = checkpoint_frames(env_id, checkpoints[env_id], episodes, seed)
        else:
            raw = scripted_frames(env_id, episodes, seed, **kwargs)
        frames = shrink(raw, args.size, args.max_frames, args.colors)
        path = args.out_dir / f"{env_id}.gif"
        size = write_gif(path, frames, args.fps)
        h, w = frames[0].shape[:2]
        source = "trained" if env_id in checkpoints else "scripted"
        print(f"{path}: {source}, seed {seed}, {len(frames)} of {len(raw)} frames, {w}x{h}, {args.fps:g} fps, "
              f"{size / 1e6:.2f} MB ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
