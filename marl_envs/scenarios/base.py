"""The scenario contract: pure task logic over a batched ``World``.

A scenario builds bodies and constants, resets worlds, turns actions into forces,
and reads state into observations, rewards and terminations. It never touches
gymnasium, pettingzoo or pygame: the api layer adapts it, the renderer reads it.

Required hooks (all batched over B worlds, returning new tensors):
    reset(mask, generator)      fresh state for the worlds where mask (B,) is true (all if None)
    apply_actions(actions)      -> force (B, N, 2), torque (B, N) or None
    sense()                     -> per-step quantities shared by observe and reward
    observe(sensed)             -> (B, A, obs_dim) float
    reward(sensed)              -> (B, A) float
    global_state()              -> (B, state_dim) float: the true state for centralised critics
Optional hooks:
    step_physics(force, torque) world.step with per-step rule inputs (locked bodies, grab joints)
    post_physics()              game rules after physics (timers, grabs, locks)
    render_extras(index)        extra Snapshot fields (vision cones, lidar rays, HUD) for the renderer
    terminated(sensed)          -> (B,) bool; only called when ``can_terminate`` is true
    success(sensed)             -> (B,) bool, the task is achieved (read at an episode's end as
                                   ``info["is_success"]``); only called when ``has_success`` is true
    heuristic_action(sensed)    -> a reasonable scripted action (tests, manual play)
    acted()                     -> (B, A) bool or None: whose action of the step just taken had any
                                   effect (``info["acted"]``); None (the default) means everyone's
    behaviour()                 -> dict name -> (B,) float: running figures of each world's current
                                   episode (``info["behaviour"]``), final at the episode's last step

Example (the smallest complete scenario is ``examples/custom_scenario.py``; how a step calls
these hooks, and how to add a scenario or a CPU kernel: docs/architecture.md)::

    class Rendezvous(Scenario):
        config_cls = RendezvousConfig
        def __init__(self, config, num_envs, device): ...build self.world, specs...
        def reset(self, mask, generator): ...

    env = BatchedEnv(Rendezvous, num_envs=256, N=3)   # or ParallelEnv(Rendezvous, N=3): no registration
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import torch

from marl_envs.physics import World
from marl_envs.scenarios.specs import ActionSpec, ObsSpec


@dataclass(frozen=True)
class ScenarioConfig:
    """Base of every scenario's config: the knobs common to all tasks."""

    max_cycles: int = 25
    """Steps per episode; episodes that have not terminated are truncated here."""

    TRAINING_ONLY: ClassVar[tuple[str, ...]] = ()
    """Arguments that shape how the game is trained (curricula of start states), not the game itself: evaluating
    a run plays the game without them (``marl_envs.evaluation_kwargs``)."""

    def __post_init__(self) -> None:
        if not isinstance(self.max_cycles, int) or isinstance(self.max_cycles, bool) or self.max_cycles < 1:
            raise ValueError(f"max_cycles must be a positive int, got {self.max_cycles!r}")

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> ScenarioConfig:
        """Build from keyword arguments; an unknown name is a TypeError listing the valid ones."""
        valid = [f.name for f in fields(cls)]
        unknown = sorted(set(kwargs) - set(valid))
        if unknown:
            raise TypeError(
                f"{cls.__name__} got unknown argument(s) {unknown}; valid arguments are {valid}"
            )
        return cls(**kwargs)


class Scenario(ABC):
    """Base class of every task. Subclasses set the attributes below in ``__init__``."""

    config_cls: ClassVar[type[ScenarioConfig]]
    #: True if ``terminated`` can ever be true; false lets the api keep worlds in lockstep.
    can_terminate: bool = False
    #: True if the scenario defines ``success`` (reported as ``info["is_success"]``).
    has_success: bool = False
    #: What ``compile=True`` compiles for large CPU batches: "step" (the whole transition), or
    #: "physics" (the world's substeps only) when the scenario's sensors run faster eager.
    large_cpu_compile: ClassVar[str] = "step"
    #: True if ``global_state()`` shows the time left in the episode. The time limit is then part of
    #: the task (the agents can plan for it), so a learner should treat it as terminal rather than
    #: bootstrap past it (Pardo et al. 2018, "Time Limits in Reinforcement Learning").
    observes_time: ClassVar[bool] = False
    #: Names of the stages of play that ``stage`` tells apart, in the order they emerge (none by default).
    stages: ClassVar[tuple[str, ...]] = ()

    world: World
    agents: list[str]
    action_spec: ActionSpec
    obs_spec: ObsSpec
    state_dim: int
    #: the layout of ``global_state()`` as entity blocks (for entity-based critics), or None if undeclared.
    state_spec: ObsSpec | None = None
    #: (N, 3) float colours in [0, 1], one per body, for the renderer.
    body_colors: torch.Tensor
    #: half size of the square the camera shows.
    arena_half_size: float = 1.5

    def __init__(self, config: ScenarioConfig, num_envs: int, device: torch.device):
        self.config = config
        self.num_envs = num_envs
        self.device = torch.device(device)

    @property
    def num_agents(self) -> int:
        return len(self.agents)

    @abstractmethod
    def reset(self, mask: torch.Tensor | None, generator: torch.Generator) -> None: ...

    @abstractmethod
    def apply_actions(self, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]: ...

    def step_physics(self, force: torch.Tensor, torque: torch.Tensor | None) -> None:
        """Advance the world one step; override to pass per-step rule inputs (locks, grabs)."""
        self.world.step(force, torque)

    def post_physics(self) -> None:
        """Game rules applied after physics; nothing by default."""

    @abstractmethod
    def sense(self) -> Any: ...

    @abstractmethod
    def observe(self, sensed: Any) -> torch.Tensor: ...

    @abstractmethod
    def reward(self, sensed: Any) -> torch.Tensor: ...

    def terminated(self, sensed: Any) -> torch.Tensor:
        """(B,) bool; never true by default."""
        return torch.zeros(self.num_envs, dtype=torch.bool, device=self.device)

    def success(self, sensed: Any) -> torch.Tensor:
        """(B,) bool; only called when ``has_success`` is true."""
        raise NotImplementedError(f"{type(self).__name__} sets has_success but does not define success()")

    @abstractmethod
    def global_state(self) -> torch.Tensor: ...

    def acted(self) -> torch.Tensor | None:
        """(B, A) bool: whose action of the step just taken had an effect; None: everyone's.

        A learner masks the policy loss of agents whose actions were ignored (hide-and-seek's
        seekers frozen during the preparation phase): their log-probabilities carry no signal.
        """
        return None

    def behaviour(self) -> dict[str, torch.Tensor]:
        """Running per-episode figures, name -> (B,) float (none by default); see ``info["behaviour"]``."""
        return {}

    @classmethod
    def stage(cls, means: dict[str, float]) -> str | None:
        """The stage of play (one of ``stages``) that the means of ``behaviour()``'s figures over recent
        episodes show, for learners to log; None for scenarios without stages."""
        return None

    def render_extras(self, index: int) -> dict[str, Any]:
        """Extra ``Snapshot`` fields for world ``index`` (overlays, colours, HUD); none by default."""
        return {}

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The dynamic state of every world (override to add task state such as timers)."""
        return {f.name: getattr(self.world.state, f.name).clone() for f in fields(self.world.state)}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        cls = type(self.world.state)
        self.world.state = cls(**{f.name: state[f.name].to(self.device) for f in fields(cls)})
