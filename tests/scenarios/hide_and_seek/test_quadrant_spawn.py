"""quadrant_spawn: where the quadrant game's hiders and ramps start (our room rule, or mae-envs' uniform one)."""

import pytest
import torch

from marl_envs import make_batched
from tests.scenarios.hide_and_seek.spawn_rule import assert_spawned_apart


def _in_room(sc) -> torch.Tensor:
    """(B, N) bool: each body's centre inside its world's room."""
    room, pos = sc.layout.room, sc.world.state.pos
    return ((pos > room[:, None, :2]) & (pos < room[:, None, 2:])).all(-1)


def _kinds(sc) -> tuple[slice, slice, slice, slice]:
    c = sc.config
    a, k = c.num_agents, c.num_boxes
    return slice(0, c.num_hiders), slice(c.num_hiders, a), slice(a, a + k), slice(a + k, a + k + c.num_ramps)


@pytest.mark.parametrize("env_id", ["hide_and_seek_v1", "hide_and_seek_v2"])
def test_the_room_rule_starts_hiders_and_boxes_inside_and_seekers_and_ramps_outside(env_id):
    env = make_batched(env_id, num_envs=1024, seed=3)
    env.reset(seed=3)
    sc = env.scenario
    assert sc.config.quadrant_spawn == "room"
    inside = _in_room(sc)
    hiders, seekers, boxes, ramps = _kinds(sc)
    assert inside[:, hiders].all() and inside[:, boxes].all()
    assert not inside[:, seekers].any() and not inside[:, ramps].any()


@pytest.mark.parametrize("env_id", ["hide_and_seek_v1", "hide_and_seek_v2"])
def test_the_uniform_rule_starts_hiders_and_ramps_anywhere_and_keeps_the_rest(env_id):
    b = 4096
    env = make_batched(env_id, num_envs=b, seed=5, quadrant_spawn="uniform")
    env.reset(seed=5)
    sc = env.scenario
    inside = _in_room(sc).float().mean(0)
    hiders, seekers, boxes, ramps = _kinds(sc)
    # Anywhere: in the room about as often as its free floor's share of the arena's, out of it mostly (the large
    # ramp rarely fits beside the boxes: 1.4% of v2's worlds, 0.2% of v1's, whose boxes are larger).
    assert ((inside[hiders] > 0.05) & (inside[hiders] < 0.4)).all()
    assert ((inside[ramps] > 0) & (inside[ramps] < 0.1)).all()
    assert (inside[boxes] == 1).all() and (inside[seekers] == 0).all()
    # Every body (ramps included) by the spawn rule: bounding discs apart and off every wall.
    every = torch.cat((torch.ones(b, sc.config.num_agents, dtype=torch.bool), sc.present), dim=1)
    assert_spawned_apart(sc, every)


def test_the_uniform_rule_is_seeded_and_combines_with_the_curricula():
    kwargs = {"num_envs": 256, "quadrant_spawn": "uniform", "boxes_at_doors": 0.5, "ramp_at_wall": 0.3,
              "ramp_near_door": 0.3}
    first, second = (make_batched("hide_and_seek_v2", seed=7, **kwargs) for _ in range(2))
    first.reset(seed=7)
    second.reset(seed=7)
    torch.testing.assert_close(first.scenario.world.state.pos, second.scenario.world.state.pos, rtol=0, atol=0)
    sc = first.scenario
    assert sc.door_start.any() and sc.ramp_start.any()
    # A ramp start still puts the ramp outside the room, whatever the spawn rule.
    _, _, _, ramps = _kinds(sc)
    assert not _in_room(sc)[sc.ramp_start][:, ramps].any()


def test_the_uniform_rule_does_not_change_observation_or_state_spaces():
    default, uniform = (make_batched("hide_and_seek_v2", num_envs=2, seed=0, quadrant_spawn=s)
                        for s in ("room", "uniform"))
    assert default.single_observation_space == uniform.single_observation_space
    assert default.state_space == uniform.state_space


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"quadrant_spawn": "anywhere"}, "quadrant_spawn must be one of"),
    ({"quadrant_spawn": "uniform", "map": "open"}, "needs map='quadrant'"),
])
def test_a_bad_spawn_rule_is_refused_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_batched("hide_and_seek_v2", num_envs=2, **kwargs)
