"""HAPPO/HATRPO's sequential update: the compounding factor, the agent order, the trust region of each agent,
and the one-agent case, where HAPPO is PPO's update and HATRPO is TRPO's, update for update."""

import copy
import math

import pytest
import torch
from gymnasium import spaces
from torch.distributions import kl_divergence

from baselines import happo, hatrpo, mappo, trpo
from baselines.common import sequential
from baselines.common.natural_gradient import KL_ROUNDING
from baselines.common.policy import MultiAgentPolicy
from baselines.common.ppo import adam_per_group, loss_masks
from baselines.common.ppo import update as ppo_update

OBS, STATE = 6, 4


def _policy(num_agents, param_sharing="agent", **kwargs):
    return MultiAgentPolicy(OBS, STATE, [f"agent_{i}" for i in range(num_agents)], spaces.Discrete(5),
                            hidden_size=16, param_sharing=param_sharing, **kwargs)


def _batch(policy, positions, seed, inactive=0.0):
    """A flattened rollout of ``positions`` (t, b) samples for every agent, with actions drawn from ``policy``."""
    gen = torch.Generator().manual_seed(seed)
    a = policy.num_agents
    obs, state = torch.randn(positions, a, OBS, generator=gen), torch.randn(positions, STATE, generator=gen)
    actor_in = policy.actor_input(obs).reshape(positions * a, -1)
    critic_in = policy.critic_input(obs, state).reshape(positions * a, -1)
    agent = torch.arange(a).repeat(positions)
    with torch.no_grad():
        dist = policy.distribution(actor_in, agent)
        actions = torch.multinomial(dist.probs, 1, generator=gen).squeeze(-1)
        raw, values = policy.value(critic_in, agent)
        logprobs = dist.log_prob(actions)
    active = torch.rand(positions * a, generator=gen) >= inactive
    return {"actor_in": actor_in, "critic_in": critic_in, "actions": actions, "logprobs": logprobs,
            "advantages": torch.randn(positions * a, generator=gen), "values": values, "raw_values": raw,
            "returns": values + torch.randn(positions * a, generator=gen), "active": active,
            "acted": torch.ones_like(active), "agent": agent}


def _log_ratio(actor, batch, rows):
    with torch.no_grad():
        dist = actor.distribution(batch["actor_in"][rows])
        return dist.log_prob(batch["actions"][rows]) - batch["logprobs"][rows]


def test_the_factor_is_the_product_of_the_ratios_of_the_agents_already_updated():
    """Hand-built: 2 positions, 3 agents; agent 1 then agent 2 updated, agent 0 last."""
    factor = sequential.CompoundingFactor(2, torch.zeros(3, dtype=torch.long))
    rows = {i: sequential.rows_of(torch.arange(2), [i], 3) for i in range(3)}
    assert torch.equal(rows[2], torch.tensor([2, 5]))
    assert torch.equal(factor.of_rows(rows[1]), torch.ones(2))  # the first agent: M = 1
    factor.fold(rows[1], torch.tensor([2.0, 0.5]).log(), torch.tensor([True, True]))
    assert torch.allclose(factor.of_rows(rows[2]), torch.tensor([2.0, 0.5]))
    factor.fold(rows[2], torch.tensor([3.0, 4.0]).log(), torch.tensor([False, True]))  # agent 2 inactive at p0
    assert torch.allclose(factor.of_rows(rows[0]), torch.tensor([2.0, 2.0]))  # (2·1, 0.5·4)


def test_the_factor_compounds_within_a_team_only():
    factor = sequential.CompoundingFactor(1, torch.tensor([0, 0, 1]))
    factor.fold(torch.tensor([0]), torch.tensor([math.log(3.0)]), torch.tensor([True]))
    assert torch.allclose(factor.of_rows(torch.tensor([1, 2])), torch.tensor([3.0, 1.0]))


