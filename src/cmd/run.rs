//! `campus run`: the production command. Serves the built site (`public/`,
//! made by `campus build`) and the form backend on one address, or with
//! `--backend-only` just the backend while nginx, Caddy or a CDN serves
//! `public/`. No file watcher, no live reload, no event stream, no error
//! overlay: what visitors get is exactly what was built.
//!
//! On SIGTERM or SIGINT it stops accepting, lets open requests finish,
//! commits what is left in the intake queue and lets the mail worker finish
//! the mail it is sending, then exits 0.

use crate::http::{self, Limits};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on (default: [betrieb] adresse in campus.toml, else 127.0.0.1:8080).
    #[arg(long)]
    address: Option<String>,
    /// Serve only the form backend (/forms/, /healthz, /metrics); the web server in front serves public/.
    #[arg(long)]
    backend_only: bool,
    /// The built site (default: public/ in the site folder).
    #[arg(long)]
    public: Option<PathBuf>,
}

/// `[betrieb]` in campus.toml: how `campus run` listens and what a client
/// may cost it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawBetrieb {
    adresse: Option<String>,
    kopf_zeitlimit_sekunden: Option<u64>,
    koerper_zeitlimit_sekunden: Option<u64>,
    anfrage_zeitlimit_sekunden: Option<u64>,
    max_verbindungen: Option<usize>,
    abschluss_zeitlimit_sekunden: Option<u64>,
}

/// Listening address and limits from `[betrieb]`.
pub fn settings(config: &campus_generator::config::Config) -> Result<(String, Limits), String> {
    let raw: RawBetrieb = match config.rest.get("betrieb") {
        Some(table) => table
            .clone()
            .try_into()
            .map_err(|e| format!("campus.toml, Tabelle [betrieb]: {e}"))?,
        None => RawBetrieb::default(),
    };
    let seconds = |value: Option<u64>, default: Duration| -> Result<Duration, String> {
        match value {
            Some(0) => Err(
                "campus.toml, Tabelle [betrieb]: Zeitlimits müssen mindestens 1 Sekunde betragen"
                    .into(),
            ),
            Some(s) => Ok(Duration::from_secs(s)),
            None => Ok(default),
        }
    };
    let d = Limits::default();
    let limits = Limits {
        header_timeout: seconds(raw.kopf_zeitlimit_sekunden, d.header_timeout)?,
        body_timeout: seconds(raw.koerper_zeitlimit_sekunden, d.body_timeout)?,
        request_timeout: seconds(raw.anfrage_zeitlimit_sekunden, d.request_timeout)?,
        max_connections: raw.max_verbindungen.unwrap_or(d.max_connections).max(1),
        drain_timeout: seconds(raw.abschluss_zeitlimit_sekunden, d.drain_timeout)?,
    };
    Ok((
        raw.adresse.unwrap_or_else(|| "127.0.0.1:8080".into()),
        limits,
    ))
}

pub fn run(site: &Path, args: Args) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(serve(site, args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(site: &Path, args: Args) -> Result<(), String> {
    let site_dir = site.canonicalize().unwrap_or_else(|_| site.to_path_buf());
    let config = campus_generator::config::Config::load(&site_dir).map_err(|p| p.to_string())?;
    // A production server starts only on a configuration without mistakes.
    let problems = super::config_problems(&site_dir);
    if !problems.0.is_empty() {
        return Err(problems.sorted().to_string());
    }
    let (configured, limits) = settings(&config)?;
    let address = args.address.unwrap_or(configured);
    let public = args.public.unwrap_or_else(|| site_dir.join("public"));
    if !args.backend_only && !public.join("index.html").is_file() {
        return Err(format!(
            "In {} liegt keine gebaute Website (index.html fehlt). Bauen Sie sie zuerst mit „campus build“ oder starten Sie mit --backend-only, wenn ein anderer Webserver sie ausliefert.",
            public.display()
        ));
    }
    let listener = http::bind(&address).await?;

    let dir = site_dir.clone();
    let state = tokio::task::spawn_blocking(move || campus_forms::AppState::open(&dir))
        .await
        .map_err(|e| format!("Formular-Backend kann nicht starten: {e}"))?
        .map_err(|e| format!("Formular-Backend kann nicht starten: {e}"))?;
    let worker = campus_forms::spawn_worker(&state)
        .map_err(|e| format!("Formular-Backend kann nicht starten: {e}"))?;
    let backend = campus_forms::app(state.clone());
    let app = if args.backend_only {
        backend.fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                "Nicht gefunden: dieser Dienst liefert nur das Formular-Backend aus.",
            )
                .into_response()
        })
    } else {
        backend.merge(http::static_files::router(&public))
    };
    let app = http::metrics::with_metrics(app, state.clone());
    tracing::info!(%address, backend_only = args.backend_only, public = %public.display(),
        version = crate::LONG_VERSION, "KommunalCampus läuft auf http://{address}/");

    http::serve(listener, app, &limits, http::shutdown_signal()).await;

    // Submissions already queued are committed even if their client is gone.
    flush_intake(&state).await;
    // The mail being sent is finished and recorded; one SMTP dialogue is
    // bounded by the SMTP time limit, the lease by a multiple of it.
    let lease = campus_forms::outbox::lease_for(&state.settings.transport);
    if tokio::time::timeout(lease, worker.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("Mail-Auslieferung nicht rechtzeitig beendet; die Mail wird nach Ablauf der Reservierung erneut versucht");
    }
    tracing::info!("KommunalCampus beendet");
    Ok(())
}

/// Waits until every job queued so far is committed: a no-op job queued
/// behind them is answered only after their batch.
async fn flush_intake(state: &campus_forms::AppState) {
    for _ in 0..100 {
        match state.intake.submit(Box::new(|_| Ok(()))).await {
            Err(campus_forms::intake::IntakeError::Busy) => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            _ => return,
        }
    }
}
