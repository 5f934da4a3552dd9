"""Every bad input gives a clear error naming the problem, and leaves the env exactly as it was.

"Usable afterwards" is checked against a twin that never saw the bad input: after the
rejected call both take the same valid steps and must agree bit for bit (so a rejected call
may not move the worlds, the episode clock or the random stream).
"""

import math
import re
import warnings

import numpy as np
import pytest
import torch

from marl_envs import make_batched, spread_v0
from marl_envs.api.checks import validate_actions
from marl_envs.scenarios.specs import ActionSpec

# -- batched env ----------------------------------------------------------------------


def _batched_pair(**kwargs):
    """Two identical envs, reset and one step in (so the state is not the initial one)."""
    envs = [make_batched("spread_v0", num_envs=3, seed=0, max_cycles=3, **kwargs) for _ in range(2)]
    for env in envs:
        env.reset()
        env.step(_good_batched(env))
    return envs


def _good_batched(env) -> torch.Tensor:
    if env.action_spec.kind == "continuous":
        return torch.full((env.num_envs, env.num_agents, 5), 0.5).index_fill_(-1, torch.tensor([2]), 1.0)
    return torch.arange(env.num_envs * env.num_agents).view(env.num_envs, env.num_agents) % 5


def _assert_batched_unharmed(env, twin):
    """The env that rejected input and its twin agree over the next steps, through an autoreset."""
    for _ in range(4):
        a = env.step(_good_batched(env))
        b = twin.step(_good_batched(twin))
        for x, y in zip(a[:4], b[:4], strict=True):
            assert torch.equal(x, y)
        for key in a[4]:
            assert torch.equal(a[4][key], b[4][key]), key


BATCHED_BAD = [
    # (id, config, bad action, error type, fragments the message must contain)
    ("too_few_agents", {}, torch.zeros(3, 2, dtype=torch.long), ValueError, ["(3, 2)", "expected (3, 3)"]),
    ("missing_world", {}, torch.zeros(2, 3, dtype=torch.long), ValueError, ["(2, 3)", "expected (3, 3)"]),
    ("extra_dim", {}, torch.zeros(3, 3, 1, dtype=torch.long), ValueError, ["(3, 3, 1)", "expected (3, 3)"]),
    ("float_for_discrete", {}, torch.zeros(3, 3), TypeError, ["integers", "float32"]),
    ("bool_for_discrete", {}, torch.zeros(3, 3, dtype=torch.bool), TypeError, ["integers", "bool"]),
    ("minus_one", {}, torch.tensor([[0, 0, 0], [0, 0, -1], [0, 0, 0]]), ValueError,
     ["-1", "[0, 5)", "world 1", "'agent_2'"]),
    ("five", {}, torch.tensor([[0, 0, 0], [0, 0, 0], [0, 5, 0]]), ValueError, ["5", "[0, 5)", "world 2", "'agent_1'"]),
    ("continuous_wrong_shape", {"continuous_actions": True}, torch.zeros(3, 3, 4), ValueError,
     ["(3, 3, 4)", "expected (3, 3, 5)"]),
    ("continuous_missing_dim", {"continuous_actions": True}, torch.zeros(3, 3), ValueError,
     ["(3, 3)", "expected (3, 3, 5)"]),
    ("continuous_int", {"continuous_actions": True}, torch.zeros(3, 3, 5, dtype=torch.long), TypeError,
     ["floating point", "int64"]),
    ("string", {}, "left", TypeError, ["str"]),
]


def _with(tensor, index, value):
    out = tensor.clone()
    out[index] = value
    return out


BATCHED_BAD += [
    ("nan", {"continuous_actions": True}, _with(torch.full((3, 3, 5), 0.5), (2, 1, 3), math.nan), ValueError,
     ["NaN", "world 2", "'agent_1'", "[3]"]),
    ("inf", {"continuous_actions": True}, _with(torch.full((3, 3, 5), 0.5), (0, 2, 0), -math.inf), ValueError,
     ["infinite", "world 0", "'agent_2'"]),
]


@pytest.mark.parametrize("case", BATCHED_BAD, ids=[c[0] for c in BATCHED_BAD])
def test_batched_bad_actions_are_rejected_and_harmless(case):
    _, config, bad, error, fragments = case
    env, twin = _batched_pair(**config)
    with pytest.raises(error) as info:
        env.step(bad)
    for fragment in fragments:
        assert fragment in str(info.value), f"{fragment!r} not in {info.value}"
    _assert_batched_unharmed(env, twin)