@pytest.mark.parametrize("layout", ["agent", "all"])
def test_every_agent_sees_the_ratios_of_those_before_it_in_a_real_update(layout):
    """Each agent's turn moves its actor at random; the factor it was given must be the product, over the agents
    updated before it, of their ratios right after their turns (r = 1 where they were inactive). With one shared
    actor ("all") every turn moves that actor, on its own agent's rows."""
    policy = _policy(4, layout)
    batch = _batch(policy, positions=12, seed=0, inactive=0.25)
    args = happo.Args(update_epochs=1, num_minibatches=1)
    seen, after, order = {}, {}, []
    pmask, _ = loss_masks(batch)

    def perturb(i, seq, critic_optimizers):
        rows = sequential.rows_of(seq.all_positions, [i], seq.num_agents)
        assert seq.actor(i) is policy.actors[0 if layout == "all" else i]
        seen[i] = seq.factor.of_rows(rows).clone()
        order.append(i)
        with torch.no_grad():
            for p in seq.actor(i).parameters():
                p.add_(0.3 * torch.randn_like(p))
        after[i] = torch.where(pmask[rows], _log_ratio(seq.actor(i), batch, rows).exp(), torch.ones(12))

    gen_state = sequential.AgentOrder(7)
    sequential.sequential_update(policy, happo.optimizers(policy, args), batch, args, gen_state, perturb)
    assert sorted(order) == [0, 1, 2, 3] and order == sequential.AgentOrder(7).draw(4)
    for m, i in enumerate(order):
        expected = torch.ones(12)
        for j in order[:m]:
            expected *= after[j]
        assert torch.allclose(seen[i], expected, rtol=1e-5), (m, i)
    assert not torch.allclose(seen[order[-1]], torch.ones(12))  # the test has teeth: ratios moved


def test_the_agent_order_is_seeded_random_and_resumable():
    a, b = sequential.AgentOrder(1), sequential.AgentOrder(1)
    draws = [a.draw(5) for _ in range(20)]
    assert draws == [b.draw(5) for _ in range(20)]
    assert len({tuple(d) for d in draws}) > 10 and all(sorted(d) == list(range(5)) for d in draws)
    saved = a.state_dict()
    ahead = [a.draw(5) for _ in range(3)]
    c = sequential.AgentOrder(99)
    c.load_state_dict(saved)
    assert [c.draw(5) for _ in range(3)] == ahead


def test_each_hatrpo_step_stays_in_its_trust_region_or_is_restored():
    delta = 0.005
    policy = _policy(3)
    batch = _batch(policy, positions=64, seed=1, inactive=0.1)
    batch["advantages"][batch["agent"] == 2] = 0.0  # agent 2's surrogate cannot improve: its step is rejected
    args = hatrpo.Args(target_kl=delta, update_epochs=1, num_minibatches=1, norm_adv=False)
    before = copy.deepcopy(policy)
    metrics = hatrpo.update(policy, hatrpo.optimizers(policy, args), batch, args, sequential.AgentOrder(0))
    pmask, _ = loss_masks(batch)
    accepted = 0
    for i in range(3):
        rows = (batch["agent"] == i) & pmask
        with torch.no_grad():
            old = before.actors[i].distribution(batch["actor_in"][rows])
            kl = float(kl_divergence(old, policy.actors[i].distribution(batch["actor_in"][rows])).mean())
        same = all(torch.equal(p, q) for p, q in zip(before.actors[i].parameters(), policy.actors[i].parameters(),
                                                      strict=True))
        assert same or 0 < kl <= delta * (1 + KL_ROUNDING), (i, kl)
        accepted += not same
    assert accepted == 2 and all(torch.equal(p, q) for p, q in zip(before.actors[2].parameters(),
                                                                    policy.actors[2].parameters(), strict=True))
    assert metrics["line_search_success"] == pytest.approx(2 / 3) and 0 < metrics["kl"] <= delta * (1 + KL_ROUNDING)
    assert 0 < metrics["step_fraction"] <= 2 / 3  # two accepted fractions in (0, 1], the rejected agent's 0


