"""Ray and segment queries: analytic cases, the wall approximation, masks, and a float64 slab oracle.

The oracle (``reference_ray`` / ``reference_segment``) is the textbook slab method in plain Python
floats, one ray and one rectangle at a time: a different algorithm from the batched inverse-distance
functionals and separating-axis margins, so agreement on random scenes checks the whole pipeline
(layout, blocking, masks, reductions), not just the formulas.
"""

import math

import pytest
import torch

from marl_envs.physics import Walls
from marl_envs.sensors import Obstacles, lidar, line_of_sight, pairwise_blocked, ray_cast, segment_blocked
from marl_envs.sensors import blocks as world_blocks


def boxes(*specs, valid=None):
    """One world of rectangles from (x, y, angle, hx, hy) tuples."""
    t = torch.tensor(specs, dtype=torch.float32)
    return Obstacles.from_boxes(t[None, :, :2], t[None, :, 2], t[:, 3:], None if valid is None else valid[None])


def cast(obstacles, origin, angle_or_direction, max_range=10.0):
    """Cast one ray (B=1, A=1, R=1); returns (distance, index) as Python numbers."""
    if isinstance(angle_or_direction, (int, float)):
        angle_or_direction = (math.cos(angle_or_direction), math.sin(angle_or_direction))
    o = torch.tensor([[origin]], dtype=torch.float32)
    d = torch.tensor([[[angle_or_direction]]], dtype=torch.float32)
    distance, index = ray_cast(o, d, obstacles, max_range)
    return distance.item(), index.item()


def reference_ray(origin, direction, center, axis, half, valid, max_range):
    """Slab method in float64 for one ray against a list of rectangles: (distance, index)."""
    best, best_index = max_range, -1
    for m, (c, u, h, ok) in enumerate(zip(center, axis, half, valid, strict=True)):
        if not ok:
            continue
        v = (-u[1], u[0])
        rel = (origin[0] - c[0], origin[1] - c[1])
        p = (rel[0] * u[0] + rel[1] * u[1], rel[0] * v[0] + rel[1] * v[1])
        q = (direction[0] * u[0] + direction[1] * u[1], direction[0] * v[0] + direction[1] * v[1])
        if abs(p[0]) <= h[0] and abs(p[1]) <= h[1]:
            return 0.0, m
        t_in, t_out = -math.inf, math.inf
        for k in range(2):
            if q[k] == 0.0:
                if abs(p[k]) > h[k]:
                    t_in, t_out = math.inf, -math.inf
                continue
            t1, t2 = (-h[k] - p[k]) / q[k], (h[k] - p[k]) / q[k]
            t_in, t_out = max(t_in, min(t1, t2)), min(t_out, max(t1, t2))
        if t_in <= t_out and t_in >= 0 and t_in < best:
            best, best_index = t_in, m
    return best, best_index


def reference_segment(start, end, center, axis, half, valid):
    """Slab method in float64: does the open segment meet the open interior of a rectangle?"""
    for c, u, h, ok in zip(center, axis, half, valid, strict=True):
        if not ok:
            continue
        v = (-u[1], u[0])
        rel = (start[0] - c[0], start[1] - c[1])
        seg = (end[0] - start[0], end[1] - start[1])
        p = (rel[0] * u[0] + rel[1] * u[1], rel[0] * v[0] + rel[1] * v[1])
        q = (seg[0] * u[0] + seg[1] * u[1], seg[0] * v[0] + seg[1] * v[1])
        lo, hi = 0.0, 1.0
        for k in range(2):
            if q[k] == 0.0:
                if abs(p[k]) >= h[k]:
                    lo, hi = 1.0, 0.0
                continue
            t1, t2 = (-h[k] - p[k]) / q[k], (h[k] - p[k]) / q[k]
            lo, hi = max(lo, min(t1, t2)), min(hi, max(t1, t2))
        if lo < hi:
            return True
    return False


