"""Run logging: metrics.csv (one row per update, flushed) and TensorBoard (the console is ``console.py``).

Metric vocabulary (glossed in docs/baselines/metrics.md): CleanRL's namespaces, ``charts/`` for episode and
speed figures and ``losses/`` for the update's diagnostics; a metric whose name holds a slash
(``behaviour/boxes_locked``, ``selfplay/frozen_team``) is its own TensorBoard tag. The CSV uses the bare names
(``episodic_return``, ``SPS``, ``policy_loss``...) so it reads well in pandas.
"""

from __future__ import annotations

import csv
import json
import os
import time
import warnings
from typing import Any

from baselines.common.optional import MissingExtra, require

CSV_NAME = "metrics.csv"


class RunLogger:
    """Writes metric rows to CSV and TensorBoard; appends when a run resumes.

    Args:
        run_dir: the run directory.
        hparams: arguments shown as a TensorBoard text table and saved in config.json.
        tensorboard: also write TensorBoard events (needs the ``tensorboard`` package).
    """

    def __init__(self, run_dir: str, hparams: dict[str, Any], tensorboard: bool = True, resume: bool = False):
        os.makedirs(run_dir, exist_ok=True)
        self.run_dir = run_dir
        with open(os.path.join(run_dir, "config.json"), "w") as fh:
            json.dump(hparams, fh, indent=2, default=str)
        path = os.path.join(run_dir, CSV_NAME)
        self._fields: list[str] | None = None
        if resume and os.path.exists(path):
            with open(path, newline="") as fh:
                header = next(csv.reader(fh), None)
            self._fields = header
        self._csv = open(path, "a" if resume else "w", newline="")
        self._writer = csv.DictWriter(self._csv, fieldnames=self._fields) if self._fields else None
        self._tb = None
        if tensorboard:
            try:
                writer_cls = require("torch.utils.tensorboard", "train", "--tensorboard",
                                     package="tensorboard").SummaryWriter
            except MissingExtra as error:
                warnings.warn(f"{error}; writing no event files (--no-tensorboard silences this)", stacklevel=2)
            else:
                self._tb = writer_cls(run_dir)
                table = "\n".join(f"|{k}|{v}|" for k, v in hparams.items())
                self._tb.add_text("hyperparameters", f"|param|value|\n|-|-|\n{table}")
        self.start = time.time()

    def log(self, row: dict[str, float], namespaces: dict[str, str]) -> None:
        """Write one row. ``namespaces`` maps a metric to its TensorBoard tag prefix (charts, losses...)."""
        if self._writer is None:
            self._fields = list(row)
            self._writer = csv.DictWriter(self._csv, fieldnames=self._fields)
            self._writer.writeheader()
        if not set(row) <= set(self._fields):
            self._add_columns([k for k in row if k not in self._fields])
        self._writer.writerow({k: row.get(k, "") for k in self._fields})
        self._csv.flush()
        if self._tb is not None:
            step = int(row["global_step"])
            for key, value in row.items():
                if key in ("global_step", "wall_time") or value is None or value != value:
                    continue
                tag = key if "/" in key else f"{namespaces.get(key, 'charts')}/{key}"  # behaviour/x is its own tag
                self._tb.add_scalar(tag, value, step)

    def _add_columns(self, names: list[str]) -> None:
        """Widen the CSV for metrics a run starts logging midway (a resumed run given a new option): the file is
        rewritten with the new header, earlier rows blank in the new columns, so no figure is dropped."""
        path = self._csv.name
        self._csv.close()
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
        self._fields = [*self._fields, *names]
        tmp = path + ".tmp"
        with open(tmp, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=self._fields)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, path)  # the old file stays whole until the new one is
        self._csv = open(path, "a", newline="")
        self._writer = csv.DictWriter(self._csv, fieldnames=self._fields)

    def close(self) -> None:
        self._csv.flush()
        self._csv.close()
        if self._tb is not None:
            self._tb.flush()
            self._tb.close()
