"""``World.advance`` for worlds with boxes or walls, as one fused CPU kernel.

The physics is the torch core's, term for term (``physics.contacts``, ``physics.integrate``,
``physics.constraints``, ``physics.projection``): disc pairs, point-vs-box queries (disc centres,
box corners, wall endpoints), points against thick walls, then semi-implicit Euler with damping,
floor friction and speed caps, then grab joints, then the position projection (``native.joints``,
``native.projection``). What changes is the schedule: a block of ``CHUNK`` worlds is loaded once
and stepped through every substep while it sits in the L1 cache, each loop a SIMD loop across the
block's worlds, instead of one pass over all worlds' (queries x worlds) temporaries per op. The
static tables (which pairs and queries exist, their constants and who they push) are the torch
models' own, read through ``World``'s public attributes into named tables (``native.tables``).

Numba's disk cache keys a function on its own file only: after editing another ``native`` module,
delete ``marl_envs/native/__pycache__/physics.*.nb*`` (or touch this file), or the cached kernel
keeps the old code.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np
import torch

from marl_envs.native import projection, walls
from marl_envs.native.joints import grab_joints
from marl_envs.native.parallel import launch, thread_range
from marl_envs.native.tables import Tables, world_tables
from marl_envs.physics.constraints import Grabs
from marl_envs.physics.state import BodyState

CHUNK = 64
CUT = np.float32(-17.0)
"""Penetration arguments below this are skipped: softplus is under 5e-8 there, a force below float32
resolution next to any contact. This is what makes the kernel fast: most point-wall and point-box
pairs are apart, and their ``exp`` and ``log1p`` (scalar library calls) are never made."""
FASTMATH = {"contract", "arcp", "nsz"}
JIT = dict(nogil=True, fastmath=FASTMATH, cache=True, boundscheck=False, error_model="numpy")
STATE_ROWS = 6
"""Rows of the (6, N, B) state: pos x, y, vel x, y, angle, spin (``advance`` packs them in this order)."""


class Step(NamedTuple):
    """One call's per-world inputs, worlds last (B)."""

    state: np.ndarray  # (6, N, B), rows as STATE_ROWS
    applied: np.ndarray  # (3, N, B): force x, y, torque
    rule: np.ndarray  # (2, N, B): free, solid
    walls: np.ndarray  # (7, W, B): frames (``native.walls``)
    tips: np.ndarray  # (2, 2W, B): wall endpoints x, y
    grab: np.ndarray  # (3, A, B): offset x, y, rel_angle
    grab_index: np.ndarray  # (A, B): held body or -1
    holders: np.ndarray  # (A,)


@numba.njit(inline="always", **JIT)
def _softplus(x):
    """torch.nn.functional.softplus (threshold 20: linear above it); callers skip it below ``CUT``."""
    return x if x > np.float32(20.0) else np.float32(math.log1p(math.exp(x)))


@numba.njit(**JIT)
def _disc_pairs(n, s, discs, params, fx, fy, tmp):
    """Disc pair forces (``physics.contacts.CircleContacts``)."""
    for p in range(discs.a.shape[0]):
        a, c = discs.a[p], discs.b[p]
        for i in range(n):
            dx, dy = s[0, a, i] - s[0, c, i], s[1, a, i] - s[1, c, i]
            tmp[1, i] = max(math.sqrt(dx * dx + dy * dy), np.float32(1e-12))
            tmp[0, i] = (tmp[1, i] - discs.radius_sum[p]) * params.neg_inv_margin
        for i in range(n):
            if tmp[0, i] >= CUT:
                dx, dy = s[0, a, i] - s[0, c, i], s[1, a, i] - s[1, c, i]
                scale = _softplus(tmp[0, i]) * params.margin * params.stiffness / tmp[1, i]
                fx[a, i] += dx * scale * discs.move_a[p]
                fy[a, i] += dy * scale * discs.move_a[p]
                fx[c, i] -= dx * scale * discs.move_b[p]
                fy[c, i] -= dy * scale * discs.move_b[p]


