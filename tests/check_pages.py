r"""Headless-Chromium check of every built page: math typeset, no unexpected console errors or failed
requests, no error output rendered, every figure loaded, and every precomputed slider
(``reptheory.presentation.widgets.FrameSlider``) working without a kernel: each range input is moved with the keyboard
(End, or Home when it already sits at the end), and its figure must change.

It also looks at each page as a reader would, at 1400 px and at 420 px (:func:`layout_problems`): a displayed
equation, output, code block, table or figure that reaches past the text column without a scroll box of its
own; raw Markdown or TeX in the rendered text (``|---|``, ``**``, ``$…$``, ``\frac``, an unparsed directive
fence); a notebook figure shown below 70 % of the width it was drawn at (its labels shrink with it: draw
it at the shown size instead), except on a phone a figure fitted to the screen that a tap shows at full size
(``_static/reptheory.js``; the check taps it); a displayed equation or a table wider than its
box at either width (:data:`_HIDDEN_JS`: what scrolls out of sight is hidden from
a reader who does not know to scroll); a box that scrolls sideways whose edge shadow is covered by an opaque
table row or a figure, a scroll cue whose cover is not the colour behind its box (a pale rectangle around an
equation in a tinted theorem), and displayed maths set below :data:`MIN_MATH_SCALE` of the inline maths' size
(:data:`_CUE_AND_MATH_JS`); a figure whose alt text is a file path; an entry of the page's Contents that runs
past the sidebar; a figure page without its Claim,
Checks and Findings; a
cross-reference to a page or anchor that does not exist (:func:`broken_links`); a page heavier than
:data:`MAX_PAGE_BYTES`; a warning printed to the page (:func:`stderr_outputs`). A full-page screenshot of every
page at both widths is saved under ``_build/screenshots/`` (not part of the site), so a person can look at the
whole book in a minute.

Usage: ``python tests/check_pages.py _build/html`` (needs Debian's chromium at /usr/bin/chromium, or
``CHROMIUM=/path``). Exits non-zero and lists the problems on failure. Runs offline: the book must not
need the network.
"""
from __future__ import annotations

import os
import pathlib
import re
import sys

from playwright.sync_api import sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
# Console noise that every Jupyter Book 1 page produces (see the project's ecosystem notes):
BENIGN = ("THEBE_JS_URL' has already been declared",   # sphinx-thebe adds its config script twice
          "Got invalid theme mode",                     # pydata-sphinx-theme with empty localStorage
          "reading 'Queue'")                            # widget html-manager calling MathJax 2 API
# pages that must carry sliders (at least this many): a page that lost its slider output fails the check
EXPECTED_SLIDERS = {"explorer.html": 1, "phase_diagram.html": 1}
WIDTHS = (1400, 420)
#: no page may weigh more than this (bytes of HTML, precomputed slider frames included): the explorer's 168
#: frames drawn at the column's width (780 px, 64 colours) weigh about 3.0 MB
MAX_PAGE_BYTES = 3_200_000
#: a notebook figure displayed below this fraction of its drawn width is flagged (at the widest viewport)
MIN_IMAGE_SCALE = 0.7
#: figure pages (figNN_*.html) must have these section headings
FIGURE_SECTIONS = ("Checks", "Findings")

