"""GRU memory (--recurrent): chunked training equals step-by-step acting, resets at episode starts, learning,
resume exactness, and checkpoints that rebuild the policy whole."""

import math

import pytest
import torch

from baselines import happo, mappo
from baselines.common.checkpoint import load_checkpoint
from baselines.common.policy import MultiAgentPolicy, build_policy_from_checkpoint
from baselines.common.recurrent import chunk_minibatches
from baselines.common.rollout import EpisodeStats, agent_teams, collect
from marl_envs import make_batched

TINY_ENV = '{"N": 1, "local_ratio": 0.0, "max_cycles": 10}'


def _policy(env, **kwargs):
    return MultiAgentPolicy(env.single_observation_space.shape[0], env.state_space.shape[0], list(env.agents),
                            env.single_action_space, hidden_size=32, recurrent=True, obs_spec=env.obs_spec,
                            state_spec=getattr(env, "state_spec", None), **kwargs)


@pytest.mark.parametrize(("env_id", "kwargs"), [
    ("spread_v0", {}),
    ("spread_v0", {"continuous_actions": True}),
    ("hide_and_seek_v1", {"network": "entity", "entity_width": 16}),
    ("hide_and_seek_v1", {"param_sharing": "team"}),
])
def test_chunked_training_forward_equals_step_by_step_acting(env_id, kwargs):
    """The log-probabilities of a rollout's actions, recomputed by unrolling whole chunks from the stored
    memory, are the ones recorded while acting; episodes end inside the chunks (max_cycles 4, chunks of 5)."""
    torch.manual_seed(0)
    env_kwargs = {"continuous_actions": kwargs.pop("continuous_actions")} if "continuous_actions" in kwargs else {}
    env = make_batched(env_id, num_envs=3, seed=1, max_cycles=4, **env_kwargs)
    obs, info = env.reset(seed=1)
    policy = _policy(env, **kwargs)
    num_steps, length = 20, 5
    rollout, *_, memory = collect(env, policy, num_steps, obs, info["state"], EpisodeStats(agent_teams(env.agents)),
                                  policy.value, policy.initial_memory(3))
    starts = torch.arange(num_steps) % 4 == 0
    assert rollout.first[starts].all() and not rollout.first[~starts].any()
    assert memory[1].all()  # the last step ends the fifth episode: the next rollout starts afresh
    flat = {k: v.reshape(-1, *v.shape[3:]) for k, v in rollout.as_dict().items()}
    agent = torch.arange(env.num_agents).expand(num_steps, 3, env.num_agents).reshape(-1)
    rows_per_step = 3 * env.num_agents
    for idx in chunk_minibatches(num_steps, rows_per_step, length, 2, torch.device("cpu")):
        assert idx.numel() % length == 0
        for g in range(policy.num_groups):
            sel = idx[policy.group_of[agent[idx]] == g]
            dist = policy.actors[g].unrolled_distribution(flat["actor_in"][sel], flat["memory"][sel],
                                                          flat["first"][sel], length)
            torch.testing.assert_close(dist.log_prob(flat["actions"][sel]), flat["logprobs"][sel],
                                       atol=2e-5, rtol=1e-5)


def test_memory_changes_the_policy_and_resets_at_episode_starts():
    torch.manual_seed(0)
    env = make_batched("spread_v0", num_envs=4, seed=0)
    obs, _ = env.reset(seed=0)
    policy = _policy(env)
    x = policy.actor_input(obs)
    memory, first = policy.initial_memory(4)
    other = torch.randn_like(memory)
    same_start, _ = policy.recurrent_step(x, other, first)
    fresh, _ = policy.recurrent_step(x, memory, first)
    assert torch.equal(same_start.logits, fresh.logits)  # first step of an episode: the memory is not read
    carried, _ = policy.recurrent_step(x, other, torch.zeros_like(first))
    assert not torch.allclose(carried.logits, fresh.logits)  # later steps read it


def test_act_carries_memory_between_calls_until_reset():
    torch.manual_seed(0)
    env = make_batched("spread_v0", num_envs=2, seed=0)
    obs, _ = env.reset(seed=0)
    policy = _policy(env)
    memory, first = policy.initial_memory(2)
    x = policy.actor_input(obs)
    expected = []
    for _ in range(3):
        dist, memory = policy.recurrent_step(x, memory, first)
        first = torch.zeros_like(first)
        expected.append(dist.logits.argmax(-1))
    got = [policy.act(obs, deterministic=True) for _ in range(3)]
    assert all(torch.equal(a, b) for a, b in zip(got, expected, strict=True))
    policy.reset_memory()
    assert torch.equal(policy.act(obs, deterministic=True), expected[0])


def _args(cls, tmp_path, name, **overrides):
    base = dict(env_id="spread_v0", env_kwargs=TINY_ENV, num_envs=32, num_steps=10, total_timesteps=32 * 10 * 6,
                seed=3, run_dir=str(tmp_path / name), progress=False, tensorboard=False, device="cpu",
                checkpoint_every=1000, update_epochs=4, recurrent=True, chunk_length=5)
    base.update(overrides)
    return cls(**base)


def test_recurrent_mappo_learns_resumes_exactly_and_checkpoints_the_whole_policy(tmp_path):
    args = _args(mappo.Args, tmp_path, "learn", total_timesteps=64 * 10 * 40, num_envs=64, learning_rate=3e-3,
                 critic_learning_rate=3e-3)
    run = mappo.train(args)
    returns = [r["episodic_return"] for r in run.history if not math.isnan(r["episodic_return"])]
    assert sum(returns[-3:]) / 3 > sum(returns[:3]) / 3 + 2.0

    full = mappo.train(_args(mappo.Args, tmp_path, "full"))
    mappo.train(_args(mappo.Args, tmp_path, "half", stop_after_updates=3))
    resumed = mappo.train(_args(mappo.Args, tmp_path, "ignored", resume=str(tmp_path / "half")))
    for a, b in zip(full.agent.parameters(), resumed.agent.parameters(), strict=True):
        assert torch.equal(a, b)

    env = make_batched("spread_v0", num_envs=2, seed=0, N=1, local_ratio=0.0, max_cycles=10)
    policy = build_policy_from_checkpoint(load_checkpoint(full.run_dir), env)
    assert policy.recurrent and policy.memory_size == 64
    obs, _ = env.reset(seed=0)
    assert policy.act(obs, deterministic=True).shape == (2, 1)


def test_recurrent_is_rejected_where_it_is_not_supported(tmp_path):
    """And a preset's --num-steps counts: hide_and_seek_v1's 80-step rollouts take the default chunks of 10."""
    from baselines.common.presets import parse_cli

    args = parse_cli(mappo.Args, "mappo", "", ["--env-id", "hide_and_seek_v1", "--recurrent"])
    assert args.num_steps == 80 and args.chunk_length == 10
    with pytest.raises(ValueError, match="chunk-length"):
        mappo.train(_args(mappo.Args, tmp_path, "x", chunk_length=3))
    with pytest.raises(ValueError, match="opponent-pool"):
        _args(mappo.Args, tmp_path, "x", opponent_pool=2)
    with pytest.raises(ValueError, match="sequential update"):
        happo.train(_args(happo.Args, tmp_path, "x"))
