"""Lazy modules: layers that infer their input size (``in_features``, ``in_channels``,
``num_features``) from the first input they see.

``nn.LazyLinear(10)`` holds :class:`~minicv.nn.UninitializedParameter` placeholders until
its first call; that call (a forward pre-hook) reads the input's size, gives the
parameters their shapes, initialises them with the regular layer's ``reset_parameters``
and turns the module into that layer (``type(m) is nn.Linear`` afterwards, via
``cls_to_become``). The usual order of work, as in PyTorch::

    model = nn.Sequential(nn.LazyConv2d(16, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(10))
    model.to(dtype)                       # cast / move first: the placeholders follow
    model(mc.zeros(1, 3, 32, 32))         # dry run: every lazy layer gets its shapes
    opt = optim.SGD(model.parameters(), lr=0.1)

A state dict of an uninitialised module holds the placeholders; ``load_state_dict`` of
real tensors into a lazy module gives its parameters the loaded shapes.
"""
import itertools

import numpy as np

from ..autograd import no_grad
from ..backend import to_device
from ..tensor import Tensor
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .linear import Linear
from .norm import (BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d, InstanceNorm2d,
                   InstanceNorm3d)
from .parameter import UninitializedBuffer, UninitializedParameter, is_lazy


class LazyModuleMixin:
    """Mixin of the lazy modules (PyTorch's ``torch.nn.modules.lazy.LazyModuleMixin``).

    A subclass puts UninitializedParameter / UninitializedBuffer placeholders in place of
    the tensors whose shapes depend on the input, and defines
    ``initialize_parameters(*input)``, which materialises them. On the first call a
    forward pre-hook runs it, checks nothing is left uninitialised, removes itself and
    switches the class to ``cls_to_become``.

    Parameters loaded by ``load_state_dict`` are kept: the first call then only infers
    the sizes the module records (e.g. ``in_features``).
    """
    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._load_hook = self.register_load_state_dict_pre_hook(_lazy_load_hook)
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters,
                                                               with_kwargs=True)

    def initialize_parameters(self, *args, **kwargs):
        """Materialise the placeholders from the input (defined by each lazy layer)."""
        raise NotImplementedError(f"initialize_parameters is not implemented for "
                                  f"{type(self).__name__}")

    def has_uninitialized_params(self):
        """Whether a parameter or buffer of this module is still a placeholder."""
        tensors = itertools.chain(self._parameters.values(), self._buffers.values())
        return any(is_lazy(t) for t in tensors)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        for name, t in self._lazy_tensors():              # the placeholders themselves
            if prefix + name in destination:
                destination[prefix + name] = t

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                              missing_keys, unexpected_keys, error_msgs):
        # a placeholder loaded into a placeholder stays one: nothing to copy or compare
        skip = {prefix + name for name, _ in self._lazy_tensors()
                if is_lazy(state_dict.get(prefix + name))}
        rest = {k: v for k, v in state_dict.items() if k not in skip}
        super()._load_from_state_dict(rest, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)
        missing_keys[:] = [k for k in missing_keys if k not in skip]

    def _lazy_tensors(self):
        """(name, placeholder) for every parameter and buffer still uninitialised."""
        tensors = itertools.chain(self._parameters.items(), self._buffers.items())
        return [(name, t) for name, t in tensors if is_lazy(t)]


def _lazy_load_hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
                    unexpected_keys, error_msgs):
    """load_state_dict pre-hook: give each placeholder the shape of the real tensor that
    is about to be copied into it."""
    for name, t in module._lazy_tensors():
        value = state_dict.get(prefix + name)
        if value is not None and not is_lazy(value):
            with no_grad():
                t.materialize(np.shape(value.data if isinstance(value, Tensor) else value))


def _infer_parameters(module, args, kwargs):
    """Forward pre-hook of a lazy module: initialise from the first input, then become the
    regular layer."""
    module.initialize_parameters(*args, **kwargs)
    if module.has_uninitialized_params():
        raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
    module._initialize_hook.remove()
    module._load_hook.remove()
    del module._initialize_hook, module._load_hook
    if module.cls_to_become is not None:
        module.__class__ = module.cls_to_become


class LazyLinear(LazyModuleMixin, Linear):
    """A :class:`Linear` whose ``in_features`` is inferred from ``input.shape[-1]`` on the
    first call; it then becomes an ``nn.Linear`` (weights as Linear's:
    U(-1/√in_features, 1/√in_features)).

    Args:
        out_features: size of each output sample. bias: learn an additive bias.

    Shape: (*, H_in) -> (*, out_features), H_in fixed by the first input.

    Example::

        fc = nn.LazyLinear(30)
        y = fc(mc.randn(128, 20))          # fc is now Linear(in_features=20, out_features=30)
    """
    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, 0, False, device=device, dtype=dtype)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = int(out_features)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        """Infer ``in_features`` from ``input`` and initialise the parameters."""
        if self.has_uninitialized_params():
            with no_grad():
                self.in_features = int(input.shape[-1])
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()
        if self.in_features == 0:               # parameters came from load_state_dict
            if input.shape[-1] != self.weight.shape[-1]:
                raise ValueError(f"{self._get_name()}: the in_features inferred from the "
                                 f"input ({input.shape[-1]}) differ from the loaded "
                                 f"weight's {list(self.weight.shape)}")
            self.in_features = int(input.shape[-1])


