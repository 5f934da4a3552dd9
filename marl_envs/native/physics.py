"""``World.advance`` for worlds with boxes or walls, as one fused CPU kernel.

The physics is the torch core's, term for term (``physics.contacts``, ``physics.integrate``,
``physics.constraints``, ``physics.projection``): disc pairs, point-vs-box queries (disc centres,
box corners, wall endpoints), points against thick walls, then semi-implicit Euler with damping,
floor friction and speed caps, then grab joints, then the position projection (``native.joints``,
``native.projection``). What changes is the schedule: a block of ``CHUNK`` worlds
is loaded once and stepped through every substep while it sits in the L1 cache, each loop a
SIMD loop across the block's worlds, instead of one pass over all worlds' (queries x worlds)
temporaries per op. The static tables (which pairs and queries exist, their constants and
who they push) are the ones the torch path builds; they are read from the ``World`` here.

Numba's disk cache keys a function on its own file only: after editing ``native.joints`` or
``native.projection``, delete ``marl_envs/native/__pycache__/physics.*.nb*`` (or touch this file),
or the cached kernel keeps the old code.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import torch

from marl_envs.native import projection
from marl_envs.native.joints import grab_joints
from marl_envs.native.parallel import thread_range, threads
from marl_envs.physics.constraints import Grabs
from marl_envs.physics.geometry import EPS
from marl_envs.physics.state import BodyState

CHUNK = 64
CUT = np.float32(-17.0)
"""Penetration arguments below this are skipped: softplus is under 5e-8 there, a force below float32
resolution next to any contact. This is what makes the kernel fast: most point-wall and point-box
pairs are apart, and their ``exp`` and ``log1p`` (scalar library calls) are never made."""
FASTMATH = {"contract", "arcp", "nsz"}


@numba.njit(nogil=True, fastmath=FASTMATH, cache=True, boundscheck=False, error_model="numpy", inline="always")
def _softplus(x):
    """torch.nn.functional.softplus (threshold 20: linear above it); callers skip it below ``CUT``."""
    return x if x > np.float32(20.0) else np.float32(math.log1p(math.exp(x)))


@numba.njit(nogil=True, fastmath=FASTMATH, cache=True, boundscheck=False, error_model="numpy")
def _advance_rows(lo, hi, substeps, state, applied, rule, walls, tips, grab, grab_index, holders, body, pairs, pair_f,
                  corners, corner_box, boxes, q_index, q_f, w_index, w_f, scalars, proj, out):
    """Step worlds ``lo:hi`` by ``substeps`` substeps; every per-world array is (..., B), worlds last.

    state (6, N, B): pos x, y, vel x, y, angle, spin.       applied (3, N, B): force x, y, torque.
    rule (2, N, B): free, solid.                           walls (7, W, B): nx, ny, ux, uy, n0, u0, length.
    tips (2, 2W, B): wall endpoints x, y.                  grab (3, A, B): offset x, y, rel_angle.
    grab_index (A, B): held body or -1; holders (A,).      body (11, N): per-body constants (see ``_tables``).
    pairs (P, 2) / pair_f (3, P): disc pairs, radius sum and movable flags.
    corners (2, 4X) local box corners, corner_box (4X,) their box slot, boxes (X,) box bodies.
    q_index (4, Q): point row, owner column (N: none), box body, box slot; q_f (7, Q): hx, hy,
    base offset, tip flag, gain, owner sign, box sign.  w_index (2, S): point row, owner;
    w_f (1, S): offset.  scalars: see ``_tables``.  proj: the projection's
    tables (``native.projection.tables``).  out (6, N, B) like state.
    """
    n_bodies, n_walls = state.shape[1], walls.shape[1]
    n_pairs, n_boxes, n_q, n_w = pairs.shape[0], boxes.shape[0], q_index.shape[1], w_index.shape[1]
    n_holders = grab_index.shape[0]
    n_rows = n_bodies + 4 * n_boxes + 2 * n_walls
    zero, one = np.float32(0.0), np.float32(1.0)
    margin, stiffness, neg_inv_margin, w_gain, half_thickness = scalars[0:5]
    bound, has_bound, position_first, has_friction = scalars[5], scalars[6] > zero, scalars[7] > zero, scalars[8] > zero
    beta, h, rotational = scalars[9], scalars[10], scalars[11] > zero
    wall_flags = proj[7]  # (2, W): fence (holds non-solid bodies too), tip
    eps = np.float32(EPS)
    s = np.empty((6, n_bodies, CHUNK), np.float32)  # the block's state, stepped in place
    fx = np.empty((n_bodies, CHUNK), np.float32)
    fy = np.empty((n_bodies, CHUNK), np.float32)
    tq = np.empty((n_bodies, CHUNK), np.float32)
    tx = np.empty((n_rows, CHUNK), np.float32)  # point table: centres | box corners | wall endpoints
    ty = np.empty((n_rows, CHUNK), np.float32)
    bc = np.empty((max(n_boxes, 1), CHUNK), np.float32)  # cos, sin of each box's angle
    bs = np.empty((max(n_boxes, 1), CHUNK), np.float32)
    old = np.empty((3, n_bodies, CHUNK), np.float32)  # pre-substep vel x, y, spin (MPE's position-first order)
    gv = np.empty((4, n_bodies, CHUNK), np.float32)  # grab sums: mass, momentum x, y, holder count
    gerr = np.empty((5, max(n_holders, 1), CHUNK), np.float32)
    tmp = np.empty((3, CHUNK), np.float32)  # per-query softplus argument and push direction
    acc = np.empty((2, CHUNK), np.float32)
    flag = np.empty(CHUNK, np.bool_)  # projection scratch: which worlds need the exact query
    dp = np.empty((6, n_bodies, CHUNK), np.float32)  # projection corrections, rows as ``s``
    for start in range(lo, hi, CHUNK):
        n = min(CHUNK, hi - start)
        for k in range(6):
            for b in range(n_bodies):
                for i in range(n):
                    s[k, b, i] = state[k, b, start + i]
        for _ in range(substeps):
            for b in range(n_bodies):
                for i in range(n):
                    fx[b, i] = zero
                    fy[b, i] = zero
                    tq[b, i] = zero
            # Disc pairs (physics.contacts.CircleContacts).
            for p in range(n_pairs):
                a, c = pairs[p, 0], pairs[p, 1]
                for i in range(n):
                    dx, dy = s[0, a, i] - s[0, c, i], s[1, a, i] - s[1, c, i]
                    tmp[1, i] = max(math.sqrt(dx * dx + dy * dy), np.float32(1e-12))
                    tmp[0, i] = (tmp[1, i] - pair_f[0, p]) * neg_inv_margin
                for i in range(n):
                    if tmp[0, i] >= CUT:
                        dx, dy = s[0, a, i] - s[0, c, i], s[1, a, i] - s[1, c, i]
                        scale = _softplus(tmp[0, i]) * margin * stiffness / tmp[1, i]
                        fx[a, i] += dx * scale * pair_f[1, p]
                        fy[a, i] += dy * scale * pair_f[1, p]
                        fx[c, i] -= dx * scale * pair_f[2, p]
                        fy[c, i] -= dy * scale * pair_f[2, p]
            # The point table (physics.contacts.RigidContacts).
            for b in range(n_bodies):
                for i in range(n):
                    tx[b, i], ty[b, i] = s[0, b, i], s[1, b, i]
            for x in range(n_boxes):
                for i in range(n):
                    bc[x, i], bs[x, i] = math.cos(s[4, boxes[x], i]), math.sin(s[4, boxes[x], i])
            for r in range(4 * n_boxes):
                x, body_x = corner_box[r], boxes[corner_box[r]]
                for i in range(n):
                    tx[n_bodies + r, i] = s[0, body_x, i] + bc[x, i] * corners[0, r] - bs[x, i] * corners[1, r]
                    ty[n_bodies + r, i] = s[1, body_x, i] + bs[x, i] * corners[0, r] + bc[x, i] * corners[1, r]
            for r in range(2 * n_walls):
                for i in range(n):
                    tx[n_bodies + 4 * n_boxes + r, i] = tips[0, r, start + i]
                    ty[n_bodies + 4 * n_boxes + r, i] = tips[1, r, start + i]
            # Points against boxes: force on the point's owner, the opposite on the box, at the point.
            for q in range(n_q):
                row, owner, box, slot = q_index[0, q], q_index[1, q], q_index[2, q], q_index[3, q]
                hx, hy = q_f[0, q], q_f[1, q]
                offset = q_f[2, q] + q_f[3, q] * half_thickness
                for i in range(n):  # point_box_query_xy, branch-free
                    rx, ry = tx[row, i] - s[0, box, i], ty[row, i] - s[1, box, i]
                    cos, sin = bc[slot, i], bs[slot, i]
                    lx, ly = cos * rx + sin * ry, cos * ry - sin * rx
                    dx, dy = abs(lx) - hx, abs(ly) - hy
                    ox, oy = max(dx, zero), max(dy, zero)
                    out_dist = math.sqrt(ox * ox + oy * oy)
                    sd = out_dist + min(max(dx, dy), zero)
                    inv = one / max(out_dist, eps)
                    outside = out_dist > eps
                    x_face = one if dx >= dy else zero
                    nlx = (ox * inv if outside else x_face) * (one if lx >= zero else -one)
                    nly = (oy * inv if outside else one - x_face) * (one if ly >= zero else -one)
                    tmp[0, i] = (sd - offset) * neg_inv_margin
                    tmp[1, i], tmp[2, i] = cos * nlx - sin * nly, sin * nlx + cos * nly
                for i in range(n):
                    if tmp[0, i] >= CUT:
                        j = start + i
                        px, py = tx[row, i], ty[row, i]
                        mag = _softplus(tmp[0, i]) * q_f[4, q] * rule[1, box, j]
                        if owner < n_bodies:
                            mag *= rule[1, owner, j]
                        push_x, push_y = tmp[1, i] * mag, tmp[2, i] * mag
                        if owner < n_bodies:
                            w_o = q_f[5, q]
                            fx[owner, i] += w_o * push_x
                            fy[owner, i] += w_o * push_y
                            tq[owner, i] += w_o * ((px - s[0, owner, i]) * push_y - (py - s[1, owner, i]) * push_x)
                        w_b = q_f[6, q]
                        fx[box, i] -= w_b * push_x
                        fy[box, i] -= w_b * push_y
                        tq[box, i] -= w_b * ((px - s[0, box, i]) * push_y - (py - s[1, box, i]) * push_x)
            # Points against thick walls (physics.walls.thick_segment_query). Geometry in a SIMD loop;
            # the softplus (scalar library calls) only where a point is within reach of a wall.
            for q in range(n_w):
                row, owner = w_index[0, q], w_index[1, q]
                for i in range(n):
                    acc[0, i], acc[1, i] = zero, zero
                for w in range(n_walls):
                    for i in range(n):
                        j = start + i
                        px, py, cx, cy = tx[row, i], ty[row, i], s[0, owner, i], s[1, owner, i]
                        n0, u0, length = walls[4, w, j], walls[5, w, j], walls[6, w, j]
                        off = py * walls[1, w, j] + px * walls[0, w, j] - n0
                        along = py * walls[3, w, j] + px * walls[2, w, j] - u0
                        centre_off = cy * walls[1, w, j] + cx * walls[0, w, j] - n0
                        centre_along = cy * walls[3, w, j] + cx * walls[2, w, j] - u0
                        excess = along - min(max(along, zero), length)
                        dist = math.sqrt(off * off + excess * excess)
                        slab = (excess == zero) & (centre_along > zero) & (centre_along < length)
                        side = one if centre_off >= zero else -one
                        gap = (side * off if slab else dist) - half_thickness
                        inv = one / max(dist, eps)
                        tmp[0, i] = (gap - w_f[0, q]) * neg_inv_margin
                        tmp[1, i] = side if slab else off * inv
                        tmp[2, i] = excess * inv
                    for i in range(n):
                        if tmp[0, i] >= CUT:
                            j = start + i
                            mag = _softplus(tmp[0, i]) * w_gain * max(rule[1, owner, j], wall_flags[0, w])
                            acc[0, i] += (tmp[1, i] * walls[0, w, j] + tmp[2, i] * walls[2, w, j]) * mag
                            acc[1, i] += (tmp[1, i] * walls[1, w, j] + tmp[2, i] * walls[3, w, j]) * mag
                for i in range(n):  # solid (rule[1]) was applied per wall: fence walls hold every body
                    push_x, push_y = acc[0, i], acc[1, i]
                    fx[owner, i] += push_x
                    fy[owner, i] += push_y
                    tq[owner, i] += (tx[row, i] - s[0, owner, i]) * push_y - (ty[row, i] - s[1, owner, i]) * push_x
            # Integration (physics.integrate.Integrator).
            for b in range(n_bodies):
                move_h, vel_decay, force_gain, max_speed, friction_h = body[0:5, b]
                turn_h, ang_decay, torque_gain, spin_friction_h, is_box = body[5:10, b]
                for i in range(n):
                    j = start + i
                    old[0, b, i], old[1, b, i], old[2, b, i] = s[2, b, i], s[3, b, i], s[5, b, i]
                    vx = s[2, b, i] * vel_decay + (applied[0, b, j] + fx[b, i]) * force_gain
                    vy = s[3, b, i] * vel_decay + (applied[1, b, j] + fy[b, i]) * force_gain
                    if has_friction:
                        speed = math.sqrt(vx * vx + vy * vy)
                        keep = max(one - friction_h / max(speed, np.float32(1e-12)), zero)
                        vx, vy = vx * keep, vy * keep
                    speed = math.sqrt(vx * vx + vy * vy)
                    cap = min(max_speed / max(speed, np.float32(1e-12)), one)
                    free = rule[0, b, j]
                    vx, vy = vx * cap * free, vy * cap * free
                    step_x = old[0, b, i] if position_first else vx
                    step_y = old[1, b, i] if position_first else vy
                    x, y = s[0, b, i] + step_x * move_h, s[1, b, i] + step_y * move_h
                    if has_bound:
                        x, y = min(max(x, -bound), bound), min(max(y, -bound), bound)
                    s[0, b, i], s[1, b, i], s[2, b, i], s[3, b, i] = x, y, vx, vy
                    if rotational:
                        spin = s[5, b, i] * ang_decay + (applied[2, b, j] + tq[b, i] * is_box) * torque_gain
                        if has_friction:
                            spin = spin * max(one - spin_friction_h / max(abs(spin), np.float32(1e-12)), zero)
                        spin = spin * free
                        s[4, b, i] = s[4, b, i] + (old[2, b, i] if position_first else spin) * turn_h
                        s[5, b, i] = spin
            if n_holders:
                grab_joints(start, n, s, grab, grab_index, holders, body[10], gv, gerr, beta, h)
            if scalars[12] > zero:
                projection.project(start, n, s, rule, walls, tips, proj, scalars[13], int(scalars[14]), half_thickness,
                                   flag, dp)
        for k in range(6):
            for b in range(n_bodies):
                for i in range(n):
                    out[k, b, start + i] = s[k, b, i]


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _advance_parallel(parts, num_envs, substeps, state, applied, rule, walls, tips, grab, grab_index, holders, body,
                      pairs, pair_f, corners, corner_box, boxes, q_index, q_f, w_index, w_f, scalars, proj, out):
    for k in numba.prange(parts):
        lo, hi = thread_range(k, parts, num_envs, CHUNK)
        _advance_rows(lo, hi, substeps, state, applied, rule, walls, tips,
                      grab, grab_index, holders, body, pairs, pair_f, corners, corner_box, boxes, q_index, q_f,
                      w_index, w_f, scalars, proj, out)


def _column(values, dtype=np.float32) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(values, dtype=dtype))


def _tables(world) -> dict:
    """The static tables of ``world``'s contact models and integrator, as kernel arrays (cached per model set)."""
    cached = getattr(world, "_native_tables", None)
    if cached is not None and cached["contacts"] is world.contacts:
        return cached
    spec, params, integ = world._host_spec, world.params, world.integrator
    n = spec.num_bodies
    movable = spec.movable.float().tolist()
    pairs = world.contacts.circles.pairs if world.contacts.circles is not None else []
    radius = spec.radius.tolist()
    pair_f = _column([[radius[a] + radius[b] for a, b in pairs], [movable[a] for a, _ in pairs],
                      [movable[b] for _, b in pairs]]).reshape(3, len(pairs))
    rigid = world.contacts.rigid

    def host(t: torch.Tensor | None, size: int, dtype=np.float32) -> np.ndarray:
        return _column(t.cpu().numpy() if t is not None else np.zeros(size), dtype).reshape(-1)

    if rigid is not None:
        table = rigid.q_table.cpu()
        owners, bodies = rigid.q_owner.cpu(), rigid.q_body.cpu()
        q = owners.numel()
        owner_sign = [float(table[o, k]) if o < n else 0.0 for k, o in enumerate(owners.tolist())]
        box_sign = [-float(table[b, k]) for k, b in enumerate(bodies.tolist())]
        q_index = _column([rigid.q_point.tolist(), owners.tolist(), bodies.tolist(), rigid.q_box.tolist()],
                          np.int64).reshape(4, q)
        q_f = _column([rigid.q_half[:, 0].tolist(), rigid.q_half[:, 1].tolist(), rigid.q_base_offset.tolist(),
                       rigid.q_is_tip.tolist(), rigid.q_gain.tolist(), owner_sign, box_sign]).reshape(7, q)
        w_index = _column([rigid.w_point.tolist(), rigid.w_owner.tolist()], np.int64).reshape(2, -1)
        w_f = _column(rigid.w_offset.reshape(-1).tolist()).reshape(1, -1)
        corners = _column(rigid.local_corners.cpu().reshape(-1, 2).t().numpy()).reshape(2, -1)
        corner_box, boxes = host(rigid.corner_box, 0, np.int64), host(rigid.boxes, 0, np.int64)
        is_box, w_gain = rigid.is_box.cpu().tolist(), rigid.w_gain
    else:
        q_index, q_f = np.zeros((4, 0), np.int64), np.zeros((7, 0), np.float32)
        w_index, w_f = np.zeros((2, 0), np.int64), np.zeros((1, 0), np.float32)
        corners, corner_box, boxes = np.zeros((2, 0), np.float32), np.zeros(0, np.int64), np.zeros(0, np.int64)
        is_box, w_gain = [0.0] * n, 0.0
    body = _column([host(integ.move_h, n), host(integ.vel_decay, n), host(integ.force_gain, n),
                    host(integ.max_speed, n), host(integ.friction_h, n), host(integ.turn_h, n),
                    host(integ.ang_decay, n), host(integ.torque_gain, n), host(integ.spin_friction_h, n),
                    is_box, spec.mass.tolist()]).reshape(11, n)
    h = params.dt / params.substeps
    scalars = _column([params.contact_margin, params.contact_force, -1.0 / params.contact_margin, w_gain,
                       0.0, integ.bound if integ.bound is not None else 0.0, integ.bound is not None,
                       integ.position_first, integ.has_friction, 0.5, h, integ.rotational,
                       world.projection is not None, params.max_penetration or 0.0,
                       world.projection.iterations if world.projection is not None else 0])
    tables = dict(contacts=world.contacts, pairs=_column(pairs, np.int64).reshape(-1, 2), pair_f=pair_f, body=body,
                  corners=corners, corner_box=corner_box, boxes=boxes, q_index=q_index, q_f=q_f, w_index=w_index,
                  w_f=w_f, scalars=scalars, proj=projection.tables(world))
    world._native_tables = tables
    return tables


