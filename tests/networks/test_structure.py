"""Distance matrices, the per-pair theory matrix and the Sec. 4.5 measures, on constructed examples."""
import numpy as np
import pytest

from reptheory import theory
from reptheory.networks import data, structure


def test_distances_are_euclidean_with_zero_diagonal():
    H = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]])
    D = structure.distances(H)
    assert np.allclose(D, [[0, 5, 1], [5, 0, np.sqrt(18)], [1, np.sqrt(18), 0]])


def test_predicted_distances_match_eq10_pair_by_pair():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, 3))
    dx2 = structure.distances(X) ** 2
    dy2 = np.array([[0, 1, 1, 0], [1, 0, 0, 1], [1, 0, 0, 1], [0, 1, 1, 0]], float)
    h2_0 = structure.distances(rng.normal(size=(4, 5))) ** 2
    y2_0 = structure.distances(rng.normal(size=(4, 1)) * 0.1) ** 2
    D = structure.predicted_distances(h2_0, y2_0, dx2, dy2, 1e-3, 5e-2)
    assert np.allclose(np.diag(D), 0) and np.allclose(D, D.T)
    for i, j in ((0, 1), (1, 2), (0, 3)):
        assert D[i, j] == pytest.approx(np.sqrt(theory.h_inf(h2_0[i, j], y2_0[i, j], 1e-3, 5e-2, dx2[i, j],
                                                             dy2[i, j])))


def test_predicted_distances_rejects_bad_shapes():
    with pytest.raises(ValueError, match="y2_0"):
        structure.predicted_distances(np.ones((3, 3)), np.ones((2, 2)), np.ones((3, 3)), np.ones((3, 3)), 1, 1)


def test_pair_ratios_and_relative_change():
    X, Y = data.xor()
    D = structure.distances(np.array([[0.0], [1.0], [1.1], [0.05]]))
    r = structure.pair_ratios(D, Y)
    assert set(r) == {(0, 3), (1, 2)}
    ref = np.mean([D[0, 1], D[0, 2], D[1, 3], D[2, 3]])
    assert r[(0, 3)] == pytest.approx(0.05 / ref) and r[(1, 2)] == pytest.approx(0.1 / ref)
    frob, entry = structure.relative_change(D * 1.02, D)
    assert frob == pytest.approx(0.02) and entry == pytest.approx(0.02)


def test_blob_measures_on_collapsed_and_grid_representations():
    b = data.blobs(n_centres=6)
    collapsed = np.stack([b.relevant, b.context * 3.0], axis=1)        # two lines, one per context
    grid = np.stack([b.mu_x, b.mu_y, b.context * 3.0], axis=1)          # keeps both features
    merged = np.stack([b.relevant, np.zeros_like(b.relevant)], axis=1)  # one line
    rc, rg = structure.within_context_ratio(collapsed, b.context, b.relevant), \
        structure.within_context_ratio(grid, b.context, b.relevant)
    assert rc == {0: 0.0, 1: 0.0} and all(v > 0.5 for v in rg.values())
    ec, eg = structure.eta_squared(collapsed, b.context, b.relevant), structure.eta_squared(grid, b.context, b.relevant)
    assert all(v == pytest.approx(1.0) for v in ec.values()) and all(v == pytest.approx(0.5) for v in eg.values())
    assert structure.merge_ratio(merged, b.context, b.relevant) == pytest.approx(0.0, abs=1e-12)
    assert structure.merge_ratio(collapsed, b.context, b.relevant) == pytest.approx(1.5)
    assert structure.participation_ratio(collapsed[b.context == 0]) == pytest.approx(1.0)


def test_mds_recovers_distances_of_low_dimensional_data():
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(50, 3)) * [3.0, 2.0, 1.0]
    H = Z @ np.linalg.qr(rng.normal(size=(10, 10)))[0][:3]
    Y = structure.mds(H, 3)
    assert np.allclose(structure.distances(Y), structure.distances(H), atol=1e-9)
    with pytest.raises(ValueError, match="k must be"):
        structure.mds(H, 0)


def test_blobs_dataset_matches_the_paper():
    b = data.blobs()
    assert b.X.shape == (1800, 27) and b.Y.shape == (1800, 1)
    assert np.allclose(b.X[:, :25].sum(axis=1), 1.0, atol=1e-6)
    assert np.array_equal(b.X[:, 25:], np.eye(2)[b.context])
    assert np.allclose(b.Y[:, 0], np.where(b.context == 0, b.mu_x, b.mu_y))
    assert len(np.unique(b.mu_x)) == 30 and b.mu_x.min() == -1 and b.mu_x.max() == 1
    # the blob moves with its centre: the brightest pixel of the centre (-1, 1) is the top-right corner
    k = np.flatnonzero((b.mu_x == 1) & (b.mu_y == -1) & (b.context == 0))[0]
    img = b.X[k, :25].reshape(5, 5)
    assert np.unravel_index(np.argmax(img), img.shape) == (0, 4)
    with pytest.raises(ValueError, match="n_centres"):
        data.blobs(n_centres=1)


def test_eq50_class_sums_equal_the_literal_formula():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 4, size=40)
    images = rng.integers(0, 256, size=(40, 30)).astype(np.uint8) + (labels[:, None] * 60).astype(np.uint8)
    images = np.clip(images.astype(int) * 4, 0, 255 * 4)               # far apart classes: exp(-A) underflows
    P = structure.eq50_prediction(images, labels)
    D = structure.eq50_direct(images, labels)
    np.testing.assert_allclose(P[labels[:, None], labels[None, :]], D, rtol=1e-10)
    n = np.bincount(labels)
    Pb = structure.eq50_prediction(images, labels, balanced=True)
    np.testing.assert_allclose(Pb * np.outer(n, n) * (1 - np.eye(4)), P, rtol=1e-12)
    with pytest.raises(ValueError, match="not the same-class indicator"):
        structure.eq50_prediction(images / 1000.0, labels)


def test_compare_matrices_and_class_pair_means():
    labels = np.repeat(np.arange(3), 4)
    M = np.add.outer(labels, labels).astype(float) * (labels[:, None] != labels[None, :])
    cp = structure.class_pair_means(M, labels)
    assert cp[0, 1] == 1 and cp[1, 2] == 3 and cp[0, 0] == 0
    s = structure.compare_matrices(M, 2 * M + 1, labels)
    assert s["r all pairs"] == pytest.approx(1.0) and s["r class-pair means"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="must both be"):
        structure.compare_matrices(M, M[:3, :3], labels)
