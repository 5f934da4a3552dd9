"""# Hide and seek

| Import | `from marl_envs import hide_and_seek_v4` (or `_v1`, `_v2`, `_v3`: see the versions below) |
|---|---|
| Actions | MultiDiscrete([11, 11, 11, 2, 2]) per agent |
| Agents | `hider_0 …`, then `seeker_0 …` (2 v 2 by default, 1-3 each) |
| Observation shape | (10 + 9 (A - 1) + 11 (boxes + ramps) + lidar_rays,): 100 by default, 188 in random_rooms |
| State shape | (9 A + 11 (boxes + ramps) + 2,): 71 by default, 159 in random_rooms |
| Reference | Baker et al. 2019, "Emergent Tool Use From Multi-Agent Autocurricula" (3D MuJoCo), in 2D |

## Description
Two teams of discs with a heading play hide-and-seek among walls, movable boxes and ramps.
Hiders are rewarded when no seeker sees any of them; seekers when they see one. During the
preparation phase (the first 40% of the episode) the seekers are frozen and no reward is
given, so the hiders have time to build a shelter: push boxes into the doors of a room and
lock them. Seekers can answer by pushing a ramp against a wall, driving up it and over the
wall, and seeing over walls from the top. Hiders can answer by locking the ramp away first.
Every mechanic that made these strategies emerge in the paper is here; the world is a 4 m x
4 m square (6 m x 6 m in random_rooms) fenced by walls, simulated for thousands of worlds at once.

## Versions v1 and v2
`hide_and_seek_v2` is `hide_and_seek_v1`'s game and code with four defaults changed (`HideAndSeekV2Config`):

| argument | v1 | v2 |
|---|---|---|
| `box_size` | 0.64 | 0.5 (mae-envs' cubes) |
| `num_elongated_boxes` | every even-indexed box | 0 on the quadrant map (the paper's two cubes); the other maps as v1 |
| `see_over_reach` | 1: an agent on a ramp sees over every wall and box | 0.5: sight lines with heights |
| `sight_rim_points` | 0: an agent is seen by its centre | 8: by its centre or any of 8 points of its rim |

Why: under v1's sight an agent on a ramp sees over every wall and box from wherever the ramp stands, so the ramp
is a vision tower that no shelter holds against; OpenAI's env casts its sight rays in 3D, where a seeker must bring
the ramp to the wall it looks over, and `see_over_reach` 0.5 is that rule in 2D. Under v1's centre rule a box in
front of a corner of the room hides the centres of two hiders crouched behind it, so self-play settles in the
corner instead of blocking the doors; with rim points a partly covered hider is seen. One 116-minute self-play run
on 2 CPU cores with exactly these values (as v1 arguments) and the door-start curriculum (`boxes_at_doors` 0.5,
training only) learned the shelter of the paper's quadrant game: every door blocked by a hider-locked box at the
end of the preparation in 63.2% of 1000 greedy games (the team self-play page of the docs). v2 with its defaults
plays exactly that game (the same trajectories for the same seed and actions,
`tests/scenarios/hide_and_seek/test_v2.py`), and v2's MAPPO, IPPO, HAPPO and HATRPO presets add the curriculum,
and after it the ramp curricula of the later stages as the stages show (the trainers' `--curriculum`).
Every other argument, `boxes_at_doors` and `ramp_at_wall` (0) included, has v1's default; the rest of this page
holds for both versions.

## Version v3
`hide_and_seek_v3` is v2 in steps of 0.2 simulated seconds instead of 0.1 (`HideAndSeekV3Config`: `dt` 0.2,
`substeps` 4, so the physics' 0.05 s substep is v2's). The preparation phase is counted in steps (32 in the
quadrant game), and at v2's pace an agent needs about 20 steps to cross the arena and 26-29 for a trip from the
room to the ramp and back; in the quadrant game OpenAI released (0.075 s steps, agents at about 8 m/s on a 5.7 m
floor) it crosses the floor in about 10 steps. v3 keeps that pace relative to the arena: 0.4 m per step at full
drive. One v3 step moves every body as two v2 steps with the same drive do, and v3 with `dt=0.1, substeps=2` is
v2 (`tests/scenarios/hide_and_seek/test_v3.py`). Under v3 the scripted door-locking hiders block every door in
70.5% of 1000 games against the scripted seekers (v2: 44.6%) and win 64.3% (v2: 67.8%).

## Version v4
`hide_and_seek_v4` is v3 under the lock rule of the game OpenAI released (`HideAndSeekV4Config`: `lock_rule`
"hold"): pressing lock locks, and an object stays locked until its locker stands within reach of it without
pressing. Under v1-v3's toggle a second press undoes a lock, and hiders that press near the ramp undo two of every
three of their locks, so the last stage of the paper, ramp defense, cannot hold. Every run that taught the
hiders to lock the ramp played this rule, and a policy trained under one rule plays the other badly (a toggle-trained
one lets its boxes go), so the rule is a new version. v4 with `lock_rule="toggle"` is v3, step for step
(`tests/scenarios/hide_and_seek/test_v4.py`). Its training presets chain every stage's start curriculum, the
ramp-defense starts too (`baselines.common.presets`).

## Maps (``map``)
- `quadrant` (default): a room in the top-right quadrant with 1-2 random doors; 2 boxes
  (one elongated, one square) and the hiders start in the room, the seekers and 1 ramp
  outside. 80 steps. OpenAI's released quadrant game starts the hiders and the ramp anywhere in the arena
  instead (the boxes in the room, the seekers outside): `quadrant_spawn="uniform"`, where a hider often starts by
  the ramp (ours keeps the hiders in the room by default, as the runs on these pages were trained). With
  `num_elongated_boxes=0` both boxes are square, as in the paper's quadrant game; `box_size` sets the side of a
  square box (0.64 m; mae-envs' cubes are 0.5 m).
  Trained hiders shelter in a corner of the room behind the boxes rather than behind blocked
  doors with either kind of box under v1's sight rules; with v2's defaults (two 0.5 m cubes) one
  run learned to block the doors (the team self-play page of the docs has the runs).
- `random_rooms`: random walls (recursive division) with a door in each, so every room is
  reachable; 3-9 boxes per world (even-indexed ones elongated), 2 ramps. 240 steps.
- `open`: no interior walls; 2 boxes, 1 ramp. 80 steps.

## Action space
Per agent, MultiDiscrete([11, 11, 11, 2, 2]):
- 0, 1: force along world x and y, level k gives (k - 5) / 5 * 8 N (5 is no force);
- 2: torque about the agent's centre, level k gives (k - 5) / 5 * 0.12 N m (counter-clockwise
  positive);
- 3: grab, held: keep (or take) the closest object in the agent's vision cone, in line of
  sight and within `grab_reach` of its surface; it moves and turns with the agent
  (a weld joint that shares momentum); 0 releases;
- 4: lock: toggle the lock of the closest such object: an unlocked object becomes locked by
  the agent's team and cannot move; the team that locked it, and only that team, unlocks it
  by pressing again. With `lock_rule="hold"` (the rule of the game OpenAI released) the action
  is a level instead: pressing locks the closest such object if it is unlocked, and it stays
  locked until the agent that locked it stands within `grab_reach` of it without pressing;
  pressing again, teammates and the other team never unlock it.
Seekers' actions are ignored during the preparation phase.

## Ramps
A ramp rises along its heading. An agent that pushes into its low end climbs it and is
*elevated*: it passes over boxes and interior walls and sees over them. It stays elevated while
its centre is over a ramp, a box or a wall, and drops to the ground beyond them, on the far side
of a wall it crossed. A ramp pushed against a wall or box is the only way over it, and only
over interior walls: the outer fence (walls 0-3 of every map) holds every body, elevated agents
included. Interior walls hold every body that is not elevated, and boxes and ramps do not pass
through each other, under any action sequence: after each physics substep a position projection
moves bodies back out of walls and overlapping boxes apart, beyond a 1 cm slop
(``physics.projection``; ``tests/scenarios/hide_and_seek/test_soak.py`` drives adversarial
actions against it).

## Observation space
Flat float vector per agent; blocks in order (named slices in `env.obs_spec`):

| block | entities x features | content |
|---|---|---|
| self | 1 x 10 | position, velocity (world), heading (cos, sin), team (0/1), prep left, elevated, holding |
| agents | (A-1) x 8 | other agents in id order: position relative to self, velocity, heading, team, elevated |
| agents_mask | A-1 | 1 where that agent is visible |
| boxes | K x 10 | relative position, velocity, heading, half size, locked by my team, locked by the other team |
| boxes_mask | K | 1 where that box is visible (and exists) |
| ramps | Q x 10 | as boxes |
| ramps_mask | Q | 1 where that ramp is visible |
| lidar | R | distance / range of ray r, at heading + 2 pi r / R, to walls, boxes and ramps |

Visible = within the 135 degree vision cone (`vision_angle`) and in line of sight (walls and
boxes occlude, unless the viewer or the target is elevated; with `see_over_reach` < 1 an elevated
end sees over the walls and boxes within that fraction of the sight line next to it only, as a 3D
sight line from a ramp top would). Unseen entities' blocks are 0. An
agent is tested at its centre (the paper's rule), or with `sight_rim_points` N at its centre and N
points on its rim: then a hider half behind a box is seen, and the same rule decides the rewards.

## Rewards
After the preparation phase, per `reward_mode`: `joint_zero_sum` (default): hiders +1 if every
hider is hidden from every seeker, else -1; seekers the opposite. `joint_mean`: the team mean
of the selfish rewards. `selfish`: hider +1 if no seeker sees it else -1; seeker +1 if it sees
a hider else -1. An agent outside the play area additionally gets -10 (`boundary_penalty`)
per step. During the preparation phase every reward is 0.

## Episode end
Truncation after `max_cycles`; never terminated.

## Behaviour metrics
Rewards do not say which strategy a policy plays, so every step's `info["behaviour"]` holds
figures of each world's current episode, name -> (B,) float, final at its last step (the
PettingZoo env puts `{name: float}` in every agent's info at that step). Names ending in
`_prep` are as of the end of the preparation phase (0 until it ends), when a shelter is
judged before the seekers can undo it; the others run to the end of the episode. "Locked by
hiders" means locked by the hiders' team; fractions are over the objects present. A game that
started with boxes at the doors (`boxes_at_doors`, a training curriculum) reports NaN for every
figure: the figures describe the game that starts anywhere, and the trainers' and cross-play's
means leave such games out. A game that started with the ramp outside the room against its wall
(`ramp_at_wall`, the curriculum of the ramp stages) reports NaN only for the figures that start fakes,
since it did the seekers' carrying (`behaviour.RAMP_START_UNMEASURED`: `seekers_elevated`,
`seekers_crossed`, `hidden_fraction`, `ramp_grabbed`, `max_ramp_move`); the rest are measured, the
preparation's ramp figures included (`ramp_secured_prep`: the hiders must still lock or pull away
the ramp, which is what that curriculum is for, so a training run's stage counts them). A game
that started with the ramp in front of a door (`ramp_near_door`, `ramp_by_door` and `ramp_outside_door`, the
curricula of ramp defense) or with hider 0 outside the room or by a door (`hider_outside`,
`hider_by_door`) fakes nothing and measures every figure. All seven arguments are training-only
(`HideAndSeekConfig.TRAINING_ONLY`): evaluating a run plays without them.
- `max_box_move_prep`, `max_box_move`, `max_ramp_move_prep`, `max_ramp_move`: largest distance
  (m) of a box / ramp from its position at the episode's start; and `boxes_locked_prep`,
  `boxes_locked`, `ramps_locked_prep`, `ramps_locked`: how many are locked, by either team
  (the paper's statistics, as OpenAI's `TrackStatWrapper` logs them).
- `hidden_fraction`: fraction of the seeking-phase steps so far in which no seeker saw any
  hider (the steps `joint_zero_sum` hiders win).
- `box_travel_prep`, `ramp_travel_prep`: mean path length (m) of the boxes / ramps during the
  preparation phase. `box_grabbed`, `ramp_grabbed`: fraction grabbed by anyone at some step.
- `box_locked_hiders_prep`, `ramp_locked_hiders_prep`: fraction locked by the hiders at the
  end of the preparation; `box_locked_seekers`, `ramp_locked_seekers`: by the seekers, at the
  end of the episode (seekers cannot act during the preparation).
- `doors_blocked_prep`: fraction of the room's doors blocked by hider-locked boxes at the end
  of the preparation; `all_doors_blocked_prep`: 1 if every one is (0 on maps without doors).
  A door is blocked when no gap an agent fits through (its diameter, 0.3 m) is left in its
  opening by the boxes whose near face is closer to the wall than that: a box across the gap
  blocks it, one beside it does not.
- `ramp_in_room_prep`: fraction of ramps whose centre is in the room; `ramp_secured_prep`:
  fraction in the room or locked by the hiders (what keeps the seekers off them). Both count only the ramps that
  started outside the room (NaN in a game where every ramp started in it, which `quadrant_spawn="uniform"` allows):
  a ramp left where it started in the room was not kept from the seekers by anyone.
- `seekers_elevated`: 1 if a seeker was on a ramp (elevated) at some step; `seekers_crossed`:
  1 if one took off on one side of an interior wall and landed on the other; `agents_outside`:
  1 if an agent's centre was outside the play area at some step.

`behaviour.stage(means)` names the stage of play shown by the means of these figures over
recent episodes (`behaviour.STAGES` is the order, its index the number to log):
"shelter" if `all_doors_blocked_prep` >= 0.5 (or, on maps without doors,
`box_locked_hiders_prep` >= 0.5 and `hidden_fraction` >= 0.5); with a shelter, "ramp defense" if
`ramp_secured_prep` >= 0.3, else "ramp use" if `seekers_crossed` >= 0.2; otherwise "chasing".
The scripted door-blocking hiders (`heuristic.py`) reach `all_doors_blocked_prep` of about
0.48 and hidden fraction 0.83 against the scripted seekers (1000 games each of seeds 0 and 1),
open-door ones 0 and 0.4. On v2's defaults, with cubes about as wide as a door, they place a cube within
`heuristic.CUBE_GAP` (a 0.1 m gap) of the door's centre: about 0.46 and 0.69 (hiders win 66% of games; open-door
ones 0 and 0.26). The figures are computed when first
read; keeping them costs a few dozen small ops per step, which shows at B=4096 on CPU:
`track_behaviour=False` turns them off (then there is no `info["behaviour"]`).

## Arguments
See `HideAndSeekConfig` (v2: `HideAndSeekV2Config`, v3: `HideAndSeekV3Config`, v4: `HideAndSeekV4Config`), v1's
defaults and the later versions' where they differ: `num_hiders` (2),
`num_seekers` (2), `map` ("quadrant"),
`num_boxes`, `min_boxes`, `num_elongated_boxes` (v2: 0 on the quadrant map), `num_ramps`, `max_cycles` (map
defaults), `box_size` (0.64; v2 0.5), `prep_fraction` (0.4), `reward_mode` ("joint_zero_sum"), `boundary_penalty`
(10), `lidar_rays` (30), `lidar_range` (4), `vision_angle` (135), `sight_rim_points` (0: the centre; v2 8),
`see_over_reach` (1: an elevated agent sees over everything; v2 0.5),
`boxes_at_doors` (0: a training curriculum that starts a share of quadrant games with the boxes in front of the
doors), `ramp_at_wall` (0: a training curriculum that starts a share of quadrant games with the ramp outside the room,
against a part of its wall without a door, ready to climb), `ramp_near_door` (0: a training curriculum that
starts a share of quadrant games with the ramp outside the room in front of a door and hider 0 beside it),
`ramp_by_door` (0: the same with the ramp up to a metre out and hider 0 in that doorway, a step out to a step in),
`ramp_outside_door` (0: the ramp as in `ramp_by_door`, the hiders anywhere in the room), `hider_outside` (0: hider
0 outside the room, the ramp where the game puts it), `hider_by_door` (0: hider 0 in front of a door, a step out
to a metre in, the ramp where the game puts it; the six ramp starts' probabilities sum to <= 1),
`quadrant_spawn` ("room": the hiders start in the room and the ramps outside it; "uniform": both anywhere, as in
mae-envs' released quadrant game),
`grab_reach` (0.3), `lock_rule` ("toggle"; v4 "hold": the released game's lock, see the actions), `half_size` (2; 3 in
random_rooms), `door_width` (0.5), `substeps` (2; v3 4), `dt` (0.1 simulated seconds per step; v3 0.2),
`track_behaviour` (True).

## State
`state()`: every agent (position, velocity, heading, team, elevated, holding) and object
(position, velocity, heading, half size, locked by hiders, locked by seekers, present),
unmasked, then the fraction of preparation and of the episode left.

## Version history
- v4: v3 under the released game's lock rule (`lock_rule` "hold", see "Version v4"). v1-v3 stay as they are.
- v3: v2 in 0.2 s steps (`dt` 0.2, `substeps` 4): the released quadrant game's pace (see "Version v3"). v1 and
  v2 stay as they are; hide-and-seek worlds without boxes or ramps (`num_boxes=0, num_ramps=0`) no longer fail.
- v2: v1's game with the defaults of the door shelter: `box_size` 0.5, no elongated box on the quadrant map,
  `see_over_reach` 0.5 and `sight_rim_points` 8 (see "Versions v1 and v2"). v1 stays as it is.
- v1: walls hold every body that is not elevated and the fence holds every body (position projection
  after each substep); boxes and ramps no longer pass through each other (separating-axis contacts);
  a ramp carries agents over interior walls only; `info["acted"]` and `info["behaviour"]`.
- v0: initial release (retired: agents pushing hard could cross walls and the fence, boxes overlapped).
"""

from marl_envs.scenarios.hide_and_seek.config import (
                                                      HideAndSeekConfig,
                                                      HideAndSeekV2Config,
                                                      HideAndSeekV3Config,
                                                      HideAndSeekV4Config,
)
from marl_envs.scenarios.hide_and_seek.kernels import register_kernels
from marl_envs.scenarios.hide_and_seek.scenario import HideAndSeek
from marl_envs.scenarios.hide_and_seek.versions import HideAndSeekV2, HideAndSeekV3, HideAndSeekV4

register_kernels()  # the scenario's own CPU kernels, offered to physics.accel (loaded at first use)

__all__ = ["HideAndSeek", "HideAndSeekConfig", "HideAndSeekV2", "HideAndSeekV2Config", "HideAndSeekV3",
           "HideAndSeekV3Config", "HideAndSeekV4", "HideAndSeekV4Config"]
