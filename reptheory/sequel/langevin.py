r"""Weight sharing read as Bayesian inference: Langevin samples of the posterior of an RNN and of its unrolled DNN
(the setting the abstract of arXiv:2602.15593 names; its own definitions were not available to us).

Networks in mean-field (μP) scaling, ``N`` tanh units, ``T`` steps, ``P`` one-hot inputs fed at the first step:

.. math::

   h_1 = \tanh(U x),

   h_t = \tanh(W_t h_{t-1} / \sqrt{N}) \quad (t = 2, \dots, T),

   f_t = v \cdot h_t / N,

with ``W_t = W`` for the RNN and independent ``W_2 … W_T`` for the DNN. The posterior has the energy (its negative
log density up to a constant)

.. math::

   E = \frac{sN}{2} \mathcal{L} + \frac{|U|^2}{2} + \frac{|v|^2}{2} + \sum_t \frac{|W_t|^2}{2 g^2},

   \mathcal{L} = \operatorname{mean}_{t \in S,\, \mu} \left(f_t(x_\mu) - y_t(\mu)\right)^2,

Gaussian priors (``U``, ``v`` entries N(0, 1), ``W`` entries N(0, g²)) and the loss over the supervised steps
``S`` at temperature ``1/(sN)``: ``s`` is the signal, the loss's weight against the prior per unit. Unadjusted
Langevin dynamics samples it: ``θ ← θ − ε ∇E + √(2ε) ξ``, ξ standard normal. Many chains (signals) of one
network, width and seed run as one batched model.

Order parameter: the **cross-time overlap**, the mean over pairs ``2 ≤ t < t′ ≤ T`` of ``|Q_{tt′}|``,

.. math::

   Q_{tt'} = \frac{\sum_\mu \tilde h_t(x_\mu) \cdot \tilde h_{t'}(x_\mu)}
                  {\sqrt{\sum_\mu |\tilde h_t(x_\mu)|^2 \sum_\mu |\tilde h_{t'}(x_\mu)|^2}},

``h̃`` centred over the inputs: how far each input's representation at one step is the same vector, neuron by
neuron, as at another. Beside it, the linear CKA of the steps' kernels ``K_t = h̃_t h̃_tᵀ``, which compares the
kernels but not which neuron carries what (blind to a rotation of the units).
"""
from __future__ import annotations

import numpy as np
import torch

from reptheory import cache
from reptheory.configs.sharing import SharingSetting

__all__ = ["targets", "sample"]

def targets(st: SharingSetting) -> np.ndarray:
    """The targets ``y_t(μ)``, shape ``(T, P)``: ±1 labels at the last step (``endpoint``; drawn once, the same for
    every seed; zero elsewhere) or ``sin(ω(t − 1) + 2πμ/P)`` at every step (``sequence``).

    >>> from reptheory.configs.sharing import SHARING_INTERPOLATION
    >>> targets(SHARING_INTERPOLATION).shape
    (8, 8)
    """
    T, P = st.time_steps, st.patterns
    if st.task == "sequence":
        return np.sin(st.omega * np.arange(T)[:, None] + 2 * np.pi * np.arange(P)[None, :] / P).astype(np.float32)
    y = np.zeros((T, P), np.float32)
    y[-1] = np.where(np.random.default_rng(12345).random(P) < 0.5, -1.0, 1.0)
    return y


def _observe(hs: list, Y: torch.Tensor, f: torch.Tensor, mask: torch.Tensor) -> dict:
    """The observables of one sample of every chain (``hs``: the steps' states, each ``(chains, N, P)``)."""
    hc = [h - h.mean(2, keepdim=True) for h in hs]
    sq = [(h ** 2).sum((1, 2)) for h in hc]
    K = [torch.einsum("rnp,rnq->rpq", h, h) for h in hc]
    Kn = [k.flatten(1).norm(dim=1) for k in K]
    overlap, cka = [], []
    for a in range(1, len(hs)):
        for b in range(a + 1, len(hs)):
            overlap.append(((hc[a] * hc[b]).sum((1, 2)) / torch.sqrt(sq[a] * sq[b])).abs())
            cka.append((K[a] * K[b]).sum((1, 2)) / (Kn[a] * Kn[b]))
    err = ((f - Y) ** 2).mean(2)                                       # (chains, T)
    yy = torch.outer(Y[-1], Y[-1])
    return {"loss": (err * mask).sum(1) / mask.sum(), "overlap": torch.stack(overlap).mean(0),
            "cka": torch.stack(cka).mean(0),
            "alignment": (K[-1] * yy).sum((1, 2)) / (Kn[-1] * yy.norm()),
            "step_error": err / (Y ** 2).mean(1).clamp_min(1e-12)}


