//! The self-check content: competence areas, role profiles, what units raise
//! and their prerequisites. Broken content names file and line; the sample
//! site's self-check gives sensible paths.

use crate::support::*;
use campus_generator::error::RefKind;
use campus_generator::selfcheck::{self, Answers};
use campus_generator::{Problem, ProblemKind};
use std::path::Path;

const AREAS: &str = "\
- id: digitales
  name: Digitales
  stufen: [Keine, Grundlagen, Anwenden, Gestalten]
- id: sicherheit
  name: Sicherheit
  stufen: [Keine, Grundlagen, Anwenden, Gestalten]
";

const PROFILES: &str = "\
- id: sachbearbeitung
  name: Sachbearbeitung
  ziele:
    digitales: 2
    sicherheit: 1
";

/// The minimal fixture with competence areas and role profiles.
fn site() -> tempfile::TempDir {
    let site = fixture("minimal");
    write(site.path(), "data/kompetenzen.yaml", AREAS);
    write(site.path(), "data/rollenprofile.yaml", PROFILES);
    site
}

fn problems(site: &Path) -> Vec<Problem> {
    match build(site) {
        Ok(_) => panic!("build should fail"),
        Err(p) => p.0,
    }
}

fn only(site: &Path) -> Problem {
    let mut all = problems(site);
    assert_eq!(all.len(), 1, "expected one problem, got {all:#?}");
    all.remove(0)
}

const SELBSTLERNEN: &str = "content/einheiten/selbstlernen.md";
const START_LINK: &str = "start_link: https://lms.example/selbstlernen";

#[test]
fn raised_levels_and_prerequisites_are_linked() {
    let site = site();
    edit(
        site.path(),
        SELBSTLERNEN,
        START_LINK,
        &format!("{START_LINK}\nkompetenzstufen: {{ digitales: 2, sicherheit: 1 }}\nvoraussetzungen: [kostenlos-starten]"),
    );
    let s = load(site.path());
    let u = &s.units[s.unit_index("selbstlernen").unwrap()];
    assert_eq!(u.raises, vec![(0, 2), (1, 1)]);
    assert_eq!(
        u.prerequisites,
        vec![s.unit_index("kostenlos-starten").unwrap()]
    );
    assert_eq!(s.role_profiles[0].targets, vec![2, 1]);
    build(site.path()).unwrap_or_else(|p| panic!("{p}"));
    let page = html(site.path(), "selbstcheck/index.html");
    assert_eq!(select(&page, "form#selbstcheck fieldset").len(), 2);
    assert_eq!(
        select(&page, "input[type=radio][name=ist-digitales]").len(),
        4
    );
    assert_eq!(select(&page, "select[name=profil] option").len(), 2);
}

#[test]
fn unknown_area_names_file_line_and_suggestion() {
    let site = site();
    edit(
        site.path(),
        SELBSTLERNEN,
        START_LINK,
        &format!("{START_LINK}\nkompetenzstufen:\n  digitalez: 2"),
    );
    let p = only(site.path());
    assert_eq!(p.file, Path::new(SELBSTLERNEN));
    assert_eq!(p.line, Some(10));
    assert_eq!(
        p.kind,
        ProblemKind::UnknownReference {
            kind: RefKind::CompetenceArea,
            id: "digitalez".into(),
            suggestion: Some("digitales".into()),
        }
    );
    assert!(p.to_string().contains("data/kompetenzen.yaml"), "{p}");
}

#[test]
fn level_out_of_range_in_unit_and_profile() {
    let site = site();
    edit(
        site.path(),
        SELBSTLERNEN,
        START_LINK,
        &format!("{START_LINK}\nkompetenzstufen: {{ sicherheit: 4 }}"),
    );
    edit(
        site.path(),
        "data/rollenprofile.yaml",
        "sicherheit: 1",
        "sicherheit: -1",
    );
    let all = problems(site.path());
    assert_eq!(all.len(), 2, "{all:#?}");
    assert!(all
        .iter()
        .any(|p| p.file == Path::new("data/rollenprofile.yaml")
            && p.line == Some(5)
            && p.kind
                == ProblemKind::LevelOutOfRange {
                    area: "sicherheit".into(),
                    level: -1,
                    max: 3
                }));
    assert!(all.iter().any(|p| p.file == Path::new(SELBSTLERNEN)
        && p.line == Some(9)
        && p.kind
            == ProblemKind::LevelOutOfRange {
                area: "sicherheit".into(),
                level: 4,
                max: 3
            }));
}

#[test]
fn unknown_prerequisite_suggests_the_closest_unit() {
    let site = site();
    edit(
        site.path(),
        SELBSTLERNEN,
        START_LINK,
        &format!("{START_LINK}\nvoraussetzungen:\n  - hybrid-eins\n  - hybrid-zwei"),
    );
    let p = only(site.path());
    assert_eq!(p.file, Path::new(SELBSTLERNEN));
    assert_eq!(p.line, Some(11));
    assert!(
        matches!(&p.kind, ProblemKind::UnknownReference { kind: RefKind::Unit, id, .. } if id == "hybrid-zwei"),
        "{p}"
    );
}

