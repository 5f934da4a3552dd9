"""Each hide-and-seek rule in a hand-built scene: prep, grab, locks, ramps, vision, rewards, boundary."""

import contextlib
import math

import pytest
import torch

from marl_envs import make_batched
from marl_envs.physics import Walls
from marl_envs.scenarios.hide_and_seek import manipulation as rules
from marl_envs.scenarios.hide_and_seek.rewards import team_rewards

MID = 5


def scene(num_hiders=1, num_seekers=1, walls=None, prep_fraction=0.0, **kwargs):
    """A 1-world open map, bodies parked far apart, interior ``walls`` (list of segments) added."""
    env = make_batched("hide_and_seek_v1", num_envs=1, seed=0, map="open", num_hiders=num_hiders,
                       num_seekers=num_seekers, prep_fraction=prep_fraction, **kwargs)
    env.reset(seed=0)
    sc = env.scenario
    if walls:
        outer = [tuple(map(tuple, seg.tolist())) for seg in sc.layout.walls.world_segments(0)]
        sc.use_walls(Walls.from_segments([outer + walls], sc.layout.walls.half_thickness))
    n = sc.world.spec.num_bodies
    park = torch.tensor([[-1.7 + 0.5 * i, -1.7] for i in range(n)])
    place(env, park, torch.zeros(n))
    return env


def place(env, pos, angle):
    sc = env.scenario
    st = sc.world.state
    st.pos[0] = torch.as_tensor(pos, dtype=torch.float32)
    st.angle[0] = torch.as_tensor(angle, dtype=torch.float32)
    st.vel.zero_()
    st.ang_vel.zero_()
    sc.refresh()


def body(env, i, xy, angle=0.0):
    st = env.scenario.world.state
    st.pos[0, i] = torch.tensor(xy)
    st.angle[0, i] = angle
    env.scenario.refresh()


def act(env, **per_agent):
    """Actions (1, A, 5): each agent's entry as dict(fx=, fy=, turn=, grab=, lock=) in [-1, 1] / {0, 1}."""
    out = torch.full((1, env.num_agents, 5), MID)
    out[..., 3:] = 0
    for name, a in per_agent.items():
        i = env.agents.index(name)
        out[0, i, 0] = MID + round(5 * a.get("fx", 0.0))
        out[0, i, 1] = MID + round(5 * a.get("fy", 0.0))
        out[0, i, 2] = MID + round(5 * a.get("turn", 0.0))
        out[0, i, 3] = a.get("grab", 0)
        out[0, i, 4] = a.get("lock", 0)
    return out


def pos(env, i):
    return env.scenario.world.state.pos[0, i].clone()


# -- preparation phase -------------------------------------------------------------------


def test_prep_phase_freezes_seekers_and_zeroes_rewards():
    env = make_batched("hide_and_seek_v1", num_envs=4, seed=0)  # 80 steps, 32 of preparation
    env.reset(seed=0)
    sc = env.scenario
    full = torch.full((4, 4, 5), 10)
    full[..., 3:] = 1
    start = sc.world.state.pos[:, 2:4].clone()
    for t in range(1, 33):
        _, rew, *_ = env.step(full)
        assert (rew == 0).all(), f"step {t}"
        assert torch.equal(sc.world.state.pos[:, 2:4], start), f"seekers moved at step {t}"
    _, rew, *_ = env.step(full)
    assert (rew != 0).all()  # rewards start the step after the preparation phase
    assert not torch.equal(sc.world.state.pos[:, 2:4], start)  # seekers move


def test_prep_left_is_observed_and_counts_down():
    env = make_batched("hide_and_seek_v1", num_envs=1, seed=0, max_cycles=10)  # 4 preparation steps
    obs, _ = env.reset(seed=0)
    prep_col = env.obs_spec.slices()["self"].start + 7
    seen = [float(obs[0, 0, prep_col])]
    for _ in range(5):
        obs, *_ = env.step(torch.full((1, 4, 5), 0) + torch.tensor([5, 5, 5, 0, 0]))
        seen.append(float(obs[0, 0, prep_col]))
    assert seen == pytest.approx([1.0, 0.75, 0.5, 0.25, 0.0, 0.0])


# -- grab ----------------------------------------------------------------------------------