# Runs in the page: every element that reaches past the article's text column without an ancestor (inside
# the column) that scrolls sideways. ``overflow: hidden`` clips, so it does not count as a way to see it. Inline
# maths counts too: MathJax does not break it, so a long formula in a sentence can run out of its box.
_OVERFLOW_JS = """() => {
  const art = document.querySelector('article.bd-article') || document.querySelector('article');
  if (!art) return [];
  const ar = art.getBoundingClientRect();
  const sel = 'mjx-container, div.cell_output pre, div.cell_input pre, div.highlight pre, ' +
              'div.cell_output img, img, table, div.cell_output > div';
  const out = [];
  for (const e of art.querySelectorAll(sel)) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const own = getComputedStyle(e).overflowX;
    if (e.scrollWidth > e.clientWidth + 1 && own !== 'auto' && own !== 'scroll' && e.tagName !== 'MJX-CONTAINER') {
      // its content runs past its own box (visible: over the page; hidden: cut off) unless an ancestor scrolls
      let scrolls = false;
      for (let a = e.parentElement; a && a !== art; a = a.parentElement) {
        const st = getComputedStyle(a);
        if (st.overflowX === 'auto' || st.overflowX === 'scroll') { scrolls = true; break; }
      }
      if (!scrolls) {
        out.push(e.tagName.toLowerCase() + ' content wider than its box: ' +
                 (e.innerText || '').replace(/\\s+/g, ' ').slice(0, 60));
        continue;
      }
    }
    if (r.right <= ar.right + 1 && r.left >= ar.left - 1) {
      // inside the column; still clipped if a clipping ancestor cuts it and nothing scrolls
      let cut = false, scrolls = false;
      for (let a = e.parentElement; a && a !== art; a = a.parentElement) {
        const st = getComputedStyle(a);
        if (st.overflowX === 'auto' || st.overflowX === 'scroll') { scrolls = true; break; }
        if (st.overflowX === 'hidden' || st.overflowX === 'clip') {
          const ra = a.getBoundingClientRect();
          if (r.left < ra.left - 1 || r.right > ra.right + 1) { cut = true; break; }
        }
      }
      if (cut && !scrolls) out.push(e.tagName.toLowerCase() + ' cut off: ' + (e.innerText || e.src || '').slice(0, 60));
      continue;
    }
    let scrolls = false;
    for (let a = e; a && a !== art; a = a.parentElement) {
      const st = getComputedStyle(a);
      if (st.overflowX === 'auto' || st.overflowX === 'scroll') {
        const ra = a.getBoundingClientRect();
        if (ra.right <= ar.right + 1 && ra.left >= ar.left - 1) { scrolls = true; break; }
      }
    }
    if (!scrolls) out.push(e.tagName.toLowerCase() + ' wider than the column: ' +
                           (e.innerText || e.src || '').replace(/\\s+/g, ' ').slice(0, 60));
  }
  return out;
}"""

# The rendered text without code, math and printed (monospace) output, where | and ** may legitimately appear;
# rendered outputs (Markdown or HTML a cell displayed) are kept: a table that failed to parse shows up there.
_PROSE_JS = """() => {
  const art = (document.querySelector('article.bd-article') || document.querySelector('article'));
  if (!art) return '';
  const c = art.cloneNode(true);
  c.querySelectorAll('pre, code, mjx-container, .math, script, style, div.cell_input, ' +
                     'mjx-assistive-mml, .MathJax, img, dt.sig').forEach(e => e.remove());   // dt.sig: a signature
  return c.innerText;
}"""
_RAW = ((re.compile(r"\|\s*:?-{3,}:?\s*\|"), "a Markdown table rule '|---|'"),
        (re.compile(r"\*\*\S"), "Markdown bold '**'"),
        (re.compile(r"(?<![\w$])\$[^$\s][^$\n]{0,200}?\$(?![\w$])"), "TeX between '$'"),
        (re.compile(r"\\(frac|sqrt|Delta|eta|mathcal|tfrac|begin)\b"), "a TeX command"),
        (re.compile(r"```\{|:::\{"), "an unparsed directive fence"))

