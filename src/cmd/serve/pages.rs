//! Answers from the in-memory site: pages, assets and the 404 page.

use super::*;

pub(super) async fn static_page(
    State(live): State<Arc<LiveSite>>,
    request: Request<Body>,
) -> Response {
    let path = request.uri().path();
    let gzip = accepts_gzip(request.headers());
    if path.split('/').any(|s| s == ".." || s.starts_with('.')) {
        return not_found(&live, gzip);
    }
    let key = path.trim_start_matches('/');
    let key = if key.is_empty() || key.ends_with('/') {
        format!("{key}index.html")
    } else {
        key.to_string()
    };
    if let Some(kept) = live.page(&key) {
        return kept_response(&key, kept, gzip, StatusCode::OK);
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
    not_found(&live, gzip)
}

pub(super) fn not_found(live: &LiveSite, gzip: bool) -> Response {
    match live.page("404.html") {
        Some(kept) => kept_response("404.html", kept, gzip, StatusCode::NOT_FOUND),
        None => file_response(
            "404.html",
            Body::from("Seite nicht gefunden"),
            StatusCode::NOT_FOUND,
        ),
    }
}

/// Whether the request's `Accept-Encoding` allows gzip (`gzip` or `*`, not
/// with `q=0`).
pub(super) fn accepts_gzip(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

/// The bytes of a kept output, shared, not copied.
struct Stored(Arc<Kept>);

impl AsRef<[u8]> for Stored {
    fn as_ref(&self) -> &[u8] {
        self.0.stored()
    }
}

/// A kept output as the client takes it: the gzip stream as kept when it
/// accepts gzip, else the raw bytes (unpacked if kept compressed).
fn kept_response(key: &str, kept: Arc<Kept>, gzip: bool, status: StatusCode) -> Response {
    let compressed = kept.is_compressed();
    let body = if compressed && !gzip {
        Body::from(kept.bytes().into_owned())
    } else {
        Body::from(axum::body::Bytes::from_owner(Stored(kept)))
    };
    let mut response = file_response(key, body, status);
    let h = response.headers_mut();
    // The answer depends on the header even while the output is still raw.
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if compressed && gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
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