def test_grab_drags_the_object_and_release_frees_it():
    env = scene()
    box = env.num_agents  # first box
    body(env, 0, (0.8, 0.0), 0.0)  # hider faces +x
    body(env, box, (1.35, 0.0), math.pi / 2)  # elongated box across the heading: 0.25 from the agent's surface
    env.step(act(env, hider_0={"grab": 1}))
    assert int(env.scenario.grabs.target[0, 0]) == box
    for _ in range(8):
        env.step(act(env, hider_0={"fx": -1.0, "grab": 1}))
    agent_x, box_x = float(pos(env, 0)[0]), float(pos(env, box)[0])
    assert agent_x < 0.5 and box_x - agent_x == pytest.approx(0.55, abs=0.05)
    for _ in range(15):
        env.step(act(env, hider_0={"fx": -1.0}))
    assert int(env.scenario.grabs.target[0, 0]) == -1
    assert float(pos(env, box)[0]) - float(pos(env, 0)[0]) > 0.8  # the box stayed behind


def test_grab_needs_the_object_in_view_and_in_reach():
    env = scene()
    box = env.num_agents
    body(env, 0, (0.0, 0.0), math.pi)  # faces away from the box
    body(env, box, (0.6, 0.0))
    env.step(act(env, hider_0={"grab": 1}))
    assert int(env.scenario.grabs.target[0, 0]) == -1
    body(env, 0, (-0.6, 0.0), 0.0)  # faces it, but 0.45 - 0.15 = 0.3 + 0.3 away: out of reach
    body(env, box, (0.6, 0.0))
    env.step(act(env, hider_0={"grab": 1}))
    assert int(env.scenario.grabs.target[0, 0]) == -1


# -- locks ---------------------------------------------------------------------------------


def test_a_locked_object_resists_the_other_team_and_only_the_locking_team_unlocks_it():
    env = scene()
    box = env.num_agents + 1  # the square box (0.3 half)
    body(env, 0, (-0.55, 0.0), 0.0)
    body(env, 1, (0.55, 0.0), math.pi)
    body(env, box, (0.0, 0.0))
    env.step(act(env, hider_0={"lock": 1}))
    assert int(env.scenario.lock_team[0, 1]) == rules.HIDERS
    before = pos(env, box)
    for _ in range(20):
        env.step(act(env, seeker_0={"fx": -1.0}))
    assert torch.equal(pos(env, box), before)  # the seeker's push does not move it
    env.step(act(env, seeker_0={"lock": 1}))
    assert int(env.scenario.lock_team[0, 1]) == rules.HIDERS  # seekers cannot unlock it
    env.step(act(env, hider_0={"lock": 1}))
    assert int(env.scenario.lock_team[0, 1]) == rules.NO_TEAM  # its team can
    for _ in range(10):
        env.step(act(env, seeker_0={"fx": -1.0}))
    assert float(pos(env, box)[0]) < float(before[0]) - 0.1  # now it moves


def test_update_locks_truth_table():
    team = torch.tensor([0, 1])
    reach = torch.ones(1, 2, 1, dtype=torch.bool)
    dist = torch.zeros(1, 2, 1)
    cases = [  # (owner, hider presses, seeker presses) -> new owner
        (-1, 1, 0, 0), (-1, 0, 1, 1), (-1, 1, 1, 0), (0, 1, 0, -1), (0, 0, 1, 0), (1, 1, 0, 1), (1, 0, 1, -1),
        (-1, 0, 0, -1),
    ]
    for owner, h, s, expected in cases:
        new = rules.update_locks(torch.tensor([[owner]]), torch.tensor([[bool(h), bool(s)]]), reach, dist, team)
        assert int(new) == expected, (owner, h, s)


