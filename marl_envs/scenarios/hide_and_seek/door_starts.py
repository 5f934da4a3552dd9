"""Start states with the boxes in front of the room's doors: a start-state curriculum for training.

Why. The paper's shelter (every door of the quadrant room blocked by a box the hiders lock) is a
long sequence found by chance: carry a box up to 1.5 m, turn it square to the door, push it in,
lock it, for each door, inside a 32-step preparation. Self-play on this env finds a nearer answer
first (boxes in front of a corner of the room) and, once the seekers beat that, has to find the
doors by random exploration. Starting a share of the training games from states near the goal
is the standard remedy (Florensa et al. 2017, "Reverse Curriculum Generation"; Chen et al.
2021, "Variational Automatic Curriculum Learning", used it on this very game): the hiders learn
what a locked door is worth where it is a few steps away, and the value of "a box in the door"
carries over to the games that start anywhere.

What. In a world drawn for it (probability ``boxes_at_doors``), box j goes in front of the j-th
door of the room (doors in slot order; a world with one door places box 0 only), inside the room,
its long side along the wall and its centre a uniform 0 to ``DEPTH`` metres further in than the
nearest spot where its bounding circle clears the door's jambs (the spawn rule for every body).
The hiders must still push it into the gap and lock it. Everything else spawns as usual around it.
Evaluation uses the default 0: the behaviour figures and the cross-play tables measure games that
start anywhere.
"""

from __future__ import annotations

import math

import torch

from marl_envs.physics.geometry import perp

DEPTH = 0.6
"""Range of the extra distance from the door (m): from touching distance to about a box's length away."""

LATERAL = 0.02
"""Half width (m) of the band across the door in which the box's centre lands (a door keeps 0.3 m of wall to
the next wall, so a box centred on it clears that wall by 2-5 cm at most)."""

CLEARANCE = 0.1
"""Extra distance (m) two door boxes' nearest spots must keep beyond their bounding circles. Where the room's two
doors lie close to the corner they share, the spawn rule (bounding circles apart) leaves no room for a second box
beside the first, so it spawns as usual: about four in five two-door rooms, which then start half built."""


def door_start_regions(room_doors: torch.Tensor, doors: torch.Tensor, normals: torch.Tensor, door_width: float,
                       bounding_radius: torch.Tensor, half_thickness: float, gap: float, chosen: torch.Tensor,
                       num_boxes: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Spawn rectangles and angles for the boxes that start at doors.

    Args:
        room_doors: (B, D) bool, the doors of the shelter room.
        doors, normals: (B, D, 2) door centres and unit normals pointing into the room.
        door_width: gap between the jambs.
        bounding_radius: (K,) circumradius of each box.
        half_thickness, gap: the walls' half thickness and the spawn clearance (``spawn.SPAWN_GAP``).
        chosen: (B,) bool, worlds drawn to start this way.
        num_boxes: K.

    Returns:
        regions (B, K, 4) rectangles (xmin, ymin, xmax, ymax) for ``spawn.sample_positions`` (NaN where a
        box spawns as usual), placed (B, K) bool, and angles (B, K) of the placed boxes (long side along
        the wall; elongated boxes are long along their x axis).
    """
    b, d = room_doors.shape
    rank = room_doors.long().cumsum(1) - 1  # j-th door of the room gets box j
    regions = torch.full((b, num_boxes, 4), math.nan, device=doors.device)
    placed = torch.zeros(b, num_boxes, dtype=torch.bool, device=doors.device)
    angle = torch.zeros(b, num_boxes, device=doors.device)
    spots: list[tuple[torch.Tensor, torch.Tensor, float]] = []  # nearest spot, placed, radius of earlier boxes
    for j in range(num_boxes):
        hit = room_doors & (rank == j) & chosen.unsqueeze(1)  # (B, D): at most one door per world
        w = hit.float().unsqueeze(-1)
        centre, normal = (doors * w).sum(1), (normals * w).sum(1)
        along = perp(normal)
        r = float(bounding_radius[j])
        # Nearest spot where the bounding circle clears both jambs' end caps (the spawn rule).
        reach = r + half_thickness + gap
        near = math.sqrt(max(reach * reach - (door_width / 2 - LATERAL) ** 2, 0.0)) + 1e-3
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
        spots.append((centre + normal * near, ok, r))
    return regions, placed, angle
