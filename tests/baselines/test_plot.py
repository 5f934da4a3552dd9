"""baselines.plot on synthetic run directories: groups, seed counts, exact mean/std, CSV, PNG and errors."""

import csv
import json
import math
import sys

import numpy as np
import pytest
import torch

from baselines.plot import main, plot_runs, read_curve

pytest.importorskip("matplotlib")

HEADER = ["global_step", "wall_time", "episodic_return", "episodic_length", "SPS"]
LAST_STEP = {1: 1000, 2: 800, 3: 1200}  # mappo seeds of different lengths: the grid stops at 800


def write_run(run_dir, env_id, seed, rows, algo=None, header=HEADER):
    """A run directory as baselines writes it; ``algo`` given: stored in a checkpoint (not in config.json)."""
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text(json.dumps({"env_id": env_id, "seed": seed, "run_dir": str(run_dir)}))
    with open(run_dir / "metrics.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    if algo is not None:
        (run_dir / "checkpoints").mkdir()
        payload = {"algo": algo, "args": {}, "update": 1, "global_step": 0, "actor": {}}
        torch.save(payload, run_dir / "checkpoints" / "latest.pt")
    return run_dir


@pytest.fixture
def runs(tmp_path):
    """3 mappo seeds on transport_v0 (return = seed * step / 100, wall_time = step / 200) and 2 ippo seeds
    on spread_v0 in default-named run directories; both with NaN and empty rows."""
    root = tmp_path / "runs"
    for seed in (1, 2, 3):
        rows = [[step, step / 200, seed * step / 100, 25, 1000] for step in range(100, LAST_STEP[seed] + 1, 100)]
        rows[2][2], rows[4][2] = "nan", ""  # updates in which no episode ended
        write_run(root / f"mappo_transport_s{seed}", "transport_v0", seed, rows, algo="mappo")
    for seed in (1, 2):
        rows = [[step, step / 100, -50.0 + seed, 25, 1000] for step in range(50, 501, 50)] + [[550, 5.5, "nan", "", ""]]
        write_run(root / f"spread_v0__ippo__{seed}__1700000000", "spread_v0", seed, rows)
    return root


def mappo_dirs(root):
    return [str(root / f"mappo_transport_s{seed}") for seed in (1, 2, 3)]


def test_groups_seed_counts_and_exact_mean_std(runs, tmp_path):
    out = tmp_path / "curves.png"
    curves = plot_runs([str(runs)], str(out), smooth=1)  # a folder of runs
    assert {label: c["seeds"] for label, c in curves.items()} == {"mappo · transport_v0": 3, "ippo · spread_v0": 2}
    mappo = curves["mappo · transport_v0"]
    assert mappo["x"][0] == 100 and mappo["x"][-1] == 800  # common support: up to the shortest run
    # linear data: interpolation is exact, so at every grid point the values are x/100 * (1, 2, 3)
    np.testing.assert_allclose(mappo["mean"], 2 * mappo["x"] / 100)
    np.testing.assert_allclose(mappo["std"], mappo["x"] / 100 * math.sqrt(2 / 3))
    assert mappo["mean"][-1] == pytest.approx(16.0) and mappo["std"][-1] == pytest.approx(math.sqrt(128 / 3))
    ippo = curves["ippo · spread_v0"]
    np.testing.assert_allclose(ippo["mean"], -48.5)
    np.testing.assert_allclose(ippo["std"], 0.5)
    assert ippo["x"][-1] == 500  # the trailing NaN row is skipped


def test_png_is_valid_and_not_blank(runs, tmp_path):
    import matplotlib.image

    out = tmp_path / "sub" / "curves.png"
    plot_runs(mappo_dirs(runs), str(out), hlines=["random=-81"], title="transport")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000
    image = matplotlib.image.imread(out)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert len(np.unique(image.reshape(-1, image.shape[2]), axis=0)) > 10


def test_x_time_uses_wall_time(runs, tmp_path):
    curves = plot_runs(mappo_dirs(runs), str(tmp_path / "t.png"), x="time", smooth=1)
    mappo = curves["mappo · transport_v0"]
    assert mappo["x"][0] == 0.5 and mappo["x"][-1] == 4.0  # wall_time = step / 200
    np.testing.assert_allclose(mappo["mean"], 4 * mappo["x"])  # return = seed * 2 * wall_time


def test_single_seed_is_its_own_smoothed_line(runs, tmp_path):
    curves = plot_runs([mappo_dirs(runs)[0]], str(tmp_path / "one.png"), smooth=3)
    curve = curves["mappo · transport_v0"]
    steps = np.array([100, 200, 400, 600, 700, 800, 900, 1000])  # rows 300 and 500 hold nan / empty
    raw = steps / 100
    np.testing.assert_allclose(curve["x"], steps)
    np.testing.assert_allclose(curve["mean"], [raw[max(0, i - 2):i + 1].mean() for i in range(len(raw))])
    assert curve["seeds"] == 1 and not curve["std"].any()


def test_csv_holds_label_x_mean_std(runs, tmp_path):
    path = tmp_path / "mean.csv"
    curves = plot_runs([str(runs)], str(tmp_path / "c.png"), smooth=1, csv_path=str(path))
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    assert reader.fieldnames == ["label", "x", "mean", "std"]
    for label, curve in curves.items():
        mine = [r for r in rows if r["label"] == label]
        assert len(mine) == len(curve["x"])
        np.testing.assert_allclose([float(r["x"]) for r in mine], curve["x"])
        np.testing.assert_allclose([float(r["mean"]) for r in mine], curve["mean"], rtol=1e-5)
        np.testing.assert_allclose([float(r["std"]) for r in mine], curve["std"], rtol=1e-5, atol=1e-9)
    last = [r for r in rows if r["label"] == "mappo · transport_v0"][-1]
    assert float(last["x"]) == 800 and float(last["mean"]) == pytest.approx(16.0)


def test_main_with_argv(runs, tmp_path, capsys):
    out, table = tmp_path / "m.png", tmp_path / "m.csv"
    main([*mappo_dirs(runs), str(runs / "spread_v0__ippo__1__1700000000"), "--out", str(out), "--csv", str(table),
          "--x", "time", "--smooth", "1", "--hline", "scripted controller=-30", "--hline", "random=-81",
          "--title", "T"])
    printed = capsys.readouterr().out
    assert "mappo · transport_v0 (3 seeds)" in printed and "ippo · spread_v0 (1 seed)" in printed
    assert out.read_bytes()[:4] == b"\x89PNG" and table.read_text().startswith("label,x,mean,std")


def test_resumed_run_keeps_the_rows_that_replaced_older_ones(tmp_path):
    rows = [[100, 1, 1.0, 25, 1], [200, 2, 2.0, 25, 1], [300, 3, 99.0, 25, 1],  # logged after the checkpoint at 200
            [300, 3.5, 3.0, 25, 1], [400, 4.5, 4.0, 25, 1]]  # the resumed run from step 200
    run = write_run(tmp_path / "run", "spread_v0", 1, rows)
    steps, values = read_curve(str(run), "steps", "episodic_return")
    assert steps.tolist() == [100, 200, 300, 400] and values.tolist() == [1, 2, 3, 4]


def test_where_keeps_the_updates_of_one_kind_after_a_resume_replaced_rows(tmp_path, capsys):
    header = [*HEADER, "selfplay/frozen_team"]
    rows = [[100, 1, 1.0, 25, 1, -1], [200, 2, 50.0, 25, 1, 0], [300, 3, 3.0, 25, 1, -1],
            [400, 4, 99.0, 25, 1, -1],  # logged after the checkpoint at 300, replaced by the resumed run below
            [400, 4.5, 60.0, 25, 1, 1.0], [500, 5, 5.0, 25, 1, "-1.0"]]
    run = str(write_run(tmp_path / "run", "hide_and_seek_v1", 1, rows, header=header))
    steps, values = read_curve(run, "steps", "episodic_return", ["selfplay/frozen_team=-1"])
    assert steps.tolist() == [100, 300, 500] and values.tolist() == [1, 3, 5]  # -1.0 is -1; 99 was replaced
    steps, _ = read_curve(run, "steps", "episodic_return", ["selfplay/frozen_team=1", "episodic_length=25"])
    assert steps.tolist() == [400]
    main([run, "--where", "selfplay/frozen_team=0", "--smooth", "1", "--out", str(tmp_path / "w.png"),
          "--csv", str(tmp_path / "w.csv")])
    assert [r["mean"] for r in csv.DictReader((tmp_path / "w.csv").open())] == ["50"]
    with pytest.raises(SystemExit, match="no finite value where selfplay/frozen_team=7"):
        read_curve(run, "steps", "episodic_return", ["selfplay/frozen_team=7"])
    with pytest.raises(SystemExit, match="has no column 'selfplay/reference'"):
        read_curve(run, "steps", "episodic_return", ["selfplay/reference=0"])
    with pytest.raises(SystemExit, match="--where expects COLUMN=VALUE"):
        read_curve(run, "steps", "episodic_return", ["selfplay/frozen_team"])


def test_missing_metric_names_the_run_and_its_columns(runs, tmp_path):
    with pytest.raises(SystemExit, match=r"mappo_transport_s1/metrics.csv has no column 'success_rate'.*"
                                         r"global_step, wall_time, episodic_return"):
        plot_runs(mappo_dirs(runs), str(tmp_path / "x.png"), metric="success_rate")


def test_metric_without_finite_values(tmp_path):
    write_run(tmp_path / "nan_run", "spread_v0", 1, [[100, 1, 1.0, "nan", 1], [200, 2, 2.0, "", 1]])
    with pytest.raises(SystemExit, match="'episodic_length' has no finite value"):
        plot_runs([str(tmp_path / "nan_run")], str(tmp_path / "x.png"), metric="episodic_length")


def test_directory_without_metrics_csv(runs, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit, match="empty' has no metrics.csv"):
        plot_runs([*mappo_dirs(runs), str(tmp_path / "empty")], str(tmp_path / "x.png"))
    with pytest.raises(SystemExit, match="not a directory"):
        plot_runs([str(tmp_path / "runs" / "mappo_*")], str(tmp_path / "x.png"))  # an unmatched shell glob
    with pytest.raises(SystemExit, match="no run directories"):
        plot_runs([], str(tmp_path / "x.png"))


def test_missing_matplotlib_says_how_to_install(runs, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    with pytest.raises(SystemExit, match="pip install matplotlib"):
        plot_runs(mappo_dirs(runs), str(tmp_path / "x.png"))


def test_several_metrics_give_one_panel_each_with_the_same_curves_as_alone(runs, tmp_path):
    alone = {m: plot_runs(mappo_dirs(runs), str(tmp_path / f"{m}.png"), metric=m, smooth=1)
             for m in ("episodic_return", "episodic_length")}
    path = tmp_path / "panels.csv"
    both = plot_runs(mappo_dirs(runs), str(tmp_path / "panels.png"), metric=["episodic_return", "episodic_length"],
                     smooth=1, csv_path=str(path), title="behaviour")
    assert set(both) == {"episodic_return", "episodic_length"}
    for m, curves in alone.items():
        np.testing.assert_allclose(both[m]["mappo · transport_v0"]["mean"], curves["mappo · transport_v0"]["mean"])
    labels = {row["label"] for row in csv.DictReader(open(path))}
    assert labels == {"episodic_return | mappo · transport_v0", "episodic_length | mappo · transport_v0"}
    single = (tmp_path / "episodic_return.png").stat().st_size
    assert (tmp_path / "panels.png").read_bytes()[:4] == b"\x89PNG" and single > 0
    main([*mappo_dirs(runs), "--out", str(tmp_path / "cli.png"), "--metric", "episodic_return", "SPS"])
