//! iCalendar files for live dates (RFC 5545): local Berlin times with
//! their VTIMEZONE, so calendars show 09:00 whatever the season; a
//! cancellation is the same UID with a higher SEQUENCE and METHOD:CANCEL.

use crate::time;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// What goes into one calendar event.
pub struct LiveEvent<'a> {
    /// Stable for one event: unit id and date on the site, the booking in mails.
    pub uid: String,
    pub sequence: u32,
    /// METHOD:CANCEL and STATUS:CANCELLED: the entry leaves the calendar.
    pub cancelled: bool,
    /// `mailto:` of the organiser and the one attendee (booking mails; iTIP
    /// clients match an update to its entry by UID and organiser).
    pub organizer: Option<String>,
    pub attendee: Option<(String, String)>,
    pub summary: &'a str,
    pub description: String,
    pub date: NaiveDate,
    pub url: Option<String>,
    pub stamp: NaiveDateTime,
    /// Start and end (Berlin time) of an event; None: the live time 09:00-13:00.
    pub hours: Option<(NaiveTime, NaiveTime)>,
    /// None: the virtual group room of live tutorials.
    pub location: Option<String>,
}

/// The host part of the site's base URL: the domain in every calendar UID,
/// so the generator's files and the backend's mails name the same event.
pub fn host_of(base_url: &str) -> String {
    base_url
        .split("://")
        .nth(1)
        .unwrap_or("kommunalcampus")
        .split(['/', ':'])
        .next()
        .filter(|h| !h.is_empty())
        .unwrap_or("kommunalcampus")
        .to_string()
}

pub fn uid_for(unit_id: &str, date: NaiveDate, host: &str) -> String {
    format!("{unit_id}-{}@{host}", date.format("%Y%m%d"))
}

fn utc(dt: NaiveDateTime) -> String {
    dt.format("%Y%m%dT%H%M%SZ").to_string()
}

fn local(dt: NaiveDateTime) -> String {
    dt.format("%Y%m%dT%H%M%S").to_string()
}

/// Europe/Berlin since 1996: summer time from the last Sunday of March
/// 02:00 to the last Sunday of October 03:00.
const BERLIN: &[&str] = &[
    "BEGIN:VTIMEZONE",
    "TZID:Europe/Berlin",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "TZNAME:CEST",
    "DTSTART:19700329T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "TZNAME:CET",
    "DTSTART:19701025T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
];

/// Escapes a parameter value (a name in CN=...): quoted, without quotes.
fn param(text: &str) -> String {
    let clean: String = text
        .chars()
        .filter(|c| *c != '"' && !c.is_control())
        .collect();
    format!("\"{clean}\"")
}

/// Escapes TEXT values: backslash, semicolon, comma, newline.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds content lines at 75 octets, as the RFC requires.
fn fold(line: &str, out: &mut String) {
    let mut len = 0;
    for ch in line.chars() {
        let w = ch.len_utf8();
        if len + w > 75 {
            out.push_str("\r\n ");
            len = 1;
        }
        out.push(ch);
        len += w;
    }
    out.push_str("\r\n");
}

/// A complete calendar with one event: METHOD:PUBLISH, or METHOD:CANCEL
/// for a cancelled one; start and end in Berlin time with TZID.
pub fn calendar(event: &LiveEvent) -> String {
    let (start, end) = match event.hours {
        Some((from, to)) => (event.date.and_time(from), event.date.and_time(to)),
        None => (
            time::live_start_local(event.date),
            time::live_end_local(event.date),
        ),
    };
    let method = if event.cancelled { "CANCEL" } else { "PUBLISH" };
    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".into(),
        "VERSION:2.0".into(),
        "PRODID:-//KommunalCampus//campus//DE".into(),
        "CALSCALE:GREGORIAN".into(),
        format!("METHOD:{method}"),
    ];
    lines.extend(BERLIN.iter().map(|l| l.to_string()));
    lines.extend([
        "BEGIN:VEVENT".to_string(),
        format!("UID:{}", event.uid),
        format!("SEQUENCE:{}", event.sequence),
        format!("DTSTAMP:{}", utc(event.stamp)),
        format!("DTSTART;TZID=Europe/Berlin:{}", local(start)),
        format!("DTEND;TZID=Europe/Berlin:{}", local(end)),
        format!("SUMMARY:{}", escape(event.summary)),
        format!("DESCRIPTION:{}", escape(&event.description)),
        format!(
            "LOCATION:{}",
            escape(
                event
                    .location
                    .as_deref()
                    .unwrap_or("Virtueller Gruppenraum")
            )
        ),
    ]);
    if let Some(organizer) = &event.organizer {
        lines.push(format!("ORGANIZER:mailto:{organizer}"));
    }
    if let Some((name, email)) = &event.attendee {
        lines.push(format!("ATTENDEE;CN={}:mailto:{email}", param(name)));
    }
    if let Some(url) = &event.url {
        lines.push(format!("URL:{url}"));
    }
    lines.push(if event.cancelled {
        "STATUS:CANCELLED".into()
    } else {
        "STATUS:CONFIRMED".into()
    });
    lines.push("TRANSP:OPAQUE".into());
    lines.push("END:VEVENT".into());
    lines.push("END:VCALENDAR".into());
    let mut out = String::new();
    for l in lines {
        fold(&l, &mut out);
    }
    out
}

