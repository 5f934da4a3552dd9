"""One table from finished runs: training return, greedy evaluation and wall time per update, mean ± std over seeds.

    python examples/compare_runs.py runs/compare --csv runs/compare/table.csv --markdown runs/compare/table.md

Reads every run directory under ROOT (``examples/train_happo_hatrpo.sh`` names them ALGO[-LAYOUT]_ENV_sSEED):
``config.json`` (algorithm, env, seed, parameter sharing), ``metrics.csv`` and ``eval.json`` (written by
``baselines.evaluate --json``). Per run:

    train_return   mean episodic_return of the last 30 updates (the training return of the docs' tables)
    train_success  mean success_rate of the last 30 updates (envs with a success flag)
    auc_return     mean episodic_return over every update: the area under the learning curve per update,
                   which rewards learning early (sample efficiency) as well as the end point
    auc_success    likewise for success_rate
    eval_return    greedy team return over the evaluation episodes; eval_success likewise
    s_per_update   median over updates of (env steps of the update / SPS): the seconds one update took,
                   rollout and learning together; the median ignores the first updates' warm-up

Rows group the seeds of one (env, algorithm, parameter sharing); the last column compares s_per_update with
MAPPO's on the same env (the sequential scheme costs an actor pass per agent).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import statistics
import sys

LAST = 30
COLUMNS = ("train_return", "train_success", "auc_return", "auc_success", "eval_return", "eval_success",
           "s_per_update")


def _floats(rows: list[dict], key: str) -> list[float]:
    values = [float(r[key]) for r in rows if r.get(key) not in (None, "")]
    return [v for v in values if math.isfinite(v)]


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def run_figures(run_dir: str) -> dict | None:
    """The figures of one run (module docstring), or None when it has no metrics yet."""
    metrics = os.path.join(run_dir, "metrics.csv")
    if not os.path.isfile(metrics):
        return None
    with open(os.path.join(run_dir, "config.json")) as fh:
        config = json.load(fh)
    with open(metrics, newline="") as fh:
        rows = list(csv.DictReader(fh))
    seen, kept = set(), []  # a resumed run may repeat the rows after its last checkpoint: keep the later ones
    for row in reversed(rows):
        if row["global_step"] not in seen:
            seen.add(row["global_step"])
            kept.append(row)
    rows = sorted(kept, key=lambda r: int(r["global_step"]))
    tail = rows[-LAST:]
    steps = [int(r["global_step"]) for r in rows]
    durations = [(b - a) / float(r["SPS"]) for a, b, r in zip([0, *steps], steps, rows, strict=False)
                 if float(r["SPS"]) > 0]
    sharing = config.get("param_sharing", "") + ("" if config.get("agent_id", True) else ", no id")
    figures = {"algo": config["algo"], "env_id": config["env_id"], "seed": config["seed"],
               "sharing": sharing, "steps": steps[-1] if steps else 0,
               "train_return": _mean(_floats(tail, "episodic_return")),
               "train_success": _mean(_floats(tail, "success_rate")),
               "auc_return": _mean(_floats(rows, "episodic_return")),
               "auc_success": _mean(_floats(rows, "success_rate")),
               "s_per_update": statistics.median(durations) if durations else float("nan"),
               "eval_return": float("nan"), "eval_success": float("nan")}
    evaluation = os.path.join(run_dir, "eval.json")
    if os.path.isfile(evaluation):
        with open(evaluation) as fh:
            result = json.load(fh)
        figures["eval_return"] = result["mean"]
        figures["eval_success"] = result.get("success_rate", float("nan"))
    return figures


def _cell(values: list[float], digits: int) -> str:
    values = [v for v in values if math.isfinite(v)]
    if not values:
        return "-"
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{_mean(values):.{digits}f} ± {spread:.{digits}f}"


def table(runs: list[dict]) -> list[dict]:
    """One row per (env, algorithm, sharing): every column as mean ± std over its seeds."""
    groups: dict[tuple, list[dict]] = {}
    for run in runs:
        groups.setdefault((run["env_id"], run["algo"], run["sharing"]), []).append(run)
    mappo_time: dict[str, float] = {}  # MAPPO with the agent id (its default) where it ran, else the id-less one
    for (env, algo, sharing), group in groups.items():
        if algo == "mappo" and (env not in mappo_time or "no id" not in sharing):
            mappo_time[env] = _mean([r["s_per_update"] for r in group])
    out = []
    for (env, algo, sharing), group in sorted(groups.items()):
        row = {"env": env, "algo": algo, "sharing": sharing, "seeds": len(group),
               "steps": min(r["steps"] for r in group)}
        for column in COLUMNS:
            digits = 3 if column in ("train_success", "auc_success", "eval_success", "s_per_update") else 2
            row[column] = _cell([r[column] for r in group], digits)
        ratio = _mean([r["s_per_update"] for r in group]) / mappo_time.get(env, float("nan"))
        row["time_vs_mappo"] = "-" if math.isnan(ratio) else f"{ratio:.2f}x"
        out.append(row)
    return out


def markdown(rows: list[dict]) -> str:
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", help="directory holding the run directories")
    parser.add_argument("--csv", default=None, help="write the table as CSV")
    parser.add_argument("--markdown", default=None, help="write the table as markdown")
    args = parser.parse_args(argv)
    runs = [f for f in (run_figures(os.path.join(args.root, d)) for d in sorted(os.listdir(args.root))
                        if os.path.isdir(os.path.join(args.root, d))) if f is not None]
    if not runs:
        sys.exit(f"no runs with metrics under {args.root}")
    rows = table(runs)
    if args.csv:
        with open(args.csv, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    text = markdown(rows)
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
