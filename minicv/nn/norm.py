"""Normalisation layers: ``BatchNorm1d/2d/3d``, ``LayerNorm``, ``GroupNorm``,
``InstanceNorm1d/2d/3d``, ``LocalResponseNorm``, ``RMSNorm``.

BatchNorm keeps running statistics in buffers. In training it normalises with the batch
mean and biased variance, and updates

    running_mean ← (1 - momentum)·running_mean + momentum·mean
    running_var  ← (1 - momentum)·running_var  + momentum·var·n/(n - 1)   (n = N·H·W)

(momentum=None: a cumulative average, factor 1/num_batches_tracked). In eval mode it uses
the running statistics and never changes a buffer.
"""
import warnings

import numpy as np

from ..backend import get_default_dtype
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


def _affine_parameters(module, shape, affine, bias, dtype):
    """γ (ones) and, with ``bias``, β (zeros) of ``shape`` when ``affine``; otherwise the
    parameters are registered as None (PyTorch's names, so state dicts match)."""
    module.register_parameter("weight", Parameter(np.ones(shape, dtype)) if affine else None)
    module.register_parameter("bias", Parameter(np.zeros(shape, dtype))
                              if affine and bias else None)


def _shape_tuple(normalized_shape):
    """An int or a sequence of ints as a tuple (LayerNorm's and RMSNorm's argument)."""
    if isinstance(normalized_shape, int):
        return (normalized_shape,)
    return tuple(int(s) for s in normalized_shape)


def _reset_affine(module):
    """γ = 1, β = 0 (where they exist)."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class _BatchNorm(Module):
    _dims = (4,)
    _dims_text = "4D"

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dtype = np.dtype(dtype or get_default_dtype())
        c = self.num_features
        _affine_parameters(self, c, affine, bias, dtype)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(c, dtype)))
            self.register_buffer("running_var", Tensor(np.ones(c, dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.zeros((), np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self._place(device)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        _reset_affine(self)

    def _check_input_dim(self, x):
        name = type(self).__name__
        if x.ndim not in self._dims:
            raise ValueError(f"{name}: expected {self._dims_text} input (got {x.ndim}D input "
                             f"of shape {list(x.shape)})")
        if x.shape[1] != self.num_features:
            hint = " (channels-last? minicv expects N, C, H, W)" \
                if x.shape[-1] == self.num_features else ""
            raise ValueError(f"{name}({self.num_features}) expected input with "
                             f"{self.num_features} channels in dim 1, got input of shape "
                             f"{list(x.shape)}{hint}")

    def forward(self, input):
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            # an empty batch counts, as in PyTorch; one value per channel makes the op
            # raise, and minicv leaves the count alone then (PyTorch counts it first)
            if input.data.size // max(input.shape[1], 1) != 1:
                self.num_batches_tracked.data += 1
                self.num_batches_tracked._vc[0] += 1
            if self.momentum is None:
                factor = 1.0 / max(float(self.num_batches_tracked.data), 1.0)
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        use_buffers = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if use_buffers else None,
                            self.running_var if use_buffers else None, self.weight,
                            self.bias, bn_training, factor, self.eps)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                              missing_keys, unexpected_keys, error_msgs):
        # checkpoints from before num_batches_tracked existed load with a count of 0
        key = prefix + "num_batches_tracked"
        if self.track_running_stats and key not in state_dict:
            state_dict[key] = Tensor(np.zeros((), np.int64))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) per channel C.

    Args:
        num_features: C. eps: added to the variance. momentum: running-average factor
            (None: cumulative average). affine: learn γ, β. track_running_stats: keep
            running mean/var (else batch statistics are used in eval too). bias
            (keyword): learn β too (with affine).

    Shape: (N, C) or (N, C, L) -> same shape.

    Example::

        y = nn.BatchNorm1d(100)(mc.randn(20, 100))
    """
    _dims = (2, 3)
    _dims_text = "2D or 3D"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of NCHW maps per channel (statistics over N, H, W).

    Args: as BatchNorm1d.

    Shape: (N, C, H, W) -> same shape.

    Example::

        bn = nn.BatchNorm2d(16)
        y = bn(mc.randn(8, 16, 32, 32))     # bn.running_mean moved 10% towards the batch mean
    """
    _dims = (4,)
    _dims_text = "4D"


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of (N, C, D, H, W) per channel.

    Shape: (N, C, D, H, W) -> same shape.

    Example::

        y = nn.BatchNorm3d(4)(mc.randn(2, 4, 3, 5, 5))
    """
    _dims = (5,)
    _dims_text = "5D"


