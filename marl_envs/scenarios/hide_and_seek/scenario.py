"""The HideAndSeek scenario: the paper's game as one batched step over thousands of worlds.

The step follows the rules in order (see ``marl_envs.scenarios.hide_and_seek`` for the page):
prep phase gates seekers -> decode movement, grab and lock intents -> physics (locked objects
held still, elevated agents pass over boxes and walls, grab joints) -> ramps, locks, grabs ->
vision and lidar -> observations with masks -> team rewards.

Bodies, in order: A agents (hiders then seekers: discs with a heading), K boxes (even
indices elongated, odd ones square), Q ramps. Worlds with fewer boxes than K park the
absent ones, locked, outside the arena and mask them everywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from marl_envs.physics import BodySpec, Walls, World, WorldParams, boxes, circles
from marl_envs.physics.constraints import Grabs
from marl_envs.scenarios.base import Scenario
from marl_envs.scenarios.hide_and_seek import layout as maps
from marl_envs.scenarios.hide_and_seek import manipulation as rules
from marl_envs.scenarios.hide_and_seek import observations as obs
from marl_envs.scenarios.hide_and_seek import overlays, starts
from marl_envs.scenarios.hide_and_seek.behaviour import STAGES, make_tracker, room_doors
from marl_envs.scenarios.hide_and_seek.behaviour import stage as stage_of
from marl_envs.scenarios.hide_and_seek.config import HideAndSeekConfig
from marl_envs.scenarios.hide_and_seek.rewards import rewards
from marl_envs.scenarios.specs import ActionSpec
from marl_envs.sensors.lidar import lidar
from marl_envs.sensors.raycast import Obstacles
from marl_envs.sensors.vision import sight_clip, visible

AGENT_RADIUS = 0.15
SIGHT_RIM = 0.9
"""Rim sight points lie at this fraction of the agent's radius: inside the body, so that an agent pressed against a
wall or box is not seen through it (``segments`` counts touching as clear)."""
ELONGATED_BOX = (0.45, 0.15)
SQUARE_BOX = (0.32, 0.32)
RAMP = (0.35, 0.2)
WALL_HALF_THICKNESS = 0.05
MAX_SPEED = 2.0
MAX_FORCE = 8.0
MAX_TORQUE = 0.12
OBJECT_MASS = 2.0
DAMPING = 0.25
DAMPING_SECONDS = 0.1
"""``DAMPING`` is the fraction of velocity lost per this many simulated seconds (v1's and v2's step, MPE's): a rate
in time, so a longer step (``dt``) damps more."""
STIFFNESS = 300.0
MAX_PENETRATION = 0.01
"""Slop of the physics' position projection (``physics.projection``): walls and boxes hold against any push beyond
it. 1 cm: an elongated box sinks at most 3% of its area into another (at 3 cm, 10%; in 256 scripted quadrant games,
8 had a >10% box overlap at 3 cm, 5 at 1 cm, 118 without the projection); an agent's full push rests there, not at
8 N / 300 N/m = 2.7 cm."""


@dataclass
class Sensed:
    """One step's perception, shared by ``observe`` and ``reward``."""

    scene: obs.Scene
    see_agents: torch.Tensor  # (B, A, A)
    see_objects: torch.Tensor  # (B, A, K + Q)
    lidar: torch.Tensor | None  # (B, A, R) normalised


def _body_spec(config: HideAndSeekConfig) -> BodySpec:
    parts = [circles(config.num_agents, AGENT_RADIUS, rotates=True, max_speed=MAX_SPEED)]
    scale = config.box_size / (2 * SQUARE_BOX[0])
    for k in range(config.num_boxes):
        hx, hy = ELONGATED_BOX if k % 2 == 0 and k // 2 < config.num_elongated_boxes else SQUARE_BOX
        parts.append(boxes(1, hx * scale, hy * scale, mass=OBJECT_MASS, max_speed=MAX_SPEED))
    if config.num_ramps:
        parts.append(boxes(config.num_ramps, *RAMP, mass=OBJECT_MASS, max_speed=MAX_SPEED))
    return BodySpec.concat(parts)


def _world_params(config: HideAndSeekConfig) -> WorldParams:
    per_substep = 1.0 - (1.0 - DAMPING) ** (config.dt / DAMPING_SECONDS / config.substeps)
    h = config.dt / config.substeps
    # Penalty contacts stay stable for k < m / (2 h^2) at a box corner (see physics.walls): with fewer
    # substeps the contacts get softer (deeper overlaps) rather than unstable.
    stiffness = min(STIFFNESS, 0.8 * OBJECT_MASS / (2 * h * h))
    return WorldParams(dt=config.dt, substeps=config.substeps, damping=per_substep, angular_damping=per_substep,
                       contact_force=stiffness, wall_contact_force=stiffness, position_first=False,
                       arena_half_size=config.half_size + 4.0, max_penetration=MAX_PENETRATION)


class HideAndSeek(Scenario):
    """hide_and_seek_v1 (see the package docstring); ``HideAndSeekV2`` is v2."""

    config_cls = HideAndSeekConfig
    can_terminate = False
    observes_time = True  # global_state() ends with the fraction of the episode left
    stages = STAGES  # chasing, shelter, ramp use, ramp defense (behaviour.stage has the thresholds)
    # Inductor's code for the lidar and vision queries is 2-4x slower on CPU than their eager kernels, and
    # compiling the step around the native kernels (as opaque calls) was measured no faster than eager.
    large_cpu_compile = "physics"

    def __init__(self, config: HideAndSeekConfig, num_envs: int, device: torch.device):
        super().__init__(config, num_envs, device)
        c = config
        self.agents = [f"hider_{i}" for i in range(c.num_hiders)] + [f"seeker_{i}" for i in range(c.num_seekers)]
        self.num_objects = c.num_boxes + c.num_ramps
        spec = _body_spec(c)
        walls = Walls.empty(num_envs, maps.num_walls(c.map), WALL_HALF_THICKNESS, device=self.device)
        # Outer walls (slots 0-3) meet at the arena corners: only interior walls have free ends (door jambs).
        # They are the fence: they hold elevated agents too (a ramp carries an agent over interior walls only).
        interior = list(range(4, walls.num_walls))
        self.world = World(spec, _world_params(c), num_envs, self.device, walls=walls, tip_walls=interior,
                           fence_walls=[0, 1, 2, 3])
        a, dev = c.num_agents, self.device
        self.team = torch.tensor([0.0] * c.num_hiders + [1.0] * c.num_seekers, device=dev)
        self.team_index = self.team.long()
        self.is_seeker = self.team.bool()
        self.obj_half = spec.half_extents[a:].to(dev)
        self.box_half, self.ramp_half = self.obj_half[: c.num_boxes], self.obj_half[c.num_boxes:]
        self.others = torch.tensor([[j for j in range(a) if j != i] for i in range(a)], dtype=torch.long,
                                   device=dev).view(a, a - 1)
        self.half_angle = math.radians(c.vision_angle) / 2.0
        rim = torch.arange(c.sight_rim_points, dtype=torch.float32, device=dev) * (2 * math.pi)
        rim = rim / max(c.sight_rim_points, 1)
        self._sight_offsets = torch.cat((torch.zeros(1, 2, device=dev),  # the centre, then the rim points
                                         SIGHT_RIM * AGENT_RADIUS * torch.stack((rim.cos(), rim.sin()), dim=1)))
        self.action_spec = ActionSpec("multi_discrete", nvec=(rules.LEVELS,) * 3 + (2, 2))
        self.obs_spec = obs.obs_spec(a, c.num_boxes, c.num_ramps, c.lidar_rays)
        self.state_dim = obs.state_dim(a, self.num_objects)
        self.state_spec = obs.state_spec(a, self.num_objects)
        self.arena_half_size = c.half_size + 0.25
        self.body_colors = overlays.body_colors(c)
        self._init_rule_state()

    # -- state --------------------------------------------------------------------------
    def _init_rule_state(self) -> None:
        b, a, m, dev = self.num_envs, self.config.num_agents, self.num_objects, self.device
        self.t = torch.zeros(b, dtype=torch.long, device=dev)
        self.lock_team = torch.full((b, m), rules.NO_TEAM, dtype=torch.long, device=dev)
        self.locker = torch.full((b, m), -1, dtype=torch.long, device=dev)
        """(B, K) the agent that locked each object under ``lock_rule="hold"`` (-1: none; always -1 under "toggle")."""
        self.present = torch.ones(b, m, dtype=torch.bool, device=dev)
        self.elevated = torch.zeros(b, a, dtype=torch.bool, device=dev)
        self.grabs = Grabs(holders=torch.arange(a, device=dev), target=torch.full((b, a), -1, device=dev),
                           offset=torch.zeros(b, a, 2, device=dev), rel_angle=torch.zeros(b, a, device=dev))
        self.agent_force = torch.zeros(b, a, 2, device=dev)
        self.grab_intent = torch.zeros(b, a, dtype=torch.bool, device=dev)
        self.lock_intent = torch.zeros(b, a, dtype=torch.bool, device=dev)
        self._acted = torch.ones(b, a, dtype=torch.bool, device=dev)
        self.layout = maps.generate(self.config.map, b, torch.Generator(device=dev).manual_seed(0), dev,
                                    self.config.half_size, WALL_HALF_THICKNESS, self.config.door_width)
        self._wall_obstacles = Obstacles.from_walls(self.layout.walls)
        self.behaviour_tracker = make_tracker(self, AGENT_RADIUS)
        self.door_start = torch.zeros(self.num_envs, dtype=torch.bool, device=self.device)
        """(B,) the world's game started with boxes at the doors (``boxes_at_doors``): its behaviour figures are NaN."""
        self.ramp_start = torch.zeros(self.num_envs, dtype=torch.bool, device=self.device)
        """(B,) the world's game started with the ramp at the room's wall (``ramp_at_wall``): the behaviour figures
        that start fakes (``behaviour.RAMP_START_UNMEASURED``) are NaN."""

    _RULE_STATE = ("t", "lock_team", "locker", "present", "elevated", "agent_force", "grab_intent", "lock_intent")

    def state_dict(self) -> dict[str, torch.Tensor]:
        out = super().state_dict()
        out.update({name: getattr(self, name).clone() for name in self._RULE_STATE})
        out.update({f"grab_{k}": getattr(self.grabs, k).clone() for k in ("target", "offset", "rel_angle")})
        lay = self.layout
        out.update({"wall_start": lay.walls.start.clone(), "wall_end": lay.walls.end.clone(),
                    "wall_mask": lay.walls.mask.clone(), "room": lay.room.clone(), "doors": lay.doors.clone(),
                    "door_normal": lay.door_normal.clone(), "door_mask": lay.door_mask.clone()})
        out.update(self.behaviour_tracker.state_dict())
        out["door_start"] = self.door_start.clone()
        out["ramp_start"] = self.ramp_start.clone()
        return out

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        super().load_state_dict(state)
        # States saved before lock_rule existed have no lockers (they were all toggle games).
        state = {"locker": torch.full_like(state["lock_team"], -1), **state}
        for name in self._RULE_STATE:
            setattr(self, name, state[name].to(self.device))
        self.grabs = Grabs(self.grabs.holders, *(state[f"grab_{k}"].to(self.device)
                                                  for k in ("target", "offset", "rel_angle")))
        walls = Walls(state["wall_start"], state["wall_end"], state["wall_mask"], WALL_HALF_THICKNESS).to(self.device)
        self.layout = maps.Layout(walls=walls, room=state["room"].to(self.device), doors=state["doors"].to(self.device),
                                  door_normal=state["door_normal"].to(self.device),
                                  door_mask=state["door_mask"].to(self.device), door_width=self.config.door_width)
        self.world.set_walls(walls)
        self._wall_obstacles = Obstacles.from_walls(walls)
        self.behaviour_tracker.load_state_dict(state, self.device)
        # Checkpoints from before boxes_at_doors (ramp_at_wall): no world started at the doors (the wall).
        self.door_start = state.get("door_start", torch.zeros_like(self.t, dtype=torch.bool)).to(self.device)
        self.ramp_start = state.get("ramp_start", torch.zeros_like(self.t, dtype=torch.bool)).to(self.device)

    def use_walls(self, walls: Walls) -> None:
        """Replace every world's walls (hand-built scenes, tests); the map's doors and room are kept."""
        self.layout = maps.Layout(walls=walls.to(self.device), room=self.layout.room, doors=self.layout.doors,
                                  door_normal=self.layout.door_normal, door_mask=self.layout.door_mask,
                                  door_width=self.layout.door_width)
        self.world.set_walls(self.layout.walls)
        self._wall_obstacles = Obstacles.from_walls(self.layout.walls)
        self.refresh()

    def refresh(self) -> None:
        """Recompute what everyone sees, after the state was edited by hand."""
        self._refresh_visibility()

    # -- reset ----------------------------------------------------------------------------
    def reset(self, mask: torch.Tensor | None, generator: torch.Generator) -> None:
        c, b, dev = self.config, self.num_envs, self.device
        everyone = mask is None
        fresh = maps.generate(c.map, b, generator, dev, c.half_size, WALL_HALF_THICKNESS, c.door_width)
        count = torch.randint(c.min_boxes, c.num_boxes + 1, (b, 1), generator=generator, device=dev)
        present = torch.cat((torch.arange(c.num_boxes, device=dev) < count,
                             torch.ones(b, c.num_ramps, dtype=torch.bool, device=dev)), dim=1)
        state, door_start, ramp_start = starts.draw(self, fresh, present, generator)
        if mask is None:
            mask = torch.ones(b, dtype=torch.bool, device=dev)
        self.layout = self.layout.where(mask, fresh)
        self.world.set_walls_where(mask, fresh.walls)
        self.world.reset_where(mask, state)
        self._wall_obstacles = Obstacles.from_walls(self.layout.walls)
        m1 = mask.view(-1, 1)
        self.t = torch.where(mask, 0, self.t)
        self.door_start = torch.where(mask, door_start, self.door_start)
        self.ramp_start = torch.where(mask, ramp_start, self.ramp_start)
        self.present = torch.where(m1, present, self.present)
        self.lock_team = torch.where(m1, rules.NO_TEAM, self.lock_team)
        self.locker = torch.where(m1, -1, self.locker)
        self.elevated = torch.where(m1, False, self.elevated)
        self.grabs.target = torch.where(m1, -1, self.grabs.target)
        self.agent_force = torch.where(m1.unsqueeze(-1), 0.0, self.agent_force)
        self._refresh_visibility()
        self.behaviour_tracker.reset(None if everyone else mask, self)

    # -- step -------------------------------------------------------------------------------
    @property
    def in_prep(self) -> torch.Tensor:
        """(B,) bool: the step about to be taken is in the preparation phase."""
        return self.t < self.config.prep_steps

    def apply_actions(self, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, a, n = self.num_envs, self.config.num_agents, self.world.spec.num_bodies
        active = ~(self.in_prep.unsqueeze(1) & self.is_seeker.unsqueeze(0))
        self._acted = active
        force, torque, self.grab_intent, self.lock_intent = rules.decode_actions(actions, MAX_FORCE, MAX_TORQUE,
                                                                                active)
        self.agent_force = force
        pad = torch.zeros(b, n - a, 2, device=self.device)
        return torch.cat((force, pad), dim=1), torch.cat((torque, pad[..., 0]), dim=1)

    def stage(self, means: dict[str, float]) -> str:
        return stage_of(means, doors=bool(room_doors(self.layout).any()))

    def acted(self) -> torch.Tensor:
        """(B, A): false for seekers during the preparation phase, whose actions are ignored."""
        return self._acted

    def step_physics(self, force: torch.Tensor, torque: torch.Tensor | None) -> None:
        a = self.config.num_agents
        frozen_seekers = self.in_prep.unsqueeze(1) & self.is_seeker.unsqueeze(0)  # immobilised, as in the paper
        free = torch.cat((~frozen_seekers, (self.lock_team < 0) & self.present), dim=1).float()
        solid = torch.cat((1.0 - self.elevated.float(), torch.ones_like(free[:, a:])), dim=1)
        self.world.step(force, torque, free=free, solid=solid, grabs=self.grabs)

    def post_physics(self) -> None:
        """Ramps, then locks, then grabs, on the post-physics geometry; then what everyone sees."""
        c, a = self.config, self.config.num_agents
        s = self.world.state
        self.t = self.t + 1
        k = c.num_boxes
        # One agent-to-object distance table serves the ramp rules (is a box underfoot?) and reach.
        distance = rules.reach_distance(s.pos[:, :a], AGENT_RADIUS, s.pos[:, a:], s.angle[:, a:], self.obj_half)
        self.elevated = rules.update_elevation(
            self.elevated, s.pos[:, :a], self.agent_force, AGENT_RADIUS, s.pos[:, a + k:], s.angle[:, a + k:],
            self.ramp_half, distance[..., :k] + AGENT_RADIUS, self.present[:, :k], self.layout.walls)
        self._refresh_visibility()
        reachable = self.see_objects & (distance <= c.grab_reach) & self.present.unsqueeze(1)
        if c.lock_rule == "hold":
            near = (distance <= c.grab_reach) & self.present.unsqueeze(1)
            self.lock_team, self.locker = rules.update_held_locks(self.lock_team, self.locker, self.lock_intent,
                                                                  reachable, near, distance, self.team_index)
        else:
            self.lock_team = rules.update_locks(self.lock_team, self.lock_intent, reachable, distance,
                                                self.team_index)
        unlocked = (self.lock_team < 0).unsqueeze(1)
        holdable = unlocked & (distance <= c.grab_reach + rules.HOLD_SLACK) & self.present.unsqueeze(1)
        self.grabs = rules.update_grabs(self.grabs, self.grab_intent, reachable & unlocked, holdable, distance, a,
                                        s.pos[:, :a], s.angle[:, :a], s.pos[:, a:], s.angle[:, a:])
        self.behaviour_tracker.update(self)

    def _refresh_visibility(self) -> None:
        """Vision cones with line of sight: walls and boxes occlude, unless viewer or target is elevated (then,
        with ``config.see_over_reach`` < 1, only those near the elevated end do not). An agent is seen when its
        centre is, or with ``config.sight_rim_points`` its centre or any of its rim points."""
        a, b = self.config.num_agents, self.num_envs
        s = self.world.state
        occluders = self._occluders()
        up = self.elevated
        points, points_up = s.pos[:, :a], up
        per_agent = self._sight_offsets.shape[0]
        if per_agent > 1:  # each agent's centre, then its rim points, agent by agent
            points = (points.unsqueeze(2) + self._sight_offsets).reshape(b, a * per_agent, 2)
            points_up = up.repeat_interleave(per_agent, dim=1)
        n = points.shape[1]
        targets = torch.cat((points, s.pos[:, a:]), dim=1)  # agents' points, boxes, ramps
        ignore = self._ignore_mask(self._wall_obstacles.num_obstacles, n)
        target_up = torch.cat((points_up, torch.zeros_like(self.present)), dim=1)
        see_over, clip = None, None
        if self.config.see_over_reach < 1.0:  # a raised end sees over near obstacles only
            clip = sight_clip(up, target_up, self.config.see_over_reach)
        else:
            see_over = up.unsqueeze(2) | target_up.unsqueeze(1)
        seen = visible(s.pos[:, :a], s.angle[:, :a], targets, occluders, self.half_angle, ignore=ignore,
                       see_over=see_over, clip=clip)
        seen_points = seen[:, :, :n]
        self.see_agents = seen_points if per_agent == 1 else seen_points.reshape(b, a, a, per_agent).any(dim=3)
        self.see_objects = seen[:, :, n:] & self.present.unsqueeze(1)

    def _occluders(self) -> Obstacles:
        """What blocks sight lines: the walls, then the boxes present (ramps are low: they do not)."""
        a, k, s = self.config.num_agents, self.config.num_boxes, self.world.state
        boxes = Obstacles.from_boxes(s.pos[:, a:a + k], s.angle[:, a:a + k], self.box_half, valid=self.present[:, :k])
        return Obstacles.cat(self._wall_obstacles, boxes)

    def _ignore_mask(self, num_walls: int, num_points: int | None = None) -> torch.Tensor:
        """(A, P + K + Q, W + K) occluders each viewer-target pair ignores (targets: the P sight points of the
        agents, by default their A centres, then the objects): a box does not hide itself. Cached."""
        num_points = self.config.num_agents if num_points is None else num_points
        shape = (num_points + self.num_objects, num_walls + self.config.num_boxes)
        if getattr(self, "_ignore", None) is None or tuple(self._ignore.shape[1:]) != shape:
            a, k = self.config.num_agents, self.config.num_boxes
            ignore = torch.zeros(a, num_points + self.num_objects, num_walls + k, dtype=torch.bool, device=self.device)
            ignore[:, num_points:num_points + k, num_walls:] = torch.eye(k, dtype=torch.bool, device=self.device)
            self._ignore = ignore
        return self._ignore

    def sense(self) -> Sensed:
        c, a = self.config, self.config.num_agents
        s = self.world.state
        scene = self._scene()
        ranges = None
        if c.lidar_rays:
            obstacles = Obstacles.cat(self._wall_obstacles, Obstacles.from_boxes(
                s.pos[:, a:], s.angle[:, a:], self.obj_half, valid=self.present))
            ranges = lidar(s.pos[:, :a], s.angle[:, :a], obstacles, c.lidar_rays, c.lidar_range) / c.lidar_range
        return Sensed(scene=scene, see_agents=self.see_agents, see_objects=self.see_objects, lidar=ranges)

    def _scene(self) -> obs.Scene:
        c, a = self.config, self.config.num_agents
        s = self.world.state
        prep = max(c.prep_steps, 1)
        return obs.Scene(
            agent_pos=s.pos[:, :a], agent_vel=s.vel[:, :a], agent_angle=s.angle[:, :a], team=self.team,
            elevated=self.elevated, holding=self.grabs.target >= 0,
            prep_left=(c.prep_steps - self.t).clamp_min(0).float() / prep,
            time_left=(c.max_cycles - self.t).clamp_min(0).float() / c.max_cycles,
            obj_pos=s.pos[:, a:], obj_vel=s.vel[:, a:], obj_angle=s.angle[:, a:], obj_half=self.obj_half,
            lock_team=self.lock_team, present=self.present, num_boxes=c.num_boxes)

    def observe(self, sensed: Sensed) -> torch.Tensor:
        return obs.observe(sensed.scene, sensed.see_agents, sensed.see_objects, self.others, sensed.lidar)

    def reward(self, sensed: Sensed) -> torch.Tensor:
        c = self.config
        seen = sensed.see_agents[:, c.num_hiders:, :c.num_hiders].transpose(1, 2)  # (B, hider, seeker)
        in_prep = self.t <= c.prep_steps
        return rewards(seen, c.reward_mode, sensed.scene.agent_pos, c.half_size, c.boundary_penalty, in_prep)

    def global_state(self) -> torch.Tensor:
        return obs.global_state(self._scene())

    def behaviour(self) -> dict[str, torch.Tensor]:
        """What agents did with boxes and ramps this episode (``behaviour.NAMES``, documented on the env page)."""
        return self.behaviour_tracker.values(self)

    def heuristic_action(self, sensed: Sensed | None = None, block_doors: bool = True) -> torch.Tensor:
        """(B, A, 5) scripted actions for both teams (``heuristic.heuristic_actions``)."""
        from marl_envs.scenarios.hide_and_seek.heuristic import heuristic_actions

        return heuristic_actions(self, sensed, block_doors=block_doors)

    # -- rendering -------------------------------------------------------------------------------
    def render_extras(self, index: int) -> dict:
        """Vision cones, lidar rays, lock colours, grab links, ramp and elevation marks and a HUD line."""
        return overlays.render_extras(self, index)

