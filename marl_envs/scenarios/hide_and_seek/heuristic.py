"""Scripted team policies for hide-and-seek: the door-blocking hiders and the chasing seekers.

They exist to prove the mechanics give shelter (tests play them against each other) and to
make demos watchable; they are not baselines. Both are batched and stateless: each step's
action is a function of the current state, so they run inside any rollout loop.

Hiders (``block_doors=True``): hider h takes box h to door h of the room, welds it across the
door with a grab, aligns it with the wall, releases it and locks it; hiders without a door, or
whose box is locked, go to the room's far corner. A hider outside the room (``quadrant_spawn`` "uniform"
starts them anywhere) first comes in by the nearest door, round the room's outer corner if need be. With
``block_doors=False`` they only run to that corner (the control: an open door lets the seekers in).

Seekers: chase the closest hider they see; otherwise walk to the closest door and into the
room. If a locked box blocks that door, the last seeker fetches the ramp instead: carries it
against the room's wall, rising towards the room, walks to its foot, drives up it and over the wall.
"""

from __future__ import annotations

import math

import torch

from marl_envs.physics.constraints import wrap_angle
from marl_envs.physics.geometry import perp, rotate
from marl_envs.scenarios.hide_and_seek import manipulation as rules

MID = rules.LEVELS // 2
WALL_GAP = 0.07
"""Gap left between a placed ramp's high end and the wall: within reach of the wall's top for a climber."""


CUBE_GAP = 0.1
"""The widest gap a door-blocking hider leaves beside a box about as wide as the door (v2's 0.5 m cubes), a third of
an agent's width: such a box covers the clear opening only near the centre, so the tolerance comes from the gap an
agent cannot pass. Boxes wider than the door (v1's) keep the tolerance of covering the whole gap."""


def _move(agent_pos, agent_vel, target, gain=3.0, damping=0.6) -> torch.Tensor:
    """(B, A, 2) force levels driving agents to ``target`` (a PD law in units of max force)."""
    force = (gain * (target - agent_pos) - damping * agent_vel).clamp(-1.0, 1.0)
    return (MID + torch.round(force * MID)).long()


def _turn(angle, ang_vel, desired, gain=2.0, damping=0.2) -> torch.Tensor:
    """(B, A) torque levels turning agents to face ``desired``."""
    torque = (gain * wrap_angle(desired - angle) - damping * ang_vel).clamp(-1.0, 1.0)
    return (MID + torch.round(torque * MID)).long()


def _facing(agent_pos, point) -> torch.Tensor:
    d = point - agent_pos
    return torch.atan2(d[..., 1], d[..., 0])


HOLD_CLEARANCE = 1.0
"""Under ``lock_rule="hold"``, how far (m, centre to centre) a hider keeps pressing lock after locking its box: past
the farthest point from which it still reaches the box (a 0.5 m cube's half diagonal, the agent's radius and
``grab_reach``: about 0.8 m), so that walking away does not release the lock."""


def hider_actions(sc, block_doors: bool = True) -> torch.Tensor:
    """(B, H, 5) actions of the hiders of scenario ``sc``."""
    c, s = sc.config, sc.world.state
    h = c.num_hiders
    pos, vel, angle, spin = s.pos[:, :h], s.vel[:, :h], s.angle[:, :h], s.ang_vel[:, :h]
    room = sc.layout.room
    corner = torch.stack((room[:, 2] - 0.35, room[:, 3] - 0.35), dim=-1).unsqueeze(1)
    corner = corner + torch.tensor([[-0.35 * i, 0.0] for i in range(h)], device=sc.device)
    target = corner.expand_as(pos).clone()
    face = _facing(pos, torch.zeros_like(pos))
    grab = torch.zeros_like(angle, dtype=torch.long)
    lock = torch.zeros_like(grab)
    if block_doors:
        target, face, grab, lock = _block(sc, target, face, grab, lock)
    if c.map == "quadrant" and sc.layout.doors.shape[1]:  # a hider outside the room (quadrant_spawn "uniform")
        door, normal = _nearest_door(sc.layout, pos)
        in_room, way_in = _way_in(sc.layout, pos, door, normal, queue=False)
        come_in = ~in_room & (sc.grabs.target[:, :h] < 0)  # not while carrying a box through the door
        target = torch.where(come_in.unsqueeze(-1), way_in, target)
        face = torch.where(come_in, _facing(pos, way_in), face)
    force = _move(pos, vel, target)
    return torch.cat((force, _turn(angle, spin, face).unsqueeze(-1), grab.unsqueeze(-1), lock.unsqueeze(-1)), dim=-1)


