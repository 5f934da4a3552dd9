"""Natural-gradient pieces against explicit oracles: CG vs a direct solve, F v vs the KL Hessian and the
score covariance, TRPO's step inside the trust region, truncated NPG with many CG steps vs exact NPG."""

import itertools
import math

import pytest
import torch
from gymnasium import spaces
from torch.distributions import kl_divergence
from torch.func import functional_call

from baselines import npg, trpo
from baselines.common.natural_gradient import (
    backtracking_line_search,
    conjugate_gradient,
    exact_fisher,
    fisher_vector_product,
    flat_params,
    set_flat_params,
    subsampled_kl,
    trust_region_step,
)
from baselines.common.networks import Actor

pytestmark = pytest.mark.usefixtures("one_torch_thread")


SPACES = {
    "discrete": spaces.Discrete(3),
    "multi_discrete": spaces.MultiDiscrete([3, 2]),
    "gaussian": spaces.Box(-1.0, 1.0, (2,)),
}


def _random_spd(n: int, generator: torch.Generator, condition: float = 50.0) -> torch.Tensor:
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=generator, dtype=torch.float64))
    eigenvalues = torch.logspace(0, math.log10(condition), n, dtype=torch.float64)
    return q @ torch.diag(eigenvalues) @ q.T


@pytest.mark.parametrize("n", [2, 7, 25])
def test_conjugate_gradient_matches_direct_solve_on_random_spd_systems(n):
    gen = torch.Generator().manual_seed(n)
    for _ in range(5):
        a = _random_spd(n, gen)
        b = torch.randn(n, generator=gen, dtype=torch.float64)
        # n steps are exact in exact arithmetic; a few more absorb the loss of conjugacy in floating point
        x = conjugate_gradient(lambda v, a=a: a @ v, b, max_steps=3 * n, residual_tol=1e-28)
        torch.testing.assert_close(x, torch.linalg.solve(a, b), rtol=1e-8, atol=1e-10)


def test_conjugate_gradient_truncation_is_inexact_but_each_step_reduces_the_error():
    """CG minimises the A-norm of the error over growing Krylov spaces: it decreases at every step."""
    gen = torch.Generator().manual_seed(0)
    a, b = _random_spd(30, gen, condition=1e3), torch.randn(30, generator=gen, dtype=torch.float64)
    exact = torch.linalg.solve(a, b)

    def a_norm_error(k: int) -> float:
        e = conjugate_gradient(lambda v: a @ v, b, k) - exact
        return float(e @ a @ e)

    errors = [a_norm_error(k) for k in range(11)]
    assert all(e1 < e0 for e0, e1 in itertools.pairwise(errors)), errors
    assert errors[-1] > 1e-6 * errors[0]
    assert not torch.allclose(conjugate_gradient(lambda v: a @ v, b, 3), exact, rtol=1e-3)


def _tiny_actor(kind: str, seed: int = 0) -> Actor:
    torch.manual_seed(seed)
    actor = Actor(3, SPACES[kind], hidden=(4,), activation="tanh", feature_norm=False, log_std_init=-0.3).double()
    for p in actor.parameters():  # move off the near-uniform initial policy so that F is informative
        p.data.add_(0.5 * torch.randn_like(p))
    return actor


def _kl_of_flat(actor: Actor, obs: torch.Tensor):
    """θ ↦ mean KL(π_θ0 ‖ π_θ) as a function of the flat parameter vector (for the explicit Hessian)."""
    names = [n for n, _ in actor.named_parameters()]
    shapes = [p.shape for p in actor.parameters()]
    with torch.no_grad():
        old = actor.distribution(obs)

    def kl(flat: torch.Tensor) -> torch.Tensor:
        chunks = torch.split(flat, [math.prod(s) for s in shapes])
        params = {n: c.reshape(s) for n, c, s in zip(names, chunks, shapes, strict=True)}
        out = functional_call(actor.net, {k[len("net."):]: v for k, v in params.items() if k.startswith("net.")},
                              (obs,))
        dist = _distribution_like(actor, out, params.get("log_std"))
        return kl_divergence(old, dist).mean()

    return kl


def _distribution_like(actor: Actor, out: torch.Tensor, log_std: torch.Tensor | None):
    from torch.distributions import Categorical, Independent, Normal

    from baselines.common.networks import MultiCategorical

    if isinstance(actor.action_space, spaces.Discrete):
        return Categorical(logits=out)
    if isinstance(actor.action_space, spaces.MultiDiscrete):
        return MultiCategorical(out, actor.nvec)
    return Independent(Normal(out, log_std.exp().expand_as(out)), 1)


