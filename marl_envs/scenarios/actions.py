"""Shared action decoders: MPE's 5-way movement, discrete and continuous, as one table.

MPE's discrete order is [no_action, move_left, move_right, move_down, move_up]; its
continuous action is 5 numbers in [0, 1] whose differences (right - left, up - down)
give the force. Both are the same linear map: discrete picks a row of the table,
continuous multiplies by it, so each decodes in one tensor op.
"""

from __future__ import annotations

import torch

MPE_MOVES = ((0.0, 0.0), (-1.0, 0.0), (1.0, 0.0), (0.0, -1.0), (0.0, 1.0))
"""Unit force direction of each MPE discrete action (rows) = continuous weights."""


def mpe_move_table(sensitivity: float, device: torch.device, dtype=torch.float32) -> torch.Tensor:
    """(5, 2) force per discrete action, already scaled by MPE's ``sensitivity`` (5.0)."""
    return torch.tensor(MPE_MOVES, device=device, dtype=dtype) * sensitivity


def decode_mpe_discrete(actions: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """(B, A) int actions -> (B, A, 2) forces."""
    return table[actions]


def decode_mpe_continuous(actions: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """(B, A, 5) actions in [0, 1] -> (B, A, 2) forces: (a2 - a1, a4 - a3) * sensitivity."""
    return torch.matmul(actions, table)
