"""The PPO update of MAPPO and IPPO over one flattened rollout, with the masks that team games need.

Three masks per sample (agent i of world b at step t), all (N,) bool over the flattened rows:

    learn   the agent acted with the policy being trained (false for a frozen opponent snapshot,
            ``selfplay.py``): such samples say nothing about the current policy, so they leave
            every loss, the value normaliser and the advantage statistics.
    active  the agent is still in the episode (MAPPO's death masks).
    acted   the agent's action had any effect (``info["acted"]``: hide-and-seek's seekers are frozen
            during the preparation phase). A sample that did not act carries no information about
            its action, so it leaves the policy loss, the entropy bonus, approx_kl and clipfrac.
            Its state still has a well defined return-to-go (what follows the preparation
            phase), so the critic keeps training on it.

    policy mask = learn & active & acted          value mask = learn & active

Advantages are standardised per team over the policy mask, and returns normalised with each team's
own statistics (``MultiAgentPolicy.normalize``): a zero-sum game's two teams have opposite returns.
The loss is a sum over parameter groups (``MultiAgentPolicy.groups``: one group for "all", one per
team for "team") of masked means over the group's rows; each group has its own pair of Adam
optimisers and its own gradient clipping, and a group without samples in the batch is not stepped
(Adam's momentum would otherwise keep moving a frozen team's weights).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from baselines.common.buffer import PackedRows, minibatch_indices
from baselines.common.compiled import maybe_compiled
from baselines.common.recurrent import chunk_minibatches

DIAGNOSTICS = ("policy_loss", "value_loss", "entropy", "approx_kl", "clipfrac")


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    mask = mask.to(x.dtype)
    return (x * mask).sum() / mask.sum().clamp(min=1.0)


def value_error(err: torch.Tensor, delta: float) -> torch.Tensor:
    return F.huber_loss(err, torch.zeros_like(err), reduction="none", delta=delta) if delta > 0 else 0.5 * err**2


def loss_masks(batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """(policy mask, value mask) of the flattened rows (module docstring)."""
    active = batch["active"].bool()
    learn = batch["learn"].bool() if "learn" in batch else torch.ones_like(active)
    acted = batch["acted"].bool() if "acted" in batch else torch.ones_like(active)
    value_mask = active & learn
    return value_mask & acted, value_mask


def standardize_per_team(adv: torch.Tensor, team: torch.Tensor, mask: torch.Tensor, num_teams: int) -> torch.Tensor:
    """Each team's advantages to mean 0, std 1 over its masked rows (masked-out rows: any finite value)."""
    out = adv
    for t in range(num_teams):
        sel = mask & (team == t)
        mean = masked_mean(adv, sel)
        std = masked_mean((adv - mean) ** 2, sel).sqrt()
        out = torch.where(team == t, (adv - mean) / (std + 1e-8), out)
    return out


def prepare(policy, batch: dict[str, torch.Tensor], args) -> tuple[PackedRows, list[int]]:
    """Masks, standardised advantages, per-team value normalisation; (packed rows, groups that learn)."""
    agent = batch["agent"]
    team = policy.team_index(agent)
    policy_mask, value_mask = loss_masks(batch)
    adv = batch["advantages"]
    if args.norm_adv:
        adv = standardize_per_team(adv, team, policy_mask, policy.num_teams)
    if policy.value_norms is not None:
        for t, norm in enumerate(policy.value_norms):
            sel = value_mask & (team == t)
            if sel.any():
                norm.update(batch["returns"][sel])
    targets = policy.normalize(batch["returns"], team)
    group = policy.group_of[agent]
    learning = [g for g in range(policy.num_groups) if bool((value_mask & (group == g)).any())]
    memory = {k: batch[k] for k in ("memory", "first") if k in batch}  # recurrent actors (recurrent.py)
    rows = PackedRows({"actor_in": batch["actor_in"], "critic_in": batch["critic_in"], "actions": batch["actions"],
                       "logprobs": batch["logprobs"], "raw_values": batch["raw_values"], "adv": adv,
                       "targets": targets, "policy_mask": policy_mask, "value_mask": value_mask, "agent": agent,
                       **memory})
    return rows, learning


