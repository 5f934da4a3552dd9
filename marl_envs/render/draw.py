"""Pure draw functions: world geometry in numpy, one pygame call per shape.

Each function takes a ``pygame.Surface``, a :class:`~marl_envs.render.camera.Camera` and arrays
in world coordinates, computes every vertex with vectorised numpy, then loops over shapes only to
issue the pygame calls (pygame has no batched primitives). pygame is imported inside the
functions, so importing this module does not import pygame (docs/architecture.md, "Layers");
by the time a function runs, the renderer has already checked that pygame is installed.

Fills are not anti-aliased on purpose: exact colours make frames testable pixel by pixel. The
renderer calls them back to front: walls, vision cones and lidar rays (``sensing.py``), bodies
(ramps with their uphill arrow), the elevated cue, links, then the HUD text, so overlays never
hide who is where.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from marl_envs.render import palette
from marl_envs.render.camera import PIXEL_LIMIT, Camera
from marl_envs.render.snapshot import BOX

if TYPE_CHECKING:
    import pygame

_ELEVATED_BAND_PX = 2
"""Width in pixels of each of the two bands (light, then dark) ringing an elevated body."""
_HUD_MARGIN_PX = 4
"""Offset in pixels of the HUD text from the top-left corner."""


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
    return _local_to_world(pos, angle, signs[None] * half_extents[:, None, :])


def ramp_arrows(pos: np.ndarray, angle: np.ndarray, half_extents: np.ndarray) -> np.ndarray:
    """World corners of the uphill arrow inside each ramp: a triangle whose apex points along local +x.

    The base spans most of the box's low (-x) end and the apex sits near its high (+x) end, so the
    arrow shows the slope direction at any rotation, and turning the ramp by pi mirrors it.

    Args:
        pos: (N, 2) float centres.
        angle: (N,) float radians: rotation of the ramp's local x axis (uphill).
        half_extents: (N, 2) float half extents along the local axes.

    Returns:
        (N, 3, 2) float world corners: apex, then the two base corners.
    """
    fractions = np.array([[0.8, 0.0], [-0.8, 0.8], [-0.8, -0.8]])
    return _local_to_world(pos, angle, fractions[None] * half_extents[:, None, :])


def _local_to_world(pos: np.ndarray, angle: np.ndarray, local: np.ndarray) -> np.ndarray:
    """Rotates (N, K, 2) body-frame points by each body's angle and moves them to its centre."""
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
    ramp: np.ndarray | None = None,
) -> None:
    """Draws circles and oriented boxes in index order, so later bodies cover earlier ones.

    A ramp's uphill arrow (:func:`ramp_arrows`) is drawn right after its fill, in the fill colour
    darkened by ``palette.RAMP_MARKER_SHADE``, so it stays readable when the env recolours a
    locked ramp.

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
        ramp: (N,) bool: draw the uphill arrow inside these boxes; default none.
    """
    import pygame

    n = len(pos)
    outline = np.ones(n, dtype=bool) if outline is None else np.asarray(outline, dtype=bool)
    show_heading = np.zeros(n, bool) if show_heading is None else np.asarray(show_heading, bool)
    is_box = np.asarray(kind) == BOX
    is_ramp = is_box & (np.zeros(n, bool) if ramp is None else np.asarray(ramp, bool))
    centres = camera.to_pixels(pos).tolist()
    radii = np.maximum(camera.to_pixel_lengths(radius), 1).tolist()
    corners = camera.to_pixels(box_corners(pos, angle, half_extents)).tolist()
    ticks = camera.to_pixels(_heading_tips(pos, angle, is_box, radius, half_extents)).tolist()
    arrows = camera.to_pixels(ramp_arrows(pos, angle, half_extents)).tolist()
    fills = palette.to_rgb255(color).tolist()
    arrow_fills = palette.to_rgb255(np.asarray(color) * palette.RAMP_MARKER_SHADE).tolist()
    border = palette.to_rgb255(palette.OUTLINE).tolist()
    for i in range(n):
        if is_box[i]:
            pygame.draw.polygon(surface, fills[i], corners[i])
            if is_ramp[i]:
                pygame.draw.polygon(surface, arrow_fills[i], arrows[i])
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


