//! Action links of the booking workflow. GET (and HEAD) only show a page
//! with a button and change nothing; the button posts, and only the POST
//! acts. One-time links (confirm, approve/reject, accept offer) are used up
//! by the POST; the cancellation link is signed and acts once per state.

use super::{
    blocking, check_ip_limit, html_headers, link_headers, site_redirect, AppError, Format,
};
use crate::booking::{self, Actor, BookingState, Decision, LinkInfo};
use crate::sign::Purpose;
use crate::store::BookingRow;
use crate::store::StoreError;
use crate::AppState;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use campus_generator::urls;
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
            &urls::booking_step(action.path(), "{token}"),
            get(move |s: State<AppState>, t: Path<String>| page(s, action, t)).post(
                move |s: State<AppState>, t: Path<String>, f: Format, req: Request| {
                    act(s, action, t, f, req)
                },
            ),
        );
    }
    r
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

/// The booking page of `step` (`forms/buchung.html`; its texts per step
/// are in the theme's `forms/buchung_texte.html`).
fn render(
    state: &AppState,
    status: StatusCode,
    step: &str,
    booking: Option<&BookingRow>,
    action: &str,
    other_url: &str,
) -> Response {
    let loaded = state.loaded();
    let facts: Vec<Value> = booking
        .map(|b| facts(state, b))
        .unwrap_or_default()
        .into_iter()
        .map(|(label, value)| json!({ "label": label, "value": value }))
        .collect();
    let html = loaded.pages.own(
        "forms/buchung.html",
        "/forms/buchung/",
        if status.is_success() {
            "Buchung"
        } else {
            "Link nicht mehr gültig"
        },
        &[
            ("step", json!(step)),
            ("facts", json!(facts)),
            ("action", json!(action)),
            ("other_url", json!(other_url)),
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
    // Only the number, the unit and the state: nothing else of a booking
    // goes to whoever types an address into the form.
    let facts = [
        ("Vorgangsnummer", format!("B-{}", b.id)),
        ("Lerneinheit", b.unit_title.clone()),
        ("Status", b.state.label().to_string()),
    ]
    .map(|(label, value)| json!({ "label": label, "value": value }));
    let html = state.loaded().pages.own(
        "forms/buchung.html",
        "/forms/buchung/",
        "Buchung",
        &[
            ("step", json!("bereits-angefragt")),
            ("facts", json!(facts)),
            ("action", json!("")),
            ("other_url", json!("")),
        ],
    );
    (StatusCode::CONFLICT, html_headers(), html).into_response()
}

fn gone(state: &AppState) -> Response {
    render(state, StatusCode::GONE, "ungueltig", None, "", "")
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
    let post_to = urls::booking_step(action.path(), &token);
    let other = match action {
        Action::Approve => urls::booking_step(Action::Reject.path(), &token),
        Action::Reject => urls::booking_step(Action::Approve.path(), &token),
        _ => String::new(),
    };
    Ok(render(
        &state,
        StatusCode::OK,
        action.path(),
        Some(&b),
        &post_to,
        &other,
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
    let ip = check_ip_limit(&state, &parts, json).await?;
    let ua = super::extract::user_agent(&parts.headers);
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
    let step = match (action, b.state) {
        (Action::Confirm, _) => {
            return Ok(link_headers(site_redirect(
                &state.loaded(),
                "/formular/bestaetigt/",
            )))
        }
        (Action::Approve, BookingState::Confirmed) => "freigegeben",
        (Action::Approve, BookingState::Enrolled) => "freigegeben-eingeschrieben",
        (Action::Approve, _) => "freigegeben-warteliste",
        (Action::Reject, _) => "abgelehnt",
        (Action::Accept, _) => "angenommen",
        (Action::Cancel, _) => "storniert",
    };
    Ok(render(&state, StatusCode::OK, step, Some(&b), "", ""))
}
