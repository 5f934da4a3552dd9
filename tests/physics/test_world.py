"""World: a batch equals a loop over single worlds, determinism, purity, model selection."""

import torch

from marl_envs.physics import BodySpec, BodyState, Walls, World, WorldParams, boxes, circles

PARAMS = WorldParams(dt=0.05, substeps=2, position_first=False, wall_contact_force=400.0)
B = 4


def mixed_spec():
    return BodySpec.concat([
        circles(3, 0.08, max_speed=1.5, rotates=True),
        circles(1, 0.1, movable=False),
        circles(1, 0.05, collidable=False),
        boxes(2, 0.12, 0.06, max_speed=1.0),
        boxes(1, 0.2, 0.05, movable=False),
    ])


def random_walls(g):
    """A room in every world plus 0-2 random inner walls (W = 6 slots)."""
    room = [((-1.0, -1.0), (1.0, -1.0)), ((1.0, -1.0), (1.0, 1.0)), ((1.0, 1.0), (-1.0, 1.0)),
            ((-1.0, 1.0), (-1.0, -1.0))]
    worlds = []
    for b in range(B):
        inner = (torch.rand(b % 3, 2, 2, generator=g) * 1.6 - 0.8).tolist()
        worlds.append(room + [tuple(map(tuple, seg)) for seg in inner])
    return Walls.from_segments(worlds, 0.03, num_walls=6)


def scene(seed=0):
    g = torch.Generator().manual_seed(seed)
    spec = mixed_spec()
    n = spec.num_bodies
    state = BodyState(
        pos=torch.rand(B, n, 2, generator=g) * 1.4 - 0.7,
        vel=torch.randn(B, n, 2, generator=g) * 0.3,
        angle=torch.rand(B, n, generator=g) * 6.0,
        ang_vel=torch.zeros(B, n),
    )
    forces = torch.randn(50, B, n, 2, generator=g) * 2.0
    torques = torch.randn(50, B, n, generator=g) * 0.05
    return spec, state, random_walls(g), forces, torques


def run(spec, state, walls, forces, torques):
    world = World(spec, PARAMS, state.pos.shape[0], "cpu", walls=walls)
    world.state = state.clone()
    trajectory = []
    for force, torque in zip(forces, torques, strict=True):
        world.step(force, torque)
        trajectory.append(world.state.clone())
    return trajectory


def test_batched_step_equals_loop_over_single_worlds():
    spec, state, walls, forces, torques = scene()
    batched = run(spec, state, walls, forces, torques)
    assert (batched[-1].pos - state.pos).abs().max() > 0.1  # things happened
    for b in range(B):
        single_walls = Walls(walls.start[b : b + 1], walls.end[b : b + 1], walls.mask[b : b + 1], walls.half_thickness)
        single = run(spec, state.index(b), single_walls, forces[:, b : b + 1], torques[:, b : b + 1])
        for step, (one, many) in enumerate(zip(single, batched, strict=True)):
            for name in ("pos", "vel", "angle", "ang_vel"):
                torch.testing.assert_close(
                    getattr(one, name)[0], getattr(many, name)[b], atol=1e-5, rtol=1e-5,
                    msg=lambda m, b=b, step=step, name=name: f"world {b}, step {step}, {name}: {m}",
                )


def test_same_inputs_give_identical_tensors():
    first = run(*scene(seed=1))
    second = run(*scene(seed=1))
    for a, b in zip(first, second, strict=True):
        for name in ("pos", "vel", "angle", "ang_vel"):
            assert torch.equal(getattr(a, name), getattr(b, name))


def test_advance_is_pure():
    spec, state, walls, forces, torques = scene()
    world = World(spec, PARAMS, B, "cpu", walls=walls)
    world.state = state.clone()
    before = world.state.clone()
    nxt = world.advance(world.state, forces[0], torques[0])
    for name in ("pos", "vel", "angle", "ang_vel"):
        assert torch.equal(getattr(world.state, name), getattr(before, name))
    assert not torch.equal(nxt.pos, before.pos)


def test_reset_where_replaces_only_masked_worlds():
    spec, state, walls, _, _ = scene()
    world = World(spec, PARAMS, B, "cpu", walls=walls)
    world.state = state.clone()
    fresh = BodyState.zeros(B, spec.num_bodies, torch.device("cpu"))
    world.reset_where(torch.tensor([True, False, False, True]), fresh)
    assert torch.equal(world.state.pos[[0, 3]], torch.zeros(2, spec.num_bodies, 2))
    assert torch.equal(world.state.pos[[1, 2]], state.pos[[1, 2]])


def test_only_needed_contact_models_run():
    discs = World(circles(3, 0.1), WorldParams(), 2, "cpu")
    assert discs.contacts.circles is not None and discs.contacts.rigid is None and discs.walls is None
    mixed = World(mixed_spec(), PARAMS, B, "cpu", walls=Walls.empty(B, 2, 0.03))
    rigid = mixed.contacts.rigid
    # Disc-box: 3 movable discs x 3 boxes + the static disc x 2 movable boxes; 3 box pairs x 8
    # corners; 2 movable boxes x 2W wall endpoints. The ghost disc takes part in nothing.
    assert rigid.num_box_queries == (3 * 3 + 1 * 2) + 3 * 8 + 2 * (2 * 2)
    assert rigid.num_wall_points == 3 + 2 * 4  # movable collidable disc centres + box corners
    ghosts = World(circles(2, 0.1, collidable=False), WorldParams(), 1, "cpu", walls=Walls.empty(1, 1, 0.1))
    assert ghosts.contacts.circles is None and ghosts.contacts.rigid is None
