"""The position projection (``physics.projection``) of a block of worlds, for the fused physics kernel.

Same terms as the torch reference: box pairs by the separating-axis test, then every walled body
against every wall (deepest point per wall, corrections summed over walls), each from the state
before its own pass (Jacobi). What differs is the schedule: a cheap test per (pair or body, wall,
world) first, a SIMD loop, and the exact query only where it can matter. Bounding circles that do
not overlap mean separated boxes, and a body whose centre is farther than its bounding radius plus
the wall's half thickness minus the slop from a wall cannot be deeper than the slop into it: both
skipped terms are exactly zero in the reference. Box angles are read (cos, sin) only there.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from marl_envs.native.walls import LENGTH, N0, NX, NY, U0, UX, UY, wall_point
from marl_envs.physics.geometry import EPS
from marl_envs.physics.projection import FLUSH, RAMP

FASTMATH = {"contract", "arcp", "nsz"}
JIT = dict(nogil=True, fastmath=FASTMATH, cache=True, boundscheck=False, error_model="numpy")


@numba.njit(inline="always", **JIT)
def _sat(dx, dy, ca, sa, cb, sb, hxa, hya, hxb, hyb):
    """``projection.sat_overlap`` for one pair: least overlap and its axis from b to a."""
    one = np.float32(1.0)
    axbx, axby = ca * cb + sa * sb, sa * cb - ca * sb
    aybx, ayby = ca * sb - sa * cb, ca * cb + sa * sb
    depth, nx, ny, on_a = np.float32(np.inf), np.float32(0.0), np.float32(0.0), True
    for k in range(4):
        if k == 0:
            ux, uy, reach = ca, sa, hxa + hxb * abs(axbx) + hyb * abs(axby)
        elif k == 1:
            ux, uy, reach = -sa, ca, hya + hxb * abs(aybx) + hyb * abs(ayby)
        elif k == 2:
            ux, uy, reach = cb, sb, hxb + hxa * abs(axbx) + hya * abs(aybx)
        else:
            ux, uy, reach = -sb, cb, hyb + hxa * abs(axby) + hya * abs(ayby)
        along = dx * ux + dy * uy
        overlap = reach - abs(along)
        side = one if along >= np.float32(0.0) else -one
        if k == 0 or overlap < depth:
            depth, nx, ny, on_a = overlap, ux * side, uy * side, k < 2
    return depth, nx, ny, on_a


@numba.njit(inline="always", **JIT)
def _support(x, y, c, s, hx, hy, nx, ny):
    """``projection._support``: the box's point farthest along (nx, ny) (a face's middle when flush)."""
    one, inv = np.float32(1.0), np.float32(1.0 / FLUSH)
    sx = min(max((nx * c + ny * s) * inv, -one), one) * hx
    sy = min(max((ny * c - nx * s) * inv, -one), one) * hy
    return x + c * sx - s * sy, y + s * sx + c * sy


@numba.njit(**JIT)
def _box_pairs(start, n, s, rule, pairs, pair_f, inv_mass, inv_inertia, slop, flag, dp):
    """Separate overlapping box pairs at the incident vertex along their least-overlap axis (Jacobi)."""
    zero = np.float32(0.0)
    dp[:, :, :n] = zero
    for p in range(pairs.shape[0]):
        a, b = pairs[p, 0], pairs[p, 1]
        for i in range(n):  # bounding circles: apart means no overlap
            dx, dy = s[0, a, i] - s[0, b, i], s[1, a, i] - s[1, b, i]
            flag[i] = dx * dx + dy * dy < pair_f[4, p] * pair_f[4, p]
        for i in range(n):
            if flag[i]:
                _pair(start + i, i, s, rule, a, b, pair_f[:, p], inv_mass, inv_inertia, slop, dp)
    return _apply(n, s, dp)


@numba.njit(**JIT)
def _pair(j, i, s, rule, a, b, half, inv_mass, inv_inertia, slop, dp):
    """One pair of one world (``Projection._box_pairs``): accumulate both boxes' corrections in ``dp``."""
    zero = np.float32(0.0)
    xa, ya, xb, yb = s[0, a, i], s[1, a, i], s[0, b, i], s[1, b, i]
    ca, sa, cb, sb = math.cos(s[4, a, i]), math.sin(s[4, a, i]), math.cos(s[4, b, i]), math.sin(s[4, b, i])
    depth, nx, ny, on_a = _sat(xa - xb, ya - yb, ca, sa, cb, sb, half[0], half[1], half[2], half[3])
    if on_a:
        cx, cy = _support(xb, yb, cb, sb, half[2], half[3], nx, ny)
    else:
        cx, cy = _support(xa, ya, ca, sa, half[0], half[1], -nx, -ny)
    wa, wb = inv_mass[a] * rule[0, a, j], inv_mass[b] * rule[0, b, j]
    ia, ib = inv_inertia[a] * rule[0, a, j], inv_inertia[b] * rule[0, b, j]
    rna, rnb = (cx - xa) * ny - (cy - ya) * nx, (cx - xb) * ny - (cy - yb) * nx
    total = wa + wb + ia * rna * rna + ib * rnb * rnb
    if not total > zero:
        return
    excess = max(depth - slop, zero) * rule[1, a, j] * rule[1, b, j]
    lam = excess / total
    if not lam > zero:
        return
    vn = (s[2, a, i] - (cy - ya) * s[5, a, i] - s[2, b, i] + (cy - yb) * s[5, b, i]) * nx + \
        (s[3, a, i] + (cx - xa) * s[5, a, i] - s[3, b, i] - (cx - xb) * s[5, b, i]) * ny
    imp = -min(vn, zero) * min(excess * np.float32(1.0 / RAMP), np.float32(1.0)) / total
    dp[0, a, i] += wa * nx * lam
    dp[1, a, i] += wa * ny * lam
    dp[2, a, i] += wa * nx * imp
    dp[3, a, i] += wa * ny * imp
    dp[4, a, i] += ia * rna * lam
    dp[5, a, i] += ia * rna * imp
    dp[0, b, i] -= wb * nx * lam
    dp[1, b, i] -= wb * ny * lam
    dp[2, b, i] -= wb * nx * imp
    dp[3, b, i] -= wb * ny * imp
    dp[4, b, i] -= ib * rnb * lam
    dp[5, b, i] -= ib * rnb * imp


