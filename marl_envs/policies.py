"""Trained policies from checkpoints: the hook through which a training package lends its loader to ``play``.

``marl_envs`` trains nothing, so it cannot read a trainer's checkpoint; yet watching trained
agents (``python -m marl_envs.play ENV --checkpoint RUN``) is where a user meets them. The envs
must not depend on a trainer, so the trainer comes to the envs: a *policy loader* is a callable

    loader(checkpoint: str, env: BatchedEnv) -> policy,  policy(obs (1, A, ...)) -> actions (1, A, ...)

A policy with memory (a recurrent network) may also have a ``reset()`` method: ``play`` calls it
whenever an episode starts, so that the policy forgets the last one.

A loader is offered in one of two ways:

- installed: an entry point in the ``marl_envs.policies`` group of the package's metadata, e.g.
  in its ``pyproject.toml``::

      [project.entry-points."marl_envs.policies"]
      baselines = "baselines.play:load_policy"

- at run time: ``register_policy_loader("name", loader)`` (what ``python -m baselines.play``
  does before it runs the same command line).

The entry point's module is imported only when its loader is used. With no loader installed,
``load_policy`` raises an error that says what to install.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata
from typing import Any

import torch

GROUP = "marl_envs.policies"
"""The entry-point group that packages register their policy loaders under."""

Policy = Callable[[torch.Tensor], torch.Tensor]
PolicyLoader = Callable[[str, Any], Policy]

_REGISTERED: dict[str, PolicyLoader] = {}


class NoPolicyLoader(RuntimeError):
    """No installed package can load a trained policy (the ``baselines`` trainers are missing)."""


def register_policy_loader(name: str, loader: PolicyLoader) -> None:
    """Offer ``loader`` under ``name`` for this process (it wins over an installed entry point of that name)."""
    if not callable(loader):
        raise TypeError(f"the policy loader {name!r} must be callable, got {type(loader).__name__}")
    _REGISTERED[name] = loader


def _entry_points() -> list[metadata.EntryPoint]:
    return list(metadata.entry_points(group=GROUP))


def policy_loader_names() -> list[str]:
    """The names of every loader available, installed or registered, sorted."""
    return sorted({ep.name for ep in _entry_points()} | set(_REGISTERED))


def _loader(name: str | None) -> PolicyLoader:
    names = policy_loader_names()
    if not names:
        raise NoPolicyLoader(
            "no trained-policy loader is installed, so a checkpoint cannot be read: install the trainers of this "
            "project (`pip install -e '.[train]'` in its checkout: the `baselines` package registers one), or run "
            "`python -m baselines.play` with the same arguments, or register a loader of your own in the "
            f"{GROUP!r} entry-point group (marl_envs.policies explains how)")
    if name is None:
        if len(names) > 1:
            raise ValueError(f"several policy loaders are installed ({names}): choose one with policy_loader=NAME")
        name = names[0]
    if name in _REGISTERED:
        return _REGISTERED[name]
    for entry_point in _entry_points():
        if entry_point.name == name:
            return entry_point.load()
    raise ValueError(f"unknown policy loader {name!r}; installed: {names}")


def load_policy(checkpoint: str, env: Any, loader: str | None = None) -> Policy:
    """The trained policy in ``checkpoint`` acting in ``env`` (a one-world ``BatchedEnv``), read by ``loader``
    (default: the only loader installed)."""
    return _loader(loader)(checkpoint, env)
