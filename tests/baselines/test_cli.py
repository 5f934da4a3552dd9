"""The command lines: --help documents every argument, tiny runs write the run-dir contract, errors are clear."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest

TINY = ["--env-kwargs", '{"N": 2, "max_cycles": 5}', "--num-envs", "4", "--num-steps", "5", "--update-epochs", "1",
        "--no-progress", "--torch-threads", "1"]


def _run(*args, timeout=120, check=True):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


@pytest.mark.parametrize("algo", ["mappo", "ippo"])
def test_help_documents_every_argument(algo):
    out = " ".join(_run(f"baselines.{algo}", "--help").stdout.replace("│", " ").split())  # undo the wrapping
    for flag, words in [("--env-id", "PettingZoo"), ("--total-timesteps", "env steps"), ("--num-envs", "worlds"),
                        ("--seed", "seed"), ("--device", "cuda"), ("--run-dir", "metrics.csv"),
                        ("--resume", "latest checkpoint"), ("--clip-coef", "clip"), ("--gae-lambda", "λ")]:
        assert flag in out and words in out, (flag, words)


def test_tiny_run_writes_the_run_directory_contract_and_evaluates(tmp_path):
    run_dir = tmp_path / "run"
    _run("baselines.mappo", *TINY, "--total-timesteps", "60", "--run-dir", str(run_dir))
    config = json.loads((run_dir / "config.json").read_text())
    assert config["env_id"] == "spread_v0" and config["num_envs"] == 4
    assert config["gamma"] == 0.9 and config["lr_schedule"] == "linear"  # spread's preset; the schedule in force
    rows = list(csv.DictReader((run_dir / "metrics.csv").open()))
    assert len(rows) == 3
    for column in ("global_step", "wall_time", "episodic_return", "episodic_length", "SPS", "policy_loss",
                   "value_loss", "entropy", "approx_kl", "clipfrac", "explained_variance"):
        assert column in rows[0]
    assert [int(r["global_step"]) for r in rows] == [20, 40, 60]
    assert (run_dir / "checkpoints" / "latest.pt").is_file()
    assert any(name.startswith("events.out.tfevents") for name in os.listdir(run_dir))
    out = _run("baselines.evaluate", str(run_dir), "--episodes", "2").stdout
    assert "team return" in out and "over 2 episodes" in out
    video = tmp_path / "ep.gif"
    _run("baselines.evaluate", str(run_dir), "--episodes", "1", "--video", str(video))
    assert video.stat().st_size > 1000


def test_bad_arguments_fail_with_a_clear_message(tmp_path):
    proc = _run("baselines.mappo", "--no-such-flag", "1", check=False)
    assert proc.returncode != 0 and "no-such-flag" in (proc.stderr + proc.stdout)
    proc = _run("baselines.mappo", *TINY, "--env-id", "nope_v0", "--run-dir", str(tmp_path / "x"), check=False)
    assert proc.returncode != 0 and "unknown env id 'nope_v0'" in proc.stderr
    proc = _run("baselines.evaluate", str(tmp_path / "missing"), check=False)
    assert proc.returncode != 0 and "does not exist" in proc.stderr


def test_ctrl_c_saves_a_checkpoint_and_flushes_the_log(tmp_path):
    run_dir = tmp_path / "interrupted"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "baselines.mappo", *TINY, "--total-timesteps", "10000000",
                             "--checkpoint-every", "100000", "--run-dir", str(run_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    metrics = run_dir / "metrics.csv"
    deadline = time.time() + 60
    while time.time() < deadline and not (metrics.exists() and len(metrics.read_text().splitlines()) >= 3):
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert "interrupted" in stdout, stderr
    assert (run_dir / "checkpoints" / "latest.pt").is_file()
    rows = metrics.read_text().splitlines()
    from baselines.common.checkpoint import load_checkpoint

    assert load_checkpoint(str(run_dir))["update"] == len(rows) - 1


def test_team_game_logs_and_evaluates_each_team(tmp_path):
    run_dir = tmp_path / "hns"
    _run("baselines.ippo", "--env-id", "hide_and_seek_v1", "--env-kwargs", '{"max_cycles": 6, "map": "open"}',
         "--num-envs", "2", "--num-steps", "6", "--update-epochs", "1", "--no-progress", "--torch-threads", "1",
         "--total-timesteps", "24", "--run-dir", str(run_dir))
    rows = list(csv.DictReader((run_dir / "metrics.csv").open()))
    finished = [r for r in rows if r["episodic_return"] != "nan"]
    assert finished and all(
        float(r["episodic_return"]) == float(r["episodic_return_hider"]) == -float(r["episodic_return_seeker"])
        for r in finished)  # zero-sum: the hiders' return is the first team's, the seekers' its opposite
    out = _run("baselines.evaluate", str(run_dir), "--episodes", "2").stdout
    assert "per team: hider" in out and "seeker" in out
