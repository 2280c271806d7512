#!/usr/bin/env node
'use strict';
// Browser checks in headless Chromium (playwright-core + Debian's /usr/bin/chromium)
// against a running `campus serve`:
//  (2) axe-core, WCAG 2.1 A/AA, on every page type
//  (3) real labels for every form field, visible keyboard focus, no horizontal scrolling
//      at 320 px and at 1280 px / 200 % zoom (= 640 CSS px)
//  (4) no request to another origin
//  (7) screenshots of the key pages into qa-artifacts/screenshots/
//  (8) membership calculator without and with JavaScript
// Usage: node browser.js http://127.0.0.1:PORT [--screenshots DIR] [--only path,path]
// Exit status 1 on any finding.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');
const { runAxe } = require('./lib/axe');

const { base, opt } = require('./lib/cli').commandLine('node browser.js http://127.0.0.1:PORT [--screenshots DIR]');
const shotDir = path.resolve(opt('--screenshots', path.join(__dirname, '..', '..', 'qa-artifacts', 'screenshots')));
const origin = new URL(base).host;

const { ARGS: CHROMIUM_ARGS, EXECUTABLE: CHROMIUM } = require('./lib/chromium');

// Every page type. `status` is the expected HTTP status; `shot` names a screenshot.
const PAGES = [
  { type: 'Startseite', path: '/', shot: 'startseite' },
  { type: 'Katalog', path: '/lerneinheiten/', shot: 'katalog' },
  { type: 'Lerneinheit (hybrid)', path: '/lerneinheiten/e-akte-einfuehren/', shot: 'lerneinheit-hybrid' },
  { type: 'Lerneinheit (on demand)', path: '/lerneinheiten/barrierefreie-dokumente/', shot: 'lerneinheit-on-demand' },
  { type: 'Kursliste', path: '/kurse/' },
  { type: 'Kurs', path: '/kurse/digitale-verwaltung-gestalten/' },
  { type: 'Themenliste', path: '/themen/' },
  { type: 'Thema', path: '/themen/e-government/' },
  { type: 'Dozent/in', path: '/dozierende/jens-kuehn/' },
  { type: 'Dozierende', path: '/dozierende/' },
  { type: 'Bildungsanbieter', path: '/anbieter/' },
  { type: 'Veranstaltungen', path: '/veranstaltungen/' },
  { type: 'Veranstaltung', path: '/veranstaltungen/rathausdialog-fruehjahr-2027/' },
  { type: 'Qualitätsmanagement (Seite)', path: '/qualitaet/' },
  { type: 'Kommune (Landingpage)', path: '/kommunen/ahornfeld/', shot: 'kommune' },
  { type: 'Kommunenliste', path: '/kommunen/' },
  { type: 'FAQ', path: '/faq/' },
  { type: 'Mitgliedschaft', path: '/mitgliedschaft/', shot: 'mitgliedschaft' },
  { type: 'Kontakt', path: '/kontakt/' },
  { type: 'Newsletter', path: '/newsletter/' },
  { type: 'Registrierung', path: '/registrierung/' },
  { type: 'Über uns (Seite)', path: '/ueber-uns/' },
  { type: 'Impressum', path: '/impressum/' },
  { type: 'Datenschutz', path: '/datenschutz/' },
  { type: 'Barrierefreiheit', path: '/barrierefreiheit/' },
  { type: 'Leichte Sprache', path: '/leichte-sprache/' },
  { type: 'Gebärdensprache', path: '/gebaerdensprache/' },
  { type: '404', path: '/gibt-es-nicht/', status: 404 },
  { type: 'Formular: Danke (Kontakt)', path: '/formular/danke-kontakt/' },
  { type: 'Formular: Danke (Buchung)', path: '/formular/danke-buchung/' },
  { type: 'Formular: bestätigt', path: '/formular/bestaetigt/' },
  { type: 'Formular: Fehler', path: '/formular/fehler/' },
  { type: 'Suche', path: '/suche/', shot: 'suche' },
  { type: 'Suche: Ergebnisse (Backend, ohne JS)', path: '/forms/suche?q=Datenschutz' },
  { type: 'Suche: „Meinten Sie …?“ (Backend, ohne JS)', path: '/forms/suche?q=Datenschtuz' },
  { type: 'Katalog nach Format', path: '/lerneinheiten/format/hybrid/' },
  { type: 'Katalog nach Niveau', path: '/lerneinheiten/niveau/basiswissen/' },
  { type: 'Katalog gefiltert (Backend, ohne JS)', path: '/forms/katalog?thema=ozg&aufwand=bis-4' },
  { type: 'Katalog gefiltert, Seite 2 (Backend, ohne JS)', path: '/forms/katalog?format=&seite=2' },
  { type: 'Selbstcheck', path: '/selbstcheck/', shot: 'selbstcheck' },
  { type: 'Selbstcheck: Ergebnis (Backend, ohne JS)', path: '/forms/selbstcheck?profil=it-koordination&ist-digitale-grundlagen=1&kommune=ahornfeld', shot: 'selbstcheck-ergebnis' },
  { type: 'Selbstcheck: fehlende Angaben', path: '/forms/selbstcheck?profil=', status: 422 },
];
const only = opt('--only', '');
const pages = only ? PAGES.filter((p) => only.split(',').includes(p.path)) : PAGES;

