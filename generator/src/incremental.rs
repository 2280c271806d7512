//! Incremental rebuilds for `campus serve`.
//!
//! After an edit of files the last good site was made of, the edit is
//! applied to that site ([`model::patch`]); anything else loads the site
//! again (every file is read again: keeping the parsed files of a
//! Germany-scale site costs ~70 MiB resident, reading them again ~0.5 s in
//! rebuilds that render every page anyway, or booking refreshes). Views are kept
//! between rebuilds and only the edited units' cards are made again. Every
//! page gets a fingerprint of exactly the inputs its context is built from
//! (its own file, the unit cards it shows, the global context, the
//! templates it uses; for site-wide pages what they show, declared per
//! kind), and only pages whose fingerprint changed are rendered again.
//! Correctness is checked by a test that compares the result with a full
//! build after a sequence of edits.

use crate::build::BuildOptions;
use crate::config::Config;
use crate::content::Loader;
use crate::error::Problems;
use crate::kept::Kept;
use crate::model::{self, Site};
use crate::render::{self, Output, PageRef, Renderer, Single, Views};
use rayon::prelude::*;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The output of the last good build, kept in memory, and what it was made of.
pub struct LiveBuild {
    options: BuildOptions,
    loader: Loader,
    templates: Option<(tera::Tera, HashMap<String, u64>)>,
    /// Raw after rendering, compressed by [`LiveBuild::compress_outputs`]
    /// (or at once in the first build, which nobody waits for).
    outputs: HashMap<String, Arc<Kept>>,
    /// The pages of the last good build, their output paths and the
    /// fingerprints of their inputs, in the same order.
    page_refs: Vec<PageRef>,
    page_paths: Vec<String>,
    page_fingerprints: Vec<u64>,
    /// Outputs made by `rebuild_extras`, not pages.
    extra_paths: HashSet<String>,
    site: Option<Arc<Site>>,
    /// Views of `site`, kept so an edit re-makes only what it touched.
    views: Option<Views>,
    /// Hash per unit card of `views`.
    card_hashes: Vec<u64>,
    /// Whether the last rebuild succeeded: only then does `site` match the
    /// files, and edits can be applied to it (see [`model::patch`]).
    last_ok: bool,
}

/// What one rebuild did.
#[derive(Debug, Clone, Default)]
pub struct RebuildReport {
    /// Output paths written or changed.
    pub changed: Vec<String>,
    /// Output paths that no longer exist.
    pub removed: Vec<String>,
    /// Pages rendered (changed or not).
    pub rendered: usize,
    pub duration: Duration,
}

fn hash_of(value: &impl Hash) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

fn json_hash(value: &Value) -> u64 {
    hash_of(&value.to_string())
}

impl LiveBuild {
    pub fn new(options: BuildOptions) -> LiveBuild {
        LiveBuild {
            options,
            // Only the text hash of each file read, for the fingerprints.
            loader: Loader::one_off_with_hashes(),
            templates: None,
            outputs: HashMap::new(),
            page_refs: Vec::new(),
            page_paths: Vec::new(),
            page_fingerprints: Vec::new(),
            extra_paths: HashSet::new(),
            site: None,
            views: None,
            card_hashes: Vec::new(),
            last_ok: false,
        }
    }

    /// Promises that every change will be reported to [`LiveBuild::rebuild`]
    /// (a file watcher is running), so unchanged files need no look-up.
    pub fn set_watched(&mut self, watched: bool) {
        self.loader.set_watched(watched);
    }

    /// New counts of places booked on the platform; pages showing them are
    /// rebuilt by the next [`LiveBuild::rebuild_pages`] (call it with the
    /// changed paths, or none).
    pub fn set_bookings(&mut self, bookings: Arc<crate::model::Bookings>) {
        self.options.bookings = Some(bookings);
    }

    /// The site as last built without problems.
    pub fn site(&self) -> Option<Arc<Site>> {
        self.site.clone()
    }

    /// Every output of the last good build, by path.
    pub fn outputs(&self) -> &HashMap<String, Arc<Kept>> {
        &self.outputs
    }

