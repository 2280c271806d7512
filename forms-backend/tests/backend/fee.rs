//! The yearly fee and its reduction by bookings in the calculator without
//! JavaScript and as JSON: the rule comes from `data/mitgliedschaft.yaml`.

use crate::common::*;
use axum::body::Body;
use axum::http::{header, Request};

#[tokio::test]
async fn calculator_shows_fee_reduction_and_reduced_fee() {
    let site = site_dir();
    let state = state(site.path());
    // 750 employees: 4 shares, 4,000 EUR deposit, 8,000 EUR fee; half of
    // 3,000 EUR bookings off.
    let r = get(
        &state,
        "/forms/mitgliedschaft/rechner?beschaeftigte=750&buchungen=3.000",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for (label, amount) in [
        ("Jahresbeitrag vor Minderung", "8.000,00"),
        ("Buchungen im Vorjahr", "3.000,00"),
        ("Minderung durch Buchungen", "1.500,00"),
        ("Jahresbeitrag nach Minderung", "6.500,00"),
    ] {
        let row = format!("<dt>{label}</dt><dd>{amount}\u{a0}€</dd>");
        assert!(r.body.contains(&row), "{row} in {}", r.body);
    }
    // The typed amount stays in the form.
    assert!(r.body.contains("value=\"3.000\""), "{}", r.body);

    let json = |query: &str| {
        Request::get(format!("/forms/mitgliedschaft/rechner?{query}"))
            .header(header::ACCEPT, "application/json")
            .body(Body::empty())
            .unwrap()
    };
    let j = send(&state, json("beschaeftigte=40&buchungen=5000,50"))
        .await
        .json();
    // 1 share, 2,000 EUR fee, 2,500.25 EUR credit capped at the whole fee.
    assert_eq!(j["annual_fee"], 200_000);
    assert_eq!(j["reduction"], 200_000);
    assert_eq!(j["reduced_fee"], 0);
    let j = send(&state, json("beschaeftigte=40")).await.json();
    assert_eq!(
        (j["reduction"].as_i64(), j["reduced_fee"].as_i64()),
        (Some(0), Some(200_000))
    );

    // A bad amount is a German message, the number of employees kept.
    let r = get(
        &state,
        "/forms/mitgliedschaft/rechner?beschaeftigte=750&buchungen=viel",
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body
            .contains("Bitte geben Sie die Buchungen als Betrag in Euro an"),
        "{}",
        r.body
    );
    assert!(
        !r.body.contains("Zahl der Beschäftigten als ganze Zahl"),
        "{}",
        r.body
    );
    assert!(r.body.contains("value=\"750\""), "{}", r.body);
    let r = send(&state, json("beschaeftigte=750&buchungen=-3")).await;
    assert_eq!(r.status, 422);
    assert!(r.json()["errors"]["buchungen"].is_string());
}
