//! Full-text search: documents from units, courses, topics, FAQ entries and
//! pages, a compact token index written to `/suche/index.json`, and the query
//! that ranks them. The theme's `campus-suche.js` implements the same
//! normalisation and ranking for instant search in the browser; both are
//! held to `tests/search-vectors.json`.
//!
//! ## Normalisation (German-aware, the same on both sides)
//! - Words are runs of letters and digits, lowercased; words shorter than two
//!   characters and stop words (listed in the index) are dropped.
//! - `ß` becomes `ss`. Umlauts are indexed both ways: `ü` as `ue` and as `u`
//!   (likewise `ä`, `ö`), so "Buergerbeteiligung" and "Burgerbeteiligung"
//!   both find "Bürgerbeteiligung".
//! - A query word loses its ending (the first of `en`, `er`, `es`, `e`, `n`,
//!   `s` it ends with) if at least four characters remain, and then matches
//!   every index token it is a prefix of: "Datenschutz" finds "Datenschutzes", "Prozesse"
//!   finds "Prozess".
//!
//! ## Ranking
//! A token's weight in a document is 8 if it is in the title, plus 4 if in
//! the summary or keywords, plus its count in the body (at most 5). A query
//! word scores, per document, the highest weight among the tokens it
//! matches, doubled when the token equals the word or its stem. Every
//! query word must match; documents are ordered by the sum, then by their
//! position in the index (units, courses, topics, FAQ, pages).

use crate::content::Format;
use crate::markdown;
use crate::model::Site;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
}

/// Lowercased words (runs of letters and digits) of `text`.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
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
    words(text)
        .into_iter()
        .filter(|w| indexable(w))
        .flat_map(|w| forms(&w))
        .collect()
}

/// A query word without its ending: the first of [`ENDINGS`] it ends with
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

/// The query's terms, one per distinct indexable word.
pub fn query_terms(query: &str) -> Vec<Term> {
    let mut terms: Vec<Term> = Vec::new();
    for w in words(query).into_iter().filter(|w| indexable(w)) {
        let mut term = Term {
            prefixes: Vec::new(),
            exact: Vec::new(),
        };
        for f in forms(&w) {
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
        if !terms.contains(&term) {
            terms.push(term);
        }
    }
    terms
}

/// Builds the index from documents, in the given order.
pub fn build_index(sources: &[Source]) -> Index {
    use rayon::prelude::*;
    // Documents are weighed in parallel (tokenising is the expensive part),
    // then merged into postings sorted by token and document.
    let weighed: Vec<Vec<(String, u32)>> = sources.par_iter().map(doc_weights).collect();
    let mut postings: Vec<(String, u32, u32)> = weighed
        .into_iter()
        .enumerate()
        .flat_map(|(i, ws)| ws.into_iter().map(move |(t, w)| (t, i as u32, w)))
        .collect();
    postings.par_sort_unstable_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let mut grouped: Vec<(String, Vec<(u32, u32)>)> = Vec::new();
    for (token, doc, weight) in postings {
        match grouped.last_mut() {
            Some((last, list)) if *last == token => list.push((doc, weight)),
            _ => grouped.push((token, vec![(doc, weight)])),
        }
    }
    Index {
        version: 1,
        stopwords: STOPWORDS.iter().map(|s| s.to_string()).collect(),
        docs: sources.iter().map(|s| s.doc.clone()).collect(),
        tokens: grouped.into_iter().collect(),
    }
}

/// Each indexed token of one document with its weight.
fn doc_weights(s: &Source) -> Vec<(String, u32)> {
    let mut weights: BTreeMap<String, (bool, bool, u32)> = BTreeMap::new();
    for t in index_tokens(&s.doc.title) {
        weights.entry(t).or_default().0 = true;
    }
    for t in index_tokens(&format!("{} {}", s.doc.summary, s.keywords)) {
        weights.entry(t).or_default().1 = true;
    }
    for t in index_tokens(&s.text) {
        weights.entry(t).or_default().2 += 1;
    }
    weights
        .into_iter()
        .map(|(t, (title, keyword, count))| {
            let w = u32::from(title) * TITLE_WEIGHT
                + u32::from(keyword) * KEYWORD_WEIGHT
                + count.min(BODY_MAX);
            (t, w)
        })
        .collect()
}

/// One ranked hit: document index and score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Hit {
    pub doc: usize,
    pub score: u32,
}

impl Index {
    /// Documents matching every query word, best first. Empty for a query
    /// without indexable words.
    pub fn search(&self, query: &str) -> Vec<Hit> {
        let terms = query_terms(query);
        if terms.is_empty() {
            return Vec::new();
        }
        let mut total: Vec<Option<u32>> = vec![Some(0); self.docs.len()];
        for term in &terms {
            let mut best = vec![0u32; self.docs.len()];
            for prefix in &term.prefixes {
                for (token, postings) in self
                    .tokens
                    .range(prefix.clone()..)
                    .take_while(|(t, _)| t.starts_with(prefix.as_str()))
                {
                    let exact = if term.exact.contains(token) { 2 } else { 1 };
                    for &(d, w) in postings {
                        let d = d as usize;
                        best[d] = best[d].max(w * exact);
                    }
                }
            }
            for (d, t) in total.iter_mut().enumerate() {
                *t = match (*t, best[d]) {
                    (Some(sum), w) if w > 0 => Some(sum + w),
                    _ => None,
                };
            }
        }
        let mut hits: Vec<Hit> = total
            .into_iter()
            .enumerate()
            .filter_map(|(doc, s)| s.map(|score| Hit { doc, score }))
            .collect();
        hits.sort_by(|a, b| b.score.cmp(&a.score).then(a.doc.cmp(&b.doc)));
        hits
    }
}

/// The documents of a site, in index order.
pub fn site_sources(site: &Site, today: NaiveDate) -> Vec<Source> {
    let mut out = Vec::new();
    let mut units: Vec<&crate::model::Unit> =
        site.units.iter().map(std::sync::Arc::as_ref).collect();
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
        out.push(Source {
            doc: Doc {
                title: u.title.clone(),
                url: crate::urls::unit(&u.id),
                kind: "einheit".into(),
                kind_label: "Lerneinheit".into(),
                format: format.into(),
                level: level.name.clone(),
                next_date: u
                    .next_free_date(today)
                    .map(|d| crate::time::german_short_date(d.date))
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
            text: markdown::to_plain_text(&u.body),
        });
    }
    let mut courses: Vec<&crate::model::Course> = site.courses.iter().collect();
    courses.sort_by(|a, b| a.title.cmp(&b.title));
    for c in courses {
        out.push(Source {
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
            text: markdown::to_plain_text(&c.body),
        });
    }
    for t in &site.topics {
        out.push(Source {
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
            text: markdown::to_plain_text(&t.body),
        });
    }
    for f in &site.faq {
        let text = markdown::to_plain_text(&f.body);
        out.push(Source {
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
        });
    }
    for p in &site.pages {
        let text = markdown::to_plain_text(&p.body);
        out.push(Source {
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
        });
    }
    out
}

/// The site's search index.
pub fn site_index(site: &Site, today: NaiveDate) -> Index {
    build_index(&site_sources(site, today))
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
        assert!(index.search("und die der").is_empty());
        assert!(query_terms("Für die").is_empty());
    }

    #[test]
    fn excerpt_cuts_at_words() {
        assert_eq!(excerpt("eins zwei drei", 9), "eins zwei…");
        assert_eq!(excerpt("eins  zwei", 20), "eins zwei");
    }
}
