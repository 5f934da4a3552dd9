"""Float 0/1 masks and selects: the fast form of comparisons and ``torch.where`` on CPU.

Why: on CPU, ops that read or write ``bool`` tensors are the slow ones of a step. Measured
on a 2-core AVX-512 machine with torch 2.13 on (4096, 16, 8) float tensors: ``a * b``
36 us, ``a > 0`` into a bool tensor 118 us but into a float tensor 30 us,
``torch.where(cond, a, b)`` 930 us (unvectorised), ``torch.lerp(b, a, mask)`` 55 us. The
contact and sensor queries therefore build their masks as float tensors of 0.0 / 1.0 and
select with ``lerp``, which for a 0/1 weight returns one of its finite inputs exactly.

Under ``torch.compile`` and for small tensors the plain comparisons are used (inductor fuses
both the same way, ``out=`` arguments do not trace, and small ops are dispatch-bound).
"""

from __future__ import annotations

import torch

SMALL = 1 << 15
"""Below this many elements the plain form is used: ``out=`` saves nothing there, and the shape
broadcast costs more (13 us of Python) than the op."""


def _compare(op, a: torch.Tensor, b: torch.Tensor | float) -> torch.Tensor:
    if torch.compiler.is_compiling() or a.numel() < SMALL:
        return op(a, b).to(a.dtype)
    shape = a.shape if not isinstance(b, torch.Tensor) else torch.broadcast_shapes(a.shape, b.shape)
    return op(a, b, out=torch.empty(shape, dtype=a.dtype, device=a.device))


def ge(a: torch.Tensor, b: torch.Tensor | float) -> torch.Tensor:
    """1.0 where ``a >= b``, else 0.0, in ``a``'s float dtype (broadcast)."""
    return _compare(torch.ge, a, b)


def gt(a: torch.Tensor, b: torch.Tensor | float) -> torch.Tensor:
    """1.0 where ``a > b``, else 0.0 (broadcast)."""
    return _compare(torch.gt, a, b)


def lt(a: torch.Tensor, b: torch.Tensor | float) -> torch.Tensor:
    """1.0 where ``a < b``, else 0.0 (broadcast)."""
    return _compare(torch.lt, a, b)


def eq(a: torch.Tensor, b: torch.Tensor | float) -> torch.Tensor:
    """1.0 where ``a == b``, else 0.0 (broadcast)."""
    return _compare(torch.eq, a, b)


def select(mask: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``torch.where(mask, a, b)`` for a float 0/1 ``mask`` and finite ``a``, ``b`` (exact)."""
    return torch.lerp(b, a, mask)


def sign_ge0(a: torch.Tensor) -> torch.Tensor:
    """+1.0 where ``a >= 0`` (zeros of either sign included), else -1.0."""
    return ge(a, 0.0).mul_(2.0).sub_(1.0)
