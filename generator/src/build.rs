//! The pipeline: load → validate → render in parallel → write → swap.

use crate::build_cache::{Cache, Reuse as CacheReuse};
use crate::config::Config;
use crate::error::{Problem, ProblemKind, Problems};
use crate::links::Targets;
use crate::model::{self, Site};
use crate::output;
use crate::render::{self, Output, RenderOptions};
use chrono::{Local, NaiveDate};
use std::collections::HashMap;
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
    /// Where `build_site` keeps what the last build was made of, so the next
    /// one does only what changed (see `build_cache`); `None` keeps nothing.
    pub cache_dir: Option<PathBuf>,
}

impl BuildOptions {
    pub fn new(site_dir: impl Into<PathBuf>, out_dir: impl Into<PathBuf>) -> Self {
        BuildOptions {
            site_dir: site_dir.into(),
            out_dir: out_dir.into(),
            today: None,
            live_reload: false,
            bookings: None,
            cache_dir: None,
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
    /// Pages rendered: all of them, or fewer when the last build's output
    /// could be kept (see `BuildOptions::cache_dir`).
    pub pages_rendered: usize,
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
    /// The warnings of the last build, as printed, when this build found
    /// nothing changed and did not load the site (see `build_cache`).
    pub repeated_warnings: Vec<String>,
}

/// Loads and validates content and templates; every problem of both is
/// reported together. Also the hash of every template with what it builds
/// on (for page fingerprints).
fn load(
    options: &BuildOptions,
    loader: &crate::content::Loader,
) -> Result<(Site, tera::Tera, HashMap<String, u64>), Problems> {
    let root = &options.site_dir;
    let today = options.render_options().today;
    let site = model::load_with(root, loader).map(|mut site| {
        if let Some(b) = &options.bookings {
            site.apply_bookings(b);
        }
        let past = past_dates(&site, today);
        site.warnings.extend(past);
        site
    });
    let templates = match (&site, Config::load(root)) {
        (_, Ok(config)) => Some(render::read_templates(root, &config).and_then(|sources| {
            let tera = render::compile_templates(&sources, root, &config)?;
            Ok((tera, crate::incremental::template_hashes(&sources)))
        })),
        (Ok(_), Err(p)) => Some(Err(Problems::from(p))),
        (Err(_), Err(_)) => None, // already reported by the content loader
    };
    match (site, templates) {
        (Ok(site), Some(Ok((tera, hashes)))) => Ok((site, tera, hashes)),
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
    let collected = Mutex::new(Vec::new());
    let (site, _) = check_into(options, &|o| collected.lock().expect("outputs").push(o))?;
    let mut outputs = collected.into_inner().expect("outputs");
    outputs.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((site, outputs))
}

/// What `campus check` does: [`check_site`] without keeping the outputs
/// (at Germany scale they are some 240 MB); the site and how many files a
/// build would write.
pub fn check(options: &BuildOptions) -> Result<(Site, usize), Problems> {
    check_into(options, &|_| {})
}

/// Renders everything, checks every link and anchor, and hands each output
/// to `keep` as it is ready.
fn check_into(
    options: &BuildOptions,
    keep: &(dyn Fn(Output) + Sync),
) -> Result<(Site, usize), Problems> {
    let (site, tera, _) = load(options, &crate::content::Loader::one_off())?;
    let [theme_static, site_static] = static_dirs(&site);
    let targets = Mutex::new(Targets::new(&site_static, &theme_static, &site.links));
    let taken = Mutex::new(Vec::new());
    let files = render::render_site_into(&site, &tera, &options.render_options(), &|o| {
        if let Some(p) = targets.lock().expect("targets").add(&o.path, &o.bytes) {
            taken.lock().expect("taken paths").push(p);
        }
        keep(o);
        Ok(())
    })?;
    let mut problems = taken.into_inner().expect("taken paths");
    problems.extend(
        targets
            .into_inner()
            .expect("targets")
            .verify(&site.links, &site.root),
    );
    if !problems.is_empty() {
        return Err(Problems(problems).sorted());
    }
    Ok((site, files))
}

/// Builds the site into `options.out_dir`: pages are compared with the
/// output as they are rendered (nothing accumulates in memory); new and
/// changed ones are staged and moved in only when everything succeeded, and
/// files whose bytes did not change are not written at all. On any problem
/// the previous output stays untouched. With `options.cache_dir` only what
/// changed since the last build is done (see `build_cache`).
pub fn build_site(options: &BuildOptions) -> Result<BuildReport, Problems> {
    let started = Instant::now();
    output::check_out_dir(&options.site_dir, &options.out_dir)?;
    let cache = options
        .cache_dir
        .as_ref()
        .map(|dir| Cache::open(dir, options));
    let mut phases = crate::incremental::Phases::start(started);
    let reuse = cache.as_ref().map_or(CacheReuse::Nothing, Cache::reuse);
    if let CacheReuse::Everything {
        pages,
        files,
        warnings,
    } = reuse
    {
        return Ok(BuildReport {
            pages,
            pages_rendered: 0,
            files,
            written: 0,
            duration: started.elapsed(),
            load: started.elapsed(),
            render: Duration::ZERO,
            warnings: Vec::new(),
            repeated_warnings: warnings.to_vec(),
        });
    }
    let reusable = match reuse {
        CacheReuse::Pages(cache) => Some(cache),
        _ => None,
    };
    let loader = match &cache {
        Some(cache) => {
            crate::content::Loader::one_off_with_hashes().with_front_cache(cache.front_matter())
        }
        None => crate::content::Loader::one_off(),
    };
    phases.mark("Cache lesen");
    let (site, tera, template_hashes) = load(options, &loader)?;
    let loaded = started.elapsed();
    phases.mark("Inhalte und Vorlagen");
    if let Some(cache) = &cache {
        cache.forget();
    }
    let update = output::Update::begin(&options.out_dir)?;
    let pages = AtomicUsize::new(0);
    let kept_pages = AtomicUsize::new(0);
    let [theme_static, site_static] = static_dirs(&site);
    let targets = Mutex::new(Targets::new(&site_static, &theme_static, &site.links));
    let taken = Mutex::new(Vec::new());
    let fingerprints = Mutex::new(HashMap::new());
    let render = || {
        let statics = output::static_files(&[theme_static.clone(), site_static.clone()])?;
        for (rel, source) in &statics {
            // Only content changed: a static file still in the output as
            // the last build left it is the same.
            if reusable.is_some_and(|c| c.output_unchanged(rel)) {
                update.keep(rel);
            } else {
                update.put_file(rel, source)?;
            }
        }
        let count_page = |path: &str| {
            if path.ends_with(".html") {
                pages.fetch_add(1, Ordering::Relaxed);
            }
        };
        let sink = |o: Output| {
            count_page(&o.path);
            if let Some(p) = targets.lock().expect("targets").add(&o.path, &o.bytes) {
                taken.lock().expect("taken paths").push(p);
            }
            update.put(&o.path, &o.bytes)
        };
        let select = |r: &render::Renderer, all: &[render::PageRef]| {
            let prints = crate::incremental::page_fingerprints(r, &loader, &template_hashes, all);
            let paths: Vec<String> = all
                .iter()
                .map(|p| crate::incremental::output_path(&r.url(*p)))
                .collect();
            let kept = paths
                .iter()
                .zip(&prints)
                .map(|(path, print)| {
                    reusable
                        .is_some_and(|c| c.page_unchanged(path, *print))
                        .then(|| path.clone())
                })
                .collect();
            *fingerprints.lock().expect("fingerprints") = paths.into_iter().zip(prints).collect();
            kept
        };
        let keep = |path: &str| {
            count_page(path);
            kept_pages.fetch_add(1, Ordering::Relaxed);
            let mut targets = targets.lock().expect("targets");
            // A kept page is read only when a link points to its anchors.
            let bytes = if targets.wants_ids(path) {
                std::fs::read(options.out_dir.join(path)).unwrap_or_default()
            } else {
                Vec::new()
            };
            if let Some(p) = targets.add(path, &bytes) {
                taken.lock().expect("taken paths").push(p);
            }
            update.keep(path);
            Ok(())
        };
        let plan = render::Reuse {
            select: &select,
            keep: &keep,
            index_tokens: cache.as_ref().map(Cache::index_tokens),
        };
        let files = statics.len()
            + render::render_site_reusing(
                &site,
                &tera,
                &options.render_options(),
                cache.is_some().then_some(&plan),
                &sink,
            )?;
        let mut problems = taken.into_inner().expect("taken paths");
        let targets = targets.into_inner().expect("targets");
        problems.extend(targets.verify(&site.links, &site.root));
        if !problems.is_empty() {
            return Err(Problems(problems).sorted());
        }
        Ok::<usize, Problems>(files)
    };
    let (result, ()) = rayon::join(render, || {
        if let (Some(cache), Some(front_matter)) = (&cache, loader.front_cache()) {
            cache.save_front_matter(front_matter);
        }
    });
    phases.mark("Rendern");
    let (files, committed) = match result {
        Ok(files) => {
            // The cache listed the output's files already.
            let existing = cache.as_ref().map(Cache::output_files);
            (files, update.commit_over(existing)?)
        }
        Err(p) => {
            update.abandon();
            return Err(p);
        }
    };
    phases.mark("Übernehmen");
    let written = committed.written;
    let pages = pages.into_inner();
    if let Some(cache) = cache {
        let fingerprints = fingerprints.into_inner().expect("fingerprints");
        let warnings = site.warnings.iter().map(ToString::to_string).collect();
        let made = crate::build_cache::Made {
            committed: &committed,
            pages: fingerprints,
            page_count: pages,
            file_count: files,
            warnings,
        };
        cache.save(&options.out_dir, made);
        phases.mark("Cache schreiben");
    }
    phases.print();
    let mut site = site;
    let warnings = std::mem::take(&mut site.warnings);
    // Freeing the site's million allocations takes longer than the build's
    // last steps: another thread does it (`campus build` may exit first).
    std::thread::spawn(move || drop((site, tera, loader)));
    Ok(BuildReport {
        pages,
        pages_rendered: pages - kept_pages.into_inner(),
        files,
        written,
        duration: started.elapsed(),
        load: loaded,
        render: started.elapsed() - loaded,
        warnings,
        repeated_warnings: Vec::new(),
    })
}
