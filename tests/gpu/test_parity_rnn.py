"""CPU/GPU parity of the recurrent layers and ``nn.utils.rnn``: values, gradients and errors
of ``nn.LSTM``/``GRU``/``RNN`` (padded and packed) and the cells agree between the NumPy and
CuPy paths. Marked ``gpu`` (skipped without CuPy; runs on the CuPy emulator too)."""
import numpy as np
import pytest

import minicv as mc
from minicv import nn
from minicv.nn.utils.rnn import (PackedSequence, pack_padded_sequence, pad_packed_sequence,
                                 pad_sequence)
from test_parity_sweep import _same, _same_error

pytestmark = pytest.mark.gpu

cp = pytest.importorskip("cupy")

R = np.random.default_rng(5)


def _on_device(make):
    """A function of input tensors that runs a fresh module (same seed) on their device."""
    def run(x, *rest):
        mc.manual_seed(3)
        m = make().to(x.data.device if isinstance(x, PackedSequence) else x.device)
        out = m(x, *rest)
        out, h = out if not isinstance(out, mc.Tensor) else (out, None)
        return (out,) if h is None else (out, h)
    return run


@pytest.mark.parametrize("make", [
    lambda: nn.LSTM(3, 4, num_layers=2, bidirectional=True, dtype=mc.float64),
    lambda: nn.LSTM(3, 4, proj_size=2, batch_first=True, dtype=mc.float64),
    lambda: nn.GRU(3, 4, num_layers=2, bidirectional=True, dtype=mc.float64),
    lambda: nn.RNN(3, 4, nonlinearity="relu", dtype=mc.float64),
    lambda: nn.LSTMCell(3, 4, dtype=mc.float64),
    lambda: nn.GRUCell(3, 4, dtype=mc.float64),
    lambda: nn.RNNCell(3, 4, dtype=mc.float64)])
def test_layers(make):
    x = R.standard_normal((5, 2, 3)) if "Cell" not in repr(make()) else R.standard_normal((2, 3))
    _same(_on_device(make), x)
    _same(_on_device(lambda: make().float()), x.astype(np.float32), rtol=1e-5, atol=1e-6)


def test_packed_input():
    make = lambda: nn.LSTM(3, 4, bidirectional=True, dtype=mc.float64)

    def fn(x):
        out = _on_device(make)(pack_padded_sequence(x, [2, 5, 3], enforce_sorted=False))
        return pad_packed_sequence(out[0])[0]
    _same(lambda x: fn(x), R.standard_normal((5, 3, 3)))
    _same(lambda a, b: pad_sequence([a, b], padding_side="left", padding_value=-1.0),
          R.standard_normal((2, 3)), R.standard_normal((4, 3)))


def test_errors():
    m = nn.GRU(4, 3, dtype=mc.float64)
    _same_error(lambda x: m.to(x.device)(x), np.zeros((2, 3, 5)),
                match="input.size\\(-1\\) must be equal to input_size")
    _same_error(lambda x, h: m.to(x.device)(x, h), np.zeros((2, 3, 4)), np.zeros((2, 3, 3)),
                match="Expected hidden size")
