"""ramp_at_wall: the start-state curriculum sets ramp 0 against the room's wall from outside, ready to climb."""

import math

import pytest
import torch

from marl_envs import evaluation_kwargs, make_batched
from marl_envs.physics.geometry import box_corners, point_box_distance, point_segment_distance
from marl_envs.physics.projection import sat_overlap
from marl_envs.scenarios.hide_and_seek import HideAndSeekConfig, HideAndSeekV2Config
from marl_envs.scenarios.hide_and_seek import manipulation as rules
from marl_envs.scenarios.hide_and_seek.behaviour import NAMES, RAMP_START_UNMEASURED
from marl_envs.scenarios.hide_and_seek.heuristic import WALL_GAP
from marl_envs.scenarios.hide_and_seek.ramp_starts import EDGE_GAP
from marl_envs.scenarios.hide_and_seek.scenario import AGENT_RADIUS
from tests.scenarios.hide_and_seek.spawn_rule import assert_spawned_apart
from tests.scenarios.hide_and_seek.test_door_starts import _at_door

ENV_IDS = ["hide_and_seek_v1", "hide_and_seek_v2"]
IDLE = torch.tensor([5, 5, 5, 0, 0])


def _ramp(sc) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Ramp 0's centre (B, 2), heading (B,) and the unit vector of its slope (B, 2)."""
    i = sc.config.num_agents + sc.config.num_boxes
    pos, angle = sc.world.state.pos[:, i], sc.world.state.angle[:, i]
    return pos, angle, torch.stack((angle.cos(), angle.sin()), dim=-1)


def _at_wall(sc) -> torch.Tensor:
    """(B,) bool: ramp 0 lies outside the room, square to one of its walls, rising towards it, its high end
    ``WALL_GAP`` from the wall's centre line and the whole high edge against solid wall (no door behind any of it)."""
    pos, angle, up = _ramp(sc)
    hx, hy = (float(v) for v in sc.ramp_half[0])
    room = sc.layout.room
    outside = ~((pos > room[:, :2]) & (pos < room[:, 2:])).all(-1)
    # Square to wall 0 (x = room xmin: rising along +x) or wall 1 (y = room ymin: along +y).
    to_wall0 = (up - torch.tensor([1.0, 0.0])).norm(dim=-1) < 1e-5
    to_wall1 = (up - torch.tensor([0.0, 1.0])).norm(dim=-1) < 1e-5
    line = torch.where(to_wall0, room[:, 0], room[:, 1])
    high_end = (pos * up).sum(-1) + hx
    gap_ok = (line - high_end - WALL_GAP).abs() < 1e-4
    # Five points along the high edge: each is WALL_GAP from the nearest wall segment, so a solid part of the
    # wall lies right behind it (over a door, the nearest segment would be a jamb's end, further away).
    side = torch.stack((-up[:, 1], up[:, 0]), dim=-1)
    walls = sc.layout.walls
    against = torch.ones_like(outside)
    for f in torch.linspace(-1.0, 1.0, 5).tolist():
        point = pos + up * hx + side * (f * hy)
        dist = point_segment_distance(point.unsqueeze(1), walls.start, walls.end)
        dist = torch.where(walls.mask, dist, math.inf).amin(1)
        against &= (dist - WALL_GAP).abs() < 1e-4
    return outside & (to_wall0 | to_wall1) & gap_ok & against


