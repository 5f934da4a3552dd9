"""Per-env presets: one table, applied by every CLI, overridden by explicit flags, read by the benchmark."""

import dataclasses
import json

import pytest

from baselines import benchmark, happo, hatrpo, ippo, mappo, npg, trpo
from baselines.common.curriculum import parse_curriculum
from baselines.common.envs import parse_env_kwargs
from baselines.common.presets import PRESETS, parse_cli, preset_for, with_preset

ARGS = {"mappo": mappo.Args, "ippo": ippo.Args, "trpo": trpo.Args, "npg": npg.Args, "happo": happo.Args,
        "hatrpo": hatrpo.Args}
OURS = ("spread_v0", "transport_v0", "hide_and_seek_v1", "hide_and_seek_v2", "hide_and_seek_v3", "hide_and_seek_v4",
        "hetero_transport_v0")
HETEROGENEOUS = ("spread_v0", "transport_v0", "hetero_transport_v0", "hide_and_seek_v1", "hide_and_seek_v2",
                 "hide_and_seek_v3", "hide_and_seek_v4")


def test_every_env_and_algorithm_has_a_preset_of_real_arguments():
    wanted = [(algo, env) for algo in ("mappo", "ippo") for env in OURS]
    wanted += [(algo, env) for algo in ("trpo", "npg") for env in (*OURS, "CartPole-v1", "Pendulum-v1")]
    wanted += [(algo, env) for algo in ("happo", "hatrpo") for env in HETEROGENEOUS]
    for algo, env_id in wanted:
        preset = preset_for(algo, env_id)
        assert preset, (algo, env_id)
        names = {f.name for f in dataclasses.fields(ARGS[algo])}
        assert set(preset) <= names, (algo, env_id, set(preset) - names)
        ARGS[algo](**preset)  # valid values (the dataclasses check theirs)
    assert set(PRESETS) == set(wanted)


def test_hide_and_seek_v3_trains_on_v2s_presets():
    """v3 is v2's game in longer steps: every algorithm's v3 preset is its v2 preset until v3's own is measured."""
    for algo in ARGS:
        assert preset_for(algo, "hide_and_seek_v3") == preset_for(algo, "hide_and_seek_v2")


def test_hide_and_seek_v4_chains_the_ramp_defense_starts_after_ramp_use():
    """v4 (v3 under the hold lock) trains on v3's presets; where a preset chains start curricula, its ramp-use step
    brings in the ramp-defense starts, and every step is a valid set of training-only arguments of v4."""
    from marl_envs import evaluation_kwargs, make_batched

    for algo in ARGS:
        v3, v4 = preset_for(algo, "hide_and_seek_v3"), preset_for(algo, "hide_and_seek_v4")
        assert {k: v for k, v in v4.items() if k != "curriculum"} == {k: v for k, v in v3.items() if k != "curriculum"}
        if "curriculum" not in v3:
            assert "curriculum" not in v4, algo
            continue
        steps = parse_curriculum(v4["curriculum"], ("chasing", "shelter", "ramp use", "ramp defense"))
        assert [index for index, _ in steps] == [1, 2], algo
        assert steps[1][1] == {"ramp_at_wall": 0.15, "ramp_by_door": 0.15, "ramp_outside_door": 0.35}, algo
        merged = {**parse_env_kwargs(v4["env_kwargs"]), **steps[0][1], **steps[1][1]}
        env = make_batched("hide_and_seek_v4", num_envs=2, **merged)
        assert env.config.lock_rule == "hold" and env.config.ramp_outside_door == 0.35
        assert evaluation_kwargs("hide_and_seek_v4", merged)[0] == {}  # all training-only: evaluation plays the game


def test_the_cli_applies_the_preset_and_explicit_flags_win(capsys):
    args = parse_cli(mappo.Args, "mappo", "", ["--env-id", "spread_v0"])
    assert (args.gamma, args.activation) == (0.9, "tanh")
    assert "preset for spread_v0" in capsys.readouterr().out
    assert parse_cli(mappo.Args, "mappo", "", ["--env-id", "spread_v0", "--gamma", "0.99"]).gamma == 0.99
    assert parse_cli(mappo.Args, "mappo", "", ["--env-id", "spread_v0", "--activation", "relu"]).activation == "relu"
    hns = parse_cli(mappo.Args, "mappo", "", ["--env-id", "hide_and_seek_v1", "--num-steps", "160"])
    assert (hns.num_steps, hns.num_envs, hns.lr_schedule, hns.gamma) == (160, 1024, "constant", 0.998)
    assert "given on the command line: num_steps" in capsys.readouterr().out
    assert parse_cli(mappo.Args, "mappo", "", ["--env-id", "hide_and_seek_v1", "--lr-schedule", "linear"]
                     ).lr_schedule == "linear"
    old_flag = parse_cli(mappo.Args, "mappo", "", ["--env-id", "spread_v0", "--no-anneal-lr"])
    assert (old_flag.lr_schedule, old_flag.anneal_lr) == (None, False)  # train() resolves it to "constant"
    external = parse_cli(mappo.Args, "mappo", "", ["--env-id", "mpe2.simple_spread_v3:parallel_env"])
    assert external == mappo.Args(env_id="mpe2.simple_spread_v3:parallel_env")  # no preset: the defaults
    assert parse_cli(trpo.Args, "trpo", "", ["--env-id", "Pendulum-v1"]).num_steps == 1024
    assert parse_cli(npg.Args, "npg", "", ["--env-id", "Pendulum-v1"]).learning_rate == 0.3