@numba.njit(**JIT)
def _point_table(start, n, s, boxes, tips, tx, ty, bc, bs):
    """The points the queries test: body centres | box corners | wall endpoints; and each box's cos, sin."""
    n_bodies, n_boxes = s.shape[1], boxes.bodies.shape[0]
    for b in range(n_bodies):
        for i in range(n):
            tx[b, i], ty[b, i] = s[0, b, i], s[1, b, i]
    for x in range(n_boxes):
        for i in range(n):
            bc[x, i], bs[x, i] = math.cos(s[4, boxes.bodies[x], i]), math.sin(s[4, boxes.bodies[x], i])
    for r in range(4 * n_boxes):
        x = boxes.corner_box[r]
        body_x, cx, cy = boxes.bodies[x], boxes.corner_x[r], boxes.corner_y[r]
        for i in range(n):
            tx[n_bodies + r, i] = s[0, body_x, i] + bc[x, i] * cx - bs[x, i] * cy
            ty[n_bodies + r, i] = s[1, body_x, i] + bs[x, i] * cx + bc[x, i] * cy
    for r in range(tips.shape[1]):
        for i in range(n):
            tx[n_bodies + 4 * n_boxes + r, i] = tips[0, r, start + i]
            ty[n_bodies + 4 * n_boxes + r, i] = tips[1, r, start + i]


@numba.njit(**JIT)
def _box_queries(start, n, s, rule, q, params, tx, ty, bc, bs, fx, fy, tq, tmp):
    """Points against boxes: force on the point's owner, the opposite on the box, at the point."""
    n_bodies = s.shape[1]
    for k in range(q.point.shape[0]):
        row, owner, box, slot = q.point[k], q.owner[k], q.box[k], q.slot[k]
        hx, hy = q.half_x[k], q.half_y[k]
        offset = q.base_offset[k] + q.is_tip[k] * params.half_thickness
        for i in range(n):  # point_box_query_xy, branch-free
            sd, tmp[1, i], tmp[2, i] = projection.box_query(tx[row, i] - s[0, box, i], ty[row, i] - s[1, box, i],
                                                            bc[slot, i], bs[slot, i], hx, hy)
            tmp[0, i] = (sd - offset) * params.neg_inv_margin
        for i in range(n):
            if tmp[0, i] >= CUT:
                j = start + i
                px, py = tx[row, i], ty[row, i]
                mag = _softplus(tmp[0, i]) * q.gain[k] * rule[1, box, j]
                if owner < n_bodies:
                    mag *= rule[1, owner, j]
                push_x, push_y = tmp[1, i] * mag, tmp[2, i] * mag
                if owner < n_bodies:
                    w_o = q.owner_sign[k]
                    fx[owner, i] += w_o * push_x
                    fy[owner, i] += w_o * push_y
                    tq[owner, i] += w_o * ((px - s[0, owner, i]) * push_y - (py - s[1, owner, i]) * push_x)
                w_b = q.box_sign[k]
                fx[box, i] -= w_b * push_x
                fy[box, i] -= w_b * push_y
                tq[box, i] -= w_b * ((px - s[0, box, i]) * push_y - (py - s[1, box, i]) * push_x)


@numba.njit(**JIT)
def _wall_queries(start, n, s, rule, wall_frames, q, fence, params, tx, ty, fx, fy, tq, tmp, acc):
    """Points against thick walls (``physics.walls.thick_segment_query``). Geometry in a SIMD loop; the
    softplus (scalar library calls) only where a point is within reach of a wall."""
    zero = np.float32(0.0)
    for k in range(q.point.shape[0]):
        row, owner = q.point[k], q.owner[k]
        for i in range(n):
            acc[0, i], acc[1, i] = zero, zero
        for w in range(wall_frames.shape[1]):
            for i in range(n):
                gap, tmp[1, i], tmp[2, i] = walls.wall_point(tx[row, i], ty[row, i], s[0, owner, i], s[1, owner, i],
                                                             wall_frames, w, start + i, params.half_thickness)
                tmp[0, i] = (gap - q.offset[k]) * params.neg_inv_margin
            for i in range(n):
                if tmp[0, i] >= CUT:  # solid (rule[1]) per wall: fence walls hold every body
                    mag = _softplus(tmp[0, i]) * params.wall_gain * max(rule[1, owner, start + i], fence[w])
                    acc[0, i] += tmp[1, i] * mag
                    acc[1, i] += tmp[2, i] * mag
        for i in range(n):
            push_x, push_y = acc[0, i], acc[1, i]
            fx[owner, i] += push_x
            fy[owner, i] += push_y
            tq[owner, i] += (tx[row, i] - s[0, owner, i]) * push_y - (ty[row, i] - s[1, owner, i]) * push_x


