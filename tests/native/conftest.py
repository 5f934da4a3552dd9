"""tests/native compare the CPU kernels with the torch reference, so they run the kernels even in a
reference-mode run of the suite (``MARL_ENVS_NATIVE=0``), which turns them off everywhere else."""

import pytest

from marl_envs.physics import accel


@pytest.fixture(autouse=True)
def kernels_on(monkeypatch):
    monkeypatch.setitem(accel._state, "enabled", True)
