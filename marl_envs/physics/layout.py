"""Batch-major <-> batch-minor: the two memory orders the physics step moves between.

The state is batch-major, ``(B, N)``: a world's bodies side by side, which is what scenarios
index. The contact queries and grab joints work batch-minor, ``(N, B)`` rows with the world
index contiguous, so that each elementwise op is one long vectorised loop over worlds (see
``contacts.RigidContacts``).
"""

from __future__ import annotations

import torch


def rows(t: torch.Tensor) -> torch.Tensor:
    """(B, N) -> (N, B), contiguous."""
    return t.t().contiguous()


def batch_major(t: torch.Tensor) -> torch.Tensor:
    """(N, B) rows -> a fresh (B, N) tensor with standard strides.

    A clone rather than ``.contiguous()``: for B = 1 the transpose already counts as
    contiguous but keeps other strides, and compiled steps guard on the strides of the state
    they are given, so a one-world env would recompile at every step.
    """
    return t.t().clone(memory_format=torch.contiguous_format)
