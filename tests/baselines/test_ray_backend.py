"""--backend ray: one worker reproduces the local backend, dead workers are replaced, Ctrl-C checkpoints.

One local Ray (2 CPUs) serves the whole module: starting Ray costs seconds, and the collectors leave
a Ray they did not start running.
"""

import glob
import os
import sys
import time

import pytest
import torch

from baselines import mappo, npg, trpo
from baselines.common import ray_backend
from baselines.common.envs import make_vec_env
from baselines.common.policy import policy_from_args
from baselines.common.rollout import EpisodeStats, agent_teams

ray = pytest.importorskip("ray")

TINY = dict(env_id="spread_v0", env_kwargs='{"N": 2, "max_cycles": 5}', num_envs=6, num_steps=5, update_epochs=1,
            progress=False, tensorboard=False, torch_threads=1, seed=3)


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.getcwd()}})
    yield
    ray.shutdown()


def _metrics(run):
    return [{k: row[k] for k in ("global_step", "episodic_return", "policy_loss", "value_loss")} for row in run.history]


@pytest.mark.parametrize("memory", [{}, {"recurrent": True, "chunk_length": 5}], ids=["mlp", "recurrent"])
def test_one_ray_worker_reproduces_the_local_backend(tmp_path, one_torch_thread, memory):
    budget = dict(TINY, total_timesteps=6 * 5 * 3, **memory)
    local = mappo.train(mappo.Args(**budget, run_dir=str(tmp_path / "local")))
    remote = mappo.train(mappo.Args(**budget, run_dir=str(tmp_path / "ray"), backend="ray", num_workers=1))
    assert _metrics(remote) == _metrics(local)
    assert all(torch.equal(a, b) for a, b in zip(local.agent.state_dict().values(),
                                                  remote.agent.state_dict().values(), strict=True))


def test_a_curriculum_step_reaches_the_workers(tmp_path, one_torch_thread, monkeypatch):
    from marl_envs.api.batched import BatchedEnv

    monkeypatch.setattr(BatchedEnv, "stage", lambda self, means: "shelter")  # the driver judges the stage
    budget = dict(env_id="hide_and_seek_v2", env_kwargs='{"max_cycles": 10}', num_envs=4, num_steps=10,
                  update_epochs=1, num_minibatches=1, total_timesteps=4 * 10 * 3, progress=False, tensorboard=False,
                  torch_threads=1, seed=3, compile=False, precision="fp32", curriculum_patience=1)
    schedule = '{"shelter": {"ramp_at_wall": 1.0}}'
    local = mappo.train(mappo.Args(**budget, curriculum=schedule, run_dir=str(tmp_path / "local")))
    remote = mappo.train(mappo.Args(**budget, curriculum=schedule, run_dir=str(tmp_path / "ray"), backend="ray",
                                    num_workers=1))
    plain = mappo.train(mappo.Args(**budget, run_dir=str(tmp_path / "plain")))
    assert [row["curriculum/level"] for row in remote.history] == [1.0, 1.0, 1.0]
    assert _metrics(remote) == _metrics(local)  # the worker's games started at the wall as the local ones did
    assert _metrics(remote)[1:] != _metrics(plain)[1:]


@pytest.mark.parametrize("module", [trpo, npg])
def test_single_agent_algorithms_run_on_two_workers(tmp_path, module, one_torch_thread):
    args = module.Args(env_id="CartPole-v1", num_envs=4, num_steps=32, total_timesteps=4 * 32 * 2, progress=False,
                       tensorboard=False, torch_threads=1, run_dir=str(tmp_path / "run"), backend="ray", num_workers=2)
    run = module.train(args)
    assert [row["global_step"] for row in run.history] == [128, 256]
    assert all(row["SPS"] > 0 for row in run.history)