def _assert_valid_start(sc, usual: torch.Tensor) -> None:
    """Ramp 0 overlaps no body and no wall and lies in the arena; ``usual`` (B, N) bodies follow the spawn rule."""
    a, k = sc.config.num_agents, sc.config.num_boxes
    i = a + k
    st, spec, walls = sc.world.state, sc.world.spec, sc.layout.walls
    pos, angle, _ = _ramp(sc)
    half = sc.ramp_half[0]
    corners = box_corners(pos, angle, half)  # (B, 4, 2)
    # In the arena, clear of the fence.
    assert (corners.abs().amax((-1, -2)) < sc.config.half_size - walls.half_thickness).all()
    # Clear of every wall: the distance between a box and a segment is reached at a corner of one or an end of
    # the other.
    to_walls = point_segment_distance(corners.unsqueeze(2), walls.start.unsqueeze(1), walls.end.unsqueeze(1))
    assert (to_walls[walls.mask.unsqueeze(1).expand_as(to_walls)] > walls.half_thickness + 0.01).all()
    for end in (walls.start, walls.end):
        sd, _, _ = point_box_distance(end, pos.unsqueeze(1), angle.unsqueeze(1), half)
        assert (sd[walls.mask] > walls.half_thickness + 0.01).all()
    # Clear of the agents (discs) and of the other objects (boxes and ramps, separating axes).
    sd, _, _ = point_box_distance(st.pos[:, :a], pos.unsqueeze(1), angle.unsqueeze(1), half)
    assert (sd > AGENT_RADIUS).all()
    for j in range(a, spec.num_bodies):
        if j == i:
            continue
        other = spec.half_extents[j]
        d = pos - st.pos[:, j]
        depth, _, _ = sat_overlap(d[:, 0], d[:, 1], angle.cos(), angle.sin(), st.angle[:, j].cos(),
                                  st.angle[:, j].sin(), half[0], half[1], other[0], other[1])
        assert (depth[sc.present[:, j - a]] < 0).all()
    assert_spawned_apart(sc, usual)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_every_world_starts_with_the_ramp_against_a_solid_part_of_the_room_wall(env_id):
    b = 1024
    env = make_batched(env_id, num_envs=b, seed=4, ramp_at_wall=1.0)
    env.reset(seed=4)
    sc = env.scenario
    assert sc.ramp_start.all() and not sc.door_start.any()
    assert _at_wall(sc).all()
    pos, _, up = _ramp(sc)
    # Many places, not the scripted seekers' one: both walls, spread along them.
    on_wall0 = up[:, 0] > 0.5
    assert 0.3 < on_wall0.float().mean().item() < 0.7
    assert pos[on_wall0, 1].std() > 0.2 and pos[~on_wall0, 0].std() > 0.2
    # The ramp's long sides keep EDGE_GAP from the door's jambs: the opening stays free.
    hy = float(sc.ramp_half[0, 1])
    lay = sc.layout
    for d, (wall, axis) in enumerate(((on_wall0, 1), (~on_wall0, 0))):
        door = lay.door_mask[:, d] & wall
        off = (pos[door, axis] - lay.doors[door, d, axis]).abs()
        assert (off >= lay.door_width / 2 + lay.walls.half_thickness + EDGE_GAP + hy - 1e-4).all()
    a, k = sc.config.num_agents, sc.config.num_boxes
    usual = torch.cat((torch.ones(b, a, dtype=torch.bool), sc.present), dim=1)
    usual[:, a + k] = False
    _assert_valid_start(sc, usual)


@pytest.mark.parametrize("extra", [{"num_ramps": 2}, {"boxes_at_doors": 1.0}], ids=["two_ramps", "door_starts"])
def test_ramp_start_spawns_at_rest(extra):
    """Nothing touches the ramp: with no action for a few steps, no body moves (with boxes at the doors too)."""
    env = make_batched("hide_and_seek_v1", num_envs=128, seed=8, ramp_at_wall=1.0, **extra)
    env.reset(seed=8)
    sc = env.scenario
    start = sc.world.state.pos.clone()
    for _ in range(5):
        env.step(IDLE.expand(128, env.num_agents, 5).clone())
    assert (sc.world.state.pos - start).norm(dim=-1).max() < 1e-4


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_both_curricula_together_give_valid_worlds(env_id):
    b = 1024
    env = make_batched(env_id, num_envs=b, seed=6, ramp_at_wall=1.0, boxes_at_doors=1.0)
    env.reset(seed=6)
    sc = env.scenario
    assert sc.ramp_start.all() and sc.door_start.all()
    assert _at_wall(sc).all() and _at_door(sc, 0, 0).all()
    a, k = sc.config.num_agents, sc.config.num_boxes
    usual = torch.cat((torch.ones(b, a, dtype=torch.bool), sc.present), dim=1)
    usual[:, a:a + k] = ~(_at_door(sc, 0, 0).unsqueeze(1) & torch.tensor([True, False])) \
        & ~(_at_door(sc, 1, 1).unsqueeze(1) & torch.tensor([False, True]))
    usual[:, a + k] = False
    _assert_valid_start(sc, usual)


