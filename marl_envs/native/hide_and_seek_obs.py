"""hide_and_seek_v1's observation and global state (``scenarios.hide_and_seek.observations``) as CPU kernels.

Assembling the flat observation in torch is some thirty ops over small (B, A, K, f) tensors, each a
pass over memory, for 6 MB of output at B=4096. Here one loop per world writes each agent's row
once. Headings' cosines and sines are computed by torch beforehand, so every value is the very
float the reference computes: the kernels are bit-exact copies of the layout, not approximations.
"""

from __future__ import annotations

import numba
import numpy as np
import torch

from marl_envs.native.parallel import thread_range, threads
from marl_envs.scenarios.hide_and_seek.observations import AGENT_STATE, OBJECT, OBJECT_STATE, OTHER, SELF, Scene

CHUNK = 64


@numba.njit(nogil=True, cache=True, boundscheck=False, error_model="numpy")
def _observe_rows(lo, hi, agent, team, flags, prep_left, obj, obj_half, lock_team, see_agents, see_objects, lidar,
                  others, num_boxes, out):
    """agent (B, A, 6): pos, vel, cos, sin; flags (B, A, 2): elevated, holding; obj (B, M, 6) likewise;
    lock_team (B, M); see_agents (B, A, A), see_objects (B, A, M); lidar (B, A, R); out (B, A, D)."""
    num_agents, num_objects, num_rays = agent.shape[1], obj.shape[1], lidar.shape[2]
    zero, one = np.float32(0.0), np.float32(1.0)
    for j in range(lo, hi):
        for i in range(num_agents):
            f = 0
            for c in range(6):
                out[j, i, f + c] = agent[j, i, c]
            out[j, i, f + 6], out[j, i, f + 7] = team[i], prep_left[j]
            out[j, i, f + 8], out[j, i, f + 9] = flags[j, i, 0], flags[j, i, 1]
            f += SELF
            mask_at = f + OTHER * (num_agents - 1)
            for o in range(num_agents - 1):
                t = others[i, o]
                seen = one if see_agents[j, i, t] else zero
                out[j, i, f] = (agent[j, t, 0] - agent[j, i, 0]) * seen
                out[j, i, f + 1] = (agent[j, t, 1] - agent[j, i, 1]) * seen
                for c in range(2, 6):
                    out[j, i, f + c] = agent[j, t, c] * seen
                out[j, i, f + 6], out[j, i, f + 7] = team[t] * seen, flags[j, t, 0] * seen
                out[j, i, mask_at + o] = seen
                f += OTHER
            f = mask_at + num_agents - 1  # boxes, their mask, ramps, their mask
            num_ramps = num_objects - num_boxes
            for m in range(num_objects):
                if m < num_boxes:
                    slot, mask_slot = f + OBJECT * m, f + OBJECT * num_boxes + m
                else:
                    base = f + (OBJECT + 1) * num_boxes
                    slot, mask_slot = base + OBJECT * (m - num_boxes), base + OBJECT * num_ramps + m - num_boxes
                seen = one if see_objects[j, i, m] else zero
                out[j, i, slot] = (obj[j, m, 0] - agent[j, i, 0]) * seen
                out[j, i, slot + 1] = (obj[j, m, 1] - agent[j, i, 1]) * seen
                for c in range(2, 6):
                    out[j, i, slot + c] = obj[j, m, c] * seen
                out[j, i, slot + 6], out[j, i, slot + 7] = obj_half[m, 0] * seen, obj_half[m, 1] * seen
                locked = lock_team[j, m] >= 0
                mine = locked and np.float32(lock_team[j, m]) == team[i]
                out[j, i, slot + 8] = (one if mine else zero) * seen
                out[j, i, slot + 9] = (one if locked and not mine else zero) * seen
                out[j, i, mask_slot] = seen
            f += (OBJECT + 1) * num_objects
            for r in range(num_rays):
                out[j, i, f + r] = lidar[j, i, r]


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _observe_parallel(parts, num_envs, agent, team, flags, prep_left, obj, obj_half, lock_team, see_agents,
                      see_objects, lidar, others, num_boxes, out):
    for k in numba.prange(parts):
        lo, hi = thread_range(k, parts, num_envs, CHUNK)
        _observe_rows(lo, hi, agent, team, flags, prep_left, obj, obj_half, lock_team, see_agents, see_objects,
                      lidar, others, num_boxes, out)


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _state_parallel(parts, num_envs, agent_pos, agent_vel, agent_cos, agent_sin, team, elevated, holding, obj_pos,
                    obj_vel, obj_cos, obj_sin, obj_half, lock_team, present, prep_left, time_left, out):
    """Rows of ``observations.global_state``; inputs are the scene's (possibly strided) views."""
    num_agents, num_objects = agent_pos.shape[1], obj_pos.shape[1]
    for k in numba.prange(parts):
        for j in range(*thread_range(k, parts, num_envs, CHUNK)):
            for i in range(num_agents):
                f = AGENT_STATE * i
                out[j, f], out[j, f + 1], out[j, f + 2], out[j, f + 3] = (agent_pos[j, i, 0], agent_pos[j, i, 1],
                                                                          agent_vel[j, i, 0], agent_vel[j, i, 1])
                out[j, f + 4], out[j, f + 5], out[j, f + 6] = agent_cos[j, i], agent_sin[j, i], team[i]
                out[j, f + 7], out[j, f + 8] = np.float32(elevated[j, i]), np.float32(holding[j, i])
            for m in range(num_objects):
                f = AGENT_STATE * num_agents + OBJECT_STATE * m
                out[j, f], out[j, f + 1], out[j, f + 2], out[j, f + 3] = (obj_pos[j, m, 0], obj_pos[j, m, 1],
                                                                          obj_vel[j, m, 0], obj_vel[j, m, 1])
                out[j, f + 4], out[j, f + 5] = obj_cos[j, m], obj_sin[j, m]
                out[j, f + 6], out[j, f + 7] = obj_half[m, 0], obj_half[m, 1]
                out[j, f + 8] = np.float32(lock_team[j, m] == 0)
                out[j, f + 9] = np.float32(lock_team[j, m] == 1)
                out[j, f + 10] = np.float32(present[j, m])
            f = AGENT_STATE * num_agents + OBJECT_STATE * num_objects
            out[j, f], out[j, f + 1] = prep_left[j], time_left[j]


