"""The page check catches each defect a reader would see: one small page per defect class, and a clean page
that must pass. Needs Debian's chromium (``make unit`` installs it, as ``make pages`` does)."""
import base64
import io
import pathlib
import shutil
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parents[1]))
import check_pages  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not pathlib.Path(CHROMIUM).exists(),
                                reason="chromium is not installed (make unit installs it)")

SHELL = """<html><head><style>
article.bd-article {{ width: 600px; margin-left: 100px; }}
@media (max-width: 600px) {{ article.bd-article {{ width: 400px; margin-left: 10px; }} }}
div.scroll {{ overflow-x: auto; }}
div.clip {{ overflow: hidden; }}
</style></head><body><article class="bd-article">{body}</article></body></html>"""


def _png(width_px: int) -> str:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(width_px / 100, 2), dpi=100)
    ax.plot([0, 1], [0, 1])
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


CLEAN = ("<h1>Fig. 99</h1><div class='admonition'><p class='admonition-title'>Claim (paper)</p><p>text</p></div>"
         "<p>Prose with a | bar and 2 * 3 and $5 of it.</p>"
         "<div class='scroll'><mjx-container display='true' style='display:block;width:380px'>x</mjx-container></div>"
         "<div class='cell_output'><div class='scroll'><table style='width:380px'><tr><td>fits</td></tr></table>"
         "</div></div>"
         "<img alt='Figure: Checks' src='data:image/gif;base64,R0lGODlhAQABAAAAACw=' width='10' height='10'>"
         "<div class='cell_output'><pre>short output</pre></div>"
         "<h2>Checks</h2><p>asserted</p><h2>Findings</h2><p>found</p>")

DEFECTS = {
    "equation cut off": "<div class='clip'><mjx-container display='true' style='display:block;width:900px'>"
                        "x</mjx-container></div>",
    "equation wider than the column": "<mjx-container display='true' style='display:block;width:900px'>x"
                                      "</mjx-container>",
    "raw table": "<p>| a | b |<br>|---|---|<br>| 1 | 2 |</p>",
    "raw bold": "<p>this is **bold** text</p>",
    "raw TeX": "<p>the distance $\\|\\Delta h\\|^2$ grows</p>",
    "raw TeX command": "<p>half is \\frac{1}{2}</p>",
    "raw directive": "<p>```{admonition} Claim</p>",
    "output wider than the column": "<div class='cell_output'><pre style='white-space:pre;overflow:visible'>"
                                    + "x" * 300 + "</pre></div>",
    "table wider than the column": "<table style='width:900px'><tr><td>a</td></tr></table>",
    "equation that scrolls": "<div class='scroll'><mjx-container display='true' style='display:block;width:900px'>"
                             "x</mjx-container></div>",
    "table that scrolls": "<div class='scroll'><table style='width:900px'><tr><td>a</td></tr></table></div>",
    "alt text a file path": "<img alt='../_images/0a1b.png' src='data:image/gif;base64,R0lGODlhAQABAAAAACw=' "
                            "width='10' height='10'>",
    "API name broken over lines": "<table class='autosummary' style='table-layout:fixed;width:600px'><tr>"
                                  "<td style='width:30px;overflow-wrap:anywhere'><code>fixed_expansion_name</code></td>"
                                  "<td>text</td>"
                                  "</tr></table>",
    "sidebar wider than its box": "<div class='bd-sidebar-primary' style='width:100px;overflow-x:hidden'>"
                                  "<div style='width:300px'>entry</div></div>",
    "Contents entry past the sidebar": "<div class='bd-sidebar-secondary' style='position:fixed;right:0;top:0;"
                                       "width:120px'><ul><li class='toc-entry'><a style='white-space:nowrap'>"
                                       "reptheory.sequel.weight_sharing_tests</a></li></ul></div>",
    "raw table in an output": "<div class='cell_output'><div class='output text_html'><p>| a | b |<br>|---|---|</p>"
                              "</div></div>",
}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=check_pages.ARGS)
        yield b
        b.close()


def _problems(browser, body: str, name: str = "page.html", width: int = 1400) -> list[str]:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.set_content(SHELL.format(body=body))
    page.wait_for_timeout(100)
    out = check_pages.layout_problems(page, name, width)
    page.close()
    return out


def test_a_clean_page_passes(browser):
    assert _problems(browser, CLEAN, "fig99_clean.html") == []


@pytest.mark.parametrize("defect", list(DEFECTS))
def test_each_defect_is_caught(browser, defect):
    problems = _problems(browser, CLEAN + DEFECTS[defect], "fig99_clean.html")
    assert problems, defect


BOOK = pathlib.Path(__file__).parents[2] / "_static"
WIDE_TABLE = ("<div class='cell_output'><table><thead><tr>" + "".join(f"<th>column {k}</th>" for k in range(12))
              + "</tr></thead><tbody><tr>" + "".join(f"<td>value-{k:012d}</td>" for k in range(12))
              + "</tr></tbody></table></div>")


