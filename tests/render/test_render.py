"""Rendering tests: pixels land where the world geometry says, and the renderer's lifecycle is safe.

Frames are checked pixel by pixel (fills are not anti-aliased), using the camera's own
world -> pixel transform only to locate points, never to recompute what is drawn.
"""

import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from marl_envs.render import PygameRenderer, Snapshot, palette  # noqa: E402
from marl_envs.render.camera import PIXEL_LIMIT, Camera  # noqa: E402
from marl_envs.render.snapshot import BOX  # noqa: E402

H = 2.0  # arena half size used throughout
W_PX, H_PX = 320, 240  # non-square, so a (W, H) mix-up cannot pass
RED = (1.0, 0.0, 0.0)
GREEN = (0.0, 1.0, 0.0)


def render(snapshot, width=W_PX, height=H_PX):
    renderer = PygameRenderer("rgb_array", width=width, height=height)
    try:
        return renderer.render(snapshot)
    finally:
        renderer.close()


def pixel(frame, world_xy, width=W_PX, height=H_PX):
    """The frame's RGB at a world point, as a tuple of ints."""
    column, row = Camera(H, width, height).to_pixels(world_xy).tolist()
    return tuple(frame[row, column].tolist())


def rgb(color):
    return tuple(palette.to_rgb255(color).tolist())


def empty(**kwargs):
    return Snapshot.build(np.zeros((0, 2)), H, **kwargs)


def test_rgb_array_frame_shape_and_dtype():
    frame = render(Snapshot.build([[0.0, 0.0]], H))
    assert frame.shape == (H_PX, W_PX, 3)
    assert frame.dtype == np.uint8


