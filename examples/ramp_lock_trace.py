"""Does a policy keep the ramp locked? Step by step through the preparation: how often each hider presses lock, and in
how many games the ramp is locked by the hiders.

    python examples/ramp_lock_trace.py --policy assets/hide_and_seek_v3_ramp_use.pt --env-id hide_and_seek_v3
    python examples/ramp_lock_trace.py --policy RUN --env-kwargs '{"ramp_near_door": 1, "lock_rule": "hold"}'

Why. Ramp defense fails in two different ways that the end-of-preparation figure (``ramp_locked_hiders_prep``) cannot
tell apart: the hiders never lock the ramp, or they lock it and undo it. Under ``lock_rule="toggle"`` every press of
the lock action on the closest object flips it, so a policy that presses lock in most steps near the ramp undoes
its own lock as often as it makes it. The trace counts both: the games in which the ramp was locked by the hiders
at some step (``ever locked``) and those in which it was locked and then unlocked again (``undone``). It also splits
the games by how far the ramp starts from the nearest door of the room: a policy may defend a ramp it finds by the
door and never go out for one across the arena, and only the split shows which start curriculum it still needs.

By default the games start from the ramp-defense curriculum's state (``ramp_near_door`` 1: the ramp outside a door
and hider 0 beside it), where a hider has the ramp within reach from the first step. Both teams play the policy
(``--policy``: a run directory, a checkpoint, ``scripted`` or ``random``); the seekers do not act during the
preparation anyway. Actions are the policy's most likely ones.
"""

from __future__ import annotations

import marl_envs  # noqa: F401  (before torch: marl_envs.openmp sets torch's OpenMP threads to sleep when idle)

# isort: split
import argparse
import json
from collections.abc import Callable

import torch

from baselines.common.rollout import agent_teams
from baselines.crossplay import make_player
from marl_envs import list_envs, make_batched
from marl_envs.scenarios.hide_and_seek import manipulation as rules
from marl_envs.scenarios.hide_and_seek.behaviour import room_doors

LOCK = 4
"""Index of the lock action in an agent's MultiDiscrete action."""

DISTANCE_BANDS = (0.0, 1.5, 2.5, float("inf"))
"""Edges (metres) of the ramp's start distance from the nearest door that the summary splits the games by: within
about 1.5 m is where ``ramp_outside_door`` starts it (a band 1 m deep beyond the wall and the ramp's radius, 0.5 m
to either side of the door's centre); the quadrant game starts it up to about 3.3 m away."""

HIDER_BANDS = (0.0, 0.5, 1.0, float("inf"))
"""Edges (metres) of hider 0's start distance from the centre of the room's nearest door that the summary also splits
the games by: within 0.5 m it starts in the doorway or a step from it (``ramp_by_door``, most of ``hider_by_door``);
the quadrant game starts it anywhere in the 2 m room, up to about 2.5 m away."""


@torch.no_grad()
def trace(env_id: str, policy: str | Callable, games: int, seed: int, env_kwargs: dict) -> dict[str, torch.Tensor]:
    """Per preparation step: ``presses`` (steps, hiders) the fraction of games in which each hider pressed lock,
    ``locked`` (steps,) the fraction with ramp 0 locked by the hiders after the step; per game: ``ever`` (locked
    by the hiders after some step), ``undone`` (locked by them after some step and unlocked after a later one),
    ``kept`` (locked at the end of the preparation), ``started_in`` (hider 0 started in the room: the
    ``ramp_by_door`` start puts it on either side of the door), ``seen_first`` (a hider saw the ramp at the first
    step), ``went_out`` (a hider that started in the room was outside it after some step), ``out_at_end`` (a hider
    was outside the room at the end of the preparation, where the seekers will find it) and ``door_distance`` (metres
    from ramp 0's centre to the centre of the room's nearest door at the start) and ``hider_distance`` (the same from
    hider 0's centre).
    ``policy`` is a source for ``baselines.crossplay.make_player`` or a player (obs, state) -> actions."""
    env = make_batched(env_id, num_envs=games, seed=seed, autoreset=False, **env_kwargs)
    sc = env.scenario
    if sc.config.num_ramps < 1:
        raise ValueError(f"{env_id} {env_kwargs} has no ramp to trace")
    torch.manual_seed(seed)
    player = make_player(policy, env, torch.Generator().manual_seed(seed)) if isinstance(policy, str) else policy
    hiders = agent_teams(list(env.agents))["hider"]
    ramp = sc.config.num_boxes
    obs, info = env.reset(seed=seed)
    state = info["state"]
    room, start = sc.layout.room, sc.world.state.pos[:, 0]
    door_distance = _door_distance(sc)
    hider_distance = _door_distance(sc, 0)
    started_in = ((start > room[:, :2]) & (start < room[:, 2:])).all(-1)
    mask = sum(block.width for block in _blocks_before(env.obs_spec, "ramps_mask"))
    seen_first = (obs[:, hiders, mask] > 0.5).any(1)
    was_in = _in_room(sc, hiders)
    went_out = torch.zeros(games, dtype=torch.bool)
    presses, locked = [], []
    ever = torch.zeros(games, dtype=torch.bool)
    undone = torch.zeros(games, dtype=torch.bool)
    for _ in range(sc.config.prep_steps):
        actions = player(obs, state)
        presses.append((actions[:, hiders, LOCK] == 1).float().mean(0))
        obs, _, _, _, _ = env.step(actions)
        state = env.state()
        now = sc.lock_team[:, ramp] == rules.HIDERS
        undone |= ever & ~now
        ever |= now
        went_out |= (was_in & ~_in_room(sc, hiders)).any(1)
        locked.append(now.float().mean())
    out_at_end = ~_in_room(sc, hiders).all(1)
    env.close()
    return {"presses": torch.stack(presses), "locked": torch.stack(locked), "ever": ever, "undone": undone,
            "kept": now, "started_in": started_in, "seen_first": seen_first, "went_out": went_out,
            "out_at_end": out_at_end, "door_distance": door_distance,
            "hider_distance": hider_distance}


