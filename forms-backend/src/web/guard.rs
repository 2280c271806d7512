//! Abuse checks before a form is read: per-address limits, the origin
//! guard (with CORS for the page script) and the client address behind a
//! trusted proxy.

use super::*;
use crate::store::RequestLimit;

/// Per-key sliding-window limit, in memory: it resets on restart and is per
/// process (enough for one process on SQLite; on PostgreSQL, where several
/// nodes may run, `check_ip_limit` counts in the database instead). The
/// per-recipient mail limit is durable in the outbox.
///
/// Keys are "client|form" (see [`limit_key`]): the staff of one town hall
/// behind one NAT address share the count of one form, not of all of them,
/// and an IPv6 client counts per /64. Memory is bounded: at most
/// [`RateLimiter::MAX_KEYS`] keys of at most `max` hits each; expired keys are
/// swept at most once per tenth of the window, and when the table is still
/// full the key whose last hit is oldest makes room.
pub struct RateLimiter {
    max: u32,
    window: Duration,
    inner: Mutex<Hits>,
}

#[derive(Default)]
struct Hits {
    /// Times of the hits in milliseconds (see [`crate::clock`]), oldest first.
    by_key: HashMap<String, VecDeque<u64>>,
    last_sweep: u64,
}

impl RateLimiter {
    /// Enough for every address and form a busy day sees at once.
    pub const MAX_KEYS: usize = 20_000;

    pub fn new(max: u32, window: Duration) -> RateLimiter {
        RateLimiter {
            max,
            window,
            inner: Mutex::new(Hits::default()),
        }
    }

    /// Counts a hit of `key` at `now` (milliseconds); false over the limit.
    pub fn allow(&self, key: &str, now: u64) -> bool {
        self.check(key, now).is_ok()
    }

    /// Counts a hit of `key` at `now` (milliseconds), or says after how many
    /// seconds the oldest counted hit leaves the window (for `Retry-After`).
    pub fn check(&self, key: &str, now: u64) -> Result<(), u64> {
        let window = self.window.as_millis() as u64;
        let live = |q: &VecDeque<u64>| q.back().is_some_and(|t| now.saturating_sub(*t) < window);
        let mut hits = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if now.saturating_sub(hits.last_sweep) >= window / 10 {
            hits.by_key.retain(|_, q| live(q));
            hits.last_sweep = now;
        }
        if !hits.by_key.contains_key(key) && hits.by_key.len() >= Self::MAX_KEYS {
            hits.by_key.retain(|_, q| live(q));
            if hits.by_key.len() >= Self::MAX_KEYS {
                let oldest = hits
                    .by_key
                    .iter()
                    .min_by_key(|(_, q)| q.back().copied().unwrap_or(0))
                    .map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    hits.by_key.remove(&k);
                }
            }
        }
        let q = hits.by_key.entry(key.to_string()).or_default();
        while q.front().is_some_and(|t| now.saturating_sub(*t) >= window) {
            q.pop_front();
        }
        if q.len() as u32 >= self.max {
            let oldest = q.front().copied().unwrap_or(now);
            let wait_ms = (oldest + window).saturating_sub(now);
            return Err(wait_ms.div_ceil(1000).max(1));
        }
        q.push_back(now);
        Ok(())
    }

    /// How many keys are kept now (for tests of the bound).
    pub fn keys(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .by_key
            .len()
    }
}

/// The limiter's key of a request: the client (an IPv4 address, an IPv6
/// client's /64, since one connection usually gets a whole /64) and the
/// form or area it posts to (the first two segments of the path, e.g.
/// `/forms/kontakt`, `/verwaltung/anmelden`; link tokens come later).
pub fn limit_key(ip: &str, path: &str) -> String {
    let client = match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Ok(std::net::IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => ip.to_string(),
    };
    let area: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).take(2).collect();
    format!("{client}|/{}", area.join("/"))
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

/// Applies the limit per client and form; returns the address to hash.
///
/// On PostgreSQL the hits are counted in the database, in batches
/// ([`crate::limit_counter`]), so every node behind a load
/// balancer sees the others' hits; the key is stored only as a keyed hash.
/// On SQLite (one process) the in-memory [`RateLimiter`] counts.
pub(crate) async fn check_ip_limit(
    state: &AppState,
    parts: &axum::http::request::Parts,
    json: bool,
) -> Result<String, AppError> {
    let Some(ip) = client_ip(parts, state.settings.trust_forwarded_for) else {
        return Ok("unbekannt".into());
    };
    let key = limit_key(&ip, parts.uri.path());
    let verdict = match &state.limit_counter {
        None => state.limiter.check(&key, state.settings.clock.now_millis()),
        Some(counter) => counter
            .count(state.signer.ip_hash(&key))
            .await
            .map_err(|e| AppError::Internal(Box::new(e)))?,
    };
    match verdict {
        Ok(()) => Ok(ip),
        Err(retry_after) => {
            tracing::warn!(
                path = parts.uri.path(),
                retry_after,
                "Anfrage-Limit je Adresse und Formular erreicht"
            );
            Err(AppError::RateLimited { json, retry_after })
        }
    }
}

/// The window of the per-address limit (`anfragen_pro_ip_je_10_minuten`).
pub const LIMIT_WINDOW: Duration = Duration::from_secs(600);

/// The per-address limit of `settings` (the database's counting on
/// PostgreSQL).
pub fn ip_limit(settings: &crate::config::Settings) -> RequestLimit {
    RequestLimit {
        max: settings.per_ip_per_10_min,
        window: LIMIT_WINDOW.as_secs() as i64,
    }
}
