"""Spawning: every rule holds in every world, determinism, redraws, and clear errors for impossible requests.

The rules are checked with plain geometry (``point_segment_distance`` on every wall, all pairs),
not with the fast projections ``sample_positions`` uses. Every test runs twice: through the CPU
kernel (``marl_envs.native.spawn``) and through the torch reference (the GPU path): the
``compute_path`` fixture of ``tests/conftest.py``.
"""
import math

import pytest
import torch

from marl_envs.physics import Walls
from marl_envs.physics.geometry import point_segment_distance
from marl_envs.scenarios.hide_and_seek.layout import generate
from marl_envs.scenarios.spawn import SPAWN_GAP, sample_angles, sample_positions

L, B = 2.0, 1024
ARENA = torch.tensor([-L, -L, L, L])
NONE = torch.tensor([math.nan] * 4)
# Hide-and-seek-like: 2 hiders in the room, 2 seekers outside it, 2 boxes and a ramp anywhere.
RADII = [0.15, 0.15, 0.15, 0.15, 0.43, 0.43, 0.4]
IN_ROOM, OUT_OF_ROOM = [0, 1], [2, 3]


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def rect_distance(points, rects):
    """Distance from points (..., 2) to rectangles (..., 4), 0 inside."""
    outside = torch.maximum(rects[..., :2] - points, points - rects[..., 2:]).clamp_min(0.0)
    return torch.linalg.vector_norm(outside, dim=-1)


def scenario(kind, num_envs=B, seed=0):
    lay = generate(kind, num_envs, gen(seed + 100), "cpu")
    regions = ARENA.repeat(num_envs, len(RADII), 1)
    exclude = NONE.repeat(num_envs, len(RADII), 1)
    if kind != "open":
        regions[:, IN_ROOM] = lay.room[:, None]
        exclude[:, OUT_OF_ROOM] = lay.room[:, None]
    return lay, regions, exclude


def assert_valid(pos, radii, regions, walls=None, exclude=None):
    r = torch.tensor(radii)
    inside = (pos - r[:, None] >= regions[..., :2] - 1e-6) & (pos + r[:, None] <= regions[..., 2:] + 1e-6)
    assert inside.all(), "an entity sticks out of its region"
    if exclude is not None:
        active = (exclude[..., 2:] > exclude[..., :2]).all(-1)
        assert (~active | (rect_distance(pos, exclude) >= r - 1e-6)).all(), "an entity overlaps its exclude"
    pair = torch.linalg.vector_norm(pos[:, :, None] - pos[:, None], dim=-1)
    need = r[:, None] + r[None] + SPAWN_GAP - 1e-5
    off_diagonal = ~torch.eye(len(radii), dtype=torch.bool)
    assert (pair[:, off_diagonal] >= need[off_diagonal]).all(), "two entities overlap"
    if walls is not None:
        dist = point_segment_distance(pos[:, :, None], walls.start[:, None], walls.end[:, None])  # (B, E, W)
        dist = torch.where(walls.mask[:, None], dist, math.inf)
        assert (dist >= r[:, None] + walls.half_thickness + SPAWN_GAP - 1e-5).all(), "an entity overlaps a wall"


@pytest.mark.parametrize("kind", ["quadrant", "random_rooms", "open"])
def test_placements_obey_every_rule(kind):
    lay, regions, exclude = scenario(kind)
    pos = sample_positions(gen(), B, RADII, regions, walls=lay.walls, exclude=exclude)
    assert pos.shape == (B, len(RADII), 2) and pos.dtype == torch.float32
    assert_valid(pos, RADII, regions, lay.walls, exclude)
    if kind != "open":
        room = lay.room[:, None]
        assert (rect_distance(pos[:, IN_ROOM], room) == 0).all()
        assert (rect_distance(pos[:, OUT_OF_ROOM], room) > 0).all()
    spread = pos[:, 4].std(0)  # boxes are spread over the arena, not stuck at a corner
    assert (spread > 0.5).all()


def test_crowded_request_is_solved_by_redrawing():
    """One try per round: a round places all 4 discs in only ~14% of worlds, so the result comes from redraws."""
    radii = [0.25] * 4
    regions = torch.tensor([-1.0, -1.0, 1.0, 1.0]).repeat(256, 4, 1)
    pos = sample_positions(gen(), 256, radii, regions, tries=1, max_rounds=200)
    assert_valid(pos, radii, regions)


