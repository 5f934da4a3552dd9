"""Position projection: the hard backstop that keeps walls and boxes from being pushed through.

Why: penalty contacts (``contacts``) are soft springs. A wall holds a body pushed by a sustained
force F at a depth of about F / k, and a grab joint (``constraints``) is a velocity projection
that can drive a held box into a wall or another box harder than any spring of a stable
stiffness resists. Measured on hide_and_seek_v1 under adversarial actions (every agent pushing
and grabbing at full force, 512 worlds x 1000 steps): boxes ended up to 1.07 m and agents up to
2.1 m outside the arena fence, and boxes overlapped by up to 95% of their area. More substeps
do not help: the stable stiffness grows as 1 / h^2, but so does the joint's drift correction.

So after each substep's integration and grab joints, with ``WorldParams.max_penetration`` set:

1. Box pairs: two oriented boxes overlap iff no edge normal of either separates them
   (separating-axis theorem, exact for convex polygons), and the shortest translation that
   separates them lies along the axis of least overlap. Where that least overlap exceeds the
   slop, the pair is moved apart along it to the slop, shared in proportion to the inverse
   masses (a locked box, ``free`` = 0, does not move), and their approaching normal velocity is
   removed. This is the test that catches two boxes crossing edge to edge with no corner inside
   the other, which the corner queries of ``contacts`` miss.
2. Walls, last, so that they win: each body's deepest point past each wall's surface (a disc's
   centre at its radius, a box's corners, a door jamb's endpoint inside a box), if deeper than
   the slop, moves the body back out along that point's contact normal (the same one the
   penalty uses: towards the side holding the body's centre) to the slop, and its velocity into
   the wall is removed. Walls sum their corrections (exact for the perpendicular walls of a
   corner).

Bodies are projected per wall only where they are ``solid`` (an elevated agent passes over
walls and boxes) or the wall is a fence wall (``fence_walls``: holds every body). With the
tunnelling rule (``walls.check_tunnelling``: a capped body moves less than its radius plus the
wall's half thickness per substep) and a slop below that margin, a solid body starts every
substep with its centre on its side of every wall and cannot reach the wall's centre line:
walls hold under any action sequence. Below the slop nothing changes: the penalty forces alone
act, as they always did (bodies resting under ordinary pushes stay shallower than the slop).

Everything is batch-minor rows (see ``contacts.RigidContacts``) and branch-free; the fused CPU
kernel (``marl_envs.native.projection``) computes the same terms per world.
"""

from __future__ import annotations

import torch

from marl_envs.physics import masks
from marl_envs.physics.contacts import _pairs
from marl_envs.physics.geometry import box_local_corners, point_box_query_xy
from marl_envs.physics.layout import batch_major, rows
from marl_envs.physics.params import WorldParams
from marl_envs.physics.shapes import ShapeKind
from marl_envs.physics.state import BodySpec, BodyState
from marl_envs.physics.walls import WallFrames, WallGeometry, thick_segment_query

ITERATIONS = 3
"""Passes of (box pairs, walls) per substep (Gauss-Seidel between the two, Jacobi within each)."""
FLUSH = 0.05
"""|cos| between a box pair's axis and a face normal below which the contact point slides to the face's middle."""
RAMP = 1e-3
"""Depth past the slop over which the approaching velocity's removal ramps from none to all: continuous in
the depth, so that float rounding at the slop cannot flip it (and the two compute paths agree)."""


def sat_overlap(dx, dy, ca, sa, cb, sb, hxa, hya, hxb, hyb, with_owner=False):
    """Least overlap of boxes a and b over the four edge normals, and its unit axis from b to a.

    All arguments broadcast: ``(dx, dy)`` the centre of a minus that of b, ``(c, s)`` each box's
    rotation, ``h`` their half extents. Ties keep the first axis (a's x, a's y, b's x, b's y), so
    the fused kernel can reproduce the choice exactly. Returns (depth, nx, ny); depth <= 0 means
    the boxes are apart (or touching). With ``with_owner``, also a 0/1 mask: 1 where the axis is a's.
    """
    axbx, axby = ca * cb + sa * sb, sa * cb - ca * sb  # a's axes on b's axes
    aybx, ayby = ca * sb - sa * cb, ca * cb + sa * sb
    axes = ((ca, sa, hxa + hxb * axbx.abs() + hyb * axby.abs()), (-sa, ca, hya + hxb * aybx.abs() + hyb * ayby.abs()),
            (cb, sb, hxb + hxa * axbx.abs() + hya * aybx.abs()), (-sb, cb, hyb + hxa * axby.abs() + hya * ayby.abs()))
    depth = nx = ny = on_a = None
    for k, (ux, uy, reach) in enumerate(axes):
        along = dx * ux + dy * uy
        overlap = reach - along.abs()
        side = masks.sign_ge0(along)
        if depth is None:
            depth, nx, ny, on_a = overlap, ux * side, uy * side, torch.ones_like(overlap)
            continue
        better = masks.lt(overlap, depth)
        depth, nx, ny = masks.select(better, overlap, depth), masks.select(better, ux * side, nx), \
            masks.select(better, uy * side, ny)
        on_a = masks.select(better, torch.full_like(on_a, float(k < 2)), on_a)
    return (depth, nx, ny, on_a) if with_owner else (depth, nx, ny)