@numba.njit(**JIT)
def _integrate(start, n, s, applied, rule, body, params, fx, fy, tq):
    """Semi-implicit Euler with damping, floor friction and speed caps (``physics.integrate.Integrator``)."""
    zero, one, tiny = np.float32(0.0), np.float32(1.0), np.float32(1e-12)
    for b in range(s.shape[1]):
        move_h, vel_decay, force_gain, friction_h = body.move_h[b], body.vel_decay[b], body.force_gain[b], \
            body.friction_h[b]
        for i in range(n):
            j = start + i
            old_x, old_y, old_spin = s[2, b, i], s[3, b, i], s[5, b, i]
            vx = old_x * vel_decay + (applied[0, b, j] + fx[b, i]) * force_gain
            vy = old_y * vel_decay + (applied[1, b, j] + fy[b, i]) * force_gain
            if params.has_friction:
                keep = max(one - friction_h / max(math.sqrt(vx * vx + vy * vy), tiny), zero)
                vx, vy = vx * keep, vy * keep
            cap = min(body.max_speed[b] / max(math.sqrt(vx * vx + vy * vy), tiny), one)
            free = rule[0, b, j]
            vx, vy = vx * cap * free, vy * cap * free
            x = s[0, b, i] + (old_x if params.position_first else vx) * move_h
            y = s[1, b, i] + (old_y if params.position_first else vy) * move_h
            if params.has_bound:
                x, y = min(max(x, -params.bound), params.bound), min(max(y, -params.bound), params.bound)
            s[0, b, i], s[1, b, i], s[2, b, i], s[3, b, i] = x, y, vx, vy
            if params.rotational:
                spin = old_spin * body.ang_decay[b] + (applied[2, b, j] + tq[b, i] * body.is_box[b]) * \
                    body.torque_gain[b]
                if params.has_friction:
                    spin = spin * max(one - body.spin_friction_h[b] / max(abs(spin), tiny), zero)
                spin = spin * free
                s[4, b, i] = s[4, b, i] + (old_spin if params.position_first else spin) * body.turn_h[b]
                s[5, b, i] = spin


@numba.njit(**JIT)
def _substep(start, n, step, tables, params, s, scratch):
    """One substep of the block in ``s``: contacts, integration, grab joints, projection."""
    fx, fy, tq, tx, ty, bc, bs, gv, gerr, tmp, acc, flag, dp = scratch
    fx[:, :n] = 0.0
    fy[:, :n] = 0.0
    tq[:, :n] = 0.0
    _disc_pairs(n, s, tables.discs, params, fx, fy, tmp)
    _point_table(start, n, s, tables.boxes, step.tips, tx, ty, bc, bs)
    _box_queries(start, n, s, step.rule, tables.box_queries, params, tx, ty, bc, bs, fx, fy, tq, tmp)
    _wall_queries(start, n, s, step.rule, step.walls, tables.wall_queries, tables.projection.wall_flags[0], params,
                  tx, ty, fx, fy, tq, tmp, acc)
    _integrate(start, n, s, step.applied, step.rule, tables.bodies, params, fx, fy, tq)
    if step.holders.shape[0]:
        grab_joints(start, n, s, step.grab, step.grab_index, step.holders, tables.bodies.mass, gv, gerr, params.beta,
                    params.h)
    if params.project:
        projection.project(start, n, s, step.rule, step.walls, step.tips, tables.projection, params, flag, dp)


@numba.njit(**JIT)
def _scratch(n_bodies, n_boxes, n_walls, n_holders):
    """Per-thread scratch for one block: forces, the point table, box angles, joint and projection sums."""
    f = np.float32
    n_rows = n_bodies + 4 * n_boxes + 2 * n_walls
    return (np.empty((n_bodies, CHUNK), f), np.empty((n_bodies, CHUNK), f), np.empty((n_bodies, CHUNK), f),
            np.empty((n_rows, CHUNK), f), np.empty((n_rows, CHUNK), f), np.empty((max(n_boxes, 1), CHUNK), f),
            np.empty((max(n_boxes, 1), CHUNK), f), np.empty((4, n_bodies, CHUNK), f),
            np.empty((5, max(n_holders, 1), CHUNK), f), np.empty((3, CHUNK), f), np.empty((2, CHUNK), f),
            np.empty(CHUNK, np.bool_), np.empty((STATE_ROWS, n_bodies, CHUNK), f))


