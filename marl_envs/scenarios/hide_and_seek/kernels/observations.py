"""hide_and_seek_v1's observation and global state (``scenarios.hide_and_seek.observations``) as CPU kernels.

Assembling the flat observation in torch is some thirty ops over small (B, A, K, f) tensors, each a
pass over memory, for 6 MB of output at B=4096. Here one loop per world writes each agent's row
once. Headings' cosines and sines are computed by torch beforehand, so every value is the very
float the reference computes: the kernels are bit-exact copies of the layout, not approximations.
Where each block starts is read from the scenario's ``obs_spec`` / ``state_spec`` (the one
definition of the layout), passed to the kernels as an offsets array indexed by ``BLOCKS``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numba
import numpy as np
import torch

from marl_envs.native.parallel import launch, thread_range
from marl_envs.scenarios.hide_and_seek.observations import (
    AGENT_STATE,
    OBJECT,
    OBJECT_STATE,
    OTHER,
    Scene,
    obs_spec,
    state_spec,
)

CHUNK = 64
BLOCKS = ("self", "agents", "agents_mask", "boxes", "boxes_mask", "ramps", "ramps_mask", "lidar")
AT_SELF, AT_AGENTS, AT_AGENTS_MASK, AT_BOXES, AT_BOXES_MASK, AT_RAMPS, AT_RAMPS_MASK, AT_LIDAR = range(len(BLOCKS))
STATE_BLOCKS = ("agents", "objects", "time")
AT_STATE_AGENTS, AT_STATE_OBJECTS, AT_STATE_TIME = range(len(STATE_BLOCKS))


@lru_cache(maxsize=64)
def observation_offsets(num_agents: int, num_boxes: int, num_ramps: int, rays: int) -> tuple[np.ndarray, int]:
    """Start of each of ``BLOCKS`` in ``obs_spec``'s layout (0 for a block the spec leaves out), and its dim."""
    spec = obs_spec(num_agents, num_boxes, num_ramps, rays)
    slices = spec.slices()
    return np.array([slices[b].start if b in slices else 0 for b in BLOCKS], np.int64), spec.dim


@lru_cache(maxsize=64)
def state_offsets(num_agents: int, num_objects: int) -> tuple[np.ndarray, int]:
    """Start of each of ``STATE_BLOCKS`` in ``state_spec``'s layout, and its dim."""
    spec = state_spec(num_agents, num_objects)
    slices = spec.slices()
    return np.array([slices[b].start if b in slices else 0 for b in STATE_BLOCKS], np.int64), spec.dim


class ObsInputs(NamedTuple):
    """One observation call's inputs, worlds first (B)."""

    agent: np.ndarray  # (B, A, 6): pos, vel, heading cos, sin
    team: np.ndarray  # (A,)
    flags: np.ndarray  # (B, A, 2): elevated, holding
    prep_left: np.ndarray  # (B,)
    obj: np.ndarray  # (B, M, 6) as ``agent``; boxes then ramps
    obj_half: np.ndarray  # (M, 2)
    lock_team: np.ndarray  # (B, M)
    see_agents: np.ndarray  # (B, A, A)
    see_objects: np.ndarray  # (B, A, M)
    lidar: np.ndarray  # (B, A, R)
    others: np.ndarray  # (A, A - 1)
    num_boxes: int


class StateInputs(NamedTuple):
    """One global-state call's inputs: the scene's (possibly strided) views, headings as cos and sin."""

    agent_pos: np.ndarray
    agent_vel: np.ndarray
    agent_cos: np.ndarray
    agent_sin: np.ndarray
    team: np.ndarray
    elevated: np.ndarray
    holding: np.ndarray
    obj_pos: np.ndarray
    obj_vel: np.ndarray
    obj_cos: np.ndarray
    obj_sin: np.ndarray
    obj_half: np.ndarray
    lock_team: np.ndarray
    present: np.ndarray
    prep_left: np.ndarray
    time_left: np.ndarray


@numba.njit(nogil=True, cache=True, boundscheck=False, error_model="numpy")
def _object_block(x, j, i, m, slot, mask_slot, out):
    """Object m as agent i of world j sees it: block at ``slot``, mask at ``mask_slot``."""
    zero, one = np.float32(0.0), np.float32(1.0)
    seen = one if x.see_objects[j, i, m] else zero
    out[j, i, slot] = (x.obj[j, m, 0] - x.agent[j, i, 0]) * seen
    out[j, i, slot + 1] = (x.obj[j, m, 1] - x.agent[j, i, 1]) * seen
    for c in range(2, 6):
        out[j, i, slot + c] = x.obj[j, m, c] * seen
    out[j, i, slot + 6], out[j, i, slot + 7] = x.obj_half[m, 0] * seen, x.obj_half[m, 1] * seen
    locked = x.lock_team[j, m] >= 0
    mine = locked and np.float32(x.lock_team[j, m]) == x.team[i]
    out[j, i, slot + 8] = (one if mine else zero) * seen
    out[j, i, slot + 9] = (one if locked and not mine else zero) * seen
    out[j, i, mask_slot] = seen


