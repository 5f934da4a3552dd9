"""--curriculum: training-only env arguments that change when self-play shows a stage (common/curriculum.py)."""

import csv
import json
import math

import pytest

from baselines import mappo
from baselines.common.curriculum import StageCurriculum, parse_curriculum
from marl_envs.api.batched import BatchedEnv

STAGES = ("chasing", "shelter", "ramp use", "ramp defense")
SCHEDULE = '{"ramp_use": {"ramp_at_wall": 0.2, "ramp_near_door": 0.3}, "shelter": {"ramp_at_wall": 0.3}}'
TINY = dict(env_id="hide_and_seek_v2", num_envs=4, num_steps=10, update_epochs=1, num_minibatches=1,
            env_kwargs='{"max_cycles": 10, "boxes_at_doors": 0.5}', progress=False, tensorboard=False, device="cpu",
            compile=False, precision="fp32")


def test_steps_apply_in_stage_order_after_a_streak_and_merge_with_the_earlier_ones():
    curriculum = StageCurriculum(parse_curriculum(SCHEDULE, STAGES), patience=2)
    assert [step[0] for step in curriculum.steps] == [1, 2]  # sorted by stage, whatever the JSON's order
    seen = [curriculum.observe(s) for s in (1.0, 0.0, 1.0, math.nan, 2.0)]
    # 1 then 0 breaks the streak; NaN (no stage shown) neither counts nor breaks it: 1, NaN, 2 is two in a row
    assert seen == [None, None, None, None, {"ramp_at_wall": 0.3}] and curriculum.level == 1
    assert curriculum.observe(2.0) is None and curriculum.observe(3.0) == {"ramp_at_wall": 0.2, "ramp_near_door": 0.3}
    assert curriculum.arguments() == {"ramp_at_wall": 0.2, "ramp_near_door": 0.3}
    assert curriculum.arguments(1) == {"ramp_at_wall": 0.3}
    assert curriculum.observe(3.0) is None  # nothing after the last step


@pytest.mark.parametrize("text, match", [
    ("{oops", "JSON object"), ('["shelter"]', "JSON object"), ('{"hiding": {"ramp_at_wall": 0.3}}', "unknown stage"),
    ('{"chasing": {"ramp_at_wall": 0.3}}', "--env-kwargs"), ('{"shelter": {}}', "non-empty"),
])
def test_bad_schedules_are_named(text, match):
    with pytest.raises(ValueError, match=match):
        parse_curriculum(text, STAGES)


def test_a_curriculum_needs_an_env_with_stages(tmp_path):
    args = mappo.Args(env_id="spread_v0", num_envs=2, num_steps=25, total_timesteps=50, progress=False,
                      tensorboard=False, run_dir=str(tmp_path / "run"), curriculum='{"shelter": {"N": 2}}')
    with pytest.raises(ValueError, match="stages of play"):
        mappo.train(args)


def test_a_step_the_env_would_refuse_stops_the_run_before_it_trains(tmp_path):
    args = mappo.Args(**TINY, total_timesteps=40, run_dir=str(tmp_path / "run"),
                      curriculum='{"shelter": {"num_seekers": 3}}')
    with pytest.raises(ValueError, match="step for 'shelter'.*training-only"):
        mappo.train(args)
    assert not (tmp_path / "run" / "metrics.csv").exists() or not _rows(tmp_path / "run")
    # a step that is valid alone but not with the run's own start arguments is named with them
    clash = mappo.Args(**{**TINY, "env_kwargs": '{"max_cycles": 10, "ramp_outside_door": 0.9}'}, total_timesteps=40,
                       run_dir=str(tmp_path / "clash"), curriculum='{"shelter": {"ramp_at_wall": 0.3}}')
    with pytest.raises(ValueError, match=r"step for 'shelter' \(\{'ramp_at_wall': 0.3\} on top of --env-kwargs\)"
                                         r".*--curriculum \{\}.*is over 1"):
        mappo.train(clash)


def _rows(run_dir):
    with open(run_dir / "metrics.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_the_run_moves_on_when_the_stage_shows_and_a_resume_keeps_the_step(tmp_path, monkeypatch):
    monkeypatch.setattr(BatchedEnv, "stage", lambda self, means: "shelter")  # every update shows a shelter
    run_dir = tmp_path / "run"
    run = mappo.train(mappo.Args(**TINY, total_timesteps=160, run_dir=str(run_dir), curriculum=SCHEDULE,
                                 curriculum_patience=2, stop_after_updates=3))
    assert [row["curriculum/level"] for row in run.history] == [0.0, 1.0, 1.0]
    assert run.env.config.ramp_at_wall == 0.3 and run.env.config.boxes_at_doors == 0.5  # on top of --env-kwargs
    resumed = mappo.train(mappo.Args(resume=str(run_dir), progress=False, tensorboard=False))
    assert resumed.env.config.ramp_at_wall == 0.3  # the checkpoint's level, applied again
    assert [row["curriculum/level"] for row in _rows(run_dir)] == ["0.0", "1.0", "1.0", "1.0"]


def test_a_resumed_run_can_be_given_a_curriculum_and_its_metrics_gain_the_column(tmp_path, monkeypatch):
    monkeypatch.setattr(BatchedEnv, "stage", lambda self, means: "shelter")
    run_dir = tmp_path / "run"
    mappo.train(mappo.Args(**TINY, total_timesteps=160, run_dir=str(run_dir), stop_after_updates=2))
    assert "curriculum/level" not in _rows(run_dir)[0]
    resumed = mappo.train(mappo.Args(resume=str(run_dir), progress=False, tensorboard=False,
                                     curriculum='{"shelter": {"ramp_at_wall": 0.3}}', curriculum_patience=1,
                                     stop_after_updates=2))
    rows = _rows(run_dir)
    assert [row["curriculum/level"] for row in rows] == ["", "", "1.0", "1.0"]  # earlier rows kept, blank there
    assert all(row["episodic_return"] != "" for row in rows)
    assert resumed.env.config.ramp_at_wall == 0.3
    assert json.loads(open(run_dir / "config.json").read())["curriculum"] == '{"shelter": {"ramp_at_wall": 0.3}}'
