"""NPG and truncated NPG: natural policy gradient with a normalised step (Kakade 2001; Peters & Schaal 2008).

    g       = ∇_θ E[ r_t(θ) A_t ] at θ_old  (= E[∇log π(a_t|s_t) A_t], the policy gradient)
    F       = E_s E_{a~π}[ ∇log π ∇log πᵀ ]           Fisher matrix = ∇²KL̄ at θ_old (natural_gradient.py)
    d_F     = F⁻¹ g                                  the natural gradient
    θ       = θ_old + α / √(gᵀF⁻¹g) · d_F            normalised step (Peters & Schaal 2008; Rajeswaran
                                                     et al. 2017): the step's Fisher norm is α, so the
                                                     policy moves by KL ≈ α²/2 whatever the scale of g

Two ways to get d_F (``--variant``):

- ``truncated`` (default; Duan et al. 2016, "Benchmarking Deep RL for Continuous Control"):
  ``--cg-max-steps`` conjugate-gradient iterations on (F + λI) d = g using Fisher-vector
  products only, as TRPO does.
- ``exact``: build F + λI explicitly from the score covariance (``exact_fisher``) and solve it
  with ``torch.linalg.solve``. P² memory and one backward pass per (state, action factor):
  the teaching reference for tiny policies and the oracle the truncated variant is tested
  against, not a way to train a 64×64 network.

Unlike TRPO there is no line search: the step is taken as is. With α = √(2δ) the first
candidate of TRPO's line search is exactly this step (dᵀFd = gᵀF⁻¹g when d = F⁻¹g).
Everything else (rollouts, GAE, critic regression, run directory) is ``trpo.py``'s.

Papers: Kakade 2001 "A Natural Policy Gradient"; Peters & Schaal 2008 "Natural Actor-Critic";
Duan et al. 2016, https://arxiv.org/abs/1604.06778.
Usage: ``python -m baselines.npg --env-id CartPole-v1 [--variant exact]``.
Logged: as TRPO's, with npg/{step_size, kl} instead of trpo/{kl, line_search_success}.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from baselines import trpo
from baselines.common.natural_gradient import exact_fisher, flat_grad, flat_params, set_flat_params
from baselines.common.run import Run


@dataclass
class Args(trpo.Args):
    variant: Literal["truncated", "exact"] = "truncated"
    """truncated: d ≈ F⁻¹g by conjugate gradient; exact: explicit F from the score covariance, solved directly
    (tiny policies only)"""
    learning_rate: float = 0.1
    """α, the Fisher norm of each step: θ += α / √(gᵀF⁻¹g) · F⁻¹g (KL per step ≈ α²/2)"""
    anneal_lr: bool = True
    """decay α (and the critic's learning rate) linearly to 0: without a line search, the last steps of a
    constant α keep shaking a converged policy"""

    def __post_init__(self):
        if self.variant not in ("truncated", "exact"):
            raise ValueError(f"variant must be 'truncated' or 'exact', got {self.variant!r}")


def natural_gradient(surrogate: trpo.Surrogate, params: list, args: Args):
    """(L(θ_old), g, d ≈ (F + λI)⁻¹g) by the chosen variant."""
    if args.variant == "truncated":
        objective, g, _, direction = trpo.natural_direction(surrogate, params, args)
        return objective, g, direction
    objective, _ = surrogate()
    g = flat_grad(objective, params)
    fisher = exact_fisher(surrogate.actor.distribution(surrogate.batch["actor_in"]), params)
    damped = fisher + args.cg_damping * torch.eye(g.shape[0], dtype=g.dtype, device=g.device)
    return objective.detach(), g, torch.linalg.solve(damped, g)


def update(agent: trpo.Policy, optimizers: tuple[torch.optim.Optimizer], batch: dict[str, torch.Tensor],
           args: Args) -> tuple[dict[str, float], dict[str, float]]:
    """One natural-gradient step with the normalised step size, then the critic's regression.

    Returns (losses, npg metrics): ``{policy_loss, value_loss, entropy, explained_variance}``,
    ``{step_size, kl}`` with step_size = α / √(gᵀF⁻¹g) and kl the mean KL(π_old ‖ π) it caused.
    """
    params = list(agent.actor.parameters())
    surrogate = trpo.Surrogate(agent.actor, batch, trpo.standardized_advantages(batch, args))
    _, g, direction = natural_gradient(surrogate, params, args)
    step_size = args.learning_rate / torch.sqrt((g @ direction).clamp(min=1e-12))
    set_flat_params(params, flat_params(params) + step_size * direction)
    with torch.no_grad():
        objective, kl = surrogate()
    value_loss = trpo.fit_critic(agent.critic, optimizers[0], batch["critic_in"], batch["returns"],
                                 args.n_critic_updates, args.critic_batch_size)
    losses = {"policy_loss": -float(objective), "value_loss": value_loss, "entropy": surrogate.entropy(),
              "explained_variance": trpo.explained_variance(batch["values"], batch["returns"])}
    return losses, {"step_size": float(step_size), "kl": float(kl)}


def train(args: Args) -> Run:
    if args.step_length != "damped":
        raise ValueError("--step-length sets the length of TRPO's and HATRPO's trust-region step; NPG's step is "
                         "α / √(gᵀF⁻¹g) (--learning-rate α)")
    return trpo.train(args, algo="npg", update_fn=update)


def main(argv: list[str] | None = None) -> None:
    from baselines.common.presets import parse_cli

    train(parse_cli(Args, "npg", __doc__.split("\n\n")[0], argv))


if __name__ == "__main__":
    main()
