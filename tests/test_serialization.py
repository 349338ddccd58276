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
from collections import OrderedDict

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
    for trial in range(20):             # until a kill has landed inside a save (usually 1-4)
        if interrupted and progressed:
            break
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


# ----------------------------------------------------------------------------- PyTorch users

def test_tensors_over_the_same_memory_are_stored_once_and_shared_after_load():
    """As torch.save: tied weights and a tensor saved twice keep sharing memory. A view of
    part of another tensor is stored as a copy of its own (torch would keep the view)."""
    w = mc.randn(1000)
    obj = {"a": w, "b": w, "c": w.detach(), "arr": w.data, "part": w[2:], "other": mc.ones(3)}
    buf = io.BytesIO()
    save(obj, buf)
    buf.seek(0)
    assert len(load_metadata(buf)["arrays"]) == 3          # w, w[2:], ones
    buf.seek(0)
    back = load(buf)
    assert back["a"].data is back["b"].data is back["c"].data is back["arr"]
    assert back["a"] is not back["b"]                        # own Tensor, own requires_grad
    back["a"].add_(1.0)                                      # seen through every alias...
    assert back["c"].data[0] == w.data[0] + 1 and back["b"]._version == 1
    assert back["part"].data[0] == w.data[2]                 # ... but not by the copy
    np.testing.assert_array_equal(back["other"].data, [1, 1, 1])


def test_state_dict_comes_back_as_an_ordered_dict(tmp_path):
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    save({"model": model.state_dict(), "plain": {"b": 1, "a": 2}}, tmp_path / "m.pt")
    back = load(tmp_path / "m.pt")
    assert type(back["model"]) is OrderedDict and list(back["model"]) == list(
        model.state_dict())
    assert type(back) is dict and type(back["plain"]) is dict
    assert list(back["plain"]) == ["b", "a"]


def test_map_location_forms_on_the_cpu():
    buf = io.BytesIO()
    save({"w": mc.ones(2, requires_grad=True), "n": np.zeros(2)}, buf)
    for where in (None, "cpu", mc.device("cpu"), {"cuda:0": "cpu"}, {"cpu": "cpu"}):
        buf.seek(0)
        back = load(buf, map_location=where)
        assert back["w"].device == "cpu" and back["w"].requires_grad and back["w"].is_leaf
    seen = []
    buf.seek(0)
    back = load(buf, map_location=lambda t, loc: seen.append((t.shape, loc)) or t * 2)
    assert seen == [((2,), "cpu")]                          # tensors only, not ndarrays
    np.testing.assert_array_equal(back["w"].data, [2, 2])
    assert back["w"].requires_grad and back["w"].is_leaf
    for bad in (3, [("cpu", "cuda")]):
        buf.seek(0)
        with pytest.raises(TypeError, match="map_location must be"):
            load(buf, map_location=bad)
    buf.seek(0)
    with pytest.raises(TypeError, match="pickle_module"):
        load(buf, "cpu", pickle)


def test_torch_save_and_load_keywords_are_accepted(tmp_path):
    path = tmp_path / "k.pt"
    save({"w": mc.ones(2)}, path, pickle_protocol=4, _use_new_zipfile_serialization=True)
    back = load(path, map_location="cpu", weights_only=True, mmap=True)
    assert back["w"].shape == (2,)
    assert load(str(path), weights_only=False)["w"].shape == (2,)     # still no pickle
    with pytest.raises(TypeError, match="not torch.save's pickle_module"):
        save({"w": 1}, path, pickle)                       # torch.save(obj, f, pickle)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_new_checkpoints_get_the_umask_mode_and_overwrites_keep_theirs(tmp_path):
    old = os.umask(0o022)
    try:
        path = tmp_path / "perm.pt"
        save({"w": 1}, path)
        assert (os.stat(path).st_mode & 0o777) == 0o644      # mkstemp would give 0o600
        os.chmod(path, 0o640)
        save({"w": 2}, path)
        assert (os.stat(path).st_mode & 0o777) == 0o640 and load(path)["w"] == 2
    finally:
        os.umask(old)


class _Stream:
    """A readable stream that cannot seek (a pipe, a socket, an HTTP response)."""

    def __init__(self, data):
        self._buf = io.BytesIO(data)

    def read(self, n=-1):
        return self._buf.read(n)


def test_file_objects_read_from_their_position_without_seeking(tmp_path):
    buf = io.BytesIO()
    save({"w": mc.arange(3)}, buf)
    data = buf.getvalue()
    np.testing.assert_array_equal(load(_Stream(data))["w"].data, [0, 1, 2])
    two = io.BytesIO()
    two.write(b"header")
    save({"w": mc.arange(4)}, two)
    two.seek(6)
    np.testing.assert_array_equal(load(two)["w"].data, [0, 1, 2, 3])
    (tmp_path / "t.pt").write_bytes(data)
    with open(tmp_path / "t.pt") as text, pytest.raises(TypeError, match="'rb'"):
        load(text)


