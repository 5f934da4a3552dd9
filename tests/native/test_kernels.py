"""The numba CPU kernels (``marl_envs.native``) against the torch reference they replace.

Each kernel must give the reference's answer on scenes built to exercise its branches (rays
from inside rectangles, invalid slots holding NaN, per-world and shared ``ignore`` masks, grab
joints, locked bodies, elevated agents, floor friction), and the same answer whatever the
thread count.
"""

import math
import subprocess
import sys

import pytest
import torch

from marl_envs import make_batched
from marl_envs.physics import accel
from marl_envs.sensors import Obstacles, lidar, sight_clip, visible

pytest.importorskip("numba")


def _scene(b: int, m: int, generator: torch.Generator) -> Obstacles:
    """Random rectangles, about one in five invalid and holding NaN geometry."""
    center = torch.rand(b, m, 2, generator=generator) * 4 - 2
    angle = torch.rand(b, m, generator=generator) * 2 * math.pi
    half = torch.rand(b, m, 2, generator=generator) * 0.5 + 0.02
    valid = torch.rand(b, m, generator=generator) > 0.2
    center = torch.where(valid.unsqueeze(-1), center, math.nan)
    return Obstacles(center, torch.stack((angle.cos(), angle.sin()), -1), half, valid)


@pytest.mark.parametrize("num_rays,max_range", [(30, 4.0), (7, 2.5), (16, math.inf)])
def test_lidar_kernel_matches_the_reference(num_rays, max_range):
    g = torch.Generator().manual_seed(num_rays)
    b, a = 300, 3
    obstacles = _scene(b, 9, g)
    origin = torch.rand(b, a, 2, generator=g) * 4 - 2
    origin[:, 0] = torch.where(obstacles.valid[:, :1], obstacles.center[:, 0], origin[:, 0])  # inside a rectangle
    heading = torch.rand(b, a, generator=g) * 2 * math.pi
    native = lidar(origin, heading, obstacles, num_rays, max_range)
    with accel.disabled():
        reference = lidar(origin, heading, obstacles, num_rays, max_range)
    assert (native[obstacles.valid[:, 0], 0] == 0).all()  # origins inside see nothing
    assert (native < max_range).float().mean() > 0.3  # the scene is not empty
    torch.testing.assert_close(native, reference, atol=2e-4, rtol=1e-4)


@pytest.mark.parametrize("per_world_ignore", [False, True])
@pytest.mark.parametrize("half_angle", [math.radians(67.5), math.pi])
def test_visible_kernel_matches_the_reference(per_world_ignore, half_angle):
    g = torch.Generator().manual_seed(7)
    b, a, t, m = 400, 3, 6, 8
    obstacles = _scene(b, m, g)
    viewer = torch.rand(b, a, 2, generator=g) * 4 - 2
    target = torch.rand(b, t, 2, generator=g) * 4 - 2
    heading = torch.rand(b, a, generator=g) * 2 * math.pi
    shape = (b, a, t, m) if per_world_ignore else (a, t, m)
    ignore = torch.rand(shape, generator=g) < 0.3
    see_over = torch.rand(b, a, t, generator=g) < 0.1
    clip = sight_clip(torch.rand(b, a, generator=g) < 0.4, torch.rand(b, t, generator=g) < 0.4, 0.5)
    for kwargs in ({}, {"ignore": ignore, "see_over": see_over}, {"ignore": ignore, "clip": clip}):
        native = visible(viewer, heading, target, obstacles, half_angle, **kwargs)
        with accel.disabled():
            reference = visible(viewer, heading, target, obstacles, half_angle, **kwargs)
        assert 0.05 < native.float().mean() < 0.95
        assert torch.equal(native, reference)


def _rule_inputs(scenario):
    a = scenario.config.num_agents
    frozen = scenario.in_prep.unsqueeze(1) & scenario.is_seeker.unsqueeze(0)
    free = torch.cat((~frozen, (scenario.lock_team < 0) & scenario.present), dim=1).float()
    solid = torch.cat((1.0 - scenario.elevated.float(), torch.ones_like(free[:, a:])), dim=1)
    return free, solid


