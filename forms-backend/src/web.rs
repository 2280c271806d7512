//! Step 1 of a request and the answers: routes, body parsing, abuse checks
//! (body limit, honeypot, signed form timestamp, per-IP limit, Origin), and
//! the one error type [`AppError`].

use crate::intake::IntakeError;
use crate::pages;
use crate::sign::FormStamp;
use crate::validate::{self, Errors, FormKind, Input, Valid};
use crate::workflow::{self, Ctx};
use crate::{AppState, Loaded};
use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use campus_generator::urls;
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

mod booking;
mod course;
mod discovery;
mod error;
mod exclusive;
mod extract;
mod forms;
mod guard;
mod links;
mod my_bookings;

pub(crate) use error::html_headers;
pub use error::{error_chain, AppError, FormAgain};
use error::{retry_context, FormAgainBody};
pub use extract::Format;
use forms::*;
pub(crate) use guard::check_ip_limit;
use guard::*;
pub use guard::{ip_limit, limit_key, RateLimiter, LIMIT_WINDOW};
use links::*;

/// The router: `/forms/...` and `/healthz`. No fallback, so `campus serve`
/// can merge it with its static files.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/forms/token", get(form_token))
        .route(
            &urls::form("registrierung"),
            post(|s: State<AppState>, f: Format, r: Request| {
                submit(s, FormKind::Registrierung, f, r)
            }),
        )
        .route(
            &urls::form("kontakt"),
            post(|s: State<AppState>, f: Format, r: Request| submit(s, FormKind::Kontakt, f, r)),
        )
        .route(
            &urls::form("newsletter"),
            post(|s: State<AppState>, f: Format, r: Request| submit(s, FormKind::Newsletter, f, r)),
        )
        .route(
            &urls::form("buchung"),
            post(|s: State<AppState>, f: Format, r: Request| submit(s, FormKind::Buchung, f, r)),
        )
        .route(
            &urls::form("veranstaltung"),
            post(|s: State<AppState>, f: Format, r: Request| {
                submit(s, FormKind::Veranstaltung, f, r)
            }),
        )
        .route(
            &urls::form("einschreibung"),
            post(|s: State<AppState>, f: Format, r: Request| {
                submit(s, FormKind::Einschreibung, f, r)
            }),
        )
        .merge(booking::routes())
        .merge(course::routes())
        .merge(exclusive::routes())
        .merge(my_bookings::routes())
        .merge(discovery::routes())
        .merge(crate::verwaltung::routes())
        .merge(crate::attendance::routes())
        .merge(crate::evaluation::routes())
        .merge(crate::certificate::routes())
        .merge(crate::membership::routes())
        .route(
            &urls::confirm("{token}"),
            get(confirm_page).post(confirm_post),
        )
        .route(
            &urls::unsubscribe("{token}"),
            get(unsubscribe_page).post(unsubscribe_post),
        )
        .route(urls::CALCULATOR, get(calculator))
        .route(
            "/forms/{*rest}",
            any(|format: Format| async move {
                AppError::NotFound {
                    json: format.is_json(),
                }
            }),
        )
        // A known address with the wrong method (a GET of a form's address):
        // the theme's page, not axum's empty 405.
        .method_not_allowed_fallback(|format: Format| async move {
            AppError::MethodNotAllowed {
                json: format.is_json(),
            }
        })
        .layer(middleware::from_fn_with_state(state.clone(), origin_guard))
        // Outermost, so the origin check's refusals get the theme's page too.
        .layer(middleware::map_response_with_state(
            state.clone(),
            themed_errors,
        ))
        .with_state(state)
}