@numba.njit(**JIT)
def _advance_rows(lo, hi, substeps, step, bodies, discs, boxes, box_queries, wall_queries, proj, params, out):
    """Step worlds ``lo:hi`` by ``substeps`` substeps, a block of ``CHUNK`` worlds at a time, into ``out``.

    The tables come as ``Tables``' fields (a parallel loop cannot take nested tuples) and are packed again here.
    """
    tables = Tables(bodies, discs, boxes, box_queries, wall_queries, proj)
    n_bodies = step.state.shape[1]
    s = np.empty((STATE_ROWS, n_bodies, CHUNK), np.float32)  # the block's state, stepped in place
    scratch = _scratch(n_bodies, tables.boxes.bodies.shape[0], step.walls.shape[1], step.holders.shape[0])
    for start in range(lo, hi, CHUNK):
        n = min(CHUNK, hi - start)
        s[:, :, :n] = step.state[:, :, start:start + n]
        for _ in range(substeps):
            _substep(start, n, step, tables, params, s, scratch)
        out[:, :, start:start + n] = s[:, :, :n]


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _advance_parallel(parts, num_envs, substeps, step, bodies, discs, boxes, box_queries, wall_queries, proj, params,
                      out):
    for k in numba.prange(parts):
        lo, hi = thread_range(k, parts, num_envs, CHUNK)
        _advance_rows(lo, hi, substeps, step, bodies, discs, boxes, box_queries, wall_queries, proj, params, out)


def _planar(t: torch.Tensor) -> torch.Tensor:
    """(B, N) or (B, N, k) -> (N, B) or (k, N, B), contiguous: worlds innermost."""
    return t.t().contiguous() if t.dim() == 2 else t.permute(2, 1, 0).contiguous()


def _step_inputs(world, state: BodyState, force, torque, free, solid, grabs: Grabs | None) -> Step:
    b = state.angle.shape[0]
    packed = torch.cat((state.pos, state.vel, state.angle.unsqueeze(-1), state.ang_vel.unsqueeze(-1)), dim=-1)
    torque = torch.zeros_like(state.angle) if torque is None else torque
    ones = torch.ones_like(state.angle)
    rule = torch.stack((ones if free is None else free, ones if solid is None else solid), dim=-1)
    if grabs is None:
        grab, grab_index, holders = np.zeros((3, 0, b), np.float32), np.zeros((0, b), np.int64), np.zeros(0, np.int64)
    else:
        grab = _planar(torch.cat((grabs.offset, grabs.rel_angle.unsqueeze(-1)), dim=-1)).numpy()
        grab_index = _planar(grabs.target.long()).numpy()
        holders = np.asarray(grabs.holders.tolist(), np.int64)
    geometry = world.wall_geometry
    applied = _planar(torch.cat((force, torque.unsqueeze(-1)), dim=-1)).numpy()
    return Step(state=_planar(packed).numpy(), applied=applied, rule=_planar(rule).numpy(),
                walls=walls.frames(geometry, b), tips=walls.tips(geometry, b), grab=grab, grab_index=grab_index,
                holders=holders)


def advance(world, state: BodyState, force: torch.Tensor, torque: torch.Tensor | None, free: torch.Tensor | None,
            solid: torch.Tensor | None, grabs: Grabs | None) -> BodyState:
    """``World.advance`` for CPU float32 worlds (same arguments, same next state)."""
    tables, params = world_tables(world)
    geometry = world.wall_geometry
    if geometry is not None:
        params = params._replace(half_thickness=np.float32(geometry.half_thickness))
    b, n = state.angle.shape
    out = torch.empty(STATE_ROWS, n, b)
    step = _step_inputs(world, state, force, torque, free, solid, grabs)
    launch(_advance_rows, _advance_parallel, b, world.params.substeps, step, *tables, params, out.numpy())
    result = out.permute(2, 1, 0)  # (B, N, 6)
    return BodyState(pos=result[..., 0:2].contiguous(), vel=result[..., 2:4].contiguous(),
                     angle=result[..., 4].contiguous(), ang_vel=result[..., 5].contiguous())
