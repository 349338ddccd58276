"""matmul: 1-D, 2-D and batched broadcasting, gradchecks, and the shape error."""
import numpy as np
import pytest
from hypothesis import given, strategies as hs

import minicv as mc
from minicv.testing import gradcheck, strategies as st

SHAPES = [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)),
          ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((2, 1, 2, 3), (5, 3, 2)),
          ((4, 2, 3), (3,)), ((3,), (4, 3, 2))]


@pytest.mark.parametrize("sa,sb", SHAPES)
@given(data=hs.data())
def test_matmul(sa, sb, data):
    a = data.draw(st.tensors(sa))
    b = data.draw(st.tensors(sb))
    np.testing.assert_allclose((a @ b).data, np.matmul(a.data, b.data), rtol=1e-12)
    gradcheck(lambda x, y: x @ y, (a, b))


def test_matmul_shape_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"10x49 and 490x10"):
        mc.ones(10, 49) @ mc.ones(490, 10)