def test_update_held_locks_truth_table():
    team = torch.tensor([0, 1])  # agent 0 a hider, agent 1 a seeker
    reach = torch.ones(1, 2, 1, dtype=torch.bool)
    dist = torch.zeros(1, 2, 1)
    cases = [  # (owner, locker, hider presses, seeker presses, locker near) -> (new owner, new locker)
        ((-1, -1, 1, 0, 1), (0, 0)), ((-1, -1, 0, 1, 1), (1, 1)), ((-1, -1, 1, 1, 1), (0, 0)),
        ((-1, -1, 0, 0, 1), (-1, -1)),
        ((0, 0, 1, 0, 1), (0, 0)),  # pressing again keeps the lock (the toggle would undo it)
        ((0, 0, 0, 0, 1), (-1, -1)),  # the locker within reach, not pressing: released
        ((0, 0, 0, 0, 0), (0, 0)),  # the locker out of reach: it stays locked
        ((0, 0, 0, 1, 1), (1, 1)),  # released while a seeker presses on it: the seeker's lock
        ((0, 0, 1, 1, 1), (0, 0)),  # the seekers cannot take or undo it
        ((0, -1, 0, 0, 1), (0, -1)),  # locked with no locker (by hand): nobody releases it
    ]
    for (owner, locker, h, s, near), expected in cases:
        new_team, new_locker = rules.update_held_locks(
            torch.tensor([[owner]]), torch.tensor([[locker]]), torch.tensor([[bool(h), bool(s)]]), reach,
            torch.full((1, 2, 1), bool(near)), dist, team)
        assert (int(new_team), int(new_locker)) == expected, (owner, locker, h, s, near)


def test_a_held_lock_stays_while_its_locker_walks_away_and_only_the_locker_releases_it():
    env = scene(num_hiders=2, lock_rule="hold")  # hider_0, hider_1, seeker_0
    sc = env.scenario
    box = env.num_agents + 1  # the square box (0.3 half)
    body(env, 0, (-0.55, 0.0), 0.0)
    body(env, 1, (0.0, 0.55), -math.pi / 2)
    body(env, box, (0.0, 0.0))
    env.step(act(env, hider_0={"lock": 1}))
    assert (int(sc.lock_team[0, 1]), int(sc.locker[0, 1])) == (rules.HIDERS, 0)
    env.step(act(env, hider_0={"lock": 1}))
    assert int(sc.lock_team[0, 1]) == rules.HIDERS  # a second press keeps it
    for _ in range(6):  # walk west, pressing until out of reach
        env.step(act(env, hider_0={"fx": -1.0, "lock": 1}))
    assert float(pos(env, 0)[0]) < -0.3 - 0.15 - 0.3 - 0.05  # beyond reach of the box
    for _ in range(3):
        env.step(act(env))  # nobody presses; hider_1 stands within reach of it
    assert (int(sc.lock_team[0, 1]), int(sc.locker[0, 1])) == (rules.HIDERS, 0)
    body(env, 0, (-0.55, 0.0), 0.0)  # the locker back within reach, not pressing: released
    env.step(act(env))
    assert (int(sc.lock_team[0, 1]), int(sc.locker[0, 1])) == (rules.NO_TEAM, -1)


def test_a_reset_clears_the_lockers():
    env = make_batched("hide_and_seek_v2", num_envs=2, seed=0, lock_rule="hold")
    env.reset(seed=0)
    env.scenario.locker.fill_(0)
    env.scenario.lock_team.fill_(rules.HIDERS)
    env.reset(seed=1)
    assert (env.scenario.locker == -1).all() and (env.scenario.lock_team == rules.NO_TEAM).all()


def test_lock_rule_is_checked():
    with pytest.raises(ValueError, match="lock_rule"):
        make_batched("hide_and_seek_v2", num_envs=1, lock_rule="latch")


# -- ramps -------------------------------------------------------------------------------------

WALL = [((0.0, -1.95), (0.0, 1.95))]


def drive_east(env, steps=40):
    for _ in range(steps):
        env.step(act(env, seeker_0={"fx": 1.0}))


def test_a_seeker_on_a_ramp_against_a_wall_crosses_it():
    env = scene(walls=WALL)
    sc = env.scenario
    ramp = sc.world.spec.num_bodies - 1
    body(env, 1, (-1.2, 0.0), 0.0)
    body(env, ramp, (-0.05 - 0.35, 0.0), 0.0)  # high end against the wall's face
    drive_east(env)
    assert float(pos(env, 1)[0]) > 0.2  # over the wall, on the far side
    assert not bool(sc.elevated[0, 1])  # and back on the ground


