//! The built site (`public/`) from disk through tower-http's `ServeDir`:
//! MIME types by file name (fonts, images, video, captions), Range requests,
//! Last-Modified, precompressed `.br`/`.gz` files when the build left them,
//! otherwise gzip or brotli on the fly. On top: a weak ETag with 304 answers
//! and cache lifetimes (a year for fingerprinted names, revalidation for
//! everything else, so a new build shows at once).

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use campus_generator::headers::{is_fingerprinted, IMMUTABLE};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower_http::compression::CompressionLayer;
use tower_http::services::{ServeDir, ServeFile};

/// A router that answers every path from `public` (its 404.html for
/// unknown paths); merge it last, as the fallback.
pub fn router(public: &Path) -> Router {
    let not_found = public.join("404.html");
    let files = ServeDir::new(public)
        .precompressed_br()
        .precompressed_gzip()
        .not_found_service(ServeFile::new(&not_found));
    let page_404 = Arc::new(not_found);
    Router::new()
        .fallback_service(files)
        .layer(axum::middleware::from_fn(move |request, next| {
            validators(page_404.clone(), request, next)
        }))
        .layer(CompressionLayer::new())
}

/// Hidden files stay hidden; conditional requests are answered here (with
/// the ETag the file service does not make), cache lifetimes are set.
async fn validators(page_404: Arc<PathBuf>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    if path.split('/').any(|segment| segment.starts_with('.')) {
        return not_found(&page_404).await;
    }
    let conditional = matches!(*request.method(), Method::GET | Method::HEAD);
    let if_none_match = request.headers_mut().remove(header::IF_NONE_MATCH);
    let if_modified_since = request.headers_mut().remove(header::IF_MODIFIED_SINCE);
    let mut response = next.run(request).await;
    if response.status() == StatusCode::NOT_FOUND {
        with_charset(response.headers_mut());
    }
    if !matches!(
        response.status(),
        StatusCode::OK | StatusCode::PARTIAL_CONTENT
    ) {
        return response;
    }
    let cache = if is_fingerprinted(&path) {
        IMMUTABLE
    } else {
        "no-cache"
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    with_charset(h);
    let Some(etag) = etag(h) else {
        return response;
    };
    h.insert(header::ETAG, etag.clone());
    let fresh = match (&if_none_match, &if_modified_since) {
        (Some(wanted), _) => matches_etag(wanted, &etag),
        (None, Some(since)) => h.get(header::LAST_MODIFIED) == Some(since),
        (None, None) => false,
    };
    if !(conditional && fresh) {
        return response;
    }
    let mut unchanged = Response::new(Body::empty());
    *unchanged.status_mut() = StatusCode::NOT_MODIFIED;
    for name in [
        header::ETAG,
        header::CACHE_CONTROL,
        header::LAST_MODIFIED,
        header::VARY,
    ] {
        if let Some(value) = response.headers().get(&name) {
            unchanged.headers_mut().insert(name, value.clone());
        }
    }
    unchanged
}

/// Pages, styles, scripts, calendars and captions are UTF-8; the guess by
/// file name does not say so.
fn with_charset(h: &mut HeaderMap) {
    let Some(kind) = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return;
    };
    let textual = kind.starts_with("text/") || kind == "application/javascript";
    if textual && !kind.contains("charset") {
        if let Ok(value) = HeaderValue::from_str(&format!("{kind}; charset=utf-8")) {
            h.insert(header::CONTENT_TYPE, value);
        }
    }
}

/// `W/"<length>-<modified>"` of the file served (and its encoding, so a
/// precompressed variant has its own tag).
fn etag(h: &HeaderMap) -> Option<HeaderValue> {
    let modified = h.get(header::LAST_MODIFIED)?.to_str().ok()?;
    let length = h.get(header::CONTENT_LENGTH)?.to_str().ok()?;
    let encoding = h
        .get(header::CONTENT_ENCODING)
        .and_then(|e| e.to_str().ok())
        .unwrap_or("");
    // FNV-1a: stable across processes and versions, unlike the std hasher.
    let stamp = modified.bytes().fold(0xcbf29ce484222325u64, |hash, b| {
        (hash ^ u64::from(b)).wrapping_mul(0x100000001b3)
    });
    HeaderValue::from_str(&format!("W/\"{length}-{stamp:x}{encoding}\"")).ok()
}

fn matches_etag(wanted: &HeaderValue, etag: &HeaderValue) -> bool {
    let Ok(wanted) = wanted.to_str() else {
        return false;
    };
    let ours = etag.to_str().unwrap_or("");
    let bare = |tag: &str| tag.trim().trim_start_matches("W/").to_string();
    wanted
        .split(',')
        .any(|tag| tag.trim() == "*" || bare(tag) == bare(ours))
}

async fn not_found(page_404: &Path) -> Response {
    let body = tokio::fs::read(page_404)
        .await
        .map(Body::from)
        .unwrap_or_else(|_| Body::from("Seite nicht gefunden"));
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}
