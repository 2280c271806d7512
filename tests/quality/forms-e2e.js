#!/usr/bin/env node
'use strict';
// Contact form end to end against the real `campus serve` (form backend included) and a real
// mail sink: headless Chromium opens /kontakt/, fills and submits the page's own form, expects
// the thank-you page, then a new mail carrying the message.
//  - once with JavaScript off (plain HTML form; the empty signed timestamp makes the backend
//    answer with a "please send again" page, which a person submits once more),
//  - once with JavaScript on.
// Usage: node forms-e2e.js http://127.0.0.1:PORT --mail-dir DIR
//   DIR: the aiosmtpd maildir (files in DIR/new) or the backend's .eml folder (var/mail).
// Exit status 1 on any finding.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');
const { runAxe } = require('./lib/axe');

const { base, opt } = require('./lib/cli').commandLine('node forms-e2e.js http://127.0.0.1:PORT --mail-dir DIR', ['--mail-dir']);
const mailDir = opt('--mail-dir');
const { ARGS: CHROMIUM_ARGS, EXECUTABLE: CHROMIUM } = require('./lib/chromium');
const failures = [];
const notes = [];
const axeChecked = new Set();
const fail = (m) => { failures.push(m); console.log('  ✗ ' + m); };
const ok = (m) => console.log('  ✓ ' + m);

function mailFiles() {
  const out = [];
  const walk = (d) => {
    let entries = [];
    try { entries = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) { if (e.name !== 'tmp') walk(p); } else out.push(p);
    }
  };
  walk(mailDir);
  return out;
}

// Enough MIME decoding to find a marker: raw, quoted-printable and base64 bodies.
function decodedText(raw) {
  const parts = [raw];
  parts.push(raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16))));
  for (const m of raw.matchAll(/(?:^|\n)((?:[A-Za-z0-9+/=]{20,}\r?\n)+)/g)) {
    try { parts.push(Buffer.from(m[1].replace(/\s+/g, ''), 'base64').toString('utf8')); } catch { /* not base64 */ }
  }
  return parts.join('\n');
}

async function waitForMail(before, marker, timeoutMs = 20000) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const fresh = mailFiles().filter((f) => !before.has(f));
    const hits = fresh.filter((f) => decodedText(fs.readFileSync(f, 'latin1')).includes(marker));
    if (hits.length) return { hits, fresh };
    await new Promise((r) => setTimeout(r, 300));
  }
  return { hits: [], fresh: mailFiles().filter((f) => !before.has(f)) };
}

