//! Abuse checks before a form is read: per-address limits, the origin
//! guard (with CORS for the page script) and the client address behind a
//! trusted proxy.

use super::*;

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

/// Rejects state-changing requests from other sites: an `Origin` must be
/// the site's (or the backend's, or a configured one). Requests without
/// `Origin` (curl, mail servers doing one-click unsubscribe) pass unless the
/// browser says they are cross-site. Unsubscribe links carry their own
/// signature and are exempt (RFC 8058 posts come from mail servers).
///
/// Allowed origins also get CORS headers, so the page script can fetch
/// `/forms/token` and post JSON when `[forms] url` is another origin.
pub(super) async fn origin_guard(
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

pub(super) fn cors(mut r: Response, origin: Option<&str>) -> Response {
    if let Some(value) = origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        let h = r.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        h.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    r
}

/// The client address: the connection's peer (needs
/// `into_make_service_with_connect_info::<SocketAddr>()`), or the last
/// `X-Forwarded-For` entry when configured behind a proxy. `None` when
/// unknown: then there is no per-IP limit (one shared bucket for everybody
/// would lock out all visitors), and a warning is logged once.
pub(super) fn client_ip(
    req_parts: &axum::http::request::Parts,
    trust_forwarded: bool,
) -> Option<String> {
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
