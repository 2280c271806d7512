//! The back-office `/verwaltung/` (issue 15, first slice): login by e-mail
//! link for the office's addresses, server-side sessions, a CSRF token on
//! every POST, the start page, a page per live date and per booking, and
//! approve / reject / cancel through the same workflow functions as
//! `campus bookings` ([`booking::decide_by_id`], [`booking::cancel`]).
//!
//! Login: a POST of an address answers the same page for every address;
//! known ones get a one-time, short-lived link (only its hash is stored).
//! GET and HEAD of the link only show a button, so mail scanners log nobody
//! in and use nothing up; the button's POST uses the link and starts a
//! session. The cookie holds a random id (its hash is stored) and is
//! HttpOnly, SameSite=Strict, Path=/verwaltung/, Secure behind https.

use crate::booking::{self, Actor, Approver, BookingState, Decision};
use crate::config::ConfigError;
use crate::sign::{random_token, token_hash};
use crate::store::{BookingFilter, BookingRow, OfficeSession};
use crate::web::{blocking, check_ip_limit, html_headers};
use crate::{AppError, AppState, Loaded};
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use campus_generator::time::{berlin_offset_hours_at_utc, german_long_date};
use serde_json::{json, Value};

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
fn address_of(mailbox: &str) -> Option<String> {
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
        .route("/verwaltung/", get(start_page))
        .route("/verwaltung/anmelden", get(login_form).post(login_request))
        .route(
            "/verwaltung/anmelden/{token}",
            get(link_page).post(link_login),
        )
        .route("/verwaltung/abmelden", post(logout))
        .route("/verwaltung/termine/{unit}/{date}", get(date_page))
        .route("/verwaltung/buchungen/{id}", get(booking_page))
        .route("/verwaltung/buchungen/{id}/{action}", post(booking_action))
}

// ------------------------------------------------------------------ plumbing

