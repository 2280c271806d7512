//! `campus serve` rebuilds only what an edit affects; the result must be
//! byte-identical to a full build after every step of a sequence of edits.

use crate::support::*;
use campus_generator::incremental::{LiveBuild, RebuildReport};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn full_build(site: &Path) -> BTreeMap<String, Vec<u8>> {
    let (_, outputs) =
        campus_generator::check_site(&options(site)).unwrap_or_else(|p| panic!("{p}"));
    outputs.into_iter().map(|o| (o.path, o.bytes)).collect()
}

/// Compares the outputs as the rebuild left them (raw where rendered again),
/// then again after compressing them as `campus serve` does in the
/// background: the next step's rebuild then compares with compressed outputs.
fn assert_same_as_full(live: &mut LiveBuild, site: &Path, step: &str) {
    let full = full_build(site);
    assert_outputs_are(live, &full, step);
    live.compress_outputs();
    assert!(
        live.outputs().values().all(|k| !k.may_shrink()),
        "after {step}: outputs left raw"
    );
    assert_outputs_are(live, &full, &format!("{step}, compressed"));
}

fn assert_outputs_are(live: &LiveBuild, full: &BTreeMap<String, Vec<u8>>, step: &str) {
    let inc: BTreeMap<String, Vec<u8>> = live
        .outputs()
        .iter()
        .map(|(k, v)| (k.clone(), v.bytes().into_owned()))
        .collect();
    let missing: Vec<&String> = full.keys().filter(|k| !inc.contains_key(*k)).collect();
    let extra: Vec<&String> = inc.keys().filter(|k| !full.contains_key(*k)).collect();
    let differing: Vec<&String> = full
        .keys()
        .filter(|k| inc.get(*k).is_some_and(|v| v != &full[*k]))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty() && differing.is_empty(),
        "after {step}: missing {missing:?}, extra {extra:?}, stale {differing:?}"
    );
}

fn rebuild(live: &mut LiveBuild, site: &Path, changed: &[&str]) -> RebuildReport {
    let paths: Vec<PathBuf> = changed.iter().map(|c| site.join(c)).collect();
    live.rebuild(&paths).unwrap_or_else(|p| panic!("{p}"))
}

#[test]
fn incremental_equals_full_over_a_sequence_of_edits() {
    edit_sequence(false);
}

/// As `campus serve` runs it: the watcher reports every change, so the
/// loader trusts its cache for files not reported.
#[test]
fn incremental_equals_full_when_the_watcher_reports_changes() {
    edit_sequence(true);
}

