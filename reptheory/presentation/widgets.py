"""Sliders that work without a kernel: every frame is drawn in Python beforehand.

:class:`FrameSlider` draws a matplotlib figure for every combination of the parameter values (the grid is
the Cartesian product of the sliders' values) and shows them as one HTML block: a range input per parameter
and an ``<img>`` whose PNG the inputs switch in the browser. The block needs no Jupyter widget manager, no
CDN and no kernel, so it works the same in the static book, in a live notebook (after the cell has run) and in
any HTML export. :meth:`FrameSlider.live` gives the ipywidgets version that redraws on demand in a kernel.

Frames are PNGs reduced to a 256-colour palette (Pillow, lossless for line plots with few colours), about
10 kB each at the default size, so a slider over a few hundred combinations stays near a few MB.
"""
from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
import warnings
from typing import Callable, Mapping, Sequence

import numpy as np

from reptheory import validate as _v

__all__ = ["FrameSlider"]

_MAX_FRAMES = 400


def _png(fig, dpi: int, colors: int = 256) -> bytes:
    """The figure as a palette PNG of at most ``colors`` colours (deterministic: no timestamps in the
    metadata)."""
    from PIL import Image
    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    plt.close(fig)
    buf.seek(0)
    img = Image.open(buf).convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    img.save(out, format="png", optimize=True)
    return out.getvalue()


def _changed_rc() -> dict:
    """This process's matplotlib settings that differ from matplotlib's defaults (the backend aside): what a
    worker process must apply to draw a frame exactly as this process would."""
    import matplotlib as mpl
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {k: v for k, v in mpl.rcParams.items()
                if k != "backend" and k in mpl.rcParamsDefault and mpl.rcParamsDefault[k] != v}


def _render(draw: Callable, values: dict, dpi: int, rc: dict, colors: int = 256) -> bytes:
    """One frame, drawn under the settings ``rc`` (in a worker process or in this one)."""
    import matplotlib as mpl
    with mpl.rc_context(rc):
        return _png(draw(**values), dpi, colors)


def _label_text(v) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.3g}"
    return str(v)


