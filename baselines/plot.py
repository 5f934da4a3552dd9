"""Learning curves from run directories: one line per (algorithm, env), the mean over seeds with a ±1 std band.

One seed says little about an RL algorithm, so runs are grouped by what they compare, (algorithm, env_id), and
every other difference (seed, run directory name) is averaged out. Pass run directories as the shell expands
them, or a folder of run directories such as ``runs/``::

    python -m baselines.plot runs/mappo_spread_s* runs/ippo_spread_s* --hline "scripted controller=-30"
    python -m baselines.plot runs/ --out all.png                        # every run under runs/, grouped
    python -m baselines.plot runs/mappo_transport_s* --metric success_rate --csv transport.csv
    python -m baselines.plot runs/trpo_spread_s* --x time --smooth 1    # wall-clock seconds, raw updates
    python -m baselines.plot runs/hns_pool --where selfplay/frozen_team=-1   # only the updates of a kind

Seeds log at different steps (and for different lengths), so each seed's curve is interpolated onto a common
grid that stops at the shortest run: beyond it the mean would silently average fewer seeds. ``--smooth N`` is
a trailing mean over N updates (no look-ahead, so a curve never shows progress before it happened); NaN rows
(updates in which no episode ended) are skipped. ``--csv`` writes the plotted curves (label, x, mean, std)
for tables or other tools. A folder such as ``runs/`` also merges experiments that differ in other settings
(2M and 20M steps of mappo · spread_v0, say): a seed seen twice in a group is warned about. ``--where
COLUMN=VALUE`` keeps only the updates whose COLUMN has that value: a self-play run with an opponent pool logs
the games of every update, those against old snapshots included, and ``--where selfplay/frozen_team=-1`` plots
only the updates in which both teams played the current policy.

The algorithm is read from config.json ("algo"), else from the checkpoint (the same field that ``--resume`` and
``baselines.evaluate`` trust), else from a default run directory name (ENV__ALGO__SEED__TIME).
Needs matplotlib (the ``train`` extra: ``pip install "marl-envs[train]"``).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
from collections.abc import Iterable, Sequence

import numpy as np

from baselines.common.cli import prog_name
from baselines.common.optional import MissingExtra, require

X_COLUMNS = {"steps": "global_step", "time": "wall_time"}
X_LABELS = {"steps": "env steps", "time": "wall-clock time (s)"}
METRICS = "metrics.csv"


def find_runs(paths: Iterable[str]) -> list[str]:
    """Run directories (those with a metrics.csv) from the arguments: each is a run or a folder of runs."""
    runs: list[str] = []
    seen: set[str] = set()
    for path in paths:
        if not os.path.isdir(path):
            raise SystemExit(f"{path!r} is not a directory (a shell glob that matched nothing?)")
        if os.path.isfile(os.path.join(path, METRICS)):
            found = [path]
        else:
            subdirs = sorted(os.path.join(path, d) for d in os.listdir(path))
            found = [d for d in subdirs if os.path.isfile(os.path.join(d, METRICS))]
            if not found:
                raise SystemExit(f"{path!r} has no {METRICS}, nor any run directory with one")
        for run in found:
            if os.path.realpath(run) not in seen:
                seen.add(os.path.realpath(run))
                runs.append(run)
    if not runs:
        raise SystemExit("no run directories given")
    return runs


def run_identity(run_dir: str) -> tuple[str, str, object]:
    """(algorithm, env_id, seed) of a run."""
    config_path = os.path.join(run_dir, "config.json")
    config = {}
    if os.path.isfile(config_path):
        with open(config_path) as fh:
            config = json.load(fh)
    parts = os.path.basename(os.path.normpath(run_dir)).split("__")  # the default name ENV__ALGO__SEED__TIME
    env_id = config.get("env_id") or (parts[0] if len(parts) == 4 else "unknown env")
    algo = config.get("algo") or _checkpoint_algo(run_dir)
    if algo is None and len(parts) == 4 and parts[0] == env_id.replace(":", "_"):
        algo = parts[1]
    if algo is None:
        print(f"warning: algorithm of {run_dir!r} unknown (no checkpoint, not a default run directory name)",
              file=sys.stderr)
        algo = "unknown algo"
    return algo, env_id, config.get("seed")


def _checkpoint_algo(run_dir: str) -> str | None:
    from baselines.common.checkpoint import LATEST, checkpoint_dir, load_checkpoint  # imports torch

    if not os.path.isfile(os.path.join(checkpoint_dir(run_dir), LATEST)):
        return None
    try:
        return load_checkpoint(run_dir)["algo"]
    except (OSError, ValueError):
        return None


def read_curve(run_dir: str, x: str, metric: str, where: Sequence[str] = ()) -> tuple[np.ndarray, np.ndarray]:
    """(x, metric) of a run's finite rows, x increasing; ``where``: "COLUMN=VALUE" conditions a row must meet.

    A resumed run continues from its last checkpoint, so metrics.csv can hold rows logged after that
    checkpoint twice; the rows that a later row goes back over are dropped (the resumed run replaced them),
    before ``where`` selects among the rows that remain.
    """
    conditions = [parse_where(spec) for spec in where]
    with open(os.path.join(run_dir, METRICS), newline="") as fh:
        reader = csv.DictReader(fh)
        columns = reader.fieldnames or []
        for name in (X_COLUMNS[x], metric, *(column for column, _ in conditions)):
            if name not in columns:
                raise SystemExit(f"{run_dir}/{METRICS} has no column {name!r}; its columns: {', '.join(columns)}")
        rows: list[tuple[float, float, bool]] = []
        for row in reader:
            xv, yv = _float(row[X_COLUMNS[x]]), _float(row[metric])
            if not math.isfinite(xv):
                continue
            while rows and rows[-1][0] >= xv:
                rows.pop()
            rows.append((xv, yv, all(_matches(row[column], value) for column, value in conditions)))
    finite = [(xv, yv) for xv, yv, kept in rows if kept and math.isfinite(yv)]
    if not finite:
        which = f" where {' and '.join(where)}" if where else ""
        raise SystemExit(f"{run_dir}/{METRICS}: column {metric!r} has no finite value{which}")
    xs, ys = np.array(finite).T
    return xs, ys


def parse_where(spec: str) -> tuple[str, str]:
    column, sep, value = spec.partition("=")
    if not sep or not column or not value:
        raise SystemExit(f"--where expects COLUMN=VALUE, got {spec!r}")
    return column, value


def _matches(text: str | None, value: str) -> bool:
    """The cell equals ``value``: as numbers where both are numbers (-1 matches -1.0), else as text."""
    a, b = _float(text), _float(value)
    if math.isfinite(a) and math.isfinite(b):
        return a == b
    return (text or "") == value


def _float(text: str | None) -> float:
    try:
        return float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def trailing_mean(y: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last ``window`` values at each point (fewer at the start)."""
    csum = np.cumsum(np.insert(y, 0, 0.0))
    idx = np.arange(1, len(y) + 1)
    lo = np.maximum(idx - window, 0)
    return (csum[idx] - csum[lo]) / (idx - lo)


