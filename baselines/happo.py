"""HAPPO: heterogeneous-agent PPO, agents updated one after another (Kuba et al. 2022, ICLR; HARL, JMLR 2024).

Multi-agent advantage decomposition (Kuba et al. 2022, lemma 1): for any ordered subset i_{1:m} of agents,
    A^{i_{1:m}}(s, a^{i_{1:m}}) = Σ_{k=1..m} A^{i_k}(s, a^{i_{1:k-1}}, a^{i_k})
so the joint policy improves if each agent in turn improves its own term given the new policies of the
agents before it. The resulting sequential scheme, in every update:

    i_{1:n}     = a random permutation of the agents (seeded; ``common/sequential.py``)
    r_i(θ^i)    = π^i_θ(a^i_t | o^i_t) / π^i_old(a^i_t | o^i_t)
    M^{i_m}_t   = Π_{k<m} r_{i_k}(θ^{i_k}_new)            the ratios of the agents already updated (detached)
    L^{i_m}(θ)  = E[ M^{i_m}_t · min( r_{i_m}(θ) Â_t, clip(r_{i_m}(θ), 1 ± ε) Â_t ) ]     (HAPPO, Kuba et al.
                  2022 eq. 11; HARL sec. 5.2: M outside the min, as in their code)
    θ^{i_m}     ← Adam epochs of minibatches on -L^{i_m} - c_ent H[π^{i_m}], agent i_m's rows only
    then V_φ    ← MAPPO's clipped value loss (Huber, value normalisation), one critic for all agents

Â_t: GAE(γ, λ) of MAPPO's centralised critic V_φ(s, o_i, i) (``gae.py``, HARL's "FP" state), per agent,
standardised per team. The masks of MAPPO's update (active, acted, learn) hold per agent: outside them an
agent's row leaves its loss and counts r = 1 in M. Each agent has its own actor (``--param-sharing agent``,
the default: the point of the method, HARL's default for heterogeneous tasks); with ``--param-sharing all``
(``team``) the agents share one actor (per team) and still take their turns one after another, each turn
epochs of minibatches of its own rows on the shared actor with one Adam (HARL's share_param), so the
shared actor takes A turns per update. With one agent HAPPO is PPO, update for update.

Everything else (rollouts, run directory, logging, checkpoints, resume, presets, evaluation, the Ray
backend) is MAPPO's loop (``mappo.train``); the factor, the order and the critic phase are shared with
HATRPO in ``common/sequential.py``, the clipped surrogate with MAPPO in ``common/ppo.py``.

Papers: https://arxiv.org/abs/2109.11251 (ICLR 2022), https://arxiv.org/abs/2304.09870 (HARL, JMLR 2024);
reference: github.com/PKU-MARL/HARL.
Usage: ``python -m baselines.happo --env-id spread_v0`` (per-env presets: ``common/presets.py``).
Logged: MAPPO's charts and losses (policy_loss, entropy, approx_kl and clipfrac averaged over agents).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from baselines import mappo
from baselines.common.ppo import policy_loss
from baselines.common.run import Run
from baselines.common.sequential import (
    AgentOrder,
    SequentialBatch,
    by_role,
    critic_optimizers,
    ordered,
    role_adam,
    rows_of,
    sequential_update,
)


@dataclass
class Args(mappo.Args):
    param_sharing: str = "agent"
    """agent: one actor per agent, one critic (HAPPO); all: one actor for every agent, which the agents update
    in turn (HARL's share_param); team: one actor and one critic per team, likewise"""


def optimizers(policy, args) -> tuple[torch.optim.Optimizer, ...]:
    """One Adam per actor, then one per critic (roles named for ``ppo.set_learning_rates``)."""
    return tuple([role_adam(actor.parameters(), args.learning_rate, "actor") for actor in policy.actors]
                 + critic_optimizers(policy, args))


def clipped_step(actor_optimizers: list[torch.optim.Optimizer]):
    """An agent's turn: PPO epochs on its rows with the advantages weighted by M (module docstring)."""

    def step(agent: int, seq: SequentialBatch, critic_optimizers: list[torch.optim.Optimizer] | None) -> None:
        args, g = seq.args, seq.actor_of[agent]
        actor, members = seq.actor(agent), seq.turns[agent]
        for epoch, minibatches in enumerate(seq.epochs):
            for i, idx in enumerate(minibatches):
                rows = rows_of(idx, members, seq.num_agents)
                mb = seq.take(rows, scratch=True)  # its backward pass is done before the next minibatch is taken
                pg_loss, entropy = policy_loss(actor, mb, args, seq.log, seq.factor.of_rows(rows))
                loss = pg_loss - args.ent_coef * entropy
                critic_loss = None if critic_optimizers is None else seq.critic_loss(epoch, i)
                actor_optimizers[g].zero_grad()
                for opt in critic_optimizers if critic_loss is not None else ():
                    opt.zero_grad()
                (loss if critic_loss is None else loss + critic_loss).backward()  # separate parameters
                nn.utils.clip_grad_norm_(actor.parameters(), args.max_grad_norm)
                actor_optimizers[g].step()
                if critic_loss is not None:
                    seq.critic_step(epoch, i, critic_optimizers)
            if args.target_kl is not None and seq.log["approx_kl"][-1] > args.target_kl:
                break

    return step


def update(policy, optimizers, batch: dict[str, torch.Tensor], args, order: AgentOrder) -> dict[str, float]:
    """One HAPPO update of every actor, in ``order``'s next permutation, then the critic."""
    return sequential_update(policy, optimizers, batch, args, order, clipped_step(by_role(optimizers, "actor")))


def train(args: Args, algo: str = "happo") -> Run:
    return mappo.train(args, algo, optimizers, ordered(update))


def main(argv: list[str] | None = None) -> None:
    from baselines.common.presets import parse_cli

    train(parse_cli(Args, "happo", __doc__.split("\n\n")[0], argv))


if __name__ == "__main__":
    main()