def test_hide_and_seek_v2_presets_are_v1s_with_the_door_start_curriculum(capsys):
    """v2 trains on v1's presets; MAPPO, IPPO, HAPPO and HATRPO add boxes_at_doors 0.5, which evaluation drops, and
    the ramp curricula that follow the stages (--curriculum)."""
    from marl_envs import evaluation_kwargs, make_batched

    for algo in ARGS:
        v1, v2 = preset_for(algo, "hide_and_seek_v1"), preset_for(algo, "hide_and_seek_v2")
        curriculum = algo in ("mappo", "ippo", "happo", "hatrpo")
        schedule = {"shelter": {"ramp_at_wall": 0.3}, "ramp use": {"ramp_at_wall": 0.2, "ramp_near_door": 0.3}}
        assert {k: v for k, v in v2.items() if k != "curriculum"} == (
            {**v1, "env_kwargs": '{"boxes_at_doors": 0.5}'} if curriculum else v1), algo
        assert (json.loads(v2["curriculum"]) == schedule) if curriculum else "curriculum" not in v2, algo
    args = parse_cli(mappo.Args, "mappo", "", ["--env-id", "hide_and_seek_v2"])
    assert "preset for hide_and_seek_v2" in capsys.readouterr().out
    kwargs = parse_env_kwargs(args.env_kwargs)
    assert kwargs == {"boxes_at_doors": 0.5} and (args.num_envs, args.gamma) == (1024, 0.998)
    assert make_batched(args.env_id, num_envs=2, **kwargs).config.boxes_at_doors == 0.5
    assert evaluation_kwargs(args.env_id, kwargs) == ({}, ["boxes_at_doors"])
    # env_kwargs is one JSON string: an explicit --env-kwargs replaces the preset's whole.
    own = parse_cli(mappo.Args, "mappo", "", ["--env-id", "hide_and_seek_v2", "--env-kwargs", '{"num_hiders": 1}'])
    assert parse_env_kwargs(own.env_kwargs) == {"num_hiders": 1}
    off = parse_cli(mappo.Args, "mappo", "", ["--env-id", "hide_and_seek_v2", "--curriculum", "{}"])
    assert off.curriculum == "{}" and parse_curriculum(off.curriculum, ("chasing", "shelter")) == []  # no schedule


def test_resume_ignores_presets():
    args = parse_cli(mappo.Args, "mappo", "", ["--resume", "runs/somewhere"])
    assert args.gamma == mappo.Args().gamma


def test_python_runs_get_a_preset_only_when_they_ask():
    assert mappo.Args(env_id="spread_v0").gamma == 0.99
    assert with_preset(mappo.Args, "mappo", "spread_v0").gamma == 0.9
    assert with_preset(mappo.Args, "mappo", "spread_v0", gamma=0.8).gamma == 0.8


def test_the_benchmark_reads_the_same_table():
    for env_id in ("CartPole-v1", "Pendulum-v1"):
        assert benchmark.PRESETS[env_id] == preset_for("trpo", env_id)
    # rl-baselines3-zoo hyperparams/trpo.yml
    assert preset_for("trpo", "CartPole-v1") == dict(
        num_envs=2, total_timesteps=100_000, num_steps=512, critic_batch_size=512, cg_damping=1e-3, gae_lambda=0.98,
        gamma=0.99, critic_learning_rate=1e-3, n_critic_updates=20)
    assert preset_for("trpo", "Pendulum-v1") == dict(num_envs=2, total_timesteps=100_000, num_steps=1024, gamma=0.9,
                                                     n_critic_updates=15)


@pytest.mark.parametrize("algo", ["mappo", "ippo"])
def test_help_still_documents_the_new_arguments(algo, capsys):
    with pytest.raises(SystemExit):
        parse_cli(ARGS[algo], algo, "", ["--help"])
    out = " ".join(capsys.readouterr().out.replace("│", " ").split())
    for flag in ("--lr-schedule", "--time-limit", "--param-sharing", "--opponent-pool", "--opponent-prob"):
        assert flag in out, flag
