//! One booking with its audit trail, and the actions on it.

use super::moves::{date_choices, RESULTS};
use super::office::booking_json;
use super::{answer, not_found, redirect, render, time_text};
use super::{checked_post, staff, Role};
use crate::booking::{self, BookingState, Decision};
use crate::web::blocking;
use crate::{AppError, AppState};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

/// One booking with its audit trail and the buttons its state allows.
pub(super) async fn booking_page(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    query: axum::extract::RawQuery,
) -> Result<Response, AppError> {
    let Some(staff) = staff(&state, &headers).await? else {
        return Ok(redirect("/verwaltung/anmelden"));
    };
    let st = state.clone();
    let found = blocking(move || {
        let Some(b) = st.store.booking(id)? else {
            return Ok(None);
        };
        let events = st.store.booking_events(Some(id))?;
        let held = st.store.places_held_all()?;
        let billing = st.store.read(|tx| tx.booking_billing(id))?;
        Ok::<_, crate::store::StoreError>(Some((b, events, held, billing)))
    })
    .await?;
    let Some((b, events, held, billing)) = found.filter(|(b, ..)| staff.may_see(b)) else {
        return Ok(not_found(&state, &staff));
    };
    let events: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({
                "at": time_text(e.at),
                "actor": e.actor,
                "from": e.from_state.map_or("–", BookingState::label),
                "to": e.to_state.label(),
                "note": e.note,
            })
        })
        .collect();
    // What the last action did (set by the redirect after the POST).
    let result = query
        .0
        .as_deref()
        .and_then(|q| q.strip_prefix("ergebnis="))
        .filter(|r| ["freigegeben", "abgelehnt", "storniert"].contains(r) || RESULTS.contains(r))
        .unwrap_or("")
        .to_string();
    let loaded = state.loaded();
    let office = staff.role == Role::Office;
    let today = booking::berlin_date(state.settings.clock.now());
    let dates = date_choices(&loaded, &b, &held, today);
    let mut extra = staff.context();
    extra.extend([
        (
            "can_move",
            json!(office && b.state == BookingState::Confirmed && dates.len() > 1),
        ),
        (
            "can_offer",
            json!(office && b.state == BookingState::Waiting && !dates.is_empty()),
        ),
        ("dates", json!(dates)),
        ("booking", booking_json(&b)),
        ("events", json!(events)),
        ("can_decide", json!(staff.may_decide(&b))),
        (
            "can_cancel",
            json!(staff.role == Role::Office && b.state.cancellable()),
        ),
        ("result", json!(result)),
        // "Andere Kommune oder Behörde": whom to bill, at the non-member price.
        (
            "organisation",
            json!(billing
                .as_ref()
                .map(|(o, _)| o.as_str())
                .filter(|o| !o.is_empty())),
        ),
        (
            "cancel_fee",
            json!(billing
                .and_then(|(_, fee)| fee)
                .filter(|fee| *fee > 0)
                .map(|fee| campus_generator::money::Cents(fee).to_string())),
        ),
        (
            "action_base",
            json!(format!("/verwaltung/buchungen/{}", b.id)),
        ),
    ]);
    let html = render(
        &loaded,
        "verwaltung/buchung.html",
        "/verwaltung/buchungen/",
        "Buchung",
        &extra,
    );
    Ok(answer(StatusCode::OK, html))
}

/// Approve, reject or cancel: the workflow functions of `campus bookings`,
/// with the logged-in person as actor in the audit trail.
pub(super) async fn booking_action(
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, String)>,
    req: Request,
) -> Result<Response, AppError> {
    let (staff, _) = match checked_post(&state, req).await {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    if !["freigeben", "ablehnen", "stornieren"].contains(&action.as_str()) {
        return Ok(not_found(&state, &staff));
    }
    if let Role::Approver(_) = staff.role {
        // Approvers decide only their own authority's requests; anything else
        // is "not found" and changes nothing.
        let st = state.clone();
        let b = blocking(move || st.store.booking(id)).await?;
        let allowed = action != "stornieren" && b.as_ref().is_some_and(|b| staff.may_decide(b));
        if !allowed {
            return Ok(not_found(&state, &staff));
        }
    }
    let actor = staff.actor();
    let st = state.clone();
    let result = blocking(move || {
        booking::with_env_at(&st, "", st.settings.clock.now(), |env| {
            Ok::<_, crate::workflow::WorkflowError>(match action.as_str() {
                "freigeben" | "ablehnen" => {
                    match booking::decide_by_id(env, id, action == "freigeben", &actor)? {
                        Decision::Approved(_) => "freigegeben",
                        Decision::Rejected => "abgelehnt",
                        Decision::NotPending => "unveraendert",
                    }
                }
                _ => match booking::cancel(env, id, &actor)? {
                    Some(_) => "storniert",
                    None => "unveraendert",
                },
            })
        })
    })
    .await?;
    tracing::info!(booking = id, result, email = %staff.session.email, "Verwaltung: Buchung bearbeitet");
    state.wake.notify_one();
    Ok(redirect(&format!(
        "/verwaltung/buchungen/{id}?ergebnis={result}"
    )))
}
