"""Checkpoints: bitwise round trip, atomic under SIGKILL, no pickle, clear errors."""
import io
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pytest

import minicv as mc
import minicv.nn as nn
import minicv.optim as optim
from minicv.serialization import save, load, load_metadata, CheckpointError


def test_bitwise_round_trip_of_nested_objects(tmp_path):
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    opt = optim.Adam(model.parameters())
    model(mc.randn(5, 3)).sum().backward()
    opt.step()
    weird = np.array([np.nan, -0.0, np.inf, 1e-45], np.float32)
    obj = {"model": model.state_dict(), "opt": opt.state_dict(), "epoch": 7,
           "lr": 0.1, "name": "résnet", "flags": [True, False, None],
           "pair": (1, "a"), 3: "int key", "nested": {"x": [{"y": weird}]},
           "f16": np.arange(6, dtype=np.float16).reshape(2, 3), "i8": np.int8(-3),
           "u": np.array([1, 2], np.uint64), "b": np.array([True]), "nan": float("nan"),
           "empty": np.zeros((0, 3)), "strided": rng.standard_normal((4, 6))[:, ::2],
           "grad": mc.tensor([1.0, 2.0], requires_grad=True), "rng": mc.backend.get_rng_state()}
    path = tmp_path / "ckpt.pt"
    save(obj, path, metadata={"model_class": "Sequential"})
    back = load(path)
    assert back["epoch"] == 7 and back["lr"] == 0.1 and back["name"] == "résnet"
    assert back["flags"] == [True, False, None] and back["pair"] == (1, "a")
    assert back[3] == "int key" and isinstance(back["pair"], tuple)
    assert np.isnan(back["nan"]) and back["rng"] == obj["rng"]
    assert back["i8"] == -3 and back["i8"].dtype == np.int8
    for key in ("f16", "u", "b", "empty", "strided"):
        assert back[key].dtype == obj[key].dtype and back[key].shape == obj[key].shape
        assert back[key].tobytes() == np.ascontiguousarray(obj[key]).tobytes()
    w = back["nested"]["x"][0]["y"]
    assert w.tobytes() == weird.tobytes()                 # nan payload and -0.0 kept
    for k, t in obj["model"].items():
        assert isinstance(back["model"][k], mc.Tensor)
        assert back["model"][k].data.tobytes() == t.data.tobytes()
        assert back["model"][k].dtype == t.dtype
    assert back["grad"].requires_grad and not back["model"]["0.weight"].requires_grad
    model2 = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    model2.load_state_dict(back["model"])
    opt2 = optim.Adam(model2.parameters())
    opt2.load_state_dict(back["opt"])
    assert opt2.state[model2[0].weight]["step"] == 1.0
    meta = load_metadata(path)
    assert meta["metadata"] == {"model_class": "Sequential"}
    assert meta["format"] == "minicv-checkpoint" and meta["minicv_version"] == mc.__version__
    plain = np.load(path)                                  # readable by plain NumPy
    assert json.loads(plain["__minicv__"].tobytes())["format_version"] == 1


def test_file_objects_and_unsupported_values(tmp_path):
    buf = io.BytesIO()
    save({"a": mc.ones(2)}, buf)
    buf.seek(0)
    assert np.array_equal(load(buf)["a"].data, [1, 1])
    with pytest.raises(TypeError, match="state_dict"):
        save(nn.Linear(1, 1), tmp_path / "m.pt")
    with pytest.raises(TypeError, match="object arrays"):
        save({"o": np.array([object()])}, tmp_path / "o.pt")
    assert not os.listdir(tmp_path)                        # failed saves leave nothing


class Evil:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_pickle_and_object_arrays_are_refused(tmp_path):
    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps({"w": Evil()}))
    with pytest.raises(CheckpointError, match="pickle") as e:
        load(evil)
    assert str(evil) in str(e.value)
    npz = tmp_path / "obj.npz"
    np.savez(npz, x=np.array([Evil()], dtype=object))
    with pytest.raises(CheckpointError, match="not a minicv checkpoint"):
        load(npz)
    # a minicv checkpoint whose array entry was replaced by a pickled object array
    good = tmp_path / "good.pt"
    save({"x": np.zeros(3)}, good)
    bad = tmp_path / "bad.pt"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w") as zout:
        for item in zin.namelist():
            data = zin.read(item)
            if item == "a0.npy":
                out = io.BytesIO()
                np.lib.format.write_array(out, np.array([Evil()], dtype=object),
                                          allow_pickle=True)
                data = out.getvalue()
            zout.writestr(item, data)
    with pytest.raises(CheckpointError, match="pickle"):
        load(bad)
    torchlike = tmp_path / "torch.pt"
    with zipfile.ZipFile(torchlike, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"w": Evil()}))
    with pytest.raises(CheckpointError, match="PyTorch"):
        load(torchlike)
    assert not (tmp_path / "pwned").exists() and not os.path.exists("pwned")


def test_truncated_and_corrupted_files_name_the_path(tmp_path):
    path = tmp_path / "c.pt"
    save({"w": np.arange(10000, dtype=np.float32)}, path)
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 10):
        p = tmp_path / f"cut{cut}.pt"
        p.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match="truncated or corrupted") as e:
            load(p)
        assert str(p) in str(e.value)
    flipped = bytearray(data)
    flipped[len(data) // 3] ^= 0xFF                       # inside the array bytes
    p = tmp_path / "flip.pt"
    p.write_bytes(bytes(flipped))
    with pytest.raises(CheckpointError, match="corrupted"):
        load(p)
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        load(tmp_path / "empty.pt")
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        load(tmp_path / "nope.pt")


WRITER = textwrap.dedent("""
    import sys, numpy as np
    from minicv.serialization import save
    path = sys.argv[1]
    big = np.empty(4_000_000, np.float32)
    i = 1
    print("ready", flush=True)
    while True:
        big.fill(i)
        save({"i": i, "w": big, "tail": np.full(10, i)}, path)
        i += 1
""")


def test_sigkill_mid_write_leaves_previous_checkpoint_loadable(tmp_path):
    path = tmp_path / "ckpt.pt"
    save({"i": 0, "w": np.zeros(4_000_000, np.float32), "tail": np.zeros(10, np.int64)}, path)
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = dict(os.environ, PYTHONPATH=os.getcwd() + os.pathsep + os.environ.get("PYTHONPATH",
                                                                                 ""))
    rng = np.random.default_rng(0)
    interrupted, progressed = 0, 0
    for trial in range(4):
        proc = subprocess.Popen([sys.executable, str(script), str(path)], env=env,
                                stdout=subprocess.PIPE)
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(0.1 + rng.uniform(0, 0.4))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        ck = load(path)                                   # never half-written
        assert ck["w"].shape == (4_000_000,)
        assert np.all(ck["w"] == ck["i"]) and np.all(ck["tail"] == ck["i"])
        progressed += ck["i"] > 0
        leftovers = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
        interrupted += bool(leftovers)                    # killed inside a save
        for p in leftovers:
            os.unlink(tmp_path / p)
    assert progressed >= 1 and interrupted >= 1
