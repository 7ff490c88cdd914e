"""The one settings registry: both papers' settings, one set of profiles, shared field names."""
import dataclasses

import pytest

from reptheory import configs
from reptheory.presentation.display import SettingsTable, settings_rows

SHARED = ("name", "width", "nonlinearity", "gain", "lr", "epochs", "optimizer", "batch_size", "stop_loss", "seeds",
          "note")


def test_both_kinds_share_the_names_of_their_shared_fields():
    dnn = {f.name for f in dataclasses.fields(configs.Setting)}
    rnn = {f.name for f in dataclasses.fields(configs.ParitySetting)}
    assert dnn & rnn == set(SHARED)


def test_one_registry_holds_both_papers_in_every_profile():
    for profile in ("default", "paper"):
        assert isinstance(configs.get("default", profile), configs.Setting)
        assert isinstance(configs.get("parity", profile), configs.ParitySetting)
        assert isinstance(configs.get("grid/L2/g0.1", profile), configs.ParitySetting)
    assert configs.get("parity", "paper") == configs.sequel.PARITY_PAPER
    assert configs.get("parity", "default").epochs == 800
    with pytest.raises(KeyError, match="unknown setting 'hidden'"):
        configs.get("hidden")


@pytest.mark.parametrize("change, field", [({"width": 0}, "width"), ({"nonlinearity": "gelu"}, "nonlinearity"),
                                           ({"batch_size": None}, "batch_size"), ({"lr": float("nan")}, "lr"),
                                           ({"stop_loss": -1.0}, "stop_loss"), ({"track_long": 1}, "track_long")])
def test_a_bad_parity_value_names_the_setting_the_field_and_the_range(change, field):
    with pytest.raises(ValueError, match=rf"parity setting 'parity': {field} = .* is not allowed \(allowed: "):
        dataclasses.replace(configs.get("parity"), **change)


def test_override_works_on_both_kinds_and_refuses_a_field_of_the_other(capsys):
    s = configs.override(configs.get("parity"), width=16)
    assert s.width == 16 and "override parity.width: 100 -> 16" in capsys.readouterr().out
    with pytest.raises(ValueError, match="'max_len' is not a field of Setting"):
        configs.override(configs.get("default"), max_len=3)


def test_paper_counterparts():
    assert configs.paper_counterpart(configs.get("relu")) == configs.PAPER["relu"]
    assert configs.paper_counterpart(configs.get("xor_rich_adam")) is None
    cell = configs.get("phase/ce/g0.1/p0.3", "default")
    ref = configs.paper_counterpart(cell)
    assert (ref.gain, ref.frac, ref.loss, ref.epochs) == (0.1, 0.3, "ce", 10**6)
    assert configs.paper_counterpart(configs.get("grid/L2/g0.1")) is None


def test_a_settings_table_shows_either_kind_but_not_both_at_once():
    t = SettingsTable(["parity", "parity_h0_zero"], "default")
    head = t.markdown.splitlines()[0]
    assert "**800** (paper: 1000)" in t.markdown and "| max_len |" in head and "hidden" not in head
    row = settings_rows(["parity_h0_zero"], "default")[0]
    assert row["h0"] == "0" and row["deviation from the paper"].startswith("not in the paper")
    with pytest.raises(ValueError, match="one kind of setting"):
        SettingsTable(["default", "parity"])


def test_a_feedforward_experiment_refuses_a_sequel_setting_by_name():
    from reptheory import experiments
    with pytest.raises(ValueError, match="'parity' is a ParitySetting of the sequel"):
        experiments.two_point("parity")


def test_a_settings_table_is_folded_and_its_summary_names_what_differs():
    t = SettingsTable(["parity", "parity_h0_zero"], "default")
    assert t.summary().startswith("Settings (2 settings), differing from the paper in: epochs 800 (paper: 1000)")
    assert t.summary().endswith("; 1 of them not in the paper")
    only_new = SettingsTable(["xor_rich_adam", "xor_high_adam"])
    assert only_new.summary() == "Settings (2 settings), none of them in the paper"
    html = t._repr_html_()
    assert html.startswith('<details class="rt-settings"><summary>') and html.count("<tr>") == len(t.fields) + 2
    assert html.index("deviation from the paper") < html.index(">width<")   # sideways: the reason first
    wide = SettingsTable(list(configs.FIG2_ROWS))
    assert wide.summary() == f"Settings ({len(configs.FIG2_ROWS)} settings): all as in the paper"
    assert wide._repr_html_().count("<tr>") == len(configs.FIG2_ROWS) + 1     # a row per setting, three columns
    assert wide._repr_html_().count("<th>") == 3 and "Every setting here has epochs 6000" in wide._repr_html_()


