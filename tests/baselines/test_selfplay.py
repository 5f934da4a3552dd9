"""Team self-play in MAPPO: loss masks (acted, frozen opponents), parameter layouts, per-team statistics."""

import copy
import dataclasses
import math
import warnings
from types import SimpleNamespace

import pytest
import torch
from gymnasium import spaces

from baselines import mappo
from baselines.common import ppo
from baselines.common.policy import MultiAgentPolicy
from baselines.common.selfplay import FrozenOpponent, OpponentPool, ReferenceOpponent, parse_references

pytestmark = pytest.mark.usefixtures("one_torch_thread")

AGENTS = ["hider_0", "hider_1", "seeker_0", "seeker_1"]
T, B, A, OBS, STATE = 6, 5, 4, 7, 3


def _policy(param_sharing="all", space=None):
    torch.manual_seed(0)
    return MultiAgentPolicy(OBS, STATE, AGENTS, space or spaces.Discrete(5), hidden_size=16,
                            param_sharing=param_sharing)


def _args(**kw):
    base = dict(clip_coef=0.2, huber_delta=10.0, clip_vloss=True, ent_coef=0.01, vf_coef=1.0, max_grad_norm=10.0,
                target_kl=None, norm_adv=True, update_epochs=2, num_minibatches=2, learning_rate=1e-2,
                critic_learning_rate=1e-2)
    return SimpleNamespace(**{**base, **kw})