def test_with_a_shared_actor_each_hatrpo_turn_stays_in_its_agents_trust_region():
    """--param-sharing all: every agent's turn is one trust-region step of the shared actor, its KL measured over
    that agent's rows right after the turn."""
    delta = 0.005
    policy = _policy(3, "all")
    batch = _batch(policy, positions=64, seed=2, inactive=0.1)
    args = hatrpo.Args(target_kl=delta, norm_adv=False)
    pmask, _ = loss_masks(batch)
    kls = {}

    def measured(i, seq, critic_optimizers):
        rows = (batch["agent"] == i) & pmask
        with torch.no_grad():
            old = seq.actor(i).distribution(batch["actor_in"][rows])
        hatrpo.trust_region_turn(i, seq, critic_optimizers)
        with torch.no_grad():
            kls[i] = float(kl_divergence(old, seq.actor(i).distribution(batch["actor_in"][rows])).mean())

    sequential.sequential_update(policy, hatrpo.optimizers(policy, args), batch, args, sequential.AgentOrder(0),
                                 measured)
    assert sorted(kls) == [0, 1, 2] and all(0 < kl <= delta * (1 + KL_ROUNDING) for kl in kls.values()), kls


def test_the_hatrpo_entropy_bonus_is_part_of_the_objective_the_line_search_checks():
    """With zero advantages the surrogate is flat: without a bonus no step improves it (every step is rejected);
    with ``ent_coef`` c the objective is c·H, so every agent's accepted step raises its entropy, inside δ."""
    policy = _policy(3)
    for actor in policy.actors:  # a peaked policy, far from the uniform one of the largest entropy
        with torch.no_grad():
            [m for m in actor.modules() if isinstance(m, torch.nn.Linear)][-1].bias.copy_(torch.arange(5.0))
    batch = _batch(policy, positions=64, seed=3)
    batch["advantages"].zero_()
    entropy = []
    for c in (0.0, 0.05):
        trained = copy.deepcopy(policy)
        args = hatrpo.Args(target_kl=0.01, ent_coef=c, norm_adv=False)
        metrics = hatrpo.update(trained, hatrpo.optimizers(trained, args), copy.deepcopy(batch), args,
                                sequential.AgentOrder(0))
        with torch.no_grad():
            entropy.append([float(trained.actors[i].distribution(batch["actor_in"][batch["agent"] == i])
                                  .entropy().mean()) for i in range(3)])
        assert metrics["line_search_success"] == (1.0 if c else 0.0)
        assert metrics["kl"] <= 0.01 * (1 + KL_ROUNDING)
    assert all(after > before + 0.01 for before, after in zip(*entropy, strict=True)), entropy


def test_with_one_agent_happo_is_the_ppo_update():
    args = dict(update_epochs=3, num_minibatches=4, ent_coef=0.01)
    ours, theirs = _policy(1, "agent"), _policy(1, "all")
    theirs.load_state_dict(ours.state_dict())
    ours_opt, theirs_opt = happo.optimizers(ours, happo.Args(**args)), adam_per_group(theirs, mappo.Args(**args))
    order = sequential.AgentOrder(0)
    for k in range(3):  # update for update, each on a fresh batch of the current policy
        batch = _batch(ours, positions=40, seed=10 + k)
        torch.manual_seed(k)
        a = happo.update(ours, ours_opt, batch, happo.Args(**args), order)
        torch.manual_seed(k)
        b = ppo_update(theirs, theirs_opt, copy.deepcopy(batch), mappo.Args(**args))
        assert a == pytest.approx(b, nan_ok=True)
        for (name, p), q in zip(ours.state_dict().items(), theirs.state_dict().values(), strict=True):
            assert torch.equal(p, q), (k, name)


def test_with_one_agent_hatrpo_is_the_trpo_update():
    ours = _policy(1, "agent", agent_id=False, activation="tanh")
    targs = trpo.Args(hidden_size=16, norm_adv=False, target_kl=0.01, line_search_shrinking_factor=0.5)
    single = trpo.Policy(OBS, spaces.Discrete(5), targs)
    single.actor.load_state_dict(ours.actors[0].state_dict())
    hargs = hatrpo.Args(norm_adv=False, target_kl=0.01, line_search_shrinking_factor=0.5)
    order = sequential.AgentOrder(0)
    for k in range(3):
        batch = _batch(ours, positions=128, seed=20 + k)
        hatrpo.update(ours, hatrpo.optimizers(ours, hargs), batch, hargs, order)
        trpo_batch = {**batch, "critic_in": batch["actor_in"]}
        _, metrics = trpo.update(single, (torch.optim.Adam(single.critic.parameters()),), trpo_batch, targs)
        assert metrics["line_search_success"] == 1.0
        for p, q in zip(ours.actors[0].parameters(), single.actor.parameters(), strict=True):
            assert torch.equal(p, q), k


