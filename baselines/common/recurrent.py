"""GRU memory for the actors (``--recurrent``), and the chunks a rollout is cut into to train it.

An actor with memory computes, for each agent at each step t,

    f_t = body(x_t)                              the actor's trunk (MLP, or the entity network)
    h_t = GRU(f_t, h_{t-1} · (1 - first_t))      first_t: step t starts an episode (memory reset)
    π(· | x_≤t) = head(h_t)

(Baker et al. 2019 put an LSTM between the pooled entity features and the heads; MAPPO's recurrent
policy puts a GRU after the MLP trunk. A GRU cell is the smaller of the two, and one state tensor
is simpler to store.) The critic stays feed-forward: it sees the global state, which holds what the
agents cannot see, including the time left.

Training is truncated backpropagation through time on chunks (MAPPO's ``data_chunk_length``): the T
steps of a rollout are cut into T / L chunks of L steps for every agent of every world; a minibatch
is a set of whole chunks, each unrolled from the memory the actor had when it acted at the chunk's
first step (stored in the rollout), resetting it at episode starts inside the chunk. Gradients flow
through the L steps of a chunk, not into the stored memory. Before the first gradient step on a
rollout, the unrolled log-probabilities equal the ones recorded while acting, step for step
(tests/baselines/test_recurrent.py).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.distributions import Distribution

from baselines.common.entity import EntityActor
from baselines.common.networks import Actor


class RecurrentActor(nn.Module):
    """An ``Actor`` or ``EntityActor`` with a GRU cell between its trunk and its action head."""

    def __init__(self, base: Actor | EntityActor):
        super().__init__()
        self._entity = isinstance(base, EntityActor)
        width = base.encoder.width if self._entity else base.net[-1].in_features
        self.base = base
        self.memory = nn.GRUCell(width, width)
        self.memory_size = width

    @property
    def log_std(self) -> torch.Tensor:
        return self.base.log_std  # AttributeError (so hasattr is false) for discrete action spaces

    @property
    def action_space(self):
        return self.base.action_space

    def _distribution(self, out: torch.Tensor) -> Distribution:
        return self.base._distribution(out)

    def _body(self, x: torch.Tensor) -> torch.Tensor:
        if self._entity:
            return self.base.encoder(x)
        for layer in self.base.net[:-1]:
            x = layer(x)
        return x

    def _head(self, h: torch.Tensor) -> torch.Tensor:
        return self.base.head(h) if self._entity else self.base.net[-1](h)

    def step(self, x: torch.Tensor, memory: torch.Tensor, first: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One step of N rows: x (N, D), memory (N, W), first (N,) bool -> (head outputs (N, k), memory (N, W))."""
        memory = self.memory(self._body(x), torch.where(first.unsqueeze(-1), 0.0, memory))
        return self._head(memory), memory

    def unroll(self, x: torch.Tensor, memory: torch.Tensor, first: torch.Tensor, length: int) -> torch.Tensor:
        """Head outputs of S chunks of ``length`` steps, rows chunk-major: x (S*L, D), memory (S*L, W) of which
        each chunk's first row is used, first (S*L,) -> (S*L, k)."""
        if x.shape[0] % length:
            raise ValueError(f"{x.shape[0]} rows are not whole chunks of {length} steps")
        features = self._body(x).view(-1, length, self.memory_size)
        resets = first.view(-1, length, 1)
        h = memory.view(-1, length, self.memory_size)[:, 0]
        outputs = []
        for t in range(length):
            h = self.memory(features[:, t], torch.where(resets[:, t], 0.0, h))
            outputs.append(h)
        return self._head(torch.stack(outputs, 1).view(x.shape[0], self.memory_size))

    def unrolled_distribution(self, x: torch.Tensor, memory: torch.Tensor, first: torch.Tensor,
                              length: int) -> Distribution:
        """π(· | x_≤t) for every row of whole chunks (``unroll``)."""
        return self._distribution(self.unroll(x, memory, first, length))


def chunk_minibatches(num_steps: int, num_sequences: int, length: int, num_minibatches: int,
                      device: torch.device) -> list[torch.Tensor]:
    """Row indices of minibatches of whole chunks, for rows flattened from (T, N) time-major (N = B * A).

    The T steps of each of the N sequences are cut into chunks of ``length``; the chunks are shuffled
    (torch's global generator, as ``buffer.minibatch_indices``) and split into ``num_minibatches`` parts,
    each given as its chunks' rows, chunk-major and in time order within a chunk (what ``unroll`` reads).
    """
    if num_steps % length:
        raise ValueError(f"--chunk-length {length} must divide the rollout's {num_steps} steps (--num-steps)")
    starts = (torch.arange(num_steps // length) * length * num_sequences).unsqueeze(1) + torch.arange(num_sequences)
    rows = starts.reshape(-1, 1) + torch.arange(length) * num_sequences  # (chunks, L)
    perm = torch.randperm(rows.shape[0])
    return [rows[part].reshape(-1).to(device) for part in torch.tensor_split(perm, num_minibatches)]
