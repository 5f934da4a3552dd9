"""GAE against hand-computed cases, truncation bootstrapping, and an infinite-horizon fixed point."""

import pytest
import torch

from baselines.common.gae import compute_gae


def _t(*rows):
    return torch.tensor(rows, dtype=torch.float32).view(len(rows), 1)


def test_single_step_td_errors_with_lambda_zero():
    rewards, values, next_values = _t(1.0, 2.0), _t(0.5, 0.25), _t(0.25, 3.0)
    false = torch.zeros(2, 1, dtype=torch.bool)
    adv, ret = compute_gae(rewards, values, next_values, false, false, gamma=0.9, gae_lambda=0.0)
    assert adv[:, 0].tolist() == pytest.approx([1.0 + 0.9 * 0.25 - 0.5, 2.0 + 0.9 * 3.0 - 0.25])
    assert torch.allclose(ret, adv + values)


def test_lambda_one_is_discounted_return_minus_value():
    rewards = _t(1.0, 1.0, 1.0)
    values = torch.zeros(3, 1)
    next_values = torch.zeros(3, 1)
    false = torch.zeros(3, 1, dtype=torch.bool)
    adv, _ = compute_gae(rewards, values, next_values, false, false, gamma=0.5, gae_lambda=1.0)
    assert adv[:, 0].tolist() == pytest.approx([1.75, 1.5, 1.0])


def test_truncated_episode_bootstraps_from_final_value_and_does_not_leak():
    # Episode 1 is steps 0-1, truncated at step 1 with V(final obs) = 10; episode 2 is step 2.
    rewards, values = _t(1.0, 1.0, 1.0), _t(0.0, 0.0, 0.0)
    next_values = _t(0.0, 10.0, 4.0)  # s'_1 is the final state of episode 1
    terminated = torch.zeros(3, 1, dtype=torch.bool)
    ended = torch.tensor([[False], [True], [False]])
    gamma, lam = 0.9, 0.8
    adv, _ = compute_gae(rewards, values, next_values, terminated, ended, gamma, lam)
    a2 = 1.0 + gamma * 4.0
    a1 = 1.0 + gamma * 10.0  # bootstrapped, and A_2 must not flow into A_1
    a0 = 1.0 + gamma * lam * a1
    assert adv[:, 0].tolist() == pytest.approx([a0, a1, a2])


def test_terminated_episode_does_not_bootstrap():
    rewards, values, next_values = _t(1.0), _t(0.0), _t(100.0)
    done = torch.ones(1, 1, dtype=torch.bool)
    adv, _ = compute_gae(rewards, values, next_values, done, done, 0.99, 0.95)
    assert adv.item() == pytest.approx(1.0)


@pytest.mark.parametrize("lam", [0.0, 0.95, 1.0])
def test_infinite_horizon_value_reaches_one_over_one_minus_gamma(lam):
    """Reward 1 forever, cut by a time limit every 10 steps: V must converge to 1/(1-γ).

    Treating the time limit as termination (CleanRL's shortcut) gives a much lower fixed point.
    """
    gamma, horizon, steps = 0.9, 10, 40
    ended = torch.tensor([(t + 1) % horizon == 0 for t in range(steps)]).view(steps, 1)
    terminated = torch.zeros_like(ended)
    v = 0.0
    for _ in range(300):
        values = torch.full((steps, 1), v)
        _, ret = compute_gae(torch.ones(steps, 1), values, values, terminated, ended, gamma, lam)
        v = ret.mean().item()
    assert v == pytest.approx(1 / (1 - gamma), rel=1e-3)


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="share one shape"):
        compute_gae(torch.zeros(3, 2), torch.zeros(3, 2), torch.zeros(3, 1), torch.zeros(3, 2, dtype=torch.bool),
                    torch.zeros(3, 2, dtype=torch.bool), 0.9, 0.9)


@pytest.mark.parametrize("num_steps", [7, 10])
def test_collect_bootstraps_every_step_from_the_state_it_reached(num_steps):
    """next_values[t] is V(s'_t) of the state step t reached, also where a world reset mid-rollout
    (episodes of 4 steps, rollouts of 7 and 10) and at the rollout's last step."""
    from baselines.common.policy import MultiAgentPolicy
    from baselines.common.rollout import EpisodeStats, collect
    from marl_envs import make_batched

    torch.manual_seed(0)
    env = make_batched("spread_v0", num_envs=5, seed=3, max_cycles=4)
    obs, info = env.reset(seed=3)
    policy = MultiAgentPolicy(env.single_observation_space.shape[0], env.state_space.shape[0], list(env.agents),
                              env.single_action_space, hidden_size=16)
    reached, step = [], env.step

    def recording_step(action):
        out = step(action)
        reached.append(policy.critic_input(out[4]["final_obs"], out[4]["final_state"]))
        return out

    env.step = recording_step
    rollout, _, _, next_values, _ = collect(env, policy, num_steps, obs, info["state"], EpisodeStats(), policy.value)
    expected = policy.value(torch.stack(reached))[1]
    assert rollout.ended[:num_steps - 1].any()  # some worlds reset before the last step
    assert torch.allclose(next_values, expected, atol=1e-6)
    assert torch.allclose(rollout.values, policy.value(rollout.critic_in)[1], atol=1e-6)
