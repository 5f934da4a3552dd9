"""Cross-play: each team of a team game played by a trained run, the env's scripted policy or random actions.

    python -m baselines.evaluate --env-id hide_and_seek_v0 --hiders RUN --seekers scripted --episodes 1000
    python -m baselines.evaluate --env-id hide_and_seek_v0 --hiders scripted --seekers RUN --video duel.gif

Self-play scores a team only against the opponent it trained with, which says little: two teams
can trade the lead while both stay weak (strategy cycling). Playing each trained team against
fixed references (the env's scripted team, uniform random actions) and against other runs'
teams measures what each one learned. Here the first team is the one whose win rate is
reported (hide-and-seek: hiders, who win a game when their team return is positive, i.e. they
stayed hidden for most of the seeking phase).

The games run batched (``marl_envs.make_batched``): up to ``batch`` worlds at once, each world's
actions assembled column-wise from the player of its agent's team. A trained player acts for
every agent and only its team's columns are used, so both parameter layouts (one network for all
agents, one per team) and runs from different seeds mix freely. Actions are the policy's most
likely ones unless ``stochastic``. Intervals are 95%: Wilson's for rates, ±1.96 standard errors
for means.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from baselines.common.envs import parse_env_kwargs
from baselines.common.rollout import agent_teams

REFERENCE_PLAYERS = ("scripted", "random")
Player = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a binomial rate: sound near 0 and 1, where the normal interval is not."""
    if n == 0:
        return float("nan"), float("nan")
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_interval(values: list[float] | np.ndarray, z: float = 1.96) -> tuple[float, float]:
    """(mean, half-width of the normal 95% interval of the mean)."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return float("nan"), float("nan")
    half = z * x.std(ddof=1) / math.sqrt(x.size) if x.size > 1 else float("nan")
    return float(x.mean()), float(half)


def random_player(env, generator: torch.Generator) -> Player:
    """Uniform random valid actions for every agent (a floor: any learner should beat it)."""
    spec = env.action_spec
    shape = (env.num_envs, env.num_agents)

    def act(obs: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        if spec.kind == "discrete":
            return torch.randint(0, spec.n, shape, generator=generator, device=env.device)
        if spec.kind == "multi_discrete":
            nvec = torch.tensor(spec.nvec, device=env.device)
            u = torch.rand(*shape, len(spec.nvec), generator=generator, device=env.device)
            return (u * nvec).long().clamp_max(nvec - 1)
        u = torch.rand(*shape, *spec.shape, generator=generator, device=env.device)
        return spec.low + (spec.high - spec.low) * u

    return act


def trained_player(source: str, env, stochastic: bool) -> Player:
    """The policy of a run directory or checkpoint file, acting for every agent of ``env``."""
    from baselines.common.checkpoint import load_checkpoint
    from baselines.common.policy import load_policy

    policy = load_policy(load_checkpoint(source, map_location=env.device), env).to(env.device).eval()

    def act(obs: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        return policy.act(obs, state, deterministic=not stochastic)

    return act


def make_player(source: str, env, generator: torch.Generator, stochastic: bool = False) -> Player:
    """``scripted``, ``random`` or a run directory / checkpoint file -> a player for every agent."""
    if source == "scripted":
        return lambda obs, state: env.scripted_actions()
    if source == "random":
        return random_player(env, generator)
    return trained_player(source, env, stochastic)


@torch.no_grad()
def crossplay(env_id: str, players: dict[str, str], episodes: int = 1000, seed: int = 0, device: str = "cpu",
              env_kwargs: str = "{}", stochastic: bool = False, batch: int = 1000, render_mode: str | None = None,
              on_frame: Callable[[np.ndarray], None] | None = None) -> dict:
    """Play ``episodes`` games with each team's actions from ``players[team]``.

    Returns ``{"env_id", "episodes", "players", "win_rate", "win_ci", "teams": {team: (mean, ci)},
    "behaviour": {name: (mean, ci)}}`` (behaviour where the env reports ``info["behaviour"]``).
    ``render_mode``/``on_frame`` record world 0 of every round (one world per round then).
    """
    from marl_envs import make_batched

    worlds = 1 if render_mode else min(episodes, batch)
    env = make_batched(env_id, num_envs=worlds, device=device, seed=seed, render_mode=render_mode,
                       **parse_env_kwargs(env_kwargs))
    teams = agent_teams(list(env.agents))
    unknown = sorted(set(players) - set(teams))
    missing = sorted(set(teams) - set(players))
    if unknown or missing:
        raise ValueError(f"players must name every team of {env_id} ({sorted(teams)}): "
                         f"unknown {unknown}, missing {missing}")
    generator = torch.Generator(device=env.device).manual_seed(seed)
    torch.manual_seed(seed)
    made = {team: make_player(source, env, generator, stochastic) for team, source in players.items()}
    columns = {team: torch.tensor(members, device=env.device) for team, members in teams.items()}
    team_returns: dict[str, list[float]] = {team: [] for team in teams}
    behaviour: dict[str, list[float]] = {}
    obs, info = env.reset(seed=seed)
    state = info["state"]
    if on_frame is not None:
        on_frame(env.render())
    while len(team_returns[next(iter(teams))]) < episodes:
        actions = None
        for team, player in made.items():
            chosen = player(obs, state)
            actions = chosen.clone() if actions is None else actions
            actions[:, columns[team]] = chosen[:, columns[team]]
        obs, _, terminated, truncated, info = env.step(actions)
        state = env.state()
        if on_frame is not None:
            on_frame(env.render())
        ended = (terminated | truncated).any(dim=1)
        if not bool(ended.any()):
            continue
        returns = info["episode_return"][ended].cpu()
        for team, members in teams.items():
            team_returns[team].extend(returns[:, members].sum(dim=1).tolist())
        for name, value in info.get("behaviour", {}).items():
            behaviour.setdefault(name, []).extend(value[ended].float().cpu().tolist())
    env.close()
    first = next(iter(teams))
    firsts = np.asarray(team_returns[first][:episodes])
    wins = int((firsts > 0).sum())
    return {
        "env_id": env_id, "episodes": episodes, "players": dict(players),
        "win_rate": wins / episodes, "win_ci": wilson_interval(wins, episodes),
        "teams": {team: mean_interval(values[:episodes]) for team, values in team_returns.items()},
        "behaviour": {name: mean_interval(values[:episodes]) for name, values in behaviour.items()},
    }


def report(result: dict) -> str:
    """The human-readable lines ``baselines.evaluate`` prints for a cross-play result."""
    teams = list(result["teams"])
    lo, hi = result["win_ci"]
    vs = " vs ".join(f"{team} = {result['players'][team]}" for team in teams)
    lines = [f"{result['env_id']}: {vs}, {result['episodes']} episodes",
             f"{teams[0]} win rate {result['win_rate']:.1%} (95% CI {lo:.1%} to {hi:.1%}; a win: "
             f"{teams[0]} team return > 0)"]
    for team, (mean, half) in result["teams"].items():
        lines.append(f"{team} team return {mean:.2f} ± {half:.2f}")
    for name, (mean, half) in sorted(result["behaviour"].items()):
        lines.append(f"  {name:<28s} {mean:8.3f} ± {half:.3f}")
    return "\n".join(lines)
