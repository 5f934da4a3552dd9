"""Analytic cases for the pure geometry functions, plus a brute-force oracle for the box SDF."""

import math

import pytest
import torch

from marl_envs.physics.geometry import (
    box_corners,
    closest_point_on_segment,
    cross,
    point_box_distance,
    point_segment_distance,
    rotate,
)


def t(*values):
    """float64 tensor: one number gives a 0-d tensor, several a vector, lists a matrix."""
    return torch.tensor(values[0] if len(values) == 1 else values, dtype=torch.float64)


def test_rotate_by_90_degrees():
    v = t([1.0, 0.0], [0.0, 1.0], [2.0, 3.0])
    out = rotate(v, torch.full((3,), math.pi / 2, dtype=torch.float64))
    torch.testing.assert_close(out, t([0.0, 1.0], [-1.0, 0.0], [-3.0, 2.0]))


def test_rotate_broadcasts_and_inverts():
    g = torch.Generator().manual_seed(0)
    v = torch.randn(5, 3, 2, generator=g, dtype=torch.float64)
    angle = torch.randn(5, 3, generator=g, dtype=torch.float64)
    back = rotate(rotate(v, angle), -angle)
    torch.testing.assert_close(back, v)
    torch.testing.assert_close(rotate(v, angle).norm(dim=-1), v.norm(dim=-1))
    assert rotate(v, t(0.3)).shape == (5, 3, 2)


def test_cross_is_counter_clockwise_positive():
    assert cross(t(1.0, 0.0), t(0.0, 1.0)) == 1.0
    assert cross(t(0.0, 1.0), t(1.0, 0.0)) == -1.0


def test_box_corners_axis_aligned_and_rotated():
    pos, half = t([[1.0, 2.0]]), t([[0.5, 0.25]])
    corners = box_corners(pos, t([0.0]), half)
    torch.testing.assert_close(corners, t([[[1.5, 2.25], [0.5, 2.25], [0.5, 1.75], [1.5, 1.75]]]))
    rotated = box_corners(pos, t([math.pi / 2]), half)  # local +x now points along world +y
    torch.testing.assert_close(rotated, t([[[0.75, 2.5], [0.75, 1.5], [1.25, 1.5], [1.25, 2.5]]]))


def test_box_corners_batched_shape():
    pos = torch.zeros(4, 3, 2)
    half = torch.tensor([[1.0, 1.0], [2.0, 1.0], [0.5, 0.5]])
    corners = box_corners(pos, torch.zeros(4, 3), half)
    assert corners.shape == (4, 3, 4, 2)
    torch.testing.assert_close(corners[2, 1, 0], torch.tensor([2.0, 1.0]))


@pytest.mark.parametrize(
    "point, sd, normal, closest",
    [
        ((3.0, 1.0), 1.0, (1.0, 0.0), (2.0, 1.0)),  # outside, facing a face
        ((1.2, 1.0), -0.8, (1.0, 0.0), (2.0, 1.0)),  # inside, nearest face is +x
        ((1.0, 2.5), -0.5, (0.0, 1.0), (1.0, 3.0)),  # inside, nearest face is +y
        ((3.0, 4.0), math.sqrt(2.0), (math.sqrt(0.5), math.sqrt(0.5)), (2.0, 3.0)),  # corner region
        ((2.0, 1.5), 0.0, (1.0, 0.0), (2.0, 1.5)),  # on the boundary
        ((0.2, 0.0), -0.2, (-1.0, 0.0), (0.0, 0.0)),  # inside, -x face
    ],
)
def test_point_box_distance_rotated_box(point, sd, normal, closest):
    # Box centred at (1, 1), local half extents (2, 1), turned 90 degrees: world half extents (1, 2).
    out_sd, out_n, out_c = point_box_distance(t(*point), t(1.0, 1.0), t(math.pi / 2), t(2.0, 1.0))
    torch.testing.assert_close(out_sd, t(sd))
    torch.testing.assert_close(out_n, t(*normal))
    torch.testing.assert_close(out_c, t(*closest))


def test_point_box_distance_at_corner_of_45_degree_box():
    sd, normal, closest = point_box_distance(t(2.0, 0.0), t(0.0, 0.0), t(math.pi / 4), t(1.0, 1.0))
    torch.testing.assert_close(sd, t(2.0 - math.sqrt(2.0)))
    torch.testing.assert_close(normal, t(1.0, 0.0))
    torch.testing.assert_close(closest, t(math.sqrt(2.0), 0.0))


def test_point_box_distance_matches_brute_force():
    g = torch.Generator().manual_seed(1)
    n = 400
    points = torch.rand(n, 2, generator=g, dtype=torch.float64) * 4 - 2
    box_pos = torch.rand(n, 2, generator=g, dtype=torch.float64) - 0.5
    angle = torch.rand(n, generator=g, dtype=torch.float64) * 2 * math.pi
    half = torch.rand(n, 2, generator=g, dtype=torch.float64) + 0.2
    sd, normal, closest = point_box_distance(points, box_pos, angle, half)
    # Oracle: dense samples of the boundary give |sd|; the local inside test gives the sign.
    s = torch.linspace(-1, 1, 2001, dtype=torch.float64)
    one = torch.ones_like(s)
    unit = torch.cat([torch.stack(p, -1) for p in ((s, one), (s, -one), (one, s), (-one, s))])  # (K, 2)
    boundary = box_pos[:, None] + rotate(unit[None] * half[:, None], angle[:, None])  # (n, K, 2)
    dist = (points[:, None] - boundary).norm(dim=-1).amin(dim=1)
    local = rotate(points - box_pos, -angle)
    inside = (local.abs() < half).all(-1)
    oracle = torch.where(inside, -dist, dist)
    torch.testing.assert_close(sd, oracle, atol=2e-3, rtol=0)
    torch.testing.assert_close(normal.norm(dim=-1), torch.ones(n, dtype=torch.float64))
    torch.testing.assert_close(closest + normal * sd[:, None], points)


def test_closest_point_on_segment_interior_and_endpoints():
    start, end = t(0.0, 0.0), t(2.0, 0.0)
    points = t([1.0, 3.0], [-1.0, 1.0], [5.0, -4.0])
    closest, param = closest_point_on_segment(points, start, end)
    torch.testing.assert_close(closest, t([1.0, 0.0], [0.0, 0.0], [2.0, 0.0]))
    torch.testing.assert_close(param, t(0.5, 0.0, 1.0))
    torch.testing.assert_close(point_segment_distance(points, start, end), t(3.0, math.sqrt(2.0), 5.0))


def test_zero_length_segment_gives_its_point_without_nan():
    closest, param = closest_point_on_segment(t(3.0, 4.0), t(0.0, 0.0), t(0.0, 0.0))
    torch.testing.assert_close(closest, t(0.0, 0.0))
    assert point_segment_distance(t(3.0, 4.0), t(0.0, 0.0), t(0.0, 0.0)) == 5.0
