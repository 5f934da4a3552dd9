"""Hide-and-seek maps: wall and door counts, doors that are real gaps, reachability, determinism, errors.

Reachability is checked on a raster, independently of how the maps are built: a cell is free
when an agent centred there clears every wall capsule, and a flood fill over free cells must
reach them all. Closing the doors splits the same raster into the rooms, which checks ``room``.
"""

import math

import pytest
import torch

from marl_envs.physics import Walls
from marl_envs.physics.geometry import point_segment_distance
from marl_envs.scenarios.hide_and_seek import layout
from marl_envs.scenarios.hide_and_seek.layout import DOOR_END_CLEARANCE, KINDS, from_uniforms, generate

L, HT, DOOR, AGENT_RADIUS, CELL = 2.0, 0.05, 0.6, 0.15, 0.05
DOOR_KINDS = ["quadrant", "random_rooms"]


def make(kind, num_envs=512, seed=0, device="cpu"):
    return generate(kind, num_envs, torch.Generator(device=device).manual_seed(seed), device)


def free_cells(walls: Walls) -> torch.Tensor:
    """(B, n, n) bool: raster cells of [-L, L]^2 where an agent centre clears every wall capsule."""
    n = round(2 * L / CELL)
    axis = -L + CELL * (torch.arange(n) + 0.5)
    grid = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1).view(1, -1, 1, 2)  # (1, n*n, 1, 2) [x, y]
    dist = point_segment_distance(grid, walls.start[:, None], walls.end[:, None])  # (B, n*n, W)
    dist = torch.where(walls.mask[:, None], dist, math.inf)
    return (dist.amin(-1) > walls.half_thickness + AGENT_RADIUS).view(-1, n, n)


def flood(free: torch.Tensor, seed: torch.Tensor) -> torch.Tensor:
    """(B, n, n) cells reachable from ``seed`` through 4-connected ``free`` cells."""
    reached = seed & free
    while True:
        grown = reached.clone()
        grown[:, 1:] |= reached[:, :-1]
        grown[:, :-1] |= reached[:, 1:]
        grown[:, :, 1:] |= reached[:, :, :-1]
        grown[:, :, :-1] |= reached[:, :, 1:]
        grown &= free
        if torch.equal(grown, reached):
            return reached
        reached = grown


def first_cell(cells: torch.Tensor) -> torch.Tensor:
    """(B, n, n) one-hot of the first true cell of each world (all false where none)."""
    flat = cells.flatten(1)
    one = torch.zeros_like(flat)
    one[torch.arange(flat.shape[0]), flat.int().argmax(1)] = True
    return (one & flat).view_as(cells)


def components(free: torch.Tensor) -> list[torch.Tensor]:
    """Connected components of free cells, each (B, n, n), in order of their first cell."""
    left, found = free.clone(), []
    while left.any():
        part = flood(left, first_cell(left))
        found.append(part)
        left &= ~part
    return found


def closed_doors(lay: layout.Layout) -> Walls:
    """The layout's walls plus one wall segment across each present door."""
    tangent = torch.stack((-lay.door_normal[..., 1], lay.door_normal[..., 0]), -1) * (DOOR / 2)
    return Walls(start=torch.cat((lay.walls.start, lay.doors - tangent), 1),
                 end=torch.cat((lay.walls.end, lay.doors + tangent), 1),
                 mask=torch.cat((lay.walls.mask, lay.door_mask), 1), half_thickness=lay.walls.half_thickness)


def test_flood_fill_finds_a_closed_room():
    """The reachability check itself: a quadrant room without doors is a second component."""
    segments = [((-L, -L), (L, -L)), ((L, -L), (L, L)), ((L, L), (-L, L)), ((-L, L), (-L, -L)),
                ((0.0, 0.0), (0.0, L)), ((0.0, 0.0), (L, 0.0))]
    parts = components(free_cells(Walls.from_segments([segments], HT)))
    assert len(parts) == 2
    assert int(parts[1].sum()) == pytest.approx(int(parts[0].sum()) / 3, rel=0.15)  # quadrant vs the L shape


