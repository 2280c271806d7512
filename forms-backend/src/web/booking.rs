//! Action links of the booking workflow. GET (and HEAD) only show a page
//! with a button and change nothing; the button posts, and only the POST
//! acts. One-time links (confirm, approve/reject, accept offer) are used up
//! by the POST; the cancellation link is signed and acts once per state.

use super::{
    check_ip_limit, html_headers, link_headers, own_page, site_redirect, AppError, Format,
};
use crate::booking::{self, Actor, BookingState, Decision, LinkInfo};
use crate::sign::Purpose;
use crate::store::BookingRow;
use crate::store::StoreError;
use crate::AppState;
use axum::extract::{Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Confirm,
    Approve,
    Reject,
    Accept,
    Cancel,
}

impl Action {
    fn path(self) -> &'static str {
        match self {
            Action::Confirm => "bestaetigen",
            Action::Approve => "freigeben",
            Action::Reject => "ablehnen",
            Action::Accept => "angebot",
            Action::Cancel => "stornieren",
        }
    }

    fn purpose(self) -> Purpose {
        match self {
            Action::Confirm => Purpose::BookingConfirm,
            Action::Approve | Action::Reject => Purpose::Approval,
            Action::Accept => Purpose::Offer,
            Action::Cancel => Purpose::Cancel,
        }
    }

    /// The state a booking must be in for the link to act.
    fn acts_on(self, state: BookingState) -> bool {
        match self {
            Action::Confirm => state == BookingState::Unconfirmed,
            Action::Approve | Action::Reject => state == BookingState::Approval,
            Action::Accept => state == BookingState::Offered,
            Action::Cancel => state.cancellable(),
        }
    }
}

pub(super) fn routes() -> Router<AppState> {
    let mut r = Router::new();
    for action in [
        Action::Confirm,
        Action::Approve,
        Action::Reject,
        Action::Accept,
        Action::Cancel,
    ] {
        r = r.route(
            &format!("/forms/buchung/{}/{{token}}", action.path()),
            get(move |s: State<AppState>, t: Path<String>| page(s, action, t)).post(
                move |s: State<AppState>, t: Path<String>, f: Format, req: Request| {
                    act(s, action, t, f, req)
                },
            ),
        );
    }
    r
}

async fn blocking<T: Send + 'static, E: Into<AppError> + Send + 'static>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f).await?.map_err(Into::into)
}

/// The booking a link stands for, without using the link.
fn lookup(state: &AppState, action: Action, token: &str) -> Result<Option<BookingRow>, StoreError> {
    if action == Action::Cancel {
        let Some(id) = booking::cancel_link_booking(&state.signer, token) else {
            return Ok(None);
        };
        let rows = state.store.write(|tx| tx.booking(id))?;
        return Ok(rows.filter(|b| action.acts_on(b.state)));
    }
    let info: Option<LinkInfo> = booking::peek(
        &state.store,
        token,
        action.purpose(),
        state.settings.clock.now(),
    )?;
    Ok(info.map(|i| i.booking).filter(|b| action.acts_on(b.state)))
}

fn render(
    state: &AppState,
    status: StatusCode,
    title: &str,
    message: &str,
    facts: Vec<(String, String)>,
    form: Option<(String, &str)>,
    other: Option<(String, &str)>,
) -> Response {
    let loaded = state.loaded();
    let (action, button) = form.unwrap_or_default();
    let (other_url, other_label) = other.unwrap_or_default();
    let html = own_page(
        &loaded,
        "forms/buchung.html",
        "/forms/buchung/",
        title,
        vec![
            ("message", json!(message)),
            ("facts", json!(facts)),
            ("action", json!(action)),
            ("button", json!(button)),
            ("other_url", json!(other_url)),
            ("other_label", json!(other_label)),
            ("valid", json!(status.is_success())),
        ],
    );
    link_headers((status, html_headers(), html).into_response())
}

/// The answer to a second request for a unit the person already holds an
/// active booking for (e.g. a double click): the existing booking, 409.
pub(super) fn already_booked(state: &AppState, b: &BookingRow, json: bool) -> Response {
    let message = "Für diese Lerneinheit haben Sie bereits eine Anfrage oder Buchung. Wir haben keine zweite angelegt; es gilt die bestehende.";
    if json {
        let body = json!({
            "ok": false,
            "errors": { "formular": message },
            "booking": { "id": b.id, "state": b.state },
        });
        return (StatusCode::CONFLICT, axum::Json(body)).into_response();
    }
    // Only what the person typed or can see in their mails: no approver,
    // no price, nothing about other people.
    let facts = vec![
        ("Vorgangsnummer".to_string(), format!("B-{}", b.id)),
        ("Lerneinheit".to_string(), b.unit_title.clone()),
        ("Status".to_string(), b.state.label().to_string()),
    ];
    render(
        state,
        StatusCode::CONFLICT,
        "Sie haben bereits eine Anfrage",
        message,
        facts,
        None,
        None,
    )
}

fn gone(state: &AppState) -> Response {
    render(
        state,
        StatusCode::GONE,
        "Link nicht mehr gültig",
        "Dieser Link ist nicht mehr gültig. Vielleicht wurde er schon benutzt, die Anfrage ist bereits entschieden, oder er ist abgelaufen.",
        Vec::new(),
        None,
        None,
    )
}

fn facts(state: &AppState, b: &BookingRow) -> Vec<(String, String)> {
    booking::with_env(state, "", |env| env.facts(b))
}

