//! `/verwaltung/zwei-faktor`: an office account sets up, confirms or turns
//! off its second factor (TOTP, [`crate::totp`]). The secret is shown as
//! text and as an `otpauth://` URI for the app; no QR service is asked.

use super::{answer, checked_post, field, not_found, redirect, render, Role};
use crate::sign::random_bytes;
use crate::store::StoreError;
use crate::totp;
use crate::web::blocking;
use crate::{AppError, AppState};
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

/// The bytes of a stored hex secret.
pub(super) fn secret_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
        .collect()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const RESULTS: [&str; 5] = [
    "neu",
    "eingerichtet",
    "ausgeschaltet",
    "code-falsch",
    "unveraendert",
];

pub(super) async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: RawQuery,
) -> Result<Response, AppError> {
    let staff = match super::office_user(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let st = state.clone();
    let email = staff.session.email.clone();
    let totp_row = blocking(move || st.store.office_totp(&email)).await?;
    let loaded = state.loaded();
    let pending = totp_row.as_ref().filter(|t| !t.confirmed).map(|t| {
        let secret = secret_bytes(&t.secret_hex);
        json!({
            "secret": totp::base32(&secret),
            "uri": totp::otpauth_uri(&loaded.site.config.site.name, &staff.session.email, &secret),
        })
    });
    let result = query
        .0
        .as_deref()
        .and_then(|q| q.strip_prefix("ergebnis="))
        .filter(|r| RESULTS.contains(r))
        .unwrap_or("");
    let mut extra = staff.context();
    extra.extend([
        (
            "active",
            json!(totp_row.as_ref().is_some_and(|t| t.confirmed)),
        ),
        ("pending", json!(pending)),
        ("result", json!(result)),
    ]);
    let html = render(
        &loaded,
        "verwaltung/zwei-faktor.html",
        "/verwaltung/zwei-faktor",
        "Zweiter Faktor",
        &extra,
    );
    Ok(answer(StatusCode::OK, html))
}

/// `einrichten` (a new pending secret), `bestaetigen` (the first code makes
/// it active), `ausschalten` (needs a current code).
pub(super) async fn action(
    State(state): State<AppState>,
    Path(action): Path<String>,
    req: Request,
) -> Result<Response, AppError> {
    let (staff, form) = match checked_post(&state, req).await {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    if staff.role != Role::Office
        || !["einrichten", "bestaetigen", "ausschalten"].contains(&action.as_str())
    {
        return Ok(not_found(&state, &staff));
    }
    let email = staff.session.email.clone();
    let actor = staff.actor().to_string();
    let typed = field(&form, "code").to_string();
    let st = state.clone();
    let result = blocking(move || {
        let now = st.settings.clock.now();
        st.store.write(|tx| -> Result<&'static str, StoreError> {
            let current = tx.office_totp(&email)?;
            let step = current
                .as_ref()
                .and_then(|t| totp::matching_step(&secret_bytes(&t.secret_hex), &typed, now));
            let result = match action.as_str() {
                // A confirmed secret stays until it is turned off.
                "einrichten" => {
                    match tx.set_pending_totp(&email, &to_hex(&random_bytes()[..20]), now)? {
                        true => "neu",
                        false => "unveraendert",
                    }
                }
                "bestaetigen" => match (current.filter(|t| !t.confirmed), step) {
                    (Some(_), Some(step)) if tx.confirm_totp(&email, step, now)? => "eingerichtet",
                    (Some(_), None) => "code-falsch",
                    _ => "unveraendert",
                },
                _ => match (current.filter(|t| t.confirmed), step) {
                    (Some(_), Some(step)) if tx.use_totp_step(&email, step)? => {
                        tx.remove_totp(&email)?;
                        "ausgeschaltet"
                    }
                    (Some(_), _) => "code-falsch",
                    _ => "unveraendert",
                },
            };
            if ["eingerichtet", "ausgeschaltet"].contains(&result) {
                tx.record_office_action(&actor, &format!("zwei-faktor-{result}"), &email, now)?;
            }
            Ok(result)
        })
    })
    .await?;
    Ok(redirect(&format!(
        "/verwaltung/zwei-faktor?ergebnis={result}"
    )))
}
