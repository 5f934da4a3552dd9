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
