"""Fixes to the recurrent layers and ``nn.utils.rnn`` found by comparing with PyTorch 2.13:
state dtypes of the cells, size checks, float lengths, pad_sequence's dtype, the
PackedSequence casts. Expected values come from PyTorch 2.13."""
import numpy as np
import pytest

import minicv as mc
from minicv import nn
from minicv.nn.utils.rnn import pack_padded_sequence, pad_sequence, pad_packed_sequence


X = mc.arange(6.).reshape(2, 3)


@pytest.mark.parametrize("cell, states", [
    (nn.LSTMCell, lambda: (mc.zeros(2, 4), mc.zeros(2, 4, dtype=mc.float64))),
    (nn.LSTMCell, lambda: (mc.zeros(2, 4, dtype=mc.float64), mc.zeros(2, 4))),
    (nn.RNNCell, lambda: mc.zeros(2, 4, dtype=mc.float64)),
    (nn.GRUCell, lambda: mc.zeros(2, 4, dtype=mc.float64)),
])
def test_cell_state_dtype_must_match_input(cell, states):
    # torch: RuntimeError "mat1 and mat2 must have the same dtype" (LSTMCell with a float64
    # c and a float32 h promotes c instead; minicv refuses both orders)
    with pytest.raises(TypeError, match="float64.*float32"):
        cell(3, 4)(X, states())


@pytest.mark.parametrize("layer", [nn.RNN, nn.LSTM, nn.GRU])
def test_layer_input_size_zero_raises(layer):
    with pytest.raises(ValueError, match="input_size must be greater than zero"):
        layer(0, 4)
    with pytest.raises(TypeError, match="input_size should be of type int"):
        layer(2.5, 4)


@pytest.mark.parametrize("cell", [nn.RNNCell, nn.LSTMCell, nn.GRUCell])
def test_cell_with_zero_hidden_size_builds_and_runs(cell):
    m = cell(3, 0)
    assert [tuple(p.shape) for p in m.parameters()] == [(0, 3), (0, 0), (0,), (0,)]
    x = X.clone().requires_grad_()
    out = m(x)
    h = out[0] if isinstance(out, tuple) else out
    assert h.shape == (2, 0)
    h.sum().backward()
    assert x.grad.tolist() == [[0.0] * 3] * 2


def test_pack_padded_sequence_float_lengths_truncate():
    x = mc.arange(6.).reshape(3, 2, 1)
    for lengths in (mc.tensor([3.7, 2.2]), [3.7, 2.2]):
        p = pack_padded_sequence(x, lengths)
        assert p.batch_sizes.tolist() == [2, 2, 1]          # torch: lengths [3, 2]
        assert p.data.reshape(-1).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    y, lengths = pad_packed_sequence(pack_padded_sequence(x, mc.tensor([2.9, 1.0])))
    assert lengths.tolist() == [2, 1] and lengths.dtype == mc.int64
    assert y.reshape(-1).tolist() == [0.0, 1.0, 2.0, 0.0]


def test_pad_sequence_keeps_first_dtype():
    a = pad_sequence([mc.ones(2, dtype=mc.int64), mc.full((3,), 1.5)])
    assert a.dtype == mc.int64 and a.tolist() == [[1, 1], [1, 1], [0, 1]]
    b = pad_sequence([mc.ones(2), mc.full((3,), 1.5, dtype=mc.float64)], batch_first=True)
    assert b.dtype == mc.float32 and b.tolist() == [[1.0, 1.0, 0.0], [1.5, 1.5, 1.5]]
    # the cast sequence still gets its gradient, in its own dtype
    s = mc.full((3,), 1.5, dtype=mc.float64, requires_grad=True)
    (pad_sequence([mc.ones(2), s]) * mc.tensor([[1., 2.]] * 3)).sum().backward()
    assert s.grad.dtype == mc.float64 and s.grad.tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("method, dtype", [
    ("half", np.float16), ("long", np.int64), ("int", np.int32), ("short", np.int16),
    ("char", np.int8), ("byte", np.uint8), ("double", np.float64), ("float", np.float32)])
def test_packed_sequence_casts(method, dtype):
    p = pack_padded_sequence(mc.arange(6.).reshape(3, 2, 1), [3, 2])
    q = getattr(p, method)()
    assert q.data.dtype == dtype and q.batch_sizes.dtype == mc.int64
    assert q.data.reshape(-1).tolist() == [0, 1, 2, 3, 4]
    assert p.is_pinned() is False
