"""Natural-gradient machinery shared by TRPO and NPG: the only CG and line search in the repository.

Notation (the lecture's, and Schulman et al. 2015, "Trust Region Policy Optimization"):

    g      = ∇_θ L(θ)                                 policy gradient of the surrogate at θ_old
    F(θ)   = E_s E_{a~π}[ ∇log π(a|s) ∇log π(a|s)ᵀ ]   Fisher information: the covariance of the
                                                     score (its mean is zero), and also the Hessian
                                                     ∇²_θ KL(π_old ‖ π_θ) at θ = θ_old
    d_F    = F⁻¹ g                                    the natural gradient direction (Kakade 2001)

``fisher_vector_product`` forms F v without ever building F (TRPO appendix C.1: differentiate
(∇KL · v) once more, Pearlmutter's trick), ``conjugate_gradient`` solves F d = g with a
handful of such products (truncated NPG, Duan et al. 2016), and ``exact_fisher`` builds F
explicitly from the score covariance for tiny policies (the teaching reference and the test
oracle of both). ``backtracking_line_search`` is TRPO's step acceptance (TRPO sec. 6), and
``trust_region_step`` the whole TRPO step (TRPO's and each agent's of HATRPO).
Parameters are handled as one flat vector through ``parameters_to_vector`` /
``vector_to_parameters`` (as in sb3-contrib's ``flat_grad``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch.distributions import Categorical, Distribution, Independent, Normal, kl_divergence
from torch.nn.utils import parameters_to_vector, vector_to_parameters

KL_ROUNDING = 1e-5
"""Relative slack on the trust region's bound: the undamped full step lands on KL = δ exactly where the KL is
quadratic, and float32 rounds that to either side of δ."""


@dataclass
class TrustRegionArgs:
    """The conjugate-gradient and line-search settings that TRPO, NPG and HATRPO share (their --help)."""

    cg_max_steps: int = 10
    """conjugate-gradient iterations for d ≈ F⁻¹g (TRPO paper: 10)"""
    cg_residual_tol: float = 1e-10
    """stop CG early once the squared residual ‖g − (F + λI) d‖² falls below this"""
    cg_damping: float = 0.1
    """damping λ added to the Fisher matrix: CG solves (F + λI) d = g"""
    line_search_max_iter: int = 10
    """candidates tried before the step is rejected and θ_old restored"""
    fisher_every: int = 1
    """Fisher-vector products on every k-th sample only (OpenAI Baselines' TRPO: 5, rllab's subsample_factor):
    F estimated on 1/k of the batch, CG k times cheaper; 1: every sample"""
    step_length: Literal["damped", "undamped"] = "damped"
    """curvature that sets the full step's length √(2δ / dᵀMd): damped, M = F + λI (OpenAI Baselines, HARL), or
    undamped, M = F (the TRPO paper's; λ then only steadies the CG solve). With λ 0.1 the damped length can stay
    well inside δ: HATRPO's accepted KL on transport_v0 was 0.0038 at δ 0.01"""

Params = Sequence[torch.nn.Parameter]


def flat_params(params: Params) -> torch.Tensor:
    """θ as one detached vector (P,)."""
    return parameters_to_vector(params).detach().clone()


def set_flat_params(params: Params, flat: torch.Tensor) -> None:
    """Write the vector ``flat`` (P,) back into ``params`` in place."""
    with torch.no_grad():
        vector_to_parameters(flat, params)


def flat_grad(output: torch.Tensor, params: Params, create_graph: bool = False,
              retain_graph: bool | None = None) -> torch.Tensor:
    """∇_θ output as one vector (P,); parameters the output does not depend on get zeros."""
    grads = torch.autograd.grad(output, params, create_graph=create_graph, retain_graph=retain_graph,
                                allow_unused=True)
    return torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1)
                      for g, p in zip(grads, params, strict=True)])


def fisher_vector_product(kl: torch.Tensor, params: Params, damping: float) -> Callable[[torch.Tensor], torch.Tensor]:
    """Return v ↦ (F + damping·I) v, with F the Hessian of ``kl`` at the current θ.

    ``kl`` is the mean KL(π_old ‖ π_θ) over the batch, built with π_old detached, so that
    its gradient vanishes at θ = θ_old and its Hessian there is the Fisher matrix. The
    gradient ∇KL is taken once with ``create_graph=True``; each product is one more
    backward pass: F v = ∇_θ (∇_θ KL · v) (TRPO appendix C.1). The damping term keeps CG
    well conditioned where the batch estimate of F is singular (sb3-contrib: 0.1).

    Args:
        kl: scalar, differentiable in ``params``.
        params: the policy's parameters (the actor's only: never the critic's).
        damping: λ ≥ 0 added to the diagonal.
    """
    grad_kl = flat_grad(kl, params, create_graph=True)

    def product(v: torch.Tensor) -> torch.Tensor:
        return flat_grad(grad_kl @ v.detach(), params, retain_graph=True) + damping * v

    return product