/// GET and HEAD: a page with a button; nothing changes.
async fn page(
    State(state): State<AppState>,
    action: Action,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let st = state.clone();
    let t = token.clone();
    let Some(b) = blocking(move || lookup(&st, action, &t)).await? else {
        return Ok(gone(&state));
    };
    let post_to = format!("/forms/buchung/{}/{token}", action.path());
    let (title, message, button, other) = match action {
        Action::Confirm => (
            "Anfrage bestätigen",
            "Bitte bestätigen Sie mit dem Knopf, dass die Anfrage von Ihnen stammt. Erst dann wird sie bearbeitet.",
            "Jetzt bestätigen",
            None,
        ),
        Action::Approve => (
            "Buchung freigeben",
            "Bitte prüfen Sie die Angaben. Mit dem Knopf geben Sie die Buchung verbindlich frei; die Kosten trägt der Arbeitgeber.",
            "Buchung freigeben",
            Some((format!("/forms/buchung/ablehnen/{token}"), "Stattdessen ablehnen")),
        ),
        Action::Reject => (
            "Buchung ablehnen",
            "Bitte prüfen Sie die Angaben. Mit dem Knopf lehnen Sie die Buchung ab; die Person wird per E-Mail informiert.",
            "Buchung ablehnen",
            Some((format!("/forms/buchung/freigeben/{token}"), "Stattdessen freigeben")),
        ),
        Action::Accept => (
            "Platz annehmen",
            "Für Sie ist ein Platz frei. Mit dem Knopf nehmen Sie ihn verbindlich an.",
            "Platz verbindlich annehmen",
            None,
        ),
        Action::Cancel => (
            "Buchung stornieren",
            "Möchten Sie Ihre Buchung oder Ihren Platz auf der Warteliste wirklich stornieren? Ein frei werdender Platz geht an die nächste Person auf der Warteliste.",
            "Jetzt stornieren",
            None,
        ),
    };
    let facts = facts(&state, &b);
    Ok(render(
        &state,
        StatusCode::OK,
        title,
        message,
        facts,
        Some((post_to, button)),
        other,
    ))
}

/// POST: the action, once.
async fn act(
    State(state): State<AppState>,
    action: Action,
    Path(token): Path<String>,
    format: Format,
    req: Request,
) -> Result<Response, AppError> {
    let (parts, _) = req.into_parts();
    let json = format.is_json();
    let ip = check_ip_limit(&state, &parts, json)?;
    let ua = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let ip_hash = state.signer.ip_hash(&ip);
    let st = state.clone();
    let outcome: Option<(BookingRow, Value)> = blocking(move || {
        booking::with_env(&st, &ip_hash, |env| {
            let r = match action {
                Action::Confirm => {
                    booking::confirm(env, &token, &ua).map(|b| b.map(|b| (b, json!(null))))
                }
                Action::Approve | Action::Reject => {
                    let approve = action == Action::Approve;
                    booking::decide(env, &token, approve).map(|(d, b)| match d {
                        Decision::NotPending => None,
                        d => b.map(|b| (b, json!(format!("{d:?}")))),
                    })
                }
                Action::Accept => {
                    booking::accept_offer(env, &token).map(|b| b.map(|b| (b, json!(null))))
                }
                Action::Cancel => match booking::cancel_link_booking(env.ctx.signer, &token) {
                    Some(id) => booking::cancel(env, id, &Actor::Participant)
                        .map(|b| b.map(|b| (b, json!(null)))),
                    None => Ok(None),
                },
            };
            r
        })
    })
    .await?;
    let Some((b, _)) = outcome else {
        return Ok(gone(&state));
    };
    state.wake.notify_one();
    if json {
        return Ok(axum::Json(json!({ "ok": true, "state": b.state })).into_response());
    }
    let facts = facts(&state, &b);
    let (title, message) = match (action, b.state) {
        (Action::Confirm, _) => {
            return Ok(link_headers(site_redirect(
                &state.loaded(),
                "/formular/bestaetigt/",
            )))
        }
        (Action::Approve, BookingState::Confirmed) => (
            "Buchung freigegeben",
            "Die Buchung ist freigegeben und der Platz verbindlich gebucht. Die Person erhält die Bestätigung mit dem Termin per E-Mail.",
        ),
        (Action::Approve, BookingState::Enrolled) => (
            "Buchung freigegeben",
            "Die Buchung ist freigegeben. Die Person erhält den Link zum Start der Lerneinheit per E-Mail.",
        ),
        (Action::Approve, _) => (
            "Buchung freigegeben – Warteliste",
            "Die Buchung ist freigegeben. Zurzeit ist kein Platz frei; die Person steht auf der Warteliste und wurde per E-Mail informiert.",
        ),
        (Action::Reject, _) => (
            "Buchung abgelehnt",
            "Die Buchung ist abgelehnt. Die Person wurde per E-Mail informiert.",
        ),
        (Action::Accept, _) => (
            "Platz gebucht",
            "Ihr Platz ist verbindlich gebucht. Die Bestätigung mit dem Termin für Ihren Kalender kommt per E-Mail.",
        ),
        (Action::Cancel, _) => (
            "Buchung storniert",
            "Ihre Buchung ist storniert. Sie erhalten eine Bestätigung per E-Mail.",
        ),
    };
    Ok(render(
        &state,
        StatusCode::OK,
        title,
        message,
        facts,
        None,
        None,
    ))
}
