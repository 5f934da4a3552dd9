"""Hide-and-seek's behaviour figures (info["behaviour"]) in hand-built scenes, and the stage they show."""

import math
import pickle

import pytest
import torch

from marl_envs import hide_and_seek_v1, make_batched
from marl_envs.scenarios.hide_and_seek import behaviour as bh
from marl_envs.scenarios.hide_and_seek import layout as maps
from marl_envs.scenarios.hide_and_seek import manipulation as rules
from marl_envs.scenarios.hide_and_seek.heuristic import heuristic_actions
from tests.scenarios.hide_and_seek.test_rules import WALL, act, body, drive_east, scene

IDLE = (5, 5, 5, 0, 0)


def idle(env):
    return torch.tensor(IDLE).expand(env.num_envs, env.num_agents, 5)


def anchor(env):
    """Start the episode's figures from the hand-placed scene."""
    env.scenario.behaviour_tracker.reset(None, env.scenario)


def figures(env, world=0):
    return {name: float(value[world]) for name, value in env.scenario.behaviour().items()}


# -- doors --------------------------------------------------------------------------------


def two_door_room(max_cycles=10, prep_fraction=0.2):
    """One quadrant world with doors at (0, 1) (normal +x) and (1, 0) (normal +y); 2 preparation steps."""
    env = make_batched("hide_and_seek_v1", num_envs=1, seed=0, max_cycles=max_cycles, prep_fraction=prep_fraction)
    env.reset(seed=0)
    sc = env.scenario
    sc.layout = maps.from_uniforms("quadrant", torch.tensor([[0.9, 0.5, 0.5]]), 2.0, 0.05, 0.5)
    sc.use_walls(sc.layout.walls)
    # Hiders in the room, seekers and the ramp outside, boxes parked in the room's far side.
    for i, xy in enumerate([(0.6, 1.7), (1.0, 1.7), (-1.0, -1.0), (-1.5, -1.0), (1.4, 0.9), (1.5, 1.6), (-1.0, 1.0)]):
        body(env, i, xy)
    return env


def lock_for(env, obj, team=rules.HIDERS):
    env.scenario.lock_team[0, obj] = team


ACROSS_DOOR_0 = ((0.23, 1.0), math.pi / 2)  # elongated box, long side along the wall, just inside the door
BESIDE_DOOR_1 = ((1.6, 0.4), 0.0)  # square box against the wall, next to the gap
ACROSS_DOOR_1 = ((1.0, 0.4), 0.0)


def test_the_two_door_room_is_as_built():
    lay = two_door_room().scenario.layout
    assert lay.door_mask.tolist() == [[True, True]]
    torch.testing.assert_close(lay.doors[0], torch.tensor([[0.0, 1.0], [1.0, 0.0]]))
    assert bh.room_doors(lay).tolist() == [[True, True]]


def blocked(env):
    sc, a = env.scenario, env.num_agents
    s = sc.world.state
    blockers = (sc.lock_team[:, :2] == rules.HIDERS) & sc.present[:, :2]
    return bh.doors_blocked(sc.layout, s.pos[:, a:a + 2], s.angle[:, a:a + 2], sc.box_half, blockers, 0.3)[0].tolist()


def test_a_hider_locked_box_across_the_gap_blocks_the_door_and_one_beside_it_does_not():
    env = two_door_room()
    body(env, 4, *ACROSS_DOOR_0)
    body(env, 5, *BESIDE_DOOR_1)
    assert blocked(env) == [False, False]  # unlocked boxes block nothing
    lock_for(env, 0)
    lock_for(env, 1)
    assert blocked(env) == [True, False]
    lock_for(env, 0, rules.SEEKERS)
    assert blocked(env) == [False, False]  # only the hiders' locks count


@pytest.mark.parametrize(("xy", "angle", "expected"), [
    ((0.0, 1.0), math.pi / 2, True),  # in the doorway itself
    ((-0.23, 1.0), math.pi / 2, True),  # outside, against the wall
    ((0.23, 1.6), math.pi / 2, False),  # along the wall, off the gap: 0.35 of the 0.4 opening free
    ((0.23, 1.45), math.pi / 2, True),  # 0.2 free: narrower than an agent
    ((0.8, 1.0), math.pi / 2, False),  # across the gap but far into the room: the seekers walk in around it
    ((0.3, 1.0), 0.0, True),  # end-on in the doorway: the gaps either side are too narrow
])
def test_a_box_blocks_a_door_only_where_an_agent_cannot_pass(xy, angle, expected):
    env = two_door_room()
    body(env, 4, xy, angle)
    lock_for(env, 0)
    assert blocked(env)[0] is expected


