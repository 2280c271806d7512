//! Events (`content/veranstaltungen/`): the list with upcoming events first,
//! one page each with the registration form while it is upcoming, the next
//! events on the home page and on authority pages (members-only events only
//! for members), sitemap and calendar file; and the editors' mistakes
//! (file:line, all at once, German).

use crate::support::*;
use campus_generator::ProblemKind;
use std::path::Path;

fn event(title: &str, date: &str, audience: &str, venue: &str) -> String {
    format!(
        "---
titel: {title}
kurzbeschreibung: Kurz gesagt.
datum: {date}
beginn: \"18:30\"
ende: \"20:00\"
{venue}
plaetze: 12
teilnahme: {audience}
---
Worum es **geht**.
"
    )
}

/// The minimal fixture (today is 2026-12-01) with a past, an open and a
/// members-only event.
fn site_with_events() -> tempfile::TempDir {
    let site = fixture("minimal");
    let place = "ort: \"Rathaus, Markt 1, 12345 Teststadt\"";
    let online = "online_link: https://lernen.example/raum/geheim";
    for (id, text) in [
        (
            "vorbei",
            event("Vergangener Dialog", "2026-11-02", "mitglieder", place),
        ),
        (
            "offener-markt",
            event("Offener Markt", "2027-03-11", "alle", place),
        ),
        (
            "lernraum",
            event("Lernraum", "2027-01-14", "mitglieder", online),
        ),
    ] {
        write(
            site.path(),
            &format!("content/veranstaltungen/{id}.md"),
            &text,
        );
    }
    site
}

#[test]
fn list_shows_upcoming_events_first_and_past_ones_without_registration() {
    let site = site_with_events();
    build(site.path()).unwrap_or_else(|p| panic!("{p}"));
    let doc = html(site.path(), "veranstaltungen/index.html");
    let sections = select(&doc, "main section");
    let titles = |i: usize| -> Vec<String> {
        sections[i]
            .select(&scraper::Selector::parse(".karte-titel").unwrap())
            .map(|e| text(&e))
            .collect()
    };
    assert_eq!(
        titles(0),
        vec!["Lernraum", "Offener Markt"],
        "soonest first"
    );
    assert_eq!(titles(1), vec!["Vergangener Dialog"]);
    // The word joiner keeps "18:30–20:00" on one line.
    let first = text(&select(&doc, "main section .karte")[0]).replace('\u{2060}', "");
    assert!(first.contains("Donnerstag, 14. Januar 2027"), "{first}");
    assert!(first.contains("18:30–20:00 Uhr"), "{first}");
    assert!(first.contains("online"), "{first}");
    assert!(first.contains("noch 12 freie Plätze"), "{first}");

    let past = html(site.path(), "veranstaltungen/vorbei/index.html");
    assert!(
        select(&past, "form[name=veranstaltung]").is_empty(),
        "no registration for a past event"
    );
    assert!(text(&select(&past, "main")[0]).contains("bereits stattgefunden"));
    assert!(!site
        .path()
        .join("public/veranstaltungen/vorbei/kalender.ics")
        .exists());

    let page = html(site.path(), "veranstaltungen/lernraum/index.html");
    let form = select(&page, "form[name=veranstaltung]");
    assert_eq!(form.len(), 1);
    assert_eq!(form[0].value().attr("action"), Some("/forms/veranstaltung"));
    let main = text(&select(&page, "main")[0]);
    assert!(main.contains("18:30 bis 20:00 Uhr"), "{main}");
    assert!(
        !read(site.path(), "public/veranstaltungen/lernraum/index.html").contains("geheim"),
        "the meeting link is only for registered people"
    );
    // A members-only event offers member authorities only.
    let options: Vec<String> = select(&page, "select[name=kommune] option")
        .iter()
        .map(|o| o.value().attr("value").unwrap_or("").to_string())
        .collect();
    assert!(
        options.contains(&"mitgliedsstadt".to_string()),
        "{options:?}"
    );
    assert!(
        !options.contains(&"nichtmitglied".to_string()),
        "{options:?}"
    );

    let ics = read(
        site.path(),
        "public/veranstaltungen/offener-markt/kalender.ics",
    );
    assert!(
        ics.contains("DTSTART;TZID=Europe/Berlin:20270311T183000\r\n"),
        "{ics}"
    );
    assert!(
        ics.contains("DTEND;TZID=Europe/Berlin:20270311T200000\r\n"),
        "{ics}"
    );
    assert!(ics.contains("BEGIN:VTIMEZONE"));
    assert!(!read(site.path(), "public/veranstaltungen/lernraum/kalender.ics").contains("geheim"));

    let sitemap = read(site.path(), "public/sitemap.xml");
    for url in [
        "/veranstaltungen/",
        "/veranstaltungen/lernraum/",
        "/veranstaltungen/offener-markt/",
    ] {
        assert!(
            sitemap.contains(&format!("{url}</loc>")),
            "{url} in {sitemap}"
        );
    }
}

