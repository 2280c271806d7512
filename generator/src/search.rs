//! Full-text search: documents from units, courses, topics, FAQ entries and
//! pages, a compact token index written to `/suche/index.json`, and the query
//! that ranks them. The theme's `campus-suche.js` implements the same
//! normalisation, matching and ranking for instant search in the browser;
//! both are held to `tests/search-vectors.json`.
//!
//! ## Normalisation (German-aware, the same on both sides)
//! - Words are runs of letters and digits, lowercased; words shorter than two
//!   characters and stop words (listed in the index) are dropped.
//! - A word written with hyphens is also indexed joined: "E-Akte" gives
//!   "akte" and "eakte", so "eakte" finds it as well as "E Akte".
//! - `ß` becomes `ss`. Umlauts are indexed both ways: `ü` as `ue` and as `u`
//!   (likewise `ä`, `ö`), so "Buergerbeteiligung" and "Burgerbeteiligung"
//!   both find "Bürgerbeteiligung". The index keeps the written word of such
//!   tokens (`spellings`) to show corrections with umlauts.
//! - A query word loses its ending (the first of `en`, `er`, `es`, `e`, `n`,
//!   `s` it ends with) if at least four characters remain.
//!
//! ## Matching, per query word (best first)
//! 1. **Word**: a token equal to the word or its stem, or beginning with the
//!    stem: "Datenschutz" finds "Datenschutzes", "Prozesse" finds "Prozess".
//! 2. **Compound**: a token ending with the stem (at least four characters),
//!    after at least three characters and before nothing or one of the
//!    endings: "Vorfälle" finds "Sicherheitsvorfälle" and "Sicherheitsvorfalls".
//! 3. **Typo**: only for a word that matches no token at all and has at least
//!    five characters: the closest token within one edit (five to eight
//!    characters) or two (longer), an edit being an insertion, a deletion, a
//!    changed character or two neighbours swapped; ties go to the token in more
//!    documents, then the alphabetically first. The word is then searched as
//!    that token (written with umlauts if the index knows how), and the answer
//!    suggests the corrected query ("Meinten Sie …?").
//!
//! ## Ranking
//! A token's weight in a document is 8 if it is in the title, plus 4 if in
//! the summary or keywords, plus its count in the body (at most 5). A query
//! word scores, per document, the highest weight among the tokens it
//! matches in its best kind of match, doubled when the token equals the word
//! or its stem. Every query word must match. Documents whose words all match
//! as words come first, then those with a compound match, then those with a
//! typo; within each group by the sum of the scores, then by their position in
//! the index (units, courses, topics, FAQ, pages).

use crate::content::Format;
use crate::markdown;
use crate::model::Site;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Words not worth indexing or searching for. Written into the index so
/// the browser uses the same list.
pub const STOPWORDS: &[&str] = &[
    "ab", "als", "am", "an", "auch", "auf", "aus", "bei", "bis", "da", "das", "dass", "dem", "den",
    "der", "des", "die", "dies", "diese", "dieser", "durch", "ein", "eine", "einem", "einen",
    "einer", "eines", "es", "fuer", "fur", "hat", "ihr", "ihre", "im", "in", "ist", "ja", "kann",
    "mit", "nach", "nicht", "noch", "nur", "oder", "ob", "sich", "sie", "sind", "so", "um", "und",
    "uns", "unter", "vom", "von", "vor", "was", "wie", "wir", "wird", "zu", "zum", "zur",
];

/// Endings a query word may lose (longest first).
const ENDINGS: &[&str] = &["en", "er", "es", "e", "n", "s"];

/// A compound match needs this many characters of the query word's stem
/// and this many before it ("Projektteam" for "Team", not "Gesamt" for "Amt").
const COMPOUND_PART_MIN: usize = 4;
const COMPOUND_HEAD_MIN: usize = 3;

/// Index format; 2 added `spellings`.
const INDEX_VERSION: u32 = 2;

const TITLE_WEIGHT: u32 = 8;
const KEYWORD_WEIGHT: u32 = 4;
const BODY_MAX: u32 = 5;

/// One search result as shown on the page (and stored in the index).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Doc {
    pub title: String,
    pub url: String,
    /// "einheit", "kurs", "thema", "faq", "seite".
    pub kind: String,
    /// "Lerneinheit", "Kurs", "Thema", "Häufige Frage", "Seite".
    pub kind_label: String,
    /// Units: "Hybrid" or "On-Demand".
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub format: String,
    /// Units: the level's name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub level: String,
    /// Units: the next date with free places, e.g. "10.02.2027".
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub next_date: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
}

/// A document with the text to index.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Source {
    #[serde(flatten)]
    pub doc: Doc,
    /// Summary, topics, level, competences: weighted like a summary.
    #[serde(default)]
    pub keywords: String,
    /// Plain body text.
    #[serde(default)]
    pub text: String,
}