def _with_book_style(browser, body: str, width: int) -> list[str]:
    """The problems of a page that loads the book's own stylesheet and script (``_static/reptheory.*``)."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.set_content(SHELL.format(body=body))
    page.add_style_tag(content=(BOOK / "reptheory.css").read_text())
    page.add_script_tag(content=(BOOK / "reptheory.js").read_text())
    page.wait_for_timeout(100)
    out = check_pages.layout_problems(page, "fig99_clean.html", width)
    page.close()
    return out


def test_a_table_wider_than_its_box_is_caught_at_both_widths(browser):
    for width in (1400, 420):
        for body in (CLEAN + DEFECTS["table that scrolls"], CLEAN + WIDE_TABLE):
            assert any("table wider than" in p for p in _problems(browser, body, "fig99_clean.html", width))


def test_the_book_sets_a_wide_table_one_block_per_row_on_a_phone(browser):
    # the book's script and stylesheet show every column on a phone (a block per row, each cell under its heading)
    assert not any("table" in p for p in _with_book_style(browser, CLEAN + WIDE_TABLE, 420))
    # on a desktop the same table stays a table, and one too wide for the column is still caught
    assert any("a table wider than its box" in p for p in _with_book_style(browser, CLEAN + WIDE_TABLE, 1400))


CUE = "background: linear-gradient(to left, #000, #fff) right center / 14px 100% no-repeat scroll"


def test_a_scroll_cue_covered_by_opaque_rows_or_a_figure_is_caught(browser):
    rows = ("<div class='cell_output'><div class='scroll' style='{cue}'><table style='width:900px'>"
            "<tr style='background:{bg}'><td>a</td></tr></table></div></div>")
    figure = f"<div class='scroll' style='{CUE}'><img alt='Figure' src='{_png(900)}' style='{{blend}}'></div>"
    covered = _problems(browser, CLEAN + rows.format(cue=CUE, bg="#fff"), "fig99_clean.html", 420)
    assert any("scroll cue hidden under an opaque table row" in p for p in covered)
    assert not any("scroll cue" in p for p in _problems(browser, CLEAN + rows.format(cue=CUE, bg="rgba(128,128,128,0.08)"),
                                                        "fig99_clean.html", 420))
    assert any("scroll cue hidden under a figure" in p
               for p in _problems(browser, CLEAN + figure.format(blend=""), "fig99_clean.html", 420))
    assert _problems(browser, CLEAN + figure.format(blend="mix-blend-mode: multiply"), "fig99_clean.html", 420) == []



def test_a_pinned_first_column_may_be_opaque_only_with_its_own_shadow(browser):
    # a first column kept in view (position: sticky) covers the left cue; its own shadow marks the edge instead
    table = ("<div class='cell_output'><div class='scroll' style='" + CUE + "'><table style='width:900px'><tr>"
             "<td style='position:sticky;left:0;background:#fff;{shadow}'>name</td><td>value</td></tr></table>"
             "</div></div>")
    shadowed = table.format(shadow="box-shadow: 3px 0 4px -2px rgba(0,0,0,0.25)")
    assert not any("scroll cue" in p for p in _problems(browser, CLEAN + shadowed, "fig99_clean.html", 420))
    bare = _problems(browser, CLEAN + table.format(shadow=""), "fig99_clean.html", 420)
    assert any("scroll cue hidden under an opaque table cell" in p for p in bare)


def test_a_page_wider_than_the_screen_is_caught(browser):
    # a long dotted name that cannot break widens the whole page on a phone
    wide = CLEAN + "<p><code style='white-space:nowrap'>" + "reptheory.networks.structure." * 4 + "</code></p>"
    assert any("the page is" in p and "on a 420 px screen" in p
               for p in _problems(browser, wide, "fig99_clean.html", 420))


def test_inline_maths_cut_off_by_its_box_is_caught(browser):
    # MathJax does not break inline maths: a long formula in a claim box (overflow hidden) loses its end
    box = ("<div class='admonition' style='overflow:hidden;width:200px'><p>settles at <mjx-container "
           "style='display:inline-block;width:{w}px'>x</mjx-container></p></div>")
    assert any("mjx-container cut off" in p for p in _problems(browser, CLEAN + box.format(w=400), "fig99_clean.html"))
    assert _problems(browser, CLEAN + box.format(w=100), "fig99_clean.html") == []

def test_displayed_maths_far_smaller_than_the_inline_maths_is_caught(browser):
    # MathJax scales inline and displayed maths alike; a rule that sets displayed maths to 88 % of the text,
    # overriding MathJax's 127.3 %, leaves it at 69 % of the inline maths
    page = ("<p>inline <mjx-container>x</mjx-container></p><div class='scroll'>"
            "<mjx-container display='true' style='display:block;font-size:{size}'>y</mjx-container></div>")
    assert any("displayed maths at 69 %" in p
               for p in _problems(browser, CLEAN + page.format(size="69%"), "fig99_clean.html", 420))
    assert _problems(browser, CLEAN + page.format(size="88%"), "fig99_clean.html", 420) == []


def test_a_figure_shrunk_below_its_drawn_width_is_caught(browser):
    wide = f"<div class='cell_output'><img alt='Figure' src='{_png(1400)}' style='max-width:100%'></div>"
    fits = f"<div class='cell_output'><img alt='Figure' src='{_png(590)}' style='max-width:100%'></div>"
    assert any("drawn 1400 px wide" in p for p in _problems(browser, CLEAN + wide, "fig99_clean.html"))
    assert _problems(browser, CLEAN + fits, "fig99_clean.html") == []


def test_a_phone_figure_fitted_to_the_screen_must_open_at_full_size_on_a_tap(browser):
    style = "<style>img.rt-fit { max-width: 100%; }</style>"
    tap = ("<script>document.querySelectorAll('img.rt-fit').forEach(i => i.addEventListener('click', () => "
           "i.classList.toggle('rt-fit')))</script>")
    fitted = f"{style}<div class='cell_output scroll'><img class='rt-fit' alt='Figure' src='{_png(780)}'></div>"
    assert any("a tap does not show at full size" in p
               for p in _problems(browser, CLEAN + fitted, "fig99_clean.html", 420))
    assert _problems(browser, CLEAN + fitted + tap, "fig99_clean.html", 420) == []
    # on the desktop a shrunk figure is a defect even if fitted
    assert any("drawn 1400 px wide" in p for p in _problems(
        browser, CLEAN + f"{style}<div class='cell_output'><img class='rt-fit' alt='Figure' src='{_png(1400)}'>"
                         "</div>" + tap, "fig99_clean.html"))


def test_a_figure_page_without_its_sections_is_caught(browser):
    problems = _problems(browser, "<h1>Fig. 99</h1><p>only a figure</p>", "fig99_bare.html")
    assert any("without its Claim, Checks, Findings" in p for p in problems)
    assert _problems(browser, "<h1>Notes</h1><p>not a figure page</p>", "notes.html") == []


def test_broken_cross_references_are_caught(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    (book / "a.html").write_text('<p id="here">x</p>'
                                 '<a class="reference internal" href="b.html#there">ok</a>'
                                 '<a class="reference internal" href="#here">ok</a>'
                                 '<a class="reference internal" href="b.html#missing">bad anchor</a>'
                                 '<a class="reference internal" href="c.html">bad page</a>')
    (book / "b.html").write_text('<h1 id="there">b</h1>')
    problems = check_pages.broken_links(tmp_path, sorted(book.glob("*.html")))
    assert len(problems) == 2
    assert any("b.html#missing" in p for p in problems) and any("c.html" in p for p in problems)


def test_a_warning_left_on_the_page_is_caught():
    page = ('<div class="cell_output docutils container"><div class="output stderr highlight-myst-ansi notranslate">'
            '<div class="highlight"><pre>UserWarning: constrained_layout not applied</pre></div></div></div>')
    assert check_pages.stderr_outputs(page) == ["UserWarning: constrained_layout not applied"]
    assert check_pages.stderr_outputs('<div class="output stream highlight-myst-ansi"><div><pre>ok</pre></div></div>') == []


def test_the_book_wraps_a_long_contents_entry_inside_the_sidebar(browser):
    # the book's script breaks a dotted module name after its dots in the page's Contents, and its stylesheet
    # wraps it there: the entry that runs past a narrow sidebar without them stays inside it with them
    entry = ("<div class='bd-sidebar-secondary' style='position:fixed;right:0;top:0;width:150px'><ul>"
             "<li class='toc-entry'><a>reptheory.sequel.weight_sharing_tests</a></li></ul></div>")
    assert any("Contents entry" in p for p in _problems(browser, CLEAN + entry, "fig99_clean.html"))
    assert not [p for p in _with_book_style(browser, CLEAN + entry, 1400) if "Contents" in p]


def test_a_white_cue_cover_inside_a_tinted_block_is_caught_and_the_book_matches_it(browser):
    # an equation box with the scroll cue inside a tinted theorem: the page's white cover shows as a rectangle
    block = ("<div class='admonition' style='background: rgba(7, 255, 251, 0.1)'><div class='math' "
             "style='overflow-x:auto'>x = 1</div></div>")
    white = block.replace("class='math' style='", "class='math' style='background: linear-gradient(to right, "
                          "#fff 30%, rgba(255,255,255,0)) left center / 40px 100% no-repeat local; ")
    assert any("cover" in p for p in _problems(browser, CLEAN + white, "fig99_clean.html"))
    assert not [p for p in _with_book_style(browser, CLEAN + block, 1400) if "cover" in p]
