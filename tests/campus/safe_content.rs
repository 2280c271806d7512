//! Content that cannot hurt visitors: script-capable URLs, raw HTML, media
//! from other servers, links that lead nowhere and an output folder that
//! would destroy sources. Each class has a broken fixture site.

use crate::support::*;
use campus_generator::error::LinkTarget;
use campus_generator::{Problem, ProblemKind};
use std::path::Path;

fn problems(site: &Path) -> Vec<Problem> {
    match build(site) {
        Ok(_) => panic!("build should fail"),
        Err(p) => p.0,
    }
}

/// (line, column, kind) of every problem, all in `file`.
fn located(all: &[Problem], file: &str) -> Vec<(u64, u64, ProblemKind)> {
    for p in all {
        assert_eq!(p.file, Path::new(file), "{p}");
    }
    all.iter()
        .map(|p| (p.line.unwrap(), p.column.unwrap(), p.kind.clone()))
        .collect()
}

#[test]
fn script_urls_raw_html_and_foreign_media_are_refused_at_their_place() {
    let site = broken("unsichere-inhalte");
    let all = problems(site.path());
    let unsafe_url = |url: &str| ProblemKind::UnsafeUrl { url: url.into() };
    assert_eq!(
        located(&all, "content/seiten/hinweise.md"),
        [
            (4, 1, unsafe_url("javascript:alert(1)")),
            // Entities are decoded before the scheme is read.
            (5, 1, unsafe_url("java\tscript:alert(document.cookie)")),
            (6, 1, unsafe_url("JavaScript:alert(1)")),
            (
                7,
                1,
                unsafe_url("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==")
            ),
            (
                9,
                1,
                ProblemKind::ForeignMedia {
                    url: "https://tracker.example/pixel.gif".into()
                }
            ),
            // One error per tag, not one for the opening and one for the closing tag.
            (11, 5, ProblemKind::RawHtml { tag: "b".into() }),
            (
                11,
                28,
                ProblemKind::RawHtml {
                    tag: "iframe".into()
                }
            ),
            (
                13,
                1,
                ProblemKind::RelativeLink {
                    url: "kurse/".into()
                }
            ),
        ]
    );
    let text = all
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        text.contains("Datenschutz") && text.contains("BITV"),
        "{text}"
    );
    assert!(text.contains("[Video beim Anbieter ansehen]"), "{text}");
}

#[test]
fn an_authority_logo_from_another_server_is_refused() {
    let site = fixture("minimal");
    edit(
        site.path(),
        "content/kommunen/mitgliedsstadt.md",
        "logo: /bilder/logo.svg",
        "logo: https://cdn.example/wappen.svg",
    );
    let all = problems(site.path());
    assert_eq!(
        located(&all, "content/kommunen/mitgliedsstadt.md"),
        [(
            6,
            7,
            ProblemKind::ForeignMedia {
                url: "https://cdn.example/wappen.svg".into()
            }
        )]
    );
}

#[test]
fn plain_http_links_are_a_warning_and_published() {
    let site = broken("unsichere-inhalte");
    write(
        site.path(),
        "content/seiten/hinweise.md",
        "---\ntitel: Hinweise\n---\nSiehe [Alt](http://example.org/).\n",
    );
    let report = build(site.path()).unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(report.warnings.len(), 1, "{:#?}", report.warnings);
    let w = &report.warnings[0];
    assert_eq!(
        w.kind,
        ProblemKind::InsecureLink {
            url: "http://example.org/".into()
        }
    );
    assert_eq!((w.line, w.column), (Some(4), Some(7)));
    assert!(w.to_string().contains("Warnung:"), "{w}");
    assert!(
        read(site.path(), "public/hinweise/index.html").contains("href=\"http://example.org/\"")
    );
}

