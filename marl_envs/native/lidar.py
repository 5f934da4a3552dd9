"""The lidar fan (``marl_envs.sensors.lidar``) as one fused CPU kernel.

Same algebra as ``sensors.raycast``: each (origin, rectangle) pair is reduced to three linear
functionals of the ray direction (the two visible faces' inverse distances and the silhouette
cone), and a ray's inverse hit distance is their min, maximised over rectangles. The kernel
takes a block of ``CHUNK`` worlds at a time, worlds innermost, so every loop below is a SIMD
loop across worlds and the per-pair functionals never leave the L1 cache. With R even, ray
``r + R/2`` is minus ray ``r`` and its functionals are the negated ones, so the back half of
the fan costs no extra multiply.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import torch

from marl_envs.native.parallel import launch, thread_range
from marl_envs.sensors.raycast import CONE_SCALE, MIN_GAP, Obstacles

CHUNK = 64
FASTMATH = {"contract", "arcp", "nsz"}  # no reassociation: the cone functional cancels large terms


@numba.njit(nogil=True, fastmath=FASTMATH, cache=True, boundscheck=False, error_model="numpy", inline="always")
def _functionals(start, n, a, m, origin, geometry, valid, w, inside):
    """Rectangle m's three functionals of the ray direction for agent a of the block: ``w`` (7, CHUNK) gets
    face x (2), face y (2), cone (2) and the cone's bias; ``inside`` marks origins within a rectangle."""
    one, zero, two = np.float32(1.0), np.float32(0.0), np.float32(2.0)
    min_gap, scale = np.float32(MIN_GAP), np.float32(CONE_SCALE)
    for i in range(n):
        j = start + i
        ux, uy, hx, hy = geometry[2, m, j], geometry[3, m, j], geometry[4, m, j], geometry[5, m, j]
        rx, ry = origin[0, a, j] - geometry[0, m, j], origin[1, a, j] - geometry[1, m, j]
        px, py = rx * ux + ry * uy, ry * ux - rx * uy  # the origin in the rectangle's frame
        sx = one if px >= zero else -one
        sy = one if py >= zero else -one
        gx, gy = abs(px) - hx, abs(py) - hy  # > 0: that face is visible
        see_x, see_y = gx > zero, gy > zero
        kx, ky = sx / max(gx, min_gap), sy / max(gy, min_gap)
        x0, x1, y0, y1 = -kx * ux, -kx * uy, ky * uy, -ky * ux
        v = valid[m, j]
        active = v and (see_x or see_y)  # valid, and the origin outside
        # A face seen edge-on or from behind copies the other one (it never limits entry).
        w[0, i] = (x0 if see_x else y0) if v else zero
        w[1, i] = (x1 if see_x else y1) if v else zero
        w[2, i] = (y0 if see_y else x0) if v else zero
        w[3, i] = (y1 if see_y else x1) if v else zero
        # Cone around m = v1 + v2, the unit vectors to the silhouette's ends.
        shx, shy = sx * hx, sy * hy
        v1x, v2y = shx - px, shy - py
        v1y = v2y - two * shy if see_x else v2y
        v2x = v1x - two * shx if see_y else v1x
        n1 = one / math.sqrt(max(v1x * v1x + v1y * v1y, min_gap * min_gap))
        n2 = one / math.sqrt(max(v2x * v2x + v2y * v2y, min_gap * min_gap))
        mx, my = v1x * n1 + v2x * n2, v1y * n1 + v2y * n2
        w[4, i] = (mx * ux - my * uy) * scale if active else zero
        w[5, i] = (mx * uy + my * ux) * scale if active else zero
        w[6, i] = (mx * mx + my * my) * (-scale / two) if active else -one  # inactive: never a hit
        inside[i] = inside[i] | (v and not active)


@numba.njit(nogil=True, fastmath=FASTMATH, cache=True, boundscheck=False, error_model="numpy", inline="always")
def _cast(n, cast, antipodal, w, dx, dy, best):
    """Each ray's inverse hit distance against one rectangle (the min of its functionals), kept if larger."""
    for r in range(cast):
        for i in range(n):
            fx = w[0, i] * dx[r, i] + w[1, i] * dy[r, i]
            fy = w[2, i] * dx[r, i] + w[3, i] * dy[r, i]
            cone = w[4, i] * dx[r, i] + w[5, i] * dy[r, i]
            best[r, i] = max(best[r, i], min(min(fx, fy), cone + w[6, i]))
    if antipodal:  # ray r + R/2 is -d: its functionals are minus those of d
        for r in range(cast):
            for i in range(n):
                fx = w[0, i] * dx[r, i] + w[1, i] * dy[r, i]
                fy = w[2, i] * dx[r, i] + w[3, i] * dy[r, i]
                cone = w[4, i] * dx[r, i] + w[5, i] * dy[r, i]
                best[r + cast, i] = max(best[r + cast, i], min(min(-fx, -fy), w[6, i] - cone))


