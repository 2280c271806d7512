//! Links and images in editors' bodies: what may be published (checked when
//! the content is loaded) and whether links inside the site lead somewhere
//! (checked against the rendered pages, since only they know every page
//! and every anchor).

use crate::content::SourceFile;
use crate::error::{LinkTarget, Problem, ProblemKind};
use crate::markdown::{self, Finding, Url};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// A link to a page or anchor of this site, remembered for [`Targets::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteLink {
    pub file: PathBuf,
    pub line: u64,
    pub column: u64,
    /// As the editor wrote it.
    pub url: String,
    /// The page linked to ("/kurse/"); the page the body is on for `#anchor`.
    pub page: String,
    pub anchor: Option<String>,
    /// An image: `page` must be a file of the site.
    pub image: bool,
}

/// The mark of a place an editor still has to fill (the landing-page draft
/// of a new member writes it); a file with it is never published.
pub const PLACEHOLDER: &str = "BITTE ERGÄNZEN";

/// Every placeholder in a file's front matter values (not its `#` comments)
/// and body, at its line and column.
fn check_placeholders(file: &SourceFile, problems: &mut Vec<Problem>) {
    for (text, first_line, yaml) in [
        (&file.front, file.front_line, true),
        (&file.body, file.body_line, false),
    ] {
        for (i, line) in text.lines().enumerate() {
            if yaml && line.trim_start().starts_with('#') {
                continue;
            }
            if let Some(at) = line.find(PLACEHOLDER) {
                let column = line[..at].chars().count() as u64 + 1;
                problems.push(
                    Problem::new(
                        &file.path,
                        ProblemKind::Placeholder {
                            marker: PLACEHOLDER,
                        },
                    )
                    .at(first_line + i as u64, Some(column)),
                );
            }
        }
    }
}

/// Checks the links, images and raw HTML of one file's body. `page` is the
/// address the body is shown on; `static_files` are the site paths below
/// `static/` ("/bilder/logo.svg").
pub fn check_body(
    file: &SourceFile,
    page: &str,
    static_files: &HashSet<String>,
    problems: &mut Vec<Problem>,
    links: &mut Vec<SiteLink>,
) {
    check_placeholders(file, problems);
    for (offset, finding) in markdown::inspect(&file.body) {
        let (line, column) = position(&file.body, offset);
        let line = file.body_line + line - 1;
        let at = |kind| Problem::new(&file.path, kind).at(line, Some(column));
        match finding {
            Finding::RawHtml { tag } => problems.push(at(ProblemKind::RawHtml { tag })),
            Finding::Link { url, image } => match (markdown::classify(&url), image) {
                (Url::Unsafe, _) => problems.push(at(ProblemKind::UnsafeUrl { url })),
                (Url::Https | Url::Http | Url::OtherOrigin | Url::Contact, true) => {
                    problems.push(at(ProblemKind::ForeignMedia { url }))
                }
                (Url::Relative | Url::OtherOrigin, _) => {
                    problems.push(at(ProblemKind::RelativeLink { url }))
                }
                (Url::Http, false) => problems.push(at(ProblemKind::InsecureLink { url })),
                (Url::Https | Url::Contact, false) => {}
                (Url::Site { path, .. }, _) if static_files.contains(&path) => {}
                (Url::Site { path, anchor }, image) => links.push(SiteLink {
                    file: file.path.clone(),
                    line,
                    column,
                    url,
                    page: path,
                    anchor: anchor.filter(|_| !image),
                    image,
                }),
                (Url::Anchor(anchor), _) => links.push(SiteLink {
                    file: file.path.clone(),
                    line,
                    column,
                    url,
                    page: page.to_string(),
                    anchor: Some(anchor),
                    image: false,
                }),
            },
        }
    }
}

/// Line and column (both from 1, column in characters) of a byte offset.
fn position(text: &str, offset: usize) -> (u64, u64) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() as u64 + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() as u64 + 1)
}

/// Every address the built site answers, and the anchors of the pages that
/// links point into.
#[derive(Debug, Default)]
pub struct Targets {
    addresses: HashSet<String>,
    /// Pages whose anchors are linked to, with the ids found on them.
    anchors: HashMap<String, HashSet<String>>,
    /// Files of the site's own `static/`, as output paths ("bilder/a.svg").
    site_static: HashSet<String>,
}

