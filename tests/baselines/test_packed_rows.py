"""PackedRows: minibatches gathered into a reused buffer hold the same rows as fresh ones."""

import torch

from baselines.common.buffer import PackedRows, minibatch_indices


def _rows(n=50):
    g = torch.Generator().manual_seed(0)
    return PackedRows({"x": torch.randn(n, 3, 2, generator=g), "a": torch.randint(0, 7, (n,), generator=g),
                       "m": torch.rand(n, generator=g) > 0.5})


def test_scratch_minibatches_equal_fresh_gathers_field_by_field():
    rows = _rows()
    for idx in minibatch_indices(50, 3, torch.Generator().manual_seed(1), torch.device("cpu")):  # sizes 17, 17, 16
        fresh, reused = rows.take(idx), rows.take(idx, scratch=True)
        for name in fresh:
            assert fresh[name].dtype == reused[name].dtype and fresh[name].shape == reused[name].shape
            assert torch.equal(fresh[name], reused[name])


def test_scratch_takes_share_one_buffer_and_overwrite_it():
    rows = _rows()
    first = rows.take(torch.tensor([0, 1, 2]), scratch=True)["x"]
    kept = first.clone()
    second = rows.take(torch.tensor([3, 4]), scratch=True)["x"]
    assert first.untyped_storage().data_ptr() == second.untyped_storage().data_ptr()
    assert not torch.equal(first[:2], kept[:2])  # the next scratch take overwrote the first minibatch
    assert torch.equal(second, rows.take(torch.tensor([3, 4]))["x"])
