"""Actor and critic networks (separate, as in MAPPO and CleanRL's continuous PPO).

Orthogonal initialisation with gain sqrt(2) for hidden layers, 0.01 for the policy head
(near-uniform initial policy) and 1 for the value head: the "implementation details"
of PPO (Huang et al. 2022, details 2 and 3) and MAPPO's defaults.
"""

from __future__ import annotations

import math

import torch
from gymnasium import spaces
from torch import nn
from torch.distributions import Categorical, Distribution, Independent, Normal, kl_divergence, register_kl
from torch.distributions.utils import lazy_property


def layer_init(layer: nn.Linear, gain: float = math.sqrt(2), bias: float = 0.0) -> nn.Linear:
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.constant_(layer.bias, bias)
    return layer


ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}


def mlp(in_dim: int, hidden: tuple[int, ...], out_dim: int, out_gain: float, layer_norm_input: bool = True,
        activation: str = "relu") -> nn.Sequential:
    """MLP with an optional LayerNorm on the input (MAPPO's feature normalisation).

    ReLU is MAPPO's default and is cheaper than tanh on CPU; tanh is CleanRL's.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    layers: list[nn.Module] = [nn.LayerNorm(in_dim)] if layer_norm_input else []
    last = in_dim
    for h in hidden:
        layers += [layer_init(nn.Linear(last, h)), ACTIVATIONS[activation]()]
        last = h
    layers.append(layer_init(nn.Linear(last, out_dim), gain=out_gain))
    return nn.Sequential(*layers)


def full_precision(x: torch.Tensor) -> torch.Tensor:
    """``x`` in float32 if autocast left it in a 16-bit float type; float32 and float64 unchanged."""
    return x.float() if x.dtype in (torch.bfloat16, torch.float16) else x


class ExpCategorical(Categorical):
    """torch's Categorical with its probabilities taken as exp of its normalised logits.

    torch normalises the logits (``logits - logsumexp``) on construction and then computes ``probs`` with a softmax
    over the last dimension. The two are the same numbers up to rounding, but on CPU a softmax over a few
    categories is one of the slowest kernels of an update: on 40,960 rows of 11 categories (one hide-and-seek
    minibatch factor) softmax takes 7.8 ms and exp 0.4 ms, and the log-probability and entropy of hide-and-seek's
    five factors, forward and backward, 61 ms against 23 ms (one thread, idle 2-core VM). Entropy, KL (torch's
    Categorical rule) and sampling read ``probs``, so all of them get the faster path.
    """

    @lazy_property
    def probs(self) -> torch.Tensor:
        return self.logits.exp()


class MultiCategorical(Distribution):
    """Independent categoricals, one per MultiDiscrete dimension; log-probs and entropies add."""

    arg_constraints: dict = {}

    def __init__(self, logits: torch.Tensor, nvec: list[int]):
        self.dists = [ExpCategorical(logits=chunk, validate_args=False)
                      for chunk in torch.split(logits, nvec, dim=-1)]
        super().__init__(batch_shape=logits.shape[:-1], validate_args=False)

    def sample(self, sample_shape: tuple[int, ...] = ()) -> torch.Tensor:
        """Inverse-CDF sampling: one uniform number per factor, the action the first whose cumulative probability
        exceeds it. torch's ``Categorical.sample`` (``multinomial``) draws an exponential per category: with
        hide-and-seek's 37 logits per agent, sampling this way cut the acting time of a preset update on 2 CPU
        threads from 1.32 s to 1.06 s. The uniform is scaled by the last cumulative probability (1 up to rounding),
        so a zero-probability category is never drawn."""
        with torch.no_grad():
            probs = [d.probs for d in self.dists]
            u = torch.rand(torch.Size(sample_shape) + self.batch_shape + (len(probs),), dtype=probs[0].dtype,
                           device=probs[0].device)
            picks = []
            for i, p in enumerate(probs):
                cdf = p.cumsum(-1)
                picks.append((cdf <= u[..., i:i + 1] * cdf[..., -1:]).sum(-1))
            return torch.stack(picks, dim=-1)

    @property
    def mode(self) -> torch.Tensor:
        return torch.stack([d.probs.argmax(-1) for d in self.dists], dim=-1)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        return sum(d.log_prob(value[..., i]) for i, d in enumerate(self.dists))

    def entropy(self) -> torch.Tensor:
        return sum(d.entropy() for d in self.dists)


@register_kl(MultiCategorical, MultiCategorical)
def _kl_multi_categorical(p: MultiCategorical, q: MultiCategorical) -> torch.Tensor:
    """KL of independent factors is the sum of the factors' KLs (TRPO/NPG on MultiDiscrete actions)."""
    return sum(kl_divergence(a, b) for a, b in zip(p.dists, q.dists, strict=True))


