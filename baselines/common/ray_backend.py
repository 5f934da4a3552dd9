"""``--backend ray``: rollout workers as Ray actors, on this machine or across a Ray cluster.

Each worker is a Ray actor that owns a batched env (``num_envs / num_workers`` worlds of it),
i.e. a ``LocalCollector`` in another process. Every update the learner (the driver, on its GPU
when present) puts a CPU copy of the acting policy, module and weights, into Ray's object store
once (the module itself, not a state dict: the acting policy can change shape between updates,
e.g. the current policy with a frozen opponent snapshot; for these small networks the copy costs
little), each worker takes it, collects ``num_steps`` steps of its worlds and sends back its rollout
(time-major CPU tensors) with its finished-episode figures; the learner concatenates the rollouts
along the world axis and updates as with the local backend. The algorithm code is the same.

Seeds: worker i seeds its env and its action stream with ``seed + SEED_STRIDE * i``, so one worker
(``--num-workers 1``) reproduces the local backend's run exactly, and more workers give
independent, reproducible streams.

Faults: a worker that dies (a crashed process, a lost node) is replaced by a fresh one, which is
sent the weights and collects that update's share again, so an update never trains on a partial
batch; its worlds start new episodes. After ``max_restarts`` replacements in a run the collector
raises instead. Ctrl-C reaches the driver, which checkpoints (``Run.guard``) and closes the
collector: the workers are killed, and Ray is shut down if this run started it.

Ray is optional: ``pip install "marl-envs[ray]"``. Without ``--ray-address``, ``ray.init`` starts a
local Ray; with one (``auto`` or ``HOST:PORT``), the run joins that cluster.
"""

from __future__ import annotations

import copy
import os
import time
import warnings
from typing import Any

import torch

from baselines.common.collector import LocalCollector, MakeEnv, concat_rollouts, merge_stats
from baselines.common.rollout import EpisodeStats

SEED_STRIDE = 10_007
"""Seed offset between workers (a prime, so worker streams of nearby run seeds do not coincide)."""

INSTALL_HINT = ('--backend ray needs Ray: pip install "marl-envs[ray]" (or pip install "ray>=2.9"); '
                "--backend local runs without it")


def import_ray():
    """Ray, or an ImportError that says how to install it."""
    try:
        import ray
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    return ray