#[test]
fn links_inside_the_site_must_lead_somewhere() {
    let site = broken("tote-links");
    let all = problems(site.path());
    let broken = |url: &str, missing, suggestion: Option<&str>| ProblemKind::BrokenLink {
        url: url.into(),
        missing,
        suggestion: suggestion.map(str::to_string),
    };
    assert_eq!(
        located(&all, "content/seiten/hinweise.md"),
        [
            (
                6,
                1,
                broken(
                    "/kurse/testkurz/",
                    LinkTarget::Page,
                    Some("/kurse/testkurs/")
                )
            ),
            (7, 1, broken("/kurse", LinkTarget::Page, Some("/kurse/"))),
            (
                8,
                1,
                broken(
                    "/lerneinheiten/hybrid-eins/#inhaltee",
                    LinkTarget::Anchor,
                    Some("#inhalte")
                )
            ),
            (
                9,
                1,
                broken(
                    "/bilder/logoo.svg",
                    LinkTarget::File,
                    Some("/bilder/logo.svg")
                )
            ),
            (
                10,
                1,
                broken("#uebersich", LinkTarget::Anchor, Some("#uebersicht"))
            ),
        ]
    );
    // `campus check` finds the same without writing anything.
    let checked = campus_generator::check_site(&options(site.path())).unwrap_err();
    assert_eq!(checked.len(), all.len());
}

