"""VGG (Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition", ICLR 2015, arXiv:1409.1556).

Stacks of 3x3 convolutions (padding 1) separated by 2x2 max pools; configurations A
(VGG-11), B (VGG-13) and D (VGG-16) of the paper's Table 1:

    A: 64 M 128 M 256 256 M 512 512 M 512 512 M
    B: 64 64 M 128 128 M 256 256 M 512 512 M 512 512 M
    D: 64 64 M 128 128 M 256 256 256 M 512 512 512 M 512 512 512 M

``small_input=True`` (the default, for 32x32 images) ends with one linear layer on the
1x1x512 map; ``small_input=False`` keeps the paper's 7x7 pooling and 4096-4096 classifier
(VGG-16: 138,357,544 parameters at 1,000 classes). ``width`` scales every conv's filters
(0.25 gives a model that trains in minutes on a CPU). ``batch_norm=True`` adds BN after
every conv (the "_bn" variants).
"""
from .. import nn
from .pretrained import no_pretrained_weights

CONFIGS = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
         512, 512, 512, "M"],
}


class VGG(nn.Module):
    def __init__(self, depth=16, num_classes=10, in_channels=3, batch_norm=False,
                 width=1.0, small_input=True, dropout=0.5):
        super().__init__()
        if depth not in CONFIGS:
            raise ValueError(f"VGG depth must be one of {sorted(CONFIGS)}, got {depth}")
        layers, cin = [], in_channels
        for v in CONFIGS[depth]:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
                continue
            cout = max(int(v * width), 1)
            layers.append(nn.Conv2d(cin, cout, 3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(cout))
            layers.append(nn.ReLU())
            cin = cout
        self.features = nn.Sequential(*layers)
        if small_input:
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(cin, num_classes))
        else:
            hidden = max(int(4096 * width), 1)
            self.pool = nn.AdaptiveAvgPool2d(7)
            self.classifier = nn.Sequential(
                nn.Flatten(), nn.Linear(cin * 49, hidden), nn.ReLU(), nn.Dropout(dropout),
                nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
                nn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.classifier(self.pool(self.features(x)))


@no_pretrained_weights
def vgg11(num_classes=10, **kw):
    return VGG(11, num_classes, **kw)


@no_pretrained_weights
def vgg13(num_classes=10, **kw):
    return VGG(13, num_classes, **kw)


@no_pretrained_weights
def vgg16(num_classes=10, **kw):
    return VGG(16, num_classes, **kw)
