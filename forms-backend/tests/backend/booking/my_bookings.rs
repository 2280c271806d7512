//! "Meine Buchungen": the link by mail (same answer for every address,
//! limited), the signed overview (GET changes nothing), calendar download.

use super::journey::{calendar_of, parse_ics};
use super::*;

async fn ask(state: &AppState, email: &str) -> Reply {
    post_form(state, "/forms/meine-buchungen/", &[("email", email)]).await
}

#[tokio::test]
async fn my_bookings_by_mail_link_with_cancel_and_calendar() {
    let site = site_dir();
    let d = weekday_in(40);
    write_unit(site.path(), "eins", "Erste Einheit", &[(d, 5, 0)]);
    write_unit(site.path(), "voll", "Volle Einheit", &[(d, 1, 1)]);
    let mut settings = test_settings(site.path());
    settings.clock = Clock::manual();
    let state = state_with(site.path(), settings);
    let eva = "eva@gemeinde.example";
    let confirmed = book(&state, eva, "nichtmitglied", "eins", &iso(d)).await;
    // The hourly per-recipient limit also holds for confirmation mails.
    state.settings.clock.advance(Duration::from_secs(7200));
    let waiting = book(&state, eva, "nichtmitglied", "voll", &iso(d)).await;
    assert_eq!(confirmed.state, BookingState::Confirmed);
    assert_eq!(waiting.state, BookingState::Waiting);
    // The booking mails point to the page.
    let mail = text_of(&mails(&state, eva, "buchung-bestaetigt")[0]);
    assert!(mail.contains("/forms/meine-buchungen/"), "{mail}");
    let form = get(&state, "/forms/meine-buchungen/").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("name=\"email\""));
    // Later (the booking mails no longer count towards the hourly limit).
    state.settings.clock.advance(Duration::from_secs(7200));

    // Known and unknown addresses get the same answer; only the known one a mail.
    let known = ask(&state, "Eva@Gemeinde.example").await;
    let unknown = ask(&state, "niemand@gemeinde.example").await;
    assert_eq!((known.status, unknown.status), (200, 200));
    assert_eq!(
        known.body.replace("Eva@Gemeinde.example", "X"),
        unknown.body.replace("niemand@gemeinde.example", "X")
    );
    assert_eq!(mails(&state, eva, "meine-buchungen").len(), 1);
    assert!(mails(&state, "niemand@gemeinde.example", "meine-buchungen").is_empty());
    // Asking again and again: at most the hourly limit of mails.
    for _ in 0..5 {
        assert_eq!(ask(&state, eva).await.status, 200);
    }
    assert_eq!(
        mails(&state, eva, "meine-buchungen").len(),
        state.settings.per_recipient_per_hour as usize
    );
    // Bad input: the form again with a German message and the input kept.
    let bad = ask(&state, "eva-at-gemeinde").await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("gültige E-Mail-Adresse"), "{}", bad.body);
    assert!(bad.body.contains("value=\"eva-at-gemeinde\""));

    // The overview: both bookings; looking changes nothing.
    let url = link_in(
        &mails(&state, eva, "meine-buchungen")[0],
        &format!("{}/forms/meine-buchungen/", base(&state)),
    );
    let before = snapshot(&state);
    let page = get(&state, &path_of(&url)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(snapshot(&state), before, "GET changes nothing");
    for s in [
        "Erste Einheit",
        "Volle Einheit",
        &format!("B-{}", confirmed.id),
        "Platz 1 der Warteliste",
        "/forms/buchung/stornieren/",
        "ICS-Datei",
    ] {
        assert!(page.body.contains(s), "{s} in {}", page.body);
    }
    // The calendar download is the entry of the last mail (same UID and SEQUENCE).
    let ics_path = format!("{}/kalender/{}.ics", path_of(&url), confirmed.id);
    let file = get(&state, &ics_path).await;
    assert_eq!(file.status, 200);
    assert!(file.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/calendar"));
    let (_, mailed) = calendar_of(&mails(&state, eva, "buchung-bestaetigt")[0]).unwrap();
    let (from_page, from_mail) = (parse_ics(file.body.as_bytes()), parse_ics(&mailed));
    assert_eq!(from_page["events"][0]["uid"], from_mail["events"][0]["uid"]);
    assert_eq!(
        from_page["events"][0]["sequence"],
        from_mail["events"][0]["sequence"]
    );
    assert_eq!(snapshot(&state), before);
    // Someone else's booking or a waiting place has no file behind this link.
    let other = book(
        &state,
        "otto@gemeinde.example",
        "nichtmitglied",
        "eins",
        &iso(d),
    )
    .await;
    let not_mine = format!("{}/kalender/{}.ics", path_of(&url), other.id);
    assert_eq!(get(&state, &not_mine).await.status, 404);
    let no_file = format!("{}/kalender/{}.ics", path_of(&url), waiting.id);
    assert_eq!(get(&state, &no_file).await.status, 404);
    // A forged link, and the real one after its time, are refused.
    let forged = format!("{}x", path_of(&url));
    assert_eq!(get(&state, &forged).await.status, 410);
    state
        .settings
        .clock
        .advance(state.settings.confirm_valid + Duration::from_secs(60));
    let late = get(&state, &path_of(&url)).await;
    assert_eq!(late.status, 410);
    assert!(late.body.contains("abgelaufen"), "{}", late.body);
}
