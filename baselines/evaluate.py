"""Evaluate a trained policy: mean ± std team return over K episodes, optionally shown or recorded.

    python -m baselines.evaluate RUN_DIR --episodes 100
    python -m baselines.evaluate RUN_DIR --env-id mpe2.simple_spread_v3:parallel_env   # same spaces
    python -m baselines.evaluate RUN_DIR --episodes 3 --render human
    python -m baselines.evaluate RUN_DIR --episodes 3 --video spread.mp4                # or .gif
    python -m baselines.evaluate --env-id hide_and_seek_v1 --hiders RUN_DIR --seekers scripted --episodes 1000
    python -m baselines.evaluate --env-id hide_and_seek_v1 --hiders random --seekers RUN_DIR --games-csv games.csv

Team games (cross-play, ``baselines/crossplay.py``): ``--hiders`` / ``--seekers`` (or ``--team
NAME=SOURCE`` for any team prefix) give each team's player: a run directory or checkpoint,
``scripted`` (the env's scripted team) or ``random``; a team not named plays the positional
RUN_DIR. Prints the first team's win rate (team return > 0), each team's return and the env's
behaviour figures, with 95% intervals; ``--render``/``--video`` show or record the games;
``--games-csv FILE`` writes one line per game, for questions the means cannot answer.

Episodes of our envs run batched (``marl_envs.make_batched``, ``--batch`` worlds at once on
``--device``; each world's first episode counts, so short episodes are not favoured); shown or
recorded ones, and other envs, run through the PettingZoo parallel API (so any env with the same
spaces works, MPE2's included). Only the actor is needed; actions are the policy's most likely ones
unless ``--stochastic``. The team return of an episode is the sum over agents of their
rewards (MPE's scale).

Single-agent runs (TRPO, NPG) are evaluated through Gymnasium instead: ``gymnasium.make``
for Gymnasium ids, and the joint-control view (``marl_envs.api.JointControlEnv``,
team reward) for ours, so the printed return is on the same scale as MAPPO's team return.

Rendering. ``--render human`` shows the episodes in a window paced at the env's
``metadata["render_fps"]`` (works headless with ``SDL_VIDEODRIVER=dummy``). ``--video PATH``
records them instead (the two are exclusive) and is checked before any episode runs: the
extension must be ``.mp4`` (H.264 through imageio-ffmpeg) or ``.gif``; missing directories
are created. Frame rule: one frame after each reset plus one after each step, the
episodes' frames concatenated, so an episode of T steps gives T + 1 frames (``--episodes 3``
with ``max_cycles`` 5 and no early end: 18 frames). Frames are played at
``metadata["render_fps"]`` (10 when the env has none) and keep the env's frame size (an
mp4 of an odd-sized render gets one replicated edge row/column, as H.264 needs even sizes;
never a resize). GIFs keep every frame, identical ones too, each with its own palette
(GIF delays are in 1/100 s, at least 2: 50 fps at most).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable

import numpy as np
import torch

from baselines import crossplay
from baselines.common.checkpoint import load_checkpoint
from baselines.common.cli import prog_name
from baselines.common.envs import load_factory, parse_env_kwargs
from baselines.common.networks import Actor
from baselines.common.policy import build_policy_from_checkpoint
from baselines.common.rollout import agent_teams
from baselines.common.video import VideoWriter, check_video_path


def make_parallel_env(env_id: str, render_mode: str | None, **kwargs):
    """Our env id or ``module:function`` -> a PettingZoo parallel env."""
    if ":" in env_id:
        return load_factory(env_id)(render_mode=render_mode, **kwargs)
    from marl_envs.api import ParallelEnv

    return ParallelEnv(env_id, render_mode=render_mode, **kwargs)


def load_actor(payload: dict, obs_dim: int, num_agents: int, action_space) -> tuple[Actor, bool]:
    """Rebuild the trained actor of a single-agent run (TRPO, NPG) for an env with these spaces (a mismatch is a
    ValueError). MAPPO/IPPO policies: ``common.policy.build_policy_from_checkpoint``."""
    args = payload["args"]
    use_id = bool(args.get("agent_id", False))
    actor = Actor(obs_dim + (num_agents if use_id else 0), action_space, (args["hidden_size"],) * 2,
                  args.get("activation", "relu"), args.get("feature_norm", True))
    weights = {k[len("actor."):]: v for k, v in payload["actor"].items() if k.startswith("actor.")}
    try:
        actor.load_state_dict(weights)
    except RuntimeError as err:
        raise ValueError(
            f"the checkpoint's actor does not fit this env (obs_dim {obs_dim}, {num_agents} agents, "
            f"actions {action_space}): {str(err).splitlines()[0]}"
        ) from None
    return actor.eval(), use_id


SINGLE_AGENT_ALGOS = ("trpo", "npg")
def make_single_agent_env(env_id: str, render_mode: str | None, **kwargs):
    """A Gymnasium env: a Gymnasium id, or the joint-control view of our id / a ``module:function`` env."""
    from marl_envs import list_envs
    from marl_envs.api import JointControlEnv

    if env_id in list_envs():
        return JointControlEnv(env_id, render_mode=render_mode, **kwargs)
    if ":" in env_id:
        from baselines.common.envs import PettingZooVecEnv

        return JointControlEnv(PettingZooVecEnv(load_factory(env_id), 1, torch.device("cpu"), 0, **kwargs))
    import gymnasium as gym

    return gym.make(env_id, render_mode=render_mode, **kwargs)


def _episodes_single_agent(payload: dict, env, episodes: int, seed: int, stochastic: bool,
                           record: Callable[[np.ndarray], None] | None, render: str | None) -> dict:

    actor, _ = load_actor(payload, env.observation_space.shape[0], 1, env.action_space)
    returns = []
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed + episode)
        if record:
            record(env.render())
        total, over = 0.0, False
        while not over:
            dist = actor.distribution(torch.as_tensor(obs, dtype=torch.float32)[None])
            act = (dist.sample() if stochastic else Actor.deterministic(dist))[0].numpy()
            if hasattr(env.action_space, "low"):
                act = np.clip(act, env.action_space.low, env.action_space.high)
            obs, reward, terminated, truncated, _ = env.step(act)
            total, over = total + float(reward), terminated or truncated
            if record:
                record(env.render())
        returns.append(total)
    return {"returns": returns}


def _per_episode_result(returns: list[float], per_team: dict[str, list[float]], successes: list[bool]) -> dict:
    """{"returns"} plus each team's mean return (team games) and the success rate (envs that report one)."""
    result: dict = {"returns": returns}
    if len(per_team) > 1:
        result["teams"] = {name: float(np.mean(values)) for name, values in per_team.items()}
    if successes:
        result["success_rate"] = float(np.mean(successes))
    return result


