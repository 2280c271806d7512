//! The site `campus serve` shows: the last good build in memory, rebuilt
//! in proportion to each save, with derived files made in the background.

use super::*;
pub(super) use crate::allocator::collect_freed_memory;

/// What the browser is told after each build.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum BuildState {
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
    pub(super) fn generation(&self) -> u64 {
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
pub(super) fn reload_scope(changed_outputs: &[String], assets_changed: bool) -> String {
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
pub(super) fn assets_changed(changed_sources: &[PathBuf], site_dir: &Path) -> bool {
    changed_sources.is_empty()
        || changed_sources.iter().any(|p| {
            let rel = p.strip_prefix(site_dir).unwrap_or(p);
            rel.starts_with("static") || rel.starts_with("themes") || rel.starts_with("templates")
        })
}

/// The site currently served: rendered pages in memory, assets from disk.
pub struct LiveSite {
    pub(super) site_dir: PathBuf,
    /// The form backend, told about new content after each good build.
    pub(super) forms: std::sync::OnceLock<campus_forms::AppState>,
    pub(super) static_dirs: Vec<PathBuf>,
    pub(super) build: Mutex<LiveBuild>,
    pub(super) pages: RwLock<Arc<HashMap<String, Arc<Kept>>>>,
    pub(super) state: watch::Sender<BuildState>,
    /// Asks the worker that makes the derived files (search index, calendar
    /// files, sitemap) to run; without a worker they are made in line.
    pub(super) extras: std::sync::OnceLock<std::sync::mpsc::Sender<()>>,
    /// The search index of the newest derived files, for the form backend's
    /// search (which may start after the first files were made).
    pub(super) search_index: Mutex<Option<OfferedIndex>>,
    /// The search index's tokens of each document, so an edit tokenises
    /// only the documents it changed.
    pub(super) index_tokens: Mutex<campus_generator::search::IndexCache>,
    /// Hands each new site to the thread that reloads the form backend.
    backend_reloads: std::sync::OnceLock<std::sync::mpsc::Sender<Arc<campus_generator::Site>>>,
}

type OfferedIndex = (
    Arc<campus_generator::Site>,
    chrono::NaiveDate,
    Arc<campus_generator::search::Index>,
);

impl LiveSite {
    pub(super) fn new(site_dir: &Path) -> Arc<LiveSite> {
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
            index_tokens: Mutex::new(Default::default()),
            backend_reloads: std::sync::OnceLock::new(),
        })
    }

    /// From now on derived files are made by a worker thread after each
    /// rebuild, so the next edit's pages never wait for them.
    pub(super) fn start_extras_worker(self: &Arc<Self>) {
        let (tx, rx) = std::sync::mpsc::channel();
        if self.extras.set(tx).is_ok() {
            let live = Arc::downgrade(self);
            std::thread::spawn(move || extras_worker(live, rx));
        }
    }

    /// Asks the worker for the derived files; false if there is none yet.
    pub(super) fn request_extras(&self) -> bool {
        self.extras
            .get()
            .is_some_and(|worker| worker.send(()).is_ok())
    }

    /// Keeps `made` (if any) and hands the kept index to the form backend
    /// if that runs. Called when an index is made and when the backend
    /// starts, whichever comes last offers it.
    pub(super) fn offer_index(&self, made: Option<OfferedIndex>) {
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
    pub(super) fn rebuild(&self, changed: &[PathBuf]) -> Result<RebuildReport, String> {
        let generation = self.state.borrow().generation() + 1;
        let mut build = self.build.lock().expect("build lock");
        match build.rebuild_pages(changed) {
            Ok(report) => {
                self.publish_changed(&build, report.changed.iter().chain(&report.removed));
                report_memory("nach den Seiten", self);
                let reload = reload_scope(&report.changed, assets_changed(changed, &self.site_dir));
                self.state.send_replace(BuildState::Ok {
                    generation,
                    reload: Arc::new(reload),
                });
                // Calendar files, sitemap and search index follow the pages.
                if !self.request_extras() {
                    if let Some((site, options)) = build.extras_input() {
                        let mut tokens = self.index_tokens.lock().expect("tokens lock");
                        let (extras, index) = derived_files(&site, &options, &mut tokens);
                        drop(tokens);
                        build.apply_extras(&site, extras);
                        self.publish(&build);
                        self.offer_index(Some((site, options.today, index)));
                    }
                }
                // The form backend's reload (templates, booking sync) is not
                // on the way to the browser: do it after the swap.
                if let Some(site) = build.site() {
                    self.reload_backend(site);
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

    /// Has the form backend (if it runs) reload with `site`, on one thread
    /// kept for it: quick saves make one reload with the newest site, not
    /// one thread each, and that thread gives the memory of the backend's
    /// previous pages back after each reload.
    fn reload_backend(&self, site: Arc<campus_generator::Site>) {
        let Some(forms) = self.forms.get() else {
            return;
        };
        let reloads = self.backend_reloads.get_or_init(|| {
            let (tx, rx) = std::sync::mpsc::channel();
            let forms = forms.clone();
            std::thread::spawn(move || backend_reloader(forms, rx));
            tx
        });
        let _ = reloads.send(site);
    }

    /// Takes new counts of booked places and re-renders the pages that show
    /// them. Browsers are not told to reload: live reload shows an editor
    /// their own edit, while a count changed by somebody's booking would
    /// reload a page that a visitor is reading or about to fill in; the
    /// next visit shows the new count.
    pub(super) fn refresh_bookings(&self, bookings: Arc<campus_generator::model::Bookings>) {
        let mut build = self.build.lock().expect("build lock");
        build.set_bookings(bookings);
        if let Ok(report) = build.refresh_pages() {
            self.publish_changed(&build, report.changed.iter().chain(&report.removed));
        }
    }

    pub(super) fn publish(&self, build: &LiveBuild) {
        let snapshot: HashMap<String, Arc<Kept>> = build
            .outputs()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        *self.pages.write().expect("pages lock") = Arc::new(snapshot);
    }

    /// Serves the build's current outputs at `paths` (new, changed or
    /// gone) and leaves the rest of the served snapshot as it is: copying
    /// the 13,000 entries of a Germany-scale site took 4-6 ms per edit.
    pub(super) fn publish_changed<'a>(
        &self,
        build: &LiveBuild,
        paths: impl IntoIterator<Item = &'a String>,
    ) {
        let mut served = self.pages.write().expect("pages lock");
        let pages = Arc::make_mut(&mut served);
        for path in paths {
            match build.outputs().get(path) {
                Some(kept) => {
                    pages.insert(path.clone(), kept.clone());
                }
                None => {
                    pages.remove(path);
                }
            }
        }
    }

    pub(super) fn page(&self, key: &str) -> Option<Arc<Kept>> {
        self.pages.read().expect("pages lock").get(key).cloned()
    }

    /// Compresses the outputs the last rebuilds kept raw, without holding
    /// the build meanwhile (an edit's rebuild may run), and serves them.
    pub(super) fn compress_outputs(&self, pool: &rayon::ThreadPool) {
        let raw = self.build.lock().expect("build lock").raw_outputs();
        if raw.is_empty() {
            return;
        }
        let compressed = pool.install(|| compress(raw));
        let paths: Vec<String> = compressed.iter().map(|(path, _, _)| path.clone()).collect();
        let mut build = self.build.lock().expect("build lock");
        if build.take_compressed(compressed) > 0 {
            self.publish_changed(&build, &paths);
        }
    }
}

/// Makes the derived files of the newest site whenever asked, after a quiet
/// moment (an editor may save again at once), then compresses what was kept
/// raw; at low CPU priority so a page rebuild running meanwhile keeps the
/// processor.
pub(super) fn extras_worker(
    live: std::sync::Weak<LiveSite>,
    wanted: std::sync::mpsc::Receiver<()>,
) {
    // One thread of its own, also for the parallel parts (search index):
    // on the shared pool they would queue ahead of the next page rebuild.
    let Some(pool) = background_pool() else {
        return;
    };
    // The derived files of the first build were made in line, raw.
    if let Some(live) = live.upgrade() {
        live.compress_outputs(&pool);
        release_freed_memory(&live, &pool);
        report_memory("nach dem ersten Packen", &live);
    }
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
            let (extras, index) = pool.install(|| {
                let mut tokens = live.index_tokens.lock().expect("tokens lock");
                derived_files(&site, &options, &mut tokens)
            });
            let mut build = live.build.lock().expect("build lock");
            if let Some(report) = build.apply_extras(&site, extras) {
                live.publish_changed(&build, report.changed.iter().chain(&report.removed));
                drop(build);
                live.offer_index(Some((site, options.today, index)));
                break;
            }
        }
        // Pages of the last edits and the new derived files, kept raw
        // until now so the browser did not wait for them.
        live.compress_outputs(&pool);
        release_freed_memory(&live, &pool);
        report_memory("nach den abgeleiteten Dateien", &live);
    }
}

/// Reloads the form backend with each site sent, the newest of several
/// quick saves only.
fn backend_reloader(
    forms: campus_forms::AppState,
    sites: std::sync::mpsc::Receiver<Arc<campus_generator::Site>>,
) {
    // Making the backend's views of a Germany-scale site takes a while: on
    // one thread of its own at low priority (also their parallel parts,
    // which would queue ahead of the next edit's pages on the shared pool).
    let pool = background_pool();
    while let Ok(mut site) = sites.recv() {
        while let Ok(newer) = sites.try_recv() {
            site = newer;
        }
        let reload = || {
            let reloaded = forms.reload(site);
            // The backend's previous pages and views were freed here.
            collect_freed_memory();
            reloaded
        };
        let reloaded = match &pool {
            Some(pool) => pool.install(reload),
            None => reload(),
        };
        if let Err(e) = reloaded {
            eprintln!("Formular-Backend: {e}");
        }
    }
}

/// The derived files of `site` and the search index among them, which the
/// form backend's search uses too.
/// `tokens` keeps what the search index needs of unchanged documents.
pub(super) fn derived_files(
    site: &campus_generator::Site,
    options: &campus_generator::render::RenderOptions,
    tokens: &mut campus_generator::search::IndexCache,
) -> (
    Vec<campus_generator::render::Output>,
    Arc<campus_generator::search::Index>,
) {
    let index = Arc::new(campus_generator::search::site_index_cached(
        site,
        options.today,
        tokens,
    ));
    let extras = campus_generator::render::extra_outputs_with_index(site, options, &index);
    (extras, index)
}

/// One thread at low priority for work beside the page rebuilds, its
/// parallel parts included.
fn background_pool() -> Option<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .start_handler(|_| lower_priority())
        .build()
        .ok()
}

/// Lets page rebuilds have the processor first.
pub(super) fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain system call; on Linux PRIO_PROCESS with 0 means the
    // calling thread.
    unsafe {
        // SCHED_IDLE: runs only on a processor nothing else wants.
        let param = libc::sched_param { sched_priority: 0 };
        if libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) != 0 {
            libc::setpriority(libc::PRIO_PROCESS, 0, 19);
        }
    }
}

