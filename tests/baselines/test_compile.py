"""--compile: the PPO losses through torch.compile compute what the eager losses compute, train, and fall back."""

import json
import math
import warnings

import pytest
import torch

import marl_envs
from baselines import happo, learner_benchmark, mappo
from baselines.common import compiled
from baselines.common.policy import policy_from_args
from baselines.common.ppo import policy_loss, policy_terms, value_loss, value_term
from baselines.common.rollout import act
from tests.baselines.test_training import _args as _training_args


@pytest.fixture
def fresh_compile_cache(monkeypatch):
    """Each test compiles (or fails to) on its own: the module keeps what it compiled for the whole process."""
    monkeypatch.setattr(compiled, "_compiled", {})
    monkeypatch.setattr(compiled, "_failed", set())


def _hide_and_seek_minibatch(n: int = 512):
    """A hide-and-seek policy (five action factors, team ids) and a minibatch of random rows for it."""
    env = marl_envs.make_batched("hide_and_seek_v1", num_envs=2, seed=0)
    policy = policy_from_args(env, mappo.Args(env_id="hide_and_seek_v1"))
    actor, critic = policy.actors[0], policy.critics[0]
    g = torch.Generator().manual_seed(0)
    nvec = [int(k) for k in env.single_action_space.nvec]
    mb = {"actor_in": torch.randn(n, actor.net[0].in_features, generator=g),
          "critic_in": torch.randn(n, critic.net[0].in_features, generator=g),
          "actions": torch.stack([torch.randint(0, k, (n,), generator=g) for k in nvec], -1),
          "logprobs": -5 * torch.rand(n, generator=g), "adv": torch.randn(n, generator=g),
          "targets": torch.randn(n, generator=g), "raw_values": torch.randn(n, generator=g),
          "policy_mask": torch.rand(n, generator=g) > 0.3, "value_mask": torch.rand(n, generator=g) > 0.1}
    return actor, critic, mb


def _terms_and_grads(actor, critic, mb, policy_fn, value_fn, factor=None):
    for p in [*actor.parameters(), *critic.parameters()]:
        p.grad = None
    pg, ent, kl, clipfrac = policy_fn(actor, mb, 0.2, factor, 0)
    v = value_fn(critic, mb, 0.2, 10.0, True)
    (pg - 0.01 * ent + v).backward()
    grads = [p.grad.clone() for p in [*actor.parameters(), *critic.parameters()]]
    return [pg.detach(), ent.detach(), kl, clipfrac, v.detach()], grads


@pytest.mark.parametrize("with_factor", [False, True])
def test_compiled_losses_and_gradients_match_the_eager_ones(with_factor, fresh_compile_cache):
    actor, critic, mb = _hide_and_seek_minibatch()
    factor = torch.rand(mb["adv"].shape[0], generator=torch.Generator().manual_seed(1)) + 0.5 if with_factor else None
    eager, eager_grads = _terms_and_grads(actor, critic, mb, policy_terms, value_term, factor)
    fast, fast_grads = _terms_and_grads(actor, critic, mb, compiled.maybe_compiled(policy_terms, True),
                                        compiled.maybe_compiled(value_term, True), factor)
    assert not compiled._failed, "torch.compile fell back to eager: this test would compare eager with eager"
    for a, b in zip(eager, fast, strict=True):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6)
    for a, b in zip(eager_grads, fast_grads, strict=True):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-6)


