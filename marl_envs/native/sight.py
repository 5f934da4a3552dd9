"""Vision (``marl_envs.sensors.vision.visible``) as one fused CPU kernel.

The same two tests as the reference: the view cone (a dot product against the distance times
``cos(half_angle)``) and the separating-axis test of each open sight segment against each open
rectangle (both ends beyond one face, by Cohen-Sutherland outcodes, or the rectangle's projection
on the segment's normal short of the segment's line). Viewers' and targets' coordinates in
every rectangle's frame are computed once per block of ``CHUNK`` worlds, worlds innermost, so
each (viewer, target, obstacle) test is a SIMD loop across worlds.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import torch

from marl_envs.native.lidar import planar_geometry
from marl_envs.native.parallel import launch, thread_range
from marl_envs.sensors.raycast import Obstacles

CHUNK = 64
FASTMATH = {"contract", "arcp", "nsz"}


@numba.njit(nogil=True, fastmath=FASTMATH, cache=True, error_model="numpy", inline="always")
def _crossing(x0, y0, x1, y1, hx, hy):
    """> 0 iff the open segment (x0, y0)-(x1, y1), in a rectangle's frame, crosses the open rectangle.

    The min of the separating-axis margin (the rectangle's radius on the segment's normal minus the
    line's distance, both times the length) and minus the outcode test (>= 0 where both ends lie
    beyond one face; on the face counts as beyond).
    """
    margin = abs(y1 - y0) * hx + abs(x1 - x0) * hy - abs(x0 * y1 - y0 * x1)
    apart = max(max(min(x0, x1) - hx, -hx - max(x0, x1)), max(min(y0, y1) - hy, -hy - max(y0, y1)))
    return min(margin, -apart)


@numba.njit(nogil=True, fastmath=FASTMATH, cache=True, boundscheck=False, error_model="numpy", inline="always")
def _ends(lx, ly, m, a, q, i, cut, tail):
    """A sight line's ends in rectangle m's frame, ``cut`` of it removed at the viewer's end and ``tail`` at the
    target's (both 0: the points themselves, exactly; nothing left: one point, which nothing blocks)."""
    dx, dy = lx[m, q, i] - lx[m, a, i], ly[m, q, i] - ly[m, a, i]
    x0, y0 = lx[m, a, i] + cut * dx, ly[m, a, i] + cut * dy
    empty = cut + tail >= np.float32(1.0)
    return x0, y0, x0 if empty else lx[m, q, i] - tail * dx, y0 if empty else ly[m, q, i] - tail * dy


@numba.njit(nogil=True, fastmath=FASTMATH, cache=True, boundscheck=False, error_model="numpy")
def _visible_rows(lo, hi, viewer, heading, target, geometry, valid, ignore, see_over, cut, tail, clipped, cos_half,
                  all_around, out):
    """Fill ``out[lo:hi]`` (B, A, T) bool; viewer (2, A, B), heading (A, B), target (2, T, B),
    geometry (6, M, B), valid (M, B), ignore (1 or B, A, T, M), see_over (A, T, B); where ``clipped``,
    cut and tail (A, T, B) are the fractions of each sight line left out at its two ends."""
    num_viewers, num_targets, num_obstacles = viewer.shape[1], target.shape[1], geometry.shape[1]
    per_world_ignore = ignore.shape[0] > 1
    zero = np.float32(0.0)
    zero = np.float32(0.0)
    # Points (viewers then targets) in each rectangle's frame.
    num_points = num_viewers + num_targets
    lx = np.empty((num_obstacles, num_points, CHUNK), np.float32)
    ly = np.empty((num_obstacles, num_points, CHUNK), np.float32)
    blocked = np.empty(CHUNK, np.float32)
    cos_h, sin_h = np.empty((num_viewers, CHUNK), np.float32), np.empty((num_viewers, CHUNK), np.float32)
    for start in range(lo, hi, CHUNK):
        n = min(CHUNK, hi - start)
        for a in range(num_viewers):
            for i in range(n):
                cos_h[a, i], sin_h[a, i] = math.cos(heading[a, start + i]), math.sin(heading[a, start + i])
        for m in range(num_obstacles):
            for p in range(num_points):
                points = viewer if p < num_viewers else target
                k = p if p < num_viewers else p - num_viewers
                for i in range(n):
                    j = start + i
                    ux, uy = geometry[2, m, j], geometry[3, m, j]
                    rx, ry = points[0, k, j] - geometry[0, m, j], points[1, k, j] - geometry[1, m, j]
                    lx[m, p, i], ly[m, p, i] = rx * ux + ry * uy, ry * ux - rx * uy
        for a in range(num_viewers):
            for t in range(num_targets):
                q = num_viewers + t
                for i in range(n):
                    blocked[i] = zero
                for m in range(num_obstacles):
                    if not per_world_ignore and ignore[0, a, t, m]:
                        continue
                    if clipped:
                        for i in range(n):
                            j = start + i
                            x0, y0, x1, y1 = _ends(lx, ly, m, a, q, i, cut[a, t, j], tail[a, t, j])
                            crossing = _crossing(x0, y0, x1, y1, geometry[4, m, j], geometry[5, m, j])
                            blocked[i] = max(blocked[i], crossing if valid[m, j] > zero else zero)
                    else:
                        for i in range(n):
                            j = start + i
                            crossing = _crossing(lx[m, a, i], ly[m, a, i], lx[m, q, i], ly[m, q, i],
                                                 geometry[4, m, j], geometry[5, m, j])
                            blocked[i] = max(blocked[i], crossing if valid[m, j] > zero else zero)
                if per_world_ignore:  # a second pass lifts the pairs' ignored hits (rare: per-world ignore)
                    _lift_ignored(start, n, a, t, q, lx, ly, geometry, valid, ignore, cut, tail, clipped, blocked)
                for i in range(n):
                    j = start + i
                    rx, ry = target[0, t, j] - viewer[0, a, j], target[1, t, j] - viewer[1, a, j]
                    along = rx * cos_h[a, i] + ry * sin_h[a, i]
                    cone = all_around | (along >= math.sqrt(rx * rx + ry * ry) * cos_half)
                    out[j, a, t] = cone & (see_over[a, t, j] | (blocked[i] <= zero))  # no short circuits: no branches


