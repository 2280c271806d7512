//! One layer that puts the security headers of
//! [`campus_generator::headers`] on every answer: static files, backend
//! pages, JSON, redirects and every 4xx/5xx. A header a handler set on
//! purpose (e.g. a stricter Referrer-Policy) is kept.

use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use axum::Router;
use campus_generator::headers::SECURITY_HEADERS;

/// `app` with the security headers added to each answer.
pub fn layer(app: Router) -> Router {
    app.layer(axum::middleware::map_response(add))
}

async fn add(mut response: Response) -> Response {
    let h = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        let name = HeaderName::from_static(name);
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}