/// The index as written to `/suche/index.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub version: u32,
    pub stopwords: Vec<String>,
    pub docs: Vec<Doc>,
    /// token → [(document, weight)], by document.
    pub tokens: BTreeMap<String, Vec<(u32, u32)>>,
    /// token → the word as written, for the `ae`/`oe`/`ue`/`ss` form of words
    /// with umlauts or `ß`, unless the token is also written as itself
    /// ("strassenbeleuchtung" → "straßenbeleuchtung"): corrections are shown
    /// that way.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub spellings: BTreeMap<String, String>,
}

/// Lowercased words (runs of letters and digits) of `text`.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Characters joining the parts of a written compound ("E-Akte").
fn is_hyphen(c: char) -> bool {
    matches!(c, '-' | '\u{2010}' | '\u{2011}')
}

/// The lowercased words of `text` as the index sees them: [`words`], and
/// after the parts of a hyphenated word the parts joined ("E-Akte" gives
/// "e", "akte", "eakte").
pub fn written_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in text.split(|c: char| !(c.is_alphanumeric() || is_hyphen(c))) {
        let parts: Vec<String> = chunk
            .split(is_hyphen)
            .filter(|p| !p.is_empty())
            .map(str::to_lowercase)
            .collect();
        let joined = (parts.len() > 1).then(|| parts.concat());
        out.extend(parts);
        out.extend(joined);
    }
    out
}

/// The index forms of a lowercased word: umlauts as `ae` and as `a`
/// (one form if the word has none), `ß` as `ss`.
pub fn forms(word: &str) -> Vec<String> {
    let mut long = String::with_capacity(word.len() + 4);
    let mut short = String::with_capacity(word.len());
    for c in word.chars() {
        match c {
            'ä' => (long.push_str("ae"), short.push('a')),
            'ö' => (long.push_str("oe"), short.push('o')),
            'ü' => (long.push_str("ue"), short.push('u')),
            'ß' => (long.push_str("ss"), short.push_str("ss")),
            c => (long.push(c), short.push(c)),
        };
    }
    if long == short {
        vec![long]
    } else {
        vec![long, short]
    }
}

fn is_stopword(word: &str) -> bool {
    STOPWORDS.contains(&forms(word)[0].as_str())
}

fn indexable(word: &str) -> bool {
    word.chars().count() >= 2 && !is_stopword(word)
}

/// The index tokens of a text (all forms of all indexable words).
pub fn index_tokens(text: &str) -> Vec<String> {
    written_words(text)
        .into_iter()
        .filter(|w| indexable(w))
        .flat_map(|w| forms(&w))
        .collect()
}

/// A query word without its ending: the first of `ENDINGS` it ends with
/// is removed if at least four characters remain.
pub fn stem(form: &str) -> String {
    match ENDINGS.iter().find_map(|e| form.strip_suffix(e)) {
        Some(rest) if rest.chars().count() >= 4 => rest.to_string(),
        _ => form.to_string(),
    }
}

/// One query word: its stems match tokens they are a prefix of; a token
/// equal to one of `exact` (the word's forms and stems) counts double.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Term {
    pub prefixes: Vec<String>,
    pub exact: Vec<String>,
}

/// The term of one lowercased query word.
fn term_of(word: &str) -> Term {
    let mut term = Term {
        prefixes: Vec::new(),
        exact: Vec::new(),
    };
    for f in forms(word) {
        let s = stem(&f);
        for x in [&f, &s] {
            if !term.exact.contains(x) {
                term.exact.push(x.clone());
            }
        }
        if !term.prefixes.contains(&s) {
            term.prefixes.push(s);
        }
    }
    term
}

/// The query's distinct indexable words (lowercased) with their terms; a
/// word whose term an earlier word already has is left out.
fn query_words(query: &str) -> Vec<(String, Term)> {
    let mut out: Vec<(String, Term)> = Vec::new();
    for w in words(query).into_iter().filter(|w| indexable(w)) {
        let term = term_of(&w);
        if !out.iter().any(|(_, t)| *t == term) {
            out.push((w, term));
        }
    }
    out
}

/// The query's terms, one per distinct indexable word.
pub fn query_terms(query: &str) -> Vec<Term> {
    query_words(query).into_iter().map(|(_, t)| t).collect()
}

/// Builds the index from documents, in the given order.
pub fn build_index(sources: &[Source]) -> Index {
    build_index_cached(sources, &mut IndexCache::default())
}

/// The tokens of the documents indexed last time, so that the next index of
/// an edited site tokenises only the documents that changed: tokenising all
/// of a Germany-scale site took ~0.4 s per edit in `campus serve`. Words are
/// kept once each; per document three numbers per token.
#[derive(Default)]
pub struct IndexCache {
    words: Vec<String>,
    word_ids: HashMap<String, u32>,
    /// By the hash of a document's source.
    docs: HashMap<u64, DocTokens>,
    /// How many documents the last build tokenised.
    pub tokenised: usize,
}

const NOT_WRITTEN: u32 = u32::MAX;