fn edit_sequence(watched: bool) {
    let dir = sample();
    let site = dir.path();
    let mut live = LiveBuild::new(options(site));
    live.set_watched(watched);
    let first = live.rebuild(&[]).unwrap_or_else(|p| panic!("{p}"));
    assert!(first.rendered > 50);
    assert_same_as_full(&mut live, site, "the first build");

    // A unit title shows on its page, the catalog, its topics, its courses
    // and every authority that selected it.
    edit(
        site,
        "content/einheiten/ozg-grundlagen.md",
        "titel: \"OZG kompakt:",
        "titel: \"OZG ganz kompakt:",
    );
    let r = rebuild(&mut live, site, &["content/einheiten/ozg-grundlagen.md"]);
    for page in [
        "lerneinheiten/ozg-grundlagen/index.html",
        "lerneinheiten/index.html",
        "themen/ozg/index.html",
        "kurse/digitale-verwaltung-gestalten/index.html",
        "kommunen/ahornfeld/index.html",
        "kommunen/rebenau/index.html",
    ] {
        assert!(
            r.changed.iter().any(|c| c == page),
            "{page} not re-rendered: {:?}",
            r.changed
        );
    }
    assert!(
        !r.changed
            .iter()
            .any(|c| c == "kommunen/quellental/index.html"),
        "unrelated page re-written"
    );
    assert!(
        r.rendered < first.rendered / 2,
        "rendered {} of {}",
        r.rendered,
        first.rendered
    );
    assert_same_as_full(&mut live, site, "a unit title edit");

    // A welcome text concerns one page only.
    edit(
        site,
        "content/kommunen/quellental.md",
        "\n---\n",
        "\n---\nNeu: ein Satz zur Begrüßung.\n\n",
    );
    let r = rebuild(&mut live, site, &["content/kommunen/quellental.md"]);
    let pages: Vec<&String> = r.changed.iter().filter(|c| c.ends_with(".html")).collect();
    assert_eq!(pages, ["kommunen/quellental/index.html"]);
    assert_eq!(r.rendered, 1 + count_singles_changed(&r));
    assert_same_as_full(&mut live, site, "a welcome text edit");

    // Edits of one existing file of each kind (applied to the last site
    // without re-linking the rest) reach every page that shows them.
    let single_file_edits: [(&str, &str, &str, &[&str]); 7] = [
        (
            "content/faq/warteliste.md",
            "frage: Was bedeutet es, wenn ich auf der Warteliste stehe?",
            "frage: Was heißt es, auf der Warteliste zu stehen?",
            &["faq/index.html"],
        ),
        (
            "content/kurse/smart-region-gestalten.md",
            "titel: Smart Region gestalten",
            "titel: Smarte Region gestalten",
            &[
                "kurse/smart-region-gestalten/index.html",
                "kurse/index.html",
                "lerneinheiten/smart-city-einfuehrung/index.html",
            ],
        ),
        (
            "content/dozierende/jens-kuehn.md",
            "name: Jens Kühn",
            "name: Jens A. Kühn",
            &[
                "dozierende/jens-kuehn/index.html",
                "lerneinheiten/e-akte-grundlagen/index.html",
            ],
        ),
        (
            "content/seiten/datenschutz.md",
            "Der Schutz Ihrer Daten ist uns wichtig.",
            "Der Schutz Ihrer Daten ist uns sehr wichtig.",
            &["datenschutz/index.html"],
        ),
        (
            "content/kommunen/rebenau.md",
            "name: Gemeinde Rebenau",
            "name: Gemeinde Rebenau an der Aue",
            &["kommunen/index.html", "kommunen/rebenau/index.html"],
        ),
        (
            "content/einheiten/isms-aufbauen.md",
            "    vergeben: 11",
            "    vergeben: 19",
            &["lerneinheiten/isms-aufbauen/index.html"],
        ),
        (
            "content/einheiten/isms-aufbauen.md",
            "voraussetzungen: [informationssicherheit-im-arbeitsalltag]",
            "voraussetzungen: []",
            // Prerequisites only change self-check answers (not a page).
            &[],
        ),
    ];
    for (file, from, to, pages) in single_file_edits {
        edit(site, file, from, to);
        let r = rebuild(&mut live, site, &[file]);
        for page in pages {
            assert!(
                r.changed.iter().any(|c| c == page),
                "{page} not re-rendered after editing {file}: {:?}",
                r.changed
            );
        }
        assert_same_as_full(&mut live, site, &format!("editing {file}"));
    }

    // A unit pointing at a topic that does not exist: the problem is
    // reported with file and line; fixing it recovers.
    let unit = "content/einheiten/isms-aufbauen.md";
    edit(
        site,
        unit,
        "themen: [informationssicherheit,",
        "themen: [infosicherheit,",
    );
    let problems = live
        .rebuild(&[site.join(unit)])
        .expect_err("an unknown topic fails the rebuild");
    assert_eq!(problems.0.len(), 1, "{problems}");
    assert!(problems.0[0].file.ends_with("isms-aufbauen.md"));
    assert_eq!(problems.0[0].line, Some(6));
    edit(
        site,
        unit,
        "themen: [infosicherheit,",
        "themen: [informationssicherheit,",
    );
    rebuild(&mut live, site, &[unit]);
    assert_same_as_full(&mut live, site, "fixing an unknown topic");

    // A new unit appears, then disappears again.
    let new_unit = "content/einheiten/neue-einheit.md";
    write(
        site,
        new_unit,
        &read(site, "content/einheiten/ozg-grundlagen.md")
            .replace("OZG ganz kompakt", "Ganz neue Einheit"),
    );
    let r = rebuild(&mut live, site, &[new_unit]);
    assert!(r
        .changed
        .iter()
        .any(|c| c == "lerneinheiten/neue-einheit/index.html"));
    assert_same_as_full(&mut live, site, "adding a unit");
    std::fs::remove_file(site.join(new_unit)).unwrap();
    let r = rebuild(&mut live, site, &[new_unit]);
    assert!(r
        .removed
        .iter()
        .any(|c| c == "lerneinheiten/neue-einheit/index.html"));
    assert_same_as_full(&mut live, site, "deleting a unit");

    // A template change re-renders the pages that use it.
    edit(
        site,
        "themes/default/templates/course.html",
        "{% block content %}",
        "{% block content %}<p>Kursseite</p>",
    );
    let r = rebuild(&mut live, site, &["themes/default/templates/course.html"]);
    assert!(
        r.changed
            .iter()
            .all(|c| c.starts_with("kurse/") && c != "kurse/index.html"),
        "{:?}",
        r.changed
    );
    assert_same_as_full(&mut live, site, "a template edit");

    // A component change re-renders the pages whose templates call a
    // component of its file, not all pages (the FAQ calls none).
    edit(
        site,
        "themes/default/templates/macros.html",
        "<p class=\"karte-fuss\">",
        "<p class=\"karte-fuss\">Thema: ",
    );
    let r = rebuild(&mut live, site, &["themes/default/templates/macros.html"]);
    let mut changed = r.changed.clone();
    changed.sort();
    assert_eq!(changed, ["index.html", "themen/index.html"]);
    assert!(
        r.rendered > 10 && r.rendered < first.rendered,
        "{}",
        r.rendered
    );
    assert_same_as_full(&mut live, site, "a component edit");

    // Prices come from data: every page showing a price follows.
    edit(site, "data/niveaus.yaml", "preis: 199", "preis: 189");
    let r = rebuild(&mut live, site, &["data/niveaus.yaml"]);
    assert!(r.changed.len() > 10);
    assert_same_as_full(&mut live, site, "a price change");

    // A topic title shows on the unit cards of its units.
    edit(
        site,
        "content/themen/ozg.md",
        "titel: Onlinezugangsgesetz (OZG)",
        "titel: Onlinezugangsgesetz",
    );
    rebuild(&mut live, site, &["content/themen/ozg.md"]);
    assert_same_as_full(&mut live, site, "a topic title edit");

    // A broken file keeps the last good output; the next good save recovers.
    let before = live.outputs().clone();
    edit(
        site,
        "content/kommunen/quellental.md",
        "mitglied: true",
        "mitglied: vielleicht",
    );
    assert!(live
        .rebuild(&[site.join("content/kommunen/quellental.md")])
        .is_err());
    assert_eq!(live.outputs().len(), before.len());
    assert!(
        live.outputs()
            .iter()
            .all(|(k, v)| before.get(k).is_some_and(|b| Arc::ptr_eq(b, v))),
        "outputs changed by a failed build"
    );
    edit(
        site,
        "content/kommunen/quellental.md",
        "mitglied: vielleicht",
        "mitglied: false",
    );
    rebuild(&mut live, site, &["content/kommunen/quellental.md"]);
    assert_same_as_full(&mut live, site, "recovering from a broken file");

    // The site name is in the global context of every page.
    edit(
        site,
        "campus.toml",
        "name = \"KommunalCampus\"",
        "name = \"Kommunal-Campus\"",
    );
    rebuild(&mut live, site, &["campus.toml"]);
    assert_same_as_full(&mut live, site, "a config edit");
}

