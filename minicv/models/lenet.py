"""LeNet-5 (LeCun, Bottou, Bengio & Haffner, "Gradient-based learning applied to document
recognition", Proc. IEEE 1998).

Layer table for a 1x28x28 input (the C1 padding of 2 reproduces the paper's 32x32 frame):

    layer        output        parameters
    C1 conv 5x5  6 x 28 x 28   6*(1*25) + 6     = 156
    S2 pool 2    6 x 14 x 14   -
    C3 conv 5x5  16 x 10 x 10  16*(6*25) + 16   = 2,416
    S4 pool 2    16 x 5 x 5    -
    C5 fc        120           400*120 + 120    = 48,120
    F6 fc        84            120*84 + 84      = 10,164
    output fc    10            84*10 + 10       = 850
                                        total   = 61,706

The paper used scaled tanh and trainable average "subsampling"; the default here is the
common modern variant (ReLU, max pooling), ``LeNet5(activation="tanh", pool="avg")``
gives the classic one. C3 is fully connected to S2 (the paper's sparse table is omitted).
"""
from .. import nn
from .pretrained import no_pretrained_weights


class LeNet5(nn.Module):
    def __init__(self, num_classes=10, in_channels=1, activation="relu", pool="max"):
        super().__init__()
        act = {"relu": nn.ReLU, "tanh": nn.Tanh}[activation]
        Pool = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}[pool]
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=2), act(), Pool(2),    # (N, 6, 14, 14)
            nn.Conv2d(6, 16, 5), act(), Pool(2),                        # (N, 16, 5, 5)
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),                                               # (N, 400)
            nn.Linear(16 * 5 * 5, 120), act(),
            nn.Linear(120, 84), act(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


@no_pretrained_weights
def lenet5(num_classes=10, in_channels=1, **kwargs):
    """LeNet-5 for 28x28 images (61,706 parameters at 10 classes)."""
    return LeNet5(num_classes, in_channels, **kwargs)
