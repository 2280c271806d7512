//! Markdown to HTML for editor-written bodies.
//!
//! Raw HTML in Markdown is shown as text, not passed through: editors cannot
//! break the page structure or accessibility by accident, and nothing can
//! inject scripts. Headings get stable ids for deep links.

use crate::slug::slugify;
use pulldown_cmark::{html, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

pub fn to_html(markdown: &str) -> String {
    to_html_below(markdown, 2)
}

/// Like [`to_html`], with the body's headings starting at level `top`
/// (e.g. 4 for an FAQ answer under an `<h3>` question).
pub fn to_html_below(markdown: &str, top: u8) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut events: Vec<Event> = Vec::new();
    let mut heading_start: Option<usize> = None;
    let mut used_ids: Vec<String> = Vec::new();
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Html(raw) | Event::InlineHtml(raw) => events.push(Event::Text(raw)),
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs,
            }) => {
                heading_start = Some(events.len());
                // Headings in a body sit below the page's own headings.
                let level = shift(level, top);
                events.push(Event::Start(Tag::Heading {
                    level,
                    id,
                    classes,
                    attrs,
                }));
            }
            Event::End(TagEnd::Heading(level)) => {
                if let Some(start) = heading_start.take() {
                    let text: String = events[start + 1..]
                        .iter()
                        .filter_map(|e| match e {
                            Event::Text(t) | Event::Code(t) => Some(t.as_ref()),
                            _ => None,
                        })
                        .collect();
                    let mut id = slugify(&text);
                    if id.is_empty() {
                        id = "abschnitt".into();
                    }
                    let base = id.clone();
                    let mut n = 2;
                    while used_ids.contains(&id) {
                        id = format!("{base}-{n}");
                        n += 1;
                    }
                    used_ids.push(id.clone());
                    if let Event::Start(Tag::Heading { id: slot, .. }) = &mut events[start] {
                        if slot.is_none() {
                            *slot = Some(CowStr::from(id));
                        }
                    }
                }
                events.push(Event::End(TagEnd::Heading(shift(level, top))));
            }
            other => events.push(other),
        }
    }
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events.into_iter());
    out
}

/// Moves a heading down so that `#` and `##` both land on level `top`,
/// keeping the order of deeper levels.
fn shift(level: HeadingLevel, top: u8) -> HeadingLevel {
    let n = (level as u8).max(2) + top.saturating_sub(2);
    match n.min(6) {
        2 => HeadingLevel::H2,
        3 => HeadingLevel::H3,
        4 => HeadingLevel::H4,
        5 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

/// Plain text of a Markdown snippet (for meta descriptions and search).
pub fn to_plain_text(markdown: &str) -> String {
    let mut out = String::new();
    for event in Parser::new(markdown) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak | Event::End(_) if !out.ends_with(' ') => {
                out.push(' ')
            }
            _ => {}
        }
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_raw_html() {
        let html = to_html("Hallo <script>alert(1)</script>");
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"));
    }

    #[test]
    fn headings_get_ids_and_h1_is_demoted() {
        let html = to_html("# Übersicht\n\n## Ablauf\n\n## Ablauf\n");
        assert!(
            html.contains("<h2 id=\"uebersicht\">Übersicht</h2>"),
            "{html}"
        );
        assert!(html.contains("<h2 id=\"ablauf\">"));
        assert!(html.contains("<h2 id=\"ablauf-2\">"));
    }

    #[test]
    fn answers_nest_below_their_question() {
        let html = to_html_below("## Kosten\n\n### Details\n", 4);
        assert!(html.contains("<h4 id=\"kosten\">"), "{html}");
        assert!(html.contains("<h5 id=\"details\">"), "{html}");
    }

    #[test]
    fn tables_render() {
        let html = to_html("| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(html.contains("<table>"));
    }
}
