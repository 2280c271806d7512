//! The draft landing page the back-office writes for a new member (issue
//! 17): as it comes out, `campus check` refuses it with one message per
//! placeholder at file:line (logo, picture, Leitweg-ID, the picture's
//! description, the welcome text); once the editor has put the pictures in
//! place and filled the placeholders it passes.

use crate::support::*;
use campus_forms::membership::{draft, Application};
use campus_generator::content::{Approval, AuthorityKind};
use std::path::Path;
use std::process::{Command, Output};

fn application() -> Application {
    Application {
        // Quotes and a colon must not break the YAML.
        name: "Gemeinde \"Am See\": Oberau".into(),
        kind: AuthorityKind::Gemeinde,
        street: "Am Markt 1".into(),
        postcode: "64646".into(),
        town: "Oberau".into(),
        employees: 240,
        employees_label: "240".into(),
        shares: 2,
        deposit_cents: 200_000,
        annual_fee_cents: 400_000,
        resolution_date: "2026-11-10".into(),
        resolution_date_label: "Dienstag, 10. November 2026".into(),
        resolution_body: "Gemeinderat".into(),
        contact_name: "Olga Ober".into(),
        contact_email: "o.ober@oberau.example".into(),
        contact_phone: "06251 777".into(),
        approval: Approval::Kommune,
        approver_email: "fortbildung@oberau.example".into(),
    }
}

fn check(site: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_campus"))
        .args(["check", "--site"])
        .arg(site)
        .env_remove("CAMPUS_DATABASE")
        .output()
        .unwrap()
}

/// The 1-based line of the first line starting with `key` in `text`.
fn line_of(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| l.trim_start().starts_with(key))
        .unwrap()
        + 1
}

#[test]
fn the_draft_names_its_placeholders_until_the_editor_fills_them() {
    let site = sample();
    let a = application();
    let id = draft::id_of(&a);
    assert_eq!(id, "gemeinde-am-see-oberau");
    let text = draft::landing_page(&a, "M-7");
    let rel = format!("content/kommunen/{id}.md");
    write(site.path(), &rel, &text);

    let out = check(site.path());
    assert!(!out.status.success());
    let report =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    for key in ["logo:", "datei:", "leitweg_id:", "alt:", draft::TODO] {
        let at = format!("{rel}:{}:", line_of(&text, key));
        assert!(report.contains(&at), "{at} in\n{report}");
    }
    assert!(report.contains("keine Leitweg-ID"), "{report}");
    assert!(
        report.contains("Hier steht noch der Platzhalter „BITTE ERGÄNZEN“"),
        "{report}"
    );
    // One message per open place; the comments naming the marker are none.
    assert!(report.contains("5 Fehler gefunden."), "{report}");

    // The editor's part: pictures, a real Leitweg-ID, the texts.
    let logo =
        std::fs::read(repo_root().join("static/bilder/kommunen/ahornfeld-logo.svg")).unwrap();
    for file in [format!("{id}-logo.svg"), format!("{id}-bild.svg")] {
        std::fs::write(site.path().join("static/bilder/kommunen").join(file), &logo).unwrap();
    }
    let leitweg = (0..100)
        .map(|d| format!("06999120-{d:02}"))
        .find(|l| campus_generator::model::domains::leitweg_id_ok(l))
        .unwrap();
    let filled = text
        .replace(
            &format!("leitweg_id: \"{}\"", draft::LEITWEG_PLACEHOLDER),
            &format!("leitweg_id: \"{leitweg}\""),
        )
        .replace(
            "BITTE ERGÄNZEN: Was das Bild zeigt",
            "Das Rathaus von Oberau am See",
        )
        .replace("einheiten: []", "einheiten: [plattform-kennenlernen]");
    let body_start = filled.rfind("---\n").unwrap() + 4;
    let filled = format!(
        "{}Liebe Kolleginnen und Kollegen, willkommen auf Ihrer Seite beim KommunalCampus!\n",
        &filled[..body_start]
    );
    // Only the draft's comments still name the marker (they may stay).
    assert!(
        filled
            .lines()
            .filter(|l| l.contains(draft::TODO))
            .all(|l| l.starts_with('#')),
        "{filled}"
    );
    write(site.path(), &rel, &filled);
    let out = check(site.path());
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let built = load(site.path());
    let new = built.authority(&id).expect("the new authority");
    assert!(new.member);
    assert_eq!(new.name, "Gemeinde \"Am See\": Oberau");
    assert_eq!(
        new.approver_email.as_deref(),
        Some("fortbildung@oberau.example")
    );
    assert_eq!(new.mail_domains, ["oberau.example"]);
}
