"""HAPPO and HATRPO runs: deterministic, exact on resume, the MAPPO command line and run directory, checkpoints
that evaluate, play and plot load, and the Ray backend."""

import csv
import json
import os
import subprocess
import sys

import pytest
import torch

from baselines import happo, hatrpo, mappo
from baselines.common.checkpoint import load_checkpoint
from baselines.common.policy import build_policy_from_checkpoint

TINY_ENV = '{"N": 3, "max_cycles": 10}'
MODULES = [happo, hatrpo]


def _args(module, tmp_path, name, **overrides):
    base = dict(env_id="spread_v0", env_kwargs=TINY_ENV, num_envs=8, num_steps=10, total_timesteps=8 * 10 * 4,
                seed=3, run_dir=str(tmp_path / name), progress=False, tensorboard=False, device="cpu",
                checkpoint_every=1000, update_epochs=2, num_minibatches=2)
    return module.Args(**{**base, **overrides})


def _params(run):
    return torch.cat([p.detach().flatten() for p in run.agent.parameters()])


@pytest.mark.parametrize("module", MODULES)
def test_same_seed_same_parameters(module, tmp_path, one_torch_thread):
    a = module.train(_args(module, tmp_path, "a"))
    b = module.train(_args(module, tmp_path, "b"))
    c = module.train(_args(module, tmp_path, "c", seed=4))
    assert len(a.agent.actors) == 3 and len(a.agent.critics) == 1  # one actor per agent, one critic
    assert torch.equal(_params(a), _params(b))
    assert not torch.equal(_params(a), _params(c))


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("layout", ["agent", "all"])
def test_stop_and_resume_equals_uninterrupted(module, layout, tmp_path, one_torch_thread):
    full = module.train(_args(module, tmp_path, "full", param_sharing=layout))
    half = module.train(_args(module, tmp_path, "half", stop_after_updates=2, param_sharing=layout))
    assert half.update == 2
    assert "agent_order" in load_checkpoint(str(tmp_path / "half"))["extras"]  # the order stream is saved
    resumed = module.train(_args(module, tmp_path, "ignored", resume=str(tmp_path / "half")))
    assert resumed.update == full.update == 4
    assert torch.equal(_params(full), _params(resumed))
    assert [r["episodic_return"] for r in resumed.history] == [r["episodic_return"] for r in full.history[2:]]


def test_parameter_sharing_flag_and_its_limits(tmp_path, one_torch_thread):
    shared = happo.train(_args(happo, tmp_path, "shared", param_sharing="all", total_timesteps=80))
    assert len(shared.agent.actors) == 1 and len(shared.agent.critics) == 1
    with pytest.raises(ValueError, match="HAPPO/HATRPO's layout"):
        mappo.train(_args(mappo, tmp_path, "m", param_sharing="agent"))
    with pytest.raises(ValueError, match="holds a happo run"):
        hatrpo.train(_args(hatrpo, tmp_path, "x", resume=shared.run_dir))


def _run(*args, timeout=300):
    proc = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc.stdout


@pytest.mark.parametrize("algo", ["happo", "hatrpo"])
def test_the_command_line_end_to_end(algo, tmp_path):
    """A few updates on the heterogeneous task from the command line (preset applied), then evaluate, play's
    checkpoint loader and plot, unchanged, read the run."""
    run_dir = tmp_path / algo
    out = _run(f"baselines.{algo}", "--env-id", "hetero_transport_v0", "--env-kwargs", '{"max_cycles": 10}',
               "--num-envs", "4", "--total-timesteps", "600", "--update-epochs", "1", "--no-progress",
               "--torch-threads", "1", "--run-dir", str(run_dir))
    assert "preset for hetero_transport_v0" in out and "num_steps=50" in out
    config = json.loads((run_dir / "config.json").read_text())
    assert config["param_sharing"] == "agent" and config["num_steps"] == 50
    rows = list(csv.DictReader((run_dir / "metrics.csv").open()))
    assert [int(r["global_step"]) for r in rows] == [200, 400, 600]
    for column in ("episodic_return", "success_rate", "policy_loss", "value_loss", "explained_variance",
                   *(("kl", "line_search_success") if algo == "hatrpo" else ("approx_kl", "clipfrac"))):
        assert column in rows[0], column
    out = _run("baselines.evaluate", str(run_dir), "--episodes", "2", "--env-kwargs", '{"max_cycles": 10}')
    assert "over 2 episodes" in out
    from marl_envs import make_batched
    from marl_envs.policies import load_policy

    env = make_batched("hetero_transport_v0", num_envs=1, seed=0)
    obs, _ = env.reset()
    assert load_policy(str(run_dir), env, "baselines")(obs).shape == (1, 3)  # play's --checkpoint hook
    policy = build_policy_from_checkpoint(load_checkpoint(str(run_dir)), env)
    assert len(policy.actors) == 3
    plot = _run("baselines.plot", str(run_dir), "--csv", str(tmp_path / "c.csv"), "--out", str(tmp_path / "c.png"))
    assert f"{algo} · hetero_transport_v0" in (tmp_path / "c.csv").read_text() + plot


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for this module's Ray tests, shut down after them (other modules start their own)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.getcwd()}})
    yield
    ray.shutdown()


@pytest.mark.parametrize("module", MODULES)
def test_one_ray_worker_reproduces_the_local_backend(module, tmp_path, one_torch_thread, local_ray):
    local = module.train(_args(module, tmp_path, "local", num_envs=6, total_timesteps=6 * 10 * 2))
    remote = module.train(_args(module, tmp_path, "ray", num_envs=6, total_timesteps=6 * 10 * 2, backend="ray",
                                num_workers=1, torch_threads=1))
    assert [r["episodic_return"] for r in remote.history] == [r["episodic_return"] for r in local.history]
    assert torch.equal(_params(local), _params(remote))
