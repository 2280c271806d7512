//! `campus serve`: builds the site, serves it from memory together with the
//! form backend on one address, watches the sources and live-reloads the
//! browser. On a content error the last good site keeps being served and the
//! errors show in the terminal and in the browser.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use campus_generator::incremental::{LiveBuild, RebuildReport};
use campus_generator::BuildOptions;
use notify::{RecursiveMode, Watcher};
use std::collections::HashMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::watch;

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on (default: [serve] address in campus.toml, else 127.0.0.1:8080).
    #[arg(long)]
    address: Option<String>,
    /// Poll for changes instead of using file-system events (network drives, containers).
    #[arg(long)]
    poll: bool,
}

/// What the browser is told after each build.
#[derive(Clone, Debug, PartialEq)]
enum BuildState {
    /// `reload`: the URL paths whose pages changed, or "*" for all pages
    /// (assets or templates changed); empty when nothing visible changed.
    Ok {
        generation: u64,
        reload: Arc<String>,
    },
    Failed {
        generation: u64,
        report: String,
    },
}

impl BuildState {
    fn generation(&self) -> u64 {
        match self {
            BuildState::Ok { generation, .. } | BuildState::Failed { generation, .. } => {
                *generation
            }
        }
    }
}

/// What browsers should reload after a build: the pages whose bytes
/// changed, as URL paths separated by newlines; "*" when assets changed or
/// too many pages to list.
fn reload_scope(changed_outputs: &[String], assets_changed: bool) -> String {
    let pages: Vec<String> = changed_outputs
        .iter()
        .filter(|p| p.ends_with(".html"))
        .map(|p| format!("/{}", p.trim_end_matches("index.html")))
        .collect();
    if assets_changed || pages.len() > 500 {
        "*".into()
    } else {
        pages.join("\n")
    }
}

/// Assets and templates are not tracked per page: their change reloads all.
fn assets_changed(changed_sources: &[PathBuf], site_dir: &Path) -> bool {
    changed_sources.is_empty()
        || changed_sources.iter().any(|p| {
            let rel = p.strip_prefix(site_dir).unwrap_or(p);
            rel.starts_with("static") || rel.starts_with("themes") || rel.starts_with("templates")
        })
}

/// The site currently served: rendered pages in memory, assets from disk.
pub struct LiveSite {
    site_dir: PathBuf,
    /// The form backend, told about new content after each good build.
    forms: std::sync::OnceLock<campus_forms::AppState>,
    static_dirs: Vec<PathBuf>,
    build: Mutex<LiveBuild>,
    pages: RwLock<Arc<HashMap<String, Arc<Vec<u8>>>>>,
    state: watch::Sender<BuildState>,
    /// Asks the worker that makes the derived files (search index, calendar
    /// files, sitemap) to run; without a worker they are made in line.
    extras: std::sync::OnceLock<std::sync::mpsc::Sender<()>>,
    /// The search index of the newest derived files, for the form backend's
    /// search (which may start after the first files were made).
    search_index: Mutex<Option<OfferedIndex>>,
}

type OfferedIndex = (
    Arc<campus_generator::Site>,
    chrono::NaiveDate,
    Arc<campus_generator::search::Index>,
);

impl LiveSite {
    fn new(site_dir: &Path) -> Arc<LiveSite> {
        let (state, _) = watch::channel(BuildState::Ok {
            generation: 0,
            reload: Arc::new(String::new()),
        });
        let mut options = BuildOptions::new(site_dir, site_dir.join("public"));
        options.live_reload = true;
        Arc::new(LiveSite {
            site_dir: site_dir.to_path_buf(),
            forms: std::sync::OnceLock::new(),
            static_dirs: Vec::new(),
            build: Mutex::new({
                let mut build = LiveBuild::new(options);
                // The watcher reports every change (an error event counts as
                // "everything changed", which makes the loader read all again).
                build.set_watched(true);
                build
            }),
            pages: RwLock::new(Arc::new(HashMap::new())),
            state,
            extras: std::sync::OnceLock::new(),
            search_index: Mutex::new(None),
        })
    }

