"""Seeding: one ``torch.Generator`` per env, on the env's device, the only source of randomness.

Follows Gymnasium: ``reset(seed=s)`` reseeds the generator, ``reset()`` continues its
stream, and an env never seeded draws its seed from OS entropy (a fresh
``torch.Generator`` would otherwise start from the same fixed default seed in every
process). Same seed, same device -> same trajectory.
"""

from __future__ import annotations

import numbers

import torch


def make_generator(device: torch.device) -> torch.Generator:
    """A generator on ``device`` seeded from OS entropy."""
    generator = torch.Generator(device=device)
    generator.seed()
    return generator


def validate_seed(seed: object) -> int:
    """Return ``seed`` as an int, or raise naming the problem (Gymnasium accepts non-negative ints)."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be a non-negative int or None, got {type(seed).__name__} {seed!r}")
    seed = int(seed)
    if seed < 0 or seed >= 2**64:
        raise ValueError(f"seed must be in [0, 2**64), got {seed}")
    return seed
