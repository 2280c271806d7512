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
        texts: std::sync::Arc::new(
            campus_forms::pages::Pages::new(std::sync::Arc::new(
                campus_generator::model::load(site).unwrap(),
            ))
            .unwrap(),
        ),
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
        anliegen: campus_forms::validate::ContactTopic::InfoCall,
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

/// The token of the newest `/forms/buchung/<action>/` link in a mail to `to`
/// (quoted-printable: soft line breaks removed; tokens are base64url).
fn booking_token(state: &campus_forms::AppState, to: &str, action: &str) -> String {
    let needle = format!("/forms/buchung/{action}/");
    state
        .store
        .outbox()
        .unwrap()
        .into_iter()
        .rev()
        .filter(|m| m.recipient == to)
        .find_map(|m| {
            let raw = String::from_utf8_lossy(&state.store.raw_message(m.id).unwrap())
                .replace("=\r\n", "");
            let start = raw.find(&needle)? + needle.len();
            Some(
                raw[start..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .collect(),
            )
        })
        .unwrap_or_else(|| panic!("no {action} link to {to}"))
}

#[test]
fn bookings_list_approve_export_and_cancel_on_the_command_line() {
    use campus_forms::booking;
    use campus_forms::validate::{BookingRequest, FormKind};
    let dir = fixture("minimal");
    let site = dir.path();
    // A unit with one place on a weekday in about six weeks.
    let mut date = chrono::Local::now().date_naive() + chrono::Duration::days(42);
    while chrono::Datelike::weekday(&date).number_from_monday() > 5 {
        date += chrono::Duration::days(1);
    }
    let iso = date.format("%Y-%m-%d").to_string();
    write(
        site,
        "content/einheiten/ein-platz.md",
        &format!("---\ntitel: Ein Platz\nkurzbeschreibung: Test.\nformat: hybrid\nniveau: fachkompetenzen\nthemen: [testthema]\naufwand_stunden: 8\ntermine:\n  - datum: {iso}\n    plaetze: 1\n---\nText.\n"),
    );
    {
        let state = campus_forms::AppState::open(site).unwrap();
        for who in ["erste", "zweite"] {
            let email = format!("{who}@gemeinde.example");
            let request = BookingRequest {
                kind: FormKind::Buchung,
                einheit: "ein-platz".into(),
                termin: iso.clone(),
                name: format!("Person {who}"),
                email: email.clone(),
                kommune: "nichtmitglied".into(),
                organisation: String::new(),
            };
            booking::with_env(&state, "h", |env| booking::request(env, &request)).unwrap();
            let token = booking_token(&state, &email, "bestaetigen");
            booking::with_env(&state, "h", |env| booking::confirm(env, &token, "test"))
                .unwrap()
                .expect("confirmed");
        }
    }
    let (ok, out, err) = campus(site, &["bookings", "list"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("B-1") && out.contains("wartet auf Freigabe"),
        "{out}"
    );
    let (ok, out, err) = campus(site, &["bookings", "approve", "B-1"]);
    assert!(ok, "{err}");
    assert!(out.contains("B-1 freigegeben: gebucht"), "{out}");
    // `campus build` counts the booked place: the only place is gone.
    let (ok, _, err) = campus(site, &["build"]);
    assert!(ok, "{err}");
    let page = read(site, "public/lerneinheiten/ein-platz/index.html");
    assert!(
        page.contains("Ausgebucht"),
        "the booked place shows on the page"
    );
    let (ok, out, err) = campus(site, &["bookings", "approve", "2"]);
    assert!(ok, "{err}");
    assert!(out.contains("B-2 freigegeben: Warteliste"), "{out}");
    let (ok, _, err) = campus(site, &["bookings", "approve", "2"]);
    assert!(
        !ok && err.contains("wartet nicht auf eine Freigabe"),
        "{err}"
    );
    let (ok, _, err) = campus(site, &["bookings", "reject", "99"]);
    assert!(!ok, "{err}");
    // Move and offer by hand go through the back-office's functions.
    let (ok, _, err) = campus(site, &["bookings", "offer", "B-2", &iso]);
    assert!(!ok && err.contains("keinen freien Platz"), "{err}");
    let (ok, _, err) = campus(site, &["bookings", "move", "B-1", "2099-01-01"]);
    assert!(
        !ok && err.contains("kein anderer kommender Termin"),
        "{err}"
    );
    let (ok, _, err) = campus(site, &["bookings", "move", "B-2", &iso]);
    assert!(!ok && err.contains("keine bestätigte Buchung"), "{err}");

    // CSV per live date into a folder.
    let folder = site.join("listen");
    let (ok, _, err) = campus(
        site,
        &[
            "bookings",
            "export",
            "--verzeichnis",
            folder.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    let csv = read(site, &format!("listen/ein-platz-{iso}.csv"));
    assert!(
        csv.starts_with("\u{feff}Vorgang;Lerneinheit;Titel;Termin;Status"),
        "{csv}"
    );
    assert!(
        csv.contains(&format!(
            "B-1;ein-platz;Ein Platz;{iso};gebucht;;Person erste"
        )),
        "{csv}"
    );
    assert!(csv.contains("238,80;38,13;Geschäftsstelle"), "{csv}");
    assert!(
        csv.contains(&format!(
            "B-2;ein-platz;Ein Platz;{iso};Warteliste;1;Person zweite"
        )),
        "{csv}"
    );
    let (ok, csv, err) = campus(
        site,
        &[
            "bookings",
            "export",
            "--einheit",
            "ein-platz",
            "--termin",
            &iso,
        ],
    );
    assert!(ok, "{err}");
    assert!(
        csv.contains("B-2;ein-platz;Ein Platz;") && csv.contains("Person zweite"),
        "{csv}"
    );

    // The office cancels the first booking: the place is offered to the second.
    let (ok, out, err) = campus(site, &["bookings", "cancel", "B-1"]);
    assert!(ok, "{err}");
    assert!(out.contains("B-1 storniert"), "{out}");
    let (ok, out, err) = campus(
        site,
        &["bookings", "list", "--status", "angebot", "--verlauf"],
    );
    assert!(ok, "{err}");
    assert!(
        out.contains("B-2") && out.contains("Platz angeboten"),
        "{out}"
    );
    assert!(out.contains("(geschaeftsstelle:"), "actor recorded: {out}");
    assert!(
        out.contains("Warteliste → Platz angeboten  (system)"),
        "{out}"
    );
}
