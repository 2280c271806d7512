//! `campus check` holds every table of campus.toml to the type that reads it:
//! unknown tables and keys (with the closest known name) and wrong types are
//! all listed at once, each at its line and column; `campus run` refuses to
//! start on such a file.

use crate::support::*;
use std::process::{Command, Output};

const MISTAKES: &str = "
[mail]
transprt = \"datei\"
smtp_port = \"fünfundzwanzig\"

[backnd]
datenbank = \"daten/campus.db\"

[betrieb]
max_verbindungen = 10
kopf_zeitlimit = 3

[buchung]
angebot_gueltig_stunden = 48
";

fn campus(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_campus"))
        .args(args)
        .env_remove("CAMPUS_DATABASE")
        .output()
        .unwrap()
}

fn with_mistakes() -> tempfile::TempDir {
    let site = fixture("minimal");
    let config = read(site.path(), "campus.toml");
    write(site.path(), "campus.toml", &format!("{config}{MISTAKES}"));
    site
}

/// The 1-based line of `needle` in the written campus.toml.
fn line_of(site: &std::path::Path, needle: &str) -> usize {
    read(site, "campus.toml")
        .lines()
        .position(|l| l.contains(needle))
        .expect(needle)
        + 1
}

#[test]
fn every_mistake_in_campus_toml_is_listed_at_its_line_and_column() {
    let site = with_mistakes();
    let out = campus(&["--site", site.path().to_str().unwrap(), "check"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let at = |needle: &str, column: usize| {
        format!(
            "campus.toml:{}:{column}: Fehler",
            line_of(site.path(), needle)
        )
    };
    for (needle, column, message, hint) in [
        (
            "transprt",
            1,
            "„transprt“ gibt es in der Tabelle [mail] nicht",
            "Meinten Sie „transport“?",
        ),
        (
            "smtp_port",
            13,
            "[mail]: Hier wird eine ganze Zahl erwartet",
            "Anführungszeichen",
        ),
        (
            "[backnd]",
            2,
            "Die Tabelle [backnd] gibt es in campus.toml nicht",
            "Meinten Sie „backend“?",
        ),
        (
            "kopf_zeitlimit =",
            1,
            "„kopf_zeitlimit“ gibt es in der Tabelle [betrieb] nicht",
            "Meinten Sie „kopf_zeitlimit_sekunden“?",
        ),
    ] {
        let line = stderr
            .lines()
            .position(|l| l.contains(&at(needle, column)))
            .unwrap_or_else(|| {
                panic!("{needle} not reported at {}:\n{stderr}", at(needle, column))
            });
        let lines: Vec<&str> = stderr.lines().collect();
        assert!(lines[line].contains(message), "{}", lines[line]);
        assert!(lines[line + 1].contains(hint), "{}", lines[line + 1]);
    }
    assert!(stderr.contains("4 Fehler gefunden."), "{stderr}");
    // The correct tables are not blamed.
    assert!(!stderr.contains("[buchung]"), "{stderr}");
    assert!(!stderr.contains("max_verbindungen"), "{stderr}");
}

#[test]
fn the_sample_site_and_the_fixtures_pass_the_configuration_check() {
    for site in [sample(), fixture("minimal")] {
        let out = campus(&[
            "--site",
            site.path().to_str().unwrap(),
            "check",
            "--today",
            "2026-12-01",
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(!stderr.contains("campus.toml"), "{stderr}");
    }
}

#[test]
fn campus_run_refuses_to_start_on_a_mistaken_configuration() {
    let site = with_mistakes();
    let out = campus(&[
        "--site",
        site.path().to_str().unwrap(),
        "run",
        "--backend-only",
        "--address",
        "127.0.0.1:0",
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("„transprt“ gibt es in der Tabelle [mail] nicht"),
        "{stderr}"
    );
}
