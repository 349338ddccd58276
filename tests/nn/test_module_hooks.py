"""Module hooks: forward (always_call), full backward and backward pre-hooks, handles.

Expected values were computed with PyTorch 2.13 on the same small modules (the comments
give the call); the last test repeats a few of them side by side when torch is installed.
"""
import warnings

import numpy as np
import pytest

import minicv as mc
import minicv.nn as nn


class TwoInOut(nn.Module):
    """forward(a, b, k) -> (a * b * k, a + 0): two tensor inputs, a float, two outputs."""

    def forward(self, a, b, k=2.0):
        return a * b * k, a + 0


def _lists(grads):
    return [None if g is None else g.tolist() for g in grads]


def _linear(w, b):
    lin = nn.Linear(len(w[0]), len(w))
    lin.weight.data[...] = w
    lin.bias.data[...] = b
    return lin


def test_full_backward_hook_sees_grad_input_and_grad_output():
    m, log = TwoInOut(), []
    m.register_full_backward_pre_hook(lambda mod, go: log.append(("pre", _lists(go))))
    m.register_full_backward_hook(
        lambda mod, gi, go: log.append(("full", _lists(gi), _lists(go))))
    a = mc.tensor([1., 2.], requires_grad=True)
    y, z = m(a, mc.tensor([3., 4.]), 3.0)
    y.sum().backward()
    # torch: the unused output's grad is None; b (no grad needed) gets zeros; 3.0 gets None
    assert log == [("pre", [[1.0, 1.0], None]),
                   ("full", [[9.0, 12.0], [0.0, 0.0], None], [[1.0, 1.0], None])]
    assert a.grad.tolist() == [9.0, 12.0]
    log.clear()
    a.grad = None
    y, z = m(a, mc.tensor([3., 4.]), 3.0)
    (y.sum() + z.sum()).backward()
    assert log == [("pre", [[1.0, 1.0], [1.0, 1.0]]),
                   ("full", [[10.0, 13.0], [0.0, 0.0], None], [[1.0, 1.0], [1.0, 1.0]])]


def test_backward_hooks_replace_gradients():
    lin = _linear([[1., 1.]], [0.])
    lin.register_full_backward_pre_hook(lambda m, go: (go[0] * 10,))
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0] * 2,))
    x = mc.ones(1, 2, requires_grad=True)
    lin(x).sum().backward()
    # torch: x.grad [[20, 20]] (grad_output scaled 10x, then grad_input 2x); weight 10x
    assert x.grad.tolist() == [[20.0, 20.0]]
    assert lin.weight.grad.tolist() == [[10.0, 10.0]]
    lin2 = nn.Linear(2, 1)
    lin2.register_full_backward_hook(lambda m, gi, go: (None,))
    x = mc.ones(1, 2, requires_grad=True)
    lin2(x).sum().backward()
    assert x.grad is None and lin2.bias.grad.tolist() == [1.0]


def test_backward_hook_without_input_grad_runs_with_none():
    lin, log = nn.Linear(2, 1), []
    lin.register_full_backward_hook(lambda m, gi, go: log.append((gi, go[0].tolist())))
    lin(mc.ones(1, 2)).sum().backward()
    assert log == [((None,), [[1.0]])]                    # torch: ((None,), [[1.0]])
    lin.register_full_backward_hook(lambda m, gi, go: (mc.ones(1, 2),))
    with pytest.raises(RuntimeError, match="no input of the module requires grad"):
        lin(mc.ones(1, 2)).sum().backward()


def test_backward_hook_bad_returns_raise_clearly():
    x = mc.ones(1, 2, requires_grad=True)
    for register, hook, msg in [
            ("register_full_backward_hook", lambda m, gi, go: (gi[0], gi[0]),
             "invalid number of grad_input, got 2, but expected 1"),
            ("register_full_backward_pre_hook", lambda m, go: (go[0], go[0]),
             "invalid number of grad_output, got 2, but expected 1"),
            ("register_full_backward_hook", lambda m, gi, go: gi[0],
             "invalid number of grad_input, got a Tensor"),
            ("register_full_backward_hook", lambda m, gi, go: (mc.ones(3),),
             "shape \\[3\\] where \\[1, 2\\] was expected")]:
        lin = nn.Linear(2, 1)
        getattr(lin, register)(hook)
        with pytest.raises(RuntimeError, match=msg):
            lin(x).sum().backward()


def test_backward_hook_order_and_reuse_of_a_module():
    log = []
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    for i, m in enumerate(seq):
        m.register_full_backward_hook(lambda m, gi, go, i=i: log.append(i))
    seq.register_full_backward_hook(lambda m, gi, go: log.append("seq"))
    seq.register_full_backward_pre_hook(lambda m, go: log.append("seq-pre"))
    seq(mc.ones(1, 2, requires_grad=True)).sum().backward()
    assert log == ["seq-pre", 2, 1, 0, "seq"]                 # torch's order
    # one module called twice: each call has its own grad_input/grad_output
    lin = _linear([[1., 2.], [3., 4.]], [0., 0.])
    log = []
    lin.register_full_backward_hook(lambda m, gi, go: log.append((gi[0].tolist(),
                                                                   go[0].tolist())))
    x = mc.tensor([[1., -1.]], requires_grad=True)
    y = lin(lin(x))
    (y * mc.tensor([[1., 2.]])).sum().backward(retain_graph=True)
    assert log == [([[7.0, 10.0]], [[1.0, 2.0]]), ([[37.0, 54.0]], [[7.0, 10.0]])]
    assert x.grad.tolist() == [[37.0, 54.0]]
    (y * mc.tensor([[1., 2.]])).sum().backward()
    assert x.grad.tolist() == [[74.0, 108.0]] and len(log) == 4


