"""boxes_at_doors: the start-state curriculum puts boxes square in front of the room's doors, inside it."""

import math

import pytest
import torch

from marl_envs import make_batched
from marl_envs.physics.geometry import perp
from marl_envs.scenarios.hide_and_seek.behaviour import room_doors
from marl_envs.scenarios.hide_and_seek.door_starts import DEPTH, LATERAL


def _at_door(sc, box: int, door_rank: int) -> torch.Tensor:
    """(B,) bool: box ``box`` sits in front of the room's ``door_rank``-th door, inside the room, long side along
    the wall, within the band door_starts documents."""
    a = sc.config.num_agents
    doors = room_doors(sc.layout)
    hit = doors & (doors.long().cumsum(1) - 1 == door_rank)
    w = hit.float().unsqueeze(-1)
    centre, normal = (sc.layout.doors * w).sum(1), (sc.layout.door_normal * w).sum(1)
    along = perp(normal)
    rel = sc.world.state.pos[:, a + box] - centre
    depth, side = (rel * normal).sum(-1), (rel * along).sum(-1)
    angle = sc.world.state.angle[:, a + box]
    axis = torch.stack((angle.cos(), angle.sin()), dim=-1)
    aligned = (axis * along).sum(-1).abs() > 1 - 1e-5  # the box's x axis (its long side) along the wall
    r = float(sc.world.spec.bounding_radius[a + box])
    return hit.any(1) & aligned & (side.abs() <= LATERAL + 1e-5) & (depth > sc.layout.door_width / 2) \
        & (depth <= r + 0.06 + DEPTH + 1e-4)


@pytest.mark.parametrize("kwargs", [{}, {"num_elongated_boxes": 0, "box_size": 0.5}])
def test_every_world_starts_with_a_box_in_front_of_the_first_door(kwargs):
    env = make_batched("hide_and_seek_v1", num_envs=2048, seed=4, boxes_at_doors=1.0, **kwargs)
    env.reset(seed=4)
    sc = env.scenario
    assert _at_door(sc, 0, 0).all()
    two = room_doors(sc.layout).sum(1) == 2
    second = _at_door(sc, 1, 1)
    assert not second[~two].any()
    # Where the two doors lie far enough from their shared corner (a fifth of the two-door rooms with the default
    # boxes, three quarters with 0.5 m squares: the spawn rule keeps bounding circles apart) the second box waits
    # at the second door.
    assert second[two].float().mean() > 0.1


def test_a_share_of_worlds_starts_at_the_doors_and_partial_resets_draw_it_again():
    env = make_batched("hide_and_seek_v1", num_envs=4096, seed=5, boxes_at_doors=0.3)
    env.reset(seed=5)
    sc = env.scenario
    share = _at_door(sc, 0, 0).float().mean().item()
    assert abs(share - 0.3) < 0.03
    # The default game never starts that way: a uniform angle is never square to the wall.
    plain = make_batched("hide_and_seek_v1", num_envs=4096, seed=5)
    plain.reset(seed=5)
    assert _at_door(plain.scenario, 0, 0).float().mean().item() < 0.002
    # Worlds reset one by one (episode ends) draw the curriculum again.
    mask = torch.zeros(4096, dtype=torch.bool)
    mask[:2048] = True
    before = _at_door(sc, 0, 0)
    sc.reset(mask, env._generator)
    after = _at_door(sc, 0, 0)
    assert torch.equal(after[2048:], before[2048:])
    assert abs(after[:2048].float().mean().item() - 0.3) < 0.04


def test_door_boxes_spawn_clear_of_walls_and_bodies():
    from marl_envs.physics.geometry import point_segment_distance

    env = make_batched("hide_and_seek_v1", num_envs=1024, seed=6, boxes_at_doors=1.0)
    env.reset(seed=6)
    sc = env.scenario
    st, spec, walls = sc.world.state, sc.world.spec, sc.layout.walls
    r = spec.bounding_radius
    gap = (st.pos.unsqueeze(2) - st.pos.unsqueeze(1)).norm(dim=-1) - (r.view(1, -1, 1) + r.view(1, 1, -1))
    assert (gap[:, ~torch.eye(spec.num_bodies, dtype=torch.bool)] >= 0).all()
    dist = point_segment_distance(st.pos.unsqueeze(2), walls.start.unsqueeze(1), walls.end.unsqueeze(1))
    clear = dist - r.view(1, -1, 1) - walls.half_thickness
    assert (clear[walls.mask.unsqueeze(1).expand_as(clear)] >= 0).all()


@pytest.mark.parametrize(("kwargs", "match"), [({"boxes_at_doors": 1.5}, "boxes_at_doors=1.5 is out of range"),
                                              ({"boxes_at_doors": -0.1}, "out of range"),
                                              ({"boxes_at_doors": math.nan}, "out of range"),
                                              ({"boxes_at_doors": 0.5, "map": "open"}, "needs map='quadrant'")])
def test_bad_boxes_at_doors_is_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_batched("hide_and_seek_v1", num_envs=2, **kwargs)