def test_a_ramp_against_the_fence_does_not_carry_the_seeker_out():
    """The fence (walls 0-3) holds elevated agents too: a ramp carries over interior walls only."""
    env = scene()
    sc = env.scenario
    ramp = sc.world.spec.num_bodies - 1
    fence = sc.config.half_size
    body(env, 1, (fence - 1.2, 0.0), 0.0)
    body(env, ramp, (fence - 0.05 - 0.35, 0.0), 0.0)  # high end against the fence's face
    for _ in range(40):
        env.step(act(env, seeker_0={"fx": 1.0}))
        assert float(pos(env, 1)[0]) < fence - 0.05 - 0.15 + 0.02  # held at the fence's face, to the slop
    assert bool(sc.elevated[0, 1])  # it did climb: on the ramp, at the fence


def test_without_a_ramp_the_wall_stops_the_seeker():
    env = scene(walls=WALL)
    body(env, 1, (-1.2, 0.0), 0.0)
    drive_east(env)
    assert float(pos(env, 1)[0]) < -0.15


def test_a_ramp_away_from_the_wall_does_not_carry_the_seeker_over():
    env = scene(walls=WALL)
    ramp = env.scenario.world.spec.num_bodies - 1
    body(env, 1, (-1.6, 0.0), 0.0)
    body(env, ramp, (-1.0, 0.0), 0.0)  # 0.6 m short of the wall
    env.scenario.lock_team[0, -1] = rules.HIDERS  # locked, so driving up it cannot push it to the wall
    drive_east(env)
    assert float(pos(env, ramp)[0]) == pytest.approx(-1.0)
    assert float(pos(env, 1)[0]) < -0.15


def test_the_side_of_a_ramp_blocks_like_a_box():
    env = scene()
    ramp = env.scenario.world.spec.num_bodies - 1
    body(env, ramp, (0.0, 0.0), math.pi / 2)  # rises towards +y: its side faces the seeker
    body(env, 1, (-0.6, 0.0), 0.0)
    for _ in range(5):
        env.step(act(env, seeker_0={"fx": 1.0}))
    assert not bool(env.scenario.elevated[0, 1])


# -- vision ------------------------------------------------------------------------------------


def sees(env, viewer=1, target=0):
    env.scenario.refresh()
    return bool(env.scenario.see_agents[0, viewer, target])


@pytest.mark.parametrize("bearing_deg, expected", [(0, True), (60, True), (-60, True), (80, False), (180, False)])
def test_vision_cone(bearing_deg, expected):
    env = scene()
    body(env, 1, (0.0, 0.0), 0.0)
    b = math.radians(bearing_deg)
    body(env, 0, (1.0 * math.cos(b), 1.0 * math.sin(b)))
    assert sees(env) is expected


def test_vision_is_blocked_by_a_wall_and_by_a_box_but_not_from_a_ramp_top():
    env = scene(walls=WALL)
    body(env, 1, (-1.0, 0.0), 0.0)
    body(env, 0, (1.0, 0.0))
    assert not sees(env)  # wall in between
    env.scenario.elevated[0, 1] = True
    assert sees(env)  # seen over the wall from a ramp
    env2 = scene()
    body(env2, 1, (-1.0, 0.0), 0.0)
    body(env2, 0, (1.0, 0.0))
    assert sees(env2)
    body(env2, env2.num_agents + 1, (0.0, 0.0))  # square box between them
    assert not sees(env2)
    body(env2, 0, (1.0, 1.0))  # out from behind the box
    assert sees(env2)


@pytest.mark.parametrize("native", [True, False])
def test_the_rim_rule_sees_a_hider_whose_centre_a_box_hides(native):
    """Seeker at (-1, 0) facing +x, a 0.64 m box at the origin: its shadow's upper edge has slope 0.47.
    A hider at (1, 0.85) has its centre in the shadow (slope 0.425) and its top rim point out of it (0.49)."""
    from marl_envs.physics import accel

    def seen_at(y, rim_points):
        env = scene(sight_rim_points=rim_points)
        body(env, 1, (-1.0, 0.0), 0.0)
        body(env, env.num_agents + 1, (0.0, 0.0))  # the square box
        body(env, 0, (1.0, y))
        return sees(env)

    with contextlib.nullcontext() if native else accel.disabled():
        assert [seen_at(0.85, 0), seen_at(0.85, 8)] == [False, True]  # partly covered: seen by its rim only
        assert [seen_at(0.0, 0), seen_at(0.0, 8)] == [False, False]  # wholly covered: hidden either way
        assert [seen_at(1.2, 0), seen_at(1.2, 8)] == [True, True]  # in the open