def conjugate_gradient(matrix_vector_product: Callable[[torch.Tensor], torch.Tensor], b: torch.Tensor,
                       max_steps: int = 10, residual_tol: float = 1e-10) -> torch.Tensor:
    """Approximately solve A x = b for a symmetric positive-definite A given only x ↦ A x.

    Hestenes–Stiefel conjugate gradient (Nocedal & Wright, Algorithm 5.2), started from
    x = 0; with ``max_steps`` = dim it is exact up to rounding. Stops early once the squared
    residual ‖b − A x‖² falls below ``residual_tol``.

    Args:
        matrix_vector_product: x (P,) ↦ A x (P,).
        b: (P,) right-hand side (for NPG/TRPO, the policy gradient g).
        max_steps: iterations (TRPO paper: 10; sb3-contrib: 15).

    Returns:
        x (P,), the approximate solution (for NPG/TRPO, the search direction d ≈ F⁻¹ g).
    """
    x = torch.zeros_like(b)
    r = b.clone()  # residual b - A x at x = 0
    p = b.clone()  # search direction, A-conjugate to the previous ones
    r_dot_r = r @ r
    for _ in range(max_steps):
        if r_dot_r <= residual_tol:
            break
        a_p = matrix_vector_product(p)
        curvature = p @ a_p
        if curvature <= 0:  # converged to rounding (or A is not positive definite along p): stop
            break
        alpha = r_dot_r / curvature
        x = x + alpha * p
        r = r - alpha * a_p
        new_r_dot_r = r @ r
        p = r + (new_r_dot_r / r_dot_r) * p
        r_dot_r = new_r_dot_r
    return x


@dataclass
class LineSearchResult:
    """Outcome of ``backtracking_line_search``.

    Attributes:
        success: a step satisfied both conditions (otherwise θ was restored).
        fraction: the accepted fraction β^k of the full step (0 when rejected).
        objective: surrogate at the final θ.
        kl: mean KL(π_old ‖ π_θ) at the final θ (0 when rejected).
    """

    success: bool
    fraction: float
    objective: float
    kl: float


@torch.no_grad()
def backtracking_line_search(params: Params, full_step: torch.Tensor,
                             evaluate: Callable[[], tuple[torch.Tensor, torch.Tensor]], old_objective: float,
                             max_kl: float, shrinking_factor: float = 0.8, max_iter: int = 10) -> LineSearchResult:
    """TRPO's step acceptance: try θ_old + β^k · full_step for k = 0, 1, ..., keep the first that works.

    A step is accepted when the mean KL(π_old ‖ π_θ) ≤ ``max_kl`` (the trust region δ, up to float
    rounding: ``KL_ROUNDING``) and the surrogate improved over ``old_objective`` (TRPO sec. 6: the
    quadratic model of the KL is only local, so the constraint is checked on the real KL). If no
    candidate passes, θ is restored to θ_old exactly.

    Args:
        params: the policy's parameters, currently at θ_old.
        full_step: (P,) the largest step, √(2δ / dᵀFd) · d for TRPO.
        evaluate: () ↦ (surrogate, mean KL) at the current parameters.
        old_objective: the surrogate at θ_old.
        max_kl: δ.
        shrinking_factor: β in (0, 1).
        max_iter: candidates tried.
    """
    old = flat_params(params)
    fraction = 1.0
    for _ in range(max_iter):
        set_flat_params(params, old + fraction * full_step)
        objective, kl = evaluate()
        objective, kl = float(objective), float(kl)
        if math.isfinite(objective) and kl <= max_kl * (1.0 + KL_ROUNDING) and objective > old_objective:
            return LineSearchResult(True, fraction, objective, kl)
        fraction *= shrinking_factor
    set_flat_params(params, old)
    return LineSearchResult(False, 0.0, old_objective, 0.0)


def kl_from_frozen(actor, x: torch.Tensor) -> torch.Tensor:
    """Per row of ``x``: KL(π_θ_old ‖ π_θ) with π_θ_old the actor's output now, frozen. Zero at θ = θ_old, where
    its Hessian is the Fisher matrix of those rows (the surrogates' ``fisher_kl``)."""
    with torch.no_grad():
        old = actor.distribution(x)
    return kl_divergence(old, actor.distribution(x))


def subsampled_kl(surrogate, every: int) -> Callable[[], torch.Tensor] | None:
    """``trust_region_step``'s ``fisher_kl`` for ``--fisher-every``: ``surrogate.fisher_kl(every)``, or None (the
    whole batch's KL) for every = 1."""
    if every < 1:
        raise ValueError(f"--fisher-every must be >= 1, got {every}")
    return None if every == 1 else (lambda: surrogate.fisher_kl(every))


