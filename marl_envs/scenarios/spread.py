"""# Spread (cooperative navigation)

| Import | `from marl_envs import spread_v0` |
|---|---|
| Actions | Discrete(5) / Box(0, 1, (5,)) |
| Agents | `agent_0 … agent_{N-1}` (N = 3 by default) |
| Observation shape | (6N,): 18 for N = 3 |
| State shape | (6N,): 18 for N = 3 |
| Parity | MPE2 `simple_spread_v3` (same dynamics, observations, rewards, spaces) |

## Description
N agents (discs of radius 0.15) must cover N landmarks while avoiding each other. This is
MPE's "simple_spread" with MPE2's constants: dt 0.1, damping 0.25, mass 1, action
sensitivity 5, penalty contacts (force 100, margin 1e-3) between agents, landmarks neither
move nor collide. A policy trained here scores the same on MPE2 and vice versa.

## Action space
Discrete: 0 no_action, 1 move_left (-x), 2 move_right (+x), 3 move_down (-y), 4 move_up (+y);
the force is 5 in that direction. Continuous (``continuous_actions=True``): 5 floats in
[0, 1] (clipped), force = 5 * (a2 - a1, a4 - a3); a0 is ignored, as in MPE.

## Observation space
| slice | content | frame |
|---|---|---|
| 0:2 | own velocity | world |
| 2:4 | own position | world |
| 4:4+2N | landmark positions | relative to self |
| next 2(N-1) | other agents' positions, in index order | relative to self |
| last 2(N-1) | other agents' communication (always 0: agents are silent, as in MPE2) | - |

## Rewards
global = -sum over landmarks of the distance to the closest agent;
local_i = -1 for each other agent overlapping agent i (distance < 0.3);
reward_i = (1 - local_ratio) * global + local_ratio * local_i (MPE2's mix).

## Starting state
Agents and landmarks uniform in [-1, 1]^2, velocities zero.

## Episode end
Truncation after ``max_cycles`` steps. Termination only with ``terminate_on_success``: every
landmark has an agent within 0.1 (MPE2's capture radius).

## Arguments
`N` (3), `local_ratio` (0.5), `max_cycles` (25), `continuous_actions` (False),
`terminate_on_success` (False): the same names and defaults as MPE2.

## State
`state()` is the true world state: agent positions (N x 2), agent velocities (N x 2),
landmark positions (N x 2); not MPE2's concatenation of observations.

## Version history
- v0: initial release, parity with MPE2 `simple_spread_v3` (mpe2 1.1).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from marl_envs.physics import BodySpec, BodyState, World, WorldParams, circles
from marl_envs.scenarios.actions import decode_mpe_continuous, decode_mpe_discrete, mpe_move_table
from marl_envs.scenarios.base import Scenario, ScenarioConfig
from marl_envs.scenarios.specs import ActionSpec, ObsBlock, ObsSpec

AGENT_RADIUS = 0.15
LANDMARK_RADIUS = 0.05
SENSITIVITY = 5.0
CAPTURE_RADIUS = 0.1
AGENT_COLOR = (0.35, 0.35, 0.85)
LANDMARK_COLOR = (0.25, 0.25, 0.25)


@dataclass(frozen=True)
class SpreadConfig(ScenarioConfig):
    """Arguments of ``spread_v0`` (MPE2 ``simple_spread_v3`` names and defaults)."""

    N: int = 3
    """Number of agents and of landmarks."""
    local_ratio: float = 0.5
    """Weight of the local (collision) reward; the global reward gets 1 - local_ratio."""
    continuous_actions: bool = False
    """Box(0, 1, (5,)) actions instead of Discrete(5)."""
    terminate_on_success: bool = False
    """Terminate once every landmark has an agent within 0.1."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.N, int) or isinstance(self.N, bool) or self.N < 1:
            raise ValueError(f"N must be a positive int, got {self.N!r}")
        for name in ("continuous_actions", "terminate_on_success"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool, got {getattr(self, name)!r}")
        if isinstance(self.local_ratio, bool) or not isinstance(self.local_ratio, int | float):
            raise TypeError(f"local_ratio must be a number in [0, 1], got {self.local_ratio!r}")
        if not 0.0 <= float(self.local_ratio) <= 1.0:
            raise ValueError(f"local_ratio must be in [0, 1], got {self.local_ratio!r}")


@dataclass
class SpreadSensed:
    """Per-step geometry shared by observe, reward and terminated."""

    obs: torch.Tensor  # (B, A, obs_dim)
    dist: torch.Tensor  # (B, A, N + A - 1): to the landmarks, then to the other agents


class Spread(Scenario):
    """Cooperative navigation: bodies 0..N-1 are agents, N..2N-1 landmarks."""

    config_cls = SpreadConfig

    def __init__(self, config: SpreadConfig, num_envs: int, device: torch.device):
        super().__init__(config, num_envs, device)
        n = config.N
        self.can_terminate = config.terminate_on_success
        self.agents = [f"agent_{i}" for i in range(n)]
        spec = BodySpec.concat(
            [circles(n, AGENT_RADIUS), circles(n, LANDMARK_RADIUS, movable=False, collidable=False)]
        )
        self.world = World(spec, WorldParams(), num_envs, self.device)
        self.body_colors = torch.tensor([AGENT_COLOR] * n + [LANDMARK_COLOR] * n)
        if config.continuous_actions:
            self.action_spec = ActionSpec("continuous", shape=(5,), low=0.0, high=1.0)
        else:
            self.action_spec = ActionSpec("discrete", n=5)
        self.obs_spec = ObsSpec((
            ObsBlock("self_vel", 2, description="own velocity"),
            ObsBlock("self_pos", 2, description="own position"),
            ObsBlock("landmark_rel_pos", 2, n, "landmark positions relative to self"),
            ObsBlock("other_rel_pos", 2, n - 1, "other agents' positions relative to self"),
            ObsBlock("other_comm", 2, n - 1, "other agents' communication (always 0)"),
        ))
        self.state_dim = 6 * n
        # For agent a: landmark bodies, then the other agents in index order (MPE's order).
        seen = [[n + k for k in range(n)] + [j for j in range(n) if j != a] for a in range(n)]
        self._obs_map = _observation_map(n, seen, self.obs_spec.dim).to(self.device)
        self._rel = self.obs_spec.slices()["landmark_rel_pos"].start
        self._moves = mpe_move_table(SENSITIVITY, self.device)
        self._landmark_force = torch.zeros(num_envs, n, 2, device=self.device)  # landmarks are pushed by nothing

    def reset(self, mask: torch.Tensor | None, generator: torch.Generator) -> None:
        n, b = self.config.N, self.num_envs
        world = self.world
        pos = torch.rand(b, 2 * n, 2, generator=generator, device=self.device) * 2.0 - 1.0
        fresh = BodyState(
            pos=pos,
            vel=torch.zeros_like(pos),
            angle=torch.zeros(b, 2 * n, device=self.device),
            ang_vel=torch.zeros(b, 2 * n, device=self.device),
        )
        if mask is None:
            world.state = fresh
        else:
            world.reset_where(mask, fresh)

    def apply_actions(self, actions: torch.Tensor) -> tuple[torch.Tensor, None]:
        if self.config.continuous_actions:
            force = decode_mpe_continuous(actions, self._moves)
        else:
            force = decode_mpe_discrete(actions, self._moves)
        return torch.cat([force, self._landmark_force], dim=1), None

    def sense(self) -> SpreadSensed:
        state = self.world.state
        b, n = self.num_envs, self.config.N
        flat = torch.cat([state.pos.view(b, -1), state.vel.view(b, -1)], dim=-1)
        obs = torch.matmul(flat, self._obs_map).view(b, n, -1)
        rel = obs[..., self._rel : self._rel + 2 * (2 * n - 1)].unflatten(-1, (2 * n - 1, 2))
        return SpreadSensed(obs=obs, dist=torch.linalg.vector_norm(rel, dim=-1))

    def observe(self, sensed: SpreadSensed) -> torch.Tensor:
        return sensed.obs

    def reward(self, sensed: SpreadSensed) -> torch.Tensor:
        n = self.config.N
        ratio = float(self.config.local_ratio)
        cover = sensed.dist[:, :, :n].amin(dim=1).sum(dim=-1, keepdim=True)  # (B, 1) sum of closest distances
        overlapping = sensed.dist[:, :, n:] < 2 * AGENT_RADIUS  # (B, A, A - 1)
        local = torch.where(overlapping, -ratio, 0.0).sum(dim=-1)  # ratio * (-1 per overlapping agent)
        return torch.add(local, cover, alpha=ratio - 1.0)

    def terminated(self, sensed: SpreadSensed) -> torch.Tensor:
        n = self.config.N
        return (sensed.dist[:, :, :n].amin(dim=1) < CAPTURE_RADIUS).all(dim=-1)

    def global_state(self) -> torch.Tensor:
        n = self.config.N
        state = self.world.state
        return torch.cat(
            [state.pos[:, :n].flatten(1), state.vel[:, :n].flatten(1), state.pos[:, n:].flatten(1)], dim=-1
        )

    def heuristic_action(self, sensed: SpreadSensed) -> torch.Tensor:
        """Greedy discrete move towards the landmark that no closer agent claims.

        Each agent takes the landmark it is closest to among those for which it is the
        nearest agent, else its nearest landmark; then moves along the larger axis.
        """
        n = self.config.N
        rel = sensed.obs[..., self._rel : self._rel + 2 * n]
        lm_rel = rel.unflatten(-1, (n, 2))  # (B, A, L, 2)
        dist = sensed.dist[:, :, :n]
        owner = dist.argmin(dim=1, keepdim=True)  # (B, 1, L)
        mine = owner == torch.arange(n, device=self.device).view(1, -1, 1)
        penalised = torch.where(mine, dist, dist + 10.0)
        target = lm_rel.gather(2, penalised.argmin(dim=-1)[..., None, None].expand(-1, -1, 1, 2)).squeeze(2)
        vel = self.world.state.vel[:, :n]
        # Aim at where braking would stop us: target minus the drift left in the velocity.
        aim = target - vel * 0.3
        horizontal = aim[..., 0].abs() >= aim[..., 1].abs()
        x_act = torch.where(aim[..., 0] < 0, 1, 2)
        y_act = torch.where(aim[..., 1] < 0, 3, 4)
        act = torch.where(horizontal, x_act, y_act)
        return torch.where(aim.norm(dim=-1) < 0.05, torch.zeros_like(act), act)


def _observation_map(n: int, seen: list[list[int]], obs_dim: int) -> torch.Tensor:
    """(8N, N * obs_dim) matrix M with obs(B, A * obs_dim) = [pos, vel](B, 8N) @ M.

    Every entry of a spread observation is a signed sum of state coordinates (own
    velocity, own position, body position minus own position, zero communication), so
    the whole observation of every agent is one matrix product: one op per step for one
    world, one memory-bound GEMM for thousands. Rows: body positions (2 per body, 2N
    bodies) then velocities; columns: agent a's observation at a * obs_dim.
    """
    bodies = 2 * n
    m = torch.zeros(4 * bodies, n * obs_dim)
    for a in range(n):
        base = a * obs_dim
        for c in range(2):
            m[2 * bodies + 2 * a + c, base + c] = 1.0  # own velocity
            m[2 * a + c, base + 2 + c] = 1.0  # own position
            for k, body in enumerate(seen[a]):  # relative positions
                m[2 * body + c, base + 4 + 2 * k + c] += 1.0
                m[2 * a + c, base + 4 + 2 * k + c] -= 1.0
    return m
