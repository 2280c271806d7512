//! Places booked on the platform count on the pages: the backend and the
//! site agree about what is still free.

use crate::support::*;
use campus_generator::incremental::LiveBuild;
use campus_generator::model::Bookings;
use chrono::NaiveDate;
use std::sync::Arc;

fn one_booking() -> Arc<Bookings> {
    let date = NaiveDate::from_ymd_opt(2027, 2, 10).unwrap();
    Arc::new(Bookings::from([(("hybrid-eins".to_string(), date), 1)]))
}

#[test]
fn booked_places_fill_a_date() {
    let site = fixture("minimal");
    build(site.path()).unwrap_or_else(|p| panic!("{p}"));
    let before = text(
        &select(
            &html(site.path(), "lerneinheiten/hybrid-eins/index.html"),
            "main",
        )[0],
    );
    assert!(
        !before.contains("Ausgebucht"),
        "one of ten places is still free: {before}"
    );

    let mut options = options(site.path());
    options.bookings = Some(one_booking());
    campus_generator::build_site(&options).unwrap_or_else(|p| panic!("{p}"));
    let after = text(
        &select(
            &html(site.path(), "lerneinheiten/hybrid-eins/index.html"),
            "main",
        )[0],
    );
    assert!(
        after.contains("Ausgebucht"),
        "the last place was booked: {after}"
    );
    // The authority's card now points to the next date with free places.
    let card = text(
        &select(
            &html(site.path(), "kommunen/mitgliedsstadt/index.html"),
            "main ul.karten > li",
        )[0],
    );
    assert!(
        card.contains("10.03.2027") || card.contains("10. März 2027"),
        "{card}"
    );
}

#[test]
fn serve_refreshes_pages_when_bookings_change() {
    let site = fixture("minimal");
    let mut live = LiveBuild::new(options(site.path()));
    live.rebuild(&[]).unwrap_or_else(|p| panic!("{p}"));
    live.set_bookings(one_booking());
    let report = live.refresh_pages().unwrap_or_else(|p| panic!("{p}"));
    assert!(
        report
            .changed
            .iter()
            .any(|c| c == "lerneinheiten/hybrid-eins/index.html"),
        "{:?}",
        report.changed
    );
    assert!(report
        .changed
        .iter()
        .any(|c| c == "kommunen/mitgliedsstadt/index.html"));
    assert!(
        !report
            .changed
            .iter()
            .any(|c| c == "lerneinheiten/selbstlernen/index.html"),
        "unrelated unit"
    );
    live.rebuild_extras();
    let mut full = options(site.path());
    full.bookings = Some(one_booking());
    let (_, outputs) = campus_generator::check_site(&full).unwrap_or_else(|p| panic!("{p}"));
    for o in outputs {
        assert_eq!(
            live.outputs().get(&o.path).map(|b| b.bytes().into_owned()),
            Some(o.bytes),
            "{}",
            o.path
        );
    }
}
