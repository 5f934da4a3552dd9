"""Per-env hyper-parameter presets (rl-baselines3-zoo style): one table for every CLI and the benchmark.

``PRESETS[(algo, env_id)]`` holds the argument defaults of that algorithm on that env, in our
argument names. A command line applies its env's preset, prints it, and stores the effective
arguments in config.json; flags given explicitly on the command line win over the preset
(``parse_cli``). Runs built in Python (``mappo.Args(...)``) get no preset unless they ask for one
(``with_preset``), so tests and scripts keep their exact arguments. ``--resume`` ignores presets:
a resumed run takes its arguments from its checkpoint.

Where the figures come from (docs/baselines/):
    spread_v0, MAPPO/IPPO: γ 0.9 (a 10-step horizon for 25-step episodes of dense rewards). 3 seeds x 2M
        steps, training return: MAPPO −29.50 (γ 0.95: −31.78, 0.99: −36.9), IPPO −29.16 (0.95: −30.33); on
        seed 1 MAPPO γ 0.85 −29.08 and 0.8 −29.37, on seed 2 γ 0.85 −30.34 against 0.9's −29.40. Then tanh
        hidden units (CleanRL's and OpenAI Baselines' choice; relu, MAPPO's reference code's, is the Args default)
        for every algorithm: MAPPO −27.27 ± 0.17 over 6 seeds (relu −29.56 ± 0.78 on the same seeds), IPPO −27.70
        (3 seeds; relu −29.83), HATRPO's separate actors −32.14 ± 0.55 (6 seeds; relu −33.20 ± 1.24).
    transport_v0, MAPPO/IPPO: 50-step rollouts (examples/train_transport.sh: 99.6% greedy success).
    hetero_transport_v0, MAPPO/IPPO/HAPPO/HATRPO: transport_v0's (the same task and episode length); MAPPO and
        HAPPO with tanh hidden units (6 seeds x 2M steps, greedy success: HAPPO 94.3% +- 5.4, relu 64.1% +- 13.8;
        MAPPO 67.6% +- 23.1, relu 66.4% +- 18.4). IPPO and HATRPO keep relu until measured.
    HAPPO, HATRPO on envs whose agents are alike (spread_v0, transport_v0): one actor
        that the agents update in turn (--param-sharing all, HARL's share_param; docs/baselines/happo.md, 3 seeds x
        2M steps): HAPPO on spread_v0 trains to -30.16 +- 0.82 (separate actors: -32.81 +- 0.31), and with a
        learning rate of 2e-3 (the shared actor takes A turns of Adam steps per update) to -28.85 +- 0.70 over 6
        seeds (MAPPO's -29.56 +- 0.78 on the same seeds), all with relu. With tanh, MAPPO's own learning rate and
        linear schedule suit it best: -27.20 +- 0.32 over 6 seeds (MAPPO's -27.27 +- 0.17; 2e-3 constant
        -27.62 +- 0.24, 1e-3 constant -27.28), so spread_v0's HAPPO entry adds only the sharing; on
        transport_v0 to 97.5% greedy success (separate: 95.5%); HATRPO on transport_v0 to 98.0% (separate: 88.4%),
        on spread_v0 with relu to -33.69 +- 0.79 (separate: -33.07 +- 0.27), with tanh to -28.38 +- 0.12 over 6
        seeds (separate: -32.14 +- 0.55; MAPPO -27.27 +- 0.17).
    HAPPO: MAPPO's preset of the env, each agent with its own actor (--param-sharing agent, HAPPO's default);
        on transport_v0 a constant learning rate. Each actor learns from a third of the samples
        that MAPPO's shared one gets, and linear annealing stopped the slow seeds before they got there
        (3 seeds x 2M steps, docs/baselines/happo.md): transport_v0 training success 0.97 +- 0.03 (linear:
        0.83 +- 0.25), spread_v0 training return -33.18 +- 0.14 (linear: -34.11 +- 2.07; both with γ 0.95;
        with γ 0.9 -32.81 +- 0.31). hetero_transport_v0 keeps the linear schedule: constant gave 0.73 +- 0.05
        against 0.82 +- 0.08.
    HATRPO: the same rollouts and critic, and HARL's default trust region: δ 0.01 per agent, 10 CG steps, at
        most 10 line-search tries, backtracking by 0.5 (the Args defaults, repeated here so that the table shows
        them).
        On spread_v0 the Fisher-vector products use every 5th sample (OpenAI Baselines' TRPO): 3 seeds x 2M
        steps gave the same training return as the full Fisher (−33.18 ± 0.14 against −33.13 ± 0.32, γ 0.95)
        at half the time per update (0.28 s against 0.52 s alone, one thread; MAPPO 0.32–0.39 s); the other envs
        keep the full Fisher until measured.
        On transport_v0 the full step's length comes from the undamped curvature (--step-length undamped): with
        the damped one every step was accepted whole at KL 0.0038 (δ 0.01); undamped, 3 seeds x 2M steps train to
        success 0.89 / 0.89 / 0.99, greedy 81.5 / 83.7 / 95.3% (damped: 15.4 / 80.7 / 92.0%); on
        hetero_transport_v0 greedy 29.1 / 62.7 / 48.4% (mean 46.7%; damped: 32.7%). On both, an entropy bonus of
        0.01 in each agent's surrogate (the seeds that fail had lost their entropy early): transport_v0 greedy
        85.2 / 92.2 / 87.9% (mean 88.4%), hetero_transport_v0 67.8 / 77.4 / 64.2% (mean 69.8%).
    hide_and_seek_v1, HAPPO/HATRPO: MAPPO's starting point with one actor per agent (untuned; the factor M
        compounds within a team only, common/sequential.py).
    hide_and_seek_v1, MAPPO/IPPO: a starting point, not a tuned setting. Rollouts of one whole
        episode (80 steps; the worlds run in lockstep, so each rollout holds the preparation and the
        hiding phase of every world in their true proportion), 1024 worlds, Baker et al.'s γ 0.998
        (their episodes are 240 steps; with the time left in the critic's state and truncation treated
        as terminal, the return is the undiscounted team score of the rest of the game), λ 0.95,
        constant learning rate 3e-3 (MAPPO's default), entropy 0.01, 64-wide networks, 4 epochs of 8
        minibatches. Speed and step size decide on 2 CPU cores. 2 epochs at 6e-3 (half the learning time,
        a median 17.1k env-steps/s over 95 minutes against 12.0k) learned as fast per env step on the same seed
        through 49M steps (chasing, the hiders' answer), but its seekers had not taken up the ramp by 88M
        (elevated in 8% of games; the 4-epoch run's 35% at 77M; approx KL 0.006 per update against 0.007):
        not the preset until it is shown to reach the later stages as well. Before: 128-wide networks with
        learning rate 3e-4 and 4 x 4 minibatches ran at 5k env-steps/s and showed only chasing after 15M
        steps (64 minutes); 64-wide networks run at ~10k; with learning rate 1e-3 the updates moved the
        policy little (approx KL 0.004) and the hiders' return fell only from +67 to +42 in 7M steps, while a
        27-minute run on hide_and_seek_v0 with 3e-3 reached chasing by 5M steps and corner shelters by 14M.
        Speed: --compile and --precision auto (bf16 where the CPU or GPU multiplies it natively): 25.1k
        env-steps/s against 17.0k eager fp32 on the 2-core VM (12 updates back to back), and the same course of
        learning as eager fp32 on seed 1 through 20.5M steps (docs/baselines/team_selfplay.md, speed).
    CartPole-v1, Pendulum-v1, TRPO: rl-baselines3-zoo's hyperparams/trpo.yml (without gSDE, which we lack);
        NPG: the same, with α 0.3 on Pendulum (examples/train_single_agent.sh).
    spread_v0, TRPO/NPG (joint-control view): MAPPO's budget and γ (docs/baselines/trpo.md: −32.81 greedy).
    transport_v0 and hide_and_seek_v1, TRPO/NPG: untuned starting points (one policy for every agent is
        the joint view; in hide-and-seek its team reward, the sum over both teams, is 0: a smoke test only).
    hide_and_seek_v2 (v1's game with the door shelter's defaults): v1's entries, and for MAPPO, IPPO, HAPPO and
        HATRPO the door-start curriculum of the run that learned the door shelter (env_kwargs
        '{"boxes_at_doors": 0.5}': half of the quadrant games start with a box in front of each door). It is a
        training-only argument, which evaluation and cross-play drop (marl_envs.evaluation_kwargs). The MAPPO
        entry is that run's setting (seed 1, 116 minutes on 2 cores: every door blocked at the end of the
        preparation in 63.2% of 1000 greedy games; docs/baselines/team_selfplay.md). env_kwargs is one JSON
        string: an explicit --env-kwargs replaces it whole, so repeat boxes_at_doors there to keep the curriculum.
        They also chain the later stages' start curricula (--curriculum, common/curriculum.py): once self-play
        shows the shelter, the ramp at the room's wall in 30% of games (the run that reached ramp use from the
        shelter policy); once it shows ramp use, the ramp at the wall in 20% and the ramp by a door in 30% (the
        run that took ramp use to 27.7%). Those stages were reached as runs started from each other by hand; the
        schedule applies each where that run started, so a run that never shows a shelter never changes. An
        explicit --curriculum replaces it ('{}' for none).
    hide_and_seek_v3 (v2's game in 0.2 s steps): v2's entries, every algorithm, until runs on v3 measure its own.
    hide_and_seek_v4 (v3 under the released game's lock rule, "hold"): v3's entries, with the ramp-defense starts
        in the last step of the chain: once self-play shows ramp use, the ramp at the wall in 15% of games, the
        ramp in a doorway with hider 0 beside it in 15% (ramp_by_door) and the ramp by a door with the hiders
        anywhere in the room in 35% (ramp_outside_door), the mix of the v3 run that tripled the hiders' ramp locks
        (docs/baselines/team_selfplay.md). Those starts pay only under a lock that lasts, which is why they are
        v4's and not v3's.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

_SPREAD_PPO = {"gamma": 0.9, "activation": "tanh"}
_TRANSPORT_PPO = {"num_steps": 50}
_HETERO_TANH = {**_TRANSPORT_PPO, "activation": "tanh"}
_HIDE_AND_SEEK_PPO = {"num_envs": 1024, "num_steps": 80, "gamma": 0.998, "gae_lambda": 0.95, "learning_rate": 3e-3,
                      "critic_learning_rate": 3e-3, "lr_schedule": "constant", "ent_coef": 0.01, "hidden_size": 64,
                      "num_minibatches": 8, "update_epochs": 4, "time_limit": "auto", "param_sharing": "all",
                      "compile": True, "precision": "auto"}
_CARTPOLE_ZOO = {"num_envs": 2, "total_timesteps": 100_000, "num_steps": 512, "critic_batch_size": 512,
                 "cg_damping": 1e-3, "gae_lambda": 0.98, "gamma": 0.99, "critic_learning_rate": 1e-3,
                 "n_critic_updates": 20}
_PENDULUM_ZOO = {"num_envs": 2, "total_timesteps": 100_000, "num_steps": 1024, "gamma": 0.9, "n_critic_updates": 15}
_SPREAD_JOINT = {"num_envs": 128, "num_steps": 25, "gamma": 0.95, "critic_batch_size": 512,
                 "total_timesteps": 2_000_000}
_TRANSPORT_JOINT = {"num_envs": 128, "num_steps": 50, "critic_batch_size": 512, "total_timesteps": 2_000_000}
_HIDE_AND_SEEK_JOINT = {"num_envs": 128, "num_steps": 80, "critic_batch_size": 512}
# The start curricula of the runs that reached each stage, as one schedule: the door starts from the first update,
# the ramp at the wall once the doors are shut, the ramp by a door once the seekers use it.
_CURRICULA = {"env_kwargs": '{"boxes_at_doors": 0.5}',
              "curriculum": '{"shelter": {"ramp_at_wall": 0.3}, '
                            '"ramp use": {"ramp_at_wall": 0.2, "ramp_near_door": 0.3}}'}
# v4's chain ends with the ramp-defense starts of the run that raised the hiders' ramp locks (under "hold").
_CURRICULA_V4 = {"env_kwargs": '{"boxes_at_doors": 0.5}',
                 "curriculum": '{"shelter": {"ramp_at_wall": 0.3}, '
                               '"ramp use": {"ramp_at_wall": 0.15, "ramp_by_door": 0.15, "ramp_outside_door": 0.35}}'}
_HARL_TRUST_REGION = {"target_kl": 0.01, "cg_max_steps": 10, "line_search_shrinking_factor": 0.5,
                      "line_search_max_iter": 10}
_HATRPO_TRANSPORT = {**_TRANSPORT_PPO, **_HARL_TRUST_REGION, "step_length": "undamped", "ent_coef": 0.01}

PRESETS: dict[tuple[str, str], dict[str, Any]] = {
    ("mappo", "spread_v0"): _SPREAD_PPO,
    ("ippo", "spread_v0"): _SPREAD_PPO,
    ("mappo", "transport_v0"): _TRANSPORT_PPO,
    ("ippo", "transport_v0"): _TRANSPORT_PPO,
    ("mappo", "hide_and_seek_v1"): _HIDE_AND_SEEK_PPO,
    ("ippo", "hide_and_seek_v1"): _HIDE_AND_SEEK_PPO,
    ("mappo", "hetero_transport_v0"): _HETERO_TANH,
    ("ippo", "hetero_transport_v0"): _TRANSPORT_PPO,
    ("happo", "spread_v0"): {**_SPREAD_PPO, "param_sharing": "all"},
    ("happo", "transport_v0"): {**_TRANSPORT_PPO, "lr_schedule": "constant", "param_sharing": "all"},
    ("happo", "hetero_transport_v0"): _HETERO_TANH,
    ("hatrpo", "spread_v0"): {**_SPREAD_PPO, **_HARL_TRUST_REGION, "fisher_every": 5, "param_sharing": "all"},
    ("hatrpo", "transport_v0"): {**_HATRPO_TRANSPORT, "param_sharing": "all"},
    ("hatrpo", "hetero_transport_v0"): _HATRPO_TRANSPORT,
    ("happo", "hide_and_seek_v1"): {**_HIDE_AND_SEEK_PPO, "param_sharing": "agent"},
    ("hatrpo", "hide_and_seek_v1"): {**_HIDE_AND_SEEK_PPO, "param_sharing": "agent", **_HARL_TRUST_REGION},
    ("trpo", "CartPole-v1"): _CARTPOLE_ZOO,
    ("trpo", "Pendulum-v1"): _PENDULUM_ZOO,
    ("npg", "CartPole-v1"): _CARTPOLE_ZOO,
    ("npg", "Pendulum-v1"): {**_PENDULUM_ZOO, "learning_rate": 0.3},
    ("trpo", "spread_v0"): _SPREAD_JOINT,
    ("npg", "spread_v0"): _SPREAD_JOINT,
    ("trpo", "transport_v0"): _TRANSPORT_JOINT,
    ("npg", "transport_v0"): _TRANSPORT_JOINT,
    ("trpo", "hide_and_seek_v1"): _HIDE_AND_SEEK_JOINT,
    ("npg", "hide_and_seek_v1"): _HIDE_AND_SEEK_JOINT,
    ("trpo", "hetero_transport_v0"): _TRANSPORT_JOINT,
    ("npg", "hetero_transport_v0"): _TRANSPORT_JOINT,
    ("mappo", "hide_and_seek_v2"): {**_HIDE_AND_SEEK_PPO, **_CURRICULA},
    ("ippo", "hide_and_seek_v2"): {**_HIDE_AND_SEEK_PPO, **_CURRICULA},
    ("happo", "hide_and_seek_v2"): {**_HIDE_AND_SEEK_PPO, "param_sharing": "agent", **_CURRICULA},
    ("hatrpo", "hide_and_seek_v2"): {**_HIDE_AND_SEEK_PPO, "param_sharing": "agent", **_HARL_TRUST_REGION,
                                     **_CURRICULA},
    ("trpo", "hide_and_seek_v2"): _HIDE_AND_SEEK_JOINT,
    ("npg", "hide_and_seek_v2"): _HIDE_AND_SEEK_JOINT,
}
# hide_and_seek_v3 is v2's game in longer steps: v2's entries until its own are measured.
PRESETS.update({(algo, "hide_and_seek_v3"): dict(preset) for (algo, env_id), preset in list(PRESETS.items())
                if env_id == "hide_and_seek_v2"})
# hide_and_seek_v4 is v3 under the hold lock: v3's entries, and the ramp-defense starts where a chain is given.
PRESETS.update({(algo, "hide_and_seek_v4"): {**preset, **(_CURRICULA_V4 if "curriculum" in preset else {})}
                for (algo, env_id), preset in list(PRESETS.items()) if env_id == "hide_and_seek_v3"})


def preset_for(algo: str, env_id: str) -> dict[str, Any]:
    """The preset of ``algo`` on ``env_id`` (a copy; {} for envs without one, e.g. external PettingZoo ids)."""
    return dict(PRESETS.get((algo, env_id), {}))


def with_preset(args_cls: type, algo: str, env_id: str, **overrides: Any):
    """``args_cls`` with the env's preset as defaults and ``overrides`` on top (the CLI's rule, in Python)."""
    return args_cls(**{**preset_for(algo, env_id), "env_id": env_id, **overrides})


def parse_cli(args_cls: type, algo: str, description: str, argv: list[str] | None = None):
    """Parse a command line with the env's preset as the defaults; print what the preset set.

    The command line is parsed twice: once with the dataclass defaults, to learn ``--env-id``, then with
    the preset applied to the defaults, so that every flag given explicitly keeps its value.
    """
    from baselines.common.cli import prog_name
    from baselines.common.optional import require

    tyro = require("tyro", "train", "the training command lines")
    argv = sys.argv[1:] if argv is None else argv
    prog = prog_name(args_cls.__module__)
    plain = tyro.cli(args_cls, args=argv, description=description, prog=prog)
    preset = preset_for(algo, plain.env_id)
    if plain.resume or not preset:
        return plain
    args = tyro.cli(args_cls, args=argv, description=description, prog=prog,
                    default=dataclasses.replace(args_cls(), env_id=plain.env_id, **preset))
    default = args_cls()
    explicit = sorted(k for k in preset if getattr(plain, k) != getattr(default, k))
    applied = {k: getattr(args, k) for k in preset if k not in explicit}
    print(f"[{algo}] preset for {plain.env_id} (baselines/common/presets.py): "
          + ", ".join(f"{k}={v}" for k, v in applied.items())
          + (f"; given on the command line: {', '.join(explicit)}" if explicit else ""), flush=True)
    return args
