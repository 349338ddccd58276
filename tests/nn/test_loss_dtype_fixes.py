"""Loss edge cases found by the differential review against PyTorch 2.13."""
import numpy as np
import pytest

import minicv as mc
import minicv.nn.functional as F


@pytest.mark.parametrize("x_dtype, t_dtype", [
    (np.float64, np.float32), (np.float32, np.float64), (np.float64, np.float64)])
def test_bce_with_logits_takes_the_target_dtype(x_dtype, t_dtype):
    # PyTorch 2.13: the loss has the target's dtype, the input gradient the input's
    x = mc.tensor(np.array([[0.5, -1.0], [2.0, 0.0]], x_dtype), requires_grad=True)
    t = mc.tensor(np.array([[1.0, 0.0], [0.25, 1.0]], t_dtype))
    loss = F.binary_cross_entropy_with_logits(x, t)
    loss.backward()
    assert loss.dtype == np.dtype(t_dtype)
    assert x.grad.dtype == np.dtype(x_dtype)
    np.testing.assert_allclose(loss.item(), 0.7768534421920776, rtol=1e-6)


def test_unbatched_ctc_target_must_match_its_length():
    lp = F.log_softmax(mc.randn(10, 5), dim=1)
    with pytest.raises(ValueError, match="target_length=4 labels, got 6"):
        F.ctc_loss(lp, mc.tensor([1, 2, 3, 4, 1, 2]), mc.tensor(10), mc.tensor(4))
    assert F.ctc_loss(lp, mc.tensor([1, 2, 3, 4]), mc.tensor(10), mc.tensor(4)).shape == ()
