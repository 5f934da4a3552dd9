"""hide_and_seek_v2 is hide_and_seek_v1 with four defaults changed, and nothing else.

v2 with its defaults plays exactly the game of v1 with ``box_size=0.5, num_elongated_boxes=0, see_over_reach=0.5,
sight_rim_points=8`` on the quadrant map (on the other maps v1's elongated boxes stay): the same observations,
rewards, states and behaviour figures for the same seed and actions. That is what lets the v1 runs with those
arguments (the door shelter on the team self-play page) stand for v2.
"""

import dataclasses

import pytest
import torch

from marl_envs import make_batched
from marl_envs.scenarios.hide_and_seek import HideAndSeekConfig, HideAndSeekV2Config

V2_AS_V1 = {"box_size": 0.5, "see_over_reach": 0.5, "sight_rim_points": 8}
"""v2's defaults as v1 arguments, on every map; the quadrant map also has ``num_elongated_boxes=0``."""


def v1_kwargs(map_name: str) -> dict:
    return {**V2_AS_V1, **({"num_elongated_boxes": 0} if map_name == "quadrant" else {})}


def test_v2_defaults_per_map_and_v1_defaults_unchanged():
    v1 = {m: HideAndSeekConfig(map=m) for m in ("quadrant", "random_rooms", "open")}
    v2 = {m: HideAndSeekV2Config(map=m) for m in ("quadrant", "random_rooms", "open")}
    for m in v1:
        assert (v1[m].box_size, v1[m].see_over_reach, v1[m].sight_rim_points, v1[m].boxes_at_doors) == (0.64, 1.0, 0, 0)
        assert (v2[m].box_size, v2[m].see_over_reach, v2[m].sight_rim_points, v2[m].boxes_at_doors) == (0.5, 0.5, 8, 0)
        assert v1[m].ramp_at_wall == v2[m].ramp_at_wall == 0
        # Every other argument resolves as in v1.
        assert dataclasses.asdict(v2[m]) == dataclasses.asdict(HideAndSeekConfig(map=m, **v1_kwargs(m)))
    assert (v1["quadrant"].num_elongated_boxes, v2["quadrant"].num_elongated_boxes) == (1, 0)  # the paper's 2 cubes
    assert v1["open"].num_elongated_boxes == v2["open"].num_elongated_boxes == 1
    assert v1["random_rooms"].num_elongated_boxes == v2["random_rooms"].num_elongated_boxes == 5  # of 9
    assert HideAndSeekV2Config(num_boxes=5).num_elongated_boxes == 0
    assert HideAndSeekV2Config(map="open", num_boxes=5).num_elongated_boxes == 3
    # Given explicitly, v1's values give v1's game, and v2 validates as v1 does.
    back = HideAndSeekV2Config(box_size=0.64, num_elongated_boxes=1, see_over_reach=1.0, sight_rim_points=0)
    assert dataclasses.asdict(back) == dataclasses.asdict(HideAndSeekConfig())
    with pytest.raises(ValueError, match="num_elongated_boxes"):
        HideAndSeekV2Config(num_elongated_boxes=2)
    with pytest.raises(ValueError, match="map must be one of"):
        HideAndSeekV2Config(map="maze")
    assert HideAndSeekV2Config.TRAINING_ONLY == HideAndSeekConfig.TRAINING_ONLY == (
        "boxes_at_doors", "ramp_at_wall", "ramp_near_door", "ramp_by_door", "ramp_outside_door", "hider_outside",
        "hider_by_door")


def _assert_same(a, b, what: str) -> None:
    torch.testing.assert_close(a, b, rtol=0, atol=0, equal_nan=True, msg=lambda m: f"{what}: {m}")


@pytest.mark.parametrize("map_name, steps, extra", [("quadrant", 84, {}), ("random_rooms", 24, {}),
                                                    ("quadrant", 40, {"boxes_at_doors": 0.5})],
                         ids=["quadrant", "random_rooms", "quadrant_door_starts"])
def test_v2_plays_v1_with_the_new_defaults_step_for_step(map_name, steps, extra):
    """Same seed, same actions (random, and in half of the worlds the scripted teams' moves, which grab, carry and
    lock boxes): every output of v2 with its defaults equals v1's with v2's values given as arguments. 84 steps
    on the quadrant map run past the 80-step episode's end and its autoreset; the door-start curriculum (v2's
    training presets) too."""
    worlds = 6
    v2 = make_batched("hide_and_seek_v2", num_envs=worlds, seed=7, map=map_name, **extra)
    v1 = make_batched("hide_and_seek_v1", num_envs=worlds, seed=7, map=map_name, **v1_kwargs(map_name), **extra)
    obs2, info2 = v2.reset(seed=7)
    obs1, info1 = v1.reset(seed=7)
    _assert_same(obs2, obs1, "reset obs")
    _assert_same(info2["state"], info1["state"], "reset state")
    if extra:
        assert v1.scenario.door_start.any() and not v1.scenario.door_start.all()
    generator = torch.Generator().manual_seed(0)
    nvec = torch.tensor(v1.action_spec.nvec)
    last_returns = None  # the episode returns at the episode's last step
    box_moved = torch.zeros(worlds)
    for t in range(steps):
        random = (torch.rand(worlds, v1.num_agents, 5, generator=generator) * nvec).long()
        scripted = v1.scripted_actions()
        actions = torch.where(torch.arange(worlds).view(-1, 1, 1) % 2 == 0, scripted, random)
        out2, out1 = v2.step(actions), v1.step(actions)
        for name, x2, x1 in zip(("obs", "reward", "terminated", "truncated"), out2[:4], out1[:4], strict=True):
            _assert_same(x2, x1, f"step {t} {name}")
        info2, info1 = out2[4], out1[4]
        assert set(info2) == set(info1) and set(info2["behaviour"]) == set(info1["behaviour"])
        for key in ("final_obs", "final_state", "episode_return", "episode_length", "acted"):
            _assert_same(info2[key], info1[key], f"step {t} info[{key!r}]")
        for name in info1["behaviour"]:
            _assert_same(info2["behaviour"][name], info1["behaviour"][name], f"step {t} behaviour {name}")
        _assert_same(v2.state(), v1.state(), f"step {t} state")
        box_moved = torch.maximum(box_moved, info1["behaviour"]["max_box_move"].nan_to_num(0.0))
        if t == v1.max_cycles - 1:
            last_returns = info1["episode_return"].clone()
    state2, state1 = v2.scenario.state_dict(), v1.scenario.state_dict()
    assert set(state2) == set(state1)
    for key in state1:
        if isinstance(state1[key], torch.Tensor):
            _assert_same(state2[key], state1[key], f"scenario state {key}")
    # The games were not idle: boxes moved, and a whole episode's rewards were not all 0.
    assert (box_moved > 0.05).any()
    assert last_returns is None or last_returns.ne(0).any()