const failures = []; // { check, page, message }
const counts = {};
// Findings with the same check and message are grouped across pages; `detail` is shown once.
function fail(check, page, message, detail = '') { failures.push({ check, page, message, detail }); }
function ran(check) { counts[check] = (counts[check] || 0) + 1; }

// Form fields without a real label (label element or aria-labelledby; placeholder/title do not count).
async function unlabelledFields(page) {
  return page.evaluate(() => {
    const out = [];
    let checked = 0;
    for (const el of document.querySelectorAll('input, select, textarea')) {
      const type = (el.getAttribute('type') || '').toLowerCase();
      if (['hidden', 'submit', 'button', 'reset', 'image'].includes(type)) continue;
      if (el.name === 'website') continue; // honeypot, visually hidden on purpose
      checked++;
      const texts = [];
      for (const l of el.labels || []) texts.push(l.textContent.trim());
      for (const id of (el.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean)) {
        const ref = document.getElementById(id);
        if (ref) texts.push(ref.textContent.trim());
      }
      if (!texts.some((t) => t.length > 0)) {
        out.push(`<${el.tagName.toLowerCase()}${el.id ? ' id="' + el.id + '"' : ''}${el.name ? ' name="' + el.name + '"' : ''}${type ? ' type="' + type + '"' : ''}>`);
      }
    }
    return { checked, unlabelled: out };
  });
}

// Tab through the page; every focused element must look different from its unfocused self.
async function focusProblems(page, maxTabs = 60) {
  await page.evaluate(() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); });
  const seenKinds = new Set();
  const problems = [];
  let checked = 0;
  for (let i = 0; i < maxTabs; i++) {
    await page.keyboard.press('Tab');
    const r = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      const props = ['outline-style', 'outline-width', 'outline-color', 'outline-offset', 'box-shadow',
        'background-color', 'border-top-color', 'border-bottom-color', 'border-bottom-width', 'text-decoration-line', 'text-decoration-thickness', 'color'];
      const snap = () => { const cs = getComputedStyle(el); const o = {}; for (const p of props) o[p] = cs.getPropertyValue(p); return o; };
      const focused = snap();
      const rect = el.getBoundingClientRect();
      el.blur();
      const plain = snap();
      el.focus();
      const changed = props.filter((p) => focused[p] !== plain[p]);
      const outline = focused['outline-style'] !== 'none' && parseFloat(focused['outline-width']) >= 1 &&
        changed.some((p) => p.startsWith('outline'));
      const shadow = focused['box-shadow'] !== 'none' && changed.includes('box-shadow');
      const other = changed.filter((p) => !p.startsWith('outline') && p !== 'box-shadow');
      const tag = el.tagName.toLowerCase();
      const kind = tag === 'input' ? 'input[' + (el.type || 'text') + ']' : tag;
      const label = (el.getAttribute('aria-label') || el.textContent || el.name || el.id || '').trim().replace(/\s+/g, ' ').slice(0, 50);
      return { kind, label, outline, shadow, other, visible: rect.width > 0 && rect.height > 0 };
    });
    if (!r) break;
    if (seenKinds.has(r.kind + r.label)) continue;
    seenKinds.add(r.kind + r.label);
    checked++;
    const what = `${r.kind} „${r.label}“`;
    if (!r.visible) problems.push({ reason: 'erhält Fokus, ist aber nicht sichtbar', what });
    else if (!r.outline && !r.shadow && r.other.length === 0) problems.push({ reason: 'kein sichtbarer Fokus (Stil mit und ohne Fokus gleich)', what });
    else if (!r.outline && !r.shadow) problems.push({ reason: 'Fokus ohne outline/box-shadow (nur Farbe, Hintergrund, Rahmen oder Unterstreichung ändern sich)', what: `${what} [${r.other.join(', ')}]` });
  }
  return { checked, problems };
}

