"""Shape ops and indexing: forward against NumPy, gradchecks, accumulation of repeats."""
import numpy as np
import pytest
from hypothesis import given, strategies as hs

import minicv as mc
from minicv.ops.shape import pad
from minicv.testing import gradcheck, strategies as st


@given(x=st.tensors(shape=(2, 3, 4)))
def test_views(x):
    cases = [
        (lambda t: t.reshape(4, 6), lambda a: a.reshape(4, 6)),
        (lambda t: t.view(-1), lambda a: a.reshape(-1)),
        (lambda t: t.transpose(0, 2), lambda a: a.swapaxes(0, 2)),
        (lambda t: t.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1)),
        (lambda t: t.flatten(1), lambda a: a.reshape(2, 12)),
        (lambda t: t.unsqueeze(1), lambda a: a[:, None]),
        (lambda t: t[:, :1].squeeze(1), lambda a: a[:, 0]),
        (lambda t: t[:1].expand(5, 3, 4), lambda a: np.broadcast_to(a[:1], (5, 3, 4))),
        (lambda t: t.T, lambda a: a.T),
    ]
    for fn, ref in cases:
        np.testing.assert_array_equal(fn(x).data, ref(x.data))
        gradcheck(fn, (x,))


@given(x=st.tensors(shape=(4, 5)))
def test_getitem(x):
    keys = [1, (slice(None), 2), (Ellipsis, slice(1, 4, 2)), (None, 0), (slice(None, None, -1),),
            np.array([0, 2, 2, 3]), (np.array([0, 0, 3]), np.array([1, 1, 4])),
            x.data > 0, mc.tensor([3, 1])]
    for key in keys:
        want = x.data[key.data if isinstance(key, mc.Tensor) else key]
        np.testing.assert_array_equal(x[key].data, want)
        if want.size:
            gradcheck(lambda t: t[key], (x,))


def test_repeated_index_accumulates():
    x = mc.zeros(3, requires_grad=True)
    x[np.array([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3, 0, 1])


@given(data=hs.data())
def test_cat_stack_split_chunk(data):
    a = data.draw(st.tensors((2, 3)))
    b = data.draw(st.tensors((2, 1)))
    np.testing.assert_array_equal(mc.cat([a, b], dim=1).data,
                                  np.concatenate([a.data, b.data], 1))
    gradcheck(lambda x, y: mc.cat([x, y], dim=-1), (a, b))
    c = data.draw(st.tensors((2, 3)))
    np.testing.assert_array_equal(mc.stack([a, c], dim=1).data, np.stack([a.data, c.data], 1))
    gradcheck(lambda x, y: mc.stack([x, y], dim=2), (a, c))
    parts = a.split(2, dim=1)
    assert [p.shape for p in parts] == [(2, 2), (2, 1)]
    gradcheck(lambda x: x.split([1, 2], dim=1)[1] * 2, (a,))
    assert [p.shape for p in a.chunk(3, dim=1)] == [(2, 1)] * 3
    gradcheck(lambda x: x.chunk(2, dim=0)[0] + x.chunk(2, dim=0)[1], (a,))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@given(x=st.tensors(shape=(2, 3, 4)))
def test_pad(mode, x):
    widths = (1, 2, 2, 1)
    kw = {"value": 0.5} if mode == "constant" else {}     # PyTorch refuses a value otherwise
    got = pad(x, widths, mode=mode, **kw)
    np_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
               "circular": "wrap"}[mode]
    kw = {"constant_values": 0.5} if mode == "constant" else {}
    want = np.pad(x.data, ((0, 0), (2, 1), (1, 2)), mode=np_mode, **kw)
    np.testing.assert_array_equal(got.data, want)
    gradcheck(lambda t: pad(t, widths, mode=mode), (x,))


def test_shape_errors():
    with pytest.raises(ValueError, match="invalid for input of size 6"):
        mc.ones(2, 3).reshape(4, 2)
    with pytest.raises(ValueError, match="match except in dimension"):
        mc.cat([mc.ones(2, 3), mc.ones(3, 3)], dim=1)
    with pytest.raises(ValueError, match="reflect"):
        pad(mc.ones(1, 2), (2, 2), mode="reflect")
    with pytest.raises(ValueError, match="size-1"):
        mc.ones(2, 3).expand(4, 3)


