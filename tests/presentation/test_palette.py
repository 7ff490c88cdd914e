"""The book's colours stay distinguishable for readers with a colour-vision deficiency: every pair of the curve
colours (``plots.COLORS``) and of the colour cycle (``plots.CYCLE``) keeps a CIELAB distance of at least
:data:`MIN_DELTA_E` under simulated protanopia, deuteranopia and tritanopia (Machado, Oliveira & Fernandes 2009,
severity 1), and no notebook or plotting module draws with a colour outside the palette."""
import itertools
import json
import pathlib
import re

import numpy as np
import pytest

from reptheory.presentation import plots

ROOT = pathlib.Path(__file__).resolve().parents[2]
#: the least CIELAB ΔE (1976) between two colours the book tells apart: about the distance at which two thin
#: lines of different colour are told apart at a glance (the old red/green pair is 7.3 under deuteranopia)
MIN_DELTA_E = 12.0
#: the simulation matrices on linear RGB (Machado et al. 2009, severity 1.0)
CVD = {"protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                      [-0.003882, -0.048116, 1.051998]],
       "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                        [-0.011820, 0.042940, 0.968881]],
       "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                      [0.004733, 0.691367, 0.303900]]}


def _linear(hex_color: str) -> np.ndarray:
    c = np.array([int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(rgb: np.ndarray) -> np.ndarray:
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ rgb
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e(a: str, b: str) -> dict[str, float]:
    """ΔE between two ``#rrggbb`` colours for normal vision and under each simulated deficiency."""
    out = {"normal": float(np.linalg.norm(_lab(_linear(a)) - _lab(_linear(b))))}
    for name, m in CVD.items():
        sa, sb = (np.clip(np.array(m) @ _linear(c), 0, 1) for c in (a, b))
        out[name] = float(np.linalg.norm(_lab(sa) - _lab(sb)))
    return out


def too_close(colors) -> list[tuple]:
    """The pairs of ``colors`` closer than :data:`MIN_DELTA_E` for some reader: ``(a, b, vision, ΔE)``."""
    return [(a, b, v, round(d, 1)) for a, b in itertools.combinations(colors, 2)
            for v, d in delta_e(a, b).items() if d < MIN_DELTA_E]


def test_the_curve_colours_and_the_cycle_are_told_apart_under_every_deficiency():
    assert too_close([plots.COLORS[k] for k in ("h2", "y2", "w")]) == []
    assert too_close(plots.CYCLE) == []


def test_the_check_finds_the_red_green_pair_it_replaced():
    """The matplotlib default pair the curves used (tab:red, tab:green) merges under deuteranopia."""
    assert [(v, d < MIN_DELTA_E) for _, _, v, d in too_close(["#d62728", "#2ca02c"])] == [("deuteranopia", True)]


#: colours a notebook or module may name besides the palette: greys, black and white, the cycle's ``C0``…``C6``
ALLOWED = re.compile(r"^(#?[0-9.]+|k|w|black|white|none|C[0-6])$")


def _colours_in(source: str) -> list[str]:
    found = re.findall(r"colou?rs?\s*=\s*\[?\s*[\"']([^\"']+)[\"']", source)
    found += re.findall(r"[\"'](#[0-9a-fA-F]{6})[\"']", source)
    return found


@pytest.mark.parametrize("path", sorted(ROOT.glob("book/*.ipynb")) + sorted((ROOT / "reptheory" / "presentation").glob("*.py")),
                         ids=lambda p: p.name)
def test_no_colour_outside_the_palette(path):
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text())["cells"]
        source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    else:
        source = path.read_text()
    palette = {c.lower() for c in (*plots.OKABE_ITO.values(), plots.COLORS["loss"])}
    bad = [c for c in _colours_in(source) if c.lower() not in palette and not ALLOWED.match(c)]
    assert not bad, f"{path.name} draws with {bad}: use plots.COLORS, plots.OKABE_ITO or the cycle (C0…C6)"