def _batch(policy, seed=1):
    """A flattened batch of T steps of B worlds: the seekers did not act in the first half (preparation)."""
    g = torch.Generator().manual_seed(seed)
    obs, state = torch.randn(T, B, A, OBS, generator=g), torch.randn(T, B, STATE, generator=g)
    actor_in, critic_in = policy.actor_input(obs), policy.critic_input(obs, state)
    with torch.no_grad():
        dist = policy.distribution(actor_in)
        actions = dist.sample()
        raw, values = policy.value(critic_in)
    acted = torch.ones(T, B, A, dtype=torch.bool)
    acted[: T // 2, :, 2:] = False
    returns = torch.randn(T, B, A, generator=g) + torch.tensor([10.0, 10.0, -10.0, -10.0])
    rows = dict(actor_in=actor_in, critic_in=critic_in, actions=actions, logprobs=dist.log_prob(actions),
                values=values, raw_values=raw, advantages=torch.randn(T, B, A, generator=g), returns=returns,
                active=torch.ones(T, B, A, dtype=torch.bool), acted=acted,
                agent=torch.arange(A).expand(T, B, A), learn=torch.ones(T, B, A, dtype=torch.bool))
    return {k: v.reshape(T * B * A, *v.shape[3:]) for k, v in rows.items()}


def _perturb(batch, rows, keys):
    out = dict(batch)
    g = torch.Generator().manual_seed(99)
    for key in keys:
        value = out[key].clone()
        if key == "actions":
            value[rows] = torch.randint(0, 5, value[rows].shape, generator=g)
        else:
            value[rows] = value[rows] + 5 * torch.randn(value[rows].shape, generator=g)
        out[key] = value
    return out


def _train(policy, batch, args=None):
    policy = copy.deepcopy(policy)
    optimizers = ppo.adam_per_group(policy, args or _args())
    torch.manual_seed(5)  # the same minibatches for every batch compared
    ppo.update(policy, optimizers, batch, args or _args())
    return policy, optimizers


def _flat(module):
    return torch.cat([p.detach().flatten() for p in module.parameters()])


@pytest.mark.parametrize("param_sharing", ["all", "team"])
def test_samples_that_did_not_act_train_the_critic_but_never_the_policy(param_sharing):
    policy = _policy(param_sharing)
    batch = _batch(policy)
    frozen = ~batch["acted"]
    base, _ = _train(policy, batch)
    # What the policy loss reads of those samples (actions, old log-probs, advantages) changes nothing.
    moved, _ = _train(policy, _perturb(batch, frozen, ["actions", "logprobs", "advantages"]))
    assert torch.equal(_flat(base.actors), _flat(moved.actors))
    assert torch.equal(_flat(base.critics), _flat(moved.critics))
    # Their returns do reach the critic (the return-to-go of a preparation step is well defined).
    other, _ = _train(policy, _perturb(batch, frozen, ["returns"]))
    assert not torch.equal(_flat(base.critics), _flat(other.critics))


def test_policy_loss_gradient_ignores_samples_that_did_not_act():
    policy = _policy()
    batch = _batch(policy)
    frozen = ~batch["acted"]

    def actor_grad(b):
        rows, _ = ppo.prepare(copy.deepcopy(policy), b, _args())
        net = copy.deepcopy(policy)
        log = {k: [] for k in ppo.DIAGNOSTICS}
        mb = rows.take(torch.arange(rows.data.shape[0]))
        (ppo.group_loss(net, 0, mb, _args(vf_coef=0.0), log)).backward()
        return torch.cat([p.grad.flatten() for p in net.actors.parameters()])

    a, b = actor_grad(batch), actor_grad(_perturb(batch, frozen, ["actions", "logprobs", "advantages"]))
    assert a.abs().sum() > 0 and torch.allclose(a, b, atol=1e-7)


@pytest.mark.parametrize("param_sharing", ["all", "team"])
def test_frozen_opponent_samples_produce_no_gradient(param_sharing):
    policy = _policy(param_sharing)
    batch = _batch(policy)
    pooled = batch["agent"] >= 2  # the seekers played a snapshot
    batch["learn"] = ~pooled
    base, _ = _train(policy, batch)
    moved, _ = _train(policy, _perturb(batch, pooled, ["actions", "logprobs", "advantages", "returns", "raw_values"]))
    assert torch.equal(_flat(base), _flat(moved))
    for a, b in zip(base.value_norms, moved.value_norms, strict=True):
        assert torch.equal(a.running_mean, b.running_mean)


def test_team_layout_keeps_each_team_out_of_the_other_teams_parameters():
    policy = _policy("team")
    assert policy.num_groups == 2
    batch = _batch(policy)
    batch["learn"] = batch["agent"] < 2  # only the hiders learn
    trained, optimizers = _train(policy, batch)
    assert not torch.equal(_flat(trained.actors[0]), _flat(policy.actors[0]))
    assert torch.equal(_flat(trained.actors[1]), _flat(policy.actors[1]))
    assert torch.equal(_flat(trained.critics[1]), _flat(policy.critics[1]))
    assert not optimizers[2].state and not optimizers[3].state  # the seekers' Adams never stepped
    # A hider loss leaves no gradient on the seekers' networks, and changing the seekers' samples does not
    # change what the hiders learn.
    rows, _ = ppo.prepare(copy.deepcopy(policy), _batch(policy), _args())
    net = copy.deepcopy(policy)
    ppo.group_loss(net, 0, rows.take(torch.arange(rows.data.shape[0])), _args(), {k: [] for k in ppo.DIAGNOSTICS}
                   ).backward()
    assert all(p.grad is None for p in [*net.actors[1].parameters(), *net.critics[1].parameters()])
    full = _batch(policy)
    seekers = full["agent"] >= 2
    a, _ = _train(policy, full)
    b, _ = _train(policy, _perturb(full, seekers, ["advantages", "returns", "actions"]))
    assert torch.equal(_flat(a.actors[0]), _flat(b.actors[0])) and torch.equal(_flat(a.critics[0]),
                                                                               _flat(b.critics[0]))


def test_values_and_advantages_are_normalised_per_team():
    policy = _policy()
    trained, _ = _train(policy, _batch(policy))
    means = [float(norm.running_mean / norm.debiasing_term) for norm in trained.value_norms]
    assert means[0] == pytest.approx(10.0, abs=0.5) and means[1] == pytest.approx(-10.0, abs=0.5)
    adv = torch.tensor([1.0, 2.0, 3.0, 100.0, 200.0, 300.0])
    team = torch.tensor([0, 0, 0, 1, 1, 1])
    out = ppo.standardize_per_team(adv, team, torch.ones(6, dtype=torch.bool), 2)
    assert torch.allclose(out[:3], out[3:], atol=1e-5) and out[:3].mean().abs() < 1e-6


def test_all_layout_has_team_one_hot_only_in_team_games():
    assert _policy().actor_input(torch.zeros(2, A, OBS)).shape[-1] == OBS + A + 2
    coop = MultiAgentPolicy(OBS, STATE, ["agent_0", "agent_1"], spaces.Discrete(5))
    assert coop.actor_input(torch.zeros(2, 2, OBS)).shape[-1] == OBS + 2


@pytest.mark.parametrize("space", [spaces.Discrete(5), spaces.MultiDiscrete([3, 2]),
                                   spaces.Box(-1.0, 1.0, (2,), dtype="float32")])
def test_frozen_opponent_acts_with_the_snapshot_for_its_team_only(space):
    policy = _policy("team", space)
    snapshot = copy.deepcopy(policy)
    for p in snapshot.parameters():
        p.data.add_(1.0)
    mixed = FrozenOpponent(policy, snapshot.state_dict(), team=1)
    actor_in = policy.actor_input(torch.randn(3, A, OBS))
    ours, theirs, both = (m.distribution(actor_in) for m in (policy, snapshot, mixed))
    action = both.sample()
    lp = both.log_prob(action)
    assert torch.allclose(lp[:, :2], ours.log_prob(action)[:, :2])
    assert torch.allclose(lp[:, 2:], theirs.log_prob(action)[:, 2:])


def test_opponent_pool_keeps_the_last_snapshots_and_draws_reproducibly():
    policy = _policy()
    pool = OpponentPool(size=2, prob=1.0, every=2, num_teams=2, seed=0)
    assert pool.draw() is None  # nothing to play against yet
    for update in range(6):
        pool.maybe_snapshot(policy, update)
    assert len(pool.snapshots) == 2
    saved = copy.deepcopy(pool.state_dict())
    draws = [pool.draw() for _ in range(5)]
    assert all(team in (0, 1) and index in (0, 1) for team, index in draws)
    pool.load_state_dict(saved)
    assert [pool.draw() for _ in range(5)] == draws
    assert not OpponentPool(size=3, prob=0.5, every=1, num_teams=1, seed=0).enabled  # cooperative: off


def test_trains_hide_and_seek_with_an_opponent_pool_in_both_layouts(tmp_path):
    for layout in ("all", "team"):
        args = mappo.Args(env_id="hide_and_seek_v1", env_kwargs='{"max_cycles": 10, "map": "open"}', num_envs=2,
                          num_steps=10, total_timesteps=2 * 10 * 4, update_epochs=1, progress=False,
                          tensorboard=False, device="cpu", run_dir=str(tmp_path / layout), param_sharing=layout,
                          opponent_pool=2, opponent_prob=0.5, snapshot_every=1)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # aligned rollouts: no phase warning
            run = mappo.train(args)
        frozen = [row["selfplay/frozen_team"] for row in run.history]
        assert run.update == 4 and set(frozen) <= {-1, 0, 1} and frozen[0] == -1
        # the stage of play is read from self-play updates only: a frozen opponent's games are another matchup
        stages = [row["behaviour/stage"] for row in run.history]
        assert all(math.isnan(s) == (f != -1) for s, f in zip(stages, frozen, strict=True)), (stages, frozen)


def test_the_trainer_logs_the_stage_index_from_the_behaviour_means():
    from baselines.mappo import with_stage
    from marl_envs import make_batched

    env = make_batched("hide_and_seek_v1", num_envs=1)
    row = {"episodic_return": 1.0, "behaviour/all_doors_blocked_prep": 0.9, "behaviour/box_locked_hiders_prep": 1.0,
           "behaviour/hidden_fraction": 0.9, "behaviour/ramp_secured_prep": 0.0, "behaviour/seekers_crossed": 0.0}
    assert with_stage(env, row)["behaviour/stage"] == 1.0  # shelter
    assert math.isnan(with_stage(env, {**row, "behaviour/seekers_crossed": float("nan")})["behaviour/stage"])
    spread = make_batched("spread_v0", num_envs=1)
    assert "behaviour/stage" not in with_stage(spread, {"episodic_return": 1.0})


def test_a_stage_seen_for_the_first_time_saves_a_small_policy_file_that_plays(tmp_path):
    from baselines.common.checkpoint import load_checkpoint
    from baselines.common.policy import build_policy_from_checkpoint
    from baselines.mappo import Args, save_stage_policy, train
    from marl_envs import make_batched

    run = train(Args(env_id="hide_and_seek_v1", num_envs=4, num_steps=10, total_timesteps=40, progress=False,
                     env_kwargs='{"max_cycles": 10}', run_dir=str(tmp_path / "run"), tensorboard=False, device="cpu"))
    assert (tmp_path / "run" / "stages" / "0_chasing.pt").exists()  # an untrained policy shows "chasing"
    row = {"behaviour/stage": 1.0}
    path = save_stage_policy(run, run.env, row)
    assert path.endswith("1_shelter.pt") and save_stage_policy(run, run.env, row) is None  # only the first time
    payload = load_checkpoint(path)
    assert "optimizers" not in payload and "collector" not in payload
    env = make_batched("hide_and_seek_v1", num_envs=2, max_cycles=10)
    obs, info = env.reset(seed=0)
    policy = build_policy_from_checkpoint(payload, env)
    assert tuple(policy.act(obs, info["state"], deterministic=True).shape) == (2, 4, 5)


def test_reference_opponents_join_the_pool_after_the_snapshots_and_never_age_out():
    policy = _policy()
    pool = OpponentPool(size=1, prob=1.0, every=1, num_teams=2, seed=0, references=("scripted", "random"))
    assert pool.enabled and pool.draw() is not None  # references alone are opponents from the first update
    for update in range(3):
        pool.maybe_snapshot(policy, update)
    assert len(pool.snapshots) == 1
    draws = [pool.draw() for _ in range(60)]
    assert {index for _, index in draws} == {0, 1, 2} and {team for team, _ in draws} == {0, 1}
    assert [pool.reference_of((0, i)) for i in range(3)] == [None, "scripted", "random"]
    assert pool.reference_of(None) is None
    assert isinstance(pool.acting_policy(policy, (1, 0)), FrozenOpponent)
    assert isinstance(pool.acting_policy(policy, (1, 2)), ReferenceOpponent)
    assert OpponentPool(size=0, prob=0.5, every=1, num_teams=2, seed=0, references=("random",)).enabled
    with pytest.raises(ValueError, match="unknown reference opponents"):
        OpponentPool(size=0, prob=0.5, every=1, num_teams=2, seed=0, references=("greedy",))
    assert parse_references(" scripted , random") == ("scripted", "random") and parse_references("") == ()
    for bad in ("scripted,scripted", "scripted,bot"):
        with pytest.raises(ValueError, match="--reference-opponents takes"):
            parse_references(bad)


@pytest.mark.parametrize("kind", ["scripted", "random"])
def test_a_reference_opponent_plays_its_team_and_the_env_steps_with_those_actions(kind):
    from baselines.common.rollout import EpisodeStats, agent_teams, collect
    from marl_envs import make_batched

    env = make_batched("hide_and_seek_v1", num_envs=3, seed=4, max_cycles=12)
    obs, info = env.reset(seed=4)
    policy = mappo.ActorCritic(env, mappo.Args(env_id="hide_and_seek_v1", hidden_size=16))
    nvec = env.action_spec.nvec
    with torch.no_grad():  # a learner that (almost surely) picks value 0 of every factor: its samples are known
        for actor in policy.actors:
            head = [m for m in actor.modules() if isinstance(m, torch.nn.Linear)][-1]
            head.weight.zero_()
            head.bias.fill_(-20.0)
            head.bias[torch.tensor([0, *nvec[:-1]]).cumsum(0)] = 20.0
    seekers = [i for i, name in enumerate(env.agents) if name.startswith("seeker")]
    agent = ReferenceOpponent(policy, kind, team=int(policy.team_of[seekers[0]]))
    played, scripted = [], []
    step = env.step

    def recording_step(action):  # what the env is asked to play, and what its scripted team would play there
        scripted.append(env.scripted_actions())
        played.append(action.clone())
        return step(action)

    env.step = recording_step
    torch.manual_seed(0)
    rollout, *_ = collect(env, agent, 12, obs, info["state"], EpisodeStats(agent_teams(list(env.agents))),
                          lambda x: policy.value(x))
    played, scripted = torch.stack(played), torch.stack(scripted)
    assert torch.equal(rollout.actions, played)  # the rollout holds the actions that were played
    hiders = [i for i in range(env.num_agents) if i not in seekers]
    # the hiders' actions are the learner's samples: their log-probabilities are the stored ones
    dist = policy.distribution(rollout.actor_in[:, :, hiders])
    assert torch.allclose(dist.log_prob(played[:, :, hiders]), rollout.logprobs[:, :, hiders], atol=1e-6)
    assert bool(((played >= 0) & (played < torch.tensor(nvec))).all())
    assert not bool(played[:, :, hiders].any())  # the learner's own choice
    if kind == "scripted":
        assert torch.equal(played[:, :, seekers], scripted[:, :, seekers])
    else:  # uniform: every value of every factor shows up in 12 steps x 3 worlds x 2 seekers
        for factor, n in enumerate(nvec):
            assert set(played[:, :, seekers, factor].flatten().tolist()) == set(range(n))


def test_training_against_reference_opponents_leaves_the_frozen_teams_weights_alone(tmp_path, monkeypatch):
    args = mappo.Args(env_id="hide_and_seek_v1", env_kwargs='{"max_cycles": 10, "map": "open"}', num_envs=2,
                      num_steps=10, total_timesteps=2 * 10 * 3, update_epochs=1, progress=False, tensorboard=False,
                      device="cpu", run_dir=str(tmp_path / "run"), param_sharing="team", opponent_prob=1.0,
                      reference_opponents="scripted,random")
    seen = []
    original = mappo.update

    def spying_update(policy, optimizers, batch, args):
        before = copy.deepcopy(policy.state_dict())
        out = original(policy, optimizers, batch, args)
        seen.append((before, copy.deepcopy(policy.state_dict()), batch["learn"].clone(), batch["agent"].clone()))
        return out

    monkeypatch.setattr(mappo, "update", spying_update)
    run = mappo.train(args)
    rows = run.history
    assert run.update == 3 and all(row["selfplay/frozen_team"] in (0, 1) for row in rows)
    assert all(row["selfplay/reference"] in (1, 2) for row in rows)
    for row, (before, after, learn, agent) in zip(rows, seen, strict=True):
        frozen = row["selfplay/frozen_team"]
        prefix = f"actors.{frozen}."
        assert all(torch.equal(before[k], after[k]) for k in before if k.startswith(prefix))
        assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith(f"actors.{1 - frozen}."))
        assert not bool(learn[run.agent.team_of[agent] == frozen].any())
    with pytest.raises(ValueError, match="for team games"):
        mappo.train(mappo.Args(env_id="spread_v0", num_envs=2, num_steps=25, total_timesteps=50, progress=False,
                               tensorboard=False, device="cpu", run_dir=str(tmp_path / "spread"),
                               reference_opponents="random"))
    for frozen_opponents in ({"reference_opponents": "random"}, {"learn_team": "hider"}):
        with pytest.raises(ValueError, match="--recurrent with --opponent-pool, --reference-opponents or --learn"):
            mappo.Args(recurrent=True, **frozen_opponents)
    with pytest.raises(ValueError, match="--reference-opponents takes"):
        mappo.Args(reference_opponents="scripted,bot")


