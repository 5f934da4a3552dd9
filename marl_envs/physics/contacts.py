"""Contact detection and penalty forces, batched over worlds with static pair tables.

Why penalty forces: they are smooth, branch-free and cost the same for every world, so a
batch of thousands of worlds steps in a few fused tensor ops; MPE uses the same model,
which is what makes our MPE tasks match it to float precision. The contact law is MPE's:

    penetration = margin * softplus(-(gap) / margin)      (a smooth max(0, -gap))
    force on a  = contact_force * penetration * n          (n: unit normal from b to a)

Boxes and walls (``RigidContacts``) use the same law with ``gap`` the signed distance
between features (disc centre vs box, box corner vs box, point vs thick wall), and the
force acts at the contact point, so an off-centre push turns a box: torque
``(contact - centre) x F`` on each body of the pair, with the forces equal, opposite and
collinear (linear and angular momentum conserved). Contacts are frictionless, so a disc
never gets a contact torque.

Which pairs can touch is known when the world is built (kinds, collidable and movable
flags are static), so the pair lists are precomputed index tensors and a step never
branches on data. A world without boxes runs only ``CircleContacts``, unchanged from MPE.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F

from marl_envs.physics.geometry import box_local_corners, point_box_query_xy
from marl_envs.physics.layout import batch_major, rows
from marl_envs.physics.params import WorldParams
from marl_envs.physics.shapes import ShapeKind
from marl_envs.physics.state import BodySpec, BodyState
from marl_envs.physics.walls import WallGeometry, thick_segment_query


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
    """Disc-disc contacts of a fixed list of pairs, as two matrix products.

    With positions flattened to (B, 2N), the pair offsets p_i - p_j of all P pairs are
    one product with a constant (2N, 2P) signed selection matrix, and the pair forces go
    back to the bodies through a (2P, 2N) signed incidence matrix: +1 for the first body
    of a pair, -1 for the second, 0 for a static body, so each pair force is applied
    equal and opposite. Two GEMMs replace two gathers and a scatter: one op each for a
    single world, memory-bound kernels for thousands.
    """

    def __init__(self, spec: BodySpec, params: WorldParams, device: torch.device):
        pairs = _pairs(spec, ShapeKind.CIRCLE, ShapeKind.CIRCLE)
        self.pairs = pairs  # (i, j) body indices, kept for the fused CPU kernel (marl_envs.native.physics)
        self.num_pairs = len(pairs)
        n, movable = spec.num_bodies, spec.movable.cpu().tolist()
        select = torch.zeros(len(pairs), n)  # (P, N): +1 at i, -1 at j
        scatter = torch.zeros(len(pairs), n)  # (P, N): the same, zero for static bodies
        for p, (a, b) in enumerate(pairs):
            select[p, a], select[p, b] = 1.0, -1.0
            scatter[p, a], scatter[p, b] = float(movable[a]), -float(movable[b])
        eye2 = torch.eye(2)
        self.select = torch.kron(select, eye2).T.contiguous().to(device)  # (2N, 2P)
        self.scatter = torch.kron(scatter, eye2).to(device)  # (2P, 2N)
        radius = spec.radius.cpu()
        self.radius_sum = torch.tensor([float(radius[a] + radius[b]) for a, b in pairs]).view(1, -1, 1).to(device)
        self.stiffness = params.contact_force
        self.margin = params.contact_margin

    def __call__(self, pos: torch.Tensor) -> torch.Tensor:
        """Contact forces on every body.

        Args:
            pos: (B, N, 2) positions.

        Returns:
            (B, N, 2) sum of contact forces on each body.
        """
        b = pos.shape[0]
        delta = torch.matmul(pos.reshape(b, -1), self.select).view(b, self.num_pairs, 2)  # p_i - p_j
        dist = torch.linalg.vector_norm(delta, dim=-1, keepdim=True).clamp_min(1e-12)
        scale = penetration(dist - self.radius_sum, self.margin) * (self.stiffness) / dist
        return torch.matmul((delta * scale).view(b, -1), self.scatter).view(pos.shape)


class RigidContacts:
    """Every contact that involves a box or a wall, as batched point queries.

    Point-vs-box queries: each disc centre against each box (gap = signed distance -
    radius), each corner of a box against the other box of a box pair, both ways (vertex-face
    penalties; two boxes resting face to face get two corner contacts and stay flush), and
    each wall endpoint against each box (a wall end poking into a box face). Point-vs-wall
    queries: disc centres and box corners against every wall (``walls.thick_segment_query``).

    A query pushes its point's body along the normal and the box (if any) the other way, both
    at the query point, so pair forces are equal, opposite and collinear. Torques about the
    body centres then follow from moments about the origin in one matmul,
    ``sum_q (p_q - c) x F_q = sum_q p_q x F_q - c x sum_q F_q``, and are zeroed on discs
    (contacts are frictionless). The queries, their rows in a per-substep point table
    ``[body centres (N) | box corners (4X) | wall endpoints (2W)]`` and the signed (N, Q)
    scatter tables are fixed here. Two boxes crossing with no corner inside the other (edge
    through edge) get no force here; the separating-axis test of ``projection`` catches that
    overlap (worlds with ``WorldParams.max_penetration``), and in ordinary play a corner enters
    first, so the corner penalties act before it.

    The step works batch-minor: it transposes the (B, N) state to (N, B) rows, runs every
    query on rows of B values (the world index contiguous, so each elementwise op is one long
    vectorised loop; with the batch first the inner loops are only Q or W long, and on CPU
    the step ran 3 to 5x slower), scatters with one (N, Q + P) @ (Q + P, B) product, and
    transposes the forces back. Points and boxes are carried as separate x and y rows for
    the same reason.
    """

    def __init__(self, spec: BodySpec, params: WorldParams, device: torch.device, num_walls: int | None,
                 tip_walls: list[int] | None = None, fence_walls: list[int] | None = None):
        n, kind = spec.num_bodies, spec.kind.tolist()
        movable, collidable = spec.movable.tolist(), spec.collidable.tolist()
        radius, half = spec.radius.tolist(), spec.half_extents.cpu()
        boxes = [b for b in range(n) if kind[b] == ShapeKind.BOX and collidable[b]]
        corner = {b: n + 4 * k for k, b in enumerate(boxes)}  # first corner row of each box
        k_body = params.contact_force
        k_wall = params.contact_force if params.wall_contact_force is None else params.wall_contact_force
        walled = [b for b in range(n) if movable[b] and collidable[b]] if num_walls is not None else []
        queries = [(i, i, j, radius[i], k_body, False) for i, j in _pairs(spec, ShapeKind.CIRCLE, ShapeKind.BOX)]
        for a, b in _pairs(spec, ShapeKind.BOX, ShapeKind.BOX):
            queries += [(corner[p] + c, p, q, 0.0, k_body, False) for p, q in ((a, b), (b, a)) for c in range(4)]
        tip_row = n + 4 * len(boxes)
        for b in (b for b in walled if kind[b] == ShapeKind.BOX):
            slots = range(num_walls or 0) if tip_walls is None else tip_walls
            queries += [(tip_row + e + end * (num_walls or 0), -1, b, 0.0, k_wall, True)
                        for end in (0, 1) for e in slots]
        points = [(b, b, radius[b]) if kind[b] == ShapeKind.CIRCLE else (corner[b] + c, b, 0.0)
                  for b in walled for c in range(1 if kind[b] == ShapeKind.CIRCLE else 4)]
        self.num_box_queries, self.num_wall_points = len(queries), len(points)
        self.has_tips = any(q[5] for q in queries)
        self.needs_walls = self.has_tips or bool(points)
        self.boxes = torch.tensor(boxes, dtype=torch.long, device=device)
        self.local_corners = box_local_corners(half[boxes]).to(device)  # (X, 4, 2)
        self.is_box = (spec.kind == ShapeKind.BOX).cpu().float().to(device)  # (N,): torque only on boxes
        slot = {b: k for k, b in enumerate(boxes)}

        def column(values, dtype=torch.long):
            return torch.tensor(values, dtype=dtype).to(device)

        self.q_point = column([q[0] for q in queries])
        self.q_owner = column([n if q[1] < 0 else q[1] for q in queries])  # n: the "always solid" column
        self.q_body = column([q[2] for q in queries])
        self.q_box = column([slot[q[2]] for q in queries])
        self.q_half = half[[q[2] for q in queries]].view(-1, 2).to(device)  # (Q, 2)
        self.q_base_offset = column([q[3] for q in queries], torch.float32)
        self.q_is_tip = column([float(q[5]) for q in queries], torch.float32)
        self.q_gain = column([q[4] * params.contact_margin for q in queries], torch.float32)
        table = torch.zeros(n, len(queries))  # +1 on the point's body, -1 on the box; 0 if static
        for q, (_, owner, box, *_rest) in enumerate(queries):
            if owner >= 0 and movable[owner]:
                table[owner, q] += 1.0
            if movable[box]:
                table[box, q] -= 1.0
        self.q_table = table.to(device)  # (N, Q)
        self.w_point = column([p[0] for p in points])
        self.w_owner = column([p[1] for p in points])
        self.w_offset = column([p[2] for p in points], torch.float32).view(1, -1, 1)
        self.w_gain = k_wall * params.contact_margin
        wall_table = torch.eye(n)[:, [p[1] for p in points]]  # (N, P)
        self.w_table = wall_table.to(device)  # (N, P)
        self.neg_inv_margin = -1.0 / params.contact_margin
        fence = [] if fence_walls is None else fence_walls
        self.fence = [float(w in fence) for w in range(num_walls or 0)]  # 1: holds non-solid bodies too
        self.fence_col = torch.tensor(self.fence).view(1, -1, 1).to(device)  # (1, W, 1)
        # The step works batch-minor (see the class docstring): constants as columns against (., B) rows.
        self.corner_x = self.local_corners[..., 0].reshape(-1, 1)  # (4X, 1)
        self.corner_y = self.local_corners[..., 1].reshape(-1, 1)
        self.corner_box = torch.arange(len(boxes), device=device).repeat_interleave(4)  # (4X,) box slot of a corner
        self.q_hx, self.q_hy = self.q_half[:, :1].contiguous(), self.q_half[:, 1:].contiguous()  # (Q, 1)
        self.q_gain_col = self.q_gain.view(-1, 1)
        self.q_base_offset_col, self.q_is_tip_col = self.q_base_offset.view(-1, 1), self.q_is_tip.view(-1, 1)
        self.w_offset_col = self.w_offset.view(-1, 1, 1)  # (P, 1, 1)
        self.scatter = torch.cat((self.q_table, self.w_table), dim=1)  # (N, Q + P)
        self.is_box_col = self.is_box.view(-1, 1)

    @property
    def active(self) -> bool:
        return bool(self.num_box_queries or self.num_wall_points)

    def __call__(
        self, state: BodyState, walls: WallGeometry | None, solid: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Forces (B, N, 2) and torques (B, N) (None without boxes) of all box and wall contacts.

        ``solid`` (B, N) float, optional: 0 for bodies that pass over boxes and walls this
        substep (an agent elevated on a ramp); their box and wall contacts exert no force,
        except those of fence walls.
        """
        if walls is None and self.needs_walls:
            raise ValueError("RigidContacts: built for a world with walls, called without them.")
        # Batch-minor from here: rows of B values, the world index contiguous (see the class docstring).
        pos_x, pos_y = rows(state.pos[..., 0]), rows(state.pos[..., 1])  # (N, B)
        solid_t = None if solid is None else rows(solid)
        # The point table [body centres | box corners | wall endpoints], x and y, (T, B).
        rows_x, rows_y = [pos_x], [pos_y]
        if len(self.boxes):
            box_x, box_y = pos_x.index_select(0, self.boxes), pos_y.index_select(0, self.boxes)  # (X, B)
            box_angle = rows(state.angle).index_select(0, self.boxes)
            cos, sin = box_angle.cos(), box_angle.sin()
            c, s_ = cos.index_select(0, self.corner_box), sin.index_select(0, self.corner_box)  # (4X, B)
            rows_x.append(box_x.index_select(0, self.corner_box) + c * self.corner_x - s_ * self.corner_y)
            rows_y.append(box_y.index_select(0, self.corner_box) + s_ * self.corner_x + c * self.corner_y)
        if self.has_tips:
            rows_x.append(walls.tips_x)
            rows_y.append(walls.tips_y)
        table_x = torch.cat(rows_x) if len(rows_x) > 1 else pos_x
        table_y = torch.cat(rows_y) if len(rows_y) > 1 else pos_y
        push_x, push_y, at_x, at_y = [], [], [], []  # per query (rows): force on its point's body, the point
        if self.num_box_queries:
            qx, qy = table_x.index_select(0, self.q_point), table_y.index_select(0, self.q_point)  # (Q, B)
            sd, nx, ny = point_box_query_xy(qx - box_x.index_select(0, self.q_box),
                                            qy - box_y.index_select(0, self.q_box),
                                            cos.index_select(0, self.q_box), sin.index_select(0, self.q_box),
                                            self.q_hx, self.q_hy)
            offset = self.q_base_offset_col if walls is None else self.q_base_offset_col + self.q_is_tip_col * \
                walls.half_thickness  # a wall endpoint's contact starts at the wall's surface
            magnitude = F.softplus((sd - offset) * self.neg_inv_margin) * self.q_gain_col
            if solid_t is not None:
                solid_ext = torch.cat((solid_t, solid_t.new_ones(1, solid_t.shape[1])))
                magnitude = magnitude * solid_ext.index_select(0, self.q_owner) * solid_t.index_select(0, self.q_body)
            push_x.append(nx * magnitude)
            push_y.append(ny * magnitude)
            at_x.append(qx)
            at_y.append(qy)
        if self.num_wall_points:
            wx, wy = table_x.index_select(0, self.w_point), table_y.index_select(0, self.w_point)  # (P, B)
            cx, cy = pos_x.index_select(0, self.w_owner), pos_y.index_select(0, self.w_owner)
            frames = walls.frames  # (1, W, B) against points (P, 1, B)
            gap, normal_coef, along_coef = thick_segment_query(wx.unsqueeze(1), wy.unsqueeze(1), cx.unsqueeze(1),
                                                               cy.unsqueeze(1), frames, walls.half_thickness)
            magnitude = F.softplus((gap - self.w_offset_col) * self.neg_inv_margin) * self.w_gain  # (P, W, B)
            if solid_t is not None:  # fence walls hold every body
                owner_solid = solid_t.index_select(0, self.w_owner).unsqueeze(1)
                magnitude = magnitude * torch.maximum(owner_solid, self.fence_col)
            along = along_coef * magnitude
            normal = normal_coef.mul_(magnitude)
            push_x.append(torch.addcmul(normal * frames.nx, along, frames.ux).sum(1))  # (P, B)
            push_y.append(torch.addcmul(normal * frames.ny, along, frames.uy).sum(1))
            at_x.append(wx)
            at_y.append(wy)
        if len(push_x) == 2:
            scatter = self.scatter
        else:
            scatter = self.q_table if self.num_box_queries else self.w_table
        fx, fy = torch.cat(push_x), torch.cat(push_y)  # (Q + P, B)
        force_x, force_y = torch.matmul(scatter, fx), torch.matmul(scatter, fy)  # (N, B)
        force = torch.stack((force_x.t(), force_y.t()), dim=-1)  # (B, N, 2)
        if not len(self.boxes):
            return force, None
        moment = torch.matmul(scatter, torch.cat(at_x) * fy - torch.cat(at_y) * fx)  # about the origin
        return force, batch_major((moment - (pos_x * force_y - pos_y * force_x)) * self.is_box_col)


