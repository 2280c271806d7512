//! Two real `campus run` nodes on one throw-away PostgreSQL database, as an
//! operator runs them behind a load balancer: 20 people ask for the one
//! place of a live date and the approvals arrive on both nodes at once;
//! an offer that nobody accepts is passed on once although both nodes
//! check offers every second; a mail queued on one node reaches the SMTP
//! server once while both nodes deliver.
//!
//! Without PostgreSQL binaries the tests say so and pass; with `CI=true`
//! that is a failure (see `pg.rs`).

use crate::net::*;
use crate::pg;
use crate::shutdown::form_stamp;
use crate::smtp::Smtp;
use crate::support::*;
use campus_forms::store::{Location, Store};
use std::collections::HashMap;
use std::sync::{Arc, Barrier};
use std::time::Duration;

const OFFICE: &str = "info@campus.example";

struct Nodes {
    _dir: tempfile::TempDir,
    date: String,
    smtp: Smtp,
    /// The test's own view of the shared database.
    store: Store,
    nodes: [Campus; 2],
}

impl Nodes {
    /// The minimal site with a unit of one place, two `campus run
    /// --backend-only` nodes started at the same moment (the migrations
    /// meet under their lock) on one fresh database, with one signing key
    /// from the environment and one SMTP server. None without PostgreSQL.
    fn start() -> Option<Nodes> {
        let url = pg::fresh_database()?;
        let dir = fixture("minimal");
        let site = dir.path();
        let mut date = chrono::Local::now().date_naive() + chrono::Duration::days(42);
        while chrono::Datelike::weekday(&date).number_from_monday() > 5 {
            date += chrono::Duration::days(1);
        }
        let date = date.format("%Y-%m-%d").to_string();
        write(
            site,
            "content/einheiten/ein-platz.md",
            &format!("---\ntitel: Ein Platz\nkurzbeschreibung: Test.\nformat: hybrid\nniveau: fachkompetenzen\nthemen: [testthema]\naufwand_stunden: 8\ntermine:\n  - datum: {date}\n    plaetze: 1\n---\nText.\n"),
        );
        let mut config = read(site, "campus.toml");
        config.push_str(
            "\n[backend]\nanfragen_pro_ip_je_10_minuten = 100000\nmails_pro_empfaenger_je_stunde = 100000\n\
             min_ausfuellzeit_sekunden = 1\n\n[buchung]\npruefen_alle_sekunden = 1\n\n\
             [mail]\nsmtp_zeitlimit_sekunden = 5\nwiederholung_basis_sekunden = 1\n",
        );
        write(site, "campus.toml", &config);
        let smtp = Smtp::start(Duration::from_millis(20));
        let mut env = smtp.env();
        env.push(("CAMPUS_DATABASE", url.clone()));
        env.push((
            "CAMPUS_SIGNING_KEY",
            "ein-gemeinsamer-schluessel-fuer-beide-knoten".into(),
        ));
        let starting: Vec<_> = (0..2)
            .map(|_| {
                let (site, env) = (site.to_path_buf(), env.clone());
                std::thread::spawn(move || Campus::start(&site, &["run", "--backend-only"], &env))
            })
            .collect();
        let mut started = starting.into_iter().map(|t| t.join().unwrap());
        let nodes = [started.next().unwrap(), started.next().unwrap()];
        let store = Store::open(Location::Postgres(url)).unwrap();
        Some(Nodes {
            _dir: dir,
            date,
            smtp,
            store,
            nodes,
        })
    }

    fn node(&self, i: usize) -> &str {
        &self.nodes[i % 2].address
    }

    /// One SQL count over the shared database.
    fn count(&self, sql: &str, params: &[&dyn campus_forms::store::ToValue]) -> i64 {
        self.store
            .read(|tx| tx.query_row(sql, params, |r| r.get(0)))
            .unwrap()
    }

    /// `(message_id, kind, recipient)` of every mail in the outbox, oldest first.
    fn outbox(&self) -> Vec<(String, String, String)> {
        self.store
            .outbox()
            .unwrap()
            .into_iter()
            .map(|m| (m.message_id, m.kind, m.recipient))
            .collect()
    }

