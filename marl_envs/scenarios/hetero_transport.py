"""# Heterogeneous transport (cooperative pushing by agents that differ)

| Import | `from marl_envs import hetero_transport_v0` |
|---|---|
| Actions | Discrete(5) / Box(0, 1, (5,)), with a meaning of its own for each agent |
| Agents | `agent_0 … agent_{N-1}` (N = 3 by default) |
| Observation shape | (13 + 2(N-1),): 17 for N = 3 (as transport_v0) |
| State shape | (4N + 9,): 21 for N = 3 |
| Success | the package's centre enters the goal zone (the episode terminates) |

## Description
transport_v0's task (push the package into the goal zone; arena, package, goal, rewards and episode
end unchanged) with agents that are built differently. By default:

| agent | role | mass | push | its actions 1..4 push towards |
|---|---|---|---|---|
| `agent_0` | tug | 2.0 | 4.5 | -x, +x, -y, +y (MPE's order) |
| `agent_1` | drone | 0.5 | 4.0 | the same, turned a quarter-turn counter-clockwise: -y, +y, +x, -x |
| `agent_2` | drone | 0.5 | 4.0 | the same, turned half a turn: +x, -x, +y, -y |

The package (mass 4) starts moving once pushed with more than 4.8: no agent moves it alone, any two
slowly (8 to 8.5), all three together well (12.5; transport_v0's three push with 15). The tug is heavy
and slow to turn, the drones light and quick, and each agent's actuator is mounted at its own angle.

## Why shared parameters hurt
The agents see the same kind of observation (their positions, the package, the goal, each other) and
must do the same thing in it (get behind the package, push towards the goal), but that behaviour is a
different action for each of them: where `agent_0` needs action 2 (+x), `agent_1` needs 3 and
`agent_2` needs 1. One network shared by all agents that does not know which agent it drives must give
all three the same action distribution in the same situation, and so pushes them different ways (the
failure of parameter sharing that Kuba et al. 2022 construct); with an agent-id input it must compute the
policy three times over from that input. Separate actors (HAPPO, HATRPO: one per agent) learn three
ordinary transport policies. The scripted pushers (``heuristic_action``) show that the
task needs nothing else: they are transport_v0's, each action translated into the agent's own frame.

Measured (6 seeds, 2M env steps, greedy, 1000 episodes each; the HAPPO page of the docs has the table): with
tanh hidden units (their presets here) HAPPO's separate actors succeed in 94.3% ± 5.4 of episodes (83.7 to
98.2%) and MAPPO's shared actor, which takes the agent's id, in 67.6% ± 23.1 (23.6 to 85.5%; 99.7% on
transport_v0). With relu, MAPPO's shared actor succeeded in 66.4% (40.2 to 84.9%), HAPPO's separate actors
in 64.1% and HATRPO's in 68.9%, level within the seeds' spread; the weaker pushes cost more than the turned
actions: with transport_v0's masses and strengths and only the turned frames, MAPPO reached 92% and HAPPO 90%
(one seed). Without the id (`--no-agent-id`, parameter sharing as MAPPO's reference code runs MPE) the shared
network succeeds in 21.3% ± 4.7 here (6 seeds, 15.7 to 26.3%), 43 points below HAPPO's separate actors on the same
seeds, and in 99.3% on transport_v0, whose agents are alike.

## Action space
Discrete: 0 no_action, and 1..4 push along MPE's directions (-x, +x, -y, +y) turned by
`quarter_turns[i]` quarter-turns counter-clockwise, with force `strengths[i]`. Continuous
(`continuous_actions=True`): 5 floats in [0, 1], force = `strengths[i]` · R_i (a2 - a1, a4 - a3), R_i
the agent's turn.

## Observation space
As transport_v0 (same 13 + 2(N-1) columns, world frame). The agent's kind is not in its observation:
learners tell agents apart by their index (an id input or one network per agent).

## Rewards
As transport_v0: `progress_scale` times the package's progress towards the goal each step, plus
`arrival_bonus` on arrival, shared by every agent (minus `collision_penalty` per overlapping agent).

## Episode end
Termination when the package's centre is within 0.25 of the goal's; truncation after `max_cycles`
(200) steps. `info["is_success"]` (batched API) is true where the episode ended by arrival.

## Arguments
transport_v0's (`N` 3, `package_mass` 4.0, `package_friction` 1.2, `max_cycles` 200, `continuous_actions`,
`progress_scale`, `arrival_bonus`, `collision_penalty`), plus, one entry per agent (cycled when N is larger):
`strengths` ((4.5, 4.0, 4.0): the push force), `masses` ((2.0, 0.5, 0.5)) and `quarter_turns` ((0, 1, 2):
how far each agent's action directions are turned).

## State
As transport_v0: agent positions, velocities, package position, velocity, (cos, sin) of its angle, angular
velocity, goal position.

## Version history
- v0: initial release.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from marl_envs.physics import BodySpec, circles
from marl_envs.scenarios.actions import MPE_MOVES
from marl_envs.scenarios.transport import AGENT_RADIUS, Transport, TransportConfig, TransportSensed

TUG_COLOR = (0.2, 0.2, 0.6)


@dataclass(frozen=True)
class HeteroTransportConfig(TransportConfig):
    """Arguments of ``hetero_transport_v0``: transport_v0's plus each agent's build (cycled over the agents)."""

    strengths: tuple[float, ...] = (4.5, 4.0, 4.0)
    """Push force of each agent (transport_v0: 5 for all)."""
    masses: tuple[float, ...] = (2.0, 0.5, 0.5)
    """Mass of each agent (transport_v0: 1 for all)."""
    quarter_turns: tuple[int, ...] = (0, 1, 2)
    """Quarter-turns (counter-clockwise) by which each agent's action directions are turned."""

    def __post_init__(self) -> None:
        super().__post_init__()
        for name, positive in (("strengths", True), ("masses", True), ("quarter_turns", False)):
            values = getattr(self, name)
            if isinstance(values, str) or not hasattr(values, "__len__") or len(values) == 0:
                raise TypeError(f"{name} must be a non-empty sequence, got {values!r}")
            object.__setattr__(self, name, tuple(values))  # JSON lists (--env-kwargs) become tuples
            for v in values:
                if positive and (isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)
                                 or v <= 0):
                    raise ValueError(f"{name} must hold finite numbers > 0, got {values!r}")
                if not positive and (isinstance(v, bool) or not isinstance(v, int)):
                    raise TypeError(f"{name} must hold ints, got {values!r}")

    def per_agent(self, name: str) -> list:
        values = getattr(self, name)
        return [values[i % len(values)] for i in range(self.N)]