def test_batched_out_of_range_continuous_is_clipped():
    env, twin = _batched_pair(continuous_actions=True)
    wild = torch.linspace(-2.0, 3.0, 45).view(3, 3, 5)
    a = env.step(wild)
    b = twin.step(wild.clamp(0.0, 1.0))
    for x, y in zip(a[:4], b[:4], strict=True):
        assert torch.equal(x, y)


@pytest.mark.parametrize("convert", [
    lambda t: t.tolist(),
    lambda t: t.numpy(),
    lambda t: t.numpy().astype(np.int32),
    lambda t: t.to(torch.int32),
    lambda t: t.to(torch.uint8),
], ids=["list", "numpy_int64", "numpy_int32", "torch_int32", "torch_uint8"])
def test_batched_accepts_array_likes(convert):
    env, twin = _batched_pair()
    act = _good_batched(env)
    a = env.step(convert(act))
    b = twin.step(act)
    for x, y in zip(a[:4], b[:4], strict=True):
        assert torch.equal(x, y)


@pytest.mark.parametrize("convert", [lambda t: t.tolist(), lambda t: t.double().numpy()], ids=["list", "float64"])
def test_batched_accepts_continuous_array_likes(convert):
    env, twin = _batched_pair(continuous_actions=True)
    act = _good_batched(env)
    a = env.step(convert(act))
    b = twin.step(act)
    for x, y in zip(a[:4], b[:4], strict=True):
        assert torch.equal(x, y)


def test_validate_actions_multi_discrete_names_component():
    spec = ActionSpec("multi_discrete", nvec=(3, 11))
    good = torch.tensor([[[2, 10], [0, 0]]])
    assert torch.equal(validate_actions(good, spec, 1, ["a", "b"], torch.device("cpu")), good)
    with pytest.raises(ValueError, match=re.escape("action 11 is out of range")) as info:
        validate_actions(torch.tensor([[[2, 10], [0, 11]]]), spec, 1, ["a", "b"], torch.device("cpu"))
    assert "agent 'b'" in str(info.value) and "component [1]" in str(info.value)
    with pytest.raises(ValueError, match=re.escape("expected (1, 2, 2)")):
        validate_actions(torch.zeros(1, 2, 3, dtype=torch.long), spec, 1, ["a", "b"], torch.device("cpu"))


# -- parallel env ---------------------------------------------------------------------


def _parallel_pair(**kwargs):
    envs = [spread_v0.parallel_env(max_cycles=3, **kwargs) for _ in range(2)]
    for env in envs:
        env.reset(seed=0)
        env.step(_good_parallel(env))
    return envs


def _good_parallel(env):
    if env.action_space("agent_0").shape == (5,):
        return {a: np.array([0.0, 0.2, 0.9, 0.5, 0.1], dtype=np.float32) for a in env.agents}
    return {a: i % 5 for i, a in enumerate(env.agents)}


def _assert_parallel_unharmed(env, twin):
    for _ in range(4):  # through the end of the episode (max_cycles=3) and a reset
        if not env.agents:
            obs, _ = env.reset()
            tobs, _ = twin.reset()
        else:
            obs, rew, term, trunc, _ = env.step(_good_parallel(env))
            tobs, t_rew, tterm, ttrunc, _ = twin.step(_good_parallel(twin))
            assert (rew, term, trunc) == (t_rew, tterm, ttrunc)
        for agent in obs:
            np.testing.assert_array_equal(obs[agent], tobs[agent])


