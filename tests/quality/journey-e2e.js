#!/usr/bin/env node
'use strict';
// A participant's whole journey, end to end in headless Chromium against its own
// `campus serve` (a copy of the site) and the gate's real SMTP server:
//
//   request on the unit page → confirmation mail → link → button → approval mail to the
//   office → approve → confirmation mail;
//   live date (server restarted with CAMPUS_TEST_HEUTE, a debug-build-only clock): the office
//   logs in by mail link and records "teilgenommen" on the date's back-office page;
//   14 days later (restarted again): the evaluation link mail, the evaluation form (a
//   required answer missing first: error summary, input kept), the thank-you page with the
//   certificate PDF (read back with pdftotext and qpdf --check), and the verification page
//   saying "Bescheinigung gültig" for the number typed in lower case with spaces.
//
// axe-core and the Nu Html Checker run on the back-office date page, the evaluation form,
// the thank-you page, the verification page, the office's evaluation view and the CSV import. Time moves only by restarting the server on another day: release builds
// ignore CAMPUS_TEST_HEUTE.
//
// Usage: node journey-e2e.js --campus BIN --site DIR --mail-dir DIR --mail-env K=V,K=V
//          [--screenshots DIR]
// Exit status 1 on any finding.

const fs = require('fs');
const os = require('os');
const net = require('net');
const path = require('path');
const { spawn, execFileSync } = require('child_process');
const { chromium } = require('playwright-core');
const { runAxe } = require('./lib/axe');
const { mailFiles, linksIn, waitForMail } = require('./lib/mail');
const { ARGS: CHROMIUM_ARGS, EXECUTABLE: CHROMIUM } = require('./lib/chromium');

const args = process.argv.slice(2);
const opt = (name, dflt = '') => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const campus = opt('--campus');
const siteSrc = opt('--site');
const mailDir = opt('--mail-dir');
const mailEnv = Object.fromEntries(opt('--mail-env').split(',').filter(Boolean).map((kv) => kv.split(/=(.*)/s).slice(0, 2)));
const shotsDir = opt('--screenshots');
if (!campus || !siteSrc || !mailDir) {
  console.error('usage: node journey-e2e.js --campus BIN --site DIR --mail-dir DIR --mail-env K=V,K=V [--screenshots DIR]');
  process.exit(2);
}

// The unit, its first live date and an authority whose bookings the office approves.
const UNIT = 'e-akte-einfuehren';
const LIVE = '2027-02-10';
const FOLLOW_UP = '2027-02-24';
const AUTHORITY = 'quellental';
const RUN = Date.now().toString(36);
const PERSON = { name: 'Jana Journey', email: `qa-journey-${RUN}@quellental.example` };

const failures = [];
const fail = (m) => { failures.push(m); console.log('  ✗ ' + m); };
const ok = (m) => console.log('  ✓ ' + m);
const info = (m) => console.log('    ' + m);
class Stop extends Error {}
const stop = (m) => { fail(m); throw new Stop(m); };

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

// ---- the site copy and its server
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'campus-journey-'));
const site = path.join(work, 'site');
fs.mkdirSync(site);
for (const d of ['campus.toml', 'content', 'data', 'static', 'themes', 'templates']) {
  if (fs.existsSync(path.join(siteSrc, d))) fs.cpSync(path.join(siteSrc, d), path.join(site, d), { recursive: true });
}
const toml = readToml(path.join(site, 'campus.toml'));
const addr = (s) => ((s || '').match(/<([^>]+)>/) || [null, s || ''])[1].trim().toLowerCase();
const office = addr(toml['mail.geschaeftsstelle'] || toml['kontakt.email']);
const mailOrigin = new URL(toml['forms.url'] || toml['site.adresse'] || toml['site.base_url']).origin;
let base = '';
const local = (u) => { const x = new URL(u); return x.origin === mailOrigin ? base + x.pathname + x.search : u; };

