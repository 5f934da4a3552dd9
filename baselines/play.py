"""Play beside trained agents: ``marl_envs.play`` with the baselines' checkpoints as the other agents.

    python -m baselines.play transport_v0 --checkpoint runs/mappo_transport --env-kwargs '{"N": 2}'

The envs do not depend on the trainers, so ``marl_envs.play`` reads a checkpoint through a policy
loader that a trainer offers (``marl_envs.policies``). ``load_policy`` below is the baselines'
loader: installed, it is the ``baselines`` entry point of the ``marl_envs.policies`` group, and
``python -m marl_envs.play ENV --checkpoint RUN`` finds it there; this command registers it
first, so it works from a checkout that was never installed. Same arguments as
``python -m marl_envs.play`` (``--help`` lists them and the keys).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from baselines.common.checkpoint import load_checkpoint
from baselines.common.policy import build_policy_from_checkpoint
from baselines.evaluate import SINGLE_AGENT_ALGOS
from marl_envs import play
from marl_envs.policies import register_policy_loader

LOADER_NAME = "baselines"


def load_policy(checkpoint: str, env) -> Callable[[torch.Tensor], torch.Tensor]:
    """Greedy actions of the IPPO/MAPPO policy in ``checkpoint`` (a run directory or file) for the one-world
    batched ``env``; a TRPO/NPG run (one joint policy) is a ValueError."""
    payload = load_checkpoint(checkpoint)
    if payload["algo"] in SINGLE_AGENT_ALGOS:
        raise ValueError(f"{checkpoint} is a {payload['algo']} run (one joint policy); play needs an IPPO/MAPPO run")
    return TrainedPolicy(build_policy_from_checkpoint(payload, env))


class TrainedPolicy:
    """Greedy actions of a trained ``MultiAgentPolicy`` for ``play``; ``reset()`` starts a new episode (a
    recurrent policy forgets the last one)."""

    def __init__(self, policy):
        self.policy = policy

    def __call__(self, obs: torch.Tensor) -> torch.Tensor:
        return self.policy.act(obs.cpu(), None, deterministic=True)

    def reset(self) -> None:
        self.policy.reset_memory()


def main(argv: list[str] | None = None) -> None:
    register_policy_loader(LOADER_NAME, load_policy)
    play.main(argv)


if __name__ == "__main__":
    main()
