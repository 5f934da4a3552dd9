"""Generalised advantage estimation: the only advantage code in the repository.

TD(λ) in its GAE form (Schulman et al. 2016, eq. 16), written so that time limits are
handled correctly (SB3's timeout bootstrap; Pardo et al. 2018):

    δ_t = r_t + γ (1 - terminated_t) V(s'_t) - V(s_t)
    A_t = δ_t + γ λ (1 - ended_t) A_{t+1}
    R_t = A_t + V(s_t)          (the critic's regression target, the λ-return)

``s'_t`` is the state reached by step t *before any reset*: the next state inside an
episode, the final state at its end (``info["final_obs"]`` / ``["final_state"]``).
A truncated episode (time limit) still bootstraps from V(s'_t); only a true termination
cuts the value. ``ended_t = terminated_t | truncated_t`` stops the advantage from
flowing across episodes. Cooperative navigation only ever ends by truncation, so
treating truncation as termination (CleanRL's shortcut) would bias every value.

Unless the time limit is part of the task: when the critic's input shows the time left
(``env.time_limit_observed``, hide-and-seek's state ends with the fraction of the episode
left), the state at the limit really is terminal, V(s'_T) should be 0, and bootstrapping
from it would add the value of a game that is over. ``truncation_is_terminal=True`` then
cuts at every episode end (``resolve_time_limit`` picks the mode from the env).
"""

from __future__ import annotations

import torch

TIME_LIMITS = ("auto", "terminal", "bootstrap")


def resolve_time_limit(mode: str, env) -> bool:
    """True when truncations should be treated as terminal.

    ``auto`` follows the env's ``time_limit_observed`` (our envs say whether ``state()`` shows the time
    left); envs without the attribute (external PettingZoo, Gymnasium) keep the bootstrap.
    """
    if mode not in TIME_LIMITS:
        raise ValueError(f"--time-limit must be one of {TIME_LIMITS}, got {mode!r}")
    if mode == "auto":
        return bool(getattr(env, "time_limit_observed", False))
    return mode == "terminal"


def compute_gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    next_values: torch.Tensor,
    terminated: torch.Tensor,
    ended: torch.Tensor,
    gamma: float,
    gae_lambda: float,
    truncation_is_terminal: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Advantages and λ-returns for a time-major rollout.

    Args:
        rewards: (T, ...) r_t.
        values: (T, ...) V(s_t).
        next_values: (T, ...) V(s'_t), the value of the state reached by step t before any
            reset (for the last step, the value of the state the next rollout starts from
            if the episode goes on).
        terminated: (T, ...) bool, true where s'_t is terminal (no bootstrap).
        ended: (T, ...) bool, true where the episode ended at step t (terminated or truncated).
        gamma: discount γ.
        gae_lambda: λ.
        truncation_is_terminal: cut the bootstrap at every episode end, truncations included (the
            time limit is observed: see the module docstring).

    Returns:
        advantages (T, ...) and returns (T, ...) = advantages + values.
    """
    if not (rewards.shape == values.shape == next_values.shape == terminated.shape == ended.shape):
        raise ValueError(
            "compute_gae inputs must share one shape, got rewards "
            f"{tuple(rewards.shape)}, values {tuple(values.shape)}, next_values {tuple(next_values.shape)}, "
            f"terminated {tuple(terminated.shape)}, ended {tuple(ended.shape)}"
        )
    not_terminal = 1.0 - (ended if truncation_is_terminal else terminated).float()
    goes_on = 1.0 - ended.float()
    deltas = rewards + gamma * not_terminal * next_values - values
    advantages = torch.zeros_like(values)
    running = torch.zeros_like(values[0])
    for t in reversed(range(rewards.shape[0])):
        running = deltas[t] + gamma * gae_lambda * goes_on[t] * running
        advantages[t] = running
    return advantages, advantages + values
