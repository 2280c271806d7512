//! The office moves a person to another date, or offers a waiting person a
//! free place by hand: [`booking::move_to_date`] and
//! [`booking::offer_by_hand`], as `campus bookings move|offer`.

use super::{field, redirect};
use crate::booking::{self, OfficeMove};
use crate::store::BookingRow;
use crate::web::blocking;
use crate::{AppError, AppState, Loaded};
use axum::extract::{Path, Request, State};
use axum::response::Response;
use campus_generator::time::german_long_date;
use serde_json::{json, Value};

/// The results the booking page knows after these actions.
pub(super) const RESULTS: [&str; 5] = [
    "umgebucht",
    "angeboten",
    "voll",
    "kein-termin",
    "unveraendert",
];

/// The upcoming dates of `b`'s unit with their free places, for the forms
/// on the booking page (`held`: places held per unit and date).
pub(super) fn date_choices(
    loaded: &Loaded,
    b: &BookingRow,
    held: &[(String, String, u32)],
    today: chrono::NaiveDate,
) -> Vec<Value> {
    let Some(unit) = loaded.site.units.iter().find(|u| u.id == b.unit_id) else {
        return Vec::new();
    };
    unit.upcoming_dates(today)
        .map(|d| {
            let iso = d.date.format("%Y-%m-%d").to_string();
            let booked = held
                .iter()
                .find(|(u, date, _)| *u == unit.id && *date == iso)
                .map_or(0, |(_, _, n)| *n);
            let free = d.capacity.saturating_sub(booked + d.taken);
            json!({
                "value": iso,
                "label": format!("{} ({free} frei)", german_long_date(d.date)),
                "current": b.live_date.as_deref() == Some(iso.as_str()),
                "selected": b.wanted == iso,
            })
        })
        .collect()
}

/// `umbuchen`: a confirmed person to the date in field `termin`.
pub(super) async fn move_to_date(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    req: Request,
) -> Result<Response, AppError> {
    run(state, id, Action::Move, req).await
}

/// `angebieten`: a waiting person gets the free place on `termin`.
pub(super) async fn offer_by_hand(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    req: Request,
) -> Result<Response, AppError> {
    run(state, id, Action::Offer, req).await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    Move,
    Offer,
}

async fn run(state: AppState, id: i64, action: Action, req: Request) -> Result<Response, AppError> {
    let (staff, form) = match super::office_post(&state, req).await {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let date = field(&form, "termin").trim().to_string();
    let actor = staff.actor();
    let st = state.clone();
    let result = blocking(move || {
        booking::with_env(&st, "", |env| match action {
            Action::Move => booking::move_to_date(env, id, &date, &actor),
            Action::Offer => booking::offer_by_hand(env, id, &date, &actor),
        })
    })
    .await?;
    let result = match result {
        OfficeMove::Done if action == Action::Move => "umgebucht",
        OfficeMove::Done => "angeboten",
        OfficeMove::Full => "voll",
        OfficeMove::NoSuchDate => "kein-termin",
        OfficeMove::NotAllowed => "unveraendert",
    };
    tracing::info!(booking = id, result, email = %staff.session.email, "Verwaltung: Buchung bearbeitet");
    state.wake.notify_one();
    Ok(redirect(&format!(
        "/verwaltung/buchungen/{id}?ergebnis={result}"
    )))
}
