"""The smallest complete custom scenario: "rendezvous", N discs that must meet.

A scenario is pure task logic over a batched ``World`` (docs/architecture.md, "Adding a
scenario"): it builds bodies, resets worlds, turns actions into forces and reads the state into
observations and rewards, for B worlds at once with no Python loop over worlds or agents. The
API layer does the rest: the same class becomes B batched worlds (``BatchedEnv``) or a
PettingZoo parallel env (``ParallelEnv``) without registering it anywhere.

Task: every agent sees its velocity, its position and the group's centre relative to itself;
each step every agent is rewarded with minus the mean distance of the group to its centre, so
the reward rises to 0 as they meet. Discrete actions in MPE's order (none, -x, +x, -y, +y).

    python examples/custom_scenario.py --num-envs 256 --steps 50
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import torch

from marl_envs.api import ActionSpec, BatchedEnv, ObsBlock, ObsSpec, ParallelEnv
from marl_envs.physics import BodyState, World, WorldParams, circles
from marl_envs.scenarios.actions import decode_mpe_discrete, mpe_move_table
from marl_envs.scenarios.base import Scenario, ScenarioConfig


@dataclass(frozen=True)
class RendezvousConfig(ScenarioConfig):
    """The env's arguments: each field is a keyword of ``BatchedEnv(Rendezvous, ...)``."""

    N: int = 3
    """Number of agents."""
    max_cycles: int = 50

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.N, int) or isinstance(self.N, bool) or self.N < 2:
            raise ValueError(f"N must be an int >= 2, got {self.N!r}")


class Rendezvous(Scenario):
    """Bodies 0..N-1 are the agents (discs of radius 0.1)."""

    config_cls = RendezvousConfig

    def __init__(self, config: RendezvousConfig, num_envs: int, device: torch.device):
        super().__init__(config, num_envs, device)
        n = config.N
        self.agents = [f"agent_{i}" for i in range(n)]
        self.world = World(circles(n, 0.1), WorldParams(), num_envs, self.device)
        self.body_colors = torch.tensor([(0.3, 0.6, 0.35)] * n)
        self.action_spec = ActionSpec("discrete", n=5)
        self.obs_spec = ObsSpec((
            ObsBlock("self_vel", 2, description="own velocity"),
            ObsBlock("self_pos", 2, description="own position"),
            ObsBlock("centre_rel_pos", 2, description="the group's centre relative to self"),
        ))
        self.state_dim = 4 * n
        self._moves = mpe_move_table(5.0, self.device)

    def reset(self, mask: torch.Tensor | None, generator: torch.Generator) -> None:
        b, n = self.num_envs, self.config.N
        pos = torch.rand(b, n, 2, generator=generator, device=self.device) * 2.0 - 1.0
        zeros = torch.zeros(b, n, device=self.device)
        fresh = BodyState(pos=pos, vel=torch.zeros_like(pos), angle=zeros, ang_vel=zeros.clone())
        if mask is None:
            self.world.state = fresh
        else:
            self.world.reset_where(mask, fresh)

    def apply_actions(self, actions: torch.Tensor) -> tuple[torch.Tensor, None]:
        return decode_mpe_discrete(actions, self._moves), None

    def sense(self) -> torch.Tensor:
        """What observe, reward and the scripted policy share: each agent's offset to the centre (B, A, 2)."""
        pos = self.world.state.pos
        return pos.mean(dim=1, keepdim=True) - pos

    def observe(self, to_centre: torch.Tensor) -> torch.Tensor:
        s = self.world.state
        return torch.cat((s.vel, s.pos, to_centre), dim=-1)

    def reward(self, to_centre: torch.Tensor) -> torch.Tensor:
        spread = torch.linalg.vector_norm(to_centre, dim=-1).mean(dim=1, keepdim=True)  # (B, 1)
        return (-spread).expand(-1, self.config.N)

    def global_state(self) -> torch.Tensor:
        s = self.world.state
        return torch.cat((s.pos.flatten(1), s.vel.flatten(1)), dim=-1)

    def heuristic_action(self, to_centre: torch.Tensor) -> torch.Tensor:
        """Move along the larger axis of the offset to the centre (none once within 5 cm)."""
        x, y = to_centre.unbind(-1)
        along_x = x.abs() >= y.abs()
        move = torch.where(along_x, torch.where(x < 0, 1, 2), torch.where(y < 0, 3, 4))
        return torch.where(torch.linalg.vector_norm(to_centre, dim=-1) < 0.05, 0, move)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num-envs", type=int, default=256)
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args(argv)

    # B worlds at once, torch tensors in and out: the scripted policy against random moves.
    env = BatchedEnv(Rendezvous, num_envs=args.num_envs, seed=0, N=3)
    figures = {}
    for policy in ("random", "scripted"):
        env.reset(seed=0)
        total = torch.zeros(())
        for _ in range(args.steps):
            if policy == "scripted":
                actions = env.scripted_actions()
            else:
                actions = torch.randint(0, 5, (env.num_envs, env.num_agents))
            _, reward, _, _, _ = env.step(actions)
            total += reward.mean()
        figures[policy] = float(total / args.steps)
        print(f"{policy:>8}: mean reward per step {figures[policy]:+.3f} over {env.num_envs} worlds")

    # The same class as a PettingZoo parallel env (one world, numpy dicts).
    penv = ParallelEnv(Rendezvous, N=3)
    obs, _ = penv.reset(seed=0)
    while penv.agents:
        obs, rewards, terminations, truncations, _ = penv.step({a: penv.action_space(a).sample() for a in penv.agents})
    print(f"PettingZoo: {penv.possible_agents}, observation {obs['agent_0'].shape}, episode of {penv.max_cycles}")
    return figures


if __name__ == "__main__":
    main()
