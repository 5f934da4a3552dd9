"""A training run's lifecycle: run directory, seeding, env, networks, resume, logging, checkpoints.

Shared by every on-policy baseline so that each algorithm file holds only its math and
its loop. ``start_run`` either builds everything fresh or restores it all from the run's
latest checkpoint (networks, optimisers, normalisers, RNG states and the env's worlds),
so that a resumed run continues exactly where it stopped.
"""

from __future__ import annotations

import dataclasses
import os
import time
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch

from baselines.common.checkpoint import load_checkpoint, save_checkpoint, save_policy
from baselines.common.cli import prog_name
from baselines.common.collector import LocalCollector
from baselines.common.config import CommonArgs
from baselines.common.console import RunConsole, describe_status
from baselines.common.envs import make_vec_env, parse_env_kwargs
from baselines.common.interrupt import StopRequest
from baselines.common.logger import RunLogger

#: command-line arguments that a resumed run takes from the new invocation, not the checkpoint
RESUME_OVERRIDES = ("resume", "stop_after_updates", "progress", "log_interval", "torch_threads", "tensorboard",
                    "checkpoint_every", "backend", "num_workers", "worker_device", "ray_address")
RESUME_IF_GIVEN = ("curriculum", "curriculum_patience")
"""Arguments a resumed run keeps from its checkpoint unless the command line gives them (a curriculum step found
after the run started can join it)."""
BACKENDS = ("local", "ray")
NAMESPACES = {"episodic_return": "charts", "episodic_length": "charts", "success_rate": "charts", "SPS": "charts",
              "learning_rate": "charts"}


def plan_updates(args: Any) -> tuple[int, int]:
    """(updates, env steps per update) of a run: whole rollouts of ``num_envs * num_steps`` steps, so
    ``--total-timesteps`` rounds down to a multiple of the batch (at least one update)."""
    batch_steps = args.num_envs * args.num_steps
    return max(1, args.total_timesteps // batch_steps), batch_steps


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"--device {name} requested but CUDA is not available; use --device cpu or auto")
    return device