def random_scene(seed, b=3, a=2, m=5, dtype=torch.float32):
    """Random rectangles (about one in five invalid) and origins in a 6 x 6 square."""
    g = torch.Generator().manual_seed(seed)
    center = torch.rand(b, m, 2, generator=g, dtype=torch.float64) * 6 - 3
    angle = torch.rand(b, m, generator=g, dtype=torch.float64) * 2 * math.pi
    half = torch.rand(b, m, 2, generator=g, dtype=torch.float64) * 0.9 + 0.1
    valid = torch.rand(b, m, generator=g) > 0.2
    origin = torch.rand(b, a, 2, generator=g, dtype=torch.float64) * 6 - 3
    obstacles = Obstacles.from_boxes(center.to(dtype), angle.to(dtype), half.to(dtype), valid)
    return obstacles, origin.to(dtype), g


def test_ray_hits_an_axis_aligned_box_at_the_analytic_distance():
    box = boxes((0.0, 0.0, 0.0, 1.0, 0.5))
    assert cast(box, (-5.0, 0.0), 0.0) == pytest.approx((4.0, 0))
    assert cast(box, (0.3, 5.0), -math.pi / 2) == pytest.approx((4.5, 0))
    assert cast(box, (-3.0, -2.4), math.pi / 4) == pytest.approx((2.0 * math.sqrt(2), 0))  # diagonal, face x = -1


def test_ray_hits_a_rotated_box_at_the_analytic_distance():
    diamond = boxes((0.0, 0.0, math.pi / 4, 1.0, 1.0))  # |x| + |y| <= sqrt(2)
    assert cast(diamond, (-5.0, 0.0), 0.0)[0] == pytest.approx(5.0 - math.sqrt(2), abs=1e-5)
    assert cast(diamond, (-5.0, 0.5), 0.0)[0] == pytest.approx(5.0 - math.sqrt(2) + 0.5, abs=1e-5)
    assert cast(diamond, (0.0, -4.0), math.pi / 2)[0] == pytest.approx(4.0 - math.sqrt(2), abs=1e-5)


def test_origin_inside_or_on_a_rectangle_gives_zero_and_that_rectangle():
    scene = boxes((5.0, 0.0, 0.0, 1.0, 1.0), (0.0, 0.0, 0.3, 1.0, 1.0))
    for angle in (0.0, 1.0, math.pi, -2.0):
        assert cast(scene, (0.2, -0.1), angle) == (0.0, 1)
    assert cast(boxes((0.0, 0.0, 0.0, 1.0, 1.0)), (1.0, 0.5), 0.0) == (0.0, 0)  # on the boundary: closed


def test_ray_pointing_away_misses():
    box = boxes((0.0, 0.0, 0.0, 1.0, 1.0))
    assert cast(box, (-5.0, 0.0), math.pi) == (10.0, -1)
    assert cast(box, (-5.0, 0.0), math.pi / 2) == (10.0, -1)


@pytest.mark.parametrize("flip", [1.0, -1.0])
def test_rays_parallel_to_faces_hit_inside_the_slab_and_miss_outside(flip):
    box = boxes((0.0, 0.0, 0.0, 1.0, 1.0))
    assert cast(box, (-5.0, flip * 0.999), (1.0, 0.0)) == pytest.approx((4.0, 0))
    assert cast(box, (-5.0, flip * 1.001), (1.0, 0.0)) == (10.0, -1)
    assert cast(box, (flip * 0.999, 6.0), (0.0, -1.0)) == pytest.approx((5.0, 0))
    assert cast(box, (flip * 1.001, 6.0), (0.0, -1.0)) == (10.0, -1)


def test_nearest_of_several_obstacles_and_its_index():
    scene = boxes((8.0, 0.0, 0.0, 0.5, 0.5), (2.0, 0.0, 0.7, 0.5, 0.5), (5.0, 0.0, 0.0, 0.5, 0.5))
    distance, index = cast(scene, (0.0, 0.0), 0.0)
    assert index == 1 and distance == pytest.approx(2.0 - 0.5 / math.cos(0.7), abs=1e-5)  # through the centre
    nearer_gone = boxes((8.0, 0.0, 0.0, 0.5, 0.5), (2.0, 0.0, 0.7, 0.5, 0.5), (5.0, 0.0, 0.0, 0.5, 0.5),
                        valid=torch.tensor([True, False, True]))
    assert cast(nearer_gone, (0.0, 0.0), 0.0) == pytest.approx((4.5, 2))


