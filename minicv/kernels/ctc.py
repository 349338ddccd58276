"""Connectionist Temporal Classification (Graves et al., ICML 2006) in log space.

One text for NumPy and CuPy (``xp = get_array_module(...)``): the recursions loop over
time in Python and are vectorised over the batch and the label positions, so a GPU runs
them without a single host synchronisation.

A target l = (l1, ..., lL) is extended with blanks, l' = (b, l1, b, l2, ..., lL, b), of
length S' = 2L + 1. A path of T frames reads l' left to right, at each frame staying on
its symbol, moving to the next one, or skipping a blank between two different labels.

    α_t(s) = y_t(l'_s) + LSE(α_{t-1}(s), α_{t-1}(s-1), α_{t-1}(s-2) if skip(s))
    β_t(s) = y_t(l'_s) + LSE(β_{t+1}(s), β_{t+1}(s+1), β_{t+1}(s+2) if skip(s+2))
    log p(l | x) = LSE(α_{T-1}(S'-1), α_{T-1}(S'-2)) = LSE(β_0(0), β_0(1))

with y_t(k) the input log-probabilities, LSE = log Σ exp, skip(s) = [l'_s ≠ l'_{s-2}]
(false on blanks and between repeated labels) and -inf for positions outside [0, S').
Both α and β include the frame's own emission (PyTorch's convention), so the posterior
of being at position s at frame t is γ_t(s) = exp(α_t(s) + β_t(s) - y_t(l'_s) - log p).

Arrays here: ``log_probs`` (T, N, C); ``ext`` (N, S') extended labels of the batch padded
to the longest target (the padding is blank and never reached); lengths (N,) int64.
"""
import numpy as np

from ..backend import get_array_module

NEG_INF = -np.inf


def extended_labels(targets, target_lengths, blank):
    """(ext, skip_log): l' of every sample (N, 2S+1) and log of the skip permission.

    ``targets`` (N, S) padded labels (entries past a sample's length are ignored),
    ``target_lengths`` (N,). ``skip_log[n, s]`` is 0 where the path may come from s - 2
    (l'_s ≠ l'_{s-2}) and -inf elsewhere, so that adding it masks that move.
    """
    xp = get_array_module(targets)
    n, s = targets.shape
    kept = xp.arange(s)[None, :] < target_lengths[:, None]             # (N, S)
    labels = xp.where(kept, targets, blank).astype(np.int64)
    ext = xp.full((n, 2 * s + 1), blank, dtype=np.int64)                # (N, S')
    ext[:, 1::2] = labels
    differs = xp.zeros(ext.shape, dtype=bool)
    differs[:, 2:] = ext[:, 2:] != ext[:, :-2]
    zero = xp.zeros((), dtype=np.float64)
    skip_log = xp.where(differs, zero, NEG_INF)
    return ext, skip_log


def _logsumexp(*terms):
    """log Σ exp(terms), elementwise and stable; -inf where every term is -inf."""
    xp = get_array_module(terms[0])
    top = terms[0]
    for t in terms[1:]:
        top = xp.maximum(top, t)
    shift = xp.where(top == NEG_INF, 0, top)            # all -inf: exp(-inf - 0) = 0
    total = xp.exp(terms[0] - shift)
    for t in terms[1:]:
        total += xp.exp(t - shift)
    with np.errstate(divide="ignore"):                  # log 0 = -inf, as wanted
        return shift + xp.log(total)


def emissions(log_probs, ext):
    """y_t(l'_s) for every frame and position: (T, N, S')."""
    xp = get_array_module(log_probs)
    index = xp.broadcast_to(ext[None], (log_probs.shape[0],) + ext.shape)
    return xp.take_along_axis(log_probs, index, axis=2)


