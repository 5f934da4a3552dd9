"""MAPPO: PPO with parameter-shared actors and centralised critics (Yu et al. 2022), for teams too.

    ratio_t(θ)  = π_θ(a_t | o_t) / π_old(a_t | o_t)
    L_clip(θ)   = E[ min(ratio_t A_t, clip(ratio_t, 1 - ε, 1 + ε) A_t) ]          (PPO eq. 7)
    A_t         = GAE(γ, λ) over δ_t = r_t + γ (1 - cut_t) V(s'_t) - V(s_t)    (GAE eq. 16; gae.py)
                  cut_t = terminated_t, or every episode end when the time limit is observed
                  (--time-limit auto: the env's time_limit_observed; hide-and-seek's state shows the
                  time left, so the state at the limit is terminal; spread bootstraps past it)
    V_φ(s, i)   : the critic on the agent-specific global state [env.state(), o_i, onehot(i), onehot(team)]
                  (MAPPO sec. 4.2; the team one-hot only in team games; --no-critic-obs: V_φ(s, i) on
                  [env.state(), onehot(i), onehot(team)], MAPPO's environment-provided state)
    L_V(φ)      = E[ max( ℓ(R̂_t - V_φ), ℓ(R̂_t - clip(V_φ, V_old ± ε)) ) ]       (clipped value loss)
                  with R̂ the λ-return standardised by running statistics of its team (value
                  normalisation) and ℓ the Huber loss (δ = 10), as in MAPPO's reference code
    Â_t         = A_t standardised per team over the samples of the policy loss
    loss        = Σ_groups [ -L_clip - c_ent H[π] ]  over samples with learn & active & acted
                + Σ_groups c_V L_V                     over samples with learn & active

``acted`` (info["acted"]) is false where an agent's action had no effect (hide-and-seek's seekers
in the preparation phase): those samples leave the policy loss, the entropy, approx_kl and clipfrac,
but the critic still trains on them (their return-to-go is well defined). ``active`` is MAPPO's
death mask. ``learn`` is false for a team playing a frozen snapshot (--opponent-pool, selfplay.py).
Groups: one actor/critic pair for all agents (--param-sharing all, the default and Baker et al.'s
choice) or one per team (--param-sharing team; common/policy.py). The update is common/ppo.py.

Rollouts of lockstep envs (env.lockstep: every world resets at the same step) should hold whole
episodes: with --num-steps a multiple of the episode length, every update sees every phase of the
game in its true proportion; otherwise some updates hold only hide-and-seek's preparation steps
(every reward 0) and advantage normalisation amplifies critic noise, hence the warning. Staggered
starts would fix it too, but a per-world reset costs more than a step in hide-and-seek (~38 ms
at B=4096), so lockstep envs keep their single resets and the rollout follows the episode.

Deviations from the paper's MPE settings, all one flag away: MLP instead of recurrent
policies (spread is fully observed); no input LayerNorm; 256 worlds, 5 epochs of 8
minibatches and a learning rate of 3e-3 (paper: 128 worlds, 10 epochs of 1 minibatch,
7e-4). On spread_v0 these reach the paper's final returns within 2M steps at twice the
throughput (docs/baselines/mappo.md, results). Per-env settings (spread's γ 0.9, hide-and-seek's
whole-episode rollouts...) are presets applied by the command line (common/presets.py).
One Adam per network with separate gradient clipping, as the reference code.
``ippo.py`` is this file with the critic on the local observation instead of the state.

Paper: https://arxiv.org/abs/2103.01955 ; reference: github.com/marlbenchmark/on-policy.
Usage: ``python -m baselines.mappo --env-id spread_v0 --total-timesteps 2000000``
Logged: charts/{episodic_return, episodic_length, SPS, learning_rate};
losses/{policy_loss, value_loss, entropy, approx_kl, clipfrac, explained_variance};
behaviour/<name> where the env reports info["behaviour"], and behaviour/stage (the index in env.stages of
the stage those means show: hide-and-seek 0 chasing, 1 shelter, 2 ramp use, 3 ramp defense);
selfplay/frozen_team with --opponent-pool, --reference-opponents or --learn-team;
time/{env, acting, learning}: where the update's seconds went.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch

from baselines.common.buffer import flatten_rows
from baselines.common.config import CommonArgs
from baselines.common.curriculum import StageCurriculum, parse_curriculum
from baselines.common.gae import compute_gae, resolve_time_limit
from baselines.common.policy import MultiAgentPolicy, policy_from_args
from baselines.common.ppo import adam_per_group, set_learning_rates, update
from baselines.common.precision import autocast, resolve_precision
from baselines.common.rollout import EpisodeStats, agent_teams
from baselines.common.run import Run, plan_updates, resolve_device, start_run
from baselines.common.selfplay import OpponentPool, learn_mask, parse_references

LR_SCHEDULES = ("constant", "linear")


@dataclass
class Args(CommonArgs):
    learning_rate: float = 3e-3
    """actor learning rate (Adam)"""
    critic_learning_rate: float = 3e-3
    """critic learning rate (Adam)"""
    lr_schedule: Literal["constant", "linear"] | None = None
    """constant, or linear: decay both learning rates linearly to 0 over the run (Baker et al.: constant);
    None: what --anneal-lr says"""
    anneal_lr: bool = True
    """the older switch, used where --lr-schedule is not set (by the flag or a preset): --anneal-lr = linear,
    --no-anneal-lr = constant"""
    num_steps: int = 25
    """steps per world in each rollout (batch = num_envs * num_steps * num_agents samples); for lockstep envs a
    multiple of the episode length"""
    gamma: float = 0.99
    """discount factor γ"""
    gae_lambda: float = 0.95
    """GAE λ"""
    time_limit: str = "auto"
    """truncation at the time limit: terminal (no bootstrap), bootstrap from V(final state), or auto: terminal
    where the env says its state shows the time left (env.time_limit_observed), else bootstrap"""
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
    """standardise advantages per team over the samples of the policy loss"""
    value_norm: bool = True
    """regress the critic onto running-standardised returns, one normaliser per team (MAPPO's ValueNorm)"""
    huber_delta: float = 10.0
    """Huber loss δ for the value loss; 0 for the squared error"""
    policy: Literal["mlp", "entity"] = "mlp"
    """networks: mlp (two hidden layers on the flat inputs) or entity (Baker et al.'s entity attention over the
    env's obs_spec entity blocks, masked by visibility; the critic on the unmasked state; common/entity.py)"""
    precision: Literal["fp32", "bf16", "auto"] = "fp32"
    """bf16: the networks' matrix products in bfloat16 while acting and learning (torch.autocast), with weights,
    losses and optimiser in float32: faster on CPUs with AVX-512 BF16 or AMX and on recent GPUs (common/precision.py;
    not with --recurrent, HATRPO or the ray backend); auto: bf16 where the run allows it and the device has native
    bfloat16, else fp32 (config.json records which)"""
    compile: bool = False
    """torch.compile the per-minibatch losses and the acting step (fused element-wise kernels: a hide-and-seek update
    learns in about half the time; common/compiled.py). Needs a C++ compiler on CPU; without one the run warns and
    stays eager"""
    recurrent: bool = False
    """a GRU memory in every actor, trained by truncated BPTT over chunks of --chunk-length steps
    (common/recurrent.py); the critic stays feed-forward on the global state"""
    chunk_length: int = 10
    """with --recurrent: steps per training chunk (MAPPO's data_chunk_length); must divide --num-steps"""
    hidden_size: int = 64
    """width of the two hidden layers of actor and critic (mlp)"""
    activation: str = "relu"
    """hidden activation: relu (MAPPO) or tanh (CleanRL)"""
    feature_norm: bool = False
    """LayerNorm on the network inputs (MAPPO's feature normalisation)"""
    agent_id: bool = True
    """append a one-hot agent id to the actor and critic inputs"""
    centralized_critic: bool = True
    """critic on [global state, own observation, id] (MAPPO); false: on the local observation (IPPO)"""
    critic_obs: bool = True
    """the centralised critic reads the agent's own observation next to the state (MAPPO's agent-specific global
    state); --no-critic-obs: the state and the ids only (MAPPO's environment-provided state), a smaller critic
    for envs whose state holds everything the observations do"""
    param_sharing: str = "all"
    """all: one actor and one critic for every agent (team one-hot in the input); team: one pair per team"""
    opponent_pool: int = 0
    """team games: keep the last K snapshots of the policy as opponents (0: plain self-play)"""
    opponent_prob: float = 0.2
    """with --opponent-pool: probability per update that one team plays a snapshot (and only the other learns)"""
    snapshot_every: int = 10
    """with --opponent-pool: snapshot the policy every this many updates"""
    reference_opponents: str = ""
    """team games: fixed players that join the opponent pool and never age out, comma-separated: scripted (the
    env's scripted team), random (uniform valid actions); drawn like a snapshot, with --opponent-prob"""
    learn_team: str = ""
    """two-team games: only this team learns (e.g. hider), every update, against a frozen opponent: the policy the
    run starts from (--init-from's), or with --opponent-pool / --reference-opponents a member of the pool (a best
    response; selfplay.py). Under --param-sharing all the other team's side of the saved network drifts with the
    shared weights: evaluate against the opponent's own file"""
    curriculum: str = ""
    """envs with stages of play: training-only env arguments to set when self-play first shows a stage, a JSON
    object from stage name to arguments, e.g. '{"shelter": {"ramp_at_wall": 0.3}}' (common/curriculum.py)"""
    curriculum_patience: int = 5
    """with --curriculum: updates in a row that must show a stage before its arguments apply"""

    def __post_init__(self):
        if self.lr_schedule is not None and self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"--lr-schedule must be one of {LR_SCHEDULES}, got {self.lr_schedule!r}")
        if not self.critic_obs and not self.centralized_critic:
            raise ValueError("--no-critic-obs leaves the critic only the global state, which a decentralised critic "
                             "(IPPO, --no-centralized-critic) does not read")
        if not self.critic_obs and self.policy == "entity":
            raise ValueError("--no-critic-obs is for the MLP critic (--policy mlp); the entity critic reads the "
                             "state's entities and the agent's own observation")
        parse_references(self.reference_opponents)
        if self.recurrent and (self.opponent_pool or self.reference_opponents or self.learn_team):
            raise ValueError("--recurrent with --opponent-pool, --reference-opponents or --learn-team is not "
                             "supported: a frozen opponent would need its own memory")


