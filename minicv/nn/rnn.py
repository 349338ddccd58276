"""Recurrent layers with PyTorch's names, arguments, parameter names and ``state_dict`` keys:
``RNN``, ``LSTM``, ``GRU`` (stacked, bidirectional, on padded or packed batches) and the
single-step ``RNNCell``, ``LSTMCell``, ``GRUCell``.

Each layer and direction is one fused graph node (``ops/rnn.py``), so a 50-step LSTM costs
one node per layer and direction, not hundreds. Parameters per layer k (``_reverse`` for the
backward direction): ``weight_ih_l{k}`` (G·H, input), ``weight_hh_l{k}`` (G·H, H),
``bias_ih_l{k}``, ``bias_hh_l{k}`` (G·H,), and ``weight_hr_l{k}`` (P, H) for an LSTM with
``proj_size`` P; G = 1, 4 (i, f, g, o), 3 (r, z, n). All start as U(-1/√H, 1/√H).
"""
import math
import numbers
import warnings

import numpy as np

from ..backend import get_default_dtype
from ..factories import zeros
from ..ops import rnn as R
from ..ops.index import index_select
from ..ops.nn_basic import dropout as _dropout
from ..ops.shape import cat, stack
from ..tensor import as_tensor_arg
from . import init
from .module import Module
from .parameter import Parameter
from .utils.rnn import PackedSequence

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _size_arg(value, name):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be greater than zero, got {value}")
    return int(value)


