//! Events (`content/veranstaltungen/`): free meetings for members' staff or
//! everyone, on one date with their own times, online or at a place.
//! Registrations go through the booking workflow (one "date" per event).

use super::*;
use crate::content::{Audience, RawEvent};
use chrono::NaiveTime;
use link::parse_date;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Venue {
    /// The meeting link: only people with a confirmed place get it.
    Online { link: String },
    /// The address of the place, as the editor wrote it.
    Place { address: String },
}

#[derive(Debug, Clone)]
pub struct Event {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub date: NaiveDate,
    /// Local Berlin times.
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub venue: Venue,
    pub capacity: u32,
    /// Places held by registrations on the platform (see [`Site::apply_bookings`]).
    pub taken: u32,
    pub audience: Audience,
    pub body: String,
    pub source: PathBuf,
}

impl Event {
    pub fn free(&self) -> u32 {
        self.capacity.saturating_sub(self.taken)
    }

    /// Whether people can still register (the event has not begun today or later).
    pub fn is_upcoming(&self, today: NaiveDate) -> bool {
        self.date >= today
    }

    /// Whether a registration at `now` (Berlin time) still counts: not
    /// after the event's end on its day.
    pub fn open_at(&self, now: chrono::NaiveDateTime) -> bool {
        self.date > now.date() || (self.date == now.date() && self.end > now.time())
    }

    pub fn members_only(&self) -> bool {
        self.audience == Audience::Mitglieder
    }

    /// "18:30" and "20:00", as pages and mails show them.
    pub fn times_text(&self) -> (String, String) {
        (
            self.start.format("%H:%M").to_string(),
            self.end.format("%H:%M").to_string(),
        )
    }

    /// Where the event takes place, without the private meeting link.
    pub fn place_text(&self) -> String {
        match &self.venue {
            Venue::Online { .. } => {
                "online (den Zugangslink erhalten angemeldete Personen per E-Mail)".into()
            }
            Venue::Place { address } => address.clone(),
        }
    }

    pub fn online_link(&self) -> Option<&str> {
        match &self.venue {
            Venue::Online { link } => Some(link),
            Venue::Place { .. } => None,
        }
    }
}

impl Audience {
    pub fn label(self) -> &'static str {
        match self {
            Audience::Mitglieder => "Beschäftigte der Mitgliedskommunen",
            Audience::Alle => "alle Interessierten",
        }
    }
}

impl Site {
    pub fn event(&self, id: &str) -> Option<&Event> {
        self.events.iter().find(|e| e.id == id)
    }

    /// Upcoming events, soonest first; past ones are not offered.
    pub fn upcoming_events(&self, today: NaiveDate) -> impl Iterator<Item = &Event> {
        self.events.iter().filter(move |e| e.is_upcoming(today))
    }
}

fn time_of(
    f: &SourceFile,
    field: &'static str,
    value: &content::Located<String>,
    problems: &mut Vec<Problem>,
) -> Option<NaiveTime> {
    let v = value.value.trim();
    let parsed = (v.len() == 5)
        .then(|| NaiveTime::parse_from_str(v, "%H:%M").ok())
        .flatten();
    if parsed.is_none() {
        problems.push(f.problem_at(
            value,
            ProblemKind::InvalidValue {
                field,
                message: format!(
                    "„{}“ ist keine Uhrzeit. Bitte schreiben Sie sie als SS:MM, zum Beispiel 18:30.",
                    value.value
                ),
            },
        ));
    }
    parsed
}

