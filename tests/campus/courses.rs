//! Course pages: the form that books a whole course (a date choice per live
//! unit, the course price before sending) and the exclusive request with the
//! whole-course price of `data/exklusivkurse.yaml`, whose mistakes are
//! reported at file:line like every other content error.

use crate::support::*;
use std::path::Path;

#[test]
fn course_pages_offer_the_whole_course_and_the_exclusive_request_with_their_prices() {
    let dir = sample();
    build(dir.path()).unwrap_or_else(|p| panic!("{p}"));
    let page = html(dir.path(), "kurse/digitale-verwaltung-gestalten/index.html");
    let form = select(&page, "form[name=kurs]");
    assert_eq!(form.len(), 1);
    // One date choice per live unit of the course, each with "next possible".
    let site = load(dir.path());
    let course = site
        .courses
        .iter()
        .find(|c| c.id == "digitale-verwaltung-gestalten")
        .unwrap();
    for cu in &course.units {
        let unit = &site.units[cu.unit];
        let radios = select(&page, &format!("input[name=termin-{}]", unit.id));
        match unit.format {
            campus_generator::content::Format::Hybrid => {
                assert_eq!(
                    radios.len(),
                    unit.upcoming_dates(today()).count() + 1,
                    "{}",
                    unit.id
                );
            }
            campus_generator::content::Format::OnDemand => assert!(radios.is_empty()),
        }
    }
    let price = text(&select(&page, "#kurs-preis")[0]);
    let expected = site.course_price(course);
    // The sum of the unit prices (the number; the page's euro sign and space may differ).
    let number = expected.member.to_string();
    let number = number.split(['\u{a0}', ' ']).next().unwrap();
    assert!(
        price.contains(&format!("Kurspreis für Mitglieder {number}")),
        "{price} / {number}"
    );
    // The exclusive request with the data's whole-course price.
    assert_eq!(select(&page, "form[name=exklusiv]").len(), 1);
    let exclusive = text(&select(&page, "#exklusiv-preis")[0]);
    assert!(
        exclusive.contains("Preis für den ganzen Kurs (Mitglieder) 7.900,00"),
        "{exclusive}"
    );
    assert!(exclusive.contains("bis 20 Personen"), "{exclusive}");
    // A course missing from the file has no exclusive request.
    let check = html(dir.path(), "kurse/digitale-kompetenzen-check/index.html");
    assert!(select(&check, "form[name=exklusiv]").is_empty());
}

#[test]
fn mistakes_in_the_exclusive_prices_are_reported_with_file_and_line() {
    let dir = sample();
    write(
        dir.path(),
        "data/exklusivkurse.yaml",
        "- kurs: digitale-verwaltung-gestalten\n  preis: 7900\n  teilnehmende_hoechstens: 20\n- kurs: digitale-verwaltung-gestalen\n  preis: 100\n  teilnehmende_hoechstens: 10\n- kurs: smart-region-gestalten\n  preis: 0\n  teilnehmende_hoechstens: 10\n",
    );
    let problems = match build(dir.path()) {
        Ok(_) => panic!("build should fail"),
        Err(p) => p.0,
    };
    assert_eq!(problems.len(), 2, "{problems:#?}");
    for p in &problems {
        assert_eq!(p.file, Path::new("data/exklusivkurse.yaml"));
    }
    assert_eq!(problems[0].line, Some(4));
    assert!(
        problems[0]
            .to_string()
            .contains("Den Kurs „digitale-verwaltung-gestalen“ gibt es nicht. Meinten Sie „digitale-verwaltung-gestalten“?"),
        "{}",
        problems[0]
    );
    assert_eq!(problems[1].line, Some(8));
    assert!(
        problems[1].to_string().contains("Preis über 0 Euro"),
        "{}",
        problems[1]
    );
}

#[test]
fn a_scheduled_exclusive_course_is_one_line_of_a_valid_xrechnung() {
    use campus_forms::store::{ExclusiveState, NewExclusiveRequest};
    let dir = sample();
    let site = dir.path();
    {
        let state = campus_forms::AppState::open(site).unwrap();
        state
            .store
            .write(|tx| -> Result<(), campus_forms::store::StoreError> {
                let r = tx.insert_exclusive_request(&NewExclusiveRequest {
                    course_id: "digitale-verwaltung-gestalten",
                    course_title: "Digitale Verwaltung gestalten",
                    authority_id: "eschenbrueck",
                    name: "Ansgar Ansprech",
                    email: "ansgar@eschenbrueck.example",
                    group_size: 18,
                    period: "März 2027",
                    remarks: "",
                    price_cents: 790_000,
                    now: 1,
                })?;
                assert!(tx.answer_exclusive_request(
                    r.id,
                    ExclusiveState::Scheduled,
                    "",
                    "geschaeftsstelle:test",
                    2
                )?);
                for (unit, date) in [
                    ("prozesse-modellieren", "2027-03-09"),
                    ("e-akte-einfuehren", "2027-04-13"),
                ] {
                    tx.insert_exclusive_date(r.id, unit, unit, date)?;
                }
                Ok(())
            })
            .unwrap();
    }
    let out_dir = site.join("rechnungen");
    let args = [
        "invoices",
        "run",
        "--monat",
        "2027-03",
        "--heute",
        "2027-04-01",
        "--verzeichnis",
        out_dir.to_str().unwrap(),
    ];
    let out = crate::invoices::campus(site, &args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let xml: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    assert_eq!(xml.len(), 1, "{stdout}");
    let text = std::fs::read_to_string(&xml[0]).unwrap();
    assert!(
        text.contains(
            "Exklusiver Kurs: Digitale Verwaltung gestalten für bis zu 18 Beschäftigte (X-1)"
        ),
        "{text}"
    );
    // 7,900.00 gross = 6,638.66 net + 1,261.34 VAT (19 %).
    assert!(text.contains(">6638.66<"), "{text}");
    assert!(text.contains(">1261.34<"), "{text}");
    crate::invoices::assert_valid_xrechnung(&xml);
    // Run again: nothing left to bill.
    let again = crate::invoices::campus(site, &args);
    assert!(again.status.success());
    let count = std::fs::read_dir(&out_dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|e| e == "xml")
        })
        .count();
    assert_eq!(count, 1);
}
