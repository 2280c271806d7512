#!/usr/bin/env node
'use strict';
// Live reload as an editor meets it, in headless Chromium against the real `campus serve`:
// a page is open, the editor saves its Markdown file, and the page shows the new text by
// itself (the injected script reloads it); a broken file shows the errors over the page
// while the last good text stays; the next good save removes them. The file is restored at
// the end. A form somebody has started to fill in is not reloaded (its input stays).
// Run after the other browser steps: it edits the served site copy.
// Usage: node live-reload-e2e.js http://127.0.0.1:PORT --site DIR [--screenshots DIR]
// Exit status 1 on any finding.

const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const { base, opt } = require('./lib/cli').commandLine('node live-reload-e2e.js http://127.0.0.1:PORT --site DIR [--screenshots DIR]', ['--site']);
const site = opt('--site');
const shots = opt('--screenshots');
const { ARGS: CHROMIUM_ARGS, EXECUTABLE: CHROMIUM } = require('./lib/chromium');
const failures = [];
const fail = (m) => { failures.push(m); console.log('  ✗ ' + m); };
const ok = (m) => console.log('  ✓ ' + m);

const FILE = path.join(site, 'content/seiten/ueber-uns.md');
const URL_PATH = '/ueber-uns/';
const WAIT_MS = 15000;

const FORM_FILE = path.join(site, 'content/seiten/kontakt.md');
const FORM_PATH = '/kontakt/';
const formOriginal = fs.readFileSync(FORM_FILE, 'utf8');

async function formKeepsInput(browser) {
  const page = await browser.newPage();
  const listening = page.waitForResponse((r) => r.url().endsWith('/__campus/live-reload'), { timeout: WAIT_MS });
  await page.goto(base + FORM_PATH);
  await listening;
  await page.fill('#kontakt-name', 'Erika Mustermann');
  await page.evaluate(() => {
    window.campusVorDemSpeichern = true;
    // A second listener of our own: it sees the reload event the page's script ignores.
    window.campusNeuLaden = 0;
    new EventSource('/__campus/live-reload').addEventListener('reload', (e) => {
      if (e.data.split('\n').some((p) => p === '*' || p === location.pathname)) window.campusNeuLaden += 1;
    });
  });
  await page.waitForTimeout(300); // the second stream is open before the save
  const marker = 'Formular-' + Date.now();
  fs.writeFileSync(FORM_FILE, formOriginal.replace(/\n---\n/, `\n---\n${marker}: neu.\n\n`));
  try {
    // Either the event came, or the page was reloaded (a new document without both flags).
    await page.waitForFunction(() => window.campusNeuLaden > 0 || window.campusVorDemSpeichern === undefined, null, { timeout: WAIT_MS });
    await page.waitForTimeout(500); // time for a reload that must not come
    const kept = await page.evaluate(() => window.campusVorDemSpeichern === true);
    const value = await page.inputValue('#kontakt-name');
    if (kept && value === 'Erika Mustermann') ok('angefangenes Formular bleibt beim Speichern stehen, die Eingabe bleibt');
    else fail(`angefangenes Formular neu geladen (Eingabe jetzt „${value}“)`);
  } catch {
    fail(`kein Neu-laden-Ereignis für ${FORM_PATH} binnen ${WAIT_MS} ms`);
  } finally {
    await page.close();
  }
}

async function main() {
  const original = fs.readFileSync(FILE, 'utf8');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    let loads = 0;
    page.on('load', () => { loads += 1; });
    // The page must be listening to the build events before the save.
    const listening = page.waitForResponse((r) => r.url().endsWith('/__campus/live-reload'), { timeout: WAIT_MS });
    await page.goto(base + URL_PATH);
    await listening;
    const before = loads;

    // 1. Save: the open page shows the new text without the test navigating.
    const marker = 'Gespeichert-' + Date.now();
    // A flag in the old document: gone only if the page really was reloaded. (Counting
    // 'load' events alone races: the new text can be visible before the event arrives.)
    await page.evaluate(() => { window.campusVorDemSpeichern = true; });
    let started = Date.now();
    fs.writeFileSync(FILE, original.replace(/\n---\n/, `\n---\n${marker}: ein neuer erster Satz.\n\n`));
    try {
      await page.waitForFunction((m) => document.body.innerText.includes(m), marker, { timeout: WAIT_MS });
      const reloaded = await page.evaluate(() => window.campusVorDemSpeichern === undefined);
      ok(`gespeicherter Text erscheint nach ${Date.now() - started} ms von selbst (Seite ${loads - before}× neu geladen)`);
      if (!reloaded) fail('Text erschien ohne Neuladen?');
    } catch {
      fail(`gespeicherter Text erschien nicht binnen ${WAIT_MS} ms`);
    }

    // 2. A broken file: errors over the page, the last good text stays.
    fs.writeFileSync(FILE, original.replace(/^titel: .*$/m, 'titel: [kaputt').replace(/\n---\n/, `\n---\n${marker}: ein neuer erster Satz.\n\n`));
    started = Date.now();
    try {
      await page.waitForSelector('.campus-build-fehler[role="alert"]', { timeout: WAIT_MS });
      const report = await page.textContent('.campus-build-fehler');
      if (report.includes('ueber-uns.md')) ok(`Fehlermeldung über der Seite nach ${Date.now() - started} ms, nennt die Datei: ${report.split('\n').find((l) => l.includes('ueber-uns.md')).trim()}`);
      else fail(`Fehlermeldung nennt die Datei nicht: ${report}`);
      if (await page.evaluate((m) => document.body.innerText.includes(m), marker)) ok('die letzte fehlerfreie Fassung bleibt sichtbar');
      else fail('die letzte fehlerfreie Fassung ist verschwunden');
      if (shots) await page.screenshot({ path: path.join(shots, 'live-reload-fehler.png'), fullPage: false });
      const served = await (await fetch(base + URL_PATH)).text();
      if (served.includes(marker)) ok('der Server liefert weiter die letzte fehlerfreie Fassung');
      else fail('der Server liefert nicht mehr die letzte fehlerfreie Fassung');
    } catch {
      fail(`keine Fehlermeldung binnen ${WAIT_MS} ms`);
    }

    // 3. The next good save recovers.
    const fixed = 'Repariert-' + Date.now();
    started = Date.now();
    fs.writeFileSync(FILE, original.replace(/\n---\n/, `\n---\n${fixed}: wieder in Ordnung.\n\n`));
    try {
      await page.waitForFunction((m) => document.body.innerText.includes(m), fixed, { timeout: WAIT_MS });
      const box = await page.$('.campus-build-fehler');
      if (box) fail('Fehlermeldung bleibt nach der Reparatur stehen');
      else ok(`nach der Reparatur nach ${Date.now() - started} ms neuer Text, keine Fehlermeldung`);
    } catch {
      fail(`reparierter Text erschien nicht binnen ${WAIT_MS} ms`);
    }

    // 4. A form somebody has typed into is not reloaded: the input stays.
    await formKeepsInput(browser);
  } finally {
    fs.writeFileSync(FILE, original);
    fs.writeFileSync(FORM_FILE, formOriginal);
    await browser.close();
  }
}

main().then(() => {
  console.log(failures.length ? `\nLive-Reload: ${failures.length} Befund(e).` : '\nLive-Reload: in Ordnung.');
  process.exit(failures.length ? 1 : 0);
}, (e) => { console.error(e); process.exit(1); });
