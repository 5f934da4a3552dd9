"""examples/ramp_defense_value.py plays the same games with the ramps free and locked by the hiders from the start."""

import importlib.util
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "ramp_defense_value.py"


def _example():
    spec = importlib.util.spec_from_file_location("ramp_defense_value_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.one_compute_path  # whole games: the rules are tested per path in test_rules
def test_a_ramp_locked_from_the_start_keeps_the_scripted_seekers_off_the_walls():
    play = _example().play
    free = play("hide_and_seek_v2", "scripted", "scripted", 192, 11, {}, lock_ramps=False)
    locked = play("hide_and_seek_v2", "scripted", "scripted", 192, 11, {}, lock_ramps=True)
    assert free["win"].shape == locked["win"].shape == (192,)
    # The scripted seekers carry the ramp to the room's wall when the doors are shut; locked, it stays where it
    # spawned (it can still be climbed there, so a few may cross where it spawned against a wall).
    assert int(free["crossed"].sum()) > int(locked["crossed"].sum())
    assert locked["win"].float().mean() >= free["win"].float().mean()


def test_the_command_line_refuses_env_kwargs_that_are_not_an_object(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["ramp_defense_value.py", "--env-kwargs", "[1]"])
    with pytest.raises(SystemExit):
        _example().main()
    assert "--env-kwargs must be a JSON object" in capsys.readouterr().err