def test_doors_blocked_at_the_end_of_the_preparation():
    env = two_door_room()
    body(env, 4, *ACROSS_DOOR_0)
    body(env, 5, *BESIDE_DOOR_1)
    lock_for(env, 0)
    lock_for(env, 1)
    anchor(env)
    env.step(idle(env))
    assert figures(env)["doors_blocked_prep"] == 0.0  # 0 until the preparation ends
    env.step(idle(env))
    f = figures(env)
    assert (f["doors_blocked_prep"], f["all_doors_blocked_prep"]) == (0.5, 0.0)
    assert f["box_locked_hiders_prep"] == 1.0 and f["boxes_locked_prep"] == 2.0

    env = two_door_room()
    body(env, 4, *ACROSS_DOOR_0)
    body(env, 5, *ACROSS_DOOR_1)
    lock_for(env, 0)
    lock_for(env, 1)
    anchor(env)
    for _ in range(2):
        env.step(idle(env))
    lock_for(env, 1, rules.NO_TEAM)  # after the preparation: the figure stays what it was
    env.step(idle(env))
    f = figures(env)
    assert (f["doors_blocked_prep"], f["all_doors_blocked_prep"]) == (1.0, 1.0)
    assert f["boxes_locked"] == 1.0


def test_the_ramp_locked_or_in_the_room_at_the_end_of_the_preparation():
    env = two_door_room()
    anchor(env)
    body(env, 6, (0.5, 0.4))  # pulled into the room
    for _ in range(2):
        env.step(idle(env))
    f = figures(env)
    assert (f["ramp_in_room_prep"], f["ramp_secured_prep"], f["ramp_locked_hiders_prep"]) == (1.0, 1.0, 0.0)
    env = two_door_room()
    anchor(env)
    lock_for(env, 2)
    for _ in range(2):
        env.step(idle(env))
    f = figures(env)
    assert (f["ramp_in_room_prep"], f["ramp_secured_prep"], f["ramp_locked_hiders_prep"]) == (0.0, 1.0, 1.0)
    assert f["ramps_locked_prep"] == 1.0


def test_a_ramp_that_started_in_the_room_is_not_counted_as_kept_from_the_seekers():
    """quadrant_spawn "uniform" can start the ramp in the room: staying there, or being locked there, is not
    ramp defense, so the figures of the ramp in the room are not measured (NaN) in such a game; the boxes' are."""
    env = two_door_room()
    body(env, 6, (0.5, 0.4))  # starts in the room
    anchor(env)
    lock_for(env, 2)
    lock_for(env, 0)
    for _ in range(2):
        env.step(idle(env))
    f = figures(env)
    assert math.isnan(f["ramp_in_room_prep"]) and math.isnan(f["ramp_secured_prep"])
    assert f["ramp_locked_hiders_prep"] == 1.0 and f["box_locked_hiders_prep"] == 0.5
    # A world with no ramp at all keeps reporting 0, as before.
    env = make_batched("hide_and_seek_v1", num_envs=1, seed=0, max_cycles=10, prep_fraction=0.2, num_ramps=0)
    env.reset(seed=0)
    for _ in range(2):
        env.step(idle(env))
    assert (figures(env)["ramp_in_room_prep"], figures(env)["ramp_secured_prep"]) == (0.0, 0.0)


# -- objects, phases ------------------------------------------------------------------------


def test_displacement_and_locks_separate_the_preparation_from_the_rest():
    env = two_door_room()
    anchor(env)
    body(env, 4, (1.1, 0.9))  # box 0 moves 0.3 during the preparation and is locked
    lock_for(env, 0)
    for _ in range(2):
        env.step(idle(env))
    body(env, 4, (0.6, 0.9))  # a locked box moved by hand: 0.8 from its start
    body(env, 6, (-1.0, 0.6))  # the ramp moves 0.4 after the preparation
    lock_for(env, 1, rules.SEEKERS)
    env.step(idle(env))
    f = figures(env)
    assert f["max_box_move_prep"] == pytest.approx(0.3, abs=1e-4)
    assert f["box_travel_prep"] == pytest.approx(0.15, abs=1e-4)  # mean over the two boxes
    assert (f["max_ramp_move_prep"], f["ramp_travel_prep"]) == (0.0, 0.0)
    assert f["max_box_move"] == pytest.approx(0.8, abs=1e-4)
    assert f["max_ramp_move"] == pytest.approx(0.4, abs=1e-4)
    assert (f["boxes_locked_prep"], f["boxes_locked"]) == (1.0, 2.0)
    assert (f["box_locked_hiders_prep"], f["box_locked_seekers"]) == (0.5, 0.5)


def test_grabbed_objects_per_kind():
    env = scene()
    box = env.num_agents
    body(env, 0, (0.8, 0.0), 0.0)
    body(env, box, (1.35, 0.0), math.pi / 2)
    anchor(env)
    env.step(act(env, hider_0={"grab": 1}))
    f = figures(env)
    assert (f["box_grabbed"], f["ramp_grabbed"]) == (0.5, 0.0)
    env.step(act(env))  # released: grabbed at some point still counts
    assert figures(env)["box_grabbed"] == 0.5


