"""Optional fused CPU kernels for the hottest queries, plugged into the torch core from outside.

Why: on a CPU, hide-and-seek's step at thousands of worlds is bound by memory traffic, not
arithmetic. Each torch op reads and writes whole (pairs x worlds) temporaries, so a contact or
ray query costs tens of passes over megabytes. A kernel that runs a block of worlds at a time
keeps every temporary in registers and the L1 cache, and is several times faster.

The core stays torch-only (README, "Layout": the layering rules), so it names no kernel module:
code that owns a kernel registers it here with ``register(name, loader)``. The scenario-independent
kernels (physics, sensors, spawning) live in ``marl_envs.native`` and register from the package's
``__init__``; a scenario's own kernels live next to it (``scenarios/hide_and_seek/kernels``) and
the scenario package registers them. Torch code asks ``kernel(name, like)`` and runs the torch
reference when it gets None.

The torch code remains the reference: every kernel is tested against it, runs only where it
applies (CPU float32 tensors, outside ``torch.compile`` tracing), and is replaced by it when
numba cannot be imported (with one warning). ``MARL_ENVS_NATIVE=0`` in the environment, or
``with accel.disabled():``, forces the reference path.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Callable, Iterator

import torch

_LOADERS: dict[str, Callable[[], Callable]] = {}  # name -> loader, called on first use
_LOADED: dict[str, Callable | None] = {}  # None: the loader failed, use the reference
_state = {"enabled": os.environ.get("MARL_ENVS_NATIVE", "1").strip().lower() not in ("0", "false", "no", "off"),
          "warned_missing": False}


class KernelUnavailableWarning(RuntimeWarning):
    """The CPU kernels could not be loaded: the torch reference path runs instead (same rules, slower)."""


def register(name: str, loader: Callable[[], Callable]) -> None:
    """Offer the kernel ``name``: ``loader()`` imports its module and returns it, at the first call that applies.

    Loading late keeps numba (and its compile) out of processes that never step a CPU batch. A
    registration under a name already taken replaces it (a scenario may bring a better kernel).
    """
    _LOADERS[name] = loader
    _LOADED.pop(name, None)


def kernel(name: str, like: torch.Tensor) -> Callable | None:
    """The kernel ``name`` if one is registered, enabled and applies to tensors like ``like``; else None."""
    if not _state["enabled"] or name not in _LOADERS:
        return None
    if like.device.type != "cpu" or like.dtype != torch.float32 or torch.compiler.is_compiling():
        return None
    if name not in _LOADED:
        _LOADED[name] = _load(name)
    return _LOADED[name]


def _load(name: str) -> Callable | None:
    try:
        return _LOADERS[name]()
    except ImportError as error:  # numba (or numpy) missing: say it once, the torch reference serves
        if not _state["warned_missing"]:
            _state["warned_missing"] = True
            warnings.warn(f"marl_envs: CPU kernels unavailable ({error}); running the torch reference path "
                          f"(same rules and seeds, slower at large CPU batches; `pip install numba` to enable).",
                          KernelUnavailableWarning, stacklevel=3)
    except Exception as error:  # e.g. numba finds no writable cache directory: say so, keep running
        warnings.warn(f"marl_envs: the CPU kernel {name!r} could not be loaded ({error}); using the torch "
                      f"reference path (set NUMBA_CACHE_DIR to a writable folder to fix a cache error).",
                      KernelUnavailableWarning, stacklevel=3)
    return None


def enabled() -> bool:
    """Whether registered kernels may run (they still apply only to CPU float32 tensors)."""
    return _state["enabled"]


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Run the torch reference path inside the block (tests, benchmarks, debugging)."""
    previous = _state["enabled"]
    _state["enabled"] = False
    try:
        yield
    finally:
        _state["enabled"] = previous