@numba.njit(nogil=True, fastmath=FASTMATH, cache=True, boundscheck=False, error_model="numpy")
def _lidar_rows(lo, hi, origin, heading, geometry, valid, fan_cos, fan_sin, max_range, antipodal, out):
    """Fill ``out[lo:hi]`` (B, A, R); origin (2, A, B), heading (A, B), geometry (6, M, B), valid (M, B)."""
    num_agents, num_obstacles = heading.shape[0], geometry.shape[1]
    num_rays = out.shape[2]
    cast = num_rays // 2 if antipodal else num_rays
    one, zero = np.float32(1.0), np.float32(0.0)
    far = one / max_range
    cos_h, sin_h = np.empty(CHUNK, np.float32), np.empty(CHUNK, np.float32)
    dx, dy = np.empty((cast, CHUNK), np.float32), np.empty((cast, CHUNK), np.float32)
    best = np.empty((num_rays, CHUNK), np.float32)
    w = np.empty((7, CHUNK), np.float32)  # face x (2), face y (2), cone (2), cone bias
    inside = np.empty(CHUNK, np.bool_)
    for start in range(lo, hi, CHUNK):
        n = min(CHUNK, hi - start)
        for a in range(num_agents):
            for i in range(n):
                cos_h[i], sin_h[i] = math.cos(heading[a, start + i]), math.sin(heading[a, start + i])
                inside[i] = False
            for r in range(cast):
                for i in range(n):
                    dx[r, i] = cos_h[i] * fan_cos[r] - sin_h[i] * fan_sin[r]
                    dy[r, i] = sin_h[i] * fan_cos[r] + cos_h[i] * fan_sin[r]
            best[:, :n] = far
            for m in range(num_obstacles):
                _functionals(start, n, a, m, origin, geometry, valid, w, inside)
                _cast(n, cast, antipodal, w, dx, dy, best)
            for i in range(n):
                for r in range(num_rays):
                    out[start + i, a, r] = zero if inside[i] else min(one / best[r, i], max_range)


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _lidar_parallel(parts, num_envs, origin, heading, geometry, valid, fan_cos, fan_sin, max_range, antipodal, out):
    for k in numba.prange(parts):
        lo, hi = thread_range(k, parts, num_envs, CHUNK)
        _lidar_rows(lo, hi, origin, heading, geometry, valid, fan_cos,
                    fan_sin, max_range, antipodal, out)


_FANS: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _fan(num_rays: int) -> tuple[np.ndarray, np.ndarray]:
    """Agent-frame ray angles ``2 pi r / R`` as float32 cosines and sines (computed in float64, as the reference)."""
    if num_rays not in _FANS:
        angle = np.arange(num_rays, dtype=np.float64) * (2 * math.pi / num_rays)
        _FANS[num_rays] = (np.cos(angle).astype(np.float32), np.sin(angle).astype(np.float32))
    return _FANS[num_rays]


def planar_geometry(obstacles: Obstacles, valid_dtype: type = np.bool_) -> tuple[np.ndarray, np.ndarray]:
    """(6, M, B) centre, axis and half extents, worlds innermost, and (M, B) validity (bool, or 0/1 floats)."""
    geometry = torch.cat((obstacles.center, obstacles.axis, obstacles.half), dim=-1).permute(2, 1, 0).contiguous()
    valid = obstacles.valid.t()
    return geometry.numpy(), (valid.float() if valid_dtype == np.float32 else valid).contiguous().numpy()


def lidar(origin: torch.Tensor, heading: torch.Tensor, obstacles: Obstacles, num_rays: int,
          max_range: float) -> torch.Tensor:
    """``sensors.lidar.lidar`` for CPU float32 tensors (same arguments, same (B, A, R) result)."""
    b, a = heading.shape
    out = torch.empty(b, a, num_rays)
    if obstacles.num_obstacles == 0 or num_rays == 0:
        return out.fill_(max_range)
    geometry, valid = planar_geometry(obstacles)
    planar_origin = origin.permute(2, 1, 0).contiguous().numpy()
    planar_heading = heading.t().contiguous().numpy()
    fan_cos, fan_sin = _fan(num_rays)
    antipodal = num_rays % 2 == 0
    args = (planar_origin, planar_heading, geometry, valid, fan_cos, fan_sin, np.float32(max_range), antipodal,
            out.numpy())
    launch(_lidar_rows, _lidar_parallel, b, *args)
    return out
