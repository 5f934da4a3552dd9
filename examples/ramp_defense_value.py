"""What ramp defense is worth: the same games played with the ramps free, with them locked by the hiders from the
first step, and with one hider scripted to go out for ramp 0 and lock it.

    python examples/ramp_defense_value.py                                   # scripted teams on hide_and_seek_v2
    python examples/ramp_defense_value.py --seekers runs/hide_and_seek_selfplay   # trained seekers
    python examples/ramp_defense_value.py --env-id hide_and_seek_v1 --seekers assets/hide_and_seek_v1_selfplay.pt

Why. Self-play learns a strategy only when it pays. Ramp defense (the hiders lock the ramp, or pull it into the
room, during the preparation) pays as much as the seekers' ramp use costs the hiders, and no more. Locking every
ramp where it spawned, before anyone moves, is the defense done perfectly at no cost: the difference in the hiders'
win rate between the two sets of games (the same seeds, so the same maps and starts) bounds what a learned
defense can gain against these seekers. A locked ramp can still be climbed where it stands; it cannot be carried to
a wall.

The third set of games (``trip``) asks whether a real defense fits the preparation: the last hider leaves the rest of
its team's plan and walks out of the room by the door nearest the ramp, locks it and comes back
(``heuristic.ramp_trip_actions``, a script that knows where the ramp is); the other hiders play ``--hiders``. Its
rows count how often the ramp was secured by the end of the preparation, and what the trip costs the shelter.

Each set is also split by the number of doors of the room (quadrant map: one or two). With one door the hider that
stays can block it alone, so the trip should cost the shelter little; with two it has both doors to shut, and
the split shows whether the trip is worth it there.

Each team is ``scripted``, ``random`` or a trained policy (a run directory or a checkpoint file), as in
``baselines.evaluate``. One game per world, all played at once. A win is a positive hider team return.
"""

from __future__ import annotations

import marl_envs  # noqa: F401  (before torch: marl_envs.openmp sets torch's OpenMP threads to sleep when idle)

# isort: split
import argparse
import json

import torch

from baselines.common.rollout import agent_teams
from baselines.crossplay import joint_actions, make_player, wilson_interval
from marl_envs import list_envs, make_batched
from marl_envs.scenarios.hide_and_seek import heuristic
from marl_envs.scenarios.hide_and_seek import manipulation as rules

DEFENSES = ("free", "locked", "trip")
"""The three sets of games: the ramps free, locked by the hiders from the first step, or locked by a scripted trip."""


@torch.no_grad()
def play(env_id: str, hiders: str, seekers: str, games: int, seed: int, env_kwargs: dict,
         defense: str) -> dict[str, torch.Tensor]:
    """Per game: ``win`` (bool), ``sheltered`` (every door blocked at the end of the preparation), ``crossed`` (a
    seeker went over a wall on a ramp), ``secured`` (the ramps locked by the hiders or in the room at the end of the
    preparation, NaN-free: a game whose ramp started in the room counts as not secured), ``doors`` (the number of
    doors of the room, 0 on maps without one); ``defense`` one of ``DEFENSES``."""
    if defense not in DEFENSES:
        raise ValueError(f"defense must be one of {DEFENSES}, got {defense!r}")
    env = make_batched(env_id, num_envs=games, seed=seed, autoreset=False, **env_kwargs)
    teams = agent_teams(list(env.agents))
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    players = {"hider": make_player(hiders, env, generator), "seeker": make_player(seekers, env, generator)}
    obs, info = env.reset(seed=seed)
    sc = env.scenario
    doors = sc.layout.door_mask.sum(1).cpu()
    if defense == "locked":
        k = sc.config.num_boxes
        sc.lock_team[:, k:] = torch.where(sc.present[:, k:], rules.HIDERS, sc.lock_team[:, k:])
    state, hider_return = info["state"], torch.zeros(games)
    columns = {team: torch.tensor(members) for team, members in teams.items()}
    defender = int(columns["hider"][-1])
    for t in range(env.max_cycles):
        actions = joint_actions(players, columns, obs, state)
        if defense == "trip" and t < sc.config.prep_steps:
            actions[:, defender] = heuristic.ramp_trip_actions(sc, defender)
        obs, reward, _, _, info = env.step(actions)
        state = env.state()
        hider_return += reward[:, columns["hider"]].sum(1)
    figures = info["behaviour"]
    return {"win": hider_return > 0, "sheltered": figures["all_doors_blocked_prep"] > 0.5,
            "crossed": figures["seekers_crossed"] > 0.5, "secured": figures["ramp_secured_prep"] > 0.5,
            "doors": doors}


def rate(flags: torch.Tensor) -> str:
    n, k = int(flags.numel()), int(flags.sum())
    if n == 0:
        return "n/a"
    lo, hi = wilson_interval(k, n)
    return f"{100 * k / n:5.1f}% ({100 * lo:.1f}-{100 * hi:.1f}, n={n})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env-id", default="hide_and_seek_v2",
                        choices=[e for e in list_envs() if e.startswith("hide_and_seek_")])
    parser.add_argument("--hiders", default="scripted", help="scripted, random, a run directory or a checkpoint")
    parser.add_argument("--seekers", default="scripted", help="scripted, random, a run directory or a checkpoint")
    parser.add_argument("--games", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--env-kwargs", default="{}", help='JSON env arguments, e.g. \'{"quadrant_spawn": "uniform"}\'')
    args = parser.parse_args()
    env_kwargs = json.loads(args.env_kwargs)
    if not isinstance(env_kwargs, dict):
        parser.error(f"--env-kwargs must be a JSON object, got {args.env_kwargs!r}")
    print(f"{args.env_id} {env_kwargs}: hiders {args.hiders} vs seekers {args.seekers}, {args.games} games, "
          f"seed {args.seed}")
    print(f"{'ramps':<9} {'hiders win':<26} {'every door blocked':<26} {'a seeker over a wall':<26} "
          f"{'ramp secured in prep':<26}")
    for defense in DEFENSES:
        g = play(args.env_id, args.hiders, args.seekers, args.games, args.seed, env_kwargs, defense)
        for label, rows in [(defense, slice(None))] + door_splits(g["doors"]):
            print(f"{label:<9} {rate(g['win'][rows]):<26} {rate(g['sheltered'][rows]):<26} "
                  f"{rate(g['crossed'][rows]):<26} {rate(g['secured'][rows]):<26}")


def door_splits(doors: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
    """(label, games) for each number of doors the games' rooms have, when they differ ("" rows otherwise)."""
    counts = sorted(int(n) for n in doors.unique())
    if len(counts) < 2:
        return []
    return [(f"  {n} door" + ("s" if n != 1 else ""), doors == n) for n in counts]


if __name__ == "__main__":
    main()
