"""Representational structure: distance matrices, their theory (Eq. 10-11 per pair) and the measures of
Sec. 4 (XOR merging, feature collapse on the blobs).

All distances here are Euclidean (not squared) unless a name ends in ``2``. Hidden activations ``H`` are
arrays (points × units).
"""
from __future__ import annotations

import numpy as np

from reptheory import validate as _v
from reptheory.theory import ode as _th

__all__ = ["distances", "predicted_distances", "pair_ratios", "relative_change", "within_context_ratio",
           "eta_squared", "merge_ratio", "participation_ratio", "mds", "eq50_prediction", "eq50_direct",
           "class_pair_means", "compare_matrices"]


def _points(name: str, H) -> np.ndarray:
    H = np.asarray(H, dtype=float)
    if H.ndim != 2 or H.shape[0] < 2 or not np.all(np.isfinite(H)):
        raise ValueError(f"{name} must be a finite 2-D array (points × units) with >= 2 points, got shape "
                         f"{H.shape}")
    return H


def distances(H) -> np.ndarray:
    """Pairwise Euclidean distances ``||h_i − h_j||`` of the rows of ``H``."""
    H = _points("H", H)
    sq = np.sum(H**2, axis=1)
    return np.sqrt(np.clip(sq[:, None] + sq[None, :] - 2.0 * H @ H.T, 0.0, None)) * (1 - np.eye(len(H)))


def predicted_distances(h2_0, y2_0, dx2, dy2, eta_h: float, eta_y: float) -> np.ndarray:
    """The theory's final distance matrix ``sqrt(h_inf)`` (Eq. 10-11 for every pair, paper Sec. 4.4).

    Arguments are square matrices over the points: the network's initial squared hidden distances ``h2_0``
    and output distances ``y2_0``, and the data's squared input and target distances ``dx2``, ``dy2``. Each
    off-diagonal pair is an independent two-point system with the shared rates ``eta_h``, ``eta_y``; the
    diagonal is 0."""
    mats = [np.asarray(m, dtype=float) for m in (h2_0, y2_0, dx2, dy2)]
    n = mats[0].shape[0]
    for name, m in zip(("h2_0", "y2_0", "dx2", "dy2"), mats):
        if m.shape != (n, n):
            raise ValueError(f"{name} must be a square matrix of shape {(n, n)}, got {m.shape}")
    iu = np.triu_indices(n, 1)
    h = _th.h_inf(*(m[iu] for m in mats[:2]), eta_h, eta_y, *(m[iu] for m in mats[2:]))
    out = np.zeros((n, n))
    out[iu] = np.sqrt(h)
    return out + out.T


def pair_ratios(D, Y) -> dict[tuple[int, int], float]:
    """For every pair with the same target: its distance over the mean distance of the pairs with
    different targets (Sec. 4.4's merging measure; 0 = merged)."""
    D = np.asarray(D, dtype=float)
    Y = np.asarray(Y, dtype=float).reshape(len(D), -1)
    n = len(D)
    same = [(i, j) for i in range(n) for j in range(i + 1, n) if np.allclose(Y[i], Y[j])]
    diff = [(i, j) for i in range(n) for j in range(i + 1, n) if not np.allclose(Y[i], Y[j])]
    if not same or not diff:
        raise ValueError("pair_ratios needs pairs with equal and pairs with different targets")
    ref = np.mean([D[p] for p in diff])
    return {p: float(D[p] / ref) for p in same}


def relative_change(D_end, D_0) -> tuple[float, float]:
    """``(||D_end − D_0||_F / ||D_0||_F, max_ij |D_end − D_0|_ij / D_0,ij)`` over the off-diagonal entries."""
    D_end, D_0 = np.asarray(D_end, dtype=float), np.asarray(D_0, dtype=float)
    off = ~np.eye(len(D_0), dtype=bool)
    return (float(np.linalg.norm(D_end - D_0) / np.linalg.norm(D_0)),
            float(np.max(np.abs(D_end - D_0)[off] / D_0[off])))


def _contexts(H, context, relevant):
    H = _points("H", H)
    context, relevant = np.asarray(context), np.asarray(relevant)
    if context.shape != (len(H),) or relevant.shape != (len(H),):
        raise ValueError(f"context and relevant must have one entry per point ({len(H)})")
    return H, context, relevant