def test_flip_repeat_tile_gradcheck():
    x = mc.tensor(np.random.default_rng(0).standard_normal((2, 3)), requires_grad=True)
    np.testing.assert_array_equal(x.flip(0, 1).data, x.data[::-1, ::-1])
    np.testing.assert_array_equal(mc.flip(x, dims=[-1]).data, x.data[:, ::-1])
    gradcheck(lambda t: t.flip(1), (x,))
    np.testing.assert_array_equal(x.repeat(2, 1, 3).data, np.tile(x.data, (2, 1, 3)))
    gradcheck(lambda t: t.repeat(2, 2), (x,))
    gradcheck(lambda t: mc.tile(t, (3,)), (x,))
    with pytest.raises(ValueError, match="can not be smaller"):
        x.repeat(2)


def test_unbind_narrow_movedim():
    x = mc.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    parts = x.unbind(1)
    assert len(parts) == 3 and parts[1].shape == (2, 4)
    np.testing.assert_array_equal(x.narrow(2, -3, 2).data, x.data[:, :, 1:3])
    assert mc.movedim(x, 0, -1).shape == (3, 4, 2)
    assert x.movedim((0, 1), (2, 0)).shape == (3, 4, 2)
    np.testing.assert_array_equal(x.movedim((0, 1), (2, 0)).data,
                                  np.moveaxis(x.data, (0, 1), (2, 0)))
    gradcheck(lambda t: t.movedim(2, 0) * mc.unbind(t, -1)[0].sum(), (x,))


def test_pad_negative_widths_crop_and_value_none_is_zero():
    x = mc.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    out = pad(x, (-1, 2, 1, -2))
    want = np.pad(x.data[:1, 1:], ((1, 0), (0, 2)))
    np.testing.assert_array_equal(out.data, want)
    gradcheck(lambda t: pad(t, (-1, 1)), (x,))
    np.testing.assert_array_equal(pad(x, (1, 0), value=None).data[:, 0], [0, 0, 0])
    with pytest.raises(ValueError, match="doesn't take in value"):
        pad(x, (1, 1), mode="reflect", value=1.0)


def test_pad_refuses_what_pytorch_refuses():
    """Non-constant modes pad 1-3 trailing dims of a (batched or unbatched) input; circular
    padding wraps at most once (PyTorch 2.13: NotImplementedError / RuntimeError)."""
    for mode in ("reflect", "replicate", "circular"):
        with pytest.raises(NotImplementedError, match="padding size 2 is not supported for 1D"):
            pad(mc.randn(3), (1, 1), mode=mode)
        with pytest.raises(NotImplementedError, match="padding size 4 is not supported for 2D"):
            pad(mc.randn(2, 3), (1, 1, 1, 1), mode=mode)
        assert pad(mc.randn(2, 3), (1, 1), mode=mode).shape == (2, 5)
        assert pad(mc.randn(1, 2, 3, 4, 5), (1, 1, 1, 1, 1, 1), mode=mode).shape == (1, 2, 5, 6, 7)
    with pytest.raises(ValueError, match="wrapping around more than once"):
        pad(mc.randn(1, 2, 3), (4, 0), mode="circular")
    np.testing.assert_array_equal(pad(mc.arange(3.0).reshape(1, 1, 3), (3, 3),
                                      mode="circular").data[0, 0], [0, 1, 2] * 3)


def test_shape_ops_take_pytorch_keywords():
    x = mc.zeros(2, 3)
    assert x.reshape(shape=(3, 2)).shape == (3, 2)
    assert x.permute(dims=(1, 0)).shape == (3, 2)
    assert x.expand(size=(4, 2, 3)).shape == (4, 2, 3)
    assert [t.shape for t in x.split(split_size=2, dim=1)] == [(2, 2), (2, 1)]
    assert mc.transpose(input=x, dim0=0, dim1=1).shape == (3, 2)
    assert mc.unsqueeze(input=x, dim=0).shape == (1, 2, 3)


