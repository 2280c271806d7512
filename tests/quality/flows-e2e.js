#!/usr/bin/env node
'use strict';
// Booking with approval and newsletter double opt-in, end to end in headless Chromium
// against the real `campus serve` (form backend included) and a real mail sink.
//
// Booking (once without, once with JavaScript): a person opens an authority's landing page,
// follows a unit link, fills the booking form by its labels (first date, name, official
// e-mail, authority, consent) and submits; thank-you page; the confirmation-request mail;
// the link opens a page with a button (GET changes nothing: checked with `campus bookings
// list`); the button confirms; the approver named by the content (the authority's
// `freigabe_email` when `freigabe: kommune`, else `[mail] geschaeftsstelle`) gets the
// approval mail, opens the approve link and presses the button; the person gets the
// confirmation with a text/calendar attachment: METHOD:PUBLISH, one VEVENT, DTSTART 09:00
// Europe/Berlin of the chosen date as local time with TZID and the VTIMEZONE (the backend
// test booking::journey reads the same files with the Python icalendar parser).
//
// Newsletter: subscribe on /newsletter/, confirmation mail, opening the link (GET) leaves the
// subscription unconfirmed (`campus forms export --form newsletter`), the button confirms,
// the welcome mail carries List-Unsubscribe and List-Unsubscribe-Post (RFC 8058).
//
// Usage: node flows-e2e.js http://127.0.0.1:PORT --mail-dir DIR --site DIR --campus BIN
//          [--screenshots DIR] [--only booking|newsletter]
//   --site: the site folder the server runs from (content, campus.toml, var/ database).
// Exit status 1 on any finding.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { chromium } = require('playwright-core');
const { runAxe } = require('./lib/axe');
const { mailFiles, linksIn, waitForMail } = require('./lib/mail');

const { base, opt } = require('./lib/cli').commandLine(
  'node flows-e2e.js http://127.0.0.1:PORT --mail-dir DIR --site DIR --campus BIN [--screenshots DIR] [--only booking|newsletter]',
  ['--mail-dir', '--site', '--campus'],
);
const mailDir = opt('--mail-dir');
const siteDir = opt('--site');
const campus = opt('--campus');
const shotsDir = opt('--screenshots');
const only = opt('--only');
const { ARGS: CHROMIUM_ARGS, EXECUTABLE: CHROMIUM } = require('./lib/chromium');
// The flows run side by side; each writes into its own log (found through AsyncLocalStorage),
// printed whole when the flow ends, so the output reads as one story per flow.
const { AsyncLocalStorage } = require('async_hooks');
const current = new AsyncLocalStorage();
const failures = [];
const out = (line) => { const log = current.getStore(); if (log) log.push(line); else console.log(line); };
const fail = (m) => { failures.push(m); out('  ✗ ' + m); };
const ok = (m) => out('  ✓ ' + m);
const info = (m) => out('    ' + m);
async function inOwnLog(title, fn) {
  const log = [title];
  await current.run(log, fn);
  return log;
}
class Stop extends Error {} // a step failed; the rest of this flow cannot run
const stop = (m) => { fail(m); throw new Stop(m); };
const RUN = Date.now().toString(36);
const NEWSLETTER_EMAIL = `qa-newsletter-${RUN}@lindenfurt.example`;

// ---- site facts, read the way an editor wrote them
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
const addr = (s) => ((s || '').match(/<([^>]+)>/) || [null, s || ''])[1].trim().toLowerCase();
const toml = readToml(path.join(siteDir, 'campus.toml'));
const office = addr(process.env.CAMPUS_MAIL_OFFICE || toml['mail.geschaeftsstelle'] || toml['kontakt.email']);
// Links in mails point at [forms] url or [site] adresse; the gate serves on a free port.
const mailOrigin = new URL(toml['forms.url'] || toml['site.adresse'] || toml['site.base_url'] || base).origin;
const local = (u) => { const x = new URL(u); return x.origin === mailOrigin ? base + x.pathname + x.search : u; };