/// One document's tokens: (token, weight, spelling or [`NOT_WRITTEN`]),
/// tokens and spellings as ids into [`IndexCache::words`].
type DocTokens = Arc<[(u32, u32, u32)]>;

impl IndexCache {
    /// How many documents' tokens are kept.
    pub fn documents(&self) -> usize {
        self.docs.len()
    }

    fn word_id(&mut self, word: &str) -> u32 {
        if let Some(id) = self.word_ids.get(word) {
            return *id;
        }
        let id = self.words.len() as u32;
        self.words.push(word.to_string());
        self.word_ids.insert(word.to_string(), id);
        id
    }
}

impl IndexCache {
    /// The cache as bytes for `campus build`'s cache folder: the words, then
    /// per document its hash and tokens, all little-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out).expect("writing to memory");
        out
    }

    /// [`IndexCache::to_bytes`] into `out`, without the copy in memory.
    pub fn write_to(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        out.write_all(CACHE_MAGIC)?;
        out.write_all(&(self.words.len() as u32).to_le_bytes())?;
        for w in &self.words {
            out.write_all(&(w.len() as u32).to_le_bytes())?;
            out.write_all(w.as_bytes())?;
        }
        out.write_all(&(self.docs.len() as u32).to_le_bytes())?;
        for (hash, tokens) in &self.docs {
            out.write_all(&hash.to_le_bytes())?;
            out.write_all(&(tokens.len() as u32).to_le_bytes())?;
            for (t, w, s) in tokens.iter() {
                for n in [t, w, s] {
                    out.write_all(&n.to_le_bytes())?;
                }
            }
        }
        Ok(())
    }

    /// Reads [`IndexCache::to_bytes`]; `None` for anything else (a damaged
    /// or foreign file only costs the tokenising).
    pub fn from_bytes(bytes: &[u8]) -> Option<IndexCache> {
        struct Reader<'a>(&'a [u8]);
        impl<'a> Reader<'a> {
            fn take(&mut self, n: usize) -> Option<&'a [u8]> {
                let (head, tail) = self.0.split_at_checked(n)?;
                self.0 = tail;
                Some(head)
            }
            fn number(&mut self) -> Option<u32> {
                Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
            }
        }
        let mut r = Reader(bytes.strip_prefix(CACHE_MAGIC)?);
        let mut cache = IndexCache::default();
        let words = r.number()?;
        for id in 0..words {
            let len = r.number()? as usize;
            let word = std::str::from_utf8(r.take(len)?).ok()?.to_string();
            cache.word_ids.insert(word.clone(), id);
            cache.words.push(word);
        }
        for _ in 0..r.number()? {
            let hash = u64::from_le_bytes(r.take(8)?.try_into().ok()?);
            let n = r.number()? as usize;
            let mut tokens = Vec::with_capacity(n.min(r.0.len() / 12));
            for _ in 0..n {
                let (t, w, s) = (r.number()?, r.number()?, r.number()?);
                if t >= words || (s != NOT_WRITTEN && s >= words) {
                    return None;
                }
                tokens.push((t, w, s));
            }
            cache.docs.insert(hash, tokens.into());
        }
        r.0.is_empty().then_some(cache)
    }
}

/// The first bytes of [`IndexCache::to_bytes`]; a new tokeniser needs a
/// new mark.
const CACHE_MAGIC: &[u8] = b"campus-suche-2\n";

fn source_hash(s: &Source, in_markdown: bool) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    in_markdown.hash(&mut h);
    let d = &s.doc;
    (
        &d.title,
        &d.url,
        &d.kind,
        &d.kind_label,
        &d.format,
        &d.level,
    )
        .hash(&mut h);
    (&d.next_date, &d.summary, &s.keywords, &s.text).hash(&mut h);
    h.finish()
}

/// [`build_index`], tokenising only the documents not in `cache`; the cache
/// then holds the documents of `sources`.
pub fn build_index_cached(sources: &[Source], cache: &mut IndexCache) -> Index {
    index_cached(sources, &|_| false, cache)
}

