//! The office's start page and the page per live date.

use super::approver::approver_start;
use super::{answer, date_text, not_found, redirect, render, time_text};
use super::{staff, Role};
use crate::booking::{self, BookingState};
use crate::store::{BookingFilter, BookingRow};
use crate::web::blocking;
use crate::{AppError, AppState};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use campus_generator::model::LiveDate;
use campus_generator::time::german_long_date;
use serde_json::{json, Value};

pub(super) fn booking_json(b: &BookingRow) -> Value {
    json!({
        "id": b.id,
        "name": b.name,
        "email": b.email,
        "authority_id": b.authority_id,
        "unit_id": b.unit_id,
        "unit_title": b.unit_title,
        "date": match crate::ops::booking_date(b) {
            "" => "On-Demand".to_string(),
            booking::NEXT => "nächster möglicher Termin".to_string(),
            d => date_text(d),
        },
        "state": b.state.label(),
        "approver": b.approver.label(),
        "requested": time_text(b.created_at),
        "url": format!("/verwaltung/buchungen/{}", b.id),
        "person_url": format!(
            "/verwaltung/personen?{}",
            serde_urlencoded::to_string([("email", &b.email)]).unwrap_or_default()
        ),
    })
}

/// Approvals waiting longer than this are listed as "nobody decided".
const UNDECIDED_AFTER_SECS: i64 = 3 * 86_400;
/// Offers ending within this time are listed as "about to expire".
const OFFER_ENDING_SECS: i64 = 86_400;

/// A live date is nearly full when at most a fifth of its places (at least
/// one) is free.
fn nearly_full(capacity: u32, free: u32) -> bool {
    free * 5 <= capacity || free <= 1
}

/// What needs attention: bookings awaiting approval (and those waiting
/// long), offers about to expire, failed mails, the coming live dates with
/// their free places (nearly full ones marked).
pub(super) async fn start_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(staff) = staff(&state, &headers).await? else {
        return Ok(redirect("/verwaltung/anmelden"));
    };
    if let Role::Approver(_) = staff.role {
        return approver_start(&state, &staff).await;
    }
    let st = state.clone();
    let (approvals, offers, failed, held) = blocking(move || {
        let approvals = st.store.bookings(&BookingFilter {
            state: Some(BookingState::Approval),
            ..BookingFilter::default()
        })?;
        let offers = st.store.bookings(&BookingFilter {
            state: Some(BookingState::Offered),
            ..BookingFilter::default()
        })?;
        let failed = st.store.failed_mails()?;
        let held = st.store.places_held_all()?;
        Ok::<_, crate::store::StoreError>((approvals, offers, failed, held))
    })
    .await?;
    let loaded = state.loaded();
    let now = state.settings.clock.now();
    let today = booking::berlin_date(now);
    let mut dates = Vec::new();
    // Live dates of units and events: (id, title, date, capacity, taken elsewhere).
    let slots = loaded
        .site
        .units
        .iter()
        .flat_map(|u| {
            u.dates
                .iter()
                .filter(|d| d.date >= today)
                .map(move |d| (&u.id, u.title.clone(), d.date, d.capacity, d.taken))
        })
        .chain(loaded.site.upcoming_events(today).map(|e| {
            (
                &e.id,
                format!("Veranstaltung: {}", e.title),
                e.date,
                e.capacity,
                0,
            )
        }));
    for (id, title, date, capacity, taken) in slots {
        let iso = date.format("%Y-%m-%d").to_string();
        let booked = held
            .iter()
            .find(|(unit, d, _)| unit == id && *d == iso)
            .map_or(0, |(_, _, n)| *n);
        let free = capacity.saturating_sub(booked + taken);
        dates.push(json!({
            "unit_title": title,
            "date": german_long_date(date),
            "capacity": capacity,
            "booked": booked + taken,
            "free": free,
            "nearly_full": nearly_full(capacity, free),
            "url": format!("/verwaltung/termine/{id}/{iso}"),
            "sort": iso,
        }));
    }
    dates.sort_by(|a, b| a["sort"].as_str().cmp(&b["sort"].as_str()));
    let nearly: Vec<&Value> = dates.iter().filter(|d| d["nearly_full"] == true).collect();
    let failed: Vec<Value> = failed
        .iter()
        .map(|m| json!({ "recipient": m.recipient, "kind": m.kind, "attempts": m.attempts, "error": m.last_error }))
        .collect();
    let undecided: Vec<Value> = approvals
        .iter()
        .filter(|b| now - b.updated_at >= UNDECIDED_AFTER_SECS)
        .map(booking_json)
        .collect();
    let ending: Vec<Value> = offers
        .iter()
        .filter(|b| b.offer_until.is_some_and(|t| t - now <= OFFER_ENDING_SECS))
        .map(|b| {
            let mut v = booking_json(b);
            v["offer_until"] = json!(b.offer_until.map(time_text));
            v
        })
        .collect();
    let mut extra = staff.context();
    extra.extend([
        (
            "approvals",
            json!(approvals.iter().map(booking_json).collect::<Vec<_>>()),
        ),
        ("undecided", json!(undecided)),
        ("offers_ending", json!(ending)),
        ("failed_mails", json!(failed)),
        ("nearly_full", json!(nearly)),
        ("dates", json!(dates)),
    ]);
    let html = render(
        &loaded,
        "verwaltung/start.html",
        "/verwaltung/",
        "Verwaltung",
        &extra,
    );
    Ok(answer(StatusCode::OK, html))
}

