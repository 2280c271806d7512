'use strict';
// Tiny HTML scanner for the generator's own output: enough to collect tags, attributes
// and ids without a parser dependency. Comments, <script> and <style> bodies are skipped.

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

function decodeEntities(s) {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e) => {
    if (e[0] === '#') {
      const n = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(n) ? String.fromCodePoint(n) : m;
    }
    const v = ENTITIES[e.toLowerCase()];
    return v === undefined ? m : v;
  });
}

function lineOf(text, index) {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

// Returns [{ name, attrs: {name: value}, index, line }] for every start tag.
function scanTags(html) {
  const tags = [];
  const re = /<!--[\s\S]*?-->|<(script|style)\b([^>]*)>[\s\S]*?<\/\1\s*>|<([a-zA-Z][\w:-]*)((?:\s+[^\s=\/>]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*\/?>/g;
  const attrRe = /([^\s=\/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;
  let m;
  while ((m = re.exec(html))) {
    let name, rawAttrs;
    if (m[1]) { name = m[1].toLowerCase(); rawAttrs = m[2]; }
    else if (m[3]) { name = m[3].toLowerCase(); rawAttrs = m[4] || ''; }
    else continue; // comment
    const attrs = {};
    let a;
    attrRe.lastIndex = 0;
    while ((a = attrRe.exec(rawAttrs))) {
      const v = a[2] !== undefined ? a[2] : a[3] !== undefined ? a[3] : a[4] !== undefined ? a[4] : '';
      attrs[a[1].toLowerCase()] = decodeEntities(v);
    }
    tags.push({ name, attrs, index: m.index });
  }
  return tags;
}

module.exports = { scanTags, decodeEntities, lineOf };
