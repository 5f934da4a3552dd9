"""Drive one agent of any env with the keyboard while the others act on their own.

    python -m marl_envs.play spread_v0
    python -m marl_envs.play transport_v0 --others scripted
    python -m marl_envs.play hide_and_seek_v1 --agent seeker_0 --others scripted
    python -m marl_envs.play spread_v0 --checkpoint runs/mappo_spread     # teammates from a trained policy

Keys (also listed by ``--help``):

    arrows / WASD   push (force along x and y)
    Q / E           turn left / right (envs whose agents have a heading: hide-and-seek)
    space           grab (held while the key is down; hide-and-seek)
    L               lock or unlock the object in reach (hide-and-seek)
    Tab             drive the next agent
    R               reset the episode
    P               pause
    Esc             quit

Seeing an env is the fastest way to understand its rules and to spot a broken one, so this works
for every registered env through the same batched env the learners use (one world). The keys
become an action in the env's own action space: for MPE's 5-way discrete moves, the x direction
wins when both axes are pressed; continuous moves press the chosen directions fully; the
hide-and-seek MultiDiscrete bins go to their extremes. The other agents act randomly
(``--others random``), by the env's scripted policy (``scripted``), from a trained
checkpoint (``--checkpoint RUN_DIR``: read by an installed policy loader, ``marl_envs.policies``,
which the ``baselines`` trainers provide for their IPPO/MAPPO runs), or, from Python, by any
callable (``Play(..., policy=fn)``, ``fn(obs (1, A, ...)) -> actions (1, A, ...)``). Key state is
tracked from key-down/up events rather than polled, so the loop can be driven by posted events
(tests run it headless with SDL's dummy driver).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from collections.abc import Callable
from dataclasses import dataclass

import torch

from marl_envs.api.batched import BatchedEnv, make_batched
from marl_envs.policies import NoPolicyLoader, load_policy
from marl_envs.registry import list_envs
from marl_envs.scenarios.specs import ActionSpec

KEYS_HELP = """keys:
  arrows / WASD   push (force along x and y)
  Q / E           turn left / right (agents with a heading: hide-and-seek)
  space           grab, held while the key is down (hide-and-seek)
  L               lock or unlock the object in reach (hide-and-seek)
  Tab             drive the next agent
  R               reset the episode
  P               pause
  Esc             quit (closing the window too)"""

OTHERS = ("random", "scripted", "checkpoint")
PLAYER_COLOR = (0.95, 0.7, 0.1)
"""The driven agent is drawn in gold, whatever its team colour."""


@dataclass(frozen=True)
class Intent:
    """What the person asks of their agent this step, independent of any action space."""

    x: int = 0  # -1 left, +1 right
    y: int = 0  # -1 down, +1 up
    turn: int = 0  # +1 counter-clockwise (Q), -1 clockwise (E)
    grab: bool = False
    lock: bool = False  # a press, not a hold: one step of lock intent per key press


def keyboard_action(intent: Intent, spec: ActionSpec) -> torch.Tensor:
    """The action of one agent in ``spec``'s space that carries out ``intent``.

    Discrete (MPE order: none, -x, +x, -y, +y): one axis per step, x first. Continuous (MPE's 5
    floats in [0, 1]): the pressed directions at full strength. MultiDiscrete (hide-and-seek:
    x, y, torque bins, grab, lock): the extreme bins, the middle bin for no push.
    """
    if spec.kind == "discrete":
        if intent.x:
            return torch.tensor(1 if intent.x < 0 else 2)
        return torch.tensor(0 if not intent.y else (3 if intent.y < 0 else 4))
    if spec.kind == "continuous":
        move = torch.zeros(spec.shape)
        if spec.shape != (5,):
            return move  # no keyboard mapping for other continuous layouts: the agent idles
        move[1], move[2], move[3], move[4] = intent.x < 0, intent.x > 0, intent.y < 0, intent.y > 0
        return move * spec.high
    nvec = torch.as_tensor(spec.nvec)
    action = nvec // 2  # middle bins: no force, no torque; grab and lock off
    for i, level in enumerate((intent.x, intent.y, intent.turn)[: len(nvec)]):
        action[i] = (nvec[i] // 2) * (1 + level) if nvec[i] > 2 else action[i]
    if len(nvec) > 3:
        action[3] = int(intent.grab)
    if len(nvec) > 4:
        action[4] = int(intent.lock)
    return action


class KeyState:
    """Held keys from key-down/up events, and one-shot presses (lock, Tab, reset, pause, quit)."""

    HOLD = {"left": "x-", "a": "x-", "right": "x+", "d": "x+", "down": "y-", "s": "y-", "up": "y+", "w": "y+",
            "q": "turn+", "e": "turn-", "space": "grab"}
    PRESS = {"l": "lock", "tab": "next", "r": "reset", "p": "pause", "escape": "quit"}

    def __init__(self):
        self.held: set[str] = set()
        self.presses: set[str] = set()

    def handle(self, pygame, event) -> None:
        if event.type == pygame.QUIT:
            self.presses.add("quit")
        elif event.type in (pygame.KEYDOWN, pygame.KEYUP):
            name = pygame.key.name(event.key)
            if event.type == pygame.KEYUP:
                self.held.discard(self.HOLD.get(name, ""))
            elif name in self.HOLD:
                self.held.add(self.HOLD[name])
            elif name in self.PRESS:
                self.presses.add(self.PRESS[name])

    def intent(self) -> Intent:
        def axis(name: str) -> int:
            return int(f"{name}+" in self.held) - int(f"{name}-" in self.held)

        return Intent(axis("x"), axis("y"), axis("turn"), "grab" in self.held, "lock" in self.presses)

    def take(self, press: str) -> bool:
        """Whether ``press`` happened since the last step (and forget it)."""
        if press in self.presses:
            self.presses.discard(press)
            return True
        return False


class Play:
    """One world of ``env_id``, one agent driven by a person, the others by ``others``.

    Args:
        env_id: a registered env.
        agent: the agent to drive first (default the first one).
        others: "random", "scripted" (the scenario's ``heuristic_action``) or "checkpoint".
        checkpoint: a run directory or checkpoint file for ``others="checkpoint"`` (an IPPO/MAPPO run of
            ``baselines``), read by an installed policy loader (``marl_envs.policies``).
        policy: any callable from observations (1, A, ...) to actions (1, A, ...) for the other agents
            (``others`` becomes "policy").
        policy_loader: the name of the loader that reads ``checkpoint`` (default: the only one installed).
        seed: of the env (and of the random teammates).
        fps: steps per second of the window (default the env's ``render_fps``).
        render_mode: "human" for a window; "rgb_array" draws off-screen (tests, recordings).
        env_kwargs: keyword arguments of the env.
    """

    def __init__(self, env_id: str, agent: str | None = None, others: str = "random", checkpoint: str | None = None,
                 seed: int = 0, fps: int | None = None, render_mode: str = "human",
                 policy: Callable[[torch.Tensor], torch.Tensor] | None = None, policy_loader: str | None = None,
                 **env_kwargs):
        if policy is not None and checkpoint is not None:
            raise ValueError("give either policy (a callable) or checkpoint (a run to load), not both")
        if checkpoint is not None:
            others = "checkpoint"
        if others not in OTHERS:
            raise ValueError(f"others must be one of {list(OTHERS)}, got {others!r}")
        if others == "checkpoint" and checkpoint is None:
            raise ValueError("others='checkpoint' needs checkpoint=RUN_DIR (a trained IPPO/MAPPO run)")
        self.env: BatchedEnv = make_batched(env_id, num_envs=1, seed=seed, **env_kwargs)
        self.env_id, self.others = env_id, others
        agents = self.env.agents
        if agent is not None and agent not in agents:
            raise ValueError(f"unknown agent {agent!r} for {env_id}; agents are {agents}")
        self.controlled = agents.index(agent) if agent is not None else 0
        self.keys = KeyState()
        self._generator = torch.Generator().manual_seed(seed)
        if policy is not None:
            self.others, self._policy = "policy", policy
        else:
            self._policy = self._others_policy(checkpoint, policy_loader)
        from marl_envs.render import PygameRenderer

        self.renderer = PygameRenderer(render_mode, render_fps=fps or self.env.metadata["render_fps"],
                                       title=f"marl_envs.play: {env_id}")
        self.reset()

    # -- the loop -----------------------------------------------------------------------
    def reset(self) -> None:
        self.obs, _ = self.env.reset()
        self._policy_forgets()
        self.returns = torch.zeros(self.env.num_agents)
        self.steps, self.paused, self.last_frame = 0, False, None
        self.last_episode: dict[str, float] | None = None

    def step(self) -> bool:
        """Apply the pending key presses and advance one env step (unless paused); False once asked to quit."""
        if self.keys.take("quit"):
            return False
        if self.keys.take("next"):
            self.controlled = (self.controlled + 1) % self.env.num_agents
        if self.keys.take("reset"):
            self.reset()
        if self.keys.take("pause"):
            self.paused = not self.paused
        if not self.paused:
            actions = self._policy(self.obs)
            actions[0, self.controlled] = keyboard_action(self.keys.intent(), self.env.action_spec).to(actions.dtype)
            self.keys.take("lock")
            self.obs, reward, terminated, truncated, _ = self.env.step(actions)
            self.returns += reward[0].cpu()
            self.steps += 1
            if bool((terminated | truncated).any()):  # the world was reset in the same step
                self.last_episode = self._team_returns()
                self.returns.zero_()
                self.steps = 0
                self._policy_forgets()
        self.last_frame = self.draw()
        return True

    def _policy_forgets(self) -> None:
        """A new episode starts: a policy with memory (one with a ``reset()`` method) forgets the last one."""
        reset = getattr(self._policy, "reset", None)
        if callable(reset):
            reset()

    def run_events(self, frames: int) -> bool:
        """``frames`` times: read the pending window events, step and draw. False once asked to quit."""
        pygame = self._pygame()
        for _ in range(frames):
            for event in pygame.event.get() if pygame.display.get_init() else ():  # none off-screen
                self.keys.handle(pygame, event)
            if not self.step():
                return False
        return True

    def run(self, max_steps: int | None = None) -> None:
        """Until Esc or the window closes (or ``max_steps`` frames), then close the window."""
        try:
            if max_steps is not None:
                self.run_events(max_steps)
            else:
                while self.run_events(1):
                    pass
        finally:
            self.close()

    def close(self) -> None:
        self.renderer.close()
        self.env.close()

    # -- drawing ------------------------------------------------------------------------
    def draw(self):
        """The world with the driven agent in ``PLAYER_COLOR`` and the play HUD; the frame in rgb_array mode."""
        snapshot = self.env.snapshot(0)
        color = snapshot.color.copy()
        color[self.controlled] = PLAYER_COLOR
        return self.renderer.render(dataclasses.replace(snapshot, hud=self.hud(snapshot.hud), color=color))

    def hud(self, scenario_line: str = "") -> str:
        """Env, step, who is driven, team returns, the scenario's own line, and who sees whom."""
        agents = self.env.agents

        def show(teams: dict[str, float]) -> str:
            return "  ".join(f"{team} {value:+.2f}" for team, value in teams.items())

        lines = [
            f"{self.env_id}  step {self.steps}/{self.env.max_cycles}  you: {agents[self.controlled]}  "
            f"others: {self.others}" + ("  [paused]" if self.paused else ""),
            "return  " + show(self._team_returns())
            + ("" if self.last_episode is None else "   last episode  " + show(self.last_episode)),
        ]
        if scenario_line:
            lines.append(scenario_line)
        sees = getattr(self.env.scenario, "see_agents", None)
        if sees is not None:  # hide-and-seek: the (agent, agent) visibility of this step
            pairs = [f"{agents[i]}>{agents[j]}" for i, j in sees[0].nonzero().tolist()
                     if i != j and agents[i].split("_")[0] != agents[j].split("_")[0]]
            lines.append("sees: " + (", ".join(pairs) if pairs else "nobody"))
        return "\n".join(lines)

    def _team_returns(self) -> dict[str, float]:
        """This episode's return per team (agent ids' prefixes), summed over the team's agents."""
        teams: dict[str, float] = {}
        for i, name in enumerate(self.env.agents):
            team = name.rsplit("_", 1)[0]
            teams[team] = teams.get(team, 0.0) + float(self.returns[i])
        return teams

    # -- the other agents ---------------------------------------------------------------
    def _others_policy(self, checkpoint: str | None, loader: str | None) -> Callable[[torch.Tensor], torch.Tensor]:
        env, spec = self.env, self.env.action_spec
        if self.others == "random":
            def random_actions(obs: torch.Tensor) -> torch.Tensor:
                if spec.kind == "discrete":
                    return torch.randint(0, spec.n, (1, env.num_agents), generator=self._generator)
                if spec.kind == "continuous":
                    u = torch.rand(1, env.num_agents, *spec.shape, generator=self._generator)
                    return spec.low + u * (spec.high - spec.low)
                return torch.stack([torch.randint(0, int(n), (1, env.num_agents), generator=self._generator)
                                    for n in spec.nvec], dim=-1)
            return random_actions
        if self.others == "scripted":
            scenario = env.scenario
            if not hasattr(scenario, "heuristic_action"):
                raise ValueError(f"{self.env_id} has no scripted policy; use --others random")

            def scripted(obs: torch.Tensor) -> torch.Tensor:
                action = scenario.heuristic_action(scenario.sense()).cpu()
                if spec.kind == "continuous" and action.dim() == 2:  # MPE moves: one-hot of the discrete move
                    return torch.nn.functional.one_hot(action, 5).float() * spec.high
                return action
            return scripted
        return load_policy(checkpoint, env, loader)

    @staticmethod
    def _pygame():
        from marl_envs.render.renderer import _import_pygame

        return _import_pygame()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m marl_envs.play", description=__doc__.split("\n\n")[0],
                                     epilog=KEYS_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("env_id", choices=list_envs(), help="the env to play")
    parser.add_argument("--agent", default=None, help="the agent to drive first (default: the first one)")
    parser.add_argument("--others", choices=OTHERS, default="random", help="how the other agents act")
    parser.add_argument("--checkpoint", default=None, help="IPPO/MAPPO run directory driving the other agents "
                        "(needs the baselines trainers installed: they provide the policy loader)")
    parser.add_argument("--policy-loader", default=None,
                        help="which installed policy loader reads --checkpoint (default: the only one)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fps", type=int, default=None, help="steps per second (default: the env's render_fps)")
    parser.add_argument("--env-kwargs", default="{}", help='JSON env arguments, e.g. \'{"N": 4}\'')
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many frames")
    args = parser.parse_args(argv)
    try:
        kwargs = json.loads(args.env_kwargs)
    except json.JSONDecodeError as error:
        parser.error(f"--env-kwargs is not valid JSON: {error}")
    if not isinstance(kwargs, dict):
        parser.error("--env-kwargs must be a JSON object")
    if "DISPLAY" not in os.environ and "WAYLAND_DISPLAY" not in os.environ and os.name == "posix" \
            and "SDL_VIDEODRIVER" not in os.environ:
        print("marl_envs.play: no display found (DISPLAY is unset); the window may not open", flush=True)
    try:
        play = Play(args.env_id, agent=args.agent, others=args.others, checkpoint=args.checkpoint, seed=args.seed,
                    fps=args.fps, policy_loader=args.policy_loader, **kwargs)
    except NoPolicyLoader as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    print(KEYS_HELP, flush=True)
    play.run(args.max_steps)


if __name__ == "__main__":
    main()
