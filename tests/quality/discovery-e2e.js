#!/usr/bin/env node
'use strict';
// Finding units end to end against the real `campus serve`, in headless Chromium, each once
// with JavaScript off and once on:
//  - search: German spellings ("Burgerbeteiligung", "Buergerbeteiligung", "Datenschutzes")
//    find the right units (off: the header's GET form answered by the backend; on: /suche/);
//    a typo ("Datenschtuz") still finds the unit and offers "Meinten Sie „Datenschutz“?",
//    whose link gives the corrected search; "eakte" finds the E-Akte and "Vorfälle" the unit
//    about "Sicherheitsvorfälle";
//  - catalog filter: choosing a format leaves only units of that format, and the filter
//    state is in the URL;
//  - self-check: a role and self-ratings give a learning path with links to book each unit.
// Usage: node discovery-e2e.js http://127.0.0.1:PORT [--screenshots DIR]
// Exit status 1 on any finding.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const { base, opt } = require('./lib/cli').commandLine('node discovery-e2e.js http://127.0.0.1:PORT [--screenshots DIR]');
const shots = opt('--screenshots');
const { ARGS: CHROMIUM_ARGS, EXECUTABLE: CHROMIUM } = require('./lib/chromium');
const failures = [];
const fail = (m) => { failures.push(m); console.log('  ✗ ' + m); };
const ok = (m) => console.log('  ✓ ' + m);
const check = (cond, good, bad) => (cond ? ok(good) : fail(bad));

async function shot(page, name) {
  if (!shots) return;
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, name + '.png'), fullPage: true });
}

async function resultTitles(page) {
  return page.$$eval('#such-liste a', (as) => as.map((a) => a.textContent.trim()));
}

async function search(page, js, term) {
  if (js) {
    await page.goto(base + '/suche/');
    await page.getByLabel('Suchbegriff', { exact: true }).fill(term);
    await page.waitForFunction(() => document.querySelectorAll('#such-liste li').length > 0, null, { timeout: 5000 })
      .catch(() => {});
  } else {
    await page.goto(base + '/');
    const form = page.locator('form[role="search"]').first();
    await form.locator('input[name="q"]').fill(term);
    await Promise.all([page.waitForNavigation(), form.locator('button[type="submit"]').click()]);
  }
  return resultTitles(page);
}

