"""The zoo: parameter counts match the papers / torchvision, forward shapes, and one
training step changes every parameter (no dead branch)."""
import numpy as np
import pytest

import minicv as mc
from minicv import models
from minicv.models import count_parameters

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


@pytest.mark.parametrize("attention", ["se", "cbam"])
def test_resnet_with_attention(attention):
    model = models.resnet20(attention=attention)
    assert count_parameters(model) > 269_722
    out = model(mc.randn(2, 3, 32, 32))
    assert out.shape == (2, 10)


def test_unknown_model_is_a_clear_error():
    with pytest.raises(ValueError, match="choose from"):
        models.get_model("resnet9000")
