#!/usr/bin/env node
'use strict';
// The membership application end to end in headless Chromium against the real `campus serve`
// and a real mail sink, once without and once with JavaScript: from the membership page to
// the form; without JavaScript „Berechnen“ posts the form and the page comes back with
// shares, deposit and yearly fee and everything typed; with JavaScript the figures appear
// while typing; a wrong postcode comes back with the error summary focused and the input
// kept; the corrected form is sent, the contact person confirms with the link from the mail
// (GET shows a button), and the office logs in and moves the application through „Vorstand
// hat zugestimmt“, „Einlage eingegangen“ and „Mitglied“, one mail per step at the SMTP
// server, and downloads the landing page's draft. Every page is checked with the Nu Html
// Checker (errors) and, with JavaScript, axe-core (WCAG 2.1 A/AA).
//
// Usage: node membership-e2e.js http://127.0.0.1:PORT --mail-dir DIR --site DIR
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
  'node membership-e2e.js http://127.0.0.1:PORT --mail-dir DIR --site DIR [--screenshots DIR]',
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
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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

const htmlDir = fs.mkdtempSync(path.join(os.tmpdir(), 'campus-qa-mitgliedsantrag-'));
const checked = new Set();
// Keeps the served HTML for the Nu check (once per path and state) and runs axe with JavaScript.
async function check(page, js, label) {
  const key = `${js}:${label}`;
  if (checked.has(key)) return;
  checked.add(key);
  fs.writeFileSync(path.join(htmlDir, `${checked.size}-${label.replace(/[^a-z0-9]+/gi, '_')}.html`), await page.content());
  if (js) {
    const r = await runAxe(page);
    for (const v of r.violations) fail(`axe auf ${label}: [${v.impact}] ${v.id}: ${v.help} – ${v.nodes.slice(0, 3).map((n) => n.html).join(' | ')}`);
    if (!r.violations.length) ok(`axe auf ${label}: 0 Verstöße`);
  }
}
async function h1(page) { return ((await page.locator('h1').first().textContent().catch(() => '')) || '').replace(/\s+/g, ' ').trim(); }
async function shot(page, name) {
  if (!shotsDir) return;
  try { await page.screenshot({ path: path.join(shotsDir, `mitgliedsantrag-${name}.png`), fullPage: true }); } catch { /* optional */ }
}
async function click(page, name) {
  const [resp] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name, exact: true }).click()]);
  return resp;
}

async function fill(page, a) {
  await page.getByLabel('Name der Kommune').fill(a.name);
  await page.getByLabel('Art der Kommune').selectOption('Stadt');
  await page.getByLabel('Straße und Hausnummer der Verwaltung').fill('Rathausplatz 1');
  await page.getByLabel(/^Postleitzahl/).fill(a.plz);
  await page.getByLabel(/^Ort/).fill('Musterhausen');
  await page.getByLabel('Zahl der Beschäftigten').fill('1.500');
  await page.getByLabel('Datum des Beschlusses').fill('2026-11-10');
  await page.getByLabel('Gremium, das den Beitritt beschlossen hat').fill('Stadtrat');
  await page.getByLabel('Vor- und Nachname').fill('Karla Kaiser');
  await page.getByLabel('Dienstliche E-Mail-Adresse').fill(a.email);
  await page.getByLabel('Telefonnummer').fill('06251 123-45');
  await page.getByLabel('Eine Stelle in unserer Kommune').check();
  await page.getByLabel(/E-Mail-Adresse der freigebenden Stelle/).fill('fortbildung@musterhausen.example');
  await page.getByLabel(/Ich willige ein/).check();
}

// The figures of 1.500 employees by data/mitgliedschaft.yaml: 5 shares of 1.000 €, fee twice the deposit.
async function showsFigures(page) {
  const text = ((await page.locator('#antrag-ergebnis').textContent().catch(() => '')) || '').replace(/\s+/g, ' ');
  return /Geschäftsanteile\s*5/.test(text) && text.includes('5.000,00') && text.includes('10.000,00');
}

