"""Hide-and-seek maps: outer walls, room walls with doors, drawn per world in one batched pass.

Every world of a batch gets its own map (Baker et al. 2019 randomise the room, its doors and
the wall layout at every episode), so a reset of 4096 worlds must not loop over worlds in
Python. Each kind therefore draws a fixed number of uniforms per world in one call and builds
the map from them with tensor arithmetic only (``from_uniforms``, a pure function: the same
uniforms give the same map on any device, which is how CPU and CUDA are compared, since
their generators produce different streams).

Geometry. The arena is the square [-L, L]^2 (L = ``half_size``), fenced by 4 outer walls on
its boundary lines. Walls are capsules of half thickness ``ht`` around their segments. A
door is a gap of ``door_width`` between the two segments of a wall (the caps make the clear
opening ``door_width - 2 * ht``). A door keeps ``DOOR_END_CLEARANCE`` of solid wall on both
sides: it never merges with a corner or a T-junction, where the perpendicular wall would
narrow it below an agent's width and hiders could not stand beside it to block it.

Wall slots (W per kind, padded with masked slots; a masked slot is the zero-length segment at
its wall's start, harmless even if drawn or collided with):
    0..3            outer walls: bottom, right, top, left (counter-clockwise)
    4 + 2d, 5 + 2d  the two segments of interior wall d, split at door d; a wall without a door
                    fills slot 4 + 2d whole and masks 5 + 2d; an absent wall masks both

Kinds:
    quadrant      W = 8, D = 2. The shelter room is the top-right quadrant [0, L]^2, walled by
                  wall 0 (x = 0, y in [0, L]) and wall 1 (y = 0, x in [0, L]). 1 or 2 doors:
                  each wall has one with probability 1/2, conditioned on at least one (so
                  "door 0 only", "door 1 only" and "both" have probability 1/3 each).
    random_rooms  W = 10, D = 3. Recursive division of depth 2: wall 0 is vertical at
                  x ~ U[-0.4L, 0.4L]; then wall 1 (left half) and wall 2 (right half) are
                  horizontal at y in [-0.4L, 0.4L], each present with probability 0.75. Every
                  present interior wall has exactly one door, so every room is reachable. As in
                  the classic maze algorithm the door of wall 0 is drawn first and walls 1 and 2
                  avoid it (their y is uniform over [-0.4L, 0.4L] minus the door and its
                  clearance), so no T-junction lands in a door.
    open          W = 4, D = 0. Outer walls only.

Doors: ``doors`` (B, D, 2) centres, ``door_normal`` (B, D, 2) unit normals of the door's wall
pointing to the side where the shelter room lies, ``door_mask`` (B, D). Door d sits in
interior wall d (slots above); its opening runs ``door_width / 2`` either way along
``perp(door_normal)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from marl_envs.physics.geometry import perp
from marl_envs.physics.walls import Walls

DOOR_END_CLEARANCE = 0.3
"""Solid wall kept between a door and either end of its wall (or a T-junction): an agent's diameter."""

RANDOM_ROOMS_SPLIT_PROB = 0.75
"""Probability that each half of a random_rooms map is split again by a horizontal wall."""

RANDOM_ROOMS_SPAN = 0.4
"""Interior walls of random_rooms lie within [-0.4 L, 0.4 L] of the centre, so no room is thinner than 0.6 L."""


@dataclass
class Layout:
    """The static map of B worlds.

    Attributes:
        walls: (B, W) wall segments, slot order in the module docstring.
        room: (B, 4) float ``(xmin, ymin, xmax, ymax)`` of the shelter room, bounded by its walls'
            centre lines (the free interior is this shrunk by the wall half thickness). quadrant:
            ``(0, 0, L, L)``; random_rooms: the smallest room (ties: lowest index of left-bottom,
            left-top, right-bottom, right-top); open: ``(0, 0, 0, 0)``, an empty rectangle
            (zero width), which ``spawn.sample_positions`` treats as excluding nothing.
        doors: (B, D, 2) door centres; coordinates of masked doors are 0.
        door_normal: (B, D, 2) unit normal of each door's wall, pointing to the side of the
            wall's line where the room lies (into the room for a door of the room).
        door_mask: (B, D) bool, true for doors that exist.
        door_width: gap between the two wall segments at every door.
    """

    walls: Walls
    room: torch.Tensor
    doors: torch.Tensor
    door_normal: torch.Tensor
    door_mask: torch.Tensor
    door_width: float

    def where(self, mask: torch.Tensor, other: Layout) -> Layout:
        """Per-world select: ``other``'s map where ``mask`` (B,) is true, else this one (for partial resets)."""
        m = mask.view(-1, 1)
        return Layout(
            walls=self.walls.where(mask, other.walls),
            room=torch.where(m, other.room, self.room),
            doors=torch.where(m.unsqueeze(-1), other.doors, self.doors),
            door_normal=torch.where(m.unsqueeze(-1), other.door_normal, self.door_normal),
            door_mask=torch.where(m, other.door_mask, self.door_mask),
            door_width=self.door_width,
        )


