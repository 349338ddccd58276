"""Residual networks (He, Zhang, Ren & Sun, "Deep Residual Learning for Image
Recognition", CVPR 2016, arXiv:1512.03385).

CIFAR ResNets (paper §4.2): a 3x3 conv with 16 filters, three stages of n blocks on
32x32, 16x16 and 8x8 maps with 16, 32 and 64 filters, global average pooling and a
fully connected layer; depth 6n + 2. Shortcuts are option A (identity; when the shape
changes, subsample by 2 and pad the new channels with zeros), so they add no parameters.

    model      n   depth  parameters (10 classes)
    resnet20   3   20     269,722   (paper: 0.27 M)
    resnet32   5   32     464,154   (paper: 0.46 M)
    resnet56   9   56     853,018   (paper: 0.85 M)

ImageNet ResNets (paper Table 1): 7x7/2 conv, 3x3/2 max pool, four stages (64, 128, 256,
512 filters) of Basic (two 3x3) or Bottleneck (1x1, 3x3, 1x1 with 4x expansion) blocks,
projection shortcuts (1x1 conv + BN, option B) where the shape changes.

    model      blocks         parameters (1,000 classes)
    resnet18   [2, 2, 2, 2]   11,689,512 (paper: 11.7 M)
    resnet34   [3, 4, 6, 3]   21,797,672
    resnet50   [3, 4, 6, 3]   25,557,032 (Bottleneck)

``attention="se"`` or ``"cbam"`` adds an SE or CBAM block to the residual branch of every
block, before the addition (as in the SE and CBAM papers). ``attention="self"`` adds a
self-attention block (:class:`~minicv.models.attention.SelfAttention2d`) to the blocks of
the last stage only: its cost grows with the square of the number of positions, and the
non-local paper also places it on late, small maps.
"""
from .. import nn
from ..nn import functional as F
from .attention import make_attention
from .pretrained import no_pretrained_weights


def conv3x3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    """relu(bn(conv(relu(bn(conv(x))))) + shortcut(x)); two 3x3 convs."""
    expansion = 1

    def __init__(self, cin, planes, stride=1, shortcut="B", attention=None):
        super().__init__()
        self.conv1, self.bn1 = conv3x3(cin, planes, stride), nn.BatchNorm2d(planes)
        self.conv2, self.bn2 = conv3x3(planes, planes), nn.BatchNorm2d(planes)
        self.attention = make_attention(attention, planes)
        self.shortcut = _shortcut(cin, planes, stride, shortcut)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.attention(self.bn2(self.conv2(out)))
        return F.relu(out + self.shortcut(x))


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand (x4); stride on the 3x3 conv (torchvision's v1.5)."""
    expansion = 4

    def __init__(self, cin, planes, stride=1, shortcut="B", attention=None):
        super().__init__()
        cout = planes * 4
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2, self.bn2 = conv3x3(planes, planes, stride), nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.attention = make_attention(attention, cout)
        self.shortcut = _shortcut(cin, cout, stride, shortcut)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.attention(self.bn3(self.conv3(out)))
        return F.relu(out + self.shortcut(x))


class PadShortcut(nn.Module):
    """Option A: subsample by ``stride`` and zero-pad the extra channels (no parameters)."""
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.stride, self.extra = stride, cout - cin

    def forward(self, x):
        x = x[:, :, ::self.stride, ::self.stride]
        lo = self.extra // 2
        return F.pad(x, (0, 0, 0, 0, lo, self.extra - lo))      # pads (C, H, W)


def _shortcut(cin, cout, stride, kind):
    if stride == 1 and cin == cout:
        return nn.Identity()
    if kind == "A":
        return PadShortcut(cin, cout, stride)
    return nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                         nn.BatchNorm2d(cout))


def _init(model):
    """He-normal convs (fan_out, as torchvision), BN weight 1 and bias 0."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def _stage_attention(kind, last):
    """The attention of a stage's blocks: self-attention only in the last stage."""
    return kind if kind != "self" or last else None


class CifarResNet(nn.Module):
    """ResNet-(6n+2) for 32x32 inputs. Shape: (N, 3, 32, 32) -> (N, num_classes)."""
    def __init__(self, n, num_classes=10, in_channels=3, attention=None):
        super().__init__()
        self.conv1, self.bn1 = conv3x3(in_channels, 16), nn.BatchNorm2d(16)
        layers, cin = [], 16
        for i, planes in enumerate((16, 32, 64)):
            blocks = []
            for j in range(n):
                stride = 2 if i > 0 and j == 0 else 1
                blocks.append(BasicBlock(cin, planes, stride, "A", _stage_attention(
                    attention, last=i == 2)))
                cin = planes
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, num_classes)
        _init(self)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))              # (N, 16, 32, 32)
        x = self.layer3(self.layer2(self.layer1(x)))     # (N, 64, 8, 8)
        return self.fc(self.pool(x).flatten(1))          # (N, num_classes)


class ResNet(nn.Module):
    """ImageNet-style ResNet. Shape: (N, 3, H, W) -> (N, num_classes), H, W >= 32."""
    def __init__(self, block, layers, num_classes=1000, in_channels=3, attention=None):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        cin, stages = 64, []
        for i, (planes, n) in enumerate(zip((64, 128, 256, 512), layers)):
            blocks = []
            for j in range(n):
                stride = 2 if i > 0 and j == 0 else 1
                blocks.append(block(cin, planes, stride, "B",
                                    _stage_attention(attention, last=i == 3)))
                cin = planes * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, num_classes)
        _init(self)

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))     # (N, 64, H/4, W/4)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.pool(x).flatten(1))


@no_pretrained_weights
def resnet20(num_classes=10, **kw):
    return CifarResNet(3, num_classes, **kw)


@no_pretrained_weights
def resnet32(num_classes=10, **kw):
    return CifarResNet(5, num_classes, **kw)


@no_pretrained_weights
def resnet56(num_classes=10, **kw):
    return CifarResNet(9, num_classes, **kw)


@no_pretrained_weights
def resnet18(num_classes=1000, **kw):
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes, **kw)


@no_pretrained_weights
def resnet34(num_classes=1000, **kw):
    return ResNet(BasicBlock, [3, 4, 6, 3], num_classes, **kw)


@no_pretrained_weights
def resnet50(num_classes=1000, **kw):
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes, **kw)


__all__ = ["BasicBlock", "Bottleneck", "CifarResNet", "ResNet", "resnet20", "resnet32",
           "resnet56", "resnet18", "resnet34", "resnet50"]
