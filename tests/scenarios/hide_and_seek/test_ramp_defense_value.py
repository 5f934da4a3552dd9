"""examples/ramp_defense_value.py plays the same games with the ramps free and locked by the hiders from the start."""

import sys

import pytest

from tests.examples import load_example


def _example():
    return load_example("ramp_defense_value")


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