def _episodes_multi_agent(payload: dict, env, episodes: int, seed: int, stochastic: bool,
                          record: Callable[[np.ndarray], None] | None) -> dict:
    agents = list(env.possible_agents)
    obs_dim = env.observation_space(agents[0]).shape[0]
    policy = build_policy_from_checkpoint(payload, env).cpu()
    teams = agent_teams(agents)  # team-vs-team envs: the first team's return, and each team's
    returns, per_team, successes = [], {name: [] for name in teams}, []
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed + episode)  # "human": the env shows its reset and steps itself
        policy.reset_memory()  # a recurrent policy starts the episode with a blank memory
        if record:
            record(env.render())
        totals = dict.fromkeys(teams, 0.0)
        infos = {}
        while env.agents:
            x = torch.as_tensor(np.stack([obs.get(a, np.zeros(obs_dim, np.float32)) for a in agents]))
            act = policy.act(x[None], None, deterministic=not stochastic)[0].numpy()
            obs, rewards, _, _, infos = env.step({a: act[i] for i, a in enumerate(agents) if a in env.agents})
            for name, members in teams.items():
                totals[name] += float(sum(rewards.get(agents[i], 0.0) for i in members))
            if record:
                record(env.render())
        returns.append(totals[next(iter(teams))])
        for name, value in totals.items():
            per_team[name].append(value)
        last_info = next(iter(infos.values()), {})  # the episode's last step (Gymnasium's "is_success")
        if "is_success" in last_info:
            successes.append(bool(last_info["is_success"]))
    return _per_episode_result(returns, per_team, successes)