@pytest.mark.parametrize("native", [True, False])
def test_the_rim_rule_scores_a_partly_covered_hider_as_seen(native):
    from marl_envs.physics import accel

    with contextlib.nullcontext() if native else accel.disabled():
        env = scene(sight_rim_points=8)
        body(env, 1, (-1.0, 0.0), 0.0)
        body(env, env.num_agents + 1, (0.0, 0.0))
        body(env, 0, (1.0, 0.85))
        _, reward, *_ = env.step(act(env))
    assert reward[0].tolist() == [-1.0, 1.0]  # the hider is seen, so the seekers score


def test_with_a_short_see_over_reach_an_elevated_seeker_sees_over_near_walls_and_boxes_only():
    """Reach 0.5: walls and boxes in the first half of the sight line from the elevated seeker do not hide (on both
    compute paths: the module's ``compute_path`` fixture)."""

    def seen(reach, seeker, hider, box=None):
        env = scene(walls=WALL, see_over_reach=reach)
        body(env, 1, seeker, 0.0)
        body(env, 0, hider)
        if box is not None:
            body(env, env.num_agents + 1, box)  # the square box, 0.64 m
        env.scenario.elevated[0, 1] = True
        return sees(env)

    assert [seen(1.0, (-0.3, 0.0), (1.5, 0.6)), seen(0.5, (-0.3, 0.0), (1.5, 0.6))] == [True, True]  # at the wall
    assert [seen(1.0, (-1.5, 0.0), (0.5, 0.3)), seen(0.5, (-1.5, 0.0), (0.5, 0.3))] == [True, False]  # far
    # a box right in front of the hider, the seeker across the room from it (no wall in between)
    assert [seen(1.0, (0.2, 0.0), (1.7, 0.0), (1.2, 0.0)), seen(0.5, (0.2, 0.0), (1.7, 0.0), (1.2, 0.0))] == [
        True, False]
    assert seen(0.5, (0.2, 0.0), (1.7, 0.9), (1.2, 0.0))  # out from behind the box


def test_with_a_short_see_over_reach_a_hider_on_a_ramp_is_seen_over_the_wall_next_to_it():
    env = scene(walls=WALL, see_over_reach=0.5)
    body(env, 1, (-1.5, 0.0), 0.0)
    body(env, 0, (0.3, 0.0))
    assert not sees(env)
    env.scenario.elevated[0, 0] = True  # the hider, raised next to the wall: seen over it from the ground
    assert sees(env)
    body(env, 0, (1.8, 0.0))  # raised far from the wall: the wall is in the seeker's half of the line
    assert not sees(env)


@pytest.mark.parametrize(("reach", "rewards"), [(1.0, [-1.0, 1.0]), (0.5, [1.0, -1.0])])
def test_the_see_over_reach_decides_the_rewards(reach, rewards):
    """A seeker standing on a ramp 1.5 m from the wall, the hider 0.5 m behind it: seen over the wall from
    anywhere (reach 1), hidden under reach 0.5."""
    env = scene(walls=WALL, see_over_reach=reach)
    ramp = env.scenario.world.spec.num_bodies - 1
    body(env, ramp, (-1.5, 0.0), 0.0)
    body(env, 1, (-1.5, 0.0), 0.0)
    body(env, 0, (0.5, 0.3))
    env.scenario.elevated[0, 1] = True
    _, reward, *_ = env.step(act(env))
    assert bool(env.scenario.elevated[0, 1])  # still on the ramp after the step
    assert reward[0].tolist() == rewards


@pytest.mark.parametrize("reach", [0.0, -0.1, 1.01, True])
def test_see_over_reach_out_of_range_is_refused(reach):
    with pytest.raises(ValueError, match="see_over_reach"):
        make_batched("hide_and_seek_v1", num_envs=1, see_over_reach=reach)


@pytest.mark.parametrize("rim_points", [1, 3, 17, True])
def test_sight_rim_points_out_of_range_is_refused(rim_points):
    with pytest.raises(ValueError, match="sight_rim_points"):
        make_batched("hide_and_seek_v1", num_envs=1, sight_rim_points=rim_points)