def test_a_best_response_pool_keeps_the_first_policy_and_freezes_the_other_team_every_update():
    policy = _policy()
    first = copy.deepcopy(policy.state_dict())
    pool = OpponentPool(size=0, prob=0.0, every=1, num_teams=2, seed=0, learn_team=0)
    assert pool.enabled and pool.keep_first  # on although --opponent-prob is 0: the draw ignores it
    with pytest.raises(RuntimeError, match="pool is empty"):
        pool.draw()
    for update in range(4):
        pool.maybe_snapshot(policy, update)
        with torch.no_grad():
            for p in policy.parameters():
                p.add_(1.0)
    assert len(pool.snapshots) == 1
    assert all(torch.equal(first[k], v) for k, v in pool.snapshots[0].items())
    assert [pool.draw() for _ in range(5)] == [(1, 0)] * 5  # team 1 plays the first policy, always
    resumed = OpponentPool(size=0, prob=0.0, every=1, num_teams=2, seed=0, learn_team=0)
    resumed.load_state_dict(copy.deepcopy(pool.state_dict()))
    resumed.maybe_snapshot(policy, 7)  # a resumed run keeps the checkpoint's first policy, not today's
    assert len(resumed.snapshots) == 1 and torch.equal(resumed.snapshots[0]["actors.0.net.0.weight"],
                                                       first["actors.0.net.0.weight"])
    # with a pool asked for, the snapshots age out as usual and the draw still freezes the other team only
    growing = OpponentPool(size=2, prob=0.0, every=1, num_teams=2, seed=0, learn_team=1,
                           references=("scripted",))
    for update in range(3):
        growing.maybe_snapshot(policy, update)
    assert not growing.keep_first and len(growing.snapshots) == 2
    draws = [growing.draw() for _ in range(40)]
    assert {team for team, _ in draws} == {0} and {index for _, index in draws} == {0, 1, 2}
    for teams, index in ((3, 0), (2, 2)):
        with pytest.raises(ValueError, match="--learn-team is for games of two teams"):
            OpponentPool(size=0, prob=0.0, every=1, num_teams=teams, seed=0, learn_team=index)