# Runs in the page: what a reader must scroll sideways to see although it is part of what the page says: a
# displayed equation wider than its box (its end and its number hidden) and a table wider than its box (its last
# columns hidden; on a phone _static/reptheory.js sets a wide table one block per row, so every column is in
# view) at either width, and a figure whose alt text is a file path.
_HIDDEN_JS = """(desktop) => {
  const art = document.querySelector('article.bd-article') || document.querySelector('article');
  if (!art) return [];
  const out = [];
  const box = e => { for (let a = e; a && a !== art; a = a.parentElement) {
                       const st = getComputedStyle(a);
                       if (st.overflowX === 'auto' || st.overflowX === 'scroll') return a; }
                     return null; };
  const sel = 'mjx-container[display="true"], table';
  for (const e of art.querySelectorAll(sel)) {
    const b = box(e), r = e.getBoundingClientRect();
    if (!b || r.width === 0 || r.height === 0) continue;
    if (b.scrollWidth > b.clientWidth + 1) {
      const what = e.tagName === 'TABLE' ? 'a table' : 'an equation';
      out.push(what + ' wider than its box (' + b.scrollWidth + ' px in ' + b.clientWidth + ' px; the rest scrolls ' +
               'out of sight): ' + (e.innerText || e.textContent || '').replace(/\\s+/g, ' ').slice(0, 50));
    }
  }
  for (const e of document.querySelectorAll('.bd-sidebar-primary, .bd-sidebar-primary div'))
    if (e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0) {   // it could scroll sideways, cutting entries
      out.push("the sidebar's entries are wider than the sidebar (" + e.scrollWidth + ' px in ' + e.clientWidth +
               ' px)');
      break;
    }
  for (const side of document.querySelectorAll('.bd-sidebar-secondary')) {   // the page's Contents
    const box = side.getBoundingClientRect();
    if (box.width === 0 || box.left >= window.innerWidth - 1) continue;    // hidden (a phone's closed drawer)
    const right = Math.min(box.right, window.innerWidth);
    const cut = [...side.querySelectorAll('a')].find(a => a.getBoundingClientRect().right > right + 1);
    if (cut) out.push('a Contents entry runs past the sidebar (' + Math.round(cut.getBoundingClientRect().right) +
                      ' px, the sidebar ends at ' + Math.round(right) + ' px): ' + cut.innerText.slice(0, 40));
  }
  if (desktop)                                // a desktop: an API name in a summary table stays on one line
    for (const c of art.querySelectorAll('table.autosummary td:first-child code'))
      if (c.getClientRects().length > 1)
        out.push('an API name broken over ' + c.getClientRects().length + ' lines: ' + c.innerText.slice(0, 40));
  for (const i of art.querySelectorAll('img')) {
    const alt = i.getAttribute('alt');
    if (alt === null || /\\.(png|jpe?g|svg|gif)$/i.test(alt) || alt.includes('_images/'))   // alt="": decorative
      out.push('a figure ' + (alt === null ? 'without alt text' : 'whose alt text is its file path ' + alt.slice(0, 40)));
  }
  return out;
}"""

#: a displayed equation set below this fraction of the inline maths' size is hard to read on a phone (its
#: subscripts and fractions shrink with it; the book sets them at three quarters to fit a 420 px screen)
MIN_MATH_SCALE = 0.75

# The scroll cue of ``_static/reptheory.css`` is the scrolling box's background, so what fills the box must let
# it through: a box that scrolls sideways with an opaque table row or cell in it, or with a figure over its edge
# that is not multiplied onto the background, hides the cue from the reader (a column pinned at the left edge,
# ``position: sticky``, may be opaque if it casts its own shadow: that marks where the rest scrolls under it).
# And a displayed equation set far
# smaller than the inline maths (a font-size rule that overrides MathJax's own scale) is unreadable on a phone.
_CUE_AND_MATH_JS = """(minMath) => {
  const art = document.querySelector('article.bd-article') || document.querySelector('article');
  if (!art) return [];
  const out = [];
  const opaque = e => { const m = getComputedStyle(e).backgroundColor.match(/rgba?\\(([^)]+)\\)/);
                        if (!m) return false;
                        const p = m[1].split(',').map(Number);
                        return p.length < 4 || p[3] >= 0.99; };
  for (const b of art.querySelectorAll('*')) {
    const st = getComputedStyle(b);
    if (!(st.overflowX === 'auto' || st.overflowX === 'scroll') || b.scrollWidth <= b.clientWidth + 1) continue;
    if (!st.backgroundImage.includes('gradient')) continue;
    const pinned = e => { const s = getComputedStyle(e); return s.position === 'sticky' && s.boxShadow !== 'none'; };
    const cover = [...b.querySelectorAll('tr, th, td')].find(e => opaque(e) && !pinned(e));
    if (cover)
      out.push('a scroll cue hidden under an opaque table ' + (cover.tagName === 'TR' ? 'row' : 'cell') + ': ' +
               (cover.innerText || '').replace(/\\s+/g, ' ').slice(0, 40));
    const edge = b.getBoundingClientRect().right;
    const img = [...b.querySelectorAll('img')].find(i => getComputedStyle(i).mixBlendMode !== 'multiply' &&
                                                         i.getBoundingClientRect().right > edge + 1);
    if (img) out.push('a scroll cue hidden under a figure that reaches past its box');
  }
  // the cue's cover (the first gradient's colour) must be the colour behind the box, or it shows as a pale
  // rectangle around an equation in a tinted block (a theorem, a claim)
  const rgba = e => { const m = getComputedStyle(e).backgroundColor.match(/rgba?\\(([^)]+)\\)/);
                      if (!m) return null; const p = m[1].split(',').map(Number);
                      return [p[0], p[1], p[2], p.length < 4 ? 1 : p[3]]; };
  const behind = e => { const layers = [];
                        for (let a = e.parentElement; a; a = a.parentElement) {
                          const c = rgba(a); if (c && c[3] > 0) layers.push(c); if (c && c[3] >= 1) break; }
                        let rgb = [255, 255, 255];
                        for (const [r, g, b, al] of layers.reverse())
                          rgb = [r * al + rgb[0] * (1 - al), g * al + rgb[1] * (1 - al), b * al + rgb[2] * (1 - al)];
                        return rgb; };
  for (const b of art.querySelectorAll('*')) {
    const img = getComputedStyle(b).backgroundImage;          // a cover: a gradient that scrolls with the content
    if (!img.startsWith('linear-gradient') || !getComputedStyle(b).backgroundAttachment.startsWith('local') ||
        b.getBoundingClientRect().width === 0) continue;
    const m = img.match(/rgba?\\(([^)]+)\\)/);
    if (!m) continue;
    const c = m[1].split(',').map(Number), under = behind(b);
    if ((c.length < 4 || c[3] >= 0.99) && Math.max(...[0, 1, 2].map(i => Math.abs(c[i] - under[i]))) > 6) {
      out.push('a scroll cue whose cover (rgb ' + c.slice(0, 3).join(', ') + ') differs from the colour behind ' +
               'its box (rgb ' + under.map(Math.round).join(', ') + '): a pale rectangle around ' +
               (b.innerText || b.textContent || '').replace(/\\s+/g, ' ').slice(0, 30));
      break;
    }
  }
  const inline = art.querySelector('mjx-container:not([display="true"])');
  if (inline) {
    const base = parseFloat(getComputedStyle(inline).fontSize);
    for (const d of art.querySelectorAll('mjx-container[display="true"]')) {
      const f = parseFloat(getComputedStyle(d).fontSize);
      if (f < minMath * base) {
        out.push('displayed maths at ' + Math.round(100 * f / base) + ' % of the size of the inline maths: ' +
                 (d.innerText || d.textContent || '').replace(/\\s+/g, ' ').slice(0, 40));
        break;
      }
    }
  }
  return out;
}"""

