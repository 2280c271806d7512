//! The back-office `/verwaltung/` (issue 15, first slice): login by e-mail
//! link for the office's addresses, server-side sessions, a CSRF token on
//! every POST, the start page, a page per live date and per booking, and
//! approve / reject / cancel through the same workflow functions as
//! `campus bookings` ([`crate::booking::decide_by_id`], [`crate::booking::cancel`]).
//!
//! Login: a POST of an address answers the same page for every address;
//! known ones get a one-time, short-lived link (only its hash is stored).
//! GET and HEAD of the link only show a button, so mail scanners log nobody
//! in and use nothing up; the button's POST uses the link and starts a
//! session. The cookie holds a random id (its hash is stored) and is
//! HttpOnly, SameSite=Strict, Path=/verwaltung/, Secure behind https.

//! Layout: `session` (roles, the session and CSRF guard other back-office
//! files use), `login`, `office` (start page, live dates), `bookings` (one
//! booking and its actions), `approver` (an authority's approvers).

use crate::config::ConfigError;
use crate::web::html_headers;
use crate::{AppError, AppState, Loaded};
use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use campus_generator::time::{berlin_offset_hours_at_utc, german_long_date};
use serde_json::Value;

mod approver;
mod bookings;
mod exclusive;
mod exports;
mod fee;
mod invoices;
mod login;
mod membership;
mod moves;
mod office;
mod people;
mod second_factor;
mod session;
mod tasks;
pub(crate) use session::{checked_post, same, staff, Role, Staff};

/// The product's only cookie: the session of logged-in staff.
pub const COOKIE: &str = "campus_verwaltung";

/// `[verwaltung]` in campus.toml.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawOffice {
    konten: Vec<String>,
    link_gueltig_minuten: Option<i64>,
    sitzung_leerlauf_minuten: Option<i64>,
    sitzung_hoechstens_stunden: Option<i64>,
}

/// Who may log in and how long links and sessions last.
#[derive(Debug, Clone)]
pub struct OfficeSettings {
    /// Lowercased addresses: `[mail] geschaeftsstelle` and `[verwaltung] konten`.
    pub accounts: Vec<String>,
    pub link_valid_secs: i64,
    /// A session unused this long ends.
    pub idle_secs: i64,
    /// A session ends this long after the login, used or not.
    pub absolute_secs: i64,
}

/// The bare address of `Name <a@b>` or `a@b`, lowercased.
pub(crate) fn address_of(mailbox: &str) -> Option<String> {
    let m: lettre::message::Mailbox = mailbox.trim().parse().ok()?;
    Some(m.email.to_string().to_lowercase())
}

impl OfficeSettings {
    pub fn from_table(raw: RawOffice, office: &str) -> Result<OfficeSettings, ConfigError> {
        let mut accounts: Vec<String> = address_of(office).into_iter().collect();
        for a in &raw.konten {
            let a = address_of(a).ok_or_else(|| ConfigError::Table {
                table: "verwaltung",
                message: format!("konten: „{a}“ ist keine gültige E-Mail-Adresse"),
            })?;
            if !accounts.contains(&a) {
                accounts.push(a);
            }
        }
        let positive = |v: Option<i64>, default: i64, key: &str| match v {
            None => Ok(default),
            Some(n) if n > 0 => Ok(n),
            Some(n) => Err(ConfigError::Table {
                table: "verwaltung",
                message: format!("{key} = {n}: bitte eine ganze Zahl ab 1 angeben"),
            }),
        };
        Ok(OfficeSettings {
            accounts,
            link_valid_secs: 60 * positive(raw.link_gueltig_minuten, 15, "link_gueltig_minuten")?,
            idle_secs: 60 * positive(raw.sitzung_leerlauf_minuten, 60, "sitzung_leerlauf_minuten")?,
            absolute_secs: 3600
                * positive(
                    raw.sitzung_hoechstens_stunden,
                    10,
                    "sitzung_hoechstens_stunden",
                )?,
        })
    }