class LayerNorm(Module):
    """Layer normalisation over the trailing ``normalized_shape`` dims of each sample.

    Args:
        normalized_shape: int or tuple (the last dims). eps: added to the variance.
        elementwise_affine: learn γ (ones) and β (zeros) of that shape. bias: learn β.

    Shape: (*, *normalized_shape) -> same shape.

    Example::

        y = nn.LayerNorm(64)(mc.randn(8, 10, 64))
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dtype = np.dtype(dtype or get_default_dtype())
        _affine_parameters(self, self.normalized_shape, elementwise_affine, bias, dtype)
        self._place(device)

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """Group normalisation: channels in ``num_groups`` groups, normalised per sample.

    Args:
        num_groups: must divide num_channels. num_channels: C. eps. affine: per-channel
            γ (ones) and β (zeros). bias: learn β (with affine).

    Shape: (N, C, *) -> same shape.

    Example::

        y = nn.GroupNorm(4, 16)(mc.randn(2, 16, 8, 8))
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        self.eps, self.affine = eps, affine
        dtype = np.dtype(dtype or get_default_dtype())
        _affine_parameters(self, num_channels, affine, bias, dtype)
        self._place(device)

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")


class _InstanceNorm(_BatchNorm):
    """Instance normalisation layers: a _BatchNorm's parameters and buffers (so state dicts
    match PyTorch's), with instance statistics. Batched input has ``_dims[1]`` dims; one
    dim fewer is a single unbatched sample."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype)

    def forward(self, input):
        if input.ndim not in self._dims:
            raise ValueError(f"{type(self).__name__}: expected {self._dims_text} input (got "
                             f"{input.ndim}D input)")
        unbatched = input.ndim == self._dims[0]
        channel_dim = 0 if unbatched else 1
        if input.shape[channel_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={channel_dim} to match "
                                 f"num_features ({self.num_features}), but got: "
                                 f"{input.shape[channel_dim]}.")
            warnings.warn(f"input's size at dim={channel_dim} does not match num_features. "
                          f"You can silence this warning by not passing in num_features, "
                          f"which is not used because affine=False", stacklevel=2)
        x = input.unsqueeze(0) if unbatched else input
        y = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            0.0 if self.momentum is None else self.momentum, self.eps)
        return y.squeeze(0) if unbatched else y


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or (C, L): each channel of each sample
    normalised over L (Ulyanov et al. 2016).

    Args:
        num_features: C. eps: added to the variance. momentum: running-average factor.
        affine: learn per-channel γ, β (default False). track_running_stats: keep running
            mean/var and use them in eval mode (default False: instance statistics always).

    Shape: (N, C, L) or (C, L) -> same shape.

    Example::

        y = nn.InstanceNorm1d(16)(mc.randn(4, 16, 32))
    """
    _dims = (2, 3)
    _dims_text = "2D or 3D"


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or (C, H, W) (style transfer's normaliser).

    Args: as InstanceNorm1d.

    Shape: (N, C, H, W) or (C, H, W) -> same shape.

    Example::

        y = nn.InstanceNorm2d(3, affine=True)(mc.randn(2, 3, 8, 8))
    """
    _dims = (3, 4)
    _dims_text = "3D or 4D"


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of (N, C, D, H, W) or (C, D, H, W).

    Args: as InstanceNorm1d.

    Shape: (N, C, D, H, W) or (C, D, H, W) -> same shape.

    Example::

        y = nn.InstanceNorm3d(4)(mc.randn(2, 4, 3, 5, 5))
    """
    _dims = (4, 5)
    _dims_text = "4D or 5D"


class LocalResponseNorm(Module):
    """Local response normalisation across channels:
    b_c = a_c / (k + alpha/size · Σ_{c' near c} a_c'²)^beta (AlexNet).

    Shape: (N, C, *) -> same shape.

    Example::

        y = nn.LocalResponseNorm(5)(mc.randn(2, 16, 8, 8))
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class RMSNorm(Module):
    """Root-mean-square normalisation over the trailing ``normalized_shape`` dims, times a
    learnt γ (ones): y = x / √(mean(x²) + eps) · γ.

    Args:
        normalized_shape: int or tuple (the last dims). eps: None means the dtype's
            machine epsilon. elementwise_affine: learn γ.

    Shape: (*, *normalized_shape) -> same shape.

    Example::

        y = nn.RMSNorm(64)(mc.randn(8, 10, 64))
    """

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None,
                 dtype=None):
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dtype = np.dtype(dtype or get_default_dtype())
        self.register_parameter("weight", Parameter(np.ones(self.normalized_shape, dtype))
                                if elementwise_affine else None)
        self._place(device)

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, input):
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
