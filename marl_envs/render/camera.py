"""World -> pixel transform for a fixed square arena.

The camera always shows ``[-h, h]^2`` (no auto-zoom): a frame then means the same thing at every
step, and videos of different episodes line up. Pure numpy, so it is tested without pygame.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

PIXEL_LIMIT = 2**15
"""Pixel coordinates and lengths are clamped to ``[-PIXEL_LIMIT, PIXEL_LIMIT]``.

A body that flew off to 1e12 would otherwise overflow pygame's C ints, and pygame's filled-circle
routine is linear in the radius, so a huge radius would stall a frame for seconds. Clamping only
moves geometry that is already far off-surface, so nothing visible changes.
"""


class Camera:
    """Maps world coordinates (y up) to pixel coordinates (y down) of a ``width x height`` surface.

    The arena square is scaled to fit the shorter side less a ``margin`` on each side, and
    centred, so a non-square surface shows extra floor on the longer side instead of stretching.

    Args:
        arena_half_size: h > 0, the camera shows the world square ``[-h, h]^2``.
        width: surface width in pixels.
        height: surface height in pixels.
        margin: fraction of the shorter side left empty on each side, in [0, 0.5), so bodies
            touching the arena edge are still fully visible.
        top: pixels reserved at the top (for HUD text): the arena fits the surface below them.

    Raises:
        ValueError: if a size is not positive or the margin is out of range.
    """

    def __init__(self, arena_half_size: float, width: int, height: int, margin: float = 0.05, top: int = 0):
        if not np.isfinite(arena_half_size) or arena_half_size <= 0:
            raise ValueError(
                f"Camera: arena_half_size must be a finite number > 0, received {arena_half_size}."
            )
        if width <= 0 or height <= 0:
            raise ValueError(f"Camera: width and height must be > 0, received {width}x{height}.")
        if not 0.0 <= margin < 0.5:
            raise ValueError(f"Camera: margin must be in [0, 0.5), received {margin}.")
        if not 0 <= top < height:
            raise ValueError(f"Camera: top must be in [0, height), received {top} for height {height}.")
        self.arena_half_size = float(arena_half_size)
        self.width = int(width)
        self.height = int(height)
        self.margin = float(margin)
        self.top = int(top)
        self.scale = (1.0 - 2.0 * margin) * min(width, height - top) / (2.0 * arena_half_size)
        """Pixels per world unit."""
        self.centre = np.array([width / 2.0, top + (height - top) / 2.0])
        """Pixel position of the world origin, (2,) float."""

    def to_pixels(self, points: ArrayLike) -> np.ndarray:
        """Transforms world points to integer pixel coordinates.

        Args:
            points: (..., 2) float world coordinates (x right, y up).

        Returns:
            (..., 2) int64 pixel coordinates (column, row), y flipped so world-up is screen-up,
            clamped to ``[-PIXEL_LIMIT, PIXEL_LIMIT]`` (non-finite values clamp too).
        """
        world = np.asarray(points, dtype=np.float64)
        if world.shape[-1:] != (2,):
            raise ValueError(f"Camera.to_pixels: expected shape (..., 2), received {world.shape}.")
        pixels = self.centre + world * np.array([self.scale, -self.scale])
        return _clamp_to_int(pixels)

    def to_pixel_lengths(self, lengths: ArrayLike) -> np.ndarray:
        """Scales world lengths (radii, thicknesses) to whole pixels.

        Args:
            lengths: (...,) float world lengths >= 0.

        Returns:
            (...,) int64 pixel lengths in ``[0, PIXEL_LIMIT]``.
        """
        pixels = np.asarray(lengths, dtype=np.float64) * self.scale
        return np.clip(_clamp_to_int(pixels), 0, PIXEL_LIMIT)


def _clamp_to_int(values: np.ndarray) -> np.ndarray:
    """Rounds to int64 after mapping NaN to 0 and clamping to the safe pixel range."""
    finite = np.nan_to_num(values, nan=0.0, posinf=PIXEL_LIMIT, neginf=-PIXEL_LIMIT)
    return np.rint(np.clip(finite, -PIXEL_LIMIT, PIXEL_LIMIT)).astype(np.int64)