/// Site-wide pages whose context holds the edited item (none for a welcome text).
fn count_singles_changed(r: &RebuildReport) -> usize {
    r.changed
        .iter()
        .filter(|c| c.ends_with(".html") && !c.starts_with("kommunen/quellental/"))
        .count()
}

/// An edit of existing files is applied to the last site: the other items
/// stay the very same objects (nothing re-read or re-linked). Anything that
/// can change other files' links goes the long way.
#[test]
fn edits_of_existing_files_patch_the_last_site() {
    use campus_generator::content::Loader;
    use campus_generator::model;
    use std::sync::Arc;

    let dir = sample();
    let site = dir.path();
    let loader = Loader::default();
    let prev = model::load_with(site, &loader).unwrap_or_else(|p| panic!("{p}"));
    let unit = "content/einheiten/ozg-grundlagen.md";
    let i = prev.unit_index("ozg-grundlagen").unwrap();
    edit(
        site,
        unit,
        "titel: \"OZG kompakt:",
        "titel: \"OZG ganz kompakt:",
    );
    let patched = model::patch(&prev, &[site.join(unit)], &loader)
        .expect("a unit edit is patched")
        .unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(patched.units, [i]);
    assert!(patched.site.units[i].title.starts_with("OZG ganz kompakt:"));
    for (j, (a, b)) in prev.units.iter().zip(&patched.site.units).enumerate() {
        assert_eq!(Arc::ptr_eq(a, b), j != i, "unit {j}");
    }
    assert!(prev
        .authorities
        .iter()
        .zip(&patched.site.authorities)
        .all(|(a, b)| Arc::ptr_eq(a, b)));

    // A broken reference is reported like a full load reports it.
    edit(site, unit, "themen: [", "themen: [gibt-es-nicht, ");
    let problems = model::patch(&prev, &[site.join(unit)], &loader)
        .expect("still an edit of an existing file")
        .expect_err("unknown topic");
    let full = model::load_with(site, &Loader::default()).expect_err("unknown topic");
    assert_eq!(problems.to_string(), full.to_string());
    edit(site, unit, "themen: [gibt-es-nicht, ", "themen: [");

    // New, deleted and topic files, and new prerequisites, need a full load.
    write(site, "content/einheiten/neu.md", &read(site, unit));
    assert!(model::patch(&prev, &[site.join("content/einheiten/neu.md")], &loader).is_none());
    assert!(model::patch(&prev, &[site.join("content/einheiten/fehlt.md")], &loader).is_none());
    assert!(model::patch(&prev, &[site.join("content/themen/ozg.md")], &loader).is_none());
    assert!(model::patch(&prev, &[site.join("data/niveaus.yaml")], &loader).is_none());
    let with_prerequisite = "content/einheiten/isms-aufbauen.md";
    edit(
        site,
        with_prerequisite,
        "voraussetzungen: [informationssicherheit-im-arbeitsalltag]",
        "voraussetzungen: [datenschutz-grundlagen]",
    );
    assert!(model::patch(&prev, &[site.join(with_prerequisite)], &loader).is_none());

    // Editor temp files next to the content change nothing.
    let patched = model::patch(
        &prev,
        &[
            site.join("content/einheiten/.ozg-grundlagen.md.swp"),
            site.join("content/einheiten/4913"),
        ],
        &loader,
    )
    .expect("temp files are not content")
    .unwrap_or_else(|p| panic!("{p}"));
    assert!(patched.units.is_empty());
}