def _planar(t: torch.Tensor) -> torch.Tensor:
    """(B, N) or (B, N, k) -> (N, B) or (k, N, B), contiguous: worlds innermost."""
    return t.t().contiguous() if t.dim() == 2 else t.permute(2, 1, 0).contiguous()


def advance(world, state: BodyState, force: torch.Tensor, torque: torch.Tensor | None, free: torch.Tensor | None,
            solid: torch.Tensor | None, grabs: Grabs | None) -> BodyState:
    """``World.advance`` for CPU float32 worlds (same arguments, same next state)."""
    tables = _tables(world)
    b, n = state.angle.shape
    scalars = tables["scalars"].copy()
    geometry = world._wall_geometry
    if geometry is not None:
        f = geometry.frames
        walls = torch.cat((f.nx, f.ny, f.ux, f.uy, f.n0, f.u0, f.length)).contiguous().numpy()  # (7, W, B)
        tips = torch.stack((geometry.tips_x, geometry.tips_y)).contiguous().numpy()
        scalars[4] = geometry.half_thickness
    else:
        walls, tips = np.zeros((7, 0, b), np.float32), np.zeros((2, 0, b), np.float32)
    packed = torch.cat((state.pos, state.vel, state.angle.unsqueeze(-1), state.ang_vel.unsqueeze(-1)), dim=-1)
    torque = torch.zeros_like(state.angle) if torque is None else torque
    applied = _planar(torch.cat((force, torque.unsqueeze(-1)), dim=-1))
    ones = torch.ones_like(state.angle)
    rule = _planar(torch.stack((ones if free is None else free, ones if solid is None else solid), dim=-1))
    if grabs is None:
        grab, grab_index = np.zeros((3, 0, b), np.float32), np.zeros((0, b), np.int64)
        holders = np.zeros(0, np.int64)
    else:
        grab = _planar(torch.cat((grabs.offset, grabs.rel_angle.unsqueeze(-1)), dim=-1)).numpy()
        grab_index = _planar(grabs.target.long()).numpy()
        holders = _column(grabs.holders.tolist(), np.int64)
    out = torch.empty(6, n, b)
    args = (world.params.substeps, _planar(packed).numpy(), applied.numpy(), rule.numpy(), walls, tips, grab,
            grab_index, holders, tables["body"], tables["pairs"], tables["pair_f"], tables["corners"],
            tables["corner_box"], tables["boxes"], tables["q_index"], tables["q_f"], tables["w_index"],
            tables["w_f"], scalars, tables["proj"], out.numpy())
    _advance_parallel(threads(b), b, *args)  # one thread too: the same compiled code for any count
    result = out.permute(2, 1, 0)  # (B, N, 6)
    return BodyState(pos=result[..., 0:2].contiguous(), vel=result[..., 2:4].contiguous(),
                     angle=result[..., 4].contiguous(), ang_vel=result[..., 5].contiguous())
