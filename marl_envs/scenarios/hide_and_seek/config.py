"""Every knob of hide_and_seek_v1 (``HideAndSeekConfig``), hide_and_seek_v2 (``HideAndSeekV2Config``: four other
defaults), hide_and_seek_v3 (``HideAndSeekV3Config``: v2 with a longer step) and hide_and_seek_v4
(``HideAndSeekV4Config``: v3 under the released game's lock rule), typed and validated, with the map-dependent
defaults.

Defaults follow Baker et al. (2019) where the paper fixes them (2 v 2, 40% preparation,
30 lidar rays, a 135 degree vision cone, 80-step quadrant and 240-step full episodes,
2 boxes and 1 ramp in the quadrant game, 3-9 boxes and 2 ramps in random rooms) and are
scaled to our 4 m x 4 m arena otherwise. ``None`` means "the map's default".
"""

from __future__ import annotations

from dataclasses import dataclass

from marl_envs.scenarios.base import ScenarioConfig

MAPS = ("quadrant", "random_rooms", "open")
REWARD_MODES = ("joint_zero_sum", "joint_mean", "selfish")
QUADRANT_SPAWNS = ("room", "uniform")
LOCK_RULES = ("toggle", "hold")

# map -> (max_cycles, min boxes, max boxes, ramps, half size): the full game gets a 6 m arena, so that
# up to 9 boxes, 2 ramps and 6 agents spawn among random walls without crowding.
MAP_DEFAULTS = {
    "quadrant": (80, 2, 2, 1, 2.0),
    "random_rooms": (240, 3, 9, 2, 3.0),
    "open": (80, 2, 2, 1, 2.0),
}


