#!/usr/bin/env node
'use strict';
// Issue 19 in a real Chromium against the running `campus serve` (form backend included):
//  - a contact form sent with errors (JavaScript off and on): the title starts with
//    "Fehler: ", the error summary is first in <main> and has the focus, each of its links
//    moves the focus to its field, the three date fields have distinct messages;
//  - the backend's error pages (405, 404) and the 422 page pass axe like every other page;
//  - forced colours (emulated): the self-check bars and legend differ from their track, the
//    current menu item is underlined;
//  - the header: Leichte Sprache and Gebärdensprache linked in the start page's header, a
//    visible label on the header search, below 700 px a menu button (<details>) that opens
//    without JavaScript, at 1280 px one row of menu items.
// Usage: node bitv-e2e.js http://127.0.0.1:PORT. Exit status 1 on any finding.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');
const { runAxe } = require('./lib/axe');
const { ARGS, EXECUTABLE } = require('./lib/chromium');
const { execFileSync } = require('child_process');
const { base } = require('./lib/cli').commandLine('node bitv-e2e.js http://127.0.0.1:PORT');

const failures = [];
// Pages the backend renders (not in public/), checked with the Nu Html Checker at the end.
const backendPages = [];
const fail = (m) => { failures.push(m); console.log('  ✗ ' + m); };
const ok = (m) => console.log('  ✓ ' + m);
const check = (cond, good, bad) => (cond ? ok(good) : fail(bad));

