"""--precision bf16: the matrix products in bfloat16, the arithmetic around them float32; refused where unsafe."""

import math

import pytest
import torch

from baselines import happo, ippo, mappo
from baselines.common import precision as precision_module
from baselines.common.precision import autocast, check_precision, resolve_precision
from tests.baselines.test_training import _args as _training_args


def _args(cls, tmp_path, name, **overrides):
    """test_training's tiny task with the batch and budget of its learning test, in bf16."""
    return _training_args(cls, tmp_path, name, **{"num_envs": 64, "total_timesteps": 64 * 10 * 60,
                                                  "precision": "bf16", **overrides})


@pytest.mark.parametrize("module", [mappo, ippo, happo])
def test_bf16_learns_to_reach_the_landmark(module, tmp_path):
    """The task and bar of test_training's learning test (random -10.7, scripted -6.8), trained in bfloat16."""
    run = module.train(_args(module.Args, tmp_path, "learn"))
    returns = [r["episodic_return"] for r in run.history if not math.isnan(r["episodic_return"])]
    first, last = sum(returns[:3]) / 3, sum(returns[-3:]) / 3
    assert last > first + 2.0 and last > -8.0, (first, last)
    assert all(p.dtype == torch.float32 for p in run.agent.parameters())
    # every minibatch sees the weights of the last optimiser step, not a cached bf16 copy of the update's first
    assert run.history[0]["approx_kl"] > 1e-3 and run.history[0]["clipfrac"] > 0.01
    assert all(math.isfinite(r["policy_loss"]) and math.isfinite(r["value_loss"]) for r in run.history)


def test_under_bf16_the_policy_returns_float32_close_to_fp32(tmp_path):
    run = mappo.train(_args(mappo.Args, tmp_path, "p", total_timesteps=64 * 10))
    policy = run.agent
    obs, state = torch.randn(256, 1, policy.spec["obs_dim"]), torch.randn(256, policy.spec["state_dim"])
    actor_in, critic_in = policy.actor_input(obs), policy.critic_input(obs, state)
    exact_dist, (exact_raw, _) = policy.distribution(actor_in), policy.value(critic_in)
    with autocast("bf16", torch.device("cpu")):
        dist, (raw, value) = policy.distribution(actor_in), policy.value(critic_in)
    assert dist.logits.dtype == raw.dtype == value.dtype == torch.float32
    # bfloat16 keeps 8 bits of mantissa: the outputs move by rounding, not more
    assert torch.allclose(dist.logits, exact_dist.logits, atol=0.05) and not torch.equal(dist.logits,
                                                                                        exact_dist.logits)
    assert torch.allclose(raw, exact_raw, atol=0.05 * (1 + exact_raw.abs().max().item()))
    action = dist.sample()
    assert dist.log_prob(action).dtype == torch.float32


@pytest.mark.parametrize("network", ["mlp", "entity"])
def test_under_bf16_the_networks_the_losses_call_give_float32(network):
    """The PPO losses call the actor and critic modules directly (``ppo.policy_terms``, ``ppo.value_term``), not
    the policy's wrappers: their log-probabilities, entropies and values must be float32 there too."""
    import marl_envs
    from baselines.common.policy import policy_from_args

    env = marl_envs.make_batched("hide_and_seek_v1", num_envs=2, seed=0)
    policy = policy_from_args(env, mappo.Args(env_id="hide_and_seek_v1", policy=network))
    obs, info = env.reset(seed=0)
    actor_in, critic_in = policy.actor_input(obs).flatten(0, 1), policy.critic_input(obs, info["state"]).flatten(0, 1)
    actor, critic = policy.actors[0], policy.critics[0]
    action = actor.distribution(actor_in).sample()
    with autocast("bf16", torch.device("cpu")):
        dist, value = actor.distribution(actor_in), critic(critic_in)
        log_prob, entropy = dist.log_prob(action), dist.entropy()
    assert log_prob.dtype == entropy.dtype == value.dtype == torch.float32
    exact = actor.distribution(actor_in).log_prob(action)
    assert torch.allclose(log_prob, exact, atol=0.05) and not torch.equal(log_prob, exact)


