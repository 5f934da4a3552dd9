"""BatchedEnv.set_training_kwargs: a curriculum of start states can change under a running env, nothing else can."""

import pytest
import torch

from marl_envs import make_batched


def test_a_curriculum_set_mid_run_starts_the_next_games_as_if_given_at_construction():
    changed = make_batched("hide_and_seek_v2", num_envs=64, seed=4, max_cycles=10)
    given = make_batched("hide_and_seek_v2", num_envs=64, seed=4, max_cycles=10, ramp_at_wall=1.0)
    assert changed.set_training_kwargs(ramp_at_wall=1.0) == {"ramp_at_wall": 0.0}  # the previous value
    obs_changed, _ = changed.reset()
    obs_given, _ = given.reset()
    assert torch.equal(obs_changed, obs_given)
    assert changed.scenario.ramp_start.float().mean() > 0.5  # the ramp starts at the wall where it fits
    assert changed.config.ramp_at_wall == changed.scenario.config.ramp_at_wall == 1.0


def test_switching_a_curriculum_off_returns_to_the_plain_starts():
    env = make_batched("hide_and_seek_v2", num_envs=32, seed=1, max_cycles=10, ramp_at_wall=1.0)
    env.reset()
    assert env.scenario.ramp_start.any()
    env.set_training_kwargs(ramp_at_wall=0.0)
    env.reset()
    assert not env.scenario.ramp_start.any()


@pytest.mark.parametrize("kwargs, match", [
    ({"num_hiders": 3}, r"training-only arguments .*num_hiders"),  # would change the spaces under a learner
    ({"ramp_at_wall": 1.5}, "ramp_at_wall"),  # out of range
    ({"ramp_at_wall": 0.7, "ramp_near_door": 0.7}, "over 1"),  # together over one draw
], ids=["not_training_only", "out_of_range", "inconsistent"])
def test_refused_changes_are_named_and_leave_the_env_as_it_was(kwargs, match):
    env = make_batched("hide_and_seek_v2", num_envs=4, seed=0, max_cycles=10)
    before = env.config
    with pytest.raises((ValueError, TypeError), match=match):
        env.set_training_kwargs(**kwargs)
    assert env.config is before and env.scenario.config is before


def test_envs_without_training_only_arguments_refuse_every_change():
    env = make_batched("spread_v0", num_envs=2)
    with pytest.raises(ValueError, match=r"training-only arguments \[\]"):
        env.set_training_kwargs(N=4)