function approverFor(authorityId) {
  const fm = frontMatter(path.join(siteDir, 'content', 'kommunen', authorityId + '.md'));
  if (fm.freigabe === 'kommune' && fm.freigabe_email) return { who: `die Kommune (${fm.freigabe_email})`, email: addr(fm.freigabe_email), kind: 'kommune', name: fm.name };
  return { who: `die Geschäftsstelle (${office})`, email: office, kind: 'genossenschaft', name: fm.name };
}

function campusCmd(argv) {
  try {
    return execFileSync(campus, [...argv, '--site', siteDir], { cwd: siteDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 15000 });
  } catch (e) { return `(campus ${argv.join(' ')} fehlgeschlagen: ${(e.stderr || e.message || '').toString().trim().split('\n')[0]})`; }
}

const shotNo = new Map(); // per flow: buchung-ohne-js-01-…, newsletter-01-…
async function shot(page, flow, name, element) { // element: a locator to shoot instead of the whole page
  if (!shotsDir) return;
  const n = (shotNo.get(flow) || 0) + 1;
  shotNo.set(flow, n);
  const file = path.join(shotsDir, `${flow}-${String(n).padStart(2, '0')}-${name}.png`);
  try { await (element ? element.screenshot({ path: file }) : page.screenshot({ path: file, fullPage: true })); } catch (e) { info(`Screenshot ${name} fehlgeschlagen: ${e.message.split('\n')[0]}`); }
}

const axeSeen = new Set();
async function axeOn(page, label) { // backend pages in the flows; axe needs JavaScript in the page
  const key = new URL(page.url()).pathname.replace(/\/[A-Za-z0-9_.~-]{16,}$/, '/<token>');
  if (axeSeen.has(key)) return;
  axeSeen.add(key);
  const r = await runAxe(page);
  for (const v of r.violations) fail(`axe auf ${label} (${key}): [${v.impact}] ${v.id}: ${v.help} – ${v.nodes.slice(0, 3).map((n) => n.html).join(' | ')}`);
  if (!r.violations.length) ok(`axe auf ${label} (${key}): 0 Verstöße`);
}

async function h1(page) { return ((await page.locator('h1').first().textContent().catch(() => '')) || '').replace(/\s+/g, ' ').trim(); }
async function alerts(page) {
  return (await page.locator('[role="alert"], .fehler, .fehlermeldung, .feld-fehler').allTextContents())
    .map((s) => s.replace(/\s+/g, ' ').trim()).filter(Boolean).join(' | ').slice(0, 300);
}

// Submits the form (a person waits longer than the backend's minimum fill time) and, if the
// backend asks to send again (no signed timestamp without JS), submits the repeated form.
async function submitUntil(page, mode, formSel, wantPath) {
  let landed = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    await page.waitForTimeout(2200);
    const submit = page.locator(formSel).locator('button[type="submit"], input[type="submit"]').first();
    let resp;
    try {
      [resp] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), submit.click()]);
    } catch (e) {
      const invalid = await page.evaluate(() => [...document.querySelectorAll('form :invalid')]
        .filter((el) => el.tagName !== 'FORM').map((el) => `${el.name || el.id}: ${el.validationMessage}`));
      stop(`${mode}: Absenden führt zu keiner Seite (Versuch ${attempt})${invalid.length ? ' – Browser-Prüfung blockiert: ' + invalid.join('; ') : ': ' + e.message.split('\n')[0]}`);
    }
    landed = new URL(page.url()).pathname;
    if (landed === wantPath) return resp;
    const status = resp ? resp.status() : '?';
    info(`Versuch ${attempt}: HTTP ${status} ${landed} – „${await h1(page)}“${(await alerts(page)) ? ' – ' + (await alerts(page)) : ''}`);
    if (status !== 200) stop(`${mode}: Backend lehnt das ausgefüllte Formular ab (HTTP ${status}): ${await alerts(page) || await h1(page)}`);
    if (await page.locator(formSel).count() === 0) break;
  }
  stop(`${mode}: Danke-Seite ${wantPath} nicht erreicht (zuletzt ${landed}, „${await h1(page)}“)`);
}

