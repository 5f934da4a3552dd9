"""Import rules (README, "Layout": the layering rules).

physics <- sensors <- scenarios <- api -> render: the core three import neither the API
libraries (gymnasium, pettingzoo), nor pygame, nor numpy; physics imports only torch and the
standard library. Checked twice: statically (every import statement, at any depth, so an import
inside a function cannot hide) and at runtime (the core works in a process where those
libraries cannot be imported at all).
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
    files = [p for d in CORE for p in sorted((PACKAGE_DIR / d).rglob("*.py"))]
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
