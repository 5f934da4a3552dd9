"""The entity-centric actor and critic (baselines/common/entity.py) on hide-and-seek's entity layout."""

import numpy as np
import pytest
import torch
from gymnasium import spaces

import marl_envs
from baselines.common.entity import EntityActor, EntityCritic, EntityEncoder, make_entity_actor, make_entity_critic
from baselines.common.networks import Actor, Critic
from marl_envs.scenarios.specs import ObsBlock, ObsSpec

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny batches: one thread is fastest

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(scope="module")
def hns():
    """hide_and_seek_v1 after a few random steps: (env, obs (B, A, D), state (B, S)) with real masks."""
    torch.manual_seed(0)
    env = marl_envs.make_batched("hide_and_seek_v1", num_envs=8, seed=0)
    obs, _ = env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(6):
        actions = np.stack([rng.integers(0, env.single_action_space.nvec, size=(8, env.num_agents, 5))])[0]
        obs = env.step(torch.as_tensor(actions))[0]
    return env, obs.float(), env.state().float()


def with_ids(obs):
    a = obs.shape[-2]
    return torch.cat([obs, torch.eye(a, device=obs.device).expand(*obs.shape[:-2], a, a)], -1)


def critic_input(obs, state):
    return torch.cat([state.unsqueeze(-2).expand(*obs.shape[:-1], state.shape[-1]), with_ids(obs)], -1)


def perturb_masked(spec, obs, generator):
    """obs with the features of every masked entity replaced by large noise."""
    out, sl = obs.clone(), spec.slices()
    for b in spec.blocks:
        if b.name + "_mask" in sl:
            visible = obs[..., sl[b.name + "_mask"]] > 0.5
            block = out[..., sl[b.name]].view(*obs.shape[:-1], b.count, b.size)
            noise = 100 * torch.randn(block.shape, generator=generator)
            out[..., sl[b.name]] = torch.where(visible.unsqueeze(-1), block, noise).flatten(-2)
    return out


@pytest.mark.parametrize("device", DEVICES)
def test_masked_entities_cannot_change_the_output(hns, device):
    env, obs, state = hns
    a = env.num_agents
    masks = torch.cat([obs[..., env.obs_spec.slices()[n]] for n in ("agents_mask", "boxes_mask", "ramps_mask")], -1)
    assert (masks == 0).any() and (masks == 1).any()  # real masks, both kinds
    torch.manual_seed(1)
    actor = EntityActor(env.obs_spec, env.single_action_space, a).to(device)
    critic = EntityCritic(env.state_spec, env.obs_spec, a).to(device)
    noisy = perturb_masked(env.obs_spec, obs, torch.Generator().manual_seed(2))
    assert not torch.equal(noisy, obs)
    x, y = with_ids(obs).to(device), with_ids(noisy).to(device)
    with torch.no_grad():
        assert torch.equal(actor.encoder(x), actor.encoder(y))
        assert torch.equal(actor.head(actor.encoder(x)), actor.head(actor.encoder(y)))
        lx = torch.cat([d.logits for d in actor.distribution(x).dists], -1)
        ly = torch.cat([d.logits for d in actor.distribution(y).dists], -1)
        assert torch.equal(lx, ly) and torch.isfinite(lx).all()
        # the critic sees obs_i's self and lidar only, and the unmasked state
        s = state.to(device)
        assert torch.equal(critic(critic_input(x[..., :-a], s)), critic(critic_input(y[..., :-a], s)))


def test_a_masked_entity_is_as_if_absent(hns):
    """Key masking and masked pooling: masking box 1 gives the output of the same weights with no box 1."""
    env, obs, _ = hns
    sl, a = env.obs_spec.slices(), env.num_agents
    torch.manual_seed(4)
    full = EntityEncoder(env.obs_spec, a)
    one_box = ObsSpec(tuple(ObsBlock(b.name, b.size, 1) if b.name.startswith("boxes") else b
                            for b in env.obs_spec.blocks))
    fewer = EntityEncoder(one_box, a)
    fewer.load_state_dict(full.state_dict())
    x = obs.clone()
    x[..., sl["boxes_mask"].start + 1] = 0.0
    keep = [i for i in range(obs.shape[-1]) if not (sl["boxes"].start + 10 <= i < sl["boxes"].stop
                                                   or i == sl["boxes_mask"].start + 1)]
    with torch.no_grad():
        torch.testing.assert_close(full(with_ids(x)), fewer(with_ids(x[..., keep])), rtol=1e-5, atol=1e-5)


