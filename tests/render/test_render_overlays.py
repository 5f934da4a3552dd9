"""Overlay tests for hide-and-seek frames: vision cones, lidar rays, ramp arrows, the elevated cue, HUD.

Each test compares pixels of frames that differ in one field only, so it fails if that field is
ignored, drawn in the wrong place or drawn when it should not be. World points are located with
the camera's own transform, as in ``test_render.py``.
"""

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from marl_envs.render import PygameRenderer, Snapshot, draw, palette  # noqa: E402
from marl_envs.render.camera import Camera  # noqa: E402
from marl_envs.render.snapshot import BOX  # noqa: E402

H = 2.0  # arena half size used throughout
W_PX, H_PX = 320, 240  # non-square, so a (W, H) mix-up cannot pass
RED = (1.0, 0.0, 0.0)
GREY = (0.5, 0.5, 0.5)


def render(snapshot):
    renderer = PygameRenderer("rgb_array", width=W_PX, height=H_PX)
    try:
        return renderer.render(snapshot)
    finally:
        renderer.close()


def pixel(frame, world_xy):
    """The frame's RGB at a world point, as a tuple of ints."""
    column, row = Camera(H, W_PX, H_PX).to_pixels(world_xy).tolist()
    return tuple(frame[row, column].tolist())


def rgb(color):
    return tuple(palette.to_rgb255(color).tolist())


def changed(a, b):
    """(H, W) bool: pixels that differ between two frames."""
    return (a != b).any(axis=-1)


def test_cone_pointing_plus_x_tints_the_floor_in_front_only_and_stays_under_the_body():
    agent = {"radius": 0.1, "color": GREY}
    cone = [[0.0, 0.0, 0.0, np.pi / 6, 1.5]]
    frame = render(Snapshot.build([[0.0, 0.0]], H, cones=cone, cone_color=RED, **agent))
    background = rgb(palette.BACKGROUND)
    tint = pixel(frame, [1.0, 0.0])
    assert tint[0] == 255 and 0 < tint[1] < 255 and tint[1] == tint[2]  # red blended over white
    for outside in ([-1.0, 0.0], [1.0, 1.0], [1.0, -1.0], [1.8, 0.0]):  # behind, beside, past range
        assert pixel(frame, outside) == background
    assert pixel(frame, [0.0, 0.0]) == rgb(GREY)  # the body covers its own cone apex


def test_cone_heading_turns_the_sector_and_overlapping_cones_blend():
    up = render(Snapshot.build(np.zeros((0, 2)), H, cones=[[0.0, 0.0, np.pi / 2, 0.3, 1.5]]))
    assert pixel(up, [0.0, 1.0]) != rgb(palette.BACKGROUND)
    assert pixel(up, [1.0, 0.0]) == rgb(palette.BACKGROUND)
    once = pixel(up, [0.0, 1.0])
    twice = render(Snapshot.build(np.zeros((0, 2)), H, cones=[[0.0, 0.0, np.pi / 2, 0.3, 1.5]] * 2))
    assert pixel(twice, [0.0, 1.0])[0] < once[0]  # a second cone darkens the overlap further


def test_cone_reach_cuts_the_cone_off_where_it_is_blocked():
    cone = [[0.0, 0.0, 0.0, np.pi / 6, 1.5]]
    full = render(Snapshot.build(np.zeros((0, 2)), H, cones=cone, cone_color=RED))
    reach = np.full((1, 9), 0.6)
    reach[0, :4] = 5.0  # the lower half of the cone is clear past its range: range still bounds it
    cut = render(Snapshot.build(np.zeros((0, 2)), H, cones=cone, cone_color=RED, cone_reach=reach))
    background = rgb(palette.BACKGROUND)
    assert pixel(cut, [0.4, 0.0]) == pixel(full, [0.4, 0.0]) != background  # before the occluder
    assert pixel(cut, [1.2, 0.2]) == background != pixel(full, [1.2, 0.2])  # behind it
    assert pixel(cut, [1.2, -0.2]) == pixel(full, [1.2, -0.2]) != background  # the clear side
    assert pixel(cut, [1.8, -0.1]) == background  # never past the range
    unlimited = render(Snapshot.build(np.zeros((0, 2)), H, cones=cone, cone_color=RED,
                                      cone_reach=np.full((1, 33), 9.0)))
    np.testing.assert_array_equal(unlimited, full)  # 33 directions = the default 32 arc pieces


