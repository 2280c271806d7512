//! Operations for the office and operators: retention purge and CSV export.

use crate::booking::{Approver, BookingState};
use crate::config::Settings;
use crate::store::{JourneyCutoffs, PurgeReport, Store, StoreError};
use crate::validate::FormKind;
use chrono::{Datelike, NaiveDate};
use std::io::Write;

/// Days sent and failed mails stay in the outbox (key `mail` in `[aufbewahrung]`).
pub const DEFAULT_MAIL_DAYS: u32 = 30;

/// The value of a `[aufbewahrung]` key, its default from
/// [`campus_generator::retention::PERIODS`] when not set.
pub fn retention(settings: &Settings, key: &str) -> u32 {
    settings
        .retention_days
        .get(key)
        .copied()
        .or_else(|| campus_generator::retention::period(key).map(|p| p.default))
        .unwrap_or(crate::config::DEFAULT_RETENTION_DAYS)
}

/// Deletes everything past its retention period (see [`Store::purge`] and
/// [`Store::purge_journey`]); run by `campus forms purge` and daily by the worker.
pub fn purge(store: &Store, settings: &Settings) -> Result<PurgeReport, StoreError> {
    let now = settings.clock.now();
    let mut report = store.purge(
        now,
        &|form| settings.retention_days(form),
        now - settings.confirm_valid.as_secs() as i64,
        retention(settings, "mail"),
    )?;
    // "N years after the end of the year": everything from before 1 January
    // of the year N years back is past it.
    let year = settings.clock.berlin_now().year();
    let year_start = |key: &str| {
        let back = retention(settings, key).min(1000) as i32;
        NaiveDate::from_ymd_opt(year - back, 1, 1).unwrap_or(NaiveDate::MIN)
    };
    let unix = |d: NaiveDate| {
        campus_generator::time::berlin_to_utc(d.and_hms_opt(0, 0, 0).unwrap_or_default())
            .and_utc()
            .timestamp()
    };
    let bookings = year_start("buchungen_jahre");
    report.journey = store.purge_journey(&JourneyCutoffs {
        bookings_before: unix(bookings),
        live_dates_before: bookings.format("%Y-%m-%d").to_string(),
        events_before: unix(year_start("buchungsverlauf_jahre")),
        consents_before: unix(year_start("einwilligungen_jahre")),
        sessions_before: now - 86_400 * i64::from(retention(settings, "sitzungen_tage")),
        evaluations_before: year_start("bewertungen_jahre")
            .format("%Y-%m-%d")
            .to_string(),
        certificates_before: unix(year_start("bescheinigungen_jahre")),
        rejected_applications_before: unix(year_start("mitgliedsantraege_jahre")),
    })?;
    Ok(report)
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("Unbekanntes Formular „{0}“; bekannt sind registrierung, kontakt, newsletter.")]
    UnknownForm(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("Ausgabe: {0}")]
    Io(#[from] std::io::Error),
}

/// Writes the submissions of one form as CSV (`;`-separated, UTF-8 with BOM
/// so spreadsheet programs open umlauts correctly).
pub fn export_csv(store: &Store, form: &str, out: impl Write) -> Result<usize, ExportError> {
    let kind = [
        FormKind::Registrierung,
        FormKind::Kontakt,
        FormKind::Newsletter,
    ]
    .into_iter()
    .find(|k| k.name() == form)
    .ok_or_else(|| ExportError::UnknownForm(form.to_string()))?;
    let columns: Vec<&str> = match kind {
        FormKind::Registrierung => vec!["name", "email", "kommune"],
        FormKind::Kontakt => vec![
            "name",
            "organisation",
            "email",
            "telefon",
            "termine",
            "nachricht",
        ],
        FormKind::Newsletter => vec!["email", "name"],
        FormKind::Buchung | FormKind::Einschreibung | FormKind::Veranstaltung => {
            unreachable!("not in the list above")
        }
    };
    let rows = store.export(form)?;
    let mut out = out;
    out.write_all("\u{feff}".as_bytes())?;
    let mut w = csv::WriterBuilder::new().delimiter(b';').from_writer(out);
    let mut header = vec!["id", "eingegangen", "status"];
    header.extend(&columns);
    write_safe(&mut w, &header)?;
    for r in &rows {
        let created = chrono::DateTime::from_timestamp(r.created_at, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default();
        let mut record = vec![r.id.to_string(), created, r.status.clone()];
        for c in &columns {
            let v = &r.payload[*c];
            record.push(match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(a) => a
                    .iter()
                    .filter_map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            });
        }
        write_safe(&mut w, &record)?;
    }
    w.flush()?;
    Ok(rows.len())
}