#[test]
fn an_edit_with_a_script_link_fails_the_rebuild_at_its_place() {
    let dir = fixture("minimal");
    let site = dir.path();
    let mut live = LiveBuild::new(options(site));
    live.set_watched(true);
    live.rebuild(&[]).unwrap_or_else(|p| panic!("{p}"));
    edit(
        site,
        "content/einheiten/hybrid-eins.md",
        "Beschreibung.",
        "Beschreibung mit [Link](JAVASCRIPT:alert(1)).",
    );
    let problems = live
        .rebuild(&[site.join("content/einheiten/hybrid-eins.md")])
        .expect_err("the edit must fail the rebuild");
    let p = &problems.0[0];
    assert_eq!(problems.len(), 1, "{problems}");
    assert_eq!(p.file, Path::new("content/einheiten/hybrid-eins.md"));
    assert_eq!((p.line, p.column), (Some(20), Some(18)));
    assert_eq!(
        p.kind,
        campus_generator::ProblemKind::UnsafeUrl {
            url: "JAVASCRIPT:alert(1)".into()
        }
    );
    // Fixed again, the rebuild succeeds.
    edit(
        site,
        "content/einheiten/hybrid-eins.md",
        "[Link](JAVASCRIPT:alert(1))",
        "[Link](/kurse/)",
    );
    live.rebuild(&[site.join("content/einheiten/hybrid-eins.md")])
        .unwrap_or_else(|p| panic!("{p}"));
}

// `campus build` keeps what its last build was made of in `.campus-cache/`:
// the next build does only what changed, and its output is byte for byte
// what a full build into an empty folder makes.

fn cached_options(site: &Path) -> campus_generator::BuildOptions {
    let mut o = options(site);
    o.cache_dir = Some(site.join(".campus-cache"));
    o
}

fn cached_build(site: &Path) -> campus_generator::BuildReport {
    campus_generator::build_site(&cached_options(site)).unwrap_or_else(|p| panic!("{p}"))
}

fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(Result::unwrap)
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

