//! `campus serve` rebuilds only what an edit affects; the result must be
//! byte-identical to a full build after every step of a sequence of edits.

use crate::support::*;
use campus_generator::incremental::{LiveBuild, RebuildReport};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn full_build(site: &Path) -> BTreeMap<String, Vec<u8>> {
    let (_, outputs) =
        campus_generator::check_site(&options(site)).unwrap_or_else(|p| panic!("{p}"));
    outputs.into_iter().map(|o| (o.path, o.bytes)).collect()
}

fn assert_same_as_full(live: &LiveBuild, site: &Path, step: &str) {
    let full = full_build(site);
    let inc: BTreeMap<String, Vec<u8>> = live
        .outputs()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_ref().clone()))
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
    assert_same_as_full(&live, site, "the first build");

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
    assert_same_as_full(&live, site, "a unit title edit");

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
    assert_same_as_full(&live, site, "a welcome text edit");

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
    assert_same_as_full(&live, site, "adding a unit");
    std::fs::remove_file(site.join(new_unit)).unwrap();
    let r = rebuild(&mut live, site, &[new_unit]);
    assert!(r
        .removed
        .iter()
        .any(|c| c == "lerneinheiten/neue-einheit/index.html"));
    assert_same_as_full(&live, site, "deleting a unit");

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
    assert_same_as_full(&live, site, "a template edit");

    // Prices come from data: every page showing a price follows.
    edit(site, "data/niveaus.yaml", "preis: 199", "preis: 189");
    let r = rebuild(&mut live, site, &["data/niveaus.yaml"]);
    assert!(r.changed.len() > 10);
    assert_same_as_full(&live, site, "a price change");

    // A topic title shows on the unit cards of its units.
    edit(
        site,
        "content/themen/ozg.md",
        "titel: Onlinezugangsgesetz (OZG)",
        "titel: Onlinezugangsgesetz",
    );
    rebuild(&mut live, site, &["content/themen/ozg.md"]);
    assert_same_as_full(&live, site, "a topic title edit");

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
        live.outputs().iter().all(|(k, v)| before.get(k) == Some(v)),
        "outputs changed by a failed build"
    );
    edit(
        site,
        "content/kommunen/quellental.md",
        "mitglied: vielleicht",
        "mitglied: false",
    );
    rebuild(&mut live, site, &["content/kommunen/quellental.md"]);
    assert_same_as_full(&live, site, "recovering from a broken file");

    // The site name is in the global context of every page.
    edit(
        site,
        "campus.toml",
        "name = \"KommunalCampus\"",
        "name = \"Kommunal-Campus\"",
    );
    rebuild(&mut live, site, &["campus.toml"]);
    assert_same_as_full(&live, site, "a config edit");
}

/// Site-wide pages whose context holds the edited item (none for a welcome text).
fn count_singles_changed(r: &RebuildReport) -> usize {
    r.changed
        .iter()
        .filter(|c| c.ends_with(".html") && !c.starts_with("kommunen/quellental/"))
        .count()
}
