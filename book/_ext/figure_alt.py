"""Sphinx extension: a notebook figure's alt text says what it is, not where its file lies.

myst-nb gives an image from a cell's output no alt text, and the HTML writer then uses its file path. Each such
image gets, in order of preference: the cell's own ``mystnb: image: alt`` metadata (left as it is), the caption of
the figure it sits in, or "Figure: " with the title of its section and of its page ("Figure: Checks — Fig. 2: …").
"""
from __future__ import annotations

from docutils import nodes


def _title(node) -> str | None:
    for child in node.children:
        if isinstance(child, nodes.title):
            return child.astext()
    return None


def _alt_text(image) -> str:
    parent = image.parent
    while parent is not None:
        if isinstance(parent, nodes.figure):
            caption = next((c.astext() for c in parent.children if isinstance(c, nodes.caption)), None)
            if caption:
                return caption
        parent = parent.parent
    sections, node = [], image.parent
    while node is not None:
        if isinstance(node, nodes.section) and _title(node):
            sections.append(_title(node))
        node = node.parent
    if not sections:
        return "Figure"
    page, here = sections[-1], sections[0]
    return f"Figure: {here}" if here == page else f"Figure: {here} — {page}"


def _set_alt(app, doctree, docname):
    for image in doctree.findall(nodes.image):
        alt = image.get("alt")
        if not alt or alt == image.get("uri") or alt.endswith((".png", ".jpg", ".svg")):
            image["alt"] = _alt_text(image)


def setup(app):
    app.connect("doctree-resolved", _set_alt)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
