"""Static walls: thick line segments that differ per world, and their contacts with bodies.

Bodies share one layout across the batch, but hide-and-seek draws a different room in
every world, so walls are data, not spec: (B, W) segments padded to a fixed count W with a
mask, all with one half thickness (a wall is the capsule of points within
``half_thickness`` of its segment, which is also how the renderer draws it). This module
holds the wall data, the geometry of wall contacts and the tunnelling rule;
``contacts.RigidContacts`` applies the usual penalty law with stiffness
``WorldParams.wall_contact_force``. Walls are immovable: contacts push only the body.

No tunnelling. A disc's contact normal comes from the closest point of the segment, so it
flips once the disc centre crosses the segment's centre line, after which the wall pushes
it through. The rule enforced at construction (``check_tunnelling``) is therefore:

    max_speed * dt / substeps <= radius + half_thickness        (for every capped body)

so that a body at its max speed cannot jump from outside contact to beyond the centre
line in one substep. For a box the radius is its smallest half extent: its corners are
pushed towards the side of the wall that holds the box centre, so a box only tunnels
once its centre crosses the line. Bodies without a speed cap cannot be checked.

The rule is necessary, not sufficient. With h = dt / substeps and k the wall stiffness,
the wall must also
  * hold the push: a sustained force F rests at a depth of about F / k, so keep
    F < k * (radius + half_thickness) with room to spare;
  * stay stable: an explicitly integrated penalty spring blows up when too stiff. The
    semi-implicit order needs about h^2 k (1/m + r^2/I) < 2, where r^2/I = 3/m for a box
    corner (so a box needs k < m / (2 h^2)); MPE's position-first order needs
    h^2 k / m < damping, so it suits only soft walls.
With both, tests/physics/test_walls.py drives discs at the rule's limit speed and boxes at
half of it into walls for 200 steps without a crossing.

Penalty walls still yield to a hard enough push (a grab joint, several bodies pushing in a
row). Worlds that must hold under any action set ``WorldParams.max_penetration``: the position
projection (``projection``) then moves every body back out to that depth after each substep,
and with the rule above no centre can reach a wall's line. ``fence_walls`` (``World``) hold
every body, also those exempt from wall contacts (``solid`` = 0: agents elevated on a ramp).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields

import torch

from marl_envs.physics import masks
from marl_envs.physics.geometry import EPS, perp
from marl_envs.physics.params import WorldParams
from marl_envs.physics.shapes import ShapeKind
from marl_envs.physics.state import BodySpec

Segment = tuple[tuple[float, float], tuple[float, float]]


@dataclass
class Walls:
    """W wall slots in each of B worlds.

    Attributes:
        start: (B, W, 2) first endpoints.
        end: (B, W, 2) second endpoints.
        mask: (B, W) bool, true for slots holding a wall; the coordinates of the other
            (padding) slots are ignored.
        half_thickness: half the thickness of every wall.
    """

    start: torch.Tensor
    end: torch.Tensor
    mask: torch.Tensor
    half_thickness: float

    def __post_init__(self) -> None:
        b, w = self.mask.shape if self.mask.dim() == 2 else (None, None)
        if self.mask.dtype != torch.bool or b is None:
            raise ValueError(f"Walls.mask: expected a (B, W) bool tensor, got {tuple(self.mask.shape)} "
                             f"{self.mask.dtype}.")
        for name in ("start", "end"):
            t = getattr(self, name)
            if tuple(t.shape) != (b, w, 2):
                raise ValueError(f"Walls.{name}: expected shape {(b, w, 2)} to match mask, got {tuple(t.shape)}.")
        if not self.half_thickness >= 0:
            raise ValueError(f"Walls.half_thickness: expected a number >= 0, got {self.half_thickness!r}.")

    @property
    def num_envs(self) -> int:
        return int(self.mask.shape[0])

    @property
    def num_walls(self) -> int:
        return int(self.mask.shape[1])

    @classmethod
    def empty(cls, num_envs: int, num_walls: int, half_thickness: float, device="cpu") -> Walls:
        """W free slots in each of B worlds (all masked off), to be filled by ``World.set_walls_where``."""
        zeros = torch.zeros(num_envs, num_walls, 2, device=device)
        mask = torch.zeros(num_envs, num_walls, dtype=torch.bool, device=device)
        return cls(start=zeros, end=zeros.clone(), mask=mask, half_thickness=half_thickness)

    @classmethod
    def from_segments(
        cls,
        segments: Sequence[Sequence[Segment]],
        half_thickness: float,
        num_walls: int | None = None,
        device="cpu",
    ) -> Walls:
        """Walls from one list of ``((x0, y0), (x1, y1))`` segments per world, padded to ``num_walls``.

        Args:
            segments: B lists of segments (lists may differ in length, or be empty).
            half_thickness: of every wall.
            num_walls: W; default the longest list.
            device: where the tensors live.
        """
        longest = max((len(s) for s in segments), default=0)
        w = longest if num_walls is None else num_walls
        if longest > w:
            raise ValueError(f"Walls.from_segments: a world has {longest} segments, more than num_walls={w}.")
        ends = torch.zeros(len(segments), w, 2, 2)
        mask = torch.zeros(len(segments), w, dtype=torch.bool)
        for b, world in enumerate(segments):
            if world:
                ends[b, : len(world)] = torch.tensor(world, dtype=torch.float32).view(-1, 2, 2)
                mask[b, : len(world)] = True
        ends, mask = ends.to(device), mask.to(device)
        return cls(start=ends[:, :, 0].contiguous(), end=ends[:, :, 1].contiguous(), mask=mask,
                   half_thickness=half_thickness)

    def where(self, mask: torch.Tensor, other: Walls) -> Walls:
        """Per-world select: ``other``'s walls where ``mask`` (B,) is true, else these."""
        if other.num_walls != self.num_walls or other.half_thickness != self.half_thickness:
            raise ValueError(
                f"Walls.where: expected walls with W={self.num_walls} and half_thickness={self.half_thickness}, "
                f"got W={other.num_walls} and half_thickness={other.half_thickness}; pad with Walls.from_segments("
                f"..., num_walls={self.num_walls})."
            )
        m = mask.view(-1, 1)
        return Walls(
            start=torch.where(m.unsqueeze(-1), other.start, self.start),
            end=torch.where(m.unsqueeze(-1), other.end, self.end),
            mask=torch.where(m, other.mask, self.mask),
            half_thickness=self.half_thickness,
        )

    def to(self, device: torch.device | str) -> Walls:
        return Walls(self.start.to(device), self.end.to(device), self.mask.to(device), self.half_thickness)

    def world_segments(self, i: int) -> torch.Tensor:
        """(W_i, 2, 2) endpoints of the walls present in world ``i`` (for snapshots; syncs, not for a step)."""
        return torch.stack((self.start[i], self.end[i]), dim=1)[self.mask[i]]