function freePort() {
  return new Promise((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
}

let server = null;
async function startServer(day) {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const env = { ...process.env, ...mailEnv };
  delete env.CAMPUS_TEST_HEUTE;
  if (day) env.CAMPUS_TEST_HEUTE = day;
  const log = fs.openSync(path.join(work, `serve-${day || 'heute'}.log`), 'w');
  server = spawn(campus, ['serve', '--site', site, '--address', `127.0.0.1:${port}`], { cwd: site, env, stdio: ['ignore', log, log] });
  for (let i = 0; i < 150; i++) {
    try { const r = await fetch(base + `/lerneinheiten/${UNIT}/`); if (r.status === 200) { ok(`campus serve${day ? ` mit Testuhr ${day}` : ''} auf ${base}`); return; } } catch { /* not up yet */ }
    if (server.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  stop(`campus serve${day ? ` (${day})` : ''} startet nicht: ${fs.readFileSync(path.join(work, `serve-${day || 'heute'}.log`), 'utf8').split('\n').slice(-5).join(' / ')}`);
}
async function stopServer() {
  if (!server || server.exitCode !== null) return;
  const done = new Promise((r) => server.once('exit', r));
  server.kill('SIGTERM');
  await Promise.race([done, new Promise((r) => setTimeout(r, 10000))]);
  if (server.exitCode === null) server.kill('SIGKILL');
}

// ---- browser helpers
async function h1(page) { return ((await page.locator('h1').first().textContent().catch(() => '')) || '').replace(/\s+/g, ' ').trim(); }
let shotNo = 0;
async function shot(page, name) {
  if (!shotsDir) return;
  shotNo++;
  try { await page.screenshot({ path: path.join(shotsDir, `reise-${String(shotNo).padStart(2, '0')}-${name}.png`), fullPage: true }); } catch { /* a missing screenshot is no finding */ }
}
// The backend pages of the journey, kept for the Nu Html Checker at the end.
const htmlDir = path.join(work, 'html');
fs.mkdirSync(htmlDir);
async function axeOn(page, label) {
  fs.writeFileSync(path.join(htmlDir, label.replace(/[^A-Za-z0-9äöüß]+/g, '-') + '.html'), await page.content());
  const r = await runAxe(page);
  for (const v of r.violations) fail(`axe auf ${label}: [${v.impact}] ${v.id}: ${v.help} – ${v.nodes.slice(0, 3).map((n) => n.html).join(' | ')}`);
  if (!r.violations.length) ok(`axe auf ${label}: 0 Verstöße`);
}
async function click(page, locator) {
  const [resp] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), locator.click()]);
  return resp;
}
async function mailTo(to, subject, before) {
  const m = await waitForMail(mailDir, before, (x) => x.to.includes(to) && subject.test(x.subject), 30000);
  if (!m.mail) stop(`keine Mail ${subject} an ${to} (neue Mails: ${m.fresh.map((x) => `„${x.subject}“ an ${x.to}`).join('; ') || 'keine'})`);
  ok(`Mail „${m.mail.subject}“ an ${to}`);
  return m.mail;
}
const linkIn = (mail, part) => {
  const u = linksIn(mail).find((x) => x.includes(part));
  if (!u) stop(`Mail „${mail.subject}“ enthält keinen Link …${part}…`);
  return local(u);
};
// Opens a link from a mail and presses its one button (GET changes nothing).
async function pressLinkButton(page, url, button) {
  const r = await page.goto(url);
  if (!r || r.status() !== 200) stop(`${new URL(url).pathname.replace(/[^/]{16,}$/, '<token>')} antwortet HTTP ${r ? r.status() : '?'} („${await h1(page)}“)`);
  const btn = page.getByRole('button', { name: button });
  if (await btn.count() !== 1) stop(`Seite „${await h1(page)}“ hat keinen Knopf ${button}`);
  return click(page, btn);
}

async function officeLogin(page, before) {
  await page.goto(`${base}/verwaltung/anmelden`);
  await page.getByLabel('Dienstliche E-Mail-Adresse').fill(office);
  await click(page, page.getByRole('button', { name: 'Anmeldelink senden' }));
  const login = await mailTo(office, /Anmeldelink/i, before);
  await pressLinkButton(page, linkIn(login, '/verwaltung/anmelden/'), 'Jetzt anmelden');
  if (new URL(page.url()).pathname !== '/verwaltung/') stop(`Anmeldung führt zu ${new URL(page.url()).pathname}`);
  ok('Geschäftsstelle per Mail-Link angemeldet');
}

async function journey(ctx) {
  const page = await ctx.newPage();
  page.setDefaultTimeout(10000);

  // 1. request → confirm → approve → confirmed
  await startServer('');
  let before = new Set(mailFiles(mailDir));
  await page.goto(`${base}/lerneinheiten/${UNIT}/?kommune=${AUTHORITY}`);
  const form = page.locator('form[action$="/forms/buchung"]');
  if (await form.count() !== 1) stop(`/lerneinheiten/${UNIT}/ hat kein Buchungsformular`);
  await form.locator(`input[name="termin"][value="${LIVE}"]`).check();
  await form.getByLabel('Vor- und Nachname').fill(PERSON.name);
  await form.getByLabel(/Dienstliche E-Mail-Adresse/).fill(PERSON.email);
  await form.getByLabel(/Ihre Kommune/).selectOption(AUTHORITY);
  await form.getByLabel(/Ich melde mich verbindlich an/).check();
  await page.waitForTimeout(2500); // longer than the backend's minimum fill time
  await click(page, form.locator('button[type="submit"]').first());
  if (new URL(page.url()).pathname !== '/formular/danke-buchung/') stop(`Buchung führt zu ${new URL(page.url()).pathname} („${await h1(page)}“)`);
  ok(`Buchungsanfrage ${UNIT} am ${LIVE}: Danke-Seite`);
  const m1 = await mailTo(PERSON.email, /bestätigen/i, before);
  before = new Set(mailFiles(mailDir));
  await pressLinkButton(page, linkIn(m1, '/forms/buchung/bestaetigen/'), /bestätigen/i);
  ok(`Anfrage bestätigt: ${new URL(page.url()).pathname}`);
  const m2 = await mailTo(office, /Freigabe/i, before);
  before = new Set(mailFiles(mailDir));
  await pressLinkButton(page, linkIn(m2, '/forms/buchung/freigeben/'), /freigeben/i);
  ok(`Geschäftsstelle gibt frei: „${await h1(page)}“`);
  await mailTo(PERSON.email, /Buchung bestätigt/i, before);
  await stopServer();

  // 2. the live date: the office records the attendance
  await startServer(LIVE);
  before = new Set(mailFiles(mailDir));
  await officeLogin(page, before);
  await page.goto(`${base}/verwaltung/termine/${UNIT}/${LIVE}`);
  const person = page.locator('fieldset', { hasText: PERSON.email });
  if (await person.count() !== 1) stop(`Terminseite nennt ${PERSON.email} nicht unter „Anwesenheit“`);
  await person.getByLabel('teilgenommen', { exact: true }).check();
  await axeOn(page, 'Terminseite der Verwaltung mit Anwesenheit');
  await shot(page, 'anwesenheit');
  await click(page, page.getByRole('button', { name: 'Anwesenheit speichern' }));
  const legend = ((await page.locator('fieldset', { hasText: PERSON.email }).locator('legend').textContent()) || '').replace(/\s+/g, ' ');
  if (!/– teilgenommen/.test(legend)) stop(`nach dem Speichern steht dort: „${legend.trim()}“`);
  ok(`Anwesenheit erfasst: „${legend.trim()}“`);
  await stopServer();

  // 3. two weeks later: evaluation link → form → certificate → verification
  before = new Set(mailFiles(mailDir));
  await startServer(FOLLOW_UP);
  const inv = await mailTo(PERSON.email, /Bewertung/i, before);
  info(`Auto-Submitted der Bewertungsmail: ${inv.get('Auto-Submitted') || '(fehlt)'}`);
  const evalUrl = linkIn(inv, '/bewertung/');
  const r = await page.goto(evalUrl);
  if (!r || r.status() !== 200) stop(`Bewertungslink antwortet HTTP ${r ? r.status() : '?'}`);
  ok(`Bewertungsbogen: „${await h1(page)}“`);
  await axeOn(page, 'Bewertungsbogen');
  const evalForm = page.locator('form[action^="/bewertung/"]');
  await evalForm.getByLabel('Was sollen wir verbessern?', { exact: false }).fill('Mehr Beispiele aus kleinen Gemeinden.');
  await click(page, page.getByRole('button', { name: 'Bewertung absenden' }));
  const summary = page.locator('.fehler-zusammenfassung');
  if (await summary.count() !== 1) fail('Bewertung ohne Pflichtantwort: keine Fehlerzusammenfassung');
  else ok(`ohne Pflichtantwort: „${((await summary.textContent()) || '').replace(/\s+/g, ' ').trim().slice(0, 120)}“`);
  const kept = await page.locator('textarea[name="q-anregungen"]').inputValue().catch(() => '');
  if (!kept.includes('kleinen Gemeinden')) fail(`freie Antwort nicht erhalten („${kept}“)`);
  await shot(page, 'bewertung-fehler');
  // Every scale: the highest value; every choice: the first option.
  for (const group of await page.locator('form[action^="/bewertung/"] fieldset').all()) {
    const radios = group.locator('input[type="radio"]');
    const n = await radios.count();
    if (n) await radios.nth(n === 5 ? 4 : 0).check();
  }
  await page.getByLabel(/Meine freien Antworten dürfen/).check();
  await click(page, page.getByRole('button', { name: 'Bewertung absenden' }));
  if (!/Vielen Dank/.test(await h1(page))) stop(`nach dem Absenden: „${await h1(page)}“`);
  ok('Bewertung gespeichert');
  await axeOn(page, 'Danke-Seite der Bewertung');
  await shot(page, 'bewertung-danke');
  const link = page.getByRole('link', { name: /Teilnahmebescheinigung .* herunterladen/ });
  if (await link.count() !== 1) stop('Danke-Seite ohne Link zur Teilnahmebescheinigung');
  const pdfResp = await page.request.get(new URL(await link.getAttribute('href'), base).href);
  if (pdfResp.status() !== 200 || !/application\/pdf/.test(pdfResp.headers()['content-type'] || '')) stop(`Bescheinigung: HTTP ${pdfResp.status()} ${pdfResp.headers()['content-type']}`);
  const pdfFile = path.join(work, 'bescheinigung.pdf');
  fs.writeFileSync(pdfFile, await pdfResp.body());
  const text = execFileSync('pdftotext', ['-layout', pdfFile, '-'], { encoding: 'utf8' });
  for (const fact of ['Teilnahmebescheinigung', PERSON.name, 'E-Akte einführen', 'Mittwoch, 10. Februar 2027', 'Zeitaufwand: 9 Stunden', '/bescheinigung/pruefen/KC-']) {
    if (!text.includes(fact)) fail(`PDF ohne „${fact}“`);
  }
  const number = (text.match(/KC-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}/) || [''])[0];
  try { execFileSync('qpdf', ['--check', pdfFile], { encoding: 'utf8' }); ok(`PDF: pdftotext nennt ${PERSON.name}, Nummer ${number}; qpdf --check ohne Fehler`); } catch (e) { fail(`qpdf --check: ${(e.stdout || e.message).toString().slice(0, 300)}`); }
  if (shotsDir) fs.copyFileSync(pdfFile, path.join(shotsDir, 'reise-bescheinigung.pdf'));

  await page.goto(`${base}/bescheinigung/pruefen/`);
  await page.getByLabel('Bescheinigungsnummer').fill(number.toLowerCase().replace(/-/g, ' '));
  await click(page, page.getByRole('button', { name: 'Prüfen' }));
  const verdict = await h1(page);
  const main = ((await page.locator('main').textContent()) || '').replace(/\s+/g, ' ');
  if (verdict !== 'Bescheinigung gültig' || !main.includes(PERSON.name)) fail(`Prüfseite sagt „${verdict}“ (${main.slice(0, 200)})`);
  else ok(`Prüfseite für „${number.toLowerCase().replace(/-/g, ' ')}“: „${verdict}“ mit ${PERSON.name}`);
  await axeOn(page, 'Prüfseite der Bescheinigung');
  await shot(page, 'pruefen');

  // The office's aggregated view of the evaluations, and the CSV import page.
  await officeLogin(page, new Set(mailFiles(mailDir)));
  await page.goto(`${base}/verwaltung/bewertungen/${UNIT}/${LIVE}`);
  const view = ((await page.locator('main').textContent()) || '').replace(/\s+/g, ' ');
  if (!/1 Bewertungen von 1 Teilnehmenden/.test(view) || !view.includes('Durchschnitt 5,0') || !view.includes('kleinen Gemeinden')) {
    fail(`Bewertungen der Geschäftsstelle: ${view.slice(0, 300)}`);
  } else ok('Geschäftsstelle sieht 1 Bewertung, Durchschnitt 5,0 und die freigegebene freie Antwort');
  await axeOn(page, 'Bewertungen eines Termins');
  await shot(page, 'bewertungen');
  await page.goto(`${base}/verwaltung/anwesenheit/import`);
  await axeOn(page, 'Import der Anwesenheit');
  await page.goto(`${base}/verwaltung/anwesenheit/`);
  const row = page.locator('tr', { hasText: 'Mittwoch, 10. Februar 2027' }).filter({ hasText: 'E-Akte einführen' });
  if (await row.count() !== 1) fail('Übersicht vergangener Termine ohne den Termin der Reise');
  else ok(`Übersicht vergangener Termine: „${((await row.textContent()) || '').replace(/\s+/g, ' ').trim()}“`);
  await axeOn(page, 'Vergangene Termine');
}

