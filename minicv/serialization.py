"""Checkpoints: ``save(obj, path)`` and ``load(path)``, safe and atomic. Never pickle.

``obj`` is any nesting of dicts, lists and tuples whose leaves are Tensors, NumPy arrays,
NumPy scalars, Python numbers, strings, bools or None: a model's ``state_dict()``, an
optimizer's ``state_dict()``, the epoch, RNG state, metrics. Unlike ``torch.save``,
minicv never pickles: a pickle can run arbitrary code when loaded, so ``load`` only
reads raw arrays and JSON, and refuses anything else.

File format (version 1)
-----------------------
A ZIP archive (uncompressed, as written by ``numpy.savez``) that ``np.load`` can read:

* ``a0.npy``, ``a1.npy``, ...: one ``.npy`` array per tensor, array or NumPy scalar;
  bytes are stored as they are in memory, so a round trip is bitwise. Tensors and arrays
  over exactly the same memory (a tensor saved twice, tied weights) share one entry.
* ``__minicv__.npy``: a uint8 array holding UTF-8 JSON::

      {"format": "minicv-checkpoint", "format_version": 1, "minicv_version": "0.1.0",
       "metadata": {...user metadata, e.g. {"model_class": "ResNet"}...},
       "arrays": {"a0": {"dtype": "<f4", "shape": [16, 3, 3, 3]},
                  "a1": {"dtype": "<f4", "shape": [10], "device": "cuda:0"}, ...},
       "structure": <the object, encoded below>}

  ``"device"`` is present only for an array saved from a GPU (``map_location`` may use it).
  Encoding of ``structure``: str, int, finite float, bool and None are themselves; other
  values are one-key objects: ``{"tensor": "a0", "requires_grad": false}``,
  ``{"ndarray": "a1"}``, ``{"scalar": "a2"}`` (a NumPy scalar), ``{"float": "nan"}``
  (also "inf", "-inf"), ``{"list": [...]}``, ``{"tuple": [...]}`` and
  ``{"dict": [[key, value], ...]}`` (keys encoded like values, so int keys survive;
  ``"ordered": true`` is added for an ``OrderedDict``, such as a ``state_dict()``).

Read the metadata without loading the arrays::

    meta = json.loads(np.load(path)["__minicv__"].tobytes())

Atomicity: ``save`` writes to a temporary file in the destination directory, flushes and
fsyncs it, then renames it over ``path`` (``os.replace``, atomic on POSIX and Windows);
a crash or SIGKILL at any moment leaves either the old file or the new one, never a mix.
"""
import collections
import collections.abc
import io
import json
import math
import os
import secrets
import stat
import zipfile

import numpy as np

from .backend import Device, device_of, is_cupy_array, to_device, to_numpy
from .tensor import Tensor