#[test]
fn home_and_authority_pages_show_the_events_their_staff_may_attend() {
    let site = site_with_events();
    build(site.path()).unwrap_or_else(|p| panic!("{p}"));
    let titles = |rel: &str| -> Vec<String> {
        let doc = html(site.path(), rel);
        select(&doc, "#veranstaltungen-titel ~ ul .karte-titel")
            .iter()
            .map(text)
            .collect()
    };
    assert_eq!(titles("index.html"), vec!["Lernraum", "Offener Markt"]);
    assert_eq!(
        titles("kommunen/mitgliedsstadt/index.html"),
        vec!["Lernraum", "Offener Markt"]
    );
    assert_eq!(
        titles("kommunen/nichtmitglied/index.html"),
        vec!["Offener Markt"],
        "members-only events are not offered to a non-member's staff"
    );
}

#[test]
fn a_site_without_events_has_an_empty_list_and_no_menu_entry() {
    let site = fixture("minimal");
    build(site.path()).unwrap_or_else(|p| panic!("{p}"));
    let doc = html(site.path(), "veranstaltungen/index.html");
    assert!(select(&doc, ".karte").is_empty());
    assert!(text(&select(&doc, "main")[0]).contains("keine Veranstaltungen geplant"));
    let home = html(site.path(), "index.html");
    assert!(select(&home, "nav a[href='/veranstaltungen/']").is_empty());
}