    /// Waits until every queued mail was accepted by the SMTP server, then
    /// checks that each arrived exactly once; the mails by kind.
    fn all_delivered_once(&self) -> HashMap<String, Vec<String>> {
        wait_until("every mail sent", || {
            self.count("SELECT count(*) FROM outbox WHERE state <> 'sent'", &[]) == 0
        });
        let outbox = self.outbox();
        let delivered = self.smtp.all();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for m in &delivered {
            *seen.entry(crate::smtp::message_id(m)).or_default() += 1;
        }
        let mut by_kind: HashMap<String, Vec<String>> = HashMap::new();
        for (id, kind, to) in &outbox {
            assert_eq!(
                seen.get(id),
                Some(&1),
                "{kind} to {to} ({id}) delivered once"
            );
            by_kind.entry(kind.clone()).or_default().push(to.clone());
        }
        assert_eq!(
            delivered.len(),
            outbox.len(),
            "nothing but the outbox was sent"
        );
        by_kind
    }

    /// The token of the newest `/forms/buchung/<action>/` link in a mail to `to`.
    fn token(&self, to: &str, action: &str) -> String {
        let needle = format!("/forms/buchung/{action}/");
        self.store
            .outbox()
            .unwrap()
            .into_iter()
            .rev()
            .filter(|m| m.recipient == to)
            .find_map(|m| token_in(&self.store.raw_message(m.id).unwrap(), &needle))
            .unwrap_or_else(|| panic!("no {action} link to {to}"))
    }

    /// Every approval token in the office's mails.
    fn approval_tokens(&self) -> Vec<String> {
        self.store
            .outbox()
            .unwrap()
            .into_iter()
            .filter(|m| m.recipient == OFFICE && m.kind == "buchung-freigabe-anfrage")
            .filter_map(|m| {
                token_in(
                    &self.store.raw_message(m.id).unwrap(),
                    "/forms/buchung/freigeben/",
                )
            })
            .collect()
    }

