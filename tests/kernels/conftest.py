import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def make_views(x):
    """The same values as ``x`` laid out in memory four ways: contiguous, flipped
    (negative strides), transposed twice (F-order-like strides) and a slice of a larger
    array.  Each view is paired with the contiguous array it must behave like."""
    flipped_src = np.ascontiguousarray(x[..., ::-1])
    big = np.zeros(x.shape[:-1] + (x.shape[-1] * 2 + 1,), dtype=x.dtype)
    big[..., 1::2] = x
    return {
        "contiguous": x,
        "flipped": flipped_src[..., ::-1],
        "transposed": np.asfortranarray(x),
        "sliced": big[..., 1::2],
    }


@pytest.fixture
def views():
    return make_views
