'use strict';
// axe-core in a Playwright page: WCAG 2.1 A/AA rules, German messages.
const fs = require('fs');
const path = require('path');

const axeFile = require.resolve('axe-core/axe.min.js');
const axeSource = fs.readFileSync(axeFile, 'utf8');
let axeLocale = null;
try { axeLocale = JSON.parse(fs.readFileSync(path.join(path.dirname(axeFile), 'locales', 'de.json'), 'utf8')); } catch { /* English */ }

// Needs a context with bypassCSP: true when the page sends a strict Content-Security-Policy.
async function runAxe(page) {
  await page.addScriptTag({ content: axeSource });
  return page.evaluate(async (locale) => {
    if (locale) window.axe.configure({ locale });
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      resultTypes: ['violations'],
    });
    return { passes: r.passes.length, violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary, html: n.html.slice(0, 200) })) })) };
  }, axeLocale);
}

module.exports = { runAxe };
