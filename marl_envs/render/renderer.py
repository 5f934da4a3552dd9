"""PygameRenderer: owns the surface, window and clock; draws a Snapshot in human or rgb_array mode.

Follows Gymnasium's classic-control conventions: pygame is imported lazily on the first
``render()`` (so envs built without rendering never need it, and a missing install fails with the
pip command), ``"human"`` shows a window paced by a clock at ``render_fps``, and ``"rgb_array"``
draws off-screen and returns an ``(H, W, 3)`` uint8 frame without needing a display. The HUD font
is loaded only when a snapshot first carries HUD text, so frames without text never touch
``pygame.font``.
"""

from __future__ import annotations

import os

import numpy as np

from marl_envs.render import draw, palette, sensing
from marl_envs.render.camera import Camera
from marl_envs.render.snapshot import Snapshot

RENDER_MODES = ("human", "rgb_array")
"""Valid ``render_mode`` values, in the order envs list them in ``metadata["render_modes"]``."""

_INSTALL_HINT = (
    'rendering needs pygame-ce, which is not installed: pip install "marl-envs[render]" '
    "(or `pip install pygame-ce`, imported as `pygame`). "
    "Do not install both `pygame` and `pygame-ce`: they share the `pygame` import name and "
    "break each other; if both are present, `pip uninstall pygame pygame-ce` then "
    "`pip install pygame-ce`."
)


def _import_pygame():
    """Imports pygame, or raises an error telling the user which package to install.

    Raises:
        gymnasium.error.DependencyNotInstalled: if pygame is missing and gymnasium is importable
            (Gymnasium's convention for optional rendering dependencies).
        ImportError: if pygame is missing and gymnasium is not.
    """
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    try:
        import pygame
    except ImportError as error:
        try:
            from gymnasium.error import DependencyNotInstalled
        except ImportError:
            raise ImportError(_INSTALL_HINT) from error
        raise DependencyNotInstalled(_INSTALL_HINT) from error
    return pygame


class PygameRenderer:
    """Draws snapshots of one world to a window (``"human"``) or to an array (``"rgb_array"``).

    No pygame object exists until the first :meth:`render`, so constructing an env with a
    ``render_mode`` is cheap and works on machines without a display.

    Args:
        render_mode: ``"human"`` or ``"rgb_array"``; fixed for the renderer's life, as in Gymnasium.
        render_fps: frames per second the ``"human"`` window is paced at (``metadata["render_fps"]``).
        width: frame width in pixels.
        height: frame height in pixels.
        title: window caption in ``"human"`` mode.

    Raises:
        ValueError: if ``render_mode`` is not one of ``RENDER_MODES`` or a size/fps is not positive.
    """

    def __init__(
        self,
        render_mode: str,
        render_fps: int = 10,
        width: int = 700,
        height: int = 700,
        title: str = "marl_envs",
    ):
        if render_mode not in RENDER_MODES:
            raise ValueError(
                f"PygameRenderer: render_mode must be one of {list(RENDER_MODES)}, received {render_mode!r}."
            )
        if render_fps <= 0:
            raise ValueError(f"PygameRenderer: render_fps must be > 0, received {render_fps}.")
        if width <= 0 or height <= 0:
            raise ValueError(f"PygameRenderer: width and height must be > 0, received {width}x{height}.")
        self.render_mode = render_mode
        self.render_fps = render_fps
        self.width = int(width)
        self.height = int(height)
        self.title = title
        self._pygame = None
        self._canvas = None
        self._window = None
        self._clock = None
        self._font = None

    def render(self, snapshot: Snapshot) -> np.ndarray | None:
        """Draws one frame.

        Args:
            snapshot: the world to draw.

        Returns:
            ``(height, width, 3)`` uint8 RGB frame in ``"rgb_array"`` mode (a copy, safe to keep);
            ``None`` in ``"human"`` mode, after showing the frame and waiting for the clock.
        """
        pygame = self._pygame or self._start()
        canvas = self._canvas
        self._draw(canvas, snapshot)
        if self.render_mode == "rgb_array":
            # surfarray is indexed (x, y); frames are (row, column) like every image library.
            return np.transpose(pygame.surfarray.array3d(canvas), (1, 0, 2)).copy()
        self._window.blit(canvas, (0, 0))
        pygame.event.pump()
        pygame.display.flip()
        self._clock.tick(self.render_fps)
        return None

    def _draw(self, canvas, snapshot: Snapshot) -> None:
        """Draws the snapshot back to front: floor, walls, cones, rays, bodies, elevated cue, links, HUD."""
        camera = self._camera(snapshot)
        bodies = (snapshot.pos, snapshot.angle, snapshot.kind, snapshot.radius, snapshot.half_extents)
        canvas.fill(palette.to_rgb255(palette.BACKGROUND).tolist())
        draw.draw_walls(canvas, camera, snapshot.walls, snapshot.wall_half_thickness)
        sensing.draw_cones(canvas, camera, snapshot.cones, snapshot.cone_color, reach=snapshot.cone_reach)
        sensing.draw_rays(canvas, camera, snapshot.rays, hit=snapshot.ray_hit)
        draw.draw_bodies(
            canvas,
            camera,
            *bodies,
            snapshot.color,
            outline=snapshot.outline,
            show_heading=snapshot.show_heading,
            ramp=snapshot.ramp,
        )
        draw.draw_elevated(canvas, camera, *bodies, snapshot.elevated)
        draw.draw_links(canvas, camera, snapshot.pos, snapshot.links)
        if snapshot.hud:
            draw.draw_hud(canvas, self._hud_font(), snapshot.hud)

    def _camera(self, snapshot: Snapshot) -> Camera:
        """The arena fitted to the frame; moved down and shrunk just enough for the HUD text to clear its
        fence when the text would reach it (a long HUD, such as play's, would hide the top wall)."""
        camera = Camera(snapshot.arena_half_size, self.width, self.height)
        if not snapshot.hud:
            return camera
        text_bottom = draw.hud_height(self._hud_font(), snapshot.hud)
        arena_top = camera.centre[1] - (snapshot.arena_half_size + snapshot.wall_half_thickness) * camera.scale
        if text_bottom <= arena_top:
            return camera
        return Camera(snapshot.arena_half_size, self.width, self.height, top=min(text_bottom, self.height // 2))

    def _hud_font(self):
        """The HUD font, loaded on first use: pygame's bundled default font, sized to the frame.

        ``pygame.font`` needs no display, so this works headless. It is initialised here and never
        shut down (``init`` is idempotent and other code in the process may use fonts), as with the
        modules :meth:`close` leaves alone.
        """
        if self._font is None:
            self._pygame.font.init()
            self._font = self._pygame.font.Font(None, max(12, min(self.width, self.height) // 32))
        return self._font

    def close(self) -> None:
        """Closes the window if this renderer opened one; safe to call any number of times.

        Only the display module is shut down (not ``pygame.quit()``), because this renderer never
        initialised the other pygame modules and other code in the process may be using them.
        """
        if self._window is not None:
            self._pygame.display.quit()
        self._window = None
        self._canvas = None
        self._clock = None
        self._font = None
        self._pygame = None

    def _start(self):
        """Imports pygame and creates the off-screen canvas (and the window and clock if human)."""
        pygame = _import_pygame()
        self._canvas = pygame.Surface((self.width, self.height))
        if self.render_mode == "human":
            pygame.display.init()
            pygame.display.set_caption(self.title)
            self._window = pygame.display.set_mode((self.width, self.height))
            self._clock = pygame.time.Clock()
        self._pygame = pygame
        return pygame
