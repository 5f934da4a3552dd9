"""The benchmark module runs every env it lists and reports one positive figure per row (no timing asserted)."""

import os
import signal
import subprocess
import sys
import time

import pytest

from marl_envs import benchmark


def test_benchmark_rows_for_every_env():
    results = benchmark.main(["--env-id", "spread_v0", "transport_v0", "hide_and_seek_v1", "--batch-sizes", "2",
                              "--seconds", "0.05", "--devices", "cpu"])
    expected = {f"{env} {kind}" for env in ("spread_v0", "transport_v0", "hide_and_seek_v1")
                for kind in ("pettingzoo parallel B=1 cpu", "batched B=2 cpu")}
    assert set(results) == expected
    assert all(v > 0 for v in results.values())


def test_load_runs_busy_neighbours_only_during_the_block():
    with benchmark.busy_neighbours(2) as procs:
        assert len(procs) == 2 and all(p.poll() is None for p in procs)
    assert all(p.poll() is not None for p in procs)


def test_benchmark_with_load_reports_its_rows():
    results = benchmark.main(["--env-id", "spread_v0", "--batch-sizes", "2", "--seconds", "0.05", "--devices", "cpu",
                              "--load", "1"])
    assert set(results) == {"spread_v0 pettingzoo parallel B=1 cpu", "spread_v0 batched B=2 cpu"}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_busy_neighbours_stop_when_the_benchmark_is_killed():
    """A benchmark killed from outside (no ``finally``) must not leave loops spinning on the machine."""
    code = ("import sys\nfrom marl_envs import benchmark\nwith benchmark.busy_neighbours(1) as procs:\n"
            "    print(procs[0].pid, flush=True)\n    sys.stdin.read()\n")
    parent = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{child}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] in "ZX":  # exited, not yet reaped by its new parent
                    return
        except FileNotFoundError:
            return
        time.sleep(0.05)
    os.kill(child, signal.SIGKILL)
    raise AssertionError("the busy loop outlived the benchmark that started it")