def test_output_shapes_batched_and_flat(hns):
    env, obs, state = hns
    b, a, d = obs.shape
    actor, critic = make_entity_actor(env, a), make_entity_critic(env, a)
    assert isinstance(critic, EntityCritic)
    x, c = with_ids(obs), critic_input(obs, state)
    dist = actor.distribution(x)
    action = dist.sample()
    assert action.shape == (b, a, 5) and dist.log_prob(action).shape == (b, a) and dist.entropy().shape == (b, a)
    assert EntityActor.deterministic(dist).shape == (b, a, 5)
    assert critic(c).shape == (b, a) and actor.encoder(x).shape == (b, a, 64)
    flat = actor.distribution(x.reshape(b * a, -1))
    assert flat.log_prob(action.reshape(b * a, 5)).shape == (b * a,)
    torch.testing.assert_close(flat.log_prob(action.reshape(b * a, 5)).view(b, a), dist.log_prob(action))
    torch.testing.assert_close(critic(c.reshape(b * a, -1)).view(b, a), critic(c))
    with pytest.raises(ValueError, match="expected"):
        actor.distribution(obs)  # without the ids


def test_permuting_visible_entities_leaves_the_output_unchanged(hns):
    env, obs, _ = hns
    sl = env.obs_spec.slices()
    torch.manual_seed(3)
    actor = EntityActor(env.obs_spec, env.single_action_space, env.num_agents)
    x = obs.clone()
    x[..., sl["boxes_mask"]] = 1.0  # both boxes visible (real features where seen, zeros otherwise)
    x[..., sl["boxes"]] += torch.randn(x[..., sl["boxes"]].shape) * 0.1
    y = x.clone()
    boxes = x[..., sl["boxes"]].view(*x.shape[:-1], 2, 10)
    y[..., sl["boxes"]] = boxes.flip(-2).flatten(-2)
    agents, amask = x[..., sl["agents"]].view(*x.shape[:-1], 3, 8), x[..., sl["agents_mask"]]
    y[..., sl["agents"]] = agents[..., [2, 1, 0], :].flatten(-2)  # with their masks, visible or not
    y[..., sl["agents_mask"]] = amask[..., [2, 1, 0]]
    assert not torch.equal(x, y)
    with torch.no_grad():
        torch.testing.assert_close(actor.encoder(with_ids(y)), actor.encoder(with_ids(x)), rtol=1e-5, atol=1e-5)


def test_gradients_reach_every_parameter(hns):
    env, obs, state = hns
    a = env.num_agents
    actor = EntityActor(env.obs_spec, env.single_action_space, a)
    critic = EntityCritic(env.state_spec, env.obs_spec, a)
    dist = actor.distribution(with_ids(obs))
    (dist.log_prob(dist.sample()).mean() + dist.entropy().mean() + critic(critic_input(obs, state)).pow(2).mean()
     ).backward()
    for net in (actor, critic):
        for name, p in net.named_parameters():
            assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name


@pytest.mark.parametrize("space", [spaces.Discrete(5), spaces.Box(-1.0, 1.0, (3,), np.float32),
                                   spaces.MultiDiscrete(np.array([3, 2]))])
def test_spec_without_lidar_and_every_action_space(space):
    spec = ObsSpec((ObsBlock("self", 4), ObsBlock("items", 3, 5), ObsBlock("items_mask", 1, 5),
                    ObsBlock("door", 2, 1), ObsBlock("door_mask", 1, 1), ObsBlock("clock", 1)))
    actor = EntityActor(spec, space, extra_dim=2, width=32, heads=4)
    assert actor.encoder.num_tokens == 1 + 5 + 1 and not hasattr(actor.encoder, "lidar")
    x = torch.randn(6, 3, spec.dim + 2)
    x[..., 4 + 15:4 + 20] = 0.0  # nothing visible: only the self token
    x[..., 4 + 20 + 2] = 0.0
    dist = actor.distribution(x)
    action = dist.sample()
    assert dist.log_prob(action).shape == (6, 3) and torch.isfinite(dist.log_prob(action)).all()
    if isinstance(space, spaces.Box):
        assert action.shape == (6, 3, 3) and "log_std" in actor.state_dict()
    critic = EntityCritic(None, spec, 2, width=32, heads=4)  # decentralised: [obs, extra]
    assert critic(x).shape == (6, 3)


