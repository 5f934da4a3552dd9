"""Fixed-length team games in MAPPO: whole-episode rollouts, time limits, behaviour logs, learning-rate schedules."""

import csv
import math

import pytest
import torch

from baselines import mappo
from baselines.common import ppo
from baselines.common.gae import compute_gae, resolve_time_limit
from baselines.common.presets import preset_for
from marl_envs import make_batched

pytestmark = pytest.mark.usefixtures("one_torch_thread")

HNS = '{"max_cycles": 10, "map": "open"}'  # 4 preparation steps, then 6 hiding steps


def _hns_args(tmp_path, name, **kw):
    base = dict(env_id="hide_and_seek_v1", env_kwargs=HNS, num_envs=2, num_steps=10, total_timesteps=2 * 10 * 3,
                update_epochs=1, progress=False, tensorboard=False, device="cpu", run_dir=str(tmp_path / name))
    return mappo.Args(**{**base, **kw})


def _capture_batches(monkeypatch):
    batches = []
    real = ppo.update

    def spy(policy, optimizers, batch, args):
        batches.append({k: batch[k].clone() for k in ("acted", "rewards", "agent")})
        return real(policy, optimizers, batch, args)

    monkeypatch.setattr(mappo, "update", spy)
    return batches


def test_episode_aligned_rollouts_hold_every_phase_in_every_batch(tmp_path, monkeypatch):
    batches = _capture_batches(monkeypatch)
    mappo.train(_hns_args(tmp_path, "aligned"))
    assert len(batches) == 3
    for batch in batches:
        seekers = batch["agent"] >= 2
        assert (~batch["acted"][seekers]).any(), "no preparation step in this batch"
        assert (batch["acted"][seekers]).any() and (batch["rewards"] != 0).any(), "no hiding step in this batch"
        assert (~batch["acted"][seekers]).float().mean() == pytest.approx(0.4)  # the phases' true proportion


def test_misaligned_rollouts_of_a_lockstep_env_warn_once(tmp_path, monkeypatch):
    batches = _capture_batches(monkeypatch)
    with pytest.warns(UserWarning, match="not a multiple of the episode length 10") as caught:
        mappo.train(_hns_args(tmp_path, "cut", num_steps=4, total_timesteps=2 * 4 * 5))
    assert sum("episode length" in str(w.message) for w in caught) == 1
    assert any((b["rewards"] == 0).all() for b in batches)  # the failure the warning is about: prep-only updates


def test_the_hide_and_seek_preset_rollout_is_one_whole_episode():
    env = make_batched("hide_and_seek_v1", num_envs=1)
    preset = preset_for("mappo", "hide_and_seek_v1")
    assert env.lockstep and preset["num_steps"] % env.max_cycles == 0


def test_truncation_is_terminal_only_where_the_time_limit_is_observed():
    assert resolve_time_limit("auto", make_batched("hide_and_seek_v1", num_envs=1)) is True
    assert resolve_time_limit("auto", make_batched("spread_v0", num_envs=1)) is False
    assert resolve_time_limit("auto", object()) is False  # external envs: bootstrap
    assert resolve_time_limit("terminal", object()) is True
    assert resolve_time_limit("bootstrap", make_batched("hide_and_seek_v1", num_envs=1)) is False
    with pytest.raises(ValueError, match="time-limit"):
        resolve_time_limit("never", object())
    # one step that ends by truncation: r = 1, V(s) = 0, V(s') = 10
    one = torch.ones(1, 1)
    kwargs = dict(rewards=one, values=0 * one, next_values=10 * one, terminated=torch.zeros(1, 1, dtype=torch.bool),
                  ended=torch.ones(1, 1, dtype=torch.bool), gamma=0.5, gae_lambda=1.0)
    assert compute_gae(**kwargs)[0].item() == 1.0 + 0.5 * 10
    assert compute_gae(**kwargs, truncation_is_terminal=True)[0].item() == 1.0


def test_the_trainer_cuts_hide_and_seek_truncations_and_bootstraps_spread_ones(tmp_path, monkeypatch):
    seen = []
    real = mappo.compute_gae

    def spy(*args):
        seen.append(args[-1])
        return real(*args)

    monkeypatch.setattr(mappo, "compute_gae", spy)
    mappo.train(_hns_args(tmp_path, "hns", total_timesteps=20))
    mappo.train(_hns_args(tmp_path, "hns_b", total_timesteps=20, time_limit="bootstrap"))
    mappo.train(mappo.Args(env_kwargs='{"N": 1, "max_cycles": 5}', num_envs=2, num_steps=5, total_timesteps=10,
                           progress=False, tensorboard=False, device="cpu", run_dir=str(tmp_path / "spread")))
    assert seen == [True, False, False]


def test_behaviour_figures_become_metric_columns(tmp_path, monkeypatch):
    """A fake behaviour hook on spread: the step count of each world's episode, final (= max_cycles) at its end."""
    from marl_envs.scenarios.spread import Spread

    calls = {"n": 0}

    def fake(self):
        calls["n"] += 1
        batch = self.world.state.pos.shape[0]
        return {"steps_seen": torch.full((batch,), float((calls["n"] - 1) % 5 + 1)),
                "constant": torch.full((batch,), 2.5)}

    monkeypatch.setattr(Spread, "behaviour", fake)
    args = mappo.Args(env_kwargs='{"N": 1, "max_cycles": 5}', num_envs=3, num_steps=5, total_timesteps=3 * 5 * 2,
                      progress=False, tensorboard=True, device="cpu", run_dir=str(tmp_path / "b"))
    run = mappo.train(args)
    rows = list(csv.DictReader((tmp_path / "b" / "metrics.csv").open()))
    assert [float(r["behaviour/steps_seen"]) for r in rows] == [5.0, 5.0]  # the final figure of each episode
    assert all(float(r["behaviour/constant"]) == 2.5 for r in rows)
    assert run.history[0]["behaviour/constant"] == 2.5
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "b"))
    events.Reload()
    assert "behaviour/steps_seen" in events.Tags()["scalars"]


def test_learning_rate_schedules_and_the_old_flag(tmp_path):
    def rates(**kw):
        args = mappo.Args(env_kwargs='{"N": 1, "max_cycles": 5}', num_envs=2, num_steps=5, total_timesteps=30,
                          progress=False, tensorboard=False, device="cpu", run_dir=str(tmp_path / str(len(kw))),
                          update_epochs=1, **kw)
        return [row["learning_rate"] for row in mappo.train(args).history]

    assert rates(lr_schedule="constant") == [3e-3] * 3
    linear = rates(lr_schedule="linear")
    assert linear[0] == 3e-3 and linear[1] < linear[0] and linear[2] < linear[1]
    assert rates(anneal_lr=False) == [3e-3] * 3  # the older switch, where --lr-schedule is not set
    assert rates(anneal_lr=False, lr_schedule="linear") == linear
    with pytest.raises(ValueError, match="lr-schedule"):
        mappo.Args(lr_schedule="cosine")
    assert not math.isnan(linear[-1])
