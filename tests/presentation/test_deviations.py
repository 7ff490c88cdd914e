"""The table of default-versus-paper differences is generated from the profiles: it follows them."""
import dataclasses

from reptheory import configs
from reptheory.presentation import deviations


def test_every_reduction_of_the_default_profile_is_listed():
    rows = deviations.default_vs_paper()
    listed = {n for r in rows for n in r["settings"].split(", ")}
    listed |= {n.strip() for r in rows for part in r["difference"].split(" · ") if ": " in part
               for n in part.split(": ")[0].split(", ")}
    for name, s in configs.PROFILES["default"].items():
        p = configs.PROFILES["paper"].get(name)
        if p is not None and s != p:
            assert name in listed, name
    assert all(r["reason"] not in ("", "–") for r in rows)


def test_a_new_reduction_appears_with_its_field_and_reason(monkeypatch):
    default = dict(configs.PROFILES["default"])
    default["gain_0.9"] = dataclasses.replace(default["gain_0.9"], epochs=100, note="test: fewer epochs")
    monkeypatch.setitem(configs.PROFILES, "default", default)
    row = next(r for r in deviations.default_vs_paper() if r["settings"] == "gain_0.9")
    assert row["difference"] == "epochs 100 (paper: 6000)"
    assert row["reason"] == "test: fewer epochs" and row["page"] == "–"


def test_skipped_fig5_architectures_and_the_phase_grid_are_rows():
    rows = deviations.default_vs_paper()
    assert any("fig5_grid/convolution" in r["settings"] and r["difference"].startswith("not run") for r in rows)
    assert any(r["page"] == "parity phase diagram" and "20 × 20" in r["difference"] for r in rows)
