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
mod discovery;

/// How the client wants its answers, decided once per request: JSON when
/// it sends or accepts JSON (the page script), HTML otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Json,
}

impl Format {
    pub fn of(headers: &HeaderMap) -> Format {
        let has = |name: header::HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("application/json"))
        };
        if has(header::ACCEPT) || has(header::CONTENT_TYPE) {
            Format::Json
        } else {
            Format::Html
        }
    }

    pub fn is_json(self) -> bool {
        self == Format::Json
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Format {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Format, Self::Rejection> {
        Ok(Format::of(&parts.headers))
    }
}

/// The one error type of the handlers. HTML or JSON, as the client asked.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("Anfrage von fremder Herkunft")]
    Forbidden { json: bool },
    #[error("Anfrage zu groß")]
    TooLarge { json: bool },
    #[error("Format nicht unterstützt")]
    Unsupported { json: bool },
    #[error("Anfrage-Limit erreicht")]
    RateLimited { json: bool },
    #[error("Seite nicht gefunden")]
    NotFound { json: bool },
    /// A link that is used, expired or forged (410).
    #[error("Link nicht mehr gültig")]
    Gone { html: Option<String> },
    /// Logged with its whole chain of causes; the client sees a generic
    /// German message.
    #[error("interner Fehler")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<crate::store::StoreError> for AppError {
    fn from(e: crate::store::StoreError) -> AppError {
        AppError::Internal(Box::new(e))
    }
}

impl From<workflow::WorkflowError> for AppError {
    fn from(e: workflow::WorkflowError) -> AppError {
        AppError::Internal(Box::new(e))
    }
}

impl From<IntakeError> for AppError {
    fn from(e: IntakeError) -> AppError {
        AppError::Internal(Box::new(e))
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> AppError {
        AppError::Internal(Box::new(e))
    }
}

/// "cause: its cause: …", each message once (errors that print their
/// source in their own message are not repeated).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        // HTML answers carry the theme's error page to render (see `themed_errors`);
        // the plain page stays if the theme cannot render it.
        let simple =
            |status: StatusCode, json: bool, page: &'static str, title: &str, message: &str| {
                if json {
                    (
                        status,
                        Json(json!({ "ok": false, "errors": { "formular": message } })),
                    )
                        .into_response()
                } else {
                    let mut r =
                        (status, html_headers(), pages::fallback(title, message)).into_response();
                    r.extensions_mut().insert(pages::ErrorPage(page));
                    r
                }
            };
        match self {
            AppError::Forbidden { json } => simple(
                StatusCode::FORBIDDEN,
                json,
                "fremde-herkunft",
                "Anfrage abgelehnt",
                "Dieses Formular kann nur von den Seiten des KommunalCampus aus abgeschickt werden.",
            ),
            AppError::TooLarge { json } => simple(
                StatusCode::PAYLOAD_TOO_LARGE,
                json,
                "zu-gross",
                "Zu viele Daten",
                "Ihre Angaben sind zu umfangreich. Bitte kürzen Sie Ihre Nachricht.",
            ),
            AppError::Unsupported { json } => simple(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                json,
                "format",
                "Format nicht unterstützt",
                "Bitte senden Sie das Formular als normales HTML-Formular oder als JSON.",
            ),
            AppError::RateLimited { json } => {
                let mut r = simple(
                    StatusCode::TOO_MANY_REQUESTS,
                    json,
                    "zu-viele",
                    "Zu viele Anfragen",
                    "Von Ihrem Anschluss kamen in kurzer Zeit sehr viele Anfragen. Bitte versuchen Sie es in einigen Minuten erneut.",
                );
                r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("600"));
                r
            }
            AppError::NotFound { json } => simple(
                StatusCode::NOT_FOUND,
                json,
                "nicht-gefunden",
                "Seite nicht gefunden",
                "Diese Adresse gibt es nicht.",
            ),
            AppError::Gone { html: Some(html) } => (StatusCode::GONE, html_headers(), html).into_response(),
            AppError::Gone { html: None } => (
                StatusCode::GONE,
                Json(json!({ "ok": false, "errors": { "link": "Dieser Link ist nicht mehr gültig." } })),
            )
                .into_response(),
            AppError::Internal(cause) => {
                tracing::error!(error = %error_chain(cause.as_ref()), "Interner Fehler");
                let mut r = (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    html_headers(),
                    pages::fallback(
                        "Das hat leider nicht geklappt",
                        "Ihre Angaben konnten wegen eines technischen Fehlers nicht gespeichert werden. Bitte versuchen Sie es später erneut oder schreiben Sie uns eine E-Mail.",
                    ),
                )
                    .into_response();
                r.extensions_mut().insert(pages::ErrorPage("technik"));
                r
            }
        }
    }
}