/// A page of ours: never cached, never indexed, the link token never sent on.
fn answer(status: StatusCode, html: String) -> Response {
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

fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    r.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/verwaltung/")),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn render(
    loaded: &Loaded,
    template: &'static str,
    url: &str,
    title: &str,
    extra: &[(&'static str, Value)],
) -> String {
    loaded.pages.own(template, url, title, extra)
}

fn forbidden(state: &AppState) -> Response {
    let html = render(
        &state.loaded(),
        "verwaltung/verboten.html",
        "/verwaltung/",
        "Nicht erlaubt",
        &[],
    );
    answer(StatusCode::FORBIDDEN, html)
}

fn not_found(state: &AppState, staff: &Staff) -> Response {
    let html = render(
        &state.loaded(),
        "verwaltung/nicht-gefunden.html",
        "/verwaltung/",
        "Nicht gefunden",
        &staff.context(),
    );
    answer(StatusCode::NOT_FOUND, html)
}

async fn read_form(state: &AppState, body: Body) -> Result<Vec<(String, String)>, AppError> {
    let bytes = axum::body::to_bytes(body, state.settings.body_limit)
        .await
        .map_err(|_| AppError::TooLarge { json: false })?;
    serde_urlencoded::from_bytes(&bytes).map_err(|_| AppError::Unsupported { json: false })
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// "Mittwoch, 10. Februar 2027, 18:30 Uhr" (Berlin time).
fn time_text(ts: i64) -> String {
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

fn date_text(iso: &str) -> String {
    chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d")
        .map(german_long_date)
        .unwrap_or_else(|_| iso.to_string())
}

// ------------------------------------------------------------------ sessions

/// What a logged-in address may see and do.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Role {
    /// The cooperative's office: everything.
    Office,
    /// Approver of these authorities (ids; `freigabe_email` in their content
    /// file with `freigabe: kommune`): only their staff's bookings.
    Approver(Vec<String>),
}

/// The role of `email` by the configuration and the content loaded now, so
/// an address removed there loses access with its next request.
fn role_of(state: &AppState, email: &str) -> Option<Role> {
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
struct Staff {
    id_hash: String,
    session: OfficeSession,
    role: Role,
}

impl Staff {
    /// What every page after the login needs (header with logout button).
    fn context(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("staff_email", json!(self.session.email)),
            ("csrf", json!(self.session.csrf)),
            ("office", json!(self.role == Role::Office)),
        ]
    }

    fn actor(&self) -> Actor {
        match self.role {
            Role::Office => Actor::Office(self.session.email.clone()),
            Role::Approver(_) => Actor::AuthorityApprover(self.session.email.clone()),
        }
    }

    /// Whether this person may see booking `b` at all.
    fn may_see(&self, b: &BookingRow) -> bool {
        match &self.role {
            Role::Office => true,
            Role::Approver(ids) => ids.contains(&b.authority_id),
        }
    }

    /// Whether this person may approve or reject `b` (the office may decide
    /// every booking, as on the command line).
    fn may_decide(&self, b: &BookingRow) -> bool {
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
async fn staff(state: &AppState, headers: &HeaderMap) -> Result<Option<Staff>, AppError> {
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
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The session and the form of a POST, or the 403 page when there is no
/// valid session or the form lacks the session's CSRF token.
async fn checked_post(
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

// ------------------------------------------------------------------ login

async fn login_form(State(state): State<AppState>) -> Response {
    let html = render(
        &state.loaded(),
        "verwaltung/anmelden.html",
        "/verwaltung/anmelden",
        "Anmelden",
        &[("sent", json!(false)), ("email", json!(""))],
    );
    answer(StatusCode::OK, html)
}

/// The same answer for every address; known ones get a link by mail.
async fn login_request(State(state): State<AppState>, req: Request) -> Result<Response, AppError> {
    let (parts, body) = req.into_parts();
    check_ip_limit(&state, &parts, false)?;
    let form = read_form(&state, body).await?;
    let typed = field(&form, "email").trim().to_string();
    let loaded = state.loaded();
    let Some(email) = address_of(&typed) else {
        let html = render(
            &loaded,
            "verwaltung/anmelden.html",
            "/verwaltung/anmelden",
            "Anmelden",
            &[
                ("sent", json!(false)),
                ("email", json!(typed)),
                (
                    "error",
                    json!("Bitte geben Sie Ihre dienstliche E-Mail-Adresse an, zum Beispiel name@kommunalcampus.de."),
                ),
            ],
        );
        return Ok(answer(StatusCode::UNPROCESSABLE_ENTITY, html));
    };
    if role_of(&state, &email).is_some() {
        let st = state.clone();
        let ld = loaded.clone();
        let to = email.clone();
        blocking(move || send_login_link(&st, &ld, &to)).await?;
        state.wake.notify_one();
    } else {
        tracing::info!("Verwaltung: Anmeldung für unbekannte Adresse angefragt");
    }
    let html = render(
        &loaded,
        "verwaltung/anmelden.html",
        "/verwaltung/anmelden",
        "Anmelden",
        &[("sent", json!(true)), ("email", json!(typed))],
    );
    Ok(answer(StatusCode::OK, html))
}

/// Stores the link's hash and queues its mail in one transaction.
fn send_login_link(
    state: &AppState,
    loaded: &Loaded,
    email: &str,
) -> Result<(), crate::workflow::WorkflowError> {
    let s = &state.settings.verwaltung;
    let now = state.settings.clock.now();
    let token = random_token();
    let url = format!("{}/verwaltung/anmelden/{token}", loaded.backend_url);
    let draft = loaded.letterhead.draft(
        "verwaltung-anmelden",
        email,
        "",
        serde_json::json!({ "link": url, "minutes": s.link_valid_secs / 60 }),
    )?;
    let mail = loaded.letterhead.compose(&draft, None)?;
    state
        .store
        .write(|tx| -> Result<_, crate::workflow::WorkflowError> {
            tx.insert_login_link(&token_hash(&token), email, now, now + s.link_valid_secs)?;
            tx.enqueue(&mail, now)?;
            Ok(())
        })
}

/// GET and HEAD: only a page with a button; nothing is used up.
async fn link_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let st = state.clone();
    let hash = token_hash(&token);
    let valid = blocking(move || st.store.login_link_email(&hash, st.settings.clock.now()))
        .await?
        .is_some();
    Ok(link_answer(&state, valid, &token))
}

fn link_answer(state: &AppState, valid: bool, token: &str) -> Response {
    let html = render(
        &state.loaded(),
        "verwaltung/link.html",
        "/verwaltung/anmelden/",
        "Anmelden",
        &[
            ("valid", json!(valid)),
            ("action", json!(format!("/verwaltung/anmelden/{token}"))),
        ],
    );
    let status = if valid {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    answer(status, html)
}

/// The button's POST: uses the link once and starts a session.
async fn link_login(
    State(state): State<AppState>,
    Path(token): Path<String>,
    req: Request,
) -> Result<Response, AppError> {
    let (parts, _) = req.into_parts();
    check_ip_limit(&state, &parts, false)?;
    let session_id = random_token();
    let csrf = random_token();
    let st = state.clone();
    let hash = token_hash(&token);
    let sid_hash = token_hash(&session_id);
    let email = blocking(move || {
        let now = st.settings.clock.now();
        st.store.write(|tx| -> Result<_, crate::store::StoreError> {
            let Some(email) = tx.use_login_link(&hash, now)? else {
                return Ok(None);
            };
            if role_of(&st, &email).is_none() {
                return Ok(None);
            }
            tx.insert_office_session(&sid_hash, &email, &csrf, now)?;
            Ok(Some(email))
        })
    })
    .await?;
    let Some(email) = email else {
        return Ok(link_answer(&state, false, &token));
    };
    tracing::info!(%email, "Verwaltung: angemeldet");
    let secure = if state.loaded().backend_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{COOKIE}={session_id}; Path=/verwaltung/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        state.settings.verwaltung.absolute_secs
    );
    let mut r = redirect("/verwaltung/");
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| AppError::Internal(Box::new(e)))?,
    );
    Ok(r)
}

async fn logout(State(state): State<AppState>, req: Request) -> Result<Response, AppError> {
    let staff = match checked_post(&state, req).await {
        Ok((staff, _)) => staff,
        Err(r) => return Ok(r),
    };
    let st = state.clone();
    let id_hash = staff.id_hash.clone();
    blocking(move || {
        let now = st.settings.clock.now();
        st.store.write(|tx| tx.end_office_session(&id_hash, now))
    })
    .await?;
    let mut r = redirect("/verwaltung/anmelden");
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&format!(
            "{COOKIE}=; Path=/verwaltung/; HttpOnly; SameSite=Strict; Max-Age=0"
        ))
        .map_err(|e| AppError::Internal(Box::new(e)))?,
    );
    Ok(r)
}

// ------------------------------------------------------------------ office pages

fn booking_json(b: &BookingRow) -> Value {
    json!({
        "id": b.id,
        "name": b.name,
        "email": b.email,
        "authority_id": b.authority_id,
        "unit_id": b.unit_id,
        "unit_title": b.unit_title,
        "date": match crate::ops::booking_date(b) {
            "" => "On-Demand".to_string(),
            booking::NEXT => "nächster möglicher Termin".to_string(),
            d => date_text(d),
        },
        "state": b.state.label(),
        "approver": b.approver.label(),
        "requested": time_text(b.created_at),
        "url": format!("/verwaltung/buchungen/{}", b.id),
    })
}

/// What needs attention: bookings awaiting approval, failed mails, the
/// coming live dates with their free places.
async fn start_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(staff) = staff(&state, &headers).await? else {
        return Ok(redirect("/verwaltung/anmelden"));
    };
    let st = state.clone();
    let (approvals, failed, held) = blocking(move || {
        let approvals = st.store.bookings(&BookingFilter {
            state: Some(BookingState::Approval),
            ..BookingFilter::default()
        })?;
        let failed: Vec<_> = st
            .store
            .outbox()?
            .into_iter()
            .filter(|m| m.state == "failed")
            .collect();
        let held = st.store.places_held_all()?;
        Ok::<_, crate::store::StoreError>((approvals, failed, held))
    })
    .await?;
    let loaded = state.loaded();
    if let Role::Approver(_) = staff.role {
        return approver_start(&state, &staff).await;
    }
    let today = chrono::Local::now().date_naive();
    let mut dates = Vec::new();
    for u in &loaded.site.units {
        for d in u.dates.iter().filter(|d| d.date >= today) {
            let iso = d.date.format("%Y-%m-%d").to_string();
            let booked = held
                .iter()
                .find(|(unit, date, _)| *unit == u.id && *date == iso)
                .map_or(0, |(_, _, n)| *n);
            dates.push(json!({
                "unit_title": u.title,
                "date": german_long_date(d.date),
                "capacity": d.capacity,
                "booked": booked + d.taken,
                "free": d.capacity.saturating_sub(booked + d.taken),
                "url": format!("/verwaltung/termine/{}/{iso}", u.id),
                "sort": iso,
            }));
        }
    }
    dates.sort_by(|a, b| a["sort"].as_str().cmp(&b["sort"].as_str()));
    let failed: Vec<Value> = failed
        .iter()
        .map(|m| json!({ "recipient": m.recipient, "kind": m.kind, "attempts": m.attempts }))
        .collect();
    let mut extra = staff.context();
    extra.extend([
        (
            "approvals",
            json!(approvals.iter().map(booking_json).collect::<Vec<_>>()),
        ),
        ("failed_mails", json!(failed)),
        ("dates", json!(dates)),
    ]);
    let html = render(
        &loaded,
        "verwaltung/start.html",
        "/verwaltung/",
        "Verwaltung",
        &extra,
    );
    Ok(answer(StatusCode::OK, html))
}

/// Participants, waiting list in its order and free places of one live date.
async fn date_page(
    State(state): State<AppState>,
    Path((unit_id, date)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(staff) = staff(&state, &headers).await? else {
        return Ok(redirect("/verwaltung/anmelden"));
    };
    if staff.role != Role::Office {
        return Ok(not_found(&state, &staff));
    }
    let loaded = state.loaded();
    let found = loaded
        .site
        .units
        .iter()
        .find(|u| u.id == unit_id)
        .and_then(|u| {
            u.dates
                .iter()
                .find(|d| d.date.format("%Y-%m-%d").to_string() == date)
                .map(|d| (u, d))
        });
    let Some((unit, live)) = found else {
        return Ok(not_found(&state, &staff));
    };
    let st = state.clone();
    let (u, d) = (unit_id.clone(), date.clone());
    let (rows, next) = blocking(move || {
        let rows = st.store.bookings(&BookingFilter {
            unit_id: Some(u.clone()),
            live_date: Some(d),
            state: None,
        })?;
        // People waiting for whichever date comes next queue here too.
        let next = st.store.bookings(&BookingFilter {
            unit_id: Some(u),
            live_date: Some(booking::NEXT.to_string()),
            state: Some(BookingState::Waiting),
        })?;
        Ok::<_, crate::store::StoreError>((rows, next))
    })
    .await?;
    let participants: Vec<Value> = rows
        .iter()
        .filter(|b| b.state.holds_place())
        .map(booking_json)
        .collect();
    let mut waiting: Vec<&BookingRow> = rows
        .iter()
        .chain(next.iter())
        .filter(|b| b.state == BookingState::Waiting)
        .collect();
    waiting.sort_by_key(|b| (b.queue_no, b.id));
    let open: Vec<Value> = rows
        .iter()
        .filter(|b| matches!(b.state, BookingState::Approval | BookingState::Unconfirmed))
        .map(booking_json)
        .collect();
    let held = participants.len() as u32;
    let mut extra = staff.context();
    extra.extend([
        ("unit_title", json!(unit.title)),
        ("date", json!(german_long_date(live.date))),
        ("capacity", json!(live.capacity)),
        ("taken_elsewhere", json!(live.taken)),
        (
            "free",
            json!(live.capacity.saturating_sub(held + live.taken)),
        ),
        ("participants", json!(participants)),
        (
            "waiting",
            json!(waiting.into_iter().map(booking_json).collect::<Vec<_>>()),
        ),
        ("open", json!(open)),
    ]);
    extra.extend(crate::attendance::date_context(&state, &unit_id, &date).await?);
    let html = render(
        &loaded,
        "verwaltung/termin.html",
        "/verwaltung/termine/",
        "Termin",
        &extra,
    );
    Ok(answer(StatusCode::OK, html))
}

/// One booking with its audit trail and the buttons its state allows.
async fn booking_page(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    query: axum::extract::RawQuery,
) -> Result<Response, AppError> {
    let Some(staff) = staff(&state, &headers).await? else {
        return Ok(redirect("/verwaltung/anmelden"));
    };
    let st = state.clone();
    let found = blocking(move || {
        let Some(b) = st.store.booking(id)? else {
            return Ok(None);
        };
        let events = st.store.booking_events(Some(id))?;
        Ok::<_, crate::store::StoreError>(Some((b, events)))
    })
    .await?;
    let Some((b, events)) = found.filter(|(b, _)| staff.may_see(b)) else {
        return Ok(not_found(&state, &staff));
    };
    let events: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({
                "at": time_text(e.at),
                "actor": e.actor,
                "from": e.from_state.map_or("–", BookingState::label),
                "to": e.to_state.label(),
                "note": e.note,
            })
        })
        .collect();
    // What the last action did (set by the redirect after the POST).
    let result = query
        .0
        .as_deref()
        .and_then(|q| q.strip_prefix("ergebnis="))
        .filter(|r| ["freigegeben", "abgelehnt", "storniert", "unveraendert"].contains(r))
        .unwrap_or("")
        .to_string();
    let mut extra = staff.context();
    extra.extend([
        ("booking", booking_json(&b)),
        ("events", json!(events)),
        ("can_decide", json!(staff.may_decide(&b))),
        (
            "can_cancel",
            json!(staff.role == Role::Office && b.state.cancellable()),
        ),
        ("result", json!(result)),
        (
            "action_base",
            json!(format!("/verwaltung/buchungen/{}", b.id)),
        ),
    ]);
    let html = render(
        &state.loaded(),
        "verwaltung/buchung.html",
        "/verwaltung/buchungen/",
        "Buchung",
        &extra,
    );
    Ok(answer(StatusCode::OK, html))
}

