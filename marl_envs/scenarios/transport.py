"""# Transport (cooperative pushing)

| Import | `from marl_envs import transport_v0` |
|---|---|
| Actions | Discrete(5) / Box(0, 1, (5,)) |
| Agents | `agent_0 … agent_{N-1}` (N = 3 by default) |
| Observation shape | (13 + 2(N-1),): 17 for N = 3 |
| State shape | (4N + 9,): 21 for N = 3 |
| Success | the package's centre enters the goal zone (the episode terminates) |

## Description
N agents (discs of radius 0.08, mass 1) must push a square package (half side 0.3) into a goal
zone (radius 0.25) inside a walled arena (the square [-1.5, 1.5]^2). The package (mass 4) rests on
a floor with Coulomb friction: it does not move until it is pushed with more than
`package_mass * package_friction` (4.8 by default), and each agent pushes with at most 5. One
agent alone moves it at about 0.015 per second, 0.3 in a whole episode, while the goal zone is at
least 0.42 away: far too slow. Two move it at about 0.32 per second, three at about 0.54, across
the arena in a few seconds. So the agents must gather on the side of the package away from the
goal and push together; a push off the package's centre turns it.

Physics: 2 substeps of dt 0.05, semi-implicit Euler, velocity damping 0.25 per step (MPE's), penalty
contacts between agents, package and walls (stiffness 300).

## Action space
As spread_v0 (MPE's order). Discrete: 0 no_action, 1 move_left (-x), 2 move_right (+x), 3 move_down
(-y), 4 move_up (+y); the force is 5 in that direction. Continuous (`continuous_actions=True`): 5
floats in [0, 1] (clipped), force = 5 * (a2 - a1, a4 - a3); a0 is ignored.

## Observation space
| slice | content | frame |
|---|---|---|
| 0:2 | own position | world |
| 2:4 | own velocity | world |
| 4:6 | package position | relative to self |
| 6:8 | package velocity | relative to own velocity |
| 8:10 | package angle as (cos, sin) | world |
| 10:11 | package angular velocity | world |
| 11:13 | goal position | relative to the package |
| 13:13+2(N-1) | other agents' positions, in index order | relative to self |

## Rewards
Shared by all agents: `progress_scale * (d_before - d_after)` each step, d the distance from the
package's centre to the goal's (so an episode's progress rewards add up to `progress_scale` times
the distance covered), plus `arrival_bonus` on the step the package arrives. With
`collision_penalty > 0`, each agent also loses that much for every other agent overlapping it.

## Starting state
Package centre uniform in [-0.8, 0.8]^2 (room for the agents behind it), random orientation; goal
centre uniform in [-1.0, 1.0]^2, its zone not overlapping the package; agents uniform in the arena,
overlapping nothing. All from the env's generator (same seed, same worlds).

## Episode end
Termination when the package's centre is within `goal_radius` (0.25) of the goal's; truncation
after `max_cycles` (200) steps. `info["is_success"]` (batched API) is true for worlds whose episode
ended by arrival.

## Arguments
`N` (3), `package_mass` (2.0), `package_friction` (4.0, the floor's deceleration mu * g),
`max_cycles` (200), `continuous_actions` (False), `progress_scale` (10.0), `arrival_bonus` (10.0),
`collision_penalty` (0.0).

## State
`state()`: agent positions (N x 2), agent velocities (N x 2), package position, velocity, (cos, sin)
of its angle, angular velocity, goal position.

## Version history
- v0: initial release.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from marl_envs.physics import BodySpec, BodyState, Walls, World, WorldParams, boxes, circles
from marl_envs.scenarios.actions import decode_mpe_continuous, decode_mpe_discrete, mpe_move_table
from marl_envs.scenarios.base import Scenario, ScenarioConfig
from marl_envs.scenarios.spawn import sample_angles, sample_positions
from marl_envs.scenarios.specs import ActionSpec, ObsBlock, ObsSpec

ARENA = 1.5
"""Half side of the walled arena (wall centre lines)."""
WALL_HALF_THICKNESS = 0.05
AGENT_RADIUS = 0.08
PACKAGE_HALF = 0.3
GOAL_RADIUS = 0.25
SENSITIVITY = 5.0
SUBSTEPS = 2
STIFFNESS = 300.0
"""Contact stiffness: a push of 15 (three agents into a wall) rests 0.05 deep, and with
h = 0.05 it stays below the stability bound m / (2 h^2) = 400 of a 2-kg box corner."""
PACKAGE_REGION = 0.8
"""Package centres start in [-0.8, 0.8]^2: at any angle an agent fits between the package and a wall."""
GOAL_REGION = 1.0
AGENT_COLOR = (0.35, 0.35, 0.85)
PACKAGE_COLOR = (0.6, 0.42, 0.22)
GOAL_COLOR = (0.55, 0.85, 0.55)


@dataclass(frozen=True)
class TransportConfig(ScenarioConfig):
    """Arguments of ``transport_v0``."""

    N: int = 3
    """Number of agents."""
    package_mass: float = 4.0
    """Mass of the package; it starts moving once pushed with more than package_mass * package_friction."""
    package_friction: float = 1.2
    """Floor friction of the package as a deceleration (mu * g)."""
    max_cycles: int = 200
    continuous_actions: bool = False
    """Box(0, 1, (5,)) actions instead of Discrete(5)."""
    progress_scale: float = 10.0
    """Reward per unit of distance the package moves towards the goal (negative when it moves away)."""
    arrival_bonus: float = 10.0
    """Reward to every agent on the step the package arrives."""
    collision_penalty: float = 0.0
    """Penalty per step to an agent for each other agent overlapping it (0: off)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.N, int) or isinstance(self.N, bool) or not 1 <= self.N <= 8:
            raise ValueError(f"N must be an int in [1, 8], got {self.N!r}")
        if not isinstance(self.continuous_actions, bool):
            raise TypeError(f"continuous_actions must be a bool, got {self.continuous_actions!r}")
        positive = {"package_mass": self.package_mass}
        non_negative = {"package_friction": self.package_friction, "progress_scale": self.progress_scale,
                        "arrival_bonus": self.arrival_bonus, "collision_penalty": self.collision_penalty}
        for name, value in (positive | non_negative).items():
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise TypeError(f"{name} must be a finite number, got {value!r}")
            if value < 0 or (name in positive and value == 0):
                raise ValueError(f"{name} must be {'> 0' if name in positive else '>= 0'}, got {value!r}")


