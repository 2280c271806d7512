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
        let today = self.today.unwrap_or_else(|| Local::now().date_naive());
        RenderOptions {
            today,
            // Calendar stamps come from "today", never the clock's time of
            // day: two builds of the same input on one day are identical.
            stamp: today.and_hms_opt(0, 0, 0).expect("midnight"),
            live_reload: self.live_reload,
            list_fragments: true,
        }
    }
}

#[derive(Debug, Clone)]
pub struct BuildReport {
    pub pages: usize,
    pub files: usize,
    /// Files written because they are new or their bytes changed (the
    /// others are left as they were).
    pub written: usize,
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

/// Builds the site into `options.out_dir`: pages are compared with the
/// output as they are rendered (nothing accumulates in memory); new and
/// changed ones are staged and moved in only when everything succeeded, and
/// files whose bytes did not change are not written at all. On any problem
/// the previous output stays untouched.
pub fn build_site(options: &BuildOptions) -> Result<BuildReport, Problems> {
    let started = Instant::now();
    output::check_out_dir(&options.site_dir, &options.out_dir)?;
    let (site, tera) = load(options)?;
    let loaded = started.elapsed();
    let update = output::Update::begin(&options.out_dir)?;
    let pages = AtomicUsize::new(0);
    let [theme_static, site_static] = static_dirs(&site);
    let targets = Mutex::new(Targets::new(&site_static, &theme_static, &site.links));
    let taken = Mutex::new(Vec::new());
    let result = (|| {
        let statics = output::static_files(&[theme_static.clone(), site_static.clone()])?;
        for (rel, source) in &statics {
            update.put_file(rel, source)?;
        }
        let sink = |o: Output| {
            if o.path.ends_with(".html") {
                pages.fetch_add(1, Ordering::Relaxed);
            }
            if let Some(p) = targets.lock().expect("targets").add(&o.path, &o.bytes) {
                taken.lock().expect("taken paths").push(p);
            }
            update.put(&o.path, &o.bytes)
        };
        let files = statics.len()
            + render::render_site_into(&site, &tera, &options.render_options(), &sink)?;
        let mut problems = taken.into_inner().expect("taken paths");
        let targets = targets.into_inner().expect("targets");
        problems.extend(targets.verify(&site.links, &site.root));
        if !problems.is_empty() {
            return Err(Problems(problems).sorted());
        }
        Ok::<usize, Problems>(files)
    })();
    let (files, written) = match result {
        Ok(files) => (files, update.commit()?),
        Err(p) => {
            update.abandon();
            return Err(p);
        }
    };
    Ok(BuildReport {
        pages: pages.into_inner(),
        files,
        written,
        duration: started.elapsed(),
        load: loaded,
        render: started.elapsed() - loaded,
        warnings: site.warnings,
    })
}
