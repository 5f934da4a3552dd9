"""Grab joints: a held body moves and turns with the agent holding it.

Why velocity constraints and not springs: a stiff spring between an agent and a heavy box
needs tiny substeps to stay stable, while a velocity projection after each substep is
unconditionally stable and costs a handful of gathers. The joint is a weld in the holder's
frame, applied in two parts:

* momentum sharing: a held body and all its holders get their common velocity
  ``v = (m_o v_o + sum_a m_a v_a) / (m_o + sum_a m_a)``, so an agent dragging a box
  accelerates as one body of their total mass (momentum is conserved);
* drift correction (Baumgarte): the held body gets an extra velocity
  ``beta * (target - p_o) / h`` towards the pose the weld prescribes, the grab offset
  rotated with the holder, and an angular velocity that keeps its angle relative to the
  holder. This term is what makes the body swing round when the holder turns.

Contacts still act on both bodies during the substep, so a held box stops at walls and the
agent stops with it. A body held by several agents takes the mean of their targets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from marl_envs.physics import masks
from marl_envs.physics.layout import batch_major, rows
from marl_envs.physics.state import BodyState


@dataclass
class Grabs:
    """Who holds what, in each of B worlds.

    Attributes:
        holders: (A,) long body indices of the bodies that can hold (agents).
        target: (B, A) long body index held by each holder, -1 for none.
        offset: (B, A, 2) the held body's centre in the holder's frame, fixed at grab time.
        rel_angle: (B, A) the held body's angle minus the holder's, fixed at grab time.
    """

    holders: torch.Tensor
    target: torch.Tensor
    offset: torch.Tensor
    rel_angle: torch.Tensor


def wrap_angle(angle: torch.Tensor) -> torch.Tensor:
    """Angles mapped to [-pi, pi)."""
    return torch.remainder(angle + math.pi, 2.0 * math.pi) - math.pi


def apply_grabs(state: BodyState, grabs: Grabs, mass: torch.Tensor, h: float, beta: float = 0.5) -> BodyState:
    """Project velocities onto the grab joints (see the module docstring); returns a new state.

    Args:
        state: after a substep's integration.
        grabs: the joints of this step.
        mass: (N,) body masses.
        h: the substep length (for the drift correction).
        beta: fraction of the pose error removed per substep.
    """
    n, dtype = state.pos.shape[1], state.pos.dtype
    # Batch-minor rows (bodies or holders first, worlds contiguous), as in ``contacts.RigidContacts``.
    vx, vy = rows(state.vel[..., 0]), rows(state.vel[..., 1])  # (N, B)
    px, py = rows(state.pos[..., 0]), rows(state.pos[..., 1])
    angle, spin = rows(state.angle), rows(state.ang_vel)
    target = rows(grabs.target)  # (A, B)
    holding = masks.ge(target.to(dtype), 0.0)
    held = target.clamp_min(0)
    bodies = torch.arange(n, device=target.device, dtype=dtype).view(1, n, 1)
    incidence = masks.eq(target.to(dtype).unsqueeze(1), bodies)  # (A, N, B): holder a holds body n
    holder_mass = mass.index_select(0, grabs.holders).view(-1, 1)  # (A, 1)
    hvx, hvy = vx.index_select(0, grabs.holders), vy.index_select(0, grabs.holders)  # (A, B)
    # Momentum sharing: per body, its own momentum plus that of everyone holding it.
    weighted = incidence * holder_mass.unsqueeze(-1)
    cluster_mass = mass.view(n, 1) + weighted.sum(0)  # (N, B)
    common_x = (vx * mass.view(n, 1) + (weighted * hvx.unsqueeze(1)).sum(0)) / cluster_mass
    common_y = (vy * mass.view(n, 1) + (weighted * hvy.unsqueeze(1)).sum(0)) / cluster_mass
    # Drift correction towards the welded pose, averaged over a body's holders.
    holder_angle = angle.index_select(0, grabs.holders)
    cos, sin = holder_angle.cos(), holder_angle.sin()
    ox, oy = rows(grabs.offset[..., 0]), rows(grabs.offset[..., 1])
    error_x = px.index_select(0, grabs.holders) + cos * ox - sin * oy - px.gather(0, held)  # (A, B)
    error_y = py.index_select(0, grabs.holders) + sin * ox + cos * oy - py.gather(0, held)
    holders_of = incidence.sum(0)  # (N, B)
    count = holders_of.clamp_min(1.0)
    angle_error = wrap_angle(holder_angle + rows(grabs.rel_angle) - angle.gather(0, held))
    turn = spin.index_select(0, grabs.holders) + beta * angle_error / h
    is_held = masks.gt(holders_of, 0.0)
    new_vx = masks.select(is_held, common_x + (incidence * error_x.unsqueeze(1)).sum(0) * (beta / h) / count, vx)
    new_vy = masks.select(is_held, common_y + (incidence * error_y.unsqueeze(1)).sum(0) * (beta / h) / count, vy)
    new_vx = new_vx.index_copy(0, grabs.holders, masks.select(holding, common_x.gather(0, held), hvx))
    new_vy = new_vy.index_copy(0, grabs.holders, masks.select(holding, common_y.gather(0, held), hvy))
    ang_vel = masks.select(is_held, (incidence * turn.unsqueeze(1)).sum(0) / count, spin)
    vel = torch.stack((new_vx.t(), new_vy.t()), dim=-1)
    return BodyState(pos=state.pos, vel=vel, angle=state.angle, ang_vel=batch_major(ang_vel))