@numba.njit(nogil=True, cache=True, boundscheck=False, error_model="numpy")
def _observe_rows(lo, hi, x, at, out):
    """Rows ``lo:hi`` of ``out`` (B, A, D), each block at its ``obs_spec`` offset ``at[AT_...]``."""
    num_agents, num_objects, num_rays = x.agent.shape[1], x.obj.shape[1], x.lidar.shape[2]
    zero, one = np.float32(0.0), np.float32(1.0)
    for j in range(lo, hi):
        for i in range(num_agents):
            f = at[AT_SELF]
            for c in range(6):
                out[j, i, f + c] = x.agent[j, i, c]
            out[j, i, f + 6], out[j, i, f + 7] = x.team[i], x.prep_left[j]
            out[j, i, f + 8], out[j, i, f + 9] = x.flags[j, i, 0], x.flags[j, i, 1]
            for o in range(num_agents - 1):
                t, f = x.others[i, o], at[AT_AGENTS] + OTHER * o
                seen = one if x.see_agents[j, i, t] else zero
                out[j, i, f] = (x.agent[j, t, 0] - x.agent[j, i, 0]) * seen
                out[j, i, f + 1] = (x.agent[j, t, 1] - x.agent[j, i, 1]) * seen
                for c in range(2, 6):
                    out[j, i, f + c] = x.agent[j, t, c] * seen
                out[j, i, f + 6], out[j, i, f + 7] = x.team[t] * seen, x.flags[j, t, 0] * seen
                out[j, i, at[AT_AGENTS_MASK] + o] = seen
            for m in range(num_objects):
                if m < x.num_boxes:
                    _object_block(x, j, i, m, at[AT_BOXES] + OBJECT * m, at[AT_BOXES_MASK] + m, out)
                else:
                    q = m - x.num_boxes
                    _object_block(x, j, i, m, at[AT_RAMPS] + OBJECT * q, at[AT_RAMPS_MASK] + q, out)
            for r in range(num_rays):
                out[j, i, at[AT_LIDAR] + r] = x.lidar[j, i, r]


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _observe_parallel(parts, num_envs, x, at, out):
    for k in numba.prange(parts):
        lo, hi = thread_range(k, parts, num_envs, CHUNK)
        _observe_rows(lo, hi, x, at, out)


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _state_parallel(parts, num_envs, x, at, out):
    for k in numba.prange(parts):
        lo, hi = thread_range(k, parts, num_envs, CHUNK)
        _state_rows(lo, hi, x, at, out)


@numba.njit(nogil=True, cache=True, boundscheck=False, error_model="numpy")
def _state_rows(lo, hi, x, at, out):
    """Rows of ``observations.global_state``, each block at its ``state_spec`` offset ``at[AT_STATE_...]``."""
    num_agents, num_objects = x.agent_pos.shape[1], x.obj_pos.shape[1]
    for j in range(lo, hi):
        for i in range(num_agents):
            f = at[AT_STATE_AGENTS] + AGENT_STATE * i
            out[j, f], out[j, f + 1] = x.agent_pos[j, i, 0], x.agent_pos[j, i, 1]
            out[j, f + 2], out[j, f + 3] = x.agent_vel[j, i, 0], x.agent_vel[j, i, 1]
            out[j, f + 4], out[j, f + 5], out[j, f + 6] = x.agent_cos[j, i], x.agent_sin[j, i], x.team[i]
            out[j, f + 7], out[j, f + 8] = np.float32(x.elevated[j, i]), np.float32(x.holding[j, i])
        for m in range(num_objects):
            f = at[AT_STATE_OBJECTS] + OBJECT_STATE * m
            out[j, f], out[j, f + 1] = x.obj_pos[j, m, 0], x.obj_pos[j, m, 1]
            out[j, f + 2], out[j, f + 3] = x.obj_vel[j, m, 0], x.obj_vel[j, m, 1]
            out[j, f + 4], out[j, f + 5] = x.obj_cos[j, m], x.obj_sin[j, m]
            out[j, f + 6], out[j, f + 7] = x.obj_half[m, 0], x.obj_half[m, 1]
            out[j, f + 8] = np.float32(x.lock_team[j, m] == 0)
            out[j, f + 9] = np.float32(x.lock_team[j, m] == 1)
            out[j, f + 10] = np.float32(x.present[j, m])
        out[j, at[AT_STATE_TIME]], out[j, at[AT_STATE_TIME] + 1] = x.prep_left[j], x.time_left[j]


def global_state(scene: Scene) -> torch.Tensor:
    """``observations.global_state`` for CPU float32 scenes (same values)."""
    b, a = scene.agent_angle.shape
    at, dim = state_offsets(a, scene.obj_angle.shape[1])
    out = torch.empty(b, dim)
    x = StateInputs(scene.agent_pos.numpy(), scene.agent_vel.numpy(), torch.cos(scene.agent_angle).numpy(),
                    torch.sin(scene.agent_angle).numpy(), scene.team.contiguous().numpy(), scene.elevated.numpy(),
                    scene.holding.numpy(), scene.obj_pos.numpy(), scene.obj_vel.numpy(),
                    torch.cos(scene.obj_angle).numpy(), torch.sin(scene.obj_angle).numpy(),
                    scene.obj_half.contiguous().numpy(), scene.lock_team.numpy(), scene.present.numpy(),
                    scene.prep_left.float().numpy(), scene.time_left.float().numpy())
    launch(_state_rows, _state_parallel, b, x, at, out.numpy())
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
    at, dim = observation_offsets(a, scene.num_boxes, m - scene.num_boxes, rays)
    out = torch.empty(b, a, dim)
    agent, obj, flags = _packed(scene)
    x = ObsInputs(agent, scene.team.contiguous().numpy(), flags, scene.prep_left.float().contiguous().numpy(), obj,
                  scene.obj_half.contiguous().numpy(), scene.lock_team.contiguous().numpy(),
                  see_agents.contiguous().numpy(), see_objects.contiguous().numpy(),
                  np.zeros((b, a, 0), np.float32) if lidar is None else lidar.contiguous().numpy(),
                  others.contiguous().numpy(), scene.num_boxes)
    launch(_observe_rows, _observe_parallel, b, x, at, out.numpy())
    return out
