//! The style sheets and scripts below `static/assets/`, minified and served
//! under a name with a hash of their bytes (`campus.3f9a1c2b.css`): such a
//! name never changes its content, so browsers keep the file for a year
//! (see `headers::IMMUTABLE`) and fetch a new one only when a build
//! changed it. Pages refer to them through `site.assets`; the plain names
//! stay in the output, as they were, for templates of a site that still
//! use them.
//!
//! The minifiers are small and only do what is safe for any input: a style
//! sheet loses comments and the spaces no CSS grammar needs; a script
//! keeps every line break (so automatic semicolons stay where they were)
//! and loses indentation, blank lines and whole-line comments, and is left
//! as it is when it has template literals or continued lines (where
//! indentation could be part of a string).

use std::hash::{Hash, Hasher};
use std::path::Path;

/// One minified file and the names it is published under.
#[derive(Debug, Clone)]
pub struct Asset {
    /// File name below `assets/` ("campus.css").
    pub name: String,
    /// Output path of the minified copy ("assets/campus.3f9a1c2b.css").
    pub path: String,
    pub bytes: Vec<u8>,
}

/// The minified assets of a site, by file name.
#[derive(Debug, Clone, Default)]
pub struct Assets(pub Vec<Asset>);

impl Assets {
    /// The `.css` and `.js` files directly in `assets/` of the theme's and
    /// the site's static folders (a site file replaces the theme's file of
    /// the same name). Unreadable files are left out: the static copy of
    /// the build reports them.
    pub fn scan(theme_static: &Path, site_static: &Path) -> Assets {
        let mut files = std::collections::BTreeMap::new();
        for dir in [theme_static, site_static] {
            let Ok(entries) = std::fs::read_dir(dir.join("assets")) else {
                continue;
            };
            for entry in entries.filter_map(Result::ok) {
                let name = entry.file_name().to_string_lossy().into_owned();
                if (name.ends_with(".css") || name.ends_with(".js"))
                    && !crate::headers::is_fingerprinted(&name)
                    && entry.file_type().is_ok_and(|t| t.is_file())
                {
                    files.insert(name, entry.path());
                }
            }
        }
        let assets = files
            .into_iter()
            .filter_map(|(name, path)| {
                let text = std::fs::read_to_string(&path).ok()?;
                let min = if name.ends_with(".css") {
                    minify_css(&text)
                } else {
                    minify_js(&text)
                };
                let (stem, ext) = name.rsplit_once('.').expect("ends with .css or .js");
                let path = format!("assets/{stem}.{:08x}.{ext}", short_hash(min.as_bytes()));
                Some(Asset {
                    name,
                    path,
                    bytes: min.into_bytes(),
                })
            })
            .collect();
        Assets(assets)
    }

    /// File name → address of the minified copy, for `site.assets` in
    /// templates (`site.assets["campus.css"]`).
    pub fn urls(&self) -> serde_json::Map<String, serde_json::Value> {
        self.0
            .iter()
            .map(|a| (a.name.clone(), format!("/{}", a.path).into()))
            .collect()
    }
}

/// 32 bits of a hash of `bytes`, stable between builds and machines.
fn short_hash(bytes: &[u8]) -> u32 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish() as u32
}

/// Comments removed, whitespace collapsed to one space and dropped next to
/// `{ } ; ,` and after `:`, the last `;` of a block dropped. Strings are
/// copied as they are. (A space before `:` is kept: `a :hover` is not
/// `a:hover`; `+` and `-` keep theirs for `calc()`.)
pub fn minify_css(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut chars = css.chars().peekable();
    let mut space = false;
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
                space = true;
            }
            '"' | '\'' => {
                push_space(&mut out, &mut space);
                out.push(c);
                let mut escaped = false;
                for s in chars.by_ref() {
                    out.push(s);
                    if escaped {
                        escaped = false;
                    } else if s == '\\' {
                        escaped = true;
                    } else if s == c {
                        break;
                    }
                }
            }
            c if c.is_whitespace() => space = true,
            '{' | '}' | ';' | ',' => {
                space = false;
                if c == '}' && out.ends_with(';') {
                    out.pop();
                }
                while out.ends_with(' ') {
                    out.pop();
                }
                out.push(c);
                skip_whitespace(&mut chars);
            }
            ':' => {
                push_space(&mut out, &mut space);
                out.push(c);
                skip_whitespace(&mut chars);
            }
            c => {
                push_space(&mut out, &mut space);
                out.push(c);
            }
        }
    }
    out.trim().to_string()
}