def learn_team_index(policy: MultiAgentPolicy, name: str) -> int | None:
    """The index of ``--learn-team``'s team in ``policy.team_of`` (a team's agent-id prefix, "hider" or "hiders"),
    None when every team learns."""
    if not name:
        return None
    teams = list(policy.teams)
    for index, team in enumerate(teams):
        if name in (team, f"{team}s"):
            return index
    raise ValueError(f"--learn-team {name!r} is not a team of this env: its teams are {teams}")


def ActorCritic(env, args: Args) -> MultiAgentPolicy:  # noqa: N802 - the old class name, kept for callers
    """The policy MAPPO trains on ``env`` (``common/policy.py``)."""
    return policy_from_args(env, args)


def warn_if_misaligned(env, num_steps: int) -> None:
    """One warning when a lockstep env's rollouts would cut its episodes unevenly (module docstring)."""
    cycles = getattr(env, "max_cycles", None)
    if getattr(env, "lockstep", False) and cycles and num_steps % cycles:
        warnings.warn(f"--num-steps {num_steps} is not a multiple of the episode length {cycles} of this lockstep "
                      f"env: some updates will see only some phases of the episode (hide-and-seek: only the "
                      f"preparation phase, every reward 0). Use --num-steps {cycles} (or a multiple).", stacklevel=3)


