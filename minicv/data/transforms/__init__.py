"""``minicv.data.transforms``: augmentations for images and for whole detection /
segmentation samples (image, boxes, labels, masks move together).

    from minicv.data import transforms as T
    train_tf = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(),
                          T.ToTensor(), T.Normalize(mean, std)])

See :mod:`.base` for the protocol (inputs, dict samples, seeding).
"""
from .base import Transform, Compose, Sample, RandomApply, RandomChoice, RandomOrder, Lambda
from .tensor import ToTensor, Normalize
from .geometric import (Resize, CenterCrop, RandomCrop, RandomResizedCrop,
                        RandomHorizontalFlip, RandomVerticalFlip, RandomRotation,
                        RandomAffine, Pad)
from .color import (ColorJitter, Grayscale, RandomGrayscale, GaussianNoise, GaussianBlur,
                    EqualizeHistogram, GrayWorld, RandomIllumination)
from .erase import RandomErasing, RandomOcclusion
from .mix import MixUp, CutMix

__all__ = ["Transform", "Compose", "Sample", "RandomApply", "RandomChoice", "RandomOrder",
           "Lambda", "ToTensor", "Normalize", "Resize", "CenterCrop", "RandomCrop",
           "RandomResizedCrop", "RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation",
           "RandomAffine", "Pad", "ColorJitter", "Grayscale", "RandomGrayscale",
           "GaussianNoise", "GaussianBlur", "EqualizeHistogram", "GrayWorld",
           "RandomIllumination", "RandomErasing", "RandomOcclusion", "MixUp", "CutMix"]