function future(days, hour) {
  const d = new Date(Date.now() + days * 86400000);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(hour)}:00`;
}

async function contactFlow(browser, javaScriptEnabled) {
  const mode = javaScriptEnabled ? 'mit JavaScript' : 'ohne JavaScript';
  console.log(`\nKontaktformular ${mode}:`);
  const marker = `QA-${javaScriptEnabled ? 'js' : 'nojs'}-${Date.now().toString(36)}`;
  const ctx = await browser.newContext({ javaScriptEnabled, locale: 'de-DE', bypassCSP: true });
  const page = await ctx.newPage();
  page.setDefaultTimeout(8000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(base + '/kontakt/');
    const form = page.locator('form[action$="/forms/kontakt"]');
    if (await form.count() !== 1) { fail(`${mode}: kein Formular mit action …/forms/kontakt auf /kontakt/`); return; }
    // Fill by label, as a person (and a screen reader) finds the fields.
    // An info call asks for phone and dates; the choice shows them (stylesheet, no script).
    await form.getByLabel(/Ich möchte ein Informationsgespräch/).check();
    await form.getByLabel(/Vor- und Nachname/).fill('Erika Mustermann');
    await form.getByLabel(/Kommune oder Organisation/).fill('Gemeinde Quellental');
    await form.getByLabel(/E-Mail-Adresse/).fill('erika.mustermann@quellental.example');
    await form.getByLabel(/Telefonnummer/).fill('06221 123456');
    for (const [i, days] of [[1, 10], [2, 11], [3, 12]]) await form.getByLabel(new RegExp(`^${i}\\. Terminvorschlag`)).fill(future(days, 10));
    await form.getByLabel(/Ihre Nachricht/).fill(`Bitte um ein Informationsgespräch zur Mitgliedschaft. Kennung ${marker}.`);
    await form.getByLabel(/Ich willige ein/).check();
    const before = new Set(mailFiles());

    // A person submits; if the backend asks to send again (no signed timestamp without JS,
    // or filled faster than the minimum time), they wait a moment and submit the repeated form.
    let landed = '';
    for (let attempt = 1; attempt <= 3; attempt++) {
      await page.waitForTimeout(2500); // a person needs longer than the backend's minimum fill time
      const submit = page.locator('form[action$="/forms/kontakt"]').locator('button[type="submit"], input[type="submit"]').first();
      let resp;
      try {
        [resp] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), submit.click()]);
      } catch (e) {
        const invalid = await page.evaluate(() => [...document.querySelectorAll('form :invalid')]
          .filter((el) => el.tagName !== 'FORM').map((el) => `${el.name || el.id}: ${el.validationMessage}`));
        fail(`${mode}: Absenden führt zu keiner Seite (Versuch ${attempt})${invalid.length ? ' – Browser-Prüfung blockiert: ' + invalid.join('; ') : ': ' + e.message.split('\n')[0]}`);
        return;
      }
      landed = new URL(page.url()).pathname;
      if (landed === '/formular/danke-kontakt/') break;
      const h1 = (await page.locator('h1').first().textContent().catch(() => '')) || '';
      const msgs = (await page.locator('[role="alert"], .fehler, .fehlermeldung, .feld-fehler').allTextContents()).map((s) => s.replace(/\s+/g, ' ').trim()).filter(Boolean);
      console.log(`    Versuch ${attempt}: HTTP ${resp ? resp.status() : '?'} ${landed} – „${h1.trim()}“${msgs.length ? ' – ' + msgs.join(' | ').slice(0, 300) : ''}`);
      if (javaScriptEnabled && !axeChecked.has(landed + h1)) { // backend pages must be accessible too (axe needs JS)
        axeChecked.add(landed + h1);
        const axe = await runAxe(page);
        for (const v of axe.violations) fail(`${mode}: axe auf „${h1.trim()}“ (${landed}): [${v.impact}] ${v.id}: ${v.help} – ${v.nodes.slice(0, 3).map((n) => n.html).join(' | ')}`);
        if (!axe.violations.length) ok(`${mode}: axe auf Zwischenseite „${h1.trim()}“: 0 Verstöße`);
      }
      if (javaScriptEnabled && resp && resp.status() === 200) notes.push(`mit JavaScript war Versuch ${attempt} nicht erfolgreich („${h1.trim()}“): das Skript holt keinen Zeitstempel von /forms/token, die Person muss erneut absenden`);
      if (resp && resp.status() !== 200) { // 422 etc.: the form came back with errors a person would have to fix
        fail(`${mode}: Backend lehnt die ausgefüllte Seite ab (HTTP ${resp.status()})${msgs.length ? ': ' + msgs.join(' | ').replace(/\s+/g, ' ').slice(0, 300) : ''}`);
        break;
      }
      if (await page.locator('form[action$="/forms/kontakt"]').count() === 0) break; // nothing to resubmit
    }
    if (landed !== '/formular/danke-kontakt/') { fail(`${mode}: Danke-Seite nicht erreicht (zuletzt ${landed})`); return; }
    ok(`${mode}: Danke-Seite /formular/danke-kontakt/ erreicht`);

    const { hits, fresh } = await waitForMail(before, marker);
    if (!hits.length) { fail(`${mode}: keine neue Mail mit ${marker} in ${mailDir} (${fresh.length} neue Dateien)`); return; }
    const raw = fs.readFileSync(hits[0], 'latin1');
    const to = (raw.match(/^To:\s*(.*)$/mi) || [])[1] || '?';
    const subject = (raw.match(/^Subject:\s*(.*)$/mi) || [])[1] || '?';
    ok(`${mode}: Mail zugestellt (${fresh.length} neue; mit Kennung an ${to.trim()}, Betreff ${subject.trim()})`);
    if (errors.length) fail(`${mode}: Skriptfehler: ${errors.join(' | ')}`);
  } finally {
    await ctx.close();
  }
}

async function main() {
  const t0 = Date.now();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'campus-qa-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
  });
  try {
    const browser = context.browser();
    for (const js of [false, true]) {
      try { await contactFlow(browser, js); } catch (e) { fail(`${js ? 'mit' : 'ohne'} JavaScript: Abbruch: ${e.message.split('\n')[0]}`); }
    }
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  for (const n of [...new Set(notes)]) console.log(`  Hinweis: ${n}`);
  console.log(`\nFormulare Ende zu Ende in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${failures.length ? failures.length + ' Befund(e)' : 'in Ordnung'}.`);
  process.exit(failures.length ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(2); });