@dataclass(frozen=True)
class HideAndSeekConfig(ScenarioConfig):
    """Arguments of ``hide_and_seek_v1``."""

    TRAINING_ONLY = ("boxes_at_doors", "ramp_at_wall", "ramp_near_door", "ramp_by_door", "ramp_outside_door",
                     "hider_outside", "hider_by_door")

    max_cycles: int | None = None  # type: ignore[assignment]
    """Steps per episode; default 80 (quadrant, open) or 240 (random_rooms)."""
    num_hiders: int = 2
    """Hiders, 1-3."""
    num_seekers: int = 2
    """Seekers, 1-3."""
    map: str = "quadrant"
    """"quadrant" (a room in the top-right corner with 1-2 doors), "random_rooms" or "open"."""
    num_boxes: int | None = None
    """Boxes present in every world (fixed count); default 2 (quadrant, open), or a random 3-9 per
    world in random_rooms (see ``min_boxes``)."""
    min_boxes: int | None = None
    """If below ``num_boxes``, each world draws its box count uniformly in [min_boxes, num_boxes]."""
    num_elongated_boxes: int | None = None
    """How many boxes are elongated (0.9 m x 0.3 m; the others square, 0.64 m): boxes 0, 2, 4, ... in that order.
    Default: every even-indexed box. 0 gives the objects of the paper's quadrant game, whose two boxes are cubes
    (mae-envs' ``n_elongated_boxes=0``). Self-play still found a shelter without the doors there: both boxes in
    front of a corner of the room (the team self-play page of the docs)."""
    box_size: float = 0.64
    """Side of a square box in metres, 0.3-0.66 (an absent box is parked in a 1 m cell); elongated boxes keep their
    proportions (0.9 m x 0.3 m at 0.64). It sets how much a box hides (mae-envs' boxes are 0.5 m cubes)."""
    num_ramps: int | None = None
    """Ramps; default 1 (quadrant, open) or 2 (random_rooms)."""
    prep_fraction: float = 0.4
    """Fraction of the episode in which seekers are frozen and all rewards are 0."""
    reward_mode: str = "joint_zero_sum"
    """"joint_zero_sum" (team reward: hiders +1 iff no hider is seen), "joint_mean" (team mean of the
    selfish rewards) or "selfish" (each hider: +1 iff it is unseen; each seeker: +1 iff it sees a hider)."""
    boundary_penalty: float = 10.0
    """Penalty per step for an agent outside the play area."""
    lidar_rays: int = 30
    """Lidar rays per agent (0 disables lidar and removes its block from the observation)."""
    lidar_range: float = 4.0
    """Lidar range in metres; observations hold distance / range."""
    vision_angle: float = 135.0
    """Full angle of the vision cone in degrees."""
    sight_rim_points: int = 0
    """How much of an agent a viewer must see to see it. 0: its centre (the paper's rule: the segment between the
    two centres is clear). N (4-16): its centre or any of N points spaced evenly on its rim (at 0.9 of its radius),
    each in the cone and in line of sight. Under the centre rule a box in front of a room corner hides the centres
    of two hiders crouched behind it from most of the room, so self-play settles in the corner instead of blocking
    the doors (the team self-play page of the docs); under a rim rule a partly covered hider is seen, so hiding
    takes cover for the whole body. Default 0 keeps v1 as it was."""
    see_over_reach: float = 1.0
    """How far over walls and boxes an agent on a ramp (elevated) sees, and is seen: obstacles within this
    fraction of a sight line from its elevated end do not block it, the rest do (``sensors.sight_clip``:
    walls and boxes H tall, eyes r above the ground or the ramp top, reach r / H). 1 (default): an elevated
    agent sees over everything, from anywhere, as v1 always did; then locking the ramp far from the room
    defends nothing, since a seeker on it sees into the room from there. 0.5 (eyes half a wall's height up):
    a seeker must bring the ramp to the wall it looks over, and a box right in front of a hider hides it
    from a ramp across the room, as in OpenAI's 3D sight rays. The drawn vision cone of an elevated agent
    stays unbounded."""
    boxes_at_doors: float = 0.0
    """Probability that a quadrant world starts with a box in front of each door of the room, inside it (up to
    0.6 m from the gap, long side along the wall): a start-state curriculum for training the shelter
    (``door_starts``). Evaluate with the default 0, where every game starts anywhere."""
    ramp_at_wall: float = 0.0
    """Probability that a quadrant world starts with ramp 0 outside the room, square to a part of the room's wall
    without a door, its high end against the wall (where the scripted seekers set it: an agent that drives up it
    crosses the wall), at a place drawn along the walls: a start-state curriculum for training the ramp stages
    (``ramp_starts``). The seekers learn what a ramp at the wall is worth without first finding the long sequence
    that brings it there, and the hiders get a reason to lock or pull away the ramp during the preparation.
    Combines with ``boxes_at_doors`` (a world may draw both). Needs ``num_ramps`` >= 1. Evaluate with the default 0,
    where every game starts anywhere."""
    ramp_near_door: float = 0.0
    """Probability that a quadrant world starts with ramp 0 outside the room just in front of one of its doors, at
    any heading, and hider 0 beside it (outside the room, a step from the door): a start-state curriculum for ramp
    defense (``ramp_starts``). The hiders must still lock it or pull it into the room during the preparation, so every
    behaviour figure is measured. Drawn after ``ramp_at_wall`` from the same uniform (a world gets at most one of
    the two), so ``ramp_at_wall + ramp_near_door`` <= 1. Evaluate with the default 0."""
    ramp_by_door: float = 0.0
    """Probability that a quadrant world starts with ramp 0 outside the room up to a metre in front of one of its
    doors, at any heading, and hider 0 in that doorway, from 0.4 m outside to 0.4 m inside: the next step of the
    ramp-defense curriculum after ``ramp_near_door`` (``ramp_starts``), where the hider must go out to the ramp, lock
    it or pull it in, and come back. Every behaviour figure is measured. Drawn after ``ramp_near_door`` from the
    same uniform, so ``ramp_at_wall + ramp_near_door + ramp_by_door`` <= 1. Evaluate with the default 0."""
    ramp_outside_door: float = 0.0
    """Probability that a quadrant world starts with ramp 0 outside the room up to a metre in front of one of its
    doors, as ``ramp_by_door`` does, and the hiders where the game starts them (anywhere in the room): the step of the
    ramp-defense curriculum after ``ramp_by_door`` (``ramp_starts``), where the hiders must find the way out to a ramp
    they may not see. Every behaviour figure is measured. Drawn after ``ramp_by_door`` from the same uniform, so
    ``ramp_at_wall + ramp_near_door + ramp_by_door + ramp_outside_door`` <= 1. Evaluate with the default 0."""
    hider_outside: float = 0.0
    """Probability that a quadrant world starts with hider 0 outside the room, anywhere the seekers may start, and
    everything else where the game starts it (the ramp anywhere outside, hider 1 and the boxes in the room): the step
    of the ramp-defense curriculum for a ramp far from the doors (``ramp_starts``), where a hider that is already out
    often sees the ramp and must lock it or bring it in and find a door back before the preparation ends. Every
    behaviour figure is measured. Drawn after ``ramp_outside_door`` from the same uniform, so the ramp starts'
    probabilities add up to at most 1. Evaluate with the default 0."""
    hider_by_door: float = 0.0
    """Probability that a quadrant world starts with hider 0 in front of one of the room's doors, in the door's width
    from 0.4 m outside the wall to 1 m inside the room, and everything else where the game starts it (the ramp anywhere
    outside): the step of the ramp-defense curriculum between ``hider_outside`` and the game (``ramp_starts``), where
    the hider must go out for a ramp it may not see, lock it or bring it in, and get back in. Every behaviour figure
    is measured. Drawn after ``hider_outside`` from the same uniform, so the six ramp starts' probabilities add up to
    at most 1. Evaluate with the default 0."""
    quadrant_spawn: str = "room"
    """Where the quadrant game's hiders and ramps start. "room" (default): the hiders (and the boxes) in the room,
    the ramps (and the seekers) outside it, so that the hiders have the boxes at hand and must go out for the ramp.
    "uniform": the hiders and the ramps anywhere in the arena, inside the room or out (the boxes still start in the
    room, the seekers outside), as in the quadrant game OpenAI released (mae-envs' hide_and_seek_quadrant.jsonnet:
    ``quadrant_game_hider_uniform_placement``, the ramps by ``uniform_placement``). There a hider often starts by the
    ramp, or the ramp in the room, so keeping it from the seekers (ramp defense) is often a short step, not a trip out
    of a shut room. The behaviour figures of the ramp in the room count only ramps that started outside it. Other maps
    spawn everything anywhere and accept only "room"."""
    grab_reach: float = 0.3
    """How far (agent surface to object surface) an agent can grab or lock."""
    lock_rule: str = "toggle"
    """What the lock action means (``manipulation``). "toggle" (default): each step an agent presses lock flips the
    closest object it reaches, so a lock is one press, and a second press by its team undoes it. "hold": the rule
    of the game OpenAI released (mae-envs' ``LockObjWrapper``, ``lock_type="any_lock_specific"``): pressing locks
    the closest unlocked object the agent reaches and the agent becomes its locker; the object stays locked until
    its locker is within ``grab_reach`` of it without pressing lock. Pressing never undoes a lock, and a teammate
    cannot undo it, so "keep pressing near what I locked" is safe, where under the toggle every extra press undoes
    the lock: a policy that presses lock in most steps near the ramp locked it in 40% of its games and ended the
    preparation with it unlocked again in two thirds of those (docs: team self-play)."""
    half_size: float | None = None
    """Half side of the square play area in metres; default 2 (quadrant, open) or 3 (random_rooms)."""
    door_width: float = 0.5
    """Gap between the wall ends of a door (the clear opening is 0.1 narrower: wall caps)."""
    substeps: int = 2
    """Physics substeps per step (more: stiffer, slower)."""
    dt: float = 0.1
    """Simulated seconds per env step, 0.05-0.4 (Gymnasium's ``dt``: the physics' substep is ``dt / substeps``).
    Agents top out at 2 m/s, so ``dt`` sets how far they get in a step and how much of the arena a preparation
    phase of ``prep_fraction * max_cycles`` steps covers: at 0.1 (v1, v2) an agent crosses the 4 m arena in about 20
    steps, 60% of the quadrant game's preparation. Keep ``dt / substeps`` at or under 0.05 (the walls' check in
    ``physics.walls`` refuses a substep in which a body could pass through a wall)."""
    track_behaviour: bool = True
    """Keep the behaviour figures (``info["behaviour"]``: what agents did with boxes and ramps); off saves their
    per-step cost (a few dozen small ops, noticeable at B=4096 on CPU) where nobody reads them."""

    def __post_init__(self) -> None:
        if self.map not in MAPS:
            raise ValueError(f"HideAndSeekConfig.map must be one of {MAPS}, got {self.map!r}")
        if self.quadrant_spawn not in QUADRANT_SPAWNS:
            raise ValueError(f"HideAndSeekConfig.quadrant_spawn must be one of {QUADRANT_SPAWNS}, "
                             f"got {self.quadrant_spawn!r}")
        if self.quadrant_spawn != "room" and self.map != "quadrant":
            raise ValueError(f"HideAndSeekConfig.quadrant_spawn={self.quadrant_spawn!r} needs map='quadrant' (the "
                             f"other maps have no room to start in), got map={self.map!r}")
        if self.lock_rule not in LOCK_RULES:
            raise ValueError(f"HideAndSeekConfig.lock_rule must be one of {LOCK_RULES}, got {self.lock_rule!r}")
        if self.reward_mode not in REWARD_MODES:
            raise ValueError(f"HideAndSeekConfig.reward_mode must be one of {REWARD_MODES}, got {self.reward_mode!r}")
        cycles, low, high, ramps, half_size = MAP_DEFAULTS[self.map]
        fixed = self.num_boxes is not None and self.min_boxes is None
        defaults = {
            "max_cycles": cycles,
            "num_boxes": high,
            "min_boxes": self.num_boxes if fixed else low,
            "num_ramps": ramps,
            "num_elongated_boxes": ((self.num_boxes if self.num_boxes is not None else high) + 1) // 2,
            "half_size": half_size,
        }
        for name, value in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
        super().__post_init__()
        self._check_ints()
        self._check_floats()

    def _check_ints(self) -> None:
        ranges = {"num_hiders": (1, 3), "num_seekers": (1, 3), "num_boxes": (0, 9), "min_boxes": (0, 9),
                  "num_ramps": (0, 3), "lidar_rays": (0, 256), "substeps": (1, 16), "sight_rim_points": (0, 16)}
        for name, (low, high) in ranges.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"HideAndSeekConfig.{name} must be an int in [{low}, {high}], got {value!r}")
        elongated, even = self.num_elongated_boxes, (self.num_boxes + 1) // 2
        if isinstance(elongated, bool) or not isinstance(elongated, int) or not 0 <= elongated <= even:
            raise ValueError(f"HideAndSeekConfig.num_elongated_boxes must be an int in [0, {even}] "
                             f"(the even-indexed of {self.num_boxes} boxes), got {elongated!r}")
        if 0 < self.sight_rim_points < 4:
            raise ValueError(f"HideAndSeekConfig.sight_rim_points must be 0 (the centre) or 4-16 rim points, got "
                             f"{self.sight_rim_points}")
        if self.min_boxes > self.num_boxes:
            raise ValueError(f"HideAndSeekConfig.min_boxes={self.min_boxes} exceeds num_boxes={self.num_boxes}")

    def _check_floats(self) -> None:
        checks = {  # name -> test of its value, run once the value is known to be a number
            "prep_fraction": lambda v: 0.0 <= v < 1.0,
            "boundary_penalty": lambda v: v >= 0.0,
            "lidar_range": lambda v: v > 0.0,
            "vision_angle": lambda v: 0.0 < v <= 360.0,
            "grab_reach": lambda v: v >= 0.0,
            "half_size": lambda v: 1.0 <= v <= 10.0,
            "door_width": lambda v: 0.4 <= v <= self.half_size / 2,
            "box_size": lambda v: 0.3 <= v <= 0.66,
            "boxes_at_doors": lambda v: 0.0 <= v <= 1.0,
            "ramp_at_wall": lambda v: 0.0 <= v <= 1.0,
            "ramp_near_door": lambda v: 0.0 <= v <= 1.0,
            "ramp_by_door": lambda v: 0.0 <= v <= 1.0,
            "ramp_outside_door": lambda v: 0.0 <= v <= 1.0,
            "hider_outside": lambda v: 0.0 <= v <= 1.0,
            "hider_by_door": lambda v: 0.0 <= v <= 1.0,
            "see_over_reach": lambda v: 0.0 < v <= 1.0,
            "dt": lambda v: 0.05 <= v <= 0.4,
        }
        if not isinstance(self.track_behaviour, bool):
            raise ValueError(f"HideAndSeekConfig.track_behaviour must be a bool, got {self.track_behaviour!r}")
        if self.boxes_at_doors > 0 and self.map != "quadrant":
            raise ValueError(f"HideAndSeekConfig.boxes_at_doors={self.boxes_at_doors!r} needs map='quadrant' (the "
                             f"room whose doors a shelter blocks), got map={self.map!r}")
        for name, ok in checks.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not ok(value):
                raise ValueError(f"HideAndSeekConfig.{name}={value!r} is out of range")
        if self.ramp_at_wall > 0 and self.map != "quadrant":
            raise ValueError(f"HideAndSeekConfig.ramp_at_wall={self.ramp_at_wall!r} needs map='quadrant' (the room "
                             f"whose wall the ramp starts against), got map={self.map!r}")
        for name in ("ramp_near_door", "ramp_by_door", "ramp_outside_door", "hider_outside", "hider_by_door"):
            value = getattr(self, name)
            if value > 0 and (self.map != "quadrant" or self.num_ramps < 1):
                raise ValueError(f"HideAndSeekConfig.{name}={value!r} needs map='quadrant' and num_ramps >= 1 (a "
                                 f"start of ramp defense: the room and a ramp), got map={self.map!r}, "
                                 f"num_ramps={self.num_ramps!r}")
        shares = self.ramp_at_wall + self.ramp_near_door + self.ramp_by_door + self.ramp_outside_door \
            + self.hider_outside + self.hider_by_door
        if shares > 1.0:
            raise ValueError(f"HideAndSeekConfig.ramp_at_wall + ramp_near_door + ramp_by_door + ramp_outside_door + "
                             f"hider_outside + hider_by_door = {shares!r} is over 1 (one draw picks at most one "
                             f"ramp start per world)")
        if self.ramp_at_wall > 0 and self.num_ramps < 1:
            raise ValueError(f"HideAndSeekConfig.ramp_at_wall={self.ramp_at_wall!r} needs num_ramps >= 1 (a ramp to "
                             f"start against the wall), got num_ramps={self.num_ramps!r}")

    @property
    def num_agents(self) -> int:
        return self.num_hiders + self.num_seekers

    @property
    def prep_steps(self) -> int:
        """Steps of the preparation phase (rounded down)."""
        return int(self.prep_fraction * self.max_cycles)


