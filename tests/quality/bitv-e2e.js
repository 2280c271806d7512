#!/usr/bin/env node
'use strict';
// Issue 19 in a real Chromium against the running `campus serve` (form backend included):
//  - a contact form sent with errors (JavaScript off and on): the title starts with
//    "Fehler: ", the error summary is first in <main> and has the focus, each of its links
//    moves the focus to its field, the three date fields have distinct messages;
//  - the backend's error pages (405, 404) and the 422 page pass axe like every other page;
//  - the limit pages, JavaScript off and on: 413 (too much data) and 429 (this address sent
//    the registration form too often: the page keeps the input and says when to send it
//    again) are full site pages that pass axe and the Nu Html Checker; 503 (intake queue
//    full) on an own `campus serve` with a queue of one, flooded with contact requests;
//  - forced colours (emulated): the self-check bars and legend differ from their track, the
//    current menu item is underlined, JavaScript off and on;
//  - the header: Leichte Sprache and Gebärdensprache linked in the start page's header, a
//    visible label on the header search, below 700 px a menu button (<details>) that opens
//    without JavaScript, at 1280 px one row of menu items.
// Usage: node bitv-e2e.js http://127.0.0.1:PORT --campus BIN --site DIR. Exit status 1 on any finding.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');
const { runAxe } = require('./lib/axe');
const { ARGS, EXECUTABLE } = require('./lib/chromium');
const { execFileSync } = require('child_process');
const net = require('net');
const { spawn } = require('child_process');
const { base, opt } = require('./lib/cli').commandLine('node bitv-e2e.js http://127.0.0.1:PORT --campus BIN --site DIR', ['--campus', '--site']);

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

// Header, footer and the legal links: the page is one of the site's.
async function fullPage(page) {
  return page.evaluate(() => !!document.querySelector('header.kopf') && !!document.querySelector('main')
    && !!document.querySelector('footer.fuss a[href="/impressum/"]') && !!document.querySelector('footer.fuss a[href="/datenschutz/"]'));
}

// 413 and 429 on the registration form (no later step posts it; the limit counts per
// address and form). JavaScript off and on: the browser posts the real form.
async function limitPages(browser, js) {
  const mode = js ? 'mit JavaScript' : 'ohne JavaScript';
  console.log(`\nGrenzen des Backends ${mode} (413, 429):`);
  const ctx = await browser.newContext({ javaScriptEnabled: js, locale: 'de-DE', bypassCSP: true });
  const page = await ctx.newPage();
  page.setDefaultTimeout(10000);
  const name = `Erika Grenze ${js ? 'js' : 'nojs'}`;
  const open = async () => {
    await page.goto(base + '/registrierung/');
    const form = page.locator('form[action$="/forms/registrierung"]');
    await form.getByLabel(/Vor- und Nachname/).fill(name);
    await form.getByLabel(/Dienstliche E-Mail-Adresse/).fill('erika.grenze@ahornfeld.example');
    await page.evaluate(() => document.querySelector('form[action$="/forms/registrierung"]').setAttribute('novalidate', ''));
    return form;
  };
  const send = async (form) => {
    const [resp] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), form.locator('button[type="submit"]').click()]);
    return resp;
  };
  try {
    // 413: more than the backend takes (32 KiB by default) in one field.
    let form = await open();
    await page.evaluate(() => {
      const f = document.querySelector('form[action$="/forms/registrierung"]');
      const big = document.createElement('input');
      big.type = 'hidden'; big.name = 'organisation'; big.value = 'x'.repeat(48 * 1024);
      f.appendChild(big);
    });
    let resp = await send(form);
    check(resp && resp.status() === 413, `413: Status ${resp && resp.status()}`, `zu große Anfrage: Status ${resp && resp.status()} statt 413`);
    check(await fullPage(page), '413: ganze Seite mit Kopf, Fuß, Impressum und Datenschutz', '413: Kopf oder Fuß fehlt');
    const says413 = (await page.locator('main').innerText()).replace(/\s+/g, ' ');
    check(/kürzen/.test(says413), '413: sagt auf Deutsch, was zu tun ist', `413: ${says413.slice(0, 160)}`);
    if (js) await axeClean(page, '413-Seite'); else backendPages.push(['grenze-413.html', await page.content()]);

    // 429: use up this address's limit for the form with empty posts (each one counts),
    // then the person's real post gets the page that keeps the input.
    let status = 0;
    for (let i = 0; i < 1000 && status !== 429; i++) {
      const r = await ctx.request.post(base + '/forms/registrierung', { form: { name: '' }, headers: { Origin: base }, maxRedirects: 0 });
      status = r.status();
    }
    check(status === 429, 'Limit je Adresse und Formular erreicht', `nach 1000 Anfragen noch kein 429 (zuletzt ${status})`);
    form = await open();
    resp = await send(form);
    check(resp && resp.status() === 429, '429: Status 429', `429: Status ${resp && resp.status()}`);
    const retry = resp ? Number(resp.headers()['retry-after']) : 0;
    check(retry > 0, `429: Retry-After ${retry} s`, '429: Retry-After fehlt');
    const title = await page.title();
    check(title.startsWith('Zu viele Anfragen'), `429: Titel „${title}“`, `429: Titel „${title}“`);
    check(await fullPage(page), '429: ganze Seite mit Kopf, Fuß, Impressum und Datenschutz', '429: Kopf oder Fuß fehlt');
    const kept = await page.$$eval('main form input[type="hidden"]', (is) => Object.fromEntries(is.map((i) => [i.name, i.value])));
    check(kept.name === name && kept.email === 'erika.grenze@ahornfeld.example', '429: Eingaben bleiben erhalten (im Formular zum erneuten Senden)',
      `429: aufbewahrt: ${JSON.stringify(kept).slice(0, 200)}`);
    const says429 = (await page.locator('main').innerText()).replace(/\s+/g, ' ');
    check(/ab \d{1,2}:\d{2}\sUhr/.test(says429) && /Minute/.test(says429), '429: sagt, ab wann es wieder geht',
      `429: ${says429.slice(0, 200)}`);
    check(await page.getByRole('button', { name: 'Jetzt absenden' }).isVisible(), '429: Knopf zum erneuten Senden', '429: kein Knopf „Jetzt absenden“');
    if (js) await axeClean(page, '429-Seite'); else backendPages.push(['grenze-429.html', await page.content()]);
  } catch (e) {
    fail(`${mode}: ${e.message.split('\n')[0]}`);
  } finally {
    await ctx.close();
  }
}