FORMAT = "minicv-checkpoint"
FORMAT_VERSION = 1
META_KEY = "__minicv__"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be loaded (truncated, corrupted, or not minicv's)."""


# ----------------------------------------------------------------------------- encoding

def _memory_key(arr):
    """Where an array's bytes live and how they are laid out: two arrays with the same key
    hold the same values, so a checkpoint stores them once (``t`` and ``t.detach()``,
    weights tied between two layers). A view of part of an array has another key."""
    if is_cupy_array(arr):
        where, ptr = f"cuda:{arr.device.id}", arr.data.ptr
    else:
        where, ptr = "cpu", arr.__array_interface__["data"][0]
    return where, ptr, arr.shape, arr.strides, arr.dtype.str


class _Encoder:
    """Turns ``obj`` into JSON-able ``structure`` and collects its arrays (host copies)."""

    def __init__(self):
        self.arrays = {}        # name -> NumPy array to store
        self.devices = {}       # name -> "cuda:N", for arrays that were on a GPU
        self._names = {}        # _memory_key -> name (every array is alive during save)

    def _add(self, arr, share=True):
        key = _memory_key(arr) if share else None
        if key in self._names:
            return self._names[key]
        if arr.dtype.hasobject:
            raise TypeError("mc.save cannot store object arrays (they would need pickle); "
                            "convert to a numeric dtype or to lists")
        name = f"a{len(self.arrays)}"
        self.arrays[name] = to_numpy(arr)           # a GPU array is stored as a host copy
        if is_cupy_array(arr):
            self.devices[name] = str(device_of(arr))
        if share:
            self._names[key] = name
        return name

    def encode(self, obj, path="obj"):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, np.generic):        # before int/float: np.float64 is a float
            return {"scalar": self._add(np.asarray(obj), share=False)}
        if isinstance(obj, int) and not isinstance(obj, bool):
            return obj
        if isinstance(obj, float):
            if math.isfinite(obj):
                return obj
            return {"float": "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")}
        if isinstance(obj, Tensor):
            return {"tensor": self._add(obj.data), "requires_grad": bool(obj.requires_grad)}
        if isinstance(obj, np.ndarray):
            return {"ndarray": self._add(obj)}
        if isinstance(obj, dict):
            node = {"dict": [[self.encode(k, f"{path} key"), self.encode(v, f"{path}[{k!r}]")]
                             for k, v in obj.items()]}
            if isinstance(obj, collections.OrderedDict):
                node["ordered"] = True
            return node
        if isinstance(obj, list):
            return {"list": [self.encode(v, f"{path}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, tuple):
            return {"tuple": [self.encode(v, f"{path}[{i}]") for i, v in enumerate(obj)]}
        hint = ""
        if hasattr(obj, "state_dict"):
            hint = " (save its .state_dict() instead of the object itself)"
        raise TypeError(f"mc.save cannot store {path} of type {type(obj).__name__}{hint}: "
                        f"checkpoints hold dicts, lists, tuples, tensors, arrays, numbers, "
                        f"strings, bools and None (no pickle)")


# ----------------------------------------------------------------------------- decoding

def _placer(map_location):
    """``place(array, saved_at) -> array`` for ``map_location`` (see :func:`load`)."""
    if map_location is None:
        return lambda arr, saved_at: arr
    if isinstance(map_location, (str, Device)) or hasattr(map_location, "type"):
        device = Device(str(map_location))         # also a torch.device
        return lambda arr, saved_at: to_device(arr, device)
    if isinstance(map_location, dict):
        def place(arr, saved_at):
            target = map_location.get(saved_at)
            return arr if target is None else to_device(arr, Device(str(target)))
        return place
    if callable(map_location):
        def place(arr, saved_at):
            out = map_location(Tensor(arr), saved_at)
            if out is None:                         # as in PyTorch: the default place
                return arr
            if isinstance(out, Tensor):
                return out.data
            if isinstance(out, np.ndarray) or is_cupy_array(out):
                return out
            raise TypeError(f"map_location returned {type(out).__name__}; it must return "
                            f"a Tensor (e.g. lambda t, loc: t.cuda()) or None")
        return place
    raise TypeError(f"map_location must be None, a device ('cpu', 'cuda', 'cuda:1', "
                    f"mc.device(...)), a dict from saved location to device "
                    f"({{'cuda:1': 'cuda:0'}}) or a function (tensor, location) -> tensor; "
                    f"got {type(map_location).__name__}")


class _Decoder:
    """Rebuilds the saved object from ``structure``; refuses any node save never writes."""

    def __init__(self, arrays, devices, place, name):
        self.arrays, self.devices, self.place, self.name = arrays, devices, place, name
        self._placed = {}   # array name -> (array where map_location put it, version counter)

    def _bad(self, what):
        return CheckpointError(f"cannot load checkpoint {self.name!r}: {what}")

    def _array(self, key):
        if not isinstance(key, str) or key not in self.arrays:
            raise self._bad(f"structure refers to missing array {str(key)[:40]!r}")
        return self.arrays[key]

    def _tensor(self, node):
        key = node["tensor"]
        arr = self._array(key)
        if key not in self._placed:
            self._placed[key] = (self.place(arr, self.devices.get(key, "cpu")), [0])
        arr, version = self._placed[key]
        t = Tensor(arr)
        t._vc = version                 # tensors sharing an array share its version counter
        if node.get("requires_grad") is True and t.dtype.kind == "f":
            t.requires_grad_(True)
        return t

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict) or len(node) not in (1, 2):
            raise self._bad(f"malformed structure node {str(node)[:80]}")
        if "tensor" in node:
            return self._tensor(node)
        if "ndarray" in node:
            return self._array(node["ndarray"])
        if "scalar" in node:
            return self._array(node["scalar"])[()]
        if "float" in node and node["float"] in ("nan", "inf", "-inf"):
            return float(node["float"])
        for kind in ("list", "tuple"):
            if isinstance(node.get(kind), list):
                items = [self.decode(v) for v in node[kind]]
                return items if kind == "list" else tuple(items)
        if isinstance(node.get("dict"), list):
            out = collections.OrderedDict() if node.get("ordered") is True else {}
            for item in node["dict"]:
                if not isinstance(item, list) or len(item) != 2:
                    raise self._bad(f"malformed dict item {str(item)[:80]}")
                key = _freeze(self.decode(item[0]))
                if not isinstance(key, collections.abc.Hashable):
                    raise self._bad(f"unhashable dict key {str(item[0])[:80]}")
                out[key] = self.decode(item[1])
            return out
        raise self._bad(f"unknown structure node {sorted(node)}")


def _freeze(key):
    return tuple(_freeze(k) for k in key) if isinstance(key, (list, tuple)) else key


# ----------------------------------------------------------------------------- save

def save(obj, f, metadata=None, *, pickle_module=None, pickle_protocol=None,
         _use_new_zipfile_serialization=True):
    """Write ``obj`` to ``f`` (a path or a writable binary file) as a minicv checkpoint.

    Args:
        obj: nested dicts/lists/tuples of tensors, arrays, numbers, strings, bools, None.
        f: destination path (``str`` or ``pathlib.Path``, written atomically) or a binary
            file object (written at its position, in place).
        metadata: optional JSON-able dict stored beside the data, e.g.
            ``{"model_class": type(model).__name__, "epoch": 10}``.
        pickle_module, pickle_protocol, _use_new_zipfile_serialization: accepted so that
            ``torch.save`` calls run unchanged, and ignored: minicv never pickles.

    A new file gets the usual permissions (``0o666`` less the umask, as ``open`` gives); an
    overwritten one keeps its own.

    Example::

        mc.save({"model": model.state_dict(), "epoch": 3}, "ckpt.pt")
        state = mc.load("ckpt.pt"); model.load_state_dict(state["model"])
    """
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"mc.save: metadata must be a dict, got {type(metadata).__name__} "
                        f"(the third argument is metadata, not torch.save's pickle_module; "
                        f"minicv never pickles)")
    enc = _Encoder()
    structure = enc.encode(obj)
    from . import __version__
    specs = {k: {"dtype": a.dtype.str, "shape": list(a.shape)} for k, a in enc.arrays.items()}
    for k, device in enc.devices.items():
        specs[k]["device"] = device
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "minicv_version": __version__,
            "metadata": metadata or {}, "arrays": specs, "structure": structure}
    try:
        blob = json.dumps(meta, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as e:
        raise TypeError(f"mc.save: metadata must be JSON-serialisable ({e})") from None
    if hasattr(f, "write"):
        _write_zip(f, enc.arrays, blob)
        return
    path = os.fspath(f)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"mc.save: the directory {directory!r} does not exist; create "
                                f"it first (os.makedirs(..., exist_ok=True))")
    fd, tmp = _create_temp(directory, os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as fh:
            _write_zip(fh, enc.arrays, blob)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))    # keep an old file's mode
        except FileNotFoundError:
            pass
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)


