"""Fused recurrent layers: ``RNNLayer``, ``LSTMLayer`` and ``GRULayer`` each run one layer in
one direction over all time steps as a single graph node, with a hand-written
backpropagation through time.

Layout. The input is *packed*: ``x`` has shape (S, I), the rows of time step t are the
``batch_sizes[t]`` consecutive rows after those of the steps before, and the active rows of
a step are always the first ones of the batch (sequences sorted by length, longest first,
as ``nn.utils.rnn.pack_padded_sequence`` makes them). A padded (T, N, I) input is the
special case ``batch_sizes = (N,) * T`` with ``x = input.reshape(T*N, I)``. A sequence that
has ended keeps its hidden state untouched, so ``h_n`` holds every sequence's state at its
own last step; running the steps backwards (``reverse=True``, the second direction of a
bidirectional layer) starts each sequence at its own last step from ``h0``.

Speed. The input part of every gate, ``x W_ihᵀ + b_ih``, is one matmul over all steps;
each step then costs one (b, H) x (H, G·H) matmul and a few in-place array ops. The
backward pass collects the gate gradients of all steps and forms dW_ih, dW_hh and dx with
one matmul each. Gate order as in PyTorch: i, f, g, o (LSTM); r, z, n (GRU).
"""
import numpy as np

from ..autograd import Function
from ..backend import get_array_module


def _steps(batch_sizes, reverse):
    """(first row, batch size) of each time step, in the order the layer visits them."""
    steps, start = [], 0
    for b in batch_sizes:
        steps.append((start, b))
        start += b
    return steps[::-1] if reverse else steps


def _sigmoid_(a):
    """σ(a) = (1 + tanh(a/2)) / 2, in place: no overflow for large |a|, no temporaries."""
    a *= 0.5
    np.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


def _project(x, w_ih, b_ih):
    """x W_ihᵀ + b_ih for all steps at once: (S, I) -> (S, G·H)."""
    gx = x @ w_ih.T
    if b_ih is not None:
        gx += b_ih
    return gx


def _input_grads(ctx, dgx, x, w_ih, k):
    """dx, dW_ih, db_ih from the gradient of the input part of the gates, dgx (S, G·H);
    ``k`` is the position of w_ih among the Function's arguments (b_ih is at k + 2)."""
    need = ctx.needs_input_grad
    gx = dgx @ w_ih if need[0] else None                        # (S, I)
    gw = dgx.T @ x if need[k] else None                         # (G·H, I)
    gb = dgx.sum(axis=0) if need[k + 2] else None
    return gx, gw, gb


class RNNLayer(Function):
    """Elman RNN, h_t = act(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh), act = tanh or relu.

    d pre-activation = dh_t · (1 - h_t²) (tanh) or dh_t · [h_t > 0] (relu); it is the
    gradient of both gate parts, dh_{t-1} = d W_hh. Saved: the outputs and h_{t-1}.
    Arguments: x (S, I), h0 (B, H), w_ih (H, I), w_hh (H, H), b_ih, b_hh (H,) or None.
    """
    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse=False,
                nonlinearity="tanh"):
        xp = get_array_module(x)
        steps = _steps(batch_sizes, reverse)
        gx = _project(x, w_ih, b_ih)                               # (S, H)
        if b_hh is not None:
            gx += b_hh
        y, hp, h = xp.empty_like(gx), xp.empty_like(gx), h0.copy()
        w_hh_t = xp.ascontiguousarray(w_hh.T)                       # (H, H)
        for s, b in steps:
            rows = slice(s, s + b)
            hp[rows] = h[:b]
            a = gx[rows] + h[:b] @ w_hh_t                       # (b, H)
            h[:b] = np.tanh(a, out=a) if nonlinearity == "tanh" else np.maximum(a, 0)
            y[rows] = h[:b]
        ctx.save_for_backward(x, w_ih, w_hh, y, hp)
        ctx.steps, ctx.relu = steps, nonlinearity == "relu"
        return y, h

    @staticmethod
    def backward(ctx, gy, ghn):
        x, w_ih, w_hh, y, hp = ctx.saved_tensors
        da, dh = get_array_module(gy).empty_like(y), ghn.copy()
        for s, b in reversed(ctx.steps):
            rows = slice(s, s + b)
            d = dh[:b] + gy[rows]                                  # dL/dh_t, (b, H)
            d *= (y[rows] > 0) if ctx.relu else 1 - y[rows] * y[rows]
            da[rows] = d
            dh[:b] = d @ w_hh
        gx, gw_ih, gb_ih = _input_grads(ctx, da, x, w_ih, 2)
        need = ctx.needs_input_grad
        gw_hh = da.T @ hp if need[3] else None                  # (H, H)
        gb_hh = da.sum(axis=0) if need[5] else None
        return gx, dh, gw_ih, gw_hh, gb_ih, gb_hh