(async () => {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'campus-journey-chromium-'));
  if (shotsDir) fs.mkdirSync(shotsDir, { recursive: true });
  const context = await chromium.launchPersistentContext(userDir, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, locale: 'de-DE', bypassCSP: true,
  }).catch((e) => { console.error(e.message); process.exit(2); });
  console.log(`Reise einer Teilnehmerin: ${UNIT} am ${LIVE}, Kommune ${AUTHORITY}, Geschäftsstelle ${office}`);
  try {
    await journey(context);
  } catch (e) {
    if (!(e instanceof Stop)) fail(`Abbruch: ${e.message.split('\n')[0]}`);
  } finally {
    await context.close();
    await stopServer();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
  const vnu = path.join(__dirname, 'node_modules/vnu-jar/build/dist/vnu.jar');
  if (fs.existsSync(vnu) && fs.readdirSync(htmlDir).length) {
    try {
      execFileSync('java', ['-jar', vnu, '--errors-only', '--skip-non-html', '--stdout', '--format', 'gnu', htmlDir], { encoding: 'utf8' });
      ok(`Nu Html Checker: ${fs.readdirSync(htmlDir).length} Seiten der Reise ohne Fehler`);
    } catch (e) {
      for (const line of (e.stdout || e.message).toString().trim().split('\n')) fail(`Nu Html Checker: ${line.replace(htmlDir + '/', '')}`);
    }
  } else info('Nu Html Checker nicht gefunden (npm ci in tests/quality)');
  if (failures.length) {
    for (const f of fs.readdirSync(work).filter((f) => f.startsWith('serve-'))) {
      console.log(`-- ${f} (Ende):`);
      console.log(fs.readFileSync(path.join(work, f), 'utf8').split('\n').slice(-6).join('\n'));
    }
  }
  fs.rmSync(work, { recursive: true, force: true });
  console.log(failures.length ? `${failures.length} Befunde` : 'Reise vollständig: Anfrage → Freigabe → Teilnahme → Bewertung → Bescheinigung → Prüfung');
  process.exit(failures.length ? 1 : 0);
})();