def _block(sc, target, face, grab, lock):
    """Door-blocking plan for hiders that have a door and a box (see the module docstring).

    Carrying is exact kinematics: a held box sits at ``offset`` in the holder's frame, so to put it
    at ``goal`` with angle ``along`` the holder goes to ``goal - R(along - rel_angle) offset`` and turns
    to ``along - rel_angle`` (of the two box orientations along the wall, the nearer one).
    """
    c, s = sc.config, sc.world.state
    a, b = c.num_agents, sc.num_envs
    lay = sc.layout
    worlds = torch.arange(b, device=sc.device)
    door_rank = torch.cumsum(lay.door_mask.long(), dim=1) - 1  # which existing door each slot is
    for i in range(min(c.num_hiders, c.num_boxes, lay.doors.shape[1])):
        slot = ((door_rank == i) & lay.door_mask).long().argmax(dim=1)
        has_door = (lay.door_mask.sum(1) > i) & sc.present[:, i]
        door, normal = lay.doors[worlds, slot], lay.door_normal[worlds, slot]
        half = sc.box_half[i]
        goal = door + normal * (float(half[1]) + 0.08)  # box centre just inside the door
        along = torch.atan2(normal[:, 0], -normal[:, 1])  # the box's long axis along the wall
        box_pos, box_angle = s.pos[:, a + i], s.angle[:, a + i]
        me = s.pos[:, i]
        # Of the two box angles along the wall, the one that leaves the holder on the room side.
        offset, rel = sc.grabs.offset[:, i], sc.grabs.rel_angle[:, i]
        holder_side = -rotate(offset, -rel)[:, 1]  # the holder's y in the box frame
        room_side = (torch.stack((-torch.sin(along), torch.cos(along)), -1) * normal).sum(-1) * holder_side
        along = torch.where(room_side >= 0, along, along + math.pi)
        locked = sc.lock_team[:, i] == rules.HIDERS
        holding = sc.grabs.target[:, i] == a + i
        err = goal - box_pos
        wall_dir = perp(normal)
        slack = float(half[0]) - lay.door_width / 2 - 0.01  # how far off centre still covers the door
        if slack < 0.02:  # a box about as wide as the door: off centre by this much, it leaves CUBE_GAP open
            slack = max(float(half[0]) - (lay.door_width / 2 - lay.walls.half_thickness) + CUBE_GAP, 0.02)
        placed = ((err * wall_dir).sum(-1).abs() < slack) & ((err * normal).sum(-1).abs() < 0.1) \
            & (wrap_angle(2 * (box_angle - along)).abs() < 0.4)
        # Approach: the middle of the box's long face nearer the hider (the carry pose below turns the
        # box so that its holder ends up on the room side either way).
        side = torch.stack((-torch.sin(box_angle), torch.cos(box_angle)), dim=-1)
        towards = (side * (me - box_pos)).sum(-1, keepdim=True)
        approach = box_pos + side * torch.where(towards >= 0, 1.0, -1.0) * (float(half[1]) + 0.27)
        heading = along - rel
        # Line the box up in the room first (turning it next to the wall would jam it), then slide it in.
        lined_up = ((err * wall_dir).sum(-1).abs() < slack) & (wrap_angle(2 * (box_angle - along)).abs() < 0.4)
        box_goal = torch.where(lined_up.unsqueeze(-1), goal, goal + normal * 0.45)
        carry = box_goal - rotate(offset, heading)
        goal_me = torch.where(holding.unsqueeze(-1), carry, approach)
        my_face = torch.where(holding, heading, _facing(me, box_pos))
        in_position = (me - approach).norm(dim=-1) < 0.15  # grab from the side away from the door
        plan = has_door & ~locked
        target[:, i] = torch.where(plan.unsqueeze(-1), goal_me, target[:, i])
        face[:, i] = torch.where(plan, my_face, face[:, i])
        grab[:, i] = (plan & (holding | in_position) & ~placed).long()
        lock[:, i] = (plan & placed).long()
        if sc.config.lock_rule == "hold":  # a locker that stops pressing within reach releases: press until clear
            lock[:, i] |= (locked & ((me - box_pos).norm(dim=-1) < HOLD_CLEARANCE)).long()
    return target, face, grab, lock