    /// From now on derived files are made by a worker thread after each
    /// rebuild, so the next edit's pages never wait for them.
    fn start_extras_worker(self: &Arc<Self>) {
        let (tx, rx) = std::sync::mpsc::channel();
        if self.extras.set(tx).is_ok() {
            let live = Arc::downgrade(self);
            std::thread::spawn(move || extras_worker(live, rx));
        }
    }

    /// Asks the worker for the derived files; false if there is none yet.
    fn request_extras(&self) -> bool {
        self.extras
            .get()
            .is_some_and(|worker| worker.send(()).is_ok())
    }

    /// Keeps `made` (if any) and hands the kept index to the form backend
    /// if that runs. Called when an index is made and when the backend
    /// starts, whichever comes last offers it.
    fn offer_index(&self, made: Option<OfferedIndex>) {
        let mut kept = self.search_index.lock().expect("index lock");
        if made.is_some() {
            *kept = made;
        }
        if let (Some(forms), Some((site, day, index))) = (self.forms.get(), kept.as_ref()) {
            forms.offer_search_index(site, *day, index.clone());
        }
    }

    /// Rebuilds what `changed` affects (everything when empty); on success
    /// swaps the served pages at once and tells the browsers.
    fn rebuild(&self, changed: &[PathBuf]) -> Result<RebuildReport, String> {
        let generation = self.state.borrow().generation() + 1;
        let mut build = self.build.lock().expect("build lock");
        match build.rebuild_pages(changed) {
            Ok(report) => {
                self.publish(&build);
                let reload = reload_scope(&report.changed, assets_changed(changed, &self.site_dir));
                self.state.send_replace(BuildState::Ok {
                    generation,
                    reload: Arc::new(reload),
                });
                // Calendar files, sitemap and search index follow the pages.
                if !self.request_extras() {
                    if let Some((site, options)) = build.extras_input() {
                        let (extras, index) = derived_files(&site, &options);
                        build.apply_extras(&site, extras);
                        self.publish(&build);
                        self.offer_index(Some((site, options.today, index)));
                    }
                }
                // The form backend's reload (templates, booking sync) is not
                // on the way to the browser: do it after the swap.
                if let (Some(forms), Some(site)) = (self.forms.get().cloned(), build.site()) {
                    std::thread::spawn(move || {
                        if let Err(e) = forms.reload(site) {
                            eprintln!("Formular-Backend: {e}");
                        }
                    });
                }
                Ok(report)
            }
            Err(problems) => {
                let report = problems.to_string();
                self.state.send_replace(BuildState::Failed {
                    generation,
                    report: report.clone(),
                });
                Err(report)
            }
        }
    }

    /// Takes new counts of booked places; re-renders the pages that show
    /// them and reloads the browsers if anything changed.
    fn refresh_bookings(&self, bookings: Arc<campus_generator::model::Bookings>) {
        let mut build = self.build.lock().expect("build lock");
        build.set_bookings(bookings);
        if let Ok(report) = build.refresh_pages() {
            if !report.changed.is_empty() {
                self.publish(&build);
                // Only the pages showing the changed dates reload: a page
                // someone is filling in elsewhere must not lose its input.
                let generation = self.state.borrow().generation() + 1;
                let reload = reload_scope(&report.changed, false);
                self.state.send_replace(BuildState::Ok {
                    generation,
                    reload: Arc::new(reload),
                });
            }
        }
    }

    fn publish(&self, build: &LiveBuild) {
        let snapshot: HashMap<String, Arc<Vec<u8>>> = build
            .outputs()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        *self.pages.write().expect("pages lock") = Arc::new(snapshot);
    }

    fn page(&self, key: &str) -> Option<Arc<Vec<u8>>> {
        self.pages.read().expect("pages lock").get(key).cloned()
    }
}