def test_same_seed_same_positions_other_seed_other_positions():
    lay, regions, exclude = scenario("quadrant", 64)
    a, b, c = (sample_positions(gen(s), 64, RADII, regions, lay.walls, exclude) for s in (1, 1, 2))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_nan_and_empty_excludes_exclude_nothing():
    regions = ARENA.repeat(64, 3, 1)
    free = sample_positions(gen(), 64, [0.2] * 3, regions)
    nan = sample_positions(gen(), 64, [0.2] * 3, regions, exclude=NONE.repeat(64, 3, 1))
    empty = sample_positions(gen(), 64, [0.2] * 3, regions, exclude=torch.tensor([0.0, 0.0, 0.0, 0.0]).expand(64, 3, 4))
    assert torch.equal(free, nan) and torch.equal(free, empty)


def test_regions_and_excludes_broadcast_from_one_world():
    pos = sample_positions(gen(), 32, [0.1, 0.1], torch.tensor([[0.0, 0.0, 1.0, 1.0], [-1.0, -1.0, 0.0, 0.0]]),
                           exclude=torch.tensor([[0.0, 0.0, 0.5, 0.5], [math.nan] * 4]))
    assert (pos[:, 0] >= 0.1).all() and (pos[:, 1] <= -0.1).all()
    assert (rect_distance(pos[:, 0], torch.tensor([0.0, 0.0, 0.5, 0.5])) >= 0.1).all()


def test_entity_wider_than_its_region_is_a_clear_error():
    regions = ARENA.repeat(8, 2, 1)
    regions[3, 1] = torch.tensor([0.0, 0.0, 0.5, 0.5])
    with pytest.raises(ValueError, match=r"entity 1 \(radius 0.3\) does not fit in its region in 1 world\(s\), "
                                         r"e\.g\. world 3"):
        sample_positions(gen(), 8, [0.1, 0.3], regions)


def test_impossible_packing_names_the_entity_and_the_failed_worlds():
    regions = torch.tensor([-0.5, -0.5, 0.5, 0.5]).repeat(16, 3, 1)  # each disc fits alone, two never do
    with pytest.raises(RuntimeError, match=r"could not place entity 1 \(radius 0.45\) in 16 world\(s\) after 3 rounds"):
        sample_positions(gen(), 16, [0.45] * 3, regions, tries=8, max_rounds=3)


def test_walls_block_placement():
    """A wall across the middle of a narrow region leaves room only on either side of it."""
    walls = Walls.from_segments([[((-2.0, 0.0), (2.0, 0.0))]] * 256, half_thickness=0.05)
    regions = torch.tensor([-2.0, -0.5, 2.0, 0.5]).repeat(256, 1, 1)
    pos = sample_positions(gen(), 256, [0.2], regions, walls=walls)
    assert (pos[..., 1].abs() >= 0.25 + SPAWN_GAP - 1e-6).all()
    assert (pos[..., 1] > 0).any() and (pos[..., 1] < 0).any()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"radii": [0.1, -0.1]}, r"radii: expected finite numbers > 0"),
        ({"tries": 0}, "tries"),
        ({"max_rounds": 0}, "max_rounds"),
        ({"num_envs": 0}, "num_envs"),
        ({"regions": torch.zeros(4, 3, 4)}, r"regions: expected \(B, E, 4\) = \(4, 2, 4\)"),
        ({"walls": Walls.empty(5, 2, 0.05)}, r"walls: expected walls of 4 worlds"),
    ],
)
def test_bad_arguments_name_the_field(kwargs, match):
    args = {"generator": gen(), "num_envs": 4, "radii": [0.1, 0.1], "regions": ARENA.repeat(4, 2, 1)}
    with pytest.raises(ValueError, match=match):
        sample_positions(**{**args, **kwargs})


def test_angles_are_uniform_in_half_open_pi_interval():
    a = sample_angles(gen(), 4096, 3, "cpu")
    assert a.shape == (4096, 3)
    assert (a >= -math.pi).all() and (a < math.pi).all()
    assert abs(float(a.mean())) < 0.05 and float(a.min()) < -3.0 and float(a.max()) > 3.0
    assert torch.equal(a, sample_angles(gen(), 4096, 3, "cpu"))
