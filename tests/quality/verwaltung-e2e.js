#!/usr/bin/env node
'use strict';
// The back-office end to end in headless Chromium against the real `campus serve` and a real
// mail sink, once without and once with JavaScript: a booking request waits for the office's
// approval (set up over HTTP like a browser would send it); the office asks for a login link
// on /verwaltung/anmelden, the link from the mail opens a page with a button (GET logs nobody
// in), the button logs in; the office opens the booking from the start page, presses
// „Freigeben“, and the person's confirmation with its calendar file arrives at the SMTP
// server. Every back-office page visited is checked with the Nu Html Checker (errors) and,
// with JavaScript, axe-core (WCAG 2.1 A/AA). Then the invoices page: the preview of a month
// with the yearly fee, the confirmed run, a PDF downloaded from the list, and (with
// JavaScript) a credit note after its confirmation page. Logout at the end.
//
// Usage: node verwaltung-e2e.js http://127.0.0.1:PORT --mail-dir DIR --site DIR
//          [--screenshots DIR]
// Exit status 1 on any finding.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { chromium } = require('playwright-core');
const { runAxe } = require('./lib/axe');
const { mailFiles, linksIn, waitForMail } = require('./lib/mail');
const { ARGS: CHROMIUM_ARGS, EXECUTABLE: CHROMIUM } = require('./lib/chromium');

const { base, opt } = require('./lib/cli').commandLine(
  'node verwaltung-e2e.js http://127.0.0.1:PORT --mail-dir DIR --site DIR [--screenshots DIR]',
  ['--mail-dir', '--site'],
);
const mailDir = opt('--mail-dir');
const siteDir = opt('--site');
const shotsDir = opt('--screenshots');
const failures = [];
const fail = (m) => { failures.push(m); console.log('  ✗ ' + m); };
const ok = (m) => console.log('  ✓ ' + m);
class Stop extends Error {}
const stop = (m) => { fail(m); throw new Stop(m); };
const RUN = Date.now().toString(36);

function readToml(file) {
  const out = {}; let section = '';
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const s = line.match(/^\s*\[([^\]]+)\]\s*$/);
    if (s) { section = s[1].trim(); continue; }
    const kv = line.match(/^\s*([A-Za-z0-9_]+)\s*=\s*"((?:[^"\\]|\\.)*)"/);
    if (kv) out[`${section}.${kv[1]}`] = kv[2];
  }
  return out;
}
const addr = (s) => ((s || '').match(/<([^>]+)>/) || [null, s || ''])[1].trim().toLowerCase();
const toml = readToml(path.join(siteDir, 'campus.toml'));
const office = addr(process.env.CAMPUS_MAIL_OFFICE || toml['mail.geschaeftsstelle'] || toml['kontakt.email']);
const mailOrigin = new URL(toml['forms.url'] || toml['site.adresse'] || toml['site.base_url'] || base).origin;
const local = (u) => { const x = new URL(u); return x.origin === mailOrigin ? base + x.pathname + x.search : u; };

// A unit with a live date the office approves for this authority (freigabe: genossenschaft).
const AUTHORITY = 'landkreis-odenwiesen';
const UNIT = 'isms-aufbauen';
function firstDate() {
  const text = fs.readFileSync(path.join(siteDir, 'content', 'einheiten', UNIT + '.md'), 'utf8');
  const m = text.match(/datum:\s*(\d{4}-\d{2}-\d{2})/);
  return m ? m[1] : stop(`${UNIT}: kein Live-Termin im Inhalt`);
}

const htmlDir = fs.mkdtempSync(path.join(os.tmpdir(), 'campus-qa-verwaltung-'));
const checked = new Set();
// Keeps the served HTML of a back-office page for the Nu check and runs axe once per path.
async function check(page, resp, js, label) {
  const key = new URL(page.url()).pathname.replace(/\/[A-Za-z0-9_.~-]{16,}$/, '/<token>').replace(/\/\d+$/, '/<nr>');
  if (checked.has(`${js}:${key}`)) return;
  checked.add(`${js}:${key}`);
  if (resp) {
    const file = path.join(htmlDir, `${checked.size}-${key.replace(/[^a-z0-9]+/gi, '_')}.html`);
    fs.writeFileSync(file, await resp.text());
  }
  if (js) {
    const r = await runAxe(page);
    for (const v of r.violations) fail(`axe auf ${label} (${key}): [${v.impact}] ${v.id}: ${v.help} – ${v.nodes.slice(0, 3).map((n) => n.html).join(' | ')}`);
    if (!r.violations.length) ok(`axe auf ${label} (${key}): 0 Verstöße`);
  }
}

