"""Ctrl-C in training: the first stops at the update boundary with a matching checkpoint, a second stops at once."""

import csv
import signal

import pytest

from baselines import mappo
from baselines.common.checkpoint import load_checkpoint
from baselines.common.collector import LocalCollector
from baselines.common.interrupt import StopRequest

TINY = dict(env_kwargs='{"N": 2, "max_cycles": 5}', num_envs=4, num_steps=5, update_epochs=1, progress=False,
            torch_threads=1, total_timesteps=20 * 50, checkpoint_every=1000)


def _sigint_during_collect(monkeypatch, at_calls):
    calls = {"n": 0}
    real = LocalCollector.collect

    def collect(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] in at_calls:
            signal.raise_signal(signal.SIGINT)  # as a terminal's Ctrl-C: the handler runs in this thread
        return real(self, *args, **kwargs)

    monkeypatch.setattr(LocalCollector, "collect", collect)


def test_first_ctrl_c_finishes_the_update_and_saves_a_checkpoint_matching_the_log(tmp_path, monkeypatch, capfd):
    _sigint_during_collect(monkeypatch, {3})
    run = mappo.train(mappo.Args(**TINY, run_dir=str(tmp_path / "run")))
    assert run.update == 3  # the update in progress when Ctrl-C came finished, no other started
    rows = list(csv.DictReader((tmp_path / "run" / "metrics.csv").open()))
    assert len(rows) == 3 and load_checkpoint(str(tmp_path / "run"))["update"] == 3
    out, err = capfd.readouterr()
    assert "stopping after update 3" in err and "interrupted: saving a checkpoint at update 3" in out
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is given back


def test_resuming_after_ctrl_c_equals_an_uninterrupted_run(tmp_path, monkeypatch):
    straight = mappo.train(mappo.Args(**dict(TINY, total_timesteps=20 * 5), run_dir=str(tmp_path / "straight")))
    _sigint_during_collect(monkeypatch, {2})
    mappo.train(mappo.Args(**dict(TINY, total_timesteps=20 * 5), run_dir=str(tmp_path / "cut")))
    monkeypatch.undo()
    resumed = mappo.train(mappo.Args(**TINY, resume=str(tmp_path / "cut")))
    assert resumed.update == 5
    for a, b in zip(straight.agent.state_dict().values(), resumed.agent.state_dict().values(), strict=True):
        assert (a == b).all()


def test_ctrl_c_in_the_first_update_of_a_resumed_run_names_that_update(tmp_path, monkeypatch, capfd):
    _sigint_during_collect(monkeypatch, {2})
    mappo.train(mappo.Args(**TINY, run_dir=str(tmp_path / "run")))
    monkeypatch.undo()
    _sigint_during_collect(monkeypatch, {1})  # in the resumed run's first update, update 3
    resumed = mappo.train(mappo.Args(**TINY, resume=str(tmp_path / "run")))
    assert resumed.update == 3 and load_checkpoint(str(tmp_path / "run"))["update"] == 3
    assert "stopping after update 3 " in capfd.readouterr().err


def test_second_ctrl_c_stops_at_once_and_still_saves(tmp_path, monkeypatch):
    calls = {"n": 0}
    real = LocalCollector.collect

    def collect(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGINT)  # raises KeyboardInterrupt here, mid-update
        return real(self, *args, **kwargs)

    monkeypatch.setattr(LocalCollector, "collect", collect)
    run = mappo.train(mappo.Args(**TINY, run_dir=str(tmp_path / "run")))
    assert run.update == 1 and load_checkpoint(str(tmp_path / "run"))["update"] == 1
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_outside_the_main_thread_python_keeps_its_handler():
    import threading

    seen = []

    def body():
        with StopRequest().deferred():
            seen.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    assert seen == [signal.default_int_handler]


@pytest.fixture(autouse=True)
def _python_handler():
    before = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, before)
