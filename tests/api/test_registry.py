"""The registry, the ``*_vN`` shim modules on disk and PettingZoo's registry list the same envs.

After VMAS's ``test_all_scenarios_included``: adding a shim without registering it (or the
reverse) fails here instead of shipping a half-public env.
"""

import importlib
import re
from pathlib import Path

import pettingzoo
import pytest

import marl_envs
from marl_envs.api.batched import BatchedEnv
from marl_envs.pettingzoo_registration import pettingzoo_id, register_all
from marl_envs.registry import REGISTRY, get_scenario_class, list_envs

PACKAGE_DIR = Path(marl_envs.__file__).parent
SHIMS = sorted(p.stem for p in PACKAGE_DIR.glob("*.py") if re.fullmatch(r"[a-z0-9_]+_v\d+", p.stem))


def test_there_are_envs():
    assert "spread_v0" in SHIMS


def test_registry_equals_shim_modules_on_disk():
    assert sorted(REGISTRY) == SHIMS
    assert list_envs() == SHIMS


def test_package_exposes_every_shim():
    assert sorted(marl_envs._ENV_MODULES) == SHIMS
    for env_id in SHIMS:
        assert env_id in marl_envs.__all__ and env_id in dir(marl_envs)
        assert getattr(marl_envs, env_id) is importlib.import_module(f"marl_envs.{env_id}")
    with pytest.raises(AttributeError, match="no attribute 'spread_v9'"):
        marl_envs.spread_v9  # noqa: B018


@pytest.mark.parametrize("env_id", SHIMS)
def test_shim_exposes_the_four_constructors(env_id):
    shim = importlib.import_module(f"marl_envs.{env_id}")
    assert sorted(shim.__all__) == ["batched_env", "env", "parallel_env", "raw_env"]
    parallel = shim.parallel_env()
    assert isinstance(parallel, pettingzoo.ParallelEnv) and parallel.metadata["name"] == env_id
    aec = shim.env()
    assert isinstance(aec, pettingzoo.AECEnv) and aec.metadata["name"] == env_id
    raw = shim.raw_env()
    assert isinstance(raw, pettingzoo.AECEnv) and raw.unwrapped.metadata["name"] == env_id
    batched = shim.batched_env(num_envs=3)
    assert isinstance(batched, BatchedEnv) and batched.num_envs == 3 and batched.metadata["name"] == env_id
    assert isinstance(batched.scenario, get_scenario_class(env_id))


@pytest.mark.parametrize("env_id", SHIMS)
def test_shim_doc_page_has_the_sections(env_id):
    """The shim carries the scenario's doc page, whose version history names this version."""
    doc = importlib.import_module(f"marl_envs.{env_id}").__doc__
    version = env_id.rsplit("_", 1)[1]
    for section in ("## Description", "## Action space", "## Observation space", "## Rewards",
                    "## Episode end", "## Arguments", "## Version history"):
        assert section in doc, f"{env_id} doc page lacks {section!r}"
    assert f"- {version}:" in doc.split("## Version history", 1)[1]


@pytest.mark.parametrize("env_id", SHIMS)
def test_every_env_is_registered_with_pettingzoo(env_id):
    pz_id = pettingzoo_id(env_id)
    assert pz_id in pettingzoo.parallel_registry
    assert pz_id in pettingzoo.aec_registry
    assert pettingzoo.make("parallel", pz_id).metadata["name"] == env_id
    assert pettingzoo.make("aec", pz_id).metadata["name"] == env_id


def test_pettingzoo_registry_has_no_stale_ids():
    ours = {pettingzoo_id(e) for e in SHIMS}
    for registry in (pettingzoo.parallel_registry, pettingzoo.aec_registry):
        assert {k for k in registry if k.startswith("marl_envs/")} == ours


def test_pettingzoo_id_mapping():
    assert pettingzoo_id("spread_v0") == "marl_envs/spread-v0"
    assert pettingzoo_id("hide_and_seek_v12") == "marl_envs/hide-and-seek-v12"
    with pytest.raises(ValueError, match="_vN"):
        pettingzoo_id("spread")


def test_register_all_is_idempotent():
    before = (dict(pettingzoo.parallel_registry), dict(pettingzoo.aec_registry))
    register_all()
    register_all()
    assert (dict(pettingzoo.parallel_registry), dict(pettingzoo.aec_registry)) == before


def test_register_all_fills_a_missing_env_type(monkeypatch):
    """Each env type is registered on its own: an id present in one registry still reaches the other."""
    pz_id = pettingzoo_id(SHIMS[0])
    monkeypatch.delitem(pettingzoo.aec_registry, pz_id)
    register_all()
    assert pettingzoo.make("aec", pz_id).metadata["name"] == SHIMS[0]


def test_a_retired_version_names_its_successor_everywhere():
    from pettingzoo.utils.deprecated_module import DeprecatedEnv

    import marl_envs

    with pytest.raises(ValueError, match="'hide_and_seek_v0' is retired .*use 'hide_and_seek_v1'"):
        marl_envs.make_batched("hide_and_seek_v0")
    old = marl_envs.hide_and_seek_v0  # still importable, as PettingZoo keeps old versions
    for constructor in (old.env, old.parallel_env, old.raw_env, old.batched_env):
        with pytest.raises(DeprecatedEnv, match="hide_and_seek_v0 is now deprecated, use hide_and_seek_v1 instead"):
            constructor()
    assert "hide_and_seek_v0" not in marl_envs.list_envs() and "hide_and_seek_v1" in marl_envs.list_envs()