impl Targets {
    /// Targets knowing the files of the static folders; `links` tell which
    /// pages' anchors are needed.
    pub fn new(site_static: &Path, theme_static: &Path, links: &[SiteLink]) -> Targets {
        let mut t = Targets::default();
        for (dir, own) in [(theme_static, false), (site_static, true)] {
            for entry in walkdir::WalkDir::new(dir)
                .into_iter()
                .filter_map(Result::ok)
            {
                if !entry.file_type().is_file() {
                    continue;
                }
                let Ok(rel) = entry.path().strip_prefix(dir) else {
                    continue;
                };
                let rel = rel.to_string_lossy().replace('\\', "/");
                t.addresses.insert(format!("/{rel}"));
                if own {
                    t.site_static.insert(rel);
                }
            }
        }
        for l in links.iter().filter(|l| l.anchor.is_some()) {
            t.anchors.entry(l.page.clone()).or_default();
        }
        t
    }

    /// Whether the ids of the page at output path `path` are needed (a link
    /// points to one of its anchors): a build that keeps the page without
    /// rendering it reads it from the output then.
    pub fn wants_ids(&self, path: &str) -> bool {
        let url = match path.strip_suffix("index.html") {
            Some(dir) => format!("/{dir}"),
            None => format!("/{path}"),
        };
        self.anchors.contains_key(&url)
    }

    /// Records one rendered file. A problem when a file of the site's
    /// `static/` has the same path (the page would silently replace it).
    pub fn add(&mut self, path: &str, bytes: &[u8]) -> Option<Problem> {
        let url = match path.strip_suffix("index.html") {
            Some(dir) => format!("/{dir}"),
            None => format!("/{path}"),
        };
        if let Some(ids) = self.anchors.get_mut(&url) {
            ids.extend(html_ids(bytes));
        }
        self.addresses.insert(format!("/{path}"));
        self.addresses.insert(url);
        self.site_static.contains(path).then(|| {
            Problem::new(
                Path::new("static").join(path),
                ProblemKind::TakenPath {
                    url: format!("/{path}"),
                },
            )
        })
    }

    /// Problems of links that lead nowhere, with a suggestion where a known
    /// address or anchor is close.
    pub fn verify(&self, links: &[SiteLink], root: &Path) -> Vec<Problem> {
        let mut problems = Vec::new();
        for l in links {
            let problem = |missing, suggestion| {
                Problem::new(
                    &l.file,
                    ProblemKind::BrokenLink {
                        url: l.url.clone(),
                        missing,
                        suggestion,
                    },
                )
                .at(l.line, Some(l.column))
                .relative_to(root)
            };
            if !self.addresses.contains(&l.page) {
                let with_slash = format!("{}/", l.page);
                let suggestion = if self.addresses.contains(&with_slash) {
                    Some(with_slash)
                } else {
                    crate::slug::closest(&l.page, self.addresses.iter().map(String::as_str))
                        .map(str::to_string)
                };
                let missing = if l.image {
                    LinkTarget::File
                } else {
                    LinkTarget::Page
                };
                problems.push(problem(missing, suggestion));
                continue;
            }
            let Some(anchor) = &l.anchor else { continue };
            let ids = self.anchors.get(&l.page);
            if anchor.is_empty() || ids.is_some_and(|ids| ids.contains(anchor)) {
                continue;
            }
            let suggestion = ids
                .and_then(|ids| crate::slug::closest(anchor, ids.iter().map(String::as_str)))
                .map(|a| format!("#{a}"));
            problems.push(problem(LinkTarget::Anchor, suggestion));
        }
        problems
    }
}

/// The values of `id="..."` attributes in rendered HTML.
fn html_ids(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    text.split(" id=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let text = "eins\nzwö [x](y)\n";
        let offset = text.find('[').unwrap();
        assert_eq!(position(text, offset), (2, 5));
    }

    #[test]
    fn ids_are_read_from_html() {
        let ids = html_ids(br#"<h2 id="ablauf">A</h2><div class="x" id="termine">"#);
        assert_eq!(ids, ["ablauf", "termine"]);
    }
}
