#!/usr/bin/env node
'use strict';
// Event registration end to end in headless Chromium against the real `campus serve` and a
// real mail sink, once without and once with JavaScript: /veranstaltungen/ lists upcoming
// events; the members-only Rathausdialog page (axe) takes the form by its labels; a wrong
// address is refused with a German message and the input kept (GOV.UK summary); the
// corrected form reaches /formular/danke-veranstaltung/; the confirmation-request mail's link
// opens a page with a button (GET changes nothing); the button confirms; the confirmation
// mail names the event's own times and carries one text/calendar attachment with DTSTART
// and DTEND in Europe/Berlin (VTIMEZONE) at the event's times, not 09:00-13:00.
//
// Usage: node events-e2e.js http://127.0.0.1:PORT --mail-dir DIR --site DIR [--screenshots DIR]
// Exit status 1 on any finding.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');
const { runAxe } = require('./lib/axe');
const { mailFiles, linksIn, waitForMail } = require('./lib/mail');
const { ARGS: CHROMIUM_ARGS, EXECUTABLE: CHROMIUM } = require('./lib/chromium');

const { base, opt } = require('./lib/cli').commandLine(
  'node events-e2e.js http://127.0.0.1:PORT --mail-dir DIR --site DIR [--screenshots DIR]',
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

// The event under test as the editor wrote it.
const EVENT = 'rathausdialog-fruehjahr-2027';
function frontMatter(file) {
  const text = fs.readFileSync(file, 'utf8');
  const m = text.match(/^---\r?\n([\s\S]*?)\r?\n---/);
  const out = {};
  for (const line of (m ? m[1] : '').split(/\r?\n/)) {
    const kv = line.match(/^([a-z_]+):\s*(.*)$/);
    if (kv) out[kv[1]] = kv[2].replace(/^["']|["']$/g, '').trim();
  }
  return out;
}
const fm = frontMatter(path.join(siteDir, 'content', 'veranstaltungen', EVENT + '.md'));
const tomlText = fs.readFileSync(path.join(siteDir, 'campus.toml'), 'utf8');
const siteAddress = (tomlText.match(/^\s*adresse\s*=\s*"([^"]+)"/m) || [])[1] || base;
const formsUrl = (tomlText.match(/^\s*\[forms\][^[]*?url\s*=\s*"([^"]*)"/m) || [])[1] || '';
const mailOrigin = new URL(formsUrl || siteAddress).origin;
const local = (u) => { const x = new URL(u); return x.origin === mailOrigin ? base + x.pathname + x.search : u; };

async function h1(page) { return ((await page.locator('h1').first().textContent().catch(() => '')) || '').replace(/\s+/g, ' ').trim(); }
async function shot(page, name) {
  if (!shotsDir) return;
  try { await page.screenshot({ path: path.join(shotsDir, `veranstaltung-${name}.png`), fullPage: true }); } catch { /* optional */ }
}
async function axeOn(page, label) {
  const r = await runAxe(page);
  for (const v of r.violations) fail(`axe auf ${label}: [${v.impact}] ${v.id}: ${v.help} – ${v.nodes.slice(0, 3).map((n) => n.html).join(' | ')}`);
  if (!r.violations.length) ok(`axe auf ${label}: 0 Verstöße`);
}

// Submits (after the backend's minimum fill time); without JavaScript the form carries no
// signed time stamp, so the backend repeats it once with a button to send it again.
async function submit(page, formSel) {
  await page.waitForTimeout(2200);
  const [resp] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }),
    page.locator(formSel).locator('button[type="submit"]').first().click()]);
  return resp;
}
async function submitUntil(page, mode, formSel, wantPath) {
  for (let attempt = 1; attempt <= 3; attempt++) {
    const resp = await submit(page, formSel);
    const landed = new URL(page.url()).pathname;
    if (landed === wantPath) return resp;
    if (resp && resp.status() !== 200) stop(`${mode}: Backend lehnt das Formular ab (HTTP ${resp.status()}, „${await h1(page)}“)`);
  }
  stop(`${mode}: ${wantPath} nicht erreicht (zuletzt ${new URL(page.url()).pathname}, „${await h1(page)}“)`);
}

