"""IPPO: independent PPO, each agent's critic sees only its own observation (de Witt et al. 2020).

The same PPO as ``mappo.py`` (clipped ratio objective, GAE(γ, λ), value normalisation,
clipped value loss, death masks); the only difference is the critic's input:
V(o_i, i) on the local observation instead of V(s, o_i, i) on the global state. Actor
and critic parameters are shared across agents, with a one-hot agent id (``--agent-id``).

Paper: https://arxiv.org/abs/2011.09533.
Usage: ``python -m baselines.ippo --env-id spread_v0 --total-timesteps 2000000`` (per-env presets as MAPPO's)
"""

from __future__ import annotations

from dataclasses import dataclass

from baselines import mappo
from baselines.common.run import Run


@dataclass
class Args(mappo.Args):
    centralized_critic: bool = False
    """IPPO's critic is decentralised: V(o_i, i)"""


def train(args: Args) -> Run:
    return mappo.train(args, algo="ippo")


def main(argv: list[str] | None = None) -> None:
    from baselines.common.presets import parse_cli

    train(parse_cli(Args, "ippo", __doc__.split("\n\n")[0], argv))


if __name__ == "__main__":
    main()
