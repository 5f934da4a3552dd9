"""Where the ramp-defense start curricula put the ramp and hider 0, checked on a reset scene.

``ramp_starts`` documents its regions in the frame of each door (depth out of the room, offset along the wall); the
tests of ``ramp_near_door``, ``ramp_by_door`` and ``ramp_outside_door`` read a scene back in that same frame from
here, so a change of the documented bands is made once.
"""

import torch

from marl_envs import make_batched
from marl_envs.physics.geometry import perp
from marl_envs.scenarios.hide_and_seek.behaviour import room_doors
from marl_envs.scenarios.hide_and_seek.ramp_starts import BY_DOOR_DEPTH, DOORWAY_DEPTH, HIDER_INSIDE_DEPTH, NEAR_ALONG
from tests.scenarios.hide_and_seek.spawn_rule import assert_spawned_apart

IDLE = torch.tensor([5, 5, 5, 0, 0])  # no force, no turn, no grab, no lock


def ramp_index(sc) -> int:
    return sc.config.num_agents + sc.config.num_boxes


def in_room(sc) -> torch.Tensor:
    """(B, N) bool: each body's centre lies in the room."""
    room, pos = sc.layout.room, sc.world.state.pos
    return ((pos > room[:, None, :2]) & (pos < room[:, None, 2:])).all(-1)


def ramp_in_band(sc, depth: float) -> torch.Tensor:
    """(B, D) bool: ramp 0's centre lies outside the room, between touching the wall and ``depth`` further out, at
    most ``NEAR_ALONG`` along the wall from the door's centre; only for the room's own doors."""
    wall = sc.layout.walls.half_thickness
    radius = float(sc.world.spec.bounding_radius[ramp_index(sc)])
    normal = sc.layout.door_normal  # into the room
    rel = sc.world.state.pos[:, ramp_index(sc)].unsqueeze(1) - sc.layout.doors  # (B, D, 2)
    out = -(rel * normal).sum(-1)
    band = (out >= wall + radius - 1e-5) & (out <= wall + radius + depth + 1e-5) \
        & ((rel * perp(normal)).sum(-1).abs() <= NEAR_ALONG + 1e-5)
    return room_doors(sc.layout) & band


def hider_in_doorway(sc) -> torch.Tensor:
    """(B, D) bool: hider 0's centre lies in the column of the door's width, at most ``DOORWAY_DEPTH`` past either
    face of the wall; only for the room's own doors."""
    return _hider_column(sc, DOORWAY_DEPTH)[0]


def hider_by_door(sc) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, D) bool: hider 0's centre lies in the column of the door's width, from ``DOORWAY_DEPTH`` past the wall's
    outer face to ``HIDER_INSIDE_DEPTH`` past its inner one (each plus the agent's radius); only for the room's own
    doors. And (B, D) the centre's distance into the room from the wall's centre line (negative outside)."""
    return _hider_column(sc, HIDER_INSIDE_DEPTH)


def _hider_column(sc, inside: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``hider_by_door`` with ``inside`` metres past the wall's inner face in place of ``HIDER_INSIDE_DEPTH``."""
    wall = sc.layout.walls.half_thickness + float(sc.world.spec.bounding_radius[0])
    normal = sc.layout.door_normal  # into the room
    rel = sc.world.state.pos[:, 0].unsqueeze(1) - sc.layout.doors
    depth = (rel * normal).sum(-1)
    column = (depth >= -(wall + DOORWAY_DEPTH) - 1e-5) & (depth <= wall + inside + 1e-5) \
        & ((rel * perp(normal)).sum(-1).abs() <= sc.config.door_width / 2)
    return room_doors(sc.layout) & column, depth


def door_rank(sc, hit: torch.Tensor) -> torch.Tensor:
    """(B,) the rank among the room's doors of the door ``hit`` (B, D) marks, -1 where none is marked."""
    return torch.where(hit, room_doors(sc.layout).long().cumsum(1) - 1, -1).amax(1)


def assert_ramp_as_in_the_game_and_a_valid_start(env, env_id: str, seed: int) -> None:
    """For a start that moves only hider 0 (``hider_outside``, ``hider_by_door``), reset with ``seed``: the ramp is
    where the game puts it (by a door about as often as in a default game of the same seed), every body's disc is
    apart from the others' and off the walls, and no world counts as a curriculum start."""
    sc, b = env.scenario, env.num_envs
    plain = make_batched(env_id, num_envs=b, seed=seed)
    plain.reset(seed=seed)
    near = [ramp_in_band(e.scenario, BY_DOOR_DEPTH).any(1).float().mean().item() for e in (env, plain)]
    assert abs(near[0] - near[1]) < 0.05, near
    agents = torch.ones(b, sc.config.num_agents, dtype=torch.bool)
    assert_spawned_apart(sc, torch.cat((agents, sc.present), dim=1))
    assert not sc.ramp_start.any() and not sc.door_start.any()
