//! Membership applications in the back-office (office only): the list, one
//! application with its figures, history and the next steps (each a POST
//! with the CSRF token and the state the page showed, so a second click
//! changes nothing), and at the end the draft of the landing page to download.

use super::{
    answer, date_text, field, not_found, office_post, office_user, redirect, render, time_text,
};
use crate::membership::{self, draft, figures, ApplicationState, Moved, Step};
use crate::store::ApplicationRow;
use crate::web::blocking;
use crate::{AppError, AppState};
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

const LIST: &str = "/verwaltung/mitgliedsantraege";

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(LIST, get(list_page))
        .route("/verwaltung/mitgliedsantraege/{id}", get(application_page))
        .route(
            "/verwaltung/mitgliedsantraege/{id}/entwurf",
            get(draft_download),
        )
        .route("/verwaltung/mitgliedsantraege/{id}/{step}", post(take_step))
}

fn url_of(id: i64) -> String {
    format!("{LIST}/{id}")
}

/// What the list and the page show of one application.
fn view(state: &AppState, row: &ApplicationRow) -> Value {
    let p = &row.payload;
    let text = |k: &str| p[k].as_str().unwrap_or("").to_string();
    let employees = p["employees"].as_u64().unwrap_or(0) as u32;
    json!({
        "id": row.id,
        "number": membership::number(row.id),
        "url": url_of(row.id),
        "received": time_text(row.created_at),
        "updated": time_text(row.updated_at),
        "state": row.state.as_str(),
        "state_label": row.state.label(),
        "name": text("name"),
        "kind": text("kind"),
        "street": text("street"),
        "postcode": text("postcode"),
        "town": text("town"),
        "resolution_date": date_text(&text("resolution_date")),
        "resolution_body": text("resolution_body"),
        "contact_name": text("contact_name"),
        "contact_email": text("contact_email"),
        "contact_phone": text("contact_phone"),
        "approval": text("approval"),
        "approver_email": text("approver_email"),
        // As sent (what the authority committed to) and by today's rules.
        "sent": { "shares": p["shares"], "deposit": p["deposit_cents"], "annual_fee": p["annual_fee_cents"] },
        "figures": figures(&state.loaded().site.membership, employees),
    })
}

async fn list_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let staff = match office_user(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let st = state.clone();
    let rows = blocking(move || st.store.membership_applications()).await?;
    let (open, closed): (Vec<_>, Vec<_>) = rows.iter().partition(|r| !r.state.steps().is_empty());
    let mut extra = staff.context();
    extra.extend([
        (
            "open",
            json!(open.iter().map(|r| view(&state, r)).collect::<Vec<_>>()),
        ),
        (
            "closed",
            json!(closed.iter().map(|r| view(&state, r)).collect::<Vec<_>>()),
        ),
    ]);
    let html = render(
        &state.loaded(),
        "verwaltung/mitgliedsantraege.html",
        LIST,
        "Mitgliedsanträge",
        &extra,
    );
    Ok(answer(StatusCode::OK, html))
}

async fn application_page(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    query: RawQuery,
) -> Result<Response, AppError> {
    let staff = match office_user(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let st = state.clone();
    let (row, events) = blocking(move || {
        Ok::<_, crate::store::StoreError>((
            st.store.membership_application(id)?,
            st.store.membership_events(id)?,
        ))
    })
    .await?;
    let Some(row) = row else {
        return Ok(not_found(&state, &staff));
    };
    let steps: Vec<Value> = row
        .state
        .steps()
        .iter()
        .map(|s| {
            json!({
                "label": s.label(), "action": format!("{}/{}", url_of(id), s.path()),
                "reject": *s == Step::Reject,
            })
        })
        .collect();
    let history: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({
                "at": time_text(e.at), "from": e.from.label(), "to": e.to.label(), "actor": e.actor,
            })
        })
        .collect();
    let result = query
        .0
        .as_deref()
        .and_then(|q| q.strip_prefix("ergebnis="))
        .filter(|r| ["geaendert", "unveraendert"].contains(r))
        .unwrap_or("")
        .to_string();
    let loaded = state.loaded();
    let draft_id = membership::application_of(&row)
        .map(|a| draft::id_of(&a))
        .unwrap_or_default();
    let mut extra = staff.context();
    extra.extend([
        ("application", view(&state, &row)),
        ("steps", json!(steps)),
        ("history", json!(history)),
        ("result", json!(result)),
        (
            "draft",
            json!((row.state == ApplicationState::Member).then(|| {
                json!({
                    "url": format!("{}/entwurf", url_of(id)),
                    "file": format!("content/kommunen/{draft_id}.md"),
                    "exists": loaded.site.authority(&draft_id).is_some(),
                })
            })),
        ),
    ]);
    let html = render(
        &loaded,
        "verwaltung/mitgliedsantrag.html",
        &url_of(id),
        &format!("Mitgliedsantrag {}", membership::number(id)),
        &extra,
    );
    Ok(answer(StatusCode::OK, html))
}

async fn take_step(
    State(state): State<AppState>,
    Path((id, step)): Path<(i64, String)>,
    req: Request,
) -> Result<Response, AppError> {
    let (staff, form) = match office_post(&state, req).await {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let (Some(step), Ok(expected)) = (
        Step::from_path(&step),
        ApplicationState::parse(field(&form, "erwartet")),
    ) else {
        return Ok(not_found(&state, &staff));
    };
    let actor = staff.actor().to_string();
    let st = state.clone();
    let moved = blocking(move || {
        let loaded = st.loaded();
        membership::advance(
            &st.store,
            &loaded.letterhead,
            id,
            step,
            expected,
            &actor,
            st.settings.clock.now(),
        )
    })
    .await?;
    let result = match moved {
        Moved::Done => {
            state.wake.notify_one();
            "geaendert"
        }
        Moved::Unchanged => "unveraendert",
        Moved::NotFound => return Ok(not_found(&state, &staff)),
    };
    Ok(redirect(&format!("{}?ergebnis={result}", url_of(id))))
}

/// The landing page's draft as a file, once the authority is a member.
async fn draft_download(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let staff = match office_user(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let st = state.clone();
    let row = blocking(move || st.store.membership_application(id)).await?;
    let Some(row) = row.filter(|r| r.state == ApplicationState::Member) else {
        return Ok(not_found(&state, &staff));
    };
    let a = membership::application_of(&row)?;
    let text = draft::landing_page(&a, &membership::number(id));
    let mut r = (StatusCode::OK, text).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/markdown; charset=utf-8"),
    );
    if let Ok(v) =
        HeaderValue::from_str(&format!("attachment; filename=\"{}.md\"", draft::id_of(&a)))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    Ok(r)
}