def with_stage(env, row: dict[str, float], self_play: bool = True) -> dict[str, float]:
    """``row`` plus ``behaviour/stage``, the index in ``env.stages`` of the stage its behaviour means show
    (envs with stages; NaN when no episode finished in the update, or when a team played a frozen opponent:
    the means then show that matchup, not the policy against itself, and no stage policy is saved from them)."""
    stages = getattr(env, "stages", ())
    if not stages:
        return row
    means = {key.split("/", 1)[1]: value for key, value in row.items() if key.startswith("behaviour/")}
    if not self_play or not means or any(math.isnan(v) for v in means.values()):
        return {**row, "behaviour/stage": float("nan")}
    return {**row, "behaviour/stage": float(stages.index(env.stage(means)))}


def save_stage_policy(run: Run, env, row: dict[str, float]) -> str | None:
    """The first time an update shows a stage of play, keep its policy: ``stages/<i>_<stage>.pt`` in the run
    directory, a small policy-only file that evaluate, play and cross-play load (``checkpoint.save_policy``)."""
    index = row.get("behaviour/stage", float("nan"))
    if math.isnan(index):
        return None
    name = env.stages[int(index)].replace(" ", "_")
    path = os.path.join("stages", f"{int(index)}_{name}.pt")
    if os.path.exists(os.path.join(run.run_dir, path)):
        return None
    return run.save_policy(path)


