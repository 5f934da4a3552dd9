"""What a training run prints: the plan, a bar that ends at its total, plain lines off a terminal, the summary."""

import io
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from baselines.common.cli import prog_name
from baselines.common.console import LastReturn, RunConsole, format_duration, use_progress_bar
from baselines.common.run import plan_updates
from baselines.mappo import Args

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--env-kwargs", '{"N": 2, "max_cycles": 5}', "--num-envs", "4", "--num-steps", "5", "--update-epochs", "1",
        "--torch-threads", "1", "--no-tensorboard"]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _row(ret=math.nan, sps=100.0, **extra):
    return {"episodic_return": ret, "SPS": sps, **extra}


def test_the_plan_rounds_the_budget_down_to_whole_updates_and_says_so():
    assert plan_updates(Args(num_envs=256, num_steps=25, total_timesteps=2_000_000)) == (312, 6400)
    out = io.StringIO()
    RunConsole("mappo", "runs/x", 312, 6400, 2_000_000, stream=out, run_dir_given=False)
    text = out.getvalue()
    assert "[mappo] run directory: runs/x (no --run-dir given)" in text
    assert "312 updates x 6,400 env steps = 1,996,800 env steps (--total-timesteps 2,000,000 rounded down" in text
    out = io.StringIO()
    RunConsole("trpo", "r", 10, 2048, 20_480, stream=out)
    assert "rounded" not in out.getvalue() and "(no --run-dir given)" not in out.getvalue()


def test_the_progress_bar_ends_exactly_at_its_total():
    pytest.importorskip("rich")
    out = Terminal()
    console = RunConsole("trpo", "r", 9, 2048, 20_000, stream=out)
    assert console._bar is not None and console._bar.total == 9 * 2048 == 18_432
    for update in range(1, 10):
        console.update(update, update * 2048, _row(-1.0))
    assert console._bar.completed == console._bar.total
    console.close(9, 18_432, 5.0, "finished", None)
    assert "finished at update 9/9, 18,432/18,432 env steps" in out.getvalue()


def test_off_a_terminal_plain_lines_come_at_the_interval_and_at_the_last_update():
    assert not use_progress_bar(True, io.StringIO()) and use_progress_bar(True, Terminal())
    assert not use_progress_bar(False, Terminal())
    out = io.StringIO()
    console = RunConsole("mappo", "r", 5, 10, 50, stream=out, log_interval=3600)
    for update in range(1, 6):
        console.update(update, update * 10, _row(-2.0))
    lines = [line for line in out.getvalue().splitlines() if "] update " in line]
    assert len(lines) == 2  # the first update, then nothing for an hour, then the last update
    assert lines[0].startswith("[mappo] update 1/5  step 10/50 (20%)  SPS 100  return -2.00")
    assert "update 5/5  step 50/50 (100%)" in lines[1]
    out = io.StringIO()
    console = RunConsole("mappo", "r", 5, 10, 50, stream=out, log_interval=0)
    for update in range(1, 6):
        console.update(update, update * 10, _row(-2.0))
    assert sum("] update " in line for line in out.getvalue().splitlines()) == 5


def test_updates_without_a_finished_episode_show_the_last_finished_ones_not_nan():
    last = LastReturn()
    assert last.describe(1) == "return -"
    last.observe(3, _row(-31.2, success_rate=0.5))
    last.observe(4, _row())
    assert last.describe(4) == "return -31.20 (update 3)  success 50%"
    last.observe(5, _row(-30.0))
    assert last.describe(5) == "return -30.00"
    out = io.StringIO()
    console = RunConsole("mappo", "r", 3, 10, 30, stream=out, log_interval=0)
    console.update(1, 10, _row(-5.0))
    console.update(2, 20, _row())
    assert "nan" not in out.getvalue().lower()
    assert "return -5.00 (update 1)" in out.getvalue().splitlines()[-1]


def test_the_closing_summary_says_why_where_how_far_and_how_to_continue():
    out = io.StringIO()
    console = RunConsole("mappo", "runs/a", 10, 10, 100, stream=out)
    console.update(1, 10, _row(-4.0, episodic_return_hider=3.0, episodic_return_seeker=-3.0))
    console.close(1, 10, 3725.0, "stopped after --stop-after-updates 1", "python -m baselines.mappo --resume runs/a")
    text = out.getvalue()
    assert "stopped after --stop-after-updates 1 at update 1/10, 10/100 env steps, wall time 1:02:05" in text
    assert "final return -4.00 (episodes that ended in update 1); teams: hider 3.00, seeker -3.00" in text
    assert "saved in runs/a; continue with: python -m baselines.mappo --resume runs/a" in text
    assert format_duration(59.6) == "0:01:00"


def test_prog_is_the_command_a_user_types():
    assert prog_name("baselines.mappo", "/somewhere/baselines/mappo.py") == "python -m baselines.mappo"
    assert prog_name("baselines.mappo", "/venv/bin/marl-mappo") == "marl-mappo"
    assert prog_name("baselines.plot", "") == "python -m baselines.plot"


def _run(args, cwd, timeout=180):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("module", ["baselines.mappo", "baselines.ippo", "baselines.trpo", "baselines.npg"])
def test_help_names_the_module_and_states_each_default_once(module, tmp_path):
    out = _run([module, "--help"], tmp_path)
    assert out.startswith(f"usage: python -m {module} ")
    flat = " ".join(out.replace("│", " ").split())
    assert not re.search(r"\(default[^)]*\)\s*\(default", flat), re.search(r".{80}\(default[^)]*\)\s*\(default", flat)
    assert "torch CPU threads; None: torch's choice (default: None)" in flat


def test_a_run_off_a_terminal_prints_its_plan_lines_and_summary(tmp_path):
    """The user's view: no --run-dir, stdout a pipe; the bar would print nothing, so plain lines do."""
    out = _run(["baselines.mappo", *TINY, "--total-timesteps", "70", "--log-interval", "0"], tmp_path)
    run_dir = re.search(r"run directory: (\S+) \(no --run-dir given\)", out).group(1)
    assert (tmp_path / run_dir / "metrics.csv").is_file() and run_dir.startswith("runs")
    assert "3 updates x 20 env steps = 60 env steps (--total-timesteps 70 rounded down to whole updates)" in out
    assert "[mappo] update 3/3  step 60/60 (100%)" in out
    assert re.search(r"\[mappo\] finished at update 3/3, 60/60 env steps, wall time \d+:\d\d:\d\d", out)
    assert re.search(r"\[mappo\] final return -?\d+\.\d\d \(episodes that ended in update \d\)", out)
    assert f"[mappo] saved in {run_dir}" in out and "continue with" not in out
    out = _run(["baselines.mappo", *TINY, "--total-timesteps", "400", "--run-dir", "r2", "--stop-after-updates", "1"],
               tmp_path)
    assert "stopped after --stop-after-updates 1 at update 1/20" in out
    assert "continue with: python -m baselines.mappo --resume r2" in out