class LSTMLayer(Function):
    """LSTM: [i f g o] = [σ σ tanh σ](x W_ihᵀ + b_ih + h W_hhᵀ + b_hh);
    c_t = f c_{t-1} + i g; h_t = (o tanh c_t) W_hrᵀ (no W_hr: h_t = o tanh c_t).

    With m = o tanh c: dm = dh W_hr, dc_t = dc_{t+1}·f_{t+1} + dm·o·(1 - tanh² c_t),
    di = dc·g, df = dc·c_{t-1}, dg = dc·i, do = dm·tanh c, each times its activation's
    derivative; dh_{t-1} = d(gates) W_hh. Saved: the activated gates, c_{t-1}, tanh c_t,
    h_{t-1} (and m with a projection).
    Arguments: x (S, I), h0 (B, P), c0 (B, H), w_ih (4H, I), w_hh (4H, P),
    b_ih, b_hh (4H,) or None, w_hr (P, H) or None; P = H without a projection.
    """
    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, batch_sizes, reverse=False):
        xp = get_array_module(x)
        steps, H = _steps(batch_sizes, reverse), c0.shape[1]
        gx = _project(x, w_ih, b_ih)                               # (S, 4H)
        if b_hh is not None:
            gx += b_hh
        S, P = x.shape[0], h0.shape[1]
        acts, cp, tc = gx, xp.empty((S, H), x.dtype), xp.empty((S, H), x.dtype)
        hp, y = xp.empty((S, P), x.dtype), xp.empty((S, P), x.dtype)
        m = xp.empty((S, H), x.dtype) if w_hr is not None else None
        h, c = h0.copy(), c0.copy()
        w_hh_t = xp.ascontiguousarray(w_hh.T)                       # (P, 4H)
        for s, b in steps:
            rows = slice(s, s + b)
            hp[rows], cp[rows] = h[:b], c[:b]
            a = acts[rows]                                          # a view: (b, 4H)
            a += h[:b] @ w_hh_t
            _sigmoid_(a[:, :2 * H])                                 # i, f
            np.tanh(a[:, 2 * H:3 * H], out=a[:, 2 * H:3 * H])       # g
            _sigmoid_(a[:, 3 * H:])                                 # o
            c[:b] = a[:, H:2 * H] * c[:b] + a[:, :H] * a[:, 2 * H:3 * H]
            tc[rows] = np.tanh(c[:b])
            hc = a[:, 3 * H:] * tc[rows]                            # (b, H)
            if w_hr is not None:
                m[rows] = hc
                hc = hc @ w_hr.T                                # (b, P)
            h[:b] = y[rows] = hc
        ctx.save_for_backward(x, w_ih, w_hh, w_hr, acts, cp, tc, hp, m)
        ctx.steps = steps
        return y, h, c

    @staticmethod
    def backward(ctx, gy, ghn, gcn):
        x, w_ih, w_hh, w_hr, acts, cp, tc, hp, m = ctx.saved_tensors
        xp, H = get_array_module(gy), cp.shape[1]
        da = xp.empty_like(acts)                                    # (S, 4H)
        dy = xp.empty_like(gy) if w_hr is not None else None        # dL/dh_t, (S, P)
        dh, dc = ghn.copy(), gcn.copy()
        for s, b in reversed(ctx.steps):
            rows = slice(s, s + b)
            dht = dh[:b] + gy[rows]                                 # (b, P)
            if w_hr is not None:
                dy[rows] = dht
                dht = dht @ w_hr                                # dm, (b, H)
            a, t, d = acts[rows], tc[rows], da[rows]
            i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            dct = dc[:b] + dht * o * (1 - t * t)
            d[:, :H] = dct * g * i * (1 - i)
            d[:, H:2 * H] = dct * cp[rows] * f * (1 - f)
            d[:, 2 * H:3 * H] = dct * i * (1 - g * g)
            d[:, 3 * H:] = dht * t * o * (1 - o)
            dc[:b] = dct * f
            dh[:b] = d @ w_hh
        need = ctx.needs_input_grad
        gx, gw_ih, gb_ih = _input_grads(ctx, da, x, w_ih, 3)
        gw_hh = da.T @ hp if need[4] else None                  # (4H, P)
        gb_hh = da.sum(axis=0) if need[6] else None
        gw_hr = dy.T @ m if w_hr is not None and need[7] else None  # (P, H)
        return gx, dh, dc, gw_ih, gw_hh, gb_ih, gb_hh, gw_hr