@dataclass(frozen=True)
class _Kind:
    num_walls: int
    num_doors: int
    num_uniforms: int
    build: Callable[..., Layout]


def _outer_walls(b: int, half: float, device) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, 4, 2) starts and ends of the outer walls, counter-clockwise from the bottom one."""
    corners = torch.tensor([[-half, -half], [half, -half], [half, half], [-half, half]], device=device)
    return corners.expand(b, 4, 2), corners.roll(-1, dims=0).expand(b, 4, 2)


def _door_wall(start: torch.Tensor, end: torch.Tensor, u: torch.Tensor, has_door: torch.Tensor,
               door_width: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Split walls at a door drawn uniformly along them, clear of both ends.

    Args:
        start, end: (B, 2) wall endpoints.
        u: (B,) uniforms in [0, 1) placing the door.
        has_door: (B,) bool; where false the wall is left whole.
        door_width: gap between the two segments.

    Returns:
        seg_start, seg_end: (B, 2, 2) the two segment slots; mask: (B, 2) bool; centre: (B, 2) door centre.
    """
    length = torch.linalg.vector_norm(end - start, dim=-1, keepdim=True)
    along = (end - start) / length
    margin = DOOR_END_CLEARANCE + door_width / 2
    centre = start + along * (margin + u.unsqueeze(-1) * (length - 2 * margin))
    door = has_door.unsqueeze(-1)
    first_end = torch.where(door, centre - along * (door_width / 2), end)
    second = torch.where(door, centre + along * (door_width / 2), start)
    seg_start = torch.stack((start, second), dim=1)
    seg_end = torch.stack((first_end, torch.where(door, end, start)), dim=1)
    mask = torch.stack((torch.ones_like(has_door), has_door), dim=1)
    return seg_start, seg_end, mask, centre


def _assemble(half: float, ht: float, door_width: float, room: torch.Tensor,
              interior: list[tuple[torch.Tensor, ...]], present: list[torch.Tensor]) -> Layout:
    """Layout from outer walls plus interior walls given as ``_door_wall`` outputs, each masked by ``present``."""
    b, device = room.shape[0], room.device
    starts, ends = _outer_walls(b, half, device)
    starts, ends = [starts], [ends]
    masks = [torch.ones(b, 4, dtype=torch.bool, device=device)]
    centres, normals, door_masks = [], [], []
    room_centre = (room[:, :2] + room[:, 2:]) / 2
    for (seg_start, seg_end, mask, centre), wall_present in zip(interior, present, strict=True):
        starts.append(seg_start)
        ends.append(seg_end)
        masks.append(mask & wall_present.unsqueeze(-1))
        normal = perp(seg_end[:, 0] - seg_start[:, 0])
        normal = normal / torch.linalg.vector_norm(normal, dim=-1, keepdim=True)
        side = torch.where(((room_centre - centre) * normal).sum(-1, keepdim=True) >= 0, 1.0, -1.0)
        door_present = mask[:, 1] & wall_present
        centres.append(torch.where(door_present.unsqueeze(-1), centre, 0.0))
        normals.append(normal * side + 0.0)  # + 0.0 turns -0.0 into 0.0
        door_masks.append(door_present)
    walls = Walls(start=torch.cat(starts, 1), end=torch.cat(ends, 1), mask=torch.cat(masks, 1), half_thickness=ht)
    empty = torch.zeros(b, 0, 2, device=device)
    return Layout(
        walls=walls,
        room=room,
        doors=torch.stack(centres, 1) if centres else empty,
        door_normal=torch.stack(normals, 1) if normals else empty.clone(),
        door_mask=torch.stack(door_masks, 1) if door_masks else torch.zeros(b, 0, dtype=torch.bool, device=device),
        door_width=door_width,
    )


def _open(u: torch.Tensor, half: float, ht: float, door_width: float) -> Layout:
    return _assemble(half, ht, door_width, torch.zeros(u.shape[0], 4, device=u.device), [], [])


