"""The torch.compile forms of the sensors give the eager answers.

Under ``torch.compile`` the ray and segment queries take plain broadcasting paths (the eager
paths' ``out=`` buffers and blocked layout break or slow the graph). Dynamo selects them with
``torch.compiler.is_compiling()``; patching it to True runs them eagerly, so they can be
checked against the eager paths without compiling.
"""

import torch

from marl_envs.sensors import Obstacles, lidar, line_of_sight, pairwise_blocked, ray_cast
from tests.sensors.test_raycast import random_scene


def both_paths(monkeypatch, query):
    eager = query()
    monkeypatch.setattr(torch.compiler, "is_compiling", lambda: True)
    traced = query()
    monkeypatch.undo()
    return eager, traced


def test_traced_ray_queries_equal_the_eager_ones(monkeypatch):
    obstacles, origin, g = random_scene(5, b=9, a=3, m=7)
    heading = torch.rand(9, 3, generator=g) * 6
    direction = torch.nn.functional.normalize(torch.randn(9, 3, 11, 2, generator=g), dim=-1)
    for query in (lambda: (lidar(origin, heading, obstacles, 30, 3.0),),  # even count: antipodal rays
                  lambda: (lidar(origin, heading, obstacles, 7, 3.0),),
                  lambda: ray_cast(origin, direction, obstacles, 3.0)):
        eager, traced = both_paths(monkeypatch, query)
        for e, t in zip(eager, traced, strict=True):
            assert e.dtype == t.dtype
            torch.testing.assert_close(t, e, rtol=0, atol=1e-5)
    distance, index = ray_cast(origin, direction, obstacles, 3.0)
    assert (index >= 0).any() and (index < 0).any(), "the scene should have hits and misses"


def test_traced_line_of_sight_equals_the_eager_one(monkeypatch):
    obstacles, start, g = random_scene(8, b=6, a=4, m=6)
    end = torch.rand(6, 5, 2, generator=g) * 6 - 3
    ignore_shared = torch.rand(4, 5, 6, generator=g) > 0.7
    ignore_per_world = torch.rand(6, 4, 5, 6, generator=g) > 0.7
    for ignore in (None, ignore_shared, ignore_per_world):
        eager, traced = both_paths(monkeypatch, lambda ignore=ignore: pairwise_blocked(start, end, obstacles, ignore))
        assert torch.equal(traced, eager)
        assert 0 < eager.sum() < eager.numel()
    see_over = torch.rand(6, 4, 5, generator=g) > 0.5
    eager, traced = both_paths(monkeypatch, lambda: line_of_sight(start, end, obstacles, see_over=see_over))
    assert torch.equal(traced, eager)


def test_traced_segments_keep_the_touching_rules(monkeypatch):
    box = Obstacles.from_boxes(torch.zeros(1, 1, 2), torch.zeros(1, 1), torch.ones(1, 2))
    start = torch.tensor([[[-3.0, 0.0], [-3.0, 1.5], [-3.0, 0.0], [1.0, 0.0], [1.0, 0.0], [-2.0, 1.0], [0.5, 0.5],
                           [0.2, 0.2], [-3.0, -3.0]]])
    end = torch.tensor([[[3.0, 0.0], [3.0, 1.5], [-1.0, 0.0], [3.0, 0.5], [-3.0, 0.0], [2.0, 1.0], [0.5, 0.5],
                         [3.0, 0.2], [3.0, 3.0]]])
    # through, beside, ends on a face, starts on a face and leaves, starts on a face and crosses,
    # slides along a face, zero length inside, starts inside, through the corners' diagonal
    want = [True, False, False, False, True, False, False, True, True]
    eager, traced = both_paths(monkeypatch, lambda: pairwise_blocked(start, end, box)[0].diagonal())
    assert eager.tolist() == want and traced.tolist() == want
