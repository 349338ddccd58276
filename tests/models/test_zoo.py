"""The zoo: parameter counts match the papers / torchvision, forward shapes, and one
training step changes every parameter (no dead branch)."""
import numpy as np
import pytest

import minicv as mc
from minicv import models
from minicv.models import count_parameters
from minicv.testing import gradcheck

pytest.importorskip("minicv.ops.conv")

EXACT = {   # counts that torchvision reproduces exactly
    "resnet18": (lambda: models.resnet18(1000), 11_689_512),
    "resnet34": (lambda: models.resnet34(1000), 21_797_672),
    "resnet50": (lambda: models.resnet50(1000), 25_557_032),
    "vgg16": (lambda: models.vgg16(1000, small_input=False), 138_357_544),
    "mobilenet": (lambda: models.MobileNet(1000), 4_231_976),
    "lenet5": (lambda: models.lenet5(), 61_706),
}

PAPER = {   # (builder, paper's count in millions, relative tolerance)
    "resnet20": (lambda: models.resnet20(), 0.27, 0.02),
    "resnet32": (lambda: models.resnet32(), 0.46, 0.02),
    "resnet56": (lambda: models.resnet56(), 0.85, 0.02),
    "densenet40": (lambda: models.densenet(40, 12, False), 1.0, 0.07),
    "densenet_bc100": (lambda: models.densenet(100, 12, True), 0.8, 0.05),
}


@pytest.mark.parametrize("name", EXACT)
def test_exact_parameter_counts(name):
    build, want = EXACT[name]
    assert count_parameters(build()) == want


@pytest.mark.parametrize("name", PAPER)
def test_paper_parameter_counts(name):
    build, millions, tol = PAPER[name]
    got = count_parameters(build()) / 1e6
    assert abs(got - millions) / millions <= tol, f"{name}: {got:.3f} M"


def test_cifar_resnets_option_a_counts():
    """Option-A shortcuts add no parameters: 269,722 is the count other reproductions
    of the paper's ResNet-20 report (0.27 M)."""
    assert count_parameters(models.resnet20()) == 269_722
    assert count_parameters(models.resnet56()) == 853_018


@pytest.mark.parametrize("name", [n for n, (_, shape, _) in models.MODELS.items()
                                  if shape[1] <= 32])
def test_forward_shape_and_training_step(name):
    mc.manual_seed(0)
    model = models.get_model(name, num_classes=7)
    c, h, w = models.MODELS[name][1]
    x = mc.randn(2, c, h, w)
    out = model(x)
    assert out.shape == (2, 7)
    loss = (out * out).mean()
    loss.backward()
    dead = [n for n, p in model.named_parameters() if p.grad is None or
            not np.any(p.grad.data)]
    assert not dead, f"parameters without gradient: {dead[:5]}"


@pytest.mark.parametrize("attention", ["se", "cbam", "self"])
def test_resnet_with_attention(attention):
    model = models.resnet20(attention=attention)
    assert count_parameters(model) > 269_722
    out = model(mc.randn(2, 3, 32, 32))
    assert out.shape == (2, 10)


def test_self_attention_goes_to_the_last_stage_only():
    model = models.resnet20(attention="self")
    kinds = [type(b.attention).__name__ for layer in (model.layer1, model.layer2, model.layer3)
             for b in layer]
    assert kinds == ["Identity"] * 6 + ["SelfAttention2d"] * 3


def test_self_attention_block_starts_as_the_identity_and_learns():
    from minicv.models.attention import SelfAttention2d
    block = SelfAttention2d(8, num_heads=2).double()
    x = mc.randn(2, 8, 3, 5, dtype=mc.float64, requires_grad=True)
    np.testing.assert_array_equal(block(x).data, x.data)           # gamma = 0 at first
    block.gamma.data[...] = 0.5
    block(x).square().sum().backward()
    assert all(p.grad is not None and np.any(p.grad.data) for p in block.parameters())
    gradcheck(lambda t: block(t), (mc.randn(1, 8, 2, 3, dtype=mc.float64,
                                            requires_grad=True),))
    with pytest.raises(ValueError, match="divisible"):
        SelfAttention2d(6, num_heads=4)


def test_unknown_model_is_a_clear_error():
    with pytest.raises(ValueError, match="choose from"):
        models.get_model("resnet9000")


@pytest.mark.parametrize("name", list(models.MODELS))
def test_torchvision_weights_keywords_give_a_clear_error(name):
    """``weights=None`` / ``pretrained=False`` / ``progress`` build a fresh model, as in
    torchvision; asking for weights says minicv downloads nothing (not a TypeError)."""
    builder = models.MODELS[name][0]
    if name in ("lenet5", "resnet20", "mobilenet"):     # the cheap ones build for real
        assert isinstance(builder(weights=None, progress=False), mc.nn.Module)
        assert isinstance(models.get_model(name, pretrained=False), mc.nn.Module)
    for asked in ({"weights": "IMAGENET1K_V1"}, {"weights": "DEFAULT"}, {"pretrained": True}):
        with pytest.raises(ValueError, match=f"{builder.__name__}.*downloads nothing"):
            builder(**asked)
        with pytest.raises(ValueError, match="downloads nothing"):
            models.get_model(name, **asked)


HAS_BN_OR_DROPOUT = {"resnet20", "resnet32", "resnet56", "densenet", "inception", "mobilenet"}


@pytest.mark.parametrize("name", [n for n, (_, shape, _) in models.MODELS.items()
                                  if shape[1] <= 32 and n not in ("resnet32", "resnet56")])
def test_float64_step_eval_mode_and_checkpoint_round_trip(name):
    """Forward + backward in float64 at the documented input size; eval() changes the
    output of models with BN or dropout; a state_dict through mc.save/mc.load into a
    fresh model gives identical outputs."""
    import io
    mc.manual_seed(0)
    model = models.get_model(name, num_classes=5).double()
    c, h, w = models.MODELS[name][1]
    x = mc.randn(2, c, h, w, dtype=mc.float64)
    out = model(x)
    assert out.shape == (2, 5) and out.dtype == np.float64
    out.sum().backward()
    assert all(p.grad is not None and p.grad.dtype == np.float64 for p in model.parameters())
    with mc.no_grad():
        train_out = model(x).data
        model.eval()
        eval_out = model(x).data
    assert np.array_equal(eval_out, model(x).data)          # eval is deterministic
    assert (not np.allclose(train_out, eval_out)) == (name in HAS_BN_OR_DROPOUT)
    buf = io.BytesIO()
    mc.save(model.state_dict(), buf)
    buf.seek(0)
    mc.manual_seed(1)
    fresh = models.get_model(name, num_classes=5).double()
    fresh.load_state_dict(mc.load(buf))
    fresh.eval()
    with mc.no_grad():
        np.testing.assert_array_equal(fresh(x).data, eval_out)
