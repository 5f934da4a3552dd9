"""Time integration: damping, applied forces, floor friction, speed caps, optional arena clamp.

The per-body constants (``dt/m`` and damping factors, zero for static bodies) are folded
into (N, 1) tensors once, so a substep is a few fused multiply-adds and static bodies
stay put without any masking op.

Floor friction is Coulomb friction applied at the velocity level, the way impulse-based
engines clamp friction: after the applied forces, the speed is reduced by at most
``friction * h`` (the impulse per unit mass that friction can supply in a substep) and never
past zero. So a body at rest pushed with less than ``mass * friction`` stays at rest (static
friction) and a moving one decelerates at ``friction`` (kinetic friction, same coefficient).
Spin is braked the same way by the friction torque of a uniformly loaded footprint,
``mass * friction * mean_footprint_radius``; the two are applied independently (the coupling
of sliding and spinning friction is neglected).
"""

from __future__ import annotations

import torch

from marl_envs.physics.params import WorldParams
from marl_envs.physics.shapes import ShapeKind, mean_footprint_radius
from marl_envs.physics.state import BodySpec, BodyState


class Integrator:
    """Semi-implicit or MPE-ordered Euler for linear and (optionally) angular motion."""

    def __init__(self, spec: BodySpec, params: WorldParams, device: torch.device):
        h = params.dt / params.substeps
        movable = spec.movable.float()
        self.position_first = params.position_first
        self.move_h = (movable * h).view(-1, 1).to(device)  # (N, 1): dt for movable, 0 for static
        self.vel_decay = (movable * (1.0 - params.damping)).view(-1, 1).to(device)
        self.force_gain = (movable * h / spec.mass).view(-1, 1).to(device)
        self.capped = bool(torch.isfinite(spec.max_speed).any())
        self.max_speed = spec.max_speed.view(-1, 1).to(device)  # inf where uncapped: the clamp leaves them alone
        rot = (spec.rotates & spec.movable).float()
        self.rotational = bool(rot.any())
        self.turn_h = (rot * h).to(device)
        self.ang_decay = (rot * (1.0 - params.angular_damping)).to(device)
        self.torque_gain = (rot * h / spec.inertia.clamp_min(1e-12)).to(device)
        self.bound = params.arena_half_size
        friction = spec.friction * movable
        self.has_friction = bool((friction > 0).any())
        self.friction_h = (friction * h).view(-1, 1).to(device)  # (N, 1) speed friction can remove per substep
        self.spin_friction_h = None  # (N,) spin friction can remove per substep; only worlds with friction
        if self.has_friction:
            host = spec.to("cpu")
            shapes = zip(host.kind.tolist(), host.radius.tolist(), host.half_extents.tolist(), strict=True)
            lever = torch.tensor([mean_footprint_radius(ShapeKind(k), r, hx, hy) for k, r, (hx, hy) in shapes])
            spin = host.friction * (host.rotates & host.movable) * lever * host.mass
            self.spin_friction_h = (spin / host.inertia.clamp_min(1e-12) * h).to(device)

    def __call__(
        self, state: BodyState, force: torch.Tensor, torque: torch.Tensor | None, free: torch.Tensor | None = None
    ) -> BodyState:
        """One substep.

        Args:
            state: current state.
            force: (B, N, 2) total force on each body.
            torque: (B, N) total torque on each body, or None (no torque).
            free: optional (B, N) float, 0 for bodies held still this substep (locked
                objects): their velocities are zeroed, so they act as static bodies
                towards everything that pushes them.

        Returns:
            The next state (new tensors; the input is not modified).
        """
        vel = state.vel * self.vel_decay + force * self.force_gain
        if self.has_friction:
            speed = torch.linalg.vector_norm(vel, dim=-1, keepdim=True)
            vel = vel * (1.0 - self.friction_h / speed.clamp_min(1e-12)).clamp_min(0.0)
        if self.capped:
            speed = torch.linalg.vector_norm(vel, dim=-1, keepdim=True)
            vel = vel * (self.max_speed / speed.clamp_min(1e-12)).clamp(max=1.0)
        if free is not None:
            vel = vel * free.unsqueeze(-1)
        pos = state.pos + (state.vel if self.position_first else vel) * self.move_h
        if self.bound is not None:
            pos = pos.clamp(-self.bound, self.bound)
        angle, ang_vel = state.angle, state.ang_vel
        if self.rotational:
            ang_vel = ang_vel * self.ang_decay
            if torque is not None:
                ang_vel = ang_vel + torque * self.torque_gain
            if self.has_friction:
                ang_vel = ang_vel * (1.0 - self.spin_friction_h / ang_vel.abs().clamp_min(1e-12)).clamp_min(0.0)
            if free is not None:
                ang_vel = ang_vel * free
            angle = angle + (state.ang_vel if self.position_first else ang_vel) * self.turn_h
        return BodyState(pos=pos, vel=vel, angle=angle, ang_vel=ang_vel)
