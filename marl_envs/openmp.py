"""The OpenMP wait policy of torch's CPU thread pool, chosen before torch loads it.

Why: torch's CPU ops run on GNU OpenMP, whose idle workers spin by default (about 300,000 polls,
milliseconds) after each parallel op before they sleep. On a machine of its own that saves a wake-up
per op; on a shared one the spinning workers take cores from the neighbour and from this process's
own busy thread, and each of the hundreds of parallel regions of a step waits for a thread that
the scheduler set aside: a 2-thread env beside one busy process ran several times slower than its
share. With ``OMP_WAIT_POLICY=PASSIVE`` idle workers sleep at once; a wake-up costs microseconds,
nothing next to a batched step's milliseconds. The CPU kernels (``marl_envs.native``) run on
numba's TBB (or ``workqueue``) pool, whose idle workers sleep as well (``native.parallel``).

libgomp reads the variable once, when torch is imported, so ``marl_envs/__init__`` applies this
first; a process that imported torch earlier keeps torch's default, and ``passive_waits`` says so
(once) when a kernel first runs there. A value the user set is always kept.
"""

from __future__ import annotations

import logging
import os
import sys

_state = {"torch_was_first": False, "told": False}


def prefer_passive_waits() -> None:
    """Set ``OMP_WAIT_POLICY=PASSIVE`` unless the user chose a policy or torch is already loaded."""
    if "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ:
        return
    if "torch" in sys.modules:
        _state["torch_was_first"] = True
        return
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"


def passive_waits() -> bool:
    """Whether torch's OpenMP workers sleep when idle; logs once why not, if torch was imported first."""
    if _state["torch_was_first"] and not _state["told"]:
        _state["told"] = True
        logging.getLogger("marl_envs").warning(
            "marl_envs: torch was imported before marl_envs, so its OpenMP threads spin-wait: on a shared machine "
            "a batched CPU env then runs far below its share. Import marl_envs first or set OMP_WAIT_POLICY=PASSIVE.")
    return not _state["torch_was_first"]
