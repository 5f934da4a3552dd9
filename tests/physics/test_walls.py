"""Walls: no tunnelling under a hard push, per-world walls, masked replacement, the guard."""

import math

import pytest
import torch

from marl_envs.physics import BodySpec, Walls, World, WorldParams, boxes, check_tunnelling, circles
from marl_envs.physics.geometry import box_corners

RADIUS, HT, DT, SUBSTEPS = 0.05, 0.02, 0.1, 4
H = DT / SUBSTEPS
ROOM = [((-1.0, -1.0), (1.0, -1.0)), ((1.0, -1.0), (1.0, 1.0)), ((1.0, 1.0), (-1.0, 1.0)), ((-1.0, 1.0), (-1.0, -1.0))]


def params(position_first=False, wall_contact_force=2000.0):
    """Walls stiff enough to hold the test pushes, yet stable (see the walls module docstring)."""
    return WorldParams(dt=DT, substeps=SUBSTEPS, position_first=position_first,
                       wall_contact_force=wall_contact_force)


def push(world, direction_deg, magnitude=20.0, steps=200):
    """Drive every body with a constant force; yield the state after each step."""
    a = math.radians(direction_deg)
    force = torch.tensor([math.cos(a), math.sin(a)]) * magnitude
    force = force.expand(world.num_envs, world.spec.num_bodies, 2).clone()
    for _ in range(steps):
        world.step(force)
        yield world.state


# Semi-implicit: h^2 k / m = 1.25 (stable), rest depth F / k = 0.01. MPE's explicit order is
# only stable for h^2 k / m < damping, so its walls are softer and its push smaller.
@pytest.mark.parametrize(
    "position_first, fraction, stiffness, magnitude",
    [(False, 1.0, 2000.0, 20.0), (False, 0.5, 2000.0, 20.0), (True, 1.0, 300.0, 5.0)],
)
@pytest.mark.parametrize("direction_deg", [0.0, 30.0, 60.0, 85.0, 135.0, -100.0])
def test_fast_disc_never_leaves_a_walled_room(position_first, fraction, stiffness, magnitude, direction_deg):
    # Max speed at the tunnelling rule's limit (fraction 1) or half of it; the room's corners
    # also test wall endpoints.
    vmax = fraction * (RADIUS + HT) / H
    world = World(circles(1, RADIUS, max_speed=vmax), params(position_first, stiffness), 16, "cpu",
                  walls=Walls.from_segments([ROOM] * 16, HT))
    world.state.pos = (torch.rand(16, 1, 2, generator=torch.Generator().manual_seed(0)) - 0.5) * 1.6
    world.state.vel = torch.full((16, 1, 2), vmax / math.sqrt(2.0))
    for state in push(world, direction_deg, magnitude):
        assert state.pos.abs().max() < 1.0  # the centre never reached a wall's centre line
    skin = 1.0 - RADIUS - HT
    resting = world.state.pos.abs().amax(dim=(1, 2))
    assert (resting > skin - 1e-3).all() and (resting < skin + magnitude / stiffness + 2e-3).all()


def test_disc_aimed_at_a_wall_endpoint_stops_at_the_cap():
    vmax = (RADIUS + HT) / H
    world = World(circles(1, RADIUS, max_speed=vmax), params(), 1, "cpu",
                  walls=Walls.from_segments([[((1.0, 0.0), (3.0, 0.0))]], HT))
    world.state.vel = torch.tensor([[[vmax, 0.0]]])
    for state in push(world, 0.0):
        assert state.pos[0, 0, 0] < 1.0 - RADIUS
    torch.testing.assert_close(world.state.pos[0, 0], torch.tensor([1.0 - RADIUS - HT, 0.0]), atol=0.02, rtol=0)


