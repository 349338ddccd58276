"""DenseNet (Huang, Liu, van der Maaten & Weinberger, "Densely Connected Convolutional
Networks", CVPR 2017, arXiv:1608.06993), the CIFAR form of the paper's §3.

Each layer receives the concatenation of all earlier feature maps of its block and adds
``growth_rate`` new maps: BN-ReLU-Conv3x3, or with the bottleneck (DenseNet-B)
BN-ReLU-Conv1x1(4k)-BN-ReLU-Conv3x3(k). Transitions between the three blocks are
BN-ReLU-Conv1x1 (reducing channels by ``compression``, DenseNet-C) and 2x2 average pool.

    model                      depth  k   parameters (10 classes)
    densenet(40, 12, False)    40     12  1.0 M (paper 1.0 M)
    densenet(100, 12, True)    100    12  0.8 M (paper DenseNet-BC: 0.8 M)

``densenet_small()`` (depth 22, k 12, BC) has 71,686 parameters and trains in minutes.
"""
import minicv as mc
from .. import nn
from ..nn import functional as F
from .pretrained import no_pretrained_weights


class DenseLayer(nn.Module):
    def __init__(self, cin, growth, bottleneck):
        super().__init__()
        if bottleneck:
            self.reduce = nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU(),
                                        nn.Conv2d(cin, 4 * growth, 1, bias=False))
            cin = 4 * growth
        else:
            self.reduce = nn.Identity()
        self.bn = nn.BatchNorm2d(cin)
        self.conv = nn.Conv2d(cin, growth, 3, padding=1, bias=False)

    def forward(self, x):
        new = self.conv(F.relu(self.bn(self.reduce(x))))     # (N, k, H, W)
        return mc.cat([x, new], dim=1)                        # (N, C + k, H, W)


class Transition(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.bn = nn.BatchNorm2d(cin)
        self.conv = nn.Conv2d(cin, cout, 1, bias=False)
        self.pool = nn.AvgPool2d(2)

    def forward(self, x):
        return self.pool(self.conv(F.relu(self.bn(x))))


class DenseNet(nn.Module):
    """Three dense blocks for 32x32 inputs. Shape: (N, C, 32, 32) -> (N, num_classes)."""
    def __init__(self, depth=40, growth_rate=12, bottleneck=False, compression=1.0,
                 num_classes=10, in_channels=3):
        super().__init__()
        per_block = (depth - 4) // (6 if bottleneck else 3)
        if per_block < 1:
            raise ValueError(f"depth {depth} is too small for three dense blocks")
        c = 2 * growth_rate if bottleneck else 16
        layers = [nn.Conv2d(in_channels, c, 3, padding=1, bias=False)]
        for b in range(3):
            for _ in range(per_block):
                layers.append(DenseLayer(c, growth_rate, bottleneck))
                c += growth_rate
            if b < 2:
                out = int(c * compression)
                layers.append(Transition(c, out))
                c = out
        layers += [nn.BatchNorm2d(c), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x):
        return self.fc(self.features(x))


@no_pretrained_weights
def densenet(depth=40, growth_rate=12, bottleneck=False, num_classes=10, **kw):
    return DenseNet(depth, growth_rate, bottleneck, 0.5 if bottleneck else 1.0, num_classes,
                    **kw)


@no_pretrained_weights
def densenet_small(num_classes=10, **kw):
    return DenseNet(22, 12, True, 0.5, num_classes, **kw)
