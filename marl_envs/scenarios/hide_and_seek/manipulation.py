"""The rules that make tools: action decoding, grab, team locks and ramps, as pure batched functions.

Each function takes tensors and returns new ones, so the scenario's step reads as the list of
rules and each rule is tested alone in a hand-built scene. Shapes: B worlds, A agents, K
objects (boxes then ramps), Q ramps.

Rules (Baker et al. 2019, in 2D):
* Grab: while an agent holds ``grab``, it keeps the object it holds (unless the object gets
  locked or is torn more than ``HOLD_SLACK`` beyond reach); if it holds nothing, it binds the
  closest object it can *reach* (in its vision cone, in line of sight, within ``grab_reach``
  of its surface, not locked). Releasing ``grab`` frees the object.
* Lock: pressing ``lock`` toggles the closest reachable object: an unlocked object becomes
  locked by the presser's team; an object locked by the presser's team is unlocked; the
  other team cannot unlock it. If both teams press an unlocked object in the same step,
  the hiders' lock wins (they are listed first). The toggle acts on each step the action
  is 1, so a policy locks with a single press. This is ``lock_rule="toggle"``, the default.
* Lock, ``lock_rule="hold"`` (the rule of the game OpenAI released: mae-envs' lock wrapper with
  ``any_lock_specific``, which reads the action as a level): pressing ``lock`` locks the closest
  reachable object if it is unlocked, and the presser becomes its *locker*; the object stays
  locked until its locker is within ``grab_reach`` of it (seen or not) and not pressing. Pressing
  never unlocks, the locker's teammates cannot unlock, and neither can the other team; a locker
  that releases while another agent presses on the object hands the lock to that agent (the
  first listed: hiders before seekers). So a policy keeps a lock by pressing while it is near
  and walking away, where the toggle asks for exactly one press. We keep the toggle's targeting
  (the closest reachable object) where mae-envs locks every object in reach.
* Ramps: a grounded agent that pushes into a ramp's low end (within its width, moving up the
  slope) climbs it and becomes *elevated*: it passes over boxes and walls (no contacts with
  them) and sees over them. It stays elevated while its centre is over a ramp, a box or a
  wall; beyond them it drops to the ground on whichever side it is. So a ramp placed
  against a wall or a box carries an agent over it, and there is no other way across.
"""

from __future__ import annotations

import torch

from marl_envs.physics import accel
from marl_envs.physics.constraints import Grabs
from marl_envs.physics.geometry import box_signed_distance_xy, point_segment_distance_xy, rotate
from marl_envs.physics.walls import Walls

LEVELS = 11
"""Levels of each movement action; level 5 is zero, 0 and 10 are -max and +max."""
NO_TEAM = -1
HIDERS, SEEKERS = 0, 1
SUPPORT_TOLERANCE = 0.05
"""How far past a ramp's or box's edge an elevated agent's centre may go before it drops."""
WALL_TOP = 0.1
"""How far past a wall's surface the top of a wall still supports an elevated agent's centre."""
HOLD_SLACK = 0.2
"""How far beyond ``grab_reach`` a held object may be pulled (by a wall, say) before the grab breaks."""
FOOT_BAND = 0.05
"""Slack of the "touching the low end" test of a ramp climb."""