def start_ray(address: str | None = None) -> bool:
    """Start (or join, with ``address``) Ray unless it is running; True if this call started it."""
    ray = import_ray()
    if ray.is_initialized():
        return False
    # runtime_env: the workers import this project from the driver's working directory when it is a
    # checkout rather than an installed package.
    path = os.pathsep.join(p for p in (os.getcwd(), os.environ.get("PYTHONPATH", "")) if p)
    ray.init(address=address, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": path}})
    return True


class RolloutWorker:
    """The body of a worker actor: a ``LocalCollector`` over its own env; the policy comes with each collect."""

    def __init__(self, make_env: MakeEnv, env_id: str, num_envs: int, device: str, seed: int,
                 env_kwargs: dict, threads: int | None):
        if threads:
            torch.set_num_threads(threads)
        self.device = torch.device(device)
        env = make_env(env_id, num_envs, self.device, seed, **env_kwargs)
        obs, info = env.reset(seed=seed)
        self.collector = LocalCollector(env, obs, info["state"], seed, self.device)

    def collect(self, agent: torch.nn.Module, num_steps: int, teams: dict[str, list[int]]):
        """Collect with the learner's acting policy; return (rollout, next_values, stats, seconds) on CPU."""
        tick = time.perf_counter()
        agent = agent.to(self.device)
        stats = EpisodeStats(teams)
        rollout, next_values = self.collector.collect(agent, num_steps, stats)
        rollout = type(rollout)(**{k: v.cpu() for k, v in rollout.as_dict().items()})
        return rollout, next_values.cpu(), stats, time.perf_counter() - tick

    def set_training_kwargs(self, kwargs: dict) -> None:
        self.collector.set_training_kwargs(**kwargs)

    def state_dict(self) -> dict[str, Any]:
        return self.collector.state_dict()

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        self.collector.load_state_dict(saved)

    def crash(self) -> None:
        """Kill this worker's process (fault-tolerance tests)."""
        os._exit(1)


class RayCollector:
    """Rollouts from ``num_workers`` Ray actors, concatenated along the world axis.

    Args:
        make_env: ``make_env(env_id, num_envs, device, seed, **env_kwargs)``, importable by the workers.
        env_id, env_kwargs: the env.
        num_envs: worlds in all; split as evenly as possible over the workers.
        num_workers: Ray actors.
        seed: the run's seed (worker i uses ``seed + SEED_STRIDE * i``).
        learner_device: where the concatenated rollout goes.
        worker_device: "cpu" or "cuda" for the workers' envs and policy copies.
        ray_address: None starts a local Ray; "auto" or "HOST:PORT" joins a cluster.
        threads: torch threads per worker (default 1: one core per worker).
        max_restarts: worker replacements allowed over the run before giving up.
    """

    def __init__(self, make_env: MakeEnv, env_id: str, env_kwargs: dict, num_envs: int, num_workers: int, seed: int,
                 learner_device: torch.device,
                 worker_device: str = "cpu", ray_address: str | None = None, threads: int | None = 1,
                 max_restarts: int = 3):
        ray = import_ray()
        if num_workers < 1:
            raise ValueError(f"--num-workers must be >= 1, got {num_workers}")
        if num_envs < num_workers:
            raise ValueError(f"--num-envs ({num_envs}) must be >= --num-workers ({num_workers}): each worker "
                             "needs at least one world")
        self._ray = ray
        self._started_ray = start_ray(ray_address)
        share, extra = divmod(num_envs, num_workers)
        self.sizes = [share + (i < extra) for i in range(num_workers)]
        self.seeds = [seed + SEED_STRIDE * i for i in range(num_workers)]
        self._spec = (make_env, env_id, worker_device, env_kwargs, threads)
        self._actor_cls = ray.remote(num_cpus=threads or 1, num_gpus=1 if worker_device == "cuda" else 0)(
            RolloutWorker)
        self.learner_device = learner_device
        self.max_restarts, self.restarts = max_restarts, 0
        self.workers = [self._spawn(i) for i in range(num_workers)]
        self.last_overhead = 0.0

    @property
    def num_envs(self) -> int:
        return sum(self.sizes)

    def _spawn(self, i: int):
        make_env, env_id, device, env_kwargs, threads = self._spec
        return self._actor_cls.remote(make_env, env_id, self.sizes[i], device, self.seeds[i], env_kwargs,
                                      threads)

    def collect(self, agent, num_steps: int, stats: EpisodeStats):
        """Send the acting policy once, collect on every worker, replace dead workers; (rollout, next_values)."""
        ray = self._ray
        tick = time.perf_counter()
        weights = ray.put(copy.deepcopy(agent).cpu())
        pending = {self.workers[i].collect.remote(weights, num_steps, stats.teams): i
                   for i in range(len(self.workers))}
        results: list[Any] = [None] * len(self.workers)
        while pending:
            [done], _ = ray.wait(list(pending), num_returns=1)
            i = pending.pop(done)
            try:
                results[i] = ray.get(done)
            except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError) as error:
                self._replace(i, error)
                pending[self.workers[i].collect.remote(weights, num_steps, stats.teams)] = i
        for _, _, worker_stats, _ in results:
            merge_stats(stats, worker_stats)
        rollout, next_values = concat_rollouts([(r, v) for r, v, _, _ in results], self.learner_device)
        # Everything but the slowest worker's own collection: weights out, rollouts back, scheduling.
        self.last_overhead = time.perf_counter() - tick - max(seconds for *_, seconds in results)
        return rollout, next_values

    def set_training_kwargs(self, **kwargs: Any) -> None:
        """Change every worker's training-only env arguments (``--curriculum``); a replacement worker starts
        with them too."""
        make_env, env_id, device, env_kwargs, threads = self._spec
        self._spec = (make_env, env_id, device, {**env_kwargs, **kwargs}, threads)
        self._ray.get([worker.set_training_kwargs.remote(kwargs) for worker in self.workers])

    def _replace(self, i: int, error: Exception) -> None:
        self.restarts += 1
        if self.restarts > self.max_restarts:
            raise RuntimeError(f"rollout worker {i} died and {self.max_restarts} workers were already replaced "
                               f"in this run; giving up (last error: {error})") from error
        warnings.warn(f"rollout worker {i} died ({type(error).__name__}); replacing it and collecting its "
                      f"share of this update again ({self.restarts}/{self.max_restarts} replacements)", stacklevel=3)
        self.seeds[i] += 1  # the replacement plays new episodes, reproducibly
        try:
            self._ray.kill(self.workers[i])
        except Exception:  # already gone
            pass
        self.workers[i] = self._spawn(i)

    def state_dict(self) -> dict[str, Any]:
        """Every worker's env, observation and action stream; None for a worker that is gone (Ctrl-C can
        reach the workers first), whose worlds then start new episodes on resume."""
        states = []
        for worker in self.workers:
            try:
                states.append(self._ray.get(worker.state_dict.remote(), timeout=60))
            except (self._ray.exceptions.RayActorError, self._ray.exceptions.GetTimeoutError):
                states.append(None)
        return {"workers": states, "sizes": self.sizes}

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        if saved.get("sizes") != self.sizes:
            warnings.warn("resuming with another worker layout: the workers start new episodes", stacklevel=2)
            return
        self._ray.get([w.load_state_dict.remote(s) for w, s in zip(self.workers, saved["workers"], strict=True)
                       if s is not None])

    def close(self) -> None:
        for worker in self.workers:
            try:
                self._ray.kill(worker)
            except Exception:  # a worker already gone
                pass
        self.workers = []
        if self._started_ray and self._ray.is_initialized():
            self._ray.shutdown()
