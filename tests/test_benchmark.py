"""The benchmark module runs every env it lists and reports one positive figure per row (no timing asserted)."""

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
