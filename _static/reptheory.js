/* A table in the prose (a Markdown table: "Where the theory fails", the Reproduce page's times) that is wider
   than the text column on a narrow screen is set as one block per row, each cell under its column's heading,
   instead of being cut at the screen's edge (tables a notebook displays scroll sideways instead, with their
   first column kept in view: reptheory.css). */
(function () {
  const NARROW = 600;
  function prose() {
    return [...document.querySelectorAll('article table')].filter(
      t => !t.closest('div.cell_output') && !t.classList.contains('autosummary') && t.tHead);
  }
  function label(t) {
    const heads = [...t.tHead.rows[0].cells].map(c => c.innerText.trim());
    for (const body of t.tBodies)
      for (const row of body.rows)
        [...row.cells].forEach((c, i) => { if (heads[i]) c.setAttribute('data-label', heads[i]); });
  }
  function update() {
    for (const t of prose()) {
      t.classList.remove('rt-stack');
      const box = t.parentElement;
      if (window.innerWidth <= NARROW && t.scrollWidth > box.clientWidth + 1) {
        label(t);
        t.classList.add('rt-stack');
      }
    }
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', update);
  else update();
  window.addEventListener('resize', update);
})();

/* A module's dotted name in a heading (the API reference) may break after a dot on a phone, not inside a
   name ("reptheory.network|s"): a zero-width space after each dot offers the break. */
(function () {
  function soften() {
    for (const h of document.querySelectorAll('article h1, article h2')) {
      const walker = document.createTreeWalker(h, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode())
        if (/^reptheory\./.test(n.nodeValue.trim())) n.nodeValue = n.nodeValue.replace(/\.(?=\w)/g, '.\u200b');
    }
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', soften);
  else soften();
})();