def contact_radius(spec: BodySpec) -> torch.Tensor:
    """(N,) how far a body reaches past a wall's centre line before it tunnels: disc radius, box min half extent."""
    return torch.where(spec.kind == ShapeKind.CIRCLE, spec.radius, spec.half_extents.amin(dim=-1))


def check_tunnelling(spec: BodySpec, params: WorldParams, half_thickness: float) -> None:
    """Raise if a capped body can cross a wall's centre line in one substep (see the module docstring).

    Raises:
        ValueError: naming the body and the values of dt, substeps, max_speed, radius and
            half_thickness, with the smallest substep count that would satisfy the rule.
    """
    h = params.dt / params.substeps
    radius = contact_radius(spec).cpu()
    reach = radius + half_thickness
    max_speed = spec.max_speed.cpu()
    checked = (spec.movable & spec.collidable).cpu() & torch.isfinite(max_speed)
    travel = max_speed * h
    bad = (checked & (travel > reach)).nonzero().flatten().tolist()
    if bad:
        i = bad[0]
        v, r = float(max_speed[i]), float(radius[i])
        need = math.ceil(v * params.dt / (r + half_thickness)) if r + half_thickness > 0 else math.inf
        raise ValueError(
            f"Walls cannot stop body {i}: at max_speed={v:g} it travels max_speed * dt / substeps = "
            f"{v:g} * {params.dt:g} / {params.substeps} = {float(travel[i]):.4g} per substep, more than its "
            f"radius={r:g} (a box's smallest half extent) + wall half_thickness={half_thickness:g} = "
            f"{float(reach[i]):.4g}, so it can tunnel through a wall. Use substeps >= {need}, a lower "
            f"max_speed, a larger radius or thicker walls."
        )


FAR = 1e6
"""Where masked wall slots are moved: far enough that the penalty law gives exactly zero force."""


@dataclass
class WallFrames:
    """Each wall's own frame, batch-minor: every tensor (1, W, B), the world index contiguous.

    Unit direction u along the segment (x axis if it has zero length) and left normal n, as
    components, with the projections ``n0 = start . n`` and ``u0 = start . u`` and the
    segment length. A point's coordinates in a wall's frame are ``p . n - n0`` (signed
    distance to the line) and ``p . u - u0`` (position along it).

    Why batch-minor: the contact queries broadcast (P, 1, B) points against (1, W, B) walls,
    and with the world index innermost every elementwise op runs over contiguous rows of B
    values; with (B, P, W) tensors the inner loops are W long, 3 to 5x slower on CPU.
    """

    nx: torch.Tensor
    ny: torch.Tensor
    ux: torch.Tensor
    uy: torch.Tensor
    n0: torch.Tensor
    u0: torch.Tensor
    length: torch.Tensor