def test_load_metadata_and_malformed_structure_raise_checkpoint_errors(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"PK\x03\x04 definitely not a zip")
    with pytest.raises(CheckpointError, match="truncated or corrupted"):
        load_metadata(bad)
    with pytest.raises(CheckpointError, match="not a minicv checkpoint"):
        np.savez(tmp_path / "plain.npz", x=np.zeros(2))
        load_metadata(tmp_path / "plain.npz")
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        load_metadata(tmp_path / "missing.pt")
    for structure in ({"tensor": ["a0"]}, {"tensor": "a9"}, {"dict": [[{"dict": []}, 1]]},
                      {"dict": [["k"]]}, {"float": "big"}):
        meta = {"format": "minicv-checkpoint", "format_version": 1, "metadata": {},
                "arrays": {}, "structure": structure}
        path = tmp_path / "s.pt"
        with zipfile.ZipFile(path, "w") as z:
            out = io.BytesIO()
            np.lib.format.write_array(out, np.frombuffer(json.dumps(meta).encode(), np.uint8))
            z.writestr("__minicv__.npy", out.getvalue())
        with pytest.raises(CheckpointError, match="cannot load checkpoint"):
            load(path)


GPU_ROUND_TRIP = textwrap.dedent("""
    import io, minicv as mc
    from minicv.serialization import save, load, load_metadata
    w = mc.arange(4.0, device="cuda").requires_grad_()
    buf = io.BytesIO()
    save({"w": w, "tied": w.detach(), "c": mc.ones(2)}, buf)
    buf.seek(0)
    assert load_metadata(buf)["arrays"]["a0"]["device"] == "cuda:0"
    buf.seek(0)
    back = load(buf)                                    # default: the CPU
    assert back["w"].device == "cpu" and back["w"].requires_grad
    assert back["w"].data is back["tied"].data
    for where in ("cuda", "cuda:0", mc.device("cuda"), lambda t, loc: t.cuda()):
        buf.seek(0)
        back = load(buf, map_location=where)
        assert back["w"].device.type == "cuda" and back["c"].device.type == "cuda"
        assert back["w"].requires_grad and back["w"].is_leaf
        assert back["w"].data.get().tolist() == [0, 1, 2, 3]
    buf.seek(0)
    back = load(buf, map_location={"cuda:0": "cuda:0"})  # only what came from the GPU
    assert back["w"].device.type == "cuda" and back["c"].device == "cpu"
    print("ok")
""")


def test_gpu_tensors_round_trip_on_the_emulator(tmp_path):
    """Saved from a GPU (CuPy emulator): the device is recorded, ``mc.load`` gives CPU
    tensors, ``map_location`` puts them on a GPU."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    emulator = os.path.join(root, "tests", "gpu", "emulator")
    if not os.path.isdir(emulator):
        pytest.skip("no CuPy emulator")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([emulator, root]),
               CUPY_EMULATOR_CACHE=str(tmp_path / "kernels"))
    out = subprocess.run([sys.executable, "-c", GPU_ROUND_TRIP], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr[-3000:]


def test_behaves_like_torch_save_and_load_on_what_pytorch_users_save():
    """The same checkpoint through torch.save/torch.load and mc.save/mc.load: types,
    dtypes, requires_grad flags, OrderedDict, int keys and memory sharing agree."""
    torch = pytest.importorskip("torch")

    def build(lib, tensor, param):
        lin_w = param(tensor(np.arange(6, dtype=np.float32).reshape(2, 3)))
        sd = OrderedDict([("w", lin_w.detach()), ("tied", lin_w.detach()),
                          ("steps", tensor(np.array(5))),
                          ("half", tensor(np.ones(2, np.float16))),
                          ("mask", tensor(np.array([True, False]))),
                          ("t", tensor(np.arange(6.0).reshape(2, 3)).T)])
        opt = {"state": {0: {"step": 3.0, "exp_avg": tensor(np.zeros(2, np.float32))}},
               "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "foreach": None,
                                 "amsgrad": False, "params": [0]}]}
        return {"model": sd, "optimizer": opt, "epoch": 3, "name": "run",
                "leaf": tensor(np.ones(2, np.float32)).requires_grad_(), "pair": [lin_w]}

    t_obj = build(torch, torch.tensor, torch.nn.Parameter)
    m_obj = build(mc, mc.tensor, nn.Parameter)
    tbuf, mbuf = io.BytesIO(), io.BytesIO()
    torch.save(t_obj, tbuf)
    save(m_obj, mbuf)
    tbuf.seek(0)
    mbuf.seek(0)
    t_back, m_back = torch.load(tbuf, weights_only=True), load(mbuf)
    assert type(t_back["model"]) is type(m_back["model"]) is OrderedDict
    for key, t in t_back["model"].items():
        m = m_back["model"][key]
        assert str(t.dtype).split(".")[1] == m.dtype.name and tuple(t.shape) == m.shape
        np.testing.assert_array_equal(t.numpy(), m.data)
        assert t.requires_grad is m.requires_grad is False
    t_shared = t_back["model"]["w"].data_ptr() == t_back["model"]["tied"].data_ptr()
    assert t_shared and m_back["model"]["w"].data is m_back["model"]["tied"].data
    t_opt, m_opt = t_back["optimizer"], m_back["optimizer"]
    assert t_opt["param_groups"] == m_opt["param_groups"] and 0 in m_opt["state"]
    assert t_opt["state"][0]["step"] == m_opt["state"][0]["step"] == 3.0
    assert t_back["leaf"].requires_grad and m_back["leaf"].requires_grad
    assert t_back["pair"][0].requires_grad and m_back["pair"][0].requires_grad
    assert (t_back["epoch"], t_back["name"]) == (m_back["epoch"], m_back["name"])