@pytest.mark.parametrize("angle_deg", [0.0, 20.0, 45.0, 80.0])
@pytest.mark.parametrize("direction_deg", [0.0, 40.0, -70.0, 180.0])
def test_box_driven_into_walls_stays_inside_the_room(angle_deg, direction_deg):
    # Box rotation is the stiffest mode (a corner contact has 1/m + r^2/I = 4/m), hence k = 400.
    half = (0.1, 0.06)
    vmax = 0.5 * (min(half) + HT) / H
    world = World(boxes(1, *half, max_speed=vmax), params(wall_contact_force=400.0), 4, "cpu",
                  walls=Walls.from_segments([ROOM] * 4, HT))
    world.state.pos = torch.tensor([[[0.0, 0.0]], [[0.5, 0.5]], [[-0.6, 0.3]], [[0.2, -0.7]]])
    world.state.angle = torch.full((4, 1), math.radians(angle_deg))
    for state in push(world, direction_deg, magnitude=5.0):
        assert state.pos.abs().max() < 1.0 - min(half)  # the centre never reached a wall
        corners = box_corners(state.pos, state.angle, world.spec.half_extents)
        assert corners.abs().max() < 1.0 + HT  # no corner ever poked out of a wall's far face
    corners = box_corners(world.state.pos, world.state.angle, world.spec.half_extents)
    assert corners.abs().max() < 1.0 - HT + 0.01  # it rests against the wall's skin
    assert world.state.vel.abs().max() < 1e-3 and world.state.ang_vel.abs().max() < 1e-3


def test_box_pushed_askew_into_a_wall_turns_flush():
    world = World(boxes(1, 0.1, 0.1, max_speed=1.0), params(wall_contact_force=400.0), 1, "cpu",
                  walls=Walls.from_segments([[((1.0, -2.0), (1.0, 2.0))]], HT))
    world.state.pos = torch.tensor([[[0.7, 0.0]]])
    world.state.angle = torch.tensor([[0.3]])
    list(push(world, 0.0, magnitude=5.0))
    assert abs(math.remainder(float(world.state.angle[0, 0]), math.pi / 2)) < 1e-2


def test_walls_differ_per_world():
    # World 1 holds the same segment, masked off: a masked slot is no wall, whatever it holds.
    start = torch.tensor([[[0.5, -1.0]], [[0.5, -1.0]]])
    end = torch.tensor([[[0.5, 1.0]], [[0.5, 1.0]]])
    walls = Walls(start, end, torch.tensor([[True], [False]]), HT)
    world = World(circles(1, RADIUS, max_speed=1.0), params(), 2, "cpu", walls=walls)
    list(push(world, 0.0, magnitude=5.0, steps=60))
    assert world.state.pos[0, 0, 0] < 0.5 - RADIUS  # stopped by its wall
    assert world.state.pos[1, 0, 0] > 2.0  # world 1 has no wall: nothing slowed it


def test_masked_wall_slots_exert_exactly_no_force():
    spec = BodySpec.concat([circles(2, RADIUS), boxes(1, 0.1, 0.1)])
    start, end = torch.tensor([[[0.0, -1.0], [-1.0, 0.0]]]), torch.tensor([[[0.0, 1.0], [1.0, 0.0]]])
    world = World(spec, params(), 1, "cpu", walls=Walls(start, end, torch.zeros(1, 2, dtype=torch.bool), HT))
    world.state.pos = torch.tensor([[[0.0, 0.5], [0.5, 0.0], [-3.0, 0.0]]])  # bodies on the hidden walls
    force, torque = world.contacts(world.state, world._wall_geometry)
    assert torch.equal(force, torch.zeros(1, 3, 2)) and torch.equal(torque, torch.zeros(1, 3))
    world.state.pos = torch.tensor([[[0.0, 0.5], [-3.0, 0.0], [0.02, -0.05]]])  # the box on a wall end
    force, torque = world.contacts(world.state, world._wall_geometry)
    assert torch.equal(force, torch.zeros(1, 3, 2)) and torch.equal(torque, torch.zeros(1, 3))


def test_box_driven_onto_a_wall_end_stops_at_the_tip():
    # The wall meets the box face-on at its endpoint, between two corners: only the
    # endpoint-vs-box contact can stop it (no corner comes near the segment).
    world = World(boxes(1, 0.1, 0.1, max_speed=1.0), params(wall_contact_force=400.0), 1, "cpu",
                  walls=Walls.from_segments([[((1.0, 0.0), (3.0, 0.0))]], HT))
    list(push(world, 0.0, magnitude=5.0))
    torch.testing.assert_close(world.state.pos[0, 0], torch.tensor([1.0 - 0.1 - HT, 0.0]), atol=0.02, rtol=0)
    assert world.state.angle.abs().max() < 1e-4


