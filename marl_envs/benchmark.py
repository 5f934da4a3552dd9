"""Env-steps per second of our envs, and of MPE2 / VMAS side by side with ``--compare``.

    python -m marl_envs.benchmark                      # spread_v0 on cpu (and cuda if present)
    python -m marl_envs.benchmark --compare            # + MPE2 simple_spread_v3 (+ VMAS if installed)
    python -m marl_envs.benchmark --batch-sizes 1 4096 --continuous --threads 2
    python -m marl_envs.benchmark --env-id hide_and_seek_v1 --batch-sizes 1 64 4096 --compile
    python -m marl_envs.benchmark --env-id hide_and_seek_v1 --batch-sizes 4096 --threads 2 --load 1

``--load N`` runs N busy Python loops beside the timing (a shared machine, reproducibly): compare
its rows with the same command without it; a fair share on C cores is about (C - N) / C of the idle
figure when the env's threads fill the machine.

An env-step is one world advanced by one step (B worlds stepped once = B env-steps).
Actions are random and valid, drawn before timing from a pool so that the timing is
the env's alone; finished episodes reset (autoreset in the batched API, ``reset()`` in
the PettingZoo loop). Each row runs for ``--seconds`` after a warm-up.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import numpy as np
import torch

from marl_envs.api.batched import make_batched, resolve_compile_mode
from marl_envs.api.parallel import ParallelEnv
from marl_envs.registry import get_scenario_class

POOL = 16


def _timed(step: Callable[[int], None], seconds: float, warmup: int = 20, sync: Callable[[], None] = lambda: None):
    """Call ``step(i)`` repeatedly for ``seconds``; return (calls, elapsed seconds)."""
    for i in range(warmup):
        step(i)
    sync()
    calls, start = 0, time.perf_counter()
    while True:
        for _ in range(10):
            step(calls)
            calls += 1
        sync()
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls, elapsed


def _random_dict_actions(env, rng: np.random.Generator) -> list[dict]:
    pool = []
    for _ in range(POOL * 8):
        acts = {}
        for agent in env.possible_agents:
            space = env.action_space(agent)
            if hasattr(space, "nvec"):
                acts[agent] = rng.integers(space.nvec).astype(np.int64)
            elif hasattr(space, "n"):
                acts[agent] = int(rng.integers(space.n))
            else:
                acts[agent] = rng.uniform(space.low, space.high).astype(np.float32)
        pool.append(acts)
    return pool


def bench_parallel(make_env: Callable[[], object], seconds: float) -> float:
    """Env-steps/s of a PettingZoo parallel env (one world) under random actions."""
    env = make_env()
    env.reset(seed=0)
    pool = _random_dict_actions(env, np.random.default_rng(0))

    def step(i: int) -> None:
        env.step(pool[i % len(pool)])
        if not env.agents:
            env.reset()

    calls, elapsed = _timed(step, seconds)
    env.close()
    return calls / elapsed


def bench_batched(env_id: str, num_envs: int, device: str, seconds: float, continuous: bool,
                  compile: bool = False, **kwargs) -> float:
    """Env-steps/s of ``num_envs`` worlds through the batched API (compile time excluded: warm-up)."""
    if continuous:
        kwargs["continuous_actions"] = True
    env = make_batched(env_id, num_envs=num_envs, device=device, seed=0, check_inputs=False, compile=compile,
                       **kwargs)
    env.reset()
    pool = random_action_pool(env, POOL, device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    calls, elapsed = _timed(lambda i: env.step(pool[i % POOL]), seconds, sync=sync)
    return calls * num_envs / elapsed


def random_action_pool(env, size: int, device: str) -> torch.Tensor:
    """(size, B, A, ...) valid random actions for a batched env, of whatever action kind it has."""
    gen = torch.Generator(device=device).manual_seed(0)
    spec = env.action_spec
    shape = (size, env.num_envs, env.num_agents)
    if spec.kind == "continuous":
        return torch.rand(*shape, *spec.shape, generator=gen, device=device)
    if spec.kind == "multi_discrete":
        nvec = torch.tensor(spec.nvec, device=device)
        return (torch.rand(*shape, len(spec.nvec), generator=gen, device=device) * nvec).long()
    return torch.randint(0, spec.n, shape, generator=gen, device=device)


def bench_vmas(num_envs: int, device: str, seconds: float) -> float | None:
    """Env-steps/s of VMAS ``simple_spread`` (continuous), or None if VMAS is not installed."""
    try:
        import vmas
    except ImportError:
        return None
    env = vmas.make_env("simple_spread", num_envs=num_envs, device=device, continuous_actions=True, seed=0)
    env.reset()
    gen = torch.Generator(device=device).manual_seed(0)
    pools = [torch.rand(POOL, num_envs, 2, generator=gen, device=device) * 2 - 1 for _ in env.agents]
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)

    def step(i: int) -> None:
        _, _, dones, _ = env.step([p[i % POOL] for p in pools])
        env.reset_at_dones(dones) if hasattr(env, "reset_at_dones") else None

    calls, elapsed = _timed(step, seconds, sync=sync)
    return calls * num_envs / elapsed


DEFAULT_BATCH_SIZES = {"spread_v0": [1, 64, 4096, 32768], "transport_v0": [1, 64, 4096, 32768],
                       "hide_and_seek_v1": [1, 64, 4096]}


@contextlib.contextmanager
def busy_neighbours(count: int) -> Iterator[list[subprocess.Popen]]:
    """``count`` processes that each keep one core busy (a pure Python loop) until the block ends, or until
    this process dies: a benchmark killed from outside (Ctrl-C twice, ``kill``) leaves no loop spinning."""
    loop = f"import os\nwhile os.getppid() == {os.getpid()}: pass"  # reparented once this process is gone
    procs = [subprocess.Popen([sys.executable, "-c", loop]) for _ in range(count)]
    try:
        yield procs
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def _bench_env(env_id: str, args, devices: list[str], batch_sizes: list[int], row) -> None:
    """The rows of one env: PettingZoo B=1, then the batched sizes per device (+ references with --compare)."""
    pz_kwargs = {"continuous_actions": True} if args.continuous else {}
    ours_pz = bench_parallel(lambda: ParallelEnv(env_id, **pz_kwargs), args.seconds)
    row(f"{env_id} pettingzoo parallel B=1 cpu", ours_pz)
    if args.pz_compile:
        compiled_pz = bench_parallel(lambda: ParallelEnv(env_id, compile=True, **pz_kwargs), args.seconds)
        row(f"{env_id} pettingzoo parallel B=1 cpu compiled", compiled_pz)
    compare = args.compare and env_id == "spread_v0"
    if compare:
        try:
            from mpe2 import simple_spread_v3
        except ImportError:
            print("mpe2 not installed: pip install mpe2")
        else:
            theirs = bench_parallel(lambda: simple_spread_v3.parallel_env(**pz_kwargs), args.seconds)
            row("mpe2 simple_spread_v3 parallel B=1", theirs)
            print(f"{'':<44} ours/mpe2 = {ours_pz / theirs:.2f}x")
    for device in devices:
        for b in batch_sizes:
            ours = bench_batched(env_id, b, device, args.seconds, args.continuous)
            row(f"{env_id} batched B={b} {device}", ours)
            if args.compile and b >= 1024:
                compiled = bench_batched(env_id, b, device, args.seconds, args.continuous, compile=True)
                mode = resolve_compile_mode(True, torch.device(device), b, get_scenario_class(env_id))
                row(f"{env_id} batched B={b} {device} compiled ({mode})", compiled)
                ours = max(ours, compiled)
            if compare:
                vmas_sps = bench_vmas(b, device, args.seconds)
                if vmas_sps is None:
                    print(f"{'':<44} (vmas not installed: pip install vmas)")
                else:
                    row(f"vmas simple_spread B={b} {device}", vmas_sps)
                    print(f"{'':<44} ours/vmas = {ours / vmas_sps:.2f}x")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env-id", nargs="+", default=list(DEFAULT_BATCH_SIZES),
                        help="env ids to time (default: spread_v0, transport_v0 and hide_and_seek_v1)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=None,
                        help="default: 1 64 4096 32768 for spread_v0, 1 64 4096 for hide_and_seek_v1")
    parser.add_argument("--pz-compile", action="store_true",
                        help="also time the PettingZoo env with compile=True (the B=1 row)")
    parser.add_argument("--devices", nargs="+", default=None, help="default: cpu, and cuda if available")
    parser.add_argument("--seconds", type=float, default=2.0, help="timing per row")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--continuous", action="store_true", help="continuous actions (default discrete)")
    parser.add_argument("--compare", action="store_true", help="also time MPE2 and VMAS, back to back")
    parser.add_argument("--compile", action="store_true",
                        help="also time the batched env with compile=True for B >= 1024 (on CPU that compiles "
                             "the physics substeps, elsewhere the whole step; see BatchedEnv)")
    parser.add_argument("--load", type=int, default=0,
                        help="busy Python loops to run beside the timing, one core each (default 0)")
    parser.add_argument("--json", default=None, help="write the results to this file")
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    devices = args.devices or (["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
    print(f"marl_envs benchmark: {', '.join(args.env_id)}, {'continuous' if args.continuous else 'discrete'} actions")
    print(f"python {platform.python_version()}, torch {torch.__version__}, numpy {np.__version__}, "
          f"torch threads {torch.get_num_threads()}, cpu: {platform.processor() or platform.machine()}")
    if "cuda" in devices:
        print(f"cuda: {torch.cuda.get_device_name(0)}")
    results: dict[str, float] = {}

    def row(name: str, sps: float, ref: float | None = None) -> None:
        results[name] = sps
        ratio = f"   {sps / ref:5.2f}x ours/theirs" if ref else ""
        print(f"{name:<44} {sps:>14,.0f} env-steps/s  {1e6 / sps if sps else 0:>10.2f} us/env-step{ratio}")

    if args.load:
        print(f"load: {args.load} busy process(es) beside the timing")
    with busy_neighbours(args.load):
        for env_id in args.env_id:
            batch_sizes = args.batch_sizes or DEFAULT_BATCH_SIZES.get(env_id, [1, 64, 4096])
            _bench_env(env_id, args, devices, batch_sizes, row)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)
    return results


if __name__ == "__main__":
    main()