async function run(js) {
  const label = js ? 'mit JavaScript' : 'ohne JavaScript';
  console.log(`\nFinden ${label}:`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kc-discovery-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, args: CHROMIUM_ARGS, javaScriptEnabled: js,
  });
  const page = context.pages()[0] || await context.newPage();
  try {
    // Search, German-aware.
    const spellings = ['Burgerbeteiligung', 'Buergerbeteiligung', 'Bürgerbeteiligung'];
    const firsts = [];
    for (const term of spellings) {
      const titles = await search(page, js, term);
      firsts.push(titles[0] || '');
      check(titles.some((t) => /Bürgerbeteiligung|Beteiligung/.test(t)),
        `Suche „${term}“: ${titles.length} Treffer, zuerst „${titles[0]}“`,
        `Suche „${term}“ findet keine Lerneinheit zur Bürgerbeteiligung (${titles.length} Treffer)`);
    }
    check(new Set(firsts).size === 1, 'alle drei Schreibweisen liefern denselben ersten Treffer',
      `Schreibweisen liefern verschiedene erste Treffer: ${firsts.join(' | ')}`);
    const datenschutz = await search(page, js, 'Datenschutzes');
    check(datenschutz.some((t) => /Datenschutz/.test(t)), `„Datenschutzes“ findet „Datenschutz“ (${datenschutz.length} Treffer)`,
      '„Datenschutzes“ findet nichts zu Datenschutz');
    await shot(page, `suche-${js ? 'js' : 'ohne-js'}`);

    // Search that forgives: a typo, a variant without hyphen, a compound.
    const tippfehler = await search(page, js, 'Datenschtuz');
    check(tippfehler.some((t) => /Datenschutz/.test(t)), `„Datenschtuz“ findet „Datenschutz“ (${tippfehler.length} Treffer)`,
      '„Datenschtuz“ findet nichts zu Datenschutz');
    const vorschlag = page.locator('#such-vorschlag a');
    const vorschlagText = await vorschlag.textContent({ timeout: 2000 }).catch(() => '');
    check(vorschlagText === '„Datenschutz“', 'Vorschlag „Meinten Sie „Datenschutz“?“ erscheint',
      `kein passender Vorschlag: „${vorschlagText}“`);
    await shot(page, `suche-vorschlag-${js ? 'js' : 'ohne-js'}`);
    if (vorschlagText) {
      if (js) {
        await vorschlag.click();
      } else {
        await Promise.all([page.waitForNavigation(), vorschlag.click()]);
      }
      const feld = await page.getByLabel('Suchbegriff', { exact: true }).inputValue();
      const offen = await page.locator('#such-vorschlag a').count();
      const nachher = await resultTitles(page);
      check(feld === 'Datenschutz' && offen === 0 && nachher.some((t) => /Datenschutz/.test(t)),
        'der Vorschlag sucht „Datenschutz“ und verschwindet',
        `nach dem Vorschlag: Feld „${feld}“, Vorschlag sichtbar: ${offen}, ${nachher.length} Treffer`);
    }
    for (const [term, title] of [['eakte', /E-Akte/], ['Vorfälle', /Informationssicherheit im Arbeitsalltag/]]) {
      const titles = await search(page, js, term);
      check(titles.some((t) => title.test(t)), `„${term}“ findet „${titles.find((t) => title.test(t))}“`,
        `„${term}“ findet nichts Passendes (${titles.length} Treffer: ${titles.slice(0, 3).join(' | ')})`);
    }

    // Catalog filter by format.
    await page.goto(base + '/lerneinheiten/');
    const total = await page.locator('#katalog-liste > li').count();
    await page.getByLabel('Format', { exact: true }).selectOption('on-demand');
    if (!js) {
      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Filter anwenden' }).click()]);
    } else {
      await page.waitForTimeout(200);
    }
    const formats = await page.$$eval('#katalog-liste > li:not([hidden])', (lis) => lis.map((li) => li.dataset.format));
    check(formats.length > 0 && formats.length < total && formats.every((f) => f === 'on-demand'),
      `Filter Format = On-Demand: ${formats.length} von ${total} Lerneinheiten sichtbar, alle On-Demand`,
      `Filter Format = On-Demand wirkt nicht: ${formats.length} von ${total} sichtbar (${[...new Set(formats)].join(', ')})`);
    check(/format=on-demand/.test(page.url()), `Filter steht in der Adresse (${page.url().replace(base, '')})`,
      `Filter fehlt in der Adresse: ${page.url()}`);
    await shot(page, `katalogfilter-${js ? 'js' : 'ohne-js'}`);

    // Self-check with a learning path, started from an authority's landing page (its
    // selected units are preferred).
    await page.goto(base + '/kommunen/ahornfeld/');
    await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: /Selbstcheck/ }).last().click()]);
    const kommune = await page.locator('#selbstcheck-kommune').inputValue().catch(() => '');
    check(kommune === 'ahornfeld', 'Selbstcheck kennt die Kommune der Startseite', `Kommune im Selbstcheck: „${kommune}“`);
    await page.getByLabel(/Ihre Rolle/).selectOption({ label: 'IT-Koordination' });
    if (js) {
      // The script may put the answers into the address (replaceState); a real
      // navigation would fire `load` again.
      let loads = 0;
      const counter = () => { loads += 1; };
      page.on('load', counter);
      await page.getByRole('button', { name: 'Lernpfad anzeigen' }).click();
      await page.locator('#selbstcheck-ergebnis .lernpfad li').first().waitFor({ timeout: 5000 }).catch(() => {});
      page.off('load', counter);
      check(loads === 0, 'Ergebnis erscheint ohne Neuladen der Seite', `die Seite wurde neu geladen (${page.url()})`);
    } else {
      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Lernpfad anzeigen' }).click()]);
    }
    const steps = await page.$$eval('.lernpfad li', (lis) => lis.map((li) => ({
      title: (li.querySelector('a') || li).textContent.trim(),
      book: [...li.querySelectorAll('a')].some((a) => /anmelden|buchen|einschreiben|starten/i.test(a.textContent)),
    })));
    check(steps.length > 0, `Lernpfad mit ${steps.length} Lerneinheiten: ${steps.map((s) => s.title).join(' → ')}`,
      'kein Lernpfad angezeigt');
    check(steps.length > 0 && steps.every((s) => s.book), 'jede Lerneinheit im Pfad hat einen Link zum Buchen',
      'Lerneinheiten im Pfad ohne Link zum Buchen');
    paths.push(steps.map((s) => s.title).join(' → '));
    await shot(page, `selbstcheck-${js ? 'js' : 'ohne-js'}`);
  } catch (e) {
    fail(`${label}: ${e.message.split('\n')[0]}`);
  } finally {
    await context.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const paths = [];

(async () => {
  const t0 = Date.now();
  await run(false);
  await run(true);
  console.log('');
  check(paths.length === 2 && paths[0] === paths[1], 'ohne und mit JavaScript derselbe Lernpfad (ein Algorithmus)',
    `Lernpfade unterscheiden sich: ${paths.join('  ≠  ')}`);
  const s = ((Date.now() - t0) / 1000).toFixed(1);
  console.log(`\nSuche, Filter und Selbstcheck in ${s} s: ${failures.length ? failures.length + ' Befund(e)' : 'in Ordnung'}.`);
  process.exit(failures.length ? 1 : 0);
})();