@pytest.mark.parametrize("kind", KINDS)
def test_wall_and_door_counts(kind):
    lay = make(kind)
    w, d = layout.num_walls(kind), layout.num_doors(kind)
    assert lay.walls.mask.shape == (512, w) and lay.walls.half_thickness == HT
    assert lay.doors.shape == lay.door_normal.shape == (512, d, 2) and lay.door_mask.shape == (512, d)
    assert lay.room.shape == (512, 4)
    assert lay.walls.mask[:, :4].all(), "outer walls"
    walls, doors = lay.walls.mask.sum(1), lay.door_mask.sum(1)
    if kind == "open":
        assert (w, d) == (4, 0) and (lay.room == 0).all()
    elif kind == "quadrant":
        assert w == 8 and d == 2
        assert set(doors.tolist()) == {1, 2} and torch.equal(walls, 6 + doors)  # 1 or 2 doors, both seen
        one = float((doors == 1).float().mean())
        assert 0.58 < one < 0.75  # "door 0 only", "door 1 only" and "both" are 1/3 each
        assert torch.equal(lay.room, torch.tensor([0.0, 0.0, L, L]).expand(512, 4))
    else:
        assert w == 10 and d == 3
        assert lay.door_mask[:, 0].all(), "the first division always exists"
        assert torch.equal(walls, 4 + 2 * doors)  # every interior wall has exactly one door
        assert set(walls.tolist()) == {6, 8, 10}
        split = lay.door_mask[:, 1:].float().mean()
        assert 0.7 < float(split) < 0.8  # each half is split with probability 0.75


@pytest.mark.parametrize("kind", DOOR_KINDS)
def test_doors_are_gaps_of_door_width_clear_of_wall_ends(kind):
    lay = make(kind)
    start, end, mask = lay.walls.start, lay.walls.end, lay.walls.mask
    for d in range(layout.num_doors(kind)):
        has = lay.door_mask[:, d]
        a, b = 4 + 2 * d, 5 + 2 * d
        centre, normal = lay.doors[has, d], lay.door_normal[has, d]
        assert mask[has][:, [a, b]].all()
        gap = end[has, a] - start[has, b]
        torch.testing.assert_close(torch.linalg.vector_norm(gap, dim=-1), torch.full_like(gap[:, 0], DOOR))
        torch.testing.assert_close((end[has, a] + start[has, b]) / 2, centre)
        torch.testing.assert_close(torch.linalg.vector_norm(normal, dim=-1), torch.ones_like(gap[:, 0]))
        for slot in (a, b):  # both segments lie on one line through the door, normal to door_normal
            along = end[has, slot] - start[has, slot]
            assert torch.linalg.vector_norm(along, dim=-1).min() >= DOOR_END_CLEARANCE - 1e-5
            assert ((along * normal).sum(-1).abs() < 1e-5).all()
            assert (((start[has, slot] - centre) * normal).sum(-1).abs() < 1e-5).all()
        # No other wall (outer wall, perpendicular wall, T-junction) comes near the opening.
        others = [s for s in range(lay.walls.num_walls) if s not in (a, b)]
        dist = point_segment_distance(centre[:, None], start[has][:, others], end[has][:, others])
        dist = torch.where(mask[has][:, others], dist, math.inf)
        assert dist.min() >= DOOR / 2 + DOOR_END_CLEARANCE - 1e-5, f"a wall {float(dist.min()):.3f} from door {d}"
        room_centre = (lay.room[has, :2] + lay.room[has, 2:]) / 2
        assert (((room_centre - centre) * normal).sum(-1) > 0).all(), "door_normal points to the room's side"
        if kind == "quadrant":
            on_wall = centre[:, d]  # door 0 on x = 0, door 1 on y = 0
            assert (on_wall.abs() < 1e-6).all()
            assert (lay.door_normal[has, d] == torch.eye(2)[d]).all()
        # Without a door the wall is one segment (quadrant) or absent (random_rooms).
        whole = mask[~has][:, a]
        assert (whole.all() if kind == "quadrant" else not whole.any()) and not mask[~has][:, b].any()


@pytest.mark.parametrize("kind", KINDS)
def test_every_free_cell_is_reachable(kind):
    lay = make(kind, num_envs=64, seed=1)
    free = free_cells(lay.walls)
    reached = flood(free, first_cell(free))
    assert torch.equal(reached, free), f"unreachable cells in worlds {(reached != free).flatten(1).any(1).nonzero()}"


