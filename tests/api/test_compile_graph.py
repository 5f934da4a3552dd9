"""``compile=True`` traces each env's step as one graph.

``torch.compile`` is how the PettingZoo B=1 step fits in a millisecond: one graph runs as a
handful of fused kernels, but every graph break returns to Python and splits the fusion. This
checks with dynamo's ``explain`` (tracing only, no code generation, a few seconds) that no
break creeps back into a step, e.g. an ``out=`` into a strided view or a host sync.
"""

import pytest
import torch

from marl_envs import list_envs
from marl_envs.api.batched import make_batched


@pytest.mark.parametrize("env_id", list_envs())
def test_the_step_traces_without_graph_breaks(env_id):
    env = make_batched(env_id, num_envs=3, seed=0, check_inputs=False)
    env.reset(seed=0)
    env.action_space.seed(0)
    actions = torch.as_tensor(env.action_space.sample())
    torch._dynamo.reset()
    explained = torch._dynamo.explain(env._eager_transition)(actions)
    reasons = [reason.reason.splitlines()[0] for reason in explained.break_reasons]
    assert explained.graph_break_count == 0, reasons
    assert explained.graph_count == 1


@pytest.mark.parametrize("num_envs", [1, 3])
@pytest.mark.parametrize("env_id", list_envs())
def test_the_compiled_step_does_not_recompile(env_id, num_envs):
    """Guards hold from step to step and across resets (a stride that changes after the first step,
    e.g. a transposed one-world tensor, would recompile every step: tens of seconds each)."""
    env = make_batched(env_id, num_envs=num_envs, seed=0, check_inputs=False, max_cycles=4)
    env.reset(seed=0)
    env.action_space.seed(0)
    torch._dynamo.reset()
    env._transition = torch.compile(env._eager_transition, backend="eager", dynamic=False)  # guards, no codegen
    with torch._dynamo.config.patch(error_on_recompile=True):
        for _ in range(9):  # two episode ends, so two autoresets
            env.step(torch.as_tensor(env.action_space.sample()))
