/* A table wider than the text column on a narrow screen (a results table a notebook displays, the settings
   beside the paper's, a Markdown table in the prose) is set as one block per row, each cell under its column's
   heading, so that no column is out of sight; on a wider screen it is a table. A table in a folded block is
   measured when the block opens. */
(function () {
  const NARROW = 600;
  function prose() {
    return [...document.querySelectorAll('article table')].filter(
      t => !t.classList.contains('autosummary') && t.tHead && t.tHead.rows.length);
  }
  function label(t) {
    const heads = [...t.tHead.rows[0].cells].map(c => c.innerText.trim());
    for (const body of t.tBodies)
      for (const row of body.rows)
        [...row.cells].forEach((c, i) => {
          if (heads[i]) c.setAttribute('data-label', heads[i]);
          c.classList.toggle('rt-empty', !c.innerText.trim());     // no heading without a value under it
        });
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
  document.addEventListener('toggle', update, true);     // a folded block (the settings) opened
})();

/* A module's dotted name in a heading (the API reference) may break after a dot on a phone, not inside a
   name ("reptheory.network|s"): a zero-width space after each dot offers the break. The page's Contents
   (the right sidebar) gets the same, so that a long module name wraps inside the sidebar instead of running
   past the window's edge. */
(function () {
  function soften() {
    for (const h of document.querySelectorAll('article h1, article h2, .bd-sidebar-secondary .toc-entry a, ' +
                                              '.prev-next-area .prev-next-title')) {
      const walker = document.createTreeWalker(h, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode())
        if (/^reptheory\./.test(n.nodeValue.trim())) n.nodeValue = n.nodeValue.replace(/\.(?=\w)/g, '.\u200b');
    }
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', soften);
  else soften();
})();

/* On a phone, a figure wider than the text column is first shown fitted to it, so that the whole of it is in
   view, and a tap shows it at the size it was drawn at (its labels readable; the box then scrolls sideways,
   with its edge shadow); another tap fits it again. A line under the figure says which of the two it shows. */
(function () {
  const NARROW = 600;
  const HINT = {fit: 'Fitted to the screen: tap the figure to see it at full size.',
                full: 'Full size: swipe sideways for the rest; tap the figure to fit it to the screen.'};
  function hint(img) {
    let h = img.nextElementSibling;
    if (!(h && h.classList.contains('rt-zoom-hint'))) {
      h = document.createElement('div');
      h.className = 'rt-zoom-hint';
      img.after(h);
    }
    return h;
  }
  function update() {
    for (const img of document.querySelectorAll('div.cell_output img')) {
      if (!img.naturalWidth) continue;
      const box = img.closest('div.cell_output');
      const wide = window.innerWidth <= NARROW && img.naturalWidth > box.clientWidth + 1;
      const full = wide && img.dataset.rtFull === '1';
      img.classList.toggle('rt-fit', wide && !full);
      img.classList.toggle('rt-full', full);
      if (wide) {
        if (!img.dataset.rtZoom) {
          img.dataset.rtZoom = '1';
          img.addEventListener('click', () => {
            img.dataset.rtFull = img.dataset.rtFull === '1' ? '0' : '1';
            update();
          });
        }
        hint(img).textContent = full ? HINT.full : HINT.fit;
      } else if (img.nextElementSibling && img.nextElementSibling.classList.contains('rt-zoom-hint')) {
        img.nextElementSibling.remove();
      }
    }
  }
  window.addEventListener('load', update);
  window.addEventListener('resize', update);
  document.addEventListener('DOMContentLoaded', () => {
    for (const img of document.querySelectorAll('div.cell_output img')) img.addEventListener('load', update);
    update();
  });
})();

/* A number and its unit sign stay on one line: "19 %" does not break before the "%" (a no-break space). */
(function () {
  function glue() {
    const skip = n => n.parentElement && n.parentElement.closest('pre, code, script, style, mjx-container, .math');
    for (const root of document.querySelectorAll('article')) {
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode())
        if (/\d %/.test(n.nodeValue) && !skip(n)) n.nodeValue = n.nodeValue.replace(/(\d) %/g, '$1\u00a0%');
    }
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', glue);
  else glue();
})();

/* What must not break across lines is kept whole (span.rt-whole, reptheory.css): a command-line option
   ("--profile": a browser may break a line after a hyphen, which splits "--" from its name), a number in
   e-notation ("2.7e-11"), a date ("2026-11-30"), in prose, tables, printed output and shown code alike; and
   inline maths with the punctuation that follows it (a line does not start with its comma). The text itself
   is unchanged, so a copied command or number stays as it is. */
(function () {
  const WHOLE = /(?:^|(?<=[\s(\[=]))--?[A-Za-z][\w-]*(?:=\S*)?|\d+(?:\.\d+)?e[-+]\d+|\d{4}-\d{2}-\d{2}/g;
  function wrapText(n) {
    const text = n.nodeValue;
    WHOLE.lastIndex = 0;
    if (!WHOLE.test(text)) return;
    WHOLE.lastIndex = 0;
    const frag = document.createDocumentFragment();
    let last = 0;
    for (const m of text.matchAll(WHOLE)) {
      if (m[0].length > 40) continue;
      frag.append(text.slice(last, m.index));
      const s = document.createElement('span');
      s.className = 'rt-whole';
      s.textContent = m[0];
      frag.append(s);
      last = m.index + m[0].length;
    }
    frag.append(text.slice(last));
    n.replaceWith(frag);
  }
  function keep() {
    const skip = n => n.parentElement && n.parentElement.closest('script, style, mjx-container, .math, span.rt-whole');
    for (const root of document.querySelectorAll('article')) {
      const nodes = [];
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) if (!skip(n)) nodes.push(n);
      nodes.forEach(wrapText);
    }
  }
  function glueMath() {
    for (const m of document.querySelectorAll('article mjx-container:not([display="true"])')) {
      const next = m.nextSibling;
      if (!next || next.nodeType !== Node.TEXT_NODE || !/^[,.;:)]/.test(next.nodeValue)) continue;
      if (m.parentElement.classList.contains('rt-whole')) continue;
      const punct = next.nodeValue.match(/^[,.;:)]+/)[0];
      next.nodeValue = next.nodeValue.slice(punct.length);
      const s = document.createElement('span');
      s.className = 'rt-whole';
      m.replaceWith(s);
      s.append(m, punct);
    }
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', keep);
  else keep();
  window.addEventListener('load', () => {
    const mj = window.MathJax && window.MathJax.startup && window.MathJax.startup.promise;
    if (mj) mj.then(glueMath); else glueMath();
  });
})();

/* The scroll cue's cover (reptheory.css) takes the colour a reader sees behind its box: inside a tinted block (a
   theorem, an assumption, a claim) that is the tint over the page, not the page's own white, which would show
   as a white rectangle around an equation. */
(function () {
  function rgba(el) {
    const m = getComputedStyle(el).backgroundColor.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(',').map(Number);
    return [p[0], p[1], p[2], p.length < 4 ? 1 : p[3]];
  }
  function behind(el) {
    const layers = [];
    for (let a = el.parentElement; a; a = a.parentElement) {
      const c = rgba(a);
      if (c && c[3] > 0) layers.push(c);
      if (c && c[3] >= 1) break;
    }
    let rgb = [255, 255, 255];
    for (const [r, g, b, al] of layers.reverse()) rgb = [r * al + rgb[0] * (1 - al), g * al + rgb[1] * (1 - al),
                                                       b * al + rgb[2] * (1 - al)];
    return 'rgb(' + rgb.map(Math.round).join(', ') + ')';
  }
  function cover() {
    for (const box of document.querySelectorAll('article .admonition div.math, article .admonition div.rt-output, ' +
                                                 'article .admonition div.cell_output'))
      box.style.setProperty('--rt-cover', behind(box));
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', cover);
  else cover();
})();