def test_invalid_slots_never_hit_whatever_their_geometry():
    scene = boxes((2.0, 0.0, 0.0, 0.5, 0.5), (5.0, 0.0, 0.0, 0.5, 0.5), valid=torch.tensor([False, True]))
    scene.center[0, 0] = float("nan")  # an unused slot may hold anything
    scene.half[0, 0] = float("inf")
    assert cast(scene, (0.0, 0.0), 0.0) == pytest.approx((4.5, 1))
    assert cast(scene, (2.0, 0.0), 0.0) == pytest.approx((2.5, 1))  # inside the invalid one: not inside anything
    assert not segment_blocked(torch.tensor([[[0.0, 0.0]]]), torch.tensor([[[4.0, 0.0]]]), scene).item()


def test_max_range_clamps_distance_and_drops_the_index():
    box = boxes((6.0, 0.0, 0.0, 1.0, 1.0))
    assert cast(box, (0.0, 0.0), 0.0, max_range=3.0) == (3.0, -1)
    assert cast(box, (0.0, 0.0), 0.0, max_range=6.0) == pytest.approx((5.0, 0))
    assert cast(box, (0.0, 0.0), math.pi, max_range=math.inf) == (math.inf, -1)


def test_no_obstacles_gives_max_range_everywhere():
    empty = Obstacles.from_boxes(torch.zeros(2, 0, 2), torch.zeros(2, 0), torch.zeros(0, 2))
    distance, index = ray_cast(torch.zeros(2, 3, 2), torch.ones(2, 3, 4, 2) / math.sqrt(2), empty, 2.5)
    assert distance.shape == (2, 3, 4) and (distance == 2.5).all() and (index == -1).all()
    assert not segment_blocked(torch.zeros(2, 3, 2), torch.ones(2, 3, 2), empty).any()


def test_from_walls_matches_the_thick_segment_and_skips_masked_slots():
    walls = Walls.from_segments([[((0.0, -2.0), (0.0, 2.0)), ((5.0, -1.0), (5.0, 1.0))]], half_thickness=0.1)
    obstacles = Obstacles.from_walls(walls)
    torch.testing.assert_close(obstacles.half, torch.tensor([[[2.1, 0.1], [1.1, 0.1]]]))
    assert cast(obstacles, (-3.0, 0.5), 0.0) == pytest.approx((2.9, 0))  # stops ht before the centre line
    assert cast(obstacles, (3.0, 1.0), math.pi) == pytest.approx((2.9, 0))  # from the other side
    assert cast(obstacles, (0.0, -5.0), math.pi / 2) == pytest.approx((2.9, 0))  # end on: length / 2 + ht
    walls.mask[0, 0] = False
    assert cast(Obstacles.from_walls(walls), (-3.0, 0.5), 0.0) == pytest.approx((7.9, 1))


def test_zero_length_wall_is_a_square_of_half_side_ht():
    walls = Walls.from_segments([[((1.0, 1.0), (1.0, 1.0))]], half_thickness=0.25)
    assert cast(Obstacles.from_walls(walls), (-2.0, 1.0), 0.0) == pytest.approx((2.75, 0))


