//! Statements and the invoice run in the back-office `/verwaltung/rechnungen/`
//! (the same service as `campus invoices`): attended places, no-shows at the
//! share of the cancellation terms, late cancellations as recorded, places
//! without attendance reported; the preview changes nothing; a confirmed run
//! and a credit note; parallel runs (two nodes, a double click) invoice
//! nothing twice and leave no gap in the numbers; approvers see only their
//! own authority's invoices.

use crate::common::*;
use crate::verwaltung::{csrf_of, get_with, log_in, post_with, OFFICE};
use axum::http::Method;
use campus_forms::attendance::Attendance;
use campus_forms::booking::{Actor, Approver, BookingKind, BookingState};
use campus_forms::clock::Clock;
use campus_forms::config::Secret;
use campus_forms::invoice::{self, Period};
use campus_forms::store::{Change, MoveError, NewBooking, StoreError};
use campus_forms::AppState;
use std::path::Path;

/// A state whose manual clock stands at noon of `day`.
fn open_on(site: &std::path::Path, day: &str) -> AppState {
    let mut s = settings(site);
    s.per_ip_per_10_min = 1000;
    s.signing_key = Some(Secret("rechnungen-test".into()));
    s.clock = Clock::manual_at(noon(day));
    state_with(site, s)
}

const SELLER: &str = r#"
[rechnungssteller]
name = "Testcampus eG"
strasse = "Teststraße 1"
plz = "12345"
ort = "Teststadt"
ust_id = "DE123456789"
iban = "DE02120300000000202051"
bic = "BYLADEM1001"
bank = "Testbank"
ansprechperson = "Geschäftsstelle"
telefon = "0000 0000"
email = "info@campus.example"
"#;

/// The fixture site with what invoicing needs: the seller, a Leitweg-ID and
/// address for the member town and a second authority "Zweitstadt" (its own
/// approver), and terms that bill half the price for a no-show.
fn billing_site() -> tempfile::TempDir {
    let site = site_dir();
    let p = site.path();
    let toml = std::fs::read_to_string(p.join("campus.toml")).unwrap();
    std::fs::write(p.join("campus.toml"), toml + SELLER).unwrap();
    std::fs::write(
        p.join("data/stornobedingungen.yaml"),
        "kostenfrei_bis_tage_vorher: 14\nspaete_stornierung_prozent: 50\nnichterscheinen_prozent: 50\n",
    )
    .unwrap();
    let town = p.join("content/kommunen/mitgliedsstadt.md");
    let text = std::fs::read_to_string(&town).unwrap().replace(
        "freigabe: kommune\n",
        "freigabe: kommune\nleitweg_id: \"06999101-rechnung-57\"\nrechnungsanschrift:\n  strasse: Markt 1\n  plz: \"12345\"\n  ort: Mitgliedsstadt\n",
    );
    std::fs::write(&town, &text).unwrap();
    std::fs::write(
        p.join("content/kommunen/zweitstadt.md"),
        text.replace("name: Mitgliedsstadt", "name: Zweitstadt")
            .replace("freigabe@stadt.example", "freigabe@zweit.example")
            .replace("06999101-rechnung-57", "06999102-rechnung-65"),
    )
    .unwrap();
    site
}

/// Runs the official EN 16931 and XRechnung rules (scripts/validate-xrechnung,
/// the Python .ci/run installs) over XML documents; panics with the findings.
fn assert_valid_xrechnung(documents: &[(&str, &str)]) {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<_> = documents
        .iter()
        .map(|(name, xml)| {
            let f = dir.path().join(name);
            std::fs::write(&f, xml).unwrap();
            f
        })
        .collect();
    let python = std::env::var("CAMPUS_XRECHNUNG_PYTHON").unwrap_or_else(|_| {
        let venv = "/opt/xrechnung-venv/bin/python";
        if Path::new(venv).exists() {
            venv
        } else {
            "python3"
        }
        .to_string()
    });
    let out = std::process::Command::new(python)
        .arg(repo_root().join("scripts/validate-xrechnung"))
        .args(&files)
        .output()
        .expect("python for scripts/validate-xrechnung (see .ci/run)");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "validator refused:\n{text}");
    assert_eq!(text.matches(": gültig").count(), files.len(), "{text}");
}

