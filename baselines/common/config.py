"""Arguments every baseline shares; each algorithm's ``Args`` extends this dataclass.

Field docstrings become ``--help`` text through tyro (CleanRL's choice: the dataclass is
the single source of the CLI, its defaults and its documentation).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CommonArgs:
    env_id: str = "spread_v0"
    """env id: one of ours (e.g. spread_v0), or a PettingZoo parallel env factory as module:function
    (e.g. mpe2.simple_spread_v3:parallel_env)"""
    env_kwargs: str = "{}"
    """JSON object of keyword arguments for the env, e.g. '{"N": 3, "local_ratio": 0.5}'"""
    seed: int = 1
    """seed of the env, the networks and the action sampling"""
    device: str = "auto"
    """auto (cuda if available), cpu, cuda or cuda:N"""
    num_envs: int = 256
    """number of parallel worlds"""
    total_timesteps: int = 2_000_000
    """env steps (one world advanced by one step) of the whole run"""
    run_dir: str | None = None
    """run directory for config.json, metrics.csv, events, checkpoints; None: runs/ENV__ALGO__SEED__TIME"""
    checkpoint_every: int = 20
    """save a checkpoint every this many updates (and always at the end or on Ctrl-C)"""
    resume: str | None = None
    """continue the run in this run directory from its latest checkpoint"""
    init_from: str | None = None
    """start a new run from the networks of another run (its directory or a checkpoint file): its weights and
    value normalisers, with fresh optimisers, counters and this invocation's arguments (a warm start, as
    rl-baselines3-zoo's --trained-agent); the networks must have the same shapes"""
    stop_after_updates: int | None = None
    """checkpoint and stop after this many updates in this invocation (for time-boxed jobs; resume later)"""
    torch_threads: int | None = None
    """torch CPU threads; None: torch's choice"""
    progress: bool = True
    """show a progress bar with SPS and the latest return when stdout is a terminal (else plain log lines)"""
    log_interval: float = 30.0
    """seconds between two plain log lines, printed when stdout is not a terminal or with --no-progress
    (0: one line per update)"""
    tensorboard: bool = True
    """write TensorBoard event files to the run directory"""
    backend: str = "local"
    """where rollouts are collected: local (this process) or ray (Ray actors; pip install "marl-envs[ray]")"""
    num_workers: int = 2
    """ray backend: rollout worker actors, num_envs split between them"""
    worker_device: str = "cpu"
    """ray backend: device of the workers' envs and policy copies (cpu or cuda)"""
    ray_address: str | None = None
    """ray backend: a Ray cluster to join (auto or HOST:PORT); None: start Ray on this machine"""
