//! An authority's approvers: only their own staff.

use super::office::booking_json;
use super::Staff;
use super::{answer, render};
use crate::store::{BookingFilter, BookingRow};
use crate::web::blocking;
use crate::{AppError, AppState};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

/// An approver's start page: requests of their staff waiting for them and
/// all bookings of their staff, with attendance once the office recorded it.
pub(super) async fn approver_start(state: &AppState, staff: &Staff) -> Result<Response, AppError> {
    let st = state.clone();
    let all = blocking(move || st.store.bookings(&BookingFilter::default())).await?;
    let mine: Vec<BookingRow> = all.into_iter().filter(|b| staff.may_see(b)).collect();
    let waiting: Vec<Value> = mine
        .iter()
        .filter(|b| staff.may_decide(b))
        .map(booking_json)
        .collect();
    // Attendance as the office recorded it (only their own staff's bookings).
    let st = state.clone();
    let ids: Vec<i64> = mine.iter().map(|b| b.id).collect();
    let attendance = blocking(move || {
        ids.iter()
            .map(|id| st.store.attendance_status(*id).map(|(a, _)| a))
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    let bookings: Vec<Value> = mine
        .iter()
        .zip(attendance)
        .map(|(b, a)| {
            let mut v = booking_json(b);
            v["attendance"] = json!(a.map(|a| a.label()));
            v
        })
        .collect();
    let mut extra = staff.context();
    extra.extend([("approvals", json!(waiting)), ("bookings", json!(bookings))]);
    let html = render(
        &state.loaded(),
        "verwaltung/freigabe.html",
        "/verwaltung/",
        "Freigaben",
        &extra,
    );
    Ok(answer(StatusCode::OK, html))
}