def test_ray_draws_a_thin_line_along_its_segment_only_and_marks_hits():
    ray = [[[-1.0, 0.5], [1.0, 0.5]]]
    plain = render(Snapshot.build(np.zeros((0, 2)), H, rays=ray))
    lidar, background = rgb(palette.LIDAR), rgb(palette.BACKGROUND)
    for x in (-0.9, -0.3, 0.0, 0.4, 0.9):
        assert pixel(plain, [x, 0.5]) == lidar
    assert pixel(plain, [1.3, 0.5]) == background and pixel(plain, [-1.3, 0.5]) == background
    assert changed(plain, render(Snapshot.build(np.zeros((0, 2)), H))).any(axis=1).sum() == 1  # 1 px thick
    hit = render(Snapshot.build(np.zeros((0, 2)), H, rays=ray, ray_hit=True))
    assert pixel(hit, [1.0, 0.5]) == rgb(palette.LIDAR_HIT)
    assert pixel(plain, [1.0, 0.5]) != rgb(palette.LIDAR_HIT)


def test_rays_are_drawn_under_bodies():
    ray = [[[-1.0, 0.0], [1.0, 0.0]]]
    frame = render(Snapshot.build([[0.0, 0.0]], H, radius=0.3, color=GREY, rays=ray))
    assert pixel(frame, [0.15, 0.0]) == rgb(GREY)
    assert pixel(frame, [0.6, 0.0]) == rgb(palette.LIDAR)


HALF = np.array([1.2, 0.6])  # a long ramp, so the arrow's wide and narrow ends are far apart
LOW_END, HIGH_END = [-0.6, 0.5], [0.6, 0.5]  # local points as fractions of HALF


def ramp_frame(angle, ramp=True):
    return render(Snapshot.build([[0.0, 0.0]], H, kind=BOX, angle=angle, half_extents=HALF, color=GREY, ramp=ramp))


def world(local_fraction, angle):
    x, y = np.asarray(local_fraction) * HALF
    return [np.cos(angle) * x - np.sin(angle) * y, np.sin(angle) * x + np.cos(angle) * y]


@pytest.mark.parametrize("angle", [0.0, np.pi / 2, np.pi, -3 * np.pi / 4])
def test_ramp_arrow_points_along_local_plus_x(angle):
    frame = ramp_frame(angle)
    arrow = rgb(np.array(GREY) * palette.RAMP_MARKER_SHADE)
    assert pixel(frame, world(LOW_END, angle)) == arrow  # the arrow's wide base is at the low end
    assert pixel(frame, world(HIGH_END, angle)) == rgb(GREY)  # beside its narrow tip: plain fill
    assert pixel(frame, world([0.0, 0.0], angle)) == arrow


def test_ramp_differs_from_a_plain_box_and_mirrors_when_turned_by_pi():
    ramp, box = ramp_frame(0.0), ramp_frame(0.0, ramp=False)
    assert changed(ramp, box).sum() > 100
    turned = ramp_frame(np.pi)
    arrow = rgb(np.array(GREY) * palette.RAMP_MARKER_SHADE)
    left, right = (np.array(LOW_END) * HALF).tolist(), (np.array(HIGH_END) * HALF).tolist()
    assert pixel(ramp, left) == arrow and pixel(ramp, right) == rgb(GREY)
    assert pixel(turned, right) == arrow and pixel(turned, left) == rgb(GREY)


