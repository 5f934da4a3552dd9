"""Plot learning curves (episodic return or another metrics.csv column vs env steps), mean ± min/max over seeds.

    python examples/plot_learning_curves.py --runs "MAPPO=runs/mappo_spread_s*" "IPPO=runs/ippo_spread_s*" \\
        --out assets/spread_v0_learning_curves.png --csv assets/spread_v0_learning_curves.csv

Needs matplotlib (installed with the ``examples`` extra through stable-baselines3).
"""

import argparse
import csv
import glob

import numpy as np


def read_curve(run_dir: str, metric: str = "episodic_return") -> tuple[np.ndarray, np.ndarray]:
    steps, values = [], []
    with open(f"{run_dir}/metrics.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if metric not in row:
                raise SystemExit(f"{run_dir}/metrics.csv has no column {metric!r}")
            if row[metric] not in ("", "nan"):
                steps.append(float(row["global_step"]))
                values.append(float(row[metric]))
    return np.asarray(steps), np.asarray(values)


def trailing_mean(x: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last ``window`` values at each point (no look-ahead, no edge artefacts)."""
    csum = np.cumsum(np.insert(x, 0, 0.0))
    idx = np.arange(1, len(x) + 1)
    lo = np.maximum(idx - window, 0)
    return (csum[idx] - csum[lo]) / (idx - lo)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", nargs="+", required=True, help="LABEL=GLOB of run directories (one per seed)")
    parser.add_argument("--out", required=True, help="PNG path")
    parser.add_argument("--csv", default=None, help="also write the mean curves as CSV")
    parser.add_argument("--points", type=int, default=100, help="resolution of the interpolated curves")
    parser.add_argument("--hline", action="append", default=[], help="LABEL=VALUE reference line")
    parser.add_argument("--metric", default="episodic_return", help="metrics.csv column to plot (e.g. success_rate)")
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    table = {}
    for spec in args.runs:
        label, pattern = spec.split("=", 1)
        curves = [read_curve(d, args.metric) for d in sorted(glob.glob(pattern))]
        if not curves:
            raise SystemExit(f"no run directory matches {pattern!r}")
        end = min(c[0][-1] for c in curves)
        grid = np.linspace(0, end, args.points)
        ys = np.stack([np.interp(grid, s, trailing_mean(r, 5)) for s, r in curves])
        ax.plot(grid, ys.mean(0), label=f"{label} ({len(curves)} seeds)")
        ax.fill_between(grid, ys.min(0), ys.max(0), alpha=0.2)
        table[label] = (grid, ys.mean(0))
    for spec in args.hline:
        label, value = spec.split("=", 1)
        ax.axhline(float(value), ls="--", lw=1, color="grey")
        ax.text(0, float(value), f" {label}", va="bottom", fontsize=8, color="grey")
    ax.set_xlabel("env steps")
    ax.set_ylabel("team episodic return" if args.metric == "episodic_return" else args.metric)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    if args.csv:
        with open(args.csv, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["label", "global_step", f"mean_{args.metric}"])
            for label, (grid, mean) in table.items():
                writer.writerows([label, int(g), round(float(m), 3)] for g, m in zip(grid, mean, strict=True))


if __name__ == "__main__":
    main()
