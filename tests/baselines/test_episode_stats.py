"""Episode statistics per team: the first team's return is episodic_return, each team gets a column."""

import math

import torch

from baselines.common.rollout import EpisodeStats, agent_teams


def test_agent_teams_group_ids_by_prefix_in_order():
    assert agent_teams(["hider_0", "hider_1", "seeker_0"]) == {"hider": [0, 1], "seeker": [2]}
    assert agent_teams(["agent_0", "agent_1"]) == {"agent": [0, 1]}


def test_team_returns_are_summed_over_members_and_averaged_over_finished_worlds():
    stats = EpisodeStats(agent_teams(["hider_0", "hider_1", "seeker_0"]))
    returns = torch.tensor([[1.0, 2.0, -3.0], [5.0, 5.0, -10.0], [100.0, 100.0, 100.0]])
    stats.add(torch.tensor([True, True, False]), returns, torch.tensor([10, 20, 30]))
    row = stats.pop()
    assert row == {"episodic_return": 6.5, "episodic_length": 15.0, "episodic_return_hider": 6.5,
                   "episodic_return_seeker": -6.5}
    empty = stats.pop()
    assert math.isnan(empty["episodic_return"]) and math.isnan(empty["episodic_return_seeker"])


def test_a_cooperative_team_has_no_per_team_columns():
    stats = EpisodeStats(agent_teams(["agent_0", "agent_1"]))
    stats.add(torch.tensor([True]), torch.tensor([[-1.0, -2.0]]), torch.tensor([25]))
    assert stats.pop() == {"episodic_return": -3.0, "episodic_length": 25.0}


def test_success_rate_counts_finished_episodes_that_succeeded():
    stats = EpisodeStats(agent_teams(["agent_0"]))
    returns, lengths = torch.zeros(4, 1), torch.full((4,), 7)
    stats.add(torch.zeros(4, dtype=torch.bool), returns, lengths, torch.ones(4, dtype=torch.bool))
    assert math.isnan(stats.pop()["success_rate"])  # the column exists before any episode ends
    stats.add(torch.tensor([True, True, True, False]), returns, lengths, torch.tensor([True, False, True, True]))
    stats.add(torch.tensor([True, False, False, False]), returns, lengths, torch.tensor([False, True, True, True]))
    assert stats.pop()["success_rate"] == 0.5  # 2 of 4 finished; the unfinished world's flag is ignored
    assert "success_rate" not in EpisodeStats().pop()  # envs without is_success get no column
