//! The KommunalCampus form backend.
//!
//! Data flows request → [`validate`] → [`store`] → [`workflow`] →
//! [`mail`]/[`outbox`]. The HTTP side lives in [`web`]; `campus serve`
//! needs only [`start`] (or [`AppState::open`] + [`app`] + [`spawn_worker`]).
//!
//! ```no_run
//! # async fn serve(site_dir: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
//! let (router, worker) = campus_forms::start(site_dir).await?;
//! // merge `router` with the static files (it has no fallback), serve with
//! // `into_make_service_with_connect_info::<SocketAddr>()` (per-IP limit)
//! // and graceful shutdown, then:
//! worker.shutdown().await; // lets the mail being sent finish
//! # Ok(()) }
//! ```

pub mod attendance;
pub mod booking;
pub mod certificate;
pub mod clock;
pub mod config;
pub mod evaluation;
pub mod exclusive;
pub mod intake;
pub mod invoice;
pub mod limit_counter;
pub mod mail;
pub mod membership;
pub mod ops;
pub mod outbox;
pub mod pages;
pub mod runtime_ops;
pub mod sign;
pub mod store;
pub mod stored;
pub mod totp;
pub mod validate;
pub mod verwaltung;
pub mod web;
pub mod workflow;

use campus_generator::config::Config;
use campus_generator::render::RenderOptions;
use campus_generator::Site;
pub use config::Settings;
pub use outbox::WorkerHandle;
use std::path::Path;
use std::sync::{Arc, RwLock};
use tokio::sync::Notify;
pub use web::{app, AppError};

/// The git commit of the binary, set once by `campus` at start (the
/// backend crate has no build script of its own); shown by `/healthz`.
pub static BUILD_COMMIT: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("Inhalte: {0}")]
    Site(String),
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("Signaturschlüssel: {0}")]
    Key(std::io::Error),
    #[error("Mail-Versand: {0}")]
    Transport(#[from] lettre::transport::smtp::Error),
}

/// The content model and templates the backend renders with.
pub struct Loaded {
    /// Shared with `campus serve`, which rebuilds it on every save.
    pub site: Arc<Site>,
    /// The one renderer of `site`: its templates and page views.
    pub pages: Arc<pages::Pages>,
    pub letterhead: mail::Letterhead,
    /// Where links in mails point to: `[forms] url`, else the site's base URL.
    pub backend_url: String,
    /// Origins accepted on posts.
    pub origins: Vec<String>,
    /// The search index of `site` and the day it was made for (next dates).
    pub search_index:
        std::sync::Mutex<Option<(chrono::NaiveDate, Arc<campus_generator::search::Index>)>>,
}

impl Loaded {
    fn new(site: Arc<Site>, settings: &Settings) -> Result<Loaded, StartError> {
        let pages =
            Arc::new(pages::Pages::new(site.clone()).map_err(|p| StartError::Site(p.to_string()))?);
        let c = &site.config;
        let backend_url = if c.forms.url.is_empty() {
            c.site.base_url.clone()
        } else {
            c.forms.url.clone()
        };
        let mut origins = vec![origin_of(&c.site.base_url)];
        if !c.forms.url.is_empty() {
            origins.push(origin_of(&c.forms.url));
        }
        origins.extend(settings.allowed_origins.iter().map(|o| origin_of(o)));
        let letterhead = mail::Letterhead {
            sender: settings.sender.clone(),
            site_name: c.site.name.clone(),
            base_url: c.site.base_url.clone(),
            organisation: c.kontakt.organisation.clone(),
            address_lines: [&c.kontakt.strasse, &c.kontakt.ort, &c.kontakt.telefon]
                .into_iter()
                .filter(|l| !l.is_empty())
                .cloned()
                .collect(),
            texts: pages.clone(),
        };
        Ok(Loaded {
            site,
            pages,
            letterhead,
            backend_url,
            origins,
            search_index: std::sync::Mutex::new(None),
        })
    }

    pub fn render_options(&self) -> RenderOptions {
        self.pages.options()
    }
}