#[test]
fn mistakes_in_events_are_reported_at_their_lines_all_at_once() {
    let site = fixture("minimal");
    // Line numbers: the front matter starts at line 2.
    write(
        site.path(),
        "content/veranstaltungen/falsch.md",
        "---
titel: Falsch
kurzbeschreibung: Voller Fehler.
datum: 2027-02-30
beginn: \"18 Uhr\"
ende: \"17:00\"
ort: Rathaus
online_link: https://lernen.example/raum
plaetze: 0
teilnahme: jeder
---
",
    );
    write(
        site.path(),
        "content/veranstaltungen/zeiten.md",
        "---
titel: Zeiten
kurzbeschreibung: \"  \"
datum: 2027-02-10
beginn: \"19:00\"
ende: \"18:00\"
online_link: http://lernen.example/raum
plaetze: 5
teilnahme: alle
---
",
    );
    write(
        site.path(),
        "content/veranstaltungen/ohne-ort.md",
        "---
titel: Ohne Ort
kurzbeschreibung: Wo?
datum: 2027-02-10
beginn: \"09:00\"
ende: \"10:00\"
plaetze: 5
teilnahme: mitglieder
---
",
    );
    // An event may not take the id of a unit: both are booked by id.
    write(
        site.path(),
        "content/veranstaltungen/hybrid-eins.md",
        &event("Doppelt", "2027-02-10", "alle", "ort: Rathaus"),
    );
    let problems = match build(site.path()) {
        Ok(_) => panic!("build should fail"),
        Err(p) => p.0,
    };
    let at = |file: &str, line: u64| {
        problems
            .iter()
            .filter(|p| p.file == Path::new(file) && p.line == Some(line))
            .map(|p| p.kind.clone())
            .collect::<Vec<_>>()
    };
    // The unknown choice stops the file from parsing (like every other type):
    // it is reported at its line with the allowed values.
    let falsch = "content/veranstaltungen/falsch.md";
    assert!(
        matches!(&at(falsch, 10)[..], [ProblemKind::UnknownChoice { value, allowed }] if value == "jeder" && allowed.contains(&"mitglieder".to_string())),
        "{problems:#?}"
    );
    let zeiten = "content/veranstaltungen/zeiten.md";
    assert_eq!(
        at(zeiten, 3),
        vec![ProblemKind::BlankText {
            field: "kurzbeschreibung".into()
        }]
    );
    assert!(
        matches!(&at(zeiten, 6)[..], [ProblemKind::InvalidValue { field: "ende", message }] if message.contains("nach dem Beginn")),
        "{problems:#?}"
    );
    // http:// is a warning (as for units' links), not a stop.
    assert!(at(zeiten, 7).is_empty(), "{problems:#?}");
    let ohne_ort = "content/veranstaltungen/ohne-ort.md";
    assert!(
        matches!(
            &at(ohne_ort, 1)[..],
            [ProblemKind::MissingField { field: "ort", .. }]
        ),
        "{problems:#?}"
    );
    let doppelt = "content/veranstaltungen/hybrid-eins.md";
    assert!(
        matches!(&at(doppelt, 1)[..], [ProblemKind::DuplicateId { id, .. }] if id == "hybrid-eins"),
        "{problems:#?}"
    );
    let message = problems
        .iter()
        .find(|p| p.file == Path::new(zeiten) && p.line == Some(6))
        .unwrap()
        .to_string();
    assert!(message.contains("zeiten.md:6"), "{message}");
    assert!(
        message.contains("Das Ende muss nach dem Beginn liegen"),
        "{message}"
    );
}

#[test]
fn each_field_mistake_of_one_event_is_reported() {
    let site = fixture("minimal");
    write(
        site.path(),
        "content/veranstaltungen/falsch.md",
        "---
titel: Falsch
kurzbeschreibung: Voller Fehler.
datum: 2027-02-30
beginn: \"18 Uhr\"
ende: \"17:00\"
ort: Rathaus
online_link: https://lernen.example/raum
plaetze: 0
teilnahme: alle
---
",
    );
    let problems = match build(site.path()) {
        Ok(_) => panic!("build should fail"),
        Err(p) => p.0,
    };
    let file = Path::new("content/veranstaltungen/falsch.md");
    let mut found: Vec<(u64, String)> = problems
        .iter()
        .filter(|p| p.file == file)
        .map(|p| (p.line.unwrap_or(0), format!("{:?}", p.kind)))
        .collect();
    found.sort();
    let lines: Vec<u64> = found.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, vec![4, 5, 7, 9], "{found:#?}");
    assert!(found[0].1.contains("InvalidDate"), "{found:#?}");
    assert!(found[1].1.contains("beginn"), "{found:#?}");
    assert!(found[2].1.contains("ForbiddenField"), "{found:#?}");
    assert!(found[3].1.contains("plaetze"), "{found:#?}");
}

#[test]
fn sample_site_has_the_three_kinds_of_events_upcoming_on_the_pinned_day() {
    let site = load(&repo_root());
    let upcoming: Vec<&str> = site
        .upcoming_events(today())
        .map(|e| e.title.as_str())
        .collect();
    for wanted in [
        "Rathausdialog",
        "Marktplatz IT-Lösungen",
        "Lernraum für Ehemalige",
    ] {
        assert!(
            upcoming.iter().any(|t| t.contains(wanted)),
            "{wanted} in {upcoming:?}"
        );
    }
    assert!(
        site.events.iter().any(|e| !e.is_upcoming(today())),
        "a past event too"
    );
    assert!(site.events.iter().any(|e| !e.members_only()));
    assert!(site.events.iter().any(|e| e.online_link().is_some()));
}
