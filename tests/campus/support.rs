use campus_generator::{build_site, check_site, BuildOptions, BuildReport, Problems, Site};
use chrono::NaiveDate;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fixed "today" before every sample date, so output does not age.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
}

pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from).min_depth(1) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of a fixture site (with the default theme) in a temporary folder.
pub fn fixture(name: &str) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo_root().join("tests/fixtures").join(name), dir.path());
    copy_dir(&repo_root().join("themes"), &dir.path().join("themes"));
    dir
}

/// The minimal fixture with the files of `tests/fixtures/broken/<name>`
/// laid over it: one class of mistake per folder.
pub fn broken(name: &str) -> TempDir {
    let dir = fixture("minimal");
    copy_dir(
        &repo_root().join("tests/fixtures/broken").join(name),
        dir.path(),
    );
    dir
}

/// A copy of the repository's sample site in a temporary folder.
pub fn sample() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = repo_root();
    for sub in ["content", "data", "static", "themes"] {
        copy_dir(&root.join(sub), &dir.path().join(sub));
    }
    std::fs::copy(root.join("campus.toml"), dir.path().join("campus.toml")).unwrap();
    dir
}

pub fn options(site: &Path) -> BuildOptions {
    let mut o = BuildOptions::new(site, site.join("public"));
    o.today = Some(today());
    o
}

pub fn build(site: &Path) -> Result<BuildReport, Problems> {
    build_site(&options(site))
}

pub fn load(site: &Path) -> Site {
    check_site(&options(site))
        .unwrap_or_else(|p| panic!("site has problems:\n{p}"))
        .0
}

pub fn write(site: &Path, rel: &str, text: &str) {
    let path = site.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

pub fn read(site: &Path, rel: &str) -> String {
    std::fs::read_to_string(site.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Replaces `from` by `to` in a file, failing loudly when `from` is absent.
pub fn edit(site: &Path, rel: &str, from: &str, to: &str) {
    let text = read(site, rel);
    assert!(text.contains(from), "{rel} does not contain {from:?}");
    write(site, rel, &text.replacen(from, to, 1));
}

pub fn html(site: &Path, rel: &str) -> scraper::Html {
    scraper::Html::parse_document(&read(&site.join("public"), rel))
}

pub fn select<'a>(doc: &'a scraper::Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    doc.select(&scraper::Selector::parse(css).unwrap())
        .collect()
}

pub fn text(el: &scraper::ElementRef) -> String {
    el.text()
        .collect::<Vec<_>>()
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