def within_context_ratio(H, context, relevant) -> dict[int, float]:
    """Per context: mean distance between points with the same relevant value over the mean distance between
    points with different relevant values (Sec. 4.5: ≈ 0 when the irrelevant feature has collapsed)."""
    H, context, relevant = _contexts(H, context, relevant)
    out = {}
    for c in np.unique(context):
        m = context == c
        D, r = distances(H[m]), relevant[m]
        same = (r[:, None] == r[None, :]) & ~np.eye(m.sum(), dtype=bool)
        out[int(c)] = float(D[same].mean() / D[r[:, None] != r[None, :]].mean())
    return out


def eta_squared(H, context, relevant) -> dict[int, float]:
    """Per context: the share of the within-context variance of ``H`` explained by the relevant value
    (between-group sum of squares over total sum of squares, groups = equal relevant value)."""
    H, context, relevant = _contexts(H, context, relevant)
    out = {}
    for c in np.unique(context):
        Hc, r = H[context == c], relevant[context == c]
        mu = Hc.mean(axis=0)
        total = np.sum((Hc - mu) ** 2)
        between = sum(np.sum(r == v) * np.sum((Hc[r == v].mean(axis=0) - mu) ** 2) for v in np.unique(r))
        out[int(c)] = float(between / total)
    return out


def merge_ratio(H, context, relevant) -> float:
    """Distance between the two contexts' lines (App. C.2): for every relevant value ``v``, the distance
    between the centroid of context 0's points with relevant value ``v`` and that of context 1's; their
    mean over ``v``, divided by the line length (distance between the centroids at the smallest and largest
    ``v``, averaged over the two contexts). 0 when the two lines coincide."""
    H, context, relevant = _contexts(H, context, relevant)
    values = np.unique(relevant)
    cent = {(c, v): H[(context == c) & (relevant == v)].mean(axis=0) for c in (0, 1) for v in values}
    gap = np.mean([np.linalg.norm(cent[0, v] - cent[1, v]) for v in values])
    length = np.mean([np.linalg.norm(cent[c, values[-1]] - cent[c, values[0]]) for c in (0, 1)])
    return float(gap / length)


def participation_ratio(H) -> float:
    """``(Σλ)² / Σλ²`` of the covariance eigenvalues of ``H``: the effective number of dimensions."""
    H = _points("H", H)
    lam = np.clip(np.linalg.eigvalsh(np.cov(H.T)), 0.0, None)
    return float(lam.sum() ** 2 / np.sum(lam**2))


def mds(H, k: int = 3) -> np.ndarray:
    """Classical (Torgerson) MDS of the Euclidean distances of ``H`` to ``k`` dimensions: the top-``k``
    eigenvectors of the doubly centred Gram matrix ``Hc Hc^T`` scaled by the square roots of their
    eigenvalues, computed as the SVD ``Hc = U S V^T`` (coordinates ``U_k S_k``, i.e. PCA of the centred
    activations). Each axis' sign is fixed so that its largest-magnitude coordinate is positive."""
    H = _points("H", H)
    k = _v.integer("k", k, 1, min(H.shape))
    U, S, _ = np.linalg.svd(H - H.mean(axis=0), full_matrices=False)
    Z = U[:, :k] * S[:k]
    sign = np.sign(Z[np.argmax(np.abs(Z), axis=0), np.arange(k)])
    return Z * np.where(sign == 0, 1.0, sign)