def _top_eig(w: torch.Tensor, n: int) -> np.ndarray:
    """Largest absolute eigenvalue of each chain's ``W/√N`` (the largest over its layers); NaN for a chain that
    diverged."""
    m = w.detach().numpy().astype(np.float64) / np.sqrt(n)
    out = np.full(m.shape[0], np.nan)
    for r in range(m.shape[0]):
        if np.isfinite(m[r]).all():
            out[r] = max(np.abs(np.linalg.eigvals(layer)).max() for layer in m[r])
    return out


def _run(st: SharingSetting, shared: bool, width: int, seed: int) -> dict:
    torch.set_num_threads(1)
    n, T, P, g = width, st.time_steps, st.patterns, st.gain
    s = torch.tensor(st.signals, dtype=torch.float32)
    R = len(st.signals)
    gen = torch.Generator().manual_seed(seed)               # initial weights: the same for both networks
    U0, v0 = torch.randn(n, P, generator=gen), torch.randn(n, generator=gen)
    W0 = torch.randn(T - 1, n, n, generator=gen) * g
    U = U0.expand(R, n, P).clone().requires_grad_()
    v = v0.expand(R, n).clone().requires_grad_()
    W = (W0[:1] if shared else W0).expand(R, -1, n, n).clone().requires_grad_()
    params, precision = (U, v, W), (1.0, 1.0, 1.0 / g ** 2)
    noise = torch.Generator().manual_seed(10_000 + 2 * seed + int(shared))
    eps = st.step_size * torch.clamp(3.0 / s, max=1.0)
    eps_of = [eps.view(-1, *[1] * (p.dim() - 1)) for p in params]
    Y = torch.from_numpy(targets(st))
    mask = torch.zeros(T)
    mask[[t - 1 for t in st.supervised_steps]] = 1.0
    half, samples, eigs = st.langevin_steps // 2, [], []
    for step in range(st.langevin_steps + 1):
        h = torch.tanh(U)
        hs = [h]
        for t in range(T - 1):
            h = torch.tanh(W[:, 0 if shared else t] @ h / np.sqrt(n))
            hs.append(h)
        f = torch.stack([torch.einsum("rn,rnp->rp", v, h) for h in hs], 1) / n   # (chains, T, P)
        if step >= half and (step - half) % st.every == 0:
            with torch.no_grad():
                samples.append(_observe(hs, Y, f, mask))
            if len(samples) % 5 == 1:
                eigs.append(_top_eig(W, n))
        if step == st.langevin_steps:
            break
        loss = (((f - Y) ** 2).mean(2) * mask).sum(1) / mask.sum()
        energy = (0.5 * s * n * loss).sum() + sum(0.5 * c * (p ** 2).sum() for p, c in zip(params, precision))
        grads = torch.autograd.grad(energy, params)
        with torch.no_grad():
            for p, gr, e in zip(params, grads, eps_of):
                p -= e * gr
                p += torch.sqrt(2 * e) * torch.randn(p.shape, generator=noise)
    out = {k: torch.stack([o[k] for o in samples]).double().numpy() for k in samples[0]}
    q = out["overlap"]
    k = len(q) // 2
    result = {key: val.mean(0) for key, val in out.items()}
    result["overlap_drift"] = q[k:].mean(0) - q[:k].mean(0) if k >= 1 else np.zeros(R)
    result["top_eig"] = np.mean(eigs, axis=0)
    finite = torch.stack([torch.isfinite(p.detach()).flatten(1).all(1) for p in params]).all(0).numpy()
    result["diverged"] = ~finite
    return result


def sample(st: SharingSetting, shared: bool, width: int, seed: int) -> dict:
    """One seed's chains of one network (``shared``: the RNN) at ``width``, one chain per signal of ``st``
    (batched), from the cache when present: ``{observable: array over st.signals}``
    (:data:`reptheory.sequel.sharing_tests.OBSERVABLES`;
    ``step_error`` has a step axis after the signal's). A chain that diverged has NaN observables and
    ``diverged`` True.
    """
    if not isinstance(shared, bool):
        raise TypeError(f"shared must be True (the RNN) or False (the DNN), got {shared!r}")
    if width not in st.widths:
        raise ValueError(f"width must be one of {st.name}'s widths {st.widths}, got {width!r}")
    if seed not in st.seeds:
        raise ValueError(f"seed must be one of {st.name}'s seeds {st.seeds}, got {seed!r}")
    description = {"setting": st.run_fields(), "signals": list(st.signals), "shared": shared, "width": width,
                   "seed": seed}
    return cache.cached("langevin_run", description, lambda: _run(st, shared, width, seed))