    /// The outputs still kept raw, to be compressed by [`compress`] without
    /// holding the build, then handed to [`LiveBuild::take_compressed`].
    pub fn raw_outputs(&self) -> Vec<(String, Arc<Kept>)> {
        self.outputs
            .iter()
            .filter(|(_, kept)| kept.may_shrink())
            .map(|(path, kept)| (path.clone(), kept.clone()))
            .collect()
    }

    /// Takes compressed outputs made by [`compress`]; an output rebuilt
    /// meanwhile keeps its newer bytes. Returns how many were taken.
    pub fn take_compressed(&mut self, compressed: Vec<(String, Arc<Kept>, Kept)>) -> usize {
        let mut taken = 0;
        for (path, raw, packed) in compressed {
            if let Some(kept) = self.outputs.get_mut(&path) {
                if Arc::ptr_eq(kept, &raw) {
                    *kept = Arc::new(packed);
                    taken += 1;
                }
            }
        }
        taken
    }

    /// Compresses every output kept raw, in line.
    pub fn compress_outputs(&mut self) -> usize {
        let compressed = compress(self.raw_outputs());
        self.take_compressed(compressed)
    }

    /// Rebuilds after `changed` paths changed (an empty list means "check
    /// everything"): pages, then the derived files. On problems the previous
    /// outputs stay as they are.
    pub fn rebuild(&mut self, changed: &[PathBuf]) -> Result<RebuildReport, Problems> {
        let mut report = self.rebuild_pages(changed)?;
        let extras = self.rebuild_extras();
        report.changed.extend(extras.changed);
        report.removed.extend(extras.removed);
        report.changed.sort();
        report.removed.sort();
        report.duration += extras.duration;
        Ok(report)
    }

    /// The pages only: what a browser waiting for a reload needs. Derived
    /// files (calendar files, sitemap, search index) follow with
    /// [`LiveBuild::rebuild_extras`], off the path from save to reload.
    pub fn rebuild_pages(&mut self, changed: &[PathBuf]) -> Result<RebuildReport, Problems> {
        self.rebuild_pages_from(changed, changed.is_empty())
    }

    /// Re-renders what changed in inputs other than files (bookings, the
    /// date), reusing every parsed file.
    pub fn refresh_pages(&mut self) -> Result<RebuildReport, Problems> {
        self.rebuild_pages_from(&[], false)
    }

