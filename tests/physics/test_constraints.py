"""Per-step rule inputs of the physics: locked bodies (free), bodies passing over walls (solid), grab joints."""

import math

import torch

from marl_envs.physics import BodySpec, Walls, World, WorldParams, boxes, circles
from marl_envs.physics.constraints import Grabs, apply_grabs

PARAMS = WorldParams(dt=0.1, substeps=2, position_first=False, contact_force=200.0, wall_contact_force=200.0)


def agent_and_box(num_envs=1, walls=None):
    spec = BodySpec.concat([circles(1, 0.15, rotates=True, max_speed=2.0), boxes(1, 0.3, 0.3, mass=2.0, max_speed=2.0)])
    return World(spec, PARAMS, num_envs, "cpu", walls=walls)


def test_a_locked_box_does_not_move_when_pushed_and_stops_the_pusher():
    world = agent_and_box()
    world.state.pos = torch.tensor([[[-0.6, 0.0], [0.0, 0.0]]])
    push = torch.tensor([[[3.0, 0.0], [0.0, 0.0]]])
    free = torch.tensor([[1.0, 0.0]])
    for _ in range(40):
        world.step(push, free=free)
    assert torch.equal(world.state.pos[0, 1], torch.tensor([0.0, 0.0]))
    assert world.state.pos[0, 0, 0] < -0.4  # the agent rests against the box face (at -0.45)
    unlocked = agent_and_box()
    unlocked.state.pos = torch.tensor([[[-0.6, 0.0], [0.0, 0.0]]])
    for _ in range(40):
        unlocked.step(push)
    assert unlocked.state.pos[0, 1, 0] > 0.5  # the same push moves a free box


def test_a_body_that_is_not_solid_passes_over_a_wall_and_a_solid_one_is_stopped():
    wall = Walls.from_segments([[((0.0, -1.0), (0.0, 1.0))]] * 2, 0.05)
    spec = circles(1, 0.15, rotates=True, max_speed=2.0)
    world = World(spec, PARAMS, 2, "cpu", walls=wall)
    world.state.pos = torch.tensor([[[-0.5, 0.0]], [[-0.5, 0.0]]])
    solid = torch.tensor([[1.0], [0.0]])
    for _ in range(30):
        world.step(torch.tensor([[[3.0, 0.0]]]).expand(2, 1, 2), solid=solid)
    assert world.state.pos[0, 0, 0] < -0.15  # stopped by the wall
    assert world.state.pos[1, 0, 0] > 0.3  # went over it


def grab_world(offset=(0.5, 0.0)):
    world = agent_and_box()
    world.state.pos = torch.tensor([[[0.0, 0.0], list(offset)]])
    grabs = Grabs(holders=torch.tensor([0]), target=torch.tensor([[1]]), offset=torch.tensor([[list(offset)]]),
                  rel_angle=torch.zeros(1, 1))
    return world, grabs


def test_grab_drags_the_box_with_the_agent_and_release_frees_it():
    world, grabs = grab_world()
    pull = torch.tensor([[[-2.0, 0.0], [0.0, 0.0]]])
    for _ in range(20):
        world.step(pull, grabs=grabs)
    agent, box = world.state.pos[0]
    assert agent[0] < -0.5  # the agent moved
    assert torch.allclose(box - agent, torch.tensor([0.5, 0.0]), atol=0.03)  # the box followed at the grab offset
    box_before = box.clone()
    for _ in range(20):
        world.step(pull)  # released: the box coasts to rest while the agent walks away
    gap = world.state.pos[0, 1, 0] - world.state.pos[0, 0, 0]
    assert gap > 0.6 and world.state.pos[0, 1, 0] < box_before[0]


def test_momentum_sharing_conserves_momentum():
    world, grabs = grab_world()
    state = world.state
    state.vel = torch.tensor([[[1.0, 0.5], [0.0, 0.0]]])
    mass = world.spec.mass
    after = apply_grabs(state, grabs, mass, h=0.05)
    before_momentum = (state.vel[0] * mass[:, None]).sum(0)
    after_momentum = (after.vel[0] * mass[:, None]).sum(0)
    assert torch.allclose(before_momentum, after_momentum, atol=1e-6)  # no pose error -> exact conservation
    assert torch.allclose(after.vel[0, 0], after.vel[0, 1])  # both move with the common velocity


def test_a_turning_agent_swings_the_held_box_round():
    world, grabs = grab_world()
    spin = torch.zeros(1, 2)
    spin[0, 0] = 0.01  # the agent disc has a small inertia (0.011)
    for _ in range(30):
        world.step(torch.zeros(1, 2, 2), spin, grabs=grabs)
    agent_angle = float(world.state.angle[0, 0])
    assert agent_angle > 0.4
    rel = world.state.pos[0, 1] - world.state.pos[0, 0]
    assert abs(math.atan2(float(rel[1]), float(rel[0])) - agent_angle) < 0.15
    assert abs(float(world.state.angle[0, 1]) - agent_angle) < 0.15


def test_tip_walls_limits_endpoint_queries_to_the_given_slots():
    walls = Walls.from_segments([[((-1.0, -1.8), (1.0, -1.8)), ((0.0, 0.5), (0.0, 1.5))]], 0.05)
    spec = BodySpec.concat([circles(1, 0.15), boxes(1, 0.3, 0.3, mass=2.0)])
    worlds = {str(t): World(spec, PARAMS, 1, "cpu", walls=walls, tip_walls=t) for t in (None, [1], [0])}
    assert worlds["None"].contacts.rigid.num_box_queries - worlds["[1]"].contacts.rigid.num_box_queries == 2
    # A box pushed along wall 1 onto its free end (a door jamb): only that end's query can stop it,
    # since none of the box's corners meets the wall.
    for tips, world in worlds.items():
        world.state.pos = torch.tensor([[[-1.5, -1.5], [0.0, -0.2]]])
        for _ in range(30):
            world.step(torch.tensor([[[0.0, 0.0], [0.0, 4.0]]]))
        stopped = world.state.pos[0, 1, 1] < 0.3
        assert stopped == (tips != "[0]"), tips