def test_hidden_fraction_counts_seeking_steps_without_a_hider_seen():
    env = scene(max_cycles=10, prep_fraction=0.2)  # 2 preparation steps, 8 seeking steps
    body(env, 1, (0.0, 0.0), 0.0)  # the seeker faces the hider
    body(env, 0, (1.0, 0.0))
    anchor(env)
    hider_rewards = []
    for t in range(10):
        if t == 5:
            body(env, 1, (0.0, 0.0), math.pi)  # after 3 seeking steps in view, the seeker turns away
        _, rew, _, trunc, info = env.step(act(env))
        hider_rewards.append(float(rew[0, 0]))
    assert trunc.all()
    assert float(info["behaviour"]["hidden_fraction"][0]) == pytest.approx(5 / 8)
    assert hider_rewards == [0.0] * 2 + [-1.0] * 3 + [1.0] * 5  # the figure is the hiders' winning steps


# -- seekers and the arena ------------------------------------------------------------------


def test_a_seeker_that_rides_a_ramp_over_a_wall_is_elevated_and_crossed():
    env = scene(walls=WALL)
    ramp = env.scenario.world.spec.num_bodies - 1
    body(env, 1, (-1.2, 0.0), 0.0)
    body(env, ramp, (-0.05 - 0.35, 0.0), 0.0)
    anchor(env)
    drive_east(env)
    f = figures(env)
    assert (f["seekers_elevated"], f["seekers_crossed"], f["agents_outside"]) == (1.0, 1.0, 0.0)


def test_a_ramp_short_of_the_wall_lifts_the_seeker_but_it_does_not_cross():
    env = scene(walls=WALL)
    ramp = env.scenario.world.spec.num_bodies - 1
    body(env, 1, (-1.6, 0.0), 0.0)
    body(env, ramp, (-1.0, 0.0), 0.0)
    env.scenario.lock_team[0, -1] = rules.HIDERS
    anchor(env)
    drive_east(env)
    f = figures(env)
    assert (f["seekers_elevated"], f["seekers_crossed"]) == (1.0, 0.0)


def test_an_agent_outside_the_play_area_is_flagged():
    env = scene()
    anchor(env)
    env.step(act(env))
    assert figures(env)["agents_outside"] == 0.0
    body(env, 0, (2.4, 1.0))
    env.step(act(env))
    body(env, 0, (1.0, 1.0))
    env.step(act(env))
    assert figures(env)["agents_outside"] == 1.0  # at some step


# -- the contract: info, resets, checkpoints ----------------------------------------------


def test_info_behaviour_holds_every_figure_as_a_float_per_world():
    env = make_batched("hide_and_seek_v1", num_envs=3, seed=0)
    env.reset(seed=0)
    *_, info = env.step(heuristic_actions(env.scenario))
    assert list(info["behaviour"]) == list(bh.NAMES)
    for name, value in info["behaviour"].items():
        assert value.shape == (3,) and value.dtype == torch.float32, name
    copy = pickle.loads(pickle.dumps(info["behaviour"]))  # vector wrappers send infos between processes
    assert type(copy) is dict and copy.keys() == info["behaviour"].keys()


def test_the_last_step_reports_the_episode_and_the_reset_starts_afresh():
    env = make_batched("hide_and_seek_v1", num_envs=8, seed=1)
    env.reset(seed=1)
    for _ in range(env.max_cycles):
        *_, trunc, info = env.step(heuristic_actions(env.scenario))
    assert trunc.all()
    final = info["behaviour"]
    assert final["max_box_move"].sum() > 0 and final["hidden_fraction"].sum() > 0
    fresh = env.scenario.behaviour()  # the next episode, after the autoreset
    assert all(float(v.abs().sum()) == 0 for v in fresh.values()), {k: v for k, v in fresh.items() if v.any()}


def test_a_partial_reset_restarts_only_its_worlds_and_the_figures_match_the_host_clock():
    envs = [make_batched("hide_and_seek_v1", num_envs=6, seed=2) for _ in range(2)]
    for env in envs:
        env.reset(seed=2)
    envs[1].scenario.behaviour_tracker.clock = None  # per-world selection by sc.t, as after a partial reset
    for _ in range(envs[0].max_cycles - 1):
        actions = heuristic_actions(envs[0].scenario)
        values = [env.step(actions)[-1]["behaviour"] for env in envs]
        for name in bh.NAMES:
            torch.testing.assert_close(values[0][name], values[1][name], msg=name)
    sc = envs[0].scenario
    before = sc.behaviour()
    mask = torch.tensor([True, False, True, False, False, False])
    sc.reset(mask, envs[0]._generator)
    assert sc.behaviour_tracker.clock is None
    after = sc.behaviour()
    for name in bh.NAMES:
        assert (after[name][mask] == 0).all(), name
        torch.testing.assert_close(after[name][~mask], before[name][~mask], msg=name)


