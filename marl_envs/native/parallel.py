"""How many threads a kernel may use, and on which runtime.

The kernels are serial functions over a range of worlds (``rows(lo, hi, ...)``), driven by a
``prange`` over one range per thread. Numba runs that ``prange`` on the OpenMP runtime, which
is the one torch's CPU build loads (a single ``libgomp.so.1`` per process): the kernels then
run on torch's own worker threads, which are still spinning from the previous torch op and
start at once. A second thread pool (numba's workqueue or TBB layer, or Python threads) would
fight those spinning workers for the cores and lose about half its speed.

Worlds are independent and each runs on one thread, so the split never changes a result (same
seed, same trajectory, any thread count). As with torch's own CPU ops, a process must not fork
after running them (GNU OpenMP is not fork-safe): vectorised wrappers should start their
workers with ``spawn`` or ``forkserver``, as Stable-Baselines3's ``SubprocVecEnv`` does.
"""

from __future__ import annotations

import os

import numba
import torch

MIN_WORLDS_PER_THREAD = 64
"""Below this a thread's share does not pay for waking it."""

if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER_PRIORITY = ["omp", "tbb", "workqueue"]


def threads(num_envs: int) -> int:
    """Threads for a kernel over ``num_envs`` worlds, up to ``torch.get_num_threads()``.

    Also sets numba's thread count for the coming ``prange``, to one as well: a parallel region
    opened with more threads than it has work for still wakes them all, and they would spin on
    cores that a single-threaded process (a rollout worker, say) leaves to its neighbours.
    """
    count = max(1, min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS, num_envs // MIN_WORLDS_PER_THREAD))
    numba.set_num_threads(count)
    return count


@numba.njit(cache=True, inline="always")
def thread_range(k: int, parts: int, num_envs: int, chunk: int) -> tuple[int, int]:
    """Worlds ``[lo, hi)`` of thread ``k`` of ``parts``: whole chunks, so each world meets the same code path
    (a block's SIMD body or its tail) whatever the thread count, and results do not depend on it."""
    chunks = (num_envs + chunk - 1) // chunk
    return min(chunks * k // parts * chunk, num_envs), min(chunks * (k + 1) // parts * chunk, num_envs)