def ctc_alpha(emit, skip_log):
    """Forward variables α (T, N, S') from emissions (T, N, S') and skip_log (N, S')."""
    xp = get_array_module(emit)
    t_len, n, s_len = emit.shape
    skip_log = skip_log.astype(emit.dtype)
    # two -inf columns in front stand for positions -1 and -2
    alpha = xp.full((t_len, n, s_len + 2), NEG_INF, dtype=emit.dtype)   # (T, N, S'+2)
    alpha[0, :, 2:4] = emit[0, :, :2]                   # start on the blank or on l1
    for t in range(1, t_len):
        prev = alpha[t - 1]
        alpha[t, :, 2:] = emit[t] + _logsumexp(prev[:, 2:], prev[:, 1:-1],
                                               prev[:, :-2] + skip_log)
    return alpha[:, :, 2:]


def ctc_beta(emit, skip_log, input_lengths, target_lengths):
    """Backward variables β (T, N, S'); β is -inf from each sample's last frame on.

    A sample of T_n frames and L_n labels starts its backward recursion at frame T_n - 1
    on its two final positions 2L_n and 2L_n - 1.
    """
    xp = get_array_module(emit)
    t_len, n, s_len = emit.shape
    positions = xp.arange(s_len)[None, :]
    final = (positions == 2 * target_lengths[:, None]) | \
        (positions == 2 * target_lengths[:, None] - 1)
    start = xp.where(final, 0, NEG_INF).astype(emit.dtype)              # (N, S')
    # skip_next[s] permits s -> s+2; two -inf columns behind stand for S' and S'+1
    skip_next = xp.full((n, s_len), NEG_INF, dtype=emit.dtype)
    skip_next[:, :-2] = skip_log[:, 2:]
    beta = xp.full((t_len + 1, n, s_len + 2), NEG_INF, dtype=emit.dtype)  # (T+1, N, S'+2)
    last = (input_lengths - 1)[:, None]                                  # (N, 1)
    for t in range(t_len - 1, -1, -1):
        nxt = beta[t + 1]
        rest = _logsumexp(nxt[:, :-2], nxt[:, 1:-1], nxt[:, 2:] + skip_next)
        beta[t, :, :-2] = emit[t] + xp.where(last == t, start, rest)
    return beta[:t_len, :, :-2]


def ctc_log_likelihood(alpha, input_lengths, target_lengths):
    """log p(l | x) per sample (N,) from α at the sample's last frame and positions
    2L_n, 2L_n - 1 (a sample of 0 frames: 0 for an empty target, else -inf)."""
    xp = get_array_module(alpha)
    n = alpha.shape[1]
    rows = xp.arange(n)
    last = xp.maximum(input_lengths - 1, 0)
    end = alpha[last, rows, 2 * target_lengths]
    before = alpha[last, rows, xp.maximum(2 * target_lengths - 1, 0)]
    before = xp.where(target_lengths > 0, before, NEG_INF)
    ll = _logsumexp(end, before)
    no_frames = xp.where(target_lengths == 0, 0, NEG_INF).astype(alpha.dtype)
    return xp.where(input_lengths > 0, ll, no_frames)


def ctc_grad(log_probs, emit, alpha, beta, ext, log_likelihood, input_lengths):
    """d(-log p)/d log_probs as PyTorch computes it, (T, N, C):

        exp(y_t(k)) - Σ_{s: l'_s = k} γ_t(s)      for t < T_n, 0 after.

    The first term is the gradient through a log_softmax that PyTorch folds in: it makes
    the result exact whenever ``log_probs`` came from log_softmax (where the extra term
    sums to zero over k), not for arbitrary inputs. An impossible target (log p = -inf)
    gives NaN everywhere, as in PyTorch.
    """
    xp = get_array_module(log_probs)
    t_len, n, c = log_probs.shape
    with np.errstate(invalid="ignore"):                 # -inf - -inf: NaN, wanted
        gamma = xp.exp(alpha + beta - emit - log_likelihood[None, :, None])   # (T, N, S')
    onehot = (ext[:, :, None] == xp.arange(c)[None, None, :]).astype(gamma.dtype)
    occupancy = xp.matmul(gamma.transpose(1, 0, 2), onehot)               # (N, T, C)
    grad = xp.exp(log_probs) - occupancy.transpose(1, 0, 2)              # (T, N, C)
    frames = xp.arange(t_len)[:, None, None] < input_lengths[None, :, None]
    return xp.where(frames, grad, 0).astype(log_probs.dtype, copy=False)
