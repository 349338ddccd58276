"""What the file readers share: images and labels held as arrays, with the usual
``transform`` / ``target_transform`` hooks."""
import os

from ..dataset import Dataset


class LabelledImages(Dataset):
    """A reader whose ``data`` (N, ...) array and ``targets`` (N,) int64 labels are loaded
    by the subclass's ``__init__``; samples are ``(image, int label)`` after the
    transforms."""

    def _setup(self, root, train, transform, target_transform):
        self.root = os.fspath(root)
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform

    def _transformed(self, img, target):
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        return self._transformed(self.data[index], int(self.targets[index]))

    def __repr__(self):
        return (f"{type(self).__name__}(root={self.root!r}, train={self.train}, "
                f"n={len(self)})")
