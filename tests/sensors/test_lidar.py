"""Lidar: the fan's geometry (ray 0 ahead, counter-clockwise, rotating with the heading) and its
distances against the float64 slab oracle of test_raycast, for even (antipodal) and odd fans."""

import math

import pytest
import torch

from marl_envs.physics import Walls
from marl_envs.sensors import Obstacles, lidar, ray_cast, ray_directions
from tests.sensors.test_raycast import random_scene, reference_ray


def test_ray_directions_start_ahead_and_turn_counter_clockwise():
    heading = torch.tensor([[0.0, 1.0, -2.5]])
    d = ray_directions(heading, 8)
    assert d.shape == (1, 3, 8, 2)
    torch.testing.assert_close(d.norm(dim=-1), torch.ones(1, 3, 8))
    torch.testing.assert_close(d[..., 0, :], torch.stack((heading.cos(), heading.sin()), -1))  # ray 0: the heading
    left = heading + math.pi / 2
    torch.testing.assert_close(d[..., 2, :], torch.stack((left.cos(), left.sin()), -1))  # ray R/4: 90 deg to the left
    torch.testing.assert_close(d[..., 4, :], -d[..., 0, :])


@pytest.mark.parametrize("num_rays", [30, 7])
def test_lidar_equals_ray_cast_along_ray_directions(num_rays):
    obstacles, origin, g = random_scene(5, b=4, a=3, m=6)
    heading = torch.rand(4, 3, generator=g) * 2 * math.pi
    want, _ = ray_cast(origin, ray_directions(heading, num_rays), obstacles, 3.0)
    torch.testing.assert_close(lidar(origin, heading, obstacles, num_rays, 3.0), want, atol=1e-5, rtol=0)


@pytest.mark.parametrize("num_rays", [30, 9])
def test_lidar_matches_the_slab_oracle(num_rays):
    obstacles, origin, g = random_scene(1, b=3, a=2, m=5)
    heading = torch.rand(3, 2, generator=g) * 2 * math.pi
    got = lidar(origin, heading, obstacles, num_rays, 4.0)
    direction = ray_directions(heading.double(), num_rays)
    geometry = [t.double().tolist() for t in (obstacles.center, obstacles.axis, obstacles.half)]
    for b in range(3):
        for a in range(2):
            for r in range(num_rays):
                want, _ = reference_ray(origin[b, a].double().tolist(), direction[b, a, r].tolist(),
                                        *(g_[b] for g_ in geometry), obstacles.valid[b].tolist(), 4.0)
                assert got[b, a, r].item() == pytest.approx(want, abs=1e-4), (b, a, r)


def test_a_box_ahead_is_seen_by_ray_zero_and_turning_moves_it_along_the_fan():
    box = Obstacles.from_boxes(torch.tensor([[[3.0, 0.0]]]), torch.zeros(1, 1), torch.tensor([[0.5, 0.5]]))
    origin = torch.zeros(1, 1, 2)
    ahead = lidar(origin, torch.zeros(1, 1), box, 12, 10.0)[0, 0]
    assert ahead[0].item() == pytest.approx(2.5) and (ahead[1:] == 10.0).all()
    turned = lidar(origin, torch.full((1, 1), -2 * math.pi / 12 * 3), box, 12, 10.0)[0, 0]  # turned 3 rays right
    assert turned[3].item() == pytest.approx(2.5) and (turned[torch.arange(12) != 3] == 10.0).all()


def test_turning_by_one_ray_rolls_the_scan():
    obstacles, origin, g = random_scene(2, b=2, a=3, m=6)
    heading = torch.rand(2, 3, generator=g) * 2 * math.pi
    scan = lidar(origin, heading, obstacles, 20, 4.0)
    torch.testing.assert_close(lidar(origin, heading + 2 * math.pi / 20, obstacles, 20, 4.0), scan.roll(-1, dims=-1),
                               atol=1e-4, rtol=0)


def test_range_limits_inside_and_empty_worlds():
    walls = Walls.from_segments([[((-2.0, -2.0), (2.0, -2.0)), ((2.0, -2.0), (2.0, 2.0)), ((2.0, 2.0), (-2.0, 2.0)),
                                  ((-2.0, 2.0), (-2.0, -2.0))], []], half_thickness=0.1, num_walls=4)
    room = Obstacles.from_walls(walls)
    origin = torch.tensor([[[0.0, 0.0], [2.0, 0.5]], [[0.0, 0.0], [2.0, 0.5]]])
    scan = lidar(origin, torch.zeros(2, 2), room, 16, 3.0)
    assert ((scan >= 0) & (scan <= 3.0)).all()
    torch.testing.assert_close(scan[0, 0, ::4], torch.full((4,), 1.9))  # the walls' inner faces, straight on
    assert (scan[0, 1] == 0).all()  # standing in a wall
    assert (scan[1] == 3.0).all()  # the second world has no walls
