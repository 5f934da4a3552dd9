"""examples/custom_scenario.py runs as documented, and its scenario passes PettingZoo's API test."""

import importlib.util
import sys
from pathlib import Path

from pettingzoo.test import parallel_api_test

from marl_envs.api import BatchedEnv, ParallelEnv

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "custom_scenario.py"


def _example():
    spec = importlib.util.spec_from_file_location("custom_scenario_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_example_runs_and_its_scripted_agents_meet(capsys):
    figures = _example().main(["--num-envs", "16", "--steps", "25"])
    assert figures["scripted"] > figures["random"] + 0.2  # moving to the centre beats random moves
    assert "PettingZoo: ['agent_0', 'agent_1', 'agent_2']" in capsys.readouterr().out


def test_the_custom_scenario_is_a_pettingzoo_parallel_env_and_a_batched_env():
    rendezvous = _example().Rendezvous
    env = ParallelEnv(rendezvous, N=4, max_cycles=10)
    assert env.metadata["name"] == "Rendezvous"
    parallel_api_test(env, num_cycles=30)
    batched = BatchedEnv(rendezvous, num_envs=8, seed=1, N=2, max_cycles=3)
    obs, _ = batched.reset()
    assert obs.shape == (8, 2, 6)
    for _ in range(3):
        _, reward, _, truncated, info = batched.step(batched.scripted_actions())
    assert truncated.all() and info["final_obs"].shape == (8, 2, 6)  # autoreset at the time limit
    assert (reward <= 0).all()
