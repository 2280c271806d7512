//! Markdown to HTML for editor-written bodies, and the checks that keep a
//! body harmless for visitors.
//!
//! Raw HTML in Markdown is refused by [`inspect`] (the build fails naming the
//! tag); HTML comments are allowed and dropped. Link and image URLs are
//! sorted by [`classify`]: only site paths, `#anchors`, `https://`/`http://`,
//! `mailto:` and `tel:` are links, and images come only from the site itself.
//! [`to_html`] applies the same rules once more, so even unchecked text never
//! carries markup or a script-capable URL. Headings get stable ids for deep links.

use crate::images::Images;
use crate::slug::slugify;
use pulldown_cmark::{html, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// What a link or image URL points to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Url {
    /// A path of this site from its root (`/kurse/`), maybe with `#anchor`.
    Site {
        path: String,
        anchor: Option<String>,
    },
    /// `#anchor` on the same page.
    Anchor(String),
    /// Another website over https.
    Https,
    /// Another website without encryption.
    Http,
    /// `mailto:` or `tel:`.
    Contact,
    /// `//host/...`: another server, scheme left to the browser.
    OtherOrigin,
    /// A path without leading `/` (`kurse/`, `../x`).
    Relative,
    /// Any other scheme: `javascript:`, `vbscript:`, `data:`, `file:` ...
    Unsafe,
}

/// Sorts a URL the way a browser would read it: tabs, line breaks and
/// control characters are ignored and the scheme's case does not matter,
/// so `Java&#x09;Script:` is caught as well (entities are already decoded
/// by the Markdown parser).
pub fn classify(url: &str) -> Url {
    let clean: String = url
        .chars()
        .filter(|c| !c.is_control() && !c.is_whitespace() && *c != '\u{feff}')
        .collect();
    let lower = clean.to_ascii_lowercase();
    if let Some(anchor) = clean.strip_prefix('#') {
        return Url::Anchor(anchor.to_string());
    }
    if lower.starts_with("//") || lower.starts_with("/\\") || lower.starts_with("\\") {
        return Url::OtherOrigin;
    }
    if clean.starts_with('/') {
        // The path as written: a space in it is part of the address.
        let written = url.trim();
        let (before, anchor) = match written.split_once('#') {
            Some((b, a)) => (b, Some(a.to_string())),
            None => (written, None),
        };
        let path = before.split('?').next().unwrap_or(before).to_string();
        return Url::Site { path, anchor };
    }
    let scheme_end = lower.find(|c: char| !(c.is_ascii_alphanumeric() || "+-.".contains(c)));
    match scheme_end {
        Some(i) if i > 0 && lower[i..].starts_with(':') => match &lower[..i] {
            "https" => Url::Https,
            "http" => Url::Http,
            "mailto" | "tel" => Url::Contact,
            _ => Url::Unsafe,
        },
        _ => Url::Relative,
    }
}

/// Something in a body to report, at a byte offset into the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    RawHtml { tag: String },
    Link { url: String, image: bool },
}

/// Raw HTML tags and every link and image URL of a body, with their byte
/// offsets. A closing tag is reported only when its opening tag was not.
pub fn inspect(markdown: &str) -> Vec<(usize, Finding)> {
    let mut found = Vec::new();
    let mut open_tags: Vec<String> = Vec::new();
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    for (event, range) in Parser::new_ext(markdown, options).into_offset_iter() {
        match event {
            Event::Html(raw) | Event::InlineHtml(raw) => {
                for (at, tag, closing) in html_tags(&raw) {
                    if closing && open_tags.contains(&tag) {
                        continue;
                    }
                    open_tags.push(tag.clone());
                    let offset = markdown[range.clone()]
                        .find(&raw[at..])
                        .map_or(range.start, |i| range.start + i);
                    found.push((offset, Finding::RawHtml { tag }));
                }
            }
            Event::Start(Tag::Link { dest_url, .. }) => found.push((
                range.start,
                Finding::Link {
                    url: dest_url.to_string(),
                    image: false,
                },
            )),
            Event::Start(Tag::Image { dest_url, .. }) => found.push((
                range.start,
                Finding::Link {
                    url: dest_url.to_string(),
                    image: true,
                },
            )),
            _ => {}
        }
    }
    found
}

