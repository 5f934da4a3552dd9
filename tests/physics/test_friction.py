"""Coulomb floor friction: static hold below the threshold, constant deceleration, spin braking."""

import math

import pytest
import torch

from marl_envs.physics import World, WorldParams, boxes, circles
from marl_envs.physics.shapes import ShapeKind, mean_footprint_radius

NO_DAMPING = WorldParams(dt=0.1, substeps=2, damping=0.0, angular_damping=0.0, position_first=False)


def crate(friction=3.0, mass=2.0):
    return World(boxes(1, 0.2, 0.1, mass=mass, collidable=False, friction=friction), NO_DAMPING, 1, "cpu")


@pytest.mark.parametrize("push", [0.5, 3.0, 5.99])
def test_a_push_below_mass_times_friction_does_not_move_the_body(push):
    world = crate()  # threshold 2 * 3 = 6
    for _ in range(30):
        world.step(torch.tensor([[[0.6 * push, -0.8 * push]]]))
    assert torch.equal(world.state.pos, torch.zeros(1, 1, 2))
    assert torch.equal(world.state.vel, torch.zeros(1, 1, 2))


def test_a_push_above_the_threshold_accelerates_at_the_net_force_over_mass():
    world = crate()
    world.step(torch.tensor([[[10.0, 0.0]]]))
    # (10 - 2 * 3) / 2 = 2 per second squared for dt = 0.1
    torch.testing.assert_close(world.state.vel, torch.tensor([[[0.2, 0.0]]]))


def test_a_sliding_body_decelerates_at_friction_and_stops_without_reversing():
    world = crate(friction=2.0)
    world.state.vel = torch.tensor([[[0.6, 0.8]]])  # speed 1: stops after 0.5 s
    world.step(torch.zeros(1, 1, 2))
    torch.testing.assert_close(world.state.vel, torch.tensor([[[0.6, 0.8]]]) * 0.8)  # 1 -> 0.8 along the same line
    for _ in range(10):
        world.step(torch.zeros(1, 1, 2))
    assert torch.equal(world.state.vel, torch.zeros(1, 1, 2))
    # semi-implicit substeps of h = 0.05 at speeds 0.9, 0.8, ..., 0: h * 4.5 (v^2 / (2 a) = 0.25 as h -> 0)
    assert world.state.pos.norm().item() == pytest.approx(0.225, rel=1e-5)


def test_spin_is_braked_by_the_footprint_torque():
    world = crate(friction=1.0, mass=2.0)
    world.state.ang_vel = torch.tensor([[3.0]])
    lever = mean_footprint_radius(ShapeKind.BOX, 0.0, 0.2, 0.1)
    inertia = 2.0 * (0.2**2 + 0.1**2) / 3.0
    angular_deceleration = 2.0 * 1.0 * lever / inertia
    world.step(torch.zeros(1, 1, 2))
    assert world.state.ang_vel.item() == pytest.approx(3.0 - angular_deceleration * 0.1, rel=1e-5)
    for _ in range(100):
        world.step(torch.zeros(1, 1, 2))
    assert world.state.ang_vel.item() == 0.0


def test_mean_footprint_radius_matches_closed_forms():
    assert mean_footprint_radius(ShapeKind.CIRCLE, 0.3, 0.0, 0.0) == pytest.approx(0.2)
    a = 0.5  # square of half side a: a (sqrt 2 + ln(1 + sqrt 2)) / 3
    want = a * (math.sqrt(2) + math.log(1 + math.sqrt(2))) / 3
    assert mean_footprint_radius(ShapeKind.BOX, 0.0, a, a) == pytest.approx(want, rel=1e-3)


def test_frictionless_bodies_are_untouched_and_bad_friction_is_refused():
    world = World(circles(2, 0.1, collidable=False), NO_DAMPING, 1, "cpu")
    assert not world.integrator.has_friction
    for bad in (-1.0, math.nan, math.inf, True, "1"):
        with pytest.raises(ValueError, match="friction"):
            boxes(1, 0.2, 0.2, friction=bad)