class ActionHead(nn.Module):
    """The action-space part of a policy, shared by ``Actor`` (MLP) and ``entity.EntityActor``.

    ``_init_action_space`` records the space (and, for Box, registers ``log_std`` on the subclass, so its
    state_dict key stays ``log_std``) and returns the number of raw outputs the network must produce;
    ``_distribution`` turns those outputs into π(· | x).
    """

    def _init_action_space(self, action_space: spaces.Space, log_std_init: float) -> int:
        self.action_space = action_space
        if isinstance(action_space, spaces.Discrete):
            return int(action_space.n)
        if isinstance(action_space, spaces.MultiDiscrete):
            self.nvec = [int(n) for n in action_space.nvec.reshape(-1)]
            return sum(self.nvec)
        if isinstance(action_space, spaces.Box):
            out = int(math.prod(action_space.shape))
            self.log_std = nn.Parameter(torch.full((out,), float(log_std_init)))
            return out
        raise TypeError(f"unsupported action space {action_space}; use Discrete, MultiDiscrete or Box")

    def _distribution(self, out: torch.Tensor) -> Distribution:
        """Built without torch's argument validation: for small policies it costs as much as the network
        itself, and a non-finite output would still surface in the env's action checks and the losses.

        ``out`` is bfloat16 under ``--precision bf16`` (autocast): it is cast to float32 first, so log-probabilities,
        ratios and entropies are float32 in the losses as in acting. (Before, the PPO losses, which call the actor
        directly, took them in bfloat16: a log-probability of -5 rounded by up to 0.016, a ratio by up to 1.6%.)"""
        out = full_precision(out)
        if isinstance(self.action_space, spaces.Discrete):
            return ExpCategorical(logits=out, validate_args=False)
        if isinstance(self.action_space, spaces.MultiDiscrete):
            return MultiCategorical(out, self.nvec)
        return Independent(Normal(out, self.log_std.exp().expand_as(out), validate_args=False), 1,
                           validate_args=False)

    @staticmethod
    def deterministic(dist: Distribution) -> torch.Tensor:
        """The most likely action (for evaluation)."""
        if isinstance(dist, Categorical):
            return dist.probs.argmax(-1)
        return dist.mode if isinstance(dist, MultiCategorical) else dist.mean


class Actor(ActionHead):
    """π(a | o): Categorical, MultiCategorical or diagonal Gaussian, from the action space.

    The Gaussian has a state-independent log-std (CleanRL/SB3 default); Box actions are
    sampled unbounded and the env clips them, as PettingZoo/MPE2 do.
    """

    def __init__(self, obs_dim: int, action_space: spaces.Space, hidden: tuple[int, ...] = (64, 64),
                 activation: str = "relu", feature_norm: bool = True, log_std_init: float = -0.5):
        super().__init__()
        out = self._init_action_space(action_space, log_std_init)
        self.net = mlp(obs_dim, hidden, out, out_gain=0.01, layer_norm_input=feature_norm, activation=activation)

    def distribution(self, obs: torch.Tensor) -> Distribution:
        """π(· | obs)."""
        return self._distribution(self.net(obs))


class Critic(nn.Module):
    """V(x) -> (…,) from any input vector (local observation or agent-specific global state)."""

    def __init__(self, in_dim: int, hidden: tuple[int, ...] = (64, 64), activation: str = "relu",
                 feature_norm: bool = True):
        super().__init__()
        self.net = mlp(in_dim, hidden, 1, out_gain=1.0, layer_norm_input=feature_norm, activation=activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return full_precision(self.net(x).squeeze(-1))  # float32 values under --precision bf16