/// The standard description: live time plus when the self-study parts open.
pub fn describe(date: NaiveDate) -> String {
    format!(
        "Live-Tutorium von {} bis {} Uhr (Europe/Berlin) im virtuellen Gruppenraum. Kamera und Mikrofon werden benötigt.\nDas Vorbereitungsmodul öffnet am {}.\nDas Nachbereitungsmodul öffnet am {}.",
        time::live_start_text(),
        time::live_end_text(),
        time::german_long_date(time::preparation_opens(date)),
        time::german_long_date(time::follow_up_opens(date)),
    )
}

/// The description of an event's calendar entry: when and where, in words.
pub fn describe_event(summary: &str, place: &str) -> String {
    format!("{summary}\nOrt: {place}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_of_takes_the_domain_without_port_or_path() {
        assert_eq!(host_of("https://campus.example/pfad/"), "campus.example");
        assert_eq!(host_of("http://127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(host_of("kein-schema"), "kommunalcampus");
        assert_eq!(host_of("https://"), "kommunalcampus");
    }

    #[test]
    fn event_in_local_berlin_time_with_its_timezone() {
        let date = NaiveDate::from_ymd_opt(2027, 2, 10).unwrap();
        let ics = calendar(&LiveEvent {
            uid: uid_for("e-akte", date, "campus.example"),
            sequence: 0,
            cancelled: false,
            organizer: None,
            attendee: None,
            summary: "E-Akte, Teil 1; Grundlagen",
            description: describe(date),
            date,
            url: None,
            stamp: date.and_hms_opt(0, 0, 0).unwrap(),
            hours: None,
            location: None,
        });
        assert!(ics.contains("DTSTART;TZID=Europe/Berlin:20270210T090000\r\n"));
        assert!(ics.contains("DTEND;TZID=Europe/Berlin:20270210T130000\r\n"));
        assert!(ics.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"));
        assert!(ics.contains("STATUS:CONFIRMED\r\n"));
        assert!(ics.contains("UID:e-akte-20270210@campus.example\r\n"));
        assert!(ics.contains("SUMMARY:E-Akte\\, Teil 1\\; Grundlagen\r\n"));
        assert!(ics.contains("METHOD:PUBLISH"));
        assert!(
            ics.lines().all(|l| l.trim_end_matches('\r').len() <= 75),
            "lines are folded"
        );
        let unfolded = ics.replace("\r\n ", "");
        assert!(
            unfolded.contains("Vorbereitungsmodul öffnet am Mittwoch\\, 27. Januar 2027"),
            "{unfolded}"
        );
        assert!(unfolded.contains("Nachbereitungsmodul öffnet am Mittwoch\\, 24. Februar 2027"));
    }

    #[test]
    fn a_cancellation_names_the_same_event_with_cancel() {
        let date = NaiveDate::from_ymd_opt(2027, 7, 1).unwrap();
        let ics = calendar(&LiveEvent {
            uid: "buchung-7@campus.example".into(),
            sequence: 2,
            cancelled: true,
            organizer: Some("info@campus.example".into()),
            attendee: Some(("Eva \"E\" Muster".into(), "eva@stadt.example".into())),
            summary: "E-Akte",
            description: describe(date),
            date,
            url: None,
            stamp: date.and_hms_opt(0, 0, 0).unwrap(),
            hours: None,
            location: None,
        });
        for line in [
            "METHOD:CANCEL",
            "STATUS:CANCELLED",
            "SEQUENCE:2",
            "UID:buchung-7@campus.example",
            "DTSTART;TZID=Europe/Berlin:20270701T090000",
            "ORGANIZER:mailto:info@campus.example",
            "ATTENDEE;CN=\"Eva E Muster\":mailto:eva@stadt.example",
        ] {
            assert!(ics.contains(&format!("{line}\r\n")), "{line} in {ics}");
        }
        assert!(!ics.contains("METHOD:PUBLISH"));
    }

    #[test]
    fn an_event_keeps_its_own_times_and_place() {
        let date = NaiveDate::from_ymd_opt(2027, 7, 1).unwrap();
        let at = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        let ics = calendar(&LiveEvent {
            uid: "rathausdialog-20270701@campus.example".into(),
            sequence: 0,
            cancelled: false,
            organizer: None,
            attendee: None,
            summary: "Rathausdialog",
            description: describe_event("Austausch", "Rathaus, Marktplatz 1, Lindenfeld"),
            date,
            url: None,
            stamp: date.and_hms_opt(0, 0, 0).unwrap(),
            hours: Some((at(18, 30), at(20, 0))),
            location: Some("Rathaus, Marktplatz 1, Lindenfeld".into()),
        });
        assert!(
            ics.contains("DTSTART;TZID=Europe/Berlin:20270701T183000\r\n"),
            "{ics}"
        );
        assert!(ics.contains("DTEND;TZID=Europe/Berlin:20270701T200000\r\n"));
        assert!(ics.contains("LOCATION:Rathaus\\, Marktplatz 1\\, Lindenfeld\r\n"));
        assert!(ics.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"));
    }
}
