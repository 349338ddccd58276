"""``nn.utils.rnn``: padding and packing of variable-length sequences, values from PyTorch
2.13, round trips, gradients, and the recurrent layers on packed input (each sequence's
result must equal running it alone)."""
import numpy as np
import pytest

import minicv as mc
from minicv import nn
from minicv.nn.utils.rnn import (PackedSequence, pad_sequence, pack_padded_sequence,
                                 pad_packed_sequence, pack_sequence, unpack_sequence,
                                 unpad_sequence)
from minicv.testing import gradcheck


X = mc.arange(24.).reshape(4, 3, 2)


def test_pack_padded_sequence_values():
    # torch: pack_padded_sequence(x, [2, 3, 1], enforce_sorted=False)
    p = pack_padded_sequence(X, [2, 3, 1], enforce_sorted=False)
    assert p.data.tolist() == [[2, 3], [0, 1], [4, 5], [8, 9], [6, 7], [14, 15]]
    assert p.batch_sizes.tolist() == [3, 2, 1] and p.batch_sizes.dtype == mc.int64
    assert p.sorted_indices.tolist() == [1, 0, 2] and p.unsorted_indices.tolist() == [1, 0, 2]
    s = pack_padded_sequence(X, mc.tensor([3, 2, 1]))
    assert s.sorted_indices is None and s.unsorted_indices is None
    assert s.data.tolist() == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [12, 13]]
    bf = pack_padded_sequence(X.transpose(0, 1), [3, 2, 1], batch_first=True)
    assert bf.data.tolist() == s.data.tolist()


def test_pad_packed_sequence_values():
    p = pack_padded_sequence(X, [2, 3, 1], enforce_sorted=False)
    y, lengths = pad_packed_sequence(p)
    assert lengths.tolist() == [2, 3, 1] and lengths.dtype == mc.int64
    assert y.tolist() == [[[0, 1], [2, 3], [4, 5]], [[6, 7], [8, 9], [0, 0]],
                          [[0, 0], [14, 15], [0, 0]]]
    y, _ = pad_packed_sequence(p, batch_first=True, padding_value=-1, total_length=5)
    assert y.shape == (3, 5, 2)
    assert y[0].tolist() == [[0, 1], [6, 7], [-1, -1], [-1, -1], [-1, -1]]
    assert y[1, :, 0].tolist() == [2, 8, 14, -1, -1]
    with pytest.raises(ValueError, match="total_length=2 and max sequence length being 3"):
        pad_packed_sequence(p, total_length=2)


def test_pad_sequence_values():
    a, b = mc.ones(2), 2 * mc.ones(3)
    assert pad_sequence([a, b]).tolist() == [[1, 2], [1, 2], [0, 2]]
    assert pad_sequence([a, b], batch_first=True).tolist() == [[1, 1, 0], [2, 2, 2]]
    assert pad_sequence([a, b], padding_side="left", padding_value=-1).tolist() == \
        [[-1, 2], [1, 2], [1, 2]]
    assert pad_sequence(mc.ones(3, 2)).shape == (2, 3)            # a tensor: its rows
    assert pad_sequence([mc.ones(2, 3), mc.ones(1, 3)]).shape == (2, 2, 3)
    with pytest.raises(ValueError, match="received an empty list of sequences"):
        pad_sequence([])
    with pytest.raises(ValueError, match="Expected padding_side to be one of left or right"):
        pad_sequence([a], padding_side="middle")
    with pytest.raises(ValueError, match=r"\[\[2, 3\], \[3, 2\]\]"):
        pad_sequence([mc.ones(2, 3), mc.ones(3, 2)])


def test_round_trips():
    seqs = [mc.randn(3, 2), mc.randn(5, 2), mc.randn(1, 2)]
    for got, want in zip(unpack_sequence(pack_sequence(seqs, enforce_sorted=False)), seqs):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    padded = pad_sequence(seqs)
    for got, want in zip(unpad_sequence(padded, mc.tensor([3, 5, 1])), seqs):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    for got, want in zip(unpad_sequence(padded.transpose(0, 1), [3, 5, 1], batch_first=True),
                         seqs):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    p = pack_sequence([seqs[1], seqs[0], seqs[2]])
    assert p.batch_sizes.tolist() == [3, 2, 2, 1, 1]
    y, lengths = pad_packed_sequence(pack_padded_sequence(padded, [3, 5, 1],
                                                          enforce_sorted=False))
    np.testing.assert_array_equal(y.numpy(), padded.numpy())


def test_packing_gradcheck():
    x = mc.tensor(np.random.default_rng(0).standard_normal((3, 3, 2)), requires_grad=True)

    def fn(x):
        p = pack_padded_sequence(x, [2, 3, 1], enforce_sorted=False)
        return pad_packed_sequence(PackedSequence(p.data * p.data, p.batch_sizes,
                                                  p.sorted_indices))[0]
    gradcheck(fn, (x,))
    gradcheck(lambda x: pad_sequence([x[0], x[1, :2]], padding_side="left"), (x,))


def test_packed_sequence_helpers():
    p = pack_sequence([mc.ones(2, 2), mc.ones(3, 2)], enforce_sorted=False)
    assert p.double().data.dtype == mc.float64 and isinstance(p.double(), PackedSequence)
    assert p.to("cpu") is p and not p.is_cuda
    assert p.double().sorted_indices.tolist() == [1, 0]
    q = PackedSequence((p.data, p.batch_sizes))
    assert q.batch_sizes.tolist() == [2, 2, 1] and q.sorted_indices is None


def test_pack_errors():
    with pytest.raises(ValueError, match="must be sorted in decreasing order"):
        pack_padded_sequence(X, [2, 3, 1])
    with pytest.raises(ValueError, match="Length of all samples has to be greater than 0"):
        pack_padded_sequence(X, [3, 2, 0])
    with pytest.raises(ValueError, match=r"but got 2 \(batch_size=3\)"):
        pack_padded_sequence(X, [3, 2])
    with pytest.raises(ValueError, match="should be a 1D CPU int64 tensor, but got 2D"):
        pack_padded_sequence(X, mc.tensor([[3, 2, 1]]))
    with pytest.raises(ValueError, match="a length of 5 exceeds the input's 4 time steps"):
        pack_padded_sequence(X, [5, 2, 1])


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU, nn.RNN])
def test_layers_on_packed_input_equal_each_sequence_alone(cls):
    m = cls(2, 3, num_layers=2, bidirectional=True, dtype=mc.float64)
    rng = np.random.default_rng(1)
    seqs = [mc.tensor(rng.standard_normal((n, 2))) for n in (2, 4, 1)]
    h0 = mc.tensor(rng.standard_normal((4, 3, 3)))
    hx = (h0, h0 * 0.5) if cls is nn.LSTM else h0
    out, h = m(pack_sequence(seqs, enforce_sorted=False), hx)
    assert isinstance(out, PackedSequence) and out.sorted_indices.tolist() == [1, 0, 2]
    finals = h if cls is nn.LSTM else (h,)
    for b, (seq, y) in enumerate(zip(seqs, unpack_sequence(out))):
        alone = (h0[:, b], h0[:, b] * 0.5) if cls is nn.LSTM else h0[:, b]
        want_y, want_h = m(seq, alone)
        np.testing.assert_allclose(y.detach().numpy(), want_y.detach().numpy(), atol=1e-14)
        for f, w in zip(finals, want_h if cls is nn.LSTM else (want_h,)):
            np.testing.assert_allclose(f[:, b].detach().numpy(), w.detach().numpy(),
                                       atol=1e-14)
