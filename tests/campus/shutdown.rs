//! SIGTERM in the middle of a load of form posts: every acknowledged
//! submission survives, the process exits 0 in bounded time, and after the
//! restart no mail reaches the SMTP server twice.

use crate::net::*;
use crate::smtp::Smtp;
use crate::support::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A name the form accepts (letters only), different for each `n`.
fn person(n: usize) -> String {
    let letters: String = format!("{n:04}")
        .bytes()
        .map(|d| (b'a' + (d - b'0')) as char)
        .collect();
    format!("Lastprobe Herr{letters}")
}

pub fn contact_form(name: &str, ts: &str) -> Vec<(&'static str, String)> {
    vec![
        ("name", name.to_string()),
        ("organisation", "Stadt Beispiel".into()),
        ("email", "last@beispiel.example".into()),
        ("telefon", "0621 000000".into()),
        ("termin1", "2099-02-10T10:00".into()),
        ("termin2", "2099-02-11T10:00".into()),
        ("termin3", "2099-02-12T14:30".into()),
        ("nachricht", "Bitte rufen Sie an.".into()),
        ("einwilligung", "ja".into()),
        ("website", String::new()),
        ("ts", ts.to_string()),
    ]
}

pub fn form_stamp(address: &str) -> String {
    let token = get(address, "/forms/token").unwrap().text();
    token
        .split("\"ts\":\"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .unwrap_or_else(|| panic!("no token in {token}"))
        .to_string()
}

/// Limits high enough for a load from one address.
pub fn load_config(site: &std::path::Path) {
    let mut config = read(site, "campus.toml");
    config.push_str(
        "\n[backend]\nanfragen_pro_ip_je_10_minuten = 100000\nmails_pro_empfaenger_je_stunde = 100000\nmin_ausfuellzeit_sekunden = 1\n\
         \n[mail]\nsmtp_zeitlimit_sekunden = 5\nwiederholung_basis_sekunden = 1\n",
    );
    write(site, "campus.toml", &config);
}

#[test]
fn sigterm_during_form_posts_loses_no_acknowledged_submission_and_sends_no_mail_twice() {
    let dir = sample();
    let site = dir.path();
    build(site).unwrap();
    load_config(site);
    // A relay that takes a moment per message: at the signal a mail is in flight.
    let smtp = Smtp::start(Duration::from_millis(150));
    let env = smtp.env();
    let mut first = Campus::start(site, &["run"], &env);
    let address = first.address.clone();
    let ts = form_stamp(&address);
    std::thread::sleep(Duration::from_millis(1100));

    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let answered = Arc::new(AtomicUsize::new(0));
    let posters: Vec<_> = (0..16)
        .map(|t| {
            let (address, ts) = (address.clone(), ts.clone());
            let (acknowledged, answered) = (acknowledged.clone(), answered.clone());
            std::thread::spawn(move || {
                for i in 0..40 {
                    let name = person(t * 100 + i);
                    let pairs = contact_form(&name, &ts);
                    let pairs: Vec<(&str, &str)> =
                        pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    match post_form(&address, "/forms/kontakt", "http://127.0.0.1:8080", &pairs) {
                        Some(reply) if reply.status == 303 => {
                            acknowledged.lock().unwrap().push(name);
                            answered.fetch_add(1, Ordering::SeqCst);
                        }
                        Some(reply) => panic!("unexpected answer: {reply:?}"),
                        None => return, // refused or cut: not acknowledged
                    }
                }
            })
        })
        .collect();
    wait_until("some posts answered", || {
        answered.load(Ordering::SeqCst) >= 30
    });
    let signalled = Instant::now();
    first.signal(libc::SIGTERM);
    let status = first.wait_exit(Duration::from_secs(30));
    let took = signalled.elapsed();
    for p in posters {
        p.join().unwrap();
    }
    assert!(status.success(), "{status:?}: {}", first.stderr());
    assert!(took < Duration::from_secs(20), "took {took:?}");
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 30, "{}", acknowledged.len());
    assert!(
        acknowledged.len() < 16 * 40,
        "the signal came before the load was over"
    );
    let log = first.stderr();
    assert!(log.contains("Beenden angefordert"), "{log}");
    eprintln!(
        "acknowledged {} of {}, exit after {took:?}, mails sent before the restart: {}",
        acknowledged.len(),
        16 * 40,
        smtp.all().len()
    );
    drop(first);

    // Restart: the mails still queued go out, none of them a second time.
    let _second = Campus::start(site, &["run"], &env);
    wait_until("every acknowledged submission's mail is sent", || {
        acknowledged
            .iter()
            .all(|name| !smtp.ids_with(name).is_empty())
    });
    std::thread::sleep(Duration::from_millis(1500));
    let mut ids: Vec<String> = smtp
        .all()
        .iter()
        .map(|m| crate::smtp::message_id(m))
        .collect();
    let total = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), total, "a mail reached the server twice");
    assert!(ids.iter().all(|id| !id.is_empty()));
}

/// Two processes on one database and a relay whose first conversation
/// answers every line just within the SMTP time limit (2 s), so the whole
/// dialogue would outlast the 10 s lease: the limit bounds the whole
/// delivery, the first process gives up in time, and the mail reaches the
/// relay exactly once.
#[test]
fn a_slow_relay_and_two_processes_on_one_database_send_the_mail_once() {
    let dir = sample();
    let site = dir.path();
    build(site).unwrap();
    load_config(site);
    edit(
        site,
        "campus.toml",
        "smtp_zeitlimit_sekunden = 5",
        "smtp_zeitlimit_sekunden = 2",
    );
    let smtp = Smtp::start_with(Duration::ZERO, Duration::from_millis(1800));
    let env = smtp.env();
    let first = Campus::start(site, &["run"], &env);
    let _second = Campus::start(site, &["run"], &env);
    let ts = form_stamp(&first.address);
    std::thread::sleep(Duration::from_millis(1100));
    let name = person(4711);
    let pairs = contact_form(&name, &ts);
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let reply = post_form(
        &first.address,
        "/forms/kontakt",
        "http://127.0.0.1:8080",
        &pairs,
    )
    .unwrap();
    assert_eq!(reply.status, 303, "{reply:?}");
    let posted = Instant::now();
    wait_until("the mail reaches the relay", || {
        !smtp.ids_with(&name).is_empty()
    });
    // Past the lease and the slow dialogue: a second copy would be here by now.
    std::thread::sleep(Duration::from_secs(15).saturating_sub(posted.elapsed()));
    let mut ids = smtp.ids_with(&name);
    let total = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), total, "sent twice: {:?}", smtp.ids_with(&name));
    assert!(
        first.stderr().contains("SMTP-Zeitlimit") || _second.stderr().contains("SMTP-Zeitlimit"),
        "the slow dialogue was cut off"
    );
}
