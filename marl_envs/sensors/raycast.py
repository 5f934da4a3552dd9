"""Exact, batched ray queries against oriented rectangles (walls and boxes alike).

Hide-and-seek senses its worlds through rays (lidar) and segments (line of sight). Every
obstacle, wall or box, is an oriented rectangle, so one code path serves them all and the
answers are exact rather than marched. The cost is in the pairs: B=4096 worlds with A=4
agents, R=30 rays and M=11 obstacles make 5.4 million ray-rectangle pairs per step, so the
design counts passes over them in eager CPU torch (segment queries, for line of sight, are in
``segments.py`` and share the obstacles of ``obstacles.py`` and the block layout of ``blocks.py``):

* **Rays as linear functionals.** Along a unit ray ``d``, the line of a face with inward normal
  ``n`` at distance ``gap`` from the origin is ``gap / (n . d)`` away, so the *inverse* distance
  ``d . n / gap`` is linear in ``d``. From outside, a rectangle shows one or two faces, and a
  ray enters it at ``1 / min(s_x, s_y)`` over them if it points into the rectangle's
  silhouette: the cone ``d . m >= |m|^2 / 2`` around ``m = v1 + v2``, the sum of the unit
  vectors to the silhouette's ends, also linear in ``d``. So each (origin, rectangle) pair is
  reduced once to three 2D vectors and an offset, and each ray then costs two multiply-adds per
  functional, a min over the three and a max over M (the nearest hit has the largest inverse
  distance). The cone enters the min scaled by ``CONE_SCALE``: negative outside the cone, no
  hit; above any inverse distance inside. Rays parallel to a face are not special (``s = 0``).
* **CPU kernels.** Broadcasting ops are several times slower on strided views, ``torch.where``,
  ``masked_fill`` and float comparisons are branchy kernels (about 5x a multiply), and
  ``max(dim)`` with indices about 25x ``amax``. So worlds are cut into contiguous blocks
  (``WorldBlocks``: block outermost, worlds innermost), the per-pair reductions are
  computed for all blocks at once, the per-ray or per-segment work block by block in
  cache-sized buffers (``BLOCK_ELEMENTS``), masks are 0/1 floats blended with ``lerp`` or a
  multiply, and hits are ``amax`` over floats. A block is a batched computation over
  hundreds of worlds, not a loop over worlds; GPUs and ``torch.compile`` get one block.

Conventions: a rectangle has centre ``center``, unit local x axis ``axis = (cos, sin)`` and
half extents ``half``. Rays see closed rectangles (an origin on the boundary is inside,
distance 0); segments see open ones (touching at an endpoint or sliding along a face does
not block). The geometry of invalid slots is replaced before any query, so it may hold
anything, NaN included.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from marl_envs.sensors.blocks import WorldBlocks, planar_obstacles
from marl_envs.sensors.obstacles import Obstacles

__all__ = ["CONE_SCALE", "INVALID_HALF", "MIN_GAP", "Obstacles", "WorldBlocks", "cast_blocked",
           "nearest_hit", "planar_obstacles", "ray_cast", "ray_functionals"]

CONE_SCALE = 1e24
"""Scale of the cone functional: inside the cone it exceeds any inverse distance (<= 1 / MIN_GAP)."""

MIN_GAP = 1e-12
"""Origin-to-face distances below this are clamped, so inverse distances stay finite."""

INVALID_HALF = -1e20
"""Half extent of invalid slots in segment queries: every point lies beyond all their faces."""


def ray_functionals(origin: Tensor, obstacles: Obstacles, blocks: WorldBlocks) -> tuple[Tensor, Tensor, Tensor]:
    """Three linear functionals of the ray direction per (origin, obstacle) pair (module docstring).

    For a unit direction ``d``, ``min(w[:, 0] . d, w[:, 1] . d, w[:, 2] . d + bias)`` (the x-face,
    y-face and cone functionals) is the inverse distance at which the ray enters the rectangle
    if it hits it, and <= 0 if it misses (always, for invalid obstacles). Written without
    selects or comparisons on the big tensors, both slow, branchy CPU kernels: 0/1 masks are
    floats made with ``sign``, and a selection is a ``lerp`` by such a mask.

    Args:
        origin: (2, count, A, size) ray origins in the blocked layout (``WorldBlocks.planar``).
        obstacles: M rectangles per world.
        blocks: the layout.

    Returns:
        w: (2, count, 3, M, A, size) the functionals' x and y coefficients.
        bias: (count, M, A, size) the cone functional's offset.
        inside: (count, M, A, size) float, 1 where the origin is in the closed rectangle of a valid obstacle.
    """
    geometry, valid = planar_obstacles(obstacles, blocks, 0.0)
    cx, cy, ux, uy = geometry[:4]
    half = geometry[4:]
    ox, oy = origin[:, :, None]  # (count, 1, A, size)
    rx, ry = ox - cx, oy - cy  # (count, M, A, size)
    shape = rx.shape
    p = rx.new_empty(2, *shape)  # the origin in each rectangle's frame
    torch.mul(rx, ux, out=p[0]).addcmul_(ry, uy)
    torch.mul(ry, ux, out=p[1]).addcmul_(rx, uy, value=-1.0)
    sign = torch.copysign(p.new_ones(()), p)  # the side of the origin: only faces on that side can be seen
    gap = p.abs().sub_(half)  # distance beyond each face's line, > 0 where that face is visible
    seen = torch.sign(gap).clamp_min_(0.0)  # 1 where visible, else 0
    # Inverse-distance functionals -(direction . normal) / gap; a face seen edge-on or from
    # behind copies the other one, so that its line never limits the entry.
    k = torch.div(sign, gap.clamp_min_(MIN_GAP), out=gap)
    nux = -ux
    x0, x1, y0, y1 = k[0] * nux, k[0] * -uy, k[1] * uy, k[1] * nux
    w = p.new_empty(2, shape[0], 3, *shape[1:])
    torch.lerp(y0, x0, seen[0], out=w[0, :, 0])
    torch.lerp(y1, x1, seen[0], out=w[1, :, 0])
    torch.lerp(x0, y0, seen[1], out=w[0, :, 1])
    torch.lerp(x1, y1, seen[1], out=w[1, :, 1])
    # Cone: unit vectors from the origin to the two ends v1, v2 of the chain of visible faces, in
    # the local frame: v1 = (sx hx, sy hy) - p with sy flipped if face x is seen, v2 likewise.
    sh = sign.mul_(half)
    x, y = p.new_empty(2, 2, *shape)  # x = (v1.x, v2.x), y = (v1.y, v2.y)
    torch.sub(sh[0], p[0], out=x[0])
    torch.sub(sh[1], p[1], out=y[1])
    torch.lerp(y[1], torch.add(y[1], sh[1], alpha=-2.0), seen[0], out=y[0])
    torch.lerp(x[0], torch.add(x[0], sh[0], alpha=-2.0), seen[1], out=x[1])
    inv_norm = torch.mul(x, x).addcmul_(y, y).clamp_min_(MIN_GAP**2).rsqrt_()
    active = torch.maximum(seen[0], seen[1]).mul_(valid)  # valid, and the origin outside
    x.mul_(inv_norm)
    y.mul_(inv_norm)
    mx = torch.add(x[0], x[1]).mul_(active)  # bisector m = v1 + v2: for unit d, the cone is
    my = torch.add(y[0], y[1]).mul_(active)  # d . m >= |m|^2 / 2 (|m| = 2 cos(half opening))
    kux, kuy = ux * CONE_SCALE, uy * CONE_SCALE
    torch.mul(mx, kux, out=w[0, :, 2]).addcmul_(my, kuy, value=-1.0)
    torch.mul(mx, kuy, out=w[1, :, 2]).addcmul_(my, kux)
    bias = mx.mul_(mx).addcmul_(my, my).mul_(-CONE_SCALE / 2).sub_(1.0).add_(active)  # inactive: -1, no hit
    return w, bias, valid - active


def nearest_hit(
    w: Tensor, bias: Tensor, direction: Tensor, antipodal: bool, with_index: bool
) -> tuple[Tensor, Tensor | None]:
    """Largest inverse hit distance over the M obstacles for every ray, block by block.

    Args:
        w, bias: functionals of ``ray_functionals``.
        direction: (2, count, R', A, size) unit ray directions.
        antipodal: the rays are these R' directions followed by their opposites (R = 2 R'):
            the functionals of ``-d`` are minus those of ``d`` (cone: ``2 bias`` minus), which
            halves the multiply-adds.
        with_index: also return the obstacle attaining it (lowest index among ties); not antipodal.

    Returns:
        best: (count, R, A * size) inverse distance to the nearest hit, <= 0 where nothing is hit.
        index: (count, R, A * size) long obstacle index (meaningful where best > 0), or None.
    """
    _, count, h, a, size = direction.shape
    m, n = w.shape[3], a * size
    if antipodal and with_index:
        raise ValueError("nearest_hit: indices are not available for antipodal rays; cast them all instead.")
    r = 2 * h if antipodal else h
    if torch.compiler.is_compiling():
        return _nearest_hit_traced(w, bias, direction, antipodal, with_index)
    best = direction.new_empty(count, r, n)
    index = torch.empty(count, r, n, dtype=torch.long, device=w.device) if with_index else None
    out = direction.new_empty(h, 3, m, n)
    s = direction.new_empty(h, m, n)
    rank = torch.arange(m, 0, -1, dtype=out.dtype, device=out.device).view(m, 1)  # M - index
    for j in range(count):
        d = direction[:, j].reshape(2, h, 1, 1, n)
        wj, bj = w[:, j].view(2, 3, m, n), bias[j].view(m, n)
        torch.mul(d[0], wj[0, :2], out=out[:, :2])
        torch.addcmul(bj, d[0, :, 0], wj[0, 2], out=out[:, 2])
        out.addcmul_(d[1], wj[1])
        torch.amin(out, dim=1, out=s)
        torch.amax(s, dim=1, out=best[j, :h])
        if index is not None:
            index[j] = _first_match(s, best[j], rank)
        if antipodal:  # min(-s_x, -s_y, 2 b - c) = -max(s_x, s_y, c - 2 b): negated after the loop
            out[:, 2].sub_(bj, alpha=2.0)
            torch.amax(out, dim=1, out=s)
            torch.amin(s, dim=1, out=best[j, h:])
    if antipodal:
        best[:, h:].neg_()
    return best, index


def _nearest_hit_traced(
    w: Tensor, bias: Tensor, direction: Tensor, antipodal: bool, with_index: bool
) -> tuple[Tensor, Tensor | None]:
    """``nearest_hit`` without ``out=`` buffers, for ``torch.compile``.

    The eager path writes into preallocated strided views to spare allocations; dynamo cannot
    trace ``out=`` into a non-contiguous view (a graph break per block), while inductor fuses
    this plain form into one loop nest. Same algebra, same results.
    """
    _, count, h, a, size = direction.shape
    m, n = w.shape[3], a * size
    d = direction.reshape(2, count, h, 1, 1, n)
    wj, bj = w.view(2, count, 1, 3, m, n), bias.view(count, 1, m, n)
    out = d[0] * wj[0] + d[1] * wj[1]  # (count, h, 3, m, n)
    s = torch.minimum(torch.minimum(out[:, :, 0], out[:, :, 1]), out[:, :, 2] + bj)  # (count, h, m, n)
    best = s.amax(dim=2)
    index = None
    if with_index:
        rank = torch.arange(m, 0, -1, dtype=s.dtype, device=s.device).view(m, 1)
        index = torch.stack([_first_match(s[j], best[j], rank) for j in range(count)])
    if antipodal:
        back = torch.maximum(torch.maximum(out[:, :, 0], out[:, :, 1]), out[:, :, 2] - bj).amin(dim=2)
        best = torch.cat((best, back.neg()), dim=1)
    return best, index


def _first_match(s: Tensor, best: Tensor, rank: Tensor) -> Tensor:
    """Index of the first obstacle where ``s`` (R, M, n) equals its max ``best`` (R, n); ``rank`` = M - index.

    ``sign(s - best) + 1`` is 1 at the maxima and 0 elsewhere: no comparison kernels (slow on CPUs).
    """
    m = rank.shape[0]
    return m - torch.sub(s, best.unsqueeze(1)).sign_().add_(1.0).mul_(rank).amax(dim=1).long()


def cast_blocked(
    origin: Tensor,
    direction: Tensor,
    obstacles: Obstacles,
    blocks: WorldBlocks,
    max_range: float,
    antipodal: bool = False,
    with_index: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """``ray_cast`` in the blocked layout: origin (2, count, A, size), direction (2, count, R', A, size).

    ``antipodal`` as in ``nearest_hit``. Returns distance and index (or None), each (B, A, R).
    """
    _, count, h, a, size = direction.shape
    r = 2 * h if antipodal else h
    if obstacles.num_obstacles == 0:
        distance = direction.new_full((blocks.num_envs, a, r), max_range)
        return distance, torch.full_like(distance, -1, dtype=torch.long) if with_index else None
    w, bias, inside = ray_functionals(origin, obstacles, blocks)
    best, index = nearest_hit(w, bias, direction, antipodal, with_index)
    inside_any = inside.amax(dim=1, keepdim=True) > 0  # (count, 1, A, size)
    inverse = torch.maximum(best.view(count, r, a, size), torch.where(inside_any, math.inf, -math.inf))
    distance = blocks.merge(inverse.clamp_min_(1.0 / max_range).reciprocal_().clamp_max_(max_range).transpose(1, 2))
    if index is None:
        return distance, None
    hit = (best > 1.0 / max_range).view(count, r, a, size)
    index = torch.where(hit, index.view(count, r, a, size), -1)
    index = torch.where(inside_any, inside.argmax(dim=1, keepdim=True), index)
    return distance, blocks.merge(index.transpose(1, 2))


def ray_cast(origin: Tensor, direction: Tensor, obstacles: Obstacles, max_range: float) -> tuple[Tensor, Tensor]:
    """Distance along each ray to the first obstacle it hits, and which one.

    Args:
        origin: (B, A, 2) ray origins (one per agent).
        direction: (B, A, R, 2) unit ray directions (not normalised here: the cone test assumes unit length).
        obstacles: M rectangles per world.
        max_range: rays end here (may be ``math.inf``).

    Returns:
        distance: (B, A, R) to the first hit, clamped to ``max_range``; ``max_range`` where nothing
            is hit within range; 0 if the origin is inside (or on) a valid obstacle.
        index: (B, A, R) long obstacle index of that hit, -1 for no hit within range (the
            containing obstacle, lowest index first, for an origin inside one).
    """
    b, a, r, _ = direction.shape
    blocks = WorldBlocks.of(b, 3 * obstacles.num_obstacles * a * r, origin.device)
    planar_dir = blocks.split(direction.permute(0, 3, 2, 1)).movedim(1, 0).contiguous()  # (2, count, R, A, size)
    return cast_blocked(blocks.planar(origin), planar_dir, obstacles, blocks, max_range, with_index=True)
