"""The presentation layer: how results reach a reader. Nothing here trains, fits or decides a cached result.

* :mod:`reptheory.presentation.rounding` – numbers as printed: rounded for checked outputs, powers of ten in
  tables.
* :mod:`reptheory.presentation.display` – Markdown and HTML tables, the settings tables (``SettingsTable``),
  derivation steps.
* :mod:`reptheory.presentation.plots` – the book's plot style and its figures, drawn at the size they are shown.
* :mod:`reptheory.presentation.sequel_plots` – the sequel's figures (automata, the fixed-expansion model,
  parity phase diagrams).
* :mod:`reptheory.presentation.widgets` – sliders of precomputed frames that work in the static HTML book.
* :mod:`reptheory.presentation.explorer` – the effective-theory explorer's frames.
* :mod:`reptheory.presentation.deviations` – every difference between the ``default`` and ``paper`` profiles.
* :mod:`reptheory.presentation.records` – the committed Fig. 5 records and Fig. 5's bars.
* :mod:`reptheory.presentation.verdicts` – claims against their nulls, statistics over seed sets, shifts over seeds.
* :mod:`reptheory.presentation.plateaus` – Fig. 5's unconverged runs against Eq. 7's escape times.
* :mod:`reptheory.presentation.report` – the checked numbers a notebook records for ``python -m reptheory
  reproduce``.

A notebook imports from this entry point only: the modules above by name, and the table and derivation helpers
of :mod:`~reptheory.presentation.display` it re-exports.
"""
from reptheory.presentation.display import (Markdown, SettingsTable, html_table, settings_rows, show_step,
                                            sideways, span)

__all__ = ["Markdown", "SettingsTable", "html_table", "settings_rows", "show_step", "sideways", "span"]