/// A cell a spreadsheet could read as a formula (it begins with `=`, `+`,
/// `-`, `@`, a tab or a carriage return) gets a leading `'`, which
/// spreadsheets show as text. Every cell of every export goes through here,
/// phone numbers like "+49 621" too: a leading `+` can start a formula.
pub fn spreadsheet_safe(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

/// Writes one CSV record with every cell made [`spreadsheet_safe`].
fn write_safe<W: Write, S: AsRef<str>>(
    w: &mut csv::Writer<W>,
    cells: impl IntoIterator<Item = S>,
) -> Result<(), csv::Error> {
    w.write_record(cells.into_iter().map(|c| spreadsheet_safe(c.as_ref())))
}

/// Which live date a booking belongs to in lists: the held/confirmed date,
/// else the wanted one (`naechster`, or empty for on-demand enrolments).
pub fn booking_date(b: &crate::store::BookingRow) -> &str {
    b.live_date.as_deref().unwrap_or(&b.wanted)
}

/// Writes bookings as CSV (`;`, UTF-8 with BOM), in the order of
/// [`Store::bookings`]: per unit and live date, booked before waiting.
pub fn export_bookings_csv(
    rows: &[crate::store::BookingRow],
    vat_percent: i64,
    out: impl Write,
) -> Result<usize, ExportError> {
    let mut out = out;
    out.write_all("\u{feff}".as_bytes())?;
    let mut w = csv::WriterBuilder::new().delimiter(b';').from_writer(out);
    write_safe(
        &mut w,
        [
            "Vorgang",
            "Lerneinheit",
            "Titel",
            "Termin",
            "Status",
            "Wartelistenplatz",
            "Name",
            "E-Mail",
            "Kommune",
            "Mitglied",
            "Preis brutto (EUR)",
            "darin MwSt. (EUR)",
            "Freigabe durch",
            "angefragt (UTC)",
            "zuletzt geändert (UTC)",
        ],
    )?;
    let time = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default()
    };
    let euros = |c: i64| format!("{},{:02}", c / 100, c % 100);
    // Place on the unit's waiting list (queue numbers are global).
    let mut waiting: Vec<&crate::store::BookingRow> = rows
        .iter()
        .filter(|b| b.state == BookingState::Waiting)
        .collect();
    waiting.sort_by_key(|b| (b.unit_id.clone(), b.queue_no));
    let mut place = std::collections::HashMap::new();
    for (i, b) in waiting.iter().enumerate() {
        let first = waiting
            .iter()
            .position(|x| x.unit_id == b.unit_id)
            .unwrap_or(i);
        place.insert(b.id, i - first + 1);
    }
    for b in rows {
        let vat = campus_generator::money::Cents(b.price_cents).vat_included(vat_percent);
        write_safe(
            &mut w,
            [
                format!("B-{}", b.id),
                b.unit_id.clone(),
                b.unit_title.clone(),
                booking_date(b).to_string(),
                b.state.label().to_string(),
                place.get(&b.id).map(|q| q.to_string()).unwrap_or_default(),
                b.name.clone(),
                b.email.clone(),
                b.authority_id.clone(),
                if b.member { "ja" } else { "nein" }.to_string(),
                euros(b.price_cents),
                euros(vat.0),
                match b.approver {
                    Approver::Authority => format!("{} ({})", b.approver.label(), b.approver_email),
                    other => other.label().to_string(),
                },
                time(b.created_at),
                time(b.updated_at),
            ],
        )?;
    }
    w.flush()?;
    Ok(rows.len())
}
