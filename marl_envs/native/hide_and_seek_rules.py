"""hide_and_seek_v0's reach and elevation rules (``scenarios.hide_and_seek.manipulation``) as CPU kernels.

Both are a handful of arithmetic per (agent, object) or (agent, wall) pair, which torch spreads
over some forty ops on (B, A, K) tensors; one loop per world does them in registers. Same
formulas as the reference (box signed distance, ramp frames, point-segment distance), so the
answers agree to float rounding.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import torch

from marl_envs.native.parallel import threads
from marl_envs.physics.geometry import EPS
from marl_envs.physics.walls import Walls
from marl_envs.scenarios.hide_and_seek.manipulation import FOOT_BAND, SUPPORT_TOLERANCE, WALL_TOP

CHUNK = 64


@numba.njit(nogil=True, cache=True, boundscheck=False, error_model="numpy")
def _box_gap(px, py, cx, cy, cos, sin, hx, hy):
    """Signed distance from (px, py) to the box at (cx, cy) (``geometry.box_signed_distance_xy``)."""
    rx, ry = px - cx, py - cy
    lx, ly = cos * rx + sin * ry, cos * ry - sin * rx
    dx, dy = abs(lx) - hx, abs(ly) - hy
    ox, oy = max(dx, np.float32(0.0)), max(dy, np.float32(0.0))
    return math.sqrt(ox * ox + oy * oy) + min(max(dx, dy), np.float32(0.0))


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _reach_parallel(parts, num_envs, agent_pos, radius, obj_pos, obj_cos, obj_sin, obj_half, out):
    num_agents, num_objects = agent_pos.shape[1], obj_pos.shape[1]
    chunks = (num_envs + CHUNK - 1) // CHUNK
    for k in numba.prange(parts):
        for j in range(min(chunks * k // parts * CHUNK, num_envs), min(chunks * (k + 1) // parts * CHUNK, num_envs)):
            for i in range(num_agents):
                for m in range(num_objects):
                    out[j, i, m] = _box_gap(agent_pos[j, i, 0], agent_pos[j, i, 1], obj_pos[j, m, 0], obj_pos[j, m, 1],
                                            obj_cos[j, m], obj_sin[j, m], obj_half[m, 0], obj_half[m, 1]) - radius


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _elevation_parallel(parts, num_envs, elevated, agent_pos, agent_force, radius, ramp_pos, ramp_cos, ramp_sin,
                        ramp_half, box_sd, box_present, wall_start, wall_end, wall_mask, wall_reach, out):
    num_agents, num_ramps, num_boxes, num_walls = agent_pos.shape[1], ramp_pos.shape[1], box_sd.shape[2], \
        wall_start.shape[1]
    zero, tol, eps2 = np.float32(0.0), np.float32(SUPPORT_TOLERANCE), np.float32(EPS * EPS)
    chunks = (num_envs + CHUNK - 1) // CHUNK
    for k in numba.prange(parts):
        for j in range(min(chunks * k // parts * CHUNK, num_envs), min(chunks * (k + 1) // parts * CHUNK, num_envs)):
            for i in range(num_agents):
                ax, ay = agent_pos[j, i, 0], agent_pos[j, i, 1]
                climbs, supported = False, False
                for q in range(num_ramps):  # climbs start at a ramp's low end, pushing uphill
                    cos, sin = ramp_cos[j, q], ramp_sin[j, q]
                    rx, ry = ax - ramp_pos[j, q, 0], ay - ramp_pos[j, q, 1]
                    lx, ly = cos * rx + sin * ry, cos * ry - sin * rx
                    hx, hy = ramp_half[q, 0], ramp_half[q, 1]
                    uphill = agent_force[j, i, 0] * cos + agent_force[j, i, 1] * sin > zero
                    at_foot = abs(ly) <= hy and lx >= -hx - radius - np.float32(FOOT_BAND) and lx <= -hx
                    climbs = climbs or (at_foot and uphill)
                    supported = supported or (abs(lx) <= hx + tol and abs(ly) <= hy + tol)
                for m in range(num_boxes):
                    supported = supported or (box_sd[j, i, m] <= tol and box_present[j, m])
                for w in range(num_walls):
                    if not wall_mask[j, w]:
                        continue
                    sx, sy = wall_start[j, w, 0], wall_start[j, w, 1]
                    ux, uy = wall_end[j, w, 0] - sx, wall_end[j, w, 1] - sy
                    rx, ry = ax - sx, ay - sy
                    t = min(max((rx * ux + ry * uy) / max(ux * ux + uy * uy, eps2), zero), np.float32(1.0))
                    gx, gy = rx - t * ux, ry - t * uy
                    supported = supported or math.sqrt(gx * gx + gy * gy) <= wall_reach
                out[j, i] = supported if elevated[j, i] else climbs


def reach_distance(agent_pos: torch.Tensor, radius: float, obj_pos: torch.Tensor, obj_angle: torch.Tensor,
                   obj_half: torch.Tensor) -> torch.Tensor:
    """``manipulation.reach_distance`` for CPU float32 tensors."""
    b, a, m = agent_pos.shape[0], agent_pos.shape[1], obj_pos.shape[1]
    out = torch.empty(b, a, m)
    _reach_parallel(threads(b), b, agent_pos.contiguous().numpy(), np.float32(radius), obj_pos.contiguous().numpy(),
                    torch.cos(obj_angle).numpy(), torch.sin(obj_angle).numpy(), obj_half.contiguous().numpy(),
                    out.numpy())
    return out


def update_elevation(elevated: torch.Tensor, agent_pos: torch.Tensor, agent_force: torch.Tensor, radius: float,
                     ramp_pos: torch.Tensor, ramp_angle: torch.Tensor, ramp_half: torch.Tensor, box_sd: torch.Tensor,
                     box_present: torch.Tensor, walls: Walls) -> torch.Tensor:
    """``manipulation.update_elevation`` for CPU float32 tensors."""
    b = elevated.shape[0]
    out = torch.empty_like(elevated)
    _elevation_parallel(threads(b), b, elevated.contiguous().numpy(), agent_pos.contiguous().numpy(),
                        agent_force.contiguous().numpy(), np.float32(radius), ramp_pos.contiguous().numpy(),
                        torch.cos(ramp_angle).numpy(), torch.sin(ramp_angle).numpy(), ramp_half.contiguous().numpy(),
                        box_sd.contiguous().numpy(), box_present.contiguous().numpy(), walls.start.contiguous().numpy(),
                        walls.end.contiguous().numpy(), walls.mask.contiguous().numpy(),
                        np.float32(walls.half_thickness + WALL_TOP), out.numpy())
    return out
