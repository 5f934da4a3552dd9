"""Vision: the view cone's boundary and wraparound, occlusion by walls and boxes with the ignore and
see_over exceptions, and visible = cone and line of sight."""

import math

import pytest
import torch

from marl_envs.physics import Walls
from marl_envs.sensors import Obstacles, in_cone, line_of_sight, raised_line_of_sight, segment_blocked, visible
from tests.sensors.test_raycast import random_scene

HALF_135 = math.radians(135 / 2)


def at(*angles_deg, radius=2.0, around=(0.0, 0.0)):
    """(1, T, 2) targets at the given bearings (degrees) from ``around``."""
    a = torch.tensor([math.radians(x) for x in angles_deg], dtype=torch.float64)
    return (torch.stack((a.cos(), a.sin()), -1) * radius + torch.tensor(around, dtype=torch.float64))[None].float()


@pytest.mark.parametrize("heading_deg", [0.0, 100.0, -170.0])
def test_in_cone_boundary_cases_of_a_135_degree_cone(heading_deg):
    viewer = torch.tensor([[[1.0, -2.0]]])
    targets = at(*(heading_deg + x for x in (60.0, -60.0, 80.0, -80.0, 180.0, 0.0, 67.0, 68.0)), around=(1.0, -2.0))
    seen = in_cone(viewer, torch.tensor([[math.radians(heading_deg)]]), targets, HALF_135)
    assert seen[0, 0].tolist() == [True, True, False, False, False, True, True, False]


def test_in_cone_wraps_around_plus_minus_pi():
    viewer = torch.zeros(1, 2, 2)
    heading = torch.tensor([[math.pi - 0.05, -math.pi + 0.01]])
    targets = at(math.degrees(-math.pi + 0.05), math.degrees(math.pi - 0.01), 0.0)
    assert in_cone(viewer, heading, targets, 0.2)[0].tolist() == [[True, True, False], [True, True, False]]


def test_in_cone_own_position_and_full_circle():
    viewer = torch.tensor([[[0.5, 0.5]]])
    assert in_cone(viewer, torch.zeros(1, 1), viewer, 0.1).item()
    assert in_cone(viewer, torch.zeros(1, 1), at(180.0, 90.0), math.pi).all()


def room_with_a_wall():
    """A wall from (0, -1) to (0, 1) and a box at (3, 3); viewer at (-2, 0)."""
    walls = Obstacles.from_walls(Walls.from_segments([[((0.0, -1.0), (0.0, 1.0))]], half_thickness=0.05))
    box = Obstacles.from_boxes(torch.tensor([[[3.0, 3.0]]]), torch.zeros(1, 1), torch.tensor([[0.3, 0.3]]))
    return Obstacles.cat(walls, box), torch.tensor([[[-2.0, 0.0]]])


def test_line_of_sight_through_and_beside_a_wall():
    obstacles, viewer = room_with_a_wall()
    targets = torch.tensor([[[2.0, 0.0], [2.0, 3.0], [-0.05, 0.5], [-2.0, 0.0], [3.0, 3.0], [6.0, 6.0]]])
    # behind the wall, beside it, touching its face, the viewer itself, the box's centre, behind the box
    assert line_of_sight(viewer, targets, obstacles)[0, 0].tolist() == [False, True, True, True, False, True]
    blocked_by_box = torch.tensor([[[4.0, 4.0]]])
    assert not line_of_sight(torch.tensor([[[2.0, 2.0]]]), blocked_by_box, obstacles).item()


def test_ignore_and_see_over_masks():
    obstacles, viewer = room_with_a_wall()
    viewers = torch.cat((viewer, torch.tensor([[[-2.0, 0.5]]])), 1)  # A = 2
    targets = torch.tensor([[[3.0, 3.0], [2.0, 0.0]]])  # the box itself, behind the wall
    ignore = torch.zeros(2, 2, 2, dtype=torch.bool)
    ignore[:, 0, 1] = True  # a box does not hide itself
    assert line_of_sight(viewers, targets, obstacles, ignore)[0].tolist() == [[True, False], [True, False]]
    per_world = ignore.clone()[None]
    per_world[0, 1, 1, 0] = True  # viewer 1 also ignores the wall for target 1
    assert line_of_sight(viewers, targets, obstacles, per_world)[0].tolist() == [[True, False], [True, True]]
    see_over = torch.tensor([[[False, True], [False, False]]])  # viewer 0 is elevated for target 1
    assert line_of_sight(viewers, targets, obstacles, see_over=see_over)[0].tolist() == [[False, True], [False, False]]