    pub fn is_account(&self, email: &str) -> bool {
        self.accounts.iter().any(|a| a == email)
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/verwaltung/", get(office::start_page))
        .route(
            "/verwaltung/anmelden",
            get(login::login_form).post(login::login_request),
        )
        .route(
            "/verwaltung/anmelden/{token}",
            get(login::link_page).post(login::link_login),
        )
        .route("/verwaltung/abmelden", post(login::logout))
        .route("/verwaltung/termine/{unit}/{date}", get(office::date_page))
        .route("/verwaltung/buchungen/{id}", get(bookings::booking_page))
        .route(
            "/verwaltung/buchungen/{id}/{action}",
            post(bookings::booking_action),
        )
        .route(
            "/verwaltung/buchungen/{id}/umbuchen",
            post(moves::move_to_date),
        )
        .route(
            "/verwaltung/buchungen/{id}/angebieten",
            post(moves::offer_by_hand),
        )
        .route("/verwaltung/personen", get(people::person_page))
        .route("/verwaltung/anfragen", get(tasks::contact_page))
        .route(
            "/verwaltung/anfragen/{id}/erledigt",
            post(tasks::contact_done),
        )
        .route("/verwaltung/postausgang", get(tasks::outbox_page))
        .route(
            "/verwaltung/postausgang/{id}/erneut",
            post(tasks::outbox_retry),
        )
        .route("/verwaltung/exklusivkurse", get(exclusive::list_page))
        .route(
            "/verwaltung/exklusivkurse/{id}",
            get(exclusive::request_page),
        )
        .route(
            "/verwaltung/exklusivkurse/{id}/{action}",
            post(exclusive::answer_request),
        )
        .route("/verwaltung/beitrag", get(fee::fee_page))
        .route("/verwaltung/zwei-faktor", get(second_factor::page))
        .route(
            "/verwaltung/zwei-faktor/{action}",
            post(second_factor::action),
        )
        .route("/verwaltung/export", get(exports::export_page))
        .route(
            "/verwaltung/export/buchungen.csv",
            get(exports::bookings_csv),
        )
        .route(
            "/verwaltung/export/formulare/{file}",
            get(exports::form_csv),
        )
        .merge(invoices::routes())
        .merge(membership::routes())
}

// ------------------------------------------------------------------ plumbing

/// A page of ours: never cached, never indexed, the link token never sent on.
pub(crate) fn answer(status: StatusCode, html: String) -> Response {
    let mut r = (status, html_headers(), html).into_response();
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    r
}

pub(crate) fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    r.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/verwaltung/")),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

pub(crate) fn render(
    loaded: &Loaded,
    template: &'static str,
    url: &str,
    title: &str,
    extra: &[(&'static str, Value)],
) -> String {
    loaded.pages.own(template, url, title, extra)
}

pub(crate) fn forbidden(state: &AppState) -> Response {
    let html = render(
        &state.loaded(),
        "verwaltung/verboten.html",
        "/verwaltung/",
        "Nicht erlaubt",
        &[],
    );
    answer(StatusCode::FORBIDDEN, html)
}

pub(crate) fn not_found(state: &AppState, staff: &Staff) -> Response {
    let html = render(
        &state.loaded(),
        "verwaltung/nicht-gefunden.html",
        "/verwaltung/",
        "Nicht gefunden",
        &staff.context(),
    );
    answer(StatusCode::NOT_FOUND, html)
}

pub(crate) async fn read_form(
    state: &AppState,
    body: Body,
) -> Result<Vec<(String, String)>, AppError> {
    let bytes = axum::body::to_bytes(body, state.settings.body_limit)
        .await
        .map_err(|_| AppError::TooLarge { json: false })?;
    serde_urlencoded::from_bytes(&bytes).map_err(|_| AppError::Unsupported { json: false })
}

pub(crate) fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// "Mittwoch, 10. Februar 2027, 18:30 Uhr" (Berlin time).
pub(crate) fn time_text(ts: i64) -> String {
    let utc = chrono::DateTime::from_timestamp(ts, 0)
        .unwrap_or_default()
        .naive_utc();
    let local = utc + chrono::Duration::hours(berlin_offset_hours_at_utc(utc));
    format!(
        "{}, {} Uhr",
        german_long_date(local.date()),
        local.format("%H:%M")
    )
}

pub(crate) fn date_text(iso: &str) -> String {
    chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d")
        .map(german_long_date)
        .unwrap_or_else(|_| iso.to_string())
}

// ------------------------------------------------------------------ office-only pages

/// The office member of a GET, or the answer instead: the login page without
/// a session, "not found" for an approver.
pub(crate) async fn office_user(
    state: &AppState,
    headers: &axum::http::HeaderMap,
) -> Result<Result<Staff, Response>, AppError> {
    let Some(staff) = staff(state, headers).await? else {
        return Ok(Err(redirect("/verwaltung/anmelden")));
    };
    if staff.role != Role::Office {
        return Ok(Err(not_found(state, &staff)));
    }
    Ok(Ok(staff))
}

/// The office member and form of a POST with a valid CSRF token, or the
/// answer instead (403 without a session or token, 404 for an approver).
pub(crate) async fn office_post(
    state: &AppState,
    req: axum::extract::Request,
) -> Result<(Staff, Vec<(String, String)>), Response> {
    let (staff, form) = checked_post(state, req).await?;
    if staff.role != Role::Office {
        return Err(not_found(state, &staff));
    }
    Ok((staff, form))
}
