"""What a training run prints: where it goes, how far it is, and how it ended.

A run is watched in two ways. In a terminal, a progress bar (rich) whose total is the number of env
steps the run will really make: whole updates of ``num_envs * num_steps`` steps, so
``--total-timesteps`` is rounded down to a multiple of the batch and the start line says so (a bar
that stops at 1,996,800 of 2,000,000 looks like a run that died). In a file or a pipe (a cluster job,
``nohup``), where a bar prints nothing until the end, one plain line every ``--log-interval`` seconds
(and at the first and the last update), greppable and readable in ``tail -f``.

An update in which no episode ended has no return of its own (NaN in ``metrics.csv``, whose rows
describe their own update only). The console shows the mean return of the last update in which
episodes did end instead, marked with that update's number, so long-episode games
(hide-and-seek's 80 steps against 80-step rollouts) do not print NaN most of the time.

Every run closes with a summary: why it stopped, its run directory, steps made, the final return
and the wall time; an unfinished run also prints the command that resumes it.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from typing import Any, TextIO

from baselines.common.optional import MissingExtra, require


def format_duration(seconds: float) -> str:
    """``3725.4`` -> ``1:02:05``."""
    seconds = int(round(max(0.0, seconds)))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def use_progress_bar(requested: bool, stream: TextIO) -> bool:
    """A bar only when asked for and ``stream`` is a terminal (a bar in a file is noise or nothing)."""
    isatty = getattr(stream, "isatty", None)
    return bool(requested and isatty is not None and isatty())


class LastReturn:
    """The most recent finished-episode figures: the row's own where episodes ended, else the last ones."""

    def __init__(self):
        self.values: dict[str, float] = {}
        self.update: int | None = None

    def observe(self, update: int, row: dict[str, float]) -> None:
        ret = row.get("episodic_return", math.nan)
        if not math.isnan(ret):
            self.update = update
            self.values = {k: v for k, v in row.items()
                           if (k.startswith("episodic_return") or k == "success_rate") and not math.isnan(v)}

    def describe(self, current_update: int) -> str:
        """``return -31.20`` (this update's episodes), ``return -31.20 (update 12)`` (older), or ``return -``."""
        if self.update is None:
            return "return -"
        text = f"return {self.values['episodic_return']:.2f}"
        if self.update != current_update:
            text += f" (update {self.update})"
        if "success_rate" in self.values:
            text += f"  success {self.values['success_rate']:.0%}"
        return text