def test_red_circle_at_origin_fills_the_centre_and_leaves_corners_background():
    frame = render(Snapshot.build([[0.0, 0.0]], H, radius=0.5, color=RED))
    assert tuple(frame[H_PX // 2, W_PX // 2].tolist()) == (255, 0, 0)
    background = rgb(palette.BACKGROUND)
    for row, column in [(0, 0), (0, W_PX - 1), (H_PX - 1, 0), (H_PX - 1, W_PX - 1)]:
        assert tuple(frame[row, column].tolist()) == background


def test_world_up_is_image_up():
    frame = render(Snapshot.build([[0.0, 0.5 * H]], H, radius=0.2, color=RED))
    rows = np.nonzero((frame == (255, 0, 0)).all(axis=-1))[0]
    assert rows.size > 0 and rows.max() < H_PX // 2
    assert pixel(frame, [0.0, -0.5 * H]) == rgb(palette.BACKGROUND)


def test_circle_positions_follow_world_x():
    frame = render(Snapshot.build([[-1.0, 0.0], [1.0, 0.0]], H, radius=0.2, color=[RED, GREEN]))
    assert pixel(frame, [-1.0, 0.0]) == (255, 0, 0)
    assert pixel(frame, [1.0, 0.0]) == (0, 255, 0)


@pytest.mark.parametrize(
    ("angle", "inside", "outside"),
    [
        (0.0, [1.0, 0.0], [0.0, 1.0]),  # horizontal
        (np.pi / 2, [0.0, 1.0], [1.0, 0.0]),  # vertical
        (np.pi / 4, [0.8, 0.8], [0.8, -0.8]),  # counter-clockwise: up-right diagonal
    ],
)
def test_thin_box_covers_the_pixels_of_its_rotation(angle, inside, outside):
    snapshot = Snapshot.build([[0.0, 0.0]], H, kind=BOX, angle=angle, half_extents=[1.5, 0.1], color=RED)
    frame = render(snapshot)
    assert pixel(frame, inside) == (255, 0, 0)
    assert pixel(frame, outside) == rgb(palette.BACKGROUND)


def test_walls_are_drawn_along_their_segments_only():
    walls = [[[-1.5, -1.0], [1.5, -1.0]]]
    frame = render(empty(walls=walls, wall_half_thickness=0.1))
    for x in (-1.5, 0.0, 1.5):
        assert pixel(frame, [x, -1.0]) == rgb(palette.WALL)
    assert pixel(frame, [0.0, -1.3]) == rgb(palette.BACKGROUND)
    assert pixel(frame, [0.0, 1.0]) == rgb(palette.BACKGROUND)


def test_zero_thickness_walls_still_show():
    frame = render(empty(walls=[[[0.0, -1.5], [0.0, 1.5]]]))
    column = Camera(H, W_PX, H_PX).to_pixels([0.0, 0.0])[0]
    assert (frame[:, column] == rgb(palette.WALL)).all(axis=-1).sum() > H_PX // 2


def test_heading_tick_points_along_the_angle():
    snapshot = Snapshot.build([[0.0, 0.0]], H, radius=1.0, color=RED, show_heading=True, angle=0)
    frame = render(snapshot)
    assert pixel(frame, [0.5, 0.0]) == rgb(palette.OUTLINE)
    assert pixel(frame, [-0.5, 0.0]) == (255, 0, 0)
    assert pixel(frame, [0.0, 0.5]) == (255, 0, 0)


def test_outline_is_drawn_only_when_asked():
    rim = [0.0, 1.0 - 1e-3]
    with_border = render(Snapshot.build([[0.0, 0.0]], H, radius=1.0, color=RED))
    without = render(Snapshot.build([[0.0, 0.0]], H, radius=1.0, color=RED, outline=False))
    column, row = Camera(H, W_PX, H_PX).to_pixels(rim).tolist()
    assert tuple(with_border[row - 1 : row + 2, column].min(axis=0).tolist()) == rgb(palette.OUTLINE)
    assert (without[row - 1 : row + 2, column] != rgb(palette.OUTLINE)).any(axis=-1).all()


def test_links_join_the_linked_bodies():
    snapshot = Snapshot.build([[-1.0, 1.0], [1.0, 1.0], [0.0, -1.0]], H, radius=0.1, links=[[0, 1]])
    frame = render(snapshot)
    assert pixel(frame, [0.0, 1.0]) == rgb(palette.LINK)
    assert pixel(frame, [-0.5, 0.0]) == rgb(palette.BACKGROUND)


def test_off_arena_and_huge_bodies_do_not_crash_or_hide_the_rest():
    snapshot = Snapshot.build(
        [[0.0, 0.0], [10 * H, -10 * H], [1e30, -1e30], [-1e12, 3.0]],
        H,
        kind=[0, 1, 0, 1],
        radius=[0.3, 0.1, 1e15, 0.1],
        half_extents=[[0.1, 0.1], [1e20, 0.1], [0.1, 0.1], [0.1, 1e9]],
        color=[RED, GREEN, GREEN, GREEN],
        show_heading=True,
        walls=[[[-1e25, 0.0], [1e25, 1e25]]],
        links=[[0, 2]],
    )
    frame = render(snapshot)
    assert pixel(frame, [0.0, -0.15]) == (255, 0, 0)


def test_camera_maps_arena_corners_inside_the_margin_and_clamps_huge_values():
    camera = Camera(H, 200, 100, margin=0.1)
    corners = camera.to_pixels([[-H, H], [H, -H]])
    np.testing.assert_array_equal(corners, [[60, 10], [140, 90]])
    assert camera.to_pixels(np.zeros((3, 4, 2))).shape == (3, 4, 2)
    assert np.abs(camera.to_pixels([[1e300, -np.inf]])).max() == PIXEL_LIMIT
    assert camera.to_pixel_lengths(1e300) == PIXEL_LIMIT


def test_invalid_render_mode_names_the_valid_modes():
    with pytest.raises(ValueError, match="human") as info:
        PygameRenderer("ansi")
    assert "rgb_array" in str(info.value) and "'ansi'" in str(info.value)


def test_human_mode_runs_headless_returns_none_and_closes_twice():
    pygame = pytest.importorskip("pygame")
    renderer = PygameRenderer("human", render_fps=1000, width=64, height=48)
    assert renderer.render(Snapshot.build([[0.0, 0.0]], H)) is None
    assert pygame.display.get_surface().get_size() == (64, 48)
    assert renderer.render(Snapshot.build([[1.0, 0.0]], H)) is None
    renderer.close()
    assert not pygame.display.get_init()
    renderer.close()


def test_rgb_array_close_is_idempotent_and_renderer_restarts():
    renderer = PygameRenderer("rgb_array", width=32, height=32)
    renderer.close()
    first = renderer.render(Snapshot.build([[0.0, 0.0]], H))
    renderer.close()
    renderer.close()
    np.testing.assert_array_equal(renderer.render(Snapshot.build([[0.0, 0.0]], H)), first)


def test_missing_pygame_raises_with_the_install_command(monkeypatch):
    from gymnasium.error import DependencyNotInstalled

    monkeypatch.setitem(sys.modules, "pygame", None)  # makes `import pygame` fail
    with pytest.raises((ImportError, DependencyNotInstalled), match="pip install pygame-ce"):
        PygameRenderer("rgb_array").render(Snapshot.build([[0.0, 0.0]], H))


def test_render_modules_and_renderer_construction_do_not_import_pygame():
    code = (
        "import sys\n"
        "import marl_envs.render.snapshot, marl_envs.render.draw, marl_envs.render.camera\n"
        "import marl_envs.render.palette\n"
        "from marl_envs.render import PygameRenderer\n"
        "PygameRenderer('human'); PygameRenderer('rgb_array')\n"
        "assert 'pygame' not in sys.modules, 'pygame imported before the first render()'\n"
    )
    root = Path(__file__).resolve().parents[2]  # the repo root, importable without installing
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_snapshot_shape_errors_name_the_field_and_shapes():
    with pytest.raises(ValueError, match=r"Snapshot.radius: expected shape \(2,\), received \(3,\)"):
        Snapshot(
            pos=np.zeros((2, 2)),
            angle=np.zeros(2),
            kind=np.zeros(2, int),
            radius=np.zeros(3),
            half_extents=np.zeros((2, 2)),
            color=np.zeros((2, 3)),
            show_heading=np.zeros(2, bool),
            arena_half_size=H,
        )
    with pytest.raises(ValueError, match=r"Snapshot.pos: expected shape \(\*, 2\), received \(2, 3\)"):
        Snapshot.build(np.zeros((2, 3)), H)
    with pytest.raises(ValueError, match="color"):
        Snapshot.build([[0.0, 0.0]], H, color=(255, 0, 0))
    with pytest.raises(ValueError, match="links"):
        Snapshot.build([[0.0, 0.0]], H, links=[[0, 1]])
    with pytest.raises(ValueError, match="pos.*finite"):
        Snapshot.build([[np.nan, 0.0]], H)


def test_snapshot_build_broadcasts_and_defaults():
    snapshot = Snapshot.build([[0, 0], [1, 1], [2, 2]], H, radius=0.2, color=RED)
    assert snapshot.radius.shape == (3,) and snapshot.color.shape == (3, 3)
    assert snapshot.pos.dtype == np.float64 and snapshot.kind.dtype == np.int64
    assert snapshot.outline.all() and snapshot.outline.shape == (3,)
    assert snapshot.walls.shape == (0, 2, 2) and snapshot.links.shape == (0, 2)
    np.testing.assert_array_equal(snapshot.half_extents, np.full((3, 2), 0.2))
