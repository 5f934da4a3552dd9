"""Contacts: equal and opposite forces, momentum conservation, torque direction, static and
non-collidable bodies, bounded penetration at rest."""

import math

import pytest
import torch

from marl_envs.physics import BodySpec, World, WorldParams, boxes, circles
from marl_envs.physics.contacts import Contacts, penetration
from marl_envs.physics.geometry import box_corners, cross, point_box_distance

FREE = WorldParams(dt=0.02, substeps=2, damping=0.0, angular_damping=0.0, position_first=False)


def momentum(world):
    return (world.spec.mass.view(1, -1, 1) * world.state.vel).sum(1)


def angular_momentum(world):
    """(B,) total angular momentum about the origin: sum m (x cross v) + I omega."""
    s = world.state
    return (world.spec.mass * cross(s.pos, s.vel) + world.spec.inertia * s.ang_vel).sum(1)


def test_two_overlapping_discs_get_equal_and_opposite_forces():
    spec = circles(2, 0.1)
    params = WorldParams()
    contacts = Contacts(spec, params, torch.device("cpu"))
    world = World(spec, params, 1, "cpu")
    world.state.pos = torch.tensor([[[0.0, 0.0], [0.15, 0.05]]])
    force, torque = contacts(world.state)
    assert torque is None
    torch.testing.assert_close(force[0, 0], -force[0, 1])
    expected = 100.0 * penetration(torch.tensor(math.hypot(0.15, 0.05) - 0.2), 1e-3)
    torch.testing.assert_close(force[0, 1].norm(), expected)
    assert force[0, 1, 0] > 0  # pushes the second disc away from the first


def collide(spec, pos, vel, angle=None, steps=200):
    world = World(spec, FREE, pos.shape[0], "cpu")
    world.state.pos, world.state.vel = pos, vel
    if angle is not None:
        world.state.angle = angle
    p0, l0 = momentum(world), angular_momentum(world)
    touched = torch.zeros(pos.shape[0], dtype=torch.bool)
    for _ in range(steps):
        world.step(torch.zeros_like(pos))
        touched |= (world.state.vel - vel).abs().amax(dim=(1, 2)) > 1e-3
    assert touched.all(), "the bodies never collided; the test set-up is wrong"
    torch.testing.assert_close(momentum(world), p0, atol=1e-4, rtol=0)
    torch.testing.assert_close(angular_momentum(world), l0, atol=1e-4, rtol=0)
    return world


def test_free_disc_collision_conserves_momentum():
    spec = BodySpec.concat([circles(1, 0.1, mass=1.0), circles(1, 0.15, mass=3.0)])
    collide(spec, torch.tensor([[[-0.5, 0.05], [0.0, 0.0]]]), torch.tensor([[[2.0, 0.0], [-0.5, 0.0]]]))


@pytest.mark.parametrize("offset", [-0.12, 0.0, 0.07])
def test_free_disc_box_collision_conserves_momentum(offset):
    spec = BodySpec.concat([circles(1, 0.1, mass=1.0), boxes(1, 0.2, 0.1, mass=2.0)])
    world = collide(
        spec,
        torch.tensor([[[-0.6, offset], [0.0, 0.0]]]),
        torch.tensor([[[2.0, 0.0], [0.0, 0.0]]]),
        torch.tensor([[0.0, 0.4]]),
    )
    assert world.state.vel[0, 1, 0] > 0.1  # the box was pushed


def test_free_box_box_collision_conserves_momentum():
    spec = BodySpec.concat([boxes(1, 0.1, 0.05, mass=1.0), boxes(1, 0.15, 0.1, mass=2.5)])
    collide(
        spec,
        torch.tensor([[[-0.6, 0.03], [0.0, 0.0]], [[0.0, 0.6], [0.05, 0.0]]]),
        torch.tensor([[[2.0, 0.0], [0.0, 0.5]], [[0.0, -1.5], [0.0, 0.0]]]),
        torch.tensor([[0.3, -0.2], [1.0, 0.1]]),
    )


def test_box_contact_wrenches_cancel_for_random_overlaps():
    # Any configuration: forces sum to zero and torques about the origin sum to zero.
    spec = BodySpec.concat([circles(3, 0.2), boxes(3, 0.3, 0.15)])
    g = torch.Generator().manual_seed(0)
    world = World(spec, WorldParams(), 64, "cpu")
    world.state.pos = torch.rand(64, 6, 2, generator=g) * 0.8
    world.state.angle = torch.rand(64, 6, generator=g) * 6.3
    force, torque = world.contacts(world.state)
    assert force.abs().max() > 1.0  # there were overlaps
    torch.testing.assert_close(force.sum(1), torch.zeros(64, 2), atol=1e-4, rtol=0)
    total = (torque + cross(world.state.pos, force)).sum(1)
    torch.testing.assert_close(total, torch.zeros(64), atol=1e-4, rtol=0)
    assert (torque[:, :3] == 0).all()  # frictionless: discs get no contact torque