/// Every URL in an attribute of the built site: (file, attribute, value).
fn attribute_urls(public: &Path) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(public) {
        let entry = entry.unwrap();
        let name = entry.path().to_string_lossy().into_owned();
        if !name.ends_with(".html") {
            continue;
        }
        let doc = scraper::Html::parse_document(&std::fs::read_to_string(entry.path()).unwrap());
        for el in select(&doc, "*") {
            for (attr, value) in el.value().attrs() {
                if [
                    "href",
                    "src",
                    "srcset",
                    "poster",
                    "action",
                    "data",
                    "formaction",
                ]
                .contains(&attr)
                {
                    out.push((
                        format!("{name} <{}>", el.value().name()),
                        attr.to_string(),
                        value.to_string(),
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn built_site_has_no_script_url_and_loads_nothing_from_elsewhere() {
    let site = fixture("minimal");
    // Everything an editor may write about other sites.
    write(
        site.path(),
        "content/seiten/links.md",
        "---\ntitel: Links\n---\n[Bund](https://www.bund.de/) [Post](mailto:info@example.org) \
         [Telefon](tel:+4962210000) [Alt](http://example.org/) <https://example.org/auto>\n\n\
         ![Logo](/bilder/logo.svg)\n",
    );
    build(site.path()).unwrap_or_else(|p| panic!("{p}"));
    let urls = attribute_urls(&site.path().join("public"));
    assert!(urls.len() > 100, "{} URLs", urls.len());
    for (file, attr, value) in &urls {
        let v: String = value
            .chars()
            .filter(|c| !c.is_whitespace() && !c.is_control())
            .collect::<String>()
            .to_ascii_lowercase();
        for scheme in ["javascript:", "vbscript:", "data:", "file:"] {
            assert!(!v.starts_with(scheme), "{file} {attr}={value}");
        }
        // Only links (<a>, and the form targets of the site's own backend)
        // may name another server; nothing the browser loads by itself.
        let other_origin = v.starts_with("http:") || v.starts_with("https:") || v.starts_with("//");
        if other_origin {
            let is_link = file.ends_with("<a>") || file.ends_with("<form>");
            let canonical = file.ends_with("<link>") && attr == "href";
            assert!(is_link || canonical, "{file} {attr}={value}");
        }
    }
    for entry in walkdir::WalkDir::new(site.path().join("public")) {
        let entry = entry.unwrap();
        if entry.path().extension().is_some_and(|e| e == "css") {
            let css = std::fs::read_to_string(entry.path()).unwrap();
            assert!(
                !css.contains("url(http") && !css.contains("@import"),
                "{:?}",
                entry.path()
            );
        }
    }
}

#[test]
fn hostile_content_keeps_the_previous_output() {
    let site = fixture("minimal");
    build(site.path()).unwrap_or_else(|p| panic!("{p}"));
    let before = read(site.path(), "public/impressum/index.html");
    copy_dir(
        &repo_root().join("tests/fixtures/broken/unsichere-inhalte"),
        site.path(),
    );
    assert!(!problems(site.path()).is_empty());
    copy_dir(
        &repo_root().join("tests/fixtures/broken/tote-links"),
        site.path(),
    );
    assert!(!problems(site.path()).is_empty());
    assert_eq!(read(site.path(), "public/impressum/index.html"), before);
    assert!(!site.path().join("public/hinweise").exists());
    let leftovers: Vec<_> = std::fs::read_dir(site.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".public"))
        .collect();
    assert!(leftovers.is_empty(), "staging folders left behind");
}

// ---------------------------------------------------------------- --out

fn build_into(site: &Path, out: &Path) -> Result<(), Problem> {
    let mut o = options(site);
    o.out_dir = out.to_path_buf();
    campus_generator::build_site(&o)
        .map(|_| ())
        .map_err(|mut p| {
            assert_eq!(p.len(), 1, "{p}");
            p.0.remove(0)
        })
}

fn refused(site: &Path, out: &Path) -> String {
    match build_into(site, out) {
        Ok(()) => panic!("{} should be refused", out.display()),
        Err(p) => {
            assert!(matches!(p.kind, ProblemKind::UnsafeOutDir { .. }), "{p}");
            p.to_string()
        }
    }
}

#[test]
fn out_never_replaces_sources_or_foreign_files() {
    let site = fixture("minimal");
    let root = site.path();
    let topic = read(root, "content/themen/testthema.md");
    assert!(refused(root, root).contains("Ordner der Website selbst"));
    assert!(refused(root, &root.join(".")).contains("Ordner der Website selbst"));
    assert!(refused(root, &root.join("content")).contains("content/"));
    assert!(refused(root, &root.join("content/themen")).contains("content/"));
    assert!(refused(root, &root.join("static/bilder/neu")).contains("static/"));
    assert!(refused(root, &root.join("data/../themes")).contains("themes/"));
    assert!(refused(root, &root.join("templates/x")).contains("templates/"));
    assert!(refused(root, root.parent().unwrap()).contains("enthält den Ordner der Website"));
    assert_eq!(read(root, "content/themen/testthema.md"), topic);
    assert!(!root.join("static/bilder/neu").exists());

    // A folder with someone else's files is left alone.
    let foreign = tempfile::tempdir().unwrap();
    write(foreign.path(), "bericht.docx", "wichtig");
    assert!(refused(root, foreign.path()).contains(".campus-build"));
    assert_eq!(read(foreign.path(), "bericht.docx"), "wichtig");

    // An empty folder, and again the folder the build made.
    let out = tempfile::tempdir().unwrap();
    build_into(root, out.path()).unwrap_or_else(|p| panic!("{p}"));
    assert!(out.path().join(".campus-build").is_file());
    build_into(root, out.path()).unwrap_or_else(|p| panic!("{p}"));
    assert!(out.path().join("index.html").is_file());
}

#[test]
fn the_default_public_folder_of_a_build_before_markers_is_replaced() {
    let site = fixture("minimal");
    let root = site.path();
    let public = root.join("public");
    for f in ["index.html", "sitemap.xml", "robots.txt", "alt/index.html"] {
        write(&public, f, "alt");
    }
    build_into(root, &public).unwrap_or_else(|p| panic!("{p}"));
    assert!(public.join(".campus-build").is_file());
    assert!(!public.join("alt").exists());
    // The same files in another folder are not taken for a build's.
    let other = tempfile::tempdir().unwrap();
    for f in ["index.html", "sitemap.xml", "robots.txt"] {
        write(other.path(), f, "fremd");
    }
    assert!(refused(root, other.path()).contains(".campus-build"));
    assert_eq!(read(other.path(), "index.html"), "fremd");
}

#[test]
fn cli_build_refuses_the_content_folder() {
    let site = fixture("minimal");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_campus"))
        .args([
            "--site",
            site.path().to_str().unwrap(),
            "build",
            "--out",
            site.path().join("content").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("In diesen Ordner wird nicht gebaut"),
        "{stderr}"
    );
    assert!(site.path().join("content/start.md").is_file());
}

#[test]
fn svg_with_script_handler_font_and_foreign_picture_is_refused() {
    let site = broken("unsicheres-svg");
    let all = problems(site.path());
    let found: Vec<(u64, &str)> = located(&all, "static/bilder/logo.svg")
        .into_iter()
        .map(|(line, _, kind)| match kind {
            ProblemKind::UnsafeSvg { found } => (line, found),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        found,
        [
            (1, "einen Ereignis-Handler (Attribut „on…=“, z. B. onload)"),
            (3, "ein Skript („<script>“)"),
            (4, "eine eingebettete oder fremde Schrift („@font-face“)"),
            (
                4,
                "einen Verweis auf eine andere Datei oder einen fremden Server (href, src oder url(…) ohne „#“)"
            ),
        ]
    );
    assert!(
        all[0].to_string().starts_with("static/bilder/logo.svg:1:"),
        "{}",
        all[0]
    );
    assert!(all[0].to_string().contains("Entfernen Sie"), "{}", all[0]);
}