@numba.njit(nogil=True, fastmath=FASTMATH, cache=True, boundscheck=False, error_model="numpy")
def _lift_ignored(start, n, a, t, q, lx, ly, geometry, valid, ignore, cut, tail, clipped, blocked):
    """Recount ``blocked`` for one (viewer, target) pair over the obstacles its world does not ignore."""
    zero = np.float32(0.0)
    for i in range(n):
        j = start + i
        hit = False
        for m in range(geometry.shape[1]):
            if clipped:
                x0, y0, x1, y1 = _ends(lx, ly, m, a, q, i, cut[a, t, j], tail[a, t, j])
            else:
                x0, y0, x1, y1 = lx[m, a, i], ly[m, a, i], lx[m, q, i], ly[m, q, i]
            crossing = _crossing(x0, y0, x1, y1, geometry[4, m, j], geometry[5, m, j])
            hit = hit | ((crossing > zero) & (valid[m, j] > zero) & (not ignore[j, a, t, m]))
        blocked[i] = np.float32(1.0) if hit else zero


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _visible_parallel(parts, num_envs, viewer, heading, target, geometry, valid, ignore, see_over, cut, tail, clipped,
                      cos_half, all_around, out):
    for k in numba.prange(parts):
        lo, hi = thread_range(k, parts, num_envs, CHUNK)
        _visible_rows(lo, hi, viewer, heading, target, geometry, valid,
                      ignore, see_over, cut, tail, clipped, cos_half, all_around, out)


def visible(viewer_pos: torch.Tensor, heading: torch.Tensor, target_pos: torch.Tensor, obstacles: Obstacles,
            half_angle: float, ignore: torch.Tensor | None = None,
            see_over: torch.Tensor | None = None,
            clip: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """``sensors.vision.visible`` for CPU float32 tensors (same arguments, same (B, A, T) bool result)."""
    b, a, t, m = viewer_pos.shape[0], viewer_pos.shape[1], target_pos.shape[1], obstacles.num_obstacles
    out = torch.empty(b, a, t, dtype=torch.bool)
    if m == 0:  # nothing occludes: one empty rectangle slot keeps the kernel's shapes
        obstacles = Obstacles(viewer_pos.new_zeros(b, 1, 2), viewer_pos.new_zeros(b, 1, 2),
                              viewer_pos.new_zeros(b, 1, 2), torch.zeros(b, 1, dtype=torch.bool))
        ignore = None
    geometry, valid = planar_geometry(obstacles, np.float32)
    if ignore is None:
        ignore = torch.zeros(1, a, t, obstacles.num_obstacles, dtype=torch.bool)
    elif ignore.dim() == 3:
        ignore = ignore.unsqueeze(0)
    if see_over is None:
        see_over = torch.zeros(a, t, b, dtype=torch.bool)
    else:
        see_over = see_over.expand(b, a, t).permute(1, 2, 0).contiguous()
    if clip is None:
        cut = tail = np.zeros((1, 1, 1), np.float32)
    else:
        cut, tail = (f.to(torch.float32).expand(b, a, t).permute(1, 2, 0).contiguous().numpy() for f in clip)
    args = (viewer_pos.permute(2, 1, 0).contiguous().numpy(), heading.t().contiguous().numpy(),
            target_pos.permute(2, 1, 0).contiguous().numpy(), geometry, valid,
            ignore.expand(ignore.shape[0], a, t, -1).contiguous().numpy(), see_over.numpy(), cut, tail,
            clip is not None, np.float32(math.cos(min(half_angle, math.pi))), half_angle >= math.pi, out.numpy())
    launch(_visible_rows, _visible_parallel, b, *args)
    return out