class Contacts:
    """All contact forces of a world layout: the sum of the models it needs.

    Which models run is decided once, here, from the static spec and whether the world has
    walls, so a world of discs without walls runs exactly ``CircleContacts`` (MPE).

    Args:
        spec: the bodies.
        params: stiffnesses and margin.
        device: of the precomputed tables.
        num_walls: W wall slots per world, or None for a world without walls.
        tip_walls: the wall slots whose endpoints are tested against boxes (default all). Ends that
            meet another wall (the corners of a closed fence) can be left out: box corners already
            collide with both walls there, and each endpoint query costs one query per box.
        fence_walls: the wall slots that hold every body, also those ``solid`` exempts (an arena's
            fence: an agent elevated on a ramp passes over interior walls, never out of the arena).
    """

    def __init__(self, spec: BodySpec, params: WorldParams, device: torch.device, num_walls: int | None = None,
                 tip_walls: list[int] | None = None, fence_walls: list[int] | None = None):
        circles = CircleContacts(spec, params, device)
        self.circles = circles if circles.num_pairs else None
        rigid = RigidContacts(spec, params, device, num_walls, tip_walls, fence_walls)
        self.rigid = rigid if rigid.active else None
        self.num_walls = num_walls

    def __call__(
        self, state: BodyState, walls: WallGeometry | None = None, solid: torch.Tensor | None = None
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Forces (B, N, 2) and torques (B, N) from contacts; None where no model applies.

        ``solid``: optional (B, N) float, 0 for bodies exempt from box and wall contacts this
        substep (disc-disc contacts still apply); see ``RigidContacts``.
        """
        force = self.circles(state.pos) if self.circles is not None else None
        if self.rigid is None:
            return force, None
        rigid_force, torque = self.rigid(state, walls, solid)
        return (rigid_force if force is None else force + rigid_force), torque