def test_physics_kernel_matches_the_reference_with_grabs_locks_and_elevation():
    env = make_batched("hide_and_seek_v1", num_envs=256, seed=3, map="random_rooms")
    env.reset(seed=3)
    g = torch.Generator().manual_seed(3)
    scenario = env.scenario
    for _ in range(25):  # scripted play: boxes get grabbed, locked and pushed around
        env.step(scenario.heuristic_action())
    scenario.elevated[::5, 0] = True  # some agents pass over boxes and walls
    world = scenario.world
    assert (scenario.grabs.target >= 0).any() and (scenario.lock_team >= 0).any()
    action = torch.randint(0, 11, (256, scenario.config.num_agents, 5), generator=g) % torch.tensor([11, 11, 11, 2, 2])
    force, torque = scenario.apply_actions(action)
    free, solid = _rule_inputs(scenario)
    native = accel.kernel("physics", force)(world, world.state, force, torque, free, solid, scenario.grabs)
    reference = world.advance(world.state, force, torque, free=free, solid=solid, grabs=scenario.grabs)
    moved = (reference.pos - world.state.pos).abs().amax()
    assert moved > 1e-3
    for name in ("pos", "vel", "angle", "ang_vel"):  # 1e-3: the projection's branches (see the test below)
        torch.testing.assert_close(getattr(native, name), getattr(reference, name), atol=1e-3, rtol=1e-4)


@pytest.mark.parametrize("map_name", ["quadrant", "random_rooms"])
def test_physics_kernel_matches_the_reference_in_the_projection(map_name):
    """Deep overlaps everywhere (boxes in boxes, bodies in and across walls, elevated agents at the fence,
    locked boxes): the projection's box pairs, walls, door jambs and fence run on both paths alike."""
    env = make_batched("hide_and_seek_v1", num_envs=256, seed=3, map=map_name)
    env.reset(seed=3)
    scenario, g = env.scenario, torch.Generator().manual_seed(0)
    world, a, n = scenario.world, scenario.config.num_agents, scenario.world.spec.num_bodies
    s = world.state
    s.pos[:] = (torch.rand(256, n, 2, generator=g) * 2 - 1) * (scenario.config.half_size + 0.1)
    s.pos[:, a + 1] = s.pos[:, a] + (torch.rand(256, 2, generator=g) - 0.5) * 0.6  # two boxes overlapping
    s.angle[:] = torch.rand(256, n, generator=g) * 2 * math.pi
    s.vel[:] = torch.randn(256, n, 2, generator=g)
    s.ang_vel[:] = torch.randn(256, n, generator=g)
    scenario.elevated[::3, 0] = True
    scenario.lock_team[::7, 0] = 0
    force = torch.randn(256, n, 2, generator=g) * 5
    torque = torch.randn(256, n, generator=g) * 0.1
    free, solid = _rule_inputs(scenario)
    native = accel.kernel("physics", force)(world, s, force, torque, free, solid, scenario.grabs)
    reference = world.advance(s, force, torque, free=free, solid=solid, grabs=scenario.grabs)
    world.projection = None  # the same step without it: the scene does exercise the projection
    unprojected = world.advance(s, force, torque, free=free, solid=solid, grabs=scenario.grabs)
    assert (unprojected.pos - reference.pos).abs().max() > 0.05
    # Two near-equal least-overlap axes (a square box has two equal half extents) or deepest corners are a
    # branch that float rounding can take the other way on one path: in this scene of deep random overlaps,
    # 2% of the worlds may differ (3 of 256 did, random_rooms); the others agree to rounding.
    differs = torch.zeros(256, dtype=torch.bool)
    for name in ("pos", "vel", "angle", "ang_vel"):
        gap = (getattr(native, name) - getattr(reference, name)).abs()
        differs |= (gap > 1e-4 + 1e-4 * getattr(reference, name).abs()).flatten(1).any(1)
    assert differs.float().mean() <= 0.02, f"{int(differs.sum())} of 256 worlds differ"