@dataclass(frozen=True)
class HideAndSeekV2Config(HideAndSeekConfig):
    """Arguments of ``hide_and_seek_v2``: those of ``hide_and_seek_v1`` with four defaults changed.

    - ``box_size`` 0.5 (v1 0.64): mae-envs' 0.5 m cubes.
    - ``num_elongated_boxes`` 0 on the quadrant map (v1: every even-indexed box), the two cubes of the paper's
      quadrant game; random_rooms and open keep v1's rule (every even-indexed box elongated).
    - ``see_over_reach`` 0.5 (v1 1): sight lines with heights, so that a ramp is no vision tower.
    - ``sight_rim_points`` 8 (v1 0): an agent is seen by its centre or any of 8 rim points, so a partly covered
      hider is seen.

    v2 with its defaults is exactly v1 with these four arguments (the same trajectories for the same seed and
    actions).
    """

    box_size: float = 0.5
    """Side of a square box in metres, 0.3-0.66; default 0.5 (mae-envs' cubes; v1 0.64)."""
    see_over_reach: float = 0.5
    """How far over walls and boxes an agent on a ramp sees (a fraction of the sight line from its elevated end);
    default 0.5: a seeker must bring the ramp to the wall it looks over (v1 1: over everything, from anywhere)."""
    sight_rim_points: int = 8
    """0 (the centre) or 4-16 rim points an agent is seen by; default 8: a partly covered agent is seen (v1 0)."""

    def __post_init__(self) -> None:
        if self.num_elongated_boxes is None and self.map == "quadrant":
            object.__setattr__(self, "num_elongated_boxes", 0)  # the paper's quadrant game: two cubes
        super().__post_init__()


