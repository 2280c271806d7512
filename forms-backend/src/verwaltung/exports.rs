//! CSV exports in the browser, the same files as `campus bookings export`
//! and `campus forms export` (one function each in [`crate::ops`], every
//! cell spreadsheet-safe). Approvers get only their own staff's bookings:
//! the CSV for their HR department.

use super::{answer, not_found, redirect, render, staff, Role};
use crate::booking::BookingState;
use crate::ops::{export_bookings_csv, export_csv};
use crate::store::BookingFilter;
use crate::web::blocking;
use crate::{AppError, AppState};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The forms the office can export (as `campus forms export`).
const FORMS: [&str; 3] = ["registrierung", "kontakt", "newsletter"];

fn csv_answer(file: &str, body: Vec<u8>) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    r
}

/// The page listing the exports this person may download.
pub(super) async fn export_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(staff) = staff(&state, &headers).await? else {
        return Ok(redirect("/verwaltung/anmelden"));
    };
    let loaded = state.loaded();
    let units: Vec<_> = loaded
        .site
        .units
        .iter()
        .map(|u| json!({ "id": u.id, "title": u.title }))
        .collect();
    let states: Vec<_> = BookingState::ALL
        .iter()
        .map(|s| json!({ "value": s.as_str(), "label": s.label() }))
        .collect();
    let mut extra = staff.context();
    extra.extend([
        ("units", json!(units)),
        ("states", json!(states)),
        ("forms", json!(FORMS)),
    ]);
    let html = render(
        &loaded,
        "verwaltung/export.html",
        "/verwaltung/export",
        "Export",
        &extra,
    );
    Ok(answer(StatusCode::OK, html))
}

/// `buchungen.csv?einheit=&termin=&status=` (the filters of the CLI).
pub(super) async fn bookings_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: RawQuery,
) -> Result<Response, AppError> {
    let Some(staff) = staff(&state, &headers).await? else {
        return Ok(redirect("/verwaltung/anmelden"));
    };
    let pairs: Vec<(String, String)> = query
        .0
        .as_deref()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
    };
    let state_filter = match value("status") {
        None => None,
        Some(s) => match BookingState::parse(&s) {
            Ok(s) => Some(s),
            Err(_) => return Ok(not_found(&state, &staff)),
        },
    };
    let filter = BookingFilter {
        unit_id: value("einheit"),
        live_date: value("termin"),
        state: state_filter,
    };
    let st = state.clone();
    let rows = blocking(move || st.store.bookings(&filter)).await?;
    let rows: Vec<_> = rows.into_iter().filter(|b| staff.may_see(b)).collect();
    let mut out = Vec::new();
    let vat = state.loaded().site.prices.vat_percent;
    export_bookings_csv(&rows, vat, &mut out).map_err(|e| AppError::Internal(Box::new(e)))?;
    tracing::info!(email = %staff.session.email, rows = rows.len(), "Verwaltung: Buchungen exportiert");
    Ok(csv_answer("buchungen.csv", out))
}

/// `registrierung.csv`, `kontakt.csv`, `newsletter.csv`: office only.
pub(super) async fn form_csv(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(staff) = staff(&state, &headers).await? else {
        return Ok(redirect("/verwaltung/anmelden"));
    };
    let form = file.strip_suffix(".csv").unwrap_or("");
    if staff.role != Role::Office || !FORMS.contains(&form) {
        return Ok(not_found(&state, &staff));
    }
    let st = state.clone();
    let name = form.to_string();
    let out = blocking(move || {
        let mut out = Vec::new();
        export_csv(&st.store, &name, &mut out).map_err(|e| AppError::Internal(Box::new(e)))?;
        Ok::<_, AppError>(out)
    })
    .await?;
    tracing::info!(email = %staff.session.email, form, "Verwaltung: Formular exportiert");
    Ok(csv_answer(&file, out))
}
