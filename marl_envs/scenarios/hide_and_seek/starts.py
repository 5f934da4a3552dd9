"""Where every body starts: the spawn regions of the maps and the start-state curricula, drawn for B worlds at once.

Kept apart from the scenario's step because it is the one place that decides a game's first state (the quadrant
room holds hiders and boxes, the rest starts outside, or with ``quadrant_spawn`` "uniform" the hiders and ramps
anywhere; absent boxes are parked; ``boxes_at_doors`` moves boxes to the doors, ``ramp_at_wall`` sets the ramp
against the room's wall, ``ramp_near_door``, ``ramp_by_door`` and ``ramp_outside_door`` in front of a door,
``hider_outside`` moves hider 0 out of the room, ``hider_by_door`` in front of a door), and its rules are tested on
reset scenes only.
"""

from __future__ import annotations

import math

import torch

from marl_envs.physics import BodyState
from marl_envs.scenarios.hide_and_seek import door_starts, ramp_starts
from marl_envs.scenarios.hide_and_seek import layout as maps
from marl_envs.scenarios.hide_and_seek.behaviour import room_doors
from marl_envs.scenarios.spawn import SPAWN_GAP, sample_angles, sample_positions


def draw(sc, layout: maps.Layout, present: torch.Tensor,
         generator: torch.Generator) -> tuple[BodyState, torch.Tensor, torch.Tensor]:
    """A start state of every body in every world of ``sc`` on ``layout``, and (B,) which worlds start with the boxes
    at the doors and (B,) which with the ramp at the wall.

    Args:
        sc: the ``HideAndSeek`` scenario (config, body spec, box sizes).
        layout: the fresh maps; present: (B, K + Q) the objects present.
    """
    c, b, a, dev = sc.config, sc.num_envs, sc.config.num_agents, sc.device
    spec = sc.world.spec
    # Largest first (objects, then agents): a crowded room fills best that way. With hider_by_door, hider 0 first:
    # placed after the boxes, it would start deep in the room only where no box stands in front of the door.
    first = [0] if c.hider_by_door > 0 else []
    order = torch.tensor(first + list(range(a, spec.num_bodies)) + list(range(len(first), a)), device=dev)
    radii = spec.bounding_radius[order].tolist()
    exclude = _excludes(sc, layout)
    exclude = None if exclude is None else exclude[:, order]
    usual = _regions(sc, layout, present)
    regions, at_doors, at_wall, out = usual, None, None, None
    # Each curriculum draws nothing when it is 0: default games keep their seeds' worlds.
    if c.boxes_at_doors > 0:
        regions, at_doors, door_angle, door_normal, slide = _door_regions(sc, layout, usual, present, generator)
    if max(c.ramp_at_wall, c.ramp_near_door, c.ramp_by_door, c.ramp_outside_door, c.hider_outside,
           c.hider_by_door) > 0:
        regions, at_wall, ramp_place, ramp_angle, out = _ramp_regions(sc, layout, regions, generator)
    starts_exclude = exclude
    if out is not None:  # in those worlds hider 0 keeps out of what the seekers keep out of (the room)
        columns = order.tolist()
        hider, seeker = columns.index(0), columns.index(c.num_hiders)  # hider 0's and seeker 0's columns
        starts_exclude = exclude.clone()
        starts_exclude[:, hider] = torch.where(out.unsqueeze(1), exclude[:, seeker], exclude[:, hider])
    try:
        placed = sample_positions(generator, b, radii, regions[:, order], walls=layout.walls, tries=64,
                                  exclude=starts_exclude, device=dev)
    except RuntimeError:
        if at_doors is None and at_wall is None and out is None:
            raise
        # A box at a door (or the ramp at the wall) can leave no room for the rest (a few worlds in a million):
        # this reset's worlds start as usual instead of failing the run.
        at_doors = at_wall = None
        placed = sample_positions(generator, b, radii, usual[:, order], walls=layout.walls, tries=64,
                                  exclude=exclude, device=dev)
    pos = torch.empty_like(placed).index_copy_(1, order, placed)
    angle = sample_angles(generator, b, spec.num_bodies, dev)
    ramp_start = torch.zeros(b, dtype=torch.bool, device=dev)
    if at_wall is not None:  # in to the wall from the spawn spot (ramp_starts: nothing spawned can be in the way)
        i = a + c.num_boxes
        pos[:, i] = torch.where(at_wall.unsqueeze(1), ramp_place, pos[:, i])
        angle[:, i] = torch.where(at_wall, ramp_angle, angle[:, i])
        ramp_start = at_wall
    if at_doors is None:
        door_start = torch.zeros(b, dtype=torch.bool, device=dev)
    else:
        pos = door_starts.move_flush(pos, a, sc.box_half, at_doors, door_normal, slide,
                                     spec.bounding_radius.to(dev), SPAWN_GAP)
        k = c.num_boxes
        angle[:, a:a + k] = torch.where(at_doors, door_angle, angle[:, a:a + k])
        door_start = at_doors.any(1)
    state = BodyState(pos=pos, vel=torch.zeros_like(pos), angle=angle, ang_vel=torch.zeros_like(angle))
    return state, door_start, ramp_start


