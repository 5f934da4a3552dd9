"""The CPU allocator tuning: applied once for large CPU batches, opt-out honoured."""

import subprocess
import sys

import pytest

CHECK = """
import marl_envs.api.allocator as alloc
from marl_envs.api.batched import make_batched
make_batched("spread_v0", num_envs={num_envs}, seed=0)
print(alloc._tuned)
"""


def _tuned_after(num_envs: int, env: dict | None = None) -> str:
    import os

    out = subprocess.run([sys.executable, "-c", CHECK.format(num_envs=num_envs)], capture_output=True, text=True,
                         env={**os.environ, **(env or {})}, check=True)
    return out.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt")
def test_large_cpu_batch_tunes_the_allocator_once_and_small_ones_do_not():
    assert _tuned_after(64) == "True"
    assert _tuned_after(8) == "False"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt")
def test_opt_out_leaves_the_allocator_alone():
    assert _tuned_after(64, {"MARL_ENVS_MALLOC_TUNING": "0"}) == "False"


def test_tuning_is_idempotent():
    from marl_envs.api.allocator import tune_cpu_allocator

    first = tune_cpu_allocator()
    assert tune_cpu_allocator() == first