/// Renders plain error answers (marked with [`pages::ErrorPage`]) as the
/// theme's `forms/fehler.html`; keeps the plain page if that fails.
async fn themed_errors(State(state): State<AppState>, mut r: Response) -> Response {
    let Some(pages::ErrorPage(error)) = r.extensions_mut().remove::<pages::ErrorPage>() else {
        return r;
    };
    let loaded = state.loaded();
    // "When to try again" in German words, from the answer's Retry-After.
    let retry = r
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(Value::Null, |secs| {
            retry_context(secs, state.settings.clock.berlin_now())
        });
    match loaded.pages.template(
        "forms/fehler.html",
        "/forms/",
        "",
        &[("error", json!(error)), ("retry", retry)],
    ) {
        Ok(html) => {
            let (parts, _) = r.into_parts();
            Response::from_parts(parts, axum::body::Body::from(html))
        }
        Err(e) => {
            tracing::error!(error = %e, "Fehlerseite nicht darstellbar");
            r
        }
    }
}

impl AppState {
    /// A signed form timestamp issued now.
    pub fn form_stamp(&self) -> String {
        self.signer.form_stamp_at(self.settings.clock.now_millis())
    }

    /// Checks a posted form timestamp against the configured fill times.
    pub fn check_form_stamp(&self, ts: &str) -> crate::sign::FormStamp {
        self.signer.check_form_stamp(
            ts,
            self.settings.clock.now_millis(),
            self.settings.min_fill_time,
            self.settings.form_token_max_age,
        )
    }

    pub fn origin_allowed(&self, origin: &str) -> bool {
        self.loaded().origins.iter().any(|o| o == origin)
            || self.extra_origins().iter().any(|o| o == origin)
    }
}

/// Runs blocking store or workflow work off the async threads.
pub(crate) async fn blocking<T: Send + 'static, E: Into<AppError> + Send + 'static>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f).await?.map_err(Into::into)
}

