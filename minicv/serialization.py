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
  bytes are stored as they are in memory, so a round trip is bitwise.
* ``__minicv__.npy``: a uint8 array holding UTF-8 JSON::

      {"format": "minicv-checkpoint", "format_version": 1, "minicv_version": "0.1.0",
       "metadata": {...user metadata, e.g. {"model_class": "ResNet"}...},
       "arrays": {"a0": {"dtype": "<f4", "shape": [16, 3, 3, 3]}, ...},
       "structure": <the object, encoded below>}

  Encoding of ``structure``: str, int, finite float, bool and None are themselves; other
  values are one-key objects: ``{"tensor": "a0", "requires_grad": false}``,
  ``{"ndarray": "a1"}``, ``{"scalar": "a2"}`` (a NumPy scalar), ``{"float": "nan"}``
  (also "inf", "-inf"), ``{"list": [...]}``, ``{"tuple": [...]}`` and
  ``{"dict": [[key, value], ...]}`` (keys encoded like values, so int keys survive).

Read the metadata without loading the arrays::

    meta = json.loads(np.load(path)["__minicv__"].tobytes())

Atomicity: ``save`` writes to a temporary file in the destination directory, flushes and
fsyncs it, then renames it over ``path`` (``os.replace``, atomic on POSIX and Windows);
a crash or SIGKILL at any moment leaves either the old file or the new one, never a mix.
"""
import io
import json
import math
import os
import tempfile
import zipfile

import numpy as np

from .backend import to_numpy
from .tensor import Tensor

FORMAT = "minicv-checkpoint"
FORMAT_VERSION = 1
META_KEY = "__minicv__"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be loaded (truncated, corrupted, or not minicv's)."""


# ----------------------------------------------------------------------------- encoding

class _Encoder:
    def __init__(self):
        self.arrays = {}

    def _add(self, arr):
        name = f"a{len(self.arrays)}"
        if arr.dtype.hasobject:
            raise TypeError("mc.save cannot store object arrays (they would need pickle); "
                            "convert to a numeric dtype or to lists")
        self.arrays[name] = arr
        return name

    def encode(self, obj, path="obj"):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int) and not isinstance(obj, bool):
            return obj
        if isinstance(obj, float):
            if math.isfinite(obj):
                return obj
            return {"float": "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")}
        if isinstance(obj, Tensor):
            # GPU tensors are saved as host copies; mc.load gives CPU tensors
            return {"tensor": self._add(to_numpy(obj.data)),
                    "requires_grad": bool(obj.requires_grad)}
        if isinstance(obj, np.ndarray):
            return {"ndarray": self._add(obj)}
        if isinstance(obj, (np.generic,)):
            return {"scalar": self._add(np.asarray(obj))}
        if isinstance(obj, dict):
            return {"dict": [[self.encode(k, f"{path} key"), self.encode(v, f"{path}[{k!r}]")]
                             for k, v in obj.items()]}
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


def _decode(node, arrays, path):
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):            # never written by save; be strict
        raise CheckpointError(f"{path}: malformed structure (bare list)")
    if not isinstance(node, dict) or len(node) not in (1, 2):
        raise CheckpointError(f"{path}: malformed structure node {str(node)[:80]}")
    if "tensor" in node:
        t = Tensor(arrays[node["tensor"]])
        if node.get("requires_grad") and t.dtype.kind == "f":
            t.requires_grad_(True)
        return t
    if "ndarray" in node:
        return arrays[node["ndarray"]]
    if "scalar" in node:
        return arrays[node["scalar"]][()]
    if "float" in node:
        return float(node["float"])
    if "list" in node:
        return [_decode(v, arrays, path) for v in node["list"]]
    if "tuple" in node:
        return tuple(_decode(v, arrays, path) for v in node["tuple"])
    if "dict" in node:
        return {_freeze(_decode(k, arrays, path)): _decode(v, arrays, path)
                for k, v in node["dict"]}
    raise CheckpointError(f"{path}: unknown structure node {sorted(node)}")


def _freeze(key):
    return tuple(_freeze(k) for k in key) if isinstance(key, (list, tuple)) else key


# ----------------------------------------------------------------------------- save

