"""Draw what hide-and-seek agents sense: vision cones (cut off where sight is blocked) and lidar rays.

Same conventions as ``draw.py`` (world arrays in, vectorised numpy vertices, one pygame call per
shape, pygame imported inside the functions); apart from it because these overlays show sensor
readings rather than the world's geometry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from marl_envs.render import palette
from marl_envs.render.camera import Camera

if TYPE_CHECKING:
    import pygame

CONE_ARC_SEGMENTS = 32
"""Straight pieces per vision-cone arc: smooth at 700 px for a wide cone, and cheap for a few cones."""
_HIT_DOT_PX = 2
"""Radius in pixels of the dot marking where a lidar ray hit something."""


def cone_polygons(cones: np.ndarray, reach: np.ndarray | None = None,
                  segments: int = CONE_ARC_SEGMENTS) -> np.ndarray:
    """World outlines of vision cones: the apex, then points along the arc.

    The arc runs from ``heading - half_angle`` to ``heading + half_angle`` at distance ``range``,
    or, with ``reach``, at ``min(range, reach)`` along each of reach's directions (a cone cut off
    where it meets an occluder).

    Args:
        cones: (C, 5) float rows ``(x, y, heading, half_angle, range)``.
        reach: optional (C, S) clear distances along S directions spread evenly across each cone.
        segments: straight pieces approximating each arc without ``reach`` (with it, S - 1).

    Returns:
        (C, P + 1, 2) float world points: the apex, then P = segments + 1 (or S) arc points.
    """
    cones = np.asarray(cones, dtype=np.float64).reshape(-1, 5)
    apex = cones[:, None, 0:2]
    samples = segments + 1 if reach is None else np.shape(reach)[1]
    angles = cones[:, 2:3] + np.linspace(-1.0, 1.0, samples)[None] * cones[:, 3:4]
    radius = cones[:, 4, None] if reach is None else np.minimum(cones[:, 4, None], np.asarray(reach, np.float64))
    arc = apex + radius[..., None] * np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    return np.concatenate([apex, arc], axis=1)


def draw_cones(
    surface: pygame.Surface,
    camera: Camera,
    cones: np.ndarray,
    color: np.ndarray,
    alpha: float = palette.CONE_ALPHA,
    reach: np.ndarray | None = None,
) -> None:
    """Alpha-blends each vision cone onto the surface as a filled sector (cut off by ``reach``).

    Each cone is drawn, alpha included, on its own small transparent surface (its pixel bounding
    box, clipped to the frame) and then blitted, because pygame's draw calls overwrite pixels
    rather than blend them; overlapping cones therefore deepen where they overlap.

    Args:
        surface: target surface.
        camera: world -> pixel transform.
        cones: (C, 5) float rows ``(x, y, heading, half_angle, range)``.
        color: (C, 3) float RGB in [0, 1] per cone.
        alpha: opacity in [0, 1].
        reach: optional (C, S) clear distances across each cone (``cone_polygons``).
    """
    import pygame

    polygons = camera.to_pixels(cone_polygons(cones, reach))
    colors = palette.to_rgb255(np.asarray(color, dtype=np.float64).reshape(-1, 3))
    rgba = np.concatenate([colors, np.full((len(colors), 1), round(255 * alpha))], axis=1).tolist()
    size = np.array(surface.get_size())
    low = np.clip(polygons.min(axis=1), 0, size)
    high = np.clip(polygons.max(axis=1) + 1, 0, size)
    local = (polygons - low[:, None, :]).tolist()
    for points, fill, corner, extent in zip(local, rgba, low.tolist(), (high - low).tolist(), strict=True):
        if min(extent) <= 0:  # entirely off the frame
            continue
        overlay = pygame.Surface(extent, pygame.SRCALPHA)
        pygame.draw.polygon(overlay, fill, points)
        surface.blit(overlay, corner)


def draw_rays(
    surface: pygame.Surface,
    camera: Camera,
    rays: np.ndarray,
    hit: np.ndarray | None = None,
    color: palette.RGB = palette.LIDAR,
    hit_color: palette.RGB = palette.LIDAR_HIT,
) -> None:
    """Draws lidar rays as 1-pixel lines from origin to end point, with a dot where a ray hit.

    Args:
        surface: target surface.
        camera: world -> pixel transform.
        rays: (R, 2, 2) float world (origin, end point) pairs.
        hit: (R,) bool: dot at the end point of these rays; default none.
        color: float RGB in [0, 1] of the lines.
        hit_color: float RGB in [0, 1] of the dots.
    """
    import pygame

    ends = camera.to_pixels(np.asarray(rays, dtype=np.float64).reshape(-1, 2, 2))
    hit = np.zeros(len(ends), bool) if hit is None else np.asarray(hit, dtype=bool)
    rgb = palette.to_rgb255(color).tolist()
    for a, b in ends.tolist():
        pygame.draw.line(surface, rgb, a, b, 1)
    dot = palette.to_rgb255(hit_color).tolist()
    for point in ends[hit, 1].tolist():
        pygame.draw.circle(surface, dot, point, _HIT_DOT_PX)
