"""Channel and spatial attention blocks that plug into any CNN stage.

* Squeeze-and-Excitation (Hu, Shen & Sun, "Squeeze-and-Excitation Networks", CVPR 2018):
  s = sigmoid(W2 relu(W1 avgpool(x))), y = x * s per channel; W1: C -> C/r, W2: C/r -> C.
* CBAM (Woo, Park, Lee & Kweon, "CBAM: Convolutional Block Attention Module", ECCV 2018):
  channel attention from a shared MLP over average- and max-pooled descriptors, then
  spatial attention from a 7x7 conv over the channel-wise mean and max maps.
* Self-attention over positions (Wang, Girshick, Gupta & He, "Non-local Neural Networks",
  CVPR 2018; the zero-initialised scale of Zhang et al., "Self-Attention Generative
  Adversarial Networks", ICML 2019): every position of the map attends to every other,
  so a block sees the whole image at once where a 3x3 conv sees its neighbours.
"""
import minicv as mc
from .. import nn


class SEBlock(nn.Module):
    """Squeeze-and-Excitation; parameters 2*C*C/r + C/r + C.

    Shape: (N, C, H, W) -> (N, C, H, W).
    """
    def __init__(self, channels, reduction=16):
        super().__init__()
        hidden = max(channels // reduction, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(channels, hidden), nn.ReLU(),
                                nn.Linear(hidden, channels), nn.Sigmoid())

    def forward(self, x):
        s = self.fc(self.pool(x))                         # (N, C)
        return x * s.reshape(s.shape[0], s.shape[1], 1, 1)


class ChannelAttention(nn.Module):
    def __init__(self, channels, reduction=16):
        super().__init__()
        hidden = max(channels // reduction, 1)
        self.mlp = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(),
                                 nn.Linear(hidden, channels))

    def forward(self, x):
        n, c = x.shape[0], x.shape[1]
        avg = self.mlp(x.mean(dim=(2, 3)))                # (N, C)
        mx = self.mlp(x.amax(dim=(2, 3)))                 # (N, C)
        return x * (avg + mx).sigmoid().reshape(n, c, 1, 1)


class SpatialAttention(nn.Module):
    def __init__(self, kernel_size=7):
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)

    def forward(self, x):
        desc = mc.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return x * self.conv(desc).sigmoid()              # (N, 1, H, W) broadcast


class CBAM(nn.Module):
    """Channel attention followed by spatial attention. Shape: (N, C, H, W) -> same."""
    def __init__(self, channels, reduction=16, kernel_size=7):
        super().__init__()
        self.channel = ChannelAttention(channels, reduction)
        self.spatial = SpatialAttention(kernel_size)

    def forward(self, x):
        return self.spatial(self.channel(x))


class SelfAttention2d(nn.Module):
    """Multi-head self-attention over the H·W positions of a feature map, as a residual:
    y = x + γ · MHA(LN(x)), the sequence being the C-vectors of the positions. γ starts at
    0, so the block starts as the identity and learns how much attention to mix in.
    Memory and time grow with (H·W)²: place it on small maps (late stages).

    Shape: (N, C, H, W) -> (N, C, H, W); C must be divisible by ``num_heads``.
    """
    def __init__(self, channels, num_heads=1, dropout=0.0):
        super().__init__()
        self.norm = nn.LayerNorm(channels)
        self.attn = nn.MultiheadAttention(channels, num_heads, dropout=dropout,
                                          batch_first=True)
        self.gamma = nn.Parameter(mc.zeros(1))

    def forward(self, x):
        n, c, h, w = x.shape
        seq = self.norm(x.flatten(2).transpose(1, 2))                 # (N, H·W, C)
        out, _ = self.attn(seq, seq, seq, need_weights=False)         # (N, H·W, C)
        return x + self.gamma * out.transpose(1, 2).reshape(n, c, h, w)


def make_attention(kind, channels):
    """``None`` / "se" / "cbam" / "self" -> a block (Identity when None)."""
    if kind is None or kind == "none":
        return nn.Identity()
    if kind == "se":
        return SEBlock(channels)
    if kind == "cbam":
        return CBAM(channels)
    if kind == "self":
        return SelfAttention2d(channels)
    raise ValueError(f"attention must be None, 'se', 'cbam' or 'self', got {kind!r}")
