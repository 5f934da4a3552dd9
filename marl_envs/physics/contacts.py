"""Contact detection and penalty forces, batched over worlds with static pair tables.

Why penalty forces: they are smooth, branch-free and cost the same for every world, so a
batch of thousands of worlds steps in a few fused tensor ops; MPE uses the same model,
which is what makes our MPE tasks match it to float precision. The contact law is MPE's:

    penetration = margin * softplus(-(gap) / margin)      (a smooth max(0, -gap))
    force on a  = contact_force * penetration * n          (n: unit normal from b to a)

Boxes and walls use the same law with ``gap`` the signed distance between features
(disc centre vs box, box corner vs box), and the force acts at the contact point, so an
off-centre push turns a box: torque ``(contact - centre) x F`` on each body of the pair,
with the forces equal and opposite and collinear (linear and angular momentum conserved).
Contacts are frictionless, so a disc never gets a contact torque.

Which pairs can touch is known when the world is built (kinds, collidable and movable
flags are static), so the pair lists are precomputed index tensors and a step never
branches on data. A world without boxes runs only ``CircleContacts``, unchanged from MPE.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F

from marl_envs.physics.geometry import box_local_corners, cross, point_box_distance, rotate
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


def _scatter_tables(spec: BodySpec, pairs: list[tuple[int, int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, P) one-hot tables of the first and of the second body of each pair, zero for static bodies."""
    movable = spec.movable.cpu().tolist()
    first = torch.zeros(spec.num_bodies, len(pairs))
    second = torch.zeros(spec.num_bodies, len(pairs))
    for p, (a, b) in enumerate(pairs):
        first[a, p] = float(movable[a])
        second[b, p] = float(movable[b])
    return first, second