class RNNBase(Module):
    """What ``RNN``, ``LSTM`` and ``GRU`` share: parameters, argument checks, the loop over
    layers and directions, packed input. ``mode`` is ``"RNN_TANH"``, ``"RNN_RELU"``,
    ``"LSTM"`` or ``"GRU"``."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"dropout option adds dropout after all but last recurrent layer, "
                          f"so non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}")
        input_size = _size_arg(input_size, "input_size")
        hidden_size = _size_arg(hidden_size, "hidden_size")
        num_layers = _size_arg(num_layers, "num_layers")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError(f"proj_size has to be smaller than hidden_size, got proj_size="
                             f"{proj_size} and hidden_size={hidden_size}")
        self.mode, self.input_size, self.hidden_size = mode, int(input_size), hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bool(bias), batch_first
        self.dropout, self.bidirectional = float(dropout), bool(bidirectional)
        self.proj_size = int(proj_size)
        dtype = np.dtype(dtype or get_default_dtype())
        gate_size, real_h = _GATES[mode] * hidden_size, proj_size or hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names, self._all_weights = [], []
        for layer in range(num_layers):
            layer_in = self.input_size if layer == 0 else real_h * directions
            for suffix in ("", "_reverse")[:directions]:
                shapes = [("weight_ih", (gate_size, layer_in)),
                          ("weight_hh", (gate_size, real_h))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                names = [f"{kind}_l{layer}{suffix}" for kind, _ in shapes]
                for name, (_, shape) in zip(names, shapes):
                    setattr(self, name, Parameter(np.empty(shape, dtype)))
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()
        self._place(device)

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        """The parameters as a list per layer and direction (``weight_ih``, ``weight_hh``,
        biases, ``weight_hr``), as in PyTorch."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self):
        """PyTorch packs the weights into one cuDNN buffer here; minicv needs no such
        buffer, so this does nothing."""

    def _layer_weights(self, k):
        """(w_ih, w_hh, b_ih, b_hh, w_hr) of layer-direction k; None where absent."""
        p = dict(zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"),
                     [None] * 5))
        for name in self._all_weights[k]:
            p[name.split("_l")[0]] = getattr(self, name)
        return p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"], p["weight_hr"]

    def _state_shape(self, batch, cell=False):
        size = self.hidden_size if cell or not self.proj_size else self.proj_size
        return (self.num_layers * (2 if self.bidirectional else 1), batch, size)

    def forward(self, input, hx=None):
        """Run the sequence; returns ``(output, h_n)``, for an LSTM ``(output, (h_n, c_n))``.

        Shape: input (T, N, input_size), (N, T, input_size) with ``batch_first``, (T,
        input_size) unbatched, or a PackedSequence; h0 (D·num_layers, N, H_out) (no N
        unbatched); output (T, N, D·H_out); D = 2 if bidirectional, H_out = proj_size or
        hidden_size.
        """
        lstm, name = self.mode == "LSTM", type(self).__name__
        packed = isinstance(input, PackedSequence)
        if packed:
            x, batch_sizes, sorted_indices, unsorted_indices = input
            batch_sizes = tuple(int(b) for b in batch_sizes.tolist())
            batched, n = True, batch_sizes[0]
            if x.ndim != 2:
                raise ValueError(f"input must have 2 dimensions, got {x.ndim} (shape "
                                 f"{list(x.shape)}): a PackedSequence's data is (sum of "
                                 f"lengths, input_size)")
        else:
            x = as_tensor_arg(input)
            if x.ndim not in (2, 3):
                raise ValueError(_rank_message(name, x.ndim))
            batched = x.ndim == 3
            x = x.unsqueeze(1) if not batched else x.transpose(0, 1) if self.batch_first else x
            t, n = x.shape[:2]
            if t == 0:
                raise ValueError("Expected sequence length to be larger than 0 in RNN")
            batch_sizes = (n,) * t
            x = x.reshape(t * n, x.shape[2])                               # (T·N, I)
        self._check_input(x)
        states = self._initial_states(hx, n, batched, x)
        if packed and sorted_indices is not None:
            states = [index_select(s, 1, sorted_indices) for s in states]
        out, finals = self._run_layers(x, states, batch_sizes)
        finals = [stack(f) for f in finals]                                 # (L·D, N, H)
        if packed:
            if unsorted_indices is not None:
                finals = [index_select(f, 1, unsorted_indices) for f in finals]
            output = PackedSequence(out, input.batch_sizes, sorted_indices, unsorted_indices)
        else:
            output = out.reshape(t, n, out.shape[1])                       # (T, N, D·H)
            if not batched:
                output, finals = output.squeeze(1), [f.squeeze(1) for f in finals]
            elif self.batch_first:
                output = output.transpose(0, 1)
        return output, (tuple(finals) if lstm else finals[0])

    def _check_input(self, x):
        w = self.weight_ih_l0
        if x.dtype != w.dtype:
            raise TypeError(f"{type(self).__name__} input dtype ({x.dtype}) does not match "
                            f"weight dtype ({w.dtype}). Convert input: input.to({w.dtype}), "
                            f"or convert model: model.to({x.dtype})")
        if x.shape[-1] != self.input_size:
            raise ValueError(f"input.size(-1) must be equal to input_size. Expected "
                             f"{self.input_size}, got {x.shape[-1]}")

    def _initial_states(self, hx, n, batched, x):
        """[h0] or [h0, c0] as (L·D, N, H) tensors, zeros when ``hx`` is None."""
        lstm = self.mode == "LSTM"
        shapes = [self._state_shape(n)] + ([self._state_shape(n, cell=True)] if lstm else [])
        if hx is None:
            return [zeros(s, dtype=x.dtype, device=x.device) for s in shapes]
        states = [as_tensor_arg(h) for h in (hx if lstm else (hx,))]
        want = 3 if batched else 2
        if any(s.ndim != want for s in states):
            got = ", ".join(f"{s.ndim}-D" for s in states)
            what, kind = ("hx and cx", f"({got}) tensors") if lstm else ("hx", f"{got} tensor")
            raise ValueError(f"For {'batched 3' if batched else 'unbatched 2'}-D input, "
                             f"{what} should also be {want}-D but got {kind}")
        if not batched:
            states = [s.unsqueeze(1) for s in states]
        for i, (s, shape) in enumerate(zip(states, shapes)):
            if tuple(s.shape) != shape:
                which = f"hidden[{i}]" if lstm else "hidden"
                raise ValueError(f"Expected {which} size {shape}, got {list(s.shape)}")
            if s.dtype != x.dtype:
                raise TypeError(f"{type(self).__name__}: the initial state has dtype "
                                f"{s.dtype}, the input {x.dtype}: convert one of them")
        return states

    def _run_layers(self, x, states, batch_sizes):
        """Every layer and direction over the packed rows x (S, I); returns the last
        layer's output (S, D·H) and, per state, the final state of each layer-direction."""
        directions = 2 if self.bidirectional else 1
        finals = [[] for _ in states]
        for layer in range(self.num_layers):
            outs = []
            for d in range(directions):
                k = layer * directions + d
                res = self._layer(x, [s[k] for s in states], self._layer_weights(k),
                                  batch_sizes, reverse=d == 1)
                outs.append(res[0])
                for f, r in zip(finals, res[1:]):
                    f.append(r)
            x = outs[0] if directions == 1 else cat(outs, dim=1)           # (S, D·H)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = _dropout(x, self.dropout, True)
        return x, finals

    def _layer(self, x, states, weights, batch_sizes, reverse):
        w_ih, w_hh, b_ih, b_hh, w_hr = weights
        if self.mode == "LSTM":
            return R.LSTMLayer.apply(x, states[0], states[1], w_ih, w_hh, b_ih, b_hh, w_hr,
                                     batch_sizes=batch_sizes, reverse=reverse)
        if self.mode == "GRU":
            return R.GRULayer.apply(x, states[0], w_ih, w_hh, b_ih, b_hh,
                                    batch_sizes=batch_sizes, reverse=reverse)
        return R.RNNLayer.apply(x, states[0], w_ih, w_hh, b_ih, b_hh, batch_sizes=batch_sizes,
                                reverse=reverse, nonlinearity=self.mode[4:].lower())

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        for key, default in (("num_layers", 1), ("bias", True), ("batch_first", False),
                             ("dropout", 0.0), ("bidirectional", False)):
            if getattr(self, key) != default:
                s += f", {key}={getattr(self, key)}"
        return s