// Opens a link from a mail (GET), expects the page with one button; returns the button.
async function openActionLink(page, mode, url, wantH1, buttonName) {
  const resp = await page.goto(local(url));
  const status = resp ? resp.status() : 0;
  const title = await h1(page);
  page.__referrerPolicy = resp ? resp.headers()['referrer-policy'] || '(keine)' : '?';
  if (status !== 200) stop(`${mode}: Link aus der Mail ${new URL(url).pathname.replace(/[^/]{16,}$/, '<token>')} antwortet HTTP ${status} („${title}“)`);
  if (!wantH1.test(title)) stop(`${mode}: Seite des Links zeigt „${title}“, erwartet ${wantH1}`);
  const btn = page.getByRole('button', { name: buttonName });
  const label = buttonName instanceof RegExp ? buttonName.source.replace(/[\^$]/g, '') : buttonName;
  if (await btn.count() !== 1) stop(`${mode}: Seite „${title}“ hat keinen sichtbaren Knopf „${label}“ (${await btn.count()} gefunden)`);
  const form = btn.locator('xpath=ancestor::form[1]');
  const method = ((await form.getAttribute('method').catch(() => '')) || 'get').toLowerCase();
  if (method !== 'post') stop(`${mode}: Knopf „${title}“ steht nicht in einem POST-Formular (method=${method})`);
  return btn;
}

// Presses the button of an action page. If the backend refuses the browser's own post as
// foreign (403), that is a finding; to check the rest of the flow anyway, the same post is
// sent once more with the page's real Origin (a stand-in for the fixed backend).
async function press(page, btn, mode, what) {
  let sentOrigin = '(keiner)';
  const watch = (req) => { if (req.method() === 'POST') sentOrigin = req.headers().origin || '(keiner)'; };
  page.on('request', watch);
  const [resp] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), btn.click()]);
  page.off('request', watch);
  if (!resp || resp.status() !== 403) return resp;
  fail(`${mode}: ${what}: der Knopf wird vom Backend abgelehnt (HTTP 403 „${await h1(page)}“). Chromium sendet Origin: ${sentOrigin}; die Seite des Links kam mit Referrer-Policy: ${page.__referrerPolicy}${sentOrigin === 'null' ? ' – damit schicken Browser beim POST „Origin: null“, und der Herkunftsschutz des Backends lehnt „null“ als fremde Herkunft ab' : ''}`);
  info(`Umgehung, um die folgenden Schritte zu prüfen: dasselbe POST noch einmal mit Origin: ${base}`);
  await page.goBack();
  const url = page.url();
  await page.route(url, async (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    const response = await route.fetch({ headers: { ...route.request().headers(), origin: base }, maxRedirects: 0 });
    return route.fulfill({ response });
  });
  try {
    const again = page.getByRole('button', { name: await btn.textContent() });
    const [r2] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), again.click()]);
    return r2;
  } finally { await page.unroute(url); }
}

function mailSummary(fresh) {
  return fresh.length ? fresh.map((m) => `„${m.subject}“ an ${m.to}`).join('; ') : 'keine';
}

