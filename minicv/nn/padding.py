"""Padding layers: ``ZeroPad``, ``ConstantPad``, ``ReflectionPad``, ``ReplicationPad`` and
``CircularPad``, each in 1-D, 2-D and 3-D; they call ``F.pad`` (``minicv.ops.shape``).

``padding`` is an int (the same width on every side) or a tuple listing the last
dimension first: ``(left, right)``, ``(left, right, top, bottom)``,
``(left, right, top, bottom, front, back)``. Negative widths crop, as in ``F.pad``.

Shape: each padded dimension grows by the sum of its two widths. The constant modes pad
any input with enough dimensions; reflect and replicate take a batched or unbatched
input, (C, *spatial) or (N, C, *spatial), and circular checks that rank itself.
"""
from . import functional as F
from .module import Module


class _PadNd(Module):
    _nd = 1
    _mode = "constant"

    def __init__(self, padding):
        super().__init__()
        if isinstance(padding, (tuple, list)):
            self.padding = tuple(padding)       # PyTorch keeps any tuple; F.pad checks it
        else:
            self.padding = (int(padding),) * (2 * self._nd)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value                      # kept as given: PyTorch prints value=2

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dimension with ``value``.

    Example::

        nn.ConstantPad1d(2, 3.5)(mc.zeros(1, 2, 4)).shape     # (1, 2, 8)
    """
    _nd = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dimensions with ``value``; padding = (left, right, top, bottom).

    Example::

        nn.ConstantPad2d((1, 1, 2, 0), 1.0)(mc.zeros(1, 3, 3)).shape   # (1, 5, 5)
    """
    _nd = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dimensions with ``value``.

    Example::

        nn.ConstantPad3d(1, 0.5)(mc.zeros(1, 2, 2, 2)).shape   # (1, 4, 4, 4)
    """
    _nd = 3


class ZeroPad1d(ConstantPad1d):
    """Pad the last dimension with zeros.

    Example::

        nn.ZeroPad1d((1, 2))(mc.ones(1, 2, 4)).shape          # (1, 2, 7)
    """

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last two dimensions with zeros.

    Example::

        nn.ZeroPad2d(1)(mc.ones(1, 3, 4, 4)).shape            # (1, 3, 6, 6)
    """

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """Pad the last three dimensions with zeros.

    Example::

        nn.ZeroPad3d(1)(mc.ones(1, 1, 2, 2, 2)).shape         # (1, 1, 4, 4, 4)
    """

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    """Pad (C, L) or (N, C, L) with the mirror image of the input, edge excluded
    (each width smaller than the size).

    Example::

        nn.ReflectionPad1d(2)(mc.arange(4.0).reshape(1, 1, 4))  # [[[2,1,0,1,2,3,2,1]]]
    """
    _nd, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Reflection padding of (C, H, W) or (N, C, H, W).

    Example::

        nn.ReflectionPad2d(1)(mc.randn(1, 3, 4, 4)).shape     # (1, 3, 6, 6)
    """
    _nd, _mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    """Reflection padding of (C, D, H, W) or (N, C, D, H, W).

    Example::

        nn.ReflectionPad3d(1)(mc.randn(1, 1, 2, 3, 3)).shape  # (1, 1, 4, 5, 5)
    """
    _nd, _mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Pad (C, L) or (N, C, L) by repeating the edge values.

    Example::

        nn.ReplicationPad1d(2)(mc.arange(3.0).reshape(1, 1, 3))  # [[[0,0,0,1,2,2,2]]]
    """
    _nd, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Edge-replicating padding of (C, H, W) or (N, C, H, W).

    Example::

        nn.ReplicationPad2d((1, 0, 2, 0))(mc.randn(1, 3, 4)).shape   # (1, 5, 5)
    """
    _nd, _mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    """Edge-replicating padding of (C, D, H, W) or (N, C, D, H, W).

    Example::

        nn.ReplicationPad3d(1)(mc.randn(1, 1, 2, 2, 2)).shape  # (1, 1, 4, 4, 4)
    """
    _nd, _mode = 3, "replicate"


class _CircularPadNd(_PadNd):
    _mode = "circular"

    def forward(self, input):
        nd = self._nd
        if input.ndim not in (nd + 1, nd + 2):
            raise ValueError(f"expected {nd + 1}D or {nd + 2}D input (got {input.ndim}D "
                             f"input)")
        return super().forward(input)


class CircularPad1d(_CircularPadNd):
    """Pad (C, L) or (N, C, L) by wrapping around: the left pad copies the right end.

    Example::

        nn.CircularPad1d(1)(mc.arange(3.0).reshape(1, 1, 3))   # [[[2,0,1,2,0]]]
    """
    _nd = 1


class CircularPad2d(_CircularPadNd):
    """Wrap-around padding of (C, H, W) or (N, C, H, W) (a torus).

    Example::

        nn.CircularPad2d(1)(mc.randn(1, 3, 4, 4)).shape       # (1, 3, 6, 6)
    """
    _nd = 2


class CircularPad3d(_CircularPadNd):
    """Wrap-around padding of (C, D, H, W) or (N, C, D, H, W).

    Example::

        nn.CircularPad3d(1)(mc.randn(1, 1, 2, 2, 2)).shape    # (1, 1, 4, 4, 4)
    """
    _nd = 3


__all__ = ["ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d",
           "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
           "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d",
           "CircularPad2d", "CircularPad3d"]