@pytest.mark.parametrize("kind", DOOR_KINDS)
def test_room_is_the_smallest_room(kind):
    """With the doors closed the free cells split into the rooms; ``room`` is the smallest of them."""
    lay = make(kind, num_envs=64, seed=2)
    parts = components(free_cells(closed_doors(lay)))
    assert 2 <= len(parts) <= 4
    n = parts[0].shape[-1]
    axis = -L + CELL * (torch.arange(n) + 0.5)
    x, y = axis.view(1, n, 1), axis.view(1, 1, n)
    lo, hi = lay.room[:, None, None, :2] + HT + AGENT_RADIUS, lay.room[:, None, None, 2:] - HT - AGENT_RADIUS
    inside = (x > lo[..., 0]) & (x < hi[..., 0]) & (y > lo[..., 1]) & (y < hi[..., 1])
    sizes = torch.stack([p.flatten(1).sum(1) for p in parts], 1)  # (B, rooms); 0 where a world has fewer
    room_part = torch.stack([(p & inside).flatten(1).any(1) for p in parts], 1)
    assert (room_part.sum(1) == 1).all(), "the room rectangle lies in exactly one room"
    for i, part in enumerate(parts):  # that room is exactly the rectangle's cells
        sel = room_part[:, i]
        assert torch.equal(part[sel], inside[sel] & free_cells(closed_doors(lay))[sel])
    room_size = (sizes * room_part).sum(1)
    assert (room_size[:, None] <= torch.where(sizes > 0, sizes, sizes.amax())).all()


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_layout_other_seed_other_layout(kind):
    a, b, c = make(kind, 64, seed=3), make(kind, 64, seed=3), make(kind, 64, seed=4)
    for name in ("start", "end", "mask"):
        assert torch.equal(getattr(a.walls, name), getattr(b.walls, name))
    for name in ("room", "doors", "door_normal", "door_mask"):
        assert torch.equal(getattr(a, name), getattr(b, name))
    if kind != "open":
        assert not torch.equal(a.walls.start, c.walls.start)


def test_worlds_differ_and_where_selects_per_world():
    a, b = make("random_rooms", 8, seed=5), make("random_rooms", 8, seed=6)
    assert not torch.equal(a.walls.start[0], a.walls.start[1])
    pick = torch.tensor([True, False] * 4)
    mixed = a.where(pick, b)
    for name in ("room", "doors", "door_normal", "door_mask"):
        want = torch.where(pick.view(-1, *[1] * (getattr(a, name).dim() - 1)), getattr(b, name), getattr(a, name))
        assert torch.equal(getattr(mixed, name), want)
    assert torch.equal(mixed.walls.start[0], b.walls.start[0]) and torch.equal(mixed.walls.start[1], a.walls.start[1])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("kind", KINDS)
def test_cpu_and_cuda_agree(kind):
    """Same uniforms -> same map on both devices (the generators' streams differ, so uniforms are shared)."""
    u = torch.rand(256, layout.num_uniforms(kind), generator=torch.Generator().manual_seed(0))
    cpu, gpu = from_uniforms(kind, u), from_uniforms(kind, u.cuda())
    for name in ("start", "end", "mask"):
        torch.testing.assert_close(getattr(gpu.walls, name).cpu(), getattr(cpu.walls, name))
    for name in ("room", "doors", "door_normal", "door_mask"):
        torch.testing.assert_close(getattr(gpu, name).cpu(), getattr(cpu, name))
    lay = make(kind, 64, device="cuda")
    assert lay.walls.mask.is_cuda and torch.equal(lay.walls.mask.cpu(), make(kind, 64, device="cuda").walls.mask.cpu())


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"kind": "maze"}, r"Unknown layout kind 'maze'; valid kinds are \['quadrant', 'random_rooms', 'open'\]"),
        ({"num_envs": 0}, "num_envs"),
        ({"half_size": -1.0}, "half_size"),
        ({"wall_half_thickness": -0.1}, "wall_half_thickness"),
        ({"door_width": 0.1}, r"door_width: expected a number > 2 \* wall_half_thickness"),
        ({"door_width": 1.5}, "door_width: a door of 1.5"),
        ({"kind": "random_rooms", "half_size": 1.5}, "shortest door-carrying wall of a 'random_rooms' map"),
    ],
)
def test_bad_arguments_name_the_field(kwargs, match):
    args = {"kind": "quadrant", "num_envs": 4, "generator": torch.Generator().manual_seed(0), "device": "cpu"}
    with pytest.raises(ValueError, match=match):
        generate(**{**args, **kwargs})


def test_num_walls_rejects_unknown_kind_and_uniforms_shape_is_checked():
    with pytest.raises(ValueError, match="valid kinds"):
        layout.num_walls("maze")
    with pytest.raises(ValueError, match=r"uniforms: expected shape \(B, 3\)"):
        from_uniforms("quadrant", torch.rand(4, 2))