    fn rebuild_pages_from(
        &mut self,
        changed: &[PathBuf],
        everything: bool,
    ) -> Result<RebuildReport, Problems> {
        let started = Instant::now();
        let root = self.options.site_dir.clone();
        if everything {
            // "Anything may have changed": read every file again.
            self.loader.clear();
        }
        for path in changed {
            self.loader.invalidate(path);
        }
        let templates_changed = self.templates.is_none()
            || everything
            || changed.iter().any(|p| touches_templates(&root, p));
        // An edit of files the last good site was made of is applied to it;
        // anything else (and a refresh for bookings) loads the whole site.
        let mut units_read = None;
        let patched = match &self.site {
            Some(prev) if self.last_ok && !changed.is_empty() && !templates_changed => {
                model::patch(prev, changed, &self.loader)
            }
            _ => None,
        };
        if std::env::var_os("CAMPUS_ZEITEN").is_some() {
            eprintln!(
                "geändert: {changed:?}, Teilaktualisierung: {}",
                patched.is_some()
            );
        }
        let site = match patched {
            Some(Ok(p)) => {
                units_read = Some(p.units);
                Ok(p.site)
            }
            Some(Err(problems)) => Err(problems),
            None => model::load_with(&root, &self.loader),
        };
        self.last_ok = false;
        if templates_changed {
            let loaded = Config::load(&root)
                .map_err(Problems::from)
                .and_then(|config| {
                    let sources = render::read_templates(&root, &config)?;
                    let tera = render::compile_templates(&sources, &root, &config)?;
                    Ok((tera, template_hashes(&sources)))
                });
            match (&site, loaded) {
                (_, Ok(templates)) => self.templates = Some(templates),
                (Ok(_), Err(p)) => return Err(p),
                (Err(content), Err(p)) => {
                    let mut all = content.0.clone();
                    all.extend(p.0);
                    return Err(Problems(all).sorted());
                }
            }
        }
        let mut site = site?;
        if let Some(b) = &self.options.bookings {
            match &units_read {
                Some(units) => site.apply_bookings_to(units, b),
                None => site.apply_bookings(b),
            }
        }
        let mut phases = Phases::start(started);
        phases.mark("laden");
        let (tera, template_hashes) = self.templates.as_ref().expect("templates loaded above");
        let render_options = self.options.render_options();
        let views = match (&units_read, self.views.take()) {
            (Some(units), Some(mut views)) if views.today == render_options.today => {
                views.refresh(&site, tera, &render_options, units);
                for &i in units {
                    self.card_hashes[i] = json_hash(&views.unit_cards[i]);
                }
                views
            }
            _ => {
                let views = Views::build(&site, tera, &render_options);
                self.card_hashes = views.unit_cards.par_iter().map(json_hash).collect();
                views
            }
        };
        let renderer = Renderer::with_views(&site, tera, &render_options, views);
        phases.mark("Sichten");
        let inputs = Inputs::new(&renderer, &self.loader, template_hashes, &self.card_hashes);
        phases.mark("Eingaben");

        // After a patch the pages are the same as before: keep their paths.
        let same_pages = units_read.is_some()
            && self.page_refs.len() == renderer.views.lookups.singles.len() + item_count(&site);
        let (pages, paths) = if same_pages {
            (
                std::mem::take(&mut self.page_refs),
                std::mem::take(&mut self.page_paths),
            )
        } else {
            let pages = renderer.pages();
            let paths: Vec<String> = pages
                .par_iter()
                .map(|p| output_path(&renderer.url(*p)))
                .collect();
            (pages, paths)
        };
        let fingerprints: Vec<u64> = pages
            .par_iter()
            .map(|p| inputs.fingerprint(&renderer, *p))
            .collect();
        let stale: Vec<usize> = if same_pages {
            (0..pages.len())
                .filter(|i| self.page_fingerprints[*i] != fingerprints[*i])
                .collect()
        } else {
            let before: HashMap<&str, u64> = self
                .page_paths
                .iter()
                .map(String::as_str)
                .zip(self.page_fingerprints.iter().copied())
                .collect();
            (0..pages.len())
                .filter(|i| {
                    before.get(paths[*i].as_str()) != Some(&fingerprints[*i])
                        || !self.outputs.contains_key(&paths[*i])
                })
                .collect()
        };
        phases.mark("planen");
        // Nothing is served yet in the first build: its pages are compressed
        // right away, so the raw bytes of all of them are never in memory at
        // once. Later rebuilds keep them raw (a browser waits) until
        // `compress_outputs`.
        let compress_now = self.outputs.is_empty();
        let rendered: Vec<(Result<KeptPage, crate::Problem>, Duration)> = stale
            .par_iter()
            .map(|i| {
                let t = Instant::now();
                let page = renderer
                    .render(pages[*i])
                    .map(|o| (o.path, keep(o.bytes, compress_now)));
                (page, t.elapsed())
            })
            .collect();
        let mut slowest: Vec<(Duration, &str)> = stale
            .iter()
            .zip(&rendered)
            .map(|(i, (_, d))| (*d, paths[*i].as_str()))
            .collect();
        let busy: Duration = slowest.iter().map(|(d, _)| *d).sum();
        phases.rendered = (slowest.len(), busy);
        slowest.sort_by(|a, b| b.cmp(a));
        slowest.truncate(5);
        phases.slowest = slowest
            .into_iter()
            .map(|(d, p)| format!("{p} {} ms", d.as_millis()))
            .collect();
        let rendered = rendered.into_iter().map(|(r, _)| r);
        let mut problems = Vec::new();
        let mut fresh = Vec::with_capacity(rendered.len());
        for r in rendered {
            match r {
                Ok(x) => fresh.push(x),
                Err(p) => problems.push(p),
            }
        }
        if !problems.is_empty() {
            problems.dedup_by(|a, b| a.file == b.file && a.kind == b.kind);
            if same_pages {
                (self.page_refs, self.page_paths) = (pages, paths);
            }
            return Err(Problems(problems).sorted());
        }
        let Renderer { views, .. } = renderer;
        self.views = Some(views.into_owned());
        self.last_ok = true;
        phases.mark("rendern");

        // Everything succeeded: apply.
        let mut report = RebuildReport {
            rendered: fresh.len(),
            ..Default::default()
        };
        for (path, kept) in fresh {
            self.store(path, kept, &mut report);
        }
        // Style sheets and scripts under fingerprinted names come with the
        // pages that name them.
        for a in &site.assets.0 {
            let kept = keep(a.bytes.clone(), compress_now);
            self.store(a.path.clone(), kept, &mut report);
        }
        if !same_pages {
            let current: HashSet<&str> = paths
                .iter()
                .map(String::as_str)
                .chain(site.assets.0.iter().map(|a| a.path.as_str()))
                .collect();
            let gone: Vec<String> = self
                .outputs
                .keys()
                .filter(|k| !current.contains(k.as_str()) && !self.extra_paths.contains(*k))
                .cloned()
                .collect();
            for path in gone {
                self.outputs.remove(&path);
                report.removed.push(path);
            }
        }
        self.page_refs = pages;
        self.page_paths = paths;
        self.page_fingerprints = fingerprints;
        report.changed.sort();
        report.removed.sort();
        // Dropping the old site (13,000 items at Germany scale) takes a while:
        // not on the way to the browser.
        if let Some(old) = self.site.replace(Arc::new(site)) {
            std::thread::spawn(move || drop(old));
        }
        report.duration = started.elapsed();
        phases.mark("übernehmen");
        phases.print();
        Ok(report)
    }