def test_visible_is_cone_and_line_of_sight():
    obstacles, viewer, g = random_scene(4, b=6, a=4, m=5)
    heading = torch.rand(6, 4, generator=g) * 2 * math.pi
    targets = torch.rand(6, 7, 2, generator=g) * 6 - 3
    ignore = torch.rand(4, 7, 5, generator=g) > 0.8
    see_over = torch.rand(6, 4, 7, generator=g) > 0.9
    cone = in_cone(viewer, heading, targets, HALF_135)
    sight = line_of_sight(viewer, targets, obstacles, ignore, see_over)
    assert torch.equal(visible(viewer, heading, targets, obstacles, HALF_135, ignore, see_over), cone & sight)
    assert cone.any() and (~cone).any() and sight.any() and (~sight).any()
    pairs = segment_blocked(viewer.repeat_interleave(7, 1), targets.repeat(1, 4, 1), obstacles, ignore.reshape(28, 5))
    assert torch.equal(sight, ~pairs.view(6, 4, 7) | see_over)


def test_a_raised_end_sees_over_the_obstacles_near_it_only():
    """The wall x = 0 (|y| <= 1), reach 0.5: a raised viewer sees over it when the wall lies in the first half of
    the sight line, a grounded viewer sees a raised target over it when it lies in the last half."""
    obstacles, _ = room_with_a_wall()
    viewers = torch.tensor([[[-0.4, 0.0], [-2.5, 0.0]]])
    # the wall's faces at 0.15-0.19 and 0.32-0.41 of viewer 0's lines, 0.54-0.57 and 0.77-0.80 of viewer 1's
    targets = torch.tensor([[[2.0, 0.0], [0.7, 0.0]]])
    up, ground = torch.ones(1, 2, dtype=torch.bool), torch.zeros(1, 2, dtype=torch.bool)
    assert raised_line_of_sight(viewers, targets, obstacles, up, ground, 0.5)[0].tolist() == [[True, True],
                                                                                            [False, False]]
    assert raised_line_of_sight(viewers, targets, obstacles, ground, up, 0.5)[0].tolist() == [[False, False],
                                                                                            [True, True]]
    assert not raised_line_of_sight(viewers, targets, obstacles, ground, ground, 0.5).any()  # flat sight: the wall
    assert raised_line_of_sight(viewers, targets, obstacles, up, up, 0.1).all()  # both raised: over everything
    # a shorter reach ends before the wall on viewer 0's second line
    assert raised_line_of_sight(viewers, targets, obstacles, up, ground, 0.3)[0, 0].tolist() == [True, False]


def test_raised_line_of_sight_with_reach_one_is_flat_sight_over_everything():
    obstacles, viewer, g = random_scene(5, b=6, a=4, m=5)
    targets = torch.rand(6, 7, 2, generator=g) * 6 - 3
    ignore = torch.rand(4, 7, 5, generator=g) > 0.8
    viewer_up, target_up = torch.rand(6, 4, generator=g) > 0.6, torch.rand(6, 7, generator=g) > 0.6
    see_over = viewer_up[:, :, None] | target_up[:, None]
    flat = line_of_sight(viewer, targets, obstacles, ignore, see_over)
    assert torch.equal(raised_line_of_sight(viewer, targets, obstacles, viewer_up, target_up, 1.0, ignore), flat)
    grounded = torch.zeros_like(viewer_up), torch.zeros_like(target_up)
    plain = line_of_sight(viewer, targets, obstacles, ignore)
    assert torch.equal(raised_line_of_sight(viewer, targets, obstacles, *grounded, 0.5, ignore), plain)
    assert (~plain).any() and (flat & ~plain).any()
    half = raised_line_of_sight(viewer, targets, obstacles, viewer_up, target_up, 0.5, ignore)
    assert torch.equal(half & flat, half) and torch.equal(half | plain, half)  # between the two rules


@pytest.mark.parametrize("reach", [0.0, -0.5, 1.5])
def test_raised_line_of_sight_refuses_a_reach_outside_zero_one(reach):
    obstacles, viewer = room_with_a_wall()
    with pytest.raises(ValueError, match="reach"):
        raised_line_of_sight(viewer, viewer, obstacles, torch.ones(1, 1, dtype=torch.bool),
                             torch.zeros(1, 1, dtype=torch.bool), reach)