def test_physics_kernel_matches_the_reference_with_floor_friction():
    env = make_batched("transport_v0", num_envs=128, seed=1)
    env.reset(seed=1)
    world = env.scenario.world
    assert world.integrator.has_friction and world.contacts.rigid is not None
    g = torch.Generator().manual_seed(1)
    for _ in range(5):
        force = torch.randn(world.state.pos.shape, generator=g) * 5
        native = accel.kernel("physics", force)(world, world.state, force, None, None, None, None)
        reference = world.advance(world.state, force, None)
        for name in ("pos", "vel", "angle", "ang_vel"):
            torch.testing.assert_close(getattr(native, name), getattr(reference, name), atol=1e-4, rtol=1e-4)
        world.state = reference


def _with_threads(threads: int, fn):
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return fn()
    finally:
        torch.set_num_threads(previous)


def test_kernel_results_do_not_depend_on_the_thread_count():
    """Worlds are split across threads, never a world's own work: 1 and 2 threads agree bit for bit on the
    state and on sight; lidar ranges to float rounding (the one-thread call runs ``rows`` compiled on its own,
    which LLVM may round differently from the copy inside the parallel function)."""
    env = make_batched("hide_and_seek_v1", num_envs=512, seed=5)
    env.reset(seed=5)
    scenario = env.scenario
    for _ in range(10):
        env.step(scenario.heuristic_action())
    world, s, a = scenario.world, scenario.world.state, scenario.config.num_agents
    force, torque = scenario.apply_actions(scenario.heuristic_action())
    free, solid = _rule_inputs(scenario)
    occluders = scenario._occluders()
    ignore = scenario._ignore_mask(scenario._wall_obstacles.num_obstacles)

    def exact():
        state = accel.kernel("physics", force)(world, s, force, torque, free, solid, scenario.grabs)
        seen = visible(s.pos[:, :a], s.angle[:, :a], s.pos, occluders, scenario.half_angle, ignore)
        return torch.cat((state.pos.flatten(), state.vel.flatten(), state.angle.flatten(), seen.float().flatten()))

    def ranges():
        return lidar(s.pos[:, :a], s.angle[:, :a], occluders, 30, 4.0)

    assert torch.equal(_with_threads(1, exact), _with_threads(2, exact))
    torch.testing.assert_close(_with_threads(1, ranges), _with_threads(2, ranges), rtol=0, atol=1e-5)


def test_the_reference_path_is_chosen_where_kernels_do_not_apply():
    x = torch.zeros(3)
    assert accel.kernel("lidar", x) is not None
    assert accel.kernel("lidar", x.double()) is None
    assert accel.kernel("no_such_kernel", x) is None
    with accel.disabled():
        assert accel.kernel("lidar", x) is None
    assert accel.kernel("lidar", x) is not None
    code = "import torch, marl_envs\nfrom marl_envs.physics import accel\nprint(accel.kernel('lidar', torch.zeros(1)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={"MARL_ENVS_NATIVE": "0", "PATH": ""})
    assert result.returncode == 0 and result.stdout.strip() == "None", result.stderr[-2000:]


@pytest.mark.parametrize("kwargs", [{}, {"map": "random_rooms", "num_hiders": 3, "num_seekers": 2},
                                    {"lidar_rays": 0, "num_ramps": 0, "num_hiders": 1, "num_seekers": 1}])
def test_observation_and_state_kernels_are_bit_exact(kwargs):
    env = make_batched("hide_and_seek_v1", num_envs=128, seed=2, **kwargs)
    env.reset(seed=2)
    scenario = env.scenario
    for _ in range(scenario.config.prep_steps + 5):  # past the preparation phase: objects locked, agents seen
        env.step(scenario.heuristic_action())
    sensed = scenario.sense()
    assert sensed.see_agents.any() and sensed.see_objects.any() and not sensed.see_objects.all()
    native, native_state = scenario.observe(sensed), scenario.global_state()
    with accel.disabled():
        reference, reference_state = scenario.observe(sensed), scenario.global_state()
    assert torch.equal(native, reference) and torch.equal(native_state, reference_state)