def _create_temp(directory, basename):
    """A new file ``.<basename>.<random>.tmp`` beside the destination, opened for writing.

    Not ``tempfile.mkstemp``: that creates the file with mode 0o600, and the rename would
    leave a checkpoint that the owner's group cannot read. ``os.open`` with mode 0o666
    lets the umask decide, as ``open(path, "wb")`` (and so ``torch.save``) does."""
    for _ in range(100):
        tmp = os.path.join(directory, f".{basename}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL
                           | getattr(os, "O_BINARY", 0), 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"mc.save: could not create a temporary file in {directory!r}")


def _write_zip(fh, arrays, meta_blob):
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, arr in arrays.items():
            with zf.open(name + ".npy", "w", force_zip64=True) as out:
                np.lib.format.write_array(out, np.asanyarray(arr), allow_pickle=False)
        with zf.open(META_KEY + ".npy", "w") as out:
            np.lib.format.write_array(out, np.frombuffer(meta_blob, np.uint8),
                                      allow_pickle=False)


def _fsync_dir(directory):
    """Make the rename itself durable (POSIX; a no-op where directories can't be opened)."""
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


# ----------------------------------------------------------------------------- load

def _describe(head):
    if head[:1] == b"\x80" or head[:1] in (b"(", b"]", b"}"):
        return ("it is a Python pickle (e.g. written by torch.save in the legacy format or "
                "pickle.dump); minicv never unpickles, because unpickling can run arbitrary "
                "code. Convert it in a trusted environment: load the tensors and re-save "
                "them with numpy.savez or mc.save")
    if head[:6] == b"\x93NUMPY":
        return "it is a single .npy array, not a minicv checkpoint: use numpy.load"
    return "it is not a ZIP archive"


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None):
    """Read a checkpoint written by :func:`save`; never unpickles.

    Returns the saved object: Tensors come back as Tensors (with ``requires_grad`` as
    saved; an ``nn.Parameter`` as a plain Tensor), arrays as ndarrays, an ``OrderedDict``
    (a ``state_dict()``) as an ``OrderedDict``, other dicts, lists, tuples and plain
    values as themselves. Tensors saved over the same memory share one array again.

    Args:
        f: a path (``str`` or ``pathlib.Path``) or a binary file object, read from its
            current position.
        map_location: where tensors go. ``None`` (the default): the CPU, wherever they
            were saved (unlike ``torch.load``, which puts GPU-saved tensors back on the
            GPU, so a checkpoint written on a GPU loads on any machine;
            ``model.load_state_dict`` copies onto the model's device anyway). A device
            (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``mc.device(...)``): every tensor there.
            A dict ``{saved location: device}`` such as ``{"cuda:1": "cuda:0"}`` or
            ``{"cpu": "cuda"}``: the saved location is ``"cpu"`` or ``"cuda:N"``; other
            locations go to the CPU. A function ``(tensor, location) -> tensor or None``,
            called with each tensor on the CPU, e.g. ``lambda t, loc: t.cuda(0)``; None
            keeps it on the CPU. NumPy arrays in the checkpoint stay NumPy arrays.
        pickle_module: must be None; minicv never unpickles.
        weights_only: accepted for PyTorch compatibility; minicv always loads data only,
            whatever its value (``False`` cannot make it unpickle).
        mmap: accepted for PyTorch compatibility; the arrays are read into memory.

    Raises:
        FileNotFoundError when ``f`` does not exist; CheckpointError (a ValueError) naming
        the file when it is empty, truncated, corrupted, a pickle or holds object arrays.
        Nothing is returned, or changed, unless the whole file is sound.

    Example::

        state = mc.load("ckpt.pt", map_location="cpu")
    """
    if pickle_module is not None:
        raise TypeError("mc.load takes no pickle_module: minicv checkpoints hold raw arrays "
                        "and JSON, never pickles")
    place = _placer(map_location)
    with _open_checkpoint(f) as (zf, name):
        meta = _read_meta(zf, name)
        arrays, devices = _read_arrays(zf, meta, name)
        return _Decoder(arrays, devices, place, name).decode(meta["structure"])