class _LazyConvXdMixin(LazyModuleMixin):
    """The lazy convolutions: ``in_channels`` from dim 1 of a batched input (dim 0 of an
    unbatched one). The constructors build the regular layer with 0 channels, no bias.

    Deliberate difference: after ``load_state_dict`` the first call still infers
    ``in_channels`` (PyTorch leaves 0); minicv's Conv checks the input's channels."""

    def _lazy_init(self, out_channels, bias, device, dtype):
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = int(out_channels)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        """Infer ``in_channels`` from ``input`` and initialise the parameters."""
        if self.in_channels == 0:       # also after load_state_dict: Conv checks C_in
            self.in_channels = self._get_in_channels(input)
        if not self.has_uninitialized_params():
            return
        name, g = self._get_name(), self.groups
        if self.in_channels % g:
            raise ValueError(f"{name}: in_channels ({self.in_channels}, from the input) "
                             f"must be divisible by groups ({g})")
        if self.out_channels % g:
            raise ValueError(f"{name}: out_channels ({self.out_channels}) must be "
                             f"divisible by groups ({g})")
        if self.transposed:
            shape = (self.in_channels, self.out_channels // g) + self.kernel_size
        else:
            shape = (self.out_channels, self.in_channels // g) + self.kernel_size
        with no_grad():
            self.weight.materialize(shape)
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()

    def _get_in_channels(self, input):
        n = self._nd + 1                        # dims of an unbatched input
        if input.ndim not in (n, n + 1):
            raise ValueError(f"Expected {n}D (unbatched) or {n + 1}D (batched) input to "
                             f"{self._get_name()}, but got input of size: "
                             f"{list(input.shape)}")
        return int(input.shape[1] if input.ndim == n + 1 else input.shape[0])


class _LazyConv(_LazyConvXdMixin):
    """LazyConv1d/2d/3d: PyTorch's constructor (Conv's, without in_channels)."""

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False,
                         padding_mode, device=device, dtype=dtype)
        self._lazy_init(out_channels, bias, device, dtype)


class _LazyConvTranspose(_LazyConvXdMixin):
    """LazyConvTranspose1d/2d/3d: PyTorch's constructor (ConvTranspose's, without
    in_channels)."""

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", device=None,
                 dtype=None):
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False,
                         dilation, padding_mode, device=device, dtype=dtype)
        self._lazy_init(out_channels, bias, device, dtype)


class LazyConv1d(_LazyConv, Conv1d):
    """A :class:`Conv1d` whose ``in_channels`` is inferred from the first input
    (``input.shape[1]``, or ``shape[0]`` unbatched); it then becomes an ``nn.Conv1d``.

    Args: as Conv1d, without in_channels.

    Shape: (N, C_in, L) -> (N, C_out, L_out), as Conv1d.

    Example::

        y = nn.LazyConv1d(33, 3, stride=2)(mc.randn(20, 16, 50))    # (20, 33, 24)
    """
    cls_to_become = Conv1d


class LazyConv2d(_LazyConv, Conv2d):
    """A :class:`Conv2d` whose ``in_channels`` is inferred from the first input
    (``input.shape[1]``, or ``shape[0]`` unbatched); it then becomes an ``nn.Conv2d``.

    Args: as Conv2d, without in_channels.

    Shape: (N, C_in, H, W) -> (N, C_out, H_out, W_out), as Conv2d.

    Example::

        conv = nn.LazyConv2d(16, 3, padding=1)
        y = conv(mc.randn(8, 3, 32, 32))       # (8, 16, 32, 32); conv is Conv2d(3, 16, ...)
    """
    cls_to_become = Conv2d


class LazyConv3d(_LazyConv, Conv3d):
    """A :class:`Conv3d` whose ``in_channels`` is inferred from the first input.

    Args: as Conv3d, without in_channels.

    Shape: (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out), as Conv3d.

    Example::

        y = nn.LazyConv3d(8, 3, padding=1)(mc.randn(2, 4, 6, 8, 8))   # (2, 8, 6, 8, 8)
    """
    cls_to_become = Conv3d