/// The tags in a piece of raw HTML: (offset, lowercase name, closing).
/// Comments and `<!DOCTYPE>`-like declarations are skipped.
fn html_tags(raw: &str) -> Vec<(usize, String, bool)> {
    let mut tags = Vec::new();
    let mut rest = 0;
    while let Some(i) = raw[rest..].find('<') {
        let at = rest + i;
        let after = &raw[at + 1..];
        if let Some(comment) = after.strip_prefix("!--") {
            rest = match comment.find("-->") {
                Some(end) => at + 4 + end + 3,
                None => raw.len(),
            };
            continue;
        }
        let closing = after.starts_with('/');
        let name: String = after
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == ':')
            .collect::<String>()
            .to_ascii_lowercase();
        if !name.is_empty() {
            tags.push((at, name, closing));
        } else if after.starts_with(['!', '?']) {
            tags.push((at, after[..1].to_string(), false));
        }
        rest = at + 1;
    }
    tags
}

/// A URL that may stand in a published link (images: only from this site).
fn publishable(url: &str, image: bool) -> bool {
    match classify(url) {
        Url::Site { .. } | Url::Anchor(_) => true,
        Url::Https | Url::Http | Url::Contact => !image,
        Url::OtherOrigin | Url::Relative | Url::Unsafe => false,
    }
}

pub fn to_html(markdown: &str) -> String {
    to_html_below(markdown, 2)
}

/// Like [`to_html`], with the body's headings starting at level `top`
/// (e.g. 4 for an FAQ answer under an `<h3>` question).
pub fn to_html_below(markdown: &str, top: u8) -> String {
    to_html_with(markdown, top, &Images::default())
}

/// Like [`to_html_below`]; pictures that `images` knows get their size and
/// smaller copies (`srcset`), so they load quickly on a phone.
pub fn to_html_with(markdown: &str, top: u8, images: &Images) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut events: Vec<Event> = Vec::new();
    let mut heading_start: Option<usize> = None;
    let mut used_ids: Vec<String> = Vec::new();
    let mut dropped_images = 0;
    // A known picture being read: its address and the description so far.
    let mut picture: Option<(String, String)> = None;
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::End(TagEnd::Image) if dropped_images > 0 => dropped_images -= 1,
            Event::End(TagEnd::Image) if picture.is_some() => {
                let (src, alt) = picture.take().expect("checked");
                let alt = escape_attribute(&alt);
                let markup = images
                    .markup(&src, &alt, "(min-width: 50em) 46em, 100vw", "")
                    .expect("known picture");
                events.push(Event::Html(CowStr::from(markup)));
            }
            Event::Text(t) | Event::Code(t) if picture.is_some() => {
                picture.as_mut().expect("checked").1.push_str(&t);
            }
            _ if picture.is_some() => {}
            // Refused by `inspect`; dropped here, never shown as markup.
            Event::Html(_) | Event::InlineHtml(_) => {}
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let dest_url = if publishable(&dest_url, false) {
                    dest_url
                } else {
                    CowStr::from("#")
                };
                events.push(Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                }));
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                if !publishable(&dest_url, true) {
                    // Only the description stays.
                    dropped_images += 1;
                    continue;
                }
                if images.get(&dest_url).is_some() {
                    picture = Some((dest_url.to_string(), String::new()));
                    continue;
                }
                events.push(Event::Start(Tag::Image {
                    link_type,
                    dest_url,
                    title,
                    id,
                }));
            }
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