/// The form shown again with messages and the values kept (invalid
/// values, a missing or too young timestamp, overload): a normal answer of
/// a form post, not an error.
#[derive(Debug)]
pub struct FormAgain {
    status: StatusCode,
    body: FormAgainBody,
    /// Seconds to wait before sending again (overload).
    retry_after: Option<u64>,
}

#[derive(Debug)]
enum FormAgainBody {
    Html(String),
    Json(Value),
}

impl IntoResponse for FormAgain {
    fn into_response(self) -> Response {
        let mut r = match self.body {
            FormAgainBody::Html(html) => (self.status, html_headers(), html).into_response(),
            FormAgainBody::Json(value) => (self.status, Json(value)).into_response(),
        };
        if let Some(secs) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        r
    }
}

pub(crate) fn html_headers() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ]
}

/// Per-key sliding-window limit, in memory: it resets on restart and is per
/// process (enough for one `campus serve`; a shared limit would go into the
/// store). The per-recipient mail limit is durable in the outbox instead.
pub struct RateLimiter {
    max: u32,
    window: Duration,
    /// Times of the hits in milliseconds (see [`crate::clock`]).
    hits: Mutex<HashMap<String, VecDeque<u64>>>,
}

impl RateLimiter {
    pub fn new(max: u32, window: Duration) -> RateLimiter {
        RateLimiter {
            max,
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a hit of `key` at `now` (milliseconds); false over the limit.
    pub fn allow(&self, key: &str, now: u64) -> bool {
        let window = self.window.as_millis() as u64;
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        if hits.len() > 10_000 {
            hits.retain(|_, q| q.back().is_some_and(|t| now.saturating_sub(*t) < window));
        }
        let q = hits.entry(key.to_string()).or_default();
        while q.front().is_some_and(|t| now.saturating_sub(*t) >= window) {
            q.pop_front();
        }
        if q.len() as u32 >= self.max {
            return false;
        }
        q.push_back(now);
        true
    }
}

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
            &urls::form("einschreibung"),
            post(|s: State<AppState>, f: Format, r: Request| {
                submit(s, FormKind::Einschreibung, f, r)
            }),
        )
        .merge(booking::routes())
        .merge(discovery::routes())
        .merge(crate::verwaltung::routes())
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
    match loaded.pages.template(
        "forms/fehler.html",
        "/forms/",
        "",
        &[("error", json!(error))],
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

/// Rejects state-changing requests from other sites: an `Origin` must be
/// the site's (or the backend's, or a configured one). Requests without
/// `Origin` (curl, mail servers doing one-click unsubscribe) pass unless the
/// browser says they are cross-site. Unsubscribe links carry their own
/// signature and are exempt (RFC 8058 posts come from mail servers).
///
/// Allowed origins also get CORS headers, so the page script can fetch
/// `/forms/token` and post JSON when `[forms] url` is another origin.
async fn origin_guard(
    State(state): State<AppState>,
    format: Format,
    req: Request,
    next: Next,
) -> Response {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .map(|o| crate::origin_of(o.to_str().unwrap_or("null")));
    let allowed = origin.as_deref().is_some_and(|o| state.origin_allowed(o));
    if *req.method() == Method::OPTIONS {
        let mut r = if allowed {
            StatusCode::NO_CONTENT.into_response()
        } else {
            StatusCode::FORBIDDEN.into_response()
        };
        if allowed {
            let h = r.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("Content-Type, Accept"),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
        }
        return cors(r, origin.as_deref().filter(|_| allowed));
    }
    let exempt = matches!(*req.method(), Method::GET | Method::HEAD)
        || req.uri().path().starts_with("/forms/newsletter/abmelden/");
    if !exempt {
        let headers = req.headers();
        let json = format.is_json();
        if let Some(o) = &origin {
            if !allowed {
                tracing::warn!(origin = %o, path = req.uri().path(), "Fremde Herkunft abgelehnt");
                return AppError::Forbidden { json }.into_response();
            }
        } else if headers
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes() == b"cross-site")
        {
            return AppError::Forbidden { json }.into_response();
        }
    }
    let response = next.run(req).await;
    cors(response, origin.as_deref().filter(|_| allowed))
}

fn cors(mut r: Response, origin: Option<&str>) -> Response {
    if let Some(value) = origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        let h = r.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        h.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    r
}

impl AppState {
    /// A signed form timestamp issued now.
    pub fn form_stamp(&self) -> String {
        self.signer.form_stamp_at(self.settings.clock.now_millis())
    }