@numba.njit(inline="always", **JIT)
def _apply(n, s, dp):
    """Add the corrections; True if any was not zero (else the next iteration would find the same nothing)."""
    moved = False
    for b in range(s.shape[1]):
        for i in range(n):
            s[0, b, i] += dp[0, b, i]
            s[1, b, i] += dp[1, b, i]
            s[2, b, i] += dp[2, b, i]
            s[3, b, i] += dp[3, b, i]
            s[4, b, i] += dp[4, b, i]
            s[5, b, i] += dp[5, b, i]
            moved |= (dp[0, b, i] != 0) | (dp[1, b, i] != 0) | (dp[2, b, i] != 0) | (dp[3, b, i] != 0) | \
                (dp[4, b, i] != 0) | (dp[5, b, i] != 0)
    return moved


@numba.njit(inline="always", **JIT)
def _push(dp, b, i, amount, nx, ny, vx, vy):
    """Accumulate a wall's correction of body b: out along (nx, ny), minus the velocity into the wall."""
    dp[0, b, i] += amount * nx
    dp[1, b, i] += amount * ny
    into = min(vx * nx + vy * ny, np.float32(0.0)) * min(amount * np.float32(1.0 / RAMP), np.float32(1.0))
    dp[2, b, i] -= into * nx
    dp[3, b, i] -= into * ny


@numba.njit(**JIT)
def _box_wall(px, py, cos, sin, hx, hy, walls, tips, w, j, half_thickness, tip):
    """Deepest point of a box into wall w: its 4 corners, then (tip walls) the wall's 2 endpoints inside it."""
    best, bx, by = np.float32(-np.inf), np.float32(0.0), np.float32(0.0)
    for c in range(4):
        lx = hx if c == 0 or c == 3 else -hx
        ly = hy if c < 2 else -hy
        gap, nx, ny = wall_point(px + cos * lx - sin * ly, py + sin * lx + cos * ly, px, py, walls, w, j,
                                  half_thickness)
        if c == 0 or -gap > best:
            best, bx, by = -gap, nx, ny
    if tip:
        n_walls = walls.shape[1]
        for end in range(2):
            rx, ry = tips[0, w + end * n_walls, j] - px, tips[1, w + end * n_walls, j] - py
            sd, nx, ny = box_query(rx, ry, cos, sin, hx, hy)
            if half_thickness - sd > best:
                best, bx, by = half_thickness - sd, -nx, -ny
    return best, bx, by


