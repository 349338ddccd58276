"""``minicv.data``: datasets, samplers, the DataLoader, readers, synthetic data, transforms.

    from minicv.data import DataLoader, TensorDataset
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, num_workers=2)

Submodules: :mod:`.dataset` (Dataset, TensorDataset, ...), :mod:`.sampler`,
:mod:`.collate`, :mod:`.loader` (DataLoader), :mod:`.worker` (what runs in a worker),
:mod:`.datasets` (MNIST, CIFAR, ImageFolder, SynthDigits, Shapes, TextLines) and
:mod:`.transforms`.
"""
from .dataset import (Dataset, IterableDataset, TensorDataset, ConcatDataset, ChainDataset,
                      StackDataset, Subset, random_split)
from .sampler import (Sampler, SequentialSampler, RandomSampler, SubsetRandomSampler,
                      WeightedRandomSampler, BatchSampler, ClassBalancedSampler,
                      DistributedSampler)
from .collate import default_collate, default_convert
from .worker import WorkerInfo, get_worker_info
from .loader import DataLoader
from . import datasets, transforms
from .datasets import (MNIST, FashionMNIST, CIFAR10, CIFAR100, ImageFolder, SynthDigits,
                       Shapes, TextLines)

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "ConcatDataset", "ChainDataset",
           "StackDataset", "Subset",
           "random_split", "Sampler", "SequentialSampler", "RandomSampler",
           "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
           "ClassBalancedSampler", "DistributedSampler", "default_collate",
           "default_convert", "WorkerInfo", "get_worker_info", "DataLoader", "datasets",
           "transforms", "MNIST", "FashionMNIST", "CIFAR10", "CIFAR100", "ImageFolder",
           "SynthDigits", "Shapes", "TextLines"]
