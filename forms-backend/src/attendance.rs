//! Attendance of live dates: the office records "teilgenommen" or "nicht
//! erschienen" per confirmed booking, on the date's back-office page or by
//! a CSV import from the learning platform (all lines or none). Every
//! change is a row in `attendance_events` with the office user as actor.
//! Only attended bookings get the evaluation link and the certificate.
//!
//! The CSV has a header line naming its columns (in any order), separated
//! by `;` or `,`: `lerneinheit` (the unit's id), `termin` (`2027-03-10` or
//! `10.03.2027`; empty for an on-demand unit completed on the platform,
//! which then matches the person's enrolment), `email` (the address of the
//! booking) and `teilnahme` (`teilgenommen`/`ja` or `nicht erschienen`/`nein`).
//! A course certificate earned by a recording is issued and mailed with it.

use crate::store::{AttendanceRow, BookingFilter};
use crate::verwaltung::{
    answer as office_answer, office_post, office_user, redirect as office_redirect, Staff,
};
use crate::web::blocking;
use crate::{AppError, AppState};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use campus_generator::time::german_long_date;
use chrono::NaiveDate;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};

crate::stored::stored_enum! {
    /// Whether a person took part in a live date (`attendance.status`).
    pub enum Attendance ("eine Teilnahme") {
        Attended = "teilgenommen",
        NoShow = "nicht-erschienen",
    }
}

impl Attendance {
    pub fn label(self) -> &'static str {
        match self {
            Attendance::Attended => "teilgenommen",
            Attendance::NoShow => "nicht erschienen",
        }
    }

    /// What the CSV and the form may say (case and spaces aside).
    fn from_text(text: &str) -> Option<Attendance> {
        let t = text.trim().to_lowercase().replace(['_', '-'], " ");
        match t.as_str() {
            "teilgenommen" | "ja" | "anwesend" | "1" => Some(Attendance::Attended),
            "nicht erschienen" | "nein" | "abwesend" | "0" => Some(Attendance::NoShow),
            _ => None,
        }
    }
}

/// Where the attendance is recorded from (`attendance_events.source`).
const FROM_FORM: &str = "verwaltung";
const FROM_IMPORT: &str = "import";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/verwaltung/termine/{unit}/{date}/anwesenheit",
            post(record_form),
        )
        .route(
            "/verwaltung/anwesenheit/import",
            get(import_page).post(import_post),
        )
        .route("/verwaltung/anwesenheit/", get(past_dates))
}

/// One attendance to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub booking_id: i64,
    pub status: Attendance,
}

/// Today in Berlin by the backend's clock.
fn today(state: &AppState) -> NaiveDate {
    state.settings.clock.berlin_now().date()
}

/// Records `marks` in one transaction with `actor` in the history, then
/// sends the evaluation links that are due. The number of changed records.
pub fn record(
    state: &AppState,
    marks: &[Mark],
    actor: &crate::booking::Actor,
    source: &str,
) -> Result<usize, crate::workflow::WorkflowError> {
    let now = state.settings.clock.now();
    let actor = actor.to_string();
    let loaded = state.loaded();
    let changed = state.store.write(|tx| {
        let mut n = 0;
        for m in marks {
            if tx.record_attendance(m.booking_id, m.status, &actor, source, now)? {
                n += 1;
            }
        }
        // A course certificate earned with these attendances goes out by
        // mail with them (one transaction: once).
        let mut told = HashSet::new();
        for m in marks.iter().filter(|m| m.status == Attendance::Attended) {
            let Some(b) = tx.booking(m.booking_id)? else {
                continue;
            };
            let earned =
                crate::certificate::issue_for_courses(tx, &loaded.site, &b.email, &b.name, now)?;
            for (c, _) in earned
                .iter()
                .filter(|(c, new)| *new && told.insert(c.number.clone()))
            {
                let link = format!(
                    "{}{}",
                    loaded.backend_url.trim_end_matches('/'),
                    crate::certificate::download_path(state, &c.number)
                );
                let draft = loaded.letterhead.draft(
                    "kurs-bescheinigung",
                    &b.email,
                    &b.name,
                    json!({ "name": b.name, "course_title": c.title,
                        "units": c.units.lines().collect::<Vec<_>>(), "link": link,
                        "number": c.number }),
                )?;
                tx.enqueue(&loaded.letterhead.compose(&draft, None)?, now)?;
            }
        }
        Ok::<_, crate::workflow::WorkflowError>(n)
    })?;
    crate::evaluation::send_due_invites(state)?;
    state.wake.notify_one();
    Ok(changed)
}

