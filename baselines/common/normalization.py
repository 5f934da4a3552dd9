"""MAPPO's value normalisation: running statistics of the returns.

Value normalisation (Yu et al. 2022, "The Surprising Effectiveness of PPO in Cooperative
Multi-Agent Games", sec. 4.1 and their ``ValueNorm``): the critic regresses onto
returns standardised by running statistics, so that the scale of the return (−80 at the
start of training on spread, −25 at the end) does not change the critic's effective
learning rate. Values are de-normalised before GAE. The statistics are debiased
exponential moving averages, as in the reference implementation.
"""

from __future__ import annotations

import torch
from torch import nn


class ValueNormalizer(nn.Module):
    """MAPPO's value normaliser: debiased EMA of the mean and mean square of returns.

    Args:
        beta: EMA decay per update (MAPPO: 0.99999, i.e. a very long memory).
    """

    def __init__(self, beta: float = 0.99999, epsilon: float = 1e-5):
        super().__init__()
        self.beta, self.epsilon = beta, epsilon
        self.register_buffer("running_mean", torch.zeros((), dtype=torch.float64))
        self.register_buffer("running_mean_sq", torch.zeros((), dtype=torch.float64))
        self.register_buffer("debiasing_term", torch.zeros((), dtype=torch.float64))

    def _stats(self) -> tuple[torch.Tensor, torch.Tensor]:
        debias = self.debiasing_term.clamp(min=self.epsilon)
        mean = self.running_mean / debias
        var = (self.running_mean_sq / debias - mean.square()).clamp(min=1e-2)
        return mean, var

    @torch.no_grad()
    def update(self, returns: torch.Tensor) -> None:
        x = returns.double().reshape(-1)
        self.running_mean.mul_(self.beta).add_(x.mean() * (1.0 - self.beta))
        self.running_mean_sq.mul_(self.beta).add_(x.square().mean() * (1.0 - self.beta))
        self.debiasing_term.mul_(self.beta).add_(1.0 - self.beta)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        mean, var = self._stats()
        return ((x.double() - mean) / var.sqrt()).to(x.dtype)

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        mean, var = self._stats()
        return (x.double() * var.sqrt() + mean).to(x.dtype)