/// Checks one event file; every problem is collected, nothing stops early.
pub(super) fn link_event(f: SourceFile, e: RawEvent, problems: &mut Vec<Problem>) -> Event {
    let date = parse_date(&e.datum.value);
    if date.is_none() {
        problems.push(f.problem_at(
            &e.datum,
            ProblemKind::InvalidDate {
                value: e.datum.value.clone(),
            },
        ));
    }
    let start = time_of(&f, "beginn", &e.beginn, problems);
    let end = time_of(&f, "ende", &e.ende, problems);
    if let (Some(s), Some(t)) = (start, end) {
        if t <= s {
            problems.push(f.problem_at(
                &e.ende,
                ProblemKind::InvalidValue {
                    field: "ende",
                    message: format!(
                        "Die Veranstaltung endet um {} und beginnt um {}: Das Ende muss nach dem Beginn liegen (am selben Tag).",
                        e.ende.value, e.beginn.value
                    ),
                },
            ));
        }
    }
    let venue = match (&e.ort, &e.online_link) {
        (Some(place), Some(_)) => {
            problems.push(f.problem_at(
                place,
                ProblemKind::ForbiddenField {
                    field: "ort",
                    why: "eine Veranstaltung ist entweder online (online_link) oder an einem Ort (ort), nicht beides",
                },
            ));
            None
        }
        (None, None) => {
            problems.push(f.problem(ProblemKind::MissingField {
                field: "ort",
                why: "geben Sie die Adresse an oder für eine Online-Veranstaltung den online_link",
            }));
            None
        }
        (Some(place), None) => {
            if place.value.trim().is_empty() {
                problems.push(f.problem_at(
                    place,
                    ProblemKind::BlankText {
                        field: "ort".into(),
                    },
                ));
            }
            Some(Venue::Place {
                address: place.value.trim().to_string(),
            })
        }
        (None, Some(link)) => {
            if link.value.starts_with("http://") {
                problems.push(f.problem_at(
                    link,
                    ProblemKind::InsecureLink {
                        url: link.value.clone(),
                    },
                ));
            } else if !link.value.starts_with("https://") {
                problems.push(f.problem_at(
                    link,
                    ProblemKind::InvalidValue {
                        field: "online_link",
                        message: "Der Link muss mit https:// beginnen.".into(),
                    },
                ));
            }
            Some(Venue::Online {
                link: link.value.clone(),
            })
        }
    };
    if e.plaetze.value == 0 {
        problems.push(f.problem_at(
            &e.plaetze,
            ProblemKind::InvalidValue {
                field: "plaetze",
                message: "Eine Veranstaltung braucht mindestens einen Platz.".into(),
            },
        ));
    }
    Event {
        id: f.id.clone(),
        title: e.titel,
        summary: e.kurzbeschreibung,
        date: date.unwrap_or_default(),
        start: start.unwrap_or_default(),
        end: end.unwrap_or_default(),
        venue: venue.unwrap_or(Venue::Place {
            address: String::new(),
        }),
        capacity: e.plaetze.value,
        taken: 0,
        audience: e.teilnahme.value,
        body: f.body,
        source: f.path,
    }
}

/// An event and a unit with the same id would share places and bookings
/// in the backend (both are booked by id): refused.
pub(super) fn check_ids_apart(events: &[Event], units: &[Unit], problems: &mut Vec<Problem>) {
    for e in events {
        if let Some(u) = units.iter().find(|u| u.id == e.id) {
            problems.push(
                Problem::new(
                    &e.source,
                    ProblemKind::DuplicateId {
                        id: e.id.clone(),
                        other: PathBuf::from(format!("content/einheiten/{}.md", u.id)),
                    },
                )
                .at(1, None),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_is_open_until_the_event_ends_on_its_day() {
        let day = NaiveDate::from_ymd_opt(2027, 2, 18).unwrap();
        let at = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        let e = Event {
            id: "rathausdialog".into(),
            title: "Rathausdialog".into(),
            summary: String::new(),
            date: day,
            start: at(16, 0),
            end: at(18, 30),
            venue: Venue::Place {
                address: "Rathaus".into(),
            },
            capacity: 10,
            taken: 0,
            audience: Audience::Alle,
            body: String::new(),
            source: PathBuf::new(),
        };
        assert!(e.open_at(day.pred_opt().unwrap().and_time(at(23, 0))));
        assert!(e.open_at(day.and_time(at(17, 0))), "while it runs");
        assert!(!e.open_at(day.and_time(at(18, 30))), "at its end");
        assert!(!e.open_at(day.succ_opt().unwrap().and_time(at(9, 0))));
    }
}
