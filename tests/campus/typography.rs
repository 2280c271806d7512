//! Dates, times and amounts never break across lines: every page of the built
//! sample site (and the search index the JavaScript search shows) is scanned
//! for one written with an ordinary, breakable space.

use crate::support::*;
use std::path::Path;

const MONTHS: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];
const WEEKDAYS: [&str; 7] = [
    "Montag",
    "Dienstag",
    "Mittwoch",
    "Donnerstag",
    "Freitag",
    "Samstag",
    "Sonntag",
];

/// A space where a browser may break the line (the no-break space is not one).
fn breakable(c: char) -> bool {
    c.is_ascii_whitespace()
}

/// Places in `text` where a date, time or amount could break, with a little
/// context around each.
fn breaks(text: &str) -> Vec<String> {
    let c: Vec<char> = text.chars().collect();
    let at = |i: usize, word: &str| {
        let w: Vec<char> = word.chars().collect();
        c.len() >= i + w.len() && c[i..i + w.len()] == w[..]
    };
    // A whole word: "Mai" but not "Mainzer".
    let word_at = |i: usize, word: &str| {
        at(i, word)
            && !c
                .get(i + word.chars().count())
                .is_some_and(|n| n.is_alphabetic())
    };
    let digit = |i: usize| c.get(i).is_some_and(char::is_ascii_digit);
    let mut found = Vec::new();
    for i in 1..c.len() {
        let hit = if breakable(c[i]) {
            // "10. Februar", "13:00 Uhr", "20 %", "49 €", "09:00 bis 13:00"
            (c[i - 1] == '.' && i >= 2 && digit(i - 2) && MONTHS.iter().any(|m| word_at(i + 1, m)))
                || (digit(i - 1)
                    && ["Uhr", "€", "%", "EUR"].iter().any(|w| word_at(i + 1, w)))
                || (digit(i - 1) && i >= 3 && c[i - 3] == ':' && at(i + 1, "bis") && c.get(i + 4).is_some_and(|b| breakable(*b)) && digit(i + 5))
                // "Februar 2027"
                || (MONTHS.iter().any(|m| {
                    let n = m.chars().count();
                    i >= n && c[i - n..i].iter().collect::<String>() == *m
                }) && (i + 1..i + 5).all(digit))
        } else {
            // "09:00–13:00": after the en dash a browser may break.
            c[i] == '–' && digit(i - 1) && digit(i + 1)
        };
        if hit {
            let from = i.saturating_sub(25);
            let to = (i + 20).min(c.len());
            found.push(c[from..to].iter().collect::<String>().replace('\n', " "));
        }
    }
    found
}

/// What a person reads on a page: the text of `<body>` without scripts and
/// without what a form field holds.
fn page_text(doc: &scraper::Html) -> String {
    let mut out = String::new();
    for node in doc.root_element().descendants() {
        let Some(t) = node.value().as_text() else {
            continue;
        };
        let skipped = node.ancestors().any(|a| {
            a.value().as_element().is_some_and(|e| {
                matches!(e.name(), "script" | "style" | "textarea" | "title" | "head")
            })
        });
        if !skipped {
            out.push_str(t);
        }
    }
    out
}

fn html_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            html_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "html") {
            out.push(path);
        }
    }
}

#[test]
fn the_scanner_finds_breakable_dates_times_and_amounts() {
    for bad in [
        "am 10. Februar 2027",
        "Februar 2027",
        "von 13:00 Uhr",
        "um 20 % mehr",
        "49 €",
        "09:00–13:00",
        "09:00 bis 13:00",
    ] {
        assert!(!breaks(bad).is_empty(), "not found in {bad:?}");
    }
    for good in [
        "am 10.\u{a0}Februar\u{a0}2027",
        "Mittwoch, 10.\u{a0}Februar",
        "09:00–\u{2060}13:00\u{a0}Uhr",
        "49\u{a0}€, 20\u{a0}%",
        "E-Akte – ein Überblick, seit 2021 bis heute, 3. Mainzer Tag, von 1 bis 5",
    ] {
        assert_eq!(breaks(good), Vec::<String>::new(), "{good:?}");
    }
}

#[test]
fn no_date_time_or_amount_of_the_sample_site_breaks_across_lines() {
    let site = sample();
    build(site.path()).unwrap_or_else(|p| panic!("sample site does not build:\n{p}"));
    let public = site.path().join("public");
    let mut files = Vec::new();
    html_files(&public, &mut files);
    assert!(files.len() > 50, "{} pages", files.len());
    let mut found = Vec::new();
    let mut dates = 0;
    for file in &files {
        let doc = scraper::Html::parse_document(&std::fs::read_to_string(file).unwrap());
        let text = page_text(&doc);
        dates += MONTHS
            .iter()
            .map(|m| text.matches(m).count())
            .sum::<usize>();
        for b in breaks(&text) {
            found.push(format!(
                "{}: „{b}“",
                file.strip_prefix(&public).unwrap().display()
            ));
        }
    }
    // The JavaScript search shows the next date as the index states it.
    let index = read(&public, "suche/index.json");
    let next_dates: Vec<String> = serde_json::from_str::<serde_json::Value>(&index)
        .unwrap()
        .pointer("/docs")
        .and_then(|d| d.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|d| {
            d["next_date"]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        })
        .collect();
    assert!(!next_dates.is_empty(), "search index has no next dates");
    for d in &next_dates {
        assert!(
            WEEKDAYS.iter().any(|w| d.starts_with(w)),
            "search shows the next date as the pages do (Mittwoch, 10. Februar 2027): {d}"
        );
        for b in breaks(d) {
            found.push(format!("suche/index.json: „{b}“"));
        }
    }
    assert!(dates > 100, "only {dates} month names on the pages");
    assert!(
        found.is_empty(),
        "{} breakable places:\n{}",
        found.len(),
        found.join("\n")
    );
}