@dataclass
class TransportSensed:
    """Per-step quantities shared by observe, reward and terminated."""

    distance: torch.Tensor  # (B,) package centre to goal centre
    arrived: torch.Tensor  # (B,) bool
    overlaps: torch.Tensor  # (B, A) number of other agents overlapping each agent


class Transport(Scenario):
    """Cooperative pushing: bodies 0..N-1 are agents, N the goal zone (static, passes through), N+1 the package."""

    config_cls = TransportConfig
    can_terminate = True
    has_success = True
    arena_half_size = ARENA + 0.1

    def __init__(self, config: TransportConfig, num_envs: int, device: torch.device):
        super().__init__(config, num_envs, device)
        n = config.N
        self.agents = [f"agent_{i}" for i in range(n)]
        self.goal, self.package = n, n + 1
        spec = BodySpec.concat([
            self.agent_bodies(config),
            circles(1, GOAL_RADIUS, movable=False, collidable=False),
            boxes(1, PACKAGE_HALF, PACKAGE_HALF, mass=float(config.package_mass),
                  friction=float(config.package_friction)),
        ])
        damping = 1.0 - 0.75 ** (1.0 / SUBSTEPS)  # MPE's 0.25 per step
        params = WorldParams(dt=0.1, substeps=SUBSTEPS, damping=damping, angular_damping=damping,
                             contact_force=STIFFNESS, wall_contact_force=STIFFNESS, position_first=False,
                             arena_half_size=ARENA + 1.0)
        corners = [(-ARENA, -ARENA), (ARENA, -ARENA), (ARENA, ARENA), (-ARENA, ARENA)]
        fence = [(corners[i], corners[(i + 1) % 4]) for i in range(4)]
        walls = Walls.from_segments([fence] * num_envs, WALL_HALF_THICKNESS, device=self.device)
        self.world = World(spec, params, num_envs, self.device, walls=walls, tip_walls=[])  # closed fence
        self.body_colors = torch.tensor([AGENT_COLOR] * n + [GOAL_COLOR, PACKAGE_COLOR])
        if config.continuous_actions:
            self.action_spec = ActionSpec("continuous", shape=(5,), low=0.0, high=1.0)
        else:
            self.action_spec = ActionSpec("discrete", n=5)
        self.obs_spec = ObsSpec((
            ObsBlock("self_pos", 2, description="own position"),
            ObsBlock("self_vel", 2, description="own velocity"),
            ObsBlock("package_rel_pos", 2, description="package position relative to self"),
            ObsBlock("package_rel_vel", 2, description="package velocity relative to own velocity"),
            ObsBlock("package_angle", 2, description="(cos, sin) of the package's angle"),
            ObsBlock("package_ang_vel", 1, description="package angular velocity"),
            ObsBlock("goal_rel_package", 2, description="goal position relative to the package"),
            ObsBlock("other_rel_pos", 2, n - 1, "other agents' positions relative to self, in index order"),
        ))
        self.state_dim = 4 * n + 9
        self._moves = mpe_move_table(SENSITIVITY, self.device)
        self._others = torch.tensor([[j for j in range(n) if j != i] for i in range(n)], dtype=torch.long,
                                    device=self.device).view(n, max(n - 1, 0))
        self._still = torch.zeros(num_envs, 2, 2, device=self.device)  # no applied force on goal and package
        self._start_distance = torch.zeros(num_envs, device=self.device)
        # Placement order: package (its bounding radius: no overlap at any angle), goal zone, agents.
        self._spawn_radii = [PACKAGE_HALF * math.sqrt(2.0), GOAL_RADIUS] + [AGENT_RADIUS] * n
        self._spawn_regions = torch.tensor(
            [[-PACKAGE_REGION, -PACKAGE_REGION, PACKAGE_REGION, PACKAGE_REGION],
             [-GOAL_REGION, -GOAL_REGION, GOAL_REGION, GOAL_REGION]]
            + [[-ARENA, -ARENA, ARENA, ARENA]] * n, device=self.device)

    def agent_bodies(self, config: TransportConfig) -> BodySpec:
        """The agents' discs (subclasses give them other masses: ``hetero_transport``)."""
        return circles(config.N, AGENT_RADIUS)

    # -- reset ----------------------------------------------------------------------------
    def reset(self, mask: torch.Tensor | None, generator: torch.Generator) -> None:
        n, b, dev = self.config.N, self.num_envs, self.device
        placed = sample_positions(generator, b, self._spawn_radii, self._spawn_regions, walls=self.world.walls,
                                  device=dev)
        pos = torch.cat((placed[:, 2:], placed[:, 1:2], placed[:, :1]), dim=1)  # agents, goal, package
        angle = torch.zeros(b, n + 2, device=dev)
        angle[:, self.package] = sample_angles(generator, b, 1, dev)[:, 0]
        fresh = BodyState(pos=pos, vel=torch.zeros_like(pos), angle=angle, ang_vel=torch.zeros_like(angle))
        if mask is None:
            self.world.state = fresh
        else:
            self.world.reset_where(mask, fresh)

    # -- step -------------------------------------------------------------------------------
    def apply_actions(self, actions: torch.Tensor) -> tuple[torch.Tensor, None]:
        decode = decode_mpe_continuous if self.config.continuous_actions else decode_mpe_discrete
        return torch.cat((decode(actions, self._moves), self._still), dim=1), None

    def step_physics(self, force: torch.Tensor, torque: torch.Tensor | None) -> None:
        """Physics, remembering the distance to the goal before it (the reward is the progress)."""
        self._start_distance = self._package_distance()
        self.world.step(force, torque)

    def _package_distance(self) -> torch.Tensor:
        pos = self.world.state.pos
        return torch.linalg.vector_norm(pos[:, self.package] - pos[:, self.goal], dim=-1)

    def sense(self) -> TransportSensed:
        n = self.config.N
        pos = self.world.state.pos[:, :n]
        distance = self._package_distance()
        gaps = torch.linalg.vector_norm(pos[:, self._others] - pos[:, :, None], dim=-1)  # (B, A, A - 1)
        return TransportSensed(distance=distance, arrived=distance < GOAL_RADIUS,
                               overlaps=(gaps < 2 * AGENT_RADIUS).float().sum(-1))

    def observe(self, sensed: TransportSensed) -> torch.Tensor:
        n, s = self.config.N, self.world.state
        pos, vel = s.pos[:, :n], s.vel[:, :n]
        package_pos, package_vel = s.pos[:, self.package, None], s.vel[:, self.package, None]
        theta = s.angle[:, self.package, None, None]
        per_world = torch.cat((torch.cos(theta), torch.sin(theta), s.ang_vel[:, self.package, None, None],
                               s.pos[:, self.goal, None] - package_pos), dim=-1).expand(-1, n, -1)
        others = (pos[:, self._others] - pos[:, :, None]).flatten(2)
        return torch.cat((pos, vel, package_pos - pos, package_vel - vel, per_world, others), dim=-1)

    def reward(self, sensed: TransportSensed) -> torch.Tensor:
        c = self.config
        shared = (self._start_distance - sensed.distance) * c.progress_scale + sensed.arrived * c.arrival_bonus
        return shared[:, None] - sensed.overlaps * c.collision_penalty

    def terminated(self, sensed: TransportSensed) -> torch.Tensor:
        return sensed.arrived

    def success(self, sensed: TransportSensed) -> torch.Tensor:
        """(B,) the package is in the goal zone: an episode that ends so is a success."""
        return sensed.arrived

    def global_state(self) -> torch.Tensor:
        n, s = self.config.N, self.world.state
        p = self.package
        return torch.cat((s.pos[:, :n].flatten(1), s.vel[:, :n].flatten(1), s.pos[:, p], s.vel[:, p],
                          torch.cos(s.angle[:, p, None]), torch.sin(s.angle[:, p, None]), s.ang_vel[:, p, None],
                          s.pos[:, self.goal]), dim=-1)

    def render_extras(self, index: int) -> dict:
        outline = [True] * self.config.N + [False, True]  # the goal zone is a patch of floor
        distance = float(self._package_distance()[index])
        return {"outline": outline, "hud": f"package to goal {distance:.2f}"}

    def state_dict(self) -> dict[str, torch.Tensor]:
        return super().state_dict() | {"start_distance": self._start_distance.clone()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        super().load_state_dict(state)
        self._start_distance = state["start_distance"].to(self.device)

    def heuristic_action(self, sensed: TransportSensed) -> torch.Tensor:
        """Scripted pushers (discrete): line up behind the package, on the far side from the goal, and push.

        Each agent heads for its slot behind the package (slots side by side across the push
        direction), going around the package when it is on the wrong side; once every agent
        is behind the package, all push along the axis that best points to the goal.
        """
        n, s = self.config.N, self.world.state
        pos, vel = s.pos[:, :n], s.vel[:, :n]
        package = s.pos[:, self.package, None]
        to_goal = s.pos[:, self.goal, None] - package
        u = to_goal / torch.linalg.vector_norm(to_goal, dim=-1, keepdim=True).clamp_min(1e-6)  # (B, 1, 2)
        side = torch.stack((-u[..., 1], u[..., 0]), dim=-1)
        k = torch.arange(n, device=self.device, dtype=pos.dtype)
        per_row = 3  # agents of diameter 0.16 spaced 0.19 across the package's 0.6 face
        row, col = torch.div(k, per_row, rounding_mode="floor"), k % per_row
        in_row = (n - row * per_row).clamp(max=per_row)
        lane = (col - (in_row - 1) / 2) * (2.4 * AGENT_RADIUS)
        back = PACKAGE_HALF + AGENT_RADIUS + 0.02 + row * 2.1 * AGENT_RADIUS
        slot = package - u * back.view(1, n, 1) + side * lane.view(1, n, 1)
        rel = pos - package
        ahead = (rel * u).sum(-1, keepdim=True) > -PACKAGE_HALF  # not yet behind the package
        detour_side = torch.where((rel * side).sum(-1, keepdim=True) >= 0, 1.0, -1.0)
        clear = PACKAGE_HALF * math.sqrt(2.0) + AGENT_RADIUS + 0.05
        detour = package + side * detour_side * clear - u * clear  # beside the package, towards the back
        ready = torch.linalg.vector_norm(pos - slot, dim=-1, keepdim=True) < 0.15
        # Behind the package: go to the slot; from there, aim past the package into the goal.
        target = torch.where(ahead, detour, torch.where(ready, slot + u, slot))
        aim = target - pos - vel * 0.3
        return torch.where(aim[..., 0].abs() >= aim[..., 1].abs(), torch.where(aim[..., 0] < 0, 1, 2),
                           torch.where(aim[..., 1] < 0, 3, 4))