/// `scheme://host[:port]` of a URL, lowercased.
pub fn origin_of(url: &str) -> String {
    let url = url.trim().to_ascii_lowercase();
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            format!("{scheme}://{host}")
        }
        None => url,
    }
}

/// Shared state of the router and the worker; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    loaded: RwLock<Arc<Loaded>>,
    pub settings: Arc<Settings>,
    pub store: Arc<store::Store>,
    pub signer: sign::Signer,
    pub limiter: web::RateLimiter,
    /// The per-address limit on PostgreSQL, counted in batches (`None` on
    /// SQLite, which uses `limiter`).
    pub limit_counter: Option<limit_counter::LimitCounter>,
    /// The group-commit writer for form submissions.
    pub intake: intake::Intake,
    /// Wakes the worker when a mail was queued.
    pub wake: Arc<Notify>,
    /// The mail worker's latest round (see [`outbox::Worker::heartbeat`]).
    pub worker_heartbeat: Arc<std::sync::atomic::AtomicI64>,
    extra_origins: RwLock<Vec<String>>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Loads content, config (with env overrides), opens the database and
    /// the signing key of the site in `site_dir`.
    pub fn open(site_dir: &Path) -> Result<AppState, StartError> {
        let site =
            campus_generator::model::load(site_dir).map_err(|p| StartError::Site(p.to_string()))?;
        AppState::open_with(site_dir, Arc::new(site))
    }

    /// [`AppState::open`] with content already loaded (by `campus serve`,
    /// which then shares it with the backend).
    pub fn open_with(site_dir: &Path, site: Arc<Site>) -> Result<AppState, StartError> {
        let settings = Settings::load(site_dir, &site.config)?;
        AppState::new(site, settings)
    }

    pub fn new(site: Arc<Site>, settings: Settings) -> Result<AppState, StartError> {
        let store = Arc::new(store::Store::open(&settings.database)?);
        let previous = settings
            .previous_signing_keys
            .iter()
            .map(|k| sign::Signer::key_from_text(&k.0));
        let signer = match &settings.signing_key {
            // A generated key from before the configured one keeps verifying
            // until its file is deleted (see docs/betrieb.md, rotation).
            Some(k) => sign::Signer::from_text(&k.0)
                .with_previous(sign::Signer::key_file(&settings.data_dir))
                .with_previous(previous),
            None => sign::Signer::load_or_create(&settings.data_dir)
                .map_err(StartError::Key)?
                .with_previous(previous),
        };
        let loaded = Loaded::new(site, &settings)?;
        tracing::info!(database = %settings.database, transport = ?settings.transport,
            "Formular-Backend bereit");
        let state = AppState(Arc::new(Inner {
            loaded: RwLock::new(Arc::new(loaded)),
            limiter: web::RateLimiter::new(settings.per_ip_per_10_min, web::LIMIT_WINDOW),
            intake: intake::Intake::start(store.clone(), settings.intake_queue),
            limit_counter: (store.engine() == store::Engine::Postgres).then(|| {
                limit_counter::LimitCounter::start(
                    store.clone(),
                    web::ip_limit(&settings),
                    settings.clock.clone(),
                )
            }),
            settings: Arc::new(settings),
            store,
            signer,
            wake: Arc::new(Notify::new()),
            worker_heartbeat: Arc::default(),
            extra_origins: RwLock::new(Vec::new()),
        }));
        state.sync_bookings();
        Ok(state)
    }

    /// Brings bookings in line with the live dates in content (see
    /// [`booking::sync_content`]); errors are logged, the content still loads.
    pub fn sync_bookings(&self) {
        match booking::with_env(self, "", booking::sync_content) {
            Ok(report) => {
                if report != booking::SyncReport::default() {
                    tracing::info!(?report, "Buchungen an geänderte Termine angepasst");
                    self.wake.notify_one();
                }
            }
            Err(e) => tracing::error!(error = %e, "Buchungen nicht an Inhalte angepasst"),
        }
    }

    pub fn loaded(&self) -> Arc<Loaded> {
        self.loaded
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Places held on the platform (confirmed or offered) per unit and live
    /// date, for the pages' free-place counts.
    pub fn booked_places(&self) -> Result<campus_generator::model::Bookings, StartError> {
        booked_places(&self.store)
    }

    /// Swaps in a newly loaded site (after `campus serve` rebuilt it).
    pub fn reload(&self, site: Arc<Site>) -> Result<(), StartError> {
        let loaded = Arc::new(Loaded::new(site, &self.settings)?);
        *self.loaded.write().unwrap_or_else(|p| p.into_inner()) = loaded;
        self.sync_bookings();
        Ok(())
    }

    /// Keeps `index` for the search of `site` on `day` if `site` is still
    /// the one loaded (`campus serve` makes it for the static index anyway);
    /// otherwise the first search builds its own.
    pub fn offer_search_index(
        &self,
        site: &Arc<Site>,
        day: chrono::NaiveDate,
        index: Arc<campus_generator::search::Index>,
    ) -> bool {
        let loaded = self.loaded();
        if !Arc::ptr_eq(&loaded.site, site) {
            return false;
        }
        *loaded
            .search_index
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some((day, index));
        true
    }

    /// Accepts posts from `origin` too (e.g. the address `campus serve`
    /// listens on when it differs from the base URL).
    pub fn allow_origin(&self, origin: &str) {
        self.extra_origins
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(origin_of(origin));
    }

    pub fn extra_origins(&self) -> Vec<String> {
        self.extra_origins
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn config(&self) -> Config {
        self.loaded().site.config.clone()
    }
}

/// Starts the mail worker (with the daily purge) for `state`, and the
/// booking ticker that passes on expired offers.
pub fn spawn_worker(state: &AppState) -> Result<WorkerHandle, StartError> {
    let transport = outbox::Transport::new(&state.settings.transport)?;
    let mut handle = outbox::Worker {
        store: state.store.clone(),
        transport: Arc::new(transport),
        wake: state.wake.clone(),
        max_attempts: state.settings.max_attempts,
        retry_base: state.settings.retry_base,
        lease: outbox::lease_for(&state.settings.transport),
        settings_for_purge: Some(state.settings.clone()),
        clock: state.settings.clock.clone(),
        heartbeat: state.worker_heartbeat.clone(),
    }
    .spawn();
    handle.attach(booking::spawn_ticker(state.clone(), handle.stop_signal()));
    handle.attach(evaluation::spawn_ticker(
        state.clone(),
        handle.stop_signal(),
    ));
    Ok(handle)
}

/// Everything `campus serve` needs: the router (routes under `/forms/` and
/// `/healthz`) and the running mail worker. Call inside a tokio runtime.
pub async fn start(site_dir: &Path) -> Result<(axum::Router, WorkerHandle), StartError> {
    let dir = site_dir.to_path_buf();
    let state = tokio::task::spawn_blocking(move || AppState::open(&dir))
        .await
        .map_err(|e| StartError::Site(e.to_string()))??;
    let worker = spawn_worker(&state)?;
    Ok((app(state), worker))
}

fn booked_places(store: &store::Store) -> Result<campus_generator::model::Bookings, StartError> {
    let mut out = campus_generator::model::Bookings::new();
    for (unit, date, n) in store.places_held_all()? {
        if let Some(d) = campus_generator::model::parse_date(&date) {
            out.insert((unit, d), n);
        }
    }
    Ok(out)
}

/// The places booked on the platform according to the site's database, for
/// `campus build`; `None` when there is no database yet.
pub fn booked_places_of(
    site_dir: &Path,
) -> Result<Option<campus_generator::model::Bookings>, StartError> {
    let config = campus_generator::config::Config::load(site_dir)
        .map_err(|p| StartError::Site(p.to_string()))?;
    let settings = Settings::load(site_dir, &config)?;
    if !settings.database.exists() {
        return Ok(None);
    }
    let store = store::Store::open(&settings.database)?;
    booked_places(&store).map(Some)
}
