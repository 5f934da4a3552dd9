"""Pure batched 2D geometry: rotations, box corners, closest points and signed distances.

Every function broadcasts over leading dimensions (``...``), so the same code serves one
query, (B, P) body pairs or (B, N, 4, W) corner-wall tests; shapes in the docstrings name
only the trailing dimensions. Nothing here branches on data (``torch.where`` selects), so
the functions cost the same for every world and can run inside a step without host syncs.

Conventions: angles in radians, counter-clockwise positive; a box is centred at ``pos``
with its local x axis rotated by ``angle`` and half side lengths ``half_extents``
``(hx, hy)``; the 2D cross product ``a x b = a.x b.y - a.y b.x`` is the z component, so a
positive torque turns a body counter-clockwise.
"""

from __future__ import annotations

import torch

from marl_envs.physics import masks

EPS = 1e-9
"""Length below which a direction is treated as undefined and a fallback normal is used."""


def cross(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """2D cross product (z component), e.g. the torque ``r x F``.

    Args:
        a: (..., 2).
        b: (..., 2).

    Returns:
        (...) ``a.x * b.y - a.y * b.x``.
    """
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def perp(v: torch.Tensor) -> torch.Tensor:
    """Vector rotated by +90 degrees: (x, y) -> (-y, x). Shape (..., 2) -> (..., 2)."""
    return torch.stack((-v[..., 1], v[..., 0]), dim=-1)


def rotation(angle: torch.Tensor) -> torch.Tensor:
    """Rotations as unit vectors ``(cos, sin)`` (a unit complex number): (...) -> (..., 2).

    Contacts build them once per substep for all boxes and gather them per query, so the
    sines and cosines are not recomputed; applying one is a few elementwise products
    (faster than a 2x2 matrix product, whose size-2 reductions are slow in eager torch).
    """
    return torch.stack((torch.cos(angle), torch.sin(angle)), dim=-1)


def apply_rotation(rot: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``R v`` for rotations ``rot`` (..., 2) from ``rotation`` and vectors (..., 2), broadcast; returns (..., 2)."""
    c, s, x, y = rot[..., 0], rot[..., 1], v[..., 0], v[..., 1]
    return torch.stack((c * x - s * y, s * x + c * y), dim=-1)


def rotate(v: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """Rotate vectors counter-clockwise by ``angle``.

    Args:
        v: (..., 2) vectors.
        angle: (...) radians, broadcastable against ``v[..., 0]``.

    Returns:
        (..., 2) rotated vectors ``R(angle) v``.
    """
    return apply_rotation(rotation(angle), v)


def box_local_corners(half_extents: torch.Tensor) -> torch.Tensor:
    """Corners of an axis-aligned box centred at the origin, counter-clockwise from (+hx, +hy).

    Args:
        half_extents: (..., 2) ``(hx, hy)``.

    Returns:
        (..., 4, 2) corners (+hx, +hy), (-hx, +hy), (-hx, -hy), (+hx, -hy).
    """
    hx, hy = half_extents[..., 0], half_extents[..., 1]
    xs = torch.stack((hx, -hx, -hx, hx), dim=-1)
    ys = torch.stack((hy, hy, -hy, -hy), dim=-1)
    return torch.stack((xs, ys), dim=-1)


def box_corners(pos: torch.Tensor, angle: torch.Tensor, half_extents: torch.Tensor) -> torch.Tensor:
    """World positions of the four corners of oriented boxes (order of ``box_local_corners``).

    Args:
        pos: (..., 2) box centres, e.g. (B, N, 2).
        angle: (...) orientations, e.g. (B, N).
        half_extents: (..., 2), e.g. (N, 2), broadcast against ``pos``.

    Returns:
        (..., 4, 2) corner positions, e.g. (B, N, 4, 2).
    """
    return pos.unsqueeze(-2) + rotate(box_local_corners(half_extents), angle.unsqueeze(-1))


def point_box_distance(
    points: torch.Tensor, box_pos: torch.Tensor, box_angle: torch.Tensor, half_extents: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Signed distance, outward normal and closest boundary point from points to oriented boxes.

    The signed distance is the exact box SDF: Euclidean distance outside, minus the distance
    to the nearest face inside. The normal is the unit direction in which the distance
    grows: ``(point - closest) / distance`` outside and the nearest face's outward normal
    inside or on the boundary, so it stays defined (and points out of the box) at any depth
    until the point crosses the box's medial axis. ``point = closest + sd * normal`` holds
    everywhere, so a force along the normal applied at the point or at ``closest`` has the
    same torque about any centre.

    Args:
        points: (..., 2) query points.
        box_pos: (..., 2) box centres (broadcastable).
        box_angle: (...) box orientations (broadcastable).
        half_extents: (..., 2) box half sizes (broadcastable).

    Returns:
        sd: (...) signed distance, negative inside.
        normal: (..., 2) unit outward normal, world frame.
        closest: (..., 2) closest point on the box boundary, world frame.
    """
    sd, normal = point_box_query(points - box_pos, rotation(box_angle), half_extents)
    return sd, normal, points - normal * sd.unsqueeze(-1)


def point_box_query(
    rel: torch.Tensor, box_rot: torch.Tensor, half_extents: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``point_box_distance`` for offsets from the box centre and prebuilt rotations.

    Args:
        rel: (..., 2) points minus box centres.
        box_rot: (..., 2) box rotations (``rotation``).
        half_extents: (..., 2) box half sizes.

    Returns:
        sd: (...) signed distance; normal: (..., 2) unit outward normal (world frame).
    """
    sd, nx, ny = point_box_query_xy(rel[..., 0], rel[..., 1], box_rot[..., 0], box_rot[..., 1],
                                    half_extents[..., 0], half_extents[..., 1])
    return sd, torch.stack((nx, ny), dim=-1)


def point_box_query_xy(
    rx: torch.Tensor, ry: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, hx: torch.Tensor, hy: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``point_box_query`` on separate x and y components, all broadcast (the contact fast path).

    Components rather than (..., 2) tensors because every op then reads and writes
    contiguous memory, and the face and side choices are float masks (``masks``): together
    4x faster on CPU than the stacked form for contact-sized batches.

    Returns:
        sd: signed distance (negative inside); nx, ny: the unit outward normal, world frame.
    """
    lx, ly, dx, dy, ox, oy, out_dist = _box_frame_xy(rx, ry, cos, sin, hx, hy)
    sd = out_dist + torch.maximum(dx, dy).clamp_max_(0.0)
    outside = masks.gt(out_dist, EPS)
    inv = out_dist.clamp_min(EPS).reciprocal_()
    x_face = masks.ge(dx, dy)  # inside or on the boundary: the nearest face's normal
    nlx = masks.select(outside, ox * inv, x_face) * masks.sign_ge0(lx)
    nly = masks.select(outside, oy * inv, 1.0 - x_face) * masks.sign_ge0(ly)
    return sd, torch.addcmul(cos * nlx, sin, -nly), torch.addcmul(sin * nlx, cos, nly)


def box_signed_distance_xy(
    rx: torch.Tensor, ry: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, hx: torch.Tensor, hy: torch.Tensor
) -> torch.Tensor:
    """The signed distance of ``point_box_query_xy`` alone (no normal): the exact box SDF."""
    _, _, dx, dy, _, _, out_dist = _box_frame_xy(rx, ry, cos, sin, hx, hy)
    return out_dist + torch.maximum(dx, dy).clamp_max_(0.0)


def _box_frame_xy(rx, ry, cos, sin, hx, hy):
    """The point in the box frame (lx, ly), its excess over the half extents (dx, dy), the
    positive parts (ox, oy) and their length (the distance outside the box)."""
    lx = torch.addcmul(cos * rx, sin, ry)  # R^T (rx, ry)
    ly = torch.addcmul(cos * ry, sin, -rx)
    dx = lx.abs() - hx
    dy = ly.abs() - hy
    ox, oy = dx.clamp_min(0.0), dy.clamp_min(0.0)
    return lx, ly, dx, dy, ox, oy, torch.addcmul(ox * ox, oy, oy).sqrt_()


def closest_point_on_segment(
    points: torch.Tensor, start: torch.Tensor, end: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Closest point on segments [start, end] to points.

    A zero-length segment (e.g. a padded wall slot) gives its start point, without NaN.

    Args:
        points: (..., 2).
        start: (..., 2) segment starts (broadcastable).
        end: (..., 2) segment ends (broadcastable).

    Returns:
        closest: (..., 2) closest points on the segments.
        t: (...) their parameter in [0, 1] along ``start -> end``.
    """
    seg = end - start
    t = segment_parameter_xy(points[..., 0] - start[..., 0], points[..., 1] - start[..., 1], seg[..., 0], seg[..., 1])
    return start + seg * t.unsqueeze(-1), t


def segment_parameter_xy(rx: torch.Tensor, ry: torch.Tensor, ux: torch.Tensor, uy: torch.Tensor) -> torch.Tensor:
    """Parameter in [0, 1] of the closest point on segments ``start + t u`` to points ``start + r``
    (components, broadcast); 0 for a zero-length segment."""
    return ((rx * ux + ry * uy) / (ux * ux + uy * uy).clamp_min(EPS * EPS)).clamp(0.0, 1.0)


def point_segment_distance(points: torch.Tensor, start: torch.Tensor, end: torch.Tensor) -> torch.Tensor:
    """Euclidean distance from points to segments. Shapes as ``closest_point_on_segment``; returns (...)."""
    closest, _ = closest_point_on_segment(points, start, end)
    return torch.linalg.vector_norm(points - closest, dim=-1)


def point_segment_distance_xy(
    rx: torch.Tensor, ry: torch.Tensor, ux: torch.Tensor, uy: torch.Tensor
) -> torch.Tensor:
    """``point_segment_distance`` on components: points ``start + r`` and segments ``start + t u``, broadcast."""
    t = segment_parameter_xy(rx, ry, ux, uy)
    gap_x, gap_y = rx - t * ux, ry - t * uy
    return torch.addcmul(gap_x * gap_x, gap_y, gap_y).sqrt_()