function future(days, hour) {
  const d = new Date(Date.now() + days * 86400000);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(hour)}:00`;
}

async function axeClean(page, what) {
  const r = await runAxe(page);
  check(r.violations.length === 0, `${what}: axe 0 Verstöße`,
    `${what}: axe ${r.violations.map((v) => `${v.id} (${v.nodes.map((n) => n.target).join(', ')})`).join('; ')}`);
}

async function errorHandling(browser, js) {
  const mode = js ? 'mit JavaScript' : 'ohne JavaScript';
  console.log(`\nFehlerbehandlung im Kontaktformular ${mode}:`);
  const ctx = await browser.newContext({ javaScriptEnabled: js, locale: 'de-DE', bypassCSP: true });
  const page = await ctx.newPage();
  page.setDefaultTimeout(8000);
  try {
    await page.goto(base + '/kontakt/');
    const form = page.locator('form[action$="/forms/kontakt"]');
    await form.getByLabel(/Ich möchte ein Informationsgespräch/).check();
    const phoneVisible = await form.getByLabel(/Telefonnummer/).isVisible();
    await form.getByLabel(/Ich habe eine Frage/).check();
    const phoneHidden = !(await form.getByLabel(/Telefonnummer/).isVisible());
    check(phoneVisible && phoneHidden, 'Telefon und Termine nur bei „Informationsgespräch“ sichtbar',
      `Telefonfeld sichtbar bei Informationsgespräch: ${phoneVisible}, verborgen bei Frage: ${phoneHidden}`);
    await form.getByLabel(/Ich möchte ein Informationsgespräch/).check();
    // Errors on purpose: no name, an invalid address, the same date twice, one in the past.
    await form.getByLabel(/E-Mail-Adresse/).fill('erika@');
    await form.getByLabel(/Kommune oder Organisation/).fill('Gemeinde Quellental');
    await form.getByLabel(/Telefonnummer/).fill('06221 123456');
    await form.getByLabel(/^1\. Terminvorschlag/).fill(future(10, 10));
    await form.getByLabel(/^2\. Terminvorschlag/).fill(future(10, 10));
    await form.getByLabel(/^3\. Terminvorschlag/).fill('2020-01-01T10:00');
    await form.getByLabel(/Ich willige ein/).check();
    // The browser's own checks would stop the post before the server sees it.
    await page.evaluate(() => document.querySelector('form[action$="/forms/kontakt"]').setAttribute('novalidate', ''));
    await page.waitForTimeout(2500);
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), form.locator('button[type="submit"]').click()]);
    await page.waitForTimeout(300);
    const title = await page.title();
    check(title.startsWith('Fehler: '), `Titel „${title}“`, `Titel beginnt nicht mit „Fehler: “: „${title}“`);
    const first = await page.evaluate(() => {
      const main = document.querySelector('main .rahmen');
      return main && main.firstElementChild ? main.firstElementChild.className : '';
    });
    check(first === 'fehler-zusammenfassung', 'Zusammenfassung steht zuerst im Hauptinhalt',
      `erstes Element im Hauptinhalt: „${first}“`);
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.className);
    check(focused === 'fehler-zusammenfassung', 'Zusammenfassung hat den Fokus', `Fokus liegt auf „${focused}“`);
    const inView = await page.locator('.fehler-zusammenfassung').evaluate((el) => el.getBoundingClientRect().top < window.innerHeight);
    check(inView, 'Zusammenfassung ist sichtbar, ohne zu scrollen', 'Zusammenfassung liegt außerhalb des Fensters');
    const links = await page.$$eval('.fehler-zusammenfassung a', (as) => as.map((a) => ({ href: a.getAttribute('href'), text: a.textContent.trim() })));
    const messages = links.map((l) => l.text);
    check(links.length >= 4, `${links.length} Links in der Zusammenfassung`, `nur ${links.length} Links: ${messages.join(' | ')}`);
    check(new Set(messages).size === messages.length, 'jede Meldung ist eine andere', `doppelte Meldungen: ${messages.join(' | ')}`);
    check(messages.some((m) => m.startsWith('2. Terminvorschlag')) && messages.some((m) => m.startsWith('3. Terminvorschlag')),
      'Meldungen nennen den Terminvorschlag', `Meldungen ohne Feldnamen: ${messages.join(' | ')}`);
    for (const l of links) {
      await page.locator(`.fehler-zusammenfassung a[href="${l.href}"]`).click();
      const active = await page.evaluate(() => document.activeElement && document.activeElement.id);
      check('#' + active === l.href, `Link „${l.text.slice(0, 40)}…“ setzt den Fokus ins Feld`, `Link ${l.href}: Fokus auf „${active}“`);
    }
    const kept = await form.getByLabel(/Kommune oder Organisation/).inputValue();
    check(kept === 'Gemeinde Quellental', 'Eingaben bleiben erhalten', `Organisation nach dem Absenden: „${kept}“`);
    if (js) await axeClean(page, 'Kontaktseite mit Fehlern');
    else backendPages.push(['kontakt-422.html', await page.content()]);
  } catch (e) {
    fail(`${mode}: ${e.message.split('\n')[0]}`);
  } finally {
    await ctx.close();
  }
}

async function errorPages(browser) {
  console.log('\nFehlerseiten des Backends:');
  // axe runs as a script in the page, so this context allows JavaScript.
  const ctx = await browser.newContext({ locale: 'de-DE', bypassCSP: true });
  const page = await ctx.newPage();
  try {
    for (const [url, status] of [['/forms/kontakt', 405], ['/forms/gibt-es-nicht', 404]]) {
      const r = await page.goto(base + url);
      check(r.status() === status, `${url}: ${status}`, `${url}: Status ${r.status()} statt ${status}`);
      const full = await page.evaluate(() => !!document.querySelector('header.kopf') && !!document.querySelector('footer.fuss a[href="/impressum/"]'));
      check(full, `${url}: ganze Seite mit Kopf, Fuß und Impressum`, `${url}: Kopf oder Fuß fehlt`);
      backendPages.push([`fehler-${status}.html`, await page.content()]);
      await axeClean(page, url);
    }
  } finally {
    await ctx.close();
  }
}

async function forcedColours(browser) {
  console.log('\nErzwungene Farben (forced-colors: active):');
  const ctx = await browser.newContext({ javaScriptEnabled: false, locale: 'de-DE', forcedColors: 'active', viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  try {
    await page.goto(base + '/selbstcheck/');
    await page.getByLabel(/Ihre Rolle/).selectOption({ index: 1 });
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Lernpfad anzeigen' }).click()]);
    const bars = await page.evaluate(() => {
      const bg = (el) => { const s = getComputedStyle(el); return s.backgroundColor + ' ' + s.backgroundImage; };
      const pick = (sel) => document.querySelector(sel);
      const soll = pick('.balken.balken-soll'); const ist = pick('.balken.balken-ist'); const track = pick('.balken-spur');
      const legend = [...document.querySelectorAll('.balken-legende .balken-muster')];
      if (!soll || !ist || !track) return null;
      return { soll: bg(soll), ist: bg(ist), track: bg(track), legend: legend.map(bg) };
    });
    if (!bars) {
      fail('Selbstcheck-Ergebnis ohne Balken');
    } else {
      check(bars.soll !== bars.track && bars.ist !== bars.track && bars.soll !== bars.ist,
        'Soll- und Ist-Balken heben sich von der Spur und voneinander ab',
        `Balken nicht unterscheidbar: Soll ${bars.soll}, Ist ${bars.ist}, Spur ${bars.track}`);
      check(bars.legend.length === 2 && bars.legend[0] === bars.soll && bars.legend[1] === bars.ist,
        'Legende zeigt dieselben Muster', `Legende: ${bars.legend.join(' | ')}`);
    }
    await page.goto(base + '/kurse/');
    const current = await page.locator('.hauptnavigation-breit a[aria-current]').first()
      .evaluate((a) => getComputedStyle(a).textDecorationLine).catch(() => 'fehlt');
    check(/underline/.test(current), 'aktueller Menüpunkt ist unterstrichen', `aktueller Menüpunkt: text-decoration ${current}`);
  } catch (e) {
    fail(e.message.split('\n')[0]);
  } finally {
    await ctx.close();
  }
}

async function header(browser) {
  console.log('\nKopf der Seite:');
  for (const js of [false, true]) {
    const mode = js ? 'mit JavaScript' : 'ohne JavaScript';
    const ctx = await browser.newContext({ javaScriptEnabled: js, locale: 'de-DE', viewport: { width: 375, height: 800 } });
    const page = await ctx.newPage();
    try {
      await page.goto(base + '/');
      const helps = await page.$$eval('header.kopf .kopf-hilfen a', (as) => as.map((a) => a.getAttribute('href')));
      check(helps.includes('/leichte-sprache/') && helps.includes('/gebaerdensprache/'),
        `${mode}: Leichte Sprache und Gebärdensprache im Kopf der Startseite`, `${mode}: Links im Kopf: ${helps.join(', ')}`);
      const label = await page.locator('.kopfsuche label').isVisible();
      check(label, `${mode}: Kopfsuche hat eine sichtbare Beschriftung`, `${mode}: Beschriftung der Kopfsuche unsichtbar`);
      const barHidden = !(await page.locator('.hauptnavigation-breit').isVisible());
      const menuLink = page.locator('.menue a[href="/kurse/"]');
      const before = await menuLink.isVisible();
      await page.locator('.menue summary').click();
      const after = await menuLink.isVisible();
      check(barHidden && !before && after, `${mode}: 375 px: Menüknopf öffnet das Menü`,
        `${mode}: 375 px: Leiste verborgen ${barHidden}, Link vor dem Öffnen sichtbar ${before}, danach ${after}`);
      await page.setViewportSize({ width: 1280, height: 800 });
      const rows = await page.$$eval('.hauptnavigation-breit li', (lis) => new Set(lis.map((li) => Math.round(li.getBoundingClientRect().top))).size);
      const menuHidden = !(await page.locator('.menue').isVisible());
      check(rows === 1 && menuHidden, `${mode}: 1280 px: Menü in einer Zeile, kein Menüknopf`, `${mode}: 1280 px: ${rows} Zeilen, Menüknopf sichtbar ${!menuHidden}`);
    } catch (e) {
      fail(`${mode}: ${e.message.split('\n')[0]}`);
    } finally {
      await ctx.close();
    }
  }
}

(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'campus-bitv-'));
  const browser = await chromium.launch({ executablePath: EXECUTABLE, args: ARGS });
  try {
    await errorHandling(browser, false);
    await errorHandling(browser, true);
    await errorPages(browser);
    await forcedColours(browser);
    await header(browser);
    console.log('\nNu Html Checker über die Seiten des Backends:');
    for (const [name, html] of backendPages) fs.writeFileSync(path.join(dir, name), '<!DOCTYPE html>\n' + html.replace(/^<!DOCTYPE html>\s*/i, ''));
    const vnu = require.resolve('vnu-jar/build/dist/vnu.jar');
    let out = '';
    try {
      out = execFileSync('java', ['-jar', vnu, '--errors-only', '--format', 'json', '--stdout', dir], { encoding: 'utf8' });
    } catch (e) { out = e.stdout || ''; }
    const msgs = (JSON.parse(out || '{"messages":[]}').messages || []).filter((m) => m.type === 'error');
    check(backendPages.length >= 3 && msgs.length === 0, `${backendPages.length} Seiten, 0 Fehler`,
      `${msgs.length} Fehler: ${msgs.map((m) => `${path.basename(m.url || '')}: ${m.message}`).join('; ')}`);
  } catch (e) {
    fail(e.message.split('\n')[0]);
  } finally {
    await browser.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(failures.length ? `\n${failures.length} Befunde` : '\nkeine Befunde');
  process.exit(failures.length ? 1 : 0);
})();
