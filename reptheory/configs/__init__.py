"""Experiment settings as frozen data, in one registry: the paper's Tables 1 and 2 (:mod:`.paper`), the sequel's
streaming-parity runs (:mod:`.sequel`), the weight-sharing tests (:mod:`.sharing`, one setting per claim, run as
they stand in every profile), and the profiles that run them.

Both kinds of setting (:mod:`.fields`: :class:`Setting` for the feedforward nets, :class:`ParitySetting` for
the RNN) share the names of the fields they share. A *profile* maps a setting name to the values a run uses:
``"paper"`` is what the papers state, ``"default"`` is what the committed notebooks and CI execute, reduced only
where the CI budget forces it, every reduction with its reason in the setting's ``note`` (shown beside the
figure by :class:`reptheory.presentation.display.SettingsTable`). The profile is chosen by the ``profile``
argument or the runtime's (:mod:`reptheory.runtime`: ``REPTHEORY_PROFILE``). Other overrides go through
:func:`override`, which prints what it changed.

>>> get("parity", "paper").epochs, get("default", "paper").width, paper_counterpart(get("parity")).epochs
(1000, 500, 1000)
"""
from __future__ import annotations

import dataclasses

from reptheory import runtime as _runtime
from reptheory.configs import bars, paper, sequel, sharing
from reptheory.configs.fields import ARCHS, DATASETS, NONLINEARITIES, OPTIMIZERS, ParitySetting, Setting
from reptheory.configs.paper import (AUTHORS_CODE, EXTRA, FIG2_ROWS, FIG3_ROWS, FIG3_SEED_ROWS, FIG3_SEEDS,
                                     FIG13_SEED_ROWS, FIG13_SEEDS, FIG5, FIG5_PROTOCOL, PAPER, PHASE_DY2, PHASE_LAYERS,
                                     PHASE_ROWS, TABLE1, TABLE2, Fig5Protocol, fig5_names, phase_name)
from reptheory.configs.sequel import (GRID_GAINS, GRID_GAINS_FRACTION, GRID_LONG_MAX_LEN, GRID_MAX_LEN, PHASE_LOSSES,
                                      LengthGrid, PhaseDiagram, length_grid, phase_diagram, phase_grid)
from reptheory.configs.sharing import SHARING_INTERPOLATION, SHARING_TRANSITION, SharingSetting, described

__all__ = ["Setting", "ParitySetting", "ARCHS", "NONLINEARITIES", "OPTIMIZERS", "DATASETS", "PROFILES", "get",
           "override", "profile_name", "paper_counterpart", "fig5_rows", "fig5_names", "fig5_settings", "bars", "paper",
           "sequel", "PAPER", "TABLE1", "TABLE2", "AUTHORS_CODE", "FIG5", "EXTRA", "FIG2_ROWS", "FIG3_ROWS",
           "FIG3_SEEDS", "FIG3_SEED_ROWS", "FIG13_SEEDS", "FIG13_SEED_ROWS", "Fig5Protocol", "FIG5_PROTOCOL",
           "PHASE_ROWS", "PHASE_DY2", "PHASE_LAYERS", "phase_name", "sharing", "SharingSetting", "SHARING_TRANSITION",
           "SHARING_INTERPOLATION", "GRID_GAINS", "GRID_GAINS_FRACTION", "GRID_LONG_MAX_LEN", "GRID_MAX_LEN",
           "PHASE_LOSSES", "phase_grid", "PhaseDiagram", "phase_diagram", "LengthGrid", "length_grid", "described"]


def _profiles() -> dict[str, dict]:
    rnn = sequel.profile_tables()
    tables = {"paper": PAPER | EXTRA, "default": paper.default_profile()}
    for prof, table in tables.items():
        clash = set(table) & set(rnn[prof])
        if clash:
            raise RuntimeError(f"profile {prof!r}: the names {sorted(clash)} are both a DNN and an RNN setting")
        table.update(rnn[prof])
    return tables


#: ``{profile: {name: setting}}``, every setting of both papers
PROFILES = _profiles()


def profile_name(profile: str | None = None) -> str:
    """The profile in use: the argument, else the runtime's (:func:`reptheory.runtime.current`:
    ``$REPTHEORY_PROFILE``, else ``"default"``). An empty or unknown name is an error (never silently the
    default)."""
    name = _runtime.current().profile if profile is None else profile
    if name not in PROFILES:
        raise ValueError(f"profile must be one of {sorted(PROFILES)}, got {name!r}")
    return name


def get(name: str, profile: str | None = None) -> Setting | ParitySetting:
    """The setting ``name`` in the chosen profile (a :class:`Setting` or a :class:`ParitySetting`)."""
    table = PROFILES[profile_name(profile)]
    if name not in table:
        raise KeyError(f"unknown setting {name!r}; known: {', '.join(table)}")
    return table[name]


def paper_counterpart(setting: Setting | ParitySetting) -> Setting | ParitySetting | None:
    """What the paper ran in place of ``setting`` (found by its name), or None for a setting the book adds."""
    if isinstance(setting, ParitySetting):
        return sequel.paper_counterpart(setting)
    return PAPER.get(setting.name)


def override(setting: Setting | ParitySetting, **changes) -> Setting | ParitySetting:
    """A copy of ``setting`` with ``changes``; prints each change so that no override is silent."""
    for k in changes:
        if k not in {f.name for f in dataclasses.fields(setting)}:
            raise ValueError(f"override: {k!r} is not a field of {type(setting).__name__}")
    new = dataclasses.replace(setting, **changes)
    for k, v in changes.items():
        print(f"override {setting.name}.{k}: {getattr(setting, k)!r} -> {v!r}")
    return new


def fig5_settings(row: str, profile: str | None = None) -> tuple[Setting, Setting]:
    """Fig. 5's two settings for the architecture ``row`` (a row of ``FIG5_PROTOCOL.rows``, or ``"default_w100"``)
    under ``profile``: its fit runs and its grid.

    >>> fit, grid = fig5_settings("skip", "paper")
    >>> fit.name, len(fit.seeds), grid.epochs
    ('fig5_fit/skip', 50, 40000)
    """
    fit, grid = fig5_names(row)
    return get(fit, profile), get(grid, profile)


def fig5_rows(profile: str | None = None) -> tuple:
    """The Fig. 5 rows that ``profile`` runs (the default profile leaves out ``FIG5_PROTOCOL.default_skips``)."""
    if profile_name(profile) == "paper":
        return FIG5_PROTOCOL.rows
    return tuple(r for r in FIG5_PROTOCOL.rows if r not in FIG5_PROTOCOL.default_skips)
