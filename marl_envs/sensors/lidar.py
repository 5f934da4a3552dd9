"""Lidar: R rays fanned evenly around each agent, returning the distance to the first obstacle.

Hide-and-seek agents carry a lidar fan, as in Baker et al. (2020, "Emergent tool use from
multi-agent autocurricula"). Here ray r leaves the agent's centre at ``heading + 2 pi r / R``:
ray 0 looks straight ahead and the fan turns counter-clockwise with the agent. Distances are
exact (``raycast``), not marched, and saturate at ``max_range``.

The directions are the fixed agent-frame fan rotated by the heading (products, no per-ray sine
or cosine), built directly in the ray caster's blocked layout, so no (B, A, R, 2) tensor is
made. With R even, ray ``r + R/2`` is minus ray ``r``, and the caster derives the back half of
the fan from the front half's multiply-adds (``raycast.nearest_hit``, ``antipodal``).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from marl_envs.physics import accel
from marl_envs.sensors.blocks import WorldBlocks
from marl_envs.sensors.obstacles import Obstacles
from marl_envs.sensors.raycast import cast_blocked


def _fan(num_rays: int, like: Tensor) -> tuple[Tensor, Tensor]:
    """(R,) cosines and sines of the agent-frame ray angles ``2 pi r / R`` (computed in float64)."""
    angle = torch.arange(num_rays, dtype=torch.float64, device=like.device) * (2 * math.pi / num_rays)
    return torch.cos(angle).to(like.dtype), torch.sin(angle).to(like.dtype)


def ray_directions(heading: Tensor, num_rays: int) -> Tensor:
    """World-frame unit directions of the lidar rays.

    Args:
        heading: (B, A) agent orientations (radians, counter-clockwise).
        num_rays: R.

    Returns:
        (B, A, R, 2) direction of ray r, at angle ``heading + 2 pi r / R`` (ray 0 straight ahead).
    """
    cos_fan, sin_fan = _fan(num_rays, heading)
    ch, sh = torch.cos(heading)[..., None], torch.sin(heading)[..., None]
    return torch.stack((ch * cos_fan - sh * sin_fan, sh * cos_fan + ch * sin_fan), dim=-1)


def lidar(origin: Tensor, heading: Tensor, obstacles: Obstacles, num_rays: int = 30, max_range: float = 4.0) -> Tensor:
    """Distances along each agent's lidar rays (``ray_directions``) to the nearest obstacle.

    Args:
        origin: (B, A, 2) agent centres.
        heading: (B, A) agent orientations.
        obstacles: M rectangles per world (e.g. ``Obstacles.cat`` of walls and boxes).
        num_rays: R.
        max_range: distance reported for rays that hit nothing within it.

    Returns:
        (B, A, R) distances in [0, max_range]; 0 for every ray of an agent whose centre is in an obstacle.
    """
    native = accel.kernel("lidar", origin)
    if native is not None:  # the same algebra as one fused CPU kernel (``marl_envs.native.lidar``)
        return native(origin, heading, obstacles, num_rays, max_range)
    b, a = heading.shape
    blocks = WorldBlocks.of(b, 3 * obstacles.num_obstacles * a * num_rays, origin.device)
    antipodal = num_rays % 2 == 0  # ray r + R/2 is minus ray r: the caster does half the work
    cast = num_rays // 2 if antipodal else num_rays
    cos_fan, sin_fan = (t[:cast].view(cast, 1, 1) for t in _fan(num_rays, heading))
    h = blocks.split(heading).unsqueeze(1)  # (count, 1, A, size)
    ch, sh = torch.cos(h), torch.sin(h)
    direction = h.new_empty(2, blocks.count, cast, a, blocks.size)
    torch.mul(ch, cos_fan, out=direction[0]).addcmul_(sh, sin_fan, value=-1.0)
    torch.mul(sh, cos_fan, out=direction[1]).addcmul_(ch, sin_fan)
    distance, _ = cast_blocked(blocks.planar(origin), direction, obstacles, blocks, max_range, antipodal)
    return distance
