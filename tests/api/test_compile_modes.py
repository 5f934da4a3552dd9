"""``compile=``: which part of the step is compiled, and the compiled physics matches the eager one."""

import copy
import shutil

import pytest
import torch

from marl_envs.api.batched import make_batched, resolve_compile_mode
from marl_envs.registry import get_scenario_class

needs_compiler = pytest.mark.skipif(shutil.which("g++") is None and shutil.which("c++") is None,
                                    reason="torch.compile on CPU needs a C++ compiler")


def test_true_picks_the_scenarios_large_cpu_choice_and_the_whole_step_otherwise():
    cpu = torch.device("cpu")
    hide_and_seek, spread = get_scenario_class("hide_and_seek_v1"), get_scenario_class("spread_v0")
    assert resolve_compile_mode(True, cpu, 4096, hide_and_seek) == "physics"
    assert resolve_compile_mode(True, cpu, 4096, spread) == "step"
    assert resolve_compile_mode(True, cpu, 1, hide_and_seek) == "step"
    assert resolve_compile_mode(True, torch.device("cuda"), 4096, hide_and_seek) == "step"
    assert resolve_compile_mode(False, cpu, 4096) is None
    assert resolve_compile_mode("step", cpu, 4096) == "step"


def test_an_unknown_mode_is_named():
    with pytest.raises(ValueError, match="'fast'"):
        make_batched("spread_v0", num_envs=2, compile="fast")


@needs_compiler
def test_compiled_physics_follows_the_eager_trajectory():
    eager = make_batched("hide_and_seek_v1", num_envs=4, seed=3, check_inputs=False)
    compiled = make_batched("hide_and_seek_v1", num_envs=4, seed=3, check_inputs=False, compile="physics")
    assert compiled.scenario.world.compiled and not eager.scenario.world.compiled
    eager.reset(seed=3)
    compiled.reset(seed=3)
    eager.action_space.seed(0)
    for _ in range(6):
        actions = torch.as_tensor(eager.action_space.sample())
        obs_e, rew_e, *_ = eager.step(actions)
        obs_c, rew_c, *_ = compiled.step(actions)
        torch.testing.assert_close(compiled.scenario.world.state.pos, eager.scenario.world.state.pos,
                                   atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(obs_c, obs_e, atol=1e-3, rtol=1e-3)
        torch.testing.assert_close(rew_c, rew_e)
    twin = copy.deepcopy(compiled)  # vector wrappers copy envs by pickling
    assert twin.scenario.world.compiled
