"""One round of spawn rejection sampling (``scenarios.spawn._place_round``) as a CPU kernel.

The torch round draws candidates in batches of doubling size for the worlds still searching,
each batch a dozen ops and a host sync; a crowded hide-and-seek room needs some fourteen rounds
(half the worlds redraw each time), 180 ms per reset at B=4096, which is 2 ms of every step at
80-step episodes. Here each world places its entities in one loop, trying candidates until one
fits. The rules are the reference's (region shrunk by the radius, clear of the exclusion
rectangle, of every wall capsule and of earlier entities by ``SPAWN_GAP``); so is the law of a
placement (the first fitting one of ``tries`` uniform candidates), and so are the candidates: output
``candidate_counter(i, tries, t)`` of the per-world SplitMix64 stream whose seeds the reference
draws from the env's generator for the round (``spawn.candidate_uniforms`` is the torch side of the
same stream). So a seed fixes every reset on both paths alike, and a world's candidates do not
depend on which other worlds are redrawn with it.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
import torch

from marl_envs.native import walls as wall_frames
from marl_envs.native.parallel import thread_range, threads
from marl_envs.native.walls import LENGTH, N0, NX, NY, U0, UX, UY

CHUNK = 16


@numba.njit(nogil=True, cache=True, error_model="numpy", inline="always")
def _uniform(state, mix):
    """Next SplitMix64 output of ``state`` (a 1-element uint64 array, advanced) as a float32 in [0, 1);
    ``mix``: the increment and the two multipliers (``scenarios.spawn.STREAM``)."""
    state[0] += mix[0]
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * mix[1]
    z = (z ^ (z >> np.uint64(27))) * mix[2]
    z = z ^ (z >> np.uint64(31))
    return np.float32(z >> np.uint64(40)) * np.float32(1.0 / (1 << 24))


class Round(NamedTuple):
    """One round's inputs for b worlds and E entities."""

    seeds: np.ndarray  # (b,) uint64: each world's stream
    radius: np.ndarray  # (E,) float32
    regions: np.ndarray  # (b, E, 4)
    exclude: np.ndarray  # (b, E, 4); read only with has_exclude
    has_exclude: bool
    walls: np.ndarray  # (7, W, b) frames (``native.walls``)
    reach_extra: np.float32  # wall half thickness + gap
    gap: np.float32  # between entities
    tries: int
    mix: np.ndarray  # (3,) uint64 stream constants


@numba.njit(nogil=True, cache=True, error_model="numpy")
def _fits(x, y, j, i, r, task, pos):
    """Whether centre (x, y) of entity i (radius r) in world j clears its exclusion, the walls and earlier entities."""
    zero = np.float32(0.0)
    ex0, ey0, ex1, ey1 = task.exclude[j, i, 0], task.exclude[j, i, 1], task.exclude[j, i, 2], task.exclude[j, i, 3]
    if task.has_exclude and ex1 > ex0 and ey1 > ey0:  # NaN compares false: excludes nothing
        ox, oy = max(max(ex0 - x, x - ex1), zero), max(max(ey0 - y, y - ey1), zero)
        if not ox * ox + oy * oy >= r * r:
            return False
    reach = r + task.reach_extra
    walls = task.walls
    for w in range(walls.shape[1]):
        off = x * walls[NX, w, j] + y * walls[NY, w, j] - walls[N0, w, j]
        along = x * walls[UX, w, j] + y * walls[UY, w, j] - walls[U0, w, j]
        excess = along - min(max(along, zero), walls[LENGTH, w, j])
        if not off * off + excess * excess >= reach * reach:
            return False
    for e in range(i):
        dx, dy = x - pos[j, e, 0], y - pos[j, e, 1]
        clear = r + task.radius[e] + task.gap
        if not dx * dx + dy * dy >= clear * clear:
            return False
    return True


@numba.njit(nogil=True, cache=True, error_model="numpy")
def _place_world(j, task, state, pos, first_fail):
    """Place world j's entities in order; on the first that finds no fit, record it and stop."""
    num_entities = task.regions.shape[1]
    first_fail[j] = num_entities
    for i in range(num_entities):
        r = task.radius[i]
        lo_x, lo_y = task.regions[j, i, 0] + r, task.regions[j, i, 1] + r
        span_x, span_y = task.regions[j, i, 2] - r - lo_x, task.regions[j, i, 3] - r - lo_y
        state[0] = task.seeds[j] + task.mix[0] * np.uint64(2 * task.tries * i)  # candidate_counter(i, tries, 0) - 1
        found = False
        for _ in range(task.tries):
            x = lo_x + _uniform(state, task.mix) * span_x
            y = lo_y + _uniform(state, task.mix) * span_y
            if _fits(x, y, j, i, r, task, pos):
                pos[j, i, 0], pos[j, i, 1] = x, y
                found = True
                break
        if not found:  # the world is redrawn whole; its positions are meaningless
            first_fail[j] = i
            pos[j, i:] = np.float32(0.0)
            return


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _round_parallel(parts, num_envs, task, pos, first_fail):
    for k in numba.prange(parts):
        state = np.empty(1, np.uint64)
        for j in range(*thread_range(k, parts, num_envs, CHUNK)):
            _place_world(j, task, state, pos, first_fail)


def place_round(seeds: torch.Tensor, task, gap: float, stream: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """``spawn._place_round`` for CPU float32 tasks, from the round's (b,) stream seeds: positions (b, E, 2)
    and the first failing entity (b,)."""
    b, e = task.regions.shape[:2]
    pos = torch.zeros(b, e, 2)
    first_fail = torch.empty(b, dtype=torch.long)
    reach_extra = task.walls.half_thickness + gap if task.walls is not None else 0.0
    exclude = task.exclude if task.exclude is not None else task.regions
    x = Round(seeds.numpy().view(np.uint64), np.asarray(task.radius, np.float32), task.regions.contiguous().numpy(),
              exclude.contiguous().numpy(), task.exclude is not None, wall_frames.frames(task.walls, b),
              np.float32(reach_extra), np.float32(gap), task.tries, np.array(stream, np.uint64))
    _round_parallel(threads(b), b, x, pos.numpy(), first_fail.numpy())
    return pos, first_fail
