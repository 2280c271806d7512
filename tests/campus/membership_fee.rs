//! The yearly fee rule in `data/mitgliedschaft.yaml`: validated at its
//! lines, and what the membership page and `Membership::yearly_fee` use.

use crate::support::*;
use campus_generator::money::Cents;
use campus_generator::ProblemKind;
use std::path::Path;

#[test]
fn fee_rule_mistakes_are_reported_at_their_lines_all_at_once() {
    let site = fixture("minimal");
    let file = "data/mitgliedschaft.yaml";
    edit(
        site.path(),
        file,
        "jahresbeitrag_faktor: 2",
        "jahresbeitrag_faktor: -2",
    );
    edit(
        site.path(),
        file,
        "prozent_der_buchungen: 50",
        "prozent_der_buchungen: 150",
    );
    edit(
        site.path(),
        file,
        "hoechstens_prozent: 100",
        "hoechstens_prozent: 101",
    );
    let problems = match build(site.path()) {
        Ok(_) => panic!("build should fail"),
        Err(p) => p.0,
    };
    let found: Vec<(Option<u64>, &'static str)> = problems
        .iter()
        .filter(|p| p.file == Path::new(file))
        .filter_map(|p| match p.kind {
            ProblemKind::InvalidValue { field, .. } => Some((p.line, field)),
            _ => None,
        })
        .collect();
    assert_eq!(
        found,
        [
            (Some(14), "jahresbeitrag_faktor"),
            (Some(16), "prozent_der_buchungen"),
            (Some(17), "hoechstens_prozent"),
        ],
        "{problems:#?}"
    );
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(
        problems[1].to_string().contains("(hier 150)"),
        "{}",
        problems[1]
    );
}

#[test]
fn the_rule_from_the_data_file_drives_the_fee_and_the_page() {
    let site = fixture("minimal");
    edit(
        site.path(),
        "data/mitgliedschaft.yaml",
        "prozent_der_buchungen: 50",
        "prozent_der_buchungen: 20",
    );
    edit(
        site.path(),
        "data/mitgliedschaft.yaml",
        "hoechstens_prozent: 100",
        "hoechstens_prozent: 30",
    );
    let loaded = load(site.path());
    // 730 employees: 8,000 EUR fee; 20 % of 5,000 EUR bookings = 1,000 EUR.
    let fee = loaded.membership.yearly_fee(730, Cents::from_euros(5000));
    assert_eq!(fee.fee, Cents::from_euros(8000));
    assert_eq!(fee.reduction, Cents::from_euros(1000));
    assert_eq!(fee.reduced, Cents::from_euros(7000));
    // Capped at 30 % of the fee.
    let fee = loaded.membership.yearly_fee(730, Cents::from_euros(50_000));
    assert_eq!(fee.reduced, Cents::from_euros(5600));

    build(site.path()).unwrap_or_else(|p| panic!("{p}"));
    let page = read(&site.path().join("public"), "mitgliedschaft/index.html");
    assert!(
        // Numbers keep their unit on the line (no-break space before %).
        page.contains("sinkt um 20\u{a0}% dieser Summe, höchstens um 30\u{a0}%"),
        "{page}"
    );
    assert!(page.contains("\"reduction_percent\":20"), "{page}");
    assert!(page.contains("\"reduction_max_percent\":30"), "{page}");
    assert!(page.contains("name=\"buchungen\""), "{page}");
}