def _quadrant(u: torch.Tensor, half: float, ht: float, door_width: float) -> Layout:
    b, device = u.shape[0], u.device
    case = (u[:, 0] * 3).long()  # 0: door in wall 0 only, 1: wall 1 only, 2: both
    origin = torch.zeros(b, 2, device=device)
    top = torch.tensor([0.0, half], device=device).expand(b, 2)
    right = torch.tensor([half, 0.0], device=device).expand(b, 2)
    room = torch.tensor([0.0, 0.0, half, half], device=device).expand(b, 4).clone()
    interior = [_door_wall(origin, top, u[:, 1], case != 1, door_width),
                _door_wall(origin, right, u[:, 2], case != 0, door_width)]
    always = torch.ones(b, dtype=torch.bool, device=device)
    return _assemble(half, ht, door_width, room, interior, [always, always])


def _uniform_outside(u: torch.Tensor, lo: float, hi: float, centre: torch.Tensor, radius: float) -> torch.Tensor:
    """Map uniforms (B,) to values uniform on [lo, hi] minus (centre - radius, centre + radius)."""
    a = (centre - radius).clamp(lo, hi)
    gap = (centre + radius).clamp(lo, hi) - a
    x = lo + u * (hi - lo - gap)
    return torch.where(x >= a, x + gap, x)


def _random_rooms(u: torch.Tensor, half: float, ht: float, door_width: float) -> Layout:
    b, device = u.shape[0], u.device
    span = RANDOM_ROOMS_SPAN * half
    x_wall = -span + 2 * span * u[:, 0]
    bottom = torch.stack((x_wall, torch.full_like(x_wall, -half)), -1)
    top = torch.stack((x_wall, torch.full_like(x_wall, half)), -1)
    vertical = _door_wall(bottom, top, u[:, 1], torch.ones(b, dtype=torch.bool, device=device), door_width)
    keep_clear = door_width / 2 + DOOR_END_CLEARANCE
    y_door = vertical[3][:, 1]
    y_left = _uniform_outside(u[:, 4], -span, span, y_door, keep_clear)
    y_right = _uniform_outside(u[:, 5], -span, span, y_door, keep_clear)
    has_left, has_right = u[:, 2] < RANDOM_ROOMS_SPLIT_PROB, u[:, 3] < RANDOM_ROOMS_SPLIT_PROB
    edge = torch.full_like(x_wall, half)
    always = torch.ones(b, dtype=torch.bool, device=device)
    left = _door_wall(torch.stack((-edge, y_left), -1), torch.stack((x_wall, y_left), -1), u[:, 6], always,
                      door_width)
    right = _door_wall(torch.stack((x_wall, y_right), -1), torch.stack((edge, y_right), -1), u[:, 7], always,
                       door_width)
    # Candidate rooms (left-bottom, left-top, right-bottom, right-top); an unsplit half is one
    # room (its bottom candidate reaches the top) and its top candidate is dropped.
    y_l = torch.where(has_left, y_left, edge)
    y_r = torch.where(has_right, y_right, edge)
    rooms = torch.stack((
        torch.stack((-edge, -edge, x_wall, y_l), -1),
        torch.stack((-edge, y_l, x_wall, edge), -1),
        torch.stack((x_wall, -edge, edge, y_r), -1),
        torch.stack((x_wall, y_r, edge, edge), -1),
    ), 1)
    area = (rooms[..., 2] - rooms[..., 0]) * (rooms[..., 3] - rooms[..., 1])
    exists = torch.stack((always, has_left, always, has_right), 1)
    smallest = torch.where(exists, area, math.inf).argmin(dim=1)
    room = rooms[torch.arange(b, device=device), smallest]
    return _assemble(half, ht, door_width, room, [vertical, left, right], [always, has_left, has_right])


_KINDS = {
    "quadrant": _Kind(num_walls=8, num_doors=2, num_uniforms=3, build=_quadrant),
    "random_rooms": _Kind(num_walls=10, num_doors=3, num_uniforms=8, build=_random_rooms),
    "open": _Kind(num_walls=4, num_doors=0, num_uniforms=0, build=_open),
}
KINDS = tuple(_KINDS)
"""Valid layout kinds."""

_SHORTEST_DOOR_WALL = {"quadrant": 1.0, "random_rooms": 1.0 - RANDOM_ROOMS_SPAN, "open": math.inf}
"""Length of the shortest wall that carries a door, in units of half_size."""


