"""Our TRPO against sb3-contrib's on the same task, budget and hyper-parameters, in one process.

    python -m baselines.benchmark --env-id CartPole-v1 --seeds 1 2 3
    python -m baselines.benchmark --env-id Pendulum-v1 --seeds 1 2 3 --json runs/bench_pendulum.json

For each seed both implementations train back to back (ours first, then sb3-contrib's, so
that a busy machine slows both alike), each is evaluated with its deterministic policy on
the same ``--eval-episodes`` episodes, and the script prints the final returns (mean ± std
over seeds) and the wall-time ratio ours / sb3-contrib (training only, evaluation excluded).
Torch runs on ``--torch-threads`` threads (default 1) for both.

Hyper-parameters: rl-baselines3-zoo's tuned TRPO settings for the task (``PRESETS``, from
``hyperparams/trpo.yml``: the TRPO presets of ``common/presets.py``, as ``python -m baselines.trpo``
applies them) given to both implementations, except that neither uses gSDE
(zoo's Pendulum setting; ours has no gSDE) and both use ``--cg-max-steps`` (the TRPO paper's
10; sb3-contrib's default is 15). Our runs are ordinary run directories under ``--runs-dir``.
sb3-contrib is an optional dependency: ``pip install -e ".[bench]"``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from baselines import trpo
from baselines.common.cli import prog_name
from baselines.common.optional import MissingExtra, require
from baselines.common.presets import preset_for
from baselines.evaluate import evaluate

#: rl-baselines3-zoo hyperparams/trpo.yml, in our argument names: the TRPO presets of the CLIs (common/presets.py)
PRESETS: dict[str, dict] = {env_id: preset_for("trpo", env_id) for env_id in ("CartPole-v1", "Pendulum-v1")}
SB3_NAMES = {"num_steps": "n_steps", "critic_batch_size": "batch_size", "cg_damping": "cg_damping",
             "gae_lambda": "gae_lambda", "gamma": "gamma", "critic_learning_rate": "learning_rate",
             "n_critic_updates": "n_critic_updates", "target_kl": "target_kl", "cg_max_steps": "cg_max_steps",
             "line_search_shrinking_factor": "line_search_shrinking_factor",
             "line_search_max_iter": "line_search_max_iter"}


def run_ours(env_id: str, seed: int, settings: dict, run_dir: str, episodes: int) -> tuple[float, float]:
    """(wall seconds of training, mean deterministic evaluation return)."""
    args = trpo.Args(env_id=env_id, seed=seed, run_dir=run_dir, device="cpu", progress=False, tensorboard=False,
                     **settings)
    start = time.perf_counter()
    trpo.train(args)
    wall = time.perf_counter() - start
    return wall, evaluate(run_dir, episodes=episodes, seed=10_000)["mean"]


def run_sb3(env_id: str, seed: int, settings: dict, episodes: int) -> tuple[float, float]:
    """The same with sb3-contrib's TRPO (MlpPolicy: tanh 64x64 actor and critic, as ours)."""
    try:
        TRPO = require("sb3_contrib", "bench", "the sb3-contrib comparison", package="sb3-contrib").TRPO  # noqa: N806
    except MissingExtra as error:
        raise SystemExit(str(error)) from None
    import gymnasium as gym
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy

    kwargs = {SB3_NAMES[k]: v for k, v in settings.items() if k in SB3_NAMES}
    start = time.perf_counter()
    env = make_vec_env(env_id, n_envs=settings["num_envs"], seed=seed)
    model = TRPO("MlpPolicy", env, seed=seed, device="cpu", **kwargs)
    model.learn(total_timesteps=settings["total_timesteps"])
    wall = time.perf_counter() - start
    eval_env = gym.make(env_id)
    eval_env.reset(seed=10_000)
    mean, _ = evaluate_policy(model, eval_env, n_eval_episodes=episodes, deterministic=True)
    return wall, float(mean)


def _summary(values: list[float]) -> str:
    return f"{statistics.mean(values):.1f} ± {statistics.pstdev(values):.1f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=prog_name("baselines.benchmark"), description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env-id", default="CartPole-v1", choices=sorted(PRESETS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--total-timesteps", type=int, default=None, help="override the preset's budget")
    parser.add_argument("--cg-max-steps", type=int, default=10)
    parser.add_argument("--eval-episodes", type=int, default=20)
    parser.add_argument("--torch-threads", type=int, default=1)
    parser.add_argument("--runs-dir", default="runs", help="parent of our run directories")
    parser.add_argument("--only", choices=["ours", "sb3"], default=None, help="run one implementation only")
    parser.add_argument("--json", default=None, help="also write the per-seed figures to this JSON file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.torch_threads)
    settings = {**PRESETS[args.env_id], "cg_max_steps": args.cg_max_steps}
    if args.total_timesteps is not None:
        settings["total_timesteps"] = args.total_timesteps
    results: dict[str, dict[int, tuple[float, float]]] = {"ours": {}, "sb3": {}}
    for seed in args.seeds:
        if args.only != "sb3":
            run_dir = f"{args.runs_dir}/trpo_{args.env_id}_s{seed}"
            results["ours"][seed] = run_ours(args.env_id, seed, settings, run_dir, args.eval_episodes)
            print(f"ours  seed {seed}: return {results['ours'][seed][1]:.1f}, {results['ours'][seed][0]:.1f} s",
                  flush=True)
        if args.only != "ours":
            results["sb3"][seed] = run_sb3(args.env_id, seed, settings, args.eval_episodes)
            print(f"sb3   seed {seed}: return {results['sb3'][seed][1]:.1f}, {results['sb3'][seed][0]:.1f} s",
                  flush=True)
    print(f"\n{args.env_id}, {settings['total_timesteps']:,} steps, seeds {args.seeds}, "
          f"{args.torch_threads} torch thread(s), deterministic evaluation over {args.eval_episodes} episodes")
    for name, label in (("ours", "baselines.trpo"), ("sb3", "sb3-contrib TRPO")):
        if results[name]:
            walls, returns = zip(*results[name].values(), strict=True)
            print(f"  {label:<17} return {_summary(list(returns))}   wall {_summary(list(walls))} s")
    if results["ours"] and results["sb3"]:
        ratio = sum(w for w, _ in results["ours"].values()) / sum(w for w, _ in results["sb3"].values())
        print(f"  wall-time ratio ours / sb3-contrib: {ratio:.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"env_id": args.env_id, "settings": settings, "seeds": args.seeds,
                       **{name: {str(s): {"wall_s": w, "return": r} for s, (w, r) in res.items()}
                          for name, res in results.items()}}, fh, indent=2)


if __name__ == "__main__":
    main()