def draw_elevated(
    surface: pygame.Surface,
    camera: Camera,
    pos: np.ndarray,
    angle: np.ndarray,
    kind: np.ndarray,
    radius: np.ndarray,
    half_extents: np.ndarray,
    elevated: np.ndarray,
) -> None:
    """Rings each elevated body with a light band just outside it, then a dark band outside that.

    Two tones so the cue reads on the white floor (the dark band) and against walls or other
    bodies (the light band); the body itself is left untouched. Widths are fixed in pixels, so the
    cue stays visible on small frames.

    Args:
        surface: target surface.
        camera: world -> pixel transform.
        pos, angle, kind, radius, half_extents: as in :func:`draw_bodies`, (N, ...).
        elevated: (N,) bool: bodies standing on a ramp or box.
    """
    import pygame

    index = np.flatnonzero(np.asarray(elevated, dtype=bool))
    is_box = np.asarray(kind)[index] == BOX
    circles, boxes = index[~is_box], index[is_box]
    centres = camera.to_pixels(pos[circles]).tolist()
    radii = np.minimum(np.maximum(camera.to_pixel_lengths(radius[circles]), 1), PIXEL_LIMIT).tolist()
    w = _ELEVATED_BAND_PX
    for band, color in enumerate((palette.ELEVATED, palette.OUTLINE)):
        rgb = palette.to_rgb255(color).tolist()
        inner, outer = 1 + band * w, 1 + (band + 1) * w  # pixels outside the body's rim
        for centre, r in zip(centres, radii, strict=True):  # a width-w circle fills radii (r - w, r]
            pygame.draw.circle(surface, rgb, centre, r + outer, outer - inner + 1)
        grow = np.array([inner, outer]) / camera.scale
        rims = [box_corners(pos[boxes], angle[boxes], half_extents[boxes] + g) for g in grow]
        for quads in camera.to_pixels(_band_quads(*rims)).tolist():
            for quad in quads:
                pygame.draw.polygon(surface, rgb, quad)


def _band_quads(inner: np.ndarray, outer: np.ndarray) -> np.ndarray:
    """Splits the band between two nested rectangles into one quad per side.

    Args:
        inner: (M, 4, 2) corners, counter-clockwise.
        outer: (M, 4, 2) corners of the grown rectangles, same order.

    Returns:
        (M, 4, 4, 2) quads: side k spans corners k and k + 1 of both rectangles.
    """
    inner_next, outer_next = np.roll(inner, -1, axis=1), np.roll(outer, -1, axis=1)
    return np.stack([inner, inner_next, outer_next, outer], axis=2)


def hud_height(font: pygame.font.Font, text: str) -> int:
    """Pixels from the frame's top to below the last line ``draw_hud`` draws for ``text`` (0 for no text)."""
    return 2 * _HUD_MARGIN_PX + len(text.split("\n")) * font.get_linesize() if text else 0


def draw_hud(
    surface: pygame.Surface,
    font: pygame.font.Font,
    text: str,
    color: palette.RGB = palette.HUD_TEXT,
) -> None:
    """Draws text at the top-left corner, one row per ``\n``-separated line; an empty string draws nothing.

    Text is anti-aliased (unlike fills) because it is read by people, never checked pixel by pixel.

    Args:
        surface: target surface.
        font: a ``pygame.font.Font``; the renderer owns it, so this function stays stateless.
        text: lines separated by ``\n``.
        color: float RGB in [0, 1].
    """
    if not text:
        return
    rgb = palette.to_rgb255(color).tolist()
    for row, line in enumerate(text.split("\n")):
        if line:
            surface.blit(font.render(line, True, rgb), (_HUD_MARGIN_PX, _HUD_MARGIN_PX + row * font.get_linesize()))
