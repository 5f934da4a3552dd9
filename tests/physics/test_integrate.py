"""Integrator: free motion, damping, speed cap, arena clamp, the two Euler orders, rotation."""

import pytest
import torch

from marl_envs.physics import BodySpec, World, WorldParams, circles


def make_world(params, spec=None, num_envs=1):
    # Non-collidable discs: only the integrator acts.
    spec = spec if spec is not None else circles(3, 0.1, mass=2.0, collidable=False, rotates=True)
    return World(spec, params, num_envs, "cpu")


def test_free_motion_without_force_or_damping_is_linear():
    world = make_world(WorldParams(dt=0.1, substeps=3, damping=0.0, position_first=False))
    pos0 = torch.tensor([[[0.0, 0.0], [1.0, -1.0], [2.0, 0.5]]])
    vel = torch.tensor([[[1.0, 0.0], [-0.5, 0.25], [0.0, -2.0]]])
    world.state.pos, world.state.vel = pos0.clone(), vel.clone()
    for _ in range(20):
        world.step(torch.zeros(1, 3, 2))
    torch.testing.assert_close(world.state.pos, pos0 + vel * 2.0)
    torch.testing.assert_close(world.state.vel, vel)


@pytest.mark.parametrize("position_first", [True, False])
def test_damping_decays_speed_geometrically_per_substep(position_first):
    params = WorldParams(dt=0.1, substeps=4, damping=0.1, position_first=position_first)
    world = make_world(params)
    world.state.vel = torch.tensor([[[1.0, 2.0], [0.0, -3.0], [0.5, 0.5]]])
    v0 = world.state.vel.clone()
    for _ in range(5):
        world.step(torch.zeros(1, 3, 2))
    torch.testing.assert_close(world.state.vel, v0 * 0.9 ** 20)


def test_speed_cap_is_respected():
    spec = circles(2, 0.1, collidable=False, max_speed=0.7)
    world = make_world(WorldParams(dt=0.1, substeps=2, damping=0.0), spec)
    force = torch.tensor([[[100.0, 50.0], [-3.0, 0.0]]])
    for _ in range(30):
        world.step(force)
        assert (world.state.vel.norm(dim=-1) <= 0.7 + 1e-6).all()
    torch.testing.assert_close(world.state.vel.norm(dim=-1), torch.full((1, 2), 0.7))


def test_arena_clamp_keeps_positions_inside():
    world = make_world(WorldParams(dt=0.1, damping=0.0, arena_half_size=1.0))
    world.state.vel = torch.tensor([[[5.0, 0.0], [-5.0, 5.0], [0.1, 0.0]]])
    for _ in range(10):
        world.step(torch.zeros(1, 3, 2))
    assert world.state.pos.abs().max() <= 1.0
    torch.testing.assert_close(world.state.pos[0, :2], torch.tensor([[1.0, 0.0], [-1.0, 1.0]]))


def test_position_first_and_semi_implicit_orders_differ_as_documented():
    # From rest under force F: MPE's order moves with the old velocity (0) in the first substep,
    # semi-implicit moves with the new one, F h / m, by F h^2 / m.
    force = torch.tensor([[[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]]])
    first = make_world(WorldParams(dt=0.1, position_first=True))
    semi = make_world(WorldParams(dt=0.1, position_first=False))
    first.step(force)
    semi.step(force)
    torch.testing.assert_close(first.state.pos, torch.zeros(1, 3, 2))
    torch.testing.assert_close(semi.state.pos, force * 0.1 * 0.1 / 2.0)
    torch.testing.assert_close(first.state.vel, semi.state.vel)


def test_mpe_order_reproduces_hand_computed_trajectory():
    # m = 2, F = (1, 0), damping 0.25, dt 0.1, v0 = (0.5, 0):
    # x1 = 0 + 0.5 * 0.1 = 0.05;          v1 = 0.5 * 0.75 + 1 / 2 * 0.1 = 0.425
    # x2 = 0.05 + 0.425 * 0.1 = 0.0925;   v2 = 0.425 * 0.75 + 0.05 = 0.36875
    world = make_world(WorldParams(), circles(1, 0.1, mass=2.0))
    world.state.vel = torch.tensor([[[0.5, 0.0]]])
    force = torch.tensor([[[1.0, 0.0]]])
    world.step(force)
    torch.testing.assert_close(world.state.pos, torch.tensor([[[0.05, 0.0]]]))
    torch.testing.assert_close(world.state.vel, torch.tensor([[[0.425, 0.0]]]))
    world.step(force)
    torch.testing.assert_close(world.state.pos, torch.tensor([[[0.0925, 0.0]]]))
    torch.testing.assert_close(world.state.vel, torch.tensor([[[0.36875, 0.0]]]))


def test_torque_turns_only_rotating_movable_bodies():
    spec = BodySpec.concat([
        circles(1, 0.1, collidable=False, rotates=True),
        circles(1, 0.1, collidable=False, rotates=False),
        circles(1, 0.1, collidable=False, rotates=True, movable=False),
    ])
    world = make_world(WorldParams(dt=0.1, angular_damping=0.0, position_first=False), spec)
    torque = torch.ones(1, 3)
    world.step(torch.zeros(1, 3, 2), torque)
    inertia = 0.5 * 1.0 * 0.1 ** 2
    torch.testing.assert_close(world.state.ang_vel, torch.tensor([[0.1 / inertia, 0.0, 0.0]]))
    torch.testing.assert_close(world.state.angle, torch.tensor([[0.01 / inertia, 0.0, 0.0]]))
