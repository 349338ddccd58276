"""A GoogLeNet-style Inception network (Szegedy et al., "Going Deeper with Convolutions",
CVPR 2015, arXiv:1409.4842), sized for 32x32 inputs.

An Inception module runs four branches on the same input and concatenates them on the
channel axis: 1x1; 1x1 reduce then 3x3; 1x1 reduce then 5x5; 3x3 max pool then 1x1
projection. The channel plan follows the paper's Table 1 (modules 3a to 5b) scaled by
``width``; every conv is followed by BN and ReLU (as in Inception v2 and torchvision).
The paper's 7x7/2 stem and aux classifiers are replaced by one 3x3 conv for small
images. With width 1 and 10 classes the network has 5,871,914 parameters (GoogLeNet
reports about 6.8 M at 1,000 classes including the 1,024x1,000 classifier).
"""
import minicv as mc
from .. import nn
from .pretrained import no_pretrained_weights

# (1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj) from Table 1; "M" = 3x3/2 max pool
PLAN = [(64, 96, 128, 16, 32, 32), (128, 128, 192, 32, 96, 64), "M",
        (192, 96, 208, 16, 48, 64), (160, 112, 224, 24, 64, 64),
        (128, 128, 256, 24, 64, 64), (112, 144, 288, 32, 64, 64),
        (256, 160, 320, 32, 128, 128), "M",
        (256, 160, 320, 32, 128, 128), (384, 192, 384, 48, 128, 128)]


def conv_bn(cin, cout, k, padding=0):
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=padding, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU())


class InceptionModule(nn.Module):
    """Four parallel branches, concatenated. Shape: (N, cin, H, W) -> (N, c1+c3+c5+cp, H, W)."""
    def __init__(self, cin, c1, r3, c3, r5, c5, cp):
        super().__init__()
        self.b1 = conv_bn(cin, c1, 1)
        self.b3 = nn.Sequential(conv_bn(cin, r3, 1), conv_bn(r3, c3, 3, padding=1))
        self.b5 = nn.Sequential(conv_bn(cin, r5, 1), conv_bn(r5, c5, 5, padding=2))
        self.bp = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), conv_bn(cin, cp, 1))
        self.out_channels = c1 + c3 + c5 + cp

    def forward(self, x):
        return mc.cat([self.b1(x), self.b3(x), self.b5(x), self.bp(x)], dim=1)


class Inception(nn.Module):
    def __init__(self, num_classes=10, in_channels=3, width=1.0):
        super().__init__()
        stem = max(int(192 * width), 8)
        layers, c = [conv_bn(in_channels, stem, 3, padding=1)], stem
        for item in PLAN:
            if item == "M":
                layers.append(nn.MaxPool2d(3, stride=2, padding=1))
                continue
            m = InceptionModule(c, *[max(int(v * width), 1) for v in item])
            layers.append(m)
            c = m.out_channels
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(0.4)
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x):
        return self.fc(self.dropout(self.pool(self.features(x)).flatten(1)))


@no_pretrained_weights
def inception(num_classes=10, width=1.0, **kw):
    return Inception(num_classes, width=width, **kw)


@no_pretrained_weights
def inception_small(num_classes=10, **kw):
    """width 0.25: about 0.4 M parameters, for CPU training."""
    return Inception(num_classes, width=0.25, **kw)
