"""Walls as the kernels read them: ``physics.walls.WallFrames`` packed into one (7, W, B) array.

The row of each frame field is its position in ``WallFrames`` (one definition: the dataclass),
and ``wall_point`` is ``walls.thick_segment_query`` of one point, shared by the contact forces
(``native.physics``) and the position projection (``native.projection``).
"""

from __future__ import annotations

import math
from dataclasses import fields

import numba
import numpy as np
import torch

from marl_envs.physics.geometry import EPS
from marl_envs.physics.walls import WallFrames, WallGeometry

FIELDS = tuple(f.name for f in fields(WallFrames))
NX, NY, UX, UY, N0, U0, LENGTH = (FIELDS.index(name) for name in ("nx", "ny", "ux", "uy", "n0", "u0", "length"))
FASTMATH = {"contract", "arcp", "nsz"}


def frames(geometry: WallGeometry | None, num_envs: int) -> np.ndarray:
    """(7, W, B) float32 frames, rows in ``WallFrames`` order (W = 0 without walls)."""
    if geometry is None:
        return np.zeros((len(FIELDS), 0, num_envs), np.float32)
    f = geometry.frames
    return torch.cat([getattr(f, name) for name in FIELDS]).contiguous().numpy()


def tips(geometry: WallGeometry | None, num_envs: int) -> np.ndarray:
    """(2, 2W, B) wall endpoints x, y (starts, then ends)."""
    if geometry is None:
        return np.zeros((2, 0, num_envs), np.float32)
    return torch.stack((geometry.tips_x, geometry.tips_y)).contiguous().numpy()


@numba.njit(nogil=True, fastmath=FASTMATH, cache=True, boundscheck=False, error_model="numpy", inline="always")
def wall_point(px, py, cx, cy, walls, w, j, half_thickness):
    """``walls.thick_segment_query`` of one point (body centre cx, cy) against wall w of world j:
    the gap beyond the wall's surface and the unit push direction in world axes."""
    zero, one = np.float32(0.0), np.float32(1.0)
    nx, ny, ux, uy = walls[NX, w, j], walls[NY, w, j], walls[UX, w, j], walls[UY, w, j]
    n0, u0, length = walls[N0, w, j], walls[U0, w, j], walls[LENGTH, w, j]
    off = py * ny + px * nx - n0
    along = py * uy + px * ux - u0
    centre_off = cy * ny + cx * nx - n0
    centre_along = cy * uy + cx * ux - u0
    excess = along - min(max(along, zero), length)
    dist = math.sqrt(off * off + excess * excess)
    slab = (excess == zero) & (centre_along > zero) & (centre_along < length)
    side = one if centre_off >= zero else -one
    gap = (side * off if slab else dist) - half_thickness
    inv = one / max(dist, np.float32(EPS))
    normal = side if slab else off * inv
    along_coef = excess * inv
    return gap, normal * nx + along_coef * ux, normal * ny + along_coef * uy