def global_state(scene: Scene) -> torch.Tensor:
    """``observations.global_state`` for CPU float32 scenes (same values)."""
    b, a = scene.agent_angle.shape
    m = scene.obj_angle.shape[1]
    out = torch.empty(b, AGENT_STATE * a + OBJECT_STATE * m + 2)
    _state_parallel(threads(b), b, scene.agent_pos.numpy(), scene.agent_vel.numpy(),
                    torch.cos(scene.agent_angle).numpy(), torch.sin(scene.agent_angle).numpy(),
                    scene.team.contiguous().numpy(), scene.elevated.numpy(), scene.holding.numpy(),
                    scene.obj_pos.numpy(), scene.obj_vel.numpy(), torch.cos(scene.obj_angle).numpy(),
                    torch.sin(scene.obj_angle).numpy(), scene.obj_half.contiguous().numpy(), scene.lock_team.numpy(),
                    scene.present.numpy(), scene.prep_left.float().numpy(), scene.time_left.float().numpy(),
                    out.numpy())
    return out


def _packed(scene: Scene) -> tuple[np.ndarray, ...]:
    """Agents and objects as (B, ., 6) pos, vel, cos, sin rows, and the agents' (B, A, 2) flags, as floats."""
    agent = torch.cat((scene.agent_pos, scene.agent_vel, torch.cos(scene.agent_angle).unsqueeze(-1),
                       torch.sin(scene.agent_angle).unsqueeze(-1)), dim=-1)
    obj = torch.cat((scene.obj_pos, scene.obj_vel, torch.cos(scene.obj_angle).unsqueeze(-1),
                     torch.sin(scene.obj_angle).unsqueeze(-1)), dim=-1)
    flags = torch.stack((scene.elevated, scene.holding), dim=-1).float()
    return agent.numpy(), obj.numpy(), flags.numpy()


def observe(scene: Scene, see_agents: torch.Tensor, see_objects: torch.Tensor, others: torch.Tensor,
            lidar: torch.Tensor | None) -> torch.Tensor:
    """``observations.observe`` for CPU float32 scenes (same arguments, same values)."""
    b, a = scene.agent_angle.shape
    m = scene.obj_angle.shape[1]
    rays = 0 if lidar is None else lidar.shape[-1]
    out = torch.empty(b, a, SELF + (OTHER + 1) * (a - 1) + (OBJECT + 1) * m + rays)
    agent, obj, flags = _packed(scene)
    lidar_np = np.zeros((b, a, 0), np.float32) if lidar is None else lidar.contiguous().numpy()
    _observe_parallel(threads(b), b, agent, scene.team.contiguous().numpy(), flags,
                      scene.prep_left.float().contiguous().numpy(), obj, scene.obj_half.contiguous().numpy(),
                      scene.lock_team.contiguous().numpy(), see_agents.contiguous().numpy(),
                      see_objects.contiguous().numpy(), lidar_np, others.contiguous().numpy(), scene.num_boxes,
                      out.numpy())
    return out
