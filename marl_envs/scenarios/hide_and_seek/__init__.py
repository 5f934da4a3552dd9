"""# Hide and seek

| Import | `from marl_envs import hide_and_seek_v0` |
|---|---|
| Actions | MultiDiscrete([11, 11, 11, 2, 2]) per agent |
| Agents | `hider_0 …`, then `seeker_0 …` (2 v 2 by default, 1-3 each) |
| Observation shape | (obs_dim,) flat, layout in `env.obs_spec` (124 for the default quadrant game) |
| State shape | (9 A + 11 (boxes + ramps) + 2,) |
| Reference | Baker et al. 2019, "Emergent Tool Use From Multi-Agent Autocurricula" (3D MuJoCo), in 2D |

## Description
Two teams of discs with a heading play hide-and-seek among walls, movable boxes and ramps.
Hiders are rewarded when no seeker sees any of them; seekers when they see one. During the
preparation phase (the first 40% of the episode) the seekers are frozen and no reward is
given, so the hiders have time to build a shelter: push boxes into the doors of a room and
lock them. Seekers can answer by pushing a ramp against a wall, driving up it and over the
wall, and seeing over walls from the top. Hiders can answer by locking the ramp away first.
Every mechanic that made these strategies emerge in the paper is here; the world is a 4 m x
4 m square fenced by walls, simulated for thousands of worlds at once.

## Maps (``map``)
- `quadrant` (default): a room in the top-right quadrant with 1-2 random doors; 2 boxes
  (one elongated, one square) and the hiders start in the room, the seekers and 1 ramp
  outside. 80 steps.
- `random_rooms`: random walls (recursive division) with a door in each, so every room is
  reachable; 3-9 boxes per world (even-indexed ones elongated), 2 ramps. 240 steps.
- `open`: no interior walls; 2 boxes, 1 ramp. 80 steps.

## Action space
Per agent, MultiDiscrete([11, 11, 11, 2, 2]):
- 0, 1: force along world x and y, level k gives (k - 5) / 5 * 8 N (5 is no force);
- 2: torque about the agent's centre, same levels (counter-clockwise positive);
- 3: grab, held: keep (or take) the closest object in the agent's vision cone, in line of
  sight and within `grab_reach` of its surface; it moves and turns with the agent
  (a weld joint that shares momentum); 0 releases;
- 4: lock: toggle the lock of the closest such object: an unlocked object becomes locked by
  the agent's team and cannot move; the team that locked it, and only that team, unlocks it
  by pressing again.
Seekers' actions are ignored during the preparation phase.

## Ramps
A ramp rises along its heading. An agent that pushes into its low end climbs it and is
*elevated*: it passes over boxes and walls and sees over them. It stays elevated while its
centre is over a ramp, a box or a wall, and drops to the ground beyond them, on the far side
of a wall it crossed. A ramp pushed against a wall or box is the only way over it.

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
boxes occlude, unless the viewer or the target is elevated). Unseen entities' blocks are 0.

## Rewards
After the preparation phase, per `reward_mode`: `joint_zero_sum` (default): hiders +1 if every
hider is hidden from every seeker, else -1; seekers the opposite. `joint_mean`: the team mean
of the selfish rewards. `selfish`: hider +1 if no seeker sees it else -1; seeker +1 if it sees
a hider else -1. An agent outside the play area additionally gets -10 (`boundary_penalty`)
per step. During the preparation phase every reward is 0.

## Episode end
Truncation after `max_cycles`; never terminated.

## Arguments
See `HideAndSeekConfig`: `num_hiders` (2), `num_seekers` (2), `map` ("quadrant"),
`num_boxes`, `min_boxes`, `num_ramps`, `max_cycles` (map defaults), `prep_fraction` (0.4),
`reward_mode` ("joint_zero_sum"), `boundary_penalty` (10), `lidar_rays` (30), `lidar_range`
(4), `vision_angle` (135), `grab_reach` (0.3), `half_size` (2; 3 in random_rooms), `door_width` (0.5),
`substeps` (2).

## State
`state()`: every agent (position, velocity, heading, team, elevated, holding) and object
(position, velocity, heading, half size, locked by hiders, locked by seekers, present),
unmasked, then the fraction of preparation and of the episode left.

## Version history
- v0: initial release.
"""

from marl_envs.scenarios.hide_and_seek.config import HideAndSeekConfig
from marl_envs.scenarios.hide_and_seek.scenario import HideAndSeek

__all__ = ["HideAndSeek", "HideAndSeekConfig"]
