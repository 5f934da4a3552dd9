"""A batch of B independent 2D worlds stepped together.

``World.step`` reads as the physics it does: for each substep, contacts, then
integration. Everything else (actions, rules, sensing) belongs to scenarios.
"""

from __future__ import annotations

import torch

from marl_envs.physics.contacts import Contacts
from marl_envs.physics.integrate import Integrator
from marl_envs.physics.params import WorldParams
from marl_envs.physics.state import BodySpec, BodyState


class World:
    """Bodies of one static layout in B worlds, on one device.

    Args:
        spec: the N bodies (shared by all worlds).
        params: physical constants.
        num_envs: B.
        device: where every tensor lives.
    """

    def __init__(self, spec: BodySpec, params: WorldParams, num_envs: int, device: torch.device | str):
        self.device = torch.device(device)
        self.spec = spec.to(self.device)
        self.params = params
        self.num_envs = num_envs
        self.state = BodyState.zeros(num_envs, spec.num_bodies, self.device)
        self.contacts = Contacts(spec, params, self.device)
        self.integrator = Integrator(spec, params, self.device)

    def step(self, force: torch.Tensor, torque: torch.Tensor | None = None) -> None:
        """Advance every world by ``params.dt`` under constant applied force (B, N, 2) and torque (B, N)."""
        self.state = self.advance(self.state, force, torque)

    def advance(self, state: BodyState, force: torch.Tensor, torque: torch.Tensor | None) -> BodyState:
        """Pure form of ``step``: returns the next state without touching ``self.state``."""
        for _ in range(self.params.substeps):
            contact_force, contact_torque = self.contacts(state)
            total_force = force if contact_force is None else force + contact_force
            total_torque = torque
            if contact_torque is not None:
                total_torque = contact_torque if torque is None else torque + contact_torque
            state = self.integrator(state, total_force, total_torque)
        return state

    def reset_where(self, mask: torch.Tensor, fresh: BodyState) -> None:
        """Replace the state of the worlds where ``mask`` (B,) is true by ``fresh``."""
        self.state = self.state.where(mask, fresh)
