"""CIFAR-10/100 python-pickle loaders on tiny fixtures written at test time in the real
formats: Python 2 style pickles (byte-string keys, numpy.core globals, protocol 2) as the
published archives hold, and Python 3 pickles at protocol 2 and the default protocol."""

import os
import pickle
import struct

import numpy as np
import pytest

from rnnedge.data import open_dataset
from rnnedge.data.cifar import load_cifar10, load_cifar100
from rnnedge.data.safe_pickle import load_cifar_pickle
from rnnedge.errors import RnnedgeError


def py2_dumps(obj):
    """Pickle `obj` the way Python 2's cPickle (protocol 2) writes the CIFAR files: str as
    byte strings, numpy arrays through numpy.core.multiarray._reconstruct."""
    out = bytearray(b"\x80\x02")

    def string(data):
        if len(data) < 256:
            out.extend(b"U" + bytes([len(data)]) + data)
        else:
            out.extend(b"T" + struct.pack("<i", len(data)) + data)

    def write(value):
        if isinstance(value, dict):
            out.extend(b"}(")
            for key, item in value.items():
                write(key)
                write(item)
            out.extend(b"u")
        elif isinstance(value, list):
            out.extend(b"](")
            for item in value:
                write(item)
            out.extend(b"e")
        elif isinstance(value, tuple):
            out.extend(b"(")
            for item in value:
                write(item)
            out.extend(b"t")
        elif isinstance(value, bool):
            out.extend(b"\x88" if value else b"\x89")
        elif isinstance(value, int):
            small = 0 <= value < 256
            out.extend(b"K" + bytes([value]) if small else b"J" + struct.pack("<i", value))
        elif isinstance(value, (str, bytes)):
            string(value.encode() if isinstance(value, str) else value)
        elif value is None:
            out.extend(b"N")
        else:  # a uint8 numpy array
            out.extend(b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n")
            write((0,))
            string(b"b")
            out.extend(b"\x87R(")
            write(1)
            write(tuple(value.shape))
            out.extend(b"cnumpy\ndtype\n")
            string(b"u1")
            write(0)
            write(1)
            out.extend(b"\x87R")
            write((3, "|", None, None, None, -1, -1, 0))
            out.extend(b"b")
            write(False)
            string(value.tobytes())
            out.extend(b"tb")

    write(obj)
    out.extend(b".")
    return bytes(out)


def dump(path, obj, style):
    """Write `obj` to `path` as a py2 pickle, or a py3 one at protocol 2 or the default."""
    if style == "py2":
        data = py2_dumps(obj)
    else:
        data = pickle.dumps(obj, protocol=2 if style == "py3-2" else None)
    path.write_bytes(data)


def images_for(labels, rng):
    """Deterministic (N, 3072) uint8 rows for the given labels."""
    return rng.integers(0, 256, (len(labels), 3072), dtype=np.uint8)


def write_cifar100(root, style="py2", n_train=30, n_test=10, seed=0):
    """A cifar-100-python folder like the real one, smaller; returns the raw arrays."""
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    meta = {"fine_label_names": [f"fine{i}" for i in range(100)],
            "coarse_label_names": [f"coarse{i}" for i in range(20)]}
    dump(folder / "meta", meta, style)
    raw = {}
    for name, n in (("train", n_train), ("test", n_test)):
        fine = [int(v) for v in rng.integers(0, 100, n)]
        coarse = [v // 5 for v in fine]
        data = images_for(fine, rng)
        dump(folder / name, {"filenames": [f"img_{i}.png" for i in range(n)],
                             "batch_label": f"{name} batch 1 of 1", "fine_labels": fine,
                             "coarse_labels": coarse, "data": data}, style)
        raw[name] = (data, fine, coarse)
    return folder, raw


def write_cifar10(root, style="py2", per_batch=6, seed=0):
    """A cifar-10-batches-py folder like the real one, smaller; returns the raw arrays."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    dump(folder / "batches.meta", {"num_cases_per_batch": per_batch, "num_vis": 3072,
                                   "label_names": [f"class{i}" for i in range(10)]}, style)
    raw = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        labels = [int(v) for v in rng.integers(0, 10, per_batch)]
        data = images_for(labels, rng)
        dump(folder / name, {"batch_label": name, "labels": labels, "data": data,
                             "filenames": [f"{name}_{i}.png" for i in range(per_batch)]}, style)
        raw[name] = (data, labels)
    return folder, raw


def to_hwc(rows):
    """The CIFAR row layout (R plane, G plane, B plane) as HWC images, computed pixel by pixel."""
    out = np.zeros((len(rows), 32, 32, 3), np.uint8)
    for n, row in enumerate(rows):
        for c in range(3):
            for y in range(32):
                out[n, y, :, c] = row[c * 1024 + y * 32:c * 1024 + y * 32 + 32]
    return out


@pytest.mark.parametrize("style", ["py2", "py3-2", "py3"])
def test_cifar100_reads_all_pickle_styles(tmp_path, style):
    folder, raw = write_cifar100(tmp_path, style)
    train = load_cifar100(folder, "train")
    val = load_cifar100(folder, "val")
    check = load_cifar100(folder, "check")
    data, fine, _ = raw["train"]
    assert len(train) == 27 and len(val) == 3  # val: the last tenth of the train file
    assert np.array_equal(np.concatenate([train.images, val.images]), to_hwc(data))
    assert train.labels.tolist() + val.labels.tolist() == fine
    assert np.array_equal(check.images, to_hwc(raw["test"][0]))
    assert check.labels.tolist() == raw["test"][1]
    assert train.class_names[:2] == ("fine0", "fine1") and train.num_classes == 100
    assert train.augmentation.flip and train.augmentation.crop_pad == 4


def test_cifar100_coarse_labels(tmp_path):
    folder, raw = write_cifar100(tmp_path)
    check = load_cifar100(folder, "check", labels="coarse")
    assert check.num_classes == 20 and check.labels.tolist() == raw["test"][2]


@pytest.mark.parametrize("style", ["py2", "py3"])
def test_cifar10_reads_batches(tmp_path, style):
    folder, raw = write_cifar10(tmp_path, style)
    train = load_cifar10(folder, "train")
    val = load_cifar10(folder, "val")
    check = load_cifar10(folder, "check")
    all_rows = np.concatenate([raw[f"data_batch_{i}"][0] for i in range(1, 6)])
    all_labels = sum((raw[f"data_batch_{i}"][1] for i in range(1, 6)), [])
    assert len(train) + len(val) == 30 and len(val) == 3
    assert np.array_equal(np.concatenate([train.images, val.images]), to_hwc(all_rows))
    assert train.labels.tolist() + val.labels.tolist() == all_labels
    assert check.labels.tolist() == raw["test_batch"][1]
    assert check.class_names == tuple(f"class{i}" for i in range(10))


def test_open_dataset_detects_both_formats(tmp_path):
    write_cifar100(tmp_path / "a")
    write_cifar10(tmp_path / "b")
    assert open_dataset(str(tmp_path / "a"), "check").num_classes == 100
    assert open_dataset(str(tmp_path / "a" / "cifar-100-python") + ":labels=coarse",
                        "test").num_classes == 20
    assert open_dataset(str(tmp_path / "b"), "train").num_classes == 10
    assert len(open_dataset(str(tmp_path / "b") + ":n=4", "train")) == 4
    with pytest.raises(RnnedgeError, match="CIFAR-100 only"):
        open_dataset(str(tmp_path / "b") + ":labels=coarse", "train")


def test_cifar_resized_to_model_input(tmp_path):
    write_cifar10(tmp_path)
    check = open_dataset(str(tmp_path), "check", image_shape=(1, 16, 16))
    assert check.images.shape == (6, 16, 16, 1)


def test_truncated_file_rejected(tmp_path):
    folder, _ = write_cifar100(tmp_path)
    data = (folder / "train").read_bytes()
    (folder / "train").write_bytes(data[:len(data) // 2])
    with pytest.raises(RnnedgeError, match="not a readable CIFAR pickle"):
        load_cifar100(folder, "train")


def test_garbage_file_rejected(tmp_path):
    folder, _ = write_cifar100(tmp_path)
    (folder / "meta").write_bytes(b"this is not a pickle\n")
    with pytest.raises(RnnedgeError, match="meta"):
        open_dataset(str(tmp_path), "train")


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(data=np.zeros((30, 3071), np.uint8)), "N x 3072 uint8"),
    (lambda d: d.update(data=np.zeros((30, 3072), np.float32)), "N x 3072 uint8"),
    (lambda d: d.update(fine_labels=d["fine_labels"][:-1]), "expected 30 labels"),
    (lambda d: d.update(fine_labels=[100] * 30), r"must lie in \[0, 100\)"),
    (lambda d: d.pop("data"), "'data' must be"),
])
def test_malformed_batches_rejected(tmp_path, change, message):
    folder, raw = write_cifar100(tmp_path, "py3")
    batch = pickle.loads((folder / "train").read_bytes())
    change(batch)
    (folder / "train").write_bytes(pickle.dumps(batch))
    with pytest.raises(RnnedgeError, match=message):
        load_cifar100(folder, "train")


def test_wrong_meta_and_missing_batch_rejected(tmp_path):
    folder, _ = write_cifar10(tmp_path, "py3")
    (folder / "data_batch_3").unlink()
    with pytest.raises(RnnedgeError, match="missing CIFAR-10 batch file data_batch_3"):
        load_cifar10(folder, "train")
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": ["a", "b"]}))
    with pytest.raises(RnnedgeError, match="expected 10 names"):
        load_cifar10(folder, "check")


def test_batch_size_disagreeing_with_meta_rejected(tmp_path):
    folder, raw = write_cifar10(tmp_path, "py3")
    batch = pickle.loads((folder / "test_batch").read_bytes())
    batch["data"], batch["labels"] = batch["data"][:4], batch["labels"][:4]
    (folder / "test_batch").write_bytes(pickle.dumps(batch))
    with pytest.raises(RnnedgeError, match="batches.meta says 6"):
        load_cifar10(folder, "check")


class _Exploit:
    """Unpickling this object would run a shell command."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def test_malicious_pickle_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    folder, _ = write_cifar100(tmp_path, "py3")
    batch = pickle.loads((folder / "train").read_bytes())
    batch["batch_label"] = _Exploit(f"touch {marker}")
    (folder / "train").write_bytes(pickle.dumps(batch, protocol=2))
    with pytest.raises(RnnedgeError, match=r"references (posix|os)\.system.*refused"):
        load_cifar100(folder, "train")
    assert not marker.exists()


@pytest.mark.parametrize("module, name", [("builtins", "eval"), ("subprocess", "Popen"),
                                          ("numpy", "load"), ("builtins", "getattr")])
def test_other_globals_refused(tmp_path, module, name):
    path = tmp_path / "batch"
    path.write_bytes(b"\x80\x02c" + f"{module}\n{name}\n".encode() + b"U\x011\x85R.")
    with pytest.raises(RnnedgeError, match=f"references {module}.{name}"):
        load_cifar_pickle(path)


def test_codec_other_than_latin1_refused(tmp_path):
    path = tmp_path / "batch"
    path.write_bytes(b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x06\x00\x00\x00base64\x86R.")
    with pytest.raises(RnnedgeError, match="codec 'base64'"):
        load_cifar_pickle(path)


def test_non_dict_pickle_rejected(tmp_path):
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(RnnedgeError, match="expected a dict"):
        load_cifar_pickle(path)