def test_a_dead_worker_is_replaced_and_its_share_collected_again(one_torch_thread):
    env = make_vec_env("spread_v0", 1, torch.device("cpu"), 0, N=2, max_cycles=5)
    args = mappo.Args(**TINY)
    agent = policy_from_args(env, args)
    collector = ray_backend.RayCollector(make_vec_env, "spread_v0", {"N": 2, "max_cycles": 5}, num_envs=5,
                                         num_workers=2, seed=0, learner_device=torch.device("cpu"))
    try:
        assert collector.sizes == [3, 2]
        stats = EpisodeStats(agent_teams(env.agents))
        rollout, next_values = collector.collect(agent, 5, stats)
        assert rollout.rewards.shape == next_values.shape == (5, 5, 2)
        assert stats.count == 5  # every world finished its 5-step episode
        with pytest.raises(ray.exceptions.RayActorError):
            ray.get(collector.workers[0].crash.remote())
        with pytest.warns(UserWarning, match="worker 0 died"):
            rollout, next_values = collector.collect(agent, 5, stats)
        assert rollout.rewards.shape == (5, 5, 2) and collector.restarts == 1  # a full batch, not a partial one
        collector.max_restarts = 1
        ray.kill(collector.workers[1])
        saved = collector.state_dict()  # a checkpoint still saves; the dead worker's worlds will start anew
        assert saved["workers"][0] is not None and saved["workers"][1] is None
        with pytest.raises(RuntimeError, match="giving up"):
            collector.collect(agent, 5, stats)
    finally:
        collector.close()
    assert collector.workers == []


def _assert_killed(worker, within_s: float = 120.0) -> None:
    """Calls to ``worker`` fail within ``within_s``: ``ray.kill`` is asynchronous, and on a loaded machine a call
    made just after it can still time out or reach the actor before the kill lands, so poll."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            ray.get(worker.state_dict.remote(), timeout=10)
        except ray.exceptions.RayActorError:
            return
        except ray.exceptions.GetTimeoutError:
            pass
        assert time.monotonic() < deadline, f"a Ray worker still runs {within_s:.0f} s after the run stopped"
        time.sleep(0.5)


def test_ctrl_c_checkpoints_and_stops_the_workers(tmp_path, monkeypatch, one_torch_thread):
    calls = {"n": 0}
    real = ray_backend.RayCollector.collect

    def interrupted(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            self.seen_workers = list(self.workers)
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ray_backend.RayCollector, "collect", interrupted)
    run_dir = tmp_path / "run"
    run = mappo.train(mappo.Args(**dict(TINY, total_timesteps=6 * 5 * 4), run_dir=str(run_dir), backend="ray"))
    assert run.update == 1 and glob.glob(str(run_dir / "checkpoints" / "*.pt"))
    assert run.collector.workers == []
    for worker in run.collector.seen_workers:
        _assert_killed(worker)
    monkeypatch.setattr(ray_backend.RayCollector, "collect", real)
    resumed = mappo.train(mappo.Args(**TINY, resume=str(run_dir), backend="ray"))
    assert resumed.update == 4 and [row["global_step"] for row in resumed.history] == [60, 90, 120]


def test_without_ray_the_backend_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match=r'pip install "marl-envs\[ray\]"'):
        mappo.train(mappo.Args(**TINY, run_dir=str(tmp_path / "run"), backend="ray"))


def test_unknown_backend_is_named(tmp_path):
    with pytest.raises(ValueError, match="--backend"):
        mappo.train(mappo.Args(**TINY, run_dir=str(tmp_path / "run"), backend="spark"))


def test_backend_benchmark_reports_every_rollout_size(one_torch_thread):
    from baselines import backend_benchmark

    rows = backend_benchmark.main(["--env-kwargs", '{"N": 2}', "--steps", "20", "60", "--num-steps", "5",
                                   "--repeats", "1", "--num-workers", "2"])
    assert [row["env_steps"] for row in rows] == [20, 60]
    assert all(row["local_s"] > 0 and row["ray_s"] > 0 and row["rollout_mb"] > 0 for row in rows)
    assert ray.is_initialized()  # a Ray it did not start is left running


def test_third_party_pettingzoo_env_on_ray_workers(tmp_path, one_torch_thread):
    pytest.importorskip("mpe2")
    from baselines import ippo

    args = ippo.Args(env_id="mpe2.simple_spread_v3:parallel_env", env_kwargs='{"N": 2, "max_cycles": 5}', num_envs=4,
                     num_steps=5, update_epochs=1, total_timesteps=40, progress=False, tensorboard=False,
                     torch_threads=1, run_dir=str(tmp_path / "run"), backend="ray", num_workers=2)
    run = ippo.train(args)
    assert [row["global_step"] for row in run.history] == [20, 40]
    assert all(row["episodic_length"] == 5 for row in run.history)  # every world ran whole 5-step episodes


@pytest.mark.parametrize("workers, worlds, match", [(0, 4, "--num-workers"), (3, 2, "--num-envs")])
def test_bad_worker_layouts_are_named(tmp_path, workers, worlds, match):
    with pytest.raises(ValueError, match=match):
        mappo.train(mappo.Args(**dict(TINY, num_envs=worlds), run_dir=str(tmp_path / "run"), backend="ray",
                               num_workers=workers))
