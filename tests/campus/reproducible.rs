//! `campus build` output is reproducible (the same input gives the same
//! bytes, calendar files included) and a build touches only what changed:
//! with nothing changed it writes no file, after an edit the output equals a
//! full build into a fresh folder.

use crate::support::*;
use campus_generator::{build_site, BuildOptions, BuildReport};
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Every file below `dir` with its bytes, by relative path.
fn files_of(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .min_depth(1)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap();
            (
                rel.to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// Inode and modification time (ns) of every file and folder below `dir`.
fn stamps_of(dir: &Path) -> BTreeMap<String, (u64, i64, i64)> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .map(|e| {
            let m = e.metadata().unwrap();
            let rel = e.path().strip_prefix(dir).unwrap();
            (
                rel.to_string_lossy().into_owned(),
                (m.ino(), m.mtime(), m.mtime_nsec()),
            )
        })
        .collect()
}

fn build_into(site: &Path, out: &Path) -> BuildReport {
    let mut o = options(site);
    o.out_dir = out.to_path_buf();
    build_site(&o).unwrap_or_else(|p| panic!("{p}"))
}

/// Paths present in only one of the two, or with different bytes.
fn differences(a: &BTreeMap<String, Vec<u8>>, b: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let paths: std::collections::BTreeSet<&String> = a
        .keys()
        .chain(b.keys())
        .filter(|p| a.get(*p) != b.get(*p))
        .collect();
    paths.into_iter().cloned().collect()
}

#[test]
fn two_builds_of_the_same_input_are_byte_identical() {
    let dir = sample();
    let outs = tempfile::tempdir().unwrap();
    let first = outs.path().join("eins");
    let second = outs.path().join("zwei");
    build_into(dir.path(), &first);
    build_into(dir.path(), &second);
    let (a, b) = (files_of(&first), files_of(&second));
    assert!(
        a.keys().filter(|p| p.ends_with(".ics")).count() > 5,
        "the sample site has calendar files: {:?}",
        a.keys().collect::<Vec<_>>()
    );
    assert_eq!(differences(&a, &b), Vec::<String>::new());
}

/// Without `--today` the calendar stamps come from the date, not the clock:
/// two builds a second apart on one day are identical.
#[test]
fn calendar_files_carry_no_clock_time() {
    let dir = sample();
    let outs = tempfile::tempdir().unwrap();
    let build = |name: &str| {
        let out = outs.path().join(name);
        let mut o = BuildOptions::new(dir.path(), &out);
        o.today = None;
        build_site(&o).unwrap_or_else(|p| panic!("{p}"));
        files_of(&out)
    };
    loop {
        let day = chrono::Local::now().date_naive();
        let a = build("eins");
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let b = build("zwei");
        if chrono::Local::now().date_naive() != day {
            continue; // midnight passed between the builds
        }
        let ics: Vec<&String> = a.keys().filter(|p| p.ends_with(".ics")).collect();
        assert!(!ics.is_empty());
        let stamp = String::from_utf8(a[ics[0]].clone()).unwrap();
        assert!(
            stamp.contains(&format!("DTSTAMP:{}T", day.format("%Y%m%d"))),
            "{stamp}"
        );
        assert_eq!(differences(&a, &b), Vec::<String>::new());
        break;
    }
}

#[test]
fn a_build_with_nothing_changed_writes_no_file() {
    let dir = sample();
    let out = dir.path().join("public");
    let first = build_into(dir.path(), &out);
    assert_eq!(first.written, first.files);
    let before = stamps_of(&out);
    let bytes = files_of(&out);
    std::thread::sleep(std::time::Duration::from_millis(20));

    let again = build_into(dir.path(), &out);
    assert_eq!(again.written, 0);
    assert_eq!(again.files, first.files);
    assert_eq!(stamps_of(&out), before, "inodes and mtimes unchanged");
    assert_eq!(differences(&files_of(&out), &bytes), Vec::<String>::new());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no staging folder left: {leftovers:?}"
    );
}

#[test]
fn an_edit_rewrites_only_changed_files_and_equals_a_full_build() {
    let dir = sample();
    let site = dir.path();
    let out = site.join("public");
    build_into(site, &out);
    // A file left over in the output is removed by the next build.
    write(&out, "veraltet/index.html", "alt");
    let before_stamps = stamps_of(&out);
    let before = files_of(&out);
    std::thread::sleep(std::time::Duration::from_millis(20));

    edit(
        site,
        "content/einheiten/ozg-grundlagen.md",
        "titel: \"OZG kompakt:",
        "titel: \"OZG ganz kompakt:",
    );
    write(
        site,
        "content/seiten/probeseite.md",
        "---\ntitel: Probeseite\nbeschreibung: Nur für diesen Test.\n---\nText.\n",
    );
    let report = build_into(site, &out);
    let after = files_of(&out);
    let fresh = tempfile::tempdir().unwrap();
    build_into(site, &fresh.path().join("public"));
    assert_eq!(
        differences(&after, &files_of(&fresh.path().join("public"))),
        Vec::<String>::new(),
        "updated output equals a full build"
    );
    assert!(after.contains_key("probeseite/index.html"));
    assert!(!after.contains_key("veraltet/index.html"));
    assert!(!out.join("veraltet").exists());

    let changed: Vec<String> = differences(&before, &after)
        .into_iter()
        .filter(|p| after.contains_key(p))
        .collect();
    assert!(changed.contains(&"lerneinheiten/ozg-grundlagen/index.html".to_string()));
    assert!(changed.len() < after.len() / 2, "{changed:?}");
    assert_eq!(report.written, changed.len(), "{changed:?}");
    let after_stamps = stamps_of(&out);
    for (path, bytes) in &after {
        if before.get(path) == Some(bytes) {
            assert_eq!(
                after_stamps[path], before_stamps[path],
                "{path} unchanged but rewritten"
            );
        }
    }

    // Removing the page removes its output; a failed build touches nothing.
    std::fs::remove_file(site.join("content/seiten/probeseite.md")).unwrap();
    build_into(site, &out);
    assert!(!out.join("probeseite").exists());
    let good = stamps_of(&out);
    edit(
        site,
        "content/einheiten/ozg-grundlagen.md",
        "titel: \"OZG ganz kompakt:",
        "titel \"OZG kompakt:",
    );
    assert!(build_site(&options(site)).is_err());
    assert_eq!(stamps_of(&out), good, "a failed build leaves the output");
}
