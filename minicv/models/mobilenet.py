"""MobileNet (Howard et al., "MobileNets: Efficient Convolutional Neural Networks for Mobile
Vision Applications", 2017, arXiv:1704.04861).

A depthwise-separable block replaces a 3x3 conv by a 3x3 depthwise conv (groups = C,
one filter per channel) and a 1x1 pointwise conv, each with BN and ReLU: about
1/C_out + 1/9 of the multiply-adds. Table 1's body: 32 filters at stride 2, then
(64,1) (128,2) (128,1) (256,2) (256,1) (512,2) (512,1)x5 (1024,2) (1024,1).

``width`` is the paper's multiplier alpha. At width 1 and 1,000 classes the network has
4,231,976 parameters (paper: 4.2 M). ``small_input=True`` starts at stride 1 and drops
two of the stride-2 steps so 32x32 images keep a 4x4 map at the end.
"""
from .. import nn
from .pretrained import no_pretrained_weights

BODY = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
        (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]


def separable(cin, cout, stride):
    return nn.Sequential(
        nn.Conv2d(cin, cin, 3, stride=stride, padding=1, groups=cin, bias=False),
        nn.BatchNorm2d(cin), nn.ReLU(),                                    # depthwise
        nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())  # pointwise


class MobileNet(nn.Module):
    def __init__(self, num_classes=1000, in_channels=3, width=1.0, small_input=False):
        super().__init__()
        c = max(int(32 * width), 8)
        layers = [nn.Conv2d(in_channels, c, 3, stride=1 if small_input else 2, padding=1,
                            bias=False), nn.BatchNorm2d(c), nn.ReLU()]
        for i, (cout, stride) in enumerate(BODY):
            if small_input and i in (1, 3):
                stride = 1
            cout = max(int(cout * width), 8)
            layers.append(separable(c, cout, stride))
            c = cout
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x):
        return self.fc(self.pool(self.features(x)).flatten(1))


@no_pretrained_weights
def mobilenet(num_classes=10, width=0.5, small_input=True, **kw):
    """The CIFAR-sized default: width 0.5, small-input strides."""
    return MobileNet(num_classes, width=width, small_input=small_input, **kw)
