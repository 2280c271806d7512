//! The course booking form (`POST /forms/kurs`) and the pages behind the
//! links of its mails (`/forms/kurs/{bestaetigen,freigeben,ablehnen}/…`).
//! GET shows a page with a button and changes nothing; only the POST acts.

use super::{
    blocking, check_ip_limit, html_headers, link_headers, parse_body, retry_context, stamp_json,
    stamp_reason, AppError, Format,
};
use crate::booking::{self, CourseBooking, CourseDecision, CourseRequested};
use crate::sign::FormStamp;
use crate::validate::course::{self as form, CourseRequest};
use crate::validate::{Errors, Input};
use crate::AppState;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use campus_generator::urls;
use serde_json::{json, Value};

const STEPS: [&str; 3] = ["bestaetigen", "freigeben", "ablehnen"];

pub(super) fn routes() -> Router<AppState> {
    let mut r = Router::new().route(&urls::form(form::FORM), post(submit));
    for step in STEPS {
        r = r.route(
            &urls::course_step(step, "{token}"),
            get(move |s: State<AppState>, t: Path<String>| page(s, step, t)).post(
                move |s: State<AppState>, t: Path<String>, f: Format, req: Request| {
                    act(s, step, t, f, req)
                },
            ),
        );
    }
    r
}

/// The course page of `forms/kurs.html` for `step`, with the course
/// booking's facts (`course`, see `Env::course_view`).
fn render(
    state: &AppState,
    status: StatusCode,
    step: &str,
    course: Option<&CourseBooking>,
    action: &str,
    other_url: &str,
) -> Response {
    let view = course
        .and_then(|c| {
            booking::with_env(state, "", |env| {
                state
                    .store
                    .read(|tx| Ok(env.course_view(tx, c).ok()))
                    .ok()
                    .flatten()
            })
        })
        .unwrap_or(Value::Null);
    let loaded = state.loaded();
    let html = loaded.pages.own(
        "forms/kurs.html",
        &urls::form(form::FORM),
        if status.is_success() {
            "Kursbuchung"
        } else {
            "Link nicht mehr gültig"
        },
        &[
            ("step", json!(step)),
            ("course", view),
            ("action", json!(action)),
            ("other_url", json!(other_url)),
        ],
    );
    link_headers((status, html_headers(), html).into_response())
}

fn gone(state: &AppState) -> Response {
    render(state, StatusCode::GONE, "ungueltig", None, "", "")
}

/// The course page again with the input and the messages (`form` in its
/// context, as the theme's form macros expect it).
fn form_again(state: &AppState, input: &Input, errors: Errors, json: bool) -> Response {
    if json {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "ok": false, "errors": errors })),
        )
            .into_response();
    }
    let loaded = state.loaded();
    let fields = form::fields(&loaded.site, input);
    let error_list: Vec<Value> = fields
        .iter()
        .filter_map(|f| errors.get(f).map(|m| json!({ "field": f, "message": m })))
        .collect();
    let values: serde_json::Map<String, Value> = fields
        .iter()
        .chain(std::iter::once(&"kurs".to_string()))
        .map(|f| (f.clone(), json!(input.get(f))))
        .collect();
    course_page_again(
        state,
        form::FORM,
        input.get("kurs"),
        values,
        &errors,
        error_list,
    )
}

/// The page of course `kurs` again (or a plain message page for an unknown
/// course) with `form` in its context as the theme's form macros expect it:
/// shared by the course booking and the exclusive request.
pub(super) fn course_page_again(
    state: &AppState,
    form_name: &str,
    kurs: &str,
    values: serde_json::Map<String, Value>,
    errors: &Errors,
    error_list: Vec<Value>,
) -> Response {
    let loaded = state.loaded();
    let form = json!({
        "name": form_name, "values": values, "errors": errors,
        "error_list": error_list, "ts": state.form_stamp(),
    });
    let known = loaded.site.courses.iter().any(|c| c.id == kurs);
    let page_url = if known {
        urls::course(kurs)
    } else {
        "/kurse/".to_string()
    };
    let html = match known.then(|| loaded.pages.site_page(&page_url, &[("form", form)])) {
        Some(Ok(Some(html))) => html,
        other => {
            if let Some(Err(e)) = other {
                tracing::error!(error = %e, "Kursseite nicht darstellbar");
            }
            let messages: Vec<&Value> = error_list.iter().map(|e| &e["message"]).collect();
            loaded.pages.own(
                "forms/meldung.html",
                &page_url,
                "Bitte prüfen Sie Ihre Angaben",
                &[("errors", json!(messages)), ("back", json!(page_url))],
            )
        }
    };
    (StatusCode::UNPROCESSABLE_ENTITY, html_headers(), html).into_response()
}

/// The page repeating the input with a button to send it again (a stale
/// or too fast form, or over the limit): nothing typed is lost.
fn send_again(state: &AppState, input: &Input, reason: &str, retry: Option<u64>) -> Response {
    let loaded = state.loaded();
    let fields: Vec<Value> = input
        .values
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| json!({ "name": k, "value": v }))
        .collect();
    let action = urls::form(form::FORM);
    let ts = if retry.is_some() {
        input.ts.clone()
    } else {
        state.form_stamp()
    };
    let mut values = vec![
        ("reason", json!(reason)),
        ("fields", json!(fields)),
        ("ts", json!(ts)),
        ("action", json!(action)),
    ];
    if let Some(secs) = retry {
        values.push((
            "retry",
            retry_context(secs, state.settings.clock.berlin_now()),
        ));
    }
    let html = loaded
        .pages
        .own("forms/erneut.html", &action, "Formular absenden", &values);
    let status = if retry.is_some() {
        StatusCode::TOO_MANY_REQUESTS
    } else {
        StatusCode::OK
    };
    (status, html_headers(), html).into_response()
}