def test_the_shared_pass_bars_are_set_in_one_place():
    # the lab's verdicts, the committed records' checks and Fig. 2's statistics read configs.bars
    from reptheory.experiments import architecture_statistics
    from reptheory.lab.result import BARS
    from reptheory.presentation import records
    import inspect
    assert BARS == {**configs.bars.FIT, "h_inf": configs.bars.EQ10}
    assert records.FIG5_BARS is configs.bars.FIG5
    assert inspect.signature(architecture_statistics).parameters["bar"].default == configs.bars.FIT_OTHERS
    assert [s for s, _, _ in configs.bars.FIG5] == ["r 95% low", "median |rel err|", "unconverged", "diverged",
                                                    "fits used"]


@pytest.mark.parametrize("bars, pages", [("XOR", ("fig06_xor", "fig14_xor_adam")),
                                         ("BLOBS", ("fig08_feature_collapse", "fig15_blobs_adam")),
                                         ("MNIST", ("fig09_mnist_structure", "fig16_mnist_adam"))])
def test_a_bar_that_two_pages_apply_is_read_from_configs_bars(bars, pages):
    """Figs. 6 and 14, 8 and 15, 9 and 16 apply the same bars: each page reads them, and no line of their code
    cells that applies a bar (an assert, a comparison, a ``bar_rows`` table) types one of the bar values in."""
    import pathlib
    import re
    bar_values = getattr(configs.bars, bars).values()
    values = {repr(v) for v in bar_values} | {repr(int(v)) for v in bar_values if v == int(v)}    # 5.0 and 5
    for page in pages:
        text = (pathlib.Path(__file__).parents[1] / "book" / "text" / f"{page}.md").read_text()
        assert f"configs.bars.{bars}" in text, page
        code = [line.split("#")[0] for cell in re.findall(r"```\{code-cell\}.*?\n(.*?)```", text, re.S)
                for line in cell.splitlines()]
        applying = [line for line in code if re.search(r"assert|bar_rows\(|[<>]=?", line)]
        assert any(line.lstrip().startswith("assert") for line in applying), page
        typed = [line for line in applying if set(re.findall(r"(?<![\w.\[])\d+(?:\.\d+)?(?![\w.])", line)) & values]
        assert not typed, (page, typed)


def test_a_cached_run_is_keyed_on_its_architectures_values_not_on_the_table(monkeypatch):
    """An entry added to the architectures' table, or a reworded description, leaves every cached run's key as it
    was (the table is in no kind's sources, and ``models.key_fields`` holds the values, not the prose); an entry whose
    values change re-keys that architecture's runs and no other's."""
    from reptheory import cache
    from reptheory.configs import architectures as arch_table
    from reptheory.configs.architectures import Architecture
    from reptheory.networks import models
    assert not any(p.name == "architectures.py" for kind in (*cache.SOURCES, "two_point_fit")
                   for p in cache.source_files(kind))
    mlp = configs.get("default")
    skip = dataclasses.replace(mlp, arch="resnet")
    before = (cache._key("two_point_run", {"setting": models.key_fields(mlp), "seed": 0}),
              cache._key("two_point_run", {"setting": models.key_fields(skip), "seed": 0}))
    table = dict(arch_table.ARCHITECTURES)
    table["resnet_dropout"] = Architecture("the MLP with skip connections and dropout", skip=True, dropout=0.1)
    table["mlp"] = dataclasses.replace(table["mlp"], description="a reworded description")
    monkeypatch.setattr("reptheory.configs.fields.ARCHITECTURES", table)
    assert (cache._key("two_point_run", {"setting": models.key_fields(mlp), "seed": 0}),
            cache._key("two_point_run", {"setting": models.key_fields(skip), "seed": 0})) == before
    table["resnet"] = dataclasses.replace(table["resnet"], dropout=0.2)
    assert cache._key("two_point_run", {"setting": models.key_fields(skip), "seed": 0}) != before[1]
    assert cache._key("two_point_run", {"setting": models.key_fields(mlp), "seed": 0}) == before[0]
    assert models.key_fields(mlp) == mlp.run_fields() | {"architecture": {"skip": False, "dropout": 0.0, "conv": None}}