def save(obj, f, metadata=None):
    """Write ``obj`` to ``f`` (a path or a writable binary file) as a minicv checkpoint.

    Args:
        obj: nested dicts/lists/tuples of tensors, arrays, numbers, strings, bools, None.
        f: destination path (written atomically) or file object.
        metadata: optional JSON-able dict stored beside the data, e.g.
            ``{"model_class": type(model).__name__, "epoch": 10}``.

    Example::

        mc.save({"model": model.state_dict(), "epoch": 3}, "ckpt.pt")
        state = mc.load("ckpt.pt"); model.load_state_dict(state["model"])
    """
    enc = _Encoder()
    structure = enc.encode(obj)
    from . import __version__
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "minicv_version": __version__,
            "metadata": metadata or {},
            "arrays": {k: {"dtype": a.dtype.str, "shape": list(a.shape)}
                       for k, a in enc.arrays.items()},
            "structure": structure}
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
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            _write_zip(fh, enc.arrays, blob)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)


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


def load(f, map_location=None, weights_only=True):
    """Read a checkpoint written by :func:`save`; never unpickles.

    Returns the saved object: Tensors come back as Tensors (with ``requires_grad`` as
    saved), arrays as ndarrays, dicts/lists/tuples and plain values as themselves.

    Raises:
        CheckpointError (a ValueError) naming the file when it is truncated, corrupted,
        a pickle, or holds object arrays. ``map_location`` and ``weights_only`` are
        accepted for PyTorch compatibility (minicv always loads data only, on the CPU).

    Example::

        state = mc.load("ckpt.pt")
    """
    name = f if not hasattr(f, "read") else getattr(f, "name", "<file object>")
    name = os.fspath(name) if isinstance(name, os.PathLike) else name
    try:
        fh = open(f, "rb") if not hasattr(f, "read") else f
    except FileNotFoundError:
        raise FileNotFoundError(f"checkpoint not found: {name!r}") from None
    try:
        head = fh.read(8)
        fh.seek(0)
        if head[:4] != b"PK\x03\x04":
            if not head:
                raise CheckpointError(f"cannot load checkpoint {name!r}: the file is empty "
                                      f"(a save interrupted before minicv's atomic saves?)")
            raise CheckpointError(f"cannot load checkpoint {name!r}: {_describe(head)}")
        data = fh.read() if hasattr(f, "read") else None
        src = io.BytesIO(data) if data is not None else fh
        try:
            zf = zipfile.ZipFile(src)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
            raise CheckpointError(f"cannot load checkpoint {name!r}: the file is truncated or "
                                  f"corrupted (not a complete ZIP archive: {e})") from None
        with zf:
            return _load_zip(zf, name)
    finally:
        if not hasattr(f, "read"):
            fh.close()


def _read_npy(zf, member, name):
    try:
        with zf.open(member) as fh:
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


def _load_zip(zf, name):
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
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"cannot load checkpoint {name!r}: corrupted metadata ({e})") \
            from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"cannot load checkpoint {name!r}: unknown format")
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(f"cannot load checkpoint {name!r}: format version "
                              f"{meta.get('format_version')} is newer than this minicv "
                              f"understands ({FORMAT_VERSION}); upgrade minicv")
    arrays = {}
    for key, spec in meta.get("arrays", {}).items():
        member = key + ".npy"
        if member not in members:
            raise CheckpointError(f"cannot load checkpoint {name!r}: array {key} is missing "
                                  f"(truncated or corrupted file)")
        arr = _read_npy(zf, member, name)
        if arr.dtype.str != spec["dtype"] or list(arr.shape) != spec["shape"]:
            raise CheckpointError(f"cannot load checkpoint {name!r}: array {key} has dtype "
                                  f"{arr.dtype.str} and shape {list(arr.shape)}, but the "
                                  f"metadata says {spec['dtype']} {spec['shape']}")
        arrays[key] = arr
    try:
        return _decode(meta["structure"], arrays, name)
    except KeyError as e:
        raise CheckpointError(f"cannot load checkpoint {name!r}: structure refers to missing "
                              f"array {e}") from None


def load_metadata(f):
    """The JSON metadata of a checkpoint (format, versions, user metadata, array specs)."""
    with zipfile.ZipFile(f) as zf:
        raw = _read_npy(zf, META_KEY + ".npy", str(f))
    return json.loads(raw.tobytes().decode("utf-8"))
