"""Cross-play of every kept checkpoint of a hide-and-seek run: which policy of the run meets which target.

A self-play run keeps a checkpoint every ``--checkpoint-every`` updates (``RUN/checkpoints/update_*.pt``).
Each team's strength moves as the other team adapts, so the last policy is not always the best one of either
team. For each checkpoint this plays its hiders against the scripted seekers, and its seekers against the
scripted door-locking hiders and against random hiders (``baselines.evaluate`` cross-play, greedy), and
prints one row per checkpoint with each team's win rate and its Wilson 95% interval:

    python examples/crossplay_checkpoints.py runs/hide_and_seek_selfplay --every 40 --episodes 1000
    python examples/crossplay_checkpoints.py RUN --updates 1040 1120 --seed 1   # confirm on other games

Choosing a checkpoint by these figures and quoting the same figures overstates it (the best of many noisy
estimates); confirm the choice on other games (``--seed``), as the docs' table does.
"""

from __future__ import annotations

import argparse
import csv
import sys

from baselines import crossplay
from baselines.common.checkpoint import load_checkpoint, numbered_checkpoints

PAIRINGS = (
    # (column, hiders, seekers, whose win the column shows)
    ("hiders_vs_scripted", "{ckpt}", "scripted", "hider"),
    ("seekers_vs_door_locking", "scripted", "{ckpt}", "seeker"),
    ("seekers_vs_random", "random", "{ckpt}", "seeker"),
)


def checkpoints(run: str, every: int, updates: list[int] | None) -> list[tuple[int, str]]:
    """(update, path) of the run's numbered checkpoints: those listed, or every ``every``-th kept one."""
    found = numbered_checkpoints(run)
    if not found:
        raise SystemExit(f"no checkpoints/update_*.pt in {run!r}")
    if updates:
        missing = sorted(set(updates) - set(found))
        if missing:
            raise SystemExit(f"no checkpoint for update(s) {missing} in {run!r} (kept: {min(found)}..{max(found)})")
        return [(u, found[u]) for u in updates]
    return [(u, found[u]) for u in sorted(found) if u % every == 0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="a hide-and-seek self-play run directory")
    parser.add_argument("--every", type=int, default=40, help="play every N-th update's checkpoint")
    parser.add_argument("--updates", type=int, nargs="*", help="only these updates' checkpoints")
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0, help="seed of the evaluation games")
    parser.add_argument("--env-id", default="hide_and_seek_v1")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--csv", default=None, help="also write the rows to this CSV file")
    args = parser.parse_args(argv)
    if args.every < 1:
        parser.error(f"--every must be >= 1, got {args.every}")

    rows = []
    header = ["update", "env_steps"] + [name for name, *_ in PAIRINGS]
    print("  ".join(header), flush=True)
    for update, path in checkpoints(args.run, args.every, args.updates):
        row = {"update": update, "env_steps": load_checkpoint(path).get("global_step")}
        for name, hiders, seekers, winner in PAIRINGS:
            result = crossplay.crossplay(args.env_id, {"hider": hiders.format(ckpt=path),
                                                       "seeker": seekers.format(ckpt=path)},
                                         episodes=args.episodes, seed=args.seed, device=args.device)
            rate, (low, high) = result["win_rate"], result["win_ci"]
            if winner == "seeker":  # the hiders' figures, turned into the seekers'
                rate, low, high = 1 - rate, 1 - high, 1 - low
            row[name] = f"{100 * rate:.1f}% ({100 * low:.1f}-{100 * high:.1f})"
        rows.append(row)
        print("  ".join(str(row[key]) for key in header), flush=True)
    if args.csv:
        with open(args.csv, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=header)
            writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    sys.exit(main())