async function overflowAt(page, width) {
  await page.setViewportSize({ width, height: 900 });
  return page.evaluate(() => {
    const de = document.documentElement;
    if (de.scrollWidth <= window.innerWidth) return null;
    const culprits = [];
    // content of a scroll container (e.g. a wide table in an overflow:auto region) is fine
    const insideScroller = (el) => {
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(a).overflowX)) return true;
      }
      return false;
    };
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.right > window.innerWidth + 1 && r.width > 0 && !insideScroller(el)) {
        const parentOver = el.parentElement && el.parentElement.getBoundingClientRect().right > window.innerWidth + 1;
        if (!parentOver) culprits.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''} (rechts bei ${Math.round(r.right)} px)`);
      }
      if (culprits.length >= 3) break;
    }
    return { scrollWidth: de.scrollWidth, innerWidth: window.innerWidth, culprits };
  });
}

async function main() {
  const t0 = Date.now();
  fs.mkdirSync(shotDir, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'campus-qa-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    bypassCSP: true, // the site sends a strict CSP; axe is injected as a script
    viewport: { width: 1280, height: 900 },
    locale: 'de-DE',
  });
  const browser = context.browser();
  const foreign = [];
  context.on('request', (req) => {
    const u = new URL(req.url());
    if (u.protocol === 'data:' || u.protocol === 'blob:' || u.protocol === 'about:') return;
    if (u.host !== origin) foreign.push({ url: req.url(), from: req.frame() ? req.frame().url() : '?' });
  });
  try {
    const page = context.pages()[0] || await context.newPage();
    const consoleErrors = [];
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    for (const p of pages) {
      const label = p.path;
      const resp = await page.goto(base + p.path, { waitUntil: 'load' });
      const status = resp ? resp.status() : 0;
      ran('status');
      if (status !== (p.status || 200)) fail('HTTP-Status', label, `Status ${status}, erwartet ${p.status || 200}`);

      // (7) screenshots
      if (p.shot) {
        await page.screenshot({ path: path.join(shotDir, `${p.shot}-1280.png`), fullPage: true });
      }

      // (2) axe
      ran('axe');
      const axe = await runAxe(page);
      for (const v of axe.violations) {
        const nodes = v.nodes.slice(0, 3).map((n) => `\n        bei ${n.target}\n          ${n.html}\n          ${n.summary.replace(/\n/g, '\n          ')}`).join('');
        fail('axe (WCAG 2.1 AA)', label, `[${v.impact}] ${v.id}: ${v.help} ${v.helpUrl.replace(/\?.*/, '')}`, `${v.nodes.length} Element(e), z. B.:${nodes}`);
      }

      // (3a) labels
      ran('labels');
      const lf = await unlabelledFields(page);
      for (const f of lf.unlabelled) fail('Beschriftung', label, `Feld ohne echtes Label: ${f}`);

      // (3b) focus
      ran('focus');
      const fp = await focusProblems(page);
      if (fp.checked === 0) fail('Fokus', label, 'kein Element per Tab erreichbar');
      const byReason = new Map();
      for (const m of fp.problems) { if (!byReason.has(m.reason)) byReason.set(m.reason, []); byReason.get(m.reason).push(m.what); }
      for (const [reason, whats] of byReason) {
        fail('Fokus', label, reason, `z. B. ${whats.slice(0, 3).join('; ')}${whats.length > 3 ? ` (insgesamt ${whats.length} Elemente auf ${label})` : ''}`);
      }

      // (3c) reflow at 320 px and 1280 px @ 200 % (= 640 CSS px)
      for (const w of [320, 640]) {
        ran('reflow');
        const o = await overflowAt(page, w);
        if (o) fail('Umbruch/Zoom', label, `bei ${w} CSS-px breit: scrollWidth ${o.scrollWidth} > ${o.innerWidth} (horizontales Scrollen); zu breit: ${o.culprits.join('; ') || '?'}`);
        if (p.shot && w === 320) await page.screenshot({ path: path.join(shotDir, `${p.shot}-320.png`), fullPage: true });
      }
      await page.setViewportSize({ width: 1280, height: 900 });
      console.log(`  ${p.path.padEnd(42)} HTTP ${status}, axe ${axe.passes} Regeln bestanden/${axe.violations.length} verletzt, ${lf.checked} Felder, ${fp.checked} Fokusziele`);
    }
    for (const e of consoleErrors) fail('JavaScript', '-', `Fehler im Seitenskript: ${e}`);
    await page.close();

    // (8) membership calculator: without JavaScript (plain GET form) and with (instant result).
    // Real CSP here (no bypass): the calculator script must work under the site's own policy.
    ran('rechner');
    const noJs = await browser.newContext({ javaScriptEnabled: false, locale: 'de-DE' });
    noJs.on('request', (req) => { const u = new URL(req.url()); if (u.protocol.startsWith('http') && u.host !== origin) foreign.push({ url: req.url(), from: 'ohne JS' }); });
    const pn = await noJs.newPage();
    await pn.goto(base + '/mitgliedschaft/');
    const form = pn.locator('form#mitgliedschaftsrechner, form:has(input[type="number"])').first();
    if (await form.count() === 0) fail('Rechner', '/mitgliedschaft/', 'ohne JS: kein Formular mit Zahlenfeld');
    else {
      const method = ((await form.getAttribute('method')) || 'get').toLowerCase();
      if (method !== 'get') fail('Rechner', '/mitgliedschaft/', `ohne JS: Formular nutzt method="${method}", erwartet GET`);
      if (!(await form.getAttribute('action'))) fail('Rechner', '/mitgliedschaft/', 'ohne JS: Formular ohne action');
      const num = pn.getByLabel(/Zahl der Beschäftigten/i).and(pn.locator('input'));
      // A text field with the numeric keyboard: "1.500" is German, and a number field must
      // never get an invalid value written back (issue 19).
      if (await num.count() !== 1 || (await num.first().getAttribute('inputmode')) !== 'numeric') fail('Rechner', '/mitgliedschaft/', 'ohne JS: kein beschriftetes Zahlenfeld „Beschäftigte“ (inputmode="numeric")');
      if (await form.locator('button[type="submit"], input[type="submit"], button:not([type])').count() === 0) fail('Rechner', '/mitgliedschaft/', 'ohne JS: kein Absende-Knopf');
      else {
        // Fee, reduction by bookings and reduced fee, recalculated by the backend.
        await num.first().fill('730');
        await pn.getByLabel(/Buchungen im Vorjahr/i).fill('3.000');
        await Promise.all([pn.waitForNavigation(), form.locator('button[type="submit"]').first().click()]);
        const answer = (await pn.locator('main').textContent()).replace(/\s+/g, ' ');
        if (!/Jahresbeitrag nach Minderung\s*6\.500,00\s€/.test(answer) || !/Minderung durch Buchungen\s*1\.500,00\s€/.test(answer)) {
          fail('Rechner', '/forms/mitgliedschaft/rechner', `ohne JS: 730 Beschäftigte, 3.000 € Buchungen: erwartet Minderung 1.500,00 € und 6.500,00 €, Antwort: „${answer.slice(0, 400)}“`);
        }
      }
    }
    await noJs.close();

    const withJs = await browser.newContext({ locale: 'de-DE' });
    withJs.on('request', (req) => { const u = new URL(req.url()); if (u.protocol.startsWith('http') && u.host !== origin) foreign.push({ url: req.url(), from: 'Rechner' }); });
    const pj = await withJs.newPage();
    const jsErrors = [];
    pj.on('pageerror', (e) => jsErrors.push(e.message));
    pj.on('console', (m) => { if (m.type() === 'error') jsErrors.push(m.text()); });
    await pj.goto(base + '/mitgliedschaft/');
    await pj.getByLabel(/Zahl der Beschäftigten/i).and(pj.locator('input')).fill('730');
    const out = pj.locator('#rechner-ergebnis, output').first();
    let text = '';
    try {
      await pj.waitForFunction(() => { const o = document.querySelector('#rechner-ergebnis, output'); return o && /Geschäftsanteil/.test(o.textContent); }, null, { timeout: 2000 });
    } catch { /* reported below */ }
    text = ((await out.count()) ? await out.textContent() : '').replace(/\s+/g, ' ');
    if (!/\b4 Geschäftsanteile\b/.test(text) || !text.includes('4.000,00 €')) {
      fail('Rechner', '/mitgliedschaft/', `mit JS: nach Eingabe 730 erwartet „4 Geschäftsanteile“ und „4.000,00 €“, Ausgabe: „${text}“${jsErrors.length ? ' – Konsole: ' + jsErrors.join(' | ') : ''}`);
    }
    await pj.getByLabel(/Buchungen im Vorjahr/i).fill('3.000');
    text = ((await out.count()) ? await out.textContent() : '').replace(/\s+/g, ' ');
    if (!text.includes('nach der Minderung um 1.500,00 € noch 6.500,00 €')) {
      fail('Rechner', '/mitgliedschaft/', `mit JS: 3.000 € Buchungen: erwartet „nach der Minderung um 1.500,00 € noch 6.500,00 €“, Ausgabe: „${text}“`);
    }
    // German grouping is read, a doubtful number is refused with a message.
    await pj.getByLabel(/Zahl der Beschäftigten/i).and(pj.locator('input')).fill('1.500');
    const grouped = ((await out.textContent()) || '').replace(/\s+/g, ' ');
    if (!/Bei 1\.500 Beschäftigten/.test(grouped)) fail('Rechner', '/mitgliedschaft/', `mit JS: „1.500“ nicht als 1500 gelesen: „${grouped}“`);
    await pj.getByLabel(/Zahl der Beschäftigten/i).and(pj.locator('input')).fill('1,5');
    const doubtful = ((await out.textContent()) || '');
    if (!/ganze Zahl ohne Komma/.test(doubtful)) fail('Rechner', '/mitgliedschaft/', `mit JS: „1,5“ nicht abgelehnt: „${doubtful}“`);
    await withJs.close();

    ran('origin');
    const seen = new Set();
    for (const f of foreign) {
      if (seen.has(f.url)) continue;
      seen.add(f.url);
      fail('Fremde Herkunft', f.from.replace(base, ''), `Anfrage an ${f.url}`);
    }
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }

  const byCheck = {};
  for (const f of failures) (byCheck[f.check] = byCheck[f.check] || []).push(f);
  console.log(`Browser: ${pages.length} Seiten in ${((Date.now() - t0) / 1000).toFixed(1)} s geprüft; Screenshots in ${path.relative(process.cwd(), shotDir) || shotDir}`);
  for (const [check, list] of Object.entries(byCheck)) {
    console.log(`\n✗ ${check}: ${list.length} Befund(e)`);
    const groups = new Map();
    for (const f of list) { if (!groups.has(f.message)) groups.set(f.message, []); groups.get(f.message).push(f); }
    for (const [message, fs_] of groups) {
      const where = fs_.map((f) => f.page);
      console.log(`  - ${message}\n      auf ${where.length} Seite(n): ${where.slice(0, 6).join(', ')}${where.length > 6 ? `, … (+${where.length - 6})` : ''}`);
      if (fs_[0].detail) console.log(`      ${fs_[0].detail}`);
    }
  }
  if (failures.length) process.exit(1);
  console.log('Barrierefreiheit (axe), Labels, Fokus, Umbruch bei 320/640 px, Herkunft, Beitragsrechner: in Ordnung.');
}

main().catch((e) => { console.error(e); process.exit(2); });
