"""Vision: which targets each agent sees, as a view cone and an unobstructed line of sight.

In hide-and-seek an agent sees a target (another agent, a box, a ramp) when the target's
centre lies within the agent's view cone (135 degrees wide there) and the segment between
their centres crosses no wall or box. The two tests are separate functions because callers
need them apart: the cone alone is a cheap mask, and line of sight takes per-pair exceptions:
a box does not hide itself (``ignore``), an agent standing on a ramp sees over everything
(``see_over``), or, with heights, over what is near it (``sight_clip``).

The cone test compares a dot product with the distance times ``cos(half_angle)`` instead of
wrapping angle differences, so it has no discontinuity at +-pi. Line of sight is the
separating-axis segment test of ``segments.pairwise_blocked``, run on all (viewer, target) pairs
at once.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from marl_envs.physics import accel
from marl_envs.sensors.obstacles import Obstacles
from marl_envs.sensors.segments import pairwise_blocked, segment_blocked


def in_cone(viewer_pos: Tensor, heading: Tensor, target_pos: Tensor, half_angle: float) -> Tensor:
    """Is each target's centre within ``half_angle`` of each viewer's heading (boundary included)?

    Args:
        viewer_pos: (B, A, 2).
        heading: (B, A) viewer orientations (radians).
        target_pos: (B, T, 2).
        half_angle: half the cone's opening, radians; >= pi means all around.

    Returns:
        (B, A, T) bool; a target at the viewer's own position counts as in the cone.
    """
    rel = target_pos[:, None] - viewer_pos[:, :, None]  # (B, A, T, 2)
    if half_angle >= math.pi:
        return torch.ones(rel.shape[:-1], dtype=torch.bool, device=rel.device)
    along = rel[..., 0] * torch.cos(heading)[..., None] + rel[..., 1] * torch.sin(heading)[..., None]
    return along >= torch.linalg.vector_norm(rel, dim=-1) * math.cos(half_angle)


def sight_clip(viewer_up: Tensor, target_up: Tensor, reach: float) -> tuple[Tensor, Tensor]:
    """Sight lines with heights: the fractions of each (viewer, target) line that pass over every obstacle.

    Flat 2D sight ("an agent on a ramp sees over everything") lets a ramp anywhere in the arena look into any
    room, so locking the ramp away from the room would defend nothing. OpenAI's hide-and-seek casts its sight
    rays in 3D, where it would. Here every wall and box is H tall, an eye sits at its agent's centre, r above
    what the agent stands on: a grounded eye at r, a raised one at H + r. The straight line from a raised eye
    down to a grounded one is above H for the first r / H of its length, counted from the raised end: ``reach``.
    An obstacle there does not occlude; past it, it does. So a raised viewer sees over the wall it leans over,
    not over a box that covers a hider from the far side of a room, and a grounded viewer sees a raised
    target over obstacles next to the target. Two raised ends see over everything (nothing is taller than H),
    two grounded ones over nothing. ``reach`` = 1 is flat sight.

    Args:
        viewer_up: (B, A) bool, raised viewers. target_up: (B, T) bool, raised targets.
        reach: in (0, 1], the fraction r / H above.

    Returns:
        cut, tail: (B, A, T) fractions of each line left out of the occlusion test at the viewer's end and at the
        target's (``line_of_sight``'s ``clip``); both raised: all of it.
    """
    if isinstance(reach, bool) or not 0.0 < reach <= 1.0:
        raise ValueError(f"reach must be in (0, 1], got {reach!r}")
    vu, tu = viewer_up[:, :, None], target_up[:, None, :]
    cut = torch.where(vu, torch.where(tu, 1.0, reach), 0.0)
    tail = torch.where(tu & ~vu, reach, 0.0)
    return cut, tail


def line_of_sight(
    viewer_pos: Tensor,
    target_pos: Tensor,
    obstacles: Obstacles,
    ignore: Tensor | None = None,
    see_over: Tensor | None = None,
    clip: tuple[Tensor, Tensor] | None = None,
) -> Tensor:
    """Is the segment from each viewer to each target free of obstacles?

    Args:
        viewer_pos: (B, A, 2).
        target_pos: (B, T, 2).
        obstacles: M rectangles per world.
        ignore: optional bool (A, T, M) or (B, A, T, M), obstacles that do not occlude that pair
            (e.g. the target's own box).
        see_over: optional (B, A, T) bool, pairs for which occlusion is skipped entirely (an
            agent elevated on a ramp sees over everything).
        clip: optional (cut, tail), each (B, A, T): only the part of each segment from ``cut`` of the way
            along to ``tail`` short of its end is tested (``sight_clip``: heights).

    Returns:
        (B, A, T) bool. Touching an obstacle does not occlude (``segment_blocked``).
    """
    if clip is None:
        seen = ~pairwise_blocked(viewer_pos, target_pos, obstacles, ignore)
    else:
        seen = ~_clipped_blocked(viewer_pos, target_pos, obstacles, clip, ignore)
    return seen if see_over is None else seen | see_over


def _clipped_blocked(viewer_pos: Tensor, target_pos: Tensor, obstacles: Obstacles, clip: tuple[Tensor, Tensor],
                     ignore: Tensor | None) -> Tensor:
    """(B, A, T) ``segment_blocked`` of every pair's segment with ``clip`` (cut, tail) left out at its ends."""
    b, a, t, m = viewer_pos.shape[0], viewer_pos.shape[1], target_pos.shape[1], obstacles.num_obstacles
    cut, tail = (f.expand(b, a, t).unsqueeze(-1) for f in clip)
    v, q = viewer_pos[:, :, None], target_pos[:, None]
    d = q - v  # (B, A, T, 2)
    start = v + cut * d
    end = torch.where(cut + tail >= 1.0, start, q - tail * d)  # nothing left: one point, which nothing blocks
    start, end = start.reshape(b, a * t, 2), end.reshape(b, a * t, 2)
    if ignore is not None:
        ignore = ignore.reshape(*ignore.shape[:-3], a * t, m)
    return segment_blocked(start, end, obstacles, ignore).view(b, a, t)


def raised_line_of_sight(
    viewer_pos: Tensor,
    target_pos: Tensor,
    obstacles: Obstacles,
    viewer_up: Tensor,
    target_up: Tensor,
    reach: float,
    ignore: Tensor | None = None,
) -> Tensor:
    """``line_of_sight`` with heights: raised ends (agents on a ramp, box or wall) see over the obstacles within
    ``reach`` of the line's length from them (``sight_clip``). (B, A, T) bool."""
    return line_of_sight(viewer_pos, target_pos, obstacles, ignore, clip=sight_clip(viewer_up, target_up, reach))


def visible(
    viewer_pos: Tensor,
    heading: Tensor,
    target_pos: Tensor,
    obstacles: Obstacles,
    half_angle: float,
    ignore: Tensor | None = None,
    see_over: Tensor | None = None,
    clip: tuple[Tensor, Tensor] | None = None,
) -> Tensor:
    """``in_cone & line_of_sight``: (B, A, T) bool (arguments as there)."""
    native = accel.kernel("visible", viewer_pos)
    if native is not None:  # both tests as one fused CPU kernel (``marl_envs.native.sight``)
        return native(viewer_pos, heading, target_pos, obstacles, half_angle, ignore, see_over, clip)
    return in_cone(viewer_pos, heading, target_pos, half_angle) & line_of_sight(
        viewer_pos, target_pos, obstacles, ignore, see_over, clip
    )
