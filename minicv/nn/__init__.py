"""``minicv.nn``: modules, parameters, layers, losses, initialisation (``nn.init``),
``nn.functional`` and ``nn.utils``, with PyTorch's names.

Example::

    import minicv.nn as nn
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
"""
from .parameter import Parameter, Buffer
from .module import Module
from .containers import (Sequential, ModuleList, ModuleDict, ParameterList,
                         ParameterDict)
from .linear import Identity, Linear
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose2d
from .norm import BatchNorm1d, BatchNorm2d, BatchNorm3d, LayerNorm, GroupNorm
from .dropout import Dropout, Dropout2d
from .activation import (ReLU, ReLU6, Hardtanh, LeakyReLU, ELU, GELU, SiLU, Mish, Sigmoid,
                         Tanh, Softplus, Softmax, LogSoftmax)
from .pooling import (MaxPool1d, MaxPool2d, MaxPool3d, AvgPool1d, AvgPool2d,
                      AdaptiveAvgPool2d, AdaptiveMaxPool2d, Upsample, UpsamplingNearest2d,
                      UpsamplingBilinear2d)
from .embedding import Embedding
from .flatten import Flatten, Unflatten
from .loss import (CrossEntropyLoss, NLLLoss, BCELoss, BCEWithLogitsLoss, MSELoss, L1Loss,
                   SmoothL1Loss, HuberLoss, KLDivLoss, CosineEmbeddingLoss,
                   MarginRankingLoss, TripletMarginLoss)
from .activation import (Hardswish, Hardsigmoid, SELU, CELU, LogSigmoid, Softsign,
                         Softshrink, Hardshrink, Tanhshrink, Threshold, GLU, PReLU, RReLU,
                         Softmin, Softmax2d)
from .dropout import Dropout1d, Dropout3d, AlphaDropout, FeatureAlphaDropout
from .norm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, LocalResponseNorm, RMSNorm
from .linear import Bilinear
from .embedding import EmbeddingBag
from .pooling import (AvgPool3d, AdaptiveAvgPool1d, AdaptiveAvgPool3d, AdaptiveMaxPool1d,
                      AdaptiveMaxPool3d, MaxUnpool1d, MaxUnpool2d, MaxUnpool3d, LPPool1d,
                      LPPool2d, LPPool3d)
from .conv import ConvTranspose1d, ConvTranspose3d
from .padding import (ZeroPad1d, ZeroPad2d, ZeroPad3d, ConstantPad1d, ConstantPad2d,
                      ConstantPad3d, ReflectionPad1d, ReflectionPad2d, ReflectionPad3d,
                      ReplicationPad1d, ReplicationPad2d, ReplicationPad3d, CircularPad1d,
                      CircularPad2d, CircularPad3d)
from .pixelshuffle import PixelShuffle, PixelUnshuffle, ChannelShuffle
from .fold import Fold, Unfold
from .loss import (SoftMarginLoss, MultiLabelSoftMarginLoss, MultiMarginLoss,
                   MultiLabelMarginLoss, HingeEmbeddingLoss, PoissonNLLLoss, GaussianNLLLoss,
                   TripletMarginWithDistanceLoss, CTCLoss)
from .distance import PairwiseDistance, CosineSimilarity
from . import functional, init, utils
from .attention import MultiheadAttention
from .transformer import (Transformer, TransformerEncoder, TransformerDecoder,
                          TransformerEncoderLayer, TransformerDecoderLayer)
from .rnn import RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell, GRUCell
from .parameter import UninitializedParameter, UninitializedBuffer
from .lazy import (LazyLinear, LazyConv1d, LazyConv2d, LazyConv3d, LazyConvTranspose1d,
                   LazyConvTranspose2d, LazyConvTranspose3d, LazyBatchNorm1d, LazyBatchNorm2d,
                   LazyBatchNorm3d, LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d)
