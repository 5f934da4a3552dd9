"""Sensors: exact lidar and vision against walls and boxes, batched over worlds.

Imports only torch and ``marl_envs.physics`` (enforced by tests/api/test_layering.py), so the
scenarios can use them without the API libraries. Every obstacle is an oriented rectangle
(``obstacles.Obstacles``); ``raycast`` (rays) and ``segments`` (sight lines) hold the geometry, on
worlds cut into cache-sized blocks on a CPU (``blocks``); ``lidar`` and ``vision`` are the sensors.
"""

from marl_envs.sensors.lidar import lidar, ray_directions
from marl_envs.sensors.obstacles import Obstacles
from marl_envs.sensors.raycast import ray_cast
from marl_envs.sensors.segments import pairwise_blocked, segment_blocked
from marl_envs.sensors.vision import in_cone, line_of_sight, raised_line_of_sight, sight_clip, visible

__all__ = [
    "Obstacles",
    "in_cone",
    "lidar",
    "line_of_sight",
    "pairwise_blocked",
    "raised_line_of_sight",
    "ray_cast",
    "ray_directions",
    "segment_blocked",
    "sight_clip",
    "visible",
]
