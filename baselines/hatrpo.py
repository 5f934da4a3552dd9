"""HATRPO: heterogeneous-agent TRPO, one trust-region step per agent in turn (Kuba et al. 2022; HARL 2024).

The multi-agent advantage decomposition (``happo.py``) turns the joint policy's improvement into a
sequence of single-agent problems. In every update, for a random permutation i_{1:n} of the agents:

    r_i(θ^i)      = π^i_θ(a^i_t | o^i_t) / π^i_old(a^i_t | o^i_t)
    M^{i_m}_t     = Π_{k<m} r_{i_k}(θ^{i_k}_new)                  (``common/sequential.py``)
    L^{i_m}(θ)    = E[ M^{i_m}_t r_{i_m}(θ) Â_t ]
    maximise L^{i_m}(θ)  subject to  KL̄^{i_m}(θ) = E_t[ KL(π^{i_m}_old(·|o_t) ‖ π^{i_m}_θ(·|o_t)) ] ≤ δ
                                                                  (Kuba et al. 2022, eq. 12; HARL alg. 5)
    g = ∇L^{i_m}(θ_old);  F = ∇²KL̄^{i_m}(θ_old), by Fisher-vector products
    d ≈ F⁻¹ g (conjugate gradient);  Δθ_max = √(2δ / dᵀF d) · d
    θ^{i_m} = θ_old + βᵏ Δθ_max for the first k with KL̄^{i_m} ≤ δ and L^{i_m} improved; θ_old if none
    then V_φ ← MAPPO's clipped value loss by Adam epochs, one critic for all agents

Each agent has its own trust region δ (HARL: kl_threshold), measured over its own rows with its masks
(active, acted, learn: MAPPO's); a row outside them leaves its agent's surrogate and KL and counts
r = 1 in M. The step is exactly TRPO's (``natural_gradient.trust_region_step``, the one CG and line search
of the repository), so with one agent HATRPO is TRPO, update for update. Â_t: MAPPO's per-agent GAE on the
centralised critic, standardised per team. ``--ent-coef c`` adds c · E_t[H(π^{i_m}(·|o_t))] to L^{i_m} (OpenAI
Baselines' TRPO: entcoeff), so the line search accepts a step only if surrogate plus bonus improves; the
default 0 is HARL's HATRPO (and TRPO's).

Defaults: HARL's trust region (its default δ 0.01, as TRPO's here; its tuned MPE configs use 0.005), 10 CG
steps, damping 0.1 and 10 tries, with TRPO's acceptance (KL̄ ≤ δ and L improved; HARL backtracks by 0.8 and
also asks for half the predicted improvement, here β 0.5 as OpenAI Baselines); the critic as MAPPO's (5 epochs
of 8 minibatches, 3e-3). ``--learning-rate`` and ``--clip-coef`` only act on the critic (the value clip);
with ``--param-sharing all`` the agents share one actor and still take their turns one after another, each
one trust-region step of δ on its own rows (HARL's share_param), so the shared actor moves A times per
update. Rollouts, logging, checkpoints, resume, presets, evaluation and the Ray backend are MAPPO's
(``mappo.train``).

Papers: https://arxiv.org/abs/2109.11251 (ICLR 2022), https://arxiv.org/abs/2304.09870 (HARL, JMLR 2024);
reference: github.com/PKU-MARL/HARL.
Usage: ``python -m baselines.hatrpo --env-id spread_v0`` (per-env presets: ``common/presets.py``).
Logged: MAPPO's charts; losses/{policy_loss, value_loss, entropy, explained_variance, kl, line_search_success,
step_fraction} (means over the agents' steps; step_fraction: the accepted β^k of the full step, 0 if rejected, so
a low mean says the line search often backtracks).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.distributions import kl_divergence

from baselines import happo, mappo
from baselines.common.natural_gradient import TrustRegionArgs, kl_from_frozen, subsampled_kl, trust_region_step
from baselines.common.ppo import masked_mean
from baselines.common.run import Run
from baselines.common.sequential import (
    AgentOrder,
    SequentialBatch,
    critic_optimizers,
    ordered,
    rows_of,
    sequential_update,
)


@dataclass
class Args(happo.Args, TrustRegionArgs):
    target_kl: float = 0.01
    """trust region δ of every agent: bound on the mean KL(π_old ‖ π) of its step (HARL's kl_threshold)"""
    line_search_shrinking_factor: float = 0.5
    """backtracking factor β: candidate k is θ_old + βᵏ Δθ_max (OpenAI Baselines: 0.5; HARL: 0.8)"""
    ent_coef: float = 0.0
    """entropy bonus c in each agent's surrogate, L + c·H (OpenAI Baselines' TRPO entcoeff; 0: HARL's HATRPO)"""


class AgentSurrogate:
    """(L(θ), KL̄(θ)) of one agent's turn on its rows, against its policy frozen at construction
    (cf. ``trpo.Surrogate``)."""

    def __init__(self, actor, mb: dict[str, torch.Tensor], factor: torch.Tensor, ent_coef: float = 0.0):
        self.actor, self.mb, self.factor, self.ent_coef = actor, mb, factor, ent_coef
        with torch.no_grad():
            self.old = actor.distribution(mb["actor_in"])

    def __call__(self) -> tuple[torch.Tensor, torch.Tensor]:
        mb, mask = self.mb, self.mb["policy_mask"]
        dist = self.actor.distribution(mb["actor_in"])
        ratio = (dist.log_prob(mb["actions"]) - mb["logprobs"]).exp()
        objective = masked_mean(ratio * mb["adv"] * self.factor, mask)
        if self.ent_coef:
            objective = objective + self.ent_coef * masked_mean(dist.entropy(), mask)
        return objective, masked_mean(kl_divergence(self.old, dist), mask)

    def fisher_kl(self, every: int) -> torch.Tensor:
        """KL̄(θ) over the policy mask of every ``every``-th row, built at θ_old (cf. ``trpo.Surrogate.fisher_kl``)."""
        return masked_mean(kl_from_frozen(self.actor, self.mb["actor_in"][::every]), self.mb["policy_mask"][::every])

    def entropy(self) -> float:
        return float(masked_mean(self.old.entropy(), self.mb["policy_mask"]))


def trust_region_turn(i: int, seq: SequentialBatch, critic_optimizers=None) -> None:
    """Agent i's turn: one natural-gradient step inside its trust region, on all its rows (module docstring). The
    step is not minibatched, so the critics learn afterwards (``critic_optimizers`` is not used)."""
    args, actor = seq.args, seq.actor(i)
    rows = rows_of(seq.all_positions, seq.turns[i], seq.num_agents)
    surrogate = AgentSurrogate(actor, seq.take(rows), seq.factor.of_rows(rows), args.ent_coef)
    result = trust_region_step(surrogate, list(actor.parameters()), args.target_kl, args.cg_damping,
                               args.cg_max_steps, args.cg_residual_tol, args.line_search_shrinking_factor,
                               args.line_search_max_iter, subsampled_kl(surrogate, args.fisher_every), args.step_length)
    seq.log["policy_loss"].append(-result.objective)
    seq.log["entropy"].append(surrogate.entropy())
    seq.log["kl"].append(result.kl)
    seq.log["line_search_success"].append(float(result.success))
    seq.log["step_fraction"].append(result.fraction)


def update(policy, optimizers, batch: dict[str, torch.Tensor], args, order: AgentOrder) -> dict[str, float]:
    """One HATRPO update: every actor's trust-region step in ``order``'s next permutation, then the critic."""
    metrics = sequential_update(policy, optimizers, batch, args, order, trust_region_turn)
    return {k: v for k, v in metrics.items() if k not in ("approx_kl", "clipfrac")}


def optimizers(policy, args) -> tuple[torch.optim.Optimizer, ...]:
    """Only the critics have optimisers: the actors move by natural-gradient steps."""
    return tuple(critic_optimizers(policy, args))


def train(args: Args, algo: str = "hatrpo") -> Run:
    return mappo.train(args, algo, optimizers, ordered(update))


def main(argv: list[str] | None = None) -> None:
    from baselines.common.presets import parse_cli

    train(parse_cli(Args, "hatrpo", __doc__.split("\n\n")[0], argv))


if __name__ == "__main__":
    main()
