"""Headless-Chromium check of every built page: math typeset, no unexpected console errors or failed
requests, no error output rendered, every figure loaded.

Usage: ``python tests/check_pages.py _build/html`` (needs Debian's chromium at /usr/bin/chromium, or
``CHROMIUM=/path``). Exits non-zero and lists the problems on failure. Runs offline: the book must not
need the network.
"""
from __future__ import annotations

import os
import pathlib
import sys

from playwright.sync_api import sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
# Console noise that every Jupyter Book 1 page produces (see the project's ecosystem notes):
BENIGN = ("THEBE_JS_URL' has already been declared",   # sphinx-thebe adds its config script twice
          "Got invalid theme mode",                     # pydata-sphinx-theme with empty localStorage
          "reading 'Queue'")                            # widget html-manager calling MathJax 2 API


def check(root: pathlib.Path) -> list[str]:
    pages = sorted(root.glob("book/*.html"))
    if not pages:
        return [f"no pages under {root}/book"]
    problems = []
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
            print(f"{html.name}: {n_math} math nodes, {len(msgs)} console messages", flush=True)
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
