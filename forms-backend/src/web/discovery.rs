//! Finding the right unit without JavaScript: the search, the filtered
//! catalog and the self-check result, rendered in the theme from the same
//! Rust code the generator uses (`campus_generator::discovery`). With
//! `Accept: application/json` the same routes answer JSON (the self-check
//! page script uses that). All routes are GET and store nothing.

use super::Format;
use crate::{AppState, Loaded};
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use campus_generator::discovery::{self, CatalogFilter, Paging};
use campus_generator::render;
use campus_generator::search::Index;
use campus_generator::urls;
use chrono::NaiveDate;
use serde_json::json;
use std::sync::Arc;

type Params = Query<Vec<(String, String)>>;

/// `GET /forms/suche`, `/forms/katalog`, `/forms/selbstcheck`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(urls::SEARCH, get(search))
        .route(urls::FILTERED_CATALOG, get(catalog))
        .route(urls::SELFCHECK, get(selfcheck))
}

fn headers() -> [(header::HeaderName, HeaderValue); 3] {
    [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (
            header::HeaderName::from_static("x-robots-tag"),
            HeaderValue::from_static("noindex"),
        ),
    ]
}

fn html(status: StatusCode, body: String) -> Response {
    (status, headers(), body).into_response()
}

fn failed(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "Seite nicht darstellbar");
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        crate::pages::fallback(
            "Das hat leider nicht geklappt",
            "Die Seite konnte wegen eines technischen Fehlers nicht angezeigt werden. Bitte versuchen Sie es später erneut.",
        ),
    )
}

/// The search index of the loaded site, built once per site and day (kept
/// in the loaded site itself, so a reload can never see an older index).
fn index(loaded: &Arc<Loaded>, today: NaiveDate) -> Arc<Index> {
    let mut cached = loaded
        .search_index
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some((day, index)) = cached.as_ref() {
        if *day == today {
            return index.clone();
        }
    }
    let index = Arc::new(campus_generator::search::site_index(&loaded.site, today));
    *cached = Some((today, index.clone()));
    index
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> &'a str {
    params
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

async fn search(State(state): State<AppState>, format: Format, Query(params): Params) -> Response {
    let loaded = state.loaded();
    let options = loaded.render_options();
    let query: String = param(&params, "q").trim().chars().take(200).collect();
    let index = index(&loaded, options.today);
    let (results, paging) = discovery::search_site(
        &index,
        &query,
        discovery::SEARCH_PAGE_SIZE,
        Paging::requested(&params),
    );
    let view = discovery::search_view(&loaded.site, &query, &results, &paging);
    if format.is_json() {
        // One page of hits, as the HTML answer: bounded on any site.
        return Json(json!({
            "ok": true, "query": query, "count": view["count"], "results": view["results"],
            "page": paging.page, "pages": paging.pages,
            "next_url": view["pagination"]["next_url"],
            "suggestion": view["suggestion"],
        }))
        .into_response();
    }
    // The title ("Suche nach „…“") is the template's.
    match loaded.pages.template(
        "search_results.html",
        urls::SEARCH,
        "Suche",
        &[("search", view)],
    ) {
        Ok(body) => html(StatusCode::OK, body),
        Err(e) => failed(e),
    }
}

async fn catalog(State(state): State<AppState>, format: Format, Query(params): Params) -> Response {
    let loaded = state.loaded();
    let options = loaded.render_options();
    let filter = CatalogFilter::from_query(&params);
    let views = loaded.pages.views(&options);
    let page = match render::filtered_catalog(
        &loaded.site,
        loaded.pages.tera(),
        &views,
        &options,
        &filter,
        Paging::requested(&params),
        !format.is_json(),
    ) {
        Ok(page) => page,
        Err(e) => return failed(e),
    };
    match page.html {
        Some(body) => html(StatusCode::OK, body),
        None => Json(json!({
            "ok": true, "filter": filter, "count": page.paging.total,
            "page": page.paging.page, "pages": page.paging.pages, "units": page.unit_ids,
        }))
        .into_response(),
    }
}

async fn selfcheck(
    State(state): State<AppState>,
    format: Format,
    Query(params): Params,
) -> Response {
    let loaded = state.loaded();
    let options = loaded.render_options();
    let json = format.is_json();
    if discovery::selfcheck_form(&loaded.site).is_none() {
        return super::AppError::NotFound { json }.into_response();
    }
    // Coming from an authority's landing page without answers yet: the
    // form itself, with the authority filled in (the static page can only
    // read `?kommune=` with JavaScript).
    if !json && !params.iter().any(|(k, _)| k == "profil") {
        let kommune = params
            .iter()
            .rev()
            .find(|(k, _)| k == "kommune")
            .and_then(|(_, v)| loaded.site.authority(v))
            .map(|a| a.id.clone())
            .unwrap_or_default();
        let mut form = discovery::selfcheck_form(&loaded.site).expect("checked above");
        form["kommune"] = json!(kommune);
        return match loaded
            .pages
            .site_page("/selbstcheck/", &[("selfcheck", form)])
        {
            Ok(Some(body)) => html(StatusCode::OK, body),
            Ok(None) => super::AppError::NotFound { json }.into_response(),
            Err(e) => failed(e),
        };
    }
    let outcome = discovery::run_selfcheck(&loaded.site, &params, options.today);
    // Headings and titles are the template's.
    let (status, title, values) = match &outcome {
        Ok(result) => (
            StatusCode::OK,
            "Selbstcheck",
            vec![("result", result.clone())],
        ),
        Err(errors) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Selbstcheck",
            vec![("errors", json!(errors))],
        ),
    };
    if json {
        return match outcome {
            Ok(result) => {
                match loaded
                    .pages
                    .part("selfcheck_part.html", json!({ "result": result }))
                {
                    Ok(part) => {
                        Json(json!({ "ok": true, "result": result, "html": part })).into_response()
                    }
                    Err(e) => failed(e),
                }
            }
            Err(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({ "ok": false, "errors": errors })),
            )
                .into_response(),
        };
    }
    match loaded.pages.template(
        "selfcheck_result.html",
        "/forms/selbstcheck",
        title,
        &values,
    ) {
        Ok(body) => html(status, body),
        Err(e) => failed(e),
    }
}