def trust_region_step(evaluate: Callable[[], tuple[torch.Tensor, torch.Tensor]], params: Params, max_kl: float,
                      damping: float, cg_max_steps: int, cg_residual_tol: float, shrinking_factor: float,
                      max_iter: int, fisher_kl: Callable[[], torch.Tensor] | None = None,
                      step_length: str = "damped") -> LineSearchResult:
    """One TRPO step on ``params``: d ≈ F⁻¹g by CG, Δθ_max = √(2δ / dᵀFd) · d, then the line search.

    ``evaluate`` () ↦ (surrogate L(θ), mean KL(π_old ‖ π_θ)), differentiable at the current θ = θ_old; the
    KL's Hessian there is F (``fisher_vector_product``). ``fisher_kl`` () ↦ a mean KL on part of the batch,
    whose Hessian estimates F more cheaply (``TrustRegionArgs.fisher_every``); the line search always checks
    the whole batch's KL. θ ends at the accepted step, or at θ_old exactly. ``step_length``: "damped" measures
    dᵀFd with the damped (F + λI) that CG solves with, "undamped" with F itself (``TrustRegionArgs.step_length``).
    """
    if step_length not in ("damped", "undamped"):
        raise ValueError(f"step_length must be damped or undamped, got {step_length!r}")
    objective, kl = evaluate()
    g = flat_grad(objective, params, retain_graph=True)
    fvp = fisher_vector_product(kl if fisher_kl is None else fisher_kl(), params, damping)
    direction = conjugate_gradient(fvp, g, cg_max_steps, cg_residual_tol)
    d_f_d = direction @ fvp(direction)  # dᵀ(F + λI)d
    if step_length == "undamped":
        d_f_d = d_f_d - damping * (direction @ direction)
    full_step = torch.sqrt(2 * max_kl / d_f_d.clamp(min=1e-12)) * direction  # TRPO appendix C
    return backtracking_line_search(params, full_step, evaluate, float(objective.detach()), max_kl,
                                    shrinking_factor, max_iter)


def _fisher_factors(dist: Distribution) -> torch.Tensor:
    """Functions u(θ) (N, K) whose Jacobian J (NK, P) gives the Fisher matrix as Jᵀ J / N.

    Categorical with probabilities p: the score of action a is ∇log π(a|s), so
    Σ_a π(a|s) ∇log π(a|s) ∇log π(a|s)ᵀ = Jᵀ J for u_a = √p̄_a · log π_θ(a|s) (p̄ detached):
    the score covariance summed over every action, not sampled.
    Diagonal Gaussian N(μ, σ²): the score is (a − μ)/σ² ∇μ + ((a − μ)²/σ² − 1) ∇log σ, whose
    covariance is Σ_k ∇μ_k ∇μ_kᵀ / σ_k² + 2 ∇log σ_k ∇log σ_kᵀ, i.e. u = (μ/σ̄, √2 log σ).
    """
    if isinstance(dist, Categorical):
        return dist.probs.detach().sqrt() * dist.logits.log_softmax(-1)
    if isinstance(dist, Independent) and isinstance(dist.base_dist, Normal):
        mean, std = dist.base_dist.loc, dist.base_dist.scale
        return torch.cat([mean / std.detach(), math.sqrt(2.0) * std.log()], -1)
    if hasattr(dist, "dists"):  # MultiCategorical: independent factors, Fisher matrices add
        return torch.cat([_fisher_factors(d) for d in dist.dists], -1)
    raise TypeError(f"exact_fisher supports Categorical, MultiCategorical and diagonal Gaussian policies, got {dist}")


def exact_fisher(dist: Distribution, params: Params) -> torch.Tensor:
    """The Fisher matrix F (P, P) of a batch of policy distributions, built explicitly.

    F = (1/N) Σ_s E_{a~π(·|s)}[∇log π(a|s) ∇log π(a|s)ᵀ], the score covariance with the
    expectation over actions taken in closed form (see ``_fisher_factors``). It costs one
    backward pass per (state, factor) pair and P² memory: a reference for tiny policies
    (exact NPG, tests), not for training real networks.

    Args:
        dist: the policy's distribution over a batch of N states, differentiable in ``params``.
        params: the parameters θ.
    """
    factors = _fisher_factors(dist)
    n = factors.shape[0]
    flat = factors.reshape(-1)
    eye = torch.eye(flat.shape[0], dtype=flat.dtype, device=flat.device)
    grads = torch.autograd.grad(flat, params, grad_outputs=eye, is_grads_batched=True, allow_unused=True)
    jac = torch.cat([(torch.zeros(flat.shape[0], p.numel(), dtype=flat.dtype, device=flat.device) if g is None
                      else g.reshape(flat.shape[0], -1)) for g, p in zip(grads, params, strict=True)], 1)
    return jac.T @ jac / n