class RunConsole:
    """The console side of one training run.

    Args:
        algo: the algorithm's name, the prefix of every line.
        run_dir: where the run is saved.
        num_updates: updates of the whole run; ``batch_steps`` env steps each.
        requested_steps: ``--total-timesteps`` as given (the start line explains any rounding).
        start_update, start_step: where a resumed run continues from (0, 0 for a new one).
        progress: ``--progress``; a bar is drawn only if ``stream`` is a terminal as well.
        log_interval: seconds between two plain lines (0: one line per update).
        run_dir_given: False when the directory was chosen for the user (the start line says so).
        stream: where to print (stdout).
    """

    def __init__(self, algo: str, run_dir: str, num_updates: int, batch_steps: int, requested_steps: int,
                 start_update: int = 0, start_step: int = 0, progress: bool = True, log_interval: float = 30.0,
                 run_dir_given: bool = True, stream: TextIO | None = None):
        self.algo, self.run_dir = algo, run_dir
        self.num_updates, self.batch_steps = num_updates, batch_steps
        self.total_steps = num_updates * batch_steps
        self.stream = stream if stream is not None else sys.stdout
        self.log_interval = log_interval
        self.last = LastReturn()
        self._start = time.perf_counter()
        self._start_step = start_step
        self._last_line: float | None = None
        self._bar = None
        self._print(f"run directory: {run_dir}" + ("" if run_dir_given else " (no --run-dir given)"))
        plan = f"{num_updates:,} updates x {batch_steps:,} env steps = {self.total_steps:,} env steps"
        if self.total_steps != requested_steps:
            plan += f" (--total-timesteps {requested_steps:,} rounded down to whole updates)"
        if start_update:
            plan += f"; resuming at update {start_update:,}, step {start_step:,}"
        self._print(plan)
        if use_progress_bar(progress, self.stream):
            try:
                self._bar = _Bar(algo, self.total_steps, start_step, self.stream)
            except MissingExtra as error:
                warnings.warn(f"{error}; printing plain log lines instead of a progress bar", stacklevel=2)

    def _print(self, text: str) -> None:
        print(f"[{self.algo}] {text}", file=self.stream, flush=True)

    def update(self, update: int, step: int, row: dict[str, float]) -> None:
        """After each update: advance the bar, or print a plain line when one is due."""
        self.last.observe(update, row)
        status = f"SPS {row.get('SPS', math.nan):,.0f}  {self.last.describe(update)}"
        if self._bar is not None:
            self._bar.update(step, status)
            return
        now = time.perf_counter()
        due = (self._last_line is None or update >= self.num_updates
               or now - self._last_line >= self.log_interval)
        if due:
            self._last_line = now
            self._print(self.line(update, step, status, now - self._start))

    def line(self, update: int, step: int, status: str, elapsed: float) -> str:
        """The plain line: update, steps with percentage, speed, return, elapsed and remaining time."""
        done = step - self._start_step
        eta = elapsed / done * (self.total_steps - step) if done > 0 else math.nan
        return (f"update {update:,}/{self.num_updates:,}  step {step:,}/{self.total_steps:,} "
                f"({step / self.total_steps:.0%})  {status}  elapsed {format_duration(elapsed)}"
                + ("" if math.isnan(eta) else f"  eta {format_duration(eta)}"))

    def close(self, update: int, step: int, wall_time: float, status: str, resume_command: str | None) -> None:
        """Stop the bar and print the closing summary (``status``: why the run ended)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        self._print(f"{status} at update {update:,}/{self.num_updates:,}, {step:,}/{self.total_steps:,} env steps, "
                    f"wall time {format_duration(wall_time)} "
                    f"(this invocation {format_duration(time.perf_counter() - self._start)})")
        if self.last.update is None:
            self._print("final return -: no episode has ended yet")
        else:
            values = self.last.values
            text = f"final return {values['episodic_return']:.2f} (episodes that ended in update {self.last.update:,})"
            teams = [f"{k.removeprefix('episodic_return_')} {v:.2f}" for k, v in values.items()
                     if k.startswith("episodic_return_")]
            if teams:
                text += "; teams: " + ", ".join(teams)
            if "success_rate" in values:
                text += f"; success {values['success_rate']:.0%}"
            self._print(text)
        self._print(f"saved in {self.run_dir}" + (f"; continue with: {resume_command}" if resume_command else ""))


class _Bar:
    """A rich progress bar over env steps with the latest speed and return."""

    def __init__(self, algo: str, total: int, done: int, stream: TextIO):
        progress = require("rich.progress", "train", "the progress bar", package="rich")
        console = require("rich.console", "train", "the progress bar", package="rich").Console(file=stream)
        self._bar = progress.Progress(progress.TextColumn(f"[bold]{algo}"), progress.BarColumn(),
                                      progress.MofNCompleteColumn(), progress.TextColumn("{task.fields[info]}"),
                                      progress.TimeRemainingColumn(), console=console)
        self._task = self._bar.add_task(algo, total=total, completed=done, info="")
        self._bar.start()

    def update(self, step: int, info: str) -> None:
        self._bar.update(self._task, completed=step, info=info)

    @property
    def completed(self) -> float:
        return self._bar.tasks[0].completed

    @property
    def total(self) -> float | None:
        return self._bar.tasks[0].total

    def close(self) -> None:
        self._bar.stop()


def describe_status(finished: bool, interrupted: bool, error: BaseException | None, stopped_after: Any) -> str:
    """Why a run ended, as the summary's first words."""
    if error is not None:
        return f"stopped by {type(error).__name__}"
    if finished:
        return "finished"
    if interrupted:
        return "interrupted (Ctrl-C)"
    return f"stopped after --stop-after-updates {stopped_after}"
