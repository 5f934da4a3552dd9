"""Actor heads for every action space the baselines accept, and their use in a MAPPO update."""

import math

import numpy as np
import pytest
import torch
from gymnasium import spaces

from baselines import mappo
from baselines.common.networks import Actor


@pytest.mark.parametrize("space, sample_shape", [
    (spaces.Discrete(5), ()),
    (spaces.MultiDiscrete(np.array([11, 11, 11, 2, 2])), (5,)),
    (spaces.Box(0.0, 1.0, (5,), np.float32), (5,)),
])
def test_actor_distribution_shapes_and_initial_entropy(space, sample_shape):
    actor = Actor(7, space)
    dist = actor.distribution(torch.zeros(4, 3, 7))
    action = dist.sample()
    assert tuple(action.shape) == (4, 3, *sample_shape)
    assert tuple(dist.log_prob(action).shape) == (4, 3)
    assert tuple(dist.entropy().shape) == (4, 3)
    if isinstance(space, spaces.MultiDiscrete):
        # near-uniform initial policy: entropy = sum of log(n) over the dimensions
        assert dist.entropy()[0, 0].item() == pytest.approx(sum(math.log(n) for n in space.nvec), rel=1e-3)
        assert ((action >= 0) & (action < torch.as_tensor(space.nvec))).all()
    assert Actor.deterministic(dist).shape == action.shape


def test_unsupported_action_space_is_a_clear_error():
    with pytest.raises(TypeError, match="unsupported action space"):
        Actor(3, spaces.Dict({"a": spaces.Discrete(2)}))


def test_mappo_trains_on_continuous_actions(tmp_path):
    args = mappo.Args(env_id="spread_v0", env_kwargs='{"N": 2, "continuous_actions": true, "max_cycles": 5}',
                      num_envs=8, num_steps=5, total_timesteps=8 * 5 * 2, update_epochs=1, num_minibatches=2,
                      progress=False, tensorboard=False, run_dir=str(tmp_path / "box"), device="cpu")
    run = mappo.train(args)
    assert run.update == 2 and all(math.isfinite(r["policy_loss"]) for r in run.history)


def test_multicategorical_samples_follow_each_factors_probabilities_and_never_a_zero_probability_action():
    from baselines.common.networks import MultiCategorical

    logits = torch.tensor([[0.0, 1.0, -1.0, 2.0, 0.5, -0.5],
                           [3.0, float("-inf"), 0.0, float("-inf"), -2.0, 2.0]])
    dist = MultiCategorical(logits, [4, 2])
    torch.manual_seed(0)
    draws = dist.sample((40000,))  # (40000, 2 rows, 2 factors)
    assert draws.shape == (40000, 2, 2) and draws.dtype == torch.int64
    for row in range(2):
        for factor, (lo, hi) in enumerate([(0, 4), (4, 6)]):
            expected = torch.softmax(logits[row, lo:hi], -1)
            freq = torch.bincount(draws[:, row, factor], minlength=hi - lo).double() / len(draws)
            se = (expected * (1 - expected) / len(draws)).sqrt()
            assert ((freq - expected).abs() <= 5 * se + 1e-12).all(), (row, factor, freq, expected)
    assert not (draws[:, 1, 0] == 1).any() and not (draws[:, 1, 0] == 3).any()  # probability 0: never drawn
    torch.manual_seed(0)
    assert torch.equal(dist.sample((40000,)), draws)  # the global seed fixes the draws
