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
