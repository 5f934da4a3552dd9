"""Keep large CPU step temporaries in the heap (glibc ``mallopt``), instead of mapping them per op.

Why: a batched step on CPU allocates and frees hundreds of megabyte-sized temporaries. glibc
serves blocks above its mmap threshold (128 KiB at start, adapting upwards to at most 32 MiB
only after frees of mapped blocks) with fresh ``mmap`` pages, so every op pays page faults to
touch its output: measured on hide_and_seek_v1 at B=4096 on 2 cores, 45k env-steps/s with
glibc's defaults against 66k with the threshold at 32 MiB. PyTorch has no CPU caching
allocator; its performance guide recommends jemalloc or tcmalloc through ``LD_PRELOAD``
for the same reason. Raising the threshold in-process needs no preload: freed blocks go back
to the heap and are reused by the next step.

The cost is memory that stays with the process after a large batch is freed (up to the
trim threshold, 512 MiB). Set ``MARL_ENVS_MALLOC_TUNING=0`` to leave the allocator alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # glibc's largest allowed value on 64-bit systems
TRIM_THRESHOLD = 512 << 20

_tuned = False


def tune_cpu_allocator() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; True if they are (now) raised.

    A no-op returning False off Linux, on a libc without ``mallopt`` (musl), or when
    ``MARL_ENVS_MALLOC_TUNING=0``.
    """
    global _tuned
    if _tuned:
        return True
    if not sys.platform.startswith("linux") or os.environ.get("MARL_ENVS_MALLOC_TUNING", "1") == "0":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    _tuned = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _tuned