/// Resident memory and what the kept outputs take, printed with
/// `CAMPUS_ZEITEN` like the build's timings (for profiling, issue 20).
pub(super) fn report_memory(stage: &str, live: &LiveSite) {
    if std::env::var_os("CAMPUS_ZEITEN").is_none() {
        return;
    }
    let resident = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| Some(l.strip_prefix("VmRSS:")?.trim().to_string()))
        })
        .unwrap_or_default();
    let pages = live.pages.read().expect("pages lock").clone();
    let (mut packed, mut raw) = (0, 0);
    for kept in pages.values() {
        if kept.is_compressed() {
            packed += kept.stored().len();
        } else {
            raw += kept.stored().len();
        }
    }
    eprintln!(
        "Speicher {stage}: {resident} belegt; Ausgaben {} KiB gepackt, {} KiB roh",
        packed / 1024,
        raw / 1024
    );
}

/// Gives the memory a rebuild freed back to the system now: mimalloc
/// returns freed pages lazily, when the thread that freed them allocates
/// again, and the render threads sleep between edits (at Germany scale
/// ~100 MiB stayed resident after the first build, more after edits).
/// Runs on the calling thread, the render threads and `pool`'s. The render
/// threads collect while they are idle: holding the build keeps an edit's
/// rendering from waiting behind a collection on its threads.
pub(super) fn release_freed_memory(live: &LiveSite, pool: &rayon::ThreadPool) {
    {
        let _idle = live.build.lock().expect("build lock");
        rayon::broadcast(|_| collect_freed_memory());
    }
    pool.broadcast(|_| collect_freed_memory());
    collect_freed_memory();
}