@pytest.mark.parametrize("param_sharing", ["all", "team"])
def test_learn_team_trains_one_team_against_the_policy_the_run_started_with(tmp_path, monkeypatch, param_sharing):
    args = mappo.Args(env_id="hide_and_seek_v1", env_kwargs='{"max_cycles": 10, "map": "open"}', num_envs=2,
                      num_steps=10, total_timesteps=2 * 10 * 3, update_epochs=1, progress=False, tensorboard=False,
                      device="cpu", run_dir=str(tmp_path / "run"), param_sharing=param_sharing, learn_team="hiders")
    seen = []
    original = mappo.update

    def spying_update(policy, optimizers, batch, args):
        seen.append((copy.deepcopy(policy.state_dict()), batch["learn"].clone(), batch["agent"].clone()))
        return original(policy, optimizers, batch, args)

    monkeypatch.setattr(mappo, "update", spying_update)
    run = mappo.train(args)
    policy = run.agent
    seeker = policy.team_of[2].item()
    assert list(policy.teams) == ["hider", "seeker"] and seeker == 1
    assert run.update == 3 and [row["selfplay/frozen_team"] for row in run.history] == [seeker] * 3
    first = seen[0][0]
    (snapshot,) = run.extras["opponent_pool"].snapshots  # the seekers acted with the first policy throughout
    assert all(torch.equal(first[k], snapshot[k]) for k in first)
    for _, learn, agent in seen:  # the seekers' samples never enter a loss
        assert bool(learn[policy.team_of[agent] == 0].all()) and not bool(learn[policy.team_of[agent] == 1].any())
    after = policy.state_dict()
    if param_sharing == "team":  # the seekers' networks are never stepped; the hiders' are
        assert all(torch.equal(first[k], after[k]) for k in first if k.startswith("actors.1."))
        assert any(not torch.equal(first[k], after[k]) for k in first if k.startswith("actors.0."))
    with pytest.raises(ValueError, match="--learn-team 'hunters' is not a team of this env"):
        mappo.train(dataclasses.replace(args, learn_team="hunters", run_dir=str(tmp_path / "bad")))


@pytest.mark.parametrize("algo", ["happo", "hatrpo"])
def test_learn_team_in_the_sequential_trust_region_methods_steps_only_that_teams_actors(tmp_path, algo):
    """HAPPO and HATRPO give each agent its own actor and share MAPPO's loop and masks: under --learn-team the
    seekers' actors stay as the run started, and the hiders' move."""
    import importlib

    module = importlib.import_module(f"baselines.{algo}")
    args = module.Args(env_id="hide_and_seek_v1", env_kwargs='{"max_cycles": 10, "map": "open"}', num_envs=2,
                       num_steps=10, total_timesteps=2 * 10 * 2, progress=False, tensorboard=False, device="cpu",
                       run_dir=str(tmp_path / algo), learn_team="hider")
    run = module.train(args)
    (first,) = run.extras["opponent_pool"].snapshots
    after = run.agent.state_dict()
    moved = {int(k.split(".")[1]) for k in first if k.startswith("actors.") and not torch.equal(first[k], after[k])}
    assert run.agent.spec["param_sharing"] == "agent" and run.agent.agents[2:] == ["seeker_0", "seeker_1"]
    assert moved == {0, 1} and [row["selfplay/frozen_team"] for row in run.history] == [1, 1]
