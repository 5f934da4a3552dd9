"""examples/ramp_lock_trace.py tells a lock that is never made from one that is made and undone."""

import sys

import pytest
import torch

from marl_envs.scenarios.hide_and_seek import manipulation as rules
from tests.examples import load_example


def _example():
    return load_example("ramp_lock_trace")


def press_lock_and_stand(obs, state):
    """Every agent stands still and presses lock in every step."""
    actions = torch.full((obs.shape[0], obs.shape[1], 5), rules.LEVELS // 2)
    actions[..., 3] = 0
    actions[..., 4] = 1
    return actions


@pytest.mark.one_compute_path  # whole preparations: the lock rules are tested per path in test_rules
def test_pressing_in_every_step_undoes_the_toggle_but_keeps_the_held_lock():
    trace = _example().trace
    kwargs = {"ramp_near_door": 1.0}
    toggle = trace("hide_and_seek_v3", press_lock_and_stand, 64, 3, kwargs)
    hold = trace("hide_and_seek_v3", press_lock_and_stand, 64, 3, {**kwargs, "lock_rule": "hold"})
    prep = toggle["locked"].shape[0]
    assert toggle["presses"].shape == (prep, 2) and bool((toggle["presses"] == 1).all())
    # Hider 0 starts beside the ramp: it reaches it in some games, and the same games under both rules.
    assert bool(toggle["ever"].any()) and torch.equal(toggle["ever"], hold["ever"])
    # The toggle flips it back on the next press; held, it stays locked to the end of the preparation.
    assert torch.equal(toggle["undone"], toggle["ever"])
    assert not bool(hold["undone"].any())
    assert float(hold["locked"][-1]) == pytest.approx(hold["ever"].float().mean().item())
    assert torch.equal(hold["kept"], hold["ever"]) and not bool(toggle["kept"].any())
    assert not bool(hold["started_in"].any())  # ramp_near_door starts hider 0 outside the room


@pytest.mark.one_compute_path
def test_the_doorway_start_is_split_by_where_hider_0_started():
    trace = _example().trace(
        "hide_and_seek_v3", press_lock_and_stand, 128, 3, {"ramp_by_door": 1.0, "lock_rule": "hold"})
    assert 0 < int(trace["started_in"].sum()) < 128
    assert trace["kept"].shape == (128,) and torch.equal(trace["kept"], trace["ever"] & ~trace["undone"])
    # Standing still, no hider leaves the room; from the doorway the ramp a step outside is often in sight.
    assert not bool(trace["went_out"].any())
    assert torch.equal(trace["out_at_end"], ~trace["started_in"])  # hider 0 is still where it started
    assert 0.0 < trace["seen_first"].float().mean().item() < 1.0


@pytest.mark.one_compute_path
def test_a_hider_walking_out_of_the_room_is_counted():
    def walk_west(obs, state):  # out of the room (x from 0 to 2) through its west wall's door, or against the wall
        actions = press_lock_and_stand(obs, state)
        actions[..., 0] = 0
        return actions

    trace = _example().trace("hide_and_seek_v3", walk_west, 128, 3, {"lock_rule": "hold"})
    assert 0 < int(trace["went_out"].sum()) < 128
    assert torch.equal(trace["out_at_end"], trace["went_out"])  # the hiders start in the room and never turn back


def test_the_command_line_refuses_env_kwargs_that_are_not_an_object(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["ramp_lock_trace.py", "--env-kwargs", "[1]"])
    with pytest.raises(SystemExit):
        _example().main()
    assert "--env-kwargs must be a JSON object" in capsys.readouterr().err


@pytest.mark.one_compute_path
def test_the_games_are_split_by_how_far_the_ramp_starts_from_a_door(monkeypatch, capsys):
    example = _example()
    near = example.trace("hide_and_seek_v3", press_lock_and_stand, 128, 3, {"ramp_outside_door": 1.0})
    game = example.trace("hide_and_seek_v3", press_lock_and_stand, 128, 3, {})
    # ramp_outside_door starts the ramp in its band by a door: all in the first split; the game starts it anywhere.
    assert bool((near["door_distance"] < example.DISTANCE_BANDS[1]).all())
    assert bool((near["door_distance"] > 0.4).all())  # outside the wall, never in the doorway
    assert bool((game["door_distance"] >= example.DISTANCE_BANDS[2]).any())
    assert bool((game["door_distance"] < example.DISTANCE_BANDS[1]).any())
    monkeypatch.setattr(sys, "argv", ["ramp_lock_trace.py", "--policy", "random", "--games", "64",
                                      "--env-kwargs", '{"lock_rule": "hold"}'])
    example.main()
    lines = capsys.readouterr().out.splitlines()
    ramp = lines.index("by the ramp's start distance from the nearest door of the room:")
    hider = lines.index("by hider 0's start distance from the nearest door of the room:")
    for split in (lines[ramp + 1:hider], lines[hider + 1:]):
        assert split and all(line.startswith("  ") and " m: " in line for line in split)
        assert sum(int(line.split(": ")[1].split(" games")[0]) for line in split) == 64


@pytest.mark.one_compute_path
def test_the_games_are_split_by_how_far_hider_0_starts_from_a_door():
    example = _example()
    by_door = example.trace("hide_and_seek_v3", press_lock_and_stand, 128, 3, {"hider_by_door": 1.0})
    game = example.trace("hide_and_seek_v3", press_lock_and_stand, 128, 3, {})
    # hider_by_door starts hider 0 at most about a metre and a quarter from a door; the game anywhere in the room.
    assert bool((by_door["hider_distance"] < 1.3).all())
    assert bool((by_door["hider_distance"] < example.HIDER_BANDS[1]).any())
    assert bool((game["hider_distance"] >= example.HIDER_BANDS[2]).any())
    assert by_door["hider_distance"].mean() < game["hider_distance"].mean()