def test_elevated_cue_rings_elevated_bodies_only_and_leaves_them_visible():
    pos = [[-1.0, 0.0], [1.0, 0.0], [0.0, 1.2], [0.0, -1.2]]
    bodies = {"kind": [0, 0, BOX, BOX], "radius": 0.2, "half_extents": [0.3, 0.15], "angle": [0, 0, 0.5, 0.5]}
    grounded = render(Snapshot.build(pos, H, color=GREY, **bodies))
    up = render(Snapshot.build(pos, H, color=GREY, elevated=[True, False, True, False], **bodies))
    diff = changed(up, grounded)
    camera = Camera(H, W_PX, H_PX)
    columns, rows = np.meshgrid(np.arange(W_PX), np.arange(H_PX))
    for (x, y), is_up in zip(pos, [True, False, True, False], strict=True):
        cx, cy = camera.to_pixels([x, y])
        near = np.hypot(columns - cx, rows - cy) < camera.scale * 0.45
        assert diff[near].any() == is_up
    assert not diff[np.hypot(columns - camera.centre[0], rows - camera.centre[1]) < 5].any()
    for x, y in pos:
        assert pixel(up, [x, y]) == rgb(GREY)  # the cue surrounds the body, never covers it
    cx, cy = camera.to_pixels(pos[0])
    r = int(camera.to_pixel_lengths(0.2))
    assert tuple(up[cy, cx + r + 4].tolist()) == rgb(palette.OUTLINE)  # dark band outside the rim


