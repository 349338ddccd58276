"""``Flatten`` and ``Unflatten``: reshape between feature maps and vectors."""
import math

from .module import Module


class Flatten(Module):
    """Flatten dims ``start_dim..end_dim`` into one (default: all but the batch dim).

    Shape: (N, *dims) -> (N, prod(dims)) with the defaults.

    Example::

        y = nn.Flatten()(mc.randn(32, 1, 5, 5))     # (32, 25)
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Expand dimension ``dim`` into ``unflattened_size``.

    Shape: (*, prod(unflattened_size), *) -> (*, *unflattened_size, *).

    Example::

        y = nn.Unflatten(1, (2, 5, 5))(mc.randn(2, 50))   # (2, 2, 5, 5)
    """

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(f"unflattened_size must be a tuple of ints, got "
                            f"{type(unflattened_size).__name__}")
        for pos, size in enumerate(unflattened_size):
            if not isinstance(size, int) or isinstance(size, bool):
                raise TypeError(f"unflattened_size must be a tuple of ints, but found element "
                                f"of type {type(size).__name__} at pos {pos}")
        # kept as given (tuple or list), so the repr shows what was passed, as PyTorch's
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, input):
        d = self.dim % input.ndim
        size = input.shape[d]
        sizes = list(self.unflattened_size)
        if sizes.count(-1) == 1:
            known = math.prod(s for s in sizes if s != -1)
            sizes[sizes.index(-1)] = size // known if known else 0
        if math.prod(sizes) != size:
            raise ValueError(f"Unflatten: unflattened_size {self.unflattened_size} does not "
                             f"multiply to the size {size} of dim {self.dim} of input "
                             f"{list(input.shape)}")
        return input.reshape(input.shape[:d] + tuple(sizes) + input.shape[d + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