def _regions(sc, layout: maps.Layout, present: torch.Tensor) -> torch.Tensor:
    """(B, N, 4): in the quadrant map hiders and boxes start in the room (boxes only, with ``quadrant_spawn``
    "uniform"), elsewhere anywhere in the arena; absent boxes go to their own parking cell outside it (frozen, masked
    everywhere)."""
    c, b, n, a = sc.config, sc.num_envs, sc.world.spec.num_bodies, sc.config.num_agents
    arena = torch.tensor([-c.half_size, -c.half_size, c.half_size, c.half_size], device=sc.device)
    regions = arena.expand(b, n, 4).clone()
    if c.map == "quadrant":
        regions[:, _room_bodies(c)] = layout.room.unsqueeze(1)
    cells = torch.tensor([[c.half_size + 0.6 + (k % 3), -1.5 + (k // 3), c.half_size + 1.6 + (k % 3),
                           -0.5 + (k // 3)] for k in range(sc.num_objects)], device=sc.device).reshape(-1, 4)
    return torch.cat((regions[:, :a], torch.where(present.unsqueeze(-1), regions[:, a:], cells)), dim=1)


def _door_regions(sc, layout: maps.Layout, regions: torch.Tensor, present: torch.Tensor,
                  generator: torch.Generator) -> tuple[torch.Tensor, ...]:
    """``regions`` with the boxes of the worlds drawn for ``boxes_at_doors`` moved in front of the doors,
    and what ``door_starts.move_flush`` needs to slide them to the wall."""
    c, a, k = sc.config, sc.config.num_agents, sc.config.num_boxes
    chosen = torch.rand(sc.num_envs, generator=generator, device=sc.device) < c.boxes_at_doors
    spots, placed, angle, normal, slide = door_starts.door_start_regions(
        room_doors(layout), layout.doors, layout.door_normal, layout.door_width, sc.box_half,
        layout.walls.half_thickness, SPAWN_GAP, chosen)
    placed &= present[:, :k]
    regions = regions.clone()
    regions[:, a:a + k] = torch.where(placed.unsqueeze(-1), spots, regions[:, a:a + k])
    return regions, placed, angle, normal, slide


def _ramp_regions(sc, layout: maps.Layout, regions: torch.Tensor,
                  generator: torch.Generator) -> tuple[torch.Tensor, ...]:
    """``regions`` with ramp 0 of the worlds drawn for ``ramp_at_wall`` spawning just outside its spot at the room's
    wall, of those drawn for ``ramp_near_door`` in front of a door with hider 0 beside it, and of those drawn for
    ``ramp_by_door`` in front of a door with hider 0 in that doorway, and of those drawn for ``ramp_outside_door``
    in front of a door with the hiders in the room, of those drawn for ``hider_outside`` with hider 0 anywhere in
    the arena, and of those drawn for ``hider_by_door`` with hider 0 in front of a door; (B,) the worlds at the wall,
    the ramp's place against the wall (B, 2) and its heading (B,), and (B,) the worlds whose hider 0 must start
    outside the room (None without ``hider_outside``)."""
    c, i = sc.config, sc.config.num_agents + sc.config.num_boxes
    draws = torch.rand(sc.num_envs, 2, generator=generator, device=sc.device)  # which start, where along the walls
    hx, hy = sc.ramp_half[0].tolist()  # one read from the device
    radius = math.hypot(hx, hy)
    fits, spawn, place, angle = ramp_starts.spots(layout, (hx, hy), SPAWN_GAP, draws[:, 1])
    chosen = (draws[:, 0] < c.ramp_at_wall) & fits
    regions = regions.clone()
    spot = ramp_starts.start_regions(spawn, radius)
    regions[:, i] = torch.where(chosen.unsqueeze(1), spot, regions[:, i])
    if c.ramp_near_door > 0:  # the same draw, past ramp_at_wall's share; the door from the second uniform
        by_door = (draws[:, 0] >= c.ramp_at_wall) & (draws[:, 0] < c.ramp_at_wall + c.ramp_near_door)
        has, near = ramp_starts.near_door_regions(layout, room_doors(layout), radius, draws[:, 1])
        here = (by_door & has).unsqueeze(1)
        regions[:, i] = torch.where(here, near, regions[:, i])
        regions[:, 0] = torch.where(here, near, regions[:, 0])  # hider 0 beside it, outside the room
    if c.ramp_by_door > 0:  # past both shares above; the door from the second uniform again
        low = c.ramp_at_wall + c.ramp_near_door
        by_door = (draws[:, 0] >= low) & (draws[:, 0] < low + c.ramp_by_door)
        agent_radius = float(sc.world.spec.bounding_radius[0])
        has, ramp, doorway = ramp_starts.by_door_regions(layout, room_doors(layout), radius, agent_radius, draws[:, 1])
        here = (by_door & has).unsqueeze(1)
        regions[:, i] = torch.where(here, ramp, regions[:, i])
        regions[:, 0] = torch.where(here, doorway, regions[:, 0])  # hider 0 in that doorway
    if c.ramp_outside_door > 0:  # past the three shares above; the ramp where ramp_by_door puts it, the hiders as usual
        low = c.ramp_at_wall + c.ramp_near_door + c.ramp_by_door
        by_door = (draws[:, 0] >= low) & (draws[:, 0] < low + c.ramp_outside_door)
        has, ramp = ramp_starts.near_door_regions(layout, room_doors(layout), radius, draws[:, 1],
                                                  ramp_starts.BY_DOOR_DEPTH)
        regions[:, i] = torch.where((by_door & has).unsqueeze(1), ramp, regions[:, i])
    out = None
    if c.hider_outside > 0:  # past the four shares above; the ramp and hider 1 as usual, hider 0 where seekers start
        low = c.ramp_at_wall + c.ramp_near_door + c.ramp_by_door + c.ramp_outside_door
        out = (draws[:, 0] >= low) & (draws[:, 0] < low + c.hider_outside)
        regions[:, 0] = torch.where(out.unsqueeze(1), regions[:, c.num_hiders], regions[:, 0])
    if c.hider_by_door > 0:  # past the five shares above; hider 0 in front of a door, the ramp as usual
        low = c.ramp_at_wall + c.ramp_near_door + c.ramp_by_door + c.ramp_outside_door + c.hider_outside
        by_door = (draws[:, 0] >= low) & (draws[:, 0] < low + c.hider_by_door)
        agent_radius = float(sc.world.spec.bounding_radius[0])
        has, band = ramp_starts.hider_by_door_regions(layout, room_doors(layout), agent_radius, draws[:, 1])
        regions[:, 0] = torch.where((by_door & has).unsqueeze(1), band, regions[:, 0])
    return regions, chosen, place, angle, out


def _excludes(sc, layout: maps.Layout) -> torch.Tensor | None:
    """(B, N, 4) in the quadrant map: the room, which every body that starts outside it must keep out of."""
    if sc.config.map != "quadrant":
        return None
    b, n = sc.num_envs, sc.world.spec.num_bodies
    exclude = torch.full((b, n, 4), math.nan, device=sc.device)
    free = _room_bodies(sc.config) + _anywhere_bodies(sc.config)
    exclude[:, [i for i in range(n) if i not in free]] = layout.room.unsqueeze(1)
    return exclude


def _room_bodies(c) -> list[int]:
    """The bodies that start in the quadrant room: the boxes, and the hiders unless they start anywhere."""
    hiders = list(range(c.num_hiders)) if c.quadrant_spawn == "room" else []
    return hiders + list(range(c.num_agents, c.num_agents + c.num_boxes))


def _anywhere_bodies(c) -> list[int]:
    """The quadrant game's bodies that start anywhere in the arena, in the room or out: the hiders and the ramps
    with ``quadrant_spawn`` "uniform" (mae-envs' released quadrant game), none by default."""
    if c.quadrant_spawn == "room":
        return []
    first_ramp = c.num_agents + c.num_boxes
    return list(range(c.num_hiders)) + list(range(first_ramp, first_ramp + c.num_ramps))