def test_a_share_of_worlds_starts_with_the_ramp_at_the_wall_and_partial_resets_draw_it_again():
    b = 4096
    env = make_batched("hide_and_seek_v2", num_envs=b, seed=5, ramp_at_wall=0.3)
    env.reset(seed=5)
    sc = env.scenario
    assert torch.equal(_at_wall(sc), sc.ramp_start)
    assert abs(sc.ramp_start.float().mean().item() - 0.3) < 0.03
    plain = make_batched("hide_and_seek_v2", num_envs=b, seed=5)
    plain.reset(seed=5)
    assert not _at_wall(plain.scenario).any() and not plain.scenario.ramp_start.any()
    mask = torch.zeros(b, dtype=torch.bool)
    mask[:2048] = True
    before = sc.ramp_start.clone()
    sc.reset(mask, env._generator)
    assert torch.equal(sc.ramp_start[2048:], before[2048:])
    assert torch.equal(_at_wall(sc)[:2048], sc.ramp_start[:2048])
    assert abs(sc.ramp_start[:2048].float().mean().item() - 0.3) < 0.04


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_an_agent_driving_up_the_ramp_is_elevated_at_once_and_crosses_the_wall(env_id):
    """A seeker put at the ramp's foot, pushing up the slope: elevated after one step and over the wall into the room
    a few steps later, in every world; down on the floor there in nearly every world (where it comes down on a box
    it stays up on it)."""
    b = 512
    env = make_batched(env_id, num_envs=b, seed=2, ramp_at_wall=1.0, num_hiders=1, num_seekers=1, prep_fraction=0.0)
    env.reset(seed=2)
    sc = env.scenario
    pos, angle, up = _ramp(sc)
    hx = float(sc.ramp_half[0, 0])
    sc.world.state.pos[:, 1] = pos - up * (hx + AGENT_RADIUS + 0.01)
    sc.world.state.angle[:, 1] = angle
    sc.refresh()
    action = IDLE.expand(b, 2, 5).clone()
    action[:, 1, :2] = 5 + (5 * up).round().long()
    room = sc.layout.room
    clear = sc.layout.walls.half_thickness + AGENT_RADIUS  # wholly past the wall
    first_up, over, landed = (torch.full((b,), -1) for _ in range(3))
    for t in range(1, 16):
        env.step(action)
        me, elevated = sc.world.state.pos[:, 1], sc.elevated[:, 1]
        first_up = torch.where((first_up < 0) & elevated, t, first_up)
        inside = ((me > room[:, :2] + clear) & (me < room[:, 2:] - clear)).all(-1) & (first_up > 0)
        over = torch.where((over < 0) & inside, t, over)
        landed = torch.where((landed < 0) & inside & ~elevated, t, landed)
    assert (first_up == 1).all()
    assert (over > 0).all() and over.max() <= 10
    assert (landed > 0).float().mean() > 0.95


def test_scripted_seekers_climb_the_wall_more_often_from_a_ramp_start():
    """Whole scripted games from a built shelter (boxes at the doors, locked by the hiders): the seeker that fetches
    the ramp gets up it and into the room more often when the ramp starts at the wall. (The scripted seekers carry
    it on to their own spot first where it stands elsewhere, so the share stays well below 1.)"""
    climbed, crossed = [], []
    for ramp_at_wall in (0.0, 1.0):
        b = 512
        env = make_batched("hide_and_seek_v1", num_envs=b, seed=3, ramp_at_wall=ramp_at_wall, boxes_at_doors=1.0)
        env.reset(seed=3)
        sc = env.scenario
        a, k, h = sc.config.num_agents, sc.config.num_boxes, sc.config.num_hiders
        sc.lock_team[:, :k] = torch.where(sc.door_start.unsqueeze(1), rules.HIDERS, sc.lock_team[:, :k])
        room = sc.layout.room
        was_up = torch.zeros(b, a - h, dtype=torch.bool)
        over = torch.zeros(b, dtype=torch.bool)
        for _ in range(sc.config.max_cycles - 1):
            env.step(env.scripted_actions())
            seekers, up = sc.world.state.pos[:, h:a], sc.elevated[:, h:]
            inside = ((seekers > room[:, None, :2]) & (seekers < room[:, None, 2:])).all(-1) & ~up
            over |= (inside & was_up).any(1)
            was_up |= up
        climbed.append(was_up.any(1).float().mean().item())
        crossed.append(over.float().mean().item())
    assert climbed[1] > 0.2 and climbed[1] > climbed[0] + 0.08, climbed
    assert crossed[1] > 0.08 and crossed[1] > crossed[0], crossed


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("extra", [{}, {"boxes_at_doors": 0.5}], ids=["plain", "door_starts"])
def test_ramp_at_wall_0_plays_the_game_without_it_step_for_step(env_id, extra):
    """The default draws nothing: the same seed gives the same worlds, actions the same trajectories."""
    worlds = 8
    envs = [make_batched(env_id, num_envs=worlds, seed=7, **extra, **more) for more in ({}, {"ramp_at_wall": 0.0})]
    outs = [env.reset(seed=7) for env in envs]
    assert torch.equal(outs[0][0], outs[1][0]) and torch.equal(outs[0][1]["state"], outs[1][1]["state"])
    assert torch.equal(envs[0]._generator.get_state(), envs[1]._generator.get_state())
    generator = torch.Generator().manual_seed(0)
    nvec = torch.tensor(envs[0].action_spec.nvec)
    for t in range(40):
        random = (torch.rand(worlds, envs[0].num_agents, 5, generator=generator) * nvec).long()
        scripted = envs[0].scripted_actions()
        actions = torch.where(torch.arange(worlds).view(-1, 1, 1) % 2 == 0, scripted, random)
        steps = [env.step(actions) for env in envs]
        for x, y in zip(steps[0][:4], steps[1][:4], strict=True):
            assert torch.equal(x, y), f"step {t}"
        for name in NAMES:
            torch.testing.assert_close(steps[0][4]["behaviour"][name], steps[1][4]["behaviour"][name], rtol=0,
                                       atol=0, equal_nan=True)
        assert torch.equal(envs[0].state(), envs[1].state())
    assert not envs[1].scenario.ramp_start.any()


