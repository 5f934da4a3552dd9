"""Import rules (docs/architecture.md, "Layers"; README, "Layout").

physics <- sensors <- scenarios <- api -> render: the core three import neither the API
libraries (gymnasium, pettingzoo), nor pygame, nor numpy; physics imports only torch and the
standard library. ``native`` (the optional numba kernels) sees only physics and sensors, never a
scenario; a scenario's own kernels (``scenarios/<name>/kernels/``, loaded only through
``physics.accel``) see the same plus their scenario's modules. ``render`` sees only itself (it
draws a snapshot); ``api`` never reaches the kernels; no module of ``marl_envs`` imports
``baselines``, and ``baselines`` uses only what ``marl_envs`` and ``marl_envs.api`` export.
Checked twice: statically (every import statement, at any depth, so an import inside a function
cannot hide) and at runtime (the core works in a process where those libraries cannot be
imported at all).
"""

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import marl_envs

PACKAGE_DIR = Path(marl_envs.__file__).parent
CORE = [d for d in ("physics", "sensors", "scenarios") if (PACKAGE_DIR / d).is_dir()]
FORBIDDEN = {"gymnasium", "gym", "pettingzoo", "pygame", "numpy"}


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``, nested ones included."""
    package = ".".join(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts[:-1])
    return _imports_in(path.read_text(), package)


def _imports_in(source: str, package: str) -> list[tuple[int, str]]:
    """Imports of ``source``, a module of ``package``: statements, relative ones resolved, and
    ``importlib.import_module("...")`` / ``__import__("...")`` with a literal name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                found.append((node.lineno, ".".join(base + ([node.module] if node.module else []))))
            else:
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call):
            func = getattr(node.func, "attr", getattr(node.func, "id", ""))
            first = node.args[0] if node.args else None
            if func in ("import_module", "__import__") and isinstance(first, ast.Constant):
                found.append((node.lineno, str(first.value)))
    return sorted(found)


def _is_kernel(path: Path) -> bool:
    """A scenario's own CPU kernels (``scenarios/<name>/kernels``): numba and numpy, loaded only through
    ``physics.accel`` at first use, so the core still runs without them (checked below)."""
    return "kernels" in path.relative_to(PACKAGE_DIR).parts[:-1]


def _core_files():
    files = [p for d in CORE for p in sorted((PACKAGE_DIR / d).rglob("*.py")) if not _is_kernel(p)]
    assert files, "no core modules found"
    return files


def test_core_layers_exist():
    assert {"physics", "scenarios"} <= set(CORE)


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_core_modules_do_not_import_api_libraries(path):
    forbidden = FORBIDDEN - {"numpy"} if _is_kernel(path) else FORBIDDEN
    bad = [(line, name) for line, name in _imports(path) if name.split(".")[0] in forbidden]
    assert not bad, f"{path.relative_to(PACKAGE_DIR)} imports {bad}: the core must stay torch-only"


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_core_modules_do_not_reach_up_the_layers(path):
    """physics sees only physics; sensors see physics; scenarios see both (never api/render/registry)."""
    layer = path.relative_to(PACKAGE_DIR).parts[0]
    allowed = {"physics": {"physics"}, "sensors": {"physics", "sensors"},
               "scenarios": {"physics", "sensors", "scenarios"}}[layer] | ({"native"} if _is_kernel(path) else set())
    for line, name in _imports(path):
        parts = name.split(".")
        if parts[0] == "marl_envs":
            assert len(parts) > 1 and parts[1] in allowed, f"{path.name}:{line} imports {name} ({layer} layer)"


@pytest.mark.parametrize("path", sorted((PACKAGE_DIR / "physics").rglob("*.py")),
                         ids=lambda p: p.name)
def test_physics_imports_only_torch_and_the_standard_library(path):
    for line, name in _imports(path):
        top = name.split(".")[0]
        assert top in sys.stdlib_module_names or top in ("torch", "marl_envs"), f"{path.name}:{line} imports {name}"


