"""Shape kinds of rigid bodies and their mass properties.

Bodies are either discs or oriented boxes; static walls are line segments with a
thickness and live in their own padded tensor (see ``walls.Walls``), because they
differ per world while bodies share one layout across the batch.
"""

from __future__ import annotations

import math
from enum import IntEnum


class ShapeKind(IntEnum):
    """Shape of a body; stored as an int tensor so that contacts can mask by kind."""

    CIRCLE = 0
    BOX = 1


def disc_inertia(mass: float, radius: float) -> float:
    """Moment of inertia of a uniform disc about its centre: m r^2 / 2."""
    return 0.5 * mass * radius * radius


def box_inertia(mass: float, half_width: float, half_height: float) -> float:
    """Moment of inertia of a uniform rectangle about its centre: m (w^2 + h^2) / 12 with full sides."""
    return mass * (half_width * half_width + half_height * half_height) / 3.0


def bounding_radius(kind: ShapeKind, radius: float, half_width: float, half_height: float) -> float:
    """Radius of the smallest centred disc holding the shape (used for broad-phase culling)."""
    if kind == ShapeKind.CIRCLE:
        return radius
    return (half_width * half_width + half_height * half_height) ** 0.5


def mean_footprint_radius(kind: ShapeKind, radius: float, half_width: float, half_height: float) -> float:
    """Mean distance from the centre over a uniformly loaded footprint: the lever arm of floor friction.

    Coulomb friction spread evenly under a spinning body resists with torque ``mu m g`` times this
    mean distance: ``2 r / 3`` for a disc; for a rectangle of half sides a, b and half diagonal d,
    ``(2 a b d + a^3 ln((b + d) / a) + b^3 ln((a + d) / b)) / (6 a b)`` (the integral of the distance
    over a quarter of it, divided by its area).
    """
    if kind == ShapeKind.CIRCLE:
        return 2.0 * radius / 3.0
    a, b = half_width, half_height
    if a <= 0 or b <= 0:  # a segment: the mean of |x| over [-l, l] is l / 2
        return max(a, b) / 2.0
    d = math.hypot(a, b)
    return (2 * a * b * d + a**3 * math.log((b + d) / a) + b**3 * math.log((a + d) / b)) / (6 * a * b)
