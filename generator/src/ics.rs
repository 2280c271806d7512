//! iCalendar files for live dates (RFC 5545).

use crate::time;
use chrono::{NaiveDate, NaiveDateTime};

/// What goes into one calendar event.
pub struct LiveEvent<'a> {
    /// Stable across builds and bookings: derived from unit id and date.
    pub uid: String,
    pub sequence: u32,
    pub summary: &'a str,
    pub description: String,
    pub date: NaiveDate,
    pub url: Option<String>,
    pub stamp: NaiveDateTime,
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

/// A complete calendar with one event, METHOD:PUBLISH, times in UTC.
pub fn calendar(event: &LiveEvent) -> String {
    let start = time::berlin_to_utc(time::live_start_local(event.date));
    let end = time::berlin_to_utc(time::live_end_local(event.date));
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".into(),
        "PRODID:-//KommunalCampus//campus//DE".into(),
        "CALSCALE:GREGORIAN".into(),
        "METHOD:PUBLISH".into(),
        "BEGIN:VEVENT".into(),
        format!("UID:{}", event.uid),
        format!("SEQUENCE:{}", event.sequence),
        format!("DTSTAMP:{}", utc(event.stamp)),
        format!("DTSTART:{}", utc(start)),
        format!("DTEND:{}", utc(end)),
        format!("SUMMARY:{}", escape(event.summary)),
        format!("DESCRIPTION:{}", escape(&event.description)),
        "LOCATION:Virtueller Gruppenraum".into(),
    ];
    if let Some(url) = &event.url {
        lines.push(format!("URL:{url}"));
    }
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
        time::german_short_date(time::preparation_opens(date)),
        time::german_short_date(time::follow_up_opens(date)),
    )
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
    fn event_in_winter_is_utc_plus_one() {
        let date = NaiveDate::from_ymd_opt(2027, 2, 10).unwrap();
        let ics = calendar(&LiveEvent {
            uid: uid_for("e-akte", date, "campus.example"),
            sequence: 0,
            summary: "E-Akte, Teil 1; Grundlagen",
            description: describe(date),
            date,
            url: None,
            stamp: date.and_hms_opt(0, 0, 0).unwrap(),
        });
        assert!(ics.contains("DTSTART:20270210T080000Z\r\n"));
        assert!(ics.contains("DTEND:20270210T120000Z\r\n"));
        assert!(ics.contains("UID:e-akte-20270210@campus.example\r\n"));
        assert!(ics.contains("SUMMARY:E-Akte\\, Teil 1\\; Grundlagen\r\n"));
        assert!(ics.contains("METHOD:PUBLISH"));
        assert!(
            ics.lines().all(|l| l.trim_end_matches('\r').len() <= 75),
            "lines are folded"
        );
        let unfolded = ics.replace("\r\n ", "");
        assert!(
            unfolded.contains("Vorbereitungsmodul öffnet am 27.01.2027"),
            "{unfolded}"
        );
        assert!(unfolded.contains("Nachbereitungsmodul öffnet am 24.02.2027"));
    }
}