    pub fn origin_allowed(&self, origin: &str) -> bool {
        self.loaded().origins.iter().any(|o| o == origin)
            || self.extra_origins().iter().any(|o| o == origin)
    }
}

/// The client address: the connection's peer (needs
/// `into_make_service_with_connect_info::<SocketAddr>()`), or the last
/// `X-Forwarded-For` entry when configured behind a proxy. `None` when
/// unknown: then there is no per-IP limit (one shared bucket for everybody
/// would lock out all visitors), and a warning is logged once.
fn client_ip(req_parts: &axum::http::request::Parts, trust_forwarded: bool) -> Option<String> {
    if trust_forwarded {
        if let Some(ip) = req_parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            return Some(ip.to_string());
        }
    }
    let ip = req_parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    if ip.is_none() {
        static WARNED: std::sync::Once = std::sync::Once::new();
        WARNED.call_once(|| {
            tracing::warn!(
                "Client-Adresse unbekannt: kein Limit je IP (Server ohne ConnectInfo gestartet?)"
            )
        });
    }
    ip
}

/// Applies the per-IP limit; returns the address to hash.
pub(crate) fn check_ip_limit(
    state: &AppState,
    parts: &axum::http::request::Parts,
    json: bool,
) -> Result<String, AppError> {
    match client_ip(parts, state.settings.trust_forwarded_for) {
        Some(ip) if !state.limiter.allow(&ip, state.settings.clock.now_millis()) => {
            tracing::warn!(path = parts.uri.path(), "Anfrage-Limit je Adresse erreicht");
            Err(AppError::RateLimited { json })
        }
        Some(ip) => Ok(ip),
        None => Ok("unbekannt".into()),
    }
}

fn parse_body(
    headers: &HeaderMap,
    bytes: &[u8],
    json: bool,
) -> Result<Vec<(String, String)>, AppError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/x-www-form-urlencoded");
    if content_type.starts_with("application/json") {
        let map: serde_json::Map<String, Value> =
            serde_json::from_slice(bytes).map_err(|_| AppError::Unsupported { json: true })?;
        Ok(map
            .into_iter()
            .filter_map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s,
                    Value::Bool(true) => "ja".into(),
                    Value::Bool(false) => String::new(),
                    Value::Number(n) => n.to_string(),
                    _ => return None,
                };
                Some((k, v))
            })
            .collect())
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        serde_urlencoded::from_bytes(bytes).map_err(|_| AppError::Unsupported { json })
    } else {
        Err(AppError::Unsupported { json })
    }
}

/// Where a form sends people after success: a page of the site, never a
/// target taken from the request.
fn site_redirect(loaded: &Loaded, path: &'static str) -> Response {
    debug_assert!(path.starts_with('/') && !path.starts_with("//"));
    let c = &loaded.site.config;
    let location = if c.forms.url.is_empty() {
        path.to_string()
    } else {
        format!("{}{path}", c.site.base_url)
    };
    (
        StatusCode::SEE_OTHER,
        [(
            header::LOCATION,
            HeaderValue::from_str(&location).expect("ASCII path"),
        )],
    )
        .into_response()
}

fn success(loaded: &Loaded, kind: FormKind, json: bool) -> Response {
    if json {
        return Json(json!({ "ok": true })).into_response();
    }
    site_redirect(
        loaded,
        match kind {
            FormKind::Registrierung => "/formular/danke-registrierung/",
            FormKind::Kontakt => "/formular/danke-kontakt/",
            FormKind::Newsletter => "/formular/danke-newsletter/",
            FormKind::Buchung => "/formular/danke-buchung/",
            FormKind::Einschreibung => "/formular/danke-einschreibung/",
        },
    )
}

