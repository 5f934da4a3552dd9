"""The obstacles every ray and segment query sees: M oriented rectangles per world, walls and boxes alike.

One shape for both keeps one code path per query (``raycast``, ``segments``): a wall is the
bounding rectangle of its capsule, a box is itself. A rectangle has centre ``center``, unit local
x axis ``axis = (cos, sin)`` and half extents ``half``; invalid slots never hit and never
occlude, and their geometry may hold anything, NaN included.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from marl_envs.physics.geometry import EPS
from marl_envs.physics.walls import Walls


@dataclass
class Obstacles:
    """M oriented rectangles per world (walls and boxes share one code path).

    Attributes:
        center: (B, M, 2) rectangle centres.
        axis: (B, M, 2) unit vector of each rectangle's local x axis, ``(cos, sin)`` of its angle.
        half: (B, M, 2) half extents along the local x and y axes (>= 0).
        valid: (B, M) bool; invalid slots never hit and never occlude (their geometry is ignored).
    """

    center: Tensor
    axis: Tensor
    half: Tensor
    valid: Tensor

    def __post_init__(self) -> None:
        if self.valid.dtype != torch.bool or self.valid.dim() != 2:
            raise ValueError(f"Obstacles.valid: expected a (B, M) bool tensor, got {tuple(self.valid.shape)} "
                             f"{self.valid.dtype}.")
        shape = (*self.valid.shape, 2)
        for name in ("center", "axis", "half"):
            if tuple(getattr(self, name).shape) != shape:
                raise ValueError(f"Obstacles.{name}: expected shape {shape} to match valid, got "
                                 f"{tuple(getattr(self, name).shape)}.")

    @property
    def num_envs(self) -> int:
        return int(self.valid.shape[0])

    @property
    def num_obstacles(self) -> int:
        return int(self.valid.shape[1])

    @classmethod
    def from_walls(cls, walls: Walls) -> Obstacles:
        """One rectangle per wall slot: the bounding rectangle of the wall's capsule.

        A wall is the capsule of points within ``half_thickness`` (ht) of its segment. Its
        bounding rectangle, half extents ``(length / 2 + ht, ht)`` along the segment, is exact
        along the wall's sides and overestimates the wall only at its rounded ends, by at most
        ``ht * (sqrt(2) - 1)`` towards the rectangle's corners, where walls usually meet other
        walls anyway. A zero-length wall becomes an axis-aligned square of half side ht.
        Masked slots are invalid.
        """
        seg = walls.end - walls.start
        length = torch.linalg.vector_norm(seg, dim=-1, keepdim=True)
        x_axis = torch.tensor([1.0, 0.0], dtype=seg.dtype, device=seg.device)
        axis = torch.where(length > EPS, seg / length.clamp_min(EPS), x_axis)
        ht = walls.half_thickness
        half = torch.cat((length / 2 + ht, torch.full_like(length, ht)), dim=-1)
        return cls(center=(walls.start + walls.end) / 2, axis=axis, half=half, valid=walls.mask.clone())

    @classmethod
    def from_boxes(cls, pos: Tensor, angle: Tensor, half_extents: Tensor, valid: Tensor | None = None) -> Obstacles:
        """Rectangles from box poses.

        Args:
            pos: (B, K, 2) box centres.
            angle: (B, K) box orientations (radians, counter-clockwise).
            half_extents: (K, 2) or (B, K, 2) half sizes.
            valid: optional (B, K) or (K,) bool; default all valid.
        """
        b, k = angle.shape
        valid = torch.ones(b, k, dtype=torch.bool, device=pos.device) if valid is None else valid
        return cls(
            center=pos,
            axis=torch.stack((torch.cos(angle), torch.sin(angle)), dim=-1),
            half=half_extents.to(pos.dtype).expand(b, k, 2),
            valid=valid.expand(b, k),
        )

    @staticmethod
    def cat(*parts: Obstacles) -> Obstacles:
        """Concatenate obstacle sets of the same worlds along M (indices follow the order given)."""
        if not parts:
            raise ValueError("Obstacles.cat: expected at least one Obstacles, got none.")
        fields = ("center", "axis", "half", "valid")
        return Obstacles(*(torch.cat([getattr(p, f) for p in parts], dim=1) for f in fields))