def start_curriculum(run: Run, args: Args) -> StageCurriculum:
    """``--curriculum``'s schedule, checked against the env (every step's arguments valid) and, on resume, back at
    the step the run had reached (checkpoints keep the level; the env starts from ``--env-kwargs``)."""
    curriculum = StageCurriculum(parse_curriculum(args.curriculum, tuple(getattr(run.env, "stages", ()))),
                                 args.curriculum_patience)
    if not curriculum.enabled:
        return curriculum
    if not hasattr(run.env, "set_training_kwargs"):
        raise ValueError(f"--curriculum: {args.env_id} cannot change its arguments during a run")
    stages = tuple(getattr(run.env, "stages", ()))
    for level in range(1, len(curriculum.steps) + 1):  # every step valid now, not an error hours into the run
        try:
            run.env.set_training_kwargs(**run.env.set_training_kwargs(**curriculum.arguments(level)))
        except ValueError as error:
            stage = stages[curriculum.steps[level - 1][0]]
            raise ValueError(f"--curriculum: its step for {stage!r} ({curriculum.arguments(level)} on top of "
                             f"--env-kwargs) would make an env the run cannot use, so it stops before training "
                             f"(pass --curriculum {{}} for none; the env presets set one): {error}") from error
    run.register("curriculum", curriculum)
    if curriculum.level:
        run.collector.set_training_kwargs(**curriculum.arguments())
    return curriculum


def advance_curriculum(run: Run, curriculum: StageCurriculum, row: dict[str, float]) -> None:
    """Count this update's stage; apply the next step's arguments when it is due. Logs ``curriculum/level``."""
    changes = curriculum.observe(row.get("behaviour/stage", float("nan")))
    if changes is not None:
        run.collector.set_training_kwargs(**changes)
        stage = run.env.stages[curriculum.steps[curriculum.level - 1][0]]
        print(f"[curriculum] update {run.update}: {stage!r} shown for {curriculum.patience} updates in a row; "
              f"from now on new games start with {changes}", flush=True)
    row["curriculum/level"] = float(curriculum.level)


def learning_rate_fraction(args: Args, update_index: int, num_updates: int) -> float:
    return 1.0 - update_index / num_updates if args.lr_schedule == "linear" else 1.0


UpdateFn = Callable[[MultiAgentPolicy, tuple, dict, Args], dict[str, float]]