// ---------------------------------------------------------------- booking
async function bookingFlow(browser, { js, authority, unit: wantUnit, person }) {
  const mode = `Buchung ${js ? 'mit' : 'ohne'} JavaScript`;
  const tag = js ? 'js' : 'ohne-js';
  const approver = approverFor(authority);
  const ctx = await browser.newContext({ javaScriptEnabled: js, locale: 'de-DE', bypassCSP: true });
  const page = await ctx.newPage();
  page.setDefaultTimeout(8000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    // 1. landing page of the authority
    const landing = `/kommunen/${authority}/`;
    const r0 = await page.goto(base + landing);
    if (!r0 || r0.status() !== 200) stop(`${mode}: ${landing} antwortet HTTP ${r0 ? r0.status() : '?'}`);
    const main = page.locator('main');
    const mainText = (await main.textContent()).replace(/\s+/g, ' ');
    if (approver.kind === 'kommune' ? !mainText.includes(approver.email) : !/Geschäftsstelle/.test(mainText)) {
      fail(`${mode}: ${landing} nennt nicht, wer freigibt (laut Inhalt ${approver.who})`);
    }
    await shot(page, `buchung-${tag}`, 'kommune');
    // 2. a unit link on it whose first date has free places
    const hrefs = await main.locator('a[href*="/lerneinheiten/"]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    const unitLinks = [...new Set(hrefs.filter((h) => /^\/lerneinheiten\/[^/]+\/(\?.*)?$/.test(h)))];
    unitLinks.sort((a, b) => (b.includes(`/${wantUnit}/`) ? 1 : 0) - (a.includes(`/${wantUnit}/`) ? 1 : 0));
    let chosen = null;
    for (const href of unitLinks) {
      if (new URL(page.url()).pathname !== landing) await page.goto(base + landing);
      await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), main.locator(`a[href="${href}"]`).first().click()]);
      const form = page.locator('form[action$="/forms/buchung"]');
      if (await form.count() !== 1) continue; // on-demand unit (enrolment) or no form
      const first = await form.locator('input[type="radio"][name="termin"]').evaluateAll((rs) => {
        const r = rs.find((x) => x.value !== 'naechster');
        const l = r && document.querySelector(`label[for="${r.id}"]`);
        return r ? { iso: r.value, label: l ? l.textContent.replace(/\s+/g, ' ').trim() : '' } : null;
      });
      if (first && /freie[rn]? Pl/.test(first.label) && !/ausgebucht/.test(first.label)) { chosen = { href, ...first }; break; }
    }
    if (!chosen) stop(`${mode}: keine Lerneinheit auf ${landing} mit freien Plätzen am ersten Termin (geprüft: ${unitLinks.join(', ') || 'keine Links'})`);
    const unitId = chosen.href.split('/')[2];
    if (unitId !== wantUnit) info(`Hinweis: ${wantUnit} nicht buchbar, nehme ${unitId}`);
    ok(`${mode}: ${landing} → ${new URL(page.url()).pathname} (${await h1(page)}), erster Termin ${chosen.iso}: „${chosen.label}“`);

    // 3. fill the form by its labels
    const form = page.locator('form[action$="/forms/buchung"]');
    await form.getByLabel(chosen.label, { exact: true }).check();
    await form.getByLabel('Vor- und Nachname').fill(person.name);
    await form.getByLabel(/Dienstliche E-Mail-Adresse/).fill(person.email);
    const select = form.getByLabel(/Ihre Kommune/);
    if (js) {
      const pre = await select.inputValue();
      if (pre !== authority) fail(`${mode}: Kommune nicht aus ?kommune=${authority} vorausgewählt (Wert „${pre}“)`);
      else ok(`${mode}: Kommune aus dem Link vorausgewählt`);
    }
    const optionLabel = await select.locator('option').evaluateAll((os, id) => { const o = os.find((x) => x.value === id); return o ? o.textContent.trim() : null; }, authority);
    if (!optionLabel) stop(`${mode}: Auswahl „Ihre Kommune“ enthält ${authority} nicht`);
    await select.selectOption({ label: optionLabel });
    await form.getByLabel(/Ich melde mich verbindlich an/).check();
    await shot(page, `buchung-${tag}`, 'formular', form.locator('xpath=ancestor::section[1]'));
    const before = new Set(mailFiles(mailDir));

    // 4. submit → thank-you page
    await submitUntil(page, mode, 'form[action$="/forms/buchung"]', '/formular/danke-buchung/');
    ok(`${mode}: Danke-Seite /formular/danke-buchung/ erreicht`);
    await shot(page, `buchung-${tag}`, 'danke');

    // 5. confirmation-request mail → link → page with button (GET changes nothing) → confirm
    const m1 = await waitForMail(mailDir, before, (m) => m.to.includes(person.email) && /bestätigen/i.test(m.subject));
    if (!m1.mail) stop(`${mode}: keine Bestätigungsanfrage an ${person.email} (neue Mails: ${mailSummary(m1.fresh)})`);
    const confirmUrl = linksIn(m1.mail).find((u) => u.includes('/forms/buchung/bestaetigen/'));
    if (!confirmUrl) stop(`${mode}: Mail „${m1.mail.subject}“ enthält keinen Link …/forms/buchung/bestaetigen/…`);
    ok(`${mode}: Mail „${m1.mail.subject}“ an ${person.email} mit Bestätigungslink`);
    const confirmBtn = await openActionLink(page, mode, confirmUrl, /bestätigen/i, /bestätigen/i);
    await shot(page, `buchung-${tag}`, 'bestaetigen');
    if (js) await axeOn(page, 'Buchung bestätigen');
    const afterGet = campusCmd(['bookings', 'list', '--einheit', unitId]);
    const row = afterGet.split('\n').find((l) => l.includes(person.email)) || '';
    if (/freigabe|bestaetigt/.test(row) && !/unbestaetigt/.test(row)) fail(`${mode}: schon das Öffnen des Links (GET) hat die Anfrage bestätigt: ${row.trim()}`);
    else if (!row) info(`(campus bookings list zeigt die Buchung nicht: ${afterGet.trim().split('\n').slice(0, 3).join(' / ')})`);
    else ok(`${mode}: Öffnen des Links (GET) ändert nichts: ${row.replace(/\s+/g, ' ').trim()}`);
    const beforeConfirm = new Set(mailFiles(mailDir));
    const r2 = await press(page, confirmBtn, mode, 'Anfrage bestätigen');
    if (new URL(page.url()).pathname !== '/formular/bestaetigt/') stop(`${mode}: Bestätigen führt zu ${new URL(page.url()).pathname} (HTTP ${r2 ? r2.status() : '?'}, „${await h1(page)}“), erwartet /formular/bestaetigt/`);
    ok(`${mode}: Knopf bestätigt, Seite /formular/bestaetigt/`);
    await shot(page, `buchung-${tag}`, 'bestaetigt');

    // 6. approver: mail → approve link → button
    const m2 = await waitForMail(mailDir, beforeConfirm, (m) => /Freigabe/i.test(m.subject) && m.subject.includes(person.name) && !m.to.includes(person.email));
    if (!m2.mail) stop(`${mode}: keine Freigabe-Mail zur Buchung von ${person.name} (erwartet an ${approver.who}; neue Mails: ${mailSummary(m2.fresh)})`);
    if (!m2.mail.to.includes(approver.email)) fail(`${mode}: Freigabe-Mail ging an ${m2.mail.to}, laut Inhalt von ${authority} sollte ${approver.who} freigeben`);
    else ok(`${mode}: Freigabe-Mail „${m2.mail.subject}“ an ${approver.who}`);
    const links = linksIn(m2.mail);
    const approveUrl = links.find((u) => u.includes('/forms/buchung/freigeben/'));
    if (!approveUrl) stop(`${mode}: Freigabe-Mail ohne Link …/forms/buchung/freigeben/… (Links: ${links.join(' ')})`);
    if (!links.some((u) => u.includes('/forms/buchung/ablehnen/'))) fail(`${mode}: Freigabe-Mail ohne Link zum Ablehnen`);
    const actx = await browser.newContext({ javaScriptEnabled: js, locale: 'de-DE', bypassCSP: true }); // the approver's own browser
    const apage = await actx.newPage();
    apage.setDefaultTimeout(8000);
    try {
      const approveBtn = await openActionLink(apage, mode, approveUrl, /freigeben/i, /^Buchung freigeben$/);
      await shot(apage, `buchung-${tag}`, 'freigabe');
      if (js) await axeOn(apage, 'Buchung freigeben');
      const beforeApprove = new Set(mailFiles(mailDir));
      const r3 = await press(apage, approveBtn, mode, 'Buchung freigeben');
      const t3 = await h1(apage);
      if (!r3 || r3.status() !== 200 || t3 !== 'Buchung freigegeben') stop(`${mode}: Freigabe ergibt HTTP ${r3 ? r3.status() : '?'} „${t3}“, erwartet „Buchung freigegeben“ (Platz gebucht)`);
      ok(`${mode}: Freigabe per Knopf: „${t3}“`);
      await shot(apage, `buchung-${tag}`, 'freigegeben');

      // 7. confirmation with .ics
      // (not the "liegt zur Freigabe vor" notice, which the worker may deliver only now)
      const isConfirmation = (m) => m.parts.some((p) => p.type === 'text/calendar' || /\.ics$/i.test(p.filename || '')) || (/bestätigt|gebucht/i.test(m.subject) && !/Freigabe/i.test(m.subject));
      const m3 = await waitForMail(mailDir, beforeApprove, (m) => m.to.includes(person.email) && isConfirmation(m));
      if (!m3.mail) stop(`${mode}: keine Buchungsbestätigung an ${person.email} nach der Freigabe (neue Mails: ${mailSummary(m3.fresh)})`);
      const cal = m3.mail.parts.filter((p) => p.type === 'text/calendar' || /\.ics$/i.test(p.filename || ''));
      if (cal.length !== 1) stop(`${mode}: Bestätigung „${m3.mail.subject}“ hat ${cal.length} Kalenderanhänge (text/calendar), erwartet 1 (Teile: ${m3.mail.parts.map((p) => p.type + (p.filename ? ' ' + p.filename : '')).join(', ')})`);
      const ics = cal[0].text.replace(/\r?\n[ \t]/g, ''); // unfold
      const lines = ics.split(/\r?\n/);
      const val = (re) => (lines.find((l) => re.test(l)) || '').replace(/^[^:]*:/, '');
      const day = chosen.iso.replace(/-/g, '');
      const want = `;TZID=Europe/Berlin:${day}T090000`;
      const wantEnd = `;TZID=Europe/Berlin:${day}T130000`;
      const problems = [];
      if (cal[0].type !== 'text/calendar') problems.push(`Content-Type ${cal[0].type}`);
      if (val(/^METHOD[:;]/) !== 'PUBLISH') problems.push(`METHOD „${val(/^METHOD[:;]/)}“ statt PUBLISH`);
      const vevents = lines.filter((l) => l === 'BEGIN:VEVENT').length;
      if (vevents !== 1) problems.push(`${vevents} VEVENT statt 1`);
      if (!lines.includes('TZID:Europe/Berlin')) problems.push('keine VTIMEZONE für Europe/Berlin');
      // The event's own times (the VTIMEZONE before it has DTSTARTs of its own).
      const event = lines.slice(lines.indexOf('BEGIN:VEVENT'));
      const dtstart = event.find((l) => /^DTSTART[:;]/.test(l)) || '';
      if (dtstart !== `DTSTART${want}`) problems.push(`„${dtstart || 'kein DTSTART'}“ statt DTSTART${want} (09:00 Europe/Berlin am ${chosen.iso})`);
      const dtend = event.find((l) => /^DTEND[:;]/.test(l)) || '';
      if (dtend !== `DTEND${wantEnd}`) problems.push(`„${dtend || 'kein DTEND'}“ statt DTEND${wantEnd} (13:00 Europe/Berlin)`);
      if (problems.length) fail(`${mode}: Kalenderanhang ${cal[0].filename || ''}: ${problems.join('; ')}`);
      else ok(`${mode}: Bestätigung „${m3.mail.subject}“ mit ${cal[0].filename || 'Kalenderanhang'}: METHOD:PUBLISH, DTSTART${want} DTEND${wantEnd} (09:00–13:00 Berlin, VTIMEZONE Europe/Berlin)`);
    } finally { await actx.close(); }
    if (errors.length) fail(`${mode}: Skriptfehler: ${errors.join(' | ')}`);
  } catch (e) {
    if (!(e instanceof Stop)) fail(`${mode}: Abbruch: ${e.message.split('\n')[0]}`);
    const state = campusCmd(['bookings', 'list', '--verlauf']).split('\n').filter((l) => l.trim()).slice(-8);
    if (state.length) { info('Buchungen laut campus bookings list --verlauf (Ende):'); state.forEach((l) => info('  ' + l)); }
  } finally {
    await ctx.close();
  }
}