def eq50_prediction(images, labels, balanced: bool = False, chunk: int = 2048) -> np.ndarray:
    """Eq. 50 as the authors code it: ``pred = exp(−A) A exp(−A)`` with ``A = D_x ∘ D_y`` (elementwise),
    ``D_x`` the Euclidean distances of the raw images (0–255 pixels), ``D_y`` those of the one-hot labels
    (0 or √2); returns the class-pair matrix ``P[a, b]`` (10 × 10) with ``pred[i, j] = P[label_i, label_j]``.

    On raw pixels every different-class entry of ``A`` is far above 745, where ``exp`` underflows to exactly
    0, so ``exp(−A)`` is exactly the same-class indicator and ``pred[i, j] = Σ_{k∈c(i), l∈c(j)} A[k, l]``:
    zero within a class, √2 × the summed pixel distance between the two classes otherwise. This function
    computes those sums in blocks (O(N²) memory-free instead of the O(N³) product) and raises if the
    underflow condition does not hold. ``balanced=True`` divides each class pair's sum by ``n_a n_b`` (the
    mean instead of the sum: the sum scales with the class counts, which the paper's formula does not
    intend)."""
    X = np.asarray(images, dtype=np.float64)
    y = np.asarray(labels)
    if X.ndim != 2 or y.shape != (len(X),):
        raise ValueError(f"images must be (N, pixels) and labels (N,), got {X.shape} and {y.shape}")
    classes = np.unique(y)
    sq = np.sum(X**2, axis=1)
    n = len(classes)
    P = np.zeros((n, n))
    smallest = np.inf
    for ia, a in enumerate(classes):
        ka = np.flatnonzero(y == a)
        for ib in range(ia + 1, n):
            kb = np.flatnonzero(y == classes[ib])
            total = 0.0
            for s in range(0, len(ka), chunk):
                rows = ka[s:s + chunk]
                d = np.sqrt(np.clip(sq[rows, None] + sq[None, kb] - 2.0 * X[rows] @ X[kb].T, 0.0, None))
                total += d.sum()
                smallest = min(smallest, d.min())
            P[ia, ib] = P[ib, ia] = np.sqrt(2.0) * total / (len(ka) * len(kb) if balanced else 1.0)
    if not np.sqrt(2.0) * smallest > 745.2:
        raise ValueError(f"exp(-A) is not the same-class indicator here (smallest different-class A = "
                         f"{np.sqrt(2.0) * smallest:.3g} <= 745.2): use the direct formula, eq50_direct")
    return P


def eq50_direct(images, labels) -> np.ndarray:
    """Eq. 50 by the literal formula ``exp(−A) A exp(−A)`` (N × N; O(N³), for small N and for tests)."""
    X = np.asarray(images, dtype=np.float64)
    Dy = distances(np.eye(int(np.max(labels)) + 1)[np.asarray(labels)])
    A = distances(X) * Dy
    E = np.exp(-A)
    return E @ A @ E


def class_pair_means(M, labels) -> np.ndarray:
    """Mean of the off-diagonal entries of ``M`` over each pair of classes (a 10 × 10 matrix for MNIST;
    the diagonal blocks exclude ``M[i, i]``)."""
    M = np.asarray(M, dtype=float)
    y = np.asarray(labels)
    classes = np.unique(y)
    out = np.zeros((len(classes), len(classes)))
    off = ~np.eye(len(y), dtype=bool)
    for ia, a in enumerate(classes):
        for ib, b in enumerate(classes):
            mask = np.outer(y == a, y == b) & off
            out[ia, ib] = M[mask].mean() if mask.any() else np.nan
    return out


def compare_matrices(pred, net, labels) -> dict:
    """Pearson correlations between a predicted and a measured distance matrix over the same points:
    over all off-diagonal pairs ``i < j``, over the different-class pairs only, and over the class-pair
    means (:func:`class_pair_means`, the 45 pairs ``a < b`` for 10 classes), with that last one's two-sided
    p-value (``scipy.stats.pearsonr``)."""
    from scipy.stats import pearsonr
    pred, net, y = np.asarray(pred, float), np.asarray(net, float), np.asarray(labels)
    if pred.shape != net.shape or pred.shape != (len(y), len(y)):
        raise ValueError(f"pred and net must both be ({len(y)}, {len(y)}), got {pred.shape} and {net.shape}")
    iu = np.triu_indices(len(y), 1)
    between = (y[:, None] != y[None, :])[iu]
    cp, cn = class_pair_means(pred, y), class_pair_means(net, y)
    ju = np.triu_indices(len(cp), 1)
    r_class, p_class = pearsonr(cp[ju], cn[ju])
    return {"r all pairs": float(np.corrcoef(pred[iu], net[iu])[0, 1]),
            "r different-class pairs": float(np.corrcoef(pred[iu][between], net[iu][between])[0, 1]),
            "r class-pair means": float(r_class), "p class-pair means": float(p_class)}