class LazyConvTranspose1d(_LazyConvTranspose, ConvTranspose1d):
    """A :class:`ConvTranspose1d` whose ``in_channels`` is inferred from the first input.

    Args: as ConvTranspose1d, without in_channels.

    Shape: (N, C_in, L) -> (N, C_out, L_out), as ConvTranspose1d.

    Example::

        y = nn.LazyConvTranspose1d(8, 3, stride=2)(mc.randn(4, 16, 10))   # (4, 8, 21)
    """
    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTranspose, ConvTranspose2d):
    """A :class:`ConvTranspose2d` whose ``in_channels`` is inferred from the first input.

    Args: as ConvTranspose2d, without in_channels.

    Shape: (N, C_in, H, W) -> (N, C_out, H_out, W_out), as ConvTranspose2d.

    Example::

        up = nn.LazyConvTranspose2d(8, 2, stride=2)
        y = up(mc.randn(1, 16, 10, 10))        # (1, 8, 20, 20)
    """
    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTranspose, ConvTranspose3d):
    """A :class:`ConvTranspose3d` whose ``in_channels`` is inferred from the first input.

    Args: as ConvTranspose3d, without in_channels.

    Shape: each of D, H, W as ConvTranspose3d.

    Example::

        y = nn.LazyConvTranspose3d(2, 2, stride=2)(mc.randn(1, 4, 3, 3, 3))  # (1, 2, 6, 6, 6)
    """
    cls_to_become = ConvTranspose3d


class _LazyNormBase(LazyModuleMixin):
    """The lazy batch and instance norms: ``num_features`` from the channel dim of the
    first input; γ, β and the running statistics are placeholders until then.

    Deliberate difference: ``num_features`` is inferred even when nothing is a placeholder
    (affine=False and track_running_stats=False, or loaded parameters), where PyTorch
    leaves 0; minicv's BatchNorm checks the input's channels against it."""

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__(0, eps, momentum, False, False, device, dtype)
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            count = np.zeros((), np.int64)
            self.num_batches_tracked = Tensor(count if device is None
                                              else to_device(count, device))

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def _channel_dim(self, input):
        return 1

    def initialize_parameters(self, input):
        """Infer ``num_features`` from ``input`` and initialise parameters and buffers."""
        if self.num_features == 0:      # also with nothing to infer: BatchNorm checks C
            self.num_features = int(input.shape[self._channel_dim(input)])
        if not self.has_uninitialized_params():
            return
        with no_grad():
            for _, t in self._lazy_tensors():
                t.materialize((self.num_features,))
            self.reset_parameters()


class LazyBatchNorm1d(_LazyNormBase, BatchNorm1d):
    """A :class:`BatchNorm1d` whose ``num_features`` is inferred from ``input.shape[1]``
    on the first call; it then becomes an ``nn.BatchNorm1d``.

    Args: as BatchNorm1d, without num_features.

    Shape: (N, C) or (N, C, L) -> same shape.

    Example::

        bn = nn.LazyBatchNorm1d()
        y = bn(mc.randn(20, 100))              # bn is now BatchNorm1d(100, ...)
    """
    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNormBase, BatchNorm2d):
    """A :class:`BatchNorm2d` whose ``num_features`` is inferred from the first input.

    Args: as BatchNorm2d, without num_features.

    Shape: (N, C, H, W) -> same shape.

    Example::

        y = nn.LazyBatchNorm2d()(mc.randn(8, 16, 32, 32))
    """
    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNormBase, BatchNorm3d):
    """A :class:`BatchNorm3d` whose ``num_features`` is inferred from the first input.

    Args: as BatchNorm3d, without num_features.

    Shape: (N, C, D, H, W) -> same shape.

    Example::

        y = nn.LazyBatchNorm3d()(mc.randn(2, 4, 3, 5, 5))
    """
    cls_to_become = BatchNorm3d


class _LazyInstanceNorm(_LazyNormBase):
    """Lazy instance norms. As PyTorch's, ``affine`` and ``track_running_stats`` default to
    True (the regular layers default to False). Deliberate difference: an unbatched first
    input gives ``num_features`` from its dim 0 (PyTorch reads dim 1 and then raises)."""

    def _channel_dim(self, input):
        return 0 if input.ndim == self._dims[0] else 1


class LazyInstanceNorm1d(_LazyInstanceNorm, InstanceNorm1d):
    """An :class:`InstanceNorm1d` whose ``num_features`` is inferred from the first input;
    it then becomes an ``nn.InstanceNorm1d``.

    Args: as InstanceNorm1d, without num_features (affine and track_running_stats
        default to True, as in PyTorch).

    Shape: (N, C, L) or (C, L) -> same shape.

    Example::

        y = nn.LazyInstanceNorm1d()(mc.randn(4, 16, 32))
    """
    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyInstanceNorm, InstanceNorm2d):
    """An :class:`InstanceNorm2d` whose ``num_features`` is inferred from the first input.

    Args: as LazyInstanceNorm1d.

    Shape: (N, C, H, W) or (C, H, W) -> same shape.

    Example::

        y = nn.LazyInstanceNorm2d()(mc.randn(2, 3, 8, 8))
    """
    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyInstanceNorm, InstanceNorm3d):
    """An :class:`InstanceNorm3d` whose ``num_features`` is inferred from the first input.

    Args: as LazyInstanceNorm1d.

    Shape: (N, C, D, H, W) or (C, D, H, W) -> same shape.

    Example::

        y = nn.LazyInstanceNorm3d()(mc.randn(2, 4, 3, 5, 5))
    """
    cls_to_become = InstanceNorm3d