def test_disc_box_force_follows_the_penalty_law():
    spec = BodySpec.concat([circles(1, 0.1), boxes(1, 0.2, 0.1)])
    world = World(spec, WorldParams(contact_force=50.0), 1, "cpu")
    world.state.pos = torch.tensor([[[0.0, 0.0], [0.0, 0.15]]])  # disc below the box, overlap 0.05
    world.state.angle = torch.tensor([[0.0, 0.3]])
    force, torque = world.contacts(world.state)
    sd, normal, closest = point_box_distance(world.state.pos[0, 0], world.state.pos[0, 1], torch.tensor(0.3),
                                             torch.tensor([0.2, 0.1]))
    expected = -50.0 * penetration(sd - 0.1, 1e-3) * normal
    torch.testing.assert_close(force[0, 1], expected)
    torch.testing.assert_close(torque[0, 1], cross(closest - world.state.pos[0, 1], expected))


@pytest.mark.parametrize("offset, sign", [(0.06, -1.0), (-0.06, 1.0)])
def test_off_centre_push_turns_the_box_the_right_way(offset, sign):
    # A disc pushing +x above the box's centre gives a clockwise (negative) torque.
    spec = BodySpec.concat([circles(1, 0.05), boxes(1, 0.1, 0.1)])
    world = World(spec, WorldParams(dt=0.05, substeps=2, position_first=False), 1, "cpu")
    world.state.pos = torch.tensor([[[-0.3, offset], [0.0, 0.0]]])
    for _ in range(40):
        world.step(torch.tensor([[[1.0, 0.0], [0.0, 0.0]]]))
    assert sign * world.state.angle[0, 1] > 0.1


def test_head_on_centred_push_does_not_turn_the_box():
    spec = BodySpec.concat([circles(1, 0.05), boxes(1, 0.1, 0.1)])
    world = World(spec, WorldParams(dt=0.05, substeps=2, position_first=False), 1, "cpu")
    world.state.pos = torch.tensor([[[-0.3, 0.0], [0.0, 0.0]]])
    for _ in range(40):
        world.step(torch.tensor([[[1.0, 0.0], [0.0, 0.0]]]))
    assert world.state.pos[0, 1, 0] > 0.01  # it was pushed
    assert world.state.angle[0, 1].abs() < 1e-6
    assert world.state.pos[0, 1, 1].abs() < 1e-6


def test_static_bodies_never_move_under_any_contact():
    spec = BodySpec.concat([
        circles(1, 0.1, movable=False), boxes(1, 0.2, 0.1, movable=False),
        circles(3, 0.1), boxes(2, 0.1, 0.1),
    ])
    world = World(spec, WorldParams(dt=0.05, substeps=2, position_first=False), 8, "cpu")
    g = torch.Generator().manual_seed(3)
    world.state.pos = torch.rand(8, 7, 2, generator=g) * 0.6
    world.state.angle = torch.rand(8, 7, generator=g) * 6.0
    static_pos, static_angle = world.state.pos[:, :2].clone(), world.state.angle[:, :2].clone()
    for _ in range(50):
        world.step(torch.randn(8, 7, 2, generator=g) * 5.0, torch.randn(8, 7, generator=g))
    assert torch.equal(world.state.pos[:, :2], static_pos)
    assert torch.equal(world.state.angle[:, :2], static_angle)
    assert (world.state.pos[:, 2:] - 0.3).abs().max() > 0.3  # the others did move


def test_non_collidable_bodies_feel_nothing():
    ghosts = BodySpec.concat([circles(1, 0.2, collidable=False), boxes(1, 0.2, 0.2, collidable=False)])
    spec = BodySpec.concat([ghosts, circles(1, 0.2), boxes(1, 0.2, 0.2), boxes(1, 0.3, 0.3, movable=False)])
    world = World(spec, WorldParams(), 1, "cpu")
    world.state.pos = torch.zeros(1, 5, 2)  # everything overlaps everything
    force, torque = world.contacts(world.state)
    assert torch.equal(force[0, :2], torch.zeros(2, 2))
    assert torch.equal(torque[0, :2], torch.zeros(2))
    assert force[0, 2:4].abs().sum() > 0  # the collidable ones do push each other


@pytest.mark.parametrize("kind", ["disc", "box"])
def test_no_deep_penetration_at_rest_contact(kind):
    # A body pushed with a constant force onto a static box settles at depth ~ F / stiffness.
    pusher = circles(1, 0.1) if kind == "disc" else boxes(1, 0.1, 0.1)
    spec = BodySpec.concat([pusher, boxes(1, 0.5, 0.1, movable=False)])
    world = World(spec, WorldParams(dt=0.05, substeps=5, position_first=False, contact_force=200.0), 1, "cpu")
    world.state.pos = torch.tensor([[[0.05, 0.5], [0.0, 0.0]]])
    push = torch.tensor([[[0.0, -2.0], [0.0, 0.0]]])
    for _ in range(200):
        world.step(push)
    if kind == "disc":
        depth = 0.1 - point_box_distance(world.state.pos[0, 0], torch.zeros(2), torch.tensor(0.0),
                                         torch.tensor([0.5, 0.1]))[0]
    else:
        depth = 0.1 - box_corners(world.state.pos, world.state.angle, spec.half_extents)[0, 0, :, 1].min()
        assert world.state.angle[0, 0].abs() < 1e-3  # rests flush
    assert 0 < depth < 2.0 / 200.0 + 2e-3
    assert world.state.vel.abs().max() < 1e-3