RAMP_LOCK_RANGE = 0.8
"""How close (m, centre to centre) a hider on a ramp trip comes before it presses lock: within reach of the ramp
(its bounding radius, about 0.4 m, plus the agent's radius and ``grab_reach``)."""


def ramp_trip_actions(sc, hider: int) -> torch.Tensor:
    """(B, 5) actions of one hider that goes out of the room for the ramp, locks it and comes back in: ramp defense
    done by a script that knows where the ramp is (for measurement, ``examples/ramp_defense_value.py``; the scripted
    team does not use it).

    Stateless like the rest: while ramp 0 is not locked by the hiders the hider walks to the door of the room nearest
    the ramp, through it, round the room's outer corner if the ramp lies beyond it, and to the ramp, facing it (an
    agent locks what it sees), pressing lock within ``RAMP_LOCK_RANGE``; once it is locked it comes back in by that
    door (``_way_in``) and on into the room. Under ``lock_rule="hold"`` it keeps pressing until out of reach, as the
    door-blocking hiders do; under the toggle a second press would unlock the ramp, so it presses only while the
    ramp is free.
    """
    c, s, lay = sc.config, sc.world.state, sc.layout
    ramp = s.pos[:, c.num_agents + c.num_boxes].unsqueeze(1)  # (B, 1, 2)
    pos, vel = s.pos[:, hider:hider + 1], s.vel[:, hider:hider + 1]
    door, normal = _nearest_door(lay, ramp)
    room = lay.room.unsqueeze(1)
    in_room = ((pos >= room[..., :2]) & (pos <= room[..., 2:])).all(-1)
    locked = (sc.lock_team[:, c.num_boxes] == rules.HIDERS).unsqueeze(1)
    # Out: to the door from inside, then through it; outside, straight at the ramp unless the room is in the way.
    at_door = (pos - door).norm(dim=-1) < 0.45
    way_out = torch.where(at_door.unsqueeze(-1), door - normal * 0.45, door + normal * 0.3)
    cuts = torch.zeros_like(in_room)
    for f in (0.25, 0.5, 0.75):
        p = pos + (ramp - pos) * f
        cuts |= ((p >= room[..., :2] - 0.2) & (p <= room[..., 2:] + 0.2)).all(-1)
    to_ramp = torch.where(cuts.unsqueeze(-1), room[..., :2] - 0.4, ramp)
    going = torch.where(in_room.unsqueeze(-1), way_out, to_ramp)
    # Back: in by the same door, then on to the middle of the room.
    _, way_in = _way_in(lay, pos, door, normal, queue=False)
    back = torch.where(in_room.unsqueeze(-1), (room[..., :2] + room[..., 2:]) / 2, way_in)
    target = torch.where(locked.unsqueeze(-1), back, going)
    near = (pos - ramp).norm(dim=-1) < RAMP_LOCK_RANGE
    face = torch.where(near & ~locked, _facing(pos, ramp), _facing(pos, target))
    press = near & ~locked
    if c.lock_rule == "hold":  # a locker that stops pressing within reach releases: press until clear
        press |= locked & ((pos - ramp).norm(dim=-1) < HOLD_CLEARANCE)
    force = _move(pos, vel, target)
    turn = _turn(s.angle[:, hider:hider + 1], s.ang_vel[:, hider:hider + 1], face)
    return torch.cat((force, turn.unsqueeze(-1), torch.zeros_like(turn).unsqueeze(-1), press.long().unsqueeze(-1)),
                     dim=-1).squeeze(1)


