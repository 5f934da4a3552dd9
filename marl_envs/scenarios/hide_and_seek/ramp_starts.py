"""Start states with the ramp set against the room's wall from outside: a start-state curriculum for training.

Why. Once the hiders block the doors, the paper's next stage (the seekers carry the ramp to the room's wall, drive
up it and over the wall; then the hiders lock the ramp during the preparation: ramp defense) is again a long
sequence found by chance: grab the ramp, carry it to a wall part without a door, turn it square to the wall, let
go, walk round to its foot and drive up. As ``boxes_at_doors`` does for the shelter (``door_starts``), starting a
share of the training games from the state that sequence builds (reverse curriculum generation) lets the seekers
learn what a ramp at the wall is worth, and gives the hiders a reason to lock or pull away the ramp during the
preparation.

What. In a world drawn for it (probability ``ramp_at_wall``), ramp 0 starts outside the room, square to one of the
room's two walls, rising towards the room, its high end ``heuristic.WALL_GAP`` from the wall's centre line (2 cm
from its face, where the scripted seekers set it: an agent that drives up it reaches the wall's top and crosses).
Its place along the walls is drawn uniformly over the wall parts where its whole width lies against solid wall
(``spots``): its long sides keep ``EDGE_GAP`` from the face of a door's jamb and of the other room wall at the
room's corner, and it keeps the spawn rule's clearance from the fence. So it covers many spots, not only the
scripted seekers' one. It spawns (``start_regions``) by the spawn rule a few centimetres further out, where its
bounding circle clears the wall, so that the bodies spawned after it (the seekers, the other ramps) keep their
bounding circles off it; then (``starts.draw``) it is moved straight in to its place, which a body spawned clear
of both the wall and that circle cannot touch. Where no wall part is wide enough (not on the default map sizes:
with ``door_width`` 0.5 and ``half_size`` 2 a door leaves one on its wall wherever it lies) the world starts as
usual. Evaluate with the default 0: the behaviour figures and the cross-play tables measure games that start
anywhere.

Ramp defense has the same difficulty one stage later: to lock the ramp or pull it into the room during the
preparation a hider must leave the room, find the ramp, reach it and lock it, with nothing rewarding the first steps.
``ramp_near_door`` (the second start here, ``near_door_regions``) shortens that sequence to its end: in a world
drawn for it, ramp 0 starts outside the room just in front of one of its doors, at any heading, and hider 0
starts in the same band beside it (outside the room, a step from the door). A hider that has learned to lock
boxes meets the ramp within reach, and has the whole preparation to lock it (or pull it in) and get back in. A
first run with the ramp alone by the door (the hiders starting in the room, as usual) left it where it was (it moved
0.001 m a game in the preparation): hiders that have learned to stay in the room and lock its doors never went out
to it. With hider 0 beside it, the door-shelter hiders lock it in about a quarter of such games from the start, a
habit of locking what is near; a 108-minute run did not make that more frequent (docs: team self-play).
Nothing of the game is faked (the hiders must still lock it or pull it in, the seekers still carry it to a wall),
so every behaviour figure is measured.

``ramp_by_door`` (``by_door_regions``) is the next step back towards the game: the ramp starts up to a metre outside
a door and hider 0 in that doorway, from a step outside to a step inside, so the hider must go out to the ramp and
come back from anywhere between the ``ramp_near_door`` start and the room. In the game itself the hiders start
anywhere in the room and see the ramp at the first step in about one game in eighteen (the hiders of a run under
``lock_rule="hold"`` from the shipped v3 policy left the room during the preparation in 2.3% of games); a hider that
has learned to step out for a ramp it sees through the door has a reason to look out of it.

``ramp_outside_door`` takes the last step before the game: the ramp starts where ``ramp_by_door`` puts it, and the
hiders where the game starts them, anywhere in the room, so hider 0 is no longer placed on the way out and the ramp is
often out of sight. What is left to the game is where the ramp starts: anywhere outside, not a metre from a door.
Hiders that go out from the doorway for the ramp (the doorway run's, docs: team self-play) locked it in about a fifth
of such games before training on them, and in about one default game in ten.

``hider_outside`` (drawn in ``starts``; the ramp is where the game puts it) covers a ramp far from the doors: hider 0
starts outside the room, anywhere the seekers may, so it often sees the ramp and must lock it (or bring it in) and find
a door back. The policy trained on the steps above locks the ramp in 39% of default games that start it within
1.5 m of a door and 15% of those that start it further out, where a hider leaves the room in about a third of
games; with hider 0 already outside it locks the ramp in 59% of games, at every distance (``examples/
ramp_lock_trace.py`` splits its games by that distance). Training on this start brings the hider back more often
but does not by itself send the hiders out for a ramp they cannot see (docs: team self-play).

``hider_by_door`` (``hider_by_door_regions``; the ramp is where the game puts it) is the step between
``hider_outside`` and the game: hider 0 starts in front of a door, from a step outside to a metre inside the room,
with the ramp anywhere outside. The shipped ``ramp_outside_door`` policy locks the ramp in 36% of default games that
start hider 0 within 0.5 m of a door's centre and 17% of those that start it more than a metre away
(``examples/ramp_lock_trace.py`` splits by both distances): the way out from deep in the room is the part of the trip
left to learn. Hider 0 is placed before the boxes in runs with this start (``starts.draw``), so that the band's inner
end is not mostly taken by a box.

One draw decides between the six starts: ``ramp_at_wall`` first, then ``ramp_near_door``, ``ramp_by_door``,
``ramp_outside_door``, ``hider_outside`` and ``hider_by_door``, so their probabilities add up to at most 1.
"""