def load_metadata(f):
    """The JSON metadata of a checkpoint (format, versions, user metadata, array specs),
    read without loading the arrays. Raises as :func:`load` does."""
    with _open_checkpoint(f) as (zf, name):
        return _read_meta(zf, name)


class _open_checkpoint:
    """``with _open_checkpoint(f) as (zipfile, name)``: checks the file's first bytes and
    opens it as a ZIP, raising CheckpointError that names it when that fails."""

    def __init__(self, f):
        self.f, self.fh = f, None

    def __enter__(self):
        f = self.f
        if hasattr(f, "read"):
            name = getattr(f, "name", "<file object>")
            if isinstance(f, io.TextIOBase):
                raise TypeError(f"mc.load: the file object {name!r} is open in text mode; "
                                f"open it with open(path, 'rb')")
            src = io.BytesIO(f.read())  # from the current position; needs no seek
        else:
            name = os.fspath(f)
            try:
                src = self.fh = open(name, "rb")
            except FileNotFoundError:
                raise FileNotFoundError(f"checkpoint not found: {name!r}") from None
        try:
            head = src.read(8)
            src.seek(0)
            if head[:4] != b"PK\x03\x04":
                if not head:
                    raise CheckpointError(f"cannot load checkpoint {name!r}: the file is "
                                          f"empty (a save interrupted before minicv's atomic "
                                          f"saves?)")
                raise CheckpointError(f"cannot load checkpoint {name!r}: {_describe(head)}")
            try:
                self.zf = zipfile.ZipFile(src)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
                raise CheckpointError(f"cannot load checkpoint {name!r}: the file is "
                                      f"truncated or corrupted (not a complete ZIP archive: "
                                      f"{e})") from None
        except BaseException:
            self.__exit__()
            raise
        return self.zf, name

    def __exit__(self, *exc):
        if getattr(self, "zf", None) is not None:
            self.zf.close()
        if self.fh is not None:
            self.fh.close()