async function flow(browser, js) {
  const mode = `Veranstaltung ${js ? 'mit' : 'ohne'} JavaScript`;
  const person = js
    ? { name: 'Jana Skriptfreundlich', email: `jana.${RUN}@ahornfeld.example`, authority: 'Stadt Ahornfeld' }
    : { name: 'Olaf Ohnescript', email: `olaf.${RUN}@eschenbrueck.example`, authority: 'Stadt Eschenbrück' };
  console.log(`\n${mode} (${person.email}):`);
  const ctx = await browser.newContext({ javaScriptEnabled: js, locale: 'de-DE', bypassCSP: true });
  const page = await ctx.newPage();
  page.setDefaultTimeout(8000);
  try {
    // 1. the list, then the event page
    const r0 = await page.goto(base + '/veranstaltungen/');
    if (!r0 || r0.status() !== 200) stop(`${mode}: /veranstaltungen/ antwortet HTTP ${r0 ? r0.status() : '?'}`);
    const link = page.locator(`main a[href="/veranstaltungen/${EVENT}/"]`).first();
    if (await link.count() !== 1) stop(`${mode}: /veranstaltungen/ verlinkt ${EVENT} nicht`);
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), link.click()]);
    const main = (await page.locator('main').textContent()).replace(/\s+/g, ' ');
    if (!main.includes(`${fm.beginn} bis ${fm.ende} Uhr`)) fail(`${mode}: Seite nennt nicht ${fm.beginn} bis ${fm.ende} Uhr`);
    else ok(`${mode}: ${await h1(page)}: ${fm.beginn} bis ${fm.ende} Uhr`);
    if (js) await axeOn(page, `/veranstaltungen/${EVENT}/`);
    await shot(page, `${js ? 'js' : 'ohne-js'}-seite`);

    // 2. a members-only event: "another authority" is refused, then a private address
    // for a member authority; the input is kept each time
    const formSel = 'form[action$="/forms/veranstaltung"]';
    const other = page.locator(formSel);
    if (await other.getByLabel(/Ihre Kommune/).locator('option', { hasText: 'Landkreis Falkenried' }).count() > 0) {
      fail(`${mode}: die Auswahl bietet eine Kommune an, die kein Mitglied ist (Landkreis Falkenried)`);
    }
    await other.getByLabel('Vor- und Nachname').fill(person.name);
    await other.getByLabel(/Dienstliche E-Mail-Adresse/).fill(`${RUN}@privat.example`);
    await other.getByLabel(/Ihre Kommune/).selectOption({ label: 'Andere Kommune oder Behörde' });
    await other.getByLabel(/Ich melde mich verbindlich an/).check();
    const refused = await submit(page, formSel);
    const refusal = ((await page.locator('.fehler-zusammenfassung').first().textContent().catch(() => '')) || '').replace(/\s+/g, ' ');
    if (!refused || refused.status() !== 422 || !/nur für Beschäftigte der Mitgliedskommunen/.test(refusal)) {
      fail(`${mode}: „Andere Kommune“ bei einer Veranstaltung für Mitglieder: HTTP ${refused ? refused.status() : '?'} „${refusal.slice(0, 160)}“`);
    } else ok(`${mode}: „Andere Kommune“ abgelehnt: „${refusal.trim().slice(0, 140)}…“`);
    const form = page.locator(formSel);
    await form.getByLabel('Vor- und Nachname').fill(person.name);
    await form.getByLabel(/Dienstliche E-Mail-Adresse/).fill(`${RUN}@privat.example`);
    await form.getByLabel(/Ihre Kommune/).selectOption({ label: person.authority });
    await form.getByLabel(/Ich melde mich verbindlich an/).check();
    const bad = await submit(page, formSel);
    const summary = page.locator('.fehler-zusammenfassung, [role="alert"]').first();
    const summaryText = ((await summary.textContent().catch(() => '')) || '').replace(/\s+/g, ' ');
    if (!bad || bad.status() !== 422) fail(`${mode}: private Adresse ergibt HTTP ${bad ? bad.status() : '?'}, erwartet 422`);
    else if (!/nur dienstliche Adressen/.test(summaryText)) fail(`${mode}: Meldung zur privaten Adresse fehlt („${summaryText.slice(0, 200)}“)`);
    else ok(`${mode}: private Adresse abgelehnt: „${summaryText.trim().slice(0, 120)}…“`);
    const kept = await page.locator(formSel).getByLabel('Vor- und Nachname').inputValue().catch(() => '');
    if (kept !== person.name) fail(`${mode}: Eingaben nicht erhalten (Name „${kept}“)`);
    if (js) await axeOn(page, 'Formular mit Fehlern');

    // 3. corrected → thank-you page
    const again = page.locator(formSel);
    await again.getByLabel(/Dienstliche E-Mail-Adresse/).fill(person.email);
    if (!(await again.getByLabel(/Ich melde mich verbindlich an/).isChecked())) await again.getByLabel(/Ich melde mich verbindlich an/).check();
    const before = new Set(mailFiles(mailDir));
    await submitUntil(page, mode, formSel, '/formular/danke-veranstaltung/');
    ok(`${mode}: /formular/danke-veranstaltung/ – „${await h1(page)}“`);

    // 4. confirmation request → link (GET: a page with a button) → confirm
    const m1 = await waitForMail(mailDir, before, (m) => m.to.includes(person.email) && /bestätigen/i.test(m.subject));
    if (!m1.mail) stop(`${mode}: keine Bitte um Bestätigung an ${person.email}`);
    const confirmUrl = linksIn(m1.mail).find((u) => u.includes('/forms/buchung/bestaetigen/'));
    if (!confirmUrl) stop(`${mode}: „${m1.mail.subject}“ ohne Bestätigungslink`);
    ok(`${mode}: Mail „${m1.mail.subject}“`);
    const r1 = await page.goto(local(confirmUrl));
    if (!r1 || r1.status() !== 200) stop(`${mode}: Bestätigungslink antwortet HTTP ${r1 ? r1.status() : '?'}`);
    const btn = page.getByRole('button', { name: /bestätigen/i });
    if (await btn.count() !== 1) stop(`${mode}: Seite „${await h1(page)}“ ohne Knopf „bestätigen“`);
    if (js) await axeOn(page, 'Anmeldung bestätigen');
    const beforeConfirm = new Set(mailFiles(mailDir));
    await page.waitForTimeout(300);
    if (mailFiles(mailDir).some((f) => !beforeConfirm.has(f) && fs.readFileSync(f, 'latin1').includes(person.email))) {
      fail(`${mode}: schon das Öffnen des Links (GET) hat eine Mail ausgelöst`);
    }
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), btn.click()]);
    if (new URL(page.url()).pathname !== '/formular/bestaetigt/') stop(`${mode}: Bestätigen führt zu ${new URL(page.url()).pathname} („${await h1(page)}“)`);
    ok(`${mode}: Knopf bestätigt, /formular/bestaetigt/`);

    // 5. confirmed place with the event's times in the calendar file
    const m2 = await waitForMail(mailDir, beforeConfirm, (m) => m.to.includes(person.email) && /Anmeldung bestätigt/.test(m.subject));
    if (!m2.mail) stop(`${mode}: keine Bestätigung „Anmeldung bestätigt“ an ${person.email}`);
    const text = m2.mail.plain || '';
    if (!text.replace(/\s+/g, ' ').includes(`von ${fm.beginn} bis ${fm.ende} Uhr`)) fail(`${mode}: Bestätigung nennt nicht „von ${fm.beginn} bis ${fm.ende} Uhr“`);
    const cal = m2.mail.parts.filter((p) => p.type === 'text/calendar');
    if (cal.length !== 1) stop(`${mode}: Bestätigung mit ${cal.length} Kalenderanhängen, erwartet 1`);
    const lines = cal[0].text.replace(/\r?\n[ \t]/g, '').split(/\r?\n/);
    const event = lines.slice(lines.indexOf('BEGIN:VEVENT'));
    const day = fm.datum.replace(/-/g, '');
    const want = [`DTSTART;TZID=Europe/Berlin:${day}T${fm.beginn.replace(':', '')}00`, `DTEND;TZID=Europe/Berlin:${day}T${fm.ende.replace(':', '')}00`];
    const problems = want.filter((w) => !event.includes(w)).map((w) => `${w} fehlt`);
    if (!lines.includes('TZID:Europe/Berlin')) problems.push('keine VTIMEZONE Europe/Berlin');
    if (!lines.includes('METHOD:PUBLISH')) problems.push('nicht METHOD:PUBLISH');
    if (problems.length) fail(`${mode}: Kalenderanhang: ${problems.join('; ')}`);
    else ok(`${mode}: „${m2.mail.subject}“ mit Kalenderdatei ${want.join(' ')}`);
  } catch (e) {
    if (!(e instanceof Stop)) fail(`${mode}: Abbruch: ${e.message.split('\n')[0]}`);
  } finally {
    await ctx.close();
  }
}

async function main() {
  const t0 = Date.now();
  if (shotsDir) fs.mkdirSync(shotsDir, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'campus-qa-events-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  try {
    await flow(context.browser(), false);
    await flow(context.browser(), true);
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  console.log(`\nVeranstaltungen Ende zu Ende in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${failures.length ? failures.length + ' Befund(e)' : 'in Ordnung'}.`);
  process.exit(failures.length ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(2); });
