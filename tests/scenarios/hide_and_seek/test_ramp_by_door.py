"""ramp_by_door: the ramp outside a door of the room, hider 0 in that doorway (the step of the ramp-defense curriculum
where the hider must go out to the ramp). Bad values are refused in test_ramp_near_door.py, with the other starts."""

import pytest
import torch

from marl_envs import evaluation_kwargs, make_batched
from marl_envs.scenarios.hide_and_seek import manipulation as rules
from marl_envs.scenarios.hide_and_seek.behaviour import room_doors
from marl_envs.scenarios.hide_and_seek.ramp_starts import BY_DOOR_DEPTH
from tests.scenarios.hide_and_seek.door_bands import (
    IDLE,
    door_rank,
    hider_in_doorway,
    in_room,
    ramp_in_band,
    ramp_index,
)
from tests.scenarios.hide_and_seek.test_ramp_near_door import _near_door
from tests.scenarios.hide_and_seek.test_ramp_starts import _assert_valid_start, _at_wall


def _by_door(sc) -> tuple[torch.Tensor, torch.Tensor]:
    """(B,) bool: ramp 0's centre lies outside the room in the band ``BY_DOOR_DEPTH`` deep in front of a door of the
    room and hider 0's in that door's doorway; and (B,) that door's rank."""
    both = ramp_in_band(sc, BY_DOOR_DEPTH) & hider_in_doorway(sc)
    return both.any(1), door_rank(sc, both)


@pytest.mark.parametrize("env_id", ["hide_and_seek_v1", "hide_and_seek_v2", "hide_and_seek_v3"])
def test_every_world_starts_with_the_ramp_outside_a_door_and_hider_0_in_that_doorway(env_id):
    b = 2048
    env = make_batched(env_id, num_envs=b, seed=4, ramp_by_door=1.0)
    env.reset(seed=4)
    sc = env.scenario
    by_door, rank = _by_door(sc)
    assert by_door.all()
    inside = in_room(sc)
    assert inside[:, 1].all() and not inside[:, ramp_index(sc)].any()
    # Hider 0 from a step outside to a step inside: both ends of the way out are drawn.
    assert 0.3 < inside[:, 0].float().mean().item() < 0.6
    # Nothing is faked: every behaviour figure is measured.
    assert not sc.ramp_start.any() and not sc.door_start.any()
    # Either door of a two-door room; any heading; the ramp at every depth of its band, not only the nearest.
    two = room_doors(sc.layout).sum(1) == 2
    assert 0.4 < (rank[two] == 1).float().mean().item() < 0.6
    assert sc.world.state.angle[:, ramp_index(sc)].cos().abs().std() > 0.2
    gap = (sc.world.state.pos[:, 0] - sc.world.state.pos[:, ramp_index(sc)]).norm(dim=-1)
    assert gap.max() > 1.6 and gap.min() < 1.0
    usual = torch.cat((torch.ones(b, sc.config.num_agents, dtype=torch.bool), sc.present), dim=1)
    usual[:, ramp_index(sc)] = False
    _assert_valid_start(sc, usual)


def test_the_hider_inside_can_go_out_lock_the_ramp_and_be_back_before_the_preparation_ends():
    """The start asks for something the preparation has time for: hider 0 walking to the door's inner side, out to
    the ramp, pressing lock until it holds, and back in through the door, is back in the room with the ramp locked
    (by the released game's rule, which keeps the lock while its locker presses or is out of reach) in nearly every
    world."""
    b = 512
    env = make_batched("hide_and_seek_v3", num_envs=b, seed=9, ramp_by_door=1.0, lock_rule="hold")
    env.reset(seed=9)
    sc = env.scenario
    i, k = ramp_index(sc), sc.config.num_boxes
    _, rank = _by_door(sc)
    pick = (room_doors(sc.layout).long().cumsum(1) - 1 == rank.unsqueeze(1)) & room_doors(sc.layout)
    door = sc.layout.doors[pick]  # (B, 2) the door behind which hider 0 starts
    normal = sc.layout.door_normal[pick]  # into the room
    inner, outer = door + 0.25 * normal, door - 0.35 * normal
    home = door + 0.6 * normal
    leg = torch.zeros(b, dtype=torch.long)  # 0 to the door, 1 out of it, 2 to the ramp, 3 out again, 4 in, 5 home
    for _ in range(sc.config.prep_steps):
        ramp = sc.world.state.pos[:, i]
        points = torch.stack((inner, outer, ramp, outer, inner, home), dim=1)
        target = points[torch.arange(b), leg]
        to = target - sc.world.state.pos[:, 0]
        far = to.norm(dim=-1, keepdim=True)
        sc.world.state.angle[:, 0] = torch.atan2(to[:, 1], to[:, 0])  # facing it: an agent locks what it sees
        sc.refresh()
        action = IDLE.expand(b, env.num_agents, 5).clone()
        action[:, 0, :2] = torch.where(far > 0.05, 5 + (5 * to / far.clamp_min(1e-6)).round().long(), 5)
        action[:, 0, 4] = (leg >= 2).long()  # "hold": a locker in reach that lets go unlocks it
        env.step(action)
        locked = sc.lock_team[:, k] == rules.HIDERS
        reached = (target - sc.world.state.pos[:, 0]).norm(dim=-1) < 0.15
        reached |= (leg == 1) & ((sc.world.state.pos[:, i] - sc.world.state.pos[:, 0]).norm(dim=-1) < 0.7)  # at it
        leg = torch.where(((leg == 2) & locked) | ((leg != 2) & (leg < 5) & reached), leg + 1, leg)
    locked = sc.lock_team[:, k] == rules.HIDERS
    assert locked.float().mean() > 0.95
    assert (in_room(sc)[:, 0] & locked).float().mean() > 0.9


def test_the_three_ramp_starts_share_one_draw():
    b = 4096
    env = make_batched("hide_and_seek_v2", num_envs=b, seed=5, ramp_at_wall=0.2, ramp_near_door=0.3, ramp_by_door=0.4)
    env.reset(seed=5)
    sc = env.scenario
    at_wall = _at_wall(sc)
    assert torch.equal(at_wall, sc.ramp_start)
    assert abs(at_wall.float().mean().item() - 0.2) < 0.03
    # Every world but the usual tenth has the ramp by a door, hider 0 within reach of it.
    near = (_near_door(sc)[0] | _by_door(sc)[0]) & ~at_wall
    assert abs(near.float().mean().item() - 0.7) < 0.04
    # Hider 0 starts in the room in the usual and ramp_at_wall worlds, never in ramp_near_door's, and in part of
    # ramp_by_door's.
    alone = make_batched("hide_and_seek_v2", num_envs=b, seed=5, ramp_by_door=1.0)
    alone.reset(seed=5)
    in_doorway = in_room(alone.scenario)[:, 0].float().mean().item()
    hider_in_room = in_room(sc)[:, 0].float().mean().item()
    assert abs(hider_in_room - (0.1 + 0.2 + 0.4 * in_doorway)) < 0.03, (hider_in_room, in_doorway)


def test_ramp_by_door_is_training_only():
    kwargs = {"ramp_by_door": 0.5, "ramp_near_door": 0.2, "max_cycles": 10}
    for env_id in ("hide_and_seek_v1", "hide_and_seek_v2", "hide_and_seek_v3"):
        assert evaluation_kwargs(env_id, kwargs) == ({"max_cycles": 10}, ["ramp_near_door", "ramp_by_door"])