/// What the date's back-office page shows of attendance: the participants
/// with their status, and whether it can be recorded yet (from the day of
/// the live date on).
pub(crate) async fn date_context(
    state: &AppState,
    unit_id: &str,
    date: &str,
) -> Result<Vec<(&'static str, Value)>, AppError> {
    let st = state.clone();
    let (u, d) = (unit_id.to_string(), date.to_string());
    let rows = blocking(move || st.store.attendance_of_date(&u, &d)).await?;
    let open = NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok_and(|d| d <= today(state));
    Ok(vec![
        (
            "attendance",
            json!(rows.iter().map(attendance_json).collect::<Vec<_>>()),
        ),
        ("attendance_open", json!(open)),
        (
            "evaluation_url",
            json!(format!("/verwaltung/bewertungen/{unit_id}/{date}")),
        ),
        (
            "attendance_action",
            json!(format!("/verwaltung/termine/{unit_id}/{date}/anwesenheit")),
        ),
    ])
}

fn attendance_json(r: &AttendanceRow) -> Value {
    json!({
        "id": r.booking.id,
        "name": r.booking.name,
        "email": r.booking.email,
        "status": r.status.map_or("", Attendance::as_str),
        "label": r.status.map_or("noch nicht erfasst", Attendance::label),
        "recorded_by": r.recorded_by,
        "invited": r.invited,
        "evaluated": r.evaluated,
    })
}

