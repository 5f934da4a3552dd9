"""``--compile``: the PPO family's losses and acting through ``torch.compile``, with an eager fallback.

Why: with 64-wide networks, a hide-and-seek minibatch (41k rows) spends as long on the element-wise arithmetic of
its losses (log-softmax of five action factors, ratios, clipping, Huber, masks, their backward passes) as on its
matrix products, and in eager mode every one of those operations is its own pass over memory. TorchInductor fuses
them into a few loops. One minibatch of hide_and_seek_v1's preset, forward, backward and Adam step, on the 2-core
VM (``python -m baselines.learner_benchmark``, 2 threads, medians of two runs): 100–133 ms eager and 72–85 ms compiled
in float32, 64–70 ms eager and 43 ms compiled under ``--precision bf16``. The arithmetic is the same; only the
rounding of fused reductions differs (losses and gradients agree to about 1e-6 relative).

Acting is the same story at 4,096 rows a step: the actor's forward pass, the five factors' inverse-CDF sampling
and log-probabilities, and the critic's input took about 8 ms eager and 3-4 ms compiled per step of 1024 worlds.

What is compiled are pure functions, tensors in and out: the loss terms (``ppo.policy_terms``, ``ppo.value_term``)
and one feed-forward acting step (``rollout.act``); logging, optimisers, gradient clipping and the env stay eager.
Random numbers inside compiled code come from torch's generator, as in eager mode (TorchInductor's
``fallback_random``), so compiled acting draws the actions eager acting draws, and a run's seed and checkpointed
random state mean what they mean without ``--compile``. Compiling happens at the first minibatch of a run (a few
seconds on 2 cores) and again if the minibatch shapes change (one actor per agent or per team sees a varying number of
rows: the compiler then marks the row count dynamic).

On CPU, TorchInductor writes C++ and needs a C++ compiler at run time. Where compiling fails (no compiler, an
unsupported platform, a network the compiler cannot trace) the run warns once, naming the error, and continues
eagerly with the same arithmetic: a missing compiler costs speed, never the run.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch

_compiled: dict[Callable, Callable] = {}
_failed: set[Callable] = set()


def maybe_compiled(fn: Callable, enabled: bool) -> Callable:
    """``fn`` itself, or (``enabled``) its compiled form that falls back to ``fn`` if compiling fails."""
    if not enabled or fn in _failed:
        return fn
    if fn not in _compiled:
        # random numbers drawn inside compiled code come from torch's generator as in eager mode (the compiler's own
        # generator would give other samples): compiled acting samples the actions eager acting would
        import torch._inductor.config as inductor_config

        inductor_config.fallback_random = True
        _compiled[fn] = _with_fallback(fn, torch.compile(fn))
    return _compiled[fn]


def _with_fallback(fn: Callable, compiled: Callable) -> Callable:
    def call(*args: Any, **kwargs: Any):
        if fn in _failed:
            return fn(*args, **kwargs)
        try:
            return compiled(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - any compiler failure; a real bug fails again eagerly below
            _failed.add(fn)
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            warnings.warn(f"--compile: torch.compile could not compile {fn.__name__} ({type(error).__name__}: "
                          f"{first_line}); continuing without compiling it (same arithmetic, slower)",
                          RuntimeWarning, stacklevel=2)
            return fn(*args, **kwargs)

    call.__wrapped__ = fn
    return call
