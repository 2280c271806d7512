#!/usr/bin/env node
'use strict';
// Static checks over the built public/ directory:
//  (5) every internal href/src resolves to a file, every #fragment to an id on the target page;
//  (6) the mandatory pages are linked from every page's footer, and the accessibility
//      statement names a feedback contact.
// Usage: node links.js <public-dir> [--base-url http://127.0.0.1:8080]
// Exit status 1 on any finding.

const fs = require('fs');
const path = require('path');
const { scanTags, lineOf } = require('./lib/html');

const args = process.argv.slice(2);
const root = path.resolve(args[0] || 'public');
const baseIdx = args.indexOf('--base-url');
const baseUrl = baseIdx >= 0 ? args[baseIdx + 1].replace(/\/$/, '') : '';

const MANDATORY = [
  { href: '/impressum/', name: 'Impressum' },
  { href: '/datenschutz/', name: 'Datenschutzerklärung' },
  { href: '/barrierefreiheit/', name: 'Erklärung zur Barrierefreiheit' },
  { href: '/leichte-sprache/', name: 'Leichte Sprache' },
];
// Served by the form backend / the dev server, not part of public/.
const SKIP_PREFIXES = ['/forms/', '/__campus/'];
const LINK_ATTRS = { a: ['href'], area: ['href'], link: ['href'], img: ['src', 'srcset'], script: ['src'],
  source: ['src', 'srcset'], video: ['src', 'poster'], audio: ['src'], iframe: ['src'], track: ['src'],
  object: ['data'], form: ['action'], use: ['href', 'xlink:href'], image: ['href'] };

function walk(dir, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out); else out.push(p);
  }
  return out;
}

const files = walk(root);
const htmlFiles = files.filter((f) => f.endsWith('.html'));
const pages = new Map(); // abs file -> { html, tags, ids }
function load(file) {
  if (!pages.has(file)) {
    const html = fs.readFileSync(file, 'utf8');
    const tags = scanTags(html);
    const ids = new Set();
    for (const t of tags) {
      if (t.attrs.id !== undefined) ids.add(t.attrs.id);
      if (t.name === 'a' && t.attrs.name !== undefined) ids.add(t.attrs.name);
    }
    pages.set(file, { html, tags, ids });
  }
  return pages.get(file);
}

// URL path (already without query/fragment) -> file in public/, or null.
function resolvePath(urlPath) {
  let p;
  try { p = decodeURIComponent(urlPath); } catch { return null; }
  const abs = path.join(root, p);
  if (!abs.startsWith(root)) return null;
  const candidates = p.endsWith('/') ? [path.join(abs, 'index.html')] : [abs, path.join(abs, 'index.html'), abs + '.html'];
  for (const c of candidates) {
    try { if (fs.statSync(c).isFile()) return c; } catch { /* next */ }
  }
  return null;
}

const problems = []; // { page, detail } – grouped by detail when printed
function problem(page, detail) { problems.push({ page, detail }); }
let checkedLinks = 0;
let checkedAnchors = 0;

for (const file of htmlFiles) {
  const rel = '/' + path.relative(root, file).split(path.sep).join('/');
  const pageUrl = rel.endsWith('/index.html') ? rel.slice(0, -'index.html'.length) : rel;
  const page = load(file);
  const footerStart = page.html.search(/<footer\b/i);
  const footerEnd = page.html.search(/<\/footer\s*>/i);

  for (const t of page.tags) {
    const attrs = LINK_ATTRS[t.name];
    if (!attrs) continue;
    for (const attr of attrs) {
      const raw = t.attrs[attr];
      if (raw === undefined) continue;
      const values = attr === 'srcset' ? raw.split(',').map((s) => s.trim().split(/\s+/)[0]).filter(Boolean) : [raw.trim()];
      for (let value of values) {
        const at = `${rel}:${lineOf(page.html, t.index)}`;
        const link = `<${t.name} ${attr}="${value}">`;
        if (value === '') { problem(at, `${link}: leerer Verweis`); continue; }
        if (baseUrl && (value === baseUrl || value.startsWith(baseUrl + '/') || value.startsWith(baseUrl + '#'))) {
          value = value.slice(baseUrl.length) || '/';
        }
        if (/^[a-z][a-z0-9+.-]*:/i.test(value) || value.startsWith('//')) continue; // external, mailto:, tel:, data:
        let url;
        try { url = new URL(value, 'http://site.invalid' + pageUrl); } catch { problem(at, `${link}: ungültige Adresse`); continue; }
        if (SKIP_PREFIXES.some((s) => url.pathname.startsWith(s))) continue;
        checkedLinks++;
        const target = resolvePath(url.pathname);
        if (!target) { problem(at, `${link}: Ziel ${url.pathname} existiert nicht in public/`); continue; }
        const frag = url.hash ? url.hash.slice(1) : '';
        if (frag && target.endsWith('.html')) {
          checkedAnchors++;
          let id;
          try { id = decodeURIComponent(frag); } catch { id = frag; }
          if (id !== 'top' && !load(target).ids.has(id)) {
            problem(at, `${link}: Anker #${id} fehlt auf ${url.pathname}`);
          }
        }
      }
    }
  }

  // (6) mandatory links inside <footer>
  if (footerStart < 0 || footerEnd < footerStart) {
    problem(rel, 'kein <footer> gefunden (Pflichtlinks fehlen)');
  } else {
    const footerHrefs = new Set(page.tags
      .filter((t) => t.name === 'a' && t.index > footerStart && t.index < footerEnd && t.attrs.href)
      .map((t) => t.attrs.href.replace(baseUrl, '')));
    for (const m of MANDATORY) {
      if (!footerHrefs.has(m.href)) problem(rel, `Fußzeile verlinkt nicht ${m.name} (${m.href})`);
    }
  }
}

// Accessibility statement: must name a feedback contact (e-mail or link to the contact form).
const statement = resolvePath('/barrierefreiheit/');
if (!statement) {
  problem('/barrierefreiheit/', 'Erklärung zur Barrierefreiheit fehlt');
} else {
  const main = (load(statement).html.match(/<main\b[\s\S]*?<\/main>/i) || [''])[0];
  if (!/feedback|kontakt/i.test(main) || !(/[\w.+-]+@[\w-]+\.[\w.-]+/.test(main) || /href="\/kontakt\/"/.test(main))) {
    problem('/barrierefreiheit/', 'kein Feedback-Kontakt (E-Mail-Adresse oder Kontaktformular) gefunden');
  }
}

console.log(`Links: ${htmlFiles.length} HTML-Seiten, ${checkedLinks} interne Verweise, ${checkedAnchors} Anker geprüft.`);
if (problems.length) {
  const groups = new Map();
  for (const p of problems) { if (!groups.has(p.detail)) groups.set(p.detail, []); groups.get(p.detail).push(p.page); }
  console.log(`${problems.length} Problem(e), ${groups.size} verschiedene:`);
  for (const [detail, where] of groups) {
    const shown = where.slice(0, 4).join(', ') + (where.length > 4 ? `, … (+${where.length - 4})` : '');
    console.log(`  - ${detail}\n      ${where.length}× in ${shown}`);
  }
  process.exit(1);
}
console.log('Links, Anker und Pflichtlinks in der Fußzeile: in Ordnung.');
