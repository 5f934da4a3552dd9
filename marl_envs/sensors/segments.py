"""Exact, batched segment queries against oriented rectangles: does a sight line cross a wall or a box?

Line of sight asks, for every (viewer, target) pair, whether the open segment between them
crosses an obstacle. It shares ``raycast``'s obstacle layout (``Obstacles``, the contiguous
world blocks of ``WorldBlocks`` and the planar geometry of ``planar_obstacles``) and its CPU
rules (float masks and ``amax`` instead of ``torch.where`` and ``any``), with another test,
the separating axis theorem: an open segment misses an open rectangle iff both ends lie beyond
one face (Cohen-Sutherland outcodes per endpoint, one bitwise AND per pair) or the rectangle's
projection on the segment's normal does not reach the segment's line (one cross product). No
division: zero-length and axis-parallel segments are ordinary.

Segments see open rectangles: touching at an endpoint or sliding along a face does not block.
"""

from __future__ import annotations

import torch
from torch import Tensor

from marl_envs.sensors.blocks import WorldBlocks, planar_obstacles
from marl_envs.sensors.obstacles import Obstacles
from marl_envs.sensors.raycast import INVALID_HALF


def local_points(points: Tensor, geometry: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Points in every obstacle's frame, and their Cohen-Sutherland outcodes.

    Args:
        points: (2, count, P, size) in the blocked layout.
        geometry: (6, count, M, 1, size) of ``planar_obstacles``.

    Returns:
        lx, ly: (count, M, P, size) coordinates in each rectangle's frame.
        code: (count, M, P, size) uint8 bits for beyond the +x, -x, +y, -y faces (on a face
            counts as beyond; all four for the negative half extents of invalid slots).
    """
    cx, cy, ux, uy, hx, hy = geometry
    rx, ry = points[0, :, None] - cx, points[1, :, None] - cy
    lx = torch.mul(rx, ux).addcmul_(ry, uy)
    ly = torch.mul(ry, ux).addcmul_(rx, uy, value=-1.0)
    code = torch.ge(lx, hx).view(torch.uint8)
    code |= torch.le(lx, -hx).view(torch.uint8) << 1
    code |= torch.ge(ly, hy).view(torch.uint8) << 2
    code |= torch.le(ly, -hy).view(torch.uint8) << 3
    return lx, ly, code


def crossing_margin(start: tuple[Tensor, ...], end: tuple[Tensor, ...], half: Tensor, keep: Tensor | None) -> Tensor:
    """Separating-axis test of segments against the rectangles of one block, in their frames.

    The margin of a (segment, rectangle) pair is positive iff the rectangle's interior meets the
    open segment: the rectangle's radius projected on the segment's normal minus the line's
    distance from its centre (both times the segment's length), zeroed where the outcodes
    put both ends beyond one face or ``keep`` is false. Floats and ``amax`` rather than
    comparisons and ``any``, which are several times slower on a CPU.

    Args:
        start, end: (x, y, outcode) of ``local_points`` for one block, broadcastable to (M, P, Q, size).
        half: (2, M, 1, 1, size) or (2, M, 1, size) half extents.
        keep: optional bool broadcastable to (M, P, Q, size), false for obstacles that cannot block.

    Returns:
        (P, Q, size) the largest margin over the M rectangles (> 0: blocked).
    """
    x0, y0, code0 = start
    x1, y1, code1 = end
    gx, gy = (x1 - x0).abs_(), (y1 - y0).abs_()
    margin = torch.mul(gy, half[0]).addcmul_(gx, half[1])  # the rectangle projected on the segment's normal
    margin.sub_(torch.mul(x0, y1).addcmul_(y0, x1, value=-1.0).abs_())  # minus |cross(start, end)|
    apart = torch.logical_not(torch.bitwise_and(code0, code1))  # no face has both ends beyond it
    if keep is not None:
        apart &= keep
    return margin.mul_(apart.view(torch.uint8)).amax(dim=0)


def pairwise_blocked(start: Tensor, end: Tensor, obstacles: Obstacles, ignore: Tensor | None = None) -> Tensor:
    """``segment_blocked`` for every (start, end) pair: P starts against Q ends (e.g. viewers and targets).

    Args:
        start: (B, P, 2).
        end: (B, Q, 2).
        obstacles: M rectangles per world.
        ignore: optional bool (P, Q, M) or (B, P, Q, M), obstacles that cannot block that pair.

    Returns:
        (B, P, Q) bool, true where the open segment start -> end crosses a valid, non-ignored obstacle.
    """
    b, p, q, m = start.shape[0], start.shape[1], end.shape[1], obstacles.num_obstacles
    if m == 0:
        return torch.zeros(b, p, q, dtype=torch.bool, device=start.device)
    if torch.compiler.is_compiling():
        return _pairwise_blocked_traced(start, end, obstacles, ignore)
    blocks = WorldBlocks.of(b, m * p * q, start.device)
    geometry, _ = planar_obstacles(obstacles, blocks, INVALID_HALF)
    sx, sy, s_code = local_points(blocks.planar(start), geometry)
    ex, ey, e_code = local_points(blocks.planar(end), geometry)
    keep = None if ignore is None else _keep(ignore, 3, blocks)
    margin = start.new_empty(blocks.count, p, q, blocks.size)
    for j in range(blocks.count):
        a = (sx[j, :, :, None], sy[j, :, :, None], s_code[j, :, :, None])  # (M, P, 1, size)
        z = (ex[j, :, None], ey[j, :, None], e_code[j, :, None])  # (M, 1, Q, size)
        margin[j] = crossing_margin(a, z, geometry[4:, j, :, :, None], None if keep is None else keep[j % len(keep)])
    return blocks.merge(margin > 0)


def _pairwise_blocked_traced(start: Tensor, end: Tensor, obstacles: Obstacles, ignore: Tensor | None) -> Tensor:
    """``pairwise_blocked`` as plain broadcasting over (B, P, Q, M), for ``torch.compile``.

    The eager path's blocked layout, uint8 outcodes and ``out=`` buffers suit eager CPU kernels;
    inductor fuses this form, with bool masks and ``any``, into one loop nest (the blocked form
    compiles to a kernel ten times slower). Same test, same answers.
    """
    ux, uy = obstacles.axis[:, None].unbind(-1)  # (B, 1, M)
    hx, hy = obstacles.half[:, None].unbind(-1)

    def local(points: Tensor) -> tuple[Tensor, Tensor]:  # (B, K, 2) -> x, y (B, K, M) in each rectangle's frame
        rx, ry = (points[:, :, None] - obstacles.center[:, None]).unbind(-1)
        return rx * ux + ry * uy, ry * ux - rx * uy

    (x0, y0), (x1, y1) = local(start), local(end)
    x0, y0, x1, y1 = x0[:, :, None], y0[:, :, None], x1[:, None], y1[:, None]  # (B, P, 1, M), (B, 1, Q, M)
    hx, hy = hx[:, None], hy[:, None]
    margin = (y1 - y0).abs() * hx + (x1 - x0).abs() * hy - (x0 * y1 - y0 * x1).abs()
    beyond_one_face = (((x0 >= hx) & (x1 >= hx)) | ((x0 <= -hx) & (x1 <= -hx))
                       | ((y0 >= hy) & (y1 >= hy)) | ((y0 <= -hy) & (y1 <= -hy)))
    crossing = (margin > 0) & ~beyond_one_face & obstacles.valid[:, None, None]
    if ignore is not None:
        crossing = crossing & ~ignore
    return crossing.any(dim=-1)


def segment_blocked(start: Tensor, end: Tensor, obstacles: Obstacles, ignore: Tensor | None = None) -> Tensor:
    """Is the open segment start -> end crossed by any valid obstacle?

    Segments and rectangles are open: a segment that only touches a rectangle (an endpoint on
    a face, or running along a face) is not blocked, and a zero-length segment never is.

    Args:
        start: (B, S, 2).
        end: (B, S, 2).
        obstacles: M rectangles per world.
        ignore: optional bool (S, M) or (B, S, M), obstacles that cannot block that segment
            (e.g. the target box itself).

    Returns:
        (B, S) bool.
    """
    b, n, m = start.shape[0], start.shape[1], obstacles.num_obstacles
    if m == 0:
        return torch.zeros(b, n, dtype=torch.bool, device=start.device)
    blocks = WorldBlocks.of(b, m * n, start.device)
    geometry, _ = planar_obstacles(obstacles, blocks, INVALID_HALF)
    s = local_points(blocks.planar(start), geometry)
    e = local_points(blocks.planar(end), geometry)
    keep = None if ignore is None else _keep(ignore, 2, blocks)
    margin = start.new_empty(blocks.count, n, blocks.size)
    for j in range(blocks.count):
        margin[j] = crossing_margin(tuple(t[j] for t in s), tuple(t[j] for t in e), geometry[4:, j],
                                    None if keep is None else keep[j % len(keep)])
    return blocks.merge(margin > 0)


def _keep(ignore: Tensor, dims: int, blocks: WorldBlocks) -> Tensor:
    """``ignore`` (..., M) of ``dims`` dims or (B, ..., M) -> ``~ignore`` as (count or 1, M, ..., size)."""
    if ignore.dtype != torch.bool or ignore.dim() not in (dims, dims + 1):
        raise ValueError(f"ignore: expected a bool tensor of {dims} dims ending with M, optionally led by B, "
                         f"got {tuple(ignore.shape)} {ignore.dtype}.")
    if ignore.dim() == dims:  # expanded along the block's worlds: broadcasting a bool there is slow
        keep = (~ignore).movedim(-1, 0).unsqueeze(-1)
        return keep.expand(*keep.shape[:-1], blocks.size).contiguous().unsqueeze(0)
    return blocks.split((~ignore).movedim(-1, 1))
