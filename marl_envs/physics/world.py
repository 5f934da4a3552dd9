"""A batch of B independent 2D worlds stepped together.

``World.step`` reads as the physics it does: for each substep, contacts, then
integration, then constraints (grab joints), then, with ``WorldParams.max_penetration`` set, the
position projection that keeps bodies out of walls and boxes out of each other whatever pushes them
(``projection``). Everything else (actions, rules, sensing) belongs to scenarios.

Which contact models run is decided here, once, from the static spec and from whether the
world has walls: a world of discs without walls runs exactly MPE's disc contacts.
"""

from __future__ import annotations

import torch

from marl_envs.physics import accel
from marl_envs.physics.constraints import Grabs, apply_grabs
from marl_envs.physics.contacts import Contacts
from marl_envs.physics.integrate import Integrator
from marl_envs.physics.params import WorldParams
from marl_envs.physics.projection import Projection
from marl_envs.physics.state import BodySpec, BodyState
from marl_envs.physics.walls import WallGeometry, Walls, check_tunnelling

_NO_WALLS = (
    "World.{}: this world was built without walls, so it runs no wall code; pass "
    "walls=Walls.empty(num_envs, max_walls, half_thickness) to World(...) to reserve wall slots."
)


class World:
    """Bodies of one static layout in B worlds, on one device, with optional per-world walls.

    Args:
        spec: the N bodies (shared by all worlds).
        params: physical constants.
        num_envs: B.
        device: where every tensor lives.
        walls: optional (B, W) walls. A world built without walls runs no wall code and
            cannot get walls later; to change walls per world, build it with W slots
            (``Walls.empty`` or padded ``Walls.from_segments``) and use ``set_walls_where``.
        tip_walls: wall slots whose endpoints can poke into boxes (default all; see ``Contacts``).
        fence_walls: wall slots that hold every body, also non-``solid`` ones (an arena's fence).

    Raises:
        ValueError: if the walls do not match ``num_envs``, or a capped body could tunnel
            through them (``walls.check_tunnelling``).
    """

    def __init__(
        self,
        spec: BodySpec,
        params: WorldParams,
        num_envs: int,
        device: torch.device | str,
        walls: Walls | None = None,
        tip_walls: list[int] | None = None,
        fence_walls: list[int] | None = None,
    ):
        self.device = torch.device(device)
        self.spec = spec.to(self.device)
        self._host_spec = spec.to("cpu")  # for checks at wall changes, without a device sync
        self.params = params
        self.num_envs = num_envs
        self.state = BodyState.zeros(num_envs, spec.num_bodies, self.device)
        self.integrator = Integrator(spec, params, self.device)
        self.walls: Walls | None = None
        self._wall_geometry: WallGeometry | None = None
        num_walls = None if walls is None else walls.num_walls
        self.tip_walls = tip_walls
        self.fence_walls = fence_walls
        self._build_models(num_walls)
        self._compiled_advance = None
        if walls is not None:
            self._install_walls(walls)

    def compile(self) -> None:
        """Run ``step`` through ``torch.compile`` from now on (``advance`` stays the eager reference).

        Why the physics alone can be worth compiling: the contact queries and grab joints work
        batch-minor (worlds contiguous), so inductor fuses each substep into a few kernels whose
        SIMD lanes run across worlds; on CPU at B=4096 hide-and-seek's physics runs about twice
        as fast compiled. The first step compiles (tens of seconds on CPU).
        """
        self._compiled_advance = torch.compile(self.advance, dynamic=False)

    @property
    def host_spec(self) -> BodySpec:
        """The body spec on the host (CPU): for checks and tables that must not sync with a device."""
        return self._host_spec

    @property
    def wall_geometry(self) -> WallGeometry | None:
        """The walls' frames and endpoints as the contact queries read them (None without walls);
        rebuilt at every wall change."""
        return self._wall_geometry

    @property
    def compiled(self) -> bool:
        return self._compiled_advance is not None

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_compiled_advance"] = self._compiled_advance is not None  # a compiled function does not pickle
        return state

    def __setstate__(self, state: dict) -> None:
        compiled = state.pop("_compiled_advance")
        self.__dict__.update(state)
        self._compiled_advance = None
        if compiled:
            self.compile()

    def step(
        self,
        force: torch.Tensor,
        torque: torch.Tensor | None = None,
        *,
        free: torch.Tensor | None = None,
        solid: torch.Tensor | None = None,
        grabs: Grabs | None = None,
    ) -> None:
        """Advance every world by ``params.dt`` under constant applied force (B, N, 2) and torque (B, N).

        The optional per-world rule inputs (held constant over the step's substeps):
            free: (B, N) float, 0 for bodies held still (locked objects).
            solid: (B, N) float, 0 for bodies that pass over boxes and walls (elevated agents).
            grabs: grab joints (``constraints.Grabs``).
        """
        # Worlds with boxes or walls step through the fused CPU kernel where it applies (``physics.accel``);
        # disc-only worlds (MPE's model) are a few ops already and keep the torch path.
        native = accel.kernel("physics", force) if self.contacts.rigid is not None else None
        if native is not None:
            self.state = native(self, self.state, force, torque, free, solid, grabs)
            return
        advance = self.advance if self._compiled_advance is None else self._compiled_advance
        self.state = advance(self.state, force, torque, free=free, solid=solid, grabs=grabs)

    def advance(
        self,
        state: BodyState,
        force: torch.Tensor,
        torque: torch.Tensor | None,
        *,
        free: torch.Tensor | None = None,
        solid: torch.Tensor | None = None,
        grabs: Grabs | None = None,
    ) -> BodyState:
        """Pure form of ``step``: returns the next state without touching ``self.state`` (walls are read).

        Each substep: contacts, integration, then constraints.
        """
        for _ in range(self.params.substeps):
            contact_force, contact_torque = self.contacts(state, self._wall_geometry, solid)
            total_force = force if contact_force is None else force + contact_force
            total_torque = torque
            if contact_torque is not None:
                total_torque = contact_torque if torque is None else torque + contact_torque
            state = self.integrator(state, total_force, total_torque, free)
            if grabs is not None:
                state = apply_grabs(state, grabs, self.spec.mass, self.params.dt / self.params.substeps)
            if self.projection is not None:
                state = self.projection(state, self._wall_geometry, free, solid)
        return state

    def _build_models(self, num_walls: int | None) -> None:
        """The contact models and the projection for W = ``num_walls`` wall slots (None: no walls)."""
        fence = None if self.fence_walls is None else [w for w in self.fence_walls if w < (num_walls or 0)]
        self.contacts = Contacts(self._host_spec, self.params, self.device, num_walls=num_walls,
                                 tip_walls=self.tip_walls, fence_walls=fence)
        self.projection = None
        if self.params.max_penetration is not None:
            projection = Projection(self._host_spec, self.params, self.device, num_walls, self.tip_walls, fence)
            self.projection = projection if projection.active else None

    def reset_where(self, mask: torch.Tensor, fresh: BodyState) -> None:
        """Replace the state of the worlds where ``mask`` (B,) is true by ``fresh``."""
        self.state = self.state.where(mask, fresh)

    def set_walls(self, walls: Walls) -> None:
        """Replace the walls of every world (construction-time work: checks tunnelling, syncs).

        Raises:
            ValueError: if the world was built without walls, ``walls`` has another batch
                size, or a capped body could tunnel through walls this thin.
        """
        if self.walls is None:
            raise ValueError(_NO_WALLS.format("set_walls"))
        self._install_walls(walls)

    def _install_walls(self, walls: Walls) -> None:
        if walls.num_envs != self.num_envs:
            raise ValueError(f"World walls: expected walls for num_envs={self.num_envs} worlds, "
                             f"got {walls.num_envs}.")
        check_tunnelling(self._host_spec, self.params, walls.half_thickness)
        if walls.num_walls != self.contacts.num_walls:  # the wall-endpoint queries depend on W
            self.tip_walls = None  # a new wall count: every endpoint is tested again
            self._build_models(walls.num_walls)
        self.walls = walls.to(self.device)
        self._wall_geometry = WallGeometry.of(self.walls)

    def set_walls_where(self, mask: torch.Tensor, walls: Walls) -> None:
        """Take ``walls``' (B, W) segments in the worlds where ``mask`` (B,) is true (for resets).

        Needs the same W and half thickness as the current walls; no host sync.
        """
        if self.walls is None:
            raise ValueError(_NO_WALLS.format("set_walls_where"))
        self.walls = self.walls.where(mask, walls.to(self.device))
        self._wall_geometry = WallGeometry.of(self.walls)