def group_loss(policy, g: int, mb: dict[str, torch.Tensor], args, log: dict[str, list[float]]) -> torch.Tensor | None:
    """Group g's PPO loss on its rows of the minibatch (None if it has none); appends the diagnostics."""
    if policy.num_groups > 1:
        rows = (policy.group_of[mb["agent"]] == g).nonzero().squeeze(-1)
        if rows.numel() == 0:
            return None
        mb = {k: v[rows] for k, v in mb.items()}
    pg_loss, entropy = policy_loss(policy.actors[g], mb, args, log)
    v_loss = value_loss(policy.critics[g], mb, args, log)
    return pg_loss - args.ent_coef * entropy + args.vf_coef * v_loss


def policy_loss(actor, mb: dict[str, torch.Tensor], args, log: dict[str, list[float]],
                factor: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(-E[M · min(r A, clip(r, 1 ± ε) A)], entropy) over the policy mask of ``mb``; M = ``factor`` (HAPPO's
    compounding factor, ``sequential.py``) or 1 (PPO). Appends policy_loss, entropy, approx_kl, clipfrac."""
    terms = maybe_compiled(policy_terms, getattr(args, "compile", False))
    pg_loss, entropy, approx_kl, clipfrac = terms(actor, mb, args.clip_coef, factor, getattr(args, "chunk_length", 0))
    values = torch.stack([pg_loss.detach(), entropy.detach(), approx_kl, clipfrac]).tolist()  # one host sync
    for name, value in zip(("policy_loss", "entropy", "approx_kl", "clipfrac"), values, strict=True):
        log[name].append(value)
    return pg_loss, entropy


def policy_terms(actor, mb: dict[str, torch.Tensor], clip_coef: float, factor: torch.Tensor | None,
                 chunk_length: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(policy loss, entropy, approx_kl, clipfrac): ``policy_loss``'s arithmetic, tensors in and out (what
    ``--compile`` compiles, ``compiled.py``)."""
    eps, pmask, adv = clip_coef, mb["policy_mask"], mb["adv"]
    dist = actor_distribution(actor, mb, chunk_length)
    log_ratio = dist.log_prob(mb["actions"]) - mb["logprobs"]
    ratio = log_ratio.exp()
    surrogate = torch.max(-adv * ratio, -adv * ratio.clamp(1 - eps, 1 + eps))
    pg_loss = masked_mean(surrogate if factor is None else factor * surrogate, pmask)
    entropy = masked_mean(dist.entropy(), pmask)
    with torch.no_grad():  # http://joschu.net/blog/kl-approx.html
        approx_kl = masked_mean((ratio - 1) - log_ratio, pmask)
        clipfrac = masked_mean(((ratio - 1).abs() > eps).float(), pmask)
    return pg_loss, entropy, approx_kl, clipfrac


def actor_distribution(actor, mb: dict[str, torch.Tensor], chunk_length: int):
    """π_θ(· | ·) of the minibatch's rows: feed-forward, or unrolled over whole chunks (``recurrent.py``)."""
    if "memory" in mb:
        return actor.unrolled_distribution(mb["actor_in"], mb["memory"], mb["first"], chunk_length)
    return actor.distribution(mb["actor_in"])


def minibatches(rows: PackedRows, args) -> list[torch.Tensor]:
    """Row indices of one epoch's minibatches: shuffled rows, or shuffled whole chunks for recurrent actors."""
    n, device = rows.data.shape[0], rows.data.device
    if rows.has("memory"):
        return chunk_minibatches(args.num_steps, n // args.num_steps, args.chunk_length, args.num_minibatches,
                                 device)
    return list(minibatch_indices(n, args.num_minibatches, None, device))


def value_loss(critic, mb: dict[str, torch.Tensor], args, log: dict[str, list[float]]) -> torch.Tensor:
    """The clipped Huber value loss over the value mask of ``mb`` (module docstring of ``mappo.py``)."""
    terms = maybe_compiled(value_term, getattr(args, "compile", False))
    v_loss = terms(critic, mb, args.clip_coef, args.huber_delta, args.clip_vloss)
    log["value_loss"].append(v_loss.item())
    return v_loss


def value_term(critic, mb: dict[str, torch.Tensor], clip_coef: float, huber_delta: float,
               clip_vloss: bool) -> torch.Tensor:
    """``value_loss``'s arithmetic, tensors in and out (what ``--compile`` compiles, ``compiled.py``)."""
    v = critic(mb["critic_in"])
    v_loss = value_error(mb["targets"] - v, huber_delta)
    if clip_vloss:
        old = mb["raw_values"]
        v_clipped = old + (v - old).clamp(-clip_coef, clip_coef)
        v_loss = torch.max(v_loss, value_error(mb["targets"] - v_clipped, huber_delta))
    return masked_mean(v_loss, mb["value_mask"])


def update(policy, optimizers: tuple[torch.optim.Optimizer, ...], batch: dict[str, torch.Tensor],
           args) -> dict[str, float]:
    """PPO epochs over one flattened batch; returns the loss diagnostics.

    ``batch`` rows: actor_in, critic_in, actions, logprobs, advantages, returns, values, raw_values,
    active, acted, agent (agent index) and optionally learn. ``optimizers``: (actor_0, critic_0,
    actor_1, critic_1, ...), one pair per parameter group.
    """
    rows, learning = prepare(policy, batch, args)
    log: dict[str, list[float]] = {k: [] for k in DIAGNOSTICS}
    for _epoch in range(args.update_epochs):
        for idx in minibatches(rows, args):
            mb = rows.take(idx, scratch=True)  # backward is done before the next minibatch is taken
            losses = {g: group_loss(policy, g, mb, args, log) for g in learning}
            losses = {g: loss for g, loss in losses.items() if loss is not None}
            if not losses:
                continue
            for g in losses:
                optimizers[2 * g].zero_grad()
                optimizers[2 * g + 1].zero_grad()
            sum(losses.values()).backward()  # group g's parameters only see group g's loss
            for g in losses:
                actor_params, critic_params = policy.group_parameters(g)
                nn.utils.clip_grad_norm_(actor_params, args.max_grad_norm)
                nn.utils.clip_grad_norm_(critic_params, args.max_grad_norm)
                optimizers[2 * g].step()
                optimizers[2 * g + 1].step()
        if args.target_kl is not None and log["approx_kl"] and log["approx_kl"][-1] > args.target_kl:
            break
    means = {k: (sum(v) / len(v) if v else float("nan")) for k, v in log.items()}
    return means | {"explained_variance": explained_variance(batch)}


def explained_variance(batch: dict[str, torch.Tensor]) -> float:
    """1 - Var[R̂ - V] / Var[R̂] over the value mask: how much of the returns the rollout's values explained."""
    _, value_mask = loss_masks(batch)
    returns, values = batch["returns"][value_mask], batch["values"][value_mask]
    var_y = returns.var() if returns.numel() > 1 else torch.tensor(0.0)
    return float("nan") if var_y == 0 else float(1 - (returns - values).var() / var_y)


def adam_per_group(policy, args) -> tuple[torch.optim.Optimizer, ...]:
    """(actor_0, critic_0, actor_1, critic_1, ...): one Adam per network, as MAPPO's reference code (eps 1e-5
    as in PPO; the fused kernel updates every parameter in one op)."""
    optimizers = []
    for g in range(policy.num_groups):
        actor_params, critic_params = policy.group_parameters(g)
        optimizers += [torch.optim.Adam(actor_params, lr=args.learning_rate, eps=1e-5, fused=True),
                       torch.optim.Adam(critic_params, lr=args.critic_learning_rate, eps=1e-5, fused=True)]
    return tuple(optimizers)


def set_learning_rates(optimizers, actor_lr: float, critic_lr: float) -> None:
    """Actor optimisers get ``actor_lr``, critic optimisers ``critic_lr``: by the "role" their parameter group
    names (``sequential.role_adam``), else by position in (actor_0, critic_0, actor_1, ...)."""
    for i, opt in enumerate(optimizers):
        role = opt.param_groups[0].get("role", "critic" if i % 2 else "actor")
        opt.param_groups[0]["lr"] = actor_lr if role == "actor" else critic_lr
