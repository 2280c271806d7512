//! Turns a validated [`Site`] into rendered pages with Tera.
//!
//! View data is built once per item (unit cards, course cards, ...) and
//! shared by every page that shows it; pages render in parallel.

use crate::config::Config;
use crate::content::{Approval, Format, PageTemplate, UnitRole};
use crate::error::{Problem, ProblemKind, Problems};
use crate::ics;
use crate::markdown;
use crate::model::{LiveDate, Site, Unit};
use crate::money::{group_thousands, Cents};
use crate::time;
use crate::urls;
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use rayon::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tera::{Context, Tera};

mod discovery_pages;
mod events;
mod pages;
mod quality;
mod templates;
mod views;

pub(crate) use pages::Job;
pub use pages::{extra_outputs, extra_outputs_with_index, PageRef, Renderer, Single};
pub use templates::{
    compile_templates, load_templates, read_templates, tera_value, TemplateSource, TemplateSources,
};
use templates::{escape_html, template_problems};
use views::{
    authority_list, authority_units_html, date_view, merge, render_component, staff_card, unit_url,
    AUTHORITY_ITEM, ID_STAND_IN, NAME_STAND_IN,
};
pub use views::{membership_view, Views, AUTHORITY_SELECT_LIMIT};

/// One file of the output, by path relative to the output root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// Options that change what is rendered, not what the content says.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// "Today" for next dates; fixed in tests for stable output.
    pub today: NaiveDate,
    /// Timestamp written into calendar files (DTSTAMP).
    pub stamp: NaiveDateTime,
    /// Adds the live-reload script (only `campus serve`).
    pub live_reload: bool,
    /// Renders each unit's catalog entry once and pastes the finished
    /// entries into the catalog pages (`units_html`) instead of passing the
    /// unit cards (`units`). Off for one-page renders (the form backend).
    pub list_fragments: bool,
}

/// Thank-you and error pages the form backend redirects to: (id, kind).
/// Their texts are in the theme's `form_result.html`.
pub const FORM_RESULTS: [(&str, &str); 8] = [
    ("danke-buchung", "danke"),
    ("danke-veranstaltung", "danke"),
    ("danke-einschreibung", "danke"),
    ("danke-registrierung", "danke"),
    ("danke-kontakt", "danke"),
    ("danke-newsletter", "danke"),
    ("bestaetigt", "danke"),
    ("fehler", "fehler"),
];

/// Renders every page, calendar file, sitemap and robots.txt into memory.
pub fn render_site(
    site: &Site,
    tera: &Tera,
    options: &RenderOptions,
) -> Result<Vec<Output>, Problems> {
    let collected = std::sync::Mutex::new(Vec::new());
    render_site_into(site, tera, options, &|o| {
        collected.lock().expect("outputs lock").push(o);
        Ok(())
    })?;
    let mut outputs = collected.into_inner().expect("outputs lock");
    outputs.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(outputs)
}

/// Renders every output and hands each to `sink` as soon as it is ready (in
/// parallel), so nothing accumulates. Returns how many outputs were made.
pub fn render_site_into(
    site: &Site,
    tera: &Tera,
    options: &RenderOptions,
    sink: &(dyn Fn(Output) -> Result<(), Problem> + Sync),
) -> Result<usize, Problems> {
    render_site_reusing(site, tera, options, None, sink)
}

/// Gets every page; says per page `None` (render it) or the output path of
/// the page to keep unrendered.
pub type SelectPages<'r> = dyn Fn(&Renderer, &[PageRef]) -> Vec<Option<String>> + Sync + 'r;

/// Which pages a build leaves as the last build made them (see
/// `build_cache`).
pub struct Reuse<'r> {
    pub select: &'r SelectPages<'r>,
    /// Called with the output path of every page kept.
    pub keep: &'r (dyn Fn(&str) -> Result<(), Problem> + Sync),
    /// The search index's tokens of the last build's documents.
    pub index_tokens: Option<&'r std::sync::Mutex<crate::search::IndexCache>>,
}

