//! Answers from the in-memory site: pages, assets and the 404 page.

use super::*;

pub(super) async fn static_page(
    State(live): State<Arc<LiveSite>>,
    request: Request<Body>,
) -> Response {
    let path = request.uri().path();
    if path.split('/').any(|s| s == ".." || s.starts_with('.')) {
        return not_found(&live);
    }
    let key = path.trim_start_matches('/');
    let key = if key.is_empty() || key.ends_with('/') {
        format!("{key}index.html")
    } else {
        key.to_string()
    };
    if let Some(bytes) = live.page(&key) {
        return file_response(&key, Body::from(bytes.as_ref().clone()), StatusCode::OK);
    }
    if !key.contains('.') && live.page(&format!("{key}/index.html")).is_some() {
        return Response::builder()
            .status(StatusCode::PERMANENT_REDIRECT)
            .header(header::LOCATION, format!("{path}/"))
            .body(Body::empty())
            .expect("redirect");
    }
    for dir in &live.static_dirs {
        let file = dir.join(&key);
        if file.is_file() {
            if let Ok(bytes) = tokio::fs::read(&file).await {
                return file_response(&key, Body::from(bytes), StatusCode::OK);
            }
        }
    }
    not_found(&live)
}

pub(super) fn not_found(live: &LiveSite) -> Response {
    let body = live.page("404.html").map_or_else(
        || Body::from("Seite nicht gefunden"),
        |b| Body::from(b.as_ref().clone()),
    );
    file_response("404.html", body, StatusCode::NOT_FOUND)
}

pub fn content_type(key: &str) -> &'static str {
    match key.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "ics" => "text/calendar; charset=utf-8",
        "xml" => "application/xml",
        "txt" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "gif" => "image/gif",
        "avif" => "image/avif",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "vtt" => "text/vtt; charset=utf-8",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// The security headers come from the layer in [`crate::http::headers`].
pub(super) fn file_response(key: &str, body: Body, status: StatusCode) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(key)),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