/// Text for a double-quoted HTML attribute.
pub(crate) fn escape_attribute(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
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
    fn raw_html_is_dropped_and_reported() {
        let md = "Hallo <script>alert(1)</script>\n\n<iframe src=\"https://x.example\"></iframe>\n\n<!-- Notiz -->\n";
        let html = to_html(md);
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("&lt;script"), "never literal markup: {html}");
        assert!(!html.contains("iframe"), "{html}");
        assert!(!html.contains("Notiz"), "{html}");
        let tags: Vec<_> = inspect(md);
        assert_eq!(
            tags,
            [
                (
                    6,
                    Finding::RawHtml {
                        tag: "script".into()
                    }
                ),
                (
                    33,
                    Finding::RawHtml {
                        tag: "iframe".into()
                    }
                ),
            ]
        );
    }

    #[test]
    fn urls_are_read_as_a_browser_reads_them() {
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            " java\tscript:alert(1)",
            "java\nscript:alert(1)",
            "\u{1}javascript:alert(1)",
            "vbscript:msgbox",
            "data:text/html;base64,PHNjcmlwdD4=",
            "data:image/svg+xml,<svg onload=alert(1)>",
            "file:///etc/passwd",
        ] {
            assert_eq!(classify(bad), Url::Unsafe, "{bad:?}");
        }
        assert_eq!(classify("//tracker.example/p.gif"), Url::OtherOrigin);
        assert_eq!(classify("https://example.org"), Url::Https);
        assert_eq!(classify("HTTP://example.org"), Url::Http);
        assert_eq!(classify("mailto:a@b.example"), Url::Contact);
        assert_eq!(classify("kurse/"), Url::Relative);
        assert_eq!(
            classify("/kurse/?x=1#ablauf"),
            Url::Site {
                path: "/kurse/".into(),
                anchor: Some("ablauf".into())
            }
        );
        assert_eq!(classify("#ablauf"), Url::Anchor("ablauf".into()));
    }

    #[test]
    fn entity_obfuscated_links_are_found_and_neutralised() {
        let md = "[a](&#106;avascript:alert(1)) [b](java&#x09;script:alert(1)) <javascript:alert(1)>\n\n![c](https://tracker.example/p.gif)";
        let urls: Vec<Url> = inspect(md)
            .into_iter()
            .filter_map(|(_, f)| match f {
                Finding::Link { url, .. } => Some(classify(&url)),
                _ => None,
            })
            .collect();
        assert_eq!(urls, [Url::Unsafe, Url::Unsafe, Url::Unsafe, Url::Https]);
        let html = to_html(md).to_ascii_lowercase();
        assert!(!html.contains("href=\"javascript"), "{html}");
        assert!(!html.contains("tracker.example"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("<p>c</p>"), "the description stays: {html}");
    }

    #[test]
    fn no_hostile_body_reaches_the_html() {
        let hostile = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "<a href=\"javascript:alert(1)\">x</a>",
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt&#58;alert(1))",
            "[x](&#x6A;avascript:alert(1))",
            "[x]( javascript:alert(1) )",
            "[x](<java script:alert(1)>)",
            "[x][r]\n\n[r]: javascript:alert(1)",
            "<javascript:alert(1)>",
            "[x](vbscript:msgbox(1))",
            "[x](data:text/html,<script>alert(1)</script>)",
            "![x](data:image/svg+xml;base64,PHN2Zz4=)",
            "![x](https://tracker.example/p.gif)",
            "![x](//tracker.example/p.gif)",
            "![x](/\\tracker.example/p.gif)",
            "<iframe src=\"https://video.example/\"></iframe>",
            "<svg onload=alert(1)>",
            "<style>body{background:url(https://x.example/)}</style>",
            "`<script>` im Code bleibt Text",
        ];
        for md in hostile {
            let html = to_html(md).to_ascii_lowercase();
            for bad in [
                "href=\"javascript",
                "href=\"vbscript",
                "href=\"data:",
                "src=\"data:",
                "src=\"http",
                "src=\"//",
                "src=\"/\\",
                "<script",
                "<iframe",
                "<svg",
                "<style",
                "onerror=",
                "onload=",
            ] {
                assert!(!html.contains(bad), "{md:?} gave {html}");
            }
        }
        assert!(to_html("`<script>`").contains("<code>&lt;script&gt;</code>"));
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