def _kind(kind: str) -> _Kind:
    if kind not in _KINDS:
        raise ValueError(f"Unknown layout kind {kind!r}; valid kinds are {list(KINDS)}.")
    return _KINDS[kind]


def num_walls(kind: str) -> int:
    """W, the wall slot count of ``kind`` (fixed, so a world can change map without reallocating)."""
    return _kind(kind).num_walls


def num_doors(kind: str) -> int:
    """D, the door slot count of ``kind``."""
    return _kind(kind).num_doors


def num_uniforms(kind: str) -> int:
    """How many uniforms per world ``from_uniforms`` consumes for ``kind``."""
    return _kind(kind).num_uniforms


def _check(kind: str, half_size: float, wall_half_thickness: float, door_width: float) -> None:
    if not (isinstance(half_size, int | float) and math.isfinite(half_size) and half_size > 0):
        raise ValueError(f"half_size: expected a finite number > 0, got {half_size!r}.")
    if not (isinstance(wall_half_thickness, int | float) and 0 <= wall_half_thickness < half_size):
        raise ValueError(f"wall_half_thickness: expected a number in [0, half_size={half_size}), "
                         f"got {wall_half_thickness!r}.")
    if not (isinstance(door_width, int | float) and door_width > 2 * wall_half_thickness):
        raise ValueError(f"door_width: expected a number > 2 * wall_half_thickness = {2 * wall_half_thickness} "
                         f"(the clear opening is door_width - 2 * wall_half_thickness), got {door_width!r}.")
    shortest = _SHORTEST_DOOR_WALL[kind] * half_size
    if door_width + 2 * DOOR_END_CLEARANCE > shortest + 1e-9:
        raise ValueError(
            f"door_width: a door of {door_width} plus {DOOR_END_CLEARANCE} of wall on each side does not fit in "
            f"the shortest door-carrying wall of a {kind!r} map ({shortest:g} long with half_size={half_size}); "
            f"use door_width <= {shortest - 2 * DOOR_END_CLEARANCE:g} or a larger half_size."
        )


def from_uniforms(kind: str, uniforms: torch.Tensor, half_size: float = 2.0, wall_half_thickness: float = 0.05,
                  door_width: float = 0.6) -> Layout:
    """The maps given by uniforms in [0, 1): the deterministic core of ``generate``.

    Args:
        kind: one of ``KINDS``.
        uniforms: (B, num_uniforms(kind)) float in [0, 1), on the device the layout should live on.
        half_size, wall_half_thickness, door_width: as in ``generate``.

    Returns:
        The Layout of B worlds.

    Raises:
        ValueError: for an unknown kind, a wrong uniforms shape, or sizes that do not fit.
    """
    spec = _kind(kind)
    _check(kind, half_size, wall_half_thickness, door_width)
    if uniforms.dim() != 2 or uniforms.shape[1] != spec.num_uniforms:
        raise ValueError(f"uniforms: expected shape (B, {spec.num_uniforms}) for kind {kind!r}, "
                         f"got {tuple(uniforms.shape)}.")
    return spec.build(uniforms, float(half_size), float(wall_half_thickness), float(door_width))


def generate(kind: str, num_envs: int, generator: torch.Generator, device: torch.device | str,
             half_size: float = 2.0, wall_half_thickness: float = 0.05, door_width: float = 0.6) -> Layout:
    """Draw a random map of ``kind`` for each of ``num_envs`` worlds (one ``torch.rand`` call, no host sync).

    Args:
        kind: ``"quadrant"``, ``"random_rooms"`` or ``"open"`` (see the module docstring).
        num_envs: B.
        generator: the env's generator, on ``device``.
        device: where the layout lives.
        half_size: L, the arena is [-L, L]^2.
        wall_half_thickness: half thickness of every wall.
        door_width: gap between the two wall segments at a door.

    Returns:
        The Layout: walls (B, num_walls(kind)), room (B, 4), doors and door_normal (B, num_doors(kind), 2),
        door_mask (B, num_doors(kind)).

    Raises:
        ValueError: naming the field, for an unknown kind, num_envs < 1 or sizes that do not fit.
    """
    spec = _kind(kind)
    if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
        raise ValueError(f"num_envs: expected an int >= 1, got {num_envs!r}.")
    uniforms = torch.rand(num_envs, spec.num_uniforms, generator=generator, device=device)
    return from_uniforms(kind, uniforms, half_size, wall_half_thickness, door_width)