/// Noon UTC of an ISO day.
fn noon(day: &str) -> i64 {
    chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp()
}

struct Place<'a> {
    authority: &'a str,
    name: &'a str,
    price: i64,
    date: &'a str,
    state: BookingState,
    attendance: Option<Attendance>,
    cancel_fee: Option<i64>,
}

fn place<'a>(authority: &'a str, name: &'a str, price: i64, date: &'a str) -> Place<'a> {
    Place {
        authority,
        name,
        price,
        date,
        state: BookingState::Confirmed,
        attendance: Some(Attendance::Attended),
        cancel_fee: None,
    }
}

/// Stores the places as the workflow leaves them; returns their ids.
fn book(state: &AppState, places: &[Place]) -> Vec<i64> {
    let at = noon("2027-02-01");
    state
        .store
        .write(|tx| {
            let mut ids = Vec::new();
            for p in places {
                let row = tx.insert_booking(&NewBooking {
                    kind: BookingKind::Booking,
                    unit_id: "hybrid-eins",
                    unit_title: "Hybrid eins",
                    wanted: p.date,
                    name: p.name,
                    email: "person@stadt.example",
                    authority_id: p.authority,
                    member: true,
                    price_cents: p.price,
                    approver: Approver::Cooperative,
                    approver_email: OFFICE,
                    state: BookingState::Unconfirmed,
                    consent_id: None,
                    ip_hash: "h",
                    actor: &Actor::System,
                    now: at,
                })?;
                tx.move_to(
                    row.id,
                    BookingState::Unconfirmed,
                    p.state,
                    &Actor::System,
                    Change::at(at).live_date(Some(p.date)),
                )
                .map_err(|e| match e {
                    MoveError::Store(s) => s,
                    other => panic!("{other}"),
                })?;
                if let Some(fee) = p.cancel_fee {
                    tx.set_cancel_fee(row.id, fee)?;
                }
                if let Some(a) = p.attendance {
                    tx.record_attendance(row.id, a, OFFICE, "verwaltung", noon(p.date))?;
                }
                ids.push(row.id);
            }
            Ok::<_, StoreError>(ids)
        })
        .unwrap()
}

fn invoice_count(state: &AppState) -> usize {
    state.store.read(|tx| tx.invoices(None)).unwrap().len()
}

/// A March with one case of each kind at Mitgliedsstadt.
fn march(state: &AppState) -> Vec<i64> {
    book(
        state,
        &[
            place("mitgliedsstadt", "Anna Anwesend", 19_900, "2027-03-10"),
            Place {
                attendance: Some(Attendance::NoShow),
                ..place(
                    "mitgliedsstadt",
                    "Nico Nichterschienen",
                    19_900,
                    "2027-03-10",
                )
            },
            Place {
                state: BookingState::Cancelled,
                attendance: None,
                cancel_fee: Some(14_950),
                ..place("mitgliedsstadt", "Sina Spätstorno", 29_900, "2027-03-17")
            },
            Place {
                attendance: None,
                ..place("mitgliedsstadt", "Olaf Ohneliste", 19_900, "2027-03-17")
            },
            place("mitgliedsstadt", "April Anders", 19_900, "2027-04-07"),
        ],
    )
}