fn skip_whitespace(chars: &mut std::iter::Peekable<std::str::Chars>) {
    while chars.peek().is_some_and(|n| n.is_whitespace()) {
        chars.next();
    }
}

fn push_space(out: &mut String, space: &mut bool) {
    let after_separator = out.is_empty() || out.ends_with(['{', '}', ';', ',', ':', ' ']);
    if *space && !after_separator {
        out.push(' ');
    }
    *space = false;
}

/// Indentation, trailing spaces, blank lines and lines that are only a
/// comment removed; every other line kept whole, line breaks included. A
/// script with a template literal or a line ending in `\` is returned
/// unchanged.
pub fn minify_js(js: &str) -> String {
    if js.contains('`') || js.lines().any(|l| l.trim_end().ends_with('\\')) {
        return js.to_string();
    }
    let mut out = String::with_capacity(js.len());
    let mut in_comment = false;
    for line in js.lines() {
        let line = line.trim();
        if in_comment {
            // A comment that began a line is skipped up to the line it ends
            // on; code after its end on that line: leave the script as it is.
            if let Some(end) = line.find("*/") {
                if end + 2 != line.len() {
                    return js.to_string();
                }
                in_comment = false;
            }
            continue;
        }
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("/*") {
            match rest.find("*/") {
                Some(end) if end + 2 == rest.len() => continue,
                // Code after the comment on the same line: keep the line.
                Some(_) => {}
                None => {
                    in_comment = true;
                    continue;
                }
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn css_loses_comments_and_needless_spaces_only() {
        let css = "/* Kopf */\n.a :hover,\n.b > .c {\n  color: red;\n  font-family: \"Open  Sans\", sans-serif;\n}\n@media (min-width: 40em) {\n  .d { margin: 0 auto; }\n}\n";
        assert_eq!(
            minify_css(css),
            ".a :hover,.b > .c{color:red;font-family:\"Open  Sans\",sans-serif}@media (min-width:40em){.d{margin:0 auto}}"
        );
        // calc() needs its spaces around + and -.
        assert_eq!(
            minify_css(".e { width: calc(100% - 2rem); }"),
            ".e{width:calc(100% - 2rem)}"
        );
        // A comment marker inside a string is text.
        assert_eq!(
            minify_css(".f::before { content: \"/* x */\"; }"),
            ".f::before{content:\"/* x */\"}"
        );
    }

    #[test]
    fn js_keeps_every_code_line_and_drops_comments_and_indentation() {
        let js = "/* Kopf\n   zweite Zeile */\n(function () {\n  // Kommentar\n  var a = 1\n  var re = /\\/*x/g; /* danach */\n\n  return a\n})();\n";
        assert_eq!(
            minify_js(js),
            "(function () {\nvar a = 1\nvar re = /\\/*x/g; /* danach */\nreturn a\n})();\n"
        );
        let template = "var t = `a\n    b`;\n";
        assert_eq!(minify_js(template), template);
    }

    #[test]
    fn names_carry_the_hash_of_the_minified_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let theme = dir.path().join("theme");
        let site = dir.path().join("site");
        std::fs::create_dir_all(theme.join("assets")).unwrap();
        std::fs::create_dir_all(site.join("assets")).unwrap();
        std::fs::write(theme.join("assets/campus.css"), "a { color: red; }").unwrap();
        std::fs::write(theme.join("assets/campus.js"), "  var a = 1;\n").unwrap();
        std::fs::write(site.join("assets/campus.js"), "  var b = 2;\n").unwrap();
        let assets = Assets::scan(&theme, &site);
        let names: Vec<&str> = assets.0.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["campus.css", "campus.js"]);
        assert_eq!(assets.0[1].bytes, b"var b = 2;\n");
        let path = &assets.0[0].path;
        assert!(crate::headers::is_fingerprinted(path), "{path}");
        assert!(path.starts_with("assets/campus.") && path.ends_with(".css"));
        std::fs::write(theme.join("assets/campus.css"), "a { color: blue; }").unwrap();
        assert_ne!(&Assets::scan(&theme, &site).0[0].path, path);
    }
}
