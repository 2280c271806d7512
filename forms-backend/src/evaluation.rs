//! The evaluation after a live date: a link mail once the follow-up module
//! is open (`[bewertung] einladung_nach_tagen`, default 14 days after the
//! date) to every attended booking, the form with the questions of
//! `data/bewertung.yaml`, and the office's view per unit and date.
//!
//! The answers are stored with unit and date only (see
//! `store/completion.rs`); the attendance is marked as evaluated apart from
//! them, so each attendance is evaluated once. Sending the form issues the
//! certificate of attendance (and a course certificate once earned) in the
//! same transaction.

use crate::booking::BookingState;
use crate::config::ConfigError;
use crate::sign::Purpose;
use crate::store::CertificateRow;
use crate::verwaltung::{answer as office_answer, office_user};
use crate::web::blocking;
use crate::workflow::WorkflowError;
use crate::{AppError, AppState};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use campus_generator::model::evaluation::{Question, QuestionKind, SCALE_MAX};
use campus_generator::time::german_long_date;
use chrono::NaiveDate;
use serde_json::{json, Map, Value};

/// Longest free-text answer.
const TEXT_MAX: usize = 2000;

/// `[bewertung]` in campus.toml.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawEvaluation {
    einladung_nach_tagen: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct EvaluationSettings {
    /// Days after the live date the link goes out (the follow-up module opens).
    pub invite_after_days: i64,
}

impl EvaluationSettings {
    pub fn from_table(raw: RawEvaluation) -> Result<EvaluationSettings, ConfigError> {
        match raw.einladung_nach_tagen {
            None => Ok(EvaluationSettings {
                invite_after_days: 14,
            }),
            Some(n) if n >= 0 => Ok(EvaluationSettings {
                invite_after_days: n,
            }),
            Some(n) => Err(ConfigError::Table {
                table: "bewertung",
                message: format!("einladung_nach_tagen = {n}: bitte eine ganze Zahl ab 0 angeben"),
            }),
        }
    }
}

impl Default for EvaluationSettings {
    fn default() -> Self {
        EvaluationSettings {
            invite_after_days: 14,
        }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/bewertung/{token}", get(form_page).post(submit))
        .route("/verwaltung/bewertungen/{unit}/{date}", get(office_view))
}

fn date_text(iso: &str) -> String {
    NaiveDate::parse_from_str(iso, "%Y-%m-%d")
        .map(german_long_date)
        .unwrap_or_else(|_| iso.to_string())
}

/// Sends the evaluation links that are due, each once (a conditional
/// update with the mail in one transaction). The number sent.
pub fn send_due_invites(state: &AppState) -> Result<usize, WorkflowError> {
    let loaded = state.loaded();
    if loaded.site.evaluation.is_empty() {
        return Ok(0);
    }
    let today = state.settings.clock.berlin_now().date();
    let last = today - chrono::Duration::days(state.settings.evaluation.invite_after_days);
    let due = state
        .store
        .evaluation_invites_due(&last.format("%Y-%m-%d").to_string())?;
    let now = state.settings.clock.now();
    let mut sent = 0;
    // Events have no evaluation form or certificate, even when the office
    // recorded who came.
    for b in due
        .into_iter()
        .filter(|b| b.kind != crate::booking::BookingKind::Event)
    {
        let link = format!(
            "{}/bewertung/{}",
            loaded.backend_url.trim_end_matches('/'),
            state.signer.sign(Purpose::Evaluation, &b.id.to_string())
        );
        let draft = loaded.letterhead.draft(
            "bewertung-einladung",
            &b.email,
            &b.name,
            json!({
                "name": b.name,
                "unit_title": b.unit_title,
                "date": date_text(b.live_date.as_deref().unwrap_or("")),
                "link": link,
            }),
        )?;
        let mail = loaded.letterhead.compose(&draft, None)?;
        let queued = state.store.write(|tx| {
            if !tx.mark_evaluation_invited(b.id, now)? {
                return Ok::<_, WorkflowError>(false);
            }
            tx.enqueue(&mail, now)?;
            Ok(true)
        })?;
        if queued {
            sent += 1;
        }
    }
    if sent > 0 {
        tracing::info!(sent, "Links zur Bewertung verschickt");
        state.wake.notify_one();
    }
    Ok(sent)
}

/// Background task: sends due evaluation links every `[buchung]
/// pruefen_alle_sekunden`, until `stop` turns true.
pub fn spawn_ticker(
    state: AppState,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if *stop.borrow() {
                break;
            }
            let st = state.clone();
            match tokio::task::spawn_blocking(move || send_due_invites(&st)).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "Links zur Bewertung nicht verschickt"),
                Err(e) => tracing::error!(error = %e, "Versand der Bewertungslinks abgebrochen"),
            }
            tokio::select! {
                _ = tokio::time::sleep(state.settings.booking_tick) => {}
                _ = stop.changed() => {}
            }
        }
    })
}

