"""Watch the scripted teams play hide_and_seek_v1 (or v2), or save the episode as a video.

    python examples/hide_and_seek_demo.py                       # a pygame window
    python examples/hide_and_seek_demo.py --env-id hide_and_seek_v2   # v2's defaults: 0.5 m cubes, sight with heights
    python examples/hide_and_seek_demo.py --video hns.mp4       # or .gif; headless works
    python examples/hide_and_seek_demo.py --open-doors          # hiders do not block the doors
    python examples/hide_and_seek_demo.py --worlds 256 --episodes 2 --no-render   # win rates only

The hiders carry their boxes into the room's doors and lock them; the seekers chase what they
see and walk through open doors. Scores: the hiders' mean return per episode and the fraction of
worlds they won (a positive return: hidden for most of the seeking phase).
"""

from __future__ import annotations

import argparse

import torch

from marl_envs import make_batched
from marl_envs.scenarios.hide_and_seek.heuristic import heuristic_actions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env-id", default="hide_and_seek_v1", choices=[f"hide_and_seek_v{v}" for v in (1, 2, 3)])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--worlds", type=int, default=1, help="worlds played at once (world 0 is shown)")
    parser.add_argument("--episodes", type=int, default=1)
    parser.add_argument("--map", default="quadrant", choices=["quadrant", "random_rooms", "open"])
    parser.add_argument("--open-doors", action="store_true", help="scripted hiders do not block the doors")
    parser.add_argument("--video", default=None, help="save frames of world 0 to this .mp4/.gif instead of a window")
    parser.add_argument("--no-render", action="store_true")
    args = parser.parse_args()
    mode = None if args.no_render else ("rgb_array" if args.video else "human")
    env = make_batched(args.env_id, num_envs=args.worlds, seed=args.seed, map=args.map, render_mode=mode,
                       autoreset=False)  # every episode's last frame is shown before the next reset
    writer = None
    if args.video:
        from baselines.common.video import VideoWriter

        writer = VideoWriter(args.video, fps=env.metadata["render_fps"])  # every frame, never resized
    wins, returns = [], []
    for episode in range(args.episodes):
        env.reset(seed=args.seed if episode == 0 else None)
        if writer is not None:
            writer.append(env.render())
        total = torch.zeros(args.worlds)
        for _ in range(env.max_cycles):
            _, reward, _, truncated, _ = env.step(heuristic_actions(env.scenario, block_doors=not args.open_doors))
            total += reward[:, 0]
            if writer is not None:
                writer.append(env.render())
        wins.append((total > 0).float().mean().item())
        returns.append(total.mean().item())
    seeking = env.max_cycles - env.config.prep_steps
    print(f"hider return per episode {sum(returns) / len(returns):+.1f} (of +/-{seeking}),"
          f" hiders won {100 * sum(wins) / len(wins):.0f}% of {args.worlds * args.episodes} games")
    if writer is not None:
        writer.close()
        print(f"saved {writer.count} frames to {args.video}")
    env.close()


if __name__ == "__main__":
    main()