#[test]
fn prerequisite_cycle_is_reported_once_at_the_closing_entry() {
    let site = site();
    edit(
        site.path(),
        SELBSTLERNEN,
        START_LINK,
        &format!("{START_LINK}\nvoraussetzungen: [hybrid-eins]"),
    );
    edit(
        site.path(),
        "content/einheiten/hybrid-eins.md",
        "aufwand_stunden: 8",
        "aufwand_stunden: 8\nvoraussetzungen: [kostenlos-starten]",
    );
    edit(
        site.path(),
        "content/einheiten/kostenlos-starten.md",
        "---\ntitel:",
        "---\nvoraussetzungen: [selbstlernen]\ntitel:",
    );
    let p = only(site.path());
    let ProblemKind::PrerequisiteCycle { cycle } = &p.kind else {
        panic!("{p}")
    };
    assert_eq!(cycle.first(), cycle.last());
    assert_eq!(cycle.len(), 4, "{cycle:?}");
    // Reported where the cycle closes, at the line of that entry.
    let closing = &cycle[cycle.len() - 2];
    let file = format!("content/einheiten/{closing}.md");
    assert_eq!(p.file, Path::new(&file));
    let text = read(site.path(), &file);
    let line = text
        .lines()
        .position(|l| l.starts_with("voraussetzungen:"))
        .unwrap() as u64
        + 1;
    assert_eq!(p.line, Some(line), "{p}");
    assert!(p.to_string().contains("Kreis"), "{p}");
}

#[test]
fn a_unit_cannot_be_its_own_prerequisite() {
    let site = site();
    edit(
        site.path(),
        SELBSTLERNEN,
        START_LINK,
        &format!("{START_LINK}\nvoraussetzungen: [selbstlernen]"),
    );
    let p = only(site.path());
    assert_eq!(
        (p.file.as_path(), p.line),
        (Path::new(SELBSTLERNEN), Some(9))
    );
    assert!(matches!(p.kind, ProblemKind::PrerequisiteCycle { .. }));
}

#[test]
fn sites_without_self_check_data_build_without_the_page() {
    let site = fixture("minimal");
    build(site.path()).unwrap_or_else(|p| panic!("{p}"));
    assert!(!site.path().join("public/selbstcheck/index.html").exists());
}

#[test]
fn sample_site_paths_are_sensible() {
    let site = sample();
    let s = load(site.path());
    let profile = |id: &str| s.role_profiles.iter().position(|p| p.id == id).unwrap();
    let area = |id: &str| s.competence_areas.iter().position(|a| a.id == id).unwrap();
    let ids = |path: &[usize]| {
        path.iter()
            .map(|u| s.units[*u].id.as_str())
            .collect::<Vec<_>>()
    };

    // Somebody new to everything in Sachbearbeitung.
    let answers = Answers {
        profile: profile("sachbearbeitung"),
        ratings: vec![0; s.competence_areas.len()],
        authority: None,
    };
    let plan = selfcheck::plan_for_site(&s, &answers);
    assert!(plan.unreachable.is_empty() && plan.exact);
    let path = ids(&plan.path);
    for g in &plan.gaps {
        let reached = plan
            .path
            .iter()
            .map(|u| {
                s.units[*u]
                    .raises
                    .iter()
                    .filter(|r| r.0 == g.area)
                    .map(|r| r.1)
                    .max()
                    .unwrap_or(0)
            })
            .max()
            .unwrap_or(0)
            .max(g.rating);
        assert!(
            reached >= g.target,
            "area {} not closed by {path:?}",
            s.competence_areas[g.area].id
        );
    }
    // Prerequisites before the units that need them.
    for (i, u) in plan.path.iter().enumerate() {
        for p in &s.units[*u].prerequisites {
            if let Some(j) = plan.path.iter().position(|x| x == p) {
                assert!(j < i, "{path:?}");
            }
        }
    }

    // IT-Koordination, already good at information security (2 of 3): the
    // security prerequisite is skipped, the gap still closed at level 3.
    let mut ratings = vec![0; s.competence_areas.len()];
    ratings[area("informationssicherheit")] = 2;
    ratings[area("digitale-grundlagen")] = 2;
    ratings[area("digitale-verwaltung")] = 2;
    let plan = selfcheck::plan_for_site(
        &s,
        &Answers {
            profile: profile("it-koordination"),
            ratings,
            authority: None,
        },
    );
    let path = ids(&plan.path);
    assert!(
        !path.contains(&"informationssicherheit-im-arbeitsalltag"),
        "{path:?}"
    );
    assert!(
        path.contains(&"cloud-dienste-bewerten") || path.contains(&"cyberangriff-notfallplan"),
        "{path:?}"
    );
}
