"""Input validation with Gymnasium-checker-style messages: expected, received, likely cause.

Validation happens before anything changes, so a rejected call leaves the env exactly
as it was (it can keep stepping). Each check is a few whole-tensor ops; on CUDA they
synchronise, so the batched env can switch them off (``check_inputs=False``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from marl_envs.scenarios.specs import ActionSpec


def _where(bad: torch.Tensor, agents: Sequence[str]) -> str:
    """Describe the first offending (world, agent) of a (B, A, ...) boolean mask."""
    idx = bad.nonzero()[0].tolist()
    where = f"world {idx[0]}, agent {agents[idx[1]]!r}"
    if len(idx) > 2:
        where += f", component {idx[2:]}"
    return where


def validate_actions(actions: object, spec: ActionSpec, num_envs: int, agents: Sequence[str],
                     device: torch.device) -> torch.Tensor:
    """Return ``actions`` as a tensor on ``device`` ready for the scenario, or raise.

    Discrete: (B, A) integers in [0, n). Multi-discrete: (B, A, k) integers with component
    d in [0, nvec[d]). Continuous: (B, A, *shape) finite floats, clipped to [low, high].

    Raises:
        TypeError: not a tensor/array, or wrong dtype (float for a discrete space, ...).
        ValueError: wrong shape, out-of-range discrete value, NaN or inf.
    """
    if not isinstance(actions, torch.Tensor):
        try:
            actions = torch.as_tensor(actions)
        except (TypeError, ValueError, RuntimeError) as err:
            raise TypeError(f"actions must be a torch.Tensor or array-like, got {type(actions).__name__}") from err
    expected = (num_envs, len(agents), *spec.batch_shape_suffix)
    if tuple(actions.shape) != expected:
        layout = "(num_envs, num_agents)" if spec.kind == "discrete" else "(num_envs, num_agents, k)"
        raise ValueError(
            f"actions have shape {tuple(actions.shape)}, expected {expected} {layout} for a "
            f"{spec.kind} action space with agents {list(agents)}"
        )
    if actions.device != device:
        actions = actions.to(device)
    if spec.kind == "continuous":
        if not actions.is_floating_point():
            raise TypeError(f"continuous actions must be floating point, got dtype {actions.dtype}")
        finite = torch.isfinite(actions)
        if not bool(finite.all()):
            raise ValueError(f"action is NaN or infinite at {_where(~finite, agents)}")
        return actions.to(torch.float32).clamp(spec.low, spec.high)
    if actions.dtype == torch.bool or actions.is_floating_point() or actions.is_complex():
        raise TypeError(
            f"{spec.kind} actions must be integers, got dtype {actions.dtype} "
            "(sample from the action space or cast with .long())"
        )
    high = spec.n if spec.kind == "discrete" else torch.as_tensor(spec.nvec, device=device)
    bad = (actions < 0) | (actions >= high)
    if bool(bad.any()):
        value = actions[tuple(bad.nonzero()[0].tolist())].item()
        valid = f"[0, {spec.n})" if spec.kind == "discrete" else f"[0, nvec) with nvec={list(spec.nvec)}"
        raise ValueError(f"action {value} is out of range {valid} at {_where(bad, agents)}")
    return actions.long()
