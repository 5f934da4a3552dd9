"""Worlds cut into contiguous blocks for the CPU ray and segment queries (``raycast``, ``segments``).

Broadcasting ops are several times slower on strided views, so the per-ray or per-segment work
runs block by block over cache-sized buffers (``BLOCK_ELEMENTS``), each block laid out with the
worlds innermost: a block is a batched computation over hundreds of worlds, not a loop over
worlds. GPUs and ``torch.compile`` get one block.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from marl_envs.sensors.obstacles import Obstacles

BLOCK_ELEMENTS = 1 << 19
"""Elements of the largest per-block temporary of a CPU query (2 MB of float32, cache sized)."""


@dataclass(frozen=True)
class WorldBlocks:
    """B worlds as ``count`` contiguous blocks of ``size`` worlds (the last padded with copies of world 0)."""

    num_envs: int
    count: int
    size: int

    @classmethod
    def of(cls, num_envs: int, per_world: int, device: torch.device) -> WorldBlocks:
        """Blocks whose per-block temporaries of ``per_world`` elements per world stay near BLOCK_ELEMENTS.

        Prefers a block count that divides B (no padding) within a factor of two of the target.
        """
        if num_envs <= 1 or device.type != "cpu" or torch.compiler.is_compiling():
            return cls(num_envs, 1, num_envs)
        target = max(1, min(num_envs, math.ceil(num_envs * per_world / BLOCK_ELEMENTS)))
        count = next((c for c in range(target, min(2 * target, num_envs) + 1) if num_envs % c == 0), target)
        size = math.ceil(num_envs / count)
        return cls(num_envs, math.ceil(num_envs / size), size)

    def split(self, x: Tensor) -> Tensor:
        """(B, *rest) -> contiguous (count, *rest, size)."""
        pad = self.count * self.size - self.num_envs
        if pad:
            x = torch.cat((x, x[:1].expand(pad, *x.shape[1:])))
        return x.reshape(self.count, self.size, *x.shape[1:]).movedim(1, -1).contiguous()

    def planar(self, points: Tensor) -> Tensor:
        """(B, K, 2) points -> contiguous (2, count, K, size): coordinates first, worlds innermost."""
        return self.split(points.movedim(-1, 1)).movedim(1, 0).contiguous()

    def merge(self, y: Tensor) -> Tensor:
        """(count, *rest, size) -> contiguous (B, *rest)."""
        return y.movedim(-1, 1).reshape(self.count * self.size, *y.shape[1:-1])[: self.num_envs].contiguous()


def planar_obstacles(obstacles: Obstacles, blocks: WorldBlocks, invalid_half: float) -> tuple[Tensor, Tensor]:
    """Obstacles in the blocked layout, with invalid slots replaced by harmless geometry.

    Args:
        obstacles: M rectangles per world.
        blocks: the layout.
        invalid_half: half extent given to invalid slots (placed at the origin, axis +x).

    Returns:
        geometry: (6, count, M, 1, size) centre x, y, axis x, y, half x, y; the singleton
            dimension is where the queries' agents or segments broadcast.
        valid: (count, M, 1, size) float, 1 for valid slots.
    """
    geometry = obstacles.center.new_empty(6, blocks.count, obstacles.num_obstacles, blocks.size)
    for i, t in enumerate((obstacles.center, obstacles.axis, obstacles.half)):
        geometry[2 * i : 2 * i + 2] = blocks.split(t).permute(2, 0, 1, 3)  # (count, M, 2, size) -> (2, count, M, size)
    valid = blocks.split(obstacles.valid)
    fill = torch.tensor([0.0, 0.0, 1.0, 0.0, invalid_half, invalid_half], dtype=geometry.dtype, device=geometry.device)
    geometry = torch.where(valid, geometry, fill.view(6, 1, 1, 1))
    return geometry.unsqueeze(3), valid.unsqueeze(2).to(geometry.dtype)