@pytest.mark.parametrize("kind", list(SPACES))
def test_fisher_vector_product_equals_kl_hessian_and_score_covariance(kind):
    actor = _tiny_actor(kind)
    obs = torch.randn(16, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    params = list(actor.parameters())
    hessian = torch.autograd.functional.hessian(_kl_of_flat(actor, obs), flat_params(params))
    with torch.no_grad():
        old = actor.distribution(obs)
    fvp = fisher_vector_product(kl_divergence(old, actor.distribution(obs)).mean(), params, damping=0.0)
    fisher = exact_fisher(actor.distribution(obs), params)
    torch.testing.assert_close(fisher, hessian, rtol=1e-7, atol=1e-9)
    assert torch.linalg.eigvalsh(fisher).min() > -1e-9  # a covariance: symmetric positive semi-definite
    gen = torch.Generator().manual_seed(2)
    for _ in range(3):
        v = torch.randn(hessian.shape[0], generator=gen, dtype=torch.float64)
        torch.testing.assert_close(fvp(v), hessian @ v, rtol=1e-7, atol=1e-9)
    damped = fisher_vector_product(kl_divergence(old, actor.distribution(obs)).mean(), params, damping=0.1)
    torch.testing.assert_close(damped(v), hessian @ v + 0.1 * v, rtol=1e-7, atol=1e-9)


def test_exact_fisher_is_the_sampled_score_covariance_in_the_limit():
    """Monte Carlo E[∇log π ∇log πᵀ] over sampled actions converges to the closed-form expectation."""
    actor = _tiny_actor("discrete")
    obs = torch.randn(2, 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    params = list(actor.parameters())
    fisher = exact_fisher(actor.distribution(obs), params)
    torch.manual_seed(0)
    samples = 1500
    obs_rep = obs.repeat(samples, 1)
    dist = actor.distribution(obs_rep)
    logp = dist.log_prob(dist.sample())
    scores = torch.autograd.grad(logp, params, grad_outputs=torch.eye(logp.shape[0], dtype=logp.dtype),
                                 is_grads_batched=True)
    scores = torch.cat([s.reshape(logp.shape[0], -1) for s in scores], 1)
    sampled = scores.T @ scores / logp.shape[0]
    assert torch.linalg.norm(sampled - fisher) / torch.linalg.norm(fisher) < 0.1


def _batch(kind: str, n: int = 64, seed: int = 0, dtype=torch.float64):
    torch.manual_seed(seed)  # networks and sampled actions
    gen = torch.Generator().manual_seed(seed)
    actor_in = torch.randn(n, 3, generator=gen, dtype=dtype)
    agent = trpo.Policy(3, SPACES[kind], trpo.Args(hidden_size=4, log_std_init=-0.3)).to(dtype)
    with torch.no_grad():
        dist = agent.actor.distribution(actor_in)
        actions = dist.sample()
        logprobs = dist.log_prob(actions)
    returns = torch.randn(n, generator=gen, dtype=dtype)
    batch = {"actor_in": actor_in, "critic_in": actor_in, "actions": actions, "logprobs": logprobs,
             "advantages": torch.randn(n, generator=gen, dtype=dtype), "returns": returns,
             "values": torch.zeros(n, dtype=dtype)}
    return agent, batch


@pytest.mark.parametrize("kind", list(SPACES))
@pytest.mark.parametrize("target_kl", [0.01, 0.1, 2.0])
def test_trpo_step_stays_in_the_trust_region_and_improves_or_is_reverted(kind, target_kl):
    torch.manual_seed(0)
    agent, batch = _batch(kind)
    args = trpo.Args(target_kl=target_kl, hidden_size=4)
    before = flat_params(list(agent.actor.parameters()))
    surrogate = trpo.Surrogate(agent.actor, batch, trpo.standardized_advantages(batch, args))
    with torch.no_grad():
        old_objective = float(surrogate()[0])
    opt = (torch.optim.Adam(agent.critic.parameters(), lr=1e-3),)
    _, metrics = trpo.update(agent, opt, batch, args)
    after = flat_params(list(agent.actor.parameters()))
    with torch.no_grad():
        objective, kl = surrogate()
    if metrics["line_search_success"]:
        assert float(kl) <= target_kl * (1 + 1e-6), (float(kl), target_kl)
        assert float(objective) >= old_objective
        assert metrics["kl"] == pytest.approx(float(kl), rel=1e-6)
        assert not torch.equal(before, after)
    else:
        assert torch.equal(before, after) and metrics["kl"] == 0.0


def test_line_search_restores_parameters_when_no_step_is_accepted():
    layer = torch.nn.Linear(3, 2)
    params = list(layer.parameters())
    before = flat_params(params)
    calls = []

    def evaluate():  # never improves: every candidate must be rejected
        calls.append(flat_params(params))
        return torch.tensor(-1.0), torch.tensor(0.0)

    result = backtracking_line_search(params, torch.ones_like(before), evaluate, old_objective=0.0, max_kl=0.01,
                                      shrinking_factor=0.5, max_iter=4)
    assert not result.success and result.fraction == 0.0
    assert torch.equal(flat_params(params), before)
    steps = [float((c - before)[0]) for c in calls]
    assert steps == pytest.approx([1.0, 0.5, 0.25, 0.125])  # exponential shrinking from the full step
    # A KL violation is rejected too, even with an improved surrogate; the first satisfying step is kept.
    kls = iter([0.5, 0.0101, 0.005, 0.001])  # 1% over δ is over, float rounding or not
    result = backtracking_line_search(params, torch.ones_like(before), lambda: (torch.tensor(1.0), next(kls)), 0.0,
                                      max_kl=0.01, shrinking_factor=0.5, max_iter=4)
    assert result.success and result.fraction == 0.25 and result.kl == 0.005
    torch.testing.assert_close(flat_params(params), before + 0.25)
    set_flat_params(params, before)


@pytest.mark.parametrize("kind", list(SPACES))
def test_truncated_npg_with_many_cg_steps_equals_exact_npg(kind):
    results = {}
    for variant, cg_steps in [("exact", 0), ("truncated", 200), ("truncated_short", 2)]:
        agent, batch = _batch(kind, seed=5)
        args = npg.Args(variant=variant.split("_")[0], cg_max_steps=cg_steps, cg_residual_tol=1e-30, hidden_size=4,
                        cg_damping=1e-3)
        opt = (torch.optim.Adam(agent.critic.parameters(), lr=1e-3),)
        _, metrics = npg.update(agent, opt, batch, args)
        results[variant] = (flat_params(list(agent.actor.parameters())), metrics)
    exact, truncated, short = results["exact"][0], results["truncated"][0], results["truncated_short"][0]
    torch.testing.assert_close(truncated, exact, rtol=1e-6, atol=1e-8)
    assert results["truncated"][1]["step_size"] == pytest.approx(results["exact"][1]["step_size"], rel=1e-6)
    assert not torch.allclose(short, exact, rtol=1e-3, atol=1e-5)  # two CG steps are not the exact solve
    # The normalised step moves the policy by KL ≈ α²/2 (second-order model of the KL).
    assert results["exact"][1]["kl"] == pytest.approx(0.1**2 / 2, rel=0.3)


@pytest.mark.parametrize("space", [spaces.Discrete(4), spaces.Box(-1.0, 1.0, (2,))], ids=["categorical", "gaussian"])
def test_fisher_every_k_is_the_fisher_of_every_kth_sample(space):
    """--fisher-every k estimates F on rows[::k]: on a batch whose rows come in runs of k equal rows that is the
    whole batch's F, so the TRPO step is the full-Fisher step; on a batch without that structure it is not."""
    torch.manual_seed(0)
    actor = Actor(3, space, (8,), feature_norm=False)
    base = torch.randn(50, 3)
    with torch.no_grad():
        actions = actor.distribution(base).sample()
    advantages = torch.randn(50)

    def step(rows, every):
        model = Actor(3, space, (8,), feature_norm=False)
        model.load_state_dict(actor.state_dict())
        batch = {"actor_in": base[rows], "actions": actions[rows]}
        with torch.no_grad():
            batch["logprobs"] = model.distribution(batch["actor_in"]).log_prob(batch["actions"])
        surrogate = trpo.Surrogate(model, batch, advantages[rows])
        params = list(model.parameters())
        trust_region_step(surrogate, params, 0.01, 0.1, 10, 1e-10, 0.5, 10, subsampled_kl(surrogate, every))
        return torch.cat([p.detach().flatten() for p in params])

    runs = torch.arange(50).repeat_interleave(4)  # each row 4 times in a row: rows[::4] is every row once
    torch.testing.assert_close(step(runs, 4), step(runs, 1), atol=1e-5, rtol=1e-4)
    shuffled = runs[torch.randperm(200)]
    assert not torch.allclose(step(shuffled, 4), step(shuffled, 1), atol=1e-5, rtol=1e-4)
    with pytest.raises(ValueError, match="fisher-every"):
        subsampled_kl(None, 0)


def test_the_undamped_step_length_fills_the_trust_region_of_a_quadratic_kl():
    """KL(θ) = ½ θᵀAθ exactly and L(θ) = gᵀθ: the full step √(2δ / dᵀMd) d lands on KL = δ when M = A (undamped,
    the TRPO paper's length), and inside it when M = A + λI (damped); the line search accepts both whole."""
    torch.manual_seed(0)
    q = torch.randn(6, 6)
    a = q @ q.T / 6 + 0.05 * torch.eye(6)
    g = torch.randn(6)
    kls = {}
    for length in ("damped", "undamped"):
        theta = torch.nn.Parameter(torch.zeros(6))
        result = trust_region_step(lambda t=theta: (g @ t, 0.5 * t @ a @ t), [theta], 0.01, 0.1, 50, 1e-12, 0.5, 10,
                                   step_length=length)
        assert result.success and result.fraction == 1.0
        kls[length] = result.kl
    assert kls["undamped"] == pytest.approx(0.01, rel=1e-3)
    assert kls["damped"] < 0.95 * 0.01
    with pytest.raises(ValueError, match="step_length"):
        trust_region_step(lambda: (g @ torch.zeros(6), torch.zeros(())), [torch.nn.Parameter(torch.zeros(6))],
                          0.01, 0.1, 10, 1e-10, 0.5, 10, step_length="exact")


def test_npg_refuses_a_step_length_it_does_not_use(tmp_path):
    from baselines import npg

    with pytest.raises(ValueError, match="--step-length"):
        npg.train(npg.Args(env_id="CartPole-v1", step_length="undamped", run_dir=str(tmp_path / "n")))
