'use strict';
// The browser side of the shared vectors: campus-suche.js must give exactly the answers
// the Rust generator gives (generator/tests/vectors.rs reads the same files).
// Run: node --test tests/js/
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..', '..');
const suche = require(path.join(root, 'themes/default/static/assets/campus-suche.js'));
const vectors = JSON.parse(fs.readFileSync(path.join(root, 'tests/search-vectors.json'), 'utf8'));
const filters = JSON.parse(fs.readFileSync(path.join(root, 'tests/filter-vectors.json'), 'utf8'));
const stop = vectors.index.stopwords;

test('index tokens match the vectors', () => {
  for (const c of vectors.index_tokens) {
    assert.deepStrictEqual(suche.indexTokens(c.text, stop), c.tokens, c.text);
  }
});

test('query terms match the vectors', () => {
  for (const c of vectors.query_terms) {
    assert.deepStrictEqual(suche.abfrageTerme(c.query, stop), c.terms, c.query);
  }
});

test('the committed index holds every token of its sources', () => {
  // The JS does not build indexes, but it must agree on what gets indexed.
  for (const [i, s] of vectors.sources.entries()) {
    for (const field of [s.title, s.summary || '', s.keywords || '', s.text || '']) {
      for (const t of suche.indexTokens(field, stop)) {
        assert.ok(vectors.index.tokens[t] && vectors.index.tokens[t].some((p) => p[0] === i), `${t} in doc ${i}`);
      }
    }
  }
});

test('queries give the expected ranking and suggestion', () => {
  const index = JSON.parse(JSON.stringify(vectors.index));
  for (const c of vectors.queries) {
    const antwort = suche.suche(index, c.q);
    const got = antwort.treffer.map((h) => [index.docs[h.doc].url, h.score]);
    assert.deepStrictEqual(got, c.expect, c.q);
    assert.strictEqual(antwort.vorschlag, c.suggestion === undefined ? null : c.suggestion, `suggestion for ${c.q}`);
  }
});

test('the index spellings are the written words of their tokens', () => {
  // Corrections are shown as written; a spelling must be a word of the sources
  // whose index forms include its token.
  const written = new Set();
  for (const s of vectors.sources) {
    for (const field of [s.title, s.summary || '', s.keywords || '', s.text || '']) {
      for (const w of suche.geschriebeneWoerter(field)) written.add(w);
    }
  }
  for (const [token, word] of Object.entries(vectors.index.spellings)) {
    assert.ok(written.has(word), `${word} is written in the sources`);
    assert.ok(suche.formen(word).includes(token), `${token} is a form of ${word}`);
  }
});

test('catalog filter matches the vectors', () => {
  for (const c of filters.cases) {
    const got = filters.units.filter((u) => suche.passt(c.filter, u)).map((u) => u.id);
    assert.deepStrictEqual(got, c.expect, JSON.stringify(c.filter));
  }
});

test('workload bands', () => {
  assert.strictEqual(suche.aufwandStufe(4), 'bis-4');
  assert.strictEqual(suche.aufwandStufe(4.5), '4-bis-10');
  assert.strictEqual(suche.aufwandStufe(10), '4-bis-10');
  assert.strictEqual(suche.aufwandStufe(40), 'ueber-10');
});