async fn submit(
    State(state): State<AppState>,
    kind: FormKind,
    format: Format,
    req: Request,
) -> Result<Response, AppError> {
    let (parts, body) = req.into_parts();
    let json = format.is_json();
    let ip = check_ip_limit(&state, &parts, json)?;
    let bytes = axum::body::to_bytes(body, state.settings.body_limit)
        .await
        .map_err(|_| AppError::TooLarge { json })?;
    let input = Input::from_pairs(kind, parse_body(&parts.headers, &bytes, json)?);
    let loaded = state.loaded();
    if !input.honeypot.is_empty() {
        // Bots get the normal answer and nothing is stored or sent.
        tracing::info!(form = kind.name(), "Honeypot ausgefüllt, Anfrage verworfen");
        return Ok(success(&loaded, kind, json));
    }
    let valid = match validate::validate(
        kind,
        &input,
        &loaded.site,
        state.settings.clock.berlin_now(),
    ) {
        Ok(v) => v,
        Err(errors) => {
            return Ok(invalid(&state, &loaded, kind, &input, errors, json).into_response())
        }
    };
    let stamp = state.signer.check_form_stamp(
        &input.ts,
        state.settings.clock.now_millis(),
        state.settings.min_fill_time,
        state.settings.form_token_max_age,
    );
    if stamp != FormStamp::Valid {
        tracing::info!(
            form = kind.name(),
            ?stamp,
            "Formular ohne gültigen Zeitstempel"
        );
        return Ok(resend(&state, &loaded, kind, &input, stamp, json).into_response());
    }
    let ip_hash = state.signer.ip_hash(&ip);
    if let Valid::Booking(b) = valid {
        // Bookings read and take places in their own transactions.
        let st = state.clone();
        let requested = tokio::task::spawn_blocking(move || {
            crate::booking::with_env(&st, &ip_hash, |env| crate::booking::request(env, &b))
        })
        .await??;
        if let crate::booking::Requested::Existing(existing) = requested {
            tracing::info!(
                form = kind.name(),
                "Buchung für diese Einheit besteht bereits"
            );
            return Ok(booking::already_booked(&state, &existing, json));
        }
    } else {
        // Registration, contact and newsletter go through the group commit.
        let st = state.clone();
        let ld = loaded.clone();
        let job: crate::intake::Job = Box::new(move |tx| {
            let ctx = Ctx {
                store: &st.store,
                letterhead: &ld.letterhead,
                signer: &st.signer,
                backend_url: &ld.backend_url,
                office: &st.settings.office,
                confirm_valid: st.settings.confirm_valid,
                per_recipient_per_hour: st.settings.per_recipient_per_hour,
                ip_hash: &ip_hash,
                now: st.settings.clock.now(),
            };
            match &valid {
                Valid::Registration(r) => workflow::register_in(&ctx, tx, r),
                Valid::Contact(c) => workflow::contact_in(&ctx, tx, c),
                Valid::Newsletter(n) => workflow::newsletter_in(&ctx, tx, n),
                Valid::Booking(_) => unreachable!("handled above"),
            }
        });
        match state.intake.submit(job).await {
            Ok(()) => {}
            Err(IntakeError::Busy) => return Ok(busy(&loaded, kind, &input, json).into_response()),
            Err(e) => return Err(e.into()),
        }
    }
    state.wake.notify_one();
    tracing::info!(form = kind.name(), "Formular gespeichert");
    Ok(success(&loaded, kind, json))
}

