"""The data contract between an env and the renderer: one world, as numpy arrays.

Envs build a :class:`Snapshot` from their state (world 0, or a chosen world of a batch) and hand it
to :class:`~marl_envs.render.renderer.PygameRenderer`. Rendering thus only *reads* copies of the
state and never calls physics, and this module needs neither pygame nor torch, so the layering
test can import it anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from marl_envs.render import palette

CIRCLE = 0
"""``kind`` code of a circle of radius ``radius``."""
BOX = 1
"""``kind`` code of a box of half extents ``half_extents`` rotated by ``angle``."""

_DEFAULT_RADIUS_FRACTION = 0.05


@dataclass(frozen=True, eq=False)
class Snapshot:
    """One world, read-only, as numpy arrays in world coordinates (y up). N bodies, W walls, C cones, R rays.

    Arrays are converted to fixed dtypes and shape-checked on construction, so a mistake in an env
    surfaces here with the field's name rather than deep inside pygame. Use :meth:`build` to get
    defaults and broadcasting; the constructor itself wants every per-body array in full.

    Attributes:
        pos: (N, 2) float64 body centres.
        angle: (N,) float64 radians: box orientation / agent heading.
        kind: (N,) int64: ``CIRCLE`` (0) or ``BOX`` (1).
        radius: (N,) float64 circle radius (ignored for boxes).
        half_extents: (N, 2) float64 box half extents (ignored for circles).
        color: (N, 3) float64 RGB in [0, 1].
        show_heading: (N,) bool: draw a tick from the centre to the rim along ``angle``.
        arena_half_size: the camera shows the fixed square ``[-h, h]^2`` (no auto-zoom).
        walls: (W, 2, 2) float64 static wall segments as endpoint pairs.
        wall_half_thickness: walls are drawn as capsules of this half thickness (0: 1-px lines).
        outline: (N,) bool: draw a thin black border. ``None`` becomes all True.
        links: (L, 2) int64 body index pairs joined by a line (grab links). ``None`` becomes (0, 2).
        cones: (C, 5) float64 vision cones as rows ``(x, y, heading, half_angle, range)``, drawn as
            translucent sectors under the bodies; ``half_angle`` in [0, pi], ``range`` >= 0.
            ``None`` becomes (0, 5).
        cone_color: (C, 3) float64 RGB in [0, 1] per cone. ``None`` becomes ``palette.CONE``.
        cone_reach: (C, S) float64, S >= 2: how far each cone is clear along S directions spread
            evenly from ``heading - half_angle`` to ``heading + half_angle`` (e.g. ray-cast distances
            to the nearest occluder), so that a cone is drawn cut off at walls and boxes rather than
            through them; its outline takes ``min(range, reach)`` in each direction. ``None``: full sectors.
        rays: (R, 2, 2) float64 lidar rays as (origin, end point) pairs, drawn as 1-pixel lines
            under the bodies. ``None`` becomes (0, 2, 2).
        ray_hit: (R,) bool: mark the ray's end point with a dot (the ray hit something).
            ``None`` becomes all False.
        ramp: (N,) bool: the box is a ramp; an arrow inside it points uphill, along its local +x
            axis (``angle``). Only boxes can be ramps. ``None`` becomes all False.
        elevated: (N,) bool: the body stands on a ramp or box; a white-and-black ring shows it.
            ``None`` becomes all False.
        hud: text drawn at the top-left (step, phase, rewards), lines separated by ``\\n``; ``""`` draws nothing.

    Raises:
        ValueError: naming the field, the expected and the received shape or range.
    """

    pos: np.ndarray
    angle: np.ndarray
    kind: np.ndarray
    radius: np.ndarray
    half_extents: np.ndarray
    color: np.ndarray
    show_heading: np.ndarray
    arena_half_size: float
    walls: np.ndarray = field(default_factory=lambda: np.zeros((0, 2, 2)))
    wall_half_thickness: float = 0.0
    outline: np.ndarray | None = None
    links: np.ndarray | None = None
    cones: np.ndarray | None = None
    cone_color: np.ndarray | None = None
    cone_reach: np.ndarray | None = None
    rays: np.ndarray | None = None
    ray_hit: np.ndarray | None = None
    ramp: np.ndarray | None = None
    elevated: np.ndarray | None = None
    hud: str = ""

    def __post_init__(self):
        pos = self._coerce("pos", np.float64, (None, 2))
        n = pos.shape[0]
        self._coerce("angle", np.float64, (n,))
        self._coerce("kind", np.int64, (n,))
        self._coerce("radius", np.float64, (n,))
        self._coerce("half_extents", np.float64, (n, 2))
        self._coerce("color", np.float64, (n, 3))
        self._coerce("show_heading", np.bool_, (n,))
        self._coerce("walls", np.float64, (None, 2, 2))
        if self.outline is None:
            object.__setattr__(self, "outline", np.ones(n, dtype=bool))
        self._coerce("outline", np.bool_, (n,))
        if self.links is None:
            object.__setattr__(self, "links", np.zeros((0, 2), dtype=np.int64))
        self._coerce("links", np.int64, (None, 2))
        self._coerce_overlays(n)
        self._check_values(n)
        self._check_overlay_values()

    def _coerce_overlays(self, n: int) -> None:
        """Fills the defaults of the optional overlay fields and checks their shapes."""
        defaults = {
            "cones": np.zeros((0, 5)),
            "rays": np.zeros((0, 2, 2)),
            "ramp": np.zeros(n, dtype=bool),
            "elevated": np.zeros(n, dtype=bool),
        }
        for name, default in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, default)
        cones = self._coerce("cones", np.float64, (None, 5))
        rays = self._coerce("rays", np.float64, (None, 2, 2))
        c, r = len(cones), len(rays)
        if self.cone_color is None:
            object.__setattr__(self, "cone_color", np.tile(palette.CONE, (c, 1)))
        if self.ray_hit is None:
            object.__setattr__(self, "ray_hit", np.zeros(r, dtype=bool))
        self._coerce("cone_color", np.float64, (c, 3), count=f"C = {c} cones, from cones")
        if self.cone_reach is not None:
            reach = self._coerce("cone_reach", np.float64, (c, None), count=f"C = {c} cones, from cones")
            if (c and reach.shape[1] < 2) or not np.isfinite(reach).all() or (reach < 0).any():
                raise ValueError(
                    f"Snapshot.cone_reach: expected (C, S) finite distances >= 0 with S >= 2 directions per "
                    f"cone, received shape {reach.shape}"
                    + (f" with values in [{reach.min()}, {reach.max()}]." if reach.size else ".")
                )
        self._coerce("ray_hit", np.bool_, (r,), count=f"R = {r} rays, from rays")
        self._coerce("ramp", np.bool_, (n,))
        self._coerce("elevated", np.bool_, (n,))

    @classmethod
    def build(
        cls,
        pos: ArrayLike,
        arena_half_size: float,
        *,
        angle: ArrayLike = 0.0,
        kind: ArrayLike = CIRCLE,
        radius: ArrayLike | None = None,
        half_extents: ArrayLike | None = None,
        color: ArrayLike = palette.AGENT,
        show_heading: ArrayLike = False,
        walls: ArrayLike | None = None,
        wall_half_thickness: float = 0.0,
        outline: ArrayLike = True,
        links: ArrayLike | None = None,
        cones: ArrayLike | None = None,
        cone_color: ArrayLike = palette.CONE,
        cone_reach: ArrayLike | None = None,
        rays: ArrayLike | None = None,
        ray_hit: ArrayLike = False,
        ramp: ArrayLike = False,
        elevated: ArrayLike = False,
        hud: str = "",
    ) -> Snapshot:
        """Builds a snapshot from lists or arrays, broadcasting per-body values to N bodies.

        A scalar ``radius`` or one ``color`` triple applies to every body, which is what most
        scenarios need (e.g. all landmarks the same size).

        Args:
            pos: (N, 2) body centres.
            arena_half_size: h of the shown square ``[-h, h]^2``.
            angle: () or (N,) radians.
            kind: () or (N,) ``CIRCLE`` / ``BOX``.
            radius: () or (N,); default ``0.05 * arena_half_size`` so bodies show at any scale.
            half_extents: (2,) or (N, 2); default ``radius`` on both axes.
            color: (3,) or (N, 3) RGB in [0, 1].
            show_heading: () or (N,) bool.
            walls: (W, 2, 2) segments; default none.
            wall_half_thickness: half thickness of every wall.
            outline: () or (N,) bool.
            links: (L, 2) body index pairs; default none.
            cones: (C, 5) rows ``(x, y, heading, half_angle, range)``; default none.
            cone_color: (3,) or (C, 3) RGB in [0, 1]; default ``palette.CONE``.
            cone_reach: (C, S) clear distance along S directions across each cone; default full sectors.
            rays: (R, 2, 2) (origin, end point) pairs; default none.
            ray_hit: () or (R,) bool: dot at the ray's end point.
            ramp: () or (N,) bool: the box is a ramp (uphill = local +x).
            elevated: () or (N,) bool: the body stands on a ramp or box.
            hud: text for the top-left corner (``\\n`` separates lines); default none.

        Returns:
            The validated snapshot.
        """
        pos = np.asarray(pos, dtype=np.float64)
        n = len(pos) if pos.ndim else 0
        if radius is None:
            radius = _DEFAULT_RADIUS_FRACTION * arena_half_size
        radius = _broadcast("radius", radius, (n,))
        if half_extents is None:
            half_extents = np.stack([radius, radius], axis=-1)
        cones = np.zeros((0, 5)) if cones is None else np.asarray(cones, dtype=np.float64)
        rays = np.zeros((0, 2, 2)) if rays is None else np.asarray(rays, dtype=np.float64)
        c = len(cones) if cones.ndim else 0
        r = len(rays) if rays.ndim else 0
        return cls(
            pos=pos,
            angle=_broadcast("angle", angle, (n,)),
            kind=_broadcast("kind", kind, (n,)),
            radius=radius,
            half_extents=_broadcast("half_extents", half_extents, (n, 2)),
            color=_broadcast("color", color, (n, 3)),
            show_heading=_broadcast("show_heading", show_heading, (n,)),
            arena_half_size=arena_half_size,
            walls=np.zeros((0, 2, 2)) if walls is None else walls,
            wall_half_thickness=wall_half_thickness,
            outline=_broadcast("outline", outline, (n,)),
            links=links,
            cones=cones,
            cone_color=_broadcast("cone_color", cone_color, (c, 3)),
            cone_reach=cone_reach,
            rays=rays,
            ray_hit=_broadcast("ray_hit", ray_hit, (r,)),
            ramp=_broadcast("ramp", ramp, (n,)),
            elevated=_broadcast("elevated", elevated, (n,)),
            hud=hud,
        )

    def _coerce(
        self, name: str, dtype: type, shape: tuple[int | None, ...], count: str | None = None
    ) -> np.ndarray:
        """Converts field ``name`` to ``dtype`` and checks its shape (None matches any size).

        ``count`` says where the expected leading size comes from; default the body count N.
        """
        value = getattr(self, name)
        array = np.asarray(value, dtype=dtype)
        if array.size == 0 and array.ndim == 1:  # [] for "no walls" / "no links"
            array = array.reshape((0,) + tuple(s or 0 for s in shape[1:]))
        fits = array.ndim == len(shape) and all(
            e is None or e == r for e, r in zip(shape, array.shape, strict=True)
        )
        if not fits:
            expected = str(tuple("*" if s is None else s for s in shape)).replace("'", "")
            raise ValueError(
                f"Snapshot.{name}: expected shape {expected}, received {array.shape} "
                f"({count or f'N = {len(self.pos)} bodies, from pos'})."
            )
        object.__setattr__(self, name, array)
        return array

    def _check_values(self, n: int) -> None:
        """Rejects values that would draw nonsense instead of failing loudly."""
        if not np.isfinite(self.arena_half_size) or self.arena_half_size <= 0:
            raise ValueError(
                f"Snapshot.arena_half_size: expected a finite number > 0, received {self.arena_half_size}."
            )
        if not np.isfinite(self.wall_half_thickness) or self.wall_half_thickness < 0:
            raise ValueError(
                f"Snapshot.wall_half_thickness: expected a finite number >= 0, "
                f"received {self.wall_half_thickness}."
            )
        if not np.isin(self.kind, (CIRCLE, BOX)).all():
            raise ValueError(
                f"Snapshot.kind: expected {CIRCLE} (circle) or {BOX} (box), "
                f"received {np.unique(self.kind).tolist()}."
            )
        for name in ("pos", "angle", "radius", "half_extents", "walls", "cones", "rays"):
            bad = ~np.isfinite(getattr(self, name))
            if bad.any():
                raise ValueError(
                    f"Snapshot.{name}: expected finite values, received NaN/inf at index "
                    f"{np.argwhere(bad)[0].tolist()}; likely a physics blow-up upstream."
                )
        _check_unit_range("color", self.color)
        if self.links.size and (self.links.min() < 0 or self.links.max() >= n):
            raise ValueError(
                f"Snapshot.links: expected body indices in [0, {n}), received range "
                f"[{self.links.min()}, {self.links.max()}]."
            )

    def _check_overlay_values(self) -> None:
        """Rejects overlay values that would draw nonsense (cone angles, ramps on circles, HUD text)."""
        _check_unit_range("cone_color", self.cone_color)
        half_angle, reach = self.cones[:, 3], self.cones[:, 4]
        if ((half_angle < 0) | (half_angle > np.pi) | (reach < 0)).any():
            raise ValueError(
                "Snapshot.cones: expected rows (x, y, heading, half_angle, range) with half_angle in "
                f"[0, pi] and range >= 0, received half_angle in [{half_angle.min()}, {half_angle.max()}] "
                f"and range in [{reach.min()}, {reach.max()}]; was a full angle passed as the half angle?"
            )
        circles = np.flatnonzero(self.ramp & (self.kind != BOX))
        if circles.size:
            raise ValueError(
                f"Snapshot.ramp: only boxes (kind {BOX}) can be ramps, received ramp=True for "
                f"non-box bodies {circles.tolist()}."
            )
        if not isinstance(self.hud, str) or "\r" in self.hud:
            raise ValueError(
                f"Snapshot.hud: expected text (a str, lines separated by \\n, no \\r), received {self.hud!r}."
            )


def _check_unit_range(name: str, color: np.ndarray) -> None:
    """Rejects (..., 3) colours outside [0, 1], the usual sign of 0-255 values."""
    if color.size and (color.min() < 0.0 or color.max() > 1.0):
        raise ValueError(
            f"Snapshot.{name}: expected floats in [0, 1], received range "
            f"[{color.min()}, {color.max()}]; 0-255 colours must be divided by 255."
        )


def _broadcast(name: str, value: ArrayLike, shape: tuple[int, ...]) -> np.ndarray:
    """Broadcasts a per-body value to ``shape``, naming the field if it does not fit."""
    array = np.asarray(value)
    try:
        return np.broadcast_to(array, shape).copy()
    except ValueError:
        raise ValueError(
            f"Snapshot.build: {name} expected shape {shape} or broadcastable to it, received {array.shape}."
        ) from None