def test_backward_hooks_keep_values_and_tensor_hooks_run_first():
    lin, log = nn.Linear(3, 2), []
    lin.register_full_backward_pre_hook(lambda m, go: log.append("pre") or (go[0] * 2,))
    x = mc.randn(4, 3, requires_grad=True)
    y = lin(x)
    np.testing.assert_allclose(y.data, lin.forward(x).data)
    y.register_hook(lambda g: log.append("tensor") or g * 3)
    y.sum().backward()
    assert log == ["tensor", "pre"]                          # torch: ['tensor', 'pre']
    np.testing.assert_allclose(lin.bias.grad.data, [24.0, 24.0])    # 4 rows * 3 * 2
    with mc.no_grad():                                       # nothing recorded, no hook
        lin(x)
    assert log == ["tensor", "pre"]


def test_backward_hook_handles_and_snapshot():
    lin, log = nn.Linear(2, 1), []
    h = lin.register_full_backward_hook(lambda m, gi, go: log.append(1))
    out = lin(mc.ones(1, 2, requires_grad=True))
    h.remove()
    h.remove()                                  # removing twice is harmless
    out.sum().backward()
    assert log == [1]       # torch: hooks registered at call time run (snapshot)
    lin(mc.ones(1, 2, requires_grad=True)).sum().backward()
    assert log == [1] and not lin._backward_hooks
    with lin.register_full_backward_pre_hook(lambda m, go: log.append("pre")):
        lin(mc.ones(1, 2)).sum().backward()
    assert log == [1, "pre"] and not lin._backward_pre_hooks
    order = []
    lin.register_full_backward_hook(lambda m, gi, go: order.append("a"))
    lin.register_full_backward_hook(lambda m, gi, go: order.append("b"), prepend=True)
    lin(mc.ones(1, 2, requires_grad=True)).sum().backward()
    assert order == ["b", "a"]


def test_forward_hook_always_call_runs_when_forward_raises():
    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    m, log = Boom(), []
    m.register_forward_hook(lambda mod, a, o: log.append(("always", o)), always_call=True)
    m.register_forward_hook(lambda mod, a, o: log.append("normal"))
    with pytest.raises(ValueError, match="boom"):
        m(mc.ones(2))
    assert log == [("always", None)]                         # torch: [None], once
    m.register_forward_hook(lambda mod, a, o: 1 / 0, always_call=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="boom"):    # forward's error, not the hook's
            m(mc.ones(2))
    assert any("always_call" in str(w.message) for w in caught)
    ok, log = nn.Identity(), []
    h = ok.register_forward_hook(lambda mod, a, o: log.append(o.tolist()), always_call=True)
    ok(mc.ones(1))
    assert log == [[1.0]]                                    # called once, not twice
    h.remove()
    assert not ok._forward_hooks_always_called


def test_forward_pre_hook_returns_single_value_or_args_kwargs():
    class Scale(nn.Module):
        def forward(self, x, scale=1.0):
            return x * scale

    m = Scale()
    with m.register_forward_pre_hook(lambda mod, args: args[0] * 2):    # not a tuple
        assert m(mc.ones(2)).tolist() == [2.0, 2.0]
    with m.register_forward_pre_hook(lambda mod, a, k: ((a[0] * 3,), {"scale": 2.0}),
                                     with_kwargs=True):
        assert m(mc.ones(2), scale=5.0).tolist() == [6.0, 6.0]
    seen = []
    m.register_forward_hook(lambda mod, a, k, o: seen.append(k), with_kwargs=True)
    m.register_forward_hook(lambda mod, a, o: seen.append("first"), prepend=True)
    m(mc.ones(1), scale=4.0)
    assert seen == ["first", {"scale": 4.0}]


def test_hooks_match_torch_side_by_side():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    w1, b1 = rng.standard_normal((3, 4)), rng.standard_normal(3)
    w2, b2 = rng.standard_normal((2, 3)), rng.standard_normal(2)
    x = rng.standard_normal((5, 4))

    def run(lib, nnlib, tensor):
        net = nnlib.Sequential(nnlib.Linear(4, 3), nnlib.Tanh(), nnlib.Linear(3, 2)).double()
        for lin, (w, b) in zip((net[0], net[2]), ((w1, b1), (w2, b2))):
            lin.weight.data[...] = tensor(w)
            lin.bias.data[...] = tensor(b)
        seen = []
        net[1].register_full_backward_pre_hook(lambda m, go: (go[0] * 0.5,))
        net[1].register_full_backward_hook(
            lambda m, gi, go: seen.append(np.array(gi[0].detach().tolist())))
        xt = tensor(x).requires_grad_(True)
        net(xt).pow(2).sum().backward()
        return seen[0], np.array(xt.grad.tolist()), np.array(net[0].weight.grad.tolist())

    ours = run(mc, nn, lambda a: mc.tensor(a, dtype=mc.float64))
    theirs = run(torch, torch.nn, lambda a: torch.tensor(a, dtype=torch.float64))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_module_pickled_without_newer_hook_registries_still_calls():
    import copy
    import pickle
    lin = nn.Linear(2, 1)
    assert pickle.loads(pickle.dumps(lin))(mc.ones(1, 2)).shape == (1, 1)
    state = copy.deepcopy(lin.__dict__)
    del state["_backward_hooks"], state["_forward_hooks_always_called"]   # an older pickle
    old = nn.Linear.__new__(nn.Linear)
    old.__setstate__(state)
    assert old(mc.ones(1, 2)).shape == (1, 1)
    old.register_forward_hook(lambda m, a, o: o * 2, always_call=True)
    np.testing.assert_allclose(old(mc.ones(1, 2)).data, 2 * lin(mc.ones(1, 2)).data)
