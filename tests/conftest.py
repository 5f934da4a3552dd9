"""Shared fixtures: headless SDL, a device fixture (cpu, plus cuda when present), the compute paths, the slow marker.

Two compute paths run the same rules on a CPU: the numba kernels (``marl_envs.native``, the
default where numba imports) and the torch reference (what runs on a GPU, and everywhere with
``MARL_ENVS_NATIVE=0``). A bug in either ships unseen unless both are tested, so every test under
``PATH_DIRECTORIES`` (rules, contacts, sensors, observations, spawns) runs once per path through
the ``compute_path`` fixture, and a test elsewhere asks for it by naming the fixture. The trainer
and API tests run once, on the default path.

A test marked ``one_compute_path`` runs on the default path only: whole scripted games whose
rules the rule tests already cover on both paths (minutes each on the torch path on a CPU), and
tests of worlds no kernel ever serves (MPE's discs).

Reference mode: ``MARL_ENVS_NATIVE=0 python -m pytest`` runs the whole suite on the torch path
(the fixture then has the single value ``reference``, and the tests that compare the kernels
with the reference, ``tests/native``, are skipped: there is nothing to compare).
"""

import contextlib
import importlib.util
import os
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

from marl_envs.openmp import prefer_passive_waits  # noqa: E402

prefer_passive_waits()  # before torch loads OpenMP, as importing marl_envs first would (marl_envs.openmp)

import pytest  # noqa: E402
import torch  # noqa: E402

from marl_envs.physics import accel  # noqa: E402

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])

TESTS = Path(__file__).parent
PATH_DIRECTORIES = ("physics", "sensors", "scenarios", "render")
"""Test folders whose every test runs on both compute paths."""

REFERENCE_MODE = not accel.enabled()
"""``MARL_ENVS_NATIVE=0`` (or an equivalent value) in the environment: the suite runs on the torch path only."""

KERNELS_AVAILABLE = importlib.util.find_spec("numba") is not None
COMPUTE_PATHS = ["reference"] if REFERENCE_MODE else ["native", "reference"]


@pytest.fixture(params=DEVICES)
def device(request) -> str:
    return request.param


@pytest.fixture(params=COMPUTE_PATHS)
def compute_path(request) -> str:
    """``"native"``: the numba kernels serve where they apply (CPU float32); ``"reference"``: torch only.

    The kernels only run on a CPU, so a CUDA test asks for the native path once (the reference one).
    """
    if request.param == "native":
        if not KERNELS_AVAILABLE:
            pytest.skip("numba is not installed: only the torch reference path exists here")
        if "device" in request.fixturenames and request.getfixturevalue("device") != "cpu":
            pytest.skip("the kernels run on a CPU only: the reference path covers this device")
    with accel.disabled() if request.param == "reference" else contextlib.nullcontext():
        yield request.param


def _on_both_paths(path: Path) -> bool:
    try:
        return path.relative_to(TESTS).parts[0] in PATH_DIRECTORIES
    except ValueError:
        return False


def pytest_configure(config):
    config.addinivalue_line("markers", "one_compute_path: run on the default compute path only (tests/conftest.py)")


def pytest_collection_modifyitems(config, items):
    """Drop the second path of ``one_compute_path`` tests; in reference mode, skip the kernel-vs-reference
    comparisons (``tests/native``): no kernel runs."""
    once = [item for item in items if item.get_closest_marker("one_compute_path") is not None
            and getattr(item, "callspec", None) is not None and item.callspec.params.get("compute_path") == "reference"
            and not REFERENCE_MODE]
    if once:
        config.hook.pytest_deselected(items=once)
        items[:] = [item for item in items if item not in once]
    if not REFERENCE_MODE:
        return
    skip = pytest.mark.skip(reason="MARL_ENVS_NATIVE=0: the kernels are off, nothing to compare them with")
    for item in items:
        if Path(str(item.fspath)).relative_to(TESTS).parts[0] == "native":
            item.add_marker(skip)


def pytest_collectstart(collector):
    """Test modules under ``PATH_DIRECTORIES`` use ``compute_path`` without naming it (one test, both paths)."""
    if isinstance(collector, pytest.Module) and _on_both_paths(Path(str(collector.path))):
        collector.add_marker(pytest.mark.usefixtures("compute_path"))
