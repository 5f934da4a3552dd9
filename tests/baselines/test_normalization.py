"""Running statistics: exact running mean/var, and MAPPO's value normaliser round trip."""

import torch

from baselines.common.normalization import RunningMeanStd, ValueNormalizer


def test_running_mean_std_matches_full_batch_statistics():
    gen = torch.Generator().manual_seed(0)
    data = torch.randn(1000, 3, generator=gen) * torch.tensor([1.0, 5.0, 0.1]) + torch.tensor([2.0, -1.0, 0.0])
    rms = RunningMeanStd((3,), epsilon=1e-12)
    for chunk in data.split(137):
        rms.update(chunk)
    assert torch.allclose(rms.mean.float(), data.mean(0), atol=1e-5)
    assert torch.allclose(rms.var.float(), data.var(0, unbiased=False), rtol=1e-4)
    z = rms.normalize(data)
    assert torch.allclose(z.mean(0), torch.zeros(3), atol=1e-4)


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