def test_spread_has_no_state_spec_so_the_critic_is_an_mlp():
    env = marl_envs.make_batched("spread_v0", num_envs=4, seed=0)
    assert env.state_spec is None
    obs, _ = env.reset(seed=0)
    a = env.num_agents
    critic = make_entity_critic(env, a, hidden=(32, 32))
    assert isinstance(critic, Critic)
    assert critic(critic_input(obs, env.state())).shape == (4, a)
    local = make_entity_critic(env, a, centralized=False)  # spread's blocks: count > 1, always visible
    assert isinstance(local, EntityCritic) and local(with_ids(obs)).shape == (4, a)
    assert make_entity_actor(env, a).distribution(with_ids(obs)).sample().shape == (4, a)


def test_state_spec_covers_the_state(hns):
    env, _, state = hns
    spec = env.state_spec
    assert spec.dim == sum(b.width for b in spec.blocks) == env.state_space.shape[0] == state.shape[-1]
    parts = {b.name: state[:, env.state_spec.slices()[b.name]].view(-1, b.count, b.size) for b in spec.blocks}
    c = env.scenario.config
    assert parts["agents"].shape[1:] == (c.num_agents, 9) and parts["objects"].shape[1] == env.scenario.num_objects
    assert torch.equal(parts["agents"][0, :, 6], torch.tensor([0.0] * c.num_hiders + [1.0] * c.num_seekers))
    heading = parts["agents"][..., 4:6]
    torch.testing.assert_close(heading.norm(dim=-1), torch.ones(heading.shape[:-1]))
    assert ((parts["time"] >= 0) & (parts["time"] <= 1)).all()
    # the critic reads the state's agents and objects as entities and "time" as self features
    enc = EntityEncoder(env.obs_spec, env.num_agents, state_spec=spec)
    assert enc.num_tokens == 1 + c.num_agents + env.scenario.num_objects


def test_actor_state_dict_keys_are_stable():
    """networks.Actor's keys (checkpoints) survive the ActionHead refactor."""
    assert list(Actor(7, spaces.Discrete(3)).state_dict()) == ["net.0.weight", "net.0.bias", "net.1.weight",
                                                              "net.1.bias", "net.3.weight", "net.3.bias",
                                                              "net.5.weight", "net.5.bias"]
    assert list(Actor(7, spaces.Box(0, 1, (2,)), feature_norm=False).state_dict())[0] == "log_std"


def test_mappo_trains_the_entity_policy_and_its_checkpoint_rebuilds_it(tmp_path):
    from baselines.common.checkpoint import load_checkpoint
    from baselines.common.policy import build_policy_from_checkpoint
    from baselines.mappo import Args, train

    args = Args(env_id="hide_and_seek_v1", policy="entity", num_envs=4, num_steps=8, total_timesteps=64,
                env_kwargs='{"max_cycles": 8}', run_dir=str(tmp_path / "run"), progress=False, tensorboard=False,
                device="cpu", seed=3)
    run = train(args)
    assert isinstance(run.agent.actors[0], EntityActor) and isinstance(run.agent.critics[0], EntityCritic)
    env = marl_envs.make_batched("hide_and_seek_v1", num_envs=3, seed=0, max_cycles=8)
    obs, info = env.reset()
    policy = build_policy_from_checkpoint(load_checkpoint(str(tmp_path / "run")), env)
    assert isinstance(policy.actors[0], EntityActor)
    for name, value in run.agent.state_dict().items():
        torch.testing.assert_close(policy.state_dict()[name], value, rtol=0, atol=0)
    actions = policy.act(obs, info["state"], deterministic=True)
    assert tuple(actions.shape) == (3, 4, 5)
    env.step(actions)
