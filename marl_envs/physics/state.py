"""World state (dynamic, batched) and body specification (static, shared by the batch).

Struct-of-arrays, batch first: every dynamic field is one tensor shaped ``(B, N, ...)``
so that a step is a handful of whole-batch tensor ops, never a loop over bodies or
worlds. The static ``BodySpec`` is ``(N, ...)``: every world of a batch has the same
bodies (hide-and-seek varies its walls per world, not its bodies).

Batch first is the state's layout, the one scenarios index. The contact queries and grab joints
transpose to batch-minor rows for their own work and hand back batch-first tensors (``layout``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields

import torch

from marl_envs.physics.shapes import ShapeKind, bounding_radius, box_inertia, disc_inertia


@dataclass
class BodyState:
    """Dynamic state of B worlds with N bodies each.

    Attributes:
        pos: (B, N, 2) centre positions.
        vel: (B, N, 2) linear velocities.
        angle: (B, N) orientation in radians (heading for agents).
        ang_vel: (B, N) angular velocities.
    """

    pos: torch.Tensor
    vel: torch.Tensor
    angle: torch.Tensor
    ang_vel: torch.Tensor

    @classmethod
    def zeros(cls, num_envs: int, num_bodies: int, device: torch.device, dtype=torch.float32) -> BodyState:
        z2 = torch.zeros(num_envs, num_bodies, 2, device=device, dtype=dtype)
        z1 = torch.zeros(num_envs, num_bodies, device=device, dtype=dtype)
        return cls(pos=z2, vel=z2.clone(), angle=z1, ang_vel=z1.clone())

    def where(self, mask: torch.Tensor, other: BodyState) -> BodyState:
        """Per-world select: ``other`` where ``mask`` (B,) is true, else ``self``."""
        m2 = mask.view(-1, 1, 1)
        m1 = mask.view(-1, 1)
        return BodyState(
            pos=torch.where(m2, other.pos, self.pos),
            vel=torch.where(m2, other.vel, self.vel),
            angle=torch.where(m1, other.angle, self.angle),
            ang_vel=torch.where(m1, other.ang_vel, self.ang_vel),
        )

    def index(self, i: int) -> BodyState:
        """World ``i`` as a batch of one (views, no copy)."""
        return BodyState(*(getattr(self, f.name)[i : i + 1] for f in fields(self)))

    def clone(self) -> BodyState:
        return BodyState(*(getattr(self, f.name).clone() for f in fields(self)))


@dataclass(frozen=True)
class BodySpec:
    """Static properties of the N bodies of every world, as (N, ...) tensors.

    A body that is not ``movable`` never moves (it gets zero inverse mass); a body
    that is not ``collidable`` passes through everything (MPE's landmarks).
    ``max_speed`` is ``inf`` where there is no cap; ``rotates`` is false for bodies
    whose angle is not integrated (MPE discs), which lets worlds without rotation
    skip the angular update entirely. ``friction`` is Coulomb friction with the floor, as the
    deceleration ``mu * g`` it can exert (0: none, the MPE default; damping is separate): a body
    pushed with less than ``mass * friction`` does not move (``integrate.Integrator``).
    """

    kind: torch.Tensor
    radius: torch.Tensor
    half_extents: torch.Tensor
    mass: torch.Tensor
    inertia: torch.Tensor
    movable: torch.Tensor
    collidable: torch.Tensor
    rotates: torch.Tensor
    max_speed: torch.Tensor
    friction: torch.Tensor

    @property
    def num_bodies(self) -> int:
        return int(self.kind.shape[0])

    @property
    def bounding_radius(self) -> torch.Tensor:
        """(N,) radius of the smallest centred disc holding each body."""
        box = torch.linalg.vector_norm(self.half_extents, dim=-1)
        return torch.where(self.kind == ShapeKind.CIRCLE, self.radius, box)

    def to(self, device: torch.device | str, dtype=torch.float32) -> BodySpec:
        out = {}
        for f in fields(self):
            t = getattr(self, f.name)
            out[f.name] = t.to(device=device, dtype=dtype) if t.is_floating_point() else t.to(device)
        return BodySpec(**out)

    @staticmethod
    def concat(specs: Sequence[BodySpec]) -> BodySpec:
        """Stack groups of bodies (agents, then landmarks, ...) into one spec."""
        return BodySpec(**{f.name: torch.cat([getattr(s, f.name) for s in specs]) for f in fields(BodySpec)})


def _spec(n, kind, radius, hx, hy, mass, inertia, movable, collidable, rotates, max_speed, friction) -> BodySpec:
    def full(v, dtype=torch.float32):
        return torch.full((n,), v, dtype=dtype)

    return BodySpec(
        kind=torch.full((n,), int(kind), dtype=torch.long),
        radius=full(radius),
        half_extents=torch.tensor([[hx, hy]] * n, dtype=torch.float32).reshape(n, 2),
        mass=full(mass),
        inertia=full(inertia),
        movable=full(movable, torch.bool),
        collidable=full(collidable, torch.bool),
        rotates=full(rotates, torch.bool),
        max_speed=full(math.inf if max_speed is None else max_speed),
        friction=full(friction),
    )


def circles(
    n: int,
    radius: float,
    mass: float = 1.0,
    movable: bool = True,
    collidable: bool = True,
    rotates: bool = False,
    max_speed: float | None = None,
    friction: float = 0.0,
) -> BodySpec:
    """``n`` identical discs. ``rotates`` enables heading dynamics (torque, angular velocity)."""
    _check_friction(friction)
    return _spec(
        n, ShapeKind.CIRCLE, radius, 0.0, 0.0, mass, disc_inertia(mass, radius),
        movable, collidable, rotates, max_speed, friction,
    )


def boxes(
    n: int,
    half_width: float,
    half_height: float,
    mass: float = 1.0,
    movable: bool = True,
    collidable: bool = True,
    max_speed: float | None = None,
    friction: float = 0.0,
) -> BodySpec:
    """``n`` identical oriented boxes; boxes always rotate (off-centre pushes turn them)."""
    _check_friction(friction)
    spec = _spec(
        n, ShapeKind.BOX, 0.0, half_width, half_height, mass, box_inertia(mass, half_width, half_height),
        movable, collidable, True, max_speed, friction,
    )
    r = bounding_radius(ShapeKind.BOX, 0.0, half_width, half_height)
    values = {f.name: getattr(spec, f.name) for f in fields(spec)}
    return BodySpec(**{**values, "radius": torch.full((n,), r)})


def _check_friction(friction: float) -> None:
    if isinstance(friction, bool) or not isinstance(friction, int | float) or not math.isfinite(friction) \
            or friction < 0:
        raise ValueError(f"friction: expected a finite deceleration >= 0 (mu * g), got {friction!r}.")
