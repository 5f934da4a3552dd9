"""The spawn rule, checked on a reset scene: bounding discs apart and clear of every wall."""

import torch

from marl_envs.physics.geometry import point_segment_distance


def assert_spawned_apart(sc, bodies: torch.Tensor) -> None:
    """Every pair of ``bodies`` (B, N) bool keeps its bounding discs apart, and each keeps its disc off the walls."""
    st, spec, walls = sc.world.state, sc.world.spec, sc.layout.walls
    r = spec.bounding_radius
    gap = (st.pos.unsqueeze(2) - st.pos.unsqueeze(1)).norm(dim=-1) - (r.view(1, -1, 1) + r.view(1, 1, -1))
    pairs = bodies.unsqueeze(2) & bodies.unsqueeze(1) & ~torch.eye(spec.num_bodies, dtype=torch.bool)
    assert (gap[pairs] >= 0).all()
    dist = point_segment_distance(st.pos.unsqueeze(2), walls.start.unsqueeze(1), walls.end.unsqueeze(1))
    clear = dist - r.view(1, -1, 1) - walls.half_thickness
    assert (clear[bodies.unsqueeze(2) & walls.mask.unsqueeze(1)] >= 0).all()