    /// Calendar files, sitemap, robots.txt, authority list and search index
    /// for the site of the last [`LiveBuild::rebuild_pages`].
    pub fn rebuild_extras(&mut self) -> RebuildReport {
        let Some((site, options)) = self.extras_input() else {
            return RebuildReport::default();
        };
        let started = Instant::now();
        let extras = render::extra_outputs(&site, &options);
        let mut report = self.apply_extras(&site, extras).unwrap_or_default();
        report.duration = started.elapsed();
        report
    }

    /// What the derived files are made of: they need no templates, so
    /// `campus serve` makes them without holding the build (a search index
    /// of a Germany-scale site takes most of a second).
    pub fn extras_input(&self) -> Option<(Arc<Site>, render::RenderOptions)> {
        Some((self.site.clone()?, self.options.render_options()))
    }

    /// Takes derived files made from `site` (see [`render::extra_outputs`]);
    /// `None`, and nothing changes, when a newer site was built meanwhile.
    pub fn apply_extras(&mut self, site: &Arc<Site>, extras: Vec<Output>) -> Option<RebuildReport> {
        if !self.site.as_ref().is_some_and(|s| Arc::ptr_eq(s, site)) {
            return None;
        }
        let mut report = RebuildReport::default();
        let now: HashSet<String> = extras.iter().map(|o| o.path.clone()).collect();
        for output in extras {
            self.store(output.path, Kept::raw(output.bytes), &mut report);
        }
        for path in self.extra_paths.difference(&now) {
            if self.outputs.remove(path).is_some() {
                report.removed.push(path.clone());
            }
        }
        self.extra_paths = now;
        Some(report)
    }

    fn store(&mut self, path: String, kept: Kept, report: &mut RebuildReport) {
        let same = self.outputs.get(&path).is_some_and(|old| old.same(&kept));
        if !same {
            report.changed.push(path.clone());
            self.outputs.insert(path, Arc::new(kept));
        }
    }
}

/// A rendered page's output path and bytes.
type KeptPage = (String, Kept);

fn keep(bytes: Vec<u8>, compressed: bool) -> Kept {
    if compressed {
        Kept::compressed(bytes)
    } else {
        Kept::raw(bytes)
    }
}

/// The compressed forms of `raw` (from [`LiveBuild::raw_outputs`]), for
/// [`LiveBuild::take_compressed`]; outputs that do not shrink are left out.
pub fn compress(raw: Vec<(String, Arc<Kept>)>) -> Vec<(String, Arc<Kept>, Kept)> {
    raw.into_par_iter()
        .filter_map(|(path, kept)| {
            let packed = kept.to_compressed()?;
            Some((path, kept, packed))
        })
        .collect()
}