def test_a_compiler_failure_warns_once_names_the_error_and_computes_eagerly(monkeypatch, fresh_compile_cache):
    def broken_compile(fn):
        def call(*args, **kwargs):
            raise RuntimeError("InvalidCxxCompiler: No working C++ compiler found")
        return call

    monkeypatch.setattr(compiled.torch, "compile", broken_compile)
    actor, critic, mb = _hide_and_seek_minibatch()
    args = mappo.Args(env_id="hide_and_seek_v1", compile=True)
    eager_log = {k: [] for k in ("policy_loss", "entropy", "approx_kl", "clipfrac", "value_loss")}
    log = {k: [] for k in eager_log}
    policy_loss(actor, mb, mappo.Args(env_id="hide_and_seek_v1"), eager_log)
    value_loss(critic, mb, mappo.Args(env_id="hide_and_seek_v1"), eager_log)
    with pytest.warns(RuntimeWarning, match=r"--compile: .*policy_terms.*No working C\+\+ compiler") as caught:
        policy_loss(actor, mb, args, log)
        policy_loss(actor, mb, args, log)  # the second call goes straight to the eager path, without a warning
        value_loss(critic, mb, args, log)
    assert len(caught) == 2, [str(w.message) for w in caught]  # one for each loss function, once
    assert log == {k: v + v if k != "value_loss" else v for k, v in eager_log.items()}