@dataclass
class WallGeometry:
    """Wall constants a substep needs, derived once per wall change (not per substep).

    Masked slots become points at ``(FAR, FAR)``, which exert exactly zero force without a
    per-substep mask.

    Attributes:
        frames: each wall's frame, batch-minor (``WallFrames``), for the contact queries and
            the spawn checks.
        tips_x, tips_y: (2W, B) all endpoints (starts, then ends), batch-minor, for the
            endpoint-vs-box contacts.
        half_thickness: of every wall.
    """

    frames: WallFrames
    tips_x: torch.Tensor
    tips_y: torch.Tensor
    half_thickness: float

    @classmethod
    def of(cls, walls: Walls) -> WallGeometry:
        mask = walls.mask.unsqueeze(-1)
        start = torch.where(mask, walls.start, FAR)
        end = torch.where(mask, walls.end, FAR)
        seg = end - start
        length = torch.linalg.vector_norm(seg, dim=-1)
        u = torch.where(length.unsqueeze(-1) > EPS, seg / length.unsqueeze(-1).clamp_min(EPS),
                        torch.tensor([1.0, 0.0], device=seg.device))
        n = perp(u)

        def minor(t: torch.Tensor) -> torch.Tensor:  # (B, W) -> (1, W, B)
            return t.t().contiguous().unsqueeze(0)

        tips = torch.cat((start, end), dim=1)  # (B, 2W, 2)
        frames = WallFrames(nx=minor(n[..., 0]), ny=minor(n[..., 1]), ux=minor(u[..., 0]), uy=minor(u[..., 1]),
                            n0=minor((start * n).sum(-1)), u0=minor((start * u).sum(-1)), length=minor(length))
        return cls(frames=frames, tips_x=tips[..., 0].t().contiguous(), tips_y=tips[..., 1].t().contiguous(),
                   half_thickness=walls.half_thickness)

    def take(self, rows: torch.Tensor) -> WallGeometry:
        """The walls of the worlds ``rows`` (an index or mask over B)."""
        frames = WallFrames(*(getattr(self.frames, f.name)[..., rows] for f in fields(WallFrames)))
        return WallGeometry(frames, self.tips_x[:, rows], self.tips_y[:, rows], self.half_thickness)


def thick_segment_query(
    x: torch.Tensor, y: torch.Tensor, cx: torch.Tensor, cy: torch.Tensor, walls: WallFrames, half_thickness: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gaps and push directions of points against thick walls; all arguments broadcast together.

    A point alongside a wall whose body centre is alongside it too is pushed to the side
    holding the centre, however deep it is (the slab rule that keeps a box's corners from
    tunnelling before its centre does); otherwise away from the closest point of the
    segment (the capsule). A disc's point is its centre, for which both rules agree.

    Args:
        x, y: query points (disc centres, box corners), e.g. (P, 1, B) against (1, W, B) walls.
        cx, cy: centres of the bodies owning them.
        walls: the walls' frames.
        half_thickness: of every wall.

    Returns:
        gap: distance beyond the wall's surface (negative inside it).
        normal_coef, along_coef: the unit push direction of each wall on each point, as
            coefficients on the wall's n and u axes.
    """
    off = torch.addcmul(y * walls.ny, x, walls.nx) - walls.n0  # signed distance to the line
    along = torch.addcmul(y * walls.uy, x, walls.ux) - walls.u0  # position along it
    centre_off = torch.addcmul(cy * walls.ny, cx, walls.nx) - walls.n0
    centre_along = torch.addcmul(cy * walls.uy, cx, walls.ux) - walls.u0
    excess = along - torch.minimum(along.clamp_min(0.0), walls.length)  # past an endpoint, else 0
    dist = torch.addcmul(off * off, excess, excess).sqrt_()  # to the segment
    slab = masks.eq(excess, 0.0) * masks.gt(centre_along, 0.0) * masks.lt(centre_along, walls.length)
    side = masks.sign_ge0(centre_off)
    gap = masks.select(slab, side * off, dist) - half_thickness
    inv = dist.clamp_min(EPS).reciprocal_()
    normal_coef = masks.select(slab, side, off * inv)
    along_coef = excess * inv  # zero on the slab, where excess is 0
    return gap, normal_coef, along_coef