def turned_moves(quarter_turns: list[int], strengths: list[float], device) -> torch.Tensor:
    """(A, 5, 2): agent i's force for each of its discrete actions, MPE's directions turned and scaled."""
    moves = torch.tensor(MPE_MOVES, device=device)
    tables = []
    for q, strength in zip(quarter_turns, strengths, strict=True):
        c, s = round(math.cos(q * math.pi / 2)), round(math.sin(q * math.pi / 2))
        rotation = torch.tensor([[c, -s], [s, c]], dtype=moves.dtype, device=device)
        tables.append(strength * moves @ rotation.T)
    return torch.stack(tables)


class HeteroTransport(Transport):
    """transport_v0 with agents of their own mass, strength and action frame (module docstring)."""

    config_cls = HeteroTransportConfig

    def __init__(self, config: HeteroTransportConfig, num_envs: int, device: torch.device):
        super().__init__(config, num_envs, device)
        n = config.N
        strengths, turns = config.per_agent("strengths"), config.per_agent("quarter_turns")
        self._agent_moves = turned_moves(turns, strengths, self.device)  # (A, 5, 2)
        unit = turned_moves(turns, [1.0] * n, self.device)
        # world action w -> the agent's own action with the same direction (for the scripted pushers)
        world = torch.tensor(MPE_MOVES, device=self.device)
        self._own_action = (unit[:, None, :, :] - world[None, :, None, :]).abs().sum(-1).argmin(-1)  # (A, 5)
        self._agent_index = torch.arange(n, device=self.device)
        strongest = max(strengths)
        for i, strength in enumerate(strengths):
            if strength == strongest:
                self.body_colors[i] = torch.tensor(TUG_COLOR)

    def agent_bodies(self, config: HeteroTransportConfig) -> BodySpec:
        return BodySpec.concat([circles(1, AGENT_RADIUS, mass=float(m)) for m in config.per_agent("masses")])

    def apply_actions(self, actions: torch.Tensor) -> tuple[torch.Tensor, None]:
        if self.config.continuous_actions:  # agent i's five weights times its own (5, 2) table
            force = torch.einsum("bak,akd->bad", actions.to(self._agent_moves.dtype), self._agent_moves)
        else:
            force = self._agent_moves[self._agent_index, actions]
        return torch.cat((force, self._still), dim=1), None

    def heuristic_action(self, sensed: TransportSensed) -> torch.Tensor:
        """transport_v0's scripted pushers, each world-frame action translated into the agent's own action."""
        world = super().heuristic_action(sensed)  # (B, A) in MPE's frame
        return self._own_action[self._agent_index, world]