class Projection:
    """The projection of one world layout (static tables; see the module docstring).

    Args:
        spec: the bodies.
        params: ``max_penetration`` is the slop.
        device: of the tables.
        num_walls: W, or None for a world without walls.
        tip_walls: wall slots whose endpoints are tested against boxes (default all), as in ``Contacts``.
        fence_walls: wall slots that hold every body, non-solid ones included.
    """

    def __init__(self, spec: BodySpec, params: WorldParams, device: torch.device, num_walls: int | None,
                 tip_walls: list[int] | None = None, fence_walls: list[int] | None = None):
        if params.max_penetration is None:
            raise ValueError("Projection: WorldParams.max_penetration is None (no projection).")
        self.slop = params.max_penetration
        self.iterations = ITERATIONS
        n, kind = spec.num_bodies, spec.kind.tolist()
        movable, collidable = spec.movable.tolist(), spec.collidable.tolist()
        walled = [b for b in range(n) if movable[b] and collidable[b]] if num_walls is not None else []
        self.discs = [b for b in walled if kind[b] == ShapeKind.CIRCLE]
        self.boxes = [b for b in walled if kind[b] == ShapeKind.BOX]
        self.pairs = _pairs(spec, ShapeKind.BOX, ShapeKind.BOX)
        self.active = bool(walled or self.pairs)
        half = spec.half_extents.cpu()
        w = num_walls or 0
        tips = range(w) if tip_walls is None else tip_walls
        fence = [] if fence_walls is None else fence_walls
        self.tip_mask = torch.tensor([float(e in tips) for e in range(w)]).view(1, 1, w, 1).to(device)
        self.fence = torch.tensor([float(e in fence) for e in range(w)]).view(1, w, 1).to(device)

        def column(values, dtype=torch.long):
            return torch.tensor(values, dtype=dtype).to(device)

        self.disc_index, self.box_index = column(self.discs), column(self.boxes)
        self.disc_radius = spec.radius[self.discs].view(-1, 1, 1).to(device)  # (D, 1, 1)
        corners = box_local_corners(half[self.boxes]).to(device)  # (X, 4, 2)
        self.corner_x, self.corner_y = corners[..., 0].unsqueeze(-1), corners[..., 1].unsqueeze(-1)  # (X, 4, 1)
        self.box_half = half[self.boxes].view(-1, 1, 1, 2).to(device)  # (X, 1, 1, 2)
        self.pair_a, self.pair_b = column([a for a, _ in self.pairs]), column([b for _, b in self.pairs])
        self.pair_half = [half[[p[k] for p in self.pairs]].view(-1, 2, 1).to(device) for k in (0, 1)]  # (P, 2, 1)
        self.inv_mass_col = (spec.movable.float() / spec.mass).view(-1, 1).to(device)  # (N, 1)
        turns = (spec.movable & spec.rotates).float()
        self.inv_inertia_col = (turns / spec.inertia.clamp_min(1e-12)).view(-1, 1).to(device)

    def __call__(self, state: BodyState, walls: WallGeometry | None, free: torch.Tensor | None = None,
                 solid: torch.Tensor | None = None) -> BodyState:
        """The projected state (new tensors): box pairs, then walls, ``ITERATIONS`` times."""
        # Batch-minor rows (N, B): position x, y, velocity x, y, angle, spin.
        r = [rows(state.pos[..., 0]), rows(state.pos[..., 1]), rows(state.vel[..., 0]), rows(state.vel[..., 1]),
             rows(state.angle), rows(state.ang_vel)]
        ones = torch.ones_like(r[0])
        free_t = ones if free is None else rows(free)
        solid_t = ones if solid is None else rows(solid)
        for _ in range(self.iterations):
            if self.pairs:
                r = self._box_pairs(r, free_t, solid_t)
            if walls is not None and (self.discs or self.boxes):
                r = self._walls(r, free_t, solid_t, walls)
        return BodyState(pos=torch.stack((r[0].t(), r[1].t()), dim=-1).contiguous(),
                         vel=torch.stack((r[2].t(), r[3].t()), dim=-1).contiguous(),
                         angle=batch_major(r[4]), ang_vel=batch_major(r[5]))

    def _box_pairs(self, r, free, solid):
        """Separate overlapping pairs at their contact point: the vertex of the incident box deepest
        along the least-overlap axis (reference face on the axis' owner)."""
        a, b = self.pair_a, self.pair_b
        pick = [(t.index_select(0, a), t.index_select(0, b)) for t in r]
        (xa, xb), (ya, yb), (vxa, vxb), (vya, vyb), (ta, tb), (oa, ob) = pick
        ca, sa, cb, sb = ta.cos(), ta.sin(), tb.cos(), tb.sin()
        (ha, hb) = self.pair_half
        depth, nx, ny, on_a = sat_overlap(xa - xb, ya - yb, ca, sa, cb, sb, ha[:, 0], ha[:, 1], hb[:, 0], hb[:, 1],
                                          with_owner=True)
        # Incident vertex: b's deepest into a (axis on a) or a's deepest into b (axis on b).
        kb_x, kb_y = _support(xb, yb, cb, sb, hb, nx, ny)
        ka_x, ka_y = _support(xa, ya, ca, sa, ha, -nx, -ny)
        cx, cy = masks.select(on_a, kb_x, ka_x), masks.select(on_a, kb_y, ka_y)
        wa, wb = self.inv_mass_col.index_select(0, a) * free.index_select(0, a), \
            self.inv_mass_col.index_select(0, b) * free.index_select(0, b)
        ia, ib = self.inv_inertia_col.index_select(0, a) * free.index_select(0, a), \
            self.inv_inertia_col.index_select(0, b) * free.index_select(0, b)
        rna, rnb = (cx - xa) * ny - (cy - ya) * nx, (cx - xb) * ny - (cy - yb) * nx  # lever arms: r x n
        total = wa + wb + ia * rna * rna + ib * rnb * rnb
        gate = solid.index_select(0, a) * solid.index_select(0, b) * masks.gt(total, 0.0)
        excess = (depth - self.slop).clamp_min(0.0) * gate
        lam = excess / total.clamp_min(1e-12)
        vn = (vxa - (cy - ya) * oa - vxb + (cy - yb) * ob) * nx + (vya + (cx - xa) * oa - vyb - (cx - xb) * ob) * ny
        j = -vn.clamp_max(0.0) * (excess * (1.0 / RAMP)).clamp_max(1.0) / total.clamp_min(1e-12)  # stops approach
        out = []
        for k, (da, db) in enumerate(((wa * nx, -wb * nx), (wa * ny, -wb * ny), (wa * nx, -wb * nx),
                                      (wa * ny, -wb * ny), (ia * rna, -ib * rnb), (ia * rna, -ib * rnb))):
            scale = lam if k in (0, 1, 4) else j
            out.append(r[k].index_add(0, a, da * scale).index_add(0, b, db * scale))
        return out

    def _walls(self, r, free, solid, walls: WallGeometry):
        """Move walled bodies out to the slop, by translation (a box against walls can always translate out;
        the deepest corner of a box flush with a wall ties with its neighbour, so a turn would be arbitrary)."""
        f, ht = walls.frames, walls.half_thickness
        px, py, vx, vy = r[:4]
        for index, is_box in ((self.disc_index, False), (self.box_index, True)):
            if not index.numel():
                continue
            cx, cy = px.index_select(0, index).unsqueeze(1), py.index_select(0, index).unsqueeze(1)  # (K, 1, B)
            if is_box:
                depth, nx, ny = self._box_depths(cx, cy, r[4].index_select(0, index), walls)
            else:
                gap, normal, along = thick_segment_query(cx, cy, cx, cy, f, ht)  # (K, W, B)
                depth = self.disc_radius - gap
                nx, ny = normal * f.nx + along * f.ux, normal * f.ny + along * f.uy
            allow = torch.maximum(solid.index_select(0, index).unsqueeze(1), self.fence) * \
                free.index_select(0, index).unsqueeze(1)
            amount = (depth - self.slop).clamp_min(0.0) * allow  # (K, W, B)
            kvx, kvy = vx.index_select(0, index).unsqueeze(1), vy.index_select(0, index).unsqueeze(1)
            into = (kvx * nx + kvy * ny).clamp_max(0.0) * (amount * (1.0 / RAMP)).clamp_max(1.0)
            px = px.index_add(0, index, (amount * nx).sum(1))
            py = py.index_add(0, index, (amount * ny).sum(1))
            vx = vx.index_add(0, index, -(into * nx).sum(1))
            vy = vy.index_add(0, index, -(into * ny).sum(1))
        return [px, py, vx, vy, r[4], r[5]]

    def _box_depths(self, cx, cy, angle, walls: WallGeometry):
        """(X, W, B) each box's deepest penetration into each wall, and its push direction.

        Candidates per (box, wall): the 4 corners against the thick wall and the wall's 2
        endpoints inside the box (tip walls only); the first deepest wins (strict comparisons).
        """
        f, ht = walls.frames, walls.half_thickness
        cos, sin = angle.cos().unsqueeze(1), angle.sin().unsqueeze(1)  # (X, 1, B)
        kx = cx + cos * self.corner_x - sin * self.corner_y  # (X, 4, B)
        ky = cy + sin * self.corner_x + cos * self.corner_y
        gap, normal, along = thick_segment_query(kx.unsqueeze(2), ky.unsqueeze(2), cx.unsqueeze(2), cy.unsqueeze(2),
                                                 _frames4(f), ht)  # (X, 4, W, B)
        w = f.nx.shape[1]
        tips_x, tips_y = walls.tips_x.view(1, 2, w, -1), walls.tips_y.view(1, 2, w, -1)  # starts, ends
        hx, hy = self.box_half[..., 0], self.box_half[..., 1]  # (X, 1, 1)
        sd, bnx, bny = point_box_query_xy(tips_x - cx.unsqueeze(1), tips_y - cy.unsqueeze(1), cos.unsqueeze(1),
                                          sin.unsqueeze(1), hx.unsqueeze(-1), hy.unsqueeze(-1))  # (X, 2, W, B)
        tip_d = (ht - sd) * self.tip_mask - (1.0 - self.tip_mask) * 1e6  # non-tip walls never win
        cand = [torch.cat((-gap, tip_d), dim=1),  # (X, 6, W, B): depth, push x, y
                torch.cat((normal * f.nx.unsqueeze(0) + along * f.ux.unsqueeze(0), -bnx), dim=1),
                torch.cat((normal * f.ny.unsqueeze(0) + along * f.uy.unsqueeze(0), -bny), dim=1)]
        best = [c[:, 0] for c in cand]
        for k in range(1, 6):
            better = masks.gt(cand[0][:, k], best[0])
            best = [masks.select(better, c[:, k], v) for c, v in zip(cand, best, strict=True)]
        return tuple(best)


def _support(x, y, c, s, half, nx, ny):
    """The point of the box (centre x, y, rotation c, s, half extents (P, 2, 1)) farthest along (nx, ny): a
    vertex, or the middle of a face within ``FLUSH`` of facing (nx, ny) (no arbitrary turn at flush contact,
    and the point moves continuously as the box turns)."""
    sx = ((nx * c + ny * s) * (1.0 / FLUSH)).clamp(-1.0, 1.0) * half[:, 0]
    sy = ((ny * c - nx * s) * (1.0 / FLUSH)).clamp(-1.0, 1.0) * half[:, 1]
    return x + c * sx - s * sy, y + s * sx + c * sy


def _frames4(f: WallFrames) -> WallFrames:
    """Wall frames (1, W, B) viewed as (1, 1, W, B), to broadcast against (X, 4, 1, B) corners."""
    # Field by field, not dataclasses.fields(): torch.compile cannot trace fields() (a graph break per call).
    return WallFrames(nx=f.nx.unsqueeze(0), ny=f.ny.unsqueeze(0), ux=f.ux.unsqueeze(0), uy=f.uy.unsqueeze(0),
                      n0=f.n0.unsqueeze(0), u0=f.u0.unsqueeze(0), length=f.length.unsqueeze(0))