@dataclass(frozen=True)
class HideAndSeekV3Config(HideAndSeekV2Config):
    """Arguments of ``hide_and_seek_v3``: those of ``hide_and_seek_v2`` with 0.2 s steps (``dt`` 0.2, ``substeps`` 4).

    Why. The preparation phase is a count of steps (32 in the quadrant game), so what hiders can do in it depends
    on how far an agent gets in a step. In OpenAI's released quadrant game (mae-envs: 0.075 s steps, agents at about
    8 m/s on a 5.7 m floor) an agent covers about a tenth of the arena per step and crosses it in about 10 steps, a
    third of the preparation; at v2's 0.1 s steps and 2 m/s ours covers a twentieth and needs about 20 steps. A
    hider's trip from the room to the ramp and back, the first move of ramp defense, took most of v2's
    preparation. v3 doubles the simulated time per step and keeps the physics' substep (0.05 s), so every force,
    contact and wall behaves as in v2 and everything happens in half the steps: the relative pace of the released
    game. v3 with ``dt=0.1, substeps=2`` is v2.
    """

    dt: float = 0.2
    """Simulated seconds per env step, 0.05-0.4; default 0.2 (v1, v2: 0.1): an agent crosses the arena in about 10
    steps, as in OpenAI's quadrant game."""
    substeps: int = 4
    """Physics substeps per step; default 4, the 0.05 s substep of v1 and v2."""


@dataclass(frozen=True)
class HideAndSeekV4Config(HideAndSeekV3Config):
    """Arguments of ``hide_and_seek_v4``: those of ``hide_and_seek_v3`` with ``lock_rule`` "hold".

    Why. Ramp defense, the paper's last stage, is a lock that must last from the moment a hider reaches the ramp
    to the end of the preparation. Under the toggle, v1-v3's default, a second press of lock undoes the first, and a
    policy that presses near the ramp (what trained hiders do) undoes two of every three of its locks; under the
    rule of the game OpenAI released, pressing locks and only the locker standing by without pressing unlocks.
    Every run that trained the hiders to lock the ramp played under "hold" (given as an argument on v3), and a
    toggle-trained policy lets its boxes go under it, so the rule is a different game: a new version, not a changed
    default. v4 with ``lock_rule="toggle"`` is v3.
    """

    lock_rule: str = "hold"
    """What the lock action means; default "hold" (v1-v3 "toggle"): see ``HideAndSeekConfig.lock_rule``."""
