"""Pure draw functions: world geometry in numpy, one pygame call per shape.

Each function takes a ``pygame.Surface``, a :class:`~marl_envs.render.camera.Camera` and arrays
in world coordinates, computes every vertex with vectorised numpy, then loops over shapes only to
issue the pygame calls (pygame has no batched primitives). pygame is imported inside the
functions, so importing this module does not import pygame (see the layering rules in DESIGN.md);
by the time a function runs, the renderer has already checked that pygame is installed.

Fills are not anti-aliased on purpose: exact colours make frames testable pixel by pixel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from marl_envs.render import palette
from marl_envs.render.camera import Camera
from marl_envs.render.snapshot import BOX

if TYPE_CHECKING:
    import pygame


def draw_walls(
    surface: pygame.Surface,
    camera: Camera,
    walls: np.ndarray,
    half_thickness: float,
    color: palette.RGB = palette.WALL,
) -> None:
    """Draws static wall segments as capsules (a rectangle plus round caps).

    A capsule is the set of points within ``half_thickness`` of the segment, which is what a
    segment wall with thickness collides as, so the picture matches the physics.

    Args:
        surface: target surface.
        camera: world -> pixel transform.
        walls: (W, 2, 2) float world endpoints of each segment.
        half_thickness: world half thickness; 0 draws 1-pixel lines.
        color: float RGB in [0, 1].
    """
    import pygame

    walls = np.asarray(walls, dtype=np.float64).reshape(-1, 2, 2)
    rgb = palette.to_rgb255(color).tolist()
    ends = camera.to_pixels(walls)
    cap = int(camera.to_pixel_lengths(half_thickness))
    if cap == 0:
        for a, b in ends.tolist():
            pygame.draw.line(surface, rgb, a, b, 1)
        return
    rects = _wall_rectangles(camera, walls, half_thickness).tolist()
    for (a, b), rect in zip(ends.tolist(), rects, strict=True):
        pygame.draw.polygon(surface, rgb, rect)
        pygame.draw.circle(surface, rgb, a, cap)
        pygame.draw.circle(surface, rgb, b, cap)


def _wall_rectangles(camera: Camera, walls: np.ndarray, half_thickness: float) -> np.ndarray:
    """Pixel corners of each wall's body, the segment offset by +-half_thickness along its normal.

    Args:
        walls: (W, 2, 2) world endpoints.

    Returns:
        (W, 4, 2) int64 pixel corners.
    """
    direction = walls[:, 1] - walls[:, 0]
    length = np.linalg.norm(direction, axis=-1, keepdims=True)
    unit = np.divide(direction, length, out=np.zeros_like(direction), where=length > 0)
    offset = half_thickness * np.stack([-unit[:, 1], unit[:, 0]], axis=-1)
    a, b = walls[:, 0], walls[:, 1]
    return camera.to_pixels(np.stack([a + offset, b + offset, b - offset, a - offset], axis=1))


def box_corners(pos: np.ndarray, angle: np.ndarray, half_extents: np.ndarray) -> np.ndarray:
    """World corners of oriented boxes, counter-clockwise.

    Args:
        pos: (N, 2) float centres.
        angle: (N,) float radians: rotation of the box's local x axis.
        half_extents: (N, 2) float half extents along the local axes.

    Returns:
        (N, 4, 2) float world corners.
    """
    signs = np.array([[1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]])
    local = signs[None] * half_extents[:, None, :]
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    x, y = local[..., 0], local[..., 1]
    rotated = np.stack([cos * x - sin * y, sin * x + cos * y], axis=-1)
    return pos[:, None, :] + rotated


def draw_bodies(
    surface: pygame.Surface,
    camera: Camera,
    pos: np.ndarray,
    angle: np.ndarray,
    kind: np.ndarray,
    radius: np.ndarray,
    half_extents: np.ndarray,
    color: np.ndarray,
    *,
    outline: np.ndarray | None = None,
    show_heading: np.ndarray | None = None,
) -> None:
    """Draws circles and oriented boxes in index order, so later bodies cover earlier ones.

    Args:
        surface: target surface.
        camera: world -> pixel transform.
        pos: (N, 2) float world centres.
        angle: (N,) float radians: box orientation / agent heading.
        kind: (N,) int: 0 circle, 1 box.
        radius: (N,) float circle radii (ignored for boxes).
        half_extents: (N, 2) float box half extents (ignored for circles).
        color: (N, 3) float RGB in [0, 1].
        outline: (N,) bool: 1-pixel black border; default all True.
        show_heading: (N,) bool: tick from the centre to the rim along ``angle``; default none.
    """
    import pygame

    n = len(pos)
    outline = np.ones(n, dtype=bool) if outline is None else np.asarray(outline, dtype=bool)
    show_heading = np.zeros(n, bool) if show_heading is None else np.asarray(show_heading, bool)
    is_box = np.asarray(kind) == BOX
    centres = camera.to_pixels(pos).tolist()
    radii = np.maximum(camera.to_pixel_lengths(radius), 1).tolist()
    corners = camera.to_pixels(box_corners(pos, angle, half_extents)).tolist()
    ticks = camera.to_pixels(_heading_tips(pos, angle, is_box, radius, half_extents)).tolist()
    fills = palette.to_rgb255(color).tolist()
    border = palette.to_rgb255(palette.OUTLINE).tolist()
    for i in range(n):
        if is_box[i]:
            pygame.draw.polygon(surface, fills[i], corners[i])
            if outline[i]:
                pygame.draw.polygon(surface, border, corners[i], 1)
        else:
            pygame.draw.circle(surface, fills[i], centres[i], radii[i])
            if outline[i]:
                pygame.draw.circle(surface, border, centres[i], radii[i], 1)
        if show_heading[i]:
            pygame.draw.line(surface, border, centres[i], ticks[i], 2)


def _heading_tips(
    pos: np.ndarray, angle: np.ndarray, is_box: np.ndarray, radius: np.ndarray, half_extents: np.ndarray
) -> np.ndarray:
    """World points where the heading ray leaves each body: the radius, or the box's local +x face.

    Returns:
        (N, 2) float world points.
    """
    reach = np.where(is_box, half_extents[:, 0], radius)
    return pos + reach[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=-1)


def draw_links(
    surface: pygame.Surface,
    camera: Camera,
    pos: np.ndarray,
    links: np.ndarray,
    color: palette.RGB = palette.LINK,
) -> None:
    """Draws a line between the centres of each linked pair of bodies (e.g. agent and held box).

    Args:
        surface: target surface.
        camera: world -> pixel transform.
        pos: (N, 2) float world centres.
        links: (L, 2) int body index pairs.
        color: float RGB in [0, 1].
    """
    import pygame

    links = np.asarray(links, dtype=np.int64).reshape(-1, 2)
    rgb = palette.to_rgb255(color).tolist()
    ends = camera.to_pixels(np.asarray(pos, dtype=np.float64)[links])
    for a, b in ends.tolist():
        pygame.draw.line(surface, rgb, a, b, 2)