// ------------------------------------------------------------------ the form

/// What the link stands for: the attended, confirmed booking.
enum Link {
    Invalid,
    Open(crate::store::BookingRow),
    Done(crate::store::BookingRow),
}

fn link_state(state: &AppState, token: &str) -> Result<Link, crate::store::StoreError> {
    let Some(id) = state
        .signer
        .verify(Purpose::Evaluation, token)
        .and_then(|p| p.parse::<i64>().ok())
    else {
        return Ok(Link::Invalid);
    };
    let Some(b) = state.store.booking(id)? else {
        return Ok(Link::Invalid);
    };
    let (attendance, evaluated) = state.store.attendance_status(id)?;
    if b.state != BookingState::Confirmed
        || attendance != Some(crate::attendance::Attendance::Attended)
    {
        return Ok(Link::Invalid);
    }
    Ok(if evaluated {
        Link::Done(b)
    } else {
        Link::Open(b)
    })
}

fn question_json(q: &Question) -> Value {
    let (kind, options, low, high) = match &q.kind {
        QuestionKind::Scale { low, high } => (
            "skala",
            (1..=SCALE_MAX).map(|n| n.to_string()).collect::<Vec<_>>(),
            low.clone(),
            high.clone(),
        ),
        QuestionKind::Choice(o) => ("auswahl", o.clone(), String::new(), String::new()),
        QuestionKind::Text => ("text", Vec::new(), String::new(), String::new()),
    };
    json!({
        "id": q.id,
        "name": format!("q-{}", q.id),
        "text": q.text,
        "hint": q.hint,
        "required": q.required,
        "kind": kind,
        "options": options,
        "low": low,
        "high": high,
    })
}

/// The page of the evaluation link in its `step`: `formular`, `danke`
/// (with the certificates) or `ungueltig`.
fn page(
    state: &AppState,
    status: StatusCode,
    step: &str,
    booking: Option<&crate::store::BookingRow>,
    form: Value,
    certificates: &[CertificateRow],
    action: &str,
) -> Response {
    let loaded = state.loaded();
    let certs: Vec<Value> = certificates
        .iter()
        .map(|c| {
            json!({
                "kind": if c.course_id.is_some() { "Kursbescheinigung" } else { "Teilnahmebescheinigung" },
                "title": c.title,
                "number": c.number,
                "url": crate::certificate::download_path(state, &c.number),
            })
        })
        .collect();
    let html = loaded.pages.own(
        "forms/bewertung.html",
        "/bewertung/",
        "Bewertung",
        &[
            ("step", json!(step)),
            (
                "unit_title",
                json!(booking.map_or("", |b| b.unit_title.as_str())),
            ),
            (
                "date",
                json!(booking.map_or(String::new(), |b| date_text(
                    b.live_date.as_deref().unwrap_or("")
                ))),
            ),
            (
                "questions",
                json!(loaded
                    .site
                    .evaluation
                    .iter()
                    .map(question_json)
                    .collect::<Vec<_>>()),
            ),
            ("form", form),
            ("certificates", json!(certs)),
            ("action", json!(action)),
        ],
    );
    let mut r = (status, crate::web::html_headers(), html).into_response();
    let h = r.headers_mut();
    h.insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    h.insert(
        axum::http::header::REFERRER_POLICY,
        // Not "no-referrer": browsers then send `Origin: null` with the
        // form's POST, which the origin check refuses.
        axum::http::HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "x-robots-tag",
        axum::http::HeaderValue::from_static("noindex"),
    );
    r
}

fn empty_form() -> Value {
    json!({ "name": "", "values": {}, "errors": {}, "error_list": [], "ts": "" })
}

fn certificates_of(
    state: &AppState,
    b: &crate::store::BookingRow,
) -> Result<Vec<CertificateRow>, crate::store::StoreError> {
    let all = state.store.certificates_of(&b.email.to_lowercase())?;
    Ok(all
        .into_iter()
        .filter(|c| c.booking_id == Some(b.id) || c.course_id.is_some())
        .collect())
}