def _rank_message(name, ndim):
    tensor = " tensor" if name == "RNN" else ""
    return f"{name}: Expected input to be 2D or 3D, got {ndim}D{tensor} instead"


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh) (or relu), stacked
    ``num_layers`` deep, each layer reading the previous one's output.

    Args:
        nonlinearity: ``'tanh'`` or ``'relu'``.
        batch_first: input and output are (N, T, *) (h0 and h_n stay (D·L, N, H)).
        dropout: probability of dropout on each layer's output but the last, in training.
        bidirectional: run a second layer backwards in time; outputs are concatenated.

    Shape: input (T, N, input_size) or PackedSequence -> output (T, N, D·hidden_size),
    h_n (D·num_layers, N, hidden_size); h_n[k] is layer k // D, direction k % D.

    Example::

        rnn = nn.RNN(10, 20, num_layers=2)
        output, h_n = rnn(mc.randn(5, 3, 10))            # (5, 3, 20), (2, 3, 20)
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh",
                 bias=True, batch_first=False, dropout=0.0, bidirectional=False, device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             f"'relu'.")
        super().__init__("RNN_" + nonlinearity.upper(), input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, 0, device, dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory (Hochreiter & Schmidhuber, 1997), gates in PyTorch's order:
    [i f g o] = [σ σ tanh σ](x W_ihᵀ + b_ih + h W_hhᵀ + b_hh), c_t = f c_{t-1} + i g,
    h_t = o tanh(c_t), times W_hrᵀ when ``proj_size`` > 0 (LSTMP, Sak et al., 2014).

    Args: as :class:`RNN` (no nonlinearity), plus proj_size (0: no projection).

    Shape: input (T, N, input_size) or PackedSequence -> output (T, N, D·H_out),
    h_n (D·num_layers, N, H_out), c_n (D·num_layers, N, hidden_size);
    H_out = proj_size or hidden_size.

    Example::

        lstm = nn.LSTM(32, 64, num_layers=2, bidirectional=True)
        out, (h, c) = lstm(mc.randn(50, 16, 32))        # (50, 16, 128), (4, 16, 64) x 2
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit (Cho et al., 2014), gates in PyTorch's order:
    [r z] = σ(x W_i[rz]ᵀ + b_i[rz] + h W_h[rz]ᵀ + b_h[rz]),
    n = tanh(x W_inᵀ + b_in + r ⊙ (h W_hnᵀ + b_hn)), h_t = (1 - z) n + z h_{t-1}.

    Args and Shape: as :class:`RNN` (no nonlinearity).

    Example::

        gru = nn.GRU(10, 20, batch_first=True)
        output, h_n = gru(mc.randn(3, 5, 10))            # (3, 5, 20), (1, 3, 20)
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, 0, device, dtype)


# ----------------------------------------------------------------------------- cells

