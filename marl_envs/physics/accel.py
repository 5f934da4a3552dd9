"""Optional fused CPU kernels for the hottest queries, plugged into the torch core from outside.

Why: on a CPU, hide-and-seek's step at thousands of worlds is bound by memory traffic, not
arithmetic. Each torch op reads and writes whole (pairs x worlds) temporaries, so a contact or
ray query costs tens of passes over megabytes. A kernel that runs a block of worlds at a time
keeps every temporary in registers and the L1 cache, and is several times faster.

The core stays torch-only (README, "Layout": the layering rules): the kernels live in ``marl_envs.native``
(numba), and the package's ``__init__`` registers them here by name, loaded on first use. The
torch code remains the reference: every kernel is tested against it, runs only where it
applies (CPU float32 tensors, outside ``torch.compile`` tracing), and falls back to it when
numba cannot be imported. ``MARL_ENVS_NATIVE=0`` in the environment, or ``with
accel.disabled():``, forces the reference path.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import warnings
from collections.abc import Callable, Iterator

import torch

_SOURCES: dict[str, tuple[str, str]] = {}  # name -> (module, attribute), imported on first use
_LOADED: dict[str, Callable | None] = {}  # None: the import failed, use the reference
_state = {"enabled": os.environ.get("MARL_ENVS_NATIVE", "1").strip().lower() not in ("0", "false", "no", "off")}


def register(name: str, module: str, attribute: str) -> None:
    """Offer ``module.attribute`` as the kernel ``name``; the module is imported at the first call."""
    _SOURCES[name] = (module, attribute)
    _LOADED.pop(name, None)


def kernel(name: str, like: torch.Tensor) -> Callable | None:
    """The kernel ``name`` if one is registered, enabled and applies to tensors like ``like``; else None."""
    if not _state["enabled"] or name not in _SOURCES:
        return None
    if like.device.type != "cpu" or like.dtype != torch.float32 or torch.compiler.is_compiling():
        return None
    if name not in _LOADED:
        module, attribute = _SOURCES[name]
        try:
            _LOADED[name] = getattr(importlib.import_module(module), attribute)
        except ImportError:  # numba (or numpy) missing: the torch reference serves
            _LOADED[name] = None
        except Exception as error:  # e.g. numba finds no writable cache directory: say so, keep running
            warnings.warn(f"marl_envs: the CPU kernel {name!r} could not be loaded ({error}); using the torch "
                          f"reference path (set NUMBA_CACHE_DIR to a writable folder to fix a cache error).",
                          RuntimeWarning, stacklevel=2)
            _LOADED[name] = None
    return _LOADED[name]


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