// ---------------------------------------------------------------- newsletter
function newsletterState(email) {
  const csv = campusCmd(['forms', 'export', '--form', 'newsletter']);
  const row = csv.split('\n').find((l) => l.toLowerCase().includes(email));
  return row ? row.split(';')[2] : `(nicht im Export${csv.startsWith('(') ? ': ' + csv : ''})`;
}

async function newsletterFlow(browser) {
  const mode = 'Newsletter (Double-Opt-in)';
  const email = NEWSLETTER_EMAIL;
  const ctx = await browser.newContext({ javaScriptEnabled: true, locale: 'de-DE', bypassCSP: true });
  const page = await ctx.newPage();
  page.setDefaultTimeout(8000);
  try {
    await page.goto(base + '/newsletter/');
    const formSel = 'form[action$="/forms/newsletter"]';
    const form = page.locator(formSel);
    if (await form.count() !== 1) stop(`${mode}: kein Formular …/forms/newsletter auf /newsletter/`);
    await form.getByLabel(/^E-Mail-Adresse/).fill(email);
    await form.getByLabel(/^Name/).fill('Nora Newsletter');
    await form.getByLabel(/Ich willige ein/).check();
    await shot(page, 'newsletter', 'formular');
    const before = new Set(mailFiles(mailDir));
    await submitUntil(page, mode, formSel, '/formular/danke-newsletter/');
    ok(`${mode}: Danke-Seite /formular/danke-newsletter/ erreicht`);
    await shot(page, 'newsletter', 'danke');
    const m1 = await waitForMail(mailDir, before, (m) => m.to.includes(email));
    if (!m1.mail) stop(`${mode}: keine Mail an ${email} (neue Mails: ${mailSummary(m1.fresh)})`);
    const url = linksIn(m1.mail).find((u) => u.includes('/forms/bestaetigen/'));
    if (!url) stop(`${mode}: Mail „${m1.mail.subject}“ ohne Link …/forms/bestaetigen/…`);
    ok(`${mode}: Mail „${m1.mail.subject}“ mit Bestätigungslink`);
    const s0 = newsletterState(email);
    const btn = await openActionLink(page, mode, url, /./, /bestätigen/i);
    await shot(page, 'newsletter', 'bestaetigen');
    await axeOn(page, 'Newsletter bestätigen');
    const s1 = newsletterState(email);
    if (s1 !== s0 || /bestaetigt|aktiv/.test(s1) && !/unbestaetigt/.test(s1)) fail(`${mode}: schon das Öffnen des Links (GET) hat bestätigt (Status vorher „${s0}“, danach „${s1}“)`);
    else ok(`${mode}: Öffnen des Links (GET) ändert nichts (Status „${s1}“)`);
    const beforeConfirm = new Set(mailFiles(mailDir));
    const r = await press(page, btn, mode, 'Anmeldung bestätigen');
    const landed = new URL(page.url()).pathname;
    if (landed !== '/formular/bestaetigt/') stop(`${mode}: Knopf führt zu ${landed} (HTTP ${r ? r.status() : '?'}, „${await h1(page)}“), erwartet /formular/bestaetigt/`);
    const s2 = newsletterState(email);
    if (s2 === s0) fail(`${mode}: nach dem Knopf weiterhin Status „${s2}“`);
    ok(`${mode}: Knopf bestätigt: /formular/bestaetigt/ (Status „${s2}“)`);
    await shot(page, 'newsletter', 'bestaetigt');
    const m2 = await waitForMail(mailDir, beforeConfirm, (m) => m.to.includes(email));
    if (!m2.mail) stop(`${mode}: keine Willkommens-Mail an ${email} (neue Mails: ${mailSummary(m2.fresh)})`);
    const lu = m2.mail.get('List-Unsubscribe') || '';
    const lup = m2.mail.get('List-Unsubscribe-Post') || '';
    const problems = [];
    if (!/<https?:\/\/[^>]+>/.test(lu)) problems.push(`List-Unsubscribe „${lu || 'fehlt'}“ (erwartet <https…>)`);
    if (lup.replace(/\s+/g, '') !== 'List-Unsubscribe=One-Click') problems.push(`List-Unsubscribe-Post „${lup || 'fehlt'}“ (erwartet List-Unsubscribe=One-Click)`);
    if (problems.length) fail(`${mode}: Willkommens-Mail „${m2.mail.subject}“: ${problems.join('; ')}`);
    else ok(`${mode}: Willkommens-Mail „${m2.mail.subject}“ mit List-Unsubscribe und List-Unsubscribe-Post: List-Unsubscribe=One-Click`);
    // The one-click link itself answers (a page with a button; nothing is unsubscribed by GET).
    const unsub = (lu.match(/<(https?:\/\/[^>]+)>/) || [])[1];
    if (unsub) {
      const r2 = await page.goto(local(unsub));
      if (!r2 || r2.status() !== 200) fail(`${mode}: List-Unsubscribe-Link antwortet HTTP ${r2 ? r2.status() : '?'}`);
      else ok(`${mode}: Abmeldelink öffnet „${await h1(page)}“`);
    }
  } catch (e) {
    if (!(e instanceof Stop)) fail(`${mode}: Abbruch: ${e.message.split('\n')[0]}`);
  } finally {
    await ctx.close();
  }
}