/// The form page again: the site's own page with
/// `form { name, values, errors, error_list, ts }` in its context, which the
/// theme's form macros use to show the input and the messages.
fn invalid(
    state: &AppState,
    loaded: &Loaded,
    kind: FormKind,
    input: &Input,
    errors: Errors,
    json: bool,
) -> FormAgain {
    if json {
        return FormAgain {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: FormAgainBody::Json(json!({ "ok": false, "errors": errors })),
            retry_after: None,
        };
    }
    let page_url = kind.page_url(input);
    let error_list: Vec<Value> = kind
        .fields()
        .iter()
        .filter_map(|f| errors.get(*f).map(|m| json!({ "field": f, "message": m })))
        .collect();
    // Every field of the form, so templates need not ask whether one is there.
    let values: serde_json::Map<String, Value> = kind
        .fields()
        .iter()
        .map(|f| (f.to_string(), json!(input.get(f))))
        .collect();
    let form = json!({
        "name": kind.name(), "values": values, "errors": errors,
        "error_list": error_list, "ts": state.form_stamp(),
    });
    let html = match loaded.pages.site_page(&page_url, &[("form", form)]) {
        Ok(Some(html)) => html,
        other => {
            if let Err(e) = other {
                tracing::error!(error = %e, "Formularseite nicht darstellbar");
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
    FormAgain {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        body: FormAgainBody::Html(html),
        retry_after: None,
    }
}

const BUSY_MESSAGE: &str = "Gerade gehen sehr viele Anfragen gleichzeitig ein. Ihre Angaben sind noch nicht gespeichert. Bitte senden Sie sie in einigen Sekunden noch einmal ab.";

/// The page repeating a form's values with a button to send them again
/// (`forms/erneut.html`; its texts per `reason` are in the template).
fn send_again_page(
    loaded: &Loaded,
    kind: FormKind,
    input: &Input,
    reason: &str,
    ts: &str,
) -> String {
    let fields: Vec<Value> = kind
        .fields()
        .iter()
        .filter_map(|f| {
            input
                .values
                .get(*f)
                .map(|v| json!({ "name": f, "value": v }))
        })
        .collect();
    let action = urls::form(kind.name());
    loaded.pages.own(
        "forms/erneut.html",
        &action,
        "Formular absenden",
        &[
            ("reason", json!(reason)),
            ("fields", json!(fields)),
            ("ts", json!(ts)),
            ("action", json!(action)),
        ],
    )
}

/// The 503 answer under overload: JSON, or a page repeating the values
/// (with the form's still valid `ts`) and a button to send them again.
fn busy(loaded: &Loaded, kind: FormKind, input: &Input, json: bool) -> FormAgain {
    let retry_after = Some(crate::intake::RETRY_AFTER_SECS);
    let body = if json {
        FormAgainBody::Json(json!({ "ok": false, "errors": { "formular": BUSY_MESSAGE } }))
    } else {
        FormAgainBody::Html(send_again_page(
            loaded,
            kind,
            input,
            "ueberlastet",
            &input.ts,
        ))
    };
    FormAgain {
        status: StatusCode::SERVICE_UNAVAILABLE,
        body,
        retry_after,
    }
}

fn resend(
    state: &AppState,
    loaded: &Loaded,
    kind: FormKind,
    input: &Input,
    stamp: FormStamp,
    json: bool,
) -> FormAgain {
    let ts = state.form_stamp();
    let (reason, message) = match stamp {
        FormStamp::TooFast => ("zu-schnell", "Das ging sehr schnell. Bitte bestätigen Sie, dass Sie das Formular absenden möchten."),
        _ => ("zeitstempel", "Bitte bestätigen Sie noch einmal, dass Sie das Formular absenden möchten. Ihre Angaben sind unten schon eingetragen."),
    };
    if json {
        return FormAgain {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: FormAgainBody::Json(
                json!({ "ok": false, "errors": { "ts": message }, "ts": ts }),
            ),
            retry_after: None,
        };
    }
    FormAgain {
        status: StatusCode::OK,
        body: FormAgainBody::Html(send_again_page(loaded, kind, input, reason, &ts)),
        retry_after: None,
    }
}

async fn healthz(State(state): State<AppState>) -> Response {
    let store = state.store.clone();
    match tokio::task::spawn_blocking(move || store.schema_version()).await {
        Ok(Ok(v)) => Json(json!({ "ok": true, "schema": v })).into_response(),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "ok": false })),
        )
            .into_response(),
    }
}

async fn form_token(State(state): State<AppState>) -> Response {
    (
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(json!({ "ts": state.form_stamp() })),
    )
        .into_response()
}

fn link_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // "same-origin": the token in the URL never goes to another site, and
    // the button's POST carries our Origin ("no-referrer" makes browsers
    // send `Origin: null`, which the Origin check must refuse).
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    r
}