def mean_curve(curves: Sequence[tuple[np.ndarray, np.ndarray]],
               label: str = "") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, mean, std) over seeds (std with ddof=0) on a common grid from the latest first point to the
    shortest run's end, with as many points as the shortest curve."""
    if len(curves) == 1:
        xs, ys = curves[0]
        return xs, ys, np.zeros_like(ys)
    start, end = max(xs[0] for xs, _ in curves), min(xs[-1] for xs, _ in curves)
    if start > end:
        raise SystemExit(f"{label}: the {len(curves)} seeds' curves do not overlap in x ({start:g} > {end:g})")
    grid = np.linspace(start, end, min(len(xs) for xs, _ in curves))
    ys = np.stack([np.interp(grid, xs, ys) for xs, ys in curves])
    return grid, ys.mean(0), ys.std(0)


def parse_hline(spec: str) -> tuple[str, float]:
    label, _, value = spec.rpartition("=")
    try:
        return label, float(value)
    except ValueError:
        raise SystemExit(f"--hline expects LABEL=VALUE, got {spec!r}") from None


def plot_runs(run_dirs: Sequence[str], out: str, x: str = "steps", metric: str | Sequence[str] = "episodic_return",
              smooth: int = 5, csv_path: str | None = None, hlines: Iterable[str | tuple[str, float]] = (),
              title: str | None = None, where: Sequence[str] = ()) -> dict[str, dict]:
    """Plot the runs' mean curves to ``out`` (PNG); return {label: {x, mean, std, seeds, runs}}.

    Several metrics (a list) give one panel each, side by side in rows of three (behaviour figures
    of one run, say), and the result is then {metric: {label: ...}}; CSV rows label "metric | label".
    """
    if x not in X_COLUMNS:
        raise SystemExit(f"x must be one of {sorted(X_COLUMNS)}, got {x!r}")
    if smooth < 1:
        raise SystemExit(f"smooth must be >= 1 (1 = off), got {smooth}")
    metrics = [metric] if isinstance(metric, str) else list(metric)
    lines = [parse_hline(h) if isinstance(h, str) else h for h in hlines]
    try:
        FigureCanvasAgg = require("matplotlib.backends.backend_agg", "train", "plotting").FigureCanvasAgg  # noqa: N806
        Figure = require("matplotlib.figure", "train", "plotting").Figure  # noqa: N806
    except MissingExtra as error:
        raise SystemExit(str(error)) from None

    groups: dict[str, list[tuple[object, str]]] = {}
    for run in find_runs(run_dirs):
        algo, env_id, seed = run_identity(run)
        groups.setdefault(f"{algo} · {env_id}", []).append((seed, run))
    for label, members in groups.items():
        seeds = [seed for seed, _ in members]
        if len(set(map(str, seeds))) < len(seeds):
            print(f"warning: {label} has a seed more than once (different experiments?): "
                  f"{', '.join(run for _, run in members)}", file=sys.stderr)
    results = {m: _mean_curves(groups, x, m, smooth, where) for m in metrics}

    cols = min(3, len(metrics))
    rows = -(-len(metrics) // cols)
    fig = Figure(figsize=(7, 4.5) if len(metrics) == 1 else (4.2 * cols, 3.2 * rows))
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False).reshape(-1)
    for ax, m in zip(axes, metrics, strict=False):
        _draw(ax, results[m], lines, x, m, legend=len(metrics) == 1 or ax is axes[0])
    for ax in axes[len(metrics):]:
        ax.set_visible(False)
    if title and len(metrics) == 1:
        axes[0].set_title(title)
    elif title:
        fig.suptitle(title)
    fig.tight_layout()
    _makedirs_for(out)
    fig.savefig(out, dpi=120)
    if csv_path:
        _makedirs_for(csv_path)
        with open(csv_path, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["label", "x", "mean", "std"])
            for m, result in results.items():
                for label, c in result.items():
                    name = label if len(metrics) == 1 else f"{m} | {label}"
                    writer.writerows([name, f"{a:.10g}", f"{v:.6g}", f"{d:.6g}"]
                                     for a, v, d in zip(c["x"], c["mean"], c["std"], strict=True))
    return results[metrics[0]] if len(metrics) == 1 else results