def _door_distance(sc, body: int | None = None) -> torch.Tensor:
    """(B,) metres from the centre of ``body`` (default ramp 0) to the centre of the nearest door in the room's
    walls."""
    body = sc.config.num_agents + sc.config.num_boxes if body is None else body
    gap = (sc.world.state.pos[:, body].unsqueeze(1) - sc.layout.doors).norm(dim=-1)
    return gap.masked_fill(~room_doors(sc.layout), float("inf")).amin(1)


def _in_room(sc, agents: list[int]) -> torch.Tensor:
    """(B, len(agents)) bool: each agent's centre lies in the quadrant room."""
    room, pos = sc.layout.room.unsqueeze(1), sc.world.state.pos[:, agents]
    return ((pos > room[..., :2]) & (pos < room[..., 2:])).all(-1)


def _blocks_before(spec, name: str) -> list:
    """The observation blocks before the block called ``name`` (its column is the sum of their widths)."""
    names = [block.name for block in spec.blocks]
    return list(spec.blocks[:names.index(name)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env-id", default="hide_and_seek_v3",
                        choices=[e for e in list_envs() if e.startswith("hide_and_seek_")])
    parser.add_argument("--policy", default="scripted", help="a run directory, a checkpoint, scripted or random")
    parser.add_argument("--games", type=int, default=512)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--env-kwargs", default='{"ramp_near_door": 1.0}',
                        help="JSON env arguments (default: every game starts with the ramp by a door, hider 0 by it)")
    args = parser.parse_args()
    env_kwargs = json.loads(args.env_kwargs)
    if not isinstance(env_kwargs, dict):
        parser.error(f"--env-kwargs must be a JSON object, got {args.env_kwargs!r}")
    t = trace(args.env_id, args.policy, args.games, args.seed, env_kwargs)
    print(f"{args.env_id} {env_kwargs}: {args.policy}, {args.games} games, seed {args.seed}")
    hiders = t["presses"].shape[1]
    print(f"{'step':>4} " + " ".join(f"{f'hider_{h} presses':>16}" for h in range(hiders)) + f" {'ramp locked':>12}")
    for step, (pressed, locked) in enumerate(zip(t["presses"].tolist(), t["locked"].tolist(), strict=True)):
        print(f"{step:>4} " + " ".join(f"{p:>16.2f}" for p in pressed) + f" {locked:>12.3f}")
    ever, undone = t["ever"].float().mean().item(), t["undone"].float().mean().item()
    print(f"ramp locked by the hiders at some step: {ever:.1%} of games; locked and then unlocked again: {undone:.1%}")
    print(f"a hider saw the ramp at the first step: {t['seen_first'].float().mean().item():.1%} of games; a hider "
          f"left the room during the preparation: {t['went_out'].float().mean().item():.1%}; a hider was outside it at "
          f"the end of the preparation: {t['out_at_end'].float().mean().item():.1%}")
    kept, started_in = t["kept"], t["started_in"]
    print(f"locked at the end of the preparation: {kept.float().mean().item():.1%} of games", end="")
    for name, games in (("in the room", started_in), ("outside it", ~started_in)):
        if games.any():
            print(f"; hider 0 started {name} in {int(games.sum())}: {kept[games].float().mean().item():.1%}", end="")
    print()
    for what, key, bands in (("the ramp's", "door_distance", DISTANCE_BANDS),
                             ("hider 0's", "hider_distance", HIDER_BANDS)):
        print(f"by {what} start distance from the nearest door of the room:")
        for low, high in zip(bands[:-1], bands[1:], strict=True):
            games = (t[key] >= low) & (t[key] < high)
            if games.any():
                print(f"  {low:.1f} to {high:.1f} m: {int(games.sum())} games, locked at the end of the preparation "
                      f"{kept[games].float().mean().item():.1%}, a hider left the room "
                      f"{t['went_out'][games].float().mean().item():.1%}")


if __name__ == "__main__":
    main()