/// GET (and HEAD) only shows a button: mail scanners that follow links
/// confirm nothing.
async fn confirm_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let store = state.store.clone();
    let now = state.settings.clock.now();
    let t = token.clone();
    let valid =
        tokio::task::spawn_blocking(move || workflow::token_is_valid(&store, &t, now)).await??;
    let loaded = state.loaded();
    let html = loaded.pages.own(
        "forms/bestaetigen.html",
        "/forms/bestaetigen/",
        "Anmeldung bestätigen",
        &[
            ("valid", json!(valid)),
            ("action", json!(urls::confirm(&token))),
        ],
    );
    let status = if valid {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    Ok(link_headers((status, html_headers(), html).into_response()))
}

async fn confirm_post(
    State(state): State<AppState>,
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
    let loaded = state.loaded();
    let ld = loaded.clone();
    let confirmed = tokio::task::spawn_blocking(move || {
        let ctx = Ctx {
            store: &st.store,
            letterhead: &ld.letterhead,
            signer: &st.signer,
            backend_url: &ld.backend_url,
            office: &st.settings.office,
            confirm_valid: st.settings.confirm_valid,
            per_recipient_per_hour: st.settings.per_recipient_per_hour,
            ip_hash: &ip_hash,
            now: st.settings.clock.now(),
        };
        workflow::confirm(&ctx, &token, &ua)
    })
    .await??;
    if !confirmed {
        let html = (!json).then(|| {
            loaded.pages.own(
                "forms/bestaetigen.html",
                "/forms/bestaetigen/",
                "Link nicht mehr gültig",
                &[("valid", json!(false)), ("action", json!(""))],
            )
        });
        return Err(AppError::Gone { html });
    }
    state.wake.notify_one();
    if json {
        return Ok(Json(json!({ "ok": true })).into_response());
    }
    Ok(link_headers(site_redirect(
        &loaded,
        "/formular/bestaetigt/",
    )))
}

async fn unsubscribe_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let valid = state
        .signer
        .verify(crate::sign::Purpose::Unsubscribe, &token)
        .is_some();
    let loaded = state.loaded();
    let html = loaded.pages.own(
        "forms/abmelden.html",
        "/forms/newsletter/abmelden/",
        "Newsletter abbestellen",
        &[
            ("valid", json!(valid)),
            ("done", json!(false)),
            ("action", json!(urls::unsubscribe(&token))),
        ],
    );
    let status = if valid {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    link_headers((status, html_headers(), html).into_response())
}

/// Both the button on the page and RFC 8058 one-click posts
/// (`List-Unsubscribe=One-Click`) land here.
async fn unsubscribe_post(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let store = state.store.clone();
    let now = state.settings.clock.now();
    let signer = state.signer.clone();
    let done =
        tokio::task::spawn_blocking(move || workflow::unsubscribe(&store, &signer, &token, now))
            .await??;
    let loaded = state.loaded();
    let html = loaded.pages.own(
        "forms/abmelden.html",
        "/forms/newsletter/abmelden/",
        "Newsletter abbestellen",
        &[
            ("valid", json!(done)),
            ("done", json!(done)),
            ("action", json!("")),
        ],
    );
    let status = if done {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    Ok(link_headers((status, html_headers(), html).into_response()))
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
    let digits: String = raw
        .chars()
        .filter(|c| !matches!(c, '.' | ' ' | '\u{a0}'))
        .collect();
    let employees = digits
        .parse::<u32>()
        .ok()
        .filter(|n| *n >= 1 && *n <= 10_000_000);
    let m = &loaded.site.membership;
    let quote = employees.map(|n| (n, m.quote(n)));
    if json {
        return match quote {
            Some((n, q)) => Json(json!({
                "ok": true, "employees": n, "shares": q.shares,
                "deposit": q.deposit.0, "annual_fee": q.annual_fee.0,
            }))
            .into_response(),
            None => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({ "ok": false, "errors": { "beschaeftigte": "Bitte geben Sie die Zahl der Beschäftigten als ganze Zahl ab 1 an." } })),
            )
                .into_response(),
        };
    }
    let html = loaded.pages.own(
        "forms/rechner.html",
        "/forms/mitgliedschaft/rechner",
        "Mitgliedsbeitrag berechnen",
        &[
            (
                "quote",
                quote.map_or(Value::Null, |(n, q)| {
                    json!({
                        "employees": n,
                        "employees_label": campus_generator::money::group_thousands(n.into()),
                        "shares": q.shares, "deposit": q.deposit.0, "annual_fee": q.annual_fee.0,
                    })
                }),
            ),
            ("employees", json!(raw)),
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
