//! The pipeline: load → validate → render in parallel → write → swap.

use crate::config::Config;
use crate::error::{Problem, ProblemKind, Problems};
use crate::links::Targets;
use crate::model::{self, Site};
use crate::output;
use crate::render::{self, Output, RenderOptions};
use chrono::{Local, NaiveDate};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
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
    /// What the editors should know but did not stop the build.
    pub warnings: Vec<Problem>,
}

/// Loads and validates content and templates; every problem of both is
/// reported together.
fn load(options: &BuildOptions) -> Result<(Site, tera::Tera), Problems> {
    let root = &options.site_dir;
    let today = options.render_options().today;
    let site = model::load(root).map(|mut site| {
        if let Some(b) = &options.bookings {
            site.apply_bookings(b);
        }
        let past = past_dates(&site, today);
        site.warnings.extend(past);
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

/// Warnings for live dates before `today`, at their lines.
fn past_dates(site: &Site, today: NaiveDate) -> Vec<Problem> {
    site.units
        .iter()
        .flat_map(|u| {
            u.dates.iter().filter(|d| d.date < today).map(|d| {
                Problem::new(
                    &u.source,
                    ProblemKind::PastDate {
                        value: d.date.to_string(),
                    },
                )
                .at(d.line, None)
                .relative_to(&site.root)
            })
        })
        .collect()
}

/// The static folders copied into the output: the theme's, then the site's.
fn static_dirs(site: &Site) -> [PathBuf; 2] {
    [
        site.config.theme_dir(&site.root).join("static"),
        site.root.join("static"),
    ]
}

/// Loads, validates and renders the site in memory. Writes nothing.
pub fn check_site(options: &BuildOptions) -> Result<(Site, Vec<Output>), Problems> {
    let (site, tera) = load(options)?;
    let outputs = render::render_site(&site, &tera, &options.render_options())?;
    let [theme_static, site_static] = static_dirs(&site);
    let mut targets = Targets::new(&site_static, &theme_static, &site.links);
    let mut problems: Vec<Problem> = outputs
        .iter()
        .filter_map(|o| targets.add(&o.path, &o.bytes))
        .collect();
    problems.extend(targets.verify(&site.links, &site.root));
    if !problems.is_empty() {
        return Err(Problems(problems).sorted());
    }
    Ok((site, outputs))
}

/// Builds the site into `options.out_dir`: pages are written into a staging
/// folder as they are rendered (nothing accumulates in memory), and the
/// staging folder replaces the output only when everything succeeded. On any
/// problem the previous output stays untouched.
pub fn build_site(options: &BuildOptions) -> Result<BuildReport, Problems> {
    let started = Instant::now();
    output::check_out_dir(&options.site_dir, &options.out_dir)?;
    let (site, tera) = load(options)?;
    let loaded = started.elapsed();
    let staging = output::staging_dir(&options.out_dir)?;
    let pages = AtomicUsize::new(0);
    let [theme_static, site_static] = static_dirs(&site);
    let targets = Mutex::new(Targets::new(&site_static, &theme_static, &site.links));
    let taken = Mutex::new(Vec::new());
    let result = (|| {
        let mut files = output::copy_static(&theme_static, &staging)?;
        files += output::copy_static(&site_static, &staging)?;
        let sink = |o: Output| {
            if o.path.ends_with(".html") {
                pages.fetch_add(1, Ordering::Relaxed);
            }
            if let Some(p) = targets.lock().expect("targets").add(&o.path, &o.bytes) {
                taken.lock().expect("taken paths").push(p);
            }
            output::write_one(&staging, &o)
        };
        files += render::render_site_into(&site, &tera, &options.render_options(), &sink)?;
        let mut problems = taken.into_inner().expect("taken paths");
        let targets = targets.into_inner().expect("targets");
        problems.extend(targets.verify(&site.links, &site.root));
        if !problems.is_empty() {
            return Err(Problems(problems).sorted());
        }
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
            warnings: site.warnings,
        }),
        Err(p) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(p)
        }
    }
}