def test_the_scan_sees_nested_relative_and_dynamic_imports():
    """The checker itself: imports hidden in a function, relative ones and importlib are all found."""
    source = textwrap.dedent("""
        def f():
            import numpy as np
            from gymnasium import spaces
            from .base import Scenario
            from ..physics import World
            return importlib.import_module("pygame")
    """)
    names = [name for _, name in _imports_in(source, "marl_envs.scenarios")]
    assert names == ["numpy", "gymnasium", "marl_envs.scenarios.base", "marl_envs.physics", "pygame"]


# Every marl_envs import a layer may make (first name after ``marl_envs.``); ``native`` sits beside
# physics and sensors (it speeds up their queries), under scenarios: a scenario brings its own kernels.
# ``openmp`` is the process-wide thread-wait setting (no imports of its own) that the kernels check.
LAYER_IMPORTS = {
    "native": {"native", "physics", "sensors", "openmp"},
    "render": {"render"},
    "api": {"api", "registry", "scenarios", "sensors", "physics", "render", "seeding"},
}


def _layer_files(layer: str) -> list:
    return sorted((PACKAGE_DIR / layer).rglob("*.py"))


SCENARIO_KERNELS = sorted(p for p in (PACKAGE_DIR / "scenarios").rglob("*.py") if _is_kernel(p))