async fn healthz(State(state): State<AppState>) -> Response {
    let store = state.store.clone();
    let schema = tokio::task::spawn_blocking(move || store.schema_version()).await;
    // A round starts at least every few seconds; one delivery may hold it
    // for the whole SMTP time limit (the lease), so only longer is stuck.
    let heartbeat = state
        .worker_heartbeat
        .load(std::sync::atomic::Ordering::Relaxed);
    let lease = crate::outbox::lease_for(&state.settings.transport).as_secs() as i64;
    let (worker, worker_ok, since) = if heartbeat == 0 {
        ("nicht gestartet", true, None)
    } else {
        let since = (state.settings.clock.now() - heartbeat).max(0);
        if since > lease + 60 {
            ("haengt", false, Some(since))
        } else {
            ("laeuft", true, Some(since))
        }
    };
    let schema = match schema {
        Ok(Ok(v)) => Some(v),
        _ => None,
    };
    let ok = schema.is_some() && worker_ok;
    let body = json!({
        "ok": ok,
        "schema": schema,
        "version": env!("CARGO_PKG_VERSION"),
        "commit": crate::BUILD_COMMIT.get().copied().unwrap_or("unbekannt"),
        "mailversand": { "status": worker, "letzte_runde_vor_sekunden": since },
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// The membership calculator without JavaScript; same rules as the page.
async fn calculator(
    State(state): State<AppState>,
    format: Format,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let json = format.is_json();
    let loaded = state.loaded();
    let raw = query
        .get("beschaeftigte")
        .map(String::as_str)
        .unwrap_or("")
        .trim()
        .to_string();
    // "1.500" is 1500; doubtful input gets its own message, never a guess.
    const RANGE: &str = "Bitte geben Sie die Zahl der Beschäftigten als ganze Zahl ab 1 an.";
    let parsed = validate::german_whole_number(&raw).and_then(|n| {
        u32::try_from(n)
            .ok()
            .filter(|n| (1..=10_000_000).contains(n))
            .ok_or(RANGE)
    });
    let problem = parsed.err().unwrap_or_default();
    let employees = parsed.ok();
    // Last year's bookings (optional): what reduces the yearly fee.
    let bookings_raw = query
        .get("buchungen")
        .map(String::as_str)
        .unwrap_or("")
        .trim()
        .to_string();
    let bookings = parse_euros(&bookings_raw);
    const BOOKINGS_ERROR: &str =
        "Bitte geben Sie die Buchungen als Betrag in Euro an, zum Beispiel 2.500 oder 2500,50.";
    let m = &loaded.site.membership;
    let quote = employees
        .filter(|_| bookings.is_some())
        .map(|n| (n, m.quote(n), m.yearly_fee(n, bookings.unwrap_or_default())));
    if json {
        return match quote {
            Some((n, q, fee)) => Json(json!({
                "ok": true, "employees": n, "shares": q.shares,
                "deposit": q.deposit.0, "annual_fee": q.annual_fee.0,
                "reduction": fee.reduction.0, "reduced_fee": fee.reduced.0,
            }))
            .into_response(),
            None => {
                let mut errors = serde_json::Map::new();
                if employees.is_none() {
                    errors.insert("beschaeftigte".into(), json!(problem));
                }
                if bookings.is_none() {
                    errors.insert("buchungen".into(), json!(BOOKINGS_ERROR));
                }
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Json(json!({ "ok": false, "errors": errors })),
                )
                    .into_response()
            }
        };
    }
    let html = loaded.pages.own(
        "forms/rechner.html",
        "/forms/mitgliedschaft/rechner",
        "Mitgliedsbeitrag berechnen",
        &[
            (
                "quote",
                quote.map_or(Value::Null, |(n, q, fee)| {
                    json!({
                        "employees": n,
                        "employees_label": campus_generator::money::group_thousands(n.into()),
                        "shares": q.shares, "deposit": q.deposit.0, "annual_fee": q.annual_fee.0,
                        "bookings": bookings.unwrap_or_default().0,
                        "reduction": fee.reduction.0, "reduced_fee": fee.reduced.0,
                    })
                }),
            ),
            ("employees", json!(raw)),
            ("employees_ok", json!(employees.is_some())),
            ("bookings", json!(bookings_raw)),
            (
                "bookings_error",
                json!(bookings.is_none().then_some(BOOKINGS_ERROR)),
            ),
            ("problem", json!(problem)),
            ("reduction_percent", json!(m.reduction_percent_of_bookings)),
            ("reduction_max_percent", json!(m.reduction_max_percent)),
            ("action", json!("/forms/mitgliedschaft/rechner")),
        ],
    );
    let status = if quote.is_some() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (status, html_headers(), html).into_response()
}

/// A euro amount as people type it ("2.500", "2500,50", "2 500 €"); empty
/// is zero, anything else not a non-negative amount is `None`.
fn parse_euros(raw: &str) -> Option<campus_generator::money::Cents> {
    let cleaned: String = raw
        .trim()
        .trim_end_matches('€')
        .chars()
        .filter(|c| !matches!(c, '.' | ' ' | '\u{a0}'))
        .collect();
    if cleaned.is_empty() {
        return Some(campus_generator::money::Cents(0));
    }
    let (euros, cents) = cleaned.split_once(',').unwrap_or((&cleaned, "0"));
    let all_digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    if !all_digits(euros) || !all_digits(cents) || cents.len() > 2 || euros.len() > 12 {
        return None;
    }
    let cents: i64 = format!("{cents:0<2}").parse().ok()?;
    Some(campus_generator::money::Cents(
        euros.parse::<i64>().ok()? * 100 + cents,
    ))
}

#[cfg(test)]
mod tests {
    use super::parse_euros;
    use campus_generator::money::Cents;

    #[test]
    fn euro_amounts_as_people_type_them() {
        assert_eq!(parse_euros(""), Some(Cents(0)));
        assert_eq!(parse_euros("2.500"), Some(Cents(250_000)));
        assert_eq!(parse_euros("2500,5"), Some(Cents(250_050)));
        assert_eq!(parse_euros("2 500,55 €"), Some(Cents(250_055)));
        assert_eq!(parse_euros("-5"), None);
        assert_eq!(parse_euros("viel"), None);
        assert_eq!(parse_euros("1,234"), None);
    }
}