def test_obstacles_validate_shapes_and_cat_keeps_the_order():
    with pytest.raises(ValueError, match="Obstacles.half: expected shape"):
        Obstacles(torch.zeros(2, 3, 2), torch.zeros(2, 3, 2), torch.zeros(2, 4, 2), torch.ones(2, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="bool"):
        Obstacles(torch.zeros(2, 3, 2), torch.zeros(2, 3, 2), torch.zeros(2, 3, 2), torch.ones(2, 3))
    per_world = Obstacles.from_boxes(torch.zeros(2, 3, 2), torch.zeros(2, 3), torch.rand(2, 3, 2))
    shared = Obstacles.from_boxes(torch.zeros(2, 1, 2), torch.zeros(2, 1), torch.tensor([[0.5, 0.25]]))
    both = Obstacles.cat(shared, per_world)
    assert both.num_obstacles == 4 and both.num_envs == 2 and both.valid.all()
    torch.testing.assert_close(both.half[:, 0], torch.tensor([[0.5, 0.25], [0.5, 0.25]]))
    torch.testing.assert_close(both.half[:, 1:], per_world.half)


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-4), (torch.float64, 1e-9)])
@pytest.mark.parametrize("seed", range(3))
def test_ray_cast_matches_the_slab_oracle_on_random_scenes(seed, dtype, tol):
    obstacles, origin, g = random_scene(seed, dtype=dtype)
    angle = torch.rand(3, 2, 30, generator=g, dtype=torch.float64) * 2 * math.pi
    direction = torch.stack((angle.cos(), angle.sin()), -1).to(dtype)
    distance, index = ray_cast(origin, direction, obstacles, 4.0)
    geometry = [t.double().tolist() for t in (obstacles.center, obstacles.axis, obstacles.half)]
    hits = 0
    for b in range(3):
        for a in range(2):
            for r in range(30):
                want, want_index = reference_ray(origin[b, a].double().tolist(), direction[b, a, r].double().tolist(),
                                                 *(g_[b] for g_ in geometry), obstacles.valid[b].tolist(), 4.0)
                assert distance[b, a, r].item() == pytest.approx(want, abs=tol), (b, a, r)
                assert index[b, a, r].item() == want_index, (b, a, r)
                hits += want_index >= 0
    assert hits > 40, "the random scenes should exercise hits, not only misses"


@pytest.mark.parametrize("seed", range(3))
def test_segment_blocked_matches_the_slab_oracle_on_random_scenes(seed):
    obstacles, start, g = random_scene(seed, b=3, a=40, dtype=torch.float64)
    end = torch.rand(3, 40, 2, generator=g, dtype=torch.float64) * 6 - 3
    blocked = segment_blocked(start, end, obstacles)
    geometry = [t.tolist() for t in (obstacles.center, obstacles.axis, obstacles.half)]
    for b in range(3):
        for s in range(40):
            want = reference_segment(start[b, s].tolist(), end[b, s].tolist(), *(g_[b] for g_ in geometry),
                                     obstacles.valid[b].tolist())
            assert blocked[b, s].item() == want, (b, s)
    assert 0 < blocked.sum() < blocked.numel()


def test_segment_blocked_crossing_beside_and_touching():
    box = boxes((0.0, 0.0, 0.0, 1.0, 1.0))
    start = torch.tensor([[[-3.0, 0.0], [-3.0, 1.5], [-3.0, 0.0], [1.0, 0.0], [1.0, 0.0], [-2.0, 1.0], [0.5, 0.5],
                           [0.2, 0.2], [-3.0, -3.0]]])
    end = torch.tensor([[[3.0, 0.0], [3.0, 1.5], [-1.0, 0.0], [3.0, 0.5], [-3.0, 0.0], [2.0, 1.0], [0.5, 0.5],
                         [3.0, 0.2], [3.0, 3.0]]])
    want = [True,  # straight through
            False,  # beside
            False,  # ends on the face
            False,  # starts on the face, leaves
            True,  # starts on the face, goes through
            False,  # slides along the top face
            False,  # zero length, inside
            True,  # starts inside
            True]  # through the corners' diagonal
    assert segment_blocked(start, end, box)[0].tolist() == want


def test_segment_blocked_ignore_masks():
    scene = boxes((0.0, 0.0, 0.0, 1.0, 1.0), (4.0, 0.0, 0.0, 0.5, 0.5))
    scene2 = Obstacles(*(t.expand(2, *t.shape[1:]) for t in (scene.center, scene.axis, scene.half, scene.valid)))
    start = torch.tensor([[[-3.0, 0.0], [-3.0, 0.0]]]).expand(2, 2, 2)
    end = torch.tensor([[[2.0, 0.0], [6.0, 0.0]]]).expand(2, 2, 2)  # crosses the first box; both boxes
    assert segment_blocked(start, end, scene2).all()
    ignore_first = torch.tensor([[True, False], [True, False]])  # (S, M)
    assert segment_blocked(start, end, scene2, ignore_first).tolist() == [[False, True], [False, True]]
    per_world = torch.tensor([[[True, False], [True, True]], [[False, False], [True, False]]])  # (B, S, M)
    assert segment_blocked(start, end, scene2, per_world).tolist() == [[False, False], [True, True]]
    with pytest.raises(ValueError, match="ignore"):
        segment_blocked(start, end, scene2, torch.zeros(2, dtype=torch.bool))