@torch.no_grad()
def _episodes_batched(payload: dict, env_id: str, kwargs: dict, episodes: int, seed: int, stochastic: bool,
                      batch: int, device: str) -> dict:
    """``episodes`` episodes of one of our envs in ``make_batched`` worlds, up to ``batch`` at once.

    Only each world's first episode counts: taking whichever episodes end first would favour short ones (in
    transport_v0, the successful ones). The round that starts at episode i resets its worlds with seed
    ``seed + i``: with ``batch=1`` episode i is exactly the PettingZoo path's (reset with ``seed + i``).
    """
    from marl_envs import make_batched

    per_team: dict[str, list[float]] = {}
    successes: list[bool] = []
    for start in range(0, episodes, batch):
        n = min(batch, episodes - start)
        env = make_batched(env_id, num_envs=n, device=device, seed=seed + start, **kwargs)
        try:
            policy = build_policy_from_checkpoint(payload, env).to(env.device)
            teams = agent_teams(list(env.agents))
            obs, _ = env.reset(seed=seed + start)
            policy.reset_memory()
            finished = torch.zeros(n, dtype=torch.bool, device=env.device)
            round_returns = torch.zeros(n, env.num_agents)
            round_success = torch.zeros(n, dtype=torch.bool)
            while not bool(finished.all()):
                obs, _, terminated, truncated, info = env.step(policy.act(obs, None, deterministic=not stochastic))
                ended = (terminated | truncated).any(dim=1)
                first = (ended & ~finished).cpu()
                if bool(first.any()):
                    round_returns[first] = info["episode_return"].float().cpu()[first]
                    if env.scenario.has_success:
                        round_success[first] = info["is_success"].cpu()[first]
                    finished |= ended
                    policy.reset_memory(ended)
        finally:
            env.close()
        for name, members in teams.items():
            per_team.setdefault(name, []).extend(round_returns[:, members].sum(dim=1).tolist())
        if env.scenario.has_success:
            successes.extend(round_success.tolist())
    return _per_episode_result(per_team[next(iter(per_team))], per_team, successes)


def _summary(env_id: str, episodes: int, result: dict) -> dict:
    returns = result.pop("returns")
    return {"env_id": env_id, "episodes": episodes, "mean": float(np.mean(returns)), "std": float(np.std(returns)),
            "returns": returns, **result}


def render_fps(env, default: float = 10.0) -> float:
    """The env's ``metadata["render_fps"]``, else ``default``."""
    fps = (getattr(env, "metadata", None) or {}).get("render_fps")
    return float(fps) if isinstance(fps, int | float) and fps > 0 else default