class FrameSlider:
    """A precomputed slider over ``params``.

    ``draw(**values)`` must return a matplotlib figure for one combination (it is closed after use).
    ``params`` maps each keyword of ``draw`` to its values (in slider order); ``labels`` gives each slider's
    text (defaults to the keyword); ``initial`` the starting value per keyword (defaults to the middle
    value). Frames are palette PNGs of at most ``colors`` colours (fewer make a lighter page). At most 400
    frames, drawn in ``n_jobs`` worker processes (:func:`reptheory.parallel.run`;
    default ``$REPTHEORY_N_JOBS``) under this process's matplotlib settings, so a frame is the same PNG
    whichever process draws it (tested).

    Attributes: ``names``, ``values`` (tuple per parameter), ``shape``, ``frames`` (PNG bytes in C order
    of ``shape``), ``initial_index``.
    """

    def __init__(self, draw: Callable, params: Mapping[str, Sequence], labels: Mapping[str, str] | None = None,
                 initial: Mapping | None = None, dpi: int = 80, progress: bool = False, n_jobs: int | None = None,
                 colors: int = 256):
        if not callable(draw):
            raise TypeError(f"draw must be callable, got {draw!r}")
        if not isinstance(params, Mapping) or not params:
            raise ValueError("params must be a non-empty mapping of keyword -> sequence of values")
        self.names = tuple(params)
        self.values = tuple(tuple(params[n]) for n in self.names)
        for n, vs in zip(self.names, self.values):
            if len(vs) < 2:
                raise ValueError(f"params[{n!r}] needs at least 2 values for a slider, got {len(vs)}")
        self.shape = tuple(len(v) for v in self.values)
        n_frames = int(np.prod(self.shape))
        if n_frames > _MAX_FRAMES:
            raise ValueError(f"params give {n_frames} frames ({' x '.join(map(str, self.shape))}); "
                             f"the allowed range is 1 to {_MAX_FRAMES}: use fewer values")
        labels = dict(labels or {})
        unknown = set(labels) - set(self.names)
        if unknown:
            raise ValueError(f"labels has keys that are not parameters: {sorted(unknown)}")
        self.labels = tuple(labels.get(n, n) for n in self.names)
        initial = dict(initial or {})
        idx = []
        for n, vs in zip(self.names, self.values):
            if n in initial:
                if initial[n] not in vs:
                    raise ValueError(f"initial[{n!r}] = {initial[n]!r} is not one of its values {list(vs)}")
                idx.append(vs.index(initial[n]))
            else:
                idx.append(len(vs) // 2)
        self.initial_index = tuple(idx)
        dpi = _v.integer("dpi", dpi, 30, 300)
        colors = _v.integer("colors", colors, 2, 256)
        from reptheory import parallel
        rc = _changed_rc()
        jobs = [(draw, dict(zip(self.names, c)), dpi, rc, colors) for c in itertools.product(*self.values)]
        self.frames = parallel.run(_render, jobs, n_jobs, progress, "slider frames")
        self._draw = draw

    # ------------------------------------------------------------------------------------------------
    def index(self, **values) -> int:
        """Flat frame index of one combination (every parameter given)."""
        if set(values) != set(self.names):
            raise ValueError(f"give every parameter {list(self.names)}, got {sorted(values)}")
        pos = [vs.index(values[n]) for n, vs in zip(self.names, self.values)]
        return int(np.ravel_multi_index(pos, self.shape))

    def moves(self) -> dict[str, bool]:
        """Per slider: does moving it alone (from the initial position to each other value) change the frame?"""
        out = {}
        for k, n in enumerate(self.names):
            base = list(self.initial_index)
            ref = self.frames[int(np.ravel_multi_index(base, self.shape))]
            changed = []
            for j in range(self.shape[k]):
                if j == base[k]:
                    continue
                pos = list(base)
                pos[k] = j
                changed.append(self.frames[int(np.ravel_multi_index(pos, self.shape))] != ref)
            out[n] = all(changed)
        return out

    @property
    def nbytes(self) -> int:
        return sum(len(f) for f in self.frames)

    # ------------------------------------------------------------------------------------------------
    def _repr_html_(self) -> str:
        digest = hashlib.sha256(b"".join(self.frames)).hexdigest()[:12]
        uid = f"rt-slider-{digest}"
        frames = [base64.b64encode(f).decode("ascii") for f in self.frames]
        start = int(np.ravel_multi_index(self.initial_index, self.shape))
        rows = []
        for k, (label, vs) in enumerate(zip(self.labels, self.values)):
            rows.append(
                f'<label style="display:flex;align-items:center;gap:0.6em;margin:0.15em 0">'
                f'<span style="min-width:9em">{html.escape(label)}</span>'
                f'<input type="range" min="0" max="{len(vs) - 1}" step="1" value="{self.initial_index[k]}" '
                f'data-axis="{k}" aria-label="{html.escape(label)}" style="flex:0 1 16em">'
                f'<output class="rt-value" style="min-width:5em;font-family:monospace">'
                f'{html.escape(_label_text(vs[self.initial_index[k]]))}</output></label>')
        meta = json.dumps({"shape": self.shape, "values": [[_label_text(v) for v in vs] for vs in self.values]})
        script = (
            "(function(){var root=document.getElementById('%s');if(!root)return;"
            "var meta=JSON.parse(root.querySelector('.rt-meta').textContent);"
            "var frames=JSON.parse(root.querySelector('.rt-frames').textContent);"
            "var inputs=root.querySelectorAll('input[type=range]');var outs=root.querySelectorAll('.rt-value');"
            "var img=root.querySelector('img.rt-frame');"
            "function update(){var idx=0;for(var k=0;k<inputs.length;k++){var v=+inputs[k].value;"
            "idx=idx*meta.shape[k]+v;outs[k].textContent=meta.values[k][v];}"
            "img.src='data:image/png;base64,'+frames[idx];img.dataset.frame=idx;}"
            "for(var k=0;k<inputs.length;k++){inputs[k].addEventListener('input',update);"
            "inputs[k].addEventListener('change',update);}})();" % uid)
        return (f'<div class="rt-slider" id="{uid}" style="margin:0.5em 0">'
                f'<div class="rt-controls">{"".join(rows)}</div>'
                f'<img class="rt-frame" data-frame="{start}" alt="precomputed figure" style="max-width:100%" '
                f'src="data:image/png;base64,{frames[start]}">'
                f'<script type="application/json" class="rt-meta">{meta}</script>'
                f'<script type="application/json" class="rt-frames">{json.dumps(frames)}</script>'
                f'<script>{script}</script></div>')

    def live(self, **widgets):
        """The ipywidgets version for a running kernel: ``interact`` over the same values (or the widgets
        given as keywords, e.g. ``eta_ratio=FloatLogSlider(...)``), redrawing with ``draw`` on each move."""
        import ipywidgets as w
        import matplotlib.pyplot as plt
        unknown = set(widgets) - set(self.names)
        if unknown:
            raise ValueError(f"widgets for unknown parameters: {sorted(unknown)}; parameters: {list(self.names)}")
        controls = {}
        for n, label, vs, i in zip(self.names, self.labels, self.values, self.initial_index):
            controls[n] = widgets.get(n) or w.SelectionSlider(options=list(vs), value=vs[i], description=label,
                                                              continuous_update=False)

        def show(**kw):
            self._draw(**kw)
            plt.show()
        return w.interactive(show, **controls)