async function flow(browser, js) {
  const mode = `Mitgliedsantrag ${js ? 'mit' : 'ohne'} JavaScript`;
  const tag = js ? 'js' : 'ohne-js';
  const a = { name: `Stadt Musterhausen ${tag} ${RUN}`, email: `karla.${tag}.${RUN}@musterhausen.example`, plz: '6464' };
  const ctx = await browser.newContext({ javaScriptEnabled: js, locale: 'de-DE', bypassCSP: true });
  const page = await ctx.newPage();
  page.setDefaultTimeout(8000);
  try {
    // 1. from the membership page to the form
    await page.goto(`${base}/mitgliedschaft/`);
    await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'Mitgliedsantrag stellen' }).click()]);
    if ((await h1(page)) !== 'Mitgliedsantrag stellen') stop(`${mode}: der Link führt zu ${page.url()} „${await h1(page)}“`);
    ok(`${mode}: von /mitgliedschaft/ zum Formular ${new URL(page.url()).pathname}`);
    await check(page, js, 'Formular');

    // 2. the figures: as typed (JS) or with „Berechnen“ (no JS), input kept
    await fill(page, a);
    if (js) {
      if (!(await showsFigures(page))) fail(`${mode}: nach der Eingabe von 1.500 keine Anteile/Einlage/Beitrag (${await page.locator('#antrag-ergebnis').textContent()})`);
      else ok(`${mode}: beim Tippen: 5 Geschäftsanteile, 5.000,00 € Einlage, 10.000,00 € Jahresbeitrag`);
    } else {
      const resp = await click(page, 'Berechnen');
      if (resp.status() !== 200) fail(`${mode}: „Berechnen“ antwortet HTTP ${resp.status()}`);
      if (!(await showsFigures(page))) fail(`${mode}: „Berechnen“ zeigt die Zahlen nicht`);
      else ok(`${mode}: „Berechnen“ zeigt 5 Geschäftsanteile, 5.000,00 € Einlage, 10.000,00 € Jahresbeitrag`);
      if ((await page.getByLabel('Name der Kommune').inputValue()) !== a.name || (await page.getByLabel('Zahl der Beschäftigten').inputValue()) !== '1.500'
        || !(await page.getByLabel('Eine Stelle in unserer Kommune').isChecked())) fail(`${mode}: nach „Berechnen“ fehlen Eingaben`);
      else ok(`${mode}: nach „Berechnen“ ist alles Eingegebene noch da`);
      await check(page, js, 'Berechnet');
      await shot(page, `${tag}-berechnet`);
    }

    // 3. a wrong postcode: the summary has the focus, the input is kept
    await sleep(2200); // the backend's minimum fill time
    let resp = await click(page, 'Antrag senden');
    if (resp.status() !== 422) fail(`${mode}: falsche Postleitzahl: HTTP ${resp.status()} statt 422`);
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.classList.contains('fehler-zusammenfassung'));
    if (!focused) fail(`${mode}: die Fehlerzusammenfassung hat nicht den Fokus`);
    else ok(`${mode}: Fehlerzusammenfassung hat den Fokus`);
    const link = page.locator('.fehler-zusammenfassung a[href="#mitgliedsantrag-plz"]');
    if (await link.count() !== 1) fail(`${mode}: die Zusammenfassung verlinkt die Postleitzahl nicht`);
    if ((await page.getByLabel(/^Postleitzahl/).inputValue()) !== a.plz || (await page.getByLabel('Name der Kommune').inputValue()) !== a.name) fail(`${mode}: nach dem Fehler fehlen Eingaben`);
    else ok(`${mode}: Eingaben nach dem Fehler erhalten`);
    if (js) {
      await link.click();
      const inField = await page.evaluate(() => document.activeElement && document.activeElement.id);
      if (inField !== 'mitgliedsantrag-plz') fail(`${mode}: der Link der Zusammenfassung setzt den Fokus auf ${inField}`);
      else ok(`${mode}: der Link der Zusammenfassung setzt den Fokus ins Feld`);
    }
    await check(page, js, 'Fehler');
    await shot(page, `${tag}-fehler`);

    // 4. corrected and sent → thank-you page → the confirmation mail → button
    await page.getByLabel(/^Postleitzahl/).fill('64646');
    await sleep(2200);
    const before = new Set(mailFiles(mailDir));
    resp = await click(page, 'Antrag senden');
    if ((await h1(page)) !== 'Bitte bestätigen Sie Ihren Antrag') stop(`${mode}: nach dem Senden ${page.url()} „${await h1(page)}“ (HTTP ${resp.status()})`);
    ok(`${mode}: gesendet, Seite „${await h1(page)}“`);
    await check(page, js, 'Danke');
    const m = await waitForMail(mailDir, before, (x) => x.to.includes(a.email) && /bestätigen/i.test(x.subject));
    if (!m.mail) stop(`${mode}: keine Bestätigungsanfrage an ${a.email}`);
    if (!m.mail.text.includes('5.000,00')) fail(`${mode}: die Bestätigungsanfrage nennt die Einlage nicht`);
    ok(`${mode}: Mail „${m.mail.subject}“ an ${a.email}`);
    const confirmLink = linksIn(m.mail).find((u) => u.includes('/forms/bestaetigen/'));
    if (!confirmLink) stop(`${mode}: kein Bestätigungslink in der Mail`);
    const beforeConfirm = new Set(mailFiles(mailDir));
    await page.goto(local(confirmLink));
    await click(page, 'Jetzt bestätigen');
    const received = await waitForMail(mailDir, beforeConfirm, (x) => x.to.includes(a.email) && x.subject.includes('ist eingegangen'));
    const toOffice = await waitForMail(mailDir, beforeConfirm, (x) => x.to.includes(office) && x.subject.includes(a.name));
    if (!received.mail || !toOffice.mail) stop(`${mode}: nach der Bestätigung fehlt die Mail an die Ansprechperson oder an die Geschäftsstelle`);
    ok(`${mode}: bestätigt; „${received.mail.subject}“ an die Ansprechperson, „${toOffice.mail.subject}“ an ${office}`);
    const officeLink = linksIn(toOffice.mail).find((u) => u.includes('/verwaltung/mitgliedsantraege/'));

    // 5. the office: login link, the application, three steps with a mail each, the draft
    const beforeLogin = new Set(mailFiles(mailDir));
    await page.goto(`${base}/verwaltung/anmelden`);
    await page.getByLabel('Dienstliche E-Mail-Adresse').fill(office);
    await click(page, 'Anmeldelink senden');
    const login = await waitForMail(mailDir, beforeLogin, (x) => x.to.includes(office) && x.parts.some((p) => (p.text || '').includes('/verwaltung/anmelden/')));
    if (!login.mail) stop(`${mode}: keine Mail mit Anmeldelink an ${office}`);
    await page.goto(local(linksIn(login.mail).find((u) => u.includes('/verwaltung/anmelden/'))));
    await click(page, 'Jetzt anmelden');
    await page.goto(`${base}/verwaltung/mitgliedsantraege`);
    await check(page, js, 'Verwaltung-Liste');
    const item = page.getByRole('link', { name: new RegExp(`${a.name}$`) });
    if (await item.count() !== 1) stop(`${mode}: die Liste der Mitgliedsanträge nennt ${a.name} nicht`);
    await Promise.all([page.waitForNavigation(), item.click()]);
    if (officeLink && new URL(local(officeLink)).pathname !== new URL(page.url()).pathname) fail(`${mode}: der Link der Geschäftsstellen-Mail (${officeLink}) ist nicht die Seite des Antrags`);
    await check(page, js, 'Verwaltung-Antrag');
    for (const [button, state, subject] of [
      ['Vorstand hat zugestimmt', 'Vorstand hat zugestimmt', 'Vorstand hat Ihrem Mitgliedsantrag zugestimmt'],
      ['Einlage ist eingegangen', 'Einlage eingegangen', 'Einlage ist eingegangen'],
      ['Als Mitglied aufnehmen', 'Mitglied', 'Willkommen in der KommunalCampus eG'],
    ]) {
      const beforeStep = new Set(mailFiles(mailDir));
      await click(page, button);
      const status = ((await page.locator('[role="status"]').first().textContent().catch(() => '')) || '').replace(/\s+/g, ' ');
      if (!status.includes(`„${state}“`)) fail(`${mode}: nach „${button}“: „${status}“`);
      const mail = await waitForMail(mailDir, beforeStep, (x) => x.to.includes(a.email) && x.subject.includes(subject));
      if (!mail.mail) fail(`${mode}: nach „${button}“ keine Mail „${subject}“ an ${a.email}`);
      else ok(`${mode}: „${button}“ → ${state}, Mail „${mail.mail.subject}“`);
    }
    const history = ((await page.locator('ol').last().textContent()) || '').replace(/\s+/g, ' ');
    if (!history.includes(`geschaeftsstelle:${office}`)) fail(`${mode}: der Verlauf nennt die Geschäftsstelle nicht: ${history.slice(0, 200)}`);
    await check(page, js, 'Verwaltung-Mitglied');
    await shot(page, `${tag}-mitglied`);
    const href = await page.getByRole('link', { name: 'Entwurf der Seite herunterladen' }).getAttribute('href');
    const draft = await page.request.get(base + href);
    const text = await draft.text();
    if (draft.status() !== 200 || !text.includes(`name: "${a.name}"`) || !text.includes('leitweg_id: "Leitweg-ID eintragen"')) fail(`${mode}: Entwurf: HTTP ${draft.status()} ${text.slice(0, 1500)}`);
    else ok(`${mode}: Entwurf der Seite heruntergeladen (${draft.headers()['content-disposition']})`);
  } catch (e) {
    if (!(e instanceof Stop)) fail(`${mode}: ${e.message.split('\n')[0]}`);
  } finally {
    await ctx.close();
  }
}

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
  if (!messages.some((x) => x.type === 'error')) ok(`Nu Html Checker: ${n} Seiten ohne Fehler`);
}

async function main() {
  if (shotsDir) fs.mkdirSync(shotsDir, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'campus-qa-mitgliedsantrag-profile-'));
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
  console.log(failures.length ? `\n${failures.length} Befund(e) beim Mitgliedsantrag.` : '\nMitgliedsantrag: alles in Ordnung.');
  process.exit(failures.length ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