def seeker_actions(sc, see_agents: torch.Tensor | None = None) -> torch.Tensor:
    """(B, S, 5) actions of the seekers of scenario ``sc``, who chase what ``see_agents`` (B, A, A) says they
    see (default: the scenario's visibility of this step)."""
    c, s = sc.config, sc.world.state
    h, a = c.num_hiders, c.num_agents
    pos, vel = s.pos[:, h:a], s.vel[:, h:a]
    angle, spin = s.angle[:, h:a], s.ang_vel[:, h:a]
    hiders = s.pos[:, :h]
    sees = (sc.see_agents if see_agents is None else see_agents)[:, h:a, :h]  # (B, S, H)
    dist = torch.where(sees, (hiders.unsqueeze(1) - pos.unsqueeze(2)).norm(dim=-1), torch.inf)
    chase = torch.gather(hiders, 1, dist.argmin(-1, keepdim=True).expand(-1, -1, 2))
    chasing = sees.any(-1)
    lay = sc.layout
    if lay.doors.shape[1]:
        door, normal = _nearest_door(lay, pos)
        room = lay.room.unsqueeze(1)  # (B, 1, 4)
        in_room, outside_goal = _way_in(lay, pos, door, normal, queue=True)
        # In the room: walk in and look towards its far corner, where hiders go.
        far_corner = room[..., 2:] - 0.3
        approach = torch.where(in_room.unsqueeze(-1), room[..., :2] * 0.5 + room[..., 2:] * 0.5, outside_goal)
        look = torch.where(in_room.unsqueeze(-1), far_corner, approach)
    else:
        approach = look = torch.zeros_like(pos)
    target = torch.where(chasing.unsqueeze(-1), chase, approach)
    face = _facing(pos, torch.where(chasing.unsqueeze(-1), chase, look))
    grab = torch.zeros_like(angle, dtype=torch.long)
    if lay.doors.shape[1] and c.num_ramps:
        blocked = _doors_blocked(sc, door)  # (B, S): a locked box sits in the seeker's door
        fetcher = torch.zeros_like(blocked)
        fetcher[:, -1] = True  # one seeker fetches the ramp (two carrying it would pull it apart)
        use_ramp = blocked & ~chasing & ~in_room & fetcher
        r_target, r_face, r_grab = _ramp_plan(sc, pos)
        target = torch.where(use_ramp.unsqueeze(-1), r_target, target)
        face = torch.where(use_ramp, r_face, face)
        grab = torch.where(use_ramp, r_grab, grab)
    force = _move(pos, vel, target)
    zeros = torch.zeros_like(angle, dtype=torch.long)
    return torch.stack((force[..., 0], force[..., 1], _turn(angle, spin, face), grab, zeros), dim=-1)


