"""MAPPO's value normaliser: round trip, standardisation, state dict."""

import torch

from baselines.common.normalization import ValueNormalizer


def test_value_normalizer_round_trip_and_standardises():
    vn = ValueNormalizer(beta=0.9)
    gen = torch.Generator().manual_seed(1)
    returns = torch.randn(4096, generator=gen) * 20.0 - 50.0
    for _ in range(200):
        vn.update(returns)
    x = torch.linspace(-100, 10, 50)
    assert torch.allclose(vn.denormalize(vn.normalize(x)), x, atol=1e-4)
    z = vn.normalize(returns)
    assert abs(z.mean().item()) < 0.05 and abs(z.std().item() - 1.0) < 0.05


def test_value_normalizer_state_dict_round_trip():
    vn = ValueNormalizer()
    vn.update(torch.tensor([1.0, 2.0, 3.0]))
    other = ValueNormalizer()
    other.load_state_dict(vn.state_dict())
    assert torch.equal(other.normalize(torch.tensor([5.0])), vn.normalize(torch.tensor([5.0])))