def test_pairwise_blocked_equals_segment_blocked_on_all_pairs():
    obstacles, start, g = random_scene(7, b=4, a=3, m=6)
    end = torch.rand(4, 5, 2, generator=g) * 6 - 3
    ignore = torch.rand(3, 5, 6, generator=g) > 0.7
    pairs = pairwise_blocked(start, end, obstacles, ignore)
    flat = segment_blocked(start.repeat_interleave(5, 1), end.repeat(1, 3, 1), obstacles, ignore.reshape(15, 6))
    assert pairs.shape == (4, 3, 5) and torch.equal(pairs.reshape(4, 15), flat)


def test_world_blocks_split_and_merge_round_trip_with_padding():
    blocks = world_blocks.WorldBlocks.of(7, 300, torch.device("cpu"))
    assert blocks.count == 1 and blocks.size == 7  # small problems take one block
    blocks = world_blocks.WorldBlocks(7, 3, 3)  # padded to 9 worlds
    x = torch.arange(7 * 4 * 2).view(7, 4, 2)
    split = blocks.split(x)
    assert split.shape == (3, 4, 2, 3) and split.is_contiguous()
    assert torch.equal(split[1, :, :, 2], x[5]) and torch.equal(split[2, :, :, 2], x[0])  # padding copies world 0
    assert torch.equal(blocks.merge(split), x)
    assert torch.equal(blocks.planar(x.float())[:, 2, :, 0], x[6].float().t())


@pytest.mark.parametrize("block_elements", [160, 1500])
def test_several_blocks_and_padding_do_not_change_results(monkeypatch, block_elements):
    obstacles, origin, g = random_scene(3, b=7, a=3, m=5)
    heading = torch.rand(7, 3, generator=g) * 6
    target = torch.rand(7, 4, 2, generator=g) * 6 - 3
    direction = torch.nn.functional.normalize(torch.randn(7, 3, 5, 2, generator=g), dim=-1)
    queries = [lambda: (lidar(origin, heading, obstacles, 12, 3.0),),
               lambda: ray_cast(origin, direction, obstacles, 3.0),
               lambda: (line_of_sight(origin, target, obstacles),),
               lambda: (segment_blocked(origin, target[:, :3], obstacles),)]
    monkeypatch.setattr(world_blocks, "BLOCK_ELEMENTS", 1 << 30)
    once = [q() for q in queries]
    monkeypatch.setattr(world_blocks, "BLOCK_ELEMENTS", block_elements)  # several blocks of worlds, the last padded
    per_world = 3 * 5 * 3 * 12 if block_elements > 1000 else 5 * 3 * 4
    assert world_blocks.WorldBlocks.of(7, per_world, origin.device).count == 3
    for got, want in zip([q() for q in queries], once, strict=True):
        for g_, w_ in zip(got, want, strict=True):
            assert torch.equal(g_, w_)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cpu_and_cuda_agree():
    obstacles, origin, g = random_scene(11, b=64, a=4, m=9)
    heading = torch.rand(64, 4, generator=g) * 6
    target = torch.rand(64, 7, 2, generator=g) * 6 - 3
    gpu = Obstacles(*(t.cuda() for t in (obstacles.center, obstacles.axis, obstacles.half, obstacles.valid)))
    direction = torch.randn(64, 4, 5, 2, generator=g)
    direction = direction / direction.norm(dim=-1, keepdim=True)
    cpu_ray, gpu_ray = ray_cast(origin, direction, obstacles, 4.0), ray_cast(origin.cuda(), direction.cuda(), gpu, 4.0)
    torch.testing.assert_close(gpu_ray[0].cpu(), cpu_ray[0], atol=1e-4, rtol=0)
    assert (gpu_ray[1].cpu() == cpu_ray[1]).float().mean() > 0.99
    torch.testing.assert_close(lidar(origin.cuda(), heading.cuda(), gpu).cpu(), lidar(origin, heading, obstacles),
                               atol=1e-4, rtol=0)
    assert torch.equal(line_of_sight(origin.cuda(), target.cuda(), gpu).cpu(), line_of_sight(origin, target, obstacles))