async function h1(page) { return ((await page.locator('h1').first().textContent().catch(() => '')) || '').replace(/\s+/g, ' ').trim(); }
async function shot(page, name) {
  if (!shotsDir) return;
  try { await page.screenshot({ path: path.join(shotsDir, `verwaltung-${name}.png`), fullPage: true }); } catch { /* optional */ }
}

// A booking request of `person`, confirmed by the person, now waiting for the office.
async function bookingAwaitingTheOffice(person, date) {
  const token = await (await fetch(`${base}/forms/token`)).json();
  await new Promise((r) => setTimeout(r, 2200)); // the backend's minimum fill time
  const before = new Set(mailFiles(mailDir));
  const body = new URLSearchParams({
    einheit: UNIT, termin: date, name: person.name, email: person.email, kommune: AUTHORITY,
    einwilligung: 'ja', website: '', ts: token.ts,
  });
  const r = await fetch(`${base}/forms/buchung`, { method: 'POST', body, redirect: 'manual', headers: { origin: base } });
  if (r.status !== 303) stop(`Buchungsanfrage: HTTP ${r.status} statt 303 (${(await r.text()).slice(0, 200)})`);
  const m = await waitForMail(mailDir, before, (x) => x.to.includes(person.email) && /bestätigen/i.test(x.subject));
  if (!m.mail) stop(`keine Bestätigungsanfrage an ${person.email}`);
  const link = linksIn(m.mail).find((u) => u.includes('/forms/buchung/bestaetigen/'));
  const c = await fetch(local(link), { method: 'POST', redirect: 'manual', headers: { origin: base } });
  if (c.status !== 303) stop(`Bestätigen der Anfrage: HTTP ${c.status}`);
}

