//! What an operator runs next to the service: `campus backup` under write
//! load (restored copy intact, counts consistent), `/metrics`, RUST_LOG and
//! JSON logs, `campus --version` with the commit.

use crate::net::*;
use crate::shutdown::{contact_form, form_stamp, load_config};
use crate::support::*;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn campus(site: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_campus"))
        .arg("--site")
        .arg(site)
        .args(args)
        .output()
        .unwrap()
}

fn metric(text: &str, line_start: &str) -> i64 {
    text.lines()
        .find_map(|l| l.strip_prefix(line_start)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {line_start} in\n{text}"))
}

#[test]
fn backup_under_write_load_restores_complete_and_intact() {
    let dir = sample();
    let site = dir.path();
    build(site).unwrap();
    load_config(site);
    let server = Campus::start(site, &["run"], &[]);
    let address = server.address.clone();
    let ts = form_stamp(&address);
    std::thread::sleep(Duration::from_millis(1100));

    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let (address, ts, stop, acked) = (
                address.clone(),
                ts.clone(),
                stop.clone(),
                acknowledged.clone(),
            );
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    let name = format!("Sicherung Frau{}", ["a", "b", "c", "d"][t]);
                    let pairs = contact_form(&name, &ts);
                    let pairs: Vec<(&str, &str)> =
                        pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    let reply =
                        post_form(&address, "/forms/kontakt", "http://127.0.0.1:8080", &pairs)
                            .unwrap();
                    assert_eq!(reply.status, 303, "{reply:?}");
                    acked.fetch_add(1, Ordering::SeqCst);
                    i += 1;
                }
                i
            })
        })
        .collect();
    wait_until("load runs", || acknowledged.load(Ordering::SeqCst) >= 20);
    let before = acknowledged.load(Ordering::SeqCst) as i64;
    let file = site.join("sicherung.db");
    let out = campus(site, &["backup", "--to", file.to_str().unwrap()]);
    let after = acknowledged.load(Ordering::SeqCst) as i64;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stop.store(true, Ordering::SeqCst);
    let total: usize = writers.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(after > before, "the load went on during the backup");

    // A second backup to the same name overwrites nothing.
    let again = campus(site, &["backup", "--to", file.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("gibt es schon"));

    let copy = rusqlite::Connection::open(&file).unwrap();
    let check: String = copy
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let saved: i64 = copy
        .query_row(
            "SELECT count(*) FROM submissions WHERE form = 'kontakt'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        (before..=after + 4).contains(&saved),
        "{saved} submissions saved, {before} acknowledged before and {after} after the backup"
    );
    let mails: i64 = copy
        .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
        .unwrap();
    assert!(
        mails >= saved,
        "every saved submission has its mail: {mails} < {saved}"
    );
    drop(copy);
    let key = site.join("sicherung.db.signaturschluessel");
    assert_eq!(
        std::fs::read(&key).unwrap(),
        std::fs::read(site.join("var/signing.key")).unwrap()
    );
    drop(server);

    // Restore into a fresh installation as docs/betrieb.md describes.
    let fresh = sample();
    let target = fresh.path();
    build(target).unwrap();
    std::fs::create_dir_all(target.join("var")).unwrap();
    std::fs::copy(&file, target.join("var/campus.db")).unwrap();
    std::fs::copy(&key, target.join("var/signing.key")).unwrap();
    let restored = Campus::start(target, &["run"], &[]);
    let figures = get(&restored.address, "/metrics").unwrap().text();
    assert_eq!(
        metric(&figures, "campus_submissions{form=\"kontakt\"}"),
        saved
    );
    assert!(total as i64 >= saved);
}

#[test]
fn metrics_logs_and_version_tell_the_operator_what_runs() {
    let dir = sample();
    let site = dir.path();
    build(site).unwrap();
    let server = Campus::start(
        site,
        &["--log-format", "json", "run"],
        &[("RUST_LOG", "campus_forms=debug,warn".to_string())],
    );
    let a = server.address.as_str();
    get(a, "/").unwrap();
    let reply = get(a, "/metrics").unwrap();
    assert_eq!(reply.status, 200);
    assert!(reply
        .header("content-type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = reply.text();
    for name in [
        "campus_intake_queue_depth 0",
        "campus_outbox_mails{state=\"queued\"}",
        "campus_outbox_mails{state=\"failed\"} 0",
        "campus_outbox_oldest_waiting_seconds",
        "campus_bookings",
        "# TYPE campus_http_request_duration_seconds histogram",
        "campus_http_request_duration_seconds_bucket{le=\"+Inf\"}",
    ] {
        assert!(text.contains(name), "{name} missing in\n{text}");
    }
    assert!(metric(&text, "campus_http_request_duration_seconds_count") >= 2);

    // JSON lines; RUST_LOG let the backend's info through and held back
    // the binary's own info lines ("KommunalCampus läuft" is campus's).
    let log = server.stderr();
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(
        lines.iter().all(|l| l.starts_with('{') && l.ends_with('}')),
        "{log}"
    );
    assert!(log.contains("Formular-Backend bereit"), "{log}");
    assert!(!log.contains("KommunalCampus läuft"), "{log}");

    let version = campus(site, &["--version"]);
    let version = String::from_utf8_lossy(&version.stdout);
    assert!(version.starts_with("campus 0.1.0 (Commit "), "{version}");
}
