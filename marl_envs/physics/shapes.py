"""Shape kinds of rigid bodies and their mass properties.

Bodies are either discs or oriented boxes; static walls are line segments with a
thickness and live in their own padded tensor (see ``walls.Walls``), because they
differ per world while bodies share one layout across the batch.
"""

from __future__ import annotations

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
    mean distance: ``2 r / 3`` for a disc; for a rectangle the average over a 64 x 64 midpoint grid
    (within 0.1% of the closed form).
    """
    if kind == ShapeKind.CIRCLE:
        return 2.0 * radius / 3.0
    n = 64
    total = 0.0
    for i in range(n):
        x = half_width * (2 * i + 1 - n) / n
        for j in range(n):
            y = half_height * (2 * j + 1 - n) / n
            total += (x * x + y * y) ** 0.5
    return total / (n * n)
