"""BatchedEnv determinism and agreement: the same seed replays bit for bit, one world equals the PettingZoo env,
B batched worlds equal B separate ones, and CPU equals CUDA where a device is present."""

import numpy as np
import pytest
import torch

from marl_envs import make_batched, spread_v0
from marl_envs.physics import BodyState
from tests.api.spread_worlds import CONFIGS, random_actions, same_step
from tests.twins import one_world_twins, step_twins


@pytest.mark.parametrize("name", ["discrete", "continuous_N4"])
def test_same_seed_same_trajectory(name, device):
    """60 steps (two autoresets at max_cycles=25) of random actions, bit for bit."""
    runs = []
    for _ in range(2):
        env = make_batched("spread_v0", num_envs=8, device=device, seed=123, **CONFIGS[name])
        out = [env.reset()[0]]
        gen = torch.Generator().manual_seed(7)
        for _ in range(60):
            out.append(env.step(random_actions(env, gen)))
        runs.append(out)
    assert torch.equal(runs[0][0], runs[1][0])
    for a, b in zip(runs[0][1:], runs[1][1:], strict=True):
        same_step(a, b)


def test_seed_at_reset_equals_seed_at_construction():
    a = make_batched("spread_v0", num_envs=4, seed=3)
    b = make_batched("spread_v0", num_envs=4)
    assert torch.equal(a.reset()[0], b.reset(seed=3)[0])


def test_different_seeds_different_worlds():
    a = make_batched("spread_v0", num_envs=4, seed=1).reset()[0]
    b = make_batched("spread_v0", num_envs=4, seed=2).reset()[0]
    assert not torch.isclose(a, b).all(dim=-1).any()  # no world or agent shares an observation
    # and the worlds of one env differ from each other
    assert not torch.equal(a[0], a[1])


@pytest.mark.parametrize("name", ["discrete", "continuous_N4"])
def test_batched_b1_equals_parallel_env(name):
    """One code path: the batched env with B=1 and the PettingZoo env agree over 3 episodes."""
    kwargs = {**CONFIGS[name], "max_cycles": 10}
    benv = make_batched("spread_v0", num_envs=1, seed=21, **kwargs)
    penv = spread_v0.parallel_env(**kwargs)
    bobs, _ = benv.reset()
    pobs, _ = penv.reset(seed=21)
    gen = torch.Generator().manual_seed(0)
    for step in range(30):
        np.testing.assert_array_equal(np.stack([pobs[a] for a in penv.possible_agents]), bobs[0].numpy())
        act = random_actions(benv, gen)
        bobs, brew, bterm, btrunc, _ = benv.step(act)
        pact = {a: (act[0, i].numpy() if act.dim() == 3 else int(act[0, i])) for i, a in enumerate(penv.agents)}
        pobs, prew, pterm, ptrunc, _ = penv.step(pact)
        assert [prew[a] for a in penv.possible_agents] == brew[0].tolist(), f"step {step}"
        assert [ptrunc[a] for a in penv.possible_agents] == btrunc[0].tolist()
        assert [pterm[a] for a in penv.possible_agents] == bterm[0].tolist()
        if not penv.agents:
            pobs, _ = penv.reset()
    assert step == 29


@pytest.mark.parametrize("name", ["discrete", "continuous_N4"])
def test_batched_worlds_equal_separate_single_world_envs(name):
    """Worlds are independent: B batched worlds == B one-world envs started from the same states."""
    kwargs = {**CONFIGS[name], "max_cycles": 50}
    b = 4
    big = make_batched("spread_v0", num_envs=b, seed=0, **kwargs)
    big.reset()
    # Crowd world 1 so that contacts happen (agents overlapping near the origin).
    big.scenario.world.state.pos[1, : big.num_agents] *= 0.1
    smalls = one_world_twins(big, "spread_v0", **kwargs)
    gen = torch.Generator().manual_seed(3)
    for _ in range(20):
        step_twins(big, smalls, random_actions(big, gen), atol=1e-6)


def test_crowded_world_exercises_contacts():
    """Sanity for the test above: crowding agents at the origin produces collision penalties."""
    env = make_batched("spread_v0", num_envs=1, seed=0, local_ratio=1.0)
    env.reset()
    env.scenario.world.state.pos[0, :3] *= 0.1
    _, rew, *_ = env.step(torch.zeros(1, 3, dtype=torch.long))
    assert (rew < 0).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("name", ["discrete", "continuous_N4"])
def test_cpu_and_cuda_agree(name):
    """Same initial states (copied: generators differ per device) and actions -> same results within 1e-5."""
    kwargs = {**CONFIGS[name], "max_cycles": 100}
    cpu = make_batched("spread_v0", num_envs=16, device="cpu", seed=0, **kwargs)
    gpu = make_batched("spread_v0", num_envs=16, device="cuda", seed=0, **kwargs)
    cpu.reset()
    gpu.reset()
    state = cpu.scenario.world.state
    state.pos[:4, : cpu.num_agents] *= 0.1  # some contacts
    gpu.scenario.world.state = BodyState(*(t.cuda() for t in (state.pos, state.vel, state.angle, state.ang_vel)))
    gen = torch.Generator().manual_seed(0)
    for _ in range(25):
        act = random_actions(cpu, gen)
        cobs, crew, *_ = cpu.step(act)
        gobs, grew, *_ = gpu.step(act.cuda())
        torch.testing.assert_close(gobs.cpu(), cobs, atol=1e-5, rtol=0)
        torch.testing.assert_close(grew.cpu(), crew, atol=1e-5, rtol=0)
