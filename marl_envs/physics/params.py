"""Physical constants of a world, shared by every world of a batch."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WorldParams:
    """Constants of the dynamics. Defaults are MPE's, so MPE tasks match it exactly.

    Attributes:
        dt: Duration of one environment step.
        substeps: Physics substeps per environment step (dt / substeps each). More substeps
            keep stiff contacts stable and fast bodies from tunnelling through thin walls.
        damping: Fraction of linear velocity lost per substep (MPE: 0.25 per step).
        angular_damping: Fraction of angular velocity lost per substep.
        contact_force: Penalty stiffness of contacts (MPE: 100).
        contact_margin: Softness of the penalty: penetration is
            ``margin * softplus(-gap / margin)``, a smooth max(0, -gap) (MPE: 1e-3).
        position_first: MPE's order, ``x += v dt`` with the old velocity and then the velocity
            update (explicit Euler in position). False gives semi-implicit (symplectic) Euler:
            velocity first, then position with the new velocity, which is more stable for
            stiff contacts and what new tasks should use.
        arena_half_size: If set, positions are clamped to the square [-h, h]^2 (a hard
            safety bound; tasks that need real boundaries use walls).
        wall_contact_force: Penalty stiffness of body-wall contacts; None uses
            ``contact_force``. Walls must hold a body pushed by a sustained force F, whose
            resting depth is about F / stiffness, well under the body's radius plus the
            wall half thickness, while staying stable (stiffness below about
            m / (2 h^2) for boxes, h = dt / substeps); see the ``walls`` module docstring.
        max_penetration: If set, the slop of the position projection run after each substep
            (``projection``): a body deeper than this into a wall, or two boxes overlapping
            deeper than this, are moved apart to this depth and lose their approaching
            velocity, so walls and boxes hold under any force (penalty springs alone yield to
            hard enough pushes and grab joints). Shallower contacts feel the penalty forces
            alone. Keep it below a capped body's radius + wall half thickness - max_speed * dt /
            substeps so that no centre can reach a wall's line. None (default): penalty
            contacts only (transport_v0 and spread_v0 keep that).
    """

    dt: float = 0.1
    substeps: int = 1
    damping: float = 0.25
    angular_damping: float = 0.25
    contact_force: float = 100.0
    contact_margin: float = 1e-3
    position_first: bool = True
    arena_half_size: float | None = None
    wall_contact_force: float | None = None
    max_penetration: float | None = None

    def __post_init__(self) -> None:
        checks = {
            "dt": self.dt > 0,
            "substeps": isinstance(self.substeps, int) and self.substeps >= 1,
            "damping": 0.0 <= self.damping < 1.0,
            "angular_damping": 0.0 <= self.angular_damping < 1.0,
            "contact_force": self.contact_force >= 0,
            "contact_margin": self.contact_margin > 0,
            "arena_half_size": self.arena_half_size is None or self.arena_half_size > 0,
            "wall_contact_force": self.wall_contact_force is None or self.wall_contact_force >= 0,
            "max_penetration": self.max_penetration is None or self.max_penetration >= 0,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"WorldParams.{name}={getattr(self, name)!r} is out of range")