def test_reach_and_elevation_kernels_match_the_reference():
    from marl_envs.scenarios.hide_and_seek import manipulation as rules

    env = make_batched("hide_and_seek_v1", num_envs=256, seed=4, map="random_rooms")
    env.reset(seed=4)
    scenario = env.scenario
    for _ in range(60):  # seekers fetch ramps and climb
        env.step(scenario.heuristic_action())
    c, s = scenario.config, scenario.world.state
    a, k = c.num_agents, c.num_boxes
    scenario.elevated[::4, 1] = True  # agents on top of boxes or walls, some of them left without support
    s.pos[1::4, 2] = s.pos[1::4, a + k]  # an agent at a ramp's centre
    scenario.elevated[1::4, 2] = True  # and up on it (supported: some answers stay true whatever the play did)

    def rules_now():
        distance = rules.reach_distance(s.pos[:, :a], 0.15, s.pos[:, a:], s.angle[:, a:], scenario.obj_half)
        elevated = rules.update_elevation(scenario.elevated, s.pos[:, :a], scenario.agent_force, 0.15,
                                          s.pos[:, a + k:], s.angle[:, a + k:], scenario.ramp_half,
                                          distance[..., :k] + 0.15, scenario.present[:, :k], scenario.layout.walls)
        return distance, elevated

    native = rules_now()
    with accel.disabled():
        reference = rules_now()
    torch.testing.assert_close(native[0], reference[0], atol=1e-5, rtol=1e-5)
    assert torch.equal(native[1], reference[1])
    assert reference[1].any() and not reference[1].all()


def test_lock_and_grab_kernels_match_the_reference():
    from marl_envs.physics.constraints import Grabs
    from marl_envs.scenarios.hide_and_seek import manipulation as rules

    g = torch.Generator().manual_seed(9)
    b, a, m = 2000, 4, 3
    distance = torch.randint(0, 4, (b, a, m), generator=g).float() * 0.1  # ties: the lowest index wins
    reachable = torch.rand(b, a, m, generator=g) < 0.5
    holdable = reachable | (torch.rand(b, a, m, generator=g) < 0.3)
    press, want = torch.rand(b, a, generator=g) < 0.5, torch.rand(b, a, generator=g) < 0.6
    lock_team = torch.randint(-1, 2, (b, m), generator=g)
    team = torch.tensor([0, 0, 1, 1])
    grabs = Grabs(holders=torch.arange(a), target=torch.where(torch.rand(b, a, generator=g) < 0.4,
                                                              torch.randint(a, a + m, (b, a), generator=g), -1),
                  offset=torch.randn(b, a, 2, generator=g), rel_angle=torch.randn(b, a, generator=g))
    pos, angle = torch.randn(b, a + m, 2, generator=g), torch.randn(b, a + m, generator=g)

    def rules_now():
        locks = rules.update_locks(lock_team, press, reachable, distance, team)
        held = rules.update_grabs(grabs, want, reachable, holdable, distance, a, pos[:, :a], angle[:, :a], pos[:, a:],
                                  angle[:, a:])
        return locks, held

    (locks, held) = rules_now()
    with accel.disabled():
        ref_locks, ref_held = rules_now()
    assert torch.equal(locks, ref_locks) and (locks != lock_team).any()
    assert torch.equal(held.target, ref_held.target) and (held.target != grabs.target).any()
    torch.testing.assert_close(held.offset, ref_held.offset, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(held.rel_angle, ref_held.rel_angle, atol=1e-6, rtol=1e-6)


def test_a_kernel_that_fails_to_load_warns_once_and_the_reference_serves(monkeypatch):
    def missing():
        raise ImportError("No module named 'numba'")

    def broken():
        raise RuntimeError("cannot cache function: no locator available")

    for name, loader in (("missing", missing), ("missing_too", missing), ("broken", broken)):
        monkeypatch.setitem(accel._LOADERS, name, loader)
        monkeypatch.delitem(accel._LOADED, name, raising=False)
    monkeypatch.setitem(accel._state, "warned_missing", False)
    with pytest.warns(accel.KernelUnavailableWarning, match="torch reference path") as record:
        assert accel.kernel("missing", torch.zeros(1)) is None
        assert accel.kernel("missing_too", torch.zeros(1)) is None  # numba missing is said once, not per kernel
        assert accel.kernel("broken", torch.zeros(1)) is None
    assert len(record) == 2 and "pip install numba" in str(record[0].message)
    assert "could not be loaded" in str(record[1].message)
    for name in ("missing", "missing_too", "broken"):
        accel._LOADED.pop(name)