#[tokio::test]
async fn the_statement_bills_attendance_no_shows_and_late_cancellations_and_reports_missing_records(
) {
    let site = billing_site();
    let state = open_on(site.path(), "2027-04-02");
    let ids = march(&state);
    let loaded = state.loaded();
    let period = Period::month("2027-03").unwrap();
    let statements = invoice::statements(&state.store, &loaded.site, period, None).unwrap();
    assert_eq!(statements.len(), 1, "{statements:#?}");
    let s = &statements[0];
    assert_eq!(s.name, "Stadt Mitgliedsstadt");
    assert_eq!(s.refused, None);
    let figures: Vec<_> = s
        .lines
        .iter()
        .map(|l| (l.item_key.as_str(), l.net_cents, l.vat_cents, l.gross_cents))
        .collect();
    let key = |kind: &str, i: usize| format!("{kind}:{}", ids[i]);
    assert_eq!(
        figures,
        [
            // Attended: the full 199,00 € = 167,23 € + 31,77 €.
            (key("buchung", 0).as_str(), 16_723, 3_177, 19_900),
            // No-show: 50 % of the terms, 99,50 € = 83,61 € + 15,89 €.
            (key("buchung", 1).as_str(), 8_361, 1_589, 9_950),
            // Late cancellation as recorded: 149,50 € = 125,63 € + 23,87 €.
            (key("storno", 2).as_str(), 12_563, 2_387, 14_950),
        ]
    );
    assert!(s.lines[1]
        .description
        .starts_with("Nicht erschienen (Anteil laut Stornobedingungen): Hybrid eins – Nico"));
    // Sums per rate are the sums of the rounded lines.
    assert_eq!(
        (s.net_cents(), s.vat_cents(), s.gross_cents()),
        (37_647, 7_153, 44_800)
    );
    // No attendance yet: reported, neither billed nor dropped.
    assert_eq!(
        s.unrecorded.iter().map(|b| b.id).collect::<Vec<_>>(),
        [ids[3]]
    );

    // The back-office preview shows the same, and changes nothing.
    let cookie = log_in(&state, OFFICE).await;
    let page = get_with(
        &state,
        Method::GET,
        "/verwaltung/rechnungen/?monat=2027-03",
        Some(&cookie),
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    for wanted in [
        "167,23\u{a0}€",
        "83,61\u{a0}€",
        "125,63\u{a0}€",
        "<th scope=\"row\">Summe 19&nbsp;% USt</th><td></td><td class=\"zahl\">376,47\u{a0}€</td><td class=\"zahl\">71,53\u{a0}€</td><td class=\"zahl\">448,00\u{a0}€</td>",
        &format!("href=\"/verwaltung/buchungen/{}\">B-{}</a>: Hybrid eins", ids[3], ids[3]),
    ] {
        assert!(page.body.contains(wanted), "{wanted} in {}", page.body);
    }
    assert!(!page.body.contains("April Anders"), "{}", page.body);
    assert_eq!(invoice_count(&state), 0, "GET invoices nothing");

    // A wrong month: the German message at the field, nothing else shown.
    let bad = get_with(
        &state,
        Method::GET,
        "/verwaltung/rechnungen/?monat=2027-3x",
        Some(&cookie),
    )
    .await;
    assert_eq!(bad.status, 422);
    assert!(bad
        .body
        .contains("href=\"#rechnungslauf-monat\">„2027-3x“ ist kein Monat"));
    assert!(bad.body.contains("value=\"2027-3x\""), "input kept");

    // The run needs the CSRF token and the confirmation.
    let csrf = csrf_of(&page.body);
    let r = post_with(
        &state,
        "/verwaltung/rechnungen/lauf",
        Some(&cookie),
        &[("monat", "2027-03")],
    )
    .await;
    assert_eq!(r.status, 403);
    let r = post_with(
        &state,
        "/verwaltung/rechnungen/lauf",
        Some(&cookie),
        &[("csrf", &csrf), ("monat", "2027-03")],
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(r
        .body
        .contains("href=\"#rechnungslauf-bestaetigt\">Bitte bestätigen Sie"));
    assert_eq!(invoice_count(&state), 0);
    let run = [
        ("csrf", csrf.as_str()),
        ("monat", "2027-03"),
        ("bestaetigt", "ja"),
    ];
    let r = post_with(&state, "/verwaltung/rechnungen/lauf", Some(&cookie), &run).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some("/verwaltung/rechnungen/?monat=2027-03&erstellt=1")
    );
    let inv = invoice::load(&state.store, &loaded.site, 1)
        .unwrap()
        .unwrap();
    assert_eq!(
        (inv.row.net_cents, inv.row.vat_cents, inv.row.gross_cents),
        (37_647, 7_153, 44_800)
    );
    assert_eq!(invoice::per_rate(&inv.lines), [(19, 37_647, 7_153, 44_800)]);

    // The office records the missing attendance: the next run bills it alone.
    state
        .store
        .write(|tx| tx.record_attendance(ids[3], Attendance::Attended, OFFICE, "verwaltung", 0))
        .unwrap();
    let r = post_with(&state, "/verwaltung/rechnungen/lauf", Some(&cookie), &run).await;
    assert_eq!(
        r.location.as_deref(),
        Some("/verwaltung/rechnungen/?monat=2027-03&erstellt=1")
    );
    let second = invoice::load(&state.store, &loaded.site, 2)
        .unwrap()
        .unwrap();
    assert_eq!(second.lines.len(), 1);
    assert_eq!(second.lines[0].booking_id, Some(ids[3]));
    let r = post_with(&state, "/verwaltung/rechnungen/lauf", Some(&cookie), &run).await;
    assert_eq!(
        r.location.as_deref(),
        Some("/verwaltung/rechnungen/?monat=2027-03&erstellt=0")
    );
    assert_eq!(invoice_count(&state), 2);
}

#[tokio::test]
async fn files_credit_notes_and_what_approvers_see() {
    let site = billing_site();
    let state = open_on(site.path(), "2027-04-02");
    book(
        &state,
        &[
            place("mitgliedsstadt", "Anna Anwesend", 19_900, "2027-03-10"),
            place("zweitstadt", "Zora Zweit", 29_900, "2027-03-10"),
        ],
    );
    let office = log_in(&state, OFFICE).await;
    let page = get_with(
        &state,
        Method::GET,
        "/verwaltung/rechnungen/",
        Some(&office),
    )
    .await;
    // The default month is the one before today's.
    assert!(page.body.contains("value=\"2027-03\""), "{}", page.body);
    let csrf = csrf_of(&page.body);
    // A double click: two runs at once make the two invoices between them.
    let run = [
        ("csrf", csrf.as_str()),
        ("monat", "2027-03"),
        ("bestaetigt", "ja"),
    ];
    let (a, b) = tokio::join!(
        post_with(&state, "/verwaltung/rechnungen/lauf", Some(&office), &run),
        post_with(&state, "/verwaltung/rechnungen/lauf", Some(&office), &run),
    );
    let made: u32 = [a, b]
        .iter()
        .map(|r| {
            assert_eq!(r.status, 303, "{}", r.body);
            let l = r.location.as_deref().unwrap();
            l.rsplit("erstellt=")
                .next()
                .unwrap()
                .parse::<u32>()
                .unwrap()
        })
        .sum();
    assert_eq!(made, 2);
    let numbers: Vec<_> = state
        .store
        .read(|tx| tx.invoices(None))
        .unwrap()
        .into_iter()
        .map(|i| (i.number, i.authority_id))
        .collect();
    assert_eq!(
        numbers,
        [
            (2, "zweitstadt".to_string()),
            (1, "mitgliedsstadt".to_string())
        ]
    );

    let pdf = get_with(
        &state,
        Method::GET,
        "/verwaltung/rechnungen/KC-000001.pdf",
        Some(&office),
    )
    .await;
    assert_eq!(pdf.status, 200);
    assert_eq!(pdf.headers["content-type"], "application/pdf");
    assert!(pdf.body.starts_with("%PDF-"));
    let xml = get_with(
        &state,
        Method::GET,
        "/verwaltung/rechnungen/KC-000001.xml",
        Some(&office),
    )
    .await;
    assert!(xml
        .body
        .contains("<cbc:BuyerReference>06999101-rechnung-57</cbc:BuyerReference>"));
    let csv = get_with(
        &state,
        Method::GET,
        "/verwaltung/rechnungen/rechnungen-2027-03.csv",
        Some(&office),
    )
    .await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.body.lines().count(), 3, "{}", csv.body);
    assert!(csv.body.contains("KC-000001") && csv.body.contains("KC-000002"));

    // Credit note: the confirmation page changes nothing, the POST makes it once.
    let confirm = get_with(
        &state,
        Method::GET,
        "/verwaltung/rechnungen/KC-000001/gutschrift",
        Some(&office),
    )
    .await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert_eq!(invoice_count(&state), 2);
    let r = post_with(
        &state,
        "/verwaltung/rechnungen/KC-000001/gutschrift",
        Some(&office),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        r.location.as_deref(),
        Some("/verwaltung/rechnungen/?gutschrift=KC-000003")
    );
    let again = post_with(
        &state,
        "/verwaltung/rechnungen/KC-000001/gutschrift",
        Some(&office),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(again.status, 409);
    assert!(again
        .body
        .contains("Zu KC-000001 gibt es schon die Gutschrift KC-000003."));
    assert_eq!(invoice_count(&state), 3);
    let note = get_with(
        &state,
        Method::GET,
        "/verwaltung/rechnungen/KC-000003.xml",
        Some(&office),
    )
    .await;
    assert!(note
        .body
        .contains("<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>"));
    assert_valid_xrechnung(&[("KC-000001.xml", &xml.body), ("KC-000003.xml", &note.body)]);

    // The approver of Mitgliedsstadt: its invoice and credit note, nothing else.
    let approver = log_in(&state, "freigabe@stadt.example").await;
    let list = get_with(
        &state,
        Method::GET,
        "/verwaltung/rechnungen/",
        Some(&approver),
    )
    .await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains("KC-000001 als PDF") && list.body.contains("KC-000003 als PDF"));
    assert!(!list.body.contains("KC-000002") && !list.body.contains("Zweitstadt"));
    assert!(
        !list.body.contains("Rechnungslauf für"),
        "no run for approvers"
    );
    let own = get_with(
        &state,
        Method::GET,
        "/verwaltung/rechnungen/KC-000001.pdf",
        Some(&approver),
    )
    .await;
    assert_eq!(own.status, 200);
    for path in [
        "/verwaltung/rechnungen/KC-000002.pdf",
        "/verwaltung/rechnungen/KC-000002.xml",
        "/verwaltung/rechnungen/rechnungen-2027-03.csv",
        "/verwaltung/rechnungen/KC-000001/gutschrift",
        "/verwaltung/rechnungen/KC-000099.pdf",
    ] {
        let r = get_with(&state, Method::GET, path, Some(&approver)).await;
        assert_eq!(r.status, 404, "{path}");
        assert!(!r.body.contains("Zora"), "{path}");
    }
    let token = csrf_of(&list.body);
    for path in [
        "/verwaltung/rechnungen/lauf",
        "/verwaltung/rechnungen/KC-000002/gutschrift",
    ] {
        let r = post_with(
            &state,
            path,
            Some(&approver),
            &[("csrf", &token), ("monat", "2027-03"), ("bestaetigt", "ja")],
        )
        .await;
        assert_eq!(r.status, 404, "{path}");
    }
    assert_eq!(invoice_count(&state), 3);
}

