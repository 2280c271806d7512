//! `campus forms export` and `campus forms purge` on a seeded database.

use crate::support::*;
use campus_forms::mail::Letterhead;
use campus_forms::sign::Signer;
use campus_forms::store::Store;
use campus_forms::validate::Contact;
use campus_forms::workflow::{self, Ctx};
use campus_forms::Settings;
use campus_generator::config::Config;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn campus(site: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_campus"))
        .arg("--site")
        .arg(site)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn seed_contact(site: &Path, name: &str, days_ago: i64) {
    let config = Config::load(site).unwrap();
    let settings = Settings::from_parts(site, &config, &|_| None).unwrap();
    let store = Store::open(&settings.database).unwrap();
    let letterhead = Letterhead {
        sender: settings.sender.clone(),
        site_name: "Test".into(),
        base_url: config.site.base_url.clone(),
        organisation: "Test eG".into(),
        address_lines: vec![],
    };
    let ctx = Ctx {
        store: &store,
        letterhead: &letterhead,
        signer: &Signer::from_text("test"),
        backend_url: &config.site.base_url,
        office: &settings.office,
        confirm_valid: Duration::from_secs(3600),
        per_recipient_per_hour: 10,
        ip_hash: "abc",
        now: campus_forms::store::now() - days_ago * 86_400,
    };
    let contact = Contact {
        name: name.into(),
        organisation: "=HYPERLINK(\"x\")".into(),
        email: "k@beispiel.example".into(),
        telefon: "+49 621 0000".into(),
        termine: vec!["2099-01-01T10:00".into()],
        nachricht: "Hallo; \"Welt\"\nzweite Zeile".into(),
    };
    workflow::contact(&ctx, &contact).unwrap();
}

#[test]
fn export_writes_csv_and_purge_applies_retention() {
    let dir = fixture("minimal");
    let site = dir.path();
    let toml = read(site, "campus.toml");
    write(
        site,
        "campus.toml",
        &format!("{toml}\n[aufbewahrung]\nkontakt = 30\n"),
    );
    seed_contact(site, "Alte Anfrage", 40);
    seed_contact(site, "Neue Anfrage", 1);

    let (ok, csv, err) = campus(site, &["forms", "export", "--form", "kontakt"]);
    assert!(ok, "{err}");
    assert!(
        csv.starts_with("\u{feff}id;eingegangen;status;name;organisation"),
        "{csv}"
    );
    assert!(csv.contains("Alte Anfrage") && csv.contains("Neue Anfrage"));
    assert!(
        csv.contains("'=HYPERLINK"),
        "formulas are neutralised: {csv}"
    );
    assert!(
        csv.contains("\"Hallo; \"\"Welt\"\"\nzweite Zeile\""),
        "quoted: {csv}"
    );

    let (ok, out, err) = campus(site, &["forms", "purge"]);
    assert!(ok, "{err}");
    assert!(out.contains("Gelöscht: 1 Einsendungen"), "{out}");
    let (_, csv, _) = campus(site, &["forms", "export", "--form", "kontakt"]);
    assert!(
        !csv.contains("Alte Anfrage") && csv.contains("Neue Anfrage"),
        "{csv}"
    );

    let (ok, _, err) = campus(site, &["forms", "export", "--form", "geheim"]);
    assert!(!ok);
    assert!(err.contains("Unbekanntes Formular"), "{err}");
}