@pytest.mark.parametrize("path", SCENARIO_KERNELS, ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_a_scenarios_kernels_see_only_the_kernel_helpers_the_core_and_their_scenario(path):
    """Like native, plus their own scenario's modules (whose constants and layouts they read)."""
    scenario = path.relative_to(PACKAGE_DIR).parts[1]
    for line, name in _imports(path):
        parts = name.split(".")
        if parts[0] == "marl_envs":
            assert parts[1] in LAYER_IMPORTS["native"] or parts[1:3] == ["scenarios", scenario], \
                f"{path.relative_to(PACKAGE_DIR)}:{line} imports {name}"
        assert parts[0] not in ("gymnasium", "gym", "pettingzoo", "pygame"), f"{path.name}:{line} imports {name}"


@pytest.mark.parametrize("layer", sorted(LAYER_IMPORTS))
def test_layers_exist(layer):
    assert _layer_files(layer), f"no modules in marl_envs/{layer}"


@pytest.mark.parametrize("path", [f for layer in sorted(LAYER_IMPORTS) for f in _layer_files(layer)],
                         ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_native_render_and_api_import_only_their_layers(path):
    layer = path.relative_to(PACKAGE_DIR).parts[0]
    for line, name in _imports(path):
        parts = name.split(".")
        if parts[0] == "marl_envs":
            assert len(parts) > 1 and parts[1] in LAYER_IMPORTS[layer], \
                f"{path.relative_to(PACKAGE_DIR)}:{line} imports {name} ({layer} layer)"
        if layer == "render":
            assert parts[0] != "torch", f"{path.name}:{line}: render draws a numpy snapshot, it never sees tensors"


@pytest.mark.parametrize("path", sorted(PACKAGE_DIR.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_marl_envs_never_imports_baselines(path):
    """The envs do not depend on the trainers (play loads a trained policy through a hook)."""
    bad = [(line, name) for line, name in _imports(path) if name.split(".")[0] == "baselines"]
    assert not bad, f"{path.relative_to(PACKAGE_DIR)} imports {bad}"


def _public_imports(source: str) -> list[tuple[int, str, str]]:
    """(line, module, name) of every ``from marl_envs... import name`` and ``import marl_envs...`` in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "marl_envs":
            found += [(node.lineno, node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name, "") for a in node.names if a.name.split(".")[0] == "marl_envs"]
    return found


PUBLIC_MODULES = {"marl_envs.play", "marl_envs.policies"}
"""Public modules beyond the two packages' ``__all__``: the play command and its policy-loader hook."""


def _is_public(module: str, name: str) -> bool:
    import marl_envs.api

    env_modules = {f"marl_envs.{env_id}" for env_id in marl_envs.list_envs()}
    if module == "marl_envs":
        return not name or name in marl_envs.__all__ or f"marl_envs.{name}" in PUBLIC_MODULES
    if module == "marl_envs.api":
        return name in marl_envs.api.__all__
    return module in env_modules | PUBLIC_MODULES


BASELINES = sorted((PACKAGE_DIR.parent / "baselines").rglob("*.py"))


@pytest.mark.parametrize("path", BASELINES, ids=lambda p: str(p.relative_to(PACKAGE_DIR.parent)))
def test_baselines_use_only_what_marl_envs_exports(path):
    bad = [(line, module, name) for line, module, name in _public_imports(path.read_text())
           if not _is_public(module, name)]
    assert not bad, f"{path.name} imports {bad}: use marl_envs.__all__ / marl_envs.api.__all__"


def test_the_public_import_check_sees_private_modules():
    source = "from marl_envs import make_batched\nfrom marl_envs.registry import REGISTRY\nimport marl_envs.api.joint\n"
    verdicts = [_is_public(module, name) for _, module, name in _public_imports(source)]
    assert verdicts == [True, False, False]


BLOCKER = """
import sys
BLOCKED = {"gymnasium", "gym", "pettingzoo", "pygame", "numpy"}

class _Blocker:
    # Behave like a missing install (ModuleNotFoundError), which torch tolerates for numpy.
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the layering test)", name=name)
        return None

sys.meta_path.insert(0, _Blocker())
"""

SPREAD_WITHOUT_API = """
import torch
import marl_envs.physics
import marl_envs.scenarios
from marl_envs.scenarios.spread import Spread, SpreadConfig

scenario = Spread(SpreadConfig(), 4, "cpu")
scenario.reset(None, torch.Generator().manual_seed(0))
start = scenario.world.state.pos.clone()
for _ in range(3):
    force, torque = scenario.apply_actions(torch.full((4, 3), 2))
    scenario.world.step(force, torque)
    scenario.post_physics()
sensed = scenario.sense()
obs, reward, terminated = scenario.observe(sensed), scenario.reward(sensed), scenario.terminated(sensed)
assert obs.shape == (4, 3, 18) and reward.shape == (4, 3) and terminated.shape == (4,)
assert scenario.global_state().shape == (4, 18)
assert (scenario.world.state.pos[:, :3, 0] > start[:, :3, 0]).all(), "agents pushed +x did not move +x"
scenario.reset(torch.tensor([True, False, False, True]), torch.Generator().manual_seed(1))
loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
assert not loaded, loaded
print("OK")
"""


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, timeout=120)


def test_core_runs_without_api_libraries_numpy_or_pygame():
    result = _run(BLOCKER + SPREAD_WITHOUT_API)
    assert result.returncode == 0 and result.stdout.strip() == "OK", result.stderr[-3000:]


def test_blocker_really_blocks():
    """Guard against a vacuous pass: under the blocker the API layer cannot load."""
    result = _run(BLOCKER + "import marl_envs.api.batched\n")
    assert result.returncode != 0 and "blocked by the layering test" in result.stderr


def test_render_snapshot_does_not_import_pygame():
    code = (
        "import sys\n"
        "import marl_envs.render.snapshot\n"
        "import marl_envs.render\n"
        "assert 'pygame' not in sys.modules, 'importing marl_envs.render imported pygame'\n"
        "print('OK')\n"
    )
    _assert_prints_ok(code)


def test_constructing_an_env_without_rendering_does_not_import_pygame():
    code = (
        "import sys\n"
        "from marl_envs import spread_v0\n"
        "env = spread_v0.parallel_env(render_mode='rgb_array')\n"
        "env.reset(seed=0)\n"
        "env.step({a: 0 for a in env.agents})\n"
        "assert 'pygame' not in sys.modules, 'pygame imported before the first render()'\n"
        "print('OK')\n"
    )
    _assert_prints_ok(code)


def _assert_prints_ok(code: str) -> None:
    result = _run(code)
    assert result.returncode == 0 and result.stdout.strip() == "OK", result.stderr[-3000:]