/// GET shows the form (or the certificates once evaluated); changes nothing.
async fn form_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let st = state.clone();
    let t = token.clone();
    let (link, certs) = blocking(move || {
        let link = link_state(&st, &t)?;
        let certs = match &link {
            Link::Done(b) => certificates_of(&st, b)?,
            _ => Vec::new(),
        };
        Ok::<_, crate::store::StoreError>((link, certs))
    })
    .await?;
    let action = format!("/bewertung/{token}");
    Ok(match link {
        Link::Invalid => page(
            &state,
            StatusCode::GONE,
            "ungueltig",
            None,
            empty_form(),
            &[],
            "",
        ),
        Link::Done(b) => page(
            &state,
            StatusCode::OK,
            "danke",
            Some(&b),
            empty_form(),
            &certs,
            "",
        ),
        Link::Open(b) => page(
            &state,
            StatusCode::OK,
            "formular",
            Some(&b),
            empty_form(),
            &[],
            &action,
        ),
    })
}

/// Checks the answers against the questions: the answers to store, or the
/// messages per field (in the order of the questions).
pub fn validate(
    questions: &[Question],
    form: &[(String, String)],
) -> Result<Map<String, Value>, Vec<(String, String)>> {
    let get = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
            .trim()
            .to_string()
    };
    let mut answers = Map::new();
    let mut errors = Vec::new();
    for q in questions {
        let name = format!("q-{}", q.id);
        let value = get(&name);
        if value.is_empty() {
            if q.required {
                errors.push((
                    name,
                    format!("Bitte beantworten Sie die Frage „{}“.", q.text),
                ));
            }
            continue;
        }
        match &q.kind {
            QuestionKind::Scale { .. } => match value.parse::<u8>() {
                Ok(n) if (1..=SCALE_MAX).contains(&n) => {
                    answers.insert(q.id.clone(), json!(n));
                }
                _ => errors.push((
                    name,
                    format!(
                        "Bitte wählen Sie bei „{}“ einen Wert von 1 bis {SCALE_MAX}.",
                        q.text
                    ),
                )),
            },
            QuestionKind::Choice(options) => {
                if options.contains(&value) {
                    answers.insert(q.id.clone(), json!(value));
                } else {
                    errors.push((
                        name,
                        format!("Bitte wählen Sie bei „{}“ eine der Antworten.", q.text),
                    ));
                }
            }
            QuestionKind::Text => {
                if value.chars().count() > TEXT_MAX {
                    errors.push((
                        name,
                        format!(
                            "Bitte fassen Sie sich bei „{}“ kürzer: höchstens {TEXT_MAX} Zeichen.",
                            q.text
                        ),
                    ));
                } else {
                    answers.insert(q.id.clone(), json!(value));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(answers)
    } else {
        Err(errors)
    }
}

/// POST: stores the answers without the person, marks the attendance as
/// evaluated and issues the certificates, in one transaction.
async fn submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    req: Request,
) -> Result<Response, AppError> {
    let (parts, body) = req.into_parts();
    crate::web::check_ip_limit(&state, &parts, false).await?;
    let bytes = axum::body::to_bytes(body, state.settings.body_limit)
        .await
        .map_err(|_| AppError::TooLarge { json: false })?;
    let form: Vec<(String, String)> =
        serde_urlencoded::from_bytes(&bytes).map_err(|_| AppError::Unsupported { json: false })?;
    let action = format!("/bewertung/{token}");
    let st = state.clone();
    let t = token.clone();
    let link = blocking(move || link_state(&st, &t)).await?;
    let b = match link {
        Link::Invalid => {
            return Ok(page(
                &state,
                StatusCode::GONE,
                "ungueltig",
                None,
                empty_form(),
                &[],
                "",
            ))
        }
        Link::Done(b) => {
            let st = state.clone();
            let bb = b.clone();
            let certs = blocking(move || certificates_of(&st, &bb)).await?;
            return Ok(page(
                &state,
                StatusCode::OK,
                "danke",
                Some(&b),
                empty_form(),
                &certs,
                "",
            ));
        }
        Link::Open(b) => b,
    };
    let loaded = state.loaded();
    let share = form.iter().any(|(k, v)| k == "teilen" && v == "ja");
    let answers = match validate(&loaded.site.evaluation, &form) {
        Ok(a) => a,
        Err(errors) => {
            let values: Map<String, Value> =
                form.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            let by_field: Map<String, Value> =
                errors.iter().map(|(f, m)| (f.clone(), json!(m))).collect();
            let list: Vec<Value> = errors
                .iter()
                .map(|(f, m)| json!({ "field": f, "message": m }))
                .collect();
            let sent = json!({ "name": "bewertung", "values": values, "errors": by_field,
                "error_list": list, "ts": "" });
            return Ok(page(
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                "formular",
                Some(&b),
                sent,
                &[],
                &action,
            ));
        }
    };
    let st = state.clone();
    let bb = b.clone();
    let certs = blocking(move || {
        let loaded = st.loaded();
        let now = st.settings.clock.now();
        let live_date = bb.live_date.clone().unwrap_or_default();
        let answers = Value::Object(answers);
        st.store.write(|tx| {
            if tx.store_evaluation(bb.id, &bb.unit_id, &live_date, &answers, share)? {
                crate::certificate::issue_for_booking(tx, &loaded.site, &bb, now)?;
                crate::certificate::issue_for_courses(tx, &loaded.site, &bb.email, &bb.name, now)?;
            }
            Ok::<_, crate::store::StoreError>(())
        })?;
        certificates_of(&st, &bb)
    })
    .await?;
    tracing::info!(
        booking = b.id,
        "Bewertung gespeichert, Bescheinigung ausgestellt"
    );
    Ok(page(
        &state,
        StatusCode::OK,
        "danke",
        Some(&b),
        empty_form(),
        &certs,
        "",
    ))
}

// ------------------------------------------------------------------ office view

/// Counts and averages per question; free text only where shared.
pub fn aggregate(questions: &[Question], stored: &[crate::store::StoredEvaluation]) -> Vec<Value> {
    questions
        .iter()
        .map(|q| {
            let values: Vec<&Value> = stored.iter().filter_map(|e| e.answers.get(&q.id)).collect();
            match &q.kind {
                QuestionKind::Scale { low, high } => {
                    let numbers: Vec<u64> = values.iter().filter_map(|v| v.as_u64()).collect();
                    let average = (!numbers.is_empty()).then(|| {
                        let avg = numbers.iter().sum::<u64>() as f64 / numbers.len() as f64;
                        format!("{avg:.1}").replace('.', ",")
                    });
                    let counts: Vec<Value> = (1..=SCALE_MAX as u64)
                        .map(|n| json!({ "label": n.to_string(), "count": numbers.iter().filter(|x| **x == n).count() }))
                        .collect();
                    json!({ "text": q.text, "kind": "skala", "answers": numbers.len(),
                        "average": average, "counts": counts, "low": low, "high": high })
                }
                QuestionKind::Choice(options) => {
                    let counts: Vec<Value> = options
                        .iter()
                        .map(|o| json!({ "label": o, "count": values.iter().filter(|v| v.as_str() == Some(o)).count() }))
                        .collect();
                    json!({ "text": q.text, "kind": "auswahl", "answers": values.len(), "counts": counts })
                }
                QuestionKind::Text => {
                    let shared: Vec<&str> = stored
                        .iter()
                        .filter(|e| e.share_text)
                        .filter_map(|e| e.answers.get(&q.id).and_then(|v| v.as_str()))
                        .collect();
                    json!({ "text": q.text, "kind": "text", "answers": values.len(),
                        "shared": shared, "withheld": values.len() - shared.len() })
                }
            }
        })
        .collect()
}

async fn office_view(
    State(state): State<AppState>,
    Path((unit_id, date)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let user = match office_user(&state, &headers).await? {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let loaded = state.loaded();
    let Some(unit) = loaded.site.units.iter().find(|u| u.id == unit_id) else {
        return Err(AppError::NotFound { json: false });
    };
    let st = state.clone();
    let (u, d) = (unit_id.clone(), date.clone());
    let (stored, rows) = blocking(move || {
        Ok::<_, crate::store::StoreError>((
            st.store.evaluations(&u, &d)?,
            st.store.attendance_of_date(&u, &d)?,
        ))
    })
    .await?;
    let attended = rows
        .iter()
        .filter(|r| r.status == Some(crate::attendance::Attendance::Attended))
        .count();
    let mut extra = user.context();
    extra.extend([
        ("unit_title", json!(unit.title)),
        ("date", json!(date_text(&date))),
        ("attended", json!(attended)),
        ("evaluations", json!(stored.len())),
        (
            "questions",
            json!(aggregate(&loaded.site.evaluation, &stored)),
        ),
        (
            "date_url",
            json!(format!("/verwaltung/termine/{unit_id}/{date}")),
        ),
    ]);
    let html = loaded.pages.own(
        "verwaltung/bewertungen.html",
        "/verwaltung/bewertungen/",
        "Bewertungen",
        &extra,
    );
    Ok(office_answer(StatusCode::OK, html))
}
