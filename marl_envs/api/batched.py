"""BatchedEnv: B worlds of one scenario on one device, torch tensors in and out.

Shapes: obs (B, A, obs_dim); rewards, terminated, truncated (B, A); actions (B, A) for
discrete, (B, A, k) otherwise. A world whose episode ends is reset in the same step
(Gymnasium's ``AutoresetMode.SAME_STEP``): the returned ``obs`` is the first observation
of the next episode and ``info`` holds what a learner needs to bootstrap:

    info["final_obs"]       (B, A, obs_dim) observation reached by this step, before any reset
    info["final_state"]     (B, state_dim)  global state reached by this step, before any reset
    info["episode_return"]  (B, A) return of the current episode up to and including this step
    info["episode_length"]  (B,)   length of the current episode including this step
    info["is_success"]      (B,)   bool, the task is achieved (only for scenarios that define
                                   success, e.g. transport_v0); read it where an episode ends
    info["acted"]           (B, A) bool, whose action in this step had any effect (only for
                                   scenarios that ignore some actions: hide-and-seek's seekers
                                   during the preparation phase); mask the policy loss with it
    info["behaviour"]       dict name -> (B,) float, the scenario's running figures of the
                                   current episode (hide-and-seek: what agents did with boxes
                                   and ramps); read them where an episode ends

Select the finished worlds with ``terminated | truncated``. Worlds that can only end by
truncation stay in lockstep (``env.lockstep``), so the env knows on the host when they end and
never pays for per-world resets or host syncs in between. ``env.time_limit_observed`` says
whether ``state()`` shows the time left: then the time limit is part of the task and a learner
should treat truncation as terminal instead of bootstrapping past it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from gymnasium.vector import AutoresetMode

from marl_envs.api import spaces as sp
from marl_envs.api.allocator import tune_cpu_allocator
from marl_envs.api.checks import validate_actions
from marl_envs.registry import get_scenario_class
from marl_envs.scenarios.base import Scenario
from marl_envs.seeding import make_generator, validate_seed

RENDER_MODES = ("human", "rgb_array")


class BatchedEnv:
    """Vectorised multi-agent env over ``num_envs`` worlds.

    Args:
        env_id: a registered id (see ``marl_envs.list_envs()``) or a ``Scenario`` subclass.
        num_envs: B, the number of worlds.
        device: torch device of every tensor.
        seed: seeds the env's generator now (``reset(seed=...)`` reseeds it later).
        render_mode: None, "human" or "rgb_array".
        render_env_index: which world ``render()`` shows.
        autoreset: reset finished worlds inside ``step`` (default). If false, ``reset()``
            must be called once an episode has ended.
        check_inputs: validate actions (shape, dtype, range, NaN). Each check costs a few
            tensor ops and, on CUDA, a host sync.
        compile: run part of the step through ``torch.compile`` (compiling takes seconds to
            a minute, once per env; the eager path is the reference it must match):
            ``"step"``: the whole transition (actions -> physics -> observations, rewards),
            fused into a few kernels: fewest launches, best for one world (PettingZoo) and
            on GPU. ``"physics"``: only the physics substeps (``World.compile``), whose
            kernels run across worlds; sensors and rules stay eager, whose CPU kernels are
            already blocked for the cache and beat inductor's: best for large batches on
            CPU when the sensors compile badly. ``True`` picks the scenario's
            ``large_cpu_compile`` on CPU with ``num_envs >= 256`` (``"physics"`` for
            hide_and_seek_v1), else ``"step"``. On CPU, worlds with boxes or walls step their
            physics in a fused kernel instead (``marl_envs.native``, ``physics.accel``), which
            is faster than the compiled substeps, so there ``"physics"`` compiles nothing.
        **kwargs: the scenario's arguments (its config dataclass fields).
    """

    metadata = {"render_modes": list(RENDER_MODES), "render_fps": 10, "autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(self, env_id: str | type[Scenario], num_envs: int = 1, device: str | torch.device = "cpu",
                 seed: int | None = None, render_mode: str | None = None, render_env_index: int = 0,
                 autoreset: bool = True, check_inputs: bool = True, compile: bool | str = False, **kwargs: Any):
        scenario_cls = env_id if isinstance(env_id, type) else get_scenario_class(env_id)
        if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
        if render_mode is not None and render_mode not in RENDER_MODES:
            raise ValueError(f"render_mode must be one of {RENDER_MODES} or None, got {render_mode!r}")
        if not 0 <= render_env_index < num_envs:
            raise ValueError(f"render_env_index must be in [0, {num_envs}), got {render_env_index}")
        config = scenario_cls.config_cls.from_kwargs(**kwargs)
        self.device = torch.device(device)
        self.compile_mode = resolve_compile_mode(compile, self.device, num_envs, scenario_cls)
        if self.device.type == "cpu" and num_envs >= 64:
            tune_cpu_allocator()  # large batches: reuse heap blocks for step temporaries (see api.allocator)
        self.scenario = scenario_cls(config, num_envs, self.device)
        self.config = config
        self.num_envs = num_envs
        self.agents = list(self.scenario.agents)
        self.num_agents = len(self.agents)
        self.max_cycles = config.max_cycles
        self.render_mode = render_mode
        self.render_env_index = render_env_index
        self.autoreset = autoreset
        self.check_inputs = check_inputs
        self.metadata = {**self.metadata, "name": getattr(env_id, "__name__", env_id)}
        self.obs_spec = self.scenario.obs_spec
        self.state_spec = self.scenario.state_spec
        self.action_spec = self.scenario.action_spec
        obs_dim, state_dim = self.obs_spec.dim, self.scenario.state_dim
        self.single_observation_space = sp.agent_observation_space(obs_dim)
        self.single_action_space = sp.agent_action_space(self.action_spec)
        self.observation_space = sp.batched_observation_space(obs_dim, num_envs, self.num_agents)
        self.action_space = sp.batched_action_space(self.action_spec, num_envs, self.num_agents)
        self.state_space = sp.state_space(state_dim)
        self._lockstep = not self.scenario.can_terminate
        #: all worlds start and end their episodes together (no scenario termination).
        self.lockstep = self._lockstep
        #: ``state()`` shows the time left: the time limit is part of the task (see the module doc).
        self.time_limit_observed = bool(self.scenario.observes_time)
        #: the stages of play ``stage()`` tells apart (hide-and-seek: chasing, shelter, ramp use, ramp defense).
        self.stages = tuple(self.scenario.stages)
        self._generator = make_generator(self.device)
        self._seeded = seed is not None
        if seed is not None:
            self._generator.manual_seed(validate_seed(seed))
        self._renderer = None
        self._needs_reset = True
        if self.compile_mode == "physics":
            self.scenario.world.compile()
        self._transition = self._eager_transition
        if self.compile_mode == "step":
            self._transition = torch.compile(self._eager_transition, dynamic=False)

    # -- Gymnasium-style API ------------------------------------------------------------
    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[torch.Tensor, dict]:
        """Reset every world. Returns obs (B, A, obs_dim) and info {"state": (B, state_dim)}."""
        if seed is not None:
            self._generator.manual_seed(validate_seed(seed))
            self._seeded = True
        self.scenario.reset(None, self._generator)
        self._elapsed = 0
        self._t = torch.zeros(self.num_envs, dtype=torch.long, device=self.device)
        self._ep_return = torch.zeros(self.num_envs, self.num_agents, device=self.device)
        self._needs_reset = False
        obs = self.scenario.observe(self.scenario.sense())
        return obs, {"state": self.scenario.global_state()}

    def step(self, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, dict]:
        """Step every world; see the module docstring for shapes and ``info``."""
        self._check_steppable()
        if self.check_inputs:
            actions = validate_actions(actions, self.action_spec, self.num_envs, self.agents, self.device)
        obs, reward, terminated, truncated, done, success = self._advance(actions)
        self._ep_return = self._ep_return + reward
        info = {
            "final_obs": obs,
            "final_state": self.scenario.global_state(),
            "episode_return": self._ep_return,
            "episode_length": self._t,
        }
        if success is not None:
            info["is_success"] = success
        acted = self.scenario.acted()
        if acted is not None:
            info["acted"] = acted
        behaviour = self.scenario.behaviour()
        if behaviour:
            info["behaviour"] = behaviour
        # Skip the reset draw when no world ended (one host sync; a draw for all B worlds costs far more).
        if self.autoreset and done is not None and (done is True or bool(done.any())):
            obs = self._reset_finished(done)
        if self.render_mode == "human":
            self.render()
        return obs, reward, terminated, truncated, info

    def state(self) -> torch.Tensor:
        """(B, state_dim) global state of every world (for centralised critics)."""
        return self.scenario.global_state()

    def stage(self, means: dict[str, float]) -> str | None:
        """The stage of play shown by ``means``, the means of ``info["behaviour"]``'s figures over recent
        episodes (one of ``env.stages``); None for envs without stages. Thresholds: the scenario's docs."""
        return self.scenario.stage(means)

    def set_training_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        """Change training-only arguments (``ScenarioConfig.TRAINING_ONLY``: curricula of start states) in place,
        for a trainer whose curriculum moves on as play changes; returns their previous values.

        Worlds that start an episode after the call draw their start with the new values; episodes under way
        are untouched. Any other argument would change the game itself (its spaces, physics or rewards) under a
        running learner, so it is refused, as is a value the config rejects; either way the env is unchanged.
        """
        allowed = type(self.config).TRAINING_ONLY
        other = sorted(set(kwargs) - set(allowed))
        if other:
            raise ValueError(f"set_training_kwargs changes only the training-only arguments {list(allowed)} of "
                             f"{type(self.config).__name__}; got {other}")
        config = dataclasses.replace(self.config, **kwargs)  # validated here, before anything changes
        previous = {name: getattr(self.config, name) for name in kwargs}
        self.config = self.scenario.config = config
        return previous

    def scripted_actions(self, **options: Any) -> torch.Tensor:
        """Actions of the scenario's scripted policy for every agent of every world, from the current state.

        A reference opponent for evaluation (``python -m baselines.evaluate --seekers scripted``) and a
        sanity check that a task is solvable. ``options`` go to the scenario's ``heuristic_action``
        (hide-and-seek: ``block_doors=False`` leaves the doors open). A TypeError names the scenarios
        without one.
        """
        self._check_steppable()
        if not hasattr(self.scenario, "heuristic_action"):
            raise TypeError(f"{type(self.scenario).__name__} has no scripted policy (no heuristic_action)")
        return self.scenario.heuristic_action(self.scenario.sense(), **options)

    def state_dict(self) -> dict:
        """Everything needed to continue exactly from here (checkpointing a training run)."""
        if self._needs_reset and not hasattr(self, "_t"):
            raise RuntimeError("state_dict() called before reset()")
        return {
            "scenario": self.scenario.state_dict(),
            "t": self._t.clone(),
            "elapsed": self._elapsed,
            "episode_return": self._ep_return.clone(),
            "generator": self._generator.get_state(),
            "needs_reset": self._needs_reset,
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore ``state_dict()``; shapes must match this env's num_envs and agents."""
        if tuple(state["episode_return"].shape) != (self.num_envs, self.num_agents):
            raise ValueError(
                f"env state is for {tuple(state['episode_return'].shape)} (num_envs, num_agents), "
                f"this env has {(self.num_envs, self.num_agents)}"
            )
        self.scenario.load_state_dict(state["scenario"])
        self._t = state["t"].to(self.device)
        self._elapsed = int(state["elapsed"])
        self._ep_return = state["episode_return"].to(self.device)
        self._generator.set_state(state["generator"])
        self._needs_reset = bool(state["needs_reset"])

    # -- internals ----------------------------------------------------------------------
    def _check_steppable(self) -> None:
        if self._needs_reset:
            raise RuntimeError("step() called before reset(): call env.reset(seed=...) first")

    def _advance(self, actions: torch.Tensor):
        """Physics + rules for validated actions.

        Returns obs, reward, terminated (B, A), truncated (B, A), ``done``: None when
        no world can have ended, True when all have (lockstep), else a (B,) mask, and
        ``success`` (B,) bool for scenarios that define success, else None.
        """
        obs, reward, term, success = self._transition(actions)
        shape = (self.num_envs, self.num_agents)
        self._elapsed += 1
        self._t = self._t + 1
        if self._lockstep:
            ended = self._elapsed >= self.max_cycles
            if ended and not self.autoreset:
                self._needs_reset = True
            terminated = torch.zeros(shape, dtype=torch.bool, device=self.device)
            truncated = torch.full(shape, ended, dtype=torch.bool, device=self.device)
            return obs, reward, terminated, truncated, (True if ended else None), success
        trunc = (self._t >= self.max_cycles) & ~term
        done = term | trunc
        if not self.autoreset and bool(done.any()):
            self._needs_reset = True
        return obs, reward, term[:, None].expand(shape), trunc[:, None].expand(shape), done, success

    def _eager_transition(self, actions: torch.Tensor):
        """One step of the rules: actions -> physics -> obs, rewards, terminations and successes (B,) or None."""
        sc = self.scenario
        force, torque = sc.apply_actions(actions)
        sc.step_physics(force, torque)
        sc.post_physics()
        sensed = sc.sense()
        terminated = sc.terminated(sensed) if sc.can_terminate else None
        success = sc.success(sensed) if sc.has_success else None
        return sc.observe(sensed), sc.reward(sensed), terminated, success

    def _reset_finished(self, done: torch.Tensor | bool) -> torch.Tensor:
        """Reset the worlds that ended; return the observation after the resets."""
        if done is True:
            self.scenario.reset(None, self._generator)
            self._elapsed = 0
            self._t = torch.zeros_like(self._t)
            self._ep_return = torch.zeros_like(self._ep_return)
        else:
            self.scenario.reset(done, self._generator)
            self._t = torch.where(done, 0, self._t)
            self._ep_return = torch.where(done[:, None], 0.0, self._ep_return)
        return self.scenario.observe(self.scenario.sense())

    # -- rendering ----------------------------------------------------------------------
    def render(self):
        """Draw world ``render_env_index``: an (H, W, 3) uint8 array in "rgb_array" mode."""
        if self.render_mode is None:
            raise RuntimeError("render() needs render_mode='human' or 'rgb_array' at construction")
        if self._needs_reset and not hasattr(self, "_elapsed"):
            raise RuntimeError("render() called before reset()")
        if self._renderer is None:
            from marl_envs.render import PygameRenderer

            self._renderer = PygameRenderer(self.render_mode, render_fps=self.metadata["render_fps"])
        return self._renderer.render(self.snapshot(self.render_env_index))

    def snapshot(self, index: int = 0):
        """A read-only numpy copy of world ``index`` for the renderer."""
        from marl_envs.render import Snapshot

        world, spec = self.scenario.world, self.scenario.world.spec
        state = world.state
        walls = getattr(world, "walls", None)
        extra = {}
        if walls is not None:
            extra = {"walls": walls.world_segments(index).cpu().numpy(),
                     "wall_half_thickness": float(walls.half_thickness)}
        fields = dict(
            pos=state.pos[index].detach().cpu().numpy(),
            angle=state.angle[index].detach().cpu().numpy(),
            kind=spec.kind.cpu().numpy(),
            radius=spec.radius.cpu().numpy(),
            half_extents=spec.half_extents.cpu().numpy(),
            color=self.scenario.body_colors.cpu().numpy(),
            show_heading=spec.rotates.cpu().numpy(),
            arena_half_size=float(self.scenario.arena_half_size),
            **extra,
        )
        fields.update(self.scenario.render_extras(index))  # overlays and state-dependent colours
        return Snapshot(**fields)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_renderer"] = None  # a window does not travel; a copy opens its own
        if "_transition" in state and state["_transition"] != self._eager_transition:
            state["_transition"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        """Unpickle; a copy of a never-seeded env draws fresh OS entropy.

        Vector wrappers (SuperSuit's ``concat_vec_envs_v1``, ``copy.deepcopy``) clone an env by
        pickling it. Copying the generator state too would make every copy of an unseeded env
        play the same episodes; Gymnasium's contract is that an unseeded env is an independent
        draw. Copies of a seeded env stay exact copies.
        """
        self.__dict__.update(state)
        if self._transition is None:
            self._transition = torch.compile(self._eager_transition, dynamic=False)
        if not self._seeded:
            self._generator.seed()

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None


COMPILE_MODES = ("step", "physics")


def resolve_compile_mode(compile: bool | str, device: torch.device, num_envs: int,
                  scenario_cls: type[Scenario] = Scenario) -> str | None:
    """The ``compile`` argument resolved to None, "step" or "physics" (see ``BatchedEnv``)."""
    if compile is False or compile is None:
        return None
    if compile is True:
        return scenario_cls.large_cpu_compile if device.type == "cpu" and num_envs >= 256 else "step"
    if compile not in COMPILE_MODES:
        raise ValueError(f"compile must be True, False or one of {COMPILE_MODES}, got {compile!r}")
    return compile


def make_batched(env_id: str, num_envs: int = 1, device: str | torch.device = "cpu", seed: int | None = None,
                 **kwargs: Any) -> BatchedEnv:
    """Make ``num_envs`` worlds of ``env_id`` on ``device`` (see ``BatchedEnv`` for arguments)."""
    return BatchedEnv(env_id, num_envs=num_envs, device=device, seed=seed, **kwargs)
