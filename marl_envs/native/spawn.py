"""One round of spawn rejection sampling (``scenarios.spawn._place_round``) as a CPU kernel.

The torch round draws candidates in batches of doubling size for the worlds still searching,
each batch a dozen ops and a host sync; a crowded hide-and-seek room needs some fourteen rounds
(half the worlds redraw each time), 180 ms per reset at B=4096, which is 2 ms of every step at
80-step episodes. Here each world places its entities in one loop, trying candidates until one
fits. The rules are the reference's (region shrunk by the radius, clear of the exclusion
rectangle, of every wall capsule and of earlier entities by ``SPAWN_GAP``); so is the law of a
placement (the first fitting one of ``tries`` uniform candidates). The candidates come from a
per-world SplitMix64 stream seeded from the env's torch generator, so a seed still fixes every
reset, and a world's draws do not depend on which other worlds are redrawn with it.
"""

from __future__ import annotations

import numba
import numpy as np
import torch

from marl_envs.native.parallel import thread_range, threads
from marl_envs.scenarios.spawn import SPAWN_GAP

CHUNK = 16
_GOLDEN, _MIX1, _MIX2 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


@numba.njit(nogil=True, cache=True, error_model="numpy", inline="always")
def _uniform(state):
    """Next SplitMix64 output of ``state`` (a 1-element uint64 array, advanced) as a float32 in [0, 1)."""
    state[0] += _GOLDEN
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    z = z ^ (z >> np.uint64(31))
    return np.float32(z >> np.uint64(40)) * np.float32(1.0 / (1 << 24))


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _round_parallel(parts, num_envs, seeds, radius, regions, exclude, has_exclude, walls, reach_extra, gap, tries,
                    pos, first_fail):
    """regions, exclude (b, E, 4); walls (7, W, b) frames: nx, ny, ux, uy, n0, u0, length; pos (b, E, 2) out."""
    num_entities, num_walls = regions.shape[1], walls.shape[1]
    zero = np.float32(0.0)
    for k in numba.prange(parts):
        state = np.empty(1, np.uint64)
        for j in range(*thread_range(k, parts, num_envs, CHUNK)):
            state[0] = seeds[j]
            first_fail[j] = num_entities
            for i in range(num_entities):
                r = radius[i]
                lo_x, lo_y = regions[j, i, 0] + r, regions[j, i, 1] + r
                span_x, span_y = regions[j, i, 2] - r - lo_x, regions[j, i, 3] - r - lo_y
                ex0, ey0, ex1, ey1 = exclude[j, i, 0], exclude[j, i, 1], exclude[j, i, 2], exclude[j, i, 3]
                excluding = has_exclude and ex1 > ex0 and ey1 > ey0  # NaN compares false: excludes nothing
                reach = r + reach_extra
                found = False
                for _ in range(tries):
                    x, y = lo_x + _uniform(state) * span_x, lo_y + _uniform(state) * span_y
                    ok = True
                    if excluding:
                        ox, oy = max(max(ex0 - x, x - ex1), zero), max(max(ey0 - y, y - ey1), zero)
                        ok = ox * ox + oy * oy >= r * r
                    for w in range(num_walls):
                        if not ok:
                            break
                        off = x * walls[0, w, j] + y * walls[1, w, j] - walls[4, w, j]
                        along = x * walls[2, w, j] + y * walls[3, w, j] - walls[5, w, j]
                        excess = along - min(max(along, zero), walls[6, w, j])
                        ok = off * off + excess * excess >= reach * reach
                    for e in range(i):
                        if not ok:
                            break
                        dx, dy = x - pos[j, e, 0], y - pos[j, e, 1]
                        clear = r + radius[e] + gap
                        ok = dx * dx + dy * dy >= clear * clear
                    if ok:
                        pos[j, i, 0], pos[j, i, 1] = x, y
                        found = True
                        break
                if not found:  # the world is redrawn whole; its positions are meaningless
                    first_fail[j] = i
                    for e in range(i, num_entities):
                        pos[j, e, 0], pos[j, e, 1] = zero, zero
                    break


def place_round(generator: torch.Generator, task) -> tuple[torch.Tensor, torch.Tensor]:
    """``spawn._place_round`` for CPU float32 tasks: positions (b, E, 2) and first failing entity (b,)."""
    b, e = task.regions.shape[:2]
    seeds = torch.randint(0, 2**62, (b,), generator=generator, device=task.regions.device)
    pos = torch.zeros(b, e, 2)
    first_fail = torch.empty(b, dtype=torch.long)
    if task.walls is not None:
        f = task.walls.frames
        walls = torch.cat((f.nx, f.ny, f.ux, f.uy, f.n0, f.u0, f.length)).contiguous().numpy()
        reach_extra = task.walls.half_thickness + SPAWN_GAP
    else:
        walls, reach_extra = np.zeros((7, 0, b), np.float32), 0.0
    exclude = task.exclude if task.exclude is not None else task.regions
    _round_parallel(threads(b), b, seeds.numpy().view(np.uint64),
                    np.asarray(task.radius, np.float32), task.regions.contiguous().numpy(),
                    exclude.contiguous().numpy(), task.exclude is not None, walls, np.float32(reach_extra),
                    np.float32(SPAWN_GAP), task.tries, pos.numpy(), first_fail.numpy())
    return pos, first_fail