def test_a_checkpoint_resumes_the_figures_exactly():
    env = make_batched("hide_and_seek_v1", num_envs=4, seed=5)
    env.reset(seed=5)
    for _ in range(40):
        env.step(heuristic_actions(env.scenario))
    state = env.state_dict()
    assert {f"behaviour_{name}" for name in bh._STATE} <= set(state["scenario"])
    twin = make_batched("hide_and_seek_v1", num_envs=4, seed=9)
    twin.reset(seed=9)
    twin.load_state_dict(state)
    for _ in range(env.max_cycles - 40):
        actions = heuristic_actions(env.scenario)
        info, twin_info = env.step(actions)[-1], twin.step(actions)[-1]
    for name in bh.NAMES:
        torch.testing.assert_close(info["behaviour"][name], twin_info["behaviour"][name], msg=name)


def test_the_parallel_env_reports_the_figures_at_the_last_step():
    env = hide_and_seek_v1.parallel_env(max_cycles=6)
    env.reset(seed=0)
    for t in range(6):
        _, _, _, trunc, infos = env.step({a: env.action_space(a).sample() for a in env.agents})
        if t < 5:
            assert all("behaviour" not in info for info in infos.values())
    assert all(trunc.values())
    expected = {k: float(v[0]) for k, v in env.batched.scenario.behaviour().items()}
    for info in infos.values():
        assert info["behaviour"] == expected and all(type(v) is float for v in info["behaviour"].values())
    first, second = list(infos.values())[:2]
    assert first["behaviour"] is not second["behaviour"]  # each agent owns its dict


# -- scripted teams and the stage -------------------------------------------------------------


def prep_end_figures(block_doors, worlds=64, seed=3):
    env = make_batched("hide_and_seek_v1", num_envs=worlds, seed=seed)
    env.reset(seed=seed)
    for _ in range(env.scenario.config.prep_steps):
        env.step(heuristic_actions(env.scenario, block_doors=block_doors))
    return {k: float(v.mean()) for k, v in env.scenario.behaviour().items()}


@pytest.mark.one_compute_path  # whole scripted games on both maps
def test_door_blocking_hiders_block_the_doors_and_open_door_hiders_do_not():
    shut, open_ = prep_end_figures(True), prep_end_figures(False)
    assert shut["doors_blocked_prep"] > 0.45 and shut["all_doors_blocked_prep"] > 0.35
    assert open_["doors_blocked_prep"] == 0.0 and open_["box_locked_hiders_prep"] == 0.0
    assert shut["box_grabbed"] > 0.4 and open_["box_grabbed"] == 0.0


def test_stage_thresholds():
    means = dict.fromkeys(bh.NAMES, 0.0)
    assert bh.stage(means) == "chasing"
    means["all_doors_blocked_prep"] = bh.SHELTER_DOORS
    assert bh.stage(means) == "shelter"
    means["seekers_crossed"] = bh.RAMP_USE
    assert bh.stage(means) == "ramp use"
    means["ramp_secured_prep"] = bh.RAMP_DEFENSE
    assert bh.stage(means) == "ramp defense"
    means["all_doors_blocked_prep"] = 0.0  # ramps locked without a shelter is not a stage
    assert bh.stage(means) == "chasing"
    means.update(box_locked_hiders_prep=bh.SHELTER_LOCKED, hidden_fraction=bh.SHELTER_HIDDEN)
    assert bh.stage(means) == "chasing"  # where the room has doors, only blocked doors make a shelter
    assert bh.stage(means, doors=False) == "ramp defense"  # a shelter without doors: locked boxes, hiders unseen
    means["all_doors_blocked_prep"] = 1.0
    assert bh.stage({**means, "box_locked_hiders_prep": 0.0}, doors=False) == "chasing"
    assert [bh.STAGES.index(s) for s in ("chasing", "shelter", "ramp use", "ramp defense")] == [0, 1, 2, 3]


def test_track_behaviour_off_reports_nothing():
    env = make_batched("hide_and_seek_v1", num_envs=2, seed=0, track_behaviour=False)
    env.reset(seed=0)
    *_, info = env.step(idle(env))
    assert "behaviour" not in info
    assert not any(k.startswith("behaviour_") for k in env.state_dict()["scenario"])
    pz = hide_and_seek_v1.parallel_env(max_cycles=2, track_behaviour=False)
    pz.reset(seed=0)
    for _ in range(2):
        *_, infos = pz.step({a: pz.action_space(a).sample() for a in pz.agents})
    assert all("behaviour" not in info for info in infos.values())
