"""Start states with the boxes in front of the room's doors: a start-state curriculum for training.

Why. The paper's shelter (every door of the quadrant room blocked by a box the hiders lock) is a
long sequence found by chance: carry a box up to 1.5 m, turn it square to the door, push it in,
lock it, for each door, inside a 32-step preparation. Self-play on this env finds a nearer answer
first (boxes in front of a corner of the room) and, once the seekers beat that, has to find the
doors by random exploration. Starting a share of the training games from states near the goal
is the standard remedy (Florensa et al. 2017, "Reverse Curriculum Generation"; Chen et al.
2021, "Variational Automatic Curriculum Learning", for multi-agent tasks): the hiders learn what a
locked door is worth where it is a few steps away, meant to carry over to the games that start
anywhere. On this env it does so only in part (measured on the team self-play page of the docs).

What. In a world drawn for it (probability ``boxes_at_doors``), box j goes in front of the j-th
door of the room (doors in slot order; a world with one door places box 0 only), inside the room,
its long side along the wall. It spawns (``door_start_regions``) a uniform 0 to ``DEPTH`` metres further in
than the nearest spot where its bounding circle clears the door's jambs (the spawn rule for every body);
everything else spawns as usual around it; then (``move_flush``) it slides straight towards the wall, by the
distance between that spot and flush against the wall, unless that would touch another body. So its gap to the
wall lies between 0 and ``DEPTH`` (drawn uniformly, but a world is redrawn whole where the rest does not fit,
which favours boxes near the wall): in about four in five of those games the box already covers the door (no
agent could pass between it and the wall) and only the lock is missing, in the others the hiders must push it.
Evaluation uses the default 0: the behaviour figures and the cross-play tables measure games that
start anywhere.
"""

from __future__ import annotations

import math

import torch

from marl_envs.physics.geometry import perp

DEPTH = 0.6
"""Range of the distance (m) between the box and the wall: from flush against it (blocking the door, so that only
the lock is missing) to about a box's length away. Where the box cannot move flush without touching another body
it stays where it spawned, its bounding circle clear of the door's jambs (0.25-0.3 m further in)."""

LATERAL = 0.02
"""Half width (m) of the band across the door in which the box's centre lands (a door keeps 0.3 m of wall to
the next wall, so a box centred on it clears that wall by 2-5 cm at most)."""

CLEARANCE = 0.1
"""Extra distance (m) two door boxes' spawn spots must keep beyond their bounding circles. Where the room's two
doors lie close to the corner they share, the spawn rule (bounding circles apart) leaves no room for a second box
beside the first, so it spawns as usual and the room starts half built: four in five two-door rooms with the
default boxes, one in four with 0.5 m squares."""


