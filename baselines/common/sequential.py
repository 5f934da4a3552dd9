"""The sequential update shared by HAPPO and HATRPO (Kuba et al. 2022, ICLR; HARL, JMLR 2024).

Rows of a flattened rollout are positions p = (t, b) times agents i (row = p·A + i). Each update:

    i_1, ..., i_n  a random order of the agents, drawn from a generator seeded by --seed and saved in checkpoints;
                   agent i's turn trains the actor of its parameter group (``MultiAgentPolicy.groups``): its own in
                   the "agent" layout; in the "all" and "team" layouts the agents take their turns one after
                   another on the actor they share, each on its own rows (HARL's share_param)
    M_{i_m}(p)  = Π_{j updated before i_m, team(j) = team(i_m)} r_j(p),
                  r_j(p) = π_j^new(a_j | o_j) / π_j^old(a_j | o_j)        (HAPPO/HATRPO's compounding factor)
    agent i_m   maximises its surrogate with advantages A_i(p) weighted by M_{i_m}(p), in its own trust region
                (``happo.py``: clipped ratio; ``hatrpo.py``: natural-gradient step), then folds its new
                ratios (its actor's, right after its turn) into M for the agents after it
    critic      MAPPO's clipped value loss by Adam epochs (``ppo.value_loss``) over the same minibatches; it
                reads nothing the actors change, so where the first agent's turn is minibatched (HAPPO) each
                critic minibatch shares that turn's backward pass (the same steps in the same order as
                fitting it after every actor, at one autograd pass per minibatch less)

Masks are per agent (``ppo.loss_masks``): a row outside agent j's policy mask (j inactive, its action
without effect, or its team frozen) contributes r_j = 1 to M (the action was not drawn from π_j, so it
says nothing about π_j's change), and leaves agent j's own loss. The factor compounds within a team
only: the monotonic-improvement argument is about one team's joint policy, and an opponent's ratio
says nothing about it. With a shared actor the later turns also move the policies of the agents before them,
which M does not see: the improvement argument holds for separate actors, and sharing is an option for
agents that are alike (HARL's share_param), where it gives every turn's steps to one network that all agents
use. With one agent, HAPPO is PPO's update and HATRPO TRPO's.

Advantages are per agent, from MAPPO's critic on the agent-specific state (HARL's "FP" state), standardised
per team over the policy mask as in ``ppo.prepare``, which also packs the rows and updates the value
normalisers. Minibatches are cut over positions, so an agent's and the critic's minibatches hold the same
(t, b) samples; with one agent they are MAPPO's minibatches, permutation for permutation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import torch
from torch import nn

from baselines.common.buffer import minibatch_indices
from baselines.common.ppo import DIAGNOSTICS, explained_variance, prepare, value_loss

ORDER_SEED_OFFSET = 2
"""The agent order's generator is seeded with --seed + 2 (+1 is the opponent pool's)."""


class AgentOrder:
    """A seeded stream of agent orders: one random permutation of the agents per update (checkpointed)."""

    def __init__(self, seed: int):
        self.generator = torch.Generator().manual_seed(seed)

    def draw(self, num_agents: int) -> list[int]:
        return torch.randperm(num_agents, generator=self.generator).tolist()

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])


class CompoundingFactor:
    """M(p) per team over P positions, kept as Σ log r_j of the agents updated so far (detached)."""

    def __init__(self, num_positions: int, team_of: torch.Tensor):
        self.team_of, self.num_agents = team_of, team_of.shape[0]
        self.log_factor = torch.zeros(num_positions, int(team_of.max()) + 1, device=team_of.device)

    def of_rows(self, rows: torch.Tensor) -> torch.Tensor:
        """M of each row's position, in its agent's team: (len(rows),)."""
        return self.log_factor[rows // self.num_agents, self.team_of[rows % self.num_agents]].exp()

    def fold(self, rows: torch.Tensor, log_ratio: torch.Tensor, policy_mask: torch.Tensor) -> None:
        """Multiply the ratios r = exp(log_ratio) of an updated agent's ``rows`` into M (r = 1 outside the mask)."""
        log_ratio = torch.where(policy_mask, log_ratio.detach(), torch.zeros_like(log_ratio))
        self.log_factor.index_put_((rows // self.num_agents, self.team_of[rows % self.num_agents]), log_ratio,
                                   accumulate=True)


def rows_of(positions: torch.Tensor, agents: list[int], num_agents: int) -> torch.Tensor:
    """Flat row indices of ``agents`` at ``positions``, position-major: (len(positions) * len(agents),)."""
    members = torch.tensor(agents, device=positions.device)
    return (positions[:, None] * num_agents + members[None, :]).reshape(-1)


ACTOR_FIELDS = ("actor_in", "actions", "logprobs", "adv", "policy_mask")
CRITIC_FIELDS = ("critic_in", "raw_values", "targets", "value_mask")


class SequentialBatch:
    """One update's packed rows, the minibatch positions of every epoch, the compounding factor, and the critic's
    progress through its minibatches."""

    def __init__(self, policy, batch: dict[str, torch.Tensor], args):
        self.policy, self.args = policy, args
        rows, _ = prepare(policy, batch, args)
        # The actors' and the critic's fields packed apart, so that each minibatch gathers only what it reads.
        self.actor_rows, self.critic_rows = rows.select(ACTOR_FIELDS), rows.select(CRITIC_FIELDS)
        self.num_agents = policy.num_agents
        num_rows = rows.data.shape[0]
        self.num_positions = num_rows // self.num_agents
        device = rows.data.device
        # Every epoch's minibatches drawn up front: the same positions for every actor and for the critic.
        self.epochs = [list(minibatch_indices(self.num_positions, args.num_minibatches, None, device))
                       for _ in range(args.update_epochs)]
        self.factor = CompoundingFactor(self.num_positions, policy.team_of)
        self.all_positions = torch.arange(self.num_positions, device=device)
        agent = batch["agent"]
        # One turn per agent, on the actor of its parameter group (module docstring).
        self.turns = [[i] for i in range(self.num_agents)]
        self.actor_of: list[int] = policy.group_of.tolist()
        self.learning = _with_samples(self.turns, rows.column("policy_mask"), agent)
        self.critics_learning = _with_samples(policy.critic_groups, rows.column("value_mask"), agent)
        self.critic_done: set[tuple[int, int]] = set()  # (epoch, minibatch) the critics have been stepped on
        self.log: dict[str, list[float]] = defaultdict(list)

    def take(self, rows: torch.Tensor, scratch: bool = False) -> dict[str, torch.Tensor]:
        """The actor fields of ``rows`` (``scratch``: into the buffer the next scratch take overwrites, see
        ``PackedRows.take``)."""
        return self.actor_rows.take(rows, scratch)

    def critic_loss(self, epoch: int, i: int) -> torch.Tensor | None:
        """The critics' loss on minibatch i of ``epoch`` (None if it was stepped on already, or nothing learns);
        zero the critics' gradients before its backward pass."""
        if (epoch, i) in self.critic_done or not self.critics_learning:
            return None
        policy, idx = self.policy, self.epochs[epoch][i]
        return sum(self.args.vf_coef * value_loss(policy.critics[c], self.critic_rows.take(
            rows_of(idx, policy.critic_groups[c], self.num_agents)), self.args, self.log)
            for c in self.critics_learning)

    def critic_step(self, epoch: int, i: int, optimizers: list[torch.optim.Optimizer]) -> None:
        """After the backward pass of ``critic_loss(epoch, i)``: clip each critic's gradient and step it."""
        for c in self.critics_learning:
            nn.utils.clip_grad_norm_(self.policy.critics[c].parameters(), self.args.max_grad_norm)
            optimizers[c].step()
        self.critic_done.add((epoch, i))

    def actor(self, i: int) -> nn.Module:
        """The actor that agent i's turn trains."""
        return self.policy.actors[self.actor_of[i]]

    def fold(self, i: int) -> None:
        """After agent i's turn: its actor's new log-ratios on every row of agent i enter M."""
        rows = rows_of(self.all_positions, self.turns[i], self.num_agents)
        mb = self.take(rows)
        with torch.no_grad():
            log_ratio = self.actor(i).distribution(mb["actor_in"]).log_prob(mb["actions"]) - mb["logprobs"]
        self.factor.fold(rows, log_ratio, mb["policy_mask"])


def _with_samples(groups: list[list[int]], mask: torch.Tensor, agent: torch.Tensor) -> list[int]:
    """The groups (of agent indices) with at least one row in ``mask``: those that learn in this update."""
    return [g for g, members in enumerate(groups)
            if bool((mask & torch.isin(agent, torch.tensor(members, device=agent.device))).any())]


ActorStep = Callable[[int, SequentialBatch, list[torch.optim.Optimizer] | None], None]
"""``step(i, seq, critic_optimizers)``: agent i's turn on ``seq.actor(i)``; a minibatched step given the critics'
optimisers adds ``seq.critic_loss`` to each of its minibatches' losses and calls ``seq.critic_step`` after the
backward pass."""


def ordered(update: Callable) -> Callable:
    """``mappo.train``'s ``make_update`` for ``update(policy, optimizers, batch, args, order)``: the run's agent
    order is registered with the run, so every checkpoint saves it and a resumed run draws the same orders."""
    def make_update(run):
        order = run.register("agent_order", AgentOrder(run.args.seed + ORDER_SEED_OFFSET))
        return lambda policy, opts, batch, args: update(policy, opts, batch, args, order)
    return make_update


def role_adam(params, lr: float, role: str) -> torch.optim.Optimizer:
    """Adam (eps 1e-5, fused, as MAPPO's) whose parameter group names its ``role`` (``ppo.set_learning_rates``)."""
    return torch.optim.Adam([{"params": list(params), "role": role}], lr=lr, eps=1e-5, fused=True)


def critic_optimizers(policy, args) -> list[torch.optim.Optimizer]:
    return [role_adam(critic.parameters(), args.critic_learning_rate, "critic") for critic in policy.critics]


def by_role(optimizers, role: str) -> list[torch.optim.Optimizer]:
    return [opt for opt in optimizers if opt.param_groups[0]["role"] == role]


def fit_critics(seq: SequentialBatch, optimizers: list[torch.optim.Optimizer]) -> None:
    """MAPPO's value regression over the epochs' minibatches not yet stepped on, in order; one Adam and one
    gradient clip per critic."""
    for epoch, minibatches in enumerate(seq.epochs):
        for i in range(len(minibatches)):
            loss = seq.critic_loss(epoch, i)
            if loss is not None:
                for opt in optimizers:
                    opt.zero_grad()
                loss.backward()
                seq.critic_step(epoch, i, optimizers)


def sequential_update(policy, optimizers, batch: dict[str, torch.Tensor], args, order: AgentOrder,
                      actor_step: ActorStep) -> dict[str, float]:
    """One HAPPO/HATRPO update: ``actor_step`` for each learning agent i in a random order, each folding its
    ratios into M for the next; the critics learn in the first turn's passes where it takes them, and on
    whatever minibatches are left afterwards. Returns the means of the logged diagnostics."""
    seq = SequentialBatch(policy, batch, args)
    critic_opts = by_role(optimizers, "critic")
    first = True
    for i in order.draw(policy.num_agents):  # drawn whole, so the stream does not depend on who learns
        if i in seq.learning:
            actor_step(i, seq, critic_opts if first else None)
            seq.fold(i)
            first = False
    fit_critics(seq, critic_opts)
    keys = [*DIAGNOSTICS, *seq.log]
    means = {k: (sum(seq.log[k]) / len(seq.log[k]) if seq.log.get(k) else float("nan")) for k in dict.fromkeys(keys)}
    return means | {"explained_variance": explained_variance(batch)}


__all__ = ["ORDER_SEED_OFFSET", "AgentOrder", "CompoundingFactor", "SequentialBatch", "by_role", "critic_optimizers",
           "fit_critics", "ordered", "role_adam", "rows_of", "sequential_update"]
