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
