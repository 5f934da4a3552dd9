"""Spawning: random non-overlapping start positions for B worlds at once.

Bodies that start overlapping each other or a wall get a large penalty push in the first
substep (or start on the wrong side of a wall), so every scenario with more than a few
bodies needs rejection sampling. A per-world Python loop would make a 4096-world reset take
seconds; here the loop runs over entities only (E <= ~20), each drawing up to ``tries``
candidate centres in every world at once and keeping the first that fits (in batches of
doubling size, so that worlds where an early candidate fits skip the rest; a host sync per
batch). Worlds where some entity found no fit are redrawn whole (earlier entities included,
since their placement may be what blocks the later one), up to ``max_rounds`` times.

Fit rules, for entity i with bounding radius r_i (a disc's radius, a box's circumradius):
    * its centre lies in ``regions[:, i]`` shrunk by r_i (so the whole disc is inside);
    * its disc does not overlap ``exclude[:, i]`` (distance from centre to the rectangle >= r_i);
    * it keeps ``SPAWN_GAP`` from earlier entities (distance >= r_i + r_j + SPAWN_GAP) and from
      every wall capsule (distance to the segment >= r_i + half_thickness + SPAWN_GAP).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from marl_envs.physics import accel
from marl_envs.physics.walls import WallGeometry, Walls

SPAWN_GAP = 0.01
"""Clearance between spawned bodies and walls: ten contact margins, so no penalty force acts at the start."""

FIRST_TRIES = 4
"""Candidates drawn in every world for an entity; then twice as many in the worlds where none fitted, and so on."""

STREAM = (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB)
"""SplitMix64's increment and two multipliers. Candidate coordinates are outputs of a counter-based
stream per world and round (``candidate_uniforms``), not draws from the env's generator, so the torch
path and the CPU kernel (``marl_envs.native.spawn``, which reads these constants) test the same
candidates in the same order: same seed, same worlds on both paths, whichever worlds redraw."""


def _shr(z: torch.Tensor, k: int) -> torch.Tensor:
    """Logical right shift of int64 bits (torch's ``>>`` is arithmetic)."""
    return (z >> k) & ((1 << (64 - k)) - 1)


def candidate_uniforms(seeds: torch.Tensor, counters: torch.Tensor) -> torch.Tensor:
    """(n, t) float32 in [0, 1): output ``counters[t]`` (>= 1) of the SplitMix64 stream of ``seeds[n]``.

    int64 arithmetic wraps like the kernel's uint64, so the bits agree; the top 24 bits make the float.
    """
    golden, mix1, mix2 = (v - (1 << 64) if v >= 1 << 63 else v for v in STREAM)
    z = seeds.unsqueeze(1) + counters * golden
    z = (z ^ _shr(z, 30)) * mix1
    z = (z ^ _shr(z, 27)) * mix2
    z = z ^ _shr(z, 31)
    return _shr(z, 40).to(torch.float32) * (1.0 / (1 << 24))


def candidate_counter(entity: int, tries: int, first: int) -> int:
    """Stream counter of candidate ``first`` of ``entity``'s x coordinate (its y is the next one)."""
    return 2 * (entity * tries + first) + 1


def _expand_rects(name: str, rects: torch.Tensor, b: int, e: int) -> torch.Tensor:
    try:
        return rects.expand(b, e, 4)
    except RuntimeError:
        raise ValueError(f"{name}: expected (B, E, 4) = ({b}, {e}, 4) rectangles (xmin, ymin, xmax, ymax) or a "
                         f"shape broadcastable to it, got {tuple(rects.shape)}.") from None


def _check_regions(radii: torch.Tensor, regions: torch.Tensor) -> None:
    """Raise if some entity cannot fit in its region in some world (no sampling can fix that)."""
    width = regions[..., 2:] - regions[..., :2]  # (B, E, 2)
    fits = (width >= 2 * radii.view(1, -1, 1)).all(-1)  # NaN compares false: a NaN region never fits
    if not bool(fits.all()):
        bad = (~fits).sum(0)
        i = int(bad.nonzero()[0])
        world = int((~fits[:, i]).nonzero()[0])
        raise ValueError(
            f"regions: entity {i} (radius {float(radii[i]):g}) does not fit in its region in {int(bad[i])} "
            f"world(s), e.g. world {world} with region {[round(v, 4) for v in regions[world, i].tolist()]}: a "
            f"region must be at least 2 * radius wide and high. Enlarge the region or shrink the entity."
        )


def _rect_distance(points: torch.Tensor, rects: torch.Tensor) -> torch.Tensor:
    """Distance from points (b, t, 2) to filled rectangles (b, 4) (0 inside); inf for empty or NaN rectangles."""
    lo, hi = rects[:, None, :2], rects[:, None, 2:]
    outside = torch.maximum(lo - points, points - hi).clamp_min(0.0)
    dist = torch.linalg.vector_norm(outside, dim=-1)
    empty = ~((hi > lo).all(-1))  # NaN compares false, so NaN rectangles are empty too
    return torch.where(empty, math.inf, dist)


@dataclass
class _Task:
    """What the candidates of b worlds are tested against (all tensors indexed by world first)."""

    radius: tuple[float, ...]  # E radii, as numbers (reading them from a CUDA tensor would sync)
    radii: torch.Tensor  # (E,) the same, as a tensor
    regions: torch.Tensor  # (b, E, 4)
    exclude: torch.Tensor | None  # (b, E, 4)
    walls: WallGeometry | None  # masked slots sit far away (WallGeometry's FAR), so they never block
    tries: int

    def subset(self, rows: torch.Tensor) -> _Task:
        walls = self.walls
        if walls is not None:
            walls = walls.take(rows)
        exclude = None if self.exclude is None else self.exclude[rows]
        return _Task(self.radius, self.radii, self.regions[rows], exclude, walls, self.tries)

    def fits(self, cand: torch.Tensor, i: int, placed: torch.Tensor, rows: torch.Tensor | slice) -> torch.Tensor:
        """(b', t) bool: candidates (b', t, 2) of entity i in worlds ``rows`` that break no rule.

        Distances are compared squared, and walls through their frames (``WallGeometry.frames``),
        rather than ``point_segment_distance`` on (b, t, W, 2) tensors: 4x faster.
        """
        r = self.radius[i]
        ok = torch.ones(cand.shape[:2], dtype=torch.bool, device=cand.device)
        if self.exclude is not None:
            ok &= _rect_distance(cand, self.exclude[rows, i]) >= r
        if self.walls is not None:
            f = self.walls.frames  # (1, W, B): batch-minor, against candidates as (t, 1, b')
            nx, ny, ux, uy, n0, u0, length = (getattr(f, k)[..., rows] for k in ("nx", "ny", "ux", "uy", "n0", "u0",
                                                                              "length"))
            x, y = cand[..., 0].t().unsqueeze(1), cand[..., 1].t().unsqueeze(1)
            off = x * nx + y * ny - n0  # (t, W, b') signed distance to each wall's line
            along = x * ux + y * uy - u0
            excess = along - torch.minimum(along.clamp_min(0.0), length)  # past an end, else 0
            reach = r + self.walls.half_thickness + SPAWN_GAP
            ok &= (off * off + excess * excess).amin(1).t() >= reach * reach
        if i:
            dx = cand[:, None, :, 0] - placed[rows, :i, 0, None]  # (b', i, t): reduced over a non-inner dim (faster)
            dy = cand[:, None, :, 1] - placed[rows, :i, 1, None]
            ok &= (dx * dx + dy * dy >= (r + self.radii[:i, None] + SPAWN_GAP).square()).all(1)
        return ok


def _place_round(generator: torch.Generator, task: _Task) -> tuple[torch.Tensor, torch.Tensor]:
    """One sequential pass over entities in b worlds.

    The ``tries`` candidates of an entity come in batches of doubling size (``FIRST_TRIES``,
    then twice as many, ...), each drawn and tested only in the worlds where no earlier
    candidate fitted (a host sync per batch). Most entities fit at the first try or so, so this
    skips most of the work of testing all ``tries`` everywhere; each world keeps its first
    fitting candidate.

    Returns:
        pos: (b, E, 2) positions (meaningless in failed worlds); first_fail: (b,) long, the first
        entity that found no fit in each world, or E where all fitted.
    """
    b, e = task.regions.shape[:2]
    device = task.regions.device
    seeds = torch.randint(0, 2**62, (b,), generator=generator, device=device)  # this round's stream per world
    native = accel.kernel("spawn_round", task.regions)
    if native is not None:  # one loop per world, no host syncs (``marl_envs.native.spawn``)
        return native(seeds, task, SPAWN_GAP, STREAM)
    placed = torch.zeros(b, e, 2, device=device)
    first_fail = torch.full((b,), e, dtype=torch.long, device=device)
    for i in range(e):
        r = task.radius[i]
        lo, hi = task.regions[:, i, :2] + r, task.regions[:, i, 2:] - r  # (b, 2)
        pick = torch.zeros(b, 2, device=device)
        found = torch.zeros(b, dtype=torch.bool, device=device)
        todo: torch.Tensor | slice = slice(None)
        drawn, batch = 0, FIRST_TRIES
        while drawn < task.tries:
            t = min(batch, task.tries - drawn)
            n = b if isinstance(todo, slice) else todo.numel()
            counters = candidate_counter(i, task.tries, drawn) + 2 * torch.arange(t, device=device)
            u = torch.stack((candidate_uniforms(seeds[todo], counters), candidate_uniforms(seeds[todo], counters + 1)),
                            dim=-1)
            cand = lo[todo, None] + u * (hi - lo)[todo, None]
            ok = task.fits(cand, i, placed, todo)
            found[todo] = ok.any(1)
            pick[todo] = cand[torch.arange(n, device=device), ok.int().argmax(dim=1)]  # first fit (0 if none)
            drawn, batch = drawn + t, 2 * batch
            todo = (~found).nonzero().flatten()
            if todo.numel() == 0:
                break
        placed[:, i] = pick
        first_fail = torch.where(~found & (first_fail == e), i, first_fail)
    return placed, first_fail


def sample_positions(
    generator: torch.Generator,
    num_envs: int,
    radii: Sequence[float],
    regions: torch.Tensor,
    walls: Walls | None = None,
    exclude: torch.Tensor | None = None,
    tries: int = 32,
    max_rounds: int = 50,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Non-overlapping centres for E entities in each of B worlds, placed in order (see the module docstring).

    Args:
        generator: the env's generator, on ``device``.
        num_envs: B.
        radii: E bounding radii, > 0.
        regions: (B, E, 4) ``(xmin, ymin, xmax, ymax)`` rectangle each entity must lie in (or a shape
            broadcastable to it, e.g. (E, 4)).
        walls: (B, W) walls to keep clear of; None for none.
        exclude: (B, E, 4) (or broadcastable) rectangle each entity must not overlap, e.g. the room for
            entities that start outside it. A rectangle with xmax <= xmin or ymax <= ymin, or with a
            NaN, excludes nothing; None excludes nothing anywhere.
        tries: candidates drawn per entity, world and round.
        max_rounds: rounds of redrawing the worlds where some entity found no fit.
        device: where to sample; default ``regions.device``.

    Returns:
        (B, E, 2) float positions.

    Raises:
        ValueError: for malformed arguments, or an entity wider than its region in some world.
        RuntimeError: naming the entity and the number of worlds, if some worlds are still unplaced
            after ``max_rounds`` (the request is too crowded: fewer or smaller entities, larger regions).
    """
    device = regions.device if device is None else torch.device(device)
    radii = [float(r) for r in radii]
    if not all(math.isfinite(r) and r > 0 for r in radii):
        raise ValueError(f"radii: expected finite numbers > 0, got {radii}.")
    radii_t = torch.tensor(radii, dtype=torch.float32, device=device)
    e = len(radii)
    if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
        raise ValueError(f"num_envs: expected an int >= 1, got {num_envs!r}.")
    if isinstance(tries, bool) or not isinstance(tries, int) or tries < 1:
        raise ValueError(f"tries: expected an int >= 1, got {tries!r}.")
    if isinstance(max_rounds, bool) or not isinstance(max_rounds, int) or max_rounds < 1:
        raise ValueError(f"max_rounds: expected an int >= 1, got {max_rounds!r}.")
    regions = _expand_rects("regions", regions.to(device, torch.float32), num_envs, e)
    if exclude is not None:
        exclude = _expand_rects("exclude", exclude.to(device, torch.float32), num_envs, e)
    if walls is not None and walls.num_envs != num_envs:
        raise ValueError(f"walls: expected walls of {num_envs} worlds (num_envs), got {walls.num_envs}.")
    if e == 0:
        return torch.empty(num_envs, 0, 2, device=device)
    _check_regions(radii_t, regions)

    geometry = None if walls is None else WallGeometry.of(walls.to(device))
    task = _Task(tuple(radii), radii_t, regions, exclude, geometry, tries)
    pos, first_fail = _place_round(generator, task)
    todo = (first_fail < e).nonzero().flatten()
    for _ in range(max_rounds - 1):
        if todo.numel() == 0:
            return pos
        sub_pos, sub_fail = _place_round(generator, task.subset(todo))
        pos[todo] = sub_pos
        first_fail[todo] = sub_fail
        todo = todo[sub_fail < e]
    if todo.numel() == 0:
        return pos
    counts = torch.bincount(first_fail[todo], minlength=e)
    i = int(counts.argmax())
    raise RuntimeError(
        f"sample_positions: could not place entity {i} (radius {float(radii_t[i]):g}) in {int(counts[i])} world(s) "
        f"after {max_rounds} rounds of {tries} tries ({todo.numel()} world(s) failed in all, first failing entity "
        f"per world counted: {counts.tolist()}). The request is too crowded: use fewer or smaller entities, "
        f"larger regions, or more tries."
    )


def sample_angles(generator: torch.Generator, num_envs: int, count: int, device: torch.device | str) -> torch.Tensor:
    """(B, count) angles uniform in [-pi, pi)."""
    angle = torch.rand(num_envs, count, generator=generator, device=device) * (2 * math.pi) - math.pi
    return torch.where(angle >= math.pi, -math.pi, angle)  # float rounding could reach pi