/// Makes the derived files of the newest site whenever asked, after a quiet
/// moment (an editor may save again at once), at low CPU priority so a
/// page rebuild running meanwhile keeps the processor.
fn extras_worker(live: std::sync::Weak<LiveSite>, wanted: std::sync::mpsc::Receiver<()>) {
    // One thread of its own, also for the parallel parts (search index):
    // on the shared pool they would queue ahead of the next page rebuild.
    let Ok(pool) = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .start_handler(|_| lower_priority())
        .build()
    else {
        return;
    };
    while wanted.recv().is_ok() {
        while wanted.recv_timeout(Duration::from_millis(100)).is_ok() {}
        let Some(live) = live.upgrade() else {
            return;
        };
        // A site built while the files were being made makes them again.
        loop {
            let input = live.build.lock().expect("build lock").extras_input();
            let Some((site, options)) = input else {
                break;
            };
            let (extras, index) = pool.install(|| derived_files(&site, &options));
            let mut build = live.build.lock().expect("build lock");
            if build.apply_extras(&site, extras).is_some() {
                live.publish(&build);
                drop(build);
                live.offer_index(Some((site, options.today, index)));
                break;
            }
        }
    }
}

/// The derived files of `site` and the search index among them, which the
/// form backend's search uses too.
fn derived_files(
    site: &campus_generator::Site,
    options: &campus_generator::render::RenderOptions,
) -> (
    Vec<campus_generator::render::Output>,
    Arc<campus_generator::search::Index>,
) {
    let index = Arc::new(campus_generator::search::site_index(site, options.today));
    let extras = campus_generator::render::extra_outputs_with_index(site, options, &index);
    (extras, index)
}

/// Lets page rebuilds have the processor first.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain system call; on Linux PRIO_PROCESS with 0 means the
    // calling thread.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 10);
    }
}

pub fn run(site: &Path, args: Args) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(serve(site, args))
}

async fn serve(site: &Path, args: Args) -> ExitCode {
    let site_dir = site.canonicalize().unwrap_or_else(|_| site.to_path_buf());
    let config = match campus_generator::config::Config::load(&site_dir) {
        Ok(c) => c,
        Err(p) => {
            eprintln!("{p}");
            return ExitCode::FAILURE;
        }
    };
    let address = args
        .address
        .or_else(|| {
            config
                .rest
                .get("serve")?
                .get("address")?
                .as_str()
                .map(str::to_string)
        })
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let listener = match crate::http::bind(&address).await {
        Ok(l) => l,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };

    let mut live = LiveSite::new(&site_dir);
    Arc::get_mut(&mut live).expect("not shared yet").static_dirs = vec![
        site_dir.join("static"),
        config.theme_dir(&site_dir).join("static"),
    ];
    // Free places on the first pages already count the stored bookings; the
    // backend's refresh below then only follows changes.
    let stored_bookings = match campus_forms::booked_places_of(&site_dir) {
        Ok(bookings) => bookings.unwrap_or_default(),
        Err(e) => {
            eprintln!("Warnung: Buchungen konnten nicht gelesen werden ({e}); freie Plätze nur laut Inhalt.");
            Default::default()
        }
    };
    live.build
        .lock()
        .expect("build lock")
        .set_bookings(Arc::new(stored_bookings.clone()));
    match live.rebuild(&[]) {
        Ok(report) => println!(
            "Website gebaut: {} Seiten in {} ms.",
            report.rendered,
            report.duration.as_millis()
        ),
        Err(report) => {
            eprintln!("{report}\nDie Website wird angezeigt, sobald die Fehler behoben sind.")
        }
    }
    live.start_extras_worker();
    let _watcher = match watch_sources(live.clone(), args.poll) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("Änderungen können nicht beobachtet werden: {e}");
            return ExitCode::FAILURE;
        }
    };

    let mut app = router(live.clone());
    let dir = site_dir.clone();
    // The backend shares the content of the first build instead of loading it again.
    let built = live.build.lock().expect("build lock").site();
    let worker = match tokio::task::spawn_blocking(move || match built {
        Some(site) => campus_forms::AppState::open_with(&dir, site),
        None => campus_forms::AppState::open(&dir),
    })
    .await
    .expect("open task")
    {
        Ok(state) => {
            state.allow_origin(&format!("http://{address}"));
            let worker = match campus_forms::spawn_worker(&state) {
                Ok(w) => w,
                Err(e) => {
                    eprintln!("Formular-Backend kann nicht starten: {e}");
                    return ExitCode::FAILURE;
                }
            };
            app = campus_forms::app(state.clone()).merge(app);
            let _ = live.forms.set(state.clone());
            // The derived files of the first build were made before the
            // backend existed: its search gets their index now.
            live.offer_index(None);
            // Free places on the pages follow the bookings.
            let watched = live.clone();
            tokio::spawn(async move {
                let mut last = Some(stored_bookings);
                loop {
                    let st = state.clone();
                    if let Ok(Ok(booked)) =
                        tokio::task::spawn_blocking(move || st.booked_places()).await
                    {
                        if last.as_ref() != Some(&booked) {
                            last = Some(booked.clone());
                            let live = watched.clone();
                            let _ = tokio::task::spawn_blocking(move || {
                                live.refresh_bookings(Arc::new(booked))
                            })
                            .await;
                        }
                    }
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            });
            Some(worker)
        }
        Err(e) => {
            eprintln!("Formular-Backend nicht gestartet (Formulare antworten mit 404): {e}");
            None
        }
    };
    println!("KommunalCampus läuft auf http://{address}/ (Beenden mit Strg+C)");
    // Open live-reload streams never end by themselves: a short drain.
    let limits = crate::http::Limits {
        drain_timeout: Duration::from_secs(2),
        ..Default::default()
    };
    crate::http::serve(listener, app, &limits, crate::http::shutdown_signal()).await;
    if let Some(worker) = worker {
        // Lets the mail being sent right now finish.
        worker.shutdown().await;
    }
    ExitCode::SUCCESS
}

