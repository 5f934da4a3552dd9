"""Batched 2D rigid-body physics in torch: discs, oriented boxes, walls, penalty contacts.

Imports only torch and the standard library (enforced by tests/api/test_layering.py).
Pure geometry helpers live in ``marl_envs.physics.geometry``.
"""

from marl_envs.physics.params import WorldParams
from marl_envs.physics.shapes import ShapeKind
from marl_envs.physics.state import BodySpec, BodyState, boxes, circles
from marl_envs.physics.walls import Walls, check_tunnelling
from marl_envs.physics.world import World

__all__ = [
    "BodySpec",
    "BodyState",
    "ShapeKind",
    "Walls",
    "World",
    "WorldParams",
    "boxes",
    "check_tunnelling",
    "circles",
]