def test_unseen_entities_are_masked_in_the_observation():
    env = scene(walls=WALL)
    body(env, 1, (-1.0, 0.0), 0.0)
    body(env, 0, (1.0, 0.0))
    obs = env.scenario.observe(env.scenario.sense())
    s = env.obs_spec.slices()
    seeker = obs[0, 1]
    assert float(seeker[s["agents_mask"]][0]) == 0.0 and (seeker[s["agents"]][:8] == 0).all()
    state = env.state()[0]
    assert float(state[0]) == pytest.approx(1.0)  # state() still sees the hider


# -- rewards -------------------------------------------------------------------------------------


def test_reward_table_in_each_mode():
    # 2 hiders x 2 seekers; hider 0 seen by seeker 1 only.
    seen = torch.tensor([[[False, True], [False, False]]])
    assert team_rewards(seen, "selfish").tolist() == [[-1.0, 1.0, -1.0, 1.0]]
    assert team_rewards(seen, "joint_mean").tolist() == [[0.0, 0.0, 0.0, 0.0]]
    assert team_rewards(seen, "joint_zero_sum").tolist() == [[-1.0, -1.0, 1.0, 1.0]]
    hidden = torch.zeros(1, 2, 2, dtype=torch.bool)
    for mode in ("selfish", "joint_mean", "joint_zero_sum"):
        assert team_rewards(hidden, mode).tolist() == [[1.0, 1.0, -1.0, -1.0]]


def test_seen_hider_gives_seekers_the_point_through_the_env():
    env = scene()
    body(env, 1, (0.0, 0.0), 0.0)
    body(env, 0, (1.0, 0.0))
    _, rew, *_ = env.step(act(env))
    assert rew[0].tolist() == [-1.0, 1.0]
    body(env, 0, (-1.0, 0.0))  # behind the seeker
    _, rew, *_ = env.step(act(env))
    assert rew[0].tolist() == [1.0, -1.0]


def test_leaving_the_play_area_costs_ten_per_step():
    env = scene()
    body(env, 1, (0.0, 0.0), math.pi)  # the seeker looks away: nobody is seen
    body(env, 0, (2.4, 1.0))  # beyond the outer wall (as after a ramp climb)
    _, rew, *_ = env.step(act(env))
    assert rew[0].tolist() == [1.0 - 10.0, -1.0]
    body(env, 0, (1.0, 1.0))
    _, rew, *_ = env.step(act(env))
    assert rew[0].tolist() == [1.0, -1.0]


@pytest.mark.parametrize("reach", [1.0, 0.5])
def test_a_seeker_that_climbed_a_ramp_sees_over_the_wall(reach):
    env = scene(walls=WALL, see_over_reach=reach)  # the ramp is at the wall: within any reach
    sc = env.scenario
    ramp = sc.world.spec.num_bodies - 1
    body(env, 1, (-1.2, 0.0), 0.0)
    body(env, ramp, (-0.05 - 0.35, 0.0), 0.0)
    body(env, 0, (1.2, 0.6))  # behind the wall
    assert not sees(env)
    seen_while_up = []
    for _ in range(30):
        env.step(act(env, seeker_0={"fx": 0.6}))
        if bool(sc.elevated[0, 1]) and float(pos(env, 1)[0]) < -0.1:
            seen_while_up.append(bool(sc.see_agents[0, 1, 0]))
    assert seen_while_up and all(seen_while_up)  # on the ramp, before crossing, it sees the hider


@pytest.mark.parametrize(("map_name", "kwargs"), [("quadrant", {}), ("random_rooms", {}), ("open", {}),
                                                  ("quadrant", {"num_elongated_boxes": 0, "box_size": 0.5}),
                                                  ("random_rooms", {"box_size": 0.66})])
def test_reset_spawns_nothing_overlapping(map_name, kwargs):
    from tests.scenarios.hide_and_seek.spawn_rule import assert_spawned_apart

    env = make_batched("hide_and_seek_v1", num_envs=256, seed=1, map=map_name, **kwargs)
    env.reset(seed=1)
    sc = env.scenario
    st = sc.world.state
    present = torch.cat((torch.ones(256, env.num_agents, dtype=torch.bool), sc.present), dim=1)
    assert_spawned_apart(sc, present)
    assert (st.pos[present].abs() < sc.config.half_size).all()  # present bodies start in the play area


@pytest.mark.parametrize(("kwargs", "elongated"), [({}, [True, False]), ({"num_elongated_boxes": 0}, [False, False]),
                                                  ({"map": "random_rooms", "num_elongated_boxes": 2},
                                                   [True, False, True, False, False, False, False, False, False])])
