"""MAPPO: PPO with a parameter-shared actor and a centralised critic (Yu et al. 2022).

    ratio_t(θ)  = π_θ(a_t | o_t) / π_old(a_t | o_t)
    L_clip(θ)   = E[ min(ratio_t A_t, clip(ratio_t, 1 - ε, 1 + ε) A_t) ]          (PPO eq. 7)
    A_t         = GAE(γ, λ) over δ_t = r_t + γ (1 - term_t) V(s'_t) - V(s_t)   (GAE eq. 16; gae.py)
    V_φ(s, i)   : one critic shared by all agents, on the agent-specific global state
                  [env.state(), o_i, onehot(i)]  (MAPPO sec. 4.2 "agent-specific global state")
    L_V(φ)      = E[ max( ℓ(R̂_t - V_φ), ℓ(R̂_t - clip(V_φ, V_old ± ε)) ) ]       (clipped value loss)
                  with R̂ the λ-return standardised by running statistics (value normalisation)
                  and ℓ the Huber loss (δ = 10), as in MAPPO's reference code
    loss        = -L_clip - c_ent H[π] + c_V L_V, averaged over active agents only (death masks)

Deviations from the paper's MPE settings, all one flag away: MLP instead of recurrent
policies (spread is fully observed); no input LayerNorm; 256 worlds, 5 epochs of 8
minibatches and a learning rate of 3e-3 (paper: 128 worlds, 10 epochs of 1 minibatch,
7e-4). On spread_v0 these reach the paper's final returns within 2M steps at twice the
throughput (README, "Baselines"). On spread (25-step episodes) pass ``--gamma 0.95``: a
20-step effective horizon makes the critic's job easier than the default 100 steps.
One Adam per network with separate gradient clipping, as the reference code.
``ippo.py`` is this file with the critic on the local observation instead of the state.

Paper: https://arxiv.org/abs/2103.01955 ; reference: github.com/marlbenchmark/on-policy.
Usage: ``python -m baselines.mappo --env-id spread_v0 --gamma 0.95 --total-timesteps 2000000``
Logged: charts/{episodic_return, episodic_length, SPS, learning_rate};
losses/{policy_loss, value_loss, entropy, approx_kl, clipfrac, explained_variance}.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from baselines.common.buffer import PackedRows, flatten_rows, minibatch_indices
from baselines.common.config import CommonArgs
from baselines.common.gae import compute_gae
from baselines.common.networks import Actor, Critic
from baselines.common.normalization import ValueNormalizer
from baselines.common.rollout import EpisodeStats, agent_teams
from baselines.common.run import Run, start_run


@dataclass
class Args(CommonArgs):
    learning_rate: float = 3e-3
    """actor learning rate (Adam)"""
    critic_learning_rate: float = 3e-3
    """critic learning rate (Adam)"""
    anneal_lr: bool = True
    """decay both learning rates linearly to 0 over the run"""
    num_steps: int = 25
    """steps per world in each rollout (batch = num_envs * num_steps * num_agents samples)"""
    gamma: float = 0.99
    """discount factor γ"""
    gae_lambda: float = 0.95
    """GAE λ"""
    num_minibatches: int = 8
    """minibatches per epoch"""
    update_epochs: int = 5
    """passes over each rollout"""
    clip_coef: float = 0.2
    """PPO ratio clip ε (also the value clip)"""
    clip_vloss: bool = True
    """clip the value loss around the old values"""
    ent_coef: float = 0.01
    """entropy bonus coefficient"""
    vf_coef: float = 1.0
    """value loss coefficient"""
    max_grad_norm: float = 10.0
    """gradient norm clip, per network"""
    target_kl: float | None = None
    """stop the epochs of an update early once the approximate KL exceeds this"""
    norm_adv: bool = True
    """standardise advantages over the batch (active agents only)"""
    value_norm: bool = True
    """regress the critic onto running-standardised returns (MAPPO's ValueNorm)"""
    huber_delta: float = 10.0
    """Huber loss δ for the value loss; 0 for the squared error"""
    hidden_size: int = 64
    """width of the two hidden layers of actor and critic"""
    activation: str = "relu"
    """hidden activation: relu (MAPPO) or tanh (CleanRL)"""
    feature_norm: bool = False
    """LayerNorm on the network inputs (MAPPO's feature normalisation)"""
    agent_id: bool = True
    """append a one-hot agent id to the actor and critic inputs"""
    centralized_critic: bool = True
    """critic on [global state, own observation, id] (MAPPO); false: on the local observation (IPPO)"""


class ActorCritic(nn.Module):
    """A shared actor π(a | o_i, i) and a shared critic V(s, o_i, i) (or V(o_i, i) for IPPO)."""

    def __init__(self, obs_dim: int, state_dim: int, num_agents: int, action_space, args: Args):
        super().__init__()
        self.num_agents = num_agents
        self.agent_id, self.centralized = args.agent_id, args.centralized_critic
        ids = num_agents if args.agent_id else 0
        hidden = (args.hidden_size, args.hidden_size)
        self.actor = Actor(obs_dim + ids, action_space, hidden, args.activation, args.feature_norm)
        self.critic = Critic(obs_dim + ids + (state_dim if self.centralized else 0), hidden, args.activation,
                             args.feature_norm)
        self.value_norm = ValueNormalizer() if args.value_norm else None

    def _ids(self, obs: torch.Tensor) -> torch.Tensor:
        eye = torch.eye(self.num_agents, device=obs.device, dtype=obs.dtype)
        return eye.expand(*obs.shape[:-2], self.num_agents, self.num_agents)

    def actor_input(self, obs: torch.Tensor) -> torch.Tensor:
        """(B, A, obs_dim) -> (B, A, actor_dim)."""
        return torch.cat([obs, self._ids(obs)], -1) if self.agent_id else obs

    def critic_input(self, obs: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """(B, A, obs_dim), (B, state_dim) -> (B, A, critic_dim): the agent-specific global state."""
        parts = [obs]
        if self.centralized:
            parts.insert(0, state.unsqueeze(-2).expand(*obs.shape[:-1], state.shape[-1]))
        if self.agent_id:
            parts.append(self._ids(obs))
        return torch.cat(parts, -1)

    def value(self, critic_in: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(raw critic output, value in return units)."""
        raw = self.critic(critic_in)
        return raw, (self.value_norm.denormalize(raw) if self.value_norm is not None else raw)


def _masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (x * mask).sum() / mask.sum().clamp(min=1.0)


def _value_error(err: torch.Tensor, delta: float) -> torch.Tensor:
    return F.huber_loss(err, torch.zeros_like(err), reduction="none", delta=delta) if delta > 0 else 0.5 * err**2


def update(agent: ActorCritic, optimizers: tuple[torch.optim.Optimizer, torch.optim.Optimizer],
           batch: dict[str, torch.Tensor], args: Args) -> dict[str, float]:
    """PPO epochs over one flattened batch; returns the loss diagnostics.

    ``batch`` rows: actor_in, critic_in, actions, logprobs, advantages, returns, values,
    raw_values, active (all with the same leading size).
    """
    actor_opt, critic_opt = optimizers
    active = batch["active"].float()
    adv = batch["advantages"]
    if args.norm_adv:
        mean = _masked_mean(adv, active)
        std = _masked_mean((adv - mean) ** 2, active).sqrt()
        adv = (adv - mean) / (std + 1e-8)
    if agent.value_norm is not None:
        agent.value_norm.update(batch["returns"][active.bool()])
        targets = agent.value_norm.normalize(batch["returns"])
    else:
        targets = batch["returns"]
    eps, log = args.clip_coef, {"approx_kl": [], "clipfrac": [], "policy_loss": [], "value_loss": [], "entropy": []}
    rows = PackedRows({"actor_in": batch["actor_in"], "critic_in": batch["critic_in"], "actions": batch["actions"],
                       "logprobs": batch["logprobs"], "raw_values": batch["raw_values"], "adv": adv,
                       "targets": targets, "active": active})
    for _epoch in range(args.update_epochs):
        for idx in minibatch_indices(adv.shape[0], args.num_minibatches, None, adv.device):
            mb = rows.take(idx)
            mask, mb_adv = mb["active"], mb["adv"]
            dist = agent.actor.distribution(mb["actor_in"])
            log_ratio = dist.log_prob(mb["actions"]) - mb["logprobs"]
            ratio = log_ratio.exp()
            pg_loss = _masked_mean(torch.max(-mb_adv * ratio, -mb_adv * ratio.clamp(1 - eps, 1 + eps)), mask)
            entropy = _masked_mean(dist.entropy(), mask)
            v = agent.critic(mb["critic_in"])
            v_loss = _value_error(mb["targets"] - v, args.huber_delta)
            if args.clip_vloss:
                old = mb["raw_values"]
                v_clipped = old + (v - old).clamp(-eps, eps)
                v_loss = torch.max(v_loss, _value_error(mb["targets"] - v_clipped, args.huber_delta))
            v_loss = _masked_mean(v_loss, mask)
            loss = pg_loss - args.ent_coef * entropy + args.vf_coef * v_loss
            actor_opt.zero_grad()
            critic_opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(agent.actor.parameters(), args.max_grad_norm)
            nn.utils.clip_grad_norm_(agent.critic.parameters(), args.max_grad_norm)
            actor_opt.step()
            critic_opt.step()
            with torch.no_grad():  # http://joschu.net/blog/kl-approx.html
                log["approx_kl"].append(_masked_mean((ratio - 1) - log_ratio, mask).item())
                log["clipfrac"].append(_masked_mean(((ratio - 1).abs() > eps).float(), mask).item())
            log["policy_loss"].append(pg_loss.item())
            log["value_loss"].append(v_loss.item())
            log["entropy"].append(entropy.item())
        if args.target_kl is not None and log["approx_kl"][-1] > args.target_kl:
            break
    returns, values = batch["returns"][active.bool()], batch["values"][active.bool()]
    var_y = returns.var()
    explained = float("nan") if var_y == 0 else float(1 - (returns - values).var() / var_y)
    return {k: sum(v) / len(v) for k, v in log.items()} | {"explained_variance": explained}


def train(args: Args, algo: str = "mappo") -> Run:
    """Train from scratch or resume; returns the finished ``Run`` (run_dir, global_step, history)."""
    run = start_run(args, algo, lambda env, a: ActorCritic(
        env.single_observation_space.shape[0], env.state_space.shape[0], env.num_agents,
        env.single_action_space, a))
    agent, env, args = run.agent, run.env, run.args
    batch_steps = args.num_envs * args.num_steps
    num_updates = max(1, args.total_timesteps // batch_steps)
    stats, done_this_call = EpisodeStats(agent_teams(list(env.agents))), 0
    with run.guard():
        while run.update < num_updates:
            if args.anneal_lr:
                frac = 1.0 - run.update / num_updates
                run.optimizers[0].param_groups[0]["lr"] = frac * args.learning_rate
                run.optimizers[1].param_groups[0]["lr"] = frac * args.critic_learning_rate
            tick = time.perf_counter()
            rollout, next_values = run.collector.collect(agent, args.num_steps, stats)
            advantages, returns = compute_gae(rollout.rewards, rollout.values, next_values, rollout.terminated,
                                              rollout.ended, args.gamma, args.gae_lambda)
            batch = flatten_rows({**rollout.as_dict(), "advantages": advantages, "returns": returns})
            losses = update(agent, run.optimizers, batch, args)
            run.update += 1
            run.global_step += batch_steps
            done_this_call += 1
            run.log({**stats.pop(),
                     "SPS": batch_steps / (time.perf_counter() - tick),
                     "learning_rate": run.optimizers[0].param_groups[0]["lr"], **losses})
            if run.end_update(num_updates, done_this_call):
                break
    return run


def main() -> None:
    import tyro

    train(tyro.cli(Args, description=__doc__.split("\n\n")[0]))


if __name__ == "__main__":
    main()