# A figure shown below its drawn width, except one fitted to a phone's screen that a tap shows at full size
# (reptheory.js): each such figure is tapped, measured, and tapped back.
_SMALL_IMAGES_JS = """(minScale) => {
  const out = [];
  for (const i of document.querySelectorAll('div.cell_output img')) {
    const shown = () => i.getBoundingClientRect().width;
    if (!(i.naturalWidth > 0) || shown() >= minScale * i.naturalWidth) continue;
    if (window.innerWidth <= 600 && i.classList.contains('rt-fit')) {
      i.click();
      const full = shown();
      i.click();
      if (full >= minScale * i.naturalWidth) continue;
      out.push('a figure fitted to the screen that a tap does not show at full size (' + Math.round(full) +
               ' of ' + i.naturalWidth + ' px)');
      continue;
    }
    out.push('a figure drawn ' + i.naturalWidth + ' px wide is shown at ' + Math.round(shown()) + ' px');
  }
  return out;
}"""


def layout_problems(page, name: str, width: int) -> list[str]:
    """What a reader would see wrong on the open ``page`` at viewport ``width`` (see the module docstring)."""
    problems = [f"{name} @{width}px: {m}" for m in page.evaluate(_OVERFLOW_JS)]
    page_width = page.evaluate("document.documentElement.scrollWidth")
    if page_width > width + 1:      # something (a long inline name) widens the whole page: it scrolls sideways
        problems.append(f"{name} @{width}px: the page is {page_width} px wide on a {width} px screen")
    problems += [f"{name} @{width}px: {m}" for m in page.evaluate(_HIDDEN_JS, width == max(WIDTHS))]
    problems += [f"{name} @{width}px: {m}" for m in page.evaluate(_CUE_AND_MATH_JS, MIN_MATH_SCALE)]
    prose = page.evaluate(_PROSE_JS)
    for pattern, what in _RAW:
        m = pattern.search(prose)
        if m:
            problems.append(f"{name} @{width}px: raw text in the prose, {what}: {m.group(0)[:60]!r}")
    for m in page.evaluate(_SMALL_IMAGES_JS, MIN_IMAGE_SCALE):
        problems.append(f"{name} @{width}px: {m} (below {MIN_IMAGE_SCALE:.0%}; draw it at the shown size, or on a "
                        "phone fit it with a tap to full size)")
    if re.fullmatch(r"fig\d\d[a-z]?_.*\.html", name):
        heads = page.evaluate("[...document.querySelectorAll('article h2, article h3')].map(h => h.innerText)")
        heads = [h.rstrip("#").strip() for h in heads]
        has_claim = page.evaluate("!!document.querySelector('article .admonition')"
                                  " && [...document.querySelectorAll('article .admonition-title')]"
                                  ".some(t => t.innerText.startsWith('Claim'))")
        missing = [s for s in FIGURE_SECTIONS if not any(h.startswith(s) for h in heads)]
        if not has_claim:
            missing.insert(0, "Claim")
        if missing and width == max(WIDTHS):
            problems.append(f"{name}: a figure page without its {', '.join(missing)} section(s)")
    return problems


