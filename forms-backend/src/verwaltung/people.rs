//! Per person: all bookings of one e-mail address. Approvers see only the
//! bookings of their own authorities' staff.

use super::office::booking_json;
use super::{answer, redirect, render, staff};
use crate::store::BookingFilter;
use crate::web::blocking;
use crate::{AppError, AppState};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

/// `?email=…` of a query string, trimmed and lowercased.
pub(super) fn email_query(query: &RawQuery) -> String {
    let pairs: Vec<(String, String)> = query
        .0
        .as_deref()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    pairs
        .into_iter()
        .find(|(k, _)| k == "email")
        .map(|(_, v)| v.trim().to_lowercase())
        .unwrap_or_default()
}

pub(super) async fn person_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: RawQuery,
) -> Result<Response, AppError> {
    let Some(staff) = staff(&state, &headers).await? else {
        return Ok(redirect("/verwaltung/anmelden"));
    };
    let email = email_query(&query);
    let bookings: Vec<Value> = if email.is_empty() {
        Vec::new()
    } else {
        let st = state.clone();
        let all = blocking(move || st.store.bookings(&BookingFilter::default())).await?;
        all.iter()
            .filter(|b| b.email.to_lowercase() == email && staff.may_see(b))
            .map(booking_json)
            .collect()
    };
    let mut extra = staff.context();
    extra.extend([
        ("email", json!(email)),
        ("searched", json!(!email.is_empty())),
        ("bookings", json!(bookings)),
    ]);
    let html = render(
        &state.loaded(),
        "verwaltung/person.html",
        "/verwaltung/personen",
        "Person",
        &extra,
    );
    Ok(answer(StatusCode::OK, html))
}