/// The fingerprint of every page in `pages` for a one-off build (see
/// `build_cache`): the same inputs `campus serve` compares, so a page whose
/// fingerprint matches the last build's renders to the same bytes.
pub(crate) fn page_fingerprints(
    renderer: &Renderer,
    loader: &Loader,
    templates: &HashMap<String, u64>,
    pages: &[PageRef],
) -> Vec<u64> {
    let card_hashes: Vec<u64> = renderer
        .views
        .unit_cards
        .par_iter()
        .map(json_hash)
        .collect();
    let inputs = Inputs::new(renderer, loader, templates, &card_hashes);
    pages
        .par_iter()
        .map(|p| inputs.fingerprint(renderer, *p))
        .collect()
}

/// Phase timings, printed when `CAMPUS_ZEITEN` is set (for profiling).
pub(crate) struct Phases {
    last: Instant,
    marks: Vec<(&'static str, Duration)>,
    /// The pages that took longest to render.
    slowest: Vec<String>,
    /// How many pages were rendered and their rendering times added up.
    rendered: (usize, Duration),
}

impl Phases {
    pub(crate) fn start(started: Instant) -> Phases {
        Phases {
            last: started,
            marks: Vec::new(),
            slowest: Vec::new(),
            rendered: (0, Duration::ZERO),
        }
    }

    pub(crate) fn mark(&mut self, name: &'static str) {
        let now = Instant::now();
        self.marks.push((name, now - self.last));
        self.last = now;
    }

