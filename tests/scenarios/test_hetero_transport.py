"""hetero_transport_v0: each agent's mass, strength and action frame are its own; the task stays transport's."""

import pytest
import torch

from marl_envs import make_batched
from marl_envs.scenarios.hetero_transport import HeteroTransportConfig

PLUS_X = torch.tensor([1.0, 0.0])


def _first_step_velocity(env_kwargs, actions):
    """Each agent's velocity after one step from rest, far from everything."""
    env = make_batched("hetero_transport_v0", num_envs=1, seed=0, **env_kwargs)
    env.reset()
    s = env.scenario.world.state
    for i in range(env.num_agents):
        s.pos[0, i] = torch.tensor([-1.2 + 0.4 * i, -1.2])
        s.vel[0, i] = 0.0
    env.step(actions)
    return env.scenario.world.state.vel[0, : env.num_agents]


def test_the_same_action_pushes_each_agent_its_own_way():
    vel = _first_step_velocity({}, torch.tensor([[2, 2, 2]]))  # MPE's "+x" for every agent
    directions = vel / vel.norm(dim=-1, keepdim=True)
    expected = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])  # turned 0, 1 and 2 quarter-turns
    assert torch.allclose(directions, expected, atol=1e-5)


def test_strength_and_mass_set_the_acceleration():
    # each agent pushes along +x in its own frame: agent 0 action 2, agent 1 action 3, agent 2 action 1
    vel = _first_step_velocity({}, torch.tensor([[2, 3, 1]]))
    assert torch.allclose(vel[:, 1], torch.zeros(3), atol=1e-6) and (vel[:, 0] > 0).all()
    ratio = vel[:, 0] / vel[0, 0]
    assert torch.allclose(ratio[1:], torch.tensor([(4.0 / 0.5) / (4.5 / 2.0)] * 2), rtol=1e-4)
    same = _first_step_velocity({"strengths": [1.0], "masses": [1.0], "quarter_turns": [0]},
                                torch.tensor([[2, 2, 2]]))
    assert torch.allclose(same, same[0].expand(3, 2))  # identical agents when the roles are made equal


def test_continuous_actions_decode_as_the_discrete_one_hot():
    one_hot = torch.nn.functional.one_hot(torch.tensor([[2, 3, 1]]), 5).float()
    assert torch.allclose(_first_step_velocity({"continuous_actions": True}, one_hot),
                          _first_step_velocity({}, torch.tensor([[2, 3, 1]])), atol=1e-6)


def test_scripted_pushers_in_their_own_frames_deliver_and_the_untranslated_ones_do_not():
    """The task needs nothing but transport's behaviour, each agent in its own action frame; one shared
    mapping from situation to action index (the untranslated actions) fails."""
    def success(translate: bool) -> float:
        env = make_batched("hetero_transport_v0", num_envs=64, seed=2)
        env.reset()
        sc, wins, ends = env.scenario, 0, 0
        for _ in range(400):
            sensed = sc.sense()
            actions = sc.heuristic_action(sensed) if translate else super(type(sc), sc).heuristic_action(sensed)
            _, _, terminated, truncated, info = env.step(actions)
            ended = (terminated | truncated).any(1)
            wins += int(info["is_success"][ended].sum())
            ends += int(ended.sum())
        return wins / ends

    assert success(True) > 0.35 > 0.05 > success(False)


@pytest.mark.parametrize("bad,error", [({"strengths": [1.0, -2.0]}, ValueError), ({"masses": []}, TypeError),
                                        ({"quarter_turns": [0.5]}, TypeError), ({"strengths": "strong"}, TypeError)])
def test_bad_per_agent_arguments_are_named(bad, error):
    with pytest.raises(error, match=next(iter(bad))):
        HeteroTransportConfig(**bad)


def test_roles_cycle_over_more_agents():
    config = HeteroTransportConfig(N=5)
    assert config.per_agent("masses") == [2.0, 0.5, 0.5, 2.0, 0.5]
    assert config.per_agent("quarter_turns") == [0, 1, 2, 0, 1]