/// [`render_site_into`], rendering only the pages `reuse` does not keep
/// (every derived file and picture is made).
pub fn render_site_reusing(
    site: &Site,
    tera: &Tera,
    options: &RenderOptions,
    reuse: Option<&Reuse>,
    sink: &(dyn Fn(Output) -> Result<(), Problem> + Sync),
) -> Result<usize, Problems> {
    let profile = Profile::new();
    // The derived files (mostly the search index) need no views: they are
    // made beside the views and the pages, not after them.
    let ((mut problems, page_count), extra) = rayon::join(
        || {
            let started = std::time::Instant::now();
            let renderer = Renderer::new(site, tera, options);
            profile.add("Sichten", started.elapsed());
            let pages = renderer.pages();
            let started = std::time::Instant::now();
            let kept: Vec<Option<String>> = match reuse {
                Some(r) => (r.select)(&renderer, &pages),
                None => vec![None; pages.len()],
            };
            profile.add("Auswahl", started.elapsed());
            let problems: Vec<Problem> = pages
                .par_iter()
                .zip(&kept)
                .filter_map(|(p, kept)| {
                    if let (Some(path), Some(r)) = (kept, reuse) {
                        return (r.keep)(path).err();
                    }
                    let started = std::time::Instant::now();
                    let page = renderer.render(*p);
                    let rendered = started.elapsed();
                    let written = page.and_then(sink);
                    profile.add(p.kind(), rendered);
                    profile.add("schreiben", started.elapsed() - rendered);
                    written.err()
                })
                .collect();
            (problems, pages.len())
        },
        || {
            let started = std::time::Instant::now();
            let extra = match reuse.and_then(|r| r.index_tokens) {
                Some(tokens) => {
                    let mut tokens = tokens.lock().expect("index tokens");
                    let index = crate::search::site_index_cached(site, options.today, &mut tokens);
                    extra_outputs_with_index(site, options, &index)
                }
                None => extra_outputs(site, options),
            };
            profile.add("Zusatzdateien", started.elapsed());
            extra
        },
    );
    profile.print();
    if !problems.is_empty() {
        // One broken template fails every page using it: report each once.
        problems.sort_by(|a, b| (&a.file, a.kind.message()).cmp(&(&b.file, b.kind.message())));
        problems.dedup_by(|a, b| a.file == b.file && a.kind == b.kind);
        return Err(Problems(problems).sorted());
    }
    // Smaller copies of the photos and graphics (from the cache after the
    // first build).
    let pictures = site.images.outputs(&site.root)?;
    let count = page_count + extra.len() + pictures.len() + site.assets.0.len();
    for a in &site.assets.0 {
        sink(Output {
            path: a.path.clone(),
            bytes: a.bytes.clone(),
        })?;
    }
    for o in extra {
        sink(o)?;
    }
    for (path, bytes) in pictures {
        sink(Output { path, bytes })?;
    }
    Ok(count)
}

/// CPU time per kind of work of a full render, printed with `CAMPUS_ZEITEN`.
struct Profile(
    Option<std::sync::Mutex<std::collections::BTreeMap<&'static str, std::time::Duration>>>,
);

impl Profile {
    fn new() -> Profile {
        Profile(std::env::var_os("CAMPUS_ZEITEN").map(|_| Default::default()))
    }

    fn add(&self, kind: &'static str, time: std::time::Duration) {
        if let Some(totals) = &self.0 {
            *totals.lock().expect("profile").entry(kind).or_default() += time;
        }
    }

    fn print(&self) {
        if let Some(totals) = &self.0 {
            let parts: Vec<String> = totals
                .lock()
                .expect("profile")
                .iter()
                .map(|(k, d)| format!("{k} {} ms", d.as_millis()))
                .collect();
            eprintln!("CPU-Zeiten: {}", parts.join(", "));
        }
    }
}