@numba.njit(inline="always", **JIT)
def box_query(rx, ry, cos, sin, hx, hy):
    """``geometry.point_box_query_xy`` of one point: signed distance and outward normal."""
    zero, one, eps = np.float32(0.0), np.float32(1.0), np.float32(EPS)
    lx, ly = cos * rx + sin * ry, cos * ry - sin * rx
    dx, dy = abs(lx) - hx, abs(ly) - hy
    ox, oy = max(dx, zero), max(dy, zero)
    out_dist = math.sqrt(ox * ox + oy * oy)
    sd = out_dist + min(max(dx, dy), zero)
    inv = one / max(out_dist, eps)
    outside = out_dist > eps
    x_face = one if dx >= dy else zero
    nlx = (ox * inv if outside else x_face) * (one if lx >= zero else -one)
    nly = (oy * inv if outside else one - x_face) * (one if ly >= zero else -one)
    return sd, cos * nlx - sin * nly, sin * nlx + cos * nly


@numba.njit(**JIT)
def _walls(start, n, s, rule, walls, tips, discs, disc_r, wboxes, box_f, wall_f, inv_mass, inv_inertia, slop,
           half_thickness, flag, dp):
    """Move walled bodies back out of walls to the slop depth (Jacobi over walls), then apply."""
    zero = np.float32(0.0)
    dp[:, :, :n] = zero
    n_walls = walls.shape[1]
    for d in range(discs.shape[0]):
        b, radius = discs[d], disc_r[d]
        for w in range(n_walls):
            for i in range(n):
                j = start + i
                gap, nx, ny = wall_point(s[0, b, i], s[1, b, i], s[0, b, i], s[1, b, i], walls, w, j, half_thickness)
                amount = max(radius - gap - slop, zero) * max(rule[1, b, j], wall_f[0, w]) * rule[0, b, j]
                if amount > zero:
                    _push(dp, b, i, amount, nx, ny, s[2, b, i], s[3, b, i])
    for x in range(wboxes.shape[0]):
        b, hx, hy = wboxes[x], box_f[0, x], box_f[1, x]
        reach = box_f[2, x] + half_thickness - slop
        for w in range(n_walls):
            for i in range(n):  # the centre's distance to the segment, squared, against the reach
                j = start + i
                off = s[1, b, i] * walls[NY, w, j] + s[0, b, i] * walls[NX, w, j] - walls[N0, w, j]
                along = s[1, b, i] * walls[UY, w, j] + s[0, b, i] * walls[UX, w, j] - walls[U0, w, j]
                excess = along - min(max(along, zero), walls[LENGTH, w, j])
                flag[i] = off * off + excess * excess < reach * reach
            for i in range(n):
                if flag[i]:
                    j = start + i
                    a = s[4, b, i]
                    depth, nx, ny = _box_wall(s[0, b, i], s[1, b, i], math.cos(a), math.sin(a), hx, hy,
                                                      walls, tips, w, j, half_thickness, wall_f[1, w] > zero)
                    amount = max(depth - slop, zero) * max(rule[1, b, j], wall_f[0, w]) * rule[0, b, j]
                    if amount > zero:
                        _push(dp, b, i, amount, nx, ny, s[2, b, i], s[3, b, i])
    return _apply(n, s, dp)


@numba.njit(**JIT)
def project(start, n, s, rule, walls, tips, proj, params, flag, dp):
    """The projection of one block (``physics.projection.Projection.__call__``): box pairs, then walls."""
    pairs, pair_f, inv_mass, discs, disc_r, wboxes, box_f, wall_flags, inv_inertia = proj
    slop, half_thickness = params.slop, params.half_thickness
    for _ in range(params.iterations):
        moved = False
        if pairs.shape[0]:
            moved |= _box_pairs(start, n, s, rule, pairs, pair_f, inv_mass, inv_inertia, slop, flag, dp)
        if walls.shape[1] and (discs.shape[0] or wboxes.shape[0]):
            moved |= _walls(start, n, s, rule, walls, tips, discs, disc_r, wboxes, box_f, wall_flags, inv_mass,
                            inv_inertia, slop, half_thickness, flag, dp)
        if not moved:  # nothing moved in this block: every further iteration is the same no-op (exact)
            break
