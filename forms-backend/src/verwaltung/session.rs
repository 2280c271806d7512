//! Who is logged in: roles, the server-side session behind the cookie and
//! the guard every back-office POST passes (session + CSRF token).

use super::{address_of, field, forbidden, read_form, COOKIE};
use crate::booking::{Actor, Approver, BookingState};
use crate::sign::token_hash;
use crate::store::{BookingRow, OfficeSession};
use crate::web::blocking;
use crate::{AppError, AppState};
use axum::extract::Request;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// What a logged-in address may see and do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Role {
    /// The cooperative's office: everything.
    Office,
    /// Approver of these authorities (ids; `freigabe_email` in their content
    /// file with `freigabe: kommune`): only their staff's bookings.
    Approver(Vec<String>),
}

/// The role of `email` by the configuration and the content loaded now, so
/// an address removed there loses access with its next request.
pub(crate) fn role_of(state: &AppState, email: &str) -> Option<Role> {
    if state.settings.verwaltung.is_account(email) {
        return Some(Role::Office);
    }
    let authorities: Vec<String> = state
        .loaded()
        .site
        .authorities
        .iter()
        .filter(|a| a.approval == campus_generator::content::Approval::Kommune)
        .filter(|a| {
            a.approver_email
                .as_deref()
                .and_then(address_of)
                .is_some_and(|e| e == email)
        })
        .map(|a| a.id.clone())
        .collect();
    (!authorities.is_empty()).then_some(Role::Approver(authorities))
}

/// The logged-in person of a request.
pub(crate) struct Staff {
    pub(crate) id_hash: String,
    pub(crate) session: OfficeSession,
    pub(crate) role: Role,
}

impl Staff {
    /// What every page after the login needs (header with logout button).
    pub(crate) fn context(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("staff_email", json!(self.session.email)),
            ("csrf", json!(self.session.csrf)),
            ("office", json!(self.role == Role::Office)),
        ]
    }

    pub(crate) fn actor(&self) -> Actor {
        match self.role {
            Role::Office => Actor::Office(self.session.email.clone()),
            Role::Approver(_) => Actor::AuthorityApprover(self.session.email.clone()),
        }
    }

    /// Whether this person may see booking `b` at all.
    pub(crate) fn may_see(&self, b: &BookingRow) -> bool {
        match &self.role {
            Role::Office => true,
            Role::Approver(ids) => ids.contains(&b.authority_id),
        }
    }

    /// Whether this person may approve or reject `b` (the office may decide
    /// every booking, as on the command line).
    pub(crate) fn may_decide(&self, b: &BookingRow) -> bool {
        b.state == BookingState::Approval
            && match &self.role {
                Role::Office => true,
                Role::Approver(_) => self.may_see(b) && b.approver == Approver::Authority,
            }
    }
}

fn cookie_value(headers: &HeaderMap) -> Option<String> {
    let prefix = format!("{COOKIE}=");
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|p| p.trim().strip_prefix(prefix.as_str()).map(str::to_string))
}

/// The session of a request if it is still valid; an expired one is ended.
pub(crate) async fn staff(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Staff>, AppError> {
    let Some(id) = cookie_value(headers) else {
        return Ok(None);
    };
    let id_hash = token_hash(&id);
    let st = state.clone();
    blocking(move || {
        let s = &st.settings.verwaltung;
        let now = st.settings.clock.now();
        let Some(session) = st.store.office_session(&id_hash)? else {
            return Ok(None);
        };
        let role = role_of(&st, &session.email);
        let expired =
            now - session.last_seen_at > s.idle_secs || now - session.created_at > s.absolute_secs;
        let Some(role) = role.filter(|_| !expired) else {
            st.store.write(|tx| tx.end_office_session(&id_hash, now))?;
            return Ok(None);
        };
        // Bookkeeping of the session itself (idle expiry), at most once a minute.
        if now - session.last_seen_at >= 60 {
            st.store
                .write(|tx| tx.touch_office_session(&id_hash, now))?;
        }
        Ok::<_, crate::store::StoreError>(Some(Staff {
            id_hash,
            session,
            role,
        }))
    })
    .await
}

/// Both strings equal, compared without stopping at the first difference.
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The session and the form of a POST, or the 403 page when there is no
/// valid session or the form lacks the session's CSRF token.
pub(crate) async fn checked_post(
    state: &AppState,
    req: Request,
) -> Result<(Staff, Vec<(String, String)>), Response> {
    let (parts, body) = req.into_parts();
    let staff = match staff(state, &parts.headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return Err(forbidden(state)),
        Err(e) => return Err(e.into_response()),
    };
    let form = read_form(state, body)
        .await
        .map_err(|e| e.into_response())?;
    if !same(field(&form, "csrf"), &staff.session.csrf) {
        tracing::warn!("Verwaltung: POST ohne gültiges CSRF-Token abgewiesen");
        return Err(forbidden(state));
    }
    Ok((staff, form))
}