pub fn router(live: Arc<LiveSite>) -> Router {
    Router::new()
        .route("/__campus/live-reload", get(live_reload_events))
        .route("/__campus/live-reload.js", get(live_reload_script))
        .fallback(static_page)
        .with_state(live)
}

// ---------------------------------------------------------------- watching

/// Only these parts of the site trigger a rebuild.
fn is_source(site_dir: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(site_dir) else {
        return false;
    };
    let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
    // Editor temp and backup files: saved-by-rename leaves a real event on the target too.
    if name.starts_with('.')
        || name.starts_with('#')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".tmp")
    {
        return false;
    }
    rel == Path::new("campus.toml")
        || ["content", "data", "static", "templates", "themes"]
            .iter()
            .any(|d| rel.starts_with(d))
}

/// Reads (our own build reads every file) are not changes. Collects the
/// changed source paths; an error event counts as "anything may have changed".
fn changes_source(
    dir: &Path,
    event: notify::Result<notify::Event>,
    changed: &mut Vec<PathBuf>,
) -> bool {
    use notify::event::{EventKind, MetadataKind, ModifyKind};
    let Ok(event) = event else {
        // Lost events (e.g. a queue overflow): treat the whole site as changed.
        changed.push(dir.to_path_buf());
        return true;
    };
    let is_change = !matches!(
        event.kind,
        EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime))
    );
    let sources: Vec<PathBuf> = event
        .paths
        .into_iter()
        .filter(|p| is_source(dir, p))
        .collect();
    let relevant = is_change && !sources.is_empty();
    if relevant {
        changed.extend(sources);
    }
    relevant
}