def test_num_elongated_boxes_picks_which_boxes_are_long(kwargs, elongated):
    env = make_batched("hide_and_seek_v1", num_envs=64, seed=3, **kwargs)
    env.reset(seed=3)
    half = env.scenario.box_half
    assert [bool(h[0] > h[1]) for h in half] == elongated  # long boxes are 0.9 x 0.3, square ones 0.64 x 0.64
    assert torch.allclose(half[~torch.tensor(elongated)], torch.tensor(0.32))


def test_box_size_scales_every_box_and_keeps_the_long_ones_proportions():
    env = make_batched("hide_and_seek_v1", num_envs=8, seed=0, box_size=0.5)
    half = env.scenario.box_half
    assert torch.allclose(half[1], torch.tensor([0.25, 0.25]))
    assert torch.allclose(half[0], torch.tensor([0.45, 0.15]) * 0.5 / 0.64)
    with pytest.raises(ValueError, match="box_size"):
        make_batched("hide_and_seek_v1", num_envs=2, box_size=0.7)


def test_num_elongated_boxes_out_of_range_is_refused():
    with pytest.raises(ValueError, match="num_elongated_boxes must be an int in \\[0, 1\\]"):
        make_batched("hide_and_seek_v1", num_envs=2, num_elongated_boxes=2)


def test_quadrant_hiders_and_boxes_start_in_the_room_seekers_and_ramp_outside():
    env = make_batched("hide_and_seek_v1", num_envs=128, seed=2)
    env.reset(seed=2)
    sc = env.scenario
    room = sc.layout.room.unsqueeze(1)
    inside = ((sc.world.state.pos >= room[..., :2]) & (sc.world.state.pos <= room[..., 2:])).all(-1)  # (B, N)
    assert inside[:, [0, 1, 4, 5]].all()  # hiders, boxes
    assert not inside[:, [2, 3, 6]].any()  # seekers, ramp


# -- rendering: the drawn vision cone stops where sight is blocked ----------------------------------


def test_drawn_cone_stops_at_a_wall_and_reaches_over_it_from_a_ramp():
    from marl_envs.scenarios.hide_and_seek.overlays import CONE_RANGE, CONE_SAMPLES

    env = scene(walls=[((0.5, -1.0), (0.5, 1.0))])  # a wall 0.5 m ahead of the hider, across its cone
    body(env, 0, (0.0, 0.0), 0.0)
    reach = torch.tensor(env.scenario.render_extras(0)["cone_reach"])
    assert reach.shape == (2, CONE_SAMPLES)
    ht = env.scenario.layout.walls.half_thickness
    half = env.scenario.half_angle
    angles = torch.linspace(-half, half, CONE_SAMPLES)
    expected = ((0.5 - ht) / angles.cos()).clamp_max(CONE_RANGE)  # the wall's near face along each direction
    torch.testing.assert_close(reach[0], expected, atol=1e-4, rtol=0)
    env.scenario.elevated[0, 0] = True  # on a ramp it sees over walls: the whole cone is drawn
    assert env.scenario.render_extras(0)["cone_reach"][0] == [CONE_RANGE] * CONE_SAMPLES


@pytest.mark.parametrize("map_name", ["quadrant", "open"])
def test_a_world_without_boxes_or_ramps_plays(map_name):
    """num_boxes=0 and num_ramps=0 are valid arguments: grab and lock find nothing to act on, and every output
    stays finite (the start regions and both manipulation rules once failed on an empty object list)."""
    env = make_batched("hide_and_seek_v1", num_envs=3, seed=0, map=map_name, num_boxes=0, num_ramps=0)
    obs, _ = env.reset(seed=0)
    generator = torch.Generator().manual_seed(0)
    nvec = torch.tensor(env.action_spec.nvec)
    start = env.scenario.world.state.pos.clone()
    for _ in range(12):
        actions = (torch.rand(3, env.num_agents, 5, generator=generator) * nvec).long()
        actions[..., 3:] = 1  # grab and lock held
        obs, reward, *_ = env.step(actions)
        assert torch.isfinite(obs).all() and torch.isfinite(reward).all()
    assert env.scenario.world.state.pos.shape[1] == env.num_agents
    assert not torch.equal(env.scenario.world.state.pos, start)