/// Participants, waiting list in its order and free places of one live date.
pub(super) async fn date_page(
    State(state): State<AppState>,
    Path((unit_id, date)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let staff = match super::office_user(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let loaded = state.loaded();
    // A unit's live date, or an event's one date (same list, same page).
    let found = loaded
        .site
        .units
        .iter()
        .find(|u| u.id == unit_id)
        .and_then(|u| {
            u.dates
                .iter()
                .find(|d| d.date.format("%Y-%m-%d").to_string() == date)
                .map(|d| (u.title.clone(), d.clone()))
        })
        .or_else(|| {
            let e = loaded.site.event(&unit_id)?;
            (e.date.format("%Y-%m-%d").to_string() == date).then(|| {
                let live = LiveDate {
                    date: e.date,
                    capacity: e.capacity,
                    taken: 0,
                    line: 0,
                };
                (format!("Veranstaltung: {}", e.title), live)
            })
        });
    let Some((unit_title, live)) = found else {
        return Ok(not_found(&state, &staff));
    };
    let st = state.clone();
    let (u, d) = (unit_id.clone(), date.clone());
    let (rows, next) = blocking(move || {
        let rows = st.store.bookings(&BookingFilter {
            unit_id: Some(u.clone()),
            live_date: Some(d),
            state: None,
        })?;
        // People waiting for whichever date comes next queue here too.
        let next = st.store.bookings(&BookingFilter {
            unit_id: Some(u),
            live_date: Some(booking::NEXT.to_string()),
            state: Some(BookingState::Waiting),
        })?;
        Ok::<_, crate::store::StoreError>((rows, next))
    })
    .await?;
    let participants: Vec<Value> = rows
        .iter()
        .filter(|b| b.state.holds_place())
        .map(booking_json)
        .collect();
    let mut waiting: Vec<&BookingRow> = rows
        .iter()
        .chain(next.iter())
        .filter(|b| b.state == BookingState::Waiting)
        .collect();
    waiting.sort_by_key(|b| (b.queue_no, b.id));
    let open: Vec<Value> = rows
        .iter()
        .filter(|b| matches!(b.state, BookingState::Approval | BookingState::Unconfirmed))
        .map(booking_json)
        .collect();
    let held = participants.len() as u32;
    let mut extra = staff.context();
    extra.extend([
        ("unit_title", json!(unit_title)),
        ("date", json!(german_long_date(live.date))),
        ("capacity", json!(live.capacity)),
        ("taken_elsewhere", json!(live.taken)),
        (
            "free",
            json!(live.capacity.saturating_sub(held + live.taken)),
        ),
        ("participants", json!(participants)),
        (
            "waiting",
            json!(waiting.into_iter().map(booking_json).collect::<Vec<_>>()),
        ),
        ("open", json!(open)),
    ]);
    extra.extend(crate::attendance::date_context(&state, &unit_id, &date).await?);
    let html = render(
        &loaded,
        "verwaltung/termin.html",
        "/verwaltung/termine/",
        "Termin",
        &extra,
    );
    Ok(answer(StatusCode::OK, html))
}