/// Watches the sources and rebuilds on changes; dropping the returned
/// value stops watching.
fn watch_sources(live: Arc<LiveSite>, poll: bool) -> notify::Result<Box<dyn Send>> {
    let (tx, rx) = std::sync::mpsc::channel::<notify::Result<notify::Event>>();
    let dir = live.site_dir.clone();
    let roots: Vec<(PathBuf, RecursiveMode)> =
        std::iter::once((dir.clone(), RecursiveMode::NonRecursive))
            .chain(
                ["content", "data", "static", "templates", "themes"]
                    .iter()
                    .map(|sub| dir.join(sub))
                    .filter(|path| path.is_dir())
                    .map(|path| (path, RecursiveMode::Recursive)),
            )
            .collect();
    let events = if poll {
        None
    } else {
        notify::recommended_watcher(tx.clone()).ok()
    };
    let watching: Box<dyn Send> = match events {
        Some(mut watcher) => {
            for (path, mode) in &roots {
                watcher.watch(path, *mode)?;
            }
            Box::new(watcher)
        }
        // No change events (or asked not to use them): look for changes.
        None => Box::new(Poller::start(roots, tx)),
    };
    std::thread::spawn(move || {
        while let Ok(first) = rx.recv() {
            let mut changed: Vec<PathBuf> = Vec::new();
            let mut relevant = changes_source(&dir, first, &mut changed);
            // Debounce: editors write, rename and touch in quick succession.
            while let Ok(next) = rx.recv_timeout(Duration::from_millis(10)) {
                relevant |= changes_source(&dir, next, &mut changed);
            }
            if !relevant {
                continue;
            }
            changed.sort();
            changed.dedup();
            if changed.iter().any(|p| p == &dir) {
                changed.clear(); // an empty list means "check everything"
            }
            match live.rebuild(&changed) {
                Ok(report) => println!(
                    "Neu gebaut in {} ms: {} Seiten gerendert, {} Dateien geändert.",
                    report.duration.as_millis(),
                    report.rendered,
                    report.changed.len() + report.removed.len()
                ),
                Err(report) => {
                    eprintln!("{report}\nEs wird weiter die letzte fehlerfreie Fassung angezeigt.")
                }
            }
        }
    });
    Ok(watching)
}

/// Looks for changed, new and deleted files every 300 ms (or five times
/// as long as a look takes, so a large site on a slow network drive is not
/// scanned without pause), for drives that send no change events.
/// notify's `PollWatcher` compares modification times in whole seconds and
/// missed a second save within the same second; this compares them
/// exactly, and the sizes too.
struct Poller {
    stop: Arc<std::sync::atomic::AtomicBool>,
}

type Stamps = HashMap<PathBuf, (Option<std::time::SystemTime>, u64)>;