@torch.no_grad()
def evaluate(checkpoint: str, episodes: int = 10, env_id: str | None = None, env_kwargs: str | None = None,
             render: str | None = None, video: str | None = None, seed: int = 0, stochastic: bool = False,
             on_frame: Callable[[np.ndarray], None] | None = None, batch: int = 1000, device: str = "cpu") -> dict:
    """Run ``episodes`` episodes; return {"env_id", "episodes", "mean", "std", "returns"} (plus "teams",
    "success_rate" where they apply, and "video", "frames", "fps" when recording).

    Multi-agent policies on our env ids, neither shown nor recorded, play ``batch`` worlds at once on ``device``
    (``make_batched``; each world's first episode counts); the others play one PettingZoo (or Gymnasium) episode
    after another, episode i reset with seed ``seed + i``.

    Args:
        render: None or "human" (a window).
        video: record to this .mp4 or .gif file (frame rule in the module docstring); checked before anything runs.
        on_frame: also called with each recorded (H, W, 3) uint8 frame, in the same order (rendering in
            "rgb_array" mode even without ``video``).
    """
    if render not in (None, "human"):
        raise ValueError(f"render must be None or 'human', got {render!r}")
    recording = video is not None or on_frame is not None
    if render and recording:
        raise ValueError("render='human' and recording a video are exclusive (one render mode per env)")
    if video is not None:
        check_video_path(video)
    payload = load_checkpoint(checkpoint)
    saved = payload["args"]
    env_id = env_id or saved["env_id"]
    if env_kwargs is not None:
        kwargs = parse_env_kwargs(env_kwargs)
    else:  # the run's env, less its training-only arguments (start-state curricula): the game itself
        from marl_envs import evaluation_kwargs

        kwargs, dropped = evaluation_kwargs(env_id, parse_env_kwargs(saved.get("env_kwargs", "{}")))
        if dropped:
            print(f"evaluating without the run's training-only env arguments {dropped} (pass --env-kwargs to keep "
                  "them)", file=sys.stderr)
    render_mode = "rgb_array" if recording else render
    single = payload["algo"] in SINGLE_AGENT_ALGOS
    if single and render_mode and ":" in env_id:
        raise ValueError(f"cannot render a {payload['algo']} run on {env_id!r}: the joint view of a PettingZoo "
                         "factory env does not render; evaluate without --render/--video")
    torch.manual_seed(seed)
    from marl_envs import list_envs

    if not single and render_mode is None and env_id in list_envs():
        return _summary(env_id, episodes, _episodes_batched(payload, env_id, kwargs, episodes, seed, stochastic,
                                                            batch, device))
    env = make_single_agent_env(env_id, render_mode, **kwargs) if single else make_parallel_env(
        env_id, render_mode, **kwargs)
    fps = render_fps(env)
    writer = VideoWriter(video, fps) if video is not None else None
    record = None
    if recording:
        def record(frame: np.ndarray) -> None:
            if writer is not None:
                writer.append(frame)
            if on_frame is not None:
                on_frame(frame)
    try:
        if single:
            result = _episodes_single_agent(payload, env, episodes, seed, stochastic, record, render)
        else:
            result = _episodes_multi_agent(payload, env, episodes, seed, stochastic, record)
    finally:
        env.close()
        if writer is not None:
            writer.close()
    summary = _summary(env_id, episodes, result)
    if writer is not None:
        summary.update(video=video, frames=writer.count, fps=fps)
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=prog_name("baselines.evaluate"), description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", nargs="?", default=None,
                        help="a run directory or a checkpoint file (team games: the default player of every team)")
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--env-id", default=None, help="evaluate on another env with the same spaces")
    parser.add_argument("--env-kwargs", default=None, help="JSON env arguments (default: the training run's)")
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--render", choices=["human"], default=None, help="show the episodes in a window")
    shown.add_argument("--video", default=None,
                       help="record the episodes to this .mp4 or .gif file (one frame per reset and per step)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stochastic", action="store_true", help="sample actions instead of the most likely")
    parser.add_argument("--json", default=None, help="also write the result to this JSON file")
    parser.add_argument("--device", default="cpu",
                        help="device of the batched games (cpu, cuda): team games, and our envs when not shown")
    parser.add_argument("--batch", type=int, default=1000, help="worlds played at once in batched games")
    crossplay.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.episodes < 1:
        parser.error("--episodes must be >= 1")
    if args.video is not None:
        try:
            check_video_path(args.video)
        except ValueError as err:
            parser.error(f"--video: {err}")
    if crossplay.requested(args):
        crossplay.run_cli(args, parser)
        return
    if args.games_csv is not None:
        parser.error("--games-csv is for team games (--hiders/--seekers/--team); one policy's episode returns are "
                     "in --json's \"returns\"")
    if args.checkpoint is None:
        parser.error("give a run directory or checkpoint (or team players: --hiders/--seekers/--team)")
    if args.batch < 1:
        parser.error("--batch must be >= 1")
    result = evaluate(args.checkpoint, args.episodes, args.env_id, args.env_kwargs, args.render, args.video,
                      args.seed, args.stochastic, batch=args.batch, device=args.device)
    half = 1.96 * result["std"] / math.sqrt(args.episodes)
    print(f"{result['env_id']}: team return {result['mean']:.2f} ± {result['std']:.2f} (std) "
          f"over {args.episodes} episodes (95% CI ± {half:.2f})")
    if "teams" in result:
        print("per team: " + ", ".join(f"{name} {value:.2f}" for name, value in result["teams"].items()))
    if "success_rate" in result:
        print(f"success rate {result['success_rate']:.1%} over {args.episodes} episodes")
    if "video" in result:
        print(f"saved {result['frames']} frames ({result['fps']:g} fps) to {result['video']}")
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)


if __name__ == "__main__":
    main()