def _nearest_door(lay, pos: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The centre and inward normal (B, N, 2) of the door nearest to each of the agents at ``pos`` (B, N, 2)."""
    door_dist = torch.where(lay.door_mask.unsqueeze(1), (lay.doors.unsqueeze(1) - pos.unsqueeze(2)).norm(dim=-1),
                            torch.inf)
    idx = door_dist.argmin(-1).unsqueeze(-1).expand(-1, -1, 2)  # (B, N, 2)
    return torch.gather(lay.doors, 1, idx), torch.gather(lay.door_normal, 1, idx)


def _way_in(lay, pos: torch.Tensor, door: torch.Tensor, normal: torch.Tensor,
            queue: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, N) which agents are in the room, and (B, N, 2) where those outside walk next to get in by ``door``:
    in front of it, through it, and round the room's outer corner where a straight line would cut through the room.
    With ``queue`` an agent waits while a teammate listed before it is in the doorway (two jam it)."""
    room = lay.room.unsqueeze(1)  # (B, 1, 4)
    in_room = ((pos >= room[..., :2]) & (pos <= room[..., 2:])).all(-1)
    outside_door = door - normal * 0.45
    cuts = torch.zeros_like(in_room)
    for f in (0.25, 0.5, 0.75):
        p = pos + (outside_door - pos) * f
        cuts |= ((p >= room[..., :2] - 0.2) & (p <= room[..., 2:] + 0.2)).all(-1)
    corner = room[..., :2] - 0.4
    near = (pos - door).norm(dim=-1) < 0.6  # at the door: walk through it
    inside = door + normal * 0.8
    if queue:
        in_doorway = near & ~in_room
        ahead = torch.cumsum(in_doorway.long(), dim=1) - in_doorway.long() > 0
        inside = torch.where((ahead & near).unsqueeze(-1), outside_door - normal * 0.3, inside)
    return in_room, torch.where(cuts.unsqueeze(-1), corner, torch.where(near.unsqueeze(-1), inside, outside_door))


def _doors_blocked(sc, door: torch.Tensor) -> torch.Tensor:
    """(B, S): a box locked by the hiders lies within 0.5 m of each seeker's door (B, S, 2)."""
    a, k = sc.config.num_agents, sc.config.num_boxes
    boxes = sc.world.state.pos[:, a:a + k]  # (B, K, 2)
    near = (boxes.unsqueeze(1) - door.unsqueeze(2)).norm(dim=-1) < 0.5  # (B, S, K)
    locked = (sc.lock_team[:, :k] == rules.HIDERS).unsqueeze(1)
    return (near & locked).any(-1)


def _ramp_plan(sc, pos: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Fetch ramp 0, set it against the room wall facing the seekers, drive up it and over the wall.

    The ramp goes against the room wall without a door (or the middle of the longer solid part),
    rising towards the room. Stateless phases: carry the ramp there (grabbing it from its nearer long
    side), then walk to its foot, then drive up the slope; an elevated seeker keeps driving on.
    Returns target (B, S, 2), facing (B, S) and grab (B, S) for every seeker.
    """
    c, s, lay = sc.config, sc.world.state, sc.layout
    a = c.num_agents
    ramp = a + c.num_boxes
    hx, hy = (float(v) for v in sc.ramp_half[0])
    room = lay.room
    # The wall: slot 0 (x = room xmin) unless it has the only door; spot away from its door.
    use_vertical = ~lay.door_mask[:, 0] | lay.door_mask[:, 1]
    door0 = lay.doors[:, 0]
    span_v = torch.where(door0[:, 1] > (room[:, 1] + room[:, 3]) / 2, room[:, 1] + 0.5, room[:, 3] - 0.5)
    spot_v = torch.stack((room[:, 0], torch.where(lay.door_mask[:, 0], span_v, (room[:, 1] + room[:, 3]) / 2)), -1)
    spot_h = torch.stack(((room[:, 0] + room[:, 2]) / 2 + 0.3, room[:, 1]), -1)
    spot = torch.where(use_vertical.unsqueeze(-1), spot_v, spot_h)
    east, north = torch.tensor([[1.0, 0.0], [0.0, 1.0]], device=sc.device)
    normal = torch.where(use_vertical.unsqueeze(-1), east, north)
    up = torch.atan2(normal[:, 1], normal[:, 0])  # the ramp rises towards the room
    goal = spot - normal * (hx + WALL_GAP)
    ramp_pos, ramp_angle = s.pos[:, ramp], s.angle[:, ramp]
    holding = sc.grabs.target[:, c.num_hiders:a] == ramp  # (B, S)
    # Placed: tight while carrying, loose once let go (hysteresis, so the seeker does not regrab).
    error, turn = (goal - ramp_pos).norm(dim=-1), wrap_angle(ramp_angle - up).abs()
    placed = torch.where(holding.any(-1), (error < 0.15) & (turn < 0.3), (error < 0.3) & (turn < 0.5))
    side = torch.stack((-torch.sin(ramp_angle), torch.cos(ramp_angle)), -1).unsqueeze(1)
    towards = torch.where((side * (pos - ramp_pos.unsqueeze(1))).sum(-1, keepdim=True) >= 0, 1.0, -1.0)
    approach = ramp_pos.unsqueeze(1) + side * towards * (hy + 0.27)
    offset = sc.grabs.offset[:, c.num_hiders:a]
    rel = sc.grabs.rel_angle[:, c.num_hiders:a]
    heading = up.unsqueeze(1) - rel
    carry = goal.unsqueeze(1) - rotate(offset, heading)
    foot = (ramp_pos - normal * (hx + 0.25)).unsqueeze(1)
    at_foot = (pos - foot).norm(dim=-1) < 0.12
    climbing = sc.elevated[:, c.num_hiders:a] | (placed.unsqueeze(1) & at_foot)
    drive = pos + normal.unsqueeze(1)  # straight up the slope and over the wall
    target = torch.where(holding.unsqueeze(-1), carry, approach)
    target = torch.where(placed.unsqueeze(-1).unsqueeze(-1), foot.expand_as(pos), target)
    target = torch.where(climbing.unsqueeze(-1), drive, target)
    face = torch.where(holding, heading, _facing(pos, ramp_pos.unsqueeze(1).expand_as(pos)))
    face = torch.where(placed.unsqueeze(1) | climbing, up.unsqueeze(1).expand_as(face), face)
    in_position = (pos - approach).norm(dim=-1) < 0.15
    grab = ((holding | in_position) & ~placed.unsqueeze(1)).long()
    return target, face, grab


def heuristic_actions(sc, sensed=None, block_doors: bool = True) -> torch.Tensor:
    """(B, A, 5) scripted actions for both teams; the seekers act on ``sensed.see_agents`` (a ``Sensed`` of
    this step, as ``HideAndSeek.sense()`` returns) when given, else on the scenario's own visibility."""
    see_agents = None if sensed is None else sensed.see_agents
    return torch.cat((hider_actions(sc, block_doors), seeker_actions(sc, see_agents)), dim=1)
