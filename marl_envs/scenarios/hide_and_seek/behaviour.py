"""What the agents did with boxes and ramps, per world and episode, and the stage of play it shows.

Rewards alone do not say which strategy a policy plays: the hiders' return is the same whether
they ran away or built a shelter. Baker et al. (2019) name the stages of the autocurriculum by
behaviour (chasing, shelter, ramp use, ramp defense) and log OpenAI's ``TrackStatWrapper``
statistics to see them; ``BehaviourTracker`` keeps those statistics and a few more for every
world of a batch at once, and ``stage`` turns their per-update means into the stage's name.
The figures are documented on the env's page (``marl_envs.scenarios.hide_and_seek``).

Figures named ``*_prep`` are the state at the end of the preparation phase (0 until then), so
that what the hiders built is judged before the seekers can undo it; the others run to the
end of the episode. ``stage``'s thresholds are the constants below.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping

import torch

from marl_envs.scenarios.hide_and_seek import manipulation as rules

PREP = ("max_box_move_prep", "max_ramp_move_prep", "boxes_locked_prep", "ramps_locked_prep",
        "box_locked_hiders_prep", "ramp_locked_hiders_prep", "ramp_in_room_prep", "ramp_secured_prep",
        "doors_blocked_prep", "all_doors_blocked_prep")
NOW = ("max_box_move", "max_ramp_move", "boxes_locked", "ramps_locked", "box_locked_seekers", "ramp_locked_seekers")
RUNNING = ("hidden_fraction", "box_travel_prep", "ramp_travel_prep", "box_grabbed", "ramp_grabbed",
           "seekers_elevated", "seekers_crossed", "agents_outside")
NAMES = PREP + NOW + RUNNING
"""Every key of ``HideAndSeek.behaviour()``."""

RAMP_START_UNMEASURED = ("max_ramp_move", "ramp_grabbed", "hidden_fraction", "seekers_elevated", "seekers_crossed")
"""The figures a game started with the ramp at the room's wall (``ramp_at_wall``) reports as NaN: the seekers' ramp
use (elevated, crossed) and what follows from it (the hiders' hidden fraction), and the ramp's carrying (grabbed by
anyone, largest displacement over the episode), which the start did for the seekers. The preparation's ramp figures
stay: the hiders moved, locked or pulled in the ramp themselves (seekers cannot act then), which is what the
curriculum is for; so do the box figures (the boxes start as usual). A game that also started with boxes at the
doors reports NaN for every figure."""

_RAMP_START_ROWS = [NAMES.index(name) for name in RAMP_START_UNMEASURED]

STAGES = ("chasing", "shelter", "ramp use", "ramp defense")
"""The stages in the order they emerge; a stage's index is its number for logging."""
SHELTER_DOORS = 0.5
"""Shelter: every door of the room blocked at the end of the preparation in at least this fraction of episodes."""
SHELTER_LOCKED = 0.5
"""Shelter on maps without doors: hiders lock at least this fraction of the boxes in the preparation..."""
SHELTER_HIDDEN = 0.5
"""...and no hider is seen in at least this fraction of the seeking phase."""
RAMP_USE = 0.2
"""Ramp use (after a shelter): seekers cross a wall on a ramp in at least this fraction of episodes."""
RAMP_DEFENSE = 0.3
"""Ramp defense (after a shelter): the ramps are locked by the hiders or in the room at the end of the preparation,
on average over episodes, at least this much."""

_STATE = ("start", "last", "travel", "grabbed", "prep", "hidden", "flags", "ground", "was_up")


def stage(means: dict[str, float], doors: bool = True) -> str:
    """The stage of play shown by the means over recent episodes of ``HideAndSeek.behaviour()``'s figures.

    ``doors``: the map has a room with doors (quadrant, random_rooms), where a shelter means doors blocked;
    only on a map without doors (open) do locked boxes and unseen hiders count as one. (Either criterion
    on every map would let random play pass for a shelter: random hiders lock a box in ~37% of quadrant
    games and, against seekers that cannot chase yet, stay unseen for ~80% of the seeking phase.)
    A shelter is judged at the end of the preparation phase, so it stays visible once seekers
    learn to break in; ramp defense outranks ramp use because it is the hiders' answer to it.
    """
    if doors:
        shelter = means["all_doors_blocked_prep"] >= SHELTER_DOORS
    else:
        shelter = means["box_locked_hiders_prep"] >= SHELTER_LOCKED and means["hidden_fraction"] >= SHELTER_HIDDEN
    if not shelter:
        return "chasing"
    if means["ramp_secured_prep"] >= RAMP_DEFENSE:
        return "ramp defense"
    if means["seekers_crossed"] >= RAMP_USE:
        return "ramp use"
    return "shelter"


def doors_blocked(layout, box_pos: torch.Tensor, box_angle: torch.Tensor, box_half: torch.Tensor,
                  blockers: torch.Tensor, passage: float) -> torch.Tensor:
    """(B, D) bool: door d's opening leaves no gap of ``passage`` (an agent's width) free of blocker boxes.

    A box counts for a door if its face nearest the door's wall is less than ``passage`` from the
    wall's surface (an agent cannot slip between them) on either side; it then covers its shadow
    along the door's normal. A box beside the gap covers wall, not the opening, and blocks nothing.

    Args:
        layout: the ``layout.Layout`` (doors, door_normal, door_mask, door_width, walls' half thickness).
        box_pos, box_angle: (B, K, 2), (B, K); box_half: (K, 2) half extents.
        blockers: (B, K) bool, the boxes that count (present and locked by the hiders).
    """
    b, d = layout.door_mask.shape
    if d == 0 or box_pos.shape[1] == 0:
        return torch.zeros(b, d, dtype=torch.bool, device=box_pos.device)
    ht = layout.walls.half_thickness
    nx, ny = layout.door_normal[..., 0].unsqueeze(2), layout.door_normal[..., 1].unsqueeze(2)  # (B, D, 1)
    rx = box_pos[..., 0].unsqueeze(1) - layout.doors[..., 0].unsqueeze(2)  # (B, D, K)
    ry = box_pos[..., 1].unsqueeze(1) - layout.doors[..., 1].unsqueeze(2)
    u, v = ry * nx - rx * ny, rx * nx + ry * ny  # along the wall (perp of the normal), across it
    cos, sin = box_angle.cos().unsqueeze(1), box_angle.sin().unsqueeze(1)
    along_x, along_y = (sin * nx - cos * ny).abs(), (cos * nx + sin * ny).abs()  # |box axis . wall direction|
    hx, hy = box_half[:, 0], box_half[:, 1]
    reach_u, reach_v = hx * along_x + hy * along_y, hx * along_y + hy * along_x
    near = (v.abs() - reach_v <= ht + passage) & blockers.unsqueeze(1)
    half_open = layout.door_width / 2 - ht
    lo = torch.where(near, u - reach_u, math.inf)
    hi = torch.where(near, u + reach_u, -math.inf)
    # A free gap starts at the opening's edge or at a box's far end and runs to the next box's near end.
    starts = torch.cat((torch.full_like(hi[..., :1], -half_open), hi.clamp(-half_open, half_open)), dim=2)
    inside = ((lo.unsqueeze(2) < starts.unsqueeze(3)) & (starts.unsqueeze(3) < hi.unsqueeze(2))).any(3)
    ahead = torch.where(lo.unsqueeze(2) >= starts.unsqueeze(3), lo.unsqueeze(2), math.inf).amin(3)
    gap = ahead.clamp(max=half_open) - starts
    passable = ((gap >= passage) & ~inside).any(2)
    return layout.door_mask & near.any(2) & ~passable


def room_doors(layout) -> torch.Tensor:
    """(B, D) bool: the doors in the shelter room's walls (door centres lie on its boundary)."""
    eps = layout.walls.half_thickness + 1e-3
    room = layout.room.unsqueeze(1)
    on = ((layout.doors >= room[..., :2] - eps) & (layout.doors <= room[..., 2:] + eps)).all(-1)
    return layout.door_mask & on


def make_tracker(sc, agent_radius: float):
    """The scenario's tracker: a ``BehaviourTracker``, or ``Untracked`` if ``config.track_behaviour`` is off."""
    return BehaviourTracker(sc, agent_radius) if sc.config.track_behaviour else Untracked()


class Untracked:
    """Tracks nothing and reports no figures (``track_behaviour=False``: their per-step cost back)."""

    clock = None

    def reset(self, mask, sc) -> None:
        pass

    def update(self, sc) -> None:
        pass

    def values(self, sc) -> dict[str, torch.Tensor]:
        return {}

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {}

    def load_state_dict(self, state, device) -> None:
        pass


class BehaviourTracker:
    """Per-world figures of the current episode (see the module docstring); updated once per step.

    Why it looks the way it does: it runs in every step of thousands of worlds, so it is a few
    dozen elementwise ops. Its tensors keep the world axis last (objects x ... x B): the small
    axes (objects, seekers, walls) then broadcast and reduce across contiguous rows of B values,
    which is many times faster on CPU than B rows of 2-4 values. While every world shares one
    episode clock (reset together, as ``BatchedEnv`` does when no world can end early) the clock
    is kept on the host and each figure is only computed in the phase it covers; otherwise
    (partial resets, a restored checkpoint, ``torch.compile``) all are computed each step and
    selected per world by ``sc.t``. Tensors are replaced, never written in place, so figures
    handed out earlier keep their values.
    """

    def __init__(self, sc, agent_radius: float):
        c, b, dev = sc.config, sc.num_envs, sc.device
        self.num_hiders, self.num_agents, self.num_boxes = c.num_hiders, c.num_agents, c.num_boxes
        self.prep_steps, self.half_size = c.prep_steps, c.half_size
        self.passage = 2 * agent_radius
        m, s = sc.num_objects, c.num_seekers
        self.kind = torch.zeros(2, m, device=dev)  # sums objects per kind (box, ramp) in one matmul
        self.kind[0, :c.num_boxes] = 1.0
        self.kind[1, c.num_boxes:] = 1.0
        self.clock: int | None = None  # steps since every world was reset together; None: unknown
        self._walls: tuple | None = None  # interior walls in world-last layout, for the walls object cached
        self.start = torch.zeros(m, 2, b, device=dev)  # objects' positions at the episode's start
        self.last = torch.zeros(m, 2, b, device=dev)  # ... after the previous step (path lengths)
        self.travel = torch.zeros(m, b, device=dev)  # path length in the preparation phase
        self.grabbed = torch.zeros(m + 1, b, dtype=torch.bool, device=dev)  # row 0: "nothing held"
        self.prep = torch.zeros(len(PREP), b, device=dev)
        self.hidden = torch.zeros(b, device=dev)  # seeking-phase steps with no hider seen
        self.flags = torch.zeros(3, b, dtype=torch.bool, device=dev)  # seekers elevated, crossed; agent outside
        self.ground = torch.zeros(s, 2, b, device=dev)  # each seeker's last position on the ground
        self.was_up = torch.zeros(s, b, dtype=torch.bool, device=dev)

    def reset(self, mask: torch.Tensor | None, sc) -> None:
        """Start the episode of the worlds where ``mask`` (B,) is true (all if None) from the scenario's state."""
        a, h = self.num_agents, self.num_hiders
        self.clock = 0 if mask is None else None
        if mask is None:
            mask = torch.ones(sc.num_envs, dtype=torch.bool, device=sc.device)
        pos = sc.world.state.pos.permute(1, 2, 0)  # (N, 2, B); the kept tensors are made canonical below
        self.start = torch.where(mask, pos[a:], self.start)
        self.last = torch.where(mask, pos[a:], self.last)
        self.travel = torch.where(mask, 0.0, self.travel)
        self.grabbed = torch.where(mask, False, self.grabbed)
        # The preparation ends now if it has no steps; otherwise its figures are 0 until it ends.
        self.prep = torch.where(mask, self._prep_figures(sc) if self.prep_steps == 0 else 0.0, self.prep)
        self.hidden = torch.where(mask, 0.0, self.hidden)
        self.flags = torch.where(mask, False, self.flags)
        self.ground = torch.where(mask, pos[h:a], self.ground)
        self.was_up = torch.where(mask, False, self.was_up)
        for name in _STATE:
            setattr(self, name, _canonical(getattr(self, name)))

    def update(self, sc) -> None:
        """Fold in the step just taken (call after the rules, when ``sc.t`` counts it)."""
        a, h, p = self.num_agents, self.num_hiders, self.prep_steps
        clock = None if torch.compiler.is_compiling() or self.clock is None else self.clock + 1
        self.clock = clock
        pos = sc.world.state.pos.permute(1, 2, 0)  # (N, 2, B)
        if clock is None or clock <= p:  # a preparation step: objects' paths
            objects = _canonical(pos[a:])
            step = objects - self.last
            travel = self.travel + torch.hypot(step[:, 0], step[:, 1])
            self.travel = travel if clock is not None else torch.where(sc.t <= p, travel, self.travel)
            self.last = objects
        if clock is None or clock == p:  # the preparation's last step
            figures = self._prep_figures(sc)
            self.prep = figures if clock is not None else torch.where(sc.t == p, figures, self.prep)
        held = (sc.grabs.target - (a - 1)).clamp_min(0).T  # (A, B): 1 + object index, 0 for nothing
        self.grabbed = self.grabbed.scatter(0, held, True)
        agents = pos[:a].contiguous()
        outside = agents.abs().amax(dim=(0, 1)) > self.half_size
        if clock is not None and clock <= p:  # seekers are frozen: nothing else changes
            self.flags = self.flags | torch.stack((torch.zeros_like(outside),) * 2 + (outside,))
            return
        seen = sc.see_agents[:, h:, :h].permute(1, 2, 0).any(dim=(0, 1))
        hidden = ~seen if clock is not None else ~seen & (sc.t > p)
        self.hidden = self.hidden + hidden.float()
        up = sc.elevated[:, h:].T  # (S, B)
        crossed = self._landed_across(agents[h:], up, sc.layout.walls)
        self.flags = self.flags | torch.stack((up.any(0), crossed, outside))
        self.ground = _canonical(torch.where(up.unsqueeze(1), self.ground, agents[h:]))
        self.was_up = _canonical(up)

    def _landed_across(self, seeker: torch.Tensor, up: torch.Tensor, walls) -> torch.Tensor:
        """(B,) bool: a seeker landed this step on the far side of an interior wall from where it took off.

        The path from its last ground position to the landing point properly crosses the wall's segment:
        its ends lie on both sides of the wall's line, and the wall's ends on both sides of the path's.
        """
        sx, sy, fx, fy, ex, ey, c = self._interior_walls(walls)  # (W, B); masked walls are all 0
        gx, gy = self.ground[:, 0].unsqueeze(1), self.ground[:, 1].unsqueeze(1)  # (S, 1, B)
        px, py = seeker[:, 0].unsqueeze(1), seeker[:, 1].unsqueeze(1)
        side = torch.addcmul(c, ex, gy).addcmul_(ey, gx, value=-1.0)
        side.mul_(torch.addcmul(c, ex, py).addcmul_(ey, px, value=-1.0))
        dx, dy = px - gx, py - gy
        k = dy * gx - dx * gy
        cut = torch.addcmul(k, dx, sy).addcmul_(dy, sx, value=-1.0)
        cut.mul_(torch.addcmul(k, dx, fy).addcmul_(dy, fx, value=-1.0))
        across = (torch.maximum(side, cut) < 0).any(1)  # (S, B)
        return (across & self.was_up & ~up).any(0)

    def _interior_walls(self, walls) -> tuple[torch.Tensor, ...]:
        """Start, end, direction and line offset (W, B) of the interior walls (slots 0-3 fence the arena)."""
        if self._walls is not None and self._walls[0] is walls.start and not torch.compiler.is_compiling():
            return self._walls[1]
        keep = walls.mask[:, 4:].T.unsqueeze(0)
        start = torch.where(keep, walls.start[:, 4:].permute(2, 1, 0), 0.0)  # (2, W, B)
        end = torch.where(keep, walls.end[:, 4:].permute(2, 1, 0), 0.0)
        ex, ey = end[0] - start[0], end[1] - start[1]
        out = (start[0], start[1], end[0], end[1], ex, ey, ey * start[0] - ex * start[1])
        if not torch.compiler.is_compiling():
            self._walls = (walls.start, out)
        return out

    def _prep_figures(self, sc) -> torch.Tensor:
        """(len(PREP), B) the ``*_prep`` figures of the current state."""
        s, a, k, lay = sc.world.state, self.num_agents, self.num_boxes, sc.layout
        move, locked, by_hiders, _ = self._objects(sc)
        present = sc.present[:, k:]
        room = lay.room.unsqueeze(1)
        ramp_pos = s.pos[:, a + k:]
        # A ramp that started in the room (quadrant_spawn "uniform") is not one the hiders kept from the seekers.
        started_in = _in_rect(self.start[k:].permute(2, 0, 1), room)
        any_ramp, present = present.any(1), present & ~started_in
        in_room = _in_rect(ramp_pos, room) & present
        secured = in_room | ((sc.lock_team[:, k:] == rules.HIDERS) & present)
        blockers = (sc.lock_team[:, :k] == rules.HIDERS) & sc.present[:, :k]
        blocked = doors_blocked(lay, s.pos[:, a:a + k], s.angle[:, a:a + k], sc.box_half, blockers, self.passage)
        ours = room_doors(lay)
        count, shut = ours.sum(1), (blocked & ours).sum(1)
        ramps = torch.where(any_ramp, present.sum(1), 1)  # NaN figures where every ramp started in the room
        rest = torch.stack((in_room.sum(1) / ramps, secured.sum(1) / ramps, shut / count.clamp_min(1),
                            ((count > 0) & (shut == count)).float()))
        return torch.cat((move, locked, by_hiders, rest))

    def _objects(self, sc) -> tuple[torch.Tensor, ...]:
        return _objects(sc.world.state.pos, sc.present, sc.lock_team, self.start, self.kind, self.num_agents,
                        self.num_boxes)

    def values(self, sc) -> Figures:
        """Name -> (B,) float for every name in ``NAMES``, as of now (computed when first read)."""
        return Figures(functools.partial(
            _figures, sc.world.state.pos, sc.present, sc.lock_team, sc.t, self.start, self.kind, self.travel,
            self.grabbed, self.prep, self.hidden, self.flags, sc.door_start, sc.ramp_start, self.num_agents,
            self.num_boxes, self.prep_steps))

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {f"behaviour_{name}": getattr(self, name).clone() for name in _STATE}

    def load_state_dict(self, state: dict[str, torch.Tensor], device: torch.device) -> None:
        """Restore ``state_dict()``; checkpoints from before the tracker existed leave it as it is."""
        for name in _STATE:
            if f"behaviour_{name}" in state:
                setattr(self, name, state[f"behaviour_{name}"].to(device))
        self.clock = None


class Figures(Mapping):
    """``HideAndSeek.behaviour()``: name -> (B,) float, computed from the step's tensors when first read.

    Why lazy: ``BatchedEnv`` asks for the figures at every step but they are read where episodes
    end; computing them each step cost more than the tracking itself. The scenario and the
    tracker replace their tensors (never write them in place), so the tensors held here keep
    this step's values through later steps and resets. Pickles as a plain dict.
    """

    def __init__(self, compute):
        self._compute, self._values = compute, None

    def _get(self) -> dict[str, torch.Tensor]:
        if self._values is None:
            self._values, self._compute = self._compute(), None
        return self._values

    def __getitem__(self, name: str) -> torch.Tensor:
        return self._get()[name]

    def __iter__(self):
        return iter(NAMES)

    def __len__(self) -> int:
        return len(NAMES)

    def __repr__(self) -> str:
        return repr(self._get())

    def __reduce__(self):
        return dict, (dict(self._get()),)


def _in_rect(pos: torch.Tensor, rect: torch.Tensor) -> torch.Tensor:
    """(B, Q) bool: points (B, Q, 2) strictly inside rectangles (B, 1, 4) (xmin, ymin, xmax, ymax)."""
    return ((pos > rect[..., :2]) & (pos < rect[..., 2:])).all(-1)


def _objects(pos, present, lock_team, start, kind, a: int, k: int) -> tuple[torch.Tensor, ...]:
    """Per kind (2, B) (box, ramp): largest displacement, locks, fraction locked by hiders, by seekers."""
    present = present.T  # (M, B)
    d = pos.permute(1, 2, 0)[a:] - start
    disp = torch.where(present, torch.hypot(d[:, 0], d[:, 1]), 0.0)
    move = torch.stack((_amax(disp[:k]), _amax(disp[k:])))
    team = torch.where(present, lock_team.T, rules.NO_TEAM)
    counts = kind @ torch.stack((team >= 0, team == rules.HIDERS, team == rules.SEEKERS, present)).float()
    per_kind = counts[3].clamp_min(1)  # counts: (4, 2, B)
    return move, counts[0], counts[1] / per_kind, counts[2] / per_kind


def _figures(pos, present, lock_team, t, start, kind, travel, grabbed, prep, hidden, flags, door_start, ramp_start,
             a: int, k: int, prep_steps: int) -> dict[str, torch.Tensor]:
    move, locked, _, by_seekers = _objects(pos, present, lock_team, start, kind, a, k)
    present = present.T.float()
    sums = kind @ torch.stack((travel * present, grabbed[1:] * present, present))  # (3, 2, B)
    per_kind = sums[:2] / sums[2].clamp_min(1)
    seeking = (t - prep_steps).clamp_min(1)
    figures = torch.cat((prep, move, locked, by_seekers, (hidden / seeking).unsqueeze(0), per_kind.flatten(0, 1),
                         flags.float()))
    # Curriculum starts: not the game the figures describe (the door start's in every figure, the ramp start's in
    # those it fakes).
    figures = torch.where(door_start, math.nan, figures)
    figures[_RAMP_START_ROWS] = torch.where(ramp_start, math.nan, figures[_RAMP_START_ROWS])
    return dict(zip(NAMES, figures.unbind(0), strict=True))


def _canonical(x: torch.Tensor) -> torch.Tensor:
    """A copy with row-major strides (size-1 dimensions included, which ``contiguous()`` leaves as they are):
    the tensors the tracker keeps across steps must keep one layout, or a compiled step's guards fail and
    recompile it after a reset."""
    return x.clone(memory_format=torch.contiguous_format)


def _amax(x: torch.Tensor) -> torch.Tensor:
    """(B,) largest row of x (n, B); 0 where n is 0."""
    return x.amax(0) if x.shape[0] else x.new_zeros(x.shape[1])
