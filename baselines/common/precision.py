"""Mixed precision for the PPO family: the networks' matrix products in bfloat16, everything else float32.

Why: on 2 CPU cores a hide-and-seek update is bound by the matrix products of its MLPs (about 100 GFLOP/s in
float32). CPUs with AVX-512 BF16 or AMX, and recent GPUs, run bfloat16 products with float32 accumulation at two to
three times that rate. ``torch.autocast`` casts the inputs of linear layers and matrix products to bfloat16 and
leaves the rest alone; the policy casts its head outputs back to float32 (``MultiAgentPolicy.make_distribution``,
``raw_value``), so log-probabilities, ratios, entropies, values, advantages, losses, the Adam state and the weights
are float32 as with ``--precision fp32``. The rounding of bfloat16 (8 bits of mantissa) perturbs the logits by
about 0.4% of their size; acting and learning both run under it, so PPO's ratio starts at 1 up to that rounding.
The env steps with autocast off (``env_precision``, used by ``rollout.collect``): its dynamics never change with
the learner's precision.

Not for natural-gradient steps (HATRPO, TRPO, NPG: conjugate gradient on Fisher-vector products needs float32
curvature), recurrent policies (their chunked training must reproduce step-by-step acting) or the Ray backend (its
workers act in float32); ``check_precision`` refuses those combinations by name.

``auto`` (``resolve_precision``, before the run starts, so that config.json records what ran) is bf16 where the
run allows it and the device multiplies bfloat16 natively (a CPU with AVX-512 BF16 or AMX, a CUDA device of
compute capability 8.0 or later), fp32 elsewhere: on a CPU without those instructions oneDNN emulates bfloat16
and the products get slower, not faster.
"""

from __future__ import annotations

import contextlib

import torch

PRECISIONS = ("fp32", "bf16", "auto")


def check_precision(precision: str, algo: str, recurrent: bool, backend: str) -> None:
    """Raise ValueError for an unknown precision or one the run's algorithm or options do not support."""
    if precision not in PRECISIONS:
        raise ValueError(f"--precision must be one of {list(PRECISIONS)}, got {precision!r}")
    reason = _why_not_bf16(algo, recurrent, backend)
    if precision == "bf16" and reason:
        raise ValueError(f"--precision bf16 {reason}")


def _why_not_bf16(algo: str, recurrent: bool, backend: str) -> str | None:
    if algo in ("hatrpo", "trpo", "npg"):
        return f"is for the PPO family; {algo}'s natural-gradient step needs fp32"
    if recurrent:
        return "does not support --recurrent (chunked training must match acting)"
    if backend != "local":
        return f"needs --backend local (the {backend} workers act in fp32)"
    return None


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` multiplies bfloat16 matrices in hardware (module docstring)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported(including_emulation=False)
    if device.type == "cpu":
        try:  # oneDNN's own check for AVX-512 BF16 / AMX
            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):
            return False
    return False


def resolve_precision(precision: str, algo: str, recurrent: bool, backend: str, device: torch.device) -> str:
    """``precision`` with ``auto`` replaced by what the run gets: bf16 where it is allowed and native, else fp32."""
    check_precision(precision, algo, recurrent, backend)
    if precision != "auto":
        return precision
    return "bf16" if _why_not_bf16(algo, recurrent, backend) is None and native_bf16(device) else "fp32"


def env_precision(device: torch.device) -> contextlib.AbstractContextManager:
    """Autocast off for the env's step inside an autocast region: the env's dynamics must not depend on how the
    learner multiplies (spread_v0's torch physics, and every env's torch path on GPU, use matrix products)."""
    return torch.autocast(device_type=device.type, enabled=False)


def autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """The context to act and learn in: bfloat16 autocast on ``device`` for bf16, nothing for fp32."""
    if precision == "bf16":
        # No cast cache: autocast keeps one bfloat16 copy of each weight for as long as its context is open, and
        # one context spans a whole update, optimiser steps included; with the cache every epoch would see the
        # weights of the update's start (PPO's ratio stuck at 1, its clipping off).
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16, cache_enabled=False)
    return contextlib.nullcontext()