/// The form on the date page: `b-<id>` = `teilgenommen`, `nicht-erschienen`
/// or empty (not recorded) for each confirmed booking of the date.
async fn record_form(
    State(state): State<AppState>,
    Path((unit_id, date)): Path<(String, String)>,
    req: Request,
) -> Result<Response, AppError> {
    let (user, form) = match office_post(&state, req).await {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let back = format!("/verwaltung/termine/{unit_id}/{date}");
    let live = NaiveDate::parse_from_str(&date, "%Y-%m-%d").ok();
    let st = state.clone();
    let (u, d) = (unit_id.clone(), date.clone());
    let rows = blocking(move || st.store.attendance_of_date(&u, &d)).await?;
    let mut errors = Vec::new();
    if live.is_none_or(|d| d > today(&state)) {
        errors.push("Die Anwesenheit kann erst ab dem Tag des Termins erfasst werden.".to_string());
    }
    let mut marks = Vec::new();
    for (key, value) in &form {
        let Some(id) = key.strip_prefix("b-") else {
            continue;
        };
        if value.trim().is_empty() {
            continue;
        }
        let Some(row) = id
            .parse::<i64>()
            .ok()
            .and_then(|id| rows.iter().find(|r| r.booking.id == id))
        else {
            errors.push(format!(
                "B-{id} ist keine bestätigte Buchung dieses Termins."
            ));
            continue;
        };
        match Attendance::from_text(value) {
            Some(status) => marks.push(Mark {
                booking_id: row.booking.id,
                status,
            }),
            None => errors.push(format!(
                "B-{}: „{value}“ ist keine Angabe zur Teilnahme.",
                row.booking.id
            )),
        }
    }
    if !errors.is_empty() {
        return Ok(problems_page(&state, &user, &errors, "", &back));
    }
    let actor = user.actor();
    let st = state.clone();
    let changed = blocking(move || record(&st, &marks, &actor, FROM_FORM)).await?;
    tracing::info!(unit = %unit_id, %date, changed, email = %user.session.email, "Verwaltung: Anwesenheit erfasst");
    Ok(office_redirect(&format!("{back}?anwesenheit={changed}")))
}

/// The live dates that have taken place (newest first), with how many
/// participants are recorded and evaluated: where the office goes after
/// a date, since the start page lists only coming dates.
async fn past_dates(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let user = match office_user(&state, &headers).await? {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let loaded = state.loaded();
    let today = today(&state);
    let mut dates: Vec<(NaiveDate, String, String)> = loaded
        .site
        .units
        .iter()
        .flat_map(|u| {
            u.dates
                .iter()
                .filter(|d| d.date <= today)
                .map(|d| (d.date, u.id.clone(), u.title.clone()))
        })
        .collect();
    dates.sort_by(|a, b| b.0.cmp(&a.0).then(a.2.cmp(&b.2)));
    let st = state.clone();
    let rows = blocking(move || {
        dates
            .into_iter()
            .map(|(date, unit, title)| {
                let iso = date.format("%Y-%m-%d").to_string();
                let rows = st.store.attendance_of_date(&unit, &iso)?;
                Ok(json!({
                    "date": german_long_date(date),
                    "unit_title": title,
                    "confirmed": rows.len(),
                    "recorded": rows.iter().filter(|r| r.status.is_some()).count(),
                    "attended": rows.iter().filter(|r| r.status == Some(Attendance::Attended)).count(),
                    "evaluated": rows.iter().filter(|r| r.evaluated).count(),
                    "url": format!("/verwaltung/termine/{unit}/{iso}"),
                    "evaluation_url": format!("/verwaltung/bewertungen/{unit}/{iso}"),
                }))
            })
            .collect::<Result<Vec<Value>, crate::store::StoreError>>()
    })
    .await?;
    let mut extra = user.context();
    extra.push(("dates", json!(rows)));
    let html = loaded.pages.own(
        "verwaltung/anwesenheit-termine.html",
        "/verwaltung/anwesenheit/",
        "Vergangene Termine",
        &extra,
    );
    Ok(office_answer(StatusCode::OK, html))
}

/// The page of the CSV import, also with the problems of a refused import
/// (the pasted text kept).
fn problems_page(
    state: &AppState,
    user: &Staff,
    errors: &[String],
    csv: &str,
    back: &str,
) -> Response {
    let mut extra = user.context();
    extra.extend([
        ("errors", json!(errors)),
        ("csv", json!(csv)),
        ("back_url", json!(back)),
        ("imported", json!(Value::Null)),
    ]);
    let html = state.loaded().pages.own(
        "verwaltung/anwesenheit.html",
        "/verwaltung/anwesenheit/import",
        "Anwesenheit",
        &extra,
    );
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    office_answer(status, html)
}

async fn import_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: axum::extract::RawQuery,
) -> Result<Response, AppError> {
    let user = match office_user(&state, &headers).await? {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let imported = query
        .0
        .as_deref()
        .and_then(|q| q.strip_prefix("importiert="))
        .and_then(|n| n.parse::<usize>().ok());
    let mut extra = user.context();
    extra.extend([
        ("errors", json!(Vec::<String>::new())),
        ("csv", json!("")),
        ("back_url", json!("/verwaltung/")),
        ("imported", json!(imported)),
    ]);
    let html = state.loaded().pages.own(
        "verwaltung/anwesenheit.html",
        "/verwaltung/anwesenheit/import",
        "Anwesenheit",
        &extra,
    );
    Ok(office_answer(StatusCode::OK, html))
}

async fn import_post(State(state): State<AppState>, req: Request) -> Result<Response, AppError> {
    let (user, form) = match office_post(&state, req).await {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let csv = form
        .iter()
        .find(|(k, _)| k == "csv")
        .map_or(String::new(), |(_, v)| v.clone());
    let st = state.clone();
    let text = csv.clone();
    let resolved = blocking(move || {
        let loaded = st.loaded();
        resolve_import(&st, &loaded.site, &text, today(&st))
    })
    .await?;
    let marks = match resolved {
        Ok(m) => m,
        Err(errors) => {
            return Ok(problems_page(
                &state,
                &user,
                &errors,
                &csv,
                "/verwaltung/anwesenheit/import",
            ))
        }
    };
    let actor = user.actor();
    let st = state.clone();
    let n = marks.len();
    let changed = blocking(move || record(&st, &marks, &actor, FROM_IMPORT)).await?;
    tracing::info!(
        lines = n,
        changed,
        email = %user.session.email,
        "Verwaltung: Anwesenheit importiert"
    );
    Ok(office_redirect(&format!(
        "/verwaltung/anwesenheit/import?importiert={n}"
    )))
}

/// One line of the CSV, not yet matched to a booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportLine {
    pub line: u64,
    pub unit_id: String,
    /// `None`: an on-demand unit completed on the learning platform.
    pub date: Option<NaiveDate>,
    pub email: String,
    pub status: Attendance,
}

const COLUMNS: [&str; 4] = ["lerneinheit", "termin", "email", "teilnahme"];

/// Reads the CSV; every problem as a German message with its line number.
pub fn parse_import(text: &str) -> Result<Vec<ImportLine>, Vec<String>> {
    let text = text.trim_start_matches('\u{feff}');
    let header = text.lines().next().unwrap_or("");
    if header.trim().is_empty() {
        return Err(vec![format!(
            "Die Datei ist leer. Die erste Zeile nennt die Spalten: {}.",
            COLUMNS.join(";")
        )]);
    }
    let delimiter = if header.contains(';') { b';' } else { b',' };
    // Line by line, so the numbers in the messages are the file's own
    // (empty lines included); a field may be quoted but not span lines.
    let fields = |line: &str| -> Option<Vec<String>> {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(line.as_bytes());
        let record = reader.records().next()?.ok()?;
        Some(record.iter().map(str::to_string).collect())
    };
    let names: Vec<String> = fields(header)
        .unwrap_or_default()
        .iter()
        .map(|n| n.to_lowercase())
        .collect();
    let missing: Vec<&str> = COLUMNS
        .iter()
        .filter(|c| !names.iter().any(|n| n == *c))
        .copied()
        .collect();
    if !missing.is_empty() {
        return Err(vec![format!(
            "Zeile 1: Es fehlt die Spalte {}. Erwartet werden die Spalten {}.",
            missing
                .iter()
                .map(|m| format!("„{m}“"))
                .collect::<Vec<_>>()
                .join(", "),
            COLUMNS.join(";")
        )]);
    }
    let col = |c: &str| names.iter().position(|n| n == c).unwrap_or(0);
    let (cu, cd, ce, cs) = (
        col("lerneinheit"),
        col("termin"),
        col("email"),
        col("teilnahme"),
    );
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for (i, text) in text.lines().enumerate().skip(1) {
        let line = i as u64 + 1;
        if text.trim().is_empty() {
            continue;
        }
        let Some(record) = fields(text) else {
            errors.push(format!("Zeile {line}: nicht lesbar."));
            continue;
        };
        let get = |i: usize| record.get(i).cloned().unwrap_or_default();
        let (unit_id, date_text, email, status_text) = (get(cu), get(cd), get(ce), get(cs));
        let mut problems = Vec::new();
        if unit_id.is_empty() {
            problems.push("die Lerneinheit fehlt".to_string());
        }
        let date = NaiveDate::parse_from_str(&date_text, "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(&date_text, "%d.%m.%Y"))
            .ok();
        if date.is_none() && !date_text.is_empty() {
            problems.push(format!(
                "„{date_text}“ ist kein Datum (zum Beispiel 2027-03-10 oder 10.03.2027)"
            ));
        }
        if !email.contains('@') {
            problems.push(format!("„{email}“ ist keine E-Mail-Adresse"));
        }
        let status = Attendance::from_text(&status_text);
        if status.is_none() {
            problems.push(format!(
                "„{status_text}“ bei Teilnahme: „teilgenommen“ oder „nicht erschienen“ angeben"
            ));
        }
        match status {
            Some(status) if problems.is_empty() => lines.push(ImportLine {
                line,
                unit_id,
                date,
                email: email.to_lowercase(),
                status,
            }),
            _ => errors.push(format!("Zeile {line}: {}.", problems.join("; "))),
        }
    }
    if lines.is_empty() && errors.is_empty() {
        errors.push("Die Datei enthält nach der Kopfzeile keine Zeilen.".to_string());
    }
    if errors.is_empty() {
        Ok(lines)
    } else {
        Err(errors)
    }
}

/// Parses the CSV and matches every line to a confirmed booking of a live
/// date that has taken place; all lines or none.
fn resolve_import(
    state: &AppState,
    site: &campus_generator::Site,
    text: &str,
    today: NaiveDate,
) -> Result<Result<Vec<Mark>, Vec<String>>, crate::store::StoreError> {
    let lines = match parse_import(text) {
        Ok(l) => l,
        Err(e) => return Ok(Err(e)),
    };
    let mut by_date: BTreeMap<(String, String), Vec<crate::store::BookingRow>> = BTreeMap::new();
    let mut seen = HashSet::new();
    let mut marks = Vec::new();
    let mut errors = Vec::new();
    for l in &lines {
        let Some(unit) = site.units.iter().find(|u| u.id == l.unit_id) else {
            errors.push(format!(
                "Zeile {}: Unbekannte Lerneinheit „{}“.",
                l.line, l.unit_id
            ));
            continue;
        };
        let on_demand = unit.format == campus_generator::content::Format::OnDemand;
        let found = match (l.date, on_demand) {
            (None, true) => {
                // Completed on the learning platform: the person's enrolment.
                let rows = state.store.bookings(&BookingFilter {
                    unit_id: Some(l.unit_id.clone()),
                    live_date: None,
                    state: Some(crate::booking::BookingState::Enrolled),
                })?;
                let b = rows.into_iter().find(|b| b.email.to_lowercase() == l.email);
                if b.is_none() {
                    errors.push(format!(
                        "Zeile {}: {} ist nicht in „{}“ eingeschrieben.",
                        l.line, l.email, unit.title
                    ));
                }
                b
            }
            (None, false) => {
                errors.push(format!(
                    "Zeile {}: Bei „{}“ fehlt der Termin (leer nur bei On-Demand-Lerneinheiten).",
                    l.line, unit.title
                ));
                None
            }
            (Some(_), true) => {
                errors.push(format!(
                    "Zeile {}: „{}“ ist eine On-Demand-Lerneinheit: Termin bitte leer lassen.",
                    l.line, unit.title
                ));
                None
            }
            (Some(date), false) => {
                let iso = date.format("%Y-%m-%d").to_string();
                let when = german_long_date(date);
                if date > today {
                    errors.push(format!(
                        "Zeile {}: Der Termin am {when} hat noch nicht stattgefunden.",
                        l.line
                    ));
                    continue;
                }
                let key = (l.unit_id.clone(), iso.clone());
                if !by_date.contains_key(&key) {
                    let rows = state.store.bookings(&BookingFilter {
                        unit_id: Some(l.unit_id.clone()),
                        live_date: Some(iso.clone()),
                        state: Some(crate::booking::BookingState::Confirmed),
                    })?;
                    by_date.insert(key.clone(), rows);
                }
                let b = by_date[&key]
                    .iter()
                    .find(|b| {
                        b.live_date.as_deref() == Some(iso.as_str())
                            && b.email.to_lowercase() == l.email
                    })
                    .cloned();
                if b.is_none() {
                    errors.push(format!(
                        "Zeile {}: Keine bestätigte Buchung von {} für „{}“ am {when}.",
                        l.line, l.email, unit.title
                    ));
                }
                b
            }
        };
        let Some(b) = found else {
            continue;
        };
        if !seen.insert(b.id) {
            errors.push(format!(
                "Zeile {}: {} steht für diesen Termin schon in einer früheren Zeile.",
                l.line, l.email
            ));
            continue;
        }
        marks.push(Mark {
            booking_id: b.id,
            status: l.status,
        });
    }
    Ok(if errors.is_empty() {
        Ok(marks)
    } else {
        Err(errors)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_with_either_separator_and_any_column_order_is_read() {
        let lines = parse_import(
            "E-Mail;Lerneinheit;Termin;Teilnahme\n\
             a@x.de;ozg;2027-03-10;teilgenommen\n\
             B@x.de;ozg;10.03.2027;nicht erschienen\n",
        );
        // "E-Mail" is not "email": the header must name the defined columns.
        assert!(lines.unwrap_err()[0].contains("„email“"));
        let lines = parse_import(
            "teilnahme,email,lerneinheit,termin\nja,a@x.de,ozg,2027-03-10\n\nNein,B@x.de,ozg,10.03.2027\n",
        )
        .unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].email, "b@x.de");
        assert_eq!(lines[1].status, Attendance::NoShow);
        assert_eq!(lines[1].line, 4);
        assert_eq!(lines[0].date, lines[1].date);
    }

    #[test]
    fn every_bad_line_is_named_and_nothing_is_taken() {
        let errors = parse_import(
            "lerneinheit;termin;email;teilnahme\n\
             ozg;2027-03-10;a@x.de;teilgenommen\n\
             ozg;2027-13-10;a@x.de;teilgenommen\n\
             ozg;2027-03-10;kein-at;vielleicht\n",
        )
        .unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].starts_with("Zeile 3:") && errors[0].contains("kein Datum"));
        assert!(errors[1].starts_with("Zeile 4:") && errors[1].contains("„kein-at“"));
        assert!(errors[1].contains("„vielleicht“"));
        assert!(parse_import("").unwrap_err()[0].contains("leer"));
    }
}
