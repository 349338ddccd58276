"""ChainDataset (and `+` of iterable datasets), StackDataset, and the DataLoader
arguments PyTorch scripts pass (pin_memory, pin_memory_device, in_order, prefetch_factor
only with workers), in PyTorch's positional order."""
import pytest

import minicv as mc
from minicv.data import (ChainDataset, DataLoader, IterableDataset, StackDataset,
                         TensorDataset)


class Stream(IterableDataset):
    def __init__(self, start, stop):
        self.start, self.stop = start, stop

    def __iter__(self):
        return iter(range(self.start, self.stop))

    def __len__(self):
        return self.stop - self.start


def test_chain_dataset_streams_in_order():
    chain = ChainDataset([Stream(0, 3), Stream(10, 12)])
    assert list(chain) == [0, 1, 2, 10, 11] and len(chain) == 5
    assert list(Stream(0, 2) + Stream(5, 6)) == [0, 1, 5]
    assert [b.tolist() for b in DataLoader(chain, batch_size=2)] == [[0, 1], [2, 10], [11]]
    with pytest.raises(TypeError, match="only chains IterableDatasets"):
        list(ChainDataset([TensorDataset(mc.arange(3))]))


def test_stack_dataset_tuples_and_dicts():
    a, b = TensorDataset(mc.arange(4)), [10, 11, 12, 13]
    item = StackDataset(a, b)[2]                      # (a[2], b[2]) = ((tensor(2),), 12)
    assert item[0][0].item() == 2 and item[1] == 12
    d = StackDataset(x=b, y=[0, 1, 0, 1])
    assert d[1] == {"x": 11, "y": 1} and len(d) == 4
    batch = next(iter(DataLoader(d, batch_size=4)))
    assert batch["x"].tolist() == b and batch["y"].tolist() == [0, 1, 0, 1]
    with pytest.raises(ValueError, match="size mismatch"):
        StackDataset([1, 2], [1])
    with pytest.raises(ValueError, match="not both"):
        StackDataset([1], y=[2])
    with pytest.raises(ValueError, match="at least one"):
        StackDataset()


def test_loader_accepts_pytorch_arguments_in_pytorch_order():
    ds = TensorDataset(mc.arange(5))
    # DataLoader(dataset, batch_size, shuffle, sampler, batch_sampler, num_workers,
    #            collate_fn, pin_memory, drop_last)
    loader = DataLoader(ds, 2, False, None, None, 0, None, True, True)
    assert [b[0].tolist() for b in loader] == [[0, 1], [2, 3]]            # drop_last
    loader = DataLoader(ds, batch_size=5, pin_memory=True, pin_memory_device="cuda",
                        in_order=False)
    assert next(iter(loader))[0].tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="prefetch_factor can only be given"):
        DataLoader(ds, prefetch_factor=2)