/// Every invoice line's booking, and the numbers, after parallel runs.
fn numbers_and_billed(state: &AppState) -> (Vec<i64>, Vec<i64>) {
    state
        .store
        .read(|tx| {
            let rows = tx.invoices(None)?;
            let mut numbers: Vec<i64> = rows.iter().map(|r| r.number).collect();
            numbers.sort();
            let mut billed = Vec::new();
            for r in &rows {
                billed.extend(tx.invoice_lines(r.id)?.iter().filter_map(|l| l.booking_id));
            }
            billed.sort();
            Ok((numbers, billed))
        })
        .unwrap()
}

#[test]
fn parallel_runs_on_two_nodes_invoice_everything_once_without_gaps() {
    let site = billing_site();
    let nodes = [state(site.path()), state(site.path())];
    let months = ["2027-01", "2027-02", "2027-03", "2027-04"];
    let mut places = Vec::new();
    for (i, m) in months.iter().enumerate() {
        for (authority, day) in [("mitgliedsstadt", "10"), ("zweitstadt", "17")] {
            places.push((authority, format!("{m}-{day}"), i));
        }
    }
    let list: Vec<Place> = places
        .iter()
        .flat_map(|(a, d, _)| {
            [
                place(a, "Erste Person", 19_900, d),
                place(a, "Zweite Person", 29_900, d),
            ]
        })
        .collect();
    let mut ids = book(&nodes[0], &list);
    // Each month run three times at once on each node (double clicks on two
    // nodes), all months at the same time.
    std::thread::scope(|scope| {
        for node in &nodes {
            for m in months {
                for _ in 0..3 {
                    scope.spawn(move || {
                        let loaded = node.loaded();
                        invoice::run(
                            &node.store,
                            &loaded.site,
                            Period::month(m).unwrap(),
                            None,
                            noon("2027-05-02"),
                        )
                        .unwrap()
                    });
                }
            }
        }
    });
    let (numbers, billed) = numbers_and_billed(&nodes[1]);
    // Four months × two authorities, numbered 1..=8 without a gap.
    assert_eq!(numbers, (1..=8).collect::<Vec<_>>());
    ids.sort();
    assert_eq!(billed, ids, "every booking exactly once");
}