/// The built `public/` equals a full build (no cache) into an empty folder.
fn assert_same_as_fresh_build(site: &Path, step: &str) {
    let fresh = tempfile::tempdir().unwrap();
    let mut o = options(site);
    o.out_dir = fresh.path().join("out");
    campus_generator::build_site(&o).unwrap_or_else(|p| panic!("{p}"));
    let (built, full) = (tree(&site.join("public")), tree(&o.out_dir));
    let missing: Vec<&String> = full.keys().filter(|k| !built.contains_key(*k)).collect();
    let extra: Vec<&String> = built.keys().filter(|k| !full.contains_key(*k)).collect();
    let differing: Vec<&String> = full
        .keys()
        .filter(|k| built.get(*k).is_some_and(|v| v != &full[*k]))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty() && differing.is_empty(),
        "after {step}: missing {missing:?}, extra {extra:?}, stale {differing:?}"
    );
}

fn modified(path: &Path) -> std::time::SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

#[test]
fn a_build_with_nothing_changed_renders_and_writes_nothing() {
    let dir = sample();
    let site = dir.path();
    // Files written this close to a build count as changed (the file
    // system's clock may not tell a second write apart).
    std::thread::sleep(std::time::Duration::from_millis(100));
    let first = cached_build(site);
    assert_eq!(first.pages_rendered, first.pages);
    assert!(first.pages > 50);
    let page = site.join("public/lerneinheiten/ozg-grundlagen/index.html");
    let before = modified(&page);

    let again = cached_build(site);
    assert_eq!(
        (again.pages_rendered, again.written),
        (0, 0),
        "a build with nothing changed rendered or wrote files"
    );
    assert_eq!((again.pages, again.files), (first.pages, first.files));
    assert_eq!(modified(&page), before);
    assert_same_as_fresh_build(site, "a build with nothing changed");

    // A page removed from the output by hand comes back.
    std::fs::remove_file(&page).unwrap();
    let r = cached_build(site);
    assert_eq!((r.pages_rendered, r.written), (1, 1));
    assert_same_as_fresh_build(site, "a page deleted from the output");

    // A deleted cache costs the shortcut, nothing else.
    std::fs::remove_dir_all(site.join(".campus-cache")).unwrap();
    let r = cached_build(site);
    assert_eq!((r.pages_rendered, r.written), (r.pages, 0));
}