def test_mappo_learns_with_compile(tmp_path, fresh_compile_cache):
    """test_training's learning task and bar, trained with the compiled losses (and no fallback)."""
    args = _training_args(mappo.Args, tmp_path, "learn", total_timesteps=64 * 10 * 60, num_envs=64,
                          learning_rate=3e-3, critic_learning_rate=3e-3, compile=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a fallback to eager would warn
        run = mappo.train(args)
    assert set(compiled._compiled) == {policy_terms, value_term, act} and not compiled._failed
    returns = [r["episodic_return"] for r in run.history if not math.isnan(r["episodic_return"])]
    first, last = sum(returns[:3]) / 3, sum(returns[-3:]) / 3
    assert last > first + 2.0 and last > -8.0, (first, last)


def test_happo_runs_its_sequential_update_compiled(tmp_path, fresh_compile_cache):
    """One actor per agent, each loss weighted by the compounding factor: compiled without a fallback."""
    args = _training_args(happo.Args, tmp_path, "h", env_kwargs='{"N": 2, "max_cycles": 10}', compile=True,
                          total_timesteps=32 * 10 * 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        run = happo.train(args)
    assert policy_terms in compiled._compiled and not compiled._failed
    assert all(math.isfinite(r["policy_loss"]) and math.isfinite(r["value_loss"]) for r in run.history)


def test_compiled_acting_draws_the_actions_eager_acting_draws(fresh_compile_cache):
    """Same random state, same actions: the compiled step samples from torch's generator as eager does."""
    env = marl_envs.make_batched("hide_and_seek_v1", num_envs=64, seed=0)
    policy = policy_from_args(env, mappo.Args(env_id="hide_and_seek_v1"))
    obs, info = env.reset(seed=0)
    fast_act = compiled.maybe_compiled(act, True)
    with torch.no_grad():
        for step in range(3):
            torch.manual_seed(step)
            eager = act(policy, obs, info["state"])
            torch.manual_seed(step)
            fast = fast_act(policy, obs, info["state"])
            assert not compiled._failed
            torch.testing.assert_close(fast[0], eager[0])  # actor input
            torch.testing.assert_close(fast[1], eager[1])  # critic input
            assert torch.equal(fast[2], eager[2])  # actions
            torch.testing.assert_close(fast[3], eager[3], rtol=1e-5, atol=1e-5)  # log-probabilities
            obs, *_, info = env.step(eager[2])
            info["state"] = env.state()


def test_learner_benchmark_times_every_setting_and_refuses_bad_counts(tmp_path, fresh_compile_cache, capsys):
    out = tmp_path / "learner.json"
    learner_benchmark.main(["--env-id", "spread_v0", "--repeats", "2", "--warmup", "1", "--threads", "1",
                            "--json", str(out)])
    figures = json.loads(out.read_text())
    settings = {(r["precision"], r["compile"]) for r in figures["results"]}
    assert {("fp32", False), ("fp32", True)} <= settings
    assert all(r["ms"] > 0 for r in figures["results"]) and figures["rows"] == 256 * 25 * 3 // 8  # spread's preset
    assert not compiled._failed
    with pytest.raises(SystemExit):
        learner_benchmark.main(["--env-id", "spread_v0", "--repeats", "0"])
    assert "--repeats" in capsys.readouterr().err


def test_compiled_runs_are_deterministic_and_resume_exactly(tmp_path, fresh_compile_cache):
    """Same seed, same parameters; stopped and resumed (compiling again), the parameters of the uninterrupted run."""
    full = mappo.train(_training_args(mappo.Args, tmp_path, "full", compile=True))
    again = mappo.train(_training_args(mappo.Args, tmp_path, "again", compile=True))
    half = mappo.train(_training_args(mappo.Args, tmp_path, "half", compile=True, stop_after_updates=3))
    assert half.update == 3
    compiled._compiled.clear()
    torch._dynamo.reset()  # the resumed invocation compiles anew, as a new process would
    resumed = mappo.train(_training_args(mappo.Args, tmp_path, "ignored", resume=str(tmp_path / "half")))
    assert not compiled._failed and resumed.args.compile and resumed.update == full.update == 6
    params = [torch.cat([p.detach().flatten() for p in run.agent.parameters()]) for run in (full, again, resumed)]
    assert torch.equal(params[0], params[1]) and torch.equal(params[0], params[2])


def test_an_entity_recurrent_update_compiled_moves_the_parameters_as_the_eager_one(tmp_path, fresh_compile_cache):
    """Attention over entities and chunked GRU unrolls in the compiled loss: one update lands where eager's does."""
    def one_update(name: str, compile: bool, learning_rate: float = 3e-3):
        return mappo.train(mappo.Args(env_id="hide_and_seek_v1", num_envs=4, num_steps=80, total_timesteps=320,
                                      num_minibatches=2, update_epochs=1, policy="entity", recurrent=True,
                                      chunk_length=10, seed=5, run_dir=str(tmp_path / name), progress=False,
                                      tensorboard=False, device="cpu", compile=compile, precision="fp32",
                                      learning_rate=learning_rate, critic_learning_rate=learning_rate))

    eager = one_update("eager", False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a fallback to eager would warn
        fast = one_update("fast", True)
    assert {policy_terms, value_term} <= set(compiled._compiled) and not compiled._failed
    before = one_update("initial", False, learning_rate=0.0)  # Adam at rate 0: the initial parameters
    moved = False
    for p0, pe, pf in zip(before.agent.parameters(), eager.agent.parameters(), fast.agent.parameters(), strict=True):
        torch.testing.assert_close(pf, pe, rtol=1e-4, atol=1e-5)
        moved |= not torch.equal(pe, p0)
    assert moved, "the update changed nothing: the comparison would hold trivially"


def test_compiled_acting_traces_once_per_kind_of_opponent_not_per_snapshot():
    """Compiled acting is guarded on the agent's type, not on its weights: a new snapshot of the opponent pool
    reuses the graph (a recompile per snapshot would cost seconds each and hit dynamo's recompile limit)."""
    from torch._dynamo.testing import CompileCounter

    from baselines.common.selfplay import FrozenOpponent, ReferenceOpponent

    env = marl_envs.make_batched("hide_and_seek_v1", num_envs=3, seed=0)
    obs, info = env.reset(seed=0)
    policy = policy_from_args(env, mappo.Args(env_id="hide_and_seek_v1", hidden_size=16))
    snapshots = []
    for shift in (0.1, 0.2, 0.3):
        for p in policy.parameters():
            p.data.add_(shift)
        snapshots.append({k: v.clone() for k, v in policy.state_dict().items()})
    counter = CompileCounter()
    torch._dynamo.reset()
    compiled_act = torch.compile(act, backend=counter)
    compiled_act(policy, obs, info["state"])
    kinds = 1
    for team in (0, 1):
        for snapshot in snapshots:
            compiled_act(FrozenOpponent(policy, snapshot, team), obs, info["state"])
    kinds += 1
    for kind in ("scripted", "random"):
        for team in (0, 1):
            compiled_act(ReferenceOpponent(policy, kind, team), obs, info["state"])
    kinds += 1
    assert counter.frame_count == kinds
    torch._dynamo.reset()
