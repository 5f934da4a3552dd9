"""How many threads a kernel may use, and on which runtime.

The kernels are serial functions over a range of worlds (``rows(lo, hi, ...)``), driven by a
``prange`` over one range per thread. Numba runs that ``prange`` on its TBB layer when TBB is
installed (a dependency on x86-64 Linux: the ``tbb`` wheel), else on its ``workqueue`` layer, never
on its OpenMP layer (all set here unless ``NUMBA_THREADING_LAYER`` says otherwise), for two reasons:

* fork safety: numba's OpenMP layer shares torch's GNU OpenMP runtime, which numba refuses to use
  in a forked child ("fork() called from a process already using GNU OpenMP"), so a process that
  had stepped an env could not start fork-based vector env workers (SuperSuit, SB3's recipe). TBB
  and workqueue are both fork-safe;
* sharing a machine: TBB and workqueue workers sleep between kernels (TBB after a short spin),
  where OpenMP workers spin. With torch's workers sleeping too (``marl_envs.openmp``), a process
  uses the cores only while it computes, and a busy neighbour costs it about its share.

Between the two, TBB hands out work faster: hide_and_seek_v1 at B=4096 on 2 threads ran 74k
env-steps/s on TBB against 66k on workqueue (medians of three, the same machine and hour), and
its pool is thread-safe (workqueue runs one parallel kernel at a time). The ``tbb`` wheel puts
``libtbb`` in the environment's ``lib/`` folder, which the loader does not search, so it is
loaded here by path before numba looks for it by name.

Worlds are independent and each runs on one thread, so the split never changes the world's state (same
seed, same trajectory, any thread count, either layer). One caveat: one thread calls ``rows`` compiled on
its own, more threads call it compiled into the parallel function, and LLVM may round a sensor's
arithmetic differently in the two (lidar ranges were seen to differ in the last bit); physics, rules and
sight agree bit for bit (``tests/native/test_kernels.py``).
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import os

import numba
import torch

from marl_envs.openmp import passive_waits

MIN_WORLDS_PER_THREAD = 64
"""Below this a thread's share does not pay for waking it."""


def _load_pip_tbb() -> bool:
    """Load the ``tbb`` wheel's ``libtbb`` by path (global symbols) so that numba finds it by name."""
    try:
        files = importlib.metadata.files("tbb") or []
    except importlib.metadata.PackageNotFoundError:
        return False
    for file in files:
        if file.name in ("libtbb.so.12", "libtbb.12.dylib", "tbb12.dll"):
            try:
                ctypes.CDLL(str(file.locate()), mode=ctypes.RTLD_GLOBAL)
                return True
            except OSError:
                return False
    return False


if "NUMBA_THREADING_LAYER" not in os.environ:
    _load_pip_tbb()
    numba.config.THREADING_LAYER = "default"  # the first of the priority list that loads
    numba.config.THREADING_LAYER_PRIORITY = ["tbb", "workqueue", "omp"]  # omp never: workqueue always loads
if torch.get_num_threads() > 1:
    passive_waits()  # says once if torch's pool spins (torch imported before marl_envs)


def threads(num_envs: int) -> int:
    """Threads for a kernel over ``num_envs`` worlds, up to ``torch.get_num_threads()``.

    Also sets numba's thread count for the coming ``prange``, to one as well: a parallel region
    opened with more threads than it has work for still wakes them all.
    """
    count = max(1, min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS, num_envs // MIN_WORLDS_PER_THREAD))
    numba.set_num_threads(count)
    return count


def launch(rows, parallel, num_envs: int, *args) -> None:
    """Run a kernel over ``num_envs`` worlds: ``rows(0, num_envs, *args)`` on this thread when one thread
    suffices, else ``parallel(parts, num_envs, *args)``, whose ``prange`` calls ``rows`` on each part.

    A parallel region hands its work to the pool even for one thread, and the wake-up costs a few
    microseconds on an idle machine, a hundred or more on a loaded one: for small batches (B=1 in the
    PettingZoo API) that is more than the work. Both calls run the same compiled ``rows`` over the same
    chunks, so the result is the same either way (to the last bit for the state; see the module docstring).
    """
    parts = threads(num_envs)
    if parts == 1:
        rows(0, num_envs, *args)
    else:
        parallel(parts, num_envs, *args)


@numba.njit(cache=True, inline="always")
def thread_range(k: int, parts: int, num_envs: int, chunk: int) -> tuple[int, int]:
    """Worlds ``[lo, hi)`` of thread ``k`` of ``parts``: whole chunks, so each world meets the same code path
    (a block's SIMD body or its tail) whatever the thread count, and results do not depend on it."""
    chunks = (num_envs + chunk - 1) // chunk
    return min(chunks * k // parts * chunk, num_envs), min(chunks * (k + 1) // parts * chunk, num_envs)