/// [`build_index_cached`] where the `text` of the sources `in_markdown` picks
/// is still the Markdown body: it becomes plain text only for the documents
/// that are tokenised, so an edit converts one body, not every unit's.
fn index_cached(
    sources: &[Source],
    in_markdown: &(dyn Fn(usize) -> bool + Sync),
    cache: &mut IndexCache,
) -> Index {
    use rayon::prelude::*;
    let hashes: Vec<u64> = (0..sources.len())
        .into_par_iter()
        .map(|i| source_hash(&sources[i], in_markdown(i)))
        .collect();
    // Tokenising is the expensive part: in parallel, new documents only.
    let mut seen = HashSet::new();
    let missing: Vec<usize> = (0..sources.len())
        .filter(|i| !cache.docs.contains_key(&hashes[*i]) && seen.insert(hashes[*i]))
        .collect();
    // A slice of documents at a time: the weighed tokens of a whole
    // Germany-scale site at once were some 50 MB, the peak of a full build.
    // Words get their ids in document order either way.
    cache.tokenised = missing.len();
    let mut docs = std::mem::take(&mut cache.docs);
    for slice in missing.chunks(TOKENISED_AT_ONCE) {
        let weighed: Vec<(u64, Vec<Weighed>)> = slice
            .par_iter()
            .map(|i| {
                let s = &sources[*i];
                let weights = if in_markdown(*i) {
                    doc_weights(s, &markdown::to_plain_text(&s.text))
                } else {
                    doc_weights(s, &s.text)
                };
                (hashes[*i], weights)
            })
            .collect();
        for (hash, ws) in weighed {
            let entries: Vec<(u32, u32, u32)> = ws
                .iter()
                .map(|w| {
                    let written = w
                        .written
                        .as_deref()
                        .map_or(NOT_WRITTEN, |x| cache.word_id(x));
                    (cache.word_id(&w.token), w.weight, written)
                })
                .collect();
            docs.insert(hash, entries.into());
        }
    }
    let current: Vec<DocTokens> = hashes.iter().map(|h| docs[h].clone()).collect();
    // Only this site's documents stay.
    let wanted: HashSet<u64> = hashes.iter().copied().collect();
    docs.retain(|h, _| wanted.contains(h));
    cache.docs = docs;

    // Postings per token, by document (documents are visited in order). A
    // token keeps a spelling only if every document has one for it: the
    // alphabetically first.
    #[derive(Clone, Copy)]
    enum Spelling {
        Unseen,
        All(u32),
        Mixed,
    }
    let words = &cache.words;
    let mut lists: Vec<Vec<(u32, u32)>> = vec![Vec::new(); words.len()];
    let mut spelt = vec![Spelling::Unseen; words.len()];
    for (doc, entries) in current.iter().enumerate() {
        for &(token, weight, written) in entries.iter() {
            let t = token as usize;
            lists[t].push((doc as u32, weight));
            spelt[t] = match (spelt[t], written) {
                (_, NOT_WRITTEN) => Spelling::Mixed,
                (Spelling::Unseen, w) => Spelling::All(w),
                (Spelling::All(a), b) if words[b as usize] < words[a as usize] => Spelling::All(b),
                (other, _) => other,
            };
        }
    }
    let mut tokens = BTreeMap::new();
    let mut spellings = BTreeMap::new();
    for (t, list) in lists.into_iter().enumerate() {
        if list.is_empty() {
            continue;
        }
        if let Spelling::All(w) = spelt[t] {
            spellings.insert(words[t].clone(), words[w as usize].clone());
        }
        tokens.insert(words[t].clone(), list);
    }
    Index {
        version: INDEX_VERSION,
        stopwords: STOPWORDS.iter().map(|s| s.to_string()).collect(),
        docs: sources.iter().map(|s| s.doc.clone()).collect(),
        tokens,
        spellings,
    }
}

/// How many documents are tokenised before their tokens get word ids.
const TOKENISED_AT_ONCE: usize = 512;

/// One indexed token of one document.
struct Weighed {
    token: String,
    weight: u32,
    /// The alphabetically first word it is the first form of, `None` if it
    /// was (also) written as the token itself or is no word's first form.
    written: Option<String>,
}

/// Each indexed token of one document with its weight.
fn doc_weights(s: &Source, text: &str) -> Vec<Weighed> {
    #[derive(Default)]
    struct Seen {
        title: bool,
        keyword: bool,
        count: u32,
        plain: bool,
        written: Option<String>,
    }
    let keywords = format!("{} {}", s.doc.summary, s.keywords);
    // Hashed, then sorted once: a tree compared each token with a dozen
    // others on the way in.
    let mut seen: HashMap<String, Seen> = HashMap::new();
    for (field, text) in [(0, s.doc.title.as_str()), (1, &keywords), (2, text)] {
        for word in written_words(text).into_iter().filter(|w| indexable(w)) {
            for (i, token) in forms(&word).into_iter().enumerate() {
                let plain = token == word;
                // Only the first form (umlauts as `ae`) keeps the spelling.
                let spelt = i == 0 && !plain;
                let e = seen.entry(token).or_default();
                match field {
                    0 => e.title = true,
                    1 => e.keyword = true,
                    _ => e.count += 1,
                }
                if plain {
                    e.plain = true;
                } else if spelt && e.written.as_ref().is_none_or(|w| word < *w) {
                    e.written = Some(word.clone());
                }
            }
        }
    }
    let mut seen: Vec<(String, Seen)> = seen.into_iter().collect();
    seen.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    seen.into_iter()
        .map(|(token, e)| Weighed {
            token,
            weight: u32::from(e.title) * TITLE_WEIGHT
                + u32::from(e.keyword) * KEYWORD_WEIGHT
                + e.count.min(BODY_MAX),
            written: if e.plain { None } else { e.written },
        })
        .collect()
}

