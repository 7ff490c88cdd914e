"""Headless-Chromium check of every built page: math typeset, no unexpected console errors or failed
requests, no error output rendered, every figure loaded, and every precomputed slider
(``reptheory.widgets.FrameSlider``) working without a kernel: each range input is moved with the keyboard
(End, or Home when it already sits at the end), and its figure must change.

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


def check(root: pathlib.Path) -> list[str]:
    pages = sorted(root.glob("book/*.html"))
    if not pages:
        return [f"no pages under {root}/book"]
    problems = []
    for html in pages + [root / "index.html"]:
        if html.exists():
            ext = external_resources(html.read_text(encoding="utf-8"))
            if ext:
                problems.append(f"{html.name}: resources from other hosts: {ext}")
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
            n_sliders = page.locator(".rt-slider").count()
            moved, slider_problems = check_sliders(page)
            problems += [f"{html.name}: {m}" for m in slider_problems]
            if n_sliders < EXPECTED_SLIDERS.get(html.name, 0):
                problems.append(f"{html.name}: {n_sliders} sliders, expected at least {EXPECTED_SLIDERS[html.name]}")
            print(f"{html.name}: {n_math} math nodes, {len(msgs)} console messages, {n_sliders} sliders "
                  f"({moved} inputs moved)", flush=True)
            page.close()
        browser.close()
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    root = pathlib.Path(argv[1])
    problems = check(root)
    for p in problems:
        print("PROBLEM:", p)
    print(f"{len(list(root.glob('book/*.html')))} pages checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
