"""Cross-play: each team of a team game played by a trained run, the env's scripted policy or random actions.

    python -m baselines.evaluate --env-id hide_and_seek_v1 --hiders RUN --seekers scripted --episodes 1000
    python -m baselines.evaluate --env-id hide_and_seek_v1 --hiders scripted --seekers RUN --video duel.gif

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

import json
import math
import os
from collections.abc import Callable

import numpy as np
import torch

from baselines.common.envs import parse_env_kwargs
from baselines.common.rollout import agent_teams
from baselines.common.selfplay import REFERENCE_OPPONENTS as REFERENCE_PLAYERS
from baselines.common.selfplay import uniform_actions

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

    def act(obs: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        return uniform_actions(env, generator)

    return act


def trained_player(source: str, env, stochastic: bool) -> Player:
    """The policy of a run directory or checkpoint file, acting for every agent of ``env``."""
    from baselines.common.checkpoint import load_checkpoint
    from baselines.common.policy import load_policy

    policy = load_policy(load_checkpoint(source, map_location=env.device), env).to(env.device).eval()

    def act(obs: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        return policy.act(obs, state, deterministic=not stochastic)

    act.reset = policy.reset_memory  # games that end start the next with a blank memory (recurrent policies)
    return act


def make_player(source: str, env, generator: torch.Generator, stochastic: bool = False) -> Player:
    """``scripted``, ``random`` or a run directory / checkpoint file -> a player for every agent."""
    if source == "scripted":
        return lambda obs, state: env.scripted_actions()
    if source == "random":
        return random_player(env, generator)
    return trained_player(source, env, stochastic)


def joint_actions(players: dict[str, Player], columns: dict[str, torch.Tensor], obs: torch.Tensor,
                  state: torch.Tensor) -> torch.Tensor:
    """One action tensor for every agent: each team's columns (agent indices) from its own player, which acts for
    every agent (as a policy shared by all agents does) and whose other columns are dropped."""
    actions = None
    for team, player in players.items():
        chosen = player(obs, state)
        actions = chosen.clone() if actions is None else actions
        actions[:, columns[team]] = chosen[:, columns[team]]
    return actions


@torch.no_grad()
def crossplay(env_id: str, players: dict[str, str], episodes: int = 1000, seed: int = 0, device: str = "cpu",
              env_kwargs: str = "{}", stochastic: bool = False, batch: int = 1000, render_mode: str | None = None,
              on_frame: Callable[[np.ndarray], None] | None = None, per_game: bool = False) -> dict:
    """Play ``episodes`` games with each team's actions from ``players[team]``.

    Returns ``{"env_id", "env_kwargs", "episodes", "players", "win_rate", "win_ci", "teams": {team: (mean, ci)},
    "behaviour": {name: (mean, ci)}, "stage"}`` (behaviour where the env reports ``info["behaviour"]``;
    stage: the env's name for the stage of play those means show, or None).
    ``render_mode``/``on_frame`` record world 0 of every round (one world per round then).
    ``per_game`` adds ``"games"``: one dict per game, in the order the games ended, with each team's return
    (``<team>_return``), ``win`` (the first team's return > 0) and every behaviour figure (NaN where the env did not
    measure it). Means hide why a team loses; these rows let a reader condition on what happened (did the seekers
    lose the games where every door was blocked, or the ones where they never climbed?).
    """
    from marl_envs import make_batched

    worlds = 1 if render_mode else min(episodes, batch)
    # Shown games reset by hand, so an episode's last frame is drawn before the next one starts.
    env = make_batched(env_id, num_envs=worlds, device=device, seed=seed, render_mode=render_mode,
                       autoreset=render_mode is None, **parse_env_kwargs(env_kwargs))
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
        actions = joint_actions(made, columns, obs, state)
        obs, _, terminated, truncated, info = env.step(actions)
        state = env.state()
        if on_frame is not None:
            on_frame(env.render())
        ended = (terminated | truncated).any(dim=1)
        if not bool(ended.any()):
            continue
        for player in made.values():
            if hasattr(player, "reset"):
                player.reset(ended)
        returns = info["episode_return"][ended].cpu()
        for team, members in teams.items():
            team_returns[team].extend(returns[:, members].sum(dim=1).tolist())
        for name, value in info.get("behaviour", {}).items():
            behaviour.setdefault(name, []).extend(value[ended].float().cpu().tolist())
        if render_mode is not None and len(team_returns[next(iter(teams))]) < episodes:
            obs, info = env.reset()
            for player in made.values():
                if hasattr(player, "reset"):
                    player.reset(None)
            state = info["state"]
            if on_frame is not None:
                on_frame(env.render())
    games = _game_rows(team_returns, behaviour, episodes) if per_game else None
    # A figure the env did not measure in an episode is NaN (hide-and-seek's curriculum starts): left out.
    behaviour = {name: [v for v in values[:episodes] if math.isfinite(v)] for name, values in behaviour.items()}
    means = {name: float(np.mean(values)) if values else float("nan") for name, values in behaviour.items()}
    stage = env.stage(means) if means else None
    env.close()
    first = next(iter(teams))
    firsts = np.asarray(team_returns[first][:episodes])
    wins = int((firsts > 0).sum())
    result = {
        "env_id": env_id, "env_kwargs": parse_env_kwargs(env_kwargs), "episodes": episodes, "players": dict(players),
        "win_rate": wins / episodes, "win_ci": wilson_interval(wins, episodes),
        "teams": {team: mean_interval(values[:episodes]) for team, values in team_returns.items()},
        "behaviour": {name: mean_interval(values) for name, values in behaviour.items()},
        "stage": stage,
    }
    if games is not None:
        result["games"] = games
    return result


def _game_rows(team_returns: dict[str, list[float]], behaviour: dict[str, list[float]], episodes: int) -> list[dict]:
    """One row per game: each team's return, the first team's win and the behaviour figures, before any NaN is
    dropped, so that row i of every column is the same game."""
    first = next(iter(team_returns))
    rows = []
    for i in range(episodes):
        row: dict[str, float | int] = {"game": i}
        row.update({f"{team}_return": values[i] for team, values in team_returns.items()})
        row["win"] = int(team_returns[first][i] > 0)
        row.update({name: values[i] if i < len(values) else float("nan") for name, values in sorted(behaviour.items())})
        rows.append(row)
    return rows


def write_games_csv(path: str, games: list[dict]) -> None:
    """``games`` (``crossplay(per_game=True)["games"]``) as a CSV file, one line per game."""
    import csv

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(games[0]) if games else ["game"])
        writer.writeheader()
        writer.writerows(games)


def report(result: dict) -> str:
    """The human-readable lines ``baselines.evaluate`` prints for a cross-play result."""
    teams = list(result["teams"])
    lo, hi = result["win_ci"]
    vs = " vs ".join(f"{team} = {result['players'][team]}" for team in teams)
    kwargs = result.get("env_kwargs") or {}
    env = result["env_id"] + (f" {json.dumps(kwargs, sort_keys=True)}" if kwargs else "")
    lines = [f"{env}: {vs}, {result['episodes']} episodes",
             f"{teams[0]} win rate {result['win_rate']:.1%} (95% CI {lo:.1%} to {hi:.1%}; a win: "
             f"{teams[0]} team return > 0)"]
    for team, (mean, half) in result["teams"].items():
        lines.append(f"{team} team return {mean:.2f} ± {half:.2f}")
    if result.get("stage"):
        lines.append(f"stage of play shown: {result['stage']}")
    for name, (mean, half) in sorted(result["behaviour"].items()):
        lines.append(f"  {name:<28s} {mean:8.3f} ± {half:.3f}")
    return "\n".join(lines)


# -- command line (``python -m baselines.evaluate`` with team players) ---------------------------------


def add_arguments(parser) -> None:
    """The cross-play options of ``baselines.evaluate``."""
    group = parser.add_argument_group("team games (cross-play)")
    sources = "RUN_DIR, checkpoint file, scripted or random"
    group.add_argument("--hiders", default=None, help=f"hide-and-seek's hiders: {sources}")
    group.add_argument("--seekers", default=None, help=f"hide-and-seek's seekers: {sources}")
    group.add_argument("--team", action="append", default=[], metavar="NAME=SOURCE",
                       help="any team (agent-id prefix) and its player; repeatable")
    group.add_argument("--games-csv", default=None, metavar="FILE",
                       help="also write one line per game (team returns, win, behaviour figures) to this CSV file")


def requested(args) -> bool:
    return bool(args.hiders or args.seekers or args.team)


def players_from(args) -> dict[str, str]:
    """Team -> player source from --hiders/--seekers/--team; unnamed teams are filled in by ``run_cli``."""
    players = {}
    if args.hiders:
        players["hider"] = args.hiders
    if args.seekers:
        players["seeker"] = args.seekers
    for item in args.team:
        name, sep, source = item.partition("=")
        if not sep or not name or not source:
            raise ValueError(f"--team takes NAME=SOURCE (e.g. seeker=scripted), got {item!r}")
        players[name] = source
    return players


def _run_env(source: str) -> tuple[str | None, str]:
    """(env id, env kwargs) a trained player was trained on, or (None, "{}") for reference players."""
    if source in REFERENCE_PLAYERS:
        return None, "{}"
    from baselines.common.checkpoint import load_checkpoint
    from marl_envs import evaluation_kwargs

    saved = load_checkpoint(source)["args"]
    # The game itself: the run's training-only arguments (start-state curricula) are left out.
    kwargs, _ = evaluation_kwargs(saved["env_id"], parse_env_kwargs(saved.get("env_kwargs", "{}")))
    return saved["env_id"], json.dumps(kwargs)


def run_cli(args, parser) -> dict:
    """Resolve players and env, play, print ``report`` (and write ``--json``)."""
    from marl_envs import make_batched

    try:
        players = players_from(args)
    except ValueError as err:
        parser.error(str(err))
    runs = [source for source in [*players.values(), args.checkpoint] if source and source not in REFERENCE_PLAYERS]
    env_id, env_kwargs = _run_env(runs[0]) if runs else (None, "{}")
    env_id = args.env_id or env_id
    if env_id is None:
        parser.error("--env-id is needed when no team is played by a trained run")
    env_kwargs = args.env_kwargs if args.env_kwargs is not None else env_kwargs
    teams = agent_teams(make_batched(env_id, **parse_env_kwargs(env_kwargs)).agents)
    for team in teams:
        if team not in players:
            if args.checkpoint is None:
                parser.error(f"no player for team {team!r}: name it (--team {team}=SOURCE) or give a RUN_DIR")
            players[team] = args.checkpoint
    writer = None
    if args.video is not None:
        from baselines.common.video import VideoWriter

        writer = VideoWriter(args.video, 10.0)
    try:
        result = crossplay(env_id, players, args.episodes, args.seed, args.device, env_kwargs, args.stochastic,
                           args.batch, render_mode="rgb_array" if writer else args.render,
                           on_frame=writer.append if writer else None, per_game=args.games_csv is not None)
    except ValueError as err:
        parser.error(str(err))
    finally:
        if writer is not None:
            writer.close()
    # files first: what was measured is kept even if printing fails (a closed pipe, `| head`)
    games = result.pop("games", None)
    if args.games_csv is not None:
        write_games_csv(args.games_csv, games)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)
    print(report(result))
    if writer is not None:
        print(f"saved {writer.count} frames to {args.video}")
    if args.games_csv is not None:
        print(f"wrote {len(games)} games to {args.games_csv}")
    return result