    pub(crate) fn print(&self) {
        if std::env::var_os("CAMPUS_ZEITEN").is_some() {
            let parts: Vec<String> = self
                .marks
                .iter()
                .map(|(n, d)| format!("{n} {} ms", d.as_millis()))
                .collect();
            eprintln!("Zeiten: {}", parts.join(", "));
            if !self.slowest.is_empty() {
                let (pages, busy) = self.rendered;
                eprintln!(
                    "  {pages} Seiten, zusammen {} ms; langsamste: {}",
                    busy.as_millis(),
                    self.slowest.join(", ")
                );
            }
        }
    }
}

/// Pages that exist once per item.
fn item_count(site: &Site) -> usize {
    site.units.len()
        + site.courses.len()
        + site.topics.len()
        + site.lecturers.len()
        + site.authorities.len()
}

fn format_index(format: crate::content::Format) -> usize {
    match format {
        crate::content::Format::Hybrid => 0,
        crate::content::Format::OnDemand => 1,
    }
}

pub(crate) fn output_path(url: &str) -> String {
    let trimmed = url.trim_start_matches('/');
    if url.ends_with('/') {
        format!("{trimmed}index.html")
    } else {
        trimmed.to_string()
    }
}

fn touches_templates(root: &Path, path: &Path) -> bool {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.starts_with("templates")
        || rel.starts_with("themes")
        || rel == Path::new(crate::config::CONFIG_FILE)
}

/// Hash per template of its own file and every file it builds on: parents,
/// included templates and the files defining the components it calls,
/// transitively. Components are global in Tera 2, so the files are found by
/// the component names.
pub(crate) fn template_hashes(sources: &render::TemplateSources) -> HashMap<String, u64> {
    let mut defined_in: HashMap<String, &str> = HashMap::new();
    for (name, s) in sources {
        for component in tags_with(&s.text, "component") {
            defined_in.insert(component, name);
        }
    }
    let direct = |name: &str| -> Vec<String> {
        let Some(s) = sources.get(name) else {
            return Vec::new();
        };
        let mut deps: Vec<String> = ["extends", "include"]
            .iter()
            .flat_map(|keyword| tags_with(&s.text, keyword))
            .map(|quoted| quoted.trim_matches(['"', '\'', '`']).to_string())
            .collect();
        deps.extend(
            component_calls(&s.text)
                .filter_map(|c| defined_in.get(c))
                .map(|file| file.to_string()),
        );
        deps
    };
    let mut out = HashMap::new();
    for name in sources.keys() {
        let mut seen: Vec<String> = vec![name.clone()];
        let mut i = 0;
        while i < seen.len() {
            for d in direct(&seen[i]) {
                if !seen.contains(&d) {
                    seen.push(d);
                }
            }
            i += 1;
        }
        seen.sort();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for s in &seen {
            s.hash(&mut h);
            sources.get(s.as_str()).map(|s| &s.text).hash(&mut h);
        }
        out.insert(name.clone(), h.finish());
    }
    out
}

/// The first word after `keyword` in every `{% keyword ... %}` tag: the
/// quoted template of `extends`/`include`, the name of a `component`.
fn tags_with(source: &str, keyword: &str) -> Vec<String> {
    source
        .split("{%")
        .skip(1)
        .filter_map(|tag| {
            tag.trim_start_matches('-')
                .trim_start()
                .strip_prefix(keyword)
        })
        .filter(|rest| rest.starts_with(char::is_whitespace))
        .filter_map(|rest| {
            let word = rest.trim_start();
            let end = word.find(|c: char| c.is_whitespace() || c == '(' || c == '%')?;
            Some(word[..end].to_string())
        })
        .collect()
}

/// Names of the components a template calls: `{{<name .../>}}` or
/// `{% <name ...> %}`.
fn component_calls(source: &str) -> impl Iterator<Item = &str> {
    source.match_indices('<').filter_map(|(at, _)| {
        let before = source[..at].trim_end_matches(|c: char| c.is_whitespace() || c == '-');
        if !(before.ends_with("{{") || before.ends_with("{%")) {
            return None;
        }
        let rest = &source[at + 1..];
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(rest.len());
        (end > 0).then(|| &rest[..end])
    })
}

/// The data files (levels, prices, shares, ...) are small and feed many
/// pages in ways that are not worth tracking one by one: any change to them
/// counts as a change for every page.
fn data_files_hash(root: &Path) -> u64 {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(root.join("data"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    files.sort();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for f in files {
        f.hash(&mut h);
        std::fs::read(&f).unwrap_or_default().hash(&mut h);
    }
    h.finish()
}

/// Hashes of the shared pieces page contexts are built from.
struct Inputs<'a> {
    global: u64,
    unit_cards: &'a [u64],
    course_cards: Vec<u64>,
    topic_cards: Vec<u64>,
    /// What site-wide pages show of whole collections.
    all_units: u64,
    all_courses: u64,
    all_topics: u64,
    authority_list: u64,
    /// Per authority: what other pages show of it (name, kind, ...).
    authority_entries: Vec<u64>,
    faq: u64,
    /// Per level and per format: the cards of its units (pre-filtered
    /// catalogs show only these).
    by_level: Vec<u64>,
    by_format: [u64; 2],
    loader: &'a Loader,
    templates: &'a HashMap<String, u64>,
}

impl<'a> Inputs<'a> {
    fn new(
        r: &Renderer,
        loader: &'a Loader,
        templates: &'a HashMap<String, u64>,
        unit_cards: &'a [u64],
    ) -> Inputs<'a> {
        let (v, site) = (&r.views, r.site);
        let course_cards: Vec<u64> = v.course_cards.iter().map(json_hash).collect();
        let topic_cards: Vec<u64> = v.topic_cards.iter().map(json_hash).collect();
        // What the authority list shows of each authority.
        let authorities: Vec<u64> = site
            .authorities
            .par_iter()
            // display_name() is made of kind and name (hashed without
            // allocating a string per authority).
            .map(|a| hash_of(&(&a.id, &a.name, a.kind, a.member, &a.logo)))
            .collect();
        let faq: Vec<u64> = site
            .faq
            .iter()
            .map(|e| hash_of(&(&e.id, &e.question, e.category, e.order, &e.body)))
            .collect();
        let mut by_level = vec![Vec::new(); site.levels.len()];
        let mut by_format = [Vec::new(), Vec::new()];
        for (i, u) in site.units.iter().enumerate() {
            by_level[u.level].push(unit_cards[i]);
            by_format[format_index(u.format)].push(unit_cards[i]);
        }
        Inputs {
            by_level: by_level.iter().map(hash_of).collect(),
            by_format: by_format.map(|cards| hash_of(&cards)),
            global: hash_of(&(
                json_hash(&v.global),
                r.options.today,
                data_files_hash(&site.root),
            )),
            all_units: hash_of(&unit_cards),
            all_courses: hash_of(&course_cards),
            all_topics: hash_of(&topic_cards),
            authority_list: hash_of(&authorities),
            authority_entries: authorities,
            faq: hash_of(&faq),
            unit_cards,
            course_cards,
            topic_cards,
            loader,
            templates,
        }
    }

    /// A content file's text hash; a file the loader does not know changes
    /// the fingerprint every time (safe, never stale).
    fn file(&self, path: &Path) -> u64 {
        self.loader.file_hash(path).unwrap_or_else(|| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            hash_of(&now.as_nanos())
        })
    }