PARALLEL_BAD = [
    ("missing_agent", {}, {"agent_0": 0, "agent_2": 0}, ValueError, ["missing ['agent_1']"]),
    ("unknown_agent", {}, {"agent_0": 0, "agent_1": 0, "agent_2": 0, "agent_9": 0}, ValueError,
     ["unknown ['agent_9']"]),
    ("not_a_dict", {}, [0, 0, 0], TypeError, ["dict", "list"]),
    ("float_discrete", {}, {"agent_0": 0, "agent_1": 1.5, "agent_2": 0}, TypeError, ["'agent_1'", "1.5"]),
    ("string_discrete", {}, {"agent_0": 0, "agent_1": 0, "agent_2": "a"}, TypeError, ["'agent_2'", "'a'"]),
    ("bool_discrete", {}, {"agent_0": True, "agent_1": 0, "agent_2": 0}, TypeError, ["'agent_0'", "bool"]),
    ("none_discrete", {}, {"agent_0": None, "agent_1": 0, "agent_2": 0}, TypeError, ["'agent_0'", "None"]),
    ("five", {}, {"agent_0": 0, "agent_1": 5, "agent_2": 0}, ValueError, ["'agent_1'", "5", "[0, 5)"]),
    ("minus_one", {}, {"agent_0": -1, "agent_1": 0, "agent_2": 0}, ValueError, ["'agent_0'", "-1", "[0, 5)"]),
    ("nan", {"continuous_actions": True},
     {"agent_0": np.zeros(5), "agent_1": np.array([0, 0, np.nan, 0, 0]), "agent_2": np.zeros(5)}, ValueError,
     ["'agent_1'", "NaN"]),
    ("inf", {"continuous_actions": True},
     {"agent_0": np.zeros(5), "agent_1": np.zeros(5), "agent_2": np.array([0, np.inf, 0, 0, 0])}, ValueError,
     ["'agent_2'", "inf"]),
    ("continuous_shape", {"continuous_actions": True},
     {"agent_0": np.zeros(4), "agent_1": np.zeros(5), "agent_2": np.zeros(5)}, ValueError,
     ["'agent_0'", "(4,)", "expected (5,)"]),
    ("continuous_scalar", {"continuous_actions": True},
     {"agent_0": np.zeros(5), "agent_1": 0.5, "agent_2": np.zeros(5)}, ValueError, ["'agent_1'", "()", "(5,)"]),
    ("continuous_text", {"continuous_actions": True},
     {"agent_0": np.zeros(5), "agent_1": np.zeros(5), "agent_2": "fast"}, TypeError, ["'agent_2'", "numeric"]),
]


@pytest.mark.parametrize("case", PARALLEL_BAD, ids=[c[0] for c in PARALLEL_BAD])
def test_parallel_bad_actions_are_rejected_and_harmless(case):
    _, config, bad, error, fragments = case
    env, twin = _parallel_pair(**config)
    with pytest.raises(error) as info:
        env.step(bad)
    for fragment in fragments:
        assert fragment in str(info.value), f"{fragment!r} not in {info.value}"
    assert env.agents == twin.agents
    _assert_parallel_unharmed(env, twin)


def test_parallel_accepts_numpy_integers_and_clips_continuous():
    env, twin = _parallel_pair()
    a = env.step({"agent_0": np.int64(1), "agent_1": np.array(2), "agent_2": np.int8(2)})
    b = twin.step({"agent_0": 1, "agent_1": 2, "agent_2": 2})
    assert a[1:4] == b[1:4]
    env, twin = _parallel_pair(continuous_actions=True)
    wild = {a: np.array([-1.0, 2.0, -0.5, 0.3, 7.0]) for a in env.agents}
    a = env.step(wild)
    b = twin.step({a: np.clip(v, 0.0, 1.0) for a, v in wild.items()})
    assert a[1:4] == b[1:4]
    for agent in a[0]:
        np.testing.assert_array_equal(a[0][agent], b[0][agent])


def test_parallel_step_after_episode_end_raises():
    env = spread_v0.parallel_env(max_cycles=1)
    env.reset(seed=0)
    env.step({a: 0 for a in env.agents})
    assert env.agents == []
    with pytest.raises(RuntimeError, match="reset"):
        env.step({a: 0 for a in env.possible_agents})


# -- construction -----------------------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda **kw: spread_v0.parallel_env(**kw),
    lambda **kw: spread_v0.env(**kw),
    lambda **kw: spread_v0.raw_env(**kw),
    lambda **kw: make_batched("spread_v0", num_envs=2, **kw),
], ids=["parallel_env", "env", "raw_env", "make_batched"])
def test_unknown_keyword_lists_valid_arguments(make):
    with pytest.raises(TypeError) as info:
        make(foo=1)
    message = str(info.value)
    for name in ("'foo'", "N", "local_ratio", "max_cycles", "continuous_actions", "terminate_on_success"):
        assert name in message, message