def _mean_curves(groups: dict[str, list[tuple[object, str]]], x: str, metric: str, smooth: int,
                 where: Sequence[str] = ()) -> dict[str, dict]:
    result = {}
    for label, members in groups.items():
        curves = [read_curve(run, x, metric, where) for _, run in members]
        grid, mean, std = mean_curve([(xs, trailing_mean(ys, smooth)) for xs, ys in curves], label)
        result[label] = {"x": grid, "mean": mean, "std": std, "seeds": len(members), "runs": [r for _, r in members]}
    return result


def _draw(ax, result: dict[str, dict], lines: list[tuple[str, float]], x: str, metric: str, legend: bool) -> None:
    for label, curve in result.items():
        (line,) = ax.plot(curve["x"], curve["mean"], label=f"{label} ({_seeds(curve['seeds'])})")
        if curve["seeds"] > 1:
            ax.fill_between(curve["x"], curve["mean"] - curve["std"], curve["mean"] + curve["std"],
                            color=line.get_color(), alpha=0.2, lw=0)
    for i, (label, value) in enumerate(lines):
        ax.axhline(value, ls=("--", ":", "-.")[i % 3], lw=1, color="grey", label=f"{label} ({value:g})")
    ax.set_xlabel(X_LABELS[x])
    ax.set_ylabel("team episodic return" if metric == "episodic_return" else metric)
    if legend:
        ax.legend(fontsize=8)
    ax.grid(alpha=0.3)


def _seeds(n: int) -> str:
    return f"{n} seed{'s' * (n != 1)}"


def _makedirs_for(path: str) -> None:
    if os.path.dirname(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=prog_name("baselines.plot"), description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run directories, or folders of them")
    parser.add_argument("--out", default="curves.png", help="PNG to write (default: curves.png)")
    parser.add_argument("--x", choices=sorted(X_COLUMNS), default="steps",
                        help="x axis: steps (global_step, default) or time (wall_time seconds)")
    parser.add_argument("--metric", nargs="+", default=["episodic_return"],
                        help="metrics.csv column(s) (e.g. success_rate); several give one panel each")
    parser.add_argument("--smooth", type=int, default=5, help="trailing mean over N updates (default 5; 1 = off)")
    parser.add_argument("--csv", default=None, help="also write the curves as CSV (label, x, mean, std)")
    parser.add_argument("--hline", action="append", default=[], metavar="LABEL=VALUE", help="reference line")
    parser.add_argument("--title", default=None, help="plot title")
    parser.add_argument("--where", action="append", default=[], metavar="COLUMN=VALUE",
                        help="keep only the updates whose COLUMN has this value (repeatable: all must hold)")
    args = parser.parse_args(argv)
    result = plot_runs(args.run_dirs, args.out, x=args.x, metric=args.metric[0] if len(args.metric) == 1
                       else args.metric, smooth=args.smooth,
                       csv_path=args.csv, hlines=args.hline, title=args.title, where=args.where)
    if len(args.metric) > 1:
        result = result[args.metric[0]]
    groups = ", ".join(f"{label} ({_seeds(c['seeds'])})" for label, c in result.items())
    print(f"wrote {args.out}{' and ' + args.csv if args.csv else ''}: {groups}")


if __name__ == "__main__":
    main()
