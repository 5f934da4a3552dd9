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

from marl_envs.physics.geometry import rotate
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
    b, n = state.pos.shape[:2]
    holding = grabs.target >= 0  # (B, A)
    held = grabs.target.clamp_min(0)
    incidence = torch.nn.functional.one_hot(held, n).to(state.pos.dtype) * holding.unsqueeze(-1)  # (B, A, N)
    holder_mass = mass.index_select(0, grabs.holders)  # (A,)
    holder_vel = state.vel.index_select(1, grabs.holders)  # (B, A, 2)
    # Momentum sharing: per body, its own momentum plus that of everyone holding it.
    cluster_mass = mass + torch.matmul(holder_mass, incidence)  # (B, N)
    momentum = state.vel * mass.view(1, n, 1) + torch.matmul(incidence.transpose(1, 2),
                                                             holder_vel * holder_mass.view(1, -1, 1))
    common = momentum / cluster_mass.unsqueeze(-1)  # (B, N, 2); unchanged for bodies nobody holds
    # Drift correction towards the welded pose, averaged over a body's holders.
    holder_pos = state.pos.index_select(1, grabs.holders)
    holder_angle = state.angle.index_select(1, grabs.holders)
    target_pos = holder_pos + rotate(grabs.offset, holder_angle)
    held_pos = torch.gather(state.pos, 1, held.unsqueeze(-1).expand(b, -1, 2))
    held_angle = torch.gather(state.angle, 1, held)
    count = incidence.sum(1).clamp_min(1.0)  # (B, N)
    pos_error = torch.matmul(incidence.transpose(1, 2), target_pos - held_pos) / count.unsqueeze(-1)
    holder_spin = state.ang_vel.index_select(1, grabs.holders)
    angle_error = wrap_angle(holder_angle + grabs.rel_angle - held_angle)
    spin = torch.matmul((holder_spin + beta * angle_error / h).unsqueeze(1), incidence).squeeze(1) / count
    is_held = incidence.sum(1) > 0  # (B, N)
    vel = torch.where(is_held.unsqueeze(-1), common + beta * pos_error / h, state.vel)
    holder_common = torch.gather(common, 1, held.unsqueeze(-1).expand(b, -1, 2))
    holder_new = torch.where(holding.unsqueeze(-1), holder_common, holder_vel)
    vel = vel.index_copy(1, grabs.holders, holder_new)
    ang_vel = torch.where(is_held, spin, state.ang_vel)
    return BodyState(pos=state.pos, vel=vel, angle=state.angle, ang_vel=ang_vel)
