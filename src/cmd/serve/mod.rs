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
use campus_generator::incremental::{compress, LiveBuild, RebuildReport};
use campus_generator::kept::Kept;
use campus_generator::BuildOptions;
use notify::{RecursiveMode, Watcher};
use std::collections::HashMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::watch;

mod live_reload;
mod live_site;
mod pages;
mod poller;
mod watching;

use live_reload::*;
pub use live_site::LiveSite;
use live_site::*;
use pages::*;
use poller::*;
use watching::*;

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on (default: [serve] address in campus.toml, else 127.0.0.1:8080).
    #[arg(long)]
    address: Option<String>,
    /// Poll for changes instead of using file-system events (network drives, containers).
    #[arg(long)]
    poll: bool,
}

pub fn run(site: &Path, args: Args) -> ExitCode {
    without_huge_pages();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(serve(site, args))
}

/// A long-running server gives freed memory back in small pages: with
/// transparent huge pages (which mimalloc asks for) a 2 MiB page stays
/// resident while any of it is in use, and at Germany scale ~30 MiB more
/// stayed resident after start and after edits (bench/serve_latency.py).
fn without_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain system call on the calling process, no pointers.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// `[serve]` in campus.toml: where the editor's preview listens.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawServe {
    #[allow(dead_code)] // read below from the raw table; the type is for `campus check`
    address: Option<String>,
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
    report_memory("vor dem Bau", &live);
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
    report_memory("nach dem ersten Bau", &live);
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
    let worker = match tokio::task::spawn_blocking(move || {
        let opened = match built {
            Some(site) => campus_forms::AppState::open_with(&dir, site),
            None => campus_forms::AppState::open(&dir),
        };
        // Making the backend's views left garbage on this thread.
        collect_freed_memory();
        opened
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
            report_memory("mit dem Formular-Backend", &live);
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

// ---------------------------------------------------------------- serving

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