function freePort() {
  return new Promise((resolve) => { const srv = net.createServer().listen(0, '127.0.0.1', () => { const p = srv.address().port; srv.close(() => resolve(p)); }); });
}

// 503: a copy of the site on its own server whose intake queue holds one request,
// flooded with valid contact requests at once; the refused ones get the page that
// keeps the input. That page is then shown in the browser at the server's origin.
async function overload(browser) {
  console.log('\nÜberlast (503) auf einem eigenen campus serve mit Warteschlange 1:');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'campus-bitv-503-'));
  const site = path.join(work, 'site');
  fs.mkdirSync(site);
  for (const d of ['campus.toml', 'content', 'data', 'static', 'themes', 'templates']) {
    const from = path.join(opt('--site'), d);
    if (fs.existsSync(from)) fs.cpSync(from, path.join(site, d), { recursive: true });
  }
  const toml = path.join(site, 'campus.toml');
  let text = fs.readFileSync(toml, 'utf8').replace(/^\s*(annahme_warteschlange|anfragen_pro_ip_je_10_minuten)\s*=.*$/mg, '');
  text = /^\[backend\]\s*$/m.test(text)
    ? text.replace(/^\[backend\]\s*$/m, '[backend]\nannahme_warteschlange = 1\nanfragen_pro_ip_je_10_minuten = 10000')
    : text + '\n[backend]\nannahme_warteschlange = 1\nanfragen_pro_ip_je_10_minuten = 10000\n';
  fs.writeFileSync(toml, text);
  const port = await freePort();
  const own = `http://127.0.0.1:${port}`;
  const log = fs.openSync(path.join(work, 'serve.log'), 'w');
  const env = { ...process.env, CAMPUS_MAIL_TRANSPORT: 'datei', CAMPUS_MAIL_DIR: path.join(work, 'mail') };
  const server = spawn(opt('--campus'), ['serve', '--site', site, '--address', `127.0.0.1:${port}`], { cwd: site, env, stdio: ['ignore', log, log] });
  const ctx = await browser.newContext({ locale: 'de-DE', bypassCSP: true });
  try {
    let up = false;
    for (let i = 0; i < 150 && !up; i++) {
      try { up = (await fetch(own + '/kontakt/')).status === 200; } catch { /* not up yet */ }
      if (!up) await new Promise((r) => setTimeout(r, 200));
    }
    if (!up) throw new Error(`eigener campus serve startet nicht: ${fs.readFileSync(path.join(work, 'serve.log'), 'utf8').split('\n').slice(-4).join(' / ')}`);
    const ts = (await (await fetch(own + '/forms/token')).json()).ts;
    await new Promise((r) => setTimeout(r, 2500)); // a form sent within seconds counts as too fast
    let refused = null;
    for (let round = 0; round < 5 && !refused; round++) {
      const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => ctx.request.post(own + '/forms/kontakt', {
        headers: { Origin: own },
        maxRedirects: 0,
        form: {
          name: `Person ${round}-${i}`, organisation: 'Stadt Beispiel', email: 'kontakt@beispiel.example', telefon: '+49 621 000000',
          termin1: '2099-02-10T10:00', termin2: '2099-02-11T10:00', termin3: '2099-02-12T14:30',
          nachricht: 'Bitte rufen Sie an.', einwilligung: 'ja', website: '', ts,
        },
      }).then(async (r) => ({ status: r.status(), retry: r.headers()['retry-after'], body: await r.text() }))));
      refused = answers.find((a) => a.status === 503) || null;
    }
    check(!!refused, '503 bei voller Warteschlange', 'in 5 Runden zu 60 gleichzeitigen Anfragen kein 503');
    if (!refused) return;
    check(Number(refused.retry) > 0, `503: Retry-After ${refused.retry} s`, '503: Retry-After fehlt');
    const page = await ctx.newPage();
    // The server's own answer, shown at its origin (styles and scripts load from there).
    await page.route(own + '/forms/kontakt', (route) => route.fulfill({ status: 503, contentType: 'text/html; charset=utf-8', body: refused.body }));
    await page.goto(own + '/forms/kontakt');
    const title = await page.title();
    check(title.startsWith('Bitte gleich noch einmal senden'), `503: Titel „${title}“`, `503: Titel „${title}“`);
    check(await fullPage(page), '503: ganze Seite mit Kopf, Fuß, Impressum und Datenschutz', '503: Kopf oder Fuß fehlt');
    const kept = await page.$$eval('main form input[type="hidden"]', (is) => Object.fromEntries(is.map((i) => [i.name, i.value])));
    check(/^Person \d+-\d+$/.test(kept.name || '') && kept.nachricht === 'Bitte rufen Sie an.', '503: Eingaben bleiben erhalten',
      `503: aufbewahrt: ${JSON.stringify(kept).slice(0, 200)}`);
    const says = (await page.locator('main').innerText()).replace(/\s+/g, ' ');
    check(/in einigen Sekunden/.test(says), '503: sagt, wann es wieder geht', `503: ${says.slice(0, 200)}`);
    await axeClean(page, '503-Seite');
    backendPages.push(['ueberlast-503.html', refused.body]);
  } catch (e) {
    fail(e.message.split('\n')[0]);
  } finally {
    await ctx.close();
    server.kill('SIGTERM');
    await new Promise((r) => (server.exitCode !== null ? r() : server.once('exit', r)));
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function forcedColours(browser, js) {
  console.log(`\nErzwungene Farben (forced-colors: active) ${js ? 'mit' : 'ohne'} JavaScript:`);
  const ctx = await browser.newContext({ javaScriptEnabled: js, locale: 'de-DE', forcedColors: 'active', viewport: { width: 1280, height: 900 } });
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
    await forcedColours(browser, false);
    await forcedColours(browser, true);
    await limitPages(browser, false);
    await limitPages(browser, true);
    await overload(browser);
    await header(browser);
    console.log('\nNu Html Checker über die Seiten des Backends:');
    for (const [name, html] of backendPages) fs.writeFileSync(path.join(dir, name), '<!DOCTYPE html>\n' + html.replace(/^<!DOCTYPE html>\s*/i, ''));
    const vnu = require.resolve('vnu-jar/build/dist/vnu.jar');
    let out = '';
    try {
      out = execFileSync('java', ['-jar', vnu, '--errors-only', '--format', 'json', '--stdout', dir], { encoding: 'utf8' });
    } catch (e) { out = e.stdout || ''; }
    const msgs = (JSON.parse(out || '{"messages":[]}').messages || []).filter((m) => m.type === 'error');
    check(backendPages.length >= 6 && msgs.length === 0, `${backendPages.length} Seiten, 0 Fehler`,
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
