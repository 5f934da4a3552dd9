"""Sensors: exact lidar and vision against walls and boxes, batched over worlds.

Imports only torch and ``marl_envs.physics`` (enforced by tests/api/test_layering.py), so the
scenarios can use them without the API libraries. Every obstacle is an oriented rectangle
(``Obstacles``); ``raycast`` (rays) and ``segments`` (sight lines) hold the geometry, ``lidar`` and ``vision``
the sensors.
"""

from marl_envs.sensors.lidar import lidar, ray_directions
from marl_envs.sensors.raycast import Obstacles, ray_cast
from marl_envs.sensors.segments import pairwise_blocked, segment_blocked
from marl_envs.sensors.vision import in_cone, line_of_sight, visible

__all__ = [
    "Obstacles",
    "in_cone",
    "lidar",
    "line_of_sight",
    "pairwise_blocked",
    "ray_cast",
    "ray_directions",
    "segment_blocked",
    "visible",
]
