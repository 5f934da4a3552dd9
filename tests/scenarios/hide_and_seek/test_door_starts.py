"""boxes_at_doors: the start-state curriculum puts boxes square in front of the room's doors, inside it."""

import math

import pytest
import torch

from marl_envs import make_batched
from marl_envs.physics.geometry import perp
from marl_envs.scenarios.hide_and_seek.behaviour import doors_blocked, room_doors
from marl_envs.scenarios.hide_and_seek.door_starts import DEPTH, LATERAL
from marl_envs.scenarios.hide_and_seek.scenario import AGENT_RADIUS


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
    r, depth_half = float(sc.world.spec.bounding_radius[a + box]), float(sc.box_half[box, 1])
    wall = sc.layout.walls.half_thickness
    return hit.any(1) & aligned & (side.abs() <= LATERAL + 1e-5) & (depth >= depth_half + wall) \
        & (depth <= r + wall + 0.01 + DEPTH + 1e-4)


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


def test_most_door_boxes_start_covering_the_door_and_some_need_a_push():
    env = make_batched("hide_and_seek_v1", num_envs=2048, seed=7, boxes_at_doors=1.0)
    env.reset(seed=7)
    sc = env.scenario
    a, k = sc.config.num_agents, sc.config.num_boxes
    pos = sc.world.state.pos[:, a:a + k]
    # Had the hiders locked every box, this is the room's doors covered: the lock is all that is missing.
    covered = doors_blocked(sc.layout, pos, sc.world.state.angle[:, a:a + k], sc.box_half,
                            sc.present[:, :k], 2 * AGENT_RADIUS)
    first = covered & (room_doors(sc.layout).long().cumsum(1) == 1) & room_doors(sc.layout)
    # 0-0.6 m from the wall, drawn uniformly but kept where the rest of the room fits (which favours the wall):
    # about 80% cover the door (within an agent's width of the wall), the others need a push.
    assert 0.6 < first.any(1).float().mean().item() < 0.95


def test_door_boxes_spawn_at_rest():
    """Nothing overlaps at the start: with no action, no contact pushes a door box."""
    env = make_batched("hide_and_seek_v1", num_envs=512, seed=8, boxes_at_doors=1.0)
    env.reset(seed=8)
    sc = env.scenario
    a, k = sc.config.num_agents, sc.config.num_boxes
    start = sc.world.state.pos[:, a:a + k].clone()
    for _ in range(5):
        env.step(torch.zeros(512, a, 5, dtype=torch.long) + torch.tensor([5, 5, 5, 0, 0]))
    assert (sc.world.state.pos[:, a:a + k] - start).norm(dim=-1).max() < 1e-4


def test_bodies_other_than_the_door_boxes_spawn_by_the_usual_rule():
    """Bounding discs apart and clear of walls (the door boxes themselves sit closer: the test above)."""
    from tests.scenarios.hide_and_seek.spawn_rule import assert_spawned_apart

    env = make_batched("hide_and_seek_v1", num_envs=1024, seed=6, boxes_at_doors=1.0)
    env.reset(seed=6)
    sc = env.scenario
    a, k = sc.config.num_agents, sc.config.num_boxes
    usual = torch.ones(1024, sc.world.spec.num_bodies, dtype=torch.bool)
    usual[:, a:a + k] = ~(_at_door(sc, 0, 0).unsqueeze(1) & torch.tensor([True, False])) \
        & ~(_at_door(sc, 1, 1).unsqueeze(1) & torch.tensor([False, True]))
    assert_spawned_apart(sc, usual)


@pytest.mark.parametrize(("kwargs", "match"), [({"boxes_at_doors": 1.5}, "boxes_at_doors=1.5 is out of range"),
                                              ({"boxes_at_doors": -0.1}, "out of range"),
                                              ({"boxes_at_doors": math.nan}, "out of range"),
                                              ({"boxes_at_doors": 0.5, "map": "open"}, "needs map='quadrant'")])
def test_bad_boxes_at_doors_is_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_batched("hide_and_seek_v1", num_envs=2, **kwargs)


def test_a_reset_that_cannot_place_the_door_boxes_starts_as_usual(monkeypatch):
    """A box at a door can leave no room for the rest of a world (a few worlds in a million): the run goes on."""
    from marl_envs.scenarios.hide_and_seek import starts as module

    real, calls = module.sample_positions, []

    def crowded_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("sample_positions: could not place entity 1")
        return real(*args, **kwargs)

    env = make_batched("hide_and_seek_v1", num_envs=64, seed=9, boxes_at_doors=1.0)
    monkeypatch.setattr(module, "sample_positions", crowded_once)
    env.reset(seed=9)
    assert len(calls) == 2
    assert not _at_door(env.scenario, 0, 0).any()  # this reset's worlds start anywhere
    env.reset(seed=10)
    assert _at_door(env.scenario, 0, 0).all()


def test_behaviour_figures_leave_out_the_games_that_started_at_the_doors():
    """The figures describe games that start anywhere: a curriculum start's are NaN, and the trainers' and
    cross-play's means leave them out."""
    from baselines.common.rollout import EpisodeStats

    env = make_batched("hide_and_seek_v1", num_envs=256, seed=11, boxes_at_doors=0.5)
    env.reset(seed=11)
    sc = env.scenario
    started = _at_door(sc, 0, 0)
    assert torch.equal(sc.door_start, started)
    figures = sc.behaviour()
    assert all(torch.equal(figures[name].isnan(), started) for name in figures)
    stats = EpisodeStats()
    done = torch.ones(256, dtype=torch.bool)
    stats.add(done, torch.zeros(256, 4), torch.full((256,), 80), behaviour=dict(figures))
    row = stats.pop()
    box = figures["box_grabbed"]
    assert row["behaviour/box_grabbed"] == pytest.approx(box[~started].mean().item())
    # A checkpoint of the env keeps which worlds started at the doors.
    state = sc.state_dict()
    fresh = make_batched("hide_and_seek_v1", num_envs=256, seed=12, boxes_at_doors=0.5)
    fresh.scenario.load_state_dict(state)
    assert torch.equal(fresh.scenario.door_start, started)