def test_hud_text_draws_in_the_top_left_only_and_empty_hud_draws_nothing():
    snapshot = {"pos": np.zeros((0, 2)), "arena_half_size": H}  # no bodies: the camera may move for the text
    without = render(Snapshot.build(**snapshot))
    empty = render(Snapshot.build(**snapshot, hud=""))
    text = render(Snapshot.build(**snapshot, hud="step 12/80  prep 20  hiders +1 seekers -1"))
    np.testing.assert_array_equal(empty, without)
    diff = changed(text, without)
    assert diff[:20, :100].sum() > 20
    assert not diff[H_PX // 4 :].any() and not diff[:, W_PX - 20 :].any()


def test_hud_lines_draw_one_below_the_other():
    snapshot = {"pos": np.zeros((0, 2)), "arena_half_size": H}
    without = render(Snapshot.build(**snapshot))
    one = changed(render(Snapshot.build(**snapshot, hud="step 12/80")), without)
    two = changed(render(Snapshot.build(**snapshot, hud="step 12/80\nhider_0 sees seeker_1")), without)
    rows_one, rows_two = np.flatnonzero(one.any(axis=1)), np.flatnonzero(two.any(axis=1))
    assert rows_two.max() > rows_one.max() + 5  # the second line lies below the first
    np.testing.assert_array_equal(two[: rows_one.max() + 1], one[: rows_one.max() + 1])


def test_a_long_hud_moves_the_arena_below_its_last_line():
    """Play's HUD (3-4 lines) once covered the top wall of the fence: the arena now starts below the text."""
    fence = np.array([[-H, H, H, H], [H, H, H, -H], [H, -H, -H, -H], [-H, -H, -H, H]]).reshape(4, 2, 2)
    snapshot = {"pos": [[0.0, 0.0]], "arena_half_size": H, "walls": fence, "wall_half_thickness": 0.1}
    hud = "transport_v0  step 3/200  you: agent_0\nreturn  agent +0.00\npackage to goal 0.84"
    renderer = PygameRenderer("rgb_array", width=W_PX, height=H_PX)
    try:
        frame = renderer.render(Snapshot.build(**snapshot, hud=hud))
        text_bottom = draw.hud_height(renderer._hud_font(), hud)
    finally:
        renderer.close()
    wall_rows = np.flatnonzero((frame == rgb(palette.WALL)).all(axis=-1).sum(axis=1) > 20)  # not a stray text pixel
    assert wall_rows.min() >= text_bottom > 20  # the fence's top edge lies below the text
    assert wall_rows.max() < H_PX  # and its bottom edge is still in the frame


def test_camera_reserves_rows_at_the_top():
    camera = Camera(H, 200, 300, margin=0.0, top=100)
    assert camera.scale == 200 / (2 * H) and camera.to_pixels([0.0, H]).tolist() == [100, 100]
    with pytest.raises(ValueError, match="top"):
        Camera(H, 200, 300, top=300)


def test_hud_renders_headless_in_human_mode():
    pygame = pytest.importorskip("pygame")
    renderer = PygameRenderer("human", render_fps=1000, width=64, height=48)
    try:
        assert renderer.render(Snapshot.build([[0.0, 0.0]], H, hud="step 1")) is None
        assert pygame.font.get_init()
    finally:
        renderer.close()


def test_snapshots_without_overlays_render_exactly_as_before():
    pos = [[-1.0, 0.5], [0.5, -0.5], [1.0, 1.0]]
    base = {
        "kind": [0, BOX, BOX],
        "angle": [0.3, 0.7, 0.0],
        "radius": 0.2,
        "half_extents": [0.3, 0.2],
        "color": [palette.HIDER, palette.RAMP, palette.LOCKED],
        "show_heading": True,
        "walls": [[[-1.8, -1.8], [1.8, -1.8]]],
        "wall_half_thickness": 0.05,
        "links": [[0, 1]],
    }
    snapshot = Snapshot.build(pos, H, **base)
    explicit = Snapshot.build(
        pos, H, **base, cones=np.zeros((0, 5)), cone_color=palette.CONE, rays=[], ray_hit=False,
        ramp=False, elevated=False, hud="",
    )
    frame = render(snapshot)
    np.testing.assert_array_equal(frame, render(explicit))

    # The pre-overlay pipeline, called directly: floor, walls, bodies, links.
    pygame = pytest.importorskip("pygame")
    camera, canvas = Camera(H, W_PX, H_PX), pygame.Surface((W_PX, H_PX))
    canvas.fill(rgb(palette.BACKGROUND))
    draw.draw_walls(canvas, camera, snapshot.walls, snapshot.wall_half_thickness)
    body_arrays = (snapshot.pos, snapshot.angle, snapshot.kind, snapshot.radius, snapshot.half_extents)
    draw.draw_bodies(
        canvas, camera, *body_arrays, snapshot.color, outline=snapshot.outline, show_heading=snapshot.show_heading
    )
    draw.draw_links(canvas, camera, snapshot.pos, snapshot.links)
    np.testing.assert_array_equal(frame, np.transpose(pygame.surfarray.array3d(canvas), (1, 0, 2)))


def test_overlay_defaults_and_broadcasting():
    snapshot = Snapshot.build([[0.0, 0.0], [1.0, 0.0]], H, kind=BOX)
    assert snapshot.cones.shape == (0, 5) and snapshot.cone_color.shape == (0, 3)
    assert snapshot.rays.shape == (0, 2, 2) and snapshot.ray_hit.shape == (0,)
    assert snapshot.ramp.dtype == bool and not snapshot.ramp.any() and snapshot.ramp.shape == (2,)
    assert not snapshot.elevated.any() and snapshot.elevated.shape == (2,) and snapshot.hud == ""
    cones = Snapshot.build([[0.0, 0.0]], H, cones=[[0, 0, 0, 1, 1]] * 3, rays=[[[0, 0], [1, 1]]], ray_hit=True)
    np.testing.assert_array_equal(cones.cone_color, np.tile(palette.CONE, (3, 1)))
    assert cones.ray_hit.tolist() == [True]
    direct = Snapshot(  # the constructor, as envs call it, fills the same defaults
        pos=np.zeros((1, 2)), angle=np.zeros(1), kind=np.full(1, BOX), radius=np.ones(1),
        half_extents=np.ones((1, 2)), color=np.zeros((1, 3)), show_heading=np.zeros(1, bool),
        arena_half_size=H, cones=np.zeros((2, 5)),
    )
    np.testing.assert_array_equal(direct.cone_color, np.tile(palette.CONE, (2, 1)))
    assert direct.ramp.tolist() == [False] and direct.elevated.tolist() == [False]
    assert direct.rays.shape == (0, 2, 2) and direct.ray_hit.shape == (0,) and direct.hud == ""


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cones": np.zeros((2, 4))}, r"Snapshot.cones: expected shape \(\*, 5\), received \(2, 4\)"),
        ({"cones": np.zeros((2, 5)), "cone_color": np.zeros((3, 3))}, "cone_color"),
        ({"cones": [[0, 0, 0, 1, 1]], "cone_color": (255, 0, 0)}, "Snapshot.cone_color.*divided by 255"),
        ({"cones": [[0, 0, 0, 4.0, 1]]}, "Snapshot.cones.*half_angle"),
        ({"cones": [[0, 0, 0, 1.0, -1]]}, "Snapshot.cones.*range >= 0"),
        ({"cones": [[np.nan, 0, 0, 1.0, 1]]}, "Snapshot.cones.*finite"),
        ({"cones": [[0, 0, 0, 1, 1]], "cone_reach": [[1.0, 1.0]] * 2}, r"Snapshot.cone_reach: .*C = 1 cones"),
        ({"cones": [[0, 0, 0, 1, 1]], "cone_reach": [[1.0]]}, r"Snapshot.cone_reach: .*S >= 2"),
        ({"cones": [[0, 0, 0, 1, 1]], "cone_reach": [[1.0, -0.5]]}, r"Snapshot.cone_reach: .*>= 0"),
        ({"cones": [[0, 0, 0, 1, 1]], "cone_reach": [[1.0, np.nan]]}, r"Snapshot.cone_reach: .*finite"),
        ({"rays": np.zeros((3, 2))}, r"Snapshot.rays: expected shape \(\*, 2, 2\), received \(3, 2\)"),
        ({"rays": np.zeros((3, 2, 2)), "ray_hit": [True, False]}, "ray_hit"),
        ({"ramp": [True, False, True]}, "ramp"),
        ({"ramp": True}, "Snapshot.ramp: only boxes"),
        ({"elevated": [True, False, True]}, "elevated"),
        ({"hud": "carriage\rreturn"}, "Snapshot.hud"),
        ({"hud": 12}, "Snapshot.hud"),
    ],
)
def test_overlay_errors_name_the_field(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Snapshot.build([[0.0, 0.0], [1.0, 0.0]], H, kind=[0, BOX], **kwargs)


def test_constructor_errors_name_the_cone_count():
    with pytest.raises(ValueError, match=r"Snapshot.cone_color: .*C = 2 cones"):
        Snapshot(
            pos=np.zeros((1, 2)), angle=np.zeros(1), kind=np.zeros(1, int), radius=np.ones(1),
            half_extents=np.ones((1, 2)), color=np.zeros((1, 3)), show_heading=np.zeros(1, bool),
            arena_half_size=H, cones=np.zeros((2, 5)), cone_color=np.zeros((1, 3)),
        )


def test_overlays_far_off_the_arena_do_not_crash():
    snapshot = Snapshot.build(
        [[0.0, 0.0], [1e12, -1e12]],
        H,
        kind=BOX,
        color=GREY,
        ramp=True,
        elevated=True,
        cones=[[0, 0, 0, np.pi, 1e15], [1e12, 1e12, 1.0, 0.5, 1.0]],
        rays=[[[0.0, 0.0], [1e20, -1e20]]],
        ray_hit=True,
        hud="x" * 500,
    )
    assert render(snapshot).shape == (H_PX, W_PX, 3)


def test_locked_colours_are_desaturated_team_tints_distinct_from_boxes_ramps_and_each_other():
    def saturation(color):
        return max(color) - min(color)

    named = {
        name: np.array(getattr(palette, name))
        for name in ("BOX", "RAMP", "LOCKED", "HIDER", "SEEKER", "LOCKED_HIDERS", "LOCKED_SEEKERS")
    }
    for a in named:
        for b in named:
            if a < b:
                assert np.abs(named[a] - named[b]).max() > 0.15, (a, b)
    hiders, seekers = palette.LOCKED_HIDERS, palette.LOCKED_SEEKERS
    assert saturation(hiders) < saturation(palette.HIDER) and hiders[2] == max(hiders)  # bluish
    assert saturation(seekers) < saturation(palette.SEEKER) and seekers[0] == max(seekers)  # reddish