def test_chunk_of_an_empty_dimension_gives_empty_pieces():
    # PyTorch 2.13: zeros(0).chunk(2) -> two (0,) tensors
    assert [t.shape for t in mc.zeros(0).chunk(2)] == [(0,), (0,)]
    assert [t.shape for t in mc.zeros(3, 0).chunk(2, dim=1)] == [(3, 0), (3, 0)]
    assert [t.shape for t in mc.zeros(5).chunk(4)] == [(2,), (2,), (1,)]


def test_view_refuses_to_copy_and_reshape_does():
    x = mc.arange(6.0).reshape(2, 3)
    with pytest.raises(RuntimeError, match="Use .reshape"):
        x.t().view(6)                         # PyTorch: not expressible as a view
    flat = x.t().reshape(6)                   # a copy, allowed
    assert flat.tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    v = x.view(3, 2)
    v[0, 0] = 100.0
    assert x[0, 0].item() == 100.0            # a real view: writes reach x


def test_cat_skips_legacy_empty_tensors_and_refuses_0d():
    # PyTorch 2.13: cat([tensor([]), ones(2, 3)]) is (2, 3)
    assert mc.cat([mc.tensor([]), mc.ones(2, 3)]).shape == (2, 3)
    assert mc.cat([mc.tensor([]), mc.tensor([])]).shape == (0,)
    with pytest.raises(ValueError, match="zero-dimensional"):
        mc.cat([mc.tensor(1.0), mc.tensor(2.0)])


def test_pad_negative_widths_crop_as_pytorch_does():
    """'reflect'/'replicate' pad the whole input, then crop (reflect widths are checked
    against the input's size); 'constant'/'circular' crop first, and may empty a dim.
    Expected values from torch.nn.functional.pad 2.13 on arange(5.) of shape (1, 1, 5)."""
    x = mc.arange(5.0).reshape(1, 1, 5)
    cases = [
        ("reflect", (4, -1), [4, 3, 2, 1, 0, 1, 2, 3]),
        ("reflect", (-1, 4), [1, 2, 3, 4, 3, 2, 1, 0]),
        ("reflect", (-6, 2), [2]),
        ("reflect", (3, -5), [3, 2, 1]),
        ("replicate", (4, -1), [0, 0, 0, 0, 0, 1, 2, 3]),
        ("replicate", (-3, 6), [3, 4, 4, 4, 4, 4, 4, 4]),
        ("replicate", (-5, 1), [4]),
        ("circular", (4, -1), [0, 1, 2, 3, 0, 1, 2, 3]),
        ("circular", (-2, -3), []),
        ("constant", (3, -5), [0, 0, 0]),
        ("constant", (-2, -3), []),
    ]
    for mode, widths, want in cases:
        np.testing.assert_array_equal(pad(x, widths, mode=mode).data[0, 0], want)
    assert pad(mc.ones(1, 2, 3), (0, 0, -1, -1)).shape == (1, 0, 3)       # torch: (1, 0, 3)
    with pytest.raises(ValueError, match="must be smaller than the dimension size 5"):
        pad(x, (5, -1), mode="reflect")
    for mode in ("reflect", "replicate"):        # torch: "Calculated output W: 0"
        with pytest.raises(ValueError, match=r"leave nothing of dimension 2 of size 5"):
            pad(x, (-2, -3), mode=mode)
    with pytest.raises(ValueError, match="crop at most 5"):                # torch: narrow()
        pad(x, (-6, 2))
    # circular padding of what a crop left (torch reads uninitialised memory here)
    with pytest.raises(ValueError, match="wrapping around more than once"):
        pad(x, (3, -5), mode="circular")


def test_pad_then_crop_gradient():
    x = mc.tensor(np.random.default_rng(0).standard_normal((1, 2, 3, 5)), requires_grad=True)
    for mode in ("reflect", "replicate", "constant"):
        assert gradcheck(lambda t: pad(t, (4, -1, -2, 2), mode=mode), (x,))