@pytest.mark.parametrize("kwargs, fragment", [
    ({"N": 0}, "N must be a positive int"),
    ({"N": 2.0}, "N must be a positive int"),
    ({"N": True}, "N must be a positive int"),
    ({"local_ratio": 2}, "local_ratio must be in [0, 1]"),
    ({"local_ratio": -0.1}, "local_ratio must be in [0, 1]"),
    ({"local_ratio": math.nan}, "local_ratio must be in [0, 1]"),
    ({"max_cycles": 0}, "max_cycles must be a positive int"),
    ({"max_cycles": 2.5}, "max_cycles must be a positive int"),
])
def test_invalid_argument_values(kwargs, fragment):
    with pytest.raises(ValueError, match=re.escape(fragment)):
        spread_v0.parallel_env(**kwargs)
    with pytest.raises(ValueError, match=re.escape(fragment)):
        make_batched("spread_v0", **kwargs)


@pytest.mark.parametrize("kwargs", [{"continuous_actions": "False"}, {"terminate_on_success": 1}])
def test_bool_flags_reject_non_bools(kwargs):
    with pytest.raises((TypeError, ValueError), match=next(iter(kwargs))):
        spread_v0.parallel_env(**kwargs)


def test_unknown_env_id_lists_valid_ids():
    with pytest.raises(ValueError, match=r"unknown env id 'sprad_v0'.*spread_v0"):
        make_batched("sprad_v0")
    with pytest.raises(ValueError, match=r"spread_v0"):
        make_batched(None)


@pytest.mark.parametrize("make", [
    lambda **kw: spread_v0.parallel_env(**kw),
    lambda **kw: spread_v0.env(**kw),
    lambda **kw: make_batched("spread_v0", **kw),
], ids=["parallel_env", "env", "make_batched"])
def test_invalid_render_mode(make):
    with pytest.raises(ValueError, match=r"render_mode must be one of .*'human'.*'rgb_array'.*'ansi'"):
        make(render_mode="ansi")


@pytest.mark.parametrize("kwargs, fragment", [
    ({"num_envs": 0}, "num_envs must be a positive int"),
    ({"num_envs": 2.0}, "num_envs must be a positive int"),
    ({"num_envs": 2, "render_env_index": 2}, "render_env_index must be in [0, 2)"),
])
def test_invalid_batched_arguments(kwargs, fragment):
    with pytest.raises(ValueError, match=re.escape(fragment)):
        make_batched("spread_v0", **kwargs)


def test_step_before_reset():
    with pytest.raises(RuntimeError, match="reset"):
        make_batched("spread_v0", num_envs=2).step(torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(RuntimeError, match="reset"):
        spread_v0.parallel_env().step({f"agent_{i}": 0 for i in range(3)})


# -- seeds ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed, error, fragment", [
    (-1, ValueError, "seed must be in [0, 2**64), got -1"),
    (2**64, ValueError, "seed must be in [0, 2**64)"),
    (1.5, TypeError, "seed must be a non-negative int or None, got float 1.5"),
    ("x", TypeError, "seed must be a non-negative int or None, got str 'x'"),
    (True, TypeError, "got bool"),
])
def test_bad_seeds_are_rejected_and_harmless(seed, error, fragment):
    benv, btwin = _batched_pair()
    with pytest.raises(error, match=re.escape(fragment)):
        benv.reset(seed=seed)
    _assert_batched_unharmed(benv, btwin)  # the failed reset neither reset nor reseeded anything

    penv, ptwin = _parallel_pair()
    with pytest.raises(error, match=re.escape(fragment)):
        penv.reset(seed=seed)
    _assert_parallel_unharmed(penv, ptwin)

    with pytest.raises(error, match=re.escape(fragment)):
        make_batched("spread_v0", seed=seed)


def test_numpy_integer_seed_equals_int_seed():
    a = spread_v0.parallel_env().reset(seed=np.int64(5))[0]
    b = spread_v0.parallel_env().reset(seed=5)[0]
    np.testing.assert_array_equal(a["agent_0"], b["agent_0"])


# -- render without a render mode -----------------------------------------------------


def test_render_without_render_mode():
    benv = make_batched("spread_v0", num_envs=1, seed=0)
    benv.reset()
    with pytest.raises(RuntimeError, match="render_mode"):
        benv.render()
    penv = spread_v0.parallel_env()
    penv.reset(seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert penv.render() is None
    assert any("render_mode" in str(w.message) for w in caught)
    penv.step({a: 0 for a in penv.agents})  # still usable


def test_render_before_reset():
    env = make_batched("spread_v0", num_envs=1, render_mode="rgb_array")
    with pytest.raises(RuntimeError, match="reset"):
        env.render()