@dataclass
class Run:
    args: Any
    algo: str
    run_dir: str
    env: Any
    agent: torch.nn.Module
    optimizers: tuple
    collector: Any  # LocalCollector or RayCollector: where rollouts come from
    logger: RunLogger
    update: int = 0
    global_step: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    console: RunConsole | None = None
    stop: StopRequest = field(default_factory=StopRequest)
    extras: dict[str, Any] = field(default_factory=dict)
    _saved_extras: dict[str, Any] = field(default_factory=dict)
    _start: float = field(default_factory=time.time)

    def register(self, name: str, obj: Any) -> Any:
        """Save ``obj`` (``state_dict``/``load_state_dict``) in every checkpoint; restore it now on resume."""
        self.extras[name] = obj
        if name in self._saved_extras:
            obj.load_state_dict(self._saved_extras[name])
        return obj

    def log(self, metrics: dict[str, float], namespaces: dict[str, str] | None = None) -> None:
        """Append one row; ``namespaces`` overrides the TensorBoard prefix of some metrics (e.g. ``trpo/``)."""
        row = {"global_step": self.global_step, "wall_time": round(time.time() - self._start, 3), **metrics}
        self.history.append(row)
        default = {k: "charts" if k.startswith("episodic_") else "losses" for k in metrics if k not in NAMESPACES}
        self.logger.log(row, {**NAMESPACES, **default, **(namespaces or {})})
        if self.console is not None:
            self.console.update(self.update, self.global_step, row)

    def save(self) -> str:
        return save_checkpoint(self.run_dir, self._payload(), self.update)

    def save_policy(self, path: str) -> str:
        """A policy-only file (``checkpoint.save_policy``) at ``path`` relative to the run directory."""
        return save_policy(os.path.join(self.run_dir, path), self._payload(policy_only=True))

    def _payload(self, policy_only: bool = False) -> dict:
        """What a checkpoint holds; ``policy_only``: just what acting needs (no optimisers, worlds or RNG)."""
        payload = {"algo": self.algo, "args": dataclasses.asdict(self.args), "update": self.update,
                   "global_step": self.global_step, "actor": self.agent.state_dict()}
        if hasattr(self.agent, "spec"):  # everything needed to rebuild the policy (common/policy.py)
            payload["policy_spec"] = self.agent.spec
        if policy_only:
            return payload
        return payload | {
            "optimizers": [opt.state_dict() for opt in self.optimizers],
            "rng": {"torch": torch.get_rng_state(),
                    "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None},
            "collector": self.collector.state_dict(), "wall_time": time.time() - self._start,
            "extras": {name: obj.state_dict() for name, obj in self.extras.items()},
        }

    def close(self, error: BaseException | None = None) -> None:
        """Close logs, collector and env, then print the closing summary (``error``: what stopped the run)."""
        if self.console is not None:
            num_updates = self.console.num_updates
            finished = self.update >= num_updates
            status = describe_status(finished, self.stop.requested, error, self.args.stop_after_updates)
            resume = None if finished else f"{prog_name('baselines.' + self.algo)} --resume {self.run_dir}"
            self.console.close(self.update, self.global_step, time.time() - self._start, status, resume)
        self.logger.close()
        self.collector.close()
        if not isinstance(self.collector, LocalCollector) and hasattr(self.env, "close"):
            self.env.close()  # the ray backend's metadata env (the local collector closes its own)

    def end_update(self, num_updates: int, done_this_call: int) -> bool:
        """Checkpoint on the ``checkpoint_every`` cadence and at the last update; True (after saving)
        when ``--stop-after-updates`` says this call of ``train`` has done enough or Ctrl-C asked to stop."""
        self.stop.update = self.update
        enough = self.args.stop_after_updates is not None and done_this_call >= self.args.stop_after_updates
        if self.stop.requested:
            print(f"interrupted: saving a checkpoint at update {self.update} in {self.run_dir}", flush=True)
        if (enough or self.stop.requested or self.update % self.args.checkpoint_every == 0
                or self.update == num_updates):
            self.save()
        return enough or self.stop.requested

    @contextmanager
    def guard(self):
        """Around a training loop: Ctrl-C stops the run at the end of the update in progress with a
        checkpoint (``interrupt.py`` says why not at once); a second Ctrl-C, or a ``KeyboardInterrupt``
        raised by other code, saves where the loop stands. The logs, progress bar and env are
        closed whatever happens."""
        self.stop.update = self.update  # a resumed run starts past update 0
        error = None
        try:
            with self.stop.deferred():
                yield self
        except KeyboardInterrupt:
            print(f"\ninterrupted: saving a checkpoint at update {self.update} in {self.run_dir}", flush=True)
            self.stop.requested = True
            self.save()
        except BaseException as exc:
            error = exc
            raise
        finally:
            self.close(error)


def start_run(args: CommonArgs, algo: str, make_agent: Callable[[Any, Any], torch.nn.Module],
              make_optimizers: Callable[[torch.nn.Module, Any], tuple] | None = None,
              make_env: Callable[..., Any] = make_vec_env) -> Run:
    """Build (or restore with ``args.resume``) everything a training loop needs.

    ``make_env(env_id, num_envs, device, seed, **env_kwargs)`` builds the vector env
    (default: the multi-agent ``make_vec_env``; TRPO/NPG pass ``make_single_agent_vec_env``).
    """
    payload = None
    if args.resume:
        payload = load_checkpoint(args.resume)
        if payload["algo"] != algo:
            raise ValueError(f"{args.resume!r} holds a {payload['algo']} run, not {algo}")
        defaults = {f.name: f.default for f in dataclasses.fields(args)}
        given = {k for k in RESUME_IF_GIVEN if k in defaults and getattr(args, k) != defaults[k]}
        saved = {k: v for k, v in payload["args"].items() if k not in RESUME_OVERRIDES and k not in given}
        args = dataclasses.replace(args, **saved)
        args.run_dir = args.resume if os.path.isdir(args.resume) else os.path.dirname(os.path.dirname(args.resume))
    if args.backend not in BACKENDS:
        raise ValueError(f"--backend must be one of {list(BACKENDS)}, got {args.backend!r}")
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    device = resolve_device(args.device)
    torch.manual_seed(args.seed)
    default_dir = f"{args.env_id.replace(':', '_')}__{algo}__{args.seed}__{int(time.time())}"
    run_dir_given = bool(args.run_dir)
    run_dir = args.run_dir or os.path.join("runs", default_dir)
    args.run_dir = run_dir
    env_kwargs = parse_env_kwargs(args.env_kwargs)
    # The ray backend's workers own the envs; here one world is enough to read the spaces and agents.
    local_worlds = args.num_envs if args.backend == "local" else 1
    env = make_env(args.env_id, local_worlds, device, args.seed, **env_kwargs)
    obs, info = env.reset(seed=args.seed)
    agent = make_agent(env, args).to(device)
    if payload is None and args.init_from:  # before the run directory exists: a mismatch leaves nothing behind
        warm_start(agent, args.init_from, algo)
    optimizers = (make_optimizers or _adam_pair)(agent, args)
    if args.backend == "local":
        collector = LocalCollector(env, obs, info["state"], args.seed, device, compile=getattr(args, "compile", False))
    else:
        from baselines.common.ray_backend import RayCollector

        if args.worker_device not in ("cpu", "cuda"):
            raise ValueError(f"--worker-device must be cpu or cuda, got {args.worker_device!r}")
        collector = RayCollector(make_env, args.env_id, env_kwargs, args.num_envs, args.num_workers, args.seed,
                                 device, args.worker_device, args.ray_address, args.torch_threads or 1)
    hparams = {"algo": algo, **dataclasses.asdict(args)}
    logger = RunLogger(run_dir, hparams, args.tensorboard, resume=payload is not None)
    run = Run(args=args, algo=algo, run_dir=run_dir, env=env, agent=agent, optimizers=optimizers,
              collector=collector, logger=logger)
    if payload is not None:
        agent.load_state_dict(payload["actor"])
        for opt, state in zip(optimizers, payload["optimizers"], strict=True):
            opt.load_state_dict(state)
        torch.set_rng_state(payload["rng"]["torch"])
        if payload["rng"]["cuda"] is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(payload["rng"]["cuda"])
        _restore_collector(collector, payload)
        run.update, run.global_step = payload["update"], payload["global_step"]
        run._saved_extras = payload.get("extras", {})
        run._start -= payload.get("wall_time", 0.0)
    num_updates, batch_steps = plan_updates(args)
    run.console = RunConsole(algo, run_dir, num_updates, batch_steps, args.total_timesteps, run.update,
                             run.global_step, args.progress, args.log_interval, run_dir_given or payload is not None)
    return run


def warm_start(agent: torch.nn.Module, source: str, algo: str) -> None:
    """Load the networks of ``source`` (a run directory or checkpoint) into a new run's ``agent`` (--init-from).

    Why: a later stage of an open-ended task (hide-and-seek's ramp use after the door shelter) or another setting
    of the env can start from a policy trained before, without continuing that run's optimiser, schedule and
    counters as --resume does. Only the networks' state (weights and value normalisers) is taken; a checkpoint of
    networks of other shapes (another env, policy or size) is a ValueError naming both, before any update."""
    payload = load_checkpoint(source)
    try:
        agent.load_state_dict(payload["actor"])
    except RuntimeError as err:
        detail = str(err).strip().splitlines()
        raise ValueError(f"--init-from {source!r}: its networks ({payload['algo']} on {payload['args'].get('env_id')}) "
                         f"do not fit this run's: {' '.join(line.strip() for line in detail[:4])}") from None
    print(f"[{algo}] networks initialised from {source} ({payload['algo']} on {payload['args'].get('env_id')}, "
          f"update {payload['update']}, {payload['global_step']:,} env steps)", flush=True)


def _restore_collector(collector, payload: dict) -> None:
    """Continue the episodes of a checkpoint where the layout allows (our envs resume mid-episode)."""
    saved = payload.get("collector")
    if saved is None and payload.get("env") is not None:  # checkpoints before the collectors
        saved = {"env": payload["env"], "obs": payload["obs"], "state": payload["state"], "rng": None}
    if saved is None:
        return
    if ("workers" in saved) == isinstance(collector, LocalCollector):
        warnings.warn("resuming with another --backend: the envs start new episodes", stacklevel=3)
        return
    collector.load_state_dict(saved)


def _adam_pair(agent: torch.nn.Module, args: Any) -> tuple:
    """One Adam for the actor, one for the critic (MAPPO's reference code; eps 1e-5 as in PPO).

    The fused kernel updates every parameter in one op (CPU and CUDA), the cheapest step for
    small networks.
    """
    return (torch.optim.Adam(agent.actor.parameters(), lr=args.learning_rate, eps=1e-5, fused=True),
            torch.optim.Adam(list(agent.critic.parameters()), lr=args.critic_learning_rate, eps=1e-5, fused=True))