def check_sliders(page) -> tuple[int, list[str]]:
    """Move every range input of every ``.rt-slider`` on ``page``; returns (inputs moved, problems)."""
    problems, moved = [], 0
    sliders = page.locator(".rt-slider")
    for i in range(sliders.count()):
        sl = sliders.nth(i)
        img = sl.locator("img.rt-frame")
        inputs = sl.locator("input[type=range]")
        if inputs.count() == 0:
            problems.append(f"slider {i}: no range inputs")
        for k in range(inputs.count()):
            inp = inputs.nth(k)
            before_src, before_val = img.get_attribute("src"), inp.input_value()
            inp.focus()
            page.keyboard.press("End")
            if inp.input_value() == before_val:
                page.keyboard.press("Home")
            after_val = inp.input_value()
            if after_val == before_val:
                problems.append(f"slider {i} input {k}: the keyboard did not move it")
            elif img.get_attribute("src") == before_src:
                problems.append(f"slider {i} input {k}: moved {before_val} -> {after_val} but the figure did not change")
            else:
                moved += 1
            inp.fill(before_val)       # back to the start, so that the next input is tested from there
    return moved, problems


_EXTERNAL = re.compile(r"""<(?:script|link|img)\b[^>]*\b(?:src|href)=["'](?:https?:)?//""", re.I)


def external_resources(html: str) -> list[str]:
    """Scripts, stylesheets and images loaded from another host (the book must be self-contained;
    ordinary links to other sites are fine)."""
    return [m.group(0)[:120] for m in _EXTERNAL.finditer(html)]


_HREF = re.compile(r'<a\b[^>]*class="[^"]*reference internal[^"]*"[^>]*href="([^"]*)"')
_ID = re.compile(r'\bid="([^"]+)"')


_STDERR = re.compile(r'<div class="output stderr[^"]*">\s*<div[^>]*><pre>(.*?)</pre>', re.S)


def stderr_outputs(html: str) -> list[str]:
    """The text of every stderr output a notebook left on the page (a warning a reader should not see)."""
    return [m.group(1).strip() for m in _STDERR.finditer(html)]


def broken_links(root: pathlib.Path, pages) -> list[str]:
    """Internal cross-references (Sphinx's ``a.reference.internal``) whose target page or anchor does not
    exist in the built site."""
    ids: dict[pathlib.Path, set] = {}
    problems = []
    for html in pages:
        text = html.read_text(encoding="utf-8")
        for href in set(_HREF.findall(text)):
            path, _, anchor = href.partition("#")
            target = (html.parent / path).resolve() if path else html.resolve()
            if not target.exists():
                problems.append(f"{html.name}: a cross-reference to a page that does not exist: {href}")
                continue
            if anchor:
                if target not in ids:
                    ids[target] = set(_ID.findall(target.read_text(encoding="utf-8")))
                if anchor not in ids[target]:
                    problems.append(f"{html.name}: a cross-reference to an anchor that does not exist: {href}")
    return problems


def check(root: pathlib.Path, part: int = 0, parts: int = 1) -> list[str]:
    """Every check on the built book under ``root``; with ``parts > 1``, only every ``parts``-th page from
    ``part`` on in the browser (the site-wide checks run in part 0)."""
    pages = sorted(root.glob("book/*.html")) + sorted(root.glob("book/api/*.html"))   # the chapters, the reference
    if not pages:
        return [f"no pages under {root}/book"]
    problems = []
    if part == 0:
        problems = broken_links(root, pages)
        problems += _external(root, pages)
    pages = pages[part::parts]
    _browse(root, pages, problems)
    return problems