    fn template(&self, name: &str) -> u64 {
        self.templates.get(name).copied().unwrap_or(0)
    }

    /// What the quality facts are made of: providers, lecturers and the
    /// quality management page they link to.
    fn quality(&self, site: &Site, h: &mut impl Hasher) {
        for p in &site.providers {
            self.file(&p.source).hash(h);
        }
        for l in &site.lecturers {
            self.file(&l.source).hash(h);
        }
        site.page("qualitaet").map(|p| &p.title).hash(h);
    }

    /// What event lists show: every event file and its free places.
    fn events(&self, site: &Site, h: &mut impl Hasher) {
        for e in &site.events {
            (self.file(&e.source), e.taken).hash(h);
        }
    }

    fn fingerprint(&self, r: &Renderer, page: PageRef) -> u64 {
        let site = r.site;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.global.hash(&mut h);
        std::mem::discriminant(&page).hash(&mut h);
        match page {
            PageRef::Unit(i) => {
                let unit = &site.units[i];
                self.template("unit.html").hash(&mut h);
                self.file(&unit.source).hash(&mut h);
                // Taken places also come from bookings, not only the file.
                for d in &unit.dates {
                    (d.date, d.taken).hash(&mut h);
                }
                self.unit_cards[i].hash(&mut h);
                unit.level.hash(&mut h);
                for l in &unit.lecturers {
                    self.file(&site.lecturers[*l].source).hash(&mut h);
                }
                for c in &r.views.lookups.courses_by_unit[i] {
                    self.course_cards[*c].hash(&mut h);
                }
                for a in &r.views.lookups.authorities_by_unit[i] {
                    self.authority_entries[*a].hash(&mut h);
                }
                site.levels[unit.level].billing_unit.hash(&mut h);
                if let Some(p) = unit.provider {
                    self.quality(site, &mut h);
                    self.file(&site.providers[p].source).hash(&mut h);
                }
            }
            PageRef::Course(ci) => {
                let course = &site.courses[ci];
                self.template("course.html").hash(&mut h);
                self.file(&course.source).hash(&mut h);
                self.course_cards[ci].hash(&mut h);
                for cu in &course.units {
                    self.unit_cards[cu.unit].hash(&mut h);
                }
            }
            PageRef::Topic(ti) => {
                self.template("topic.html").hash(&mut h);
                self.file(&site.topics[ti].source).hash(&mut h);
                self.topic_cards[ti].hash(&mut h);
                for u in r
                    .views
                    .lookups
                    .by_title
                    .iter()
                    .filter(|u| site.units[**u].topics.contains(&ti))
                {
                    self.unit_cards[*u].hash(&mut h);
                }
            }
            PageRef::Lecturer(li) => {
                self.template("lecturer.html").hash(&mut h);
                self.file(&site.lecturers[li].source).hash(&mut h);
                for u in r
                    .views
                    .lookups
                    .by_title
                    .iter()
                    .filter(|u| site.units[**u].lecturers.contains(&li))
                {
                    self.unit_cards[*u].hash(&mut h);
                }
            }
            PageRef::Authority(ai) => {
                let a = &site.authorities[ai];
                self.template("authority.html").hash(&mut h);
                self.file(&a.source).hash(&mut h);
                self.events(site, &mut h);
                for u in &a.units {
                    self.unit_cards[*u].hash(&mut h);
                }
            }
            PageRef::Single(i) => {
                // Site-wide pages are hashed by what they show, declared per
                // kind (hashing their contexts would cost more than
                // rendering them); the incremental-equals-full test keeps
                // these lists honest.
                let single = r.views.lookups.singles[i];
                self.template(single.template(site)).hash(&mut h);
                single.url(site).hash(&mut h);
                match single {
                    Single::Home => {
                        self.events(site, &mut h);
                        let home = &site.home;
                        (self.all_units, self.all_courses, self.all_topics).hash(&mut h);
                        (
                            site.authorities.len(),
                            &home.title,
                            &home.description,
                            &home.body,
                        )
                            .hash(&mut h);
                    }
                    Single::Catalog => (self.all_units, self.all_topics).hash(&mut h),
                    Single::FormatCatalog(f) => {
                        (self.by_format[format_index(f)], self.all_topics).hash(&mut h);
                    }
                    Single::LevelCatalog(l) => (self.by_level[l], self.all_topics).hash(&mut h),
                    Single::Courses => self.all_courses.hash(&mut h),
                    Single::Topics => self.all_topics.hash(&mut h),
                    Single::Authorities => self.authority_list.hash(&mut h),
                    Single::Faq => self.faq.hash(&mut h),
                    Single::Providers => self.quality(site, &mut h),
                    Single::Lecturers => {
                        self.quality(site, &mut h);
                        for u in &r.views.lookups.by_title {
                            let unit = &site.units[*u];
                            (&unit.id, &unit.title, &unit.lecturers).hash(&mut h);
                        }
                    }
                    Single::Events | Single::Event(_) => {
                        self.events(site, &mut h);
                        self.authority_list.hash(&mut h);
                    }
                    Single::Page(p) => {
                        let page = &site.pages[p];
                        (
                            &page.id,
                            &page.title,
                            &page.description,
                            page.template,
                            &page.body,
                        )
                            .hash(&mut h);
                    }
                    Single::Search | Single::SelfCheck => {
                        (self.all_units, self.all_courses, self.all_topics).hash(&mut h);
                        (self.authority_list, self.faq, &site.home.title).hash(&mut h);
                        for p in &site.pages {
                            (&p.title, &p.body).hash(&mut h);
                        }
                    }
                    Single::FormResult(_) | Single::NotFound => {}
                }
            }
        }
        h.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(files: &[(&str, &str)]) -> render::TemplateSources {
        files
            .iter()
            .map(|(name, text)| {
                let source = render::TemplateSource {
                    path: PathBuf::from(name),
                    text: text.to_string(),
                };
                (name.to_string(), source)
            })
            .collect()
    }

    /// A template's hash covers its parents, includes and the files of the
    /// components it calls, and nothing else.
    #[test]
    fn template_hashes_follow_parents_includes_and_components() {
        let files = |card: &str, base: &str| {
            sources(&[
                ("base.html", base),
                ("macros.html", card),
                ("part.html", "{{<card x=\"1\" />}}"),
                (
                    "unit.html",
                    "{% extends \"base.html\" %}{% block b %}{{<card x={y} />}}{% endblock %}",
                ),
                (
                    "faq.html",
                    "{%- extends \"base.html\" %}{% block b %}<input name=\"card\">{% endblock %}",
                ),
                ("search.html", "{% include \"part.html\" %}"),
            ])
        };
        let card = "{% component card(x) %}{{ x }}{% endcomponent card %}";
        let before = template_hashes(&files(card, "{% block b %}{% endblock %}"));
        let new_card = template_hashes(&files(
            &card.replace("{{ x }}", "<b>{{ x }}</b>"),
            "{% block b %}{% endblock %}",
        ));
        let new_base = template_hashes(&files(card, "<main>{% block b %}{% endblock %}</main>"));
        let changed = |after: &HashMap<String, u64>| {
            let mut names: Vec<&str> = before
                .keys()
                .filter(|n| before[*n] != after[*n])
                .map(String::as_str)
                .collect();
            names.sort();
            names
        };
        assert_eq!(
            changed(&new_card),
            ["macros.html", "part.html", "search.html", "unit.html"]
        );
        assert_eq!(changed(&new_base), ["base.html", "faq.html", "unit.html"]);
    }
}
