"""--no-critic-obs: MAPPO's critic on the env's state and the ids, [s, ids], instead of the agent-specific
global state [s, o_i, ids]."""

import math

import pytest
import torch

from baselines import ippo, mappo
from baselines.common.checkpoint import load_checkpoint
from baselines.common.policy import MultiAgentPolicy, build_policy_from_checkpoint
from marl_envs import make_batched
from tests.baselines.test_training import _args


def _policy(env, **kwargs):
    torch.manual_seed(0)
    return MultiAgentPolicy(env.single_observation_space.shape[0], env.state_space.shape[0], list(env.agents),
                            env.single_action_space, **kwargs)


def test_the_state_critic_reads_the_state_and_the_ids_only():
    env = make_batched("hide_and_seek_v1", num_envs=4, seed=0)
    obs, _ = env.reset(seed=0)
    state = env.state()
    full, lean = _policy(env), _policy(env, critic_obs=False)
    num_ids = full.critic_input(obs, state).shape[-1] - obs.shape[-1] - state.shape[-1]
    assert num_ids == len(env.agents) + 2  # agent one-hot, then team one-hot (two teams)
    x = lean.critic_input(obs, state)
    assert x.shape == (4, len(env.agents), state.shape[-1] + num_ids)
    assert torch.equal(x[..., : state.shape[-1]], state.unsqueeze(1).expand(-1, len(env.agents), -1))
    assert torch.equal(x[..., state.shape[-1]:], full.critic_input(obs, state)[..., -num_ids:])
    assert lean.critics[0].net[0].in_features == x.shape[-1]
    # The observation does not reach the lean critic at all; it does reach the agent-specific one.
    other = obs + torch.randn_like(obs)
    assert torch.equal(lean.raw_value(lean.critic_input(other, state)), lean.raw_value(x))
    before = full.raw_value(full.critic_input(obs, state))
    assert not torch.equal(full.raw_value(full.critic_input(other, state)), before)


def test_learns_and_reloads_with_the_state_critic(tmp_path):
    """The tiny task of test_training (one agent, one landmark) is learned with the state-only critic too, and the
    checkpoint rebuilds the same critic."""
    args = _args(mappo.Args, tmp_path, "lean", total_timesteps=64 * 10 * 60, num_envs=64, critic_obs=False)
    run = mappo.train(args)
    returns = [r["episodic_return"] for r in run.history if not math.isnan(r["episodic_return"])]
    first, last = sum(returns[:3]) / 3, sum(returns[-3:]) / 3
    assert last > first + 2.0 and last > -8.0, (first, last)
    payload = load_checkpoint(run.run_dir)
    assert payload["args"]["critic_obs"] is False
    policy = build_policy_from_checkpoint(payload)
    env = make_batched("spread_v0", num_envs=2, seed=0, N=1, local_ratio=0.0, max_cycles=10)
    obs, _ = env.reset(seed=0)
    x = policy.critic_input(obs, env.state())
    assert x.shape[-1] == env.state_space.shape[0] + 1  # the state and the one-hot id of the one agent
    assert torch.equal(policy.raw_value(x), run.agent.raw_value(run.agent.critic_input(obs, env.state())))


@pytest.mark.parametrize("make", [lambda tmp: _args(ippo.Args, tmp, "ippo", critic_obs=False),
                                  lambda tmp: _args(mappo.Args, tmp, "entity", critic_obs=False, policy="entity")])
def test_refused_where_the_critic_would_lose_its_input(make, tmp_path):
    with pytest.raises(ValueError, match="--no-critic-obs"):
        make(tmp_path)
    assert not any(tmp_path.iterdir())  # refused before a run directory exists