/// Approve, reject or cancel: the workflow functions of `campus bookings`,
/// with the logged-in person as actor in the audit trail.
async fn booking_action(
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, String)>,
    req: Request,
) -> Result<Response, AppError> {
    let (staff, _) = match checked_post(&state, req).await {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    if !["freigeben", "ablehnen", "stornieren"].contains(&action.as_str()) {
        return Ok(not_found(&state, &staff));
    }
    if let Role::Approver(_) = staff.role {
        // Approvers decide only their own authority's requests; anything else
        // is "not found" and changes nothing.
        let st = state.clone();
        let b = blocking(move || st.store.booking(id)).await?;
        let allowed = action != "stornieren" && b.as_ref().is_some_and(|b| staff.may_decide(b));
        if !allowed {
            return Ok(not_found(&state, &staff));
        }
    }
    let actor = staff.actor();
    let st = state.clone();
    let result = blocking(move || {
        booking::with_env_at(&st, "", st.settings.clock.now(), |env| {
            Ok::<_, crate::workflow::WorkflowError>(match action.as_str() {
                "freigeben" | "ablehnen" => {
                    match booking::decide_by_id(env, id, action == "freigeben", &actor)? {
                        Decision::Approved(_) => "freigegeben",
                        Decision::Rejected => "abgelehnt",
                        Decision::NotPending => "unveraendert",
                    }
                }
                _ => match booking::cancel(env, id, &actor)? {
                    Some(_) => "storniert",
                    None => "unveraendert",
                },
            })
        })
    })
    .await?;
    tracing::info!(booking = id, result, email = %staff.session.email, "Verwaltung: Buchung bearbeitet");
    state.wake.notify_one();
    Ok(redirect(&format!(
        "/verwaltung/buchungen/{id}?ergebnis={result}"
    )))
}

/// An approver's start page: requests of their staff waiting for them and
/// all bookings of their staff.
async fn approver_start(state: &AppState, staff: &Staff) -> Result<Response, AppError> {
    let st = state.clone();
    let all = blocking(move || st.store.bookings(&BookingFilter::default())).await?;
    let mine: Vec<&BookingRow> = all.iter().filter(|b| staff.may_see(b)).collect();
    let waiting: Vec<Value> = mine
        .iter()
        .filter(|b| staff.may_decide(b))
        .map(|b| booking_json(b))
        .collect();
    let bookings: Vec<Value> = mine.iter().map(|b| booking_json(b)).collect();
    let mut extra = staff.context();
    extra.extend([("approvals", json!(waiting)), ("bookings", json!(bookings))]);
    let html = render(
        &state.loaded(),
        "verwaltung/freigabe.html",
        "/verwaltung/",
        "Freigaben",
        &extra,
    );
    Ok(answer(StatusCode::OK, html))
}

// ------------------------------------------------------------------ for sibling modules

/// A logged-in member of the cooperative's office, for the back-office pages
/// of sibling modules (attendance, evaluations), which are office-only.
pub(crate) struct OfficeUser {
    pub email: String,
    /// What every page after the login needs (see [`Staff::context`]).
    pub context: Vec<(&'static str, Value)>,
}

/// The office user of a GET, or the answer instead: the login page without
/// a session, "not found" for an approver.
pub(crate) async fn office_user(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Result<OfficeUser, Response>, AppError> {
    let Some(staff) = staff(state, headers).await? else {
        return Ok(Err(redirect("/verwaltung/anmelden")));
    };
    if staff.role != Role::Office {
        return Ok(Err(not_found(state, &staff)));
    }
    Ok(Ok(OfficeUser {
        email: staff.session.email.clone(),
        context: staff.context(),
    }))
}

/// The office user and form of a POST with a valid CSRF token, or the
/// answer instead (403 without a session or token, 404 for an approver).
pub(crate) async fn office_post(
    state: &AppState,
    req: Request,
) -> Result<(OfficeUser, Vec<(String, String)>), Response> {
    let (staff, form) = checked_post(state, req).await?;
    if staff.role != Role::Office {
        return Err(not_found(state, &staff));
    }
    let user = OfficeUser {
        email: staff.session.email.clone(),
        context: staff.context(),
    };
    Ok((user, form))
}

/// An office page: never cached or indexed (as every page here).
pub(crate) fn office_answer(status: StatusCode, html: String) -> Response {
    answer(status, html)
}

pub(crate) fn office_redirect(to: &str) -> Response {
    redirect(to)
}

/// The actor of an office user in the audit trails.
pub(crate) fn office_actor(user: &OfficeUser) -> Actor {
    Actor::Office(user.email.clone())
}
