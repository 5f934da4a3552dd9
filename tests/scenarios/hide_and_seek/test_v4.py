"""hide_and_seek_v4 is hide_and_seek_v3 under the released game's lock rule, and nothing else.

What must hold: v4's defaults differ from v3's in ``lock_rule`` only ("hold"), on every map; v4 plays exactly the
game of v3 with ``lock_rule="hold"`` (so the v3 runs given that argument stand for v4), and v4 given the toggle is
v3; under v4's defaults a hider that keeps pressing lock by a box keeps it locked, where v3's toggle flips it.
"""

import dataclasses

import pytest
import torch

from marl_envs import make_batched
from marl_envs.scenarios.hide_and_seek import HideAndSeekV3Config, HideAndSeekV4Config
from marl_envs.scenarios.hide_and_seek import manipulation as rules
from tests.scenarios.hide_and_seek.test_rules import act, body, place


def _assert_same(a, b, what: str) -> None:
    torch.testing.assert_close(a, b, rtol=0, atol=0, equal_nan=True, msg=lambda m: f"{what}: {m}")


def test_v4_defaults_are_v3_under_the_hold_lock():
    for map_name in ("quadrant", "random_rooms", "open"):
        v4, v3 = HideAndSeekV4Config(map=map_name), HideAndSeekV3Config(map=map_name)
        assert (v3.lock_rule, v4.lock_rule) == ("toggle", "hold")
        assert dataclasses.asdict(v4) == dataclasses.asdict(HideAndSeekV3Config(map=map_name, lock_rule="hold"))
    assert dataclasses.asdict(HideAndSeekV4Config(lock_rule="toggle")) == dataclasses.asdict(HideAndSeekV3Config())
    with pytest.raises(ValueError, match="lock_rule must be one of"):
        HideAndSeekV4Config(lock_rule="latch")
    assert HideAndSeekV4Config.TRAINING_ONLY == HideAndSeekV3Config.TRAINING_ONLY


@pytest.mark.parametrize("map_name", ["quadrant", "random_rooms"])
def test_v4_plays_v3_with_the_hold_lock(map_name):
    """The same seed and actions (the scripted teams in half the worlds, random presses of grab and lock in the
    rest): the same observations, rewards, states and behaviour figures at every step of a whole game."""
    worlds = 4
    v4 = make_batched("hide_and_seek_v4", num_envs=worlds, seed=3, map=map_name, autoreset=False)
    v3 = make_batched("hide_and_seek_v3", num_envs=worlds, seed=3, map=map_name, lock_rule="hold", autoreset=False)
    _assert_same(v4.reset(seed=3)[0], v3.reset(seed=3)[0], "reset obs")
    generator = torch.Generator().manual_seed(1)
    nvec = torch.tensor(v3.action_spec.nvec)
    for t in range(v3.config.max_cycles):
        random = (torch.rand(worlds, v3.num_agents, 5, generator=generator) * nvec).long()
        actions = torch.where(torch.arange(worlds).view(-1, 1, 1) % 2 == 0, v3.scripted_actions(), random)
        out4, out3 = v4.step(actions), v3.step(actions)
        for name, a, b in zip(("obs", "reward", "terminated", "truncated"), out4[:4], out3[:4], strict=True):
            _assert_same(a, b, f"step {t} {name}")
        _assert_same(v4.state(), v3.state(), f"step {t} state")
    for key, value in out3[4]["behaviour"].items():
        _assert_same(out4[4]["behaviour"][key], value, f"behaviour {key}")


def test_a_press_held_by_a_box_keeps_it_locked_in_v4_and_flips_it_in_v3():
    """A hider beside a box presses lock at every step: under v4's default (hold) the box stays locked by the hiders
    from the first press on; under v3's toggle every second press undoes the lock."""
    locked = {}
    for env_id in ("hide_and_seek_v4", "hide_and_seek_v3"):
        env = make_batched(env_id, num_envs=1, seed=0, map="open", num_hiders=1, num_seekers=1, prep_fraction=0.0)
        env.reset(seed=0)
        n = env.scenario.world.spec.num_bodies
        place(env, torch.tensor([[-1.7 + 0.5 * i, -1.7] for i in range(n)]), torch.zeros(n))  # parked apart
        box = env.num_agents + 1  # the square box
        body(env, 0, (-0.55, 0.0), 0.0)  # hider_0, facing it
        body(env, box, (0.0, 0.0))
        history = []
        for _ in range(6):
            env.step(act(env, hider_0={"lock": 1}))
            history.append(int(env.scenario.lock_team[0, box - env.num_agents]) == rules.HIDERS)
        locked[env_id] = history
    assert locked["hide_and_seek_v4"] == [True] * 6
    assert locked["hide_and_seek_v3"] == [True, False] * 3