/// Renders the one page at `url` (e.g. "/kontakt/") with its usual context
/// plus `extra` values; `None` when the site has no page there. Used by the
/// form backend to show a form page again with `form { values, errors }`.
pub fn render_page(
    site: &Site,
    tera: &Tera,
    views: &Views,
    options: &RenderOptions,
    url: &str,
    extra: &[(&'static str, Value)],
) -> Result<Option<String>, Problem> {
    let renderer = Renderer::with_shared_views(site, tera, options, views);
    let Some(page) = renderer.find(url) else {
        return Ok(None);
    };
    renderer
        .render_with(page, extra)
        .map(|o| Some(String::from_utf8_lossy(&o.bytes).into_owned()))
}

/// One page of the backend's filtered catalog: the ids of the units shown
/// (in title order), the paging, and the page itself unless only the ids
/// are wanted (a JSON answer).
pub struct CatalogPage {
    pub unit_ids: Vec<String>,
    pub paging: crate::discovery::Paging,
    pub html: Option<String>,
}

/// The filtered catalog without JavaScript (`/forms/katalog?…&seite=N`):
/// only the matching units of one page are rendered, so the answer does not
/// grow with the site (see [`crate::discovery::CATALOG_PAGE_SIZE`]).
pub fn filtered_catalog(
    site: &Site,
    tera: &Tera,
    views: &Views,
    options: &RenderOptions,
    filter: &crate::discovery::CatalogFilter,
    requested_page: usize,
    with_html: bool,
) -> Result<CatalogPage, Problem> {
    let renderer = Renderer::with_shared_views(site, tera, options, views);
    let (job, shown, paging) =
        discovery_pages::filtered_catalog_job(&renderer, filter, requested_page);
    let html = if with_html {
        let page = render_job(site, tera, &renderer.views, job)?;
        Some(String::from_utf8_lossy(&page.bytes).into_owned())
    } else {
        None
    };
    Ok(CatalogPage {
        unit_ids: shown.iter().map(|i| site.units[*i].id.clone()).collect(),
        paging,
        html,
    })
}

/// Renders any template (e.g. one the form backend adds to `tera`) with the
/// shared context every page gets (`site`, `page_url`, `page_title`,
/// `description`) plus `extra` values.
pub fn render_template(
    site: &Site,
    tera: &Tera,
    views: &Views,
    template: &'static str,
    url: &str,
    title: &str,
    extra: &[(&'static str, Value)],
) -> Result<String, Problem> {
    let mut job = Job::new(url, template, title);
    job.values.extend(extra.iter().cloned());
    render_job(site, tera, views, job).map(|o| String::from_utf8_lossy(&o.bytes).into_owned())
}

/// Renders one job. Its values become Tera's values once; the global
/// context was converted once for all pages and is shared (Tera's values
/// are reference-counted), as copying JSON dominated build time.
fn render_job(site: &Site, tera: &Tera, views: &Views, job: Job) -> Result<Output, Problem> {
    let mut ctx = Context::new();
    ctx.insert_value("site", views.global_for_tera.clone());
    ctx.insert_value("page_url", job.url.into());
    ctx.insert_value("page_title", job.title.into());
    ctx.insert_value("description", job.description.into());
    for (k, v) in job.values {
        ctx.insert_value(k, tera_value(&v));
    }
    // The form components read `form` (a form the backend shows again); on
    // generated pages it names no form.
    if !ctx.contains_key("form") {
        let none = json!({ "name": "", "values": {}, "errors": {}, "error_list": [], "ts": "" });
        ctx.insert_value("form", tera_value(&none));
    }
    let html = tera.render(job.template, &ctx).map_err(|e| {
        let problems = template_problems(&e, &|name| template_path(site, name), &site.root);
        problems.into_iter().next().unwrap_or_else(|| {
            Problem::new(
                template_path(site, job.template),
                ProblemKind::Template {
                    message: e.to_string(),
                },
            )
        })
    })?;
    // Dates, times and amounts never break across lines, whoever wrote them.
    let mut html = crate::typography::keep_together_html(html);
    if let Some(entries) = &job.spliced {
        html = html.replace(pages::SPLICE_MARK, entries);
    }
    Ok(Output {
        path: job.path,
        bytes: html.into_bytes(),
    })
}

/// The file a template was loaded from: the site's override, else the
/// theme's file (for templates the backend adds, the theme's would-be file).
fn template_path(site: &Site, name: &str) -> PathBuf {
    let own = site.root.join("templates").join(name);
    if own.is_file() {
        own
    } else {
        site.config
            .theme_dir(&site.root)
            .join("templates")
            .join(name)
    }
}

fn calendar_files(site: &Site, options: &RenderOptions) -> Vec<Output> {
    let host = ics::host_of(&site.config.site.base_url);
    site.units
        .iter()
        .flat_map(|u| u.upcoming_dates(options.today).map(move |d| (u, d)))
        .map(|(u, d)| {
            let event = ics::LiveEvent {
                uid: ics::uid_for(&u.id, d.date, &host),
                sequence: 0,
                cancelled: false,
                organizer: None,
                attendee: None,
                summary: &u.title,
                description: ics::describe(d.date),
                date: d.date,
                url: Some(format!("{}{}", site.config.site.base_url, unit_url(&u.id))),
                stamp: options.stamp,
                hours: None,
                location: None,
            };
            Output {
                path: format!("termine/{}-{}.ics", u.id, d.date.format("%Y-%m-%d")),
                bytes: ics::calendar(&event).into_bytes(),
            }
        })
        .chain(site.upcoming_events(options.today).map(|e| {
            let place = e.place_text();
            let event = ics::LiveEvent {
                uid: ics::uid_for(&e.id, e.date, &host),
                sequence: 0,
                cancelled: false,
                organizer: None,
                attendee: None,
                summary: &e.title,
                description: ics::describe_event(&e.summary, &place),
                date: e.date,
                url: Some(format!(
                    "{}{}",
                    site.config.site.base_url,
                    urls::event(&e.id)
                )),
                stamp: options.stamp,
                hours: Some((e.start, e.end)),
                location: Some(place),
            };
            Output {
                path: urls::event_calendar(&e.id)
                    .trim_start_matches('/')
                    .to_string(),
                bytes: ics::calendar(&event).into_bytes(),
            }
        }))
        .collect()
}