def train(args: Args, algo: str = "mappo", make_optimizers: Callable = adam_per_group,
          make_update: Callable[[Run], UpdateFn] | None = None) -> Run:
    """Train from scratch or resume; returns the finished ``Run`` (run_dir, global_step, history).

    ``make_optimizers`` and ``make_update(run) -> update(policy, optimizers, batch, args)`` are the PPO update's
    by default; HAPPO and HATRPO pass their sequential updates (everything else is this loop).
    """
    if args.lr_schedule is None:  # config.json records the schedule in force
        args = dataclasses.replace(args, lr_schedule="linear" if args.anneal_lr else "constant")
    if make_update is None and args.param_sharing == "agent":
        raise ValueError("--param-sharing agent (one actor per agent, one critic) is HAPPO/HATRPO's layout; "
                         f"{algo} pairs each actor with its own critic: use all or team")
    # Checked here, not in Args: the command line builds Args before the env's preset sets --num-steps.
    if args.recurrent and (args.chunk_length < 1 or args.num_steps % args.chunk_length):
        raise ValueError(f"--chunk-length {args.chunk_length} must be positive and divide --num-steps "
                         f"{args.num_steps}")
    if make_update is not None and args.recurrent:
        raise ValueError(f"--recurrent is supported by MAPPO and IPPO; {algo}'s sequential update reads its "
                         "samples as independent rows")
    if not args.resume:  # config.json records the precision in force (a resumed run keeps its own)
        args = dataclasses.replace(args, precision=resolve_precision(args.precision, algo, args.recurrent,
                                                                     args.backend, resolve_device(args.device)))
    run = start_run(args, algo, policy_from_args, make_optimizers)
    update_fn = update if make_update is None else make_update(run)
    policy, env, args = run.agent, run.env, run.args
    device = next(policy.parameters()).device
    warn_if_misaligned(env, args.num_steps)
    truncation_is_terminal = resolve_time_limit(args.time_limit, env)
    references = parse_references(args.reference_opponents)
    if references and policy.num_teams < 2:
        raise ValueError(f"--reference-opponents is for team games; {args.env_id} has one team")
    if "scripted" in references and not hasattr(getattr(env, "scenario", None), "heuristic_action"):
        raise ValueError(f"--reference-opponents scripted: {args.env_id} has no scripted policy")
    if "random" in references and not hasattr(env, "action_spec"):
        raise ValueError(f"--reference-opponents random: {args.env_id} has no batched action_spec to draw from")
    pool = run.register("opponent_pool", OpponentPool(args.opponent_pool, args.opponent_prob, args.snapshot_every,
                                                      policy.num_teams, args.seed + 1, references,
                                                      learn_team_index(policy, args.learn_team)))
    curriculum = start_curriculum(run, args)
    num_updates, batch_steps = plan_updates(args)
    stats, done_this_call = EpisodeStats(agent_teams(list(env.agents))), 0
    with run.guard():
        while run.update < num_updates:
            frac = learning_rate_fraction(args, run.update, num_updates)
            set_learning_rates(run.optimizers, frac * args.learning_rate, frac * args.critic_learning_rate)
            tick = time.perf_counter()
            pool.maybe_snapshot(policy, run.update)
            matchup = pool.draw()
            with autocast(args.precision, device):
                rollout, next_values = run.collector.collect(pool.acting_policy(policy, matchup), args.num_steps,
                                                             stats)
            collected = time.perf_counter()
            advantages, returns = compute_gae(rollout.rewards, rollout.values, next_values, rollout.terminated,
                                              rollout.ended, args.gamma, args.gae_lambda, truncation_is_terminal)
            shape = rollout.rewards.shape
            agent = torch.arange(shape[-1], device=returns.device).expand(shape)
            learn = learn_mask(None if matchup is None else matchup[0], policy.team_of, shape)
            batch = flatten_rows({**rollout.as_dict(), "advantages": advantages, "returns": returns, "agent": agent,
                                  "learn": learn})
            with autocast(args.precision, device):
                losses = update_fn(policy, run.optimizers, batch, args)
            run.update += 1
            run.global_step += batch_steps
            done_this_call += 1
            selfplay = {"selfplay/frozen_team": -1 if matchup is None else matchup[0]} if pool.enabled else {}
            if references:  # 0: self-play or a snapshot, 1 + i: the i-th reference opponent
                reference = pool.reference_of(matchup)
                selfplay["selfplay/reference"] = 0 if reference is None else 1 + references.index(reference)
            learned = time.perf_counter()
            timing = {"time/env": stats.env_seconds, "time/acting": collected - tick - stats.env_seconds,
                      "time/learning": learned - collected}
            stats.env_seconds = 0.0
            row = with_stage(env, stats.pop(), self_play=matchup is None)
            save_stage_policy(run, env, row)
            if curriculum.enabled:
                advance_curriculum(run, curriculum, row)
            run.log({**row, **timing, "SPS": batch_steps / (learned - tick),
                     "learning_rate": run.optimizers[0].param_groups[0]["lr"], **losses, **selfplay})
            if run.end_update(num_updates, done_this_call):
                break
    return run


def main(argv: list[str] | None = None, args_cls: type = Args, algo: str = "mappo") -> None:
    from baselines.common.presets import parse_cli

    train(parse_cli(args_cls, algo, __doc__.split("\n\n")[0], argv), algo)


if __name__ == "__main__":
    main()
