"""Cross-play evaluation: intervals, reference players, team assembly, errors."""

from __future__ import annotations

import json
import math

import pytest
import torch

from baselines.crossplay import crossplay, mean_interval, random_player, report, wilson_interval
from marl_envs import make_batched


def test_wilson_interval_matches_the_formula_and_stays_inside_0_1():
    lo, hi = wilson_interval(8, 10)
    # Wilson's 95% interval for 8/10 (textbook value 0.490 .. 0.943)
    assert lo == pytest.approx(0.4902, abs=1e-3) and hi == pytest.approx(0.9433, abs=1e-3)
    assert wilson_interval(0, 50)[0] == 0.0 and 0 < wilson_interval(0, 50)[1] < 0.1
    assert wilson_interval(50, 50)[1] == 1.0
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_mean_interval_is_1_96_standard_errors():
    mean, half = mean_interval([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5
    assert half == pytest.approx(1.96 * torch.tensor([1.0, 2, 3, 4]).std().item() / 2)


def test_random_player_gives_valid_actions_for_each_action_kind():
    for env_id, kwargs in (("spread_v0", {}), ("spread_v0", {"continuous_actions": True}), ("hide_and_seek_v1", {})):
        env = make_batched(env_id, num_envs=16, seed=0, **kwargs)
        obs, info = env.reset()
        act = random_player(env, torch.Generator().manual_seed(0))
        for _ in range(3):
            obs, *_ = env.step(act(obs, env.state()))  # the env's own checks reject invalid actions


def test_scripted_hiders_beat_random_seekers_and_lose_more_to_scripted_ones():
    strong = crossplay("hide_and_seek_v1", {"hider": "scripted", "seeker": "random"}, episodes=64, seed=0)
    weak = crossplay("hide_and_seek_v1", {"hider": "random", "seeker": "scripted"}, episodes=64, seed=0)
    assert strong["episodes"] == 64 and strong["win_rate"] > 0.85
    assert weak["win_rate"] < 0.4
    lo, hi = strong["win_ci"]
    assert lo <= strong["win_rate"] <= hi
    assert set(strong["teams"]) == {"hider", "seeker"}
    # zero-sum rewards: the seekers' return mirrors the hiders' up to boundary penalties
    assert strong["teams"]["seeker"][0] <= -0.5 * strong["teams"]["hider"][0]
    text = report(strong)
    assert "hider win rate" in text and "seeker = random" in text


def test_more_episodes_than_worlds_run_in_rounds():
    result = crossplay("hide_and_seek_v1", {"hider": "random", "seeker": "random"}, episodes=10, seed=3, batch=4,
                       env_kwargs='{"max_cycles": 10}')
    assert result["episodes"] == 10
    assert report(result).startswith('hide_and_seek_v1 {"max_cycles": 10}: ')  # the env's arguments are shown


def test_per_game_rows_are_the_games_behind_the_means_and_the_cli_writes_them(tmp_path, capsys):
    # 10 games in rounds of 4 worlds: the last round's extra games are left out of rows and means alike
    kwargs = '{"max_cycles": 10}'
    result = crossplay("hide_and_seek_v1", {"hider": "scripted", "seeker": "random"}, episodes=10, seed=3, batch=4,
                       env_kwargs=kwargs, per_game=True)
    games = result["games"]
    assert [g["game"] for g in games] == list(range(10))
    assert sum(g["win"] for g in games) / 10 == result["win_rate"]
    assert all(g["win"] == int(g["hider_return"] > 0) for g in games)
    for team in ("hider", "seeker"):
        assert sum(g[f"{team}_return"] for g in games) / 10 == pytest.approx(result["teams"][team][0])
    for name, (mean, _) in result["behaviour"].items():
        assert sum(g[name] for g in games) / 10 == pytest.approx(mean), name
    assert "games" not in crossplay("hide_and_seek_v1", {"hider": "scripted", "seeker": "random"}, episodes=2,
                                    seed=3, env_kwargs=kwargs)

    from baselines.evaluate import main as evaluate_main

    table = tmp_path / "out" / "games.csv"
    evaluate_main(["--env-id", "hide_and_seek_v1", "--env-kwargs", kwargs, "--hiders", "scripted", "--seekers",
                   "random", "--episodes", "10", "--seed", "3", "--batch", "4", "--games-csv", str(table),
                   "--json", str(tmp_path / "res.json")])
    assert f"wrote 10 games to {table}" in capsys.readouterr().out
    import csv
    import json

    rows = list(csv.DictReader(table.open()))
    assert [int(r["win"]) for r in rows] == [g["win"] for g in games]
    assert [float(r["all_doors_blocked_prep"]) for r in rows] == [g["all_doors_blocked_prep"] for g in games]
    assert "games" not in json.loads((tmp_path / "res.json").read_text())  # the JSON keeps the summary only
    with pytest.raises(SystemExit):  # one policy's evaluation has no games table
        evaluate_main(["--env-id", "spread_v0", "--episodes", "2", "--games-csv", str(table), str(tmp_path)])
    assert "--games-csv is for team games" in capsys.readouterr().err


def test_players_must_name_every_team():
    with pytest.raises(ValueError, match="missing \\['seeker'\\]"):
        crossplay("hide_and_seek_v1", {"hider": "random"}, episodes=2)
    with pytest.raises(ValueError, match="unknown \\['hunter'\\]"):
        crossplay("hide_and_seek_v1", {"hider": "random", "seeker": "random", "hunter": "random"}, episodes=2)


def test_evaluate_cli_plays_a_trained_run_against_the_scripted_team_and_records_video(tmp_path, capsys):
    from baselines.evaluate import main as evaluate_main
    from baselines.mappo import Args, train

    run_dir = str(tmp_path / "run")
    train(Args(env_id="hide_and_seek_v1", num_envs=4, num_steps=10, total_timesteps=40, run_dir=run_dir,
               env_kwargs='{"max_cycles": 10}', progress=False, tensorboard=False, device="cpu"))
    out = tmp_path / "res.json"
    evaluate_main(["--hiders", run_dir, "--seekers", "scripted", "--episodes", "6", "--json", str(out)])
    text = capsys.readouterr().out
    assert f"hider = {run_dir} vs seeker = scripted, 6 episodes" in text and "stage of play shown" in text
    import json

    saved = json.loads(out.read_text())
    assert saved["episodes"] == 6 and saved["players"] == {"hider": run_dir, "seeker": "scripted"}
    assert "all_doors_blocked_prep" in saved["behaviour"]
    # RUN_DIR plays every team not named; a video records one frame per reset and per step
    video = tmp_path / "duel.gif"
    evaluate_main([run_dir, "--seekers", "random", "--episodes", "2", "--video", str(video)])
    assert video.stat().st_size > 0 and "saved 22 frames" in capsys.readouterr().out  # 2 x (10 + 1)


def test_evaluate_cli_names_what_is_missing():
    from baselines.evaluate import main as evaluate_main

    with pytest.raises(SystemExit):
        evaluate_main(["--hiders", "scripted", "--episodes", "2"])  # no env id, no run for the seekers
    with pytest.raises(SystemExit):
        evaluate_main(["--env-id", "hide_and_seek_v1", "--hiders", "scripted", "--episodes", "2"])
    with pytest.raises(SystemExit):
        evaluate_main(["--env-id", "hide_and_seek_v1", "--team", "seeker", "--episodes", "2"])


def _example(name: str):
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[2] / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_crossplay_checkpoints_plays_every_kept_checkpoint_and_reports_each_teams_win_rate(tmp_path):
    from baselines.mappo import Args, train

    run_dir = str(tmp_path / "run")
    train(Args(env_id="hide_and_seek_v1", num_envs=4, num_steps=10, total_timesteps=80, run_dir=run_dir,
               checkpoint_every=1, env_kwargs='{"max_cycles": 10}', progress=False, tensorboard=False,
               device="cpu"))
    sweep = _example("crossplay_checkpoints")
    table = tmp_path / "sweep.csv"
    sweep.main([run_dir, "--every", "1", "--episodes", "5", "--seed", "3", "--csv", str(table)])
    import csv

    rows = list(csv.DictReader(table.open()))
    assert [int(r["update"]) for r in rows] == [1, 2] and [int(r["env_steps"]) for r in rows] == [40, 80]
    # the seekers' column is the seekers' win rate: one minus the hiders' of the same games
    ckpt = f"{run_dir}/checkpoints/update_000002.pt"
    hiders = crossplay("hide_and_seek_v1", {"hider": "scripted", "seeker": ckpt}, episodes=5, seed=3)["win_rate"]
    assert rows[1]["seekers_vs_door_locking"].startswith(f"{100 * (1 - hiders):.1f}%")
    theirs = crossplay("hide_and_seek_v1", {"hider": ckpt, "seeker": "scripted"}, episodes=5, seed=3)["win_rate"]
    assert rows[1]["hiders_vs_scripted"].startswith(f"{100 * theirs:.1f}%")
    with pytest.raises(SystemExit, match=r"no checkpoint for update\(s\) \[7\]"):
        sweep.main([run_dir, "--updates", "7"])


HOLD = {"lock_rule": "hold"}


@pytest.mark.parametrize(("env_id", "name", "team", "at_least", "kwargs"), [
    ("hide_and_seek_v1", "hide_and_seek_v1_selfplay_85M.pt", "hider", 0.8, {}),  # 97.4% of 1000 games
    ("hide_and_seek_v1", "hide_and_seek_v1_selfplay_85M.pt", "seeker", 0.3, {}),  # 44.4%
    ("hide_and_seek_v1", "hide_and_seek_v1_selfplay.pt", "seeker", 0.7, {}),  # the final policy's seekers: 85.5%
    ("hide_and_seek_v3", "hide_and_seek_v3_ramp_use.pt", "hider", 0.6, {}),  # 81.2%
    ("hide_and_seek_v3", "hide_and_seek_v3_ramp_use.pt", "seeker", 0.3, {}),  # 47.8%, over the doors on the ramp
    ("hide_and_seek_v3", "hide_and_seek_v3_ramp_defense_start.pt", "hider", 0.6, HOLD),  # 79.1%, trained under hold
    ("hide_and_seek_v3", "hide_and_seek_v3_ramp_defense_start.pt", "seeker", 0.6, HOLD),  # 76.5%
    ("hide_and_seek_v3", "hide_and_seek_v3_ramp_defense_outside.pt", "hider", 0.6, HOLD),  # 74.7%
    ("hide_and_seek_v3", "hide_and_seek_v3_ramp_defense_outside.pt", "seeker", 0.6, HOLD),  # 79.8%
    ("hide_and_seek_v4", "hide_and_seek_v4_ramp_use.pt", "seeker", 0.5, {}),  # 68.1%, over the shut doors
    ("hide_and_seek_v4", "hide_and_seek_v4_selfplay.pt", "hider", 0.7, {}),  # 84.7%
    ("hide_and_seek_v4", "hide_and_seek_v4_selfplay.pt", "seeker", 0.55, {}),  # 72.5%
])
def test_the_shipped_self_play_policies_still_beat_the_scripted_team(env_id, name, team, at_least, kwargs):
    """The policy files in assets/ play without training (the docs' cross-play tables come from them); a change
    to the env that they no longer handle (physics, observations) shows up here as a collapse of the win rate
    of the team each file is shipped for, against the env's scripted team (the seekers' rate: 1 - the hiders')."""
    import pathlib

    path = str(pathlib.Path(__file__).resolve().parents[2] / "assets" / name)
    players = {"hider": path, "seeker": "scripted"} if team == "hider" else {"hider": "scripted", "seeker": path}
    hiders = crossplay(env_id, players, episodes=100, seed=1, env_kwargs=json.dumps(kwargs))["win_rate"]
    assert (hiders if team == "hider" else 1 - hiders) >= at_least, hiders


def test_a_run_trained_with_a_start_curriculum_is_evaluated_on_the_game_itself(tmp_path, capsys):
    """boxes_at_doors shapes training only: cross-play and evaluate of the run leave it out (and say so)."""
    import json

    from baselines.evaluate import evaluate
    from baselines.evaluate import main as evaluate_main
    from baselines.mappo import Args, train
    from marl_envs import evaluation_kwargs

    assert evaluation_kwargs("hide_and_seek_v1", {"boxes_at_doors": 0.5, "max_cycles": 10}) == (
        {"max_cycles": 10}, ["boxes_at_doors"])
    assert evaluation_kwargs("spread_v0", {"N": 4}) == ({"N": 4}, [])
    assert evaluation_kwargs("mpe2.simple_spread_v3:parallel_env", {"N": 4}) == ({"N": 4}, [])
    run_dir = str(tmp_path / "run")
    train(Args(env_id="hide_and_seek_v1", num_envs=4, num_steps=10, total_timesteps=40, run_dir=run_dir,
               env_kwargs='{"max_cycles": 10, "boxes_at_doors": 1.0}', progress=False, tensorboard=False,
               device="cpu"))
    out = tmp_path / "res.json"
    evaluate_main(["--hiders", run_dir, "--seekers", "scripted", "--episodes", "4", "--json", str(out)])
    saved = json.loads(out.read_text())
    assert saved["env_kwargs"] == {"max_cycles": 10}
    assert all(mean == mean for mean, _ in saved["behaviour"].values())  # every game measured: no NaN
    evaluate(run_dir, episodes=2)
    assert "without the run's training-only env arguments ['boxes_at_doors']" in capsys.readouterr().err
