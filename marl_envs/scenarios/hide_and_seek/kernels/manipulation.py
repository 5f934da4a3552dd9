"""hide_and_seek_v1's reach, elevation, lock and grab rules (``scenarios.hide_and_seek.manipulation``) as CPU kernels.

Each is a handful of arithmetic and choices per (agent, object) or (agent, wall) pair, which torch
spreads over tens of ops on (B, A, K) tensors; one loop per world does them in registers. Same
formulas and the same tie rules as the reference (the closest candidate, lowest index first;
hiders' locks before seekers'), so the answers agree to float rounding.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import torch

from marl_envs.native.parallel import launch, thread_range
from marl_envs.native.projection import box_query
from marl_envs.physics.constraints import Grabs
from marl_envs.physics.geometry import EPS
from marl_envs.physics.walls import Walls
from marl_envs.scenarios.hide_and_seek.manipulation import (
    FOOT_BAND,
    HIDERS,
    NO_TEAM,
    SEEKERS,
    SUPPORT_TOLERANCE,
    WALL_TOP,
)

CHUNK = 64


@numba.njit(nogil=True, cache=True, boundscheck=False, error_model="numpy")
def _reach_rows(lo, hi, agent_pos, radius, obj_pos, obj_cos, obj_sin, obj_half, out):
    num_agents, num_objects = agent_pos.shape[1], obj_pos.shape[1]
    for j in range(lo, hi):
        for i in range(num_agents):
            for m in range(num_objects):
                gap = box_query(agent_pos[j, i, 0] - obj_pos[j, m, 0], agent_pos[j, i, 1] - obj_pos[j, m, 1],
                                obj_cos[j, m], obj_sin[j, m], obj_half[m, 0], obj_half[m, 1])[0]
                out[j, i, m] = gap - radius


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _reach_parallel(parts, num_envs, agent_pos, radius, obj_pos, obj_cos, obj_sin, obj_half, out):
    for k in numba.prange(parts):
        lo, hi = thread_range(k, parts, num_envs, CHUNK)
        _reach_rows(lo, hi, agent_pos, radius, obj_pos, obj_cos, obj_sin, obj_half, out)


@numba.njit(nogil=True, cache=True, boundscheck=False, error_model="numpy")
def _elevation_rows(lo, hi, elevated, agent_pos, agent_force, radius, ramp_pos, ramp_cos, ramp_sin,
                        ramp_half, box_sd, box_present, wall_start, wall_end, wall_mask, wall_reach, out):
    num_agents, num_ramps, num_boxes, num_walls = agent_pos.shape[1], ramp_pos.shape[1], box_sd.shape[2], \
        wall_start.shape[1]
    zero, tol, eps2 = np.float32(0.0), np.float32(SUPPORT_TOLERANCE), np.float32(EPS * EPS)
    for j in range(lo, hi):
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


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _elevation_parallel(parts, num_envs, elevated, agent_pos, agent_force, radius, ramp_pos, ramp_cos, ramp_sin,
                        ramp_half, box_sd, box_present, wall_start, wall_end, wall_mask, wall_reach, out):
    for k in numba.prange(parts):
        lo, hi = thread_range(k, parts, num_envs, CHUNK)
        _elevation_rows(lo, hi, elevated, agent_pos, agent_force, radius, ramp_pos, ramp_cos, ramp_sin, ramp_half,
                        box_sd, box_present, wall_start, wall_end, wall_mask, wall_reach, out)


def reach_distance(agent_pos: torch.Tensor, radius: float, obj_pos: torch.Tensor, obj_angle: torch.Tensor,
                   obj_half: torch.Tensor) -> torch.Tensor:
    """``manipulation.reach_distance`` for CPU float32 tensors."""
    b, a, m = agent_pos.shape[0], agent_pos.shape[1], obj_pos.shape[1]
    out = torch.empty(b, a, m)
    launch(_reach_rows, _reach_parallel, b, agent_pos.contiguous().numpy(), np.float32(radius),
           obj_pos.contiguous().numpy(), torch.cos(obj_angle).numpy(), torch.sin(obj_angle).numpy(),
           obj_half.contiguous().numpy(), out.numpy())
    return out


def update_elevation(elevated: torch.Tensor, agent_pos: torch.Tensor, agent_force: torch.Tensor, radius: float,
                     ramp_pos: torch.Tensor, ramp_angle: torch.Tensor, ramp_half: torch.Tensor, box_sd: torch.Tensor,
                     box_present: torch.Tensor, walls: Walls) -> torch.Tensor:
    """``manipulation.update_elevation`` for CPU float32 tensors."""
    b = elevated.shape[0]
    out = torch.empty_like(elevated)
    launch(_elevation_rows, _elevation_parallel, b, elevated.contiguous().numpy(), agent_pos.contiguous().numpy(),
           agent_force.contiguous().numpy(), np.float32(radius), ramp_pos.contiguous().numpy(),
           torch.cos(ramp_angle).numpy(), torch.sin(ramp_angle).numpy(), ramp_half.contiguous().numpy(),
           box_sd.contiguous().numpy(), box_present.contiguous().numpy(), walls.start.contiguous().numpy(),
           walls.end.contiguous().numpy(), walls.mask.contiguous().numpy(),
           np.float32(walls.half_thickness + WALL_TOP), out.numpy())
    return out


@numba.njit(nogil=True, cache=True, error_model="numpy", inline="always")
def _closest(candidates, distance, j, i):
    """Index of the closest candidate object of agent i in world j (lowest index among ties), or -1."""
    best, best_index = np.float32(np.inf), -1
    for m in range(candidates.shape[2]):
        if candidates[j, i, m] and (best_index < 0 or distance[j, i, m] < best):
            best, best_index = distance[j, i, m], m
    return best_index


@numba.njit(nogil=True, cache=True, boundscheck=False, error_model="numpy")
def _locks_rows(lo, hi, lock_team, press, reachable, distance, agent_team, out):
    num_agents, num_objects = reachable.shape[1], reachable.shape[2]
    by = np.empty((2, num_objects), np.bool_)  # pressed by hiders, by seekers
    for j in range(lo, hi):
        by[:] = False
        for i in range(num_agents):
            if press[j, i]:
                target = _closest(reachable, distance, j, i)
                if target >= 0:
                    by[0 if agent_team[i] == HIDERS else 1, target] = True
        for m in range(num_objects):
            owner = lock_team[j, m]
            if owner == NO_TEAM:
                out[j, m] = HIDERS if by[0, m] else (SEEKERS if by[1, m] else NO_TEAM)
            elif (owner == HIDERS and by[0, m]) or (owner == SEEKERS and by[1, m]):
                out[j, m] = NO_TEAM  # only the owning team unlocks
            else:
                out[j, m] = owner


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _locks_parallel(parts, num_envs, lock_team, press, reachable, distance, agent_team, out):
    for k in numba.prange(parts):
        lo, hi = thread_range(k, parts, num_envs, CHUNK)
        _locks_rows(lo, hi, lock_team, press, reachable, distance, agent_team, out)


@numba.njit(nogil=True, cache=True, boundscheck=False, error_model="numpy")
def _grabs_rows(lo, hi, target, offset, rel_angle, want, grabbable, holdable, distance, first_object,
                    agent_pos, agent_cos, agent_sin, agent_angle, obj_pos, obj_angle, out_target, out_offset,
                    out_rel_angle):
    num_agents = want.shape[1]
    for j in range(lo, hi):
        for i in range(num_agents):
            holding = target[j, i] >= 0
            current = max(target[j, i] - first_object, 0)
            keep = holding and want[j, i] and holdable[j, i, current]
            best = _closest(grabbable, distance, j, i)
            new = want[j, i] and not holding and best >= 0
            out_target[j, i] = current + first_object if keep else (best + first_object if new else -1)
            if new:  # the weld: the object's pose in the agent's frame
                dx, dy = obj_pos[j, best, 0] - agent_pos[j, i, 0], obj_pos[j, best, 1] - agent_pos[j, i, 1]
                c, s = agent_cos[j, i], agent_sin[j, i]
                out_offset[j, i, 0], out_offset[j, i, 1] = c * dx + s * dy, c * dy - s * dx
                out_rel_angle[j, i] = obj_angle[j, best] - agent_angle[j, i]
            else:
                out_offset[j, i, 0], out_offset[j, i, 1] = offset[j, i, 0], offset[j, i, 1]
                out_rel_angle[j, i] = rel_angle[j, i]


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _grabs_parallel(parts, num_envs, target, offset, rel_angle, want, grabbable, holdable, distance, first_object,
                    agent_pos, agent_cos, agent_sin, agent_angle, obj_pos, obj_angle, out_target, out_offset,
                    out_rel_angle):
    for k in numba.prange(parts):
        lo, hi = thread_range(k, parts, num_envs, CHUNK)
        _grabs_rows(lo, hi, target, offset, rel_angle, want, grabbable, holdable, distance, first_object, agent_pos,
                    agent_cos, agent_sin, agent_angle, obj_pos, obj_angle, out_target, out_offset, out_rel_angle)


def update_locks(lock_team: torch.Tensor, press: torch.Tensor, reachable: torch.Tensor, distance: torch.Tensor,
                 agent_team: torch.Tensor) -> torch.Tensor:
    """``manipulation.update_locks`` for CPU tensors."""
    b = lock_team.shape[0]
    out = torch.empty_like(lock_team)
    launch(_locks_rows, _locks_parallel, b, lock_team.contiguous().numpy(), press.contiguous().numpy(),
           reachable.contiguous().numpy(), distance.contiguous().numpy(), agent_team.contiguous().numpy(),
           out.numpy())
    return out


def update_grabs(grabs: Grabs, want: torch.Tensor, grabbable: torch.Tensor, holdable: torch.Tensor,
                 distance: torch.Tensor, first_object: int, agent_pos: torch.Tensor, agent_angle: torch.Tensor,
                 obj_pos: torch.Tensor, obj_angle: torch.Tensor) -> Grabs:
    """``manipulation.update_grabs`` for CPU float32 tensors."""
    b = want.shape[0]
    target, offset, rel_angle = torch.empty_like(grabs.target), torch.empty_like(grabs.offset), \
        torch.empty_like(grabs.rel_angle)
    launch(_grabs_rows, _grabs_parallel, b, grabs.target.contiguous().numpy(), grabs.offset.contiguous().numpy(),
           grabs.rel_angle.contiguous().numpy(), want.contiguous().numpy(), grabbable.contiguous().numpy(),
           holdable.contiguous().numpy(), distance.contiguous().numpy(), first_object,
           agent_pos.contiguous().numpy(), torch.cos(agent_angle).numpy(), torch.sin(agent_angle).numpy(),
           agent_angle.contiguous().numpy(), obj_pos.contiguous().numpy(), obj_angle.contiguous().numpy(),
           target.numpy(), offset.numpy(), rel_angle.numpy())
    return Grabs(holders=grabs.holders, target=target, offset=offset, rel_angle=rel_angle)
