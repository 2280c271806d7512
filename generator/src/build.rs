//! The pipeline: load → validate → render in parallel → write → swap.

use crate::config::Config;
use crate::error::Problems;
use crate::model::{self, Site};
use crate::output;
use crate::render::{self, Output, RenderOptions};
use chrono::{Local, NaiveDate};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub site_dir: PathBuf,
    pub out_dir: PathBuf,
    /// "Today" for next dates; `None` means the real date.
    pub today: Option<NaiveDate>,
    pub live_reload: bool,
    /// Places booked on the platform, added to the content's taken places.
    pub bookings: Option<std::sync::Arc<model::Bookings>>,
}

impl BuildOptions {
    pub fn new(site_dir: impl Into<PathBuf>, out_dir: impl Into<PathBuf>) -> Self {
        BuildOptions {
            site_dir: site_dir.into(),
            out_dir: out_dir.into(),
            today: None,
            live_reload: false,
            bookings: None,
        }
    }

    pub fn render_options(&self) -> RenderOptions {
        let now = Local::now().naive_local();
        let today = self.today.unwrap_or(now.date());
        RenderOptions {
            today,
            // A fixed stamp for a fixed "today" keeps test output reproducible.
            stamp: if self.today.is_some() {
                today.and_hms_opt(0, 0, 0).expect("midnight")
            } else {
                chrono::Utc::now().naive_utc()
            },
            live_reload: self.live_reload,
            list_fragments: true,
        }
    }
}

#[derive(Debug, Clone)]
pub struct BuildReport {
    pub pages: usize,
    pub files: usize,
    pub duration: Duration,
    /// Reading and validating content and templates.
    pub load: Duration,
    /// Rendering and writing.
    pub render: Duration,
}

/// Loads and validates content and templates; every problem of both is
/// reported together.
fn load(options: &BuildOptions) -> Result<(Site, tera::Tera), Problems> {
    let root = &options.site_dir;
    let site = model::load(root).map(|mut site| {
        if let Some(b) = &options.bookings {
            site.apply_bookings(b);
        }
        site
    });
    let templates = match (&site, Config::load(root)) {
        (_, Ok(config)) => Some(render::load_templates(root, &config)),
        (Ok(_), Err(p)) => Some(Err(Problems::from(p))),
        (Err(_), Err(_)) => None, // already reported by the content loader
    };
    match (site, templates) {
        (Ok(site), Some(Ok(tera))) => Ok((site, tera)),
        (site, templates) => {
            let mut all = site.err().unwrap_or_default().0;
            if let Some(Err(t)) = templates {
                all.extend(t.0);
            }
            Err(Problems(all).sorted())
        }
    }
}

/// Loads, validates and renders the site in memory. Writes nothing.
pub fn check_site(options: &BuildOptions) -> Result<(Site, Vec<Output>), Problems> {
    let (site, tera) = load(options)?;
    let outputs = render::render_site(&site, &tera, &options.render_options())?;
    Ok((site, outputs))
}

/// Builds the site into `options.out_dir`: pages are written into a staging
/// folder as they are rendered (nothing accumulates in memory), and the
/// staging folder replaces the output only when everything succeeded. On any
/// problem the previous output stays untouched.
pub fn build_site(options: &BuildOptions) -> Result<BuildReport, Problems> {
    let started = Instant::now();
    let (site, tera) = load(options)?;
    let loaded = started.elapsed();
    let staging = output::staging_dir(&options.out_dir)?;
    let pages = AtomicUsize::new(0);
    let result = (|| {
        let mut files =
            output::copy_static(&site.config.theme_dir(&site.root).join("static"), &staging)?;
        files += output::copy_static(&site.root.join("static"), &staging)?;
        let sink = |o: Output| {
            if o.path.ends_with(".html") {
                pages.fetch_add(1, Ordering::Relaxed);
            }
            output::write_one(&staging, &o)
        };
        files += render::render_site_into(&site, &tera, &options.render_options(), &sink)?;
        output::swap_into_place(&staging, &options.out_dir)?;
        Ok::<usize, Problems>(files)
    })();
    match result {
        Ok(files) => Ok(BuildReport {
            pages: pages.into_inner(),
            files,
            duration: started.elapsed(),
            load: loaded,
            render: started.elapsed() - loaded,
        }),
        Err(p) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(p)
        }
    }
}