#[tokio::test]
async fn a_run_without_seller_or_leitweg_id_is_refused_in_german_and_invoices_nothing() {
    // The plain fixture: no [rechnungssteller], no Leitweg-ID.
    let site = site_dir();
    let state = open_on(site.path(), "2027-04-02");
    book(
        &state,
        &[place(
            "mitgliedsstadt",
            "Anna Anwesend",
            19_900,
            "2027-03-10",
        )],
    );
    let office = log_in(&state, OFFICE).await;
    let page = get_with(
        &state,
        Method::GET,
        "/verwaltung/rechnungen/?monat=2027-03",
        Some(&office),
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(page
        .body
        .contains("Rechnungslauf nicht möglich: campus.toml hat keine Tabelle [rechnungssteller]"));
    assert!(page.body.contains("„leitweg_id“ fehlt"), "{}", page.body);
    assert!(
        !page.body.contains("/verwaltung/rechnungen/lauf"),
        "no run offered"
    );
    let csrf = csrf_of(&page.body);
    let run = [
        ("csrf", csrf.as_str()),
        ("monat", "2027-03"),
        ("bestaetigt", "ja"),
    ];
    let r = post_with(&state, "/verwaltung/rechnungen/lauf", Some(&office), &run).await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("[rechnungssteller]"));

    // With the seller, the missing Leitweg-ID still stops the whole run,
    // even for "Aachtal" before it, which could be invoiced.
    let toml = std::fs::read_to_string(site.path().join("campus.toml")).unwrap();
    std::fs::write(site.path().join("campus.toml"), toml + SELLER).unwrap();
    let town = std::fs::read_to_string(site.path().join("content/kommunen/mitgliedsstadt.md"))
        .unwrap()
        .replace("name: Mitgliedsstadt", "name: Aachtal")
        .replace("freigabe@stadt.example", "freigabe@aachtal.example")
        .replace(
            "freigabe: kommune\n",
            "freigabe: kommune\nleitweg_id: \"06999102-rechnung-65\"\nrechnungsanschrift:\n  strasse: Markt 1\n  plz: \"12345\"\n  ort: Aachtal\n",
        );
    std::fs::write(site.path().join("content/kommunen/aachtal.md"), town).unwrap();
    let state = open_on(site.path(), "2027-04-02");
    book(
        &state,
        &[place("aachtal", "Berta Bach", 19_900, "2027-03-10")],
    );
    assert_eq!(state.loaded().site.authorities[0].id, "aachtal");
    let office = log_in(&state, OFFICE).await;
    let page = get_with(
        &state,
        Method::GET,
        "/verwaltung/rechnungen/",
        Some(&office),
    )
    .await;
    let csrf = csrf_of(&page.body);
    let run = [
        ("csrf", csrf.as_str()),
        ("monat", "2027-03"),
        ("bestaetigt", "ja"),
    ];
    let r = post_with(&state, "/verwaltung/rechnungen/lauf", Some(&office), &run).await;
    assert_eq!(r.status, 409);
    assert!(
        r.body
            .contains("Rechnungslauf nicht möglich: Stadt Mitgliedsstadt: „leitweg_id“ fehlt"),
        "{}",
        r.body
    );
    assert_eq!(invoice_count(&state), 0);
}