#[test]
fn a_build_after_edits_renders_only_dependent_pages_and_equals_a_full_build() {
    let dir = sample();
    let site = dir.path();
    std::thread::sleep(std::time::Duration::from_millis(100));
    let first = cached_build(site);
    // The search index's tokens are kept beside the record, one entry per
    // document of the index.
    let kept: Vec<_> = std::fs::read_dir(site.join(".campus-cache/bau"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "suche"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    // After a first line naming the binary that tokenised.
    let bytes = std::fs::read(&kept[0]).unwrap();
    let header = bytes.iter().position(|b| *b == b'\n').unwrap();
    let tokens = campus_generator::search::IndexCache::from_bytes(&bytes[header + 1..])
        .expect("the tokens file reads back");
    let index: serde_json::Value =
        serde_json::from_str(&read(site, "public/suche/index.json")).unwrap();
    assert_eq!(tokens.documents(), index["docs"].as_array().unwrap().len());
    // So is the parsed front matter, which the builds below read back.
    let front_matter = kept[0].with_extension("vorspann");
    let bytes = std::fs::read(&front_matter).unwrap();
    assert!(
        bytes.starts_with(b"campus-vorspann-2\n"),
        "{front_matter:?}"
    );

    // A unit title shows on its page, the catalogs, its topics, its courses
    // and the authorities that selected it, not on the others.
    edit(
        site,
        "content/einheiten/ozg-grundlagen.md",
        "titel: \"OZG kompakt:",
        "titel: \"OZG ganz kompakt:",
    );
    let quellental = site.join("public/kommunen/quellental/index.html");
    let untouched = modified(&quellental);
    let r = cached_build(site);
    assert!(
        r.pages_rendered > 5 && r.pages_rendered < first.pages / 2,
        "rendered {} of {}",
        r.pages_rendered,
        first.pages
    );
    assert_eq!(modified(&quellental), untouched);
    assert_same_as_fresh_build(site, "a unit title edit");

    // A welcome text concerns its own page only (and the derived search
    // pages, made on every build that changed content).
    edit(
        site,
        "content/kommunen/quellental.md",
        "\n---\n",
        "\n---\nNeu: ein Satz zur Begrüßung.\n\n",
    );
    let r = cached_build(site);
    assert!(r.pages_rendered < 10, "rendered {}", r.pages_rendered);
    assert_ne!(modified(&quellental), untouched);
    assert_same_as_fresh_build(site, "a welcome text edit");

    // Two saves of the same length, each built at once: the file system's
    // clock cannot vouch for either, and the second must still be seen.
    for (from, to) in [("Satz zur", "Wort zur"), ("Wort zur", "Bild zur")] {
        edit(site, "content/kommunen/quellental.md", from, to);
        cached_build(site);
    }
    assert!(read(site, "public/kommunen/quellental/index.html").contains("Bild zur"));
    assert_same_as_fresh_build(site, "two quick saves of the same length");

    // A deleted file, a renamed one (a new slug), a changed template and a
    // changed data file each render every page again.
    std::fs::remove_file(site.join("content/faq/mobil-lernen.md")).unwrap();
    let r = cached_build(site);
    assert_eq!(r.pages_rendered, r.pages, "after deleting a file");
    assert_same_as_fresh_build(site, "a deleted file");

    std::fs::rename(
        site.join("content/kommunen/quellental.md"),
        site.join("content/kommunen/quellental-am-see.md"),
    )
    .unwrap();
    let r = cached_build(site);
    assert_eq!(r.pages_rendered, r.pages, "after renaming a file");
    assert!(site
        .join("public/kommunen/quellental-am-see/index.html")
        .is_file());
    assert!(!quellental.exists());
    assert_same_as_fresh_build(site, "a renamed slug");

    edit(
        site,
        "themes/default/templates/course.html",
        "{% block content %}",
        "{% block content %}<p>Kursseite</p>",
    );
    let r = cached_build(site);
    assert_eq!(r.pages_rendered, r.pages, "after a template edit");
    assert_same_as_fresh_build(site, "a template edit");

    edit(site, "data/niveaus.yaml", "preis: 199", "preis: 189");
    let r = cached_build(site);
    assert_eq!(r.pages_rendered, r.pages, "after a data edit");
    assert_same_as_fresh_build(site, "a price change");

    // An edit whose build fails leaves output and cache as they were; the
    // fix is built from there.
    edit(
        site,
        "content/kommunen/ahornfeld.md",
        "mitglied: true",
        "mitglied: vielleicht",
    );
    assert!(campus_generator::build_site(&cached_options(site)).is_err());
    edit(
        site,
        "content/kommunen/ahornfeld.md",
        "mitglied: vielleicht",
        "mitglied: true",
    );
    cached_build(site);
    assert_same_as_fresh_build(site, "recovering from a broken file");
}

#[test]
fn a_build_on_a_new_day_renders_everything_from_what_the_last_build_parsed() {
    let dir = sample();
    let site = dir.path();
    cached_build(site);
    // A new word in a body: its document is tokenised again, the others'
    // tokens and every unchanged front matter come from the cache.
    edit(
        site,
        "content/einheiten/ozg-grundlagen.md",
        "## Voraussetzungen",
        "## Voraussetzungen\n\nStichwort Zaunkönigwiese.",
    );
    let tomorrow = today().succ_opt().unwrap();
    let mut next_day = cached_options(site);
    next_day.today = Some(tomorrow);
    let r = campus_generator::build_site(&next_day).unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(r.pages_rendered, r.pages, "a new day renders every page");
    let index = read(site, "public/suche/index.json");
    assert!(
        index.contains("zaunkönigwiese"),
        "the edited body is in the index"
    );

    let fresh = tempfile::tempdir().unwrap();
    let mut full = options(site);
    full.today = Some(tomorrow);
    full.out_dir = fresh.path().join("out");
    campus_generator::build_site(&full).unwrap_or_else(|p| panic!("{p}"));
    let (built, expected) = (tree(&site.join("public")), tree(&full.out_dir));
    let differing: Vec<&String> = expected
        .keys()
        .filter(|k| built.get(*k) != expected.get(*k))
        .collect();
    assert!(
        differing.is_empty(),
        "differs from a full build: {differing:?}"
    );
    assert_eq!(built.len(), expected.len());
}