from __future__ import annotations

import math

import torch

from marl_envs.scenarios.hide_and_seek.heuristic import WALL_GAP

EDGE_GAP = 0.05
"""Clearance (m) between the ramp's long sides and the face of a door's jamb or of the other room wall at the
room's corner: the ramp lies against solid wall over its whole width, and leaves the door's opening free."""

EPS = 1e-3
"""Half width (m) of the spawn rectangle of the ramp's centre (``spawn.sample_positions`` needs a non-empty one)."""

ROOM_WALLS = 2
"""The room's walls: interior walls 0 (x = room xmin) and 1 (y = room ymin) of the quadrant map, both starting at
the room's corner (``layout``'s wall slots 4 + 2d and 5 + 2d)."""


def spots(layout, ramp_half: tuple[float, float], gap: float, u: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Where the ramp starts in each world, drawn uniformly along the wall parts that fit it.

    Args:
        layout: the quadrant maps (``layout.Layout``).
        ramp_half: the ramp's half extents (x along its slope).
        gap: the spawn rule's clearance (``spawn.SPAWN_GAP``).
        u: (B,) uniforms in [0, 1) placing the ramp.

    Returns:
        fits (B,) bool, a wall part fits the ramp; spawn (B, 2) the centre it spawns at (its bounding circle
        clear of the walls by ``gap``); place (B, 2) its centre against the wall; angle (B,) its heading (rising
        towards the room).
    """
    hx, hy = ramp_half
    walls, ht = layout.walls, layout.walls.half_thickness
    radius = math.hypot(hx, hy)
    lows, highs, starts, alongs, normals = [], [], [], [], []
    for d in range(ROOM_WALLS):
        start = walls.start[:, 4 + 2 * d]  # the room's corner
        has_door = layout.door_mask[:, d]
        far = torch.where(has_door.unsqueeze(-1), walls.end[:, 5 + 2 * d], walls.end[:, 4 + 2 * d])
        length = torch.linalg.vector_norm(far - start, dim=-1)
        along = (far - start) / length.unsqueeze(-1)
        # Along the wall from the corner: clear of the other wall's face, and the spawn circle clear of the fence.
        low = torch.full_like(length, ht + EDGE_GAP + hy)
        high = length - (radius + ht + gap + 3 * EPS)
        # Minus the door and its jambs' caps, grown by the ramp's half width and EDGE_GAP.
        door = ((layout.doors[:, d] - start) * along).sum(-1)
        band = layout.door_width / 2 + ht + EDGE_GAP + hy
        door_low = torch.where(has_door, door - band, high)
        door_high = torch.where(has_door, door + band, high)
        lows += [low, torch.maximum(low, door_high)]
        highs += [torch.minimum(high, door_low), high]
        starts += [start, start]
        alongs += [along, along]
        normals += [layout.door_normal[:, d]] * 2  # into the room, door or not
    low, high = torch.stack(lows, 1), torch.stack(highs, 1)  # (B, P) the wall parts
    size = (high - low).clamp_min(0.0)
    total = size.sum(1)
    cum = size.cumsum(1)
    target = u * total
    part = (cum <= target.unsqueeze(1)).sum(1).clamp_max(size.shape[1] - 1)  # the part holding the target
    pick = part.view(-1, 1)
    before = (cum - size).gather(1, pick).squeeze(1)
    s = (low.gather(1, pick).squeeze(1) + target - before).clamp(max=high.gather(1, pick).squeeze(1))
    pick2 = pick.unsqueeze(-1).expand(-1, 1, 2)
    start = torch.stack(starts, 1).gather(1, pick2).squeeze(1)
    along = torch.stack(alongs, 1).gather(1, pick2).squeeze(1)
    normal = torch.stack(normals, 1).gather(1, pick2).squeeze(1)
    on_wall = start + along * s.unsqueeze(-1)
    spawn = on_wall - normal * (radius + ht + gap + 2 * EPS)
    place = on_wall - normal * (hx + WALL_GAP)
    return total > 0, spawn, place, torch.atan2(normal[:, 1], normal[:, 0])


NEAR_ALONG = 0.5
"""Half span (m) along the wall, around the door's centre, of where the ramp's centre starts by a door."""

NEAR_DEPTH = 0.6
"""Depth (m) of the band outside the door where the ramp's centre starts: its bounding circle starts between touching
the wall's face and ``NEAR_DEPTH`` further out: a step from the door, so that hider 0, which starts in the same band,
can lock it and be back in the room well within the preparation."""


def near_door_regions(layout, doors: torch.Tensor, radius: float, u: torch.Tensor,
                      depth: float = NEAR_DEPTH) -> tuple[torch.Tensor, ...]:
    """Where the ramp (and hider 0) spawn in a world that starts the ramp by a door: in front of one door of the
    room, outside.

    Args:
        layout: the quadrant maps (``layout.Layout``).
        doors: (B, D) bool, the doors in the room's walls (``behaviour.room_doors``).
        radius: the ramp's bounding radius.
        u: (B,) uniforms in [0, 1) choosing the door.
        depth: depth (m) of the band the ramp's centre starts in, from where its bounding circle touches the
            wall's face outwards (``NEAR_DEPTH``; ``ramp_by_door`` uses ``BY_DOOR_DEPTH``).

    Returns:
        has (B,) bool, the room has a door; regions (B, 4) the ramp's spawn rectangles (``spawn.sample_positions``:
        they hold the bounding circle, which the spawn rule keeps clear of every wall; the room is already excluded
        for bodies that start outside it). Hider 0 spawns in the same rectangle, outside the room: nothing
        excludes the room's own bodies from the rest of the arena, and the ramp, placed first (larger bodies
        first), leaves it the rest of the band.
    """
    has, door, normal, along = _door(layout, doors, u)
    return has, _band(layout, door, normal, along, radius, depth)


def _band(layout, door: torch.Tensor, normal: torch.Tensor, along: torch.Tensor, radius: float,
          depth: float) -> torch.Tensor:
    """(B, 4) spawn rectangles of the ramp in the band ``depth`` deep outside ``door`` (``_door``'s vectors)."""
    centre = door - normal * (layout.walls.half_thickness + radius + depth / 2)
    half = along * NEAR_ALONG + normal.abs() * (depth / 2) + radius
    return torch.cat((centre - half, centre + half), dim=1)


BY_DOOR_DEPTH = 1.0
"""Depth (m) of the band outside the door where the ramp's centre starts in a ``ramp_by_door`` world: from touching
the wall's face to a metre further out, so that the hider inside sees it through the door and has a few steps to go."""

DOORWAY_DEPTH = 0.4
"""How far (m) past each face of the wall, into the room and out of it, hider 0's centre starts in a ``ramp_by_door``
world: it starts in the doorway's column, anywhere from that far outside to that far inside."""


def by_door_regions(layout, doors: torch.Tensor, radius: float, agent_radius: float,
                    u: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Where the ramp and hider 0 spawn in a world drawn for ``ramp_by_door``: the ramp outside the room in front of
    one of its doors (``near_door_regions`` with ``BY_DOOR_DEPTH``), hider 0 in that doorway.

    This is the step between ``ramp_near_door`` (hider 0 starts outside, beside the ramp) and the game itself (the
    hiders start anywhere in the room and the ramp anywhere outside, seen by a hider at the first step in about one
    game in eighteen). Hider 0 starts anywhere in the column of the door's width from ``DOORWAY_DEPTH`` outside the
    wall to ``DOORWAY_DEPTH`` inside, so the start spans the whole way from the easy end (outside, a step from the
    ramp: the hiders of the ``ramp_near_door`` runs lock it there) to the hard one (inside the room, where the hider
    must go out to the ramp, lock it or pull it in, and come back), as reverse curriculum generation widens its starts
    around the goal. A hider with the shelter habit that starts just inside the door stays in (the shipped runs' policy
    locked the ramp in under 1% of such games); one that starts in the doorway or just out is a step from the ramp.

    Returns:
        has (B,) bool, the room has a door; the ramp's spawn rectangles (B, 4); hider 0's (B, 4).
    """
    has, door, normal, along = _door(layout, doors, u)
    ramp = _band(layout, door, normal, along, radius, BY_DOOR_DEPTH)
    return has, ramp, _door_column(layout, door, normal, along, agent_radius, DOORWAY_DEPTH, DOORWAY_DEPTH)


HIDER_INSIDE_DEPTH = 1.0
"""How far (m) into the room, past the wall's inner face, hider 0's centre may start in a ``hider_by_door`` world: half
the quadrant room's depth, so that the band reaches the starts from which the shipped policy seldom goes out for the
ramp (over a metre from the door's centre)."""


def hider_by_door_regions(layout, doors: torch.Tensor, agent_radius: float,
                          u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Where hider 0 spawns in a world drawn for ``hider_by_door``: in front of one of the room's doors, in the
    door's width, from ``DOORWAY_DEPTH`` outside the wall (as ``ramp_by_door`` puts it) to ``HIDER_INSIDE_DEPTH``
    inside.

    Why a band and not the doorway alone: the hiders of the shipped policies lock a far ramp in about half the games
    where hider 0 starts in the doorway, and less the deeper in the room it starts; a start that spans that whole
    range keeps the easy end that the policy already solves next to the hard one it must learn, as reverse curriculum
    generation widens its starts around the goal.

    Returns:
        has (B,) bool, the room has a door; hider 0's spawn rectangles (B, 4), holding its bounding circle.
    """
    has, door, normal, along = _door(layout, doors, u)
    return has, _door_column(layout, door, normal, along, agent_radius, DOORWAY_DEPTH, HIDER_INSIDE_DEPTH)


def _door_column(layout, door: torch.Tensor, normal: torch.Tensor, along: torch.Tensor, agent_radius: float,
                 outside: float, inside: float) -> torch.Tensor:
    """(B, 4) spawn rectangles for an agent in the column of the door's width, its centre from ``outside`` metres
    past the wall's outer face to ``inside`` past its inner one (plus its radius: touching the face at 0)."""
    # Regions hold the bounding circle: along the door, its centre keeps clear of the jambs' faces (the spawn rule
    # also keeps the spawn gap from them, and draws again where it does not).
    half_along = layout.door_width / 2 - EPS
    half_depth = layout.walls.half_thickness + agent_radius + (inside + outside) / 2
    centre = door + normal * (inside - outside) / 2  # normal points into the room
    half = along * half_along + normal.abs() * (half_depth + agent_radius)
    return torch.cat((centre - half, centre + half), dim=1)


def _door(layout, doors: torch.Tensor, u: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The door of the room that ``u`` (B,) picks among its doors ``doors`` (B, D): (B,) whether it has one, the
    door's centre (B, 2), its normal into the room (B, 2) and the unit vector along its wall (B, 2, non-negative)."""
    count = doors.sum(1)
    k = (u * count).long().clamp_max((count - 1).clamp_min(0))  # the k-th door of the room
    rank = doors.long().cumsum(1) - 1
    pick = (doors & (rank == k.unsqueeze(1))).long().argmax(1).view(-1, 1, 1).expand(-1, 1, 2)
    door = layout.doors.gather(1, pick).squeeze(1)
    normal = layout.door_normal.gather(1, pick).squeeze(1)  # into the room
    along = torch.stack((-normal[:, 1], normal[:, 0]), dim=-1).abs()
    return count > 0, door, normal, along


def start_regions(spawn: torch.Tensor, radius: float) -> torch.Tensor:
    """(B, 4) spawn rectangles (``spawn.sample_positions``'s regions hold the bounding circle) that put the ramp's
    centre within ``EPS`` of ``spawn`` (B, 2)."""
    return torch.cat((spawn - radius - EPS, spawn + radius + EPS), dim=1)
