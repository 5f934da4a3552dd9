"""Team rewards of hide-and-seek (Baker et al. 2019, section 3 and appendix), batched.

From the seekers' view of the hiders, ``seen`` (B, H, S): hider h is in seeker s's vision
cone and line of sight. Per reward mode, after the preparation phase:

* ``selfish``: hider h gets +1 if no seeker sees it, else -1; seeker s gets +1 if it sees
  any hider, else -1.
* ``joint_mean``: every agent gets its team's mean of the selfish rewards.
* ``joint_zero_sum`` (the paper's main setting): hiders get +1 if every hider is hidden from
  every seeker, else -1; seekers get the opposite.

Every agent outside the play area additionally loses ``boundary_penalty``. During the
preparation phase every reward is 0 (the penalty included), so nothing can be gained
before the seekers are released.
"""

from __future__ import annotations

import torch


def team_rewards(seen: torch.Tensor, mode: str) -> torch.Tensor:
    """(B, H + S) rewards, hiders first, from ``seen`` (B, H, S) bool; see the module docstring."""
    hider_seen = seen.any(dim=2)  # (B, H)
    seeker_sees = seen.any(dim=1)  # (B, S)
    hiders = torch.where(hider_seen, -1.0, 1.0)
    seekers = torch.where(seeker_sees, 1.0, -1.0)
    if mode == "joint_mean":
        hiders = hiders.mean(dim=1, keepdim=True).expand_as(hiders)
        seekers = seekers.mean(dim=1, keepdim=True).expand_as(seekers)
    elif mode == "joint_zero_sum":
        found = hider_seen.any(dim=1, keepdim=True)
        hiders = torch.where(found, -1.0, 1.0).expand_as(hiders)
        seekers = -hiders[:, :1].expand_as(seekers)
    elif mode != "selfish":
        raise ValueError(f"unknown reward_mode {mode!r}")
    return torch.cat((hiders, seekers), dim=1)


def outside(pos: torch.Tensor, half_size: float) -> torch.Tensor:
    """(B, A) bool: agent centres outside the square play area [-half_size, half_size]^2."""
    return (pos.abs() > half_size).any(dim=-1)


def rewards(
    seen: torch.Tensor, mode: str, agent_pos: torch.Tensor, half_size: float, boundary_penalty: float,
    in_prep: torch.Tensor,
) -> torch.Tensor:
    """(B, A) rewards: team rewards minus the out-of-area penalty, zeroed where ``in_prep`` (B,) holds."""
    reward = team_rewards(seen, mode) - boundary_penalty * outside(agent_pos, half_size).to(torch.float32)
    return torch.where(in_prep.unsqueeze(-1), 0.0, reward)