def test_ramp_at_wall_is_training_only():
    assert HideAndSeekV2Config.TRAINING_ONLY == HideAndSeekConfig.TRAINING_ONLY == (
        "boxes_at_doors", "ramp_at_wall", "ramp_near_door", "ramp_by_door", "ramp_outside_door", "hider_outside",
        "hider_by_door")
    kwargs = {"ramp_at_wall": 0.5, "boxes_at_doors": 0.5, "max_cycles": 10}
    for env_id in ENV_IDS:
        assert evaluation_kwargs(env_id, kwargs) == ({"max_cycles": 10}, ["boxes_at_doors", "ramp_at_wall"])
        assert evaluation_kwargs(env_id, {"ramp_at_wall": 1.0}) == ({}, ["ramp_at_wall"])


@pytest.mark.parametrize(("kwargs", "match"), [({"ramp_at_wall": 1.5}, "ramp_at_wall=1.5 is out of range"),
                                              ({"ramp_at_wall": -0.1}, "ramp_at_wall=-0.1 is out of range"),
                                              ({"ramp_at_wall": math.nan}, "ramp_at_wall=nan is out of range"),
                                              ({"ramp_at_wall": True}, "ramp_at_wall=True is out of range"),
                                              ({"ramp_at_wall": 0.5, "map": "open"},
                                               "ramp_at_wall=0.5 needs map='quadrant'"),
                                              ({"ramp_at_wall": 0.5, "map": "random_rooms"},
                                               "ramp_at_wall=0.5 needs map='quadrant'"),
                                              ({"ramp_at_wall": 0.5, "num_ramps": 0},
                                               "ramp_at_wall=0.5 needs num_ramps >= 1")])
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_bad_ramp_at_wall_is_refused(env_id, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_batched(env_id, num_envs=2, **kwargs)


def test_behaviour_figures_leave_out_what_the_ramp_start_fakes():
    """A ramp start's seekers' ramp use, hidden fraction and the ramp's carrying are NaN (the trainers' and
    cross-play's means leave them out); its preparation and box figures stay; with boxes at the doors too, every
    figure is NaN."""
    b = 512
    env = make_batched("hide_and_seek_v1", num_envs=b, seed=11, ramp_at_wall=0.5, boxes_at_doors=0.5)
    env.reset(seed=11)
    sc = env.scenario
    ramp, door = sc.ramp_start, sc.door_start
    only_ramp = ramp & ~door
    assert only_ramp.any() and (~ramp & ~door).any() and (ramp & door).any()
    for _ in range(sc.config.max_cycles - 1):
        env.step(env.scripted_actions())
    figures = sc.behaviour()
    assert set(RAMP_START_UNMEASURED) <= set(NAMES)
    for name in NAMES:
        nan = figures[name].isnan()
        assert torch.equal(nan, door | (ramp if name in RAMP_START_UNMEASURED else torch.zeros_like(ramp))), name
    # The preparation's ramp figures are measured in ramp starts: the hiders moved or locked it themselves.
    assert "ramp_secured_prep" not in RAMP_START_UNMEASURED and "max_ramp_move_prep" not in RAMP_START_UNMEASURED
    # A checkpoint of the env keeps which worlds started with the ramp at the wall; older ones had none.
    state = sc.state_dict()
    fresh = make_batched("hide_and_seek_v1", num_envs=b, seed=12, ramp_at_wall=0.5)
    fresh.scenario.load_state_dict(state)
    assert torch.equal(fresh.scenario.ramp_start, ramp)
    del state["ramp_start"]
    fresh.scenario.load_state_dict(state)
    assert not fresh.scenario.ramp_start.any()