/// How a query word matched a document, best first (see the module text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Match {
    Word,
    Compound,
    Typo,
}

/// One ranked hit: document index, score and its query's weakest match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Hit {
    pub doc: usize,
    pub score: u32,
    #[serde(rename = "match")]
    pub matched: Match,
}

/// The answer to a query: hits, best first, and the corrected query if a
/// word was searched as a correction ("Meinten Sie …?").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Results {
    pub hits: Vec<Hit>,
    pub suggestion: Option<String>,
}

/// Per document: how a query word matched it and its score there.
type Best = Vec<Option<(Match, u32)>>;

/// Keeps the better of two matches: the better kind, then the higher score.
fn note(best: &mut Option<(Match, u32)>, found: (Match, u32)) {
    if best.is_none_or(|(m, w)| found.0 < m || (found.0 == m && found.1 > w)) {
        *best = Some(found);
    }
}

/// Whether `token` is a compound ending with `part`: at least
/// [`COMPOUND_HEAD_MIN`] characters before it and nothing or one of
/// [`ENDINGS`] after it ("sicherheitsvorfalls" ends with "vorfall").
fn is_compound_of(token: &str, part: &str) -> bool {
    std::iter::once("")
        .chain(ENDINGS.iter().copied())
        .any(|tail| {
            token
                .strip_suffix(tail)
                .and_then(|rest| rest.strip_suffix(part))
                .is_some_and(|head| head.chars().count() >= COMPOUND_HEAD_MIN)
        })
}