impl Poller {
    fn start(
        roots: Vec<(PathBuf, RecursiveMode)>,
        events: std::sync::mpsc::Sender<notify::Result<notify::Event>>,
    ) -> Poller {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let mut known = Poller::stamps(&roots);
        std::thread::spawn(move || {
            let mut pause = Duration::from_millis(300);
            while !stopped.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(pause);
                let started = std::time::Instant::now();
                let now = Poller::stamps(&roots);
                pause = (started.elapsed() * 5).max(Duration::from_millis(300));
                let changed = now
                    .iter()
                    .filter(|(path, stamp)| known.get(*path) != Some(stamp))
                    .chain(known.iter().filter(|(path, _)| !now.contains_key(*path)))
                    .map(|(path, _)| path.clone());
                for path in changed {
                    let event = notify::Event::new(notify::EventKind::Any).add_path(path);
                    if events.send(Ok(event)).is_err() {
                        return;
                    }
                }
                known = now;
            }
        });
        Poller { stop }
    }

    /// Modification time and size of every file under `roots`.
    fn stamps(roots: &[(PathBuf, RecursiveMode)]) -> Stamps {
        let mut stamps = Stamps::new();
        for (root, mode) in roots {
            let depth = match mode {
                RecursiveMode::Recursive => usize::MAX,
                RecursiveMode::NonRecursive => 1,
            };
            for entry in walkdir::WalkDir::new(root)
                .follow_links(true)
                .max_depth(depth)
                .into_iter()
                .flatten()
            {
                if let Ok(meta) = entry.metadata() {
                    if meta.is_file() {
                        stamps.insert(entry.into_path(), (meta.modified().ok(), meta.len()));
                    }
                }
            }
        }
        stamps
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

// ---------------------------------------------------------------- serving

async fn static_page(State(live): State<Arc<LiveSite>>, request: Request<Body>) -> Response {
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

fn not_found(live: &LiveSite) -> Response {
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
fn file_response(key: &str, body: Body, status: StatusCode) -> Response {
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

async fn live_reload_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        LIVE_RELOAD_JS,
    )
}

/// Server-sent events: "reload" after a good build, "fehler" with the report
/// after a bad one. A freshly (re)connected page learns the current state.
async fn live_reload_events(
    State(live): State<Arc<LiveSite>>,
) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    let mut rx = live.state.subscribe();
    let initial = rx.borrow_and_update().clone();
    let first = match initial {
        BuildState::Failed { report, .. } => Some(Event::default().event("fehler").data(report)),
        BuildState::Ok { generation, .. } => Some(
            Event::default()
                .event("bereit")
                .data(generation.to_string()),
        ),
    };
    let stream = futures_util::stream::unfold((first, rx), |(pending, mut rx)| async move {
        if let Some(event) = pending {
            return Some((Ok(event), (None, rx)));
        }
        rx.changed().await.ok()?;
        let event = match rx.borrow_and_update().clone() {
            BuildState::Ok { reload, .. } => Event::default().event("reload").data(reload.as_str()),
            BuildState::Failed { report, .. } => Event::default().event("fehler").data(report),
        };
        Some((Ok(event), (None, rx)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

const LIVE_RELOAD_JS: &str = r#"// Injected by `campus serve` only: reloads the page after each good build
// and shows build errors over the page until they are fixed.
(function () {
  var source = new EventSource("/__campus/live-reload");
  var box = null;
  // The event lists the changed pages (one path per line) or "*" for all.
  source.addEventListener("reload", function (event) {
    var paths = event.data.split("\n");
    if (box || paths.indexOf("*") >= 0 || paths.indexOf(window.location.pathname) >= 0) {
      window.location.reload();
    }
  });
  source.addEventListener("bereit", function () { if (box) { window.location.reload(); } });
  source.addEventListener("fehler", function (event) {
    if (!box) {
      box = document.createElement("div");
      box.setAttribute("role", "alert");
      box.className = "campus-build-fehler";
      document.body.prepend(box);
    }
    box.textContent = "";
    var title = document.createElement("strong");
    title.textContent = "Die Website konnte nicht gebaut werden. Angezeigt wird die letzte fehlerfreie Fassung.";
    var pre = document.createElement("pre");
    pre.textContent = event.data;
    box.appendChild(title);
    box.appendChild(pre);
  });
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reload_only_the_pages_that_changed() {
        let changed = vec![
            "kommunen/a/index.html".to_string(),
            "termine/x.ics".to_string(),
            "404.html".to_string(),
        ];
        assert_eq!(reload_scope(&changed, false), "/kommunen/a/\n/404.html");
        assert_eq!(reload_scope(&changed, true), "*");
        assert_eq!(
            reload_scope(&[], false),
            "",
            "nothing visible changed: no reload"
        );
        let many: Vec<String> = (0..501)
            .map(|i| format!("kommunen/k{i}/index.html"))
            .collect();
        assert_eq!(reload_scope(&many, false), "*");
    }

    #[test]
    fn asset_and_template_edits_reload_everything() {
        let site = Path::new("/site");
        assert!(assets_changed(
            &[PathBuf::from("/site/static/bilder/a.svg")],
            site
        ));
        assert!(assets_changed(
            &[PathBuf::from("/site/themes/default/templates/base.html")],
            site
        ));
        assert!(!assets_changed(
            &[PathBuf::from("/site/content/einheiten/a.md")],
            site
        ));
        assert!(assets_changed(&[], site), "an unknown change reloads all");
    }
}