async function flow(browser, js) {
  const mode = `Verwaltung ${js ? 'mit' : 'ohne'} JavaScript`;
  const tag = js ? 'js' : 'ohne-js';
  const person = { name: `Vera Verwaltung ${tag} ${RUN}`, email: `vera.${tag}.${RUN}@kreis-odenwiesen.example` };
  const date = firstDate();
  await bookingAwaitingTheOffice(person, date);
  ok(`${mode}: Buchung von ${person.email} für ${UNIT} am ${date} wartet auf die Geschäftsstelle`);

  const ctx = await browser.newContext({ javaScriptEnabled: js, locale: 'de-DE', bypassCSP: true });
  const page = await ctx.newPage();
  page.setDefaultTimeout(8000);
  try {
    // 1. login form → the same answer for every address, the mail with the link
    let resp = await page.goto(`${base}/verwaltung/`);
    if (new URL(page.url()).pathname !== '/verwaltung/anmelden') stop(`${mode}: /verwaltung/ ohne Anmeldung führt zu ${page.url()}`);
    await check(page, resp, js, 'Anmelden');
    const before = new Set(mailFiles(mailDir));
    await page.getByLabel('Dienstliche E-Mail-Adresse').fill(office);
    [resp] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Anmeldelink senden' }).click()]);
    if (resp.status() !== 200) stop(`${mode}: Anmeldelink anfordern: HTTP ${resp.status()}`);
    const m = await waitForMail(mailDir, before, (x) => x.to.includes(office) && x.parts.some((p) => (p.text || '').includes('/verwaltung/anmelden/')));
    if (!m.mail) stop(`${mode}: keine Mail mit Anmeldelink an ${office}`);
    const link = linksIn(m.mail).find((u) => u.includes('/verwaltung/anmelden/'));
    ok(`${mode}: Mail „${m.mail.subject}“ mit Anmeldelink an ${office}`);

    // 2. the link: GET shows a button and logs nobody in; the button logs in
    resp = await page.goto(local(link));
    if (resp.status() !== 200) stop(`${mode}: Anmeldelink antwortet HTTP ${resp.status()}`);
    await check(page, resp, js, 'Anmeldelink');
    const cookies = await ctx.cookies();
    if (cookies.length) fail(`${mode}: schon das Öffnen des Links (GET) setzt ein Cookie: ${cookies.map((x) => x.name).join(', ')}`);
    else ok(`${mode}: Öffnen des Links (GET) meldet nicht an (kein Cookie)`);
    [resp] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Jetzt anmelden' }).click()]);
    if (new URL(page.url()).pathname !== '/verwaltung/' || (await h1(page)) !== 'Verwaltung') stop(`${mode}: nach dem Knopf ${page.url()} „${await h1(page)}“, erwartet /verwaltung/ „Verwaltung“`);
    ok(`${mode}: per Knopf angemeldet, Übersicht „Verwaltung“`);
    await check(page, resp, js, 'Übersicht');
    await shot(page, `${tag}-uebersicht`);

    // 3. the booking from the start page → Freigeben
    const item = page.locator('li', { hasText: person.name }).first();
    if (await item.count() === 0) stop(`${mode}: die Übersicht listet die Buchung von ${person.name} nicht`);
    [resp] = await Promise.all([page.waitForNavigation(), item.locator('a').first().click()]);
    await check(page, resp, js, 'Buchung');
    const beforeApprove = new Set(mailFiles(mailDir));
    [resp] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Freigeben' }).click()]);
    const status = (await page.locator('[role="status"]').first().textContent().catch(() => '')).trim();
    if (!/^Freigegeben/.test(status)) stop(`${mode}: nach „Freigeben“: „${status}“ (HTTP ${resp.status()})`);
    ok(`${mode}: „Freigeben“ gedrückt: ${status}`);
    const trail = (await page.locator('table').last().textContent()).replace(/\s+/g, ' ');
    if (!trail.includes(`geschaeftsstelle:${office}`)) fail(`${mode}: der Verlauf nennt die Geschäftsstelle nicht: ${trail.slice(0, 300)}`);
    else ok(`${mode}: Verlauf nennt geschaeftsstelle:${office}`);
    await shot(page, `${tag}-freigegeben`);

    // 4. the person's confirmation arrives at the SMTP server
    const c = await waitForMail(mailDir, beforeApprove, (x) => x.to.includes(person.email) && x.parts.some((p) => p.type === 'text/calendar'));
    if (!c.mail) stop(`${mode}: keine Buchungsbestätigung mit Kalenderdatei an ${person.email}`);
    ok(`${mode}: Bestätigung „${c.mail.subject}“ mit text/calendar an ${person.email} angekommen`);

    // 5. the other back-office pages: Nu and axe
    const pages = [
      [`/verwaltung/personen?email=${encodeURIComponent(person.email)}`, 'Person'],
      [`/verwaltung/termine/${UNIT}/${date}`, 'Termin'],
      ['/verwaltung/anfragen', 'Anfragen'], ['/verwaltung/postausgang', 'Postausgang'],
      ['/verwaltung/export', 'Export'], ['/verwaltung/beitrag', 'Jahresbeitrag'],
      ['/verwaltung/exklusivkurse', 'Exklusive Kurse'],
      // last: the check below reads this page's content
      ['/verwaltung/zwei-faktor', 'Zweiter Faktor'],
    ];
    for (const [p, label] of pages) {
      resp = await page.goto(base + p);
      if (resp.status() !== 200) { fail(`${mode}: ${p} antwortet HTTP ${resp.status()}`); continue; }
      await check(page, resp, js, label);
    }
    if (!(await page.content()).includes('Zweiten Faktor einrichten')) fail(`${mode}: /verwaltung/zwei-faktor ohne Knopf „Zweiten Faktor einrichten“`);

    // 5b. invoices: each flow bills another year's fee, so both see a preview with lines
    await invoices(page, js, mode);

    // 6. logout
    [resp] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Abmelden' }).click()]);
    resp = await page.goto(`${base}/verwaltung/`);
    if (new URL(page.url()).pathname !== '/verwaltung/anmelden') fail(`${mode}: nach „Abmelden“ ist /verwaltung/ noch offen`);
    else ok(`${mode}: abgemeldet`);
  } catch (e) {
    if (!(e instanceof Stop)) fail(`${mode}: ${e.message.split('\n')[0]}`);
  } finally {
    await ctx.close();
  }
}