def door_start_regions(room_doors: torch.Tensor, doors: torch.Tensor, normals: torch.Tensor, door_width: float,
                       box_half: torch.Tensor, half_thickness: float, gap: float,
                       chosen: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor,
                                                      torch.Tensor]:
    """Spawn rectangles, angles and the slide to the wall for the boxes that start at doors.

    Args:
        room_doors: (B, D) bool, the doors of the shelter room.
        doors, normals: (B, D, 2) door centres and unit normals pointing into the room.
        door_width: gap between the jambs.
        box_half: (K, 2) half extents of the boxes (x the long side).
        half_thickness, gap: the walls' half thickness and the spawn clearance (``spawn.SPAWN_GAP``).
        chosen: (B,) bool, worlds drawn to start this way.

    Returns:
        regions (B, K, 4) rectangles (xmin, ymin, xmax, ymax) for ``spawn.sample_positions`` (NaN where a
        box spawns as usual); placed (B, K) bool; angles (B, K) of the placed boxes (long side along the
        wall); normal (B, K, 2) of each placed box's door; slide (K,) the distance from its spawn band's
        near edge to flush against the wall.
    """
    b, num_boxes = room_doors.shape[0], box_half.shape[0]
    rank = room_doors.long().cumsum(1) - 1  # j-th door of the room gets box j
    regions = torch.full((b, num_boxes, 4), math.nan, device=doors.device)
    placed = torch.zeros(b, num_boxes, dtype=torch.bool, device=doors.device)
    angle = torch.zeros(b, num_boxes, device=doors.device)
    normal_of = torch.zeros(b, num_boxes, 2, device=doors.device)
    slide = torch.zeros(num_boxes, device=doors.device)
    spots: list[tuple[torch.Tensor, torch.Tensor, float]] = []  # nearest spot, placed, radius of earlier boxes
    halves = box_half.tolist()  # one read from the device, not one per box
    for j in range(num_boxes):
        hit = room_doors & (rank == j) & chosen.unsqueeze(1)  # (B, D): at most one door per world
        w = hit.float().unsqueeze(-1)
        centre, normal = (doors * w).sum(1), (normals * w).sum(1)
        along = perp(normal)
        r = math.hypot(*halves[j])
        # Nearest spot where the bounding circle clears both jambs' end caps (the spawn rule), however far
        # across the door the centre lands.
        reach = r + half_thickness + gap
        near = math.sqrt(max(reach * reach - (door_width / 2 - LATERAL) ** 2, 0.0)) + 1e-3
        slide[j] = near - (halves[j][1] + half_thickness + gap)
        ok = hit.any(1)
        for spot, before, radius in spots:  # two doors near one corner: only the first gets its box
            apart = torch.linalg.vector_norm(centre + normal * near - spot, dim=-1) >= r + radius + CLEARANCE
            ok &= apart | ~before
        corners = torch.stack([centre + normal * depth + along * side
                               for depth in (near, near + DEPTH) for side in (-LATERAL, LATERAL)], dim=1)
        # The region holds the circle, so it is the corners' box grown by r (spawn shrinks it back).
        rect = torch.cat((corners.amin(1) - r, corners.amax(1) + r), dim=1)
        regions[:, j] = torch.where(ok.unsqueeze(1), rect, regions[:, j])
        placed[:, j] = ok
        angle[:, j] = torch.atan2(along[:, 1], along[:, 0])
        normal_of[:, j] = normal
        spots.append((centre + normal * near, ok, r))
    return regions, placed, angle, normal_of, slide


def move_flush(pos: torch.Tensor, first: int, box_half: torch.Tensor, placed: torch.Tensor, normal: torch.Tensor,
               slide: torch.Tensor, radius: torch.Tensor, gap: float) -> torch.Tensor:
    """Slide each placed box towards its door's wall by ``slide``, where it then touches no other body.

    Args:
        pos: (B, N, 2) every body's spawn position; boxes are bodies ``first .. first + K - 1``.
        box_half: (K, 2); placed: (B, K); normal: (B, K, 2); slide: (K,) (from ``door_start_regions``).
        radius: (N,) bounding radius of every body (other bodies are tested as their bounding discs, the
            moved box as its rectangle).
        gap: clearance kept from other bodies.

    Returns:
        (B, N, 2) positions, the moved boxes' updated.
    """
    pos = pos.clone()
    n = pos.shape[1]
    for j in range(box_half.shape[0]):
        i = first + j
        moved = pos[:, i] - normal[:, j] * slide[j]
        rel = pos - moved.unsqueeze(1)  # (B, N, 2) other bodies in the box's frame: x along the wall
        along = perp(normal[:, j]).unsqueeze(1)
        du = (rel * along).sum(-1).abs() - box_half[j, 0]
        dv = (rel * normal[:, j].unsqueeze(1)).sum(-1).abs() - box_half[j, 1]
        dist = torch.linalg.vector_norm(torch.stack((du.clamp_min(0), dv.clamp_min(0)), dim=-1), dim=-1)
        others = torch.arange(n, device=pos.device) != i
        clear = ((dist >= radius + gap) | ~others).all(1)
        pos[:, i] = torch.where((placed[:, j] & clear).unsqueeze(1), moved, pos[:, i])
    return pos