/// Edits a typo may have in a query word of `len` characters.
fn typo_budget(len: usize) -> usize {
    match len {
        0..5 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

/// The optimal string alignment distance of `a` and `b` (insertions,
/// deletions, changes and swaps of two neighbours count one edit each), if
/// it is at most `max`.
fn distance_within(a: &[char], b: &[char], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut row: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        row[0] = i;
        for j in 1..=b.len() {
            let change = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(row[j - 1] + 1).min(prev[j - 1] + change);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            row[j] = d;
        }
        // A row without a cell within the budget cannot lead back into it
        // (a swap's cell two rows up has a neighbour in this row).
        if row.iter().all(|&d| d > max) {
            return None;
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut row);
    }
    Some(prev[b.len()]).filter(|&d| d <= max)
}

/// `better` capitalised like `typed` (capital if `typed` starts with a
/// character that changes when lowercased).
fn with_case_of(typed: &str, better: &str) -> String {
    let capital = typed
        .chars()
        .next()
        .is_some_and(|c| c.to_lowercase().ne(std::iter::once(c)));
    let mut chars = better.chars();
    match chars.next() {
        Some(first) if capital => first.to_uppercase().chain(chars).collect(),
        _ => better.to_string(),
    }
}

/// `query` with each word that has a correction (by its lowercased form)
/// replaced, everything between the words kept.
fn corrected_query(query: &str, corrections: &[(String, String)]) -> String {
    let mut out = String::with_capacity(query.len());
    let mut rest = query;
    while let Some(start) = rest.find(char::is_alphanumeric) {
        out.push_str(&rest[..start]);
        let run = &rest[start..];
        let end = run
            .find(|c: char| !c.is_alphanumeric())
            .unwrap_or(run.len());
        let typed = &run[..end];
        let lower = typed.to_lowercase();
        match corrections.iter().find(|(w, _)| *w == lower) {
            Some((_, better)) => out.push_str(&with_case_of(typed, better)),
            None => out.push_str(typed),
        }
        rest = &run[end..];
    }
    out.push_str(rest);
    out
}

impl Index {
    /// Documents matching every query word, best first, and the corrected
    /// query if typos were corrected. No hits for a query without
    /// indexable words.
    pub fn search(&self, query: &str) -> Results {
        let words = query_words(query);
        if words.is_empty() {
            return Results::default();
        }
        let mut total: Best = vec![Some((Match::Word, 0)); self.docs.len()];
        let mut corrections: Vec<(String, String)> = Vec::new();
        for (word, term) in &words {
            let mut best = self.matches(term);
            if best.iter().all(Option::is_none) {
                if let Some(better) = self.correction(word, term) {
                    best = self.matches(&term_of(&better));
                    for b in best.iter_mut().flatten() {
                        b.0 = Match::Typo;
                    }
                    corrections.push((word.clone(), better));
                }
            }
            for (t, b) in total.iter_mut().zip(best) {
                *t = match (*t, b) {
                    (Some((tm, sum)), Some((m, w))) => Some((tm.max(m), sum + w)),
                    _ => None,
                };
            }
        }
        let mut hits: Vec<Hit> = total
            .into_iter()
            .enumerate()
            .filter_map(|(doc, t)| {
                t.map(|(matched, score)| Hit {
                    doc,
                    score,
                    matched,
                })
            })
            .collect();
        hits.sort_by(|a, b| (a.matched, b.score, a.doc).cmp(&(b.matched, a.score, b.doc)));
        let suggestion = (!corrections.is_empty() && !hits.is_empty())
            .then(|| corrected_query(query, &corrections));
        Results { hits, suggestion }
    }

    /// How one query word matches each document, as a word or a compound.
    fn matches(&self, term: &Term) -> Best {
        let mut best: Best = vec![None; self.docs.len()];
        for prefix in &term.prefixes {
            for (token, postings) in self
                .tokens
                .range(prefix.clone()..)
                .take_while(|(t, _)| t.starts_with(prefix.as_str()))
            {
                let factor = if term.exact.contains(token) { 2 } else { 1 };
                for &(d, w) in postings {
                    note(&mut best[d as usize], (Match::Word, w * factor));
                }
            }
        }
        let parts: Vec<&str> = term
            .prefixes
            .iter()
            .filter(|p| p.chars().count() >= COMPOUND_PART_MIN)
            .map(String::as_str)
            .collect();
        if !parts.is_empty() {
            for (token, postings) in &self.tokens {
                if parts.iter().any(|p| is_compound_of(token, p)) {
                    for &(d, w) in postings {
                        note(&mut best[d as usize], (Match::Compound, w));
                    }
                }
            }
        }
        best
    }

    /// The word a typed `word` (that matched nothing) most likely meant, as
    /// written: the closest token within the word's typo budget.
    fn correction(&self, word: &str, term: &Term) -> Option<String> {
        let budget = typo_budget(word.chars().count());
        if budget == 0 {
            return None;
        }
        let typed: Vec<Vec<char>> = term.exact.iter().map(|x| x.chars().collect()).collect();
        let mut best: Option<(usize, usize, &str)> = None;
        let mut chars: Vec<char> = Vec::new();
        let shortest = typed.iter().map(Vec::len).min().unwrap_or(0);
        for (token, postings) in &self.tokens {
            // Bytes are at least characters: a token too short in bytes is too
            // short in characters.
            if token.len() + budget < shortest {
                continue;
            }
            chars.clear();
            chars.extend(token.chars());
            let Some(d) = typed
                .iter()
                .filter_map(|x| distance_within(x, &chars, budget))
                .min()
            else {
                continue;
            };
            // Closest first, then in more documents; tokens come in order,
            // so the first of equals is the alphabetically first.
            if best.is_none_or(|(bd, bn, _)| d < bd || (d == bd && postings.len() > bn)) {
                best = Some((d, postings.len(), token));
            }
        }
        best.map(|(_, _, token)| {
            self.spellings
                .get(token)
                .cloned()
                .unwrap_or_else(|| token.to_string())
        })
    }
}

/// The documents of a site, in index order.
pub fn site_sources(site: &Site, today: NaiveDate) -> Vec<Source> {
    sources_before_plain_text(site, today)
        .into_iter()
        .map(|(mut source, in_markdown)| {
            if in_markdown {
                source.text = markdown::to_plain_text(&source.text);
            }
            source
        })
        .collect()
}

/// The documents of [`site_sources`], those whose `text` is still the
/// Markdown body flagged (units, courses, events, topics). The plain text of
/// the others is needed for their summaries.
fn sources_before_plain_text(site: &Site, today: NaiveDate) -> Vec<(Source, bool)> {
    let mut out = Vec::new();
    let mut units: Vec<&crate::model::Unit> = site
        .units
        .iter()
        .map(std::sync::Arc::as_ref)
        .filter(|u| u.is_public())
        .collect();
    units.sort_by(|a, b| a.title.cmp(&b.title));
    for u in units {
        let level = &site.levels[u.level];
        let format = match u.format {
            Format::Hybrid => "Hybrid",
            Format::OnDemand => "On-Demand",
        };
        let topics: Vec<&str> = u
            .topics
            .iter()
            .map(|t| site.topics[*t].title.as_str())
            .collect();
        out.push((
            Source {
                doc: Doc {
                    title: u.title.clone(),
                    url: crate::urls::unit(&u.id),
                    kind: "einheit".into(),
                    kind_label: "Lerneinheit".into(),
                    format: format.into(),
                    level: level.name.clone(),
                    next_date: u
                        .next_free_date(today)
                        .map(|d| {
                            crate::typography::keep_together(&crate::time::german_long_date(d.date))
                                .into_owned()
                        })
                        .unwrap_or_default(),
                    summary: u.summary.clone(),
                },
                keywords: format!(
                    "{} {} {} {}",
                    topics.join(" "),
                    format,
                    level.name,
                    u.competences.join(" ")
                ),
                text: u.body.clone(),
            },
            true,
        ));
    }
    let mut courses: Vec<&crate::model::Course> = site.courses.iter().collect();
    courses.sort_by(|a, b| a.title.cmp(&b.title));
    for c in courses {
        out.push((
            Source {
                doc: Doc {
                    title: c.title.clone(),
                    url: crate::urls::course(&c.id),
                    kind: "kurs".into(),
                    kind_label: "Kurs".into(),
                    format: String::new(),
                    level: String::new(),
                    next_date: String::new(),
                    summary: c.summary.clone(),
                },
                keywords: c.certificate.clone(),
                text: c.body.clone(),
            },
            true,
        ));
    }
    // Upcoming events only: a past one cannot be registered for.
    for e in site.upcoming_events(today) {
        let (start, end) = e.times_text();
        out.push((
            Source {
                doc: Doc {
                    title: e.title.clone(),
                    url: crate::urls::event(&e.id),
                    kind: "veranstaltung".into(),
                    kind_label: "Veranstaltung".into(),
                    format: String::new(),
                    level: String::new(),
                    next_date: crate::typography::keep_together(&crate::time::german_long_date(
                        e.date,
                    ))
                    .into_owned(),
                    summary: e.summary.clone(),
                },
                keywords: format!("Veranstaltung {start} {end} {}", e.place_text()),
                text: e.body.clone(),
            },
            true,
        ));
    }
    for t in &site.topics {
        out.push((
            Source {
                doc: Doc {
                    title: t.title.clone(),
                    url: crate::urls::topic(&t.id),
                    kind: "thema".into(),
                    kind_label: "Thema".into(),
                    format: String::new(),
                    level: String::new(),
                    next_date: String::new(),
                    summary: t.summary.clone(),
                },
                keywords: String::new(),
                text: t.body.clone(),
            },
            true,
        ));
    }
    for f in &site.faq {
        let text = markdown::to_plain_text(&f.body);
        out.push((
            Source {
                doc: Doc {
                    title: f.question.clone(),
                    url: format!("/faq/#{}", f.id),
                    kind: "faq".into(),
                    kind_label: "Häufige Frage".into(),
                    format: String::new(),
                    level: String::new(),
                    next_date: String::new(),
                    summary: excerpt(&text, 160),
                },
                keywords: site.faq_categories[f.category].name.clone(),
                text,
            },
            false,
        ));
    }
    for p in &site.pages {
        let text = markdown::to_plain_text(&crate::retention::expand(&p.body, &site.config));
        out.push((
            Source {
                doc: Doc {
                    title: p.title.clone(),
                    url: format!("/{}/", p.id),
                    kind: "seite".into(),
                    kind_label: "Seite".into(),
                    format: String::new(),
                    level: String::new(),
                    next_date: String::new(),
                    summary: if p.description.is_empty() {
                        excerpt(&text, 160)
                    } else {
                        p.description.clone()
                    },
                },
                keywords: String::new(),
                text,
            },
            false,
        ));
    }
    out
}

/// The site's search index.
pub fn site_index(site: &Site, today: NaiveDate) -> Index {
    build_index(&site_sources(site, today))
}

/// [`site_index`] with the tokens of unchanged documents from `cache`.
pub fn site_index_cached(site: &Site, today: NaiveDate, cache: &mut IndexCache) -> Index {
    let (sources, in_markdown): (Vec<Source>, Vec<bool>) =
        sources_before_plain_text(site, today).into_iter().unzip();
    index_cached(&sources, &|i| in_markdown[i], cache)
}

/// The first words of `text`, at most `max` characters, with "…" if cut.
fn excerpt(text: &str, max: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= max {
        return text;
    }
    let mut out = String::new();
    for w in text.split(' ') {
        if out.chars().count() + w.chars().count() + 1 > max {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index built the plain way (every document tokenised, postings
    /// sorted): what the cached build must equal.
    fn build_index_by_sorting(sources: &[Source]) -> Index {
        use rayon::prelude::*;
        // Documents are weighed in parallel (tokenising is the expensive part),
        // then merged into postings sorted by token and document.
        let weighed: Vec<Vec<Weighed>> = sources
            .par_iter()
            .map(|s| doc_weights(s, &s.text))
            .collect();
        let mut postings: Vec<(u32, Weighed)> = weighed
            .into_iter()
            .enumerate()
            .flat_map(|(i, ws)| ws.into_iter().map(move |w| (i as u32, w)))
            .collect();
        postings.par_sort_unstable_by(|a, b| (&a.1.token, a.0).cmp(&(&b.1.token, b.0)));
        let mut tokens: Vec<(String, Vec<(u32, u32)>)> = Vec::new();
        let mut spellings: Vec<(String, String)> = Vec::new();
        // How the current token was written so far (`None`: as itself).
        let mut written: Option<String> = None;
        for (doc, w) in postings {
            match tokens.last_mut() {
                Some((last, list)) if *last == w.token => {
                    list.push((doc, w.weight));
                    written = match (written, w.written) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        _ => None,
                    };
                }
                _ => {
                    if let (Some((last, _)), Some(word)) = (tokens.last(), written.take()) {
                        spellings.push((last.clone(), word));
                    }
                    written = w.written;
                    tokens.push((w.token, vec![(doc, w.weight)]));
                }
            }
        }
        if let (Some((last, _)), Some(word)) = (tokens.last(), written) {
            spellings.push((last.clone(), word));
        }
        Index {
            version: INDEX_VERSION,
            stopwords: STOPWORDS.iter().map(|s| s.to_string()).collect(),
            docs: sources.iter().map(|s| s.doc.clone()).collect(),
            tokens: tokens.into_iter().collect(),
            spellings: spellings.into_iter().collect(),
        }
    }

    fn sample_sources() -> Vec<Source> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let site = crate::model::load(&root).expect("the sample site loads");
        site_sources(&site, NaiveDate::from_ymd_opt(2026, 12, 1).unwrap())
    }

    #[test]
    fn the_merged_index_equals_the_sorted_one() {
        let mut sources = sample_sources();
        // One token written two ways: the alphabetically first is kept.
        sources[0].doc.title.push_str(" Größe");
        sources[1].doc.title.push_str(" Grösse");
        let index = build_index(&sources);
        assert_eq!(
            index.spellings.get("groesse").map(String::as_str),
            Some("grösse")
        );
        assert_eq!(index, build_index_by_sorting(&sources));
    }

    #[test]
    fn an_edit_tokenises_only_the_changed_document() {
        let mut sources = sample_sources();
        let mut cache = IndexCache::default();
        build_index_cached(&sources, &mut cache);
        assert_eq!(cache.tokenised, sources.len());
        // A new title with a new word and an umlaut; a document gone.
        sources[3].doc.title = "Überraschungsgäste im Zwölftonsaal".into();
        sources.remove(5);
        let index = build_index_cached(&sources, &mut cache);
        assert_eq!(cache.tokenised, 1);
        assert_eq!(index, build_index_by_sorting(&sources));
        assert!(index.tokens.contains_key("zwoelftonsaal"));
        // The removed document is no longer kept.
        assert_eq!(cache.docs.len(), sources.len());
    }

    #[test]
    fn the_cached_site_index_converts_only_tokenised_bodies_and_equals_the_plain_one() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut site = crate::model::load(&root).expect("the sample site loads");
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let mut cache = IndexCache::default();
        assert_eq!(
            site_index_cached(&site, today, &mut cache),
            site_index(&site, today)
        );
        // A word only in one unit's body, in a Markdown link: its address
        // is not text.
        let unit = site
            .units
            .iter()
            .position(|u| u.is_public())
            .expect("a public unit");
        std::sync::Arc::make_mut(&mut site.units[unit])
            .body
            .push_str("\n\nMit [Zwölftonmusik](https://example.org/adresswort).\n");
        let index = site_index_cached(&site, today, &mut cache);
        assert_eq!(cache.tokenised, 1);
        assert_eq!(index, site_index(&site, today));
        assert!(index.tokens.contains_key("zwoelftonmusik"));
        assert!(!index.tokens.contains_key("adresswort"));
    }

    #[test]
    fn the_cache_comes_back_from_its_bytes() {
        let mut sources = sample_sources();
        let mut cache = IndexCache::default();
        build_index_cached(&sources, &mut cache);
        let bytes = cache.to_bytes();
        let mut read = IndexCache::from_bytes(&bytes).expect("its own bytes");
        assert_eq!(read.documents(), cache.documents());
        sources[0].text.push_str(" Nachtrag");
        let index = build_index_cached(&sources, &mut read);
        assert_eq!(read.tokenised, 1);
        assert_eq!(index, build_index_by_sorting(&sources));
        // Cut, or with a token id beyond the words: not used.
        assert!(IndexCache::from_bytes(&bytes[..bytes.len() - 3]).is_none());
        assert!(IndexCache::from_bytes(b"campus-suche-0\n").is_none());
        let mut forged = IndexCache::default();
        forged.docs.insert(1, vec![(7, 1, NOT_WRITTEN)].into());
        assert!(IndexCache::from_bytes(&forged.to_bytes()).is_none());
    }

    #[test]
    fn umlauts_are_indexed_both_ways() {
        assert_eq!(
            forms("bürgerbeteiligung"),
            ["buergerbeteiligung", "burgerbeteiligung"]
        );
        assert_eq!(forms("straße"), ["strasse"]);
        assert_eq!(index_tokens("Die Größe"), ["groesse", "grosse"]);
    }

    #[test]
    fn stems_keep_four_characters() {
        assert_eq!(stem("datenschutzes"), "datenschutz");
        assert_eq!(stem("daten"), "daten");
        assert_eq!(stem("teams"), "team");
        assert_eq!(stem("prozesse"), "prozess");
    }

    #[test]
    fn stopwords_only_query_finds_nothing() {
        let index = build_index(&[]);
        assert!(index.search("und die der").hits.is_empty());
        assert!(query_terms("Für die").is_empty());
    }

    #[test]
    fn excerpt_cuts_at_words() {
        assert_eq!(excerpt("eins zwei drei", 9), "eins zwei…");
        assert_eq!(excerpt("eins  zwei", 20), "eins zwei");
    }
}