// The invoice run in the browser: preview (Nu, axe), confirmed run, a PDF from the list.
async function invoices(page, js, mode) {
  const year = new Date().getFullYear() + (js ? 1 : 0);
  const month = js ? `${year}-01` : `${year}-${String(new Date().getMonth() + 1).padStart(2, '0')}`;
  let resp = await page.goto(`${base}/verwaltung/rechnungen/`);
  if (resp.status() !== 200) stop(`${mode}: /verwaltung/rechnungen/ antwortet HTTP ${resp.status()}`);
  await page.getByLabel('Monat').fill(month);
  await page.getByLabel(/Jahresbeitrag des Jahres mit abrechnen/).check();
  [resp] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Vorschau anzeigen' }).click()]);
  const preview = page.locator('caption', { hasText: 'Positionen für' });
  if (await preview.count() === 0) stop(`${mode}: Vorschau für ${month} ohne Positionen (Jahresbeitrag ${year})`);
  ok(`${mode}: Vorschau für ${month} mit Jahresbeitrag: ${await preview.count()} Kommune(n) mit Positionen`);
  await check(page, resp, js, 'Rechnungen (Vorschau)');
  await shot(page, `${tag(js)}-rechnungen-vorschau`);
  await page.getByLabel(/Ich habe die Positionen geprüft/).check();
  [resp] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: `Rechnungslauf für ${month} starten` }).click()]);
  const status = ((await page.locator('[role="status"]').first().textContent().catch(() => '')) || '').trim();
  if (!/^Rechnungslauf abgeschlossen: [1-9]/.test(status)) stop(`${mode}: nach dem Rechnungslauf: „${status}“ (HTTP ${resp.status()})`);
  ok(`${mode}: ${status}`);
  const link = page.locator('a', { hasText: /als PDF$/ }).first();
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const file = await download.path();
  const head = fs.readFileSync(file).subarray(0, 5).toString('latin1');
  if (head !== '%PDF-') fail(`${mode}: ${download.suggestedFilename()} ist kein PDF („${head}“)`);
  else ok(`${mode}: ${download.suggestedFilename()} heruntergeladen (${fs.statSync(file).size} Bytes, PDF)`);
  if (!js) return;
  const credit = page.locator('a', { hasText: /^Gutschrift zu KC-\d+ erstellen$/ }).first();
  const label = (await credit.textContent()).trim();
  [resp] = await Promise.all([page.waitForNavigation(), credit.click()]);
  await check(page, resp, js, 'Gutschrift');
  [resp] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: label }).click()]);
  const done = ((await page.locator('[role="status"]').first().textContent().catch(() => '')) || '').trim();
  if (!/^Gutschrift KC-\d+ erstellt/.test(done)) fail(`${mode}: nach „${label}“: „${done}“ (HTTP ${resp.status()})`);
  else ok(`${mode}: ${done}`);
}
const tag = (js) => (js ? 'js' : 'ohne-js');

function nu() {
  const jar = require.resolve('vnu-jar/build/dist/vnu.jar');
  let out = '';
  try {
    out = execFileSync('java', ['-jar', jar, '--errors-only', '--stdout', '--format', 'json', htmlDir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 24 });
  } catch (e) { out = (e.stdout || '').toString(); }
  let messages = [];
  try { messages = JSON.parse(out).messages || []; } catch { fail(`Nu Html Checker lieferte kein JSON: ${out.slice(0, 200)}`); return; }
  for (const m of messages.filter((x) => x.type === 'error')) fail(`Nu: ${path.basename(m.url || '')}:${m.lastLine || '?'}: ${m.message}`);
  const n = fs.readdirSync(htmlDir).length;
  if (!messages.some((x) => x.type === 'error')) ok(`Nu Html Checker: ${n} Seiten der Verwaltung ohne Fehler`);
}

async function main() {
  if (shotsDir) fs.mkdirSync(shotsDir, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'campus-qa-verwaltung-profile-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  try {
    const browser = context.browser();
    for (const js of [false, true]) {
      try { await flow(browser, js); } catch (e) { if (!(e instanceof Stop)) fail(e.message); }
    }
  } finally {
    await context.close();
  }
  nu();
  fs.rmSync(htmlDir, { recursive: true, force: true });
  fs.rmSync(profile, { recursive: true, force: true });
  console.log(failures.length ? `\n${failures.length} Befund(e) in der Verwaltung.` : '\nVerwaltung: alles in Ordnung.');
  process.exit(failures.length ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
