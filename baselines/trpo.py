"""TRPO: trust region policy optimisation, the single-agent reference (Schulman et al. 2015).

    r_t(θ)  = π_θ(a_t | s_t) / π_old(a_t | s_t)
    L(θ)    = E[ r_t(θ) A_t ]                          importance-sampled surrogate (TRPO eq. 14)
    maximise L(θ)  subject to  KL̄(θ) = E_s[ KL(π_old(·|s) ‖ π_θ(·|s)) ] ≤ δ
    g       = ∇L(θ_old);  F = ∇²KL̄(θ_old), the Fisher matrix (natural_gradient.py)
    d       ≈ F⁻¹ g                                    conjugate gradient, Fisher-vector products only
    Δθ_max  = √(2δ / dᵀF d) · d                        the step to the boundary of the quadratic model
    θ       = θ_old + βᵏ Δθ_max, k = 0, 1, ...         the first k with KL̄ ≤ δ and L improved (TRPO
                                                       sec. 6 and appendix C); θ_old if none does
    A_t     = GAE(γ, λ) (gae.py), standardised over the batch; V_φ fitted by regression:
              minimise E[(V_φ(s_t) − R_t)²] over several Adam epochs after the policy step

``npg.py`` is this file with another step rule: no line search, step α / √(gᵀF⁻¹g).
Policies: categorical, multi-categorical (the joint view's MultiDiscrete) or diagonal
Gaussian with a state-independent log-std, MLP actor and critic (no shared layers, so the
critic's fit can never move the policy outside the trust region). Environments: Gymnasium
ids through ``gymnasium.make_vec``, and any env of the suite through the joint-control view
(``marl_envs.api.JointBatchedEnv``: one policy observes ``state()`` and acts for every agent; team reward).

Deviations, all one flag away: defaults are sb3-contrib's (δ 0.01, CG damping 0.1,
shrinking 0.8, 10 line-search steps, 2048-sample batches, critic lr 1e-3 with 10 epochs
of 128-sample minibatches), except 10 CG steps as in the paper (sb3-contrib: 15). sb3-contrib measures
the KL as KL(π_θ ‖ π_old); here it is KL(π_old ‖ π_θ), the paper's (same Hessian at θ_old).

Paper: https://arxiv.org/abs/1502.05477 ; reference: sb3_contrib/trpo/trpo.py.
Usage: ``python -m baselines.trpo --env-id CartPole-v1`` (docs/baselines/trpo.md, results).
Logged: charts/{episodic_return, episodic_length, SPS}; losses/{policy_loss, value_loss, entropy,
explained_variance}; trpo/{kl, line_search_success, step_fraction}.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.distributions import kl_divergence

from baselines.common.buffer import flatten_rows, minibatch_indices
from baselines.common.config import CommonArgs
from baselines.common.envs import make_single_agent_vec_env
from baselines.common.gae import compute_gae
from baselines.common.natural_gradient import (
    TrustRegionArgs,
    conjugate_gradient,
    fisher_vector_product,
    flat_grad,
    kl_from_frozen,
    subsampled_kl,
    trust_region_step,
)
from baselines.common.networks import Actor, Critic
from baselines.common.rollout import EpisodeStats
from baselines.common.run import Run, plan_updates, start_run


@dataclass
class Args(CommonArgs, TrustRegionArgs):
    env_id: str = "CartPole-v1"
    """a Gymnasium id (CartPole-v1, Pendulum-v1), or one of ours / a PettingZoo module:function through the
    joint-control view (one policy on state() acts for every agent; team reward)"""
    num_envs: int = 2
    """number of parallel envs (worlds)"""
    total_timesteps: int = 100_000
    """env steps (one world advanced by one step) of the whole run"""
    num_steps: int = 1024
    """steps per env in each rollout (batch = num_envs * num_steps samples; sb3's n_steps)"""
    gamma: float = 0.99
    """discount factor γ"""
    gae_lambda: float = 0.95
    """GAE λ"""
    target_kl: float = 0.01
    """trust region δ: bound on the mean KL(π_old ‖ π) of one update (TRPO paper: 0.01)"""
    line_search_shrinking_factor: float = 0.8
    """backtracking factor β: candidate k is θ_old + βᵏ Δθ_max"""
    critic_learning_rate: float = 1e-3
    """critic learning rate (Adam)"""
    n_critic_updates: int = 10
    """epochs of value regression per update"""
    critic_batch_size: int = 128
    """minibatch size of the value regression"""
    anneal_lr: bool = False
    """decay the critic's learning rate (and NPG's step α) linearly to 0 over the run"""
    norm_adv: bool = True
    """standardise advantages over the batch"""
    hidden_size: int = 64
    """width of the two hidden layers of actor and critic"""
    activation: str = "tanh"
    """hidden activation: tanh (sb3-contrib's MlpPolicy) or relu"""
    log_std_init: float = 0.0
    """initial log standard deviation of a Gaussian policy (sb3: 0)"""
    feature_norm: bool = False
    """LayerNorm on the network inputs"""


class Policy(nn.Module):
    """π(a | s) and V(s) on the same single-agent observation (A = 1 in the batched contract)."""

    def __init__(self, obs_dim: int, action_space, args: Args):
        super().__init__()
        hidden = (args.hidden_size, args.hidden_size)
        self.actor = Actor(obs_dim, action_space, hidden, args.activation, args.feature_norm, args.log_std_init)
        self.critic = Critic(obs_dim, hidden, args.activation, args.feature_norm)

    def actor_input(self, obs: torch.Tensor) -> torch.Tensor:
        return obs

    def critic_input(self, obs: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        return obs

    def distribution(self, actor_in: torch.Tensor):
        return self.actor.distribution(actor_in)

    def value(self, critic_in: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        v = self.critic(critic_in)
        return v, v


class Surrogate:
    """L(θ) and KL̄(θ) on one batch, against the policy π_old frozen at construction.

    Args:
        actor: the policy at θ_old.
        batch: rows actor_in (N, D), actions (N, ...), logprobs (N,) log π_old(a|s).
        advantages: (N,) A_t (standardised or not).
    """

    def __init__(self, actor: Actor, batch: dict[str, torch.Tensor], advantages: torch.Tensor):
        self.actor, self.batch, self.advantages = actor, batch, advantages
        with torch.no_grad():
            self.old = actor.distribution(batch["actor_in"])

    def __call__(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(L(θ), KL̄(θ)) at the actor's current parameters, differentiable."""
        dist = self.actor.distribution(self.batch["actor_in"])
        ratio = (dist.log_prob(self.batch["actions"]) - self.batch["logprobs"]).exp()
        return (ratio * self.advantages).mean(), kl_divergence(self.old, dist).mean()

    def fisher_kl(self, every: int) -> torch.Tensor:
        """KL̄(θ) on every ``every``-th row only, built at θ = θ_old (π_old is the actor's current output there): its
        Hessian estimates F at 1/every of the cost."""
        return kl_from_frozen(self.actor, self.batch["actor_in"][::every]).mean()

    def entropy(self) -> float:
        return float(self.old.entropy().mean())


def standardized_advantages(batch: dict[str, torch.Tensor], args: Args) -> torch.Tensor:
    adv = batch["advantages"]
    return (adv - adv.mean()) / (adv.std() + 1e-8) if args.norm_adv else adv


def natural_direction(surrogate: Surrogate, params: list[nn.Parameter], args: Args):
    """g = ∇L, the Fisher-vector product v ↦ (F + λI) v, and d ≈ F⁻¹g by ``args.cg_max_steps`` CG steps."""
    objective, kl = surrogate()
    g = flat_grad(objective, params, retain_graph=True)
    fisher_kl = subsampled_kl(surrogate, args.fisher_every)
    fvp = fisher_vector_product(kl if fisher_kl is None else fisher_kl(), params, args.cg_damping)
    return objective.detach(), g, fvp, conjugate_gradient(fvp, g, args.cg_max_steps, args.cg_residual_tol)


def fit_critic(critic: Critic, optimizer: torch.optim.Optimizer, critic_in: torch.Tensor, returns: torch.Tensor,
               epochs: int, batch_size: int) -> float:
    """Regress V_φ(s) onto the λ-returns: ``epochs`` passes of shuffled minibatches; mean squared error."""
    losses = []
    num_minibatches = max(1, math.ceil(returns.shape[0] / batch_size))
    for _ in range(epochs):
        for idx in minibatch_indices(returns.shape[0], num_minibatches, None, returns.device):
            loss = (critic(critic_in[idx]) - returns[idx]).square().mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return sum(losses) / len(losses)


def update(agent: Policy, optimizers: tuple[torch.optim.Optimizer], batch: dict[str, torch.Tensor],
           args: Args) -> tuple[dict[str, float], dict[str, float]]:
    """One TRPO policy step (direction, maximal step, line search, revert) and the critic's regression.

    Returns (losses, trpo metrics): ``{policy_loss, value_loss, entropy, explained_variance}``,
    ``{kl, line_search_success, step_fraction}`` (step_fraction: the accepted β^k of the full step, 0 if none).
    """
    params = list(agent.actor.parameters())  # by module: the critic is never part of the trust region
    surrogate = Surrogate(agent.actor, batch, standardized_advantages(batch, args))
    result = trust_region_step(surrogate, params, args.target_kl, args.cg_damping, args.cg_max_steps,
                               args.cg_residual_tol, args.line_search_shrinking_factor, args.line_search_max_iter,
                               subsampled_kl(surrogate, args.fisher_every), args.step_length)
    value_loss = fit_critic(agent.critic, optimizers[0], batch["critic_in"], batch["returns"],
                            args.n_critic_updates, args.critic_batch_size)
    losses = {"policy_loss": -result.objective, "value_loss": value_loss, "entropy": surrogate.entropy(),
              "explained_variance": explained_variance(batch["values"], batch["returns"])}
    return losses, {"kl": result.kl, "line_search_success": float(result.success), "step_fraction": result.fraction}


def explained_variance(values: torch.Tensor, returns: torch.Tensor) -> float:
    var_y = returns.var()
    return float("nan") if var_y == 0 else float(1 - (returns - values).var() / var_y)


def _critic_adam(agent: Policy, args: Args) -> tuple[torch.optim.Optimizer]:
    """Only the critic has an optimiser: the actor moves by natural-gradient steps."""
    return (torch.optim.Adam(agent.critic.parameters(), lr=args.critic_learning_rate, fused=True),)


def _annealed(args: Args, frac: float) -> Args:
    """``args`` with every learning rate (the critic's; NPG's α) scaled by ``frac``."""
    rates = {k: frac * getattr(args, k) for k in ("critic_learning_rate", "learning_rate") if hasattr(args, k)}
    return dataclasses.replace(args, **rates)


UpdateFn = Callable[[Policy, tuple, dict, Args], tuple[dict[str, float], dict[str, float]]]


def train(args: Args, algo: str = "trpo", update_fn: UpdateFn = update) -> Run:
    """Train from scratch or resume; returns the finished ``Run`` (run_dir, global_step, history).

    ``update_fn`` is TRPO's ``update`` here and NPG's in ``npg.py``: everything else is shared.
    """
    run = start_run(args, algo, lambda env, a: Policy(env.single_observation_space.shape[0],
                                                      env.single_action_space, a),
                    _critic_adam, make_single_agent_vec_env)
    agent, args = run.agent, run.args
    num_updates, batch_steps = plan_updates(args)
    stats, done_this_call = EpisodeStats(), 0
    with run.guard():
        while run.update < num_updates:
            step_args = _annealed(args, 1.0 - run.update / num_updates) if args.anneal_lr else args
            run.optimizers[0].param_groups[0]["lr"] = step_args.critic_learning_rate
            tick = time.perf_counter()
            rollout, next_values = run.collector.collect(agent, args.num_steps, stats)
            advantages, returns = compute_gae(rollout.rewards, rollout.values, next_values, rollout.terminated,
                                              rollout.ended, args.gamma, args.gae_lambda)
            batch = flatten_rows({**rollout.as_dict(), "advantages": advantages, "returns": returns})
            losses, algo_metrics = update_fn(agent, run.optimizers, batch, step_args)
            run.update += 1
            run.global_step += batch_steps
            done_this_call += 1
            run.log({**stats.pop(), "SPS": batch_steps / (time.perf_counter() - tick), **losses, **algo_metrics},
                    {k: algo for k in algo_metrics})
            if run.end_update(num_updates, done_this_call):
                break
    return run


def main(argv: list[str] | None = None) -> None:
    from baselines.common.presets import parse_cli

    train(parse_cli(Args, "trpo", __doc__.split("\n\n")[0], argv))


if __name__ == "__main__":
    main()