def test_a_shared_actor_takes_one_turn_per_agent_with_one_optimiser():
    """--param-sharing all (HARL's share_param): the agents take their turns in the drawn order on the one actor,
    each turn reading its own agent's rows only, all stepped by one Adam; every turn moves the actor."""
    args = happo.Args(update_epochs=2, num_minibatches=2)
    policy = _policy(3, "all")
    optimizers = happo.optimizers(policy, args)
    assert len(sequential.by_role(optimizers, "actor")) == 1
    batch = _batch(policy, positions=20, seed=5)
    step = happo.clipped_step(sequential.by_role(optimizers, "actor"))
    turns, read, moved = [], {}, []

    def record(i, seq, critic_optimizers):
        turns.append(i)
        take = seq.take
        seq.take = lambda rows, scratch=False: read.setdefault(i, []).append(rows) or take(rows, scratch)
        before = copy.deepcopy(seq.actor(i).state_dict())
        step(i, seq, critic_optimizers)
        seq.take = take
        moved.append(any(not torch.equal(before[k], v) for k, v in seq.actor(i).state_dict().items()))

    sequential.sequential_update(policy, optimizers, batch, args, sequential.AgentOrder(4), record)
    assert turns == sequential.AgentOrder(4).draw(3) and all(moved)
    for i in range(3):
        rows = torch.cat(read[i])
        assert len(read[i]) == 4 and bool((rows % 3 == i).all()), i  # 2 epochs x 2 minibatches of agent i's rows


def test_learning_rates_follow_each_optimisers_role():
    """HAPPO's optimisers are (actor_0..actor_2, critic); HATRPO has the critic's only: the schedule must not give
    the critic the actors' rate."""
    from baselines.common.ppo import set_learning_rates

    policy = _policy(3)
    ha, tr = happo.optimizers(policy, happo.Args()), hatrpo.optimizers(policy, hatrpo.Args())
    set_learning_rates(ha, 1.0, 2.0)
    set_learning_rates(tr, 1.0, 2.0)
    assert [opt.param_groups[0]["lr"] for opt in ha] == [1.0, 1.0, 1.0, 2.0]
    assert [opt.param_groups[0]["lr"] for opt in tr] == [2.0]


def test_the_critic_learns_the_same_inside_the_first_actors_passes_as_after_every_actor():
    """HAPPO's first block takes each critic minibatch into its own backward pass; the critic reads nothing the
    actors change, so its steps are those of fitting it afterwards (including after an early stop at target_kl)."""
    args = happo.Args(update_epochs=3, num_minibatches=4, target_kl=0.0)  # every actor stops after one epoch
    results = []
    for fused in (True, False):
        torch.manual_seed(0)
        policy = _policy(3)
        batch = _batch(policy, positions=40, seed=1)
        optimizers = happo.optimizers(policy, args)
        step = happo.clipped_step(sequential.by_role(optimizers, "actor"))
        turn = step if fused else (lambda g, seq, critic_optimizers, step=step: step(g, seq, None))
        torch.manual_seed(1)
        sequential.sequential_update(policy, optimizers, batch, args, sequential.AgentOrder(3), turn)
        results.append(copy.deepcopy(policy.state_dict()))
    assert all(torch.equal(results[0][k], results[1][k]) for k in results[0])
    torch.manual_seed(0)
    initial = _policy(3).state_dict()
    critic = [k for k in initial if k.startswith("critics.") and k.endswith("weight")]
    assert critic and all(not torch.equal(initial[k], results[0][k]) for k in critic)  # the critic did learn
