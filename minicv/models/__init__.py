"""The classification model zoo. ``get_model(name, **kw)`` builds one by name;
``MODELS`` lists them (``minicv models`` prints the table with parameter counts)."""
from .lenet import LeNet5, lenet5
from .resnet import (BasicBlock, Bottleneck, CifarResNet, ResNet, resnet20, resnet32,
                     resnet56, resnet18, resnet34, resnet50)
from .vgg import VGG, vgg11, vgg13, vgg16
from .densenet import DenseNet, densenet, densenet_small
from .inception import Inception, inception, inception_small
from .mobilenet import MobileNet, mobilenet
from .attention import SEBlock, CBAM, ChannelAttention, SpatialAttention

# name -> (builder, expected input (C, H, W), one-line description)
MODELS = {
    "lenet5": (lenet5, (1, 28, 28), "LeNet-5 (LeCun et al. 1998)"),
    "resnet20": (resnet20, (3, 32, 32), "CIFAR ResNet-20 (He et al. 2016)"),
    "resnet32": (resnet32, (3, 32, 32), "CIFAR ResNet-32"),
    "resnet56": (resnet56, (3, 32, 32), "CIFAR ResNet-56"),
    "resnet18": (resnet18, (3, 224, 224), "ResNet-18, ImageNet layout"),
    "resnet34": (resnet34, (3, 224, 224), "ResNet-34, ImageNet layout"),
    "resnet50": (resnet50, (3, 224, 224), "ResNet-50 (Bottleneck), ImageNet layout"),
    "vgg11": (vgg11, (3, 32, 32), "VGG-11 (Simonyan & Zisserman 2015)"),
    "vgg13": (vgg13, (3, 32, 32), "VGG-13"),
    "vgg16": (vgg16, (3, 32, 32), "VGG-16"),
    "densenet": (densenet_small, (3, 32, 32), "DenseNet-BC-22, k=12 (Huang et al. 2017)"),
    "inception": (inception_small, (3, 32, 32), "GoogLeNet-style, width 0.25 (Szegedy 2015)"),
    "mobilenet": (mobilenet, (3, 32, 32), "MobileNet, width 0.5 (Howard et al. 2017)"),
}


def get_model(name, num_classes=10, in_channels=None, **kwargs):
    """Build a zoo model by name, e.g. ``get_model("resnet20", attention="se")``."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    builder = MODELS[name][0]
    if in_channels is not None:
        kwargs["in_channels"] = in_channels
    return builder(num_classes=num_classes, **kwargs)


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())
