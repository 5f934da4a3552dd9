"""The static tables of a ``World`` as the fused physics kernel reads them: named, built once per model set.

Each table is a ``NamedTuple`` of arrays (numba passes them to compiled code field by field), so a
constant is read by name (``params.margin``, ``body.mass[b]``), never by a position agreed between
two files. The values are the torch models' own (``physics.contacts``, ``physics.integrate``,
``physics.projection``), read from ``World``'s public attributes; a world's tables are cached here,
keyed weakly by the world, and rebuilt when it rebuilds its contact models (a new wall count).
"""

from __future__ import annotations

import weakref
from typing import NamedTuple

import numpy as np
import torch

INT, FLOAT = np.int64, np.float32


class Params(NamedTuple):
    """Scalar parameters of a step (float32 where the kernel mixes them with float32 state)."""

    margin: np.float32  # contact margin
    stiffness: np.float32  # contact force scale
    neg_inv_margin: np.float32
    wall_gain: np.float32  # point-vs-wall force gain
    half_thickness: np.float32  # of the walls (set per step: walls can change)
    bound: np.float32  # arena half size (with has_bound)
    has_bound: bool
    position_first: bool  # MPE's order: positions move with the pre-substep velocity
    has_friction: bool
    beta: np.float32  # grab joints' drift correction
    h: np.float32  # substep length
    rotational: bool
    project: bool  # run the position projection after each substep
    slop: np.float32  # its allowed penetration
    iterations: int


class Bodies(NamedTuple):
    """Per-body (N,) integration constants (``physics.integrate.Integrator``) and masses."""

    move_h: np.ndarray
    vel_decay: np.ndarray
    force_gain: np.ndarray
    max_speed: np.ndarray
    friction_h: np.ndarray
    turn_h: np.ndarray
    ang_decay: np.ndarray
    torque_gain: np.ndarray
    spin_friction_h: np.ndarray
    is_box: np.ndarray  # 1: contact torques turn it
    mass: np.ndarray


class DiscPairs(NamedTuple):
    """(P,) disc pairs a-b (``contacts.CircleContacts``): radius sums and whether each side moves."""

    a: np.ndarray
    b: np.ndarray
    radius_sum: np.ndarray
    move_a: np.ndarray
    move_b: np.ndarray


class Boxes(NamedTuple):
    """Box bodies (X,) and their 4X local corners (corner r belongs to box slot ``corner_box[r]``)."""

    bodies: np.ndarray
    corner_x: np.ndarray
    corner_y: np.ndarray
    corner_box: np.ndarray


class BoxQueries(NamedTuple):
    """(Q,) points against boxes (``contacts.RigidContacts``): the point's row in the point table, its
    owner (N: none), the box body and slot, the box half sizes, the contact offset (plus the wall half
    thickness for wall tips), the gain and the signs of the force on owner and box."""

    point: np.ndarray
    owner: np.ndarray
    box: np.ndarray
    slot: np.ndarray
    half_x: np.ndarray
    half_y: np.ndarray
    base_offset: np.ndarray
    is_tip: np.ndarray
    gain: np.ndarray
    owner_sign: np.ndarray
    box_sign: np.ndarray


class WallQueries(NamedTuple):
    """(S,) points against thick walls: the point's row, its owner body and its contact offset."""

    point: np.ndarray
    owner: np.ndarray
    offset: np.ndarray


class ProjectionTables(NamedTuple):
    """``physics.projection.Projection``'s tables (empty without one) and the per-wall flags."""

    pairs: np.ndarray  # (P, 2) box pairs
    pair_f: np.ndarray  # (5, P): half x, y of a, half x, y of b, bounding radius sum
    inv_mass: np.ndarray  # (N,)
    discs: np.ndarray  # (D,) walled discs
    disc_r: np.ndarray
    boxes: np.ndarray  # (X,) walled boxes
    box_f: np.ndarray  # (3, X): half x, y, bounding radius
    wall_flags: np.ndarray  # (2, W): fence (holds non-solid bodies too), tip (endpoints poke into boxes)
    inv_inertia: np.ndarray  # (N,)


class Tables(NamedTuple):
    bodies: Bodies
    discs: DiscPairs
    boxes: Boxes
    box_queries: BoxQueries
    wall_queries: WallQueries
    projection: ProjectionTables


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # world -> (its contacts, tables, params)


def world_tables(world) -> tuple[Tables, Params]:
    """``world``'s kernel tables and parameters (cached until its contact models change)."""
    cached = _CACHE.get(world)
    if cached is None or cached[0] is not world.contacts:
        cached = (world.contacts, _tables(world), _params(world))
        _CACHE[world] = cached
    return cached[1], cached[2]


def _array(values, dtype=FLOAT) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().reshape(-1).tolist()
    return np.ascontiguousarray(np.asarray(values, dtype=dtype).reshape(-1))