async fn submit(
    State(state): State<AppState>,
    format: Format,
    req: Request,
) -> Result<Response, AppError> {
    let (parts, body) = req.into_parts();
    let json = format.is_json();
    let limited = check_ip_limit(&state, &parts, json).await;
    let bytes = axum::body::to_bytes(body, state.settings.body_limit)
        .await
        .map_err(|_| AppError::TooLarge { json })?;
    let input = form::input(parse_body(&parts.headers, &bytes, json)?);
    let ip = match limited {
        Ok(ip) => ip,
        Err(AppError::RateLimited {
            json: false,
            retry_after,
        }) => return Ok(send_again(&state, &input, "zu-viele", Some(retry_after))),
        Err(e) => return Err(e),
    };
    if !input.honeypot.is_empty() {
        tracing::info!(form = form::FORM, "Honeypot ausgefüllt, Anfrage verworfen");
        return Ok(render(&state, StatusCode::OK, "angefragt", None, "", ""));
    }
    let loaded = state.loaded();
    let today = state.settings.clock.berlin_now().date();
    let valid: CourseRequest = match form::validate(&input, &loaded.site, today) {
        Ok(v) => v,
        Err(errors) => return Ok(form_again(&state, &input, errors, json)),
    };
    let stamp = state.check_form_stamp(&input.ts);
    if stamp != FormStamp::Valid {
        if json {
            return Ok(stamp_json(&state, stamp).into_response());
        }
        return Ok(send_again(&state, &input, stamp_reason(stamp).0, None));
    }
    let ip_hash = state.signer.ip_hash(&ip);
    let st = state.clone();
    let requested = blocking(move || {
        booking::with_env(&st, &ip_hash, |env| booking::request_course(env, &valid))
    })
    .await?;
    match requested {
        CourseRequested::Existing(b) => {
            tracing::info!(
                form = form::FORM,
                "Buchung für eine Einheit besteht bereits"
            );
            Ok(super::booking::already_booked(&state, &b, json))
        }
        CourseRequested::New(c) => {
            state.wake.notify_one();
            tracing::info!(form = form::FORM, course = %c.course.course_id, "Kursbuchung gespeichert");
            if json {
                return Ok(Json(json!({ "ok": true, "id": c.course.id })).into_response());
            }
            Ok(render(
                &state,
                StatusCode::OK,
                "angefragt",
                Some(&c),
                "",
                "",
            ))
        }
    }
}

/// GET and HEAD: the course booking and a button; nothing changes.
async fn page(
    State(state): State<AppState>,
    step: &'static str,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let st = state.clone();
    let t = token.clone();
    let now = state.settings.clock.now();
    let found = blocking(move || booking::peek_course(&st.store, &t, step, now)).await?;
    let wanted = if step == "bestaetigen" {
        crate::store::CourseState::Unconfirmed
    } else {
        crate::store::CourseState::Approval
    };
    let Some(c) = found.filter(|c| c.course.state == wanted) else {
        return Ok(gone(&state));
    };
    let other = match step {
        "freigeben" => urls::course_step("ablehnen", &token),
        "ablehnen" => urls::course_step("freigeben", &token),
        _ => String::new(),
    };
    let action = urls::course_step(step, &token);
    Ok(render(
        &state,
        StatusCode::OK,
        step,
        Some(&c),
        &action,
        &other,
    ))
}

/// POST: the step, once.
async fn act(
    State(state): State<AppState>,
    step: &'static str,
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
    let outcome: Option<(&str, CourseBooking)> = blocking(move || {
        booking::with_env(&st, &ip_hash, |env| {
            Ok::<_, crate::workflow::WorkflowError>(match step {
                "bestaetigen" => booking::confirm_course(env, &token, &ua)?.map(|c| {
                    let next = if c.course.state == crate::store::CourseState::Approval {
                        "in-freigabe"
                    } else {
                        "bestaetigt"
                    };
                    (next, c)
                }),
                _ => match booking::decide_course(env, &token, step == "freigeben")? {
                    CourseDecision::Approved(c) => Some(("freigegeben", c)),
                    CourseDecision::Rejected(c) => Some(("abgelehnt", c)),
                    CourseDecision::NotPending => None,
                },
            })
        })
    })
    .await?;
    let Some((next, c)) = outcome else {
        return Ok(gone(&state));
    };
    state.wake.notify_one();
    if json {
        let units: Vec<Value> = c
            .units
            .iter()
            .map(|b| json!({ "unit": b.unit_id, "state": b.state, "live_date": b.live_date }))
            .collect();
        return Ok(
            Json(json!({ "ok": true, "state": c.course.state, "units": units })).into_response(),
        );
    }
    Ok(render(&state, StatusCode::OK, next, Some(&c), "", ""))
}
