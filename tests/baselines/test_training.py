"""MAPPO and IPPO: they learn a tiny task in seconds, are deterministic, resume exactly, and fail clearly."""

import math

import pytest
import torch

from baselines import ippo, mappo
from baselines.common.checkpoint import load_checkpoint

TINY_ENV = '{"N": 1, "local_ratio": 0.0, "max_cycles": 10}'


def _args(cls, tmp_path, name, **overrides):
    base = dict(env_id="spread_v0", env_kwargs=TINY_ENV, num_envs=32, num_steps=10, total_timesteps=32 * 10 * 6,
                seed=3, run_dir=str(tmp_path / name), progress=False, tensorboard=False, device="cpu",
                checkpoint_every=1000, update_epochs=4)
    base.update(overrides)
    return cls(**base)


def _params(run):
    return torch.cat([p.detach().flatten() for p in run.agent.parameters()])


@pytest.mark.parametrize("module", [mappo, ippo])
def test_learns_to_reach_the_landmark(module, tmp_path):
    """One agent, one landmark, reward -distance: return must rise well above the random policy's."""
    args = _args(module.Args, tmp_path, "learn", total_timesteps=64 * 10 * 60, num_envs=64, learning_rate=3e-3,
                 critic_learning_rate=3e-3)
    run = module.train(args)
    returns = [r["episodic_return"] for r in run.history if not math.isnan(r["episodic_return"])]
    first, last = sum(returns[:3]) / 3, sum(returns[-3:]) / 3
    assert last > first + 2.0, (first, last)
    assert last > -8.0, last  # the scripted controller scores -6.8 on this task, random -10.7


def test_same_seed_same_parameters(tmp_path):
    a = mappo.train(_args(mappo.Args, tmp_path, "a"))
    b = mappo.train(_args(mappo.Args, tmp_path, "b"))
    c = mappo.train(_args(mappo.Args, tmp_path, "c", seed=4))
    assert torch.equal(_params(a), _params(b))
    assert not torch.equal(_params(a), _params(c))


def test_stop_and_resume_equals_uninterrupted(tmp_path):
    full = mappo.train(_args(mappo.Args, tmp_path, "full"))
    half = mappo.train(_args(mappo.Args, tmp_path, "half", stop_after_updates=3))
    assert half.update == 3
    resumed = mappo.train(_args(mappo.Args, tmp_path, "ignored", resume=str(tmp_path / "half")))
    assert resumed.update == full.update == 6
    assert torch.equal(_params(full), _params(resumed))
    rows = (tmp_path / "half" / "metrics.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 6  # header + one row per update, across both invocations



def test_init_from_starts_a_new_run_from_another_runs_networks(tmp_path):
    """--init-from: the new run's networks are the source's (weights and value normalisers), its counters,
    optimisers and directory its own; with learning rates of 0 its weights stay the source's."""
    source = mappo.train(_args(mappo.Args, tmp_path, "source"))
    frozen = dict(learning_rate=0.0, critic_learning_rate=0.0, total_timesteps=32 * 10)
    warm = mappo.train(_args(mappo.Args, tmp_path, "warm", init_from=source.run_dir, **frozen))
    cold = mappo.train(_args(mappo.Args, tmp_path, "cold", **frozen))
    assert warm.update == 1 and warm.global_step == 320  # counts from 0, not from the source's 6 updates
    assert torch.equal(_params(warm), _params(source))
    assert not torch.equal(_params(cold), _params(source))
    assert load_checkpoint(warm.run_dir)["args"]["init_from"] == source.run_dir  # config records where it started
    with pytest.raises(ValueError, match="--init-from .* do not fit"):
        mappo.train(_args(mappo.Args, tmp_path, "wide", init_from=source.run_dir, hidden_size=32))
    assert not (tmp_path / "wide").exists()
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        mappo.train(_args(mappo.Args, tmp_path, "none", init_from=str(tmp_path)))

def test_checkpoint_contents_and_errors(tmp_path):
    run = mappo.train(_args(mappo.Args, tmp_path, "ck", total_timesteps=32 * 10 * 2))
    payload = load_checkpoint(run.run_dir)
    assert payload["algo"] == "mappo" and payload["update"] == 2 and payload["global_step"] == 640
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load_checkpoint(str(tmp_path))
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="corrupt"):
        load_checkpoint(str(bad))
    with pytest.raises(ValueError, match="not ippo|holds a mappo run"):
        ippo.train(_args(ippo.Args, tmp_path, "x", resume=run.run_dir))


def test_unknown_env_id_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="unknown env id 'nope_v0'"):
        mappo.train(_args(mappo.Args, tmp_path, "bad", env_id="nope_v0"))
    with pytest.raises(ValueError, match="cannot import"):
        mappo.train(_args(mappo.Args, tmp_path, "bad2", env_id="no_such_module:parallel_env"))
    with pytest.raises(ValueError, match="JSON"):
        mappo.train(_args(mappo.Args, tmp_path, "bad3", env_kwargs="{N: 3"))


def test_trains_on_a_pettingzoo_env_through_the_adapter(tmp_path):
    pytest.importorskip("mpe2")
    args = _args(mappo.Args, tmp_path, "pz", env_id="mpe2.simple_spread_v3:parallel_env",
                 env_kwargs='{"N": 2, "max_cycles": 5}', num_envs=4, num_steps=5, total_timesteps=4 * 5 * 2)
    run = mappo.train(args)
    assert run.update == 2
    assert not math.isnan(run.history[-1]["episodic_return"])
    # Envs without state_dict restart their episodes on resume instead of failing.
    stopped = mappo.train(_args(mappo.Args, tmp_path, "pz2", env_id=args.env_id, env_kwargs=args.env_kwargs,
                                num_envs=4, num_steps=5, total_timesteps=4 * 5 * 2, stop_after_updates=1))
    assert stopped.update == 1
    resumed = mappo.train(_args(mappo.Args, tmp_path, "ignored", resume=stopped.run_dir))
    assert resumed.update == 2


def test_each_update_logs_where_its_time_went(tmp_path):
    run = mappo.train(_args(mappo.Args, tmp_path, "time", total_timesteps=32 * 10 * 2))
    for row in run.history:
        parts = [row["time/env"], row["time/acting"], row["time/learning"]]
        assert all(p > 0 for p in parts), parts
        assert sum(parts) == pytest.approx(32 * 10 / row["SPS"], rel=0.05)  # the three phases are the update
