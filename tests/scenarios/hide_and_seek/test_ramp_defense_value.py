"""examples/ramp_defense_value.py plays the same games with the ramps free and locked by the hiders from the start."""

import sys

import pytest
import torch

from tests.examples import load_example


def _example():
    return load_example("ramp_defense_value")


@pytest.mark.one_compute_path  # whole games: the rules are tested per path in test_rules
def test_a_ramp_locked_from_the_start_keeps_the_scripted_seekers_off_the_walls():
    play = _example().play
    free = play("hide_and_seek_v2", "scripted", "scripted", 192, 11, {}, defense="free")
    locked = play("hide_and_seek_v2", "scripted", "scripted", 192, 11, {}, defense="locked")
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


@pytest.mark.one_compute_path
@pytest.mark.parametrize("lock_rule", ["toggle", "hold"])
def test_a_scripted_hider_can_go_out_for_the_ramp_and_lock_it_within_the_preparation(lock_rule):
    """The trip fits the game: from the room, a hider that knows where the ramp is gets to it through a door, round
    the room's corner if need be, and leaves it locked (each lock rule's way) in nearly every game of v3."""
    play = _example().play
    free = play("hide_and_seek_v3", "scripted", "scripted", 256, 11, {"lock_rule": lock_rule}, defense="free")
    trip = play("hide_and_seek_v3", "scripted", "scripted", 256, 11, {"lock_rule": lock_rule}, defense="trip")
    assert free["secured"].float().mean() < 0.05
    assert trip["secured"].float().mean() > 0.85


def test_an_unknown_defense_is_refused():
    with pytest.raises(ValueError, match="defense must be one of"):
        _example().play("hide_and_seek_v3", "scripted", "scripted", 4, 0, {}, defense="moat")


@pytest.mark.one_compute_path
def test_the_games_are_split_by_the_rooms_number_of_doors(monkeypatch, capsys):
    """Quadrant rooms have one door or two, and the printed table has a row for each under every defense; the rows
    count the games that the reset drew with that many doors."""
    example = _example()
    from marl_envs import make_batched

    g = example.play("hide_and_seek_v3", "scripted", "scripted", 64, 11, {}, defense="free")
    env = make_batched("hide_and_seek_v3", num_envs=64, seed=11, autoreset=False)
    env.reset(seed=11)
    assert g["doors"].tolist() == env.scenario.layout.door_mask.sum(1).tolist()
    assert set(g["doors"].tolist()) == {1, 2}
    assert [label.strip() for label, _ in example.door_splits(g["doors"])] == ["1 door", "2 doors"]
    assert example.door_splits(torch.ones(5, dtype=torch.long)) == []
    monkeypatch.setattr(sys, "argv", ["ramp_defense_value.py", "--env-id", "hide_and_seek_v3", "--games", "64"])
    example.main()
    lines = capsys.readouterr().out.splitlines()
    for defense in example.DEFENSES:
        at = next(i for i, line in enumerate(lines) if line.startswith(defense + " "))
        assert lines[at + 1].startswith("  1 door ") and lines[at + 2].startswith("  2 doors ")
        total = int(lines[at].split("n=")[1].split(")")[0])
        parts = [int(lines[at + k].split("n=")[1].split(")")[0]) for k in (1, 2)]
        assert total == 64 and sum(parts) == 64 and parts == [int((g["doors"] == n).sum()) for n in (1, 2)]
