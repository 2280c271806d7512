//! Shared test helpers: a fixture site in a temporary folder, an `AppState`
//! on a fresh database, requests through `tower::ServiceExt::oneshot`.

use axum::body::Body;
use axum::http::{header, Request, Response};
use campus_forms::{AppState, Settings};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tempfile::TempDir;
use tower::ServiceExt;

pub const BASE: &str = "https://campus.example";

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of `tests/fixtures/minimal` with the default theme.
pub fn site_dir() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo_root().join("tests/fixtures/minimal"), dir.path());
    let themes = dir.path().join("themes");
    std::fs::create_dir_all(&themes).unwrap();
    copy_dir(&repo_root().join("themes"), &themes);
    dir
}

/// Settings of the fixture site; with `CAMPUS_TEST_DATABASE=postgres` on
/// a database of the test run's PostgreSQL cluster (see `pg`), fresh for
/// each site folder and shared by every state opened on it (as the SQLite
/// file in its `var/` is).
pub fn settings(site: &Path) -> Settings {
    let config = campus_generator::config::Config::load(site).unwrap();
    let mut s = Settings::from_parts(site, &config, &|_| None).unwrap();
    s.retry_base = Duration::from_secs(1);
    if crate::pg::wanted() {
        static BY_SITE: std::sync::Mutex<Vec<(PathBuf, String)>> =
            std::sync::Mutex::new(Vec::new());
        let mut known = BY_SITE.lock().unwrap_or_else(|p| p.into_inner());
        let url = match known.iter().find(|(dir, _)| dir == site) {
            Some((_, url)) => Some(url.clone()),
            None => crate::pg::fresh_database()
                .inspect(|url| known.push((site.to_path_buf(), url.clone()))),
        };
        if let Some(url) = url {
            s.database = campus_forms::store::Location::Postgres(url);
        }
    }
    s
}

pub fn state_with(site: &Path, settings: Settings) -> AppState {
    let loaded = campus_generator::model::load(site).unwrap_or_else(|p| panic!("{p}"));
    AppState::new(std::sync::Arc::new(loaded), settings).unwrap()
}

pub fn state(site: &Path) -> AppState {
    state_with(site, settings(site))
}

/// A form timestamp issued `secs` seconds ago (by the state's clock).
pub fn ts(state: &AppState, secs: u64) -> String {
    state
        .signer
        .form_stamp_at(state.settings.clock.now_millis() - secs * 1000)
}

/// Settings with a manual clock that starts now; move it with
/// `state.settings.clock.advance(..)`.
pub fn settings_with_manual_clock(site: &Path) -> Settings {
    let mut s = settings(site);
    s.clock = campus_forms::clock::Clock::manual();
    s
}

pub fn urlencode(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

pub struct Reply {
    pub status: u16,
    pub location: Option<String>,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }
}

pub async fn send(state: &AppState, req: Request<Body>) -> Reply {
    let res: Response<Body> = campus_forms::app(state.clone()).oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let location = headers
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = axum::body::to_bytes(res.into_body(), 10_000_000)
        .await
        .unwrap();
    Reply {
        status,
        location,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// The client address the test requests come from.
pub const CLIENT_IP: &str = "203.0.113.7";

fn from_client(mut req: Request<Body>) -> Request<Body> {
    let addr: std::net::SocketAddr = format!("{CLIENT_IP}:50000").parse().unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(addr));
    req
}

pub async fn post_form(state: &AppState, path: &str, pairs: &[(&str, &str)]) -> Reply {
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, BASE)
        .body(Body::from(urlencode(pairs)))
        .unwrap();
    send(state, from_client(req)).await
}

pub async fn post_json(state: &AppState, path: &str, body: serde_json::Value) -> Reply {
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json")
        .header(header::ORIGIN, BASE)
        .body(Body::from(body.to_string()))
        .unwrap();
    send(state, from_client(req)).await
}

pub async fn get(state: &AppState, path: &str) -> Reply {
    send(state, Request::get(path).body(Body::empty()).unwrap()).await
}

/// Polls `check` until it returns Some or the deadline passes.
pub async fn eventually<T>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The first link below `prefix` in a raw message (decoded with mail-parser).
/// The path (with query) of an absolute URL, as the router sees it.
pub fn path_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/').map_or(url, |i| &rest[i..]).to_string()
}

pub fn link_in(raw: &[u8], prefix: &str) -> String {
    let msg = mail_parser::MessageParser::default().parse(raw).unwrap();
    let text = msg.body_text(0).unwrap().into_owned();
    let start = text
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} in {text}"));
    text[start..].split_whitespace().next().unwrap().to_string()
}