class GRULayer(Function):
    """GRU: [r z] = σ(x W_i[rz]ᵀ + b_i[rz] + h W_h[rz]ᵀ + b_h[rz]),
    n = tanh(x W_inᵀ + b_in + r ⊙ (h W_hnᵀ + b_hn)), h_t = (1 - z) n + z h_{t-1}.

    dn = dh (1 - z), dz = dh (h_{t-1} - n), d n_pre = dn (1 - n²) reaches the input part
    of n and, times r, the hidden part; dr = d n_pre ⊙ (h W_hnᵀ + b_hn);
    dh_{t-1} = dh z + d(hidden parts) W_hh. Saved: r, z, n, h W_hnᵀ + b_hn, h_{t-1}.
    Arguments: x (S, I), h0 (B, H), w_ih (3H, I), w_hh (3H, H), b_ih, b_hh (3H,) or None.
    """
    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse=False):
        xp = get_array_module(x)
        steps, H = _steps(batch_sizes, reverse), h0.shape[1]
        gx = _project(x, w_ih, b_ih)                               # (S, 3H)
        if b_hh is not None:
            gx[:, :2 * H] += b_hh[:2 * H]                           # b_hn stays inside r ⊙ (.)
        S = x.shape[0]
        acts, ghn, hp = gx, xp.empty((S, H), x.dtype), xp.empty((S, H), x.dtype)
        y, h = xp.empty((S, H), x.dtype), h0.copy()
        w_hh_t = xp.ascontiguousarray(w_hh.T)                       # (H, 3H)
        for s, b in steps:
            rows = slice(s, s + b)
            hp[rows] = h[:b]
            gh = h[:b] @ w_hh_t                                 # (b, 3H)
            if b_hh is not None:
                gh[:, 2 * H:] += b_hh[2 * H:]
            a = acts[rows]                                          # a view: (b, 3H)
            a[:, :2 * H] += gh[:, :2 * H]
            r, z, n = _sigmoid_(a[:, :H]), _sigmoid_(a[:, H:2 * H]), a[:, 2 * H:]
            n += r * gh[:, 2 * H:]
            np.tanh(n, out=n)
            ghn[rows] = gh[:, 2 * H:]
            h[:b] = y[rows] = n + z * (h[:b] - n)
        ctx.save_for_backward(x, w_ih, w_hh, acts, ghn, hp)
        ctx.steps = steps
        return y, h

    @staticmethod
    def backward(ctx, gy, ghn_out):
        x, w_ih, w_hh, acts, ghn, hp = ctx.saved_tensors
        xp, H = get_array_module(gy), hp.shape[1]
        dgx, dgh = xp.empty_like(acts), xp.empty_like(acts)         # (S, 3H) each
        dh = ghn_out.copy()
        for s, b in reversed(ctx.steps):
            rows = slice(s, s + b)
            a = acts[rows]
            r, z, n = a[:, :H], a[:, H:2 * H], a[:, 2 * H:]
            dht = dh[:b] + gy[rows]                                 # (b, H)
            dn = dht * (1 - z) * (1 - n * n)                        # d n_pre
            dx, dhh = dgx[rows], dgh[rows]
            dx[:, 2 * H:] = dn
            dhh[:, 2 * H:] = dn * r
            dx[:, :H] = dhh[:, :H] = dn * ghn[rows] * r * (1 - r)
            dx[:, H:2 * H] = dhh[:, H:2 * H] = dht * (hp[rows] - n) * z * (1 - z)
            dh[:b] = dht * z + dhh @ w_hh
        need = ctx.needs_input_grad
        gx, gw_ih, gb_ih = _input_grads(ctx, dgx, x, w_ih, 2)
        gw_hh = dgh.T @ hp if need[3] else None                 # (3H, H)
        gb_hh = dgh.sum(axis=0) if need[5] else None
        return gx, dh, gw_ih, gw_hh, gb_ih, gb_hh


class GatherRows(Function):
    """y[k] = x[index[k]], or ``fill`` where index[k] = -1: packing and unpadding of
    sequences (``nn.utils.rnn``). Each row of x appears at most once in ``index``, so the
    gradient is a plain scatter, dx[index[k]] = dy[k] (deterministic, no atomic adds).

    Called as ``GatherRows.apply(x, index=..., fill=...)``; ``index`` is a NumPy integer
    array (moved to x's device); x has shape (n, *).
    """
    @staticmethod
    def forward(ctx, x, index, fill=0.0):
        xp = get_array_module(x)
        idx = xp.asarray(index)
        pad = xp.full((1,) + x.shape[1:], fill, x.dtype)
        ctx.idx, ctx.shape = idx, x.shape
        return xp.concatenate([x, pad])[idx]                       # (len(index), *)

    @staticmethod
    def backward(ctx, gy):
        xp = get_array_module(gy)
        gx = xp.zeros((ctx.shape[0] + 1,) + ctx.shape[1:], gy.dtype)
        gx[ctx.idx] = gy                                            # row n: the fill, dropped
        return gx[:-1]
