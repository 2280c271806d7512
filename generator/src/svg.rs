//! SVG files below `static/` are documents a browser runs: a logo could
//! carry a script, an event handler, or load a font or picture from another
//! server. They are checked (not rewritten), and each kind of finding is
//! reported once per file, at its first place.

use crate::error::{Problem, ProblemKind};
use std::path::Path;

/// What an SVG file must not contain, as (what to look for, German name).
/// The search runs on the lowercased text with whitespace removed inside
/// tags, so `< script` and `ONLOAD =` are found too.
const FORBIDDEN: [(&str, &str); 7] = [
    ("<script", "ein Skript („<script>“)"),
    ("<foreignobject", "eingebettetes HTML („<foreignObject>“)"),
    ("javascript:", "eine Skript-Adresse („javascript:“)"),
    ("vbscript:", "eine Skript-Adresse („vbscript:“)"),
    ("@import", "eine nachgeladene Stilvorlage („@import“)"),
    (
        "@font-face",
        "eine eingebettete oder fremde Schrift („@font-face“)",
    ),
    ("<!entity", "eine Entity-Deklaration („<!ENTITY“)"),
];

/// Checks one SVG file; `path` is used in the problems.
pub fn check(path: &Path, text: &str) -> Vec<Problem> {
    let mut found: Vec<(usize, &'static str)> = Vec::new();
    let lower = text.to_ascii_lowercase();
    for (needle, what) in FORBIDDEN {
        if let Some(at) = find_loose(&lower, needle) {
            found.push((at, what));
        }
    }
    if let Some(at) = event_handler(&lower) {
        found.push((at, "einen Ereignis-Handler (Attribut „on…=“, z. B. onload)"));
    }
    if let Some(at) = external_reference(&lower) {
        found.push((
            at,
            "einen Verweis auf eine andere Datei oder einen fremden Server (href, src oder url(…) ohne „#“)",
        ));
    }
    found.sort();
    found
        .into_iter()
        .map(|(at, what)| {
            let before = &text[..at];
            let line = before.matches('\n').count() as u64 + 1;
            let column = before[before.rfind('\n').map_or(0, |i| i + 1)..]
                .chars()
                .count() as u64
                + 1;
            Problem::new(path, ProblemKind::UnsafeSvg { found: what }).at(line, Some(column))
        })
        .collect()
}

/// Finds `needle` allowing whitespace after a leading `<` or `@`.
fn find_loose(text: &str, needle: &str) -> Option<usize> {
    let (first, rest) = needle.split_at(1);
    if !matches!(first, "<" | "@") {
        return text.find(needle);
    }
    let mut from = 0;
    while let Some(i) = text[from..].find(first) {
        let at = from + i;
        if text[at + 1..].trim_start().starts_with(rest) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The attributes of every tag: (offset of the name, name, value).
fn attributes(text: &str) -> Vec<(usize, &str, &str)> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut in_tag = false;
    while i < bytes.len() {
        let c = bytes[i];
        if !in_tag {
            // Bytes, not text: `i` may sit inside a multi-byte character here.
            let comment = bytes[i..].starts_with(b"<!--");
            in_tag = c == b'<' && !comment;
            if comment {
                i = text[i..].find("-->").map_or(bytes.len(), |e| i + e + 3);
                continue;
            }
            i += 1;
            continue;
        }
        if c == b'>' {
            in_tag = false;
            i += 1;
            continue;
        }
        if c.is_ascii_whitespace() {
            // An attribute name starts after whitespace.
            let start = i + 1;
            let name_len = text[start..]
                .find(|ch: char| ch.is_ascii_whitespace() || ch == '=' || ch == '>' || ch == '/')
                .unwrap_or(0);
            let name = &text[start..start + name_len];
            let after = text[start + name_len..].trim_start();
            if !name.is_empty() {
                let value = after.strip_prefix('=').map(|v| {
                    let v = v.trim_start();
                    match v.chars().next() {
                        Some(q @ ('"' | '\'')) => v[1..].split(q).next().unwrap_or(""),
                        _ => v
                            .split(|ch: char| ch.is_ascii_whitespace() || ch == '>')
                            .next()
                            .unwrap_or(""),
                    }
                });
                out.push((start, name, value.unwrap_or("")));
            }
            i = start + name_len;
            continue;
        }
        if c == b'"' || c == b'\'' {
            i = text[i + 1..]
                .find(c as char)
                .map_or(bytes.len(), |e| i + e + 2);
            continue;
        }
        i += 1;
    }
    out
}

fn event_handler(text: &str) -> Option<usize> {
    attributes(text)
        .into_iter()
        .find(|(_, name, _)| name.starts_with("on") && name.len() > 2)
        .map(|(at, _, _)| at)
}

/// A reference the browser would fetch: href/src to anything but an
/// anchor in the same file or an embedded raster image, or a CSS `url(`
/// that is not `#…`.
fn external_reference(text: &str) -> Option<usize> {
    let embedded = [
        "data:image/png",
        "data:image/jpeg",
        "data:image/gif",
        "data:image/webp",
    ];
    let attr = attributes(text).into_iter().find(|(_, name, value)| {
        let v = value.trim();
        (name.ends_with("href") || *name == "src")
            && !v.starts_with('#')
            && !embedded.iter().any(|e| v.starts_with(e))
    });
    let css = text.match_indices("url(").find(|(i, _)| {
        let v = text[i + 4..].trim_start().trim_start_matches(['"', '\'']);
        !v.starts_with('#')
    });
    match (attr.map(|a| a.0), css.map(|c| c.0)) {
        (Some(a), Some(c)) => Some(a.min(c)),
        (a, c) => a.or(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(svg: &str) -> Vec<(u64, &'static str)> {
        check(Path::new("static/x.svg"), svg)
            .into_iter()
            .map(|p| match p.kind {
                ProblemKind::UnsafeSvg { found } => (p.line.unwrap(), found),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_plain_logo_passes() {
        let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" viewBox=\"0 0 10 10\">\n<!-- onload=\"x\" in a comment -->\n<defs><linearGradient id=\"g\"/></defs>\n<rect fill=\"url(#g)\" width=\"10\" height=\"10\"/><use href=\"#g\"/>\n<text font-family=\"sans-serif\">Wappen für Bürger</text></svg>";
        assert_eq!(found(svg), []);
    }

    #[test]
    fn scripts_handlers_and_references_are_found() {
        let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\"\n ONLOAD = \"alert(1)\">\n< script>alert(1)</script>\n<image href=\"https://tracker.example/p.png\"/>\n<style>@font-face { src: url(https://fonts.example/a.woff) }</style>\n<a xlink:href=\"JavaScript:alert(1)\">x</a></svg>";
        let kinds: Vec<_> = found(svg)
            .into_iter()
            .map(|(line, what)| (line, what.split(' ').nth(1).unwrap()))
            .collect();
        assert_eq!(
            kinds,
            [
                (2, "Ereignis-Handler"),
                (3, "Skript"),
                (4, "Verweis"),
                (5, "eingebettete"),
                (6, "Skript-Adresse"),
            ]
        );
    }
}