class RNNCellBase(Module):
    """One time step of a recurrent layer: ``weight_ih`` (G·H, input), ``weight_hh``
    (G·H, H), ``bias_ih``, ``bias_hh`` (G·H,), all U(-1/√H, 1/√H)."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), bias
        dtype = np.dtype(dtype or get_default_dtype())
        g = num_chunks * self.hidden_size
        self.weight_ih = Parameter(np.empty((g, self.input_size), dtype))
        self.weight_hh = Parameter(np.empty((g, self.hidden_size), dtype))
        if bias:
            self.bias_ih = Parameter(np.empty((g,), dtype))
            self.bias_hh = Parameter(np.empty((g,), dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()
        self._place(device)

    reset_parameters = RNNBase.reset_parameters

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input, hx, n_states):
        """Checked (N, I) input and [h] or [h, c] (N, H) states; ``batched`` False for 1-D
        input (the caller squeezes the results)."""
        name = type(self).__name__
        x = as_tensor_arg(input)
        if x.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {x.ndim}D instead")
        batched = x.ndim == 2
        x = x if batched else x.unsqueeze(0)
        if x.dtype != self.weight_ih.dtype:
            raise TypeError(f"{name}: input dtype {x.dtype} does not match the weight dtype "
                            f"{self.weight_ih.dtype}: convert the input or the module")
        if x.shape[1] != self.input_size:
            raise ValueError(f"input has inconsistent input_size: got {x.shape[1]} expected "
                             f"{self.input_size}")
        if hx is None:
            return x, [zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)
                       for _ in range(n_states)], batched
        states = [as_tensor_arg(h) for h in (hx if n_states == 2 else (hx,))]
        for i, s in enumerate(states):
            if s.ndim not in (1, 2):
                which = f"hx[{i}]" if n_states == 2 else "hidden"
                raise ValueError(f"{name}: Expected {which} to be 1D or 2D, got {s.ndim}D "
                                 f"instead")
        states = [s if batched else s.unsqueeze(0) for s in states]
        for i, s in enumerate(states):
            if s.ndim != 2 or s.shape[0] != x.shape[0]:
                raise ValueError(f"Input batch size {x.shape[0]} doesn't match hidden{i} "
                                 f"batch size {s.shape[0] if s.ndim == 2 else 'none'}")
            if s.shape[1] != self.hidden_size:
                raise ValueError(f"hidden{i} has inconsistent hidden_size: got {s.shape[1]}, "
                                 f"expected {self.hidden_size}")
            if s.dtype != x.dtype:
                raise TypeError(f"{name}: hidden{i} has dtype {s.dtype} but the input has "
                                f"{x.dtype}: convert the state, e.g. h.to({x.dtype})")
        return x, states, batched


def _cell_result(h, batched):
    return h if batched else h.squeeze(0)


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (or relu).

    Shape: input (N, input_size) or (input_size,), hx (N, hidden_size) (zeros when
    omitted) -> h' (N, hidden_size).

    Minicv rejects an unknown nonlinearity when the cell is built (PyTorch: at the call).

    Example::

        cell = nn.RNNCell(10, 20)
        h = cell(mc.randn(3, 10))                        # (3, 20)
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             f"'relu'.")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, hx, 1)
        _, h = R.RNNLayer.apply(x, h, self.weight_ih, self.weight_hh, self.bias_ih,
                                self.bias_hh, batch_sizes=(x.shape[0],),
                                nonlinearity=self.nonlinearity)
        return _cell_result(h, batched)


class LSTMCell(RNNCellBase):
    """One LSTM step: returns ``(h', c')`` (gates as :class:`LSTM`).

    Shape: input (N, input_size) or (input_size,); hx a pair (h, c) of (N, hidden_size)
    (zeros when omitted) -> h', c' (N, hidden_size).

    Example::

        cell = nn.LSTMCell(10, 20)
        h, c = cell(mc.randn(3, 10))                     # (3, 20) each
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        x, (h, c), batched = self._prepare(input, hx, 2)
        _, h, c = R.LSTMLayer.apply(x, h, c, self.weight_ih, self.weight_hh, self.bias_ih,
                                    self.bias_hh, None, batch_sizes=(x.shape[0],))
        return _cell_result(h, batched), _cell_result(c, batched)


class GRUCell(RNNCellBase):
    """One GRU step (gates as :class:`GRU`).

    Shape: input (N, input_size) or (input_size,), hx (N, hidden_size) (zeros when
    omitted) -> h' (N, hidden_size).

    Example::

        cell = nn.GRUCell(10, 20)
        h = cell(mc.randn(3, 10))                        # (3, 20)
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, hx, 1)
        _, h = R.GRULayer.apply(x, h, self.weight_ih, self.weight_hh, self.bias_ih,
                                self.bias_hh, batch_sizes=(x.shape[0],))
        return _cell_result(h, batched)
