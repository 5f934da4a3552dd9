"""Contact detection and penalty forces, batched over worlds with static pair tables.

Why penalty forces: they are smooth, branch-free and cost the same for every world, so a
batch of thousands of worlds steps in a few fused tensor ops; MPE uses the same model,
which is what makes our MPE tasks match it to float precision. The contact law is MPE's:

    penetration = margin * softplus(-(gap) / margin)      (a smooth max(0, -gap))
    force on a  = contact_force * penetration * n          (n: unit normal from b to a)

Which pairs can touch is known when the world is built (kinds, collidable and movable
flags are static), so the pair lists are precomputed index tensors and a step never
branches on data.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F

from marl_envs.physics.params import WorldParams
from marl_envs.physics.shapes import ShapeKind
from marl_envs.physics.state import BodySpec, BodyState


def penetration(gap: torch.Tensor, margin: float) -> torch.Tensor:
    """Smooth penetration depth ``margin * log(1 + exp(-gap / margin))`` (MPE's logaddexp)."""
    return F.softplus(gap * (-1.0 / margin)) * margin


def _pairs(spec: BodySpec, kind_a: ShapeKind, kind_b: ShapeKind) -> list[tuple[int, int]]:
    """Body index pairs (i, j), i of kind_a and j of kind_b, that can exert forces on each other."""
    kind = spec.kind.tolist()
    collidable = spec.collidable.tolist()
    movable = spec.movable.tolist()
    out = []
    for i, j in itertools.combinations(range(spec.num_bodies), 2):
        if not (collidable[i] and collidable[j] and (movable[i] or movable[j])):
            continue
        if (kind[i], kind[j]) == (kind_a, kind_b):
            out.append((i, j))
        elif (kind[j], kind[i]) == (kind_a, kind_b):
            out.append((j, i))
    return out


class CircleContacts:
    """Disc-disc contacts of a fixed list of pairs.

    Forces are scattered back to bodies with one matmul against a signed incidence
    matrix (P, N) -> (N, P): +1 for the first body of a pair, -1 for the second, 0 for a
    static body, so that the pair force is applied equal and opposite.
    """

    def __init__(self, spec: BodySpec, params: WorldParams, device: torch.device):
        pairs = _pairs(spec, ShapeKind.CIRCLE, ShapeKind.CIRCLE)
        self.num_pairs = len(pairs)
        i = torch.tensor([p[0] for p in pairs], dtype=torch.long)
        j = torch.tensor([p[1] for p in pairs], dtype=torch.long)
        n = spec.num_bodies
        incidence = torch.zeros(n, max(len(pairs), 1))
        movable = spec.movable.cpu()
        for p, (a, b) in enumerate(pairs):
            incidence[a, p] = 1.0 if movable[a] else 0.0
            incidence[b, p] = -1.0 if movable[b] else 0.0
        self.i = i.to(device)
        self.j = j.to(device)
        self.radius_sum = (spec.radius.cpu()[i] + spec.radius.cpu()[j]).to(device).view(1, -1, 1)
        self.incidence = incidence[:, : len(pairs)].to(device)
        self.stiffness = params.contact_force
        self.margin = params.contact_margin

    def __call__(self, pos: torch.Tensor) -> torch.Tensor:
        """Contact forces on every body.

        Args:
            pos: (B, N, 2) positions.

        Returns:
            (B, N, 2) sum of contact forces on each body.
        """
        delta = pos[:, self.i] - pos[:, self.j]  # (B, P, 2), from j to i
        dist = torch.linalg.vector_norm(delta, dim=-1, keepdim=True).clamp_min(1e-12)
        scale = penetration(dist - self.radius_sum, self.margin) * (self.stiffness) / dist
        return torch.matmul(self.incidence, delta * scale)


class Contacts:
    """All contact forces of a world layout: the sum of the per-kind pair models it needs.

    Only the models whose pair list is non-empty run, chosen once at construction.
    """

    def __init__(self, spec: BodySpec, params: WorldParams, device: torch.device):
        circles = CircleContacts(spec, params, device)
        self.circles = circles if circles.num_pairs else None

    def __call__(self, state: BodyState) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Forces (B, N, 2) and torques (B, N) from contacts; None where no model applies."""
        force = self.circles(state.pos) if self.circles is not None else None
        return force, None