def decode_actions(
    actions: torch.Tensor, max_force: float, max_torque: float, active: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """MultiDiscrete actions (B, A, 5) -> force (B, A, 2), torque (B, A), grab (B, A), lock (B, A) bool.

    ``active`` (B, A) bool: agents allowed to act this step (seekers are not during the
    preparation phase); inactive agents exert nothing and neither grab nor lock.
    """
    level = (actions[..., :3].to(torch.float32) - (LEVELS // 2)) / (LEVELS // 2)  # in [-1, 1]
    gate = active.to(level.dtype)
    force = level[..., :2] * (max_force * gate.unsqueeze(-1))
    torque = level[..., 2] * (max_torque * gate)
    return force, torque, (actions[..., 3] == 1) & active, (actions[..., 4] == 1) & active


def reach_distance(
    agent_pos: torch.Tensor, radius: float, obj_pos: torch.Tensor, obj_angle: torch.Tensor, obj_half: torch.Tensor
) -> torch.Tensor:
    """(B, A, K) gap between each agent's surface and each object's surface (negative if touching deeply)."""
    native = accel.kernel("hide_and_seek_reach", agent_pos)
    if native is not None:  # one loop per world (``hide_and_seek.kernels.manipulation``)
        return native(agent_pos, radius, obj_pos, obj_angle, obj_half)
    rx = agent_pos[..., 0].unsqueeze(2) - obj_pos[..., 0].unsqueeze(1)  # (B, A, K), as components (faster)
    ry = agent_pos[..., 1].unsqueeze(2) - obj_pos[..., 1].unsqueeze(1)
    cos, sin = obj_angle.cos().unsqueeze(1), obj_angle.sin().unsqueeze(1)
    return box_signed_distance_xy(rx, ry, cos, sin, obj_half[..., 0], obj_half[..., 1]) - radius


def closest(candidates: torch.Tensor, distance: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Index (B, A) of the closest candidate object per agent, and whether there is one (B, A)."""
    masked = torch.where(candidates, distance, torch.inf)
    best = masked.argmin(dim=-1)
    return best, candidates.any(dim=-1)


def update_locks(
    lock_team: torch.Tensor, press: torch.Tensor, reachable: torch.Tensor, distance: torch.Tensor,
    agent_team: torch.Tensor,
) -> torch.Tensor:
    """New lock owners (B, K) long (``NO_TEAM``, ``HIDERS`` or ``SEEKERS``); see the module rules.

    Args:
        lock_team: (B, K) current owners.
        press: (B, A) bool, agents pressing lock.
        reachable: (B, A, K) bool, objects each agent can reach.
        distance: (B, A, K) gaps, to pick the closest.
        agent_team: (A,) long team of each agent.
    """
    if distance.shape[-1] == 0:  # no boxes or ramps: nothing to lock
        return lock_team
    native = accel.kernel("hide_and_seek_locks", distance)
    if native is not None:  # one loop per world (``hide_and_seek.kernels.manipulation``)
        return native(lock_team, press, reachable, distance, agent_team)
    target, has = closest(reachable, distance)
    pressed = torch.nn.functional.one_hot(target, lock_team.shape[1]).bool() & (press & has).unsqueeze(-1)
    by_hiders = (pressed & (agent_team == HIDERS).view(1, -1, 1)).any(dim=1)
    by_seekers = (pressed & (agent_team == SEEKERS).view(1, -1, 1)).any(dim=1)
    locked_now = torch.where(by_hiders, HIDERS, torch.where(by_seekers, SEEKERS, NO_TEAM))
    owner_pressed = ((lock_team == HIDERS) & by_hiders) | ((lock_team == SEEKERS) & by_seekers)
    return torch.where(lock_team == NO_TEAM, locked_now, torch.where(owner_pressed, NO_TEAM, lock_team))


def update_held_locks(
    lock_team: torch.Tensor, locker: torch.Tensor, press: torch.Tensor, reachable: torch.Tensor,
    near: torch.Tensor, distance: torch.Tensor, agent_team: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """New lock owners and lockers (B, K) long under ``lock_rule="hold"``; see the module rules.

    Args:
        lock_team: (B, K) current owners (``NO_TEAM``, ``HIDERS`` or ``SEEKERS``).
        locker: (B, K) the agent that locked each object, -1 for none. An object locked with no locker (set by
            hand, as ``examples/ramp_defense_value.py`` does) has nobody who can release it.
        press: (B, A) bool, agents pressing lock.
        reachable: (B, A, K) bool, objects each agent can reach (and so lock).
        near: (B, A, K) bool, objects within an agent's reach whether it sees them or not: where a locker that
            stops pressing releases.
        distance: (B, A, K) gaps, to pick the closest.
        agent_team: (A,) long team of each agent.
    """
    if distance.shape[-1] == 0:  # no boxes or ramps: nothing to lock
        return lock_team, locker
    who = locker.clamp_min(0)
    locker_near = torch.gather(near, 1, who.unsqueeze(1)).squeeze(1)  # near[b, locker[b, k], k]
    locker_presses = torch.gather(press, 1, who)
    released = (locker >= 0) & locker_near & ~locker_presses
    target, has = closest(reachable, distance)
    pressed = torch.nn.functional.one_hot(target, lock_team.shape[1]).bool() & (press & has).unsqueeze(-1)
    first = pressed.to(torch.uint8).argmax(dim=1)  # the first pressing agent of each object (argmax: first max)
    takes = pressed.any(dim=1) & ((lock_team == NO_TEAM) | released)
    new_locker = torch.where(takes, first, torch.where(released, -1, locker))
    new_team = torch.where(takes, agent_team[first], torch.where(released, NO_TEAM, lock_team))
    return new_team, new_locker


def update_grabs(
    grabs: Grabs, want: torch.Tensor, grabbable: torch.Tensor, holdable: torch.Tensor, distance: torch.Tensor,
    first_object: int, agent_pos: torch.Tensor, agent_angle: torch.Tensor, obj_pos: torch.Tensor,
    obj_angle: torch.Tensor,
) -> Grabs:
    """Keep, make or release each agent's grab (see the module rules); returns new ``Grabs``.

    Args:
        grabs: current joints (``target`` holds body indices; objects start at body ``first_object``).
        want: (B, A) bool, agents holding the grab action.
        grabbable: (B, A, K) bool, objects each agent could grab now (reachable and unlocked).
        holdable: (B, A, K) bool, objects a grab keeps holding: unlocked and still near the agent
            (a held object may swing out of the vision cone while the agent turns).
        distance: (B, A, K) gaps, to pick the closest.
        agent_pos, agent_angle: (B, A, 2), (B, A).
        obj_pos, obj_angle: (B, K, 2), (B, K).
    """
    if distance.shape[-1] == 0:  # no boxes or ramps: nothing to grab or hold
        return grabs
    native = accel.kernel("hide_and_seek_grabs", distance)
    if native is not None:  # one loop per world (``hide_and_seek.kernels.manipulation``)
        return native(grabs, want, grabbable, holdable, distance, first_object, agent_pos, agent_angle, obj_pos,
                      obj_angle)
    current = (grabs.target - first_object).clamp_min(0)
    holding = grabs.target >= 0
    still_ok = torch.gather(holdable, 2, current.unsqueeze(-1)).squeeze(-1)
    keep = holding & want & still_ok
    best, has = closest(grabbable, distance)
    new = want & ~holding & has
    obj = torch.where(keep, current, best)
    b = obj.shape[0]
    pos = torch.gather(obj_pos, 1, obj.unsqueeze(-1).expand(b, -1, 2))
    angle = torch.gather(obj_angle, 1, obj)
    offset = rotate(pos - agent_pos, -agent_angle)
    rel_angle = angle - agent_angle
    return Grabs(
        holders=grabs.holders,
        target=torch.where(keep | new, obj + first_object, -1),
        offset=torch.where(new.unsqueeze(-1), offset, grabs.offset),
        rel_angle=torch.where(new, rel_angle, grabs.rel_angle),
    )


def update_elevation(
    elevated: torch.Tensor, agent_pos: torch.Tensor, agent_force: torch.Tensor, radius: float,
    ramp_pos: torch.Tensor, ramp_angle: torch.Tensor, ramp_half: torch.Tensor,
    box_sd: torch.Tensor, box_present: torch.Tensor, walls: Walls,
) -> torch.Tensor:
    """New (B, A) elevated flags: climbs start at a ramp's low end, last while over a ramp, box or wall.

    ``box_sd`` (B, A, K): signed distance from each agent's centre to each box (negative inside).
    """
    native = accel.kernel("hide_and_seek_elevation", agent_pos)
    if native is not None:  # one loop per world (``hide_and_seek.kernels.manipulation``)
        return native(elevated, agent_pos, agent_force, radius, ramp_pos, ramp_angle, ramp_half, box_sd, box_present,
                      walls)
    # In components, (B, A, Q) and (B, A, W): contiguous elementwise ops, no (..., 2) tensors.
    ax, ay = agent_pos[..., 0].unsqueeze(2), agent_pos[..., 1].unsqueeze(2)  # (B, A, 1)
    cos, sin = ramp_angle.cos().unsqueeze(1), ramp_angle.sin().unsqueeze(1)  # (B, 1, Q)
    rx, ry = ax - ramp_pos[..., 0].unsqueeze(1), ay - ramp_pos[..., 1].unsqueeze(1)
    lx, ly = cos * rx + sin * ry, cos * ry - sin * rx  # agent centres in each ramp's frame
    hx, hy = ramp_half[..., 0], ramp_half[..., 1]
    uphill = agent_force[..., 0].unsqueeze(2) * cos + agent_force[..., 1].unsqueeze(2) * sin > 0
    at_foot = (ly.abs() <= hy) & (lx >= -hx - radius - FOOT_BAND) & (lx <= -hx)
    climbs = (at_foot & uphill).any(dim=-1)
    on_ramp = ((lx.abs() <= hx + SUPPORT_TOLERANCE) & (ly.abs() <= hy + SUPPORT_TOLERANCE)).any(-1)
    on_box = ((box_sd <= SUPPORT_TOLERANCE) & box_present.unsqueeze(1)).any(-1)
    sx, sy = walls.start[..., 0].unsqueeze(1), walls.start[..., 1].unsqueeze(1)  # (B, 1, W)
    ux, uy = walls.end[..., 0].unsqueeze(1) - sx, walls.end[..., 1].unsqueeze(1) - sy
    wall_dist = point_segment_distance_xy(ax - sx, ay - sy, ux, uy)
    on_wall = ((wall_dist <= walls.half_thickness + WALL_TOP) & walls.mask.unsqueeze(1)).any(-1)
    supported = on_ramp | on_box | on_wall
    return torch.where(elevated, supported, climbs)