def _external(root: pathlib.Path, pages) -> list[str]:
    problems = [f"{html.name}: {html.stat().st_size:,} bytes, above the {MAX_PAGE_BYTES:,} allowed"
                for html in pages if html.stat().st_size > MAX_PAGE_BYTES]
    problems += [f"{html.name}: a warning or error printed to the page (stderr output): {m[:80]!r}"
                 for html in pages for m in stderr_outputs(html.read_text(encoding="utf-8"))]
    for html in pages + [root / "index.html"]:
        if html.exists():
            ext = external_resources(html.read_text(encoding="utf-8"))
            if ext:
                problems.append(f"{html.name}: resources from other hosts: {ext}")
    return problems


def _browse(root: pathlib.Path, pages, problems: list[str]) -> None:
    exe = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, headless=True, args=ARGS)
        for html in pages:
            page = browser.new_page()
            msgs, failed = [], []
            page.on("console", lambda m: msgs.append((m.type, m.text)))
            page.on("pageerror", lambda e: msgs.append(("pageerror", str(e))))
            page.on("requestfailed", lambda r: failed.append(r.url))
            page.goto(html.resolve().as_uri(), wait_until="load")
            page.wait_for_timeout(500)
            has_mathjax = page.evaluate("!!(window.MathJax && MathJax.startup && MathJax.startup.promise)")
            n_math = page.evaluate("document.querySelectorAll('.math').length")
            if has_mathjax:
                page.evaluate("MathJax.startup.promise")
            elif n_math:
                problems.append(f"{html.name}: {n_math} math nodes but MathJax did not load")
            untypeset = page.evaluate(
                "[...document.querySelectorAll('.math')].filter(e => !e.querySelector('mjx-container')).length")
            mjx_errors = page.evaluate("document.querySelectorAll('mjx-merror').length")
            broken_imgs = page.evaluate(
                "[...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
            text = page.inner_text("article")
            errors = [m for m in msgs if m[0] in ("error", "pageerror") and not any(b in m[1] for b in BENIGN)]
            failed = [u for u in failed if not u.endswith((".woff", ".woff2", ".ttf", ".eot", ".svg"))]
            for cond, msg in ((untypeset, f"{untypeset} untypeset math nodes"),
                              (mjx_errors, f"{mjx_errors} MathJax errors"),
                              (broken_imgs, f"images that did not load: {broken_imgs}"),
                              (errors, f"console errors: {errors}"),
                              (failed, f"failed requests: {failed}"),
                              ("Traceback (most recent call last)" in text, "a rendered traceback")):
                if cond:
                    problems.append(f"{html.name}: {msg}")
            shots = root.parent / "screenshots" if root.name == "html" else root / "_screenshots"
            shots.mkdir(parents=True, exist_ok=True)
            for w in WIDTHS:
                page.set_viewport_size({"width": w, "height": 900})
                page.wait_for_timeout(300)
                problems += layout_problems(page, html.name, w)
                page.screenshot(path=str(shots / f"{html.stem}-{w}.png"), full_page=True)
            page.set_viewport_size({"width": max(WIDTHS), "height": 900})
            n_sliders = page.locator(".rt-slider").count()
            moved, slider_problems = check_sliders(page)
            problems += [f"{html.name}: {m}" for m in slider_problems]
            if n_sliders < EXPECTED_SLIDERS.get(html.name, 0):
                problems.append(f"{html.name}: {n_sliders} sliders, expected at least {EXPECTED_SLIDERS[html.name]}")
            print(f"{html.name}: {n_math} math nodes, {len(msgs)} console messages, {n_sliders} sliders "
                  f"({moved} inputs moved)", flush=True)
            page.close()
        browser.close()


def _check_part(args) -> list[str]:
    root, part, parts = args
    return check(root, part, parts)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    root = pathlib.Path(argv[1])
    # two browsers at once, each on every other page (the rendering is CPU-bound; CI has two cores)
    from concurrent.futures import ProcessPoolExecutor
    parts = int(os.environ.get("CHECK_PAGES_PROCESSES", "2"))
    with ProcessPoolExecutor(parts) as pool:
        problems = [p for part in pool.map(_check_part, [(root, k, parts) for k in range(parts)]) for p in part]
    for p in problems:      # a text cut inside a surrogate pair (MathJax's maths letters) printed as U+FFFD
        print("PROBLEM:", p.encode("utf-16", "surrogatepass").decode("utf-16", "replace"))
    print(f"{len(list(root.glob('book/*.html'))) + len(list(root.glob('book/api/*.html')))} pages checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