@pytest.mark.parametrize("algo,recurrent,backend,words", [
    ("hatrpo", False, "local", "natural-gradient"),
    ("trpo", False, "local", "natural-gradient"),
    ("mappo", True, "local", "--recurrent"),
    ("mappo", False, "ray", "--backend local"),
])
def test_bf16_is_refused_where_it_is_unsafe(algo, recurrent, backend, words):
    with pytest.raises(ValueError, match=words):
        check_precision("bf16", algo, recurrent, backend)
    check_precision("fp32", algo, recurrent, backend)  # fp32 goes everywhere


@pytest.mark.parametrize("native", [True, False])
def test_auto_is_bf16_only_where_allowed_and_native(native, monkeypatch):
    monkeypatch.setattr(precision_module, "native_bf16", lambda device: native)
    cpu = torch.device("cpu")
    assert resolve_precision("auto", "mappo", False, "local", cpu) == ("bf16" if native else "fp32")
    assert resolve_precision("auto", "happo", False, "local", cpu) == ("bf16" if native else "fp32")
    for algo, recurrent, backend in [("hatrpo", False, "local"), ("mappo", True, "local"), ("mappo", False, "ray")]:
        assert resolve_precision("auto", algo, recurrent, backend, cpu) == "fp32"
    assert resolve_precision("fp32", "mappo", False, "local", cpu) == "fp32"
    assert resolve_precision("bf16", "mappo", False, "local", cpu) == "bf16"


def test_a_run_records_the_precision_auto_chose(tmp_path, monkeypatch):
    monkeypatch.setattr(precision_module, "native_bf16", lambda device: True)
    run = mappo.train(_args(mappo.Args, tmp_path, "auto", precision="auto", total_timesteps=64 * 10))
    assert run.args.precision == "bf16"
    assert '"precision": "bf16"' in (tmp_path / "auto" / "config.json").read_text()


def test_unknown_precision_is_named(tmp_path):
    with pytest.raises(ValueError, match="--precision must be one of"):
        mappo.train(_args(mappo.Args, tmp_path, "x", precision="fp16"))


class _FixedActions:
    """Just enough of a policy for ``rollout.collect``: the same seeded random actions whatever the inputs."""

    def __init__(self, num_agents: int):
        self.num_agents, self.gen = num_agents, torch.Generator().manual_seed(0)

    def actor_input(self, obs):
        return obs

    def critic_input(self, obs, state):
        return obs

    def distribution(self, actor_in):
        action = torch.randint(0, 5, actor_in.shape[:-1], generator=self.gen)
        return type("Fixed", (), {"sample": lambda _: action, "log_prob": lambda _, a: torch.zeros(a.shape)})()


def test_the_env_steps_in_float32_under_bf16(tmp_path):
    """spread_v0's physics are torch matrix products: under the learner's autocast they would round to bfloat16
    (observations 0.02 off after 20 steps); ``collect`` steps every env outside it."""
    from baselines.common.rollout import EpisodeStats, collect
    from marl_envs import make_batched

    rollouts = []
    for precision in ("fp32", "bf16"):
        env = make_batched("spread_v0", num_envs=8, seed=0)
        obs, info = env.reset(seed=0)
        with autocast(precision, torch.device("cpu")):
            rollout, *_ = collect(env, _FixedActions(len(env.agents)), 20, obs, info["state"],
                                  EpisodeStats(list(env.agents)), lambda x: (x.sum(-1), x.sum(-1)))
        rollouts.append(rollout)
    assert torch.equal(rollouts[0].rewards, rollouts[1].rewards)
    assert torch.equal(rollouts[0].actor_in, rollouts[1].actor_in)