def test_set_walls_where_only_changes_masked_worlds():
    world = World(circles(1, RADIUS, max_speed=1.0), params(), 3, "cpu", walls=Walls.empty(3, 2, HT))
    new = Walls.from_segments([[((0.5, -1.0), (0.5, 1.0)), ((0.0, 0.7), (1.0, 0.7))]] * 3, HT)
    world.set_walls_where(torch.tensor([True, False, True]), new)
    assert torch.equal(world.walls.mask, torch.tensor([[True, True], [False, False], [True, True]]))
    for i in (0, 2):
        assert torch.equal(world.walls.start[i], new.start[i])
    assert torch.equal(world.walls.start[1], torch.zeros(2, 2))
    list(push(world, 0.0, magnitude=5.0, steps=60))
    assert (world.state.pos[[0, 2], 0, 0] < 0.5 - RADIUS).all()
    assert world.state.pos[1, 0, 0] > 2.0


def test_set_walls_where_rejects_another_wall_count():
    world = World(circles(1, RADIUS), params(), 2, "cpu", walls=Walls.empty(2, 2, HT))
    with pytest.raises(ValueError, match="num_walls=2"):
        world.set_walls_where(torch.tensor([True, False]), Walls.empty(2, 3, HT))


def test_world_without_walls_runs_no_wall_code_and_rejects_set_walls():
    world = World(circles(2, RADIUS), params(), 2, "cpu")
    assert world.walls is None and world.contacts.rigid is None
    with pytest.raises(ValueError, match="built without walls"):
        world.set_walls(Walls.empty(2, 1, HT))


@pytest.mark.parametrize(
    "spec",
    [
        circles(1, RADIUS, max_speed=1.01 * (RADIUS + HT) / H),
        BodySpec.concat([circles(1, RADIUS), boxes(1, 0.2, 0.05, max_speed=1.01 * (0.05 + HT) / H)]),
    ],
)
def test_tunnelling_guard_rejects_a_fast_body(spec):
    with pytest.raises(ValueError) as error:
        World(spec, params(), 1, "cpu", walls=Walls.empty(1, 1, HT))
    for name in ("dt", "substeps", "max_speed", "radius", "half_thickness"):
        assert name in str(error.value)


def test_tunnelling_guard_accepts_safe_uncapped_static_and_ghost_bodies():
    fast = 10.0 * (RADIUS + HT) / H
    spec = BodySpec.concat([
        circles(1, RADIUS, max_speed=0.99 * (RADIUS + HT) / H),
        circles(1, RADIUS),  # no cap: cannot be checked
        circles(1, RADIUS, max_speed=fast, movable=False),
        circles(1, RADIUS, max_speed=fast, collidable=False),
    ])
    check_tunnelling(spec, params(), HT)
    world = World(spec, params(), 1, "cpu", walls=Walls.empty(1, 1, HT))
    with pytest.raises(ValueError, match="tunnel"):  # thinner walls break the rule for body 0
        world.set_walls(Walls.empty(1, 1, 0.0))


def test_walls_validate_shapes_and_padding():
    walls = Walls.from_segments([[((0.0, 0.0), (1.0, 0.0))], []], 0.1, num_walls=3)
    assert walls.start.shape == (2, 3, 2) and walls.mask.tolist() == [[True, False, False], [False] * 3]
    assert walls.world_segments(0).tolist() == [[[0.0, 0.0], [1.0, 0.0]]]
    with pytest.raises(ValueError, match="Walls.start"):
        Walls(torch.zeros(2, 3, 2), torch.zeros(2, 3, 2), torch.zeros(2, 4, dtype=torch.bool), 0.1)
    with pytest.raises(ValueError, match="more than num_walls"):
        Walls.from_segments([[((0.0, 0.0), (1.0, 0.0))] * 2], 0.1, num_walls=1)