def _params(world) -> Params:
    params, integ = world.params, world.integrator
    rigid, projection = world.contacts.rigid, world.projection
    f = np.float32
    return Params(margin=f(params.contact_margin), stiffness=f(params.contact_force),
                  neg_inv_margin=f(-1.0 / params.contact_margin), wall_gain=f(rigid.w_gain if rigid else 0.0),
                  half_thickness=f(0.0), bound=f(integ.bound if integ.bound is not None else 0.0),
                  has_bound=integ.bound is not None, position_first=bool(integ.position_first),
                  has_friction=bool(integ.has_friction), beta=f(0.5), h=f(params.dt / params.substeps),
                  rotational=bool(integ.rotational), project=projection is not None,
                  slop=f(params.max_penetration or 0.0),
                  iterations=projection.iterations if projection is not None else 0)


def _tables(world) -> Tables:
    spec, integ = world.host_spec, world.integrator
    n = spec.num_bodies

    def per_body(t: torch.Tensor | None) -> np.ndarray:
        return _array(t if t is not None else [0.0] * n)

    rigid = world.contacts.rigid
    is_box = rigid.is_box if rigid is not None else [0.0] * n
    bodies = Bodies(*(per_body(getattr(integ, name)) for name in Bodies._fields[:9]), _array(is_box),
                    _array(spec.mass))
    pairs = world.contacts.circles.pairs if world.contacts.circles is not None else []
    radius, movable = spec.radius.tolist(), spec.movable.float().tolist()
    discs = DiscPairs(_array([a for a, _ in pairs], INT), _array([b for _, b in pairs], INT),
                      _array([radius[a] + radius[b] for a, b in pairs]), _array([movable[a] for a, _ in pairs]),
                      _array([movable[b] for _, b in pairs]))
    return Tables(bodies, discs, *_rigid(rigid, n), _projection(world))


def _rigid(rigid, n: int) -> tuple[Boxes, BoxQueries, WallQueries]:
    if rigid is None:
        empty_i, empty_f = np.zeros(0, INT), np.zeros(0, FLOAT)
        return (Boxes(empty_i, empty_f, empty_f, empty_i), BoxQueries(*([empty_i] * 4 + [empty_f] * 7)),
                WallQueries(empty_i, empty_i, empty_f))
    table = rigid.q_table.cpu()
    owners, bodies = rigid.q_owner.cpu().tolist(), rigid.q_body.cpu().tolist()
    corners = rigid.local_corners.cpu().reshape(-1, 2)
    boxes = Boxes(_array(rigid.boxes, INT), _array(corners[:, 0]), _array(corners[:, 1]), _array(rigid.corner_box, INT))
    queries = BoxQueries(
        point=_array(rigid.q_point, INT), owner=_array(owners, INT), box=_array(bodies, INT),
        slot=_array(rigid.q_box, INT),
        half_x=_array(rigid.q_half[:, 0]), half_y=_array(rigid.q_half[:, 1]), base_offset=_array(rigid.q_base_offset),
        is_tip=_array(rigid.q_is_tip), gain=_array(rigid.q_gain),
        owner_sign=_array([float(table[o, k]) if o < n else 0.0 for k, o in enumerate(owners)]),
        box_sign=_array([-float(table[b, k]) for k, b in enumerate(bodies)]))
    walls = WallQueries(_array(rigid.w_point, INT), _array(rigid.w_owner, INT), _array(rigid.w_offset))
    return boxes, queries, walls


def _projection(world) -> ProjectionTables:
    p, spec = world.projection, world.host_spec
    rigid = world.contacts.rigid
    fence = rigid.fence if rigid is not None else []
    if p is None:
        empty_i, empty_f, per_body = np.zeros(0, INT), np.zeros(0, FLOAT), np.zeros(spec.num_bodies, FLOAT)
        return ProjectionTables(np.zeros((0, 2), INT), np.zeros((5, 0), FLOAT), per_body, empty_i, empty_f, empty_i,
                                np.zeros((3, 0), FLOAT), _array([fence, [0.0] * len(fence)]).reshape(2, -1),
                                per_body)
    half, radius = spec.half_extents.tolist(), spec.bounding_radius.tolist()
    pair_f = _array([[half[a][0] for a, _ in p.pairs], [half[a][1] for a, _ in p.pairs],
                     [half[b][0] for _, b in p.pairs], [half[b][1] for _, b in p.pairs],
                     [radius[a] + radius[b] for a, b in p.pairs]]).reshape(5, -1)
    box_f = _array([[half[b][0] for b in p.boxes], [half[b][1] for b in p.boxes],
                    [radius[b] for b in p.boxes]]).reshape(3, -1)
    return ProjectionTables(_array(p.pairs, INT).reshape(-1, 2), pair_f, _array(p.inv_mass_col), _array(p.discs, INT),
                            _array(spec.radius[p.discs]), _array(p.boxes, INT), box_f,
                            _array([fence, p.tip_mask.reshape(-1).tolist()]).reshape(2, -1),
                            _array(p.inv_inertia_col))