    /// `(email, state)` of every booking, in the order of the waiting list.
    fn bookings(&self) -> Vec<(String, String)> {
        self.store
            .read(|tx| {
                tx.query_map(
                    "SELECT email, state FROM bookings ORDER BY queue_no, id",
                    &[],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
            })
            .unwrap()
    }

    fn state_of(&self, email: &str) -> String {
        self.bookings()
            .into_iter()
            .find(|(e, _)| e == email)
            .map(|(_, s)| s)
            .unwrap_or_else(|| panic!("no booking of {email}"))
    }
}

/// The token after `needle`: base64url, signed ones with a `.` (soft line
/// breaks of quoted-printable removed).
fn token_in(raw: &[u8], needle: &str) -> Option<String> {
    let text = String::from_utf8_lossy(raw).replace("=\r\n", "");
    let start = text.find(needle)? + needle.len();
    Some(
        text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .collect(),
    )
}

/// POSTs an action link with an empty body and asks for JSON.
fn act(address: &str, action: &str, token: &str) -> Reply {
    request(
        address,
        &format!(
            "POST /forms/buchung/{action}/{token} HTTP/1.1\r\nAccept: application/json\r\nContent-Length: 0"
        ),
        b"",
    )
    .unwrap_or_else(|| panic!("no answer to {action}"))
}

fn email(n: usize) -> String {
    format!("person{n:02}@gemeinde.example")
}

/// A name the form accepts (letters only), different for each `n`.
fn name(n: usize) -> String {
    let letters: String = format!("{n:02}")
        .bytes()
        .map(|d| (b'a' + (d - b'0')) as char)
        .collect();
    format!("Person Frau{letters}")
}

#[test]
fn twenty_people_one_place_approvals_on_both_nodes_and_an_offer_passed_on_once() {
    let Some(nodes) = Nodes::start() else {
        return;
    };
    let stamps = [form_stamp(nodes.node(0)), form_stamp(nodes.node(1))];
    std::thread::sleep(Duration::from_millis(1100));

    // 20 requests, each confirmed by its person, alternating between the
    // nodes; the order of the confirmations is the order in line.
    for n in 0..20 {
        let pairs = [
            ("einheit", "ein-platz".to_string()),
            ("termin", nodes.date.clone()),
            ("name", name(n)),
            ("email", email(n)),
            ("kommune", "nichtmitglied".into()),
            ("einwilligung", "ja".into()),
            ("website", String::new()),
            ("ts", stamps[n % 2].clone()),
        ];
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let body = urlencoded(&pairs);
        let r = request(
            nodes.node(n),
            &format!(
                "POST /forms/buchung HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}",
                body.len()
            ),
            body.as_bytes(),
        )
        .unwrap();
        assert_eq!(r.status, 303, "request {n}: {}", r.text());
        let r = act(
            nodes.node(n + 1),
            "bestaetigen",
            &nodes.token(&email(n), "bestaetigen"),
        );
        assert_eq!(r.status, 200, "confirmation {n}: {}", r.text());
    }
    let approvals = nodes.approval_tokens();
    assert_eq!(approvals.len(), 20, "one approval request per booking");

    // All 20 approvals at once, half on each node.
    let start = Arc::new(Barrier::new(approvals.len()));
    let posts: Vec<_> = approvals
        .into_iter()
        .enumerate()
        .map(|(i, token)| {
            let (address, start) = (nodes.node(i).to_string(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                act(&address, "freigeben", &token)
            })
        })
        .collect();
    let answers: Vec<Reply> = posts.into_iter().map(|p| p.join().unwrap()).collect();
    let states: Vec<String> = answers
        .iter()
        .map(|r| {
            assert_eq!(r.status, 200, "{}", r.text());
            r.text()
        })
        .collect();
    let confirmed = states
        .iter()
        .filter(|s| s.contains("\"bestaetigt\""))
        .count();
    let waiting = states
        .iter()
        .filter(|s| s.contains("\"warteliste\""))
        .count();
    assert_eq!((confirmed, waiting), (1, 19), "{states:?}");

    // Exactly one place given; the rest wait in the order they asked.
    let bookings = nodes.bookings();
    let holder: Vec<&String> = bookings
        .iter()
        .filter(|(_, s)| s == "bestaetigt")
        .map(|(e, _)| e)
        .collect();
    assert_eq!(holder.len(), 1, "{bookings:?}");
    let holder = holder[0].clone();
    let line: Vec<String> = bookings
        .iter()
        .filter(|(_, s)| s == "warteliste")
        .map(|(e, _)| e.clone())
        .collect();
    let asked: Vec<String> = (0..20).map(email).filter(|e| *e != holder).collect();
    assert_eq!(line, asked, "the waiting list is in request order");
    let mails = nodes.all_delivered_once();
    assert_eq!(
        mails["buchung-bestaetigt"],
        [holder.as_str()],
        "one confirmation mail"
    );

    // The holder cancels: the first in line gets the offer. Nobody accepts
    // it; its holding time is over (moved into the past here, the nodes
    // run on the real clock) and both nodes check offers every second.
    let r = act(
        nodes.node(0),
        "stornieren",
        &nodes.token(&holder, "stornieren"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let (first, second) = (line[0].clone(), line[1].clone());
    assert_eq!(nodes.state_of(&first), "angebot");
    let past = campus_forms::store::now() - 5;
    let params: [&dyn campus_forms::store::ToValue; 2] = [&past, &first];
    nodes
        .store
        .write(|tx| {
            tx.execute(
                "UPDATE bookings SET offer_until = ?1 WHERE email = ?2 AND state = 'angebot'",
                &params,
            )
        })
        .unwrap();
    wait_until("the offer lapsed and went to the next in line", || {
        nodes.state_of(&first) == "verfallen" && nodes.state_of(&second) == "angebot"
    });
    // Both nodes have checked again since.
    std::thread::sleep(Duration::from_secs(3));
    let lapses = nodes.count(
        "SELECT count(*) FROM booking_events WHERE to_state = 'verfallen'",
        &[],
    );
    assert_eq!(lapses, 1, "the offer lapsed once");
    let offers = nodes.count(
        "SELECT count(*) FROM booking_events WHERE to_state = 'angebot'",
        &[],
    );
    assert_eq!(
        offers, 2,
        "offered to the first, then to the second in line"
    );
    let mails = nodes.all_delivered_once();
    assert_eq!(mails["buchung-angebot-verfallen"], [first.as_str()]);
    assert_eq!(mails["buchung-angebot"], [first, second]);
    let third = &line[2];
    assert_eq!(nodes.state_of(third), "warteliste");
}

#[test]
fn a_mail_queued_on_one_node_is_sent_once_while_both_deliver() {
    let Some(nodes) = Nodes::start() else {
        return;
    };
    let ts = form_stamp(nodes.node(0));
    std::thread::sleep(Duration::from_millis(1100));
    // 30 contact requests, all on the first node: each queues a mail to the
    // office, which both nodes' workers try to claim.
    for n in 0..30 {
        let pairs = crate::shutdown::contact_form(&name(n), &ts);
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = post_form(
            nodes.node(0),
            "/forms/kontakt",
            "https://campus.example",
            &pairs,
        )
        .unwrap();
        assert_eq!(r.status, 303, "{}", r.text());
    }
    let mails = nodes.all_delivered_once();
    let to_office = mails.values().flatten().filter(|to| *to == OFFICE).count();
    assert_eq!(to_office, 30, "{mails:?}");
    // Each mail was claimed once: by one worker, in one attempt.
    assert_eq!(
        nodes.count("SELECT CAST(sum(attempts) AS BIGINT) FROM outbox", &[]),
        30
    );
}