async function main() {
  const t0 = Date.now();
  if (shotsDir) fs.mkdirSync(shotsDir, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'campus-qa-flows-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
  });
  try {
    const browser = context.browser();
    // One booking per approver kind and per time of year: the authority's own approver (first
    // date in summer) and the office (first date in winter). Other units on the same landing
    // page are taken if these are not bookable in the site under test. Different people and
    // addresses per run; the three flows run side by side (they mostly wait for mail).
    const bookings = [
      { js: false, authority: 'eschenbrueck', unit: 'cloud-dienste-bewerten',
        person: { name: 'Olaf Ohnescript', email: `olaf.ohnescript.${RUN}@eschenbrueck.example` } },
      { js: true, authority: 'landkreis-odenwiesen', unit: 'isms-aufbauen',
        person: { name: 'Jana Skriptfreundlich', email: `jana.skript.${RUN}@kreis-odenwiesen.example` } },
    ];
    const flows = [];
    if (!only || only === 'booking') {
      for (const b of bookings) {
        flows.push(inOwnLog(`Buchung ${b.js ? 'mit' : 'ohne'} JavaScript (${b.authority}, ${b.person.email}):`, () => bookingFlow(browser, b)));
      }
    }
    if (!only || only === 'newsletter') flows.push(inOwnLog(`Newsletter (Double-Opt-in), ${NEWSLETTER_EMAIL}:`, () => newsletterFlow(browser)));
    for (const log of await Promise.all(flows)) console.log('\n' + log.join('\n'));
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  console.log(`\nBuchung und Newsletter Ende zu Ende in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${failures.length ? failures.length + ' Befund(e)' : 'in Ordnung'}.`);
  process.exit(failures.length ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(2); });