def _read_npy(zf, member, name):
    try:
        with zf.open(member) as fh:
            # read to the end, so that zipfile checks the member's CRC
            return np.lib.format.read_array(io.BytesIO(fh.read()), allow_pickle=False)
    except ValueError as e:
        if "allow_pickle" in str(e) or "Object arrays" in str(e):
            raise CheckpointError(f"cannot load checkpoint {name!r}: entry {member} holds "
                                  f"Python objects, which would need pickle to load; minicv "
                                  f"refuses them (they can run code)") from None
        raise CheckpointError(f"cannot load checkpoint {name!r}: entry {member} is corrupted "
                              f"({e})") from None
    except (zipfile.BadZipFile, EOFError, OSError, KeyError) as e:
        raise CheckpointError(f"cannot load checkpoint {name!r}: entry {member} is truncated "
                              f"or corrupted ({e})") from None


def _read_meta(zf, name):
    members = set(zf.namelist())
    if META_KEY + ".npy" not in members:
        if any(m.endswith(".pkl") for m in members):
            raise CheckpointError(
                f"cannot load checkpoint {name!r}: it is a PyTorch zip checkpoint (torch.save),"
                f" whose content is a pickle; minicv never unpickles because unpickling can "
                f"run arbitrary code. Convert it with torch in a trusted environment: "
                f"sd = torch.load(p, weights_only=True); numpy.savez(out, **{{k: v.numpy() "
                f"for k, v in sd.items()}})")
        raise CheckpointError(f"cannot load checkpoint {name!r}: no {META_KEY} entry; it is a "
                              f"ZIP/.npz file but not a minicv checkpoint (use numpy.load)")
    raw = _read_npy(zf, META_KEY + ".npy", name)
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise CheckpointError(f"cannot load checkpoint {name!r}: corrupted metadata ({e})") \
            from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"cannot load checkpoint {name!r}: unknown format")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(f"cannot load checkpoint {name!r}: format version {version!r} "
                              f"is not one this minicv understands ({FORMAT_VERSION}); "
                              f"upgrade minicv")
    if not isinstance(meta.get("arrays"), dict) or "structure" not in meta:
        raise CheckpointError(f"cannot load checkpoint {name!r}: corrupted metadata (no "
                              f"array table or structure)")
    return meta


def _read_arrays(zf, meta, name):
    """Every array of the checkpoint, checked against the metadata, and the GPU each one
    was saved from (for ``map_location``)."""
    members = set(zf.namelist())
    arrays, devices = {}, {}
    for key, spec in meta["arrays"].items():
        member = key + ".npy"
        if member not in members:
            raise CheckpointError(f"cannot load checkpoint {name!r}: array {key} is missing "
                                  f"(truncated or corrupted file)")
        if not isinstance(spec, dict):
            raise CheckpointError(f"cannot load checkpoint {name!r}: corrupted metadata "
                                  f"for array {key}")
        arr = _read_npy(zf, member, name)
        if arr.dtype.str != spec.get("dtype") or list(arr.shape) != spec.get("shape"):
            raise CheckpointError(f"cannot load checkpoint {name!r}: array {key} has dtype "
                                  f"{arr.dtype.str} and shape {list(arr.shape)}, but the "
                                  f"metadata says {spec.get('dtype')} {spec.get('shape')}")
        arrays[key] = arr
        if isinstance(spec.get("device"), str):
            devices[key] = spec["device"]
    return arrays, devices