class _RigidPairs:
    """Pair list of one kind combination plus the tables that scatter pair wrenches to bodies.

    Forces go through a signed incidence (N, P) as in ``CircleContacts``; torques differ on
    the two bodies of a pair (each is about its own centre), so they go through the
    stacked one-hot tables (2P, N) in one matmul.
    """

    def __init__(
        self, spec: BodySpec, params: WorldParams, device: torch.device, kind_a: ShapeKind, kind_b: ShapeKind
    ):
        pairs = _pairs(spec, kind_a, kind_b)
        self.num_pairs = len(pairs)
        self.i = torch.tensor([p[0] for p in pairs], dtype=torch.long, device=device)
        self.j = torch.tensor([p[1] for p in pairs], dtype=torch.long, device=device)
        first, second = _scatter_tables(spec, pairs)
        self.force_table = (first - second).to(device)  # (N, P)
        self.torque_table = torch.cat((first, second), dim=1).T.contiguous().to(device)  # (2P, N)
        self.second_table = second.T.contiguous().to(device)  # (P, N)
        self.stiffness = params.contact_force
        self.margin = params.contact_margin

    def magnitude(self, gap: torch.Tensor) -> torch.Tensor:
        """Penalty force magnitude for gaps (...) -> (..., 1), ready to scale a normal."""
        return (penetration(gap, self.margin) * self.stiffness).unsqueeze(-1)

    def scatter(
        self, force_a: torch.Tensor, torque_a: torch.Tensor | None, torque_b: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-pair wrenches to per-body sums.

        Args:
            force_a: (B, P, 2) force on the first body of each pair (the second gets minus it).
            torque_a: (B, P) torque on the first body, or None for none (discs).
            torque_b: (B, P) torque on the second body.

        Returns:
            (B, N, 2) forces and (B, N) torques.
        """
        force = torch.matmul(self.force_table, force_a)
        if torque_a is None:
            return force, torch.matmul(torque_b, self.second_table)
        return force, torch.matmul(torch.cat((torque_a, torque_b), dim=1), self.torque_table)


class CircleBoxContacts(_RigidPairs):
    """Disc-box contacts: gap = signed distance from the disc centre to the box minus the radius.

    The force acts along the box's outward normal at the closest point of the box boundary,
    which lies on the line through the disc centre, so the disc gets no torque and the box
    gets ``(closest - box centre) x (-F)``.
    """

    def __init__(self, spec: BodySpec, params: WorldParams, device: torch.device):
        super().__init__(spec, params, device, ShapeKind.CIRCLE, ShapeKind.BOX)
        self.radius = spec.radius.cpu()[self.i.cpu()].view(1, -1).to(device)  # (1, P)
        self.half_extents = spec.half_extents.cpu()[self.j.cpu()].to(device)  # (P, 2)

    def __call__(self, state: BodyState) -> tuple[torch.Tensor, torch.Tensor]:
        """Forces (B, N, 2) and torques (B, N) of all disc-box pairs."""
        disc, box = state.pos[:, self.i], state.pos[:, self.j]
        sd, normal, closest = point_box_distance(disc, box, state.angle[:, self.j], self.half_extents)
        force = normal * self.magnitude(sd - self.radius)  # (B, P, 2) on the disc
        return self.scatter(force, None, cross(force, closest - box))


class BoxBoxContacts(_RigidPairs):
    """Box-box contacts as vertex-face penalties: each corner of A against box B and vice versa.

    Each of the 8 corner contacts of a pair pushes along the other box's outward normal and
    acts at the corner on both bodies, so the pair's forces and torques about any point
    cancel. Two boxes resting face to face get two corner contacts, which keeps them flush.
    Limitation: a crossing with no corner inside the other box (a thin box pierced edge to
    edge) is missed; contacts start shallow from a corner, so this needs a tunnelling speed.
    """

    def __init__(self, spec: BodySpec, params: WorldParams, device: torch.device):
        super().__init__(spec, params, device, ShapeKind.BOX, ShapeKind.BOX)
        half = spec.half_extents.cpu()
        self.half_a = half[self.i.cpu()].unsqueeze(1).to(device)  # (P, 1, 2)
        self.half_b = half[self.j.cpu()].unsqueeze(1).to(device)
        self.corners_a = box_local_corners(self.half_a.squeeze(1))  # (P, 4, 2)
        self.corners_b = box_local_corners(self.half_b.squeeze(1))

    def __call__(self, state: BodyState) -> tuple[torch.Tensor, torch.Tensor]:
        """Forces (B, N, 2) and torques (B, N) of all box-box pairs."""
        pa, pb = state.pos[:, self.i].unsqueeze(-2), state.pos[:, self.j].unsqueeze(-2)  # (B, P, 1, 2)
        ta, tb = state.angle[:, self.i].unsqueeze(-1), state.angle[:, self.j].unsqueeze(-1)  # (B, P, 1)
        ra, rb = rotate(self.corners_a, ta), rotate(self.corners_b, tb)  # (B, P, 4, 2) from centres
        sd_a, normal_a, _ = point_box_distance(pa + ra, pb, tb, self.half_b)
        sd_b, normal_b, _ = point_box_distance(pb + rb, pa, ta, self.half_a)
        on_a = normal_a * self.magnitude(sd_a)  # (B, P, 4, 2) on A at its corners
        on_b = normal_b * self.magnitude(sd_b)  # on B at its corners
        d = pb - pa
        torque_a = cross(ra, on_a).sum(-1) - cross(rb + d, on_b).sum(-1)
        torque_b = cross(rb, on_b).sum(-1) - cross(ra - d, on_a).sum(-1)
        return self.scatter(on_a.sum(-2) - on_b.sum(-2), torque_a, torque_b)


def add_wrench(
    force: torch.Tensor | None,
    torque: torch.Tensor | None,
    more_force: torch.Tensor,
    more_torque: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Sum two (force (B, N, 2), torque (B, N)) contributions, where a None torque means zero."""
    force = more_force if force is None else force + more_force
    if more_torque is not None:
        torque = more_torque if torque is None else torque + more_torque
    return force, torque


class Contacts:
    """All contact forces of a world layout: the sum of the per-kind pair models it needs.

    Only the models whose pair list is non-empty run, chosen once at construction, so a
    world of discs runs exactly ``CircleContacts`` (MPE) and nothing else. Walls are a
    separate model (``walls.WallContacts``) because their geometry is per-world data.
    """

    def __init__(self, spec: BodySpec, params: WorldParams, device: torch.device):
        circles = CircleContacts(spec, params, device)
        self.circles = circles if circles.num_pairs else None
        rigid = (CircleBoxContacts(spec, params, device), BoxBoxContacts(spec, params, device))
        self.rigid = [model for model in rigid if model.num_pairs]

    def __call__(self, state: BodyState) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Forces (B, N, 2) and torques (B, N) from contacts; None where no model applies."""
        force = self.circles(state.pos) if self.circles is not None else None
        torque = None
        for model in self.rigid:  # at most two kind models, fixed at construction
            force, torque = add_wrench(force, torque, *model(state))
        return force, torque
