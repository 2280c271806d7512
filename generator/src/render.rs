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
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tera::{Context, Tera};

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
pub const FORM_RESULTS: [(&str, &str); 7] = [
    ("danke-buchung", "danke"),
    ("danke-einschreibung", "danke"),
    ("danke-registrierung", "danke"),
    ("danke-kontakt", "danke"),
    ("danke-newsletter", "danke"),
    ("bestaetigt", "danke"),
    ("fehler", "fehler"),
];

/// Loads the theme's templates, then the site's overrides of the same names.
pub fn load_templates(root: &Path, config: &Config) -> Result<Tera, Problems> {
    let theme_templates = config.theme_dir(root).join("templates");
    let override_dir = root.join("templates");
    let mut files: HashMap<String, PathBuf> = HashMap::new();
    for dir in [&theme_templates, &override_dir] {
        for entry in walkdir::WalkDir::new(dir)
            .into_iter()
            .filter_map(Result::ok)
        {
            if entry.file_type().is_file() {
                let name = entry
                    .path()
                    .strip_prefix(dir)
                    .expect("below dir")
                    .to_string_lossy()
                    .replace('\\', "/");
                files.insert(name, entry.into_path());
            }
        }
    }
    if files.is_empty() {
        return Err(Problem::new(
            &theme_templates,
            ProblemKind::Template {
                message: "Keine Vorlagen gefunden.".into(),
            },
        )
        .into());
    }
    let mut tera = Tera::default();
    tera.autoescape_on(vec![".html", ".xml"]);
    // Tera's default also escapes "/", which makes every URL unreadable in the
    // page source; these five characters are all HTML needs.
    tera.set_escape_fn(escape_html);
    register_filters(&mut tera);
    let mut problems = Vec::new();
    // Parse each file alone first so a syntax error names its own file.
    for (name, path) in &files {
        let parsed = std::fs::read_to_string(path)
            .map_err(|e| tera::Error::msg(e.to_string()))
            .and_then(|text| tera::Template::new(name, None, &text));
        if let Err(e) = parsed {
            problems.push(template_problem(path, &e, root));
        }
    }
    if !problems.is_empty() {
        return Err(Problems(problems).sorted());
    }
    let list: Vec<(PathBuf, Option<String>)> = files
        .iter()
        .map(|(n, p)| (p.clone(), Some(n.clone())))
        .collect();
    tera.add_template_files(list)
        .map_err(|e| Problems::from(template_problem(&theme_templates, &e, root)))?;
    // Entries rendered once per unit (see CATALOG_ITEM and AUTHORITY_ITEM),
    // for themes whose macros.html defines the macro.
    let macros = files
        .get("macros.html")
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    for (name, macro_name, call) in [
        (CATALOG_ITEM, "catalog_item", "m::catalog_item(unit=unit)"),
        (
            AUTHORITY_ITEM,
            "authority_item",
            "m::authority_item(unit=unit, kommune_id=kommune_id, kommune_name=kommune_name)",
        ),
    ] {
        if macros.contains(&format!("macro {macro_name}(")) {
            let source = format!("{{% import \"macros.html\" as m %}}{{{{ {call} }}}}");
            tera.add_raw_template(name, &source)
                .map_err(|e| Problems::from(template_problem(&theme_templates, &e, root)))?;
        }
    }
    Ok(tera)
}

/// The theme's `catalog_item` macro as a template of its own, rendered
/// once per unit: catalog pages of 2,000 units then paste finished entries
/// instead of running the macro per unit and page, which made the catalog
/// the slowest page to re-render after an edit.
const CATALOG_ITEM: &str = "__catalog_item.html";

/// The theme's `authority_item` macro as a template of its own: 11,000
/// authority pages with ten units each would otherwise run the card macro
/// 110,000 times. It is rendered per unit for staff of members and of
/// non-members (the price differs) with stand-ins for the authority, which
/// [`authority_units_html`] replaces; a check against the macro guards it.
const AUTHORITY_ITEM: &str = "__authority_item.html";
const ID_STAND_IN: &str = "\u{E000}kommune-id\u{E000}";
const NAME_STAND_IN: &str = "\u{E000}kommune-name\u{E000}";

/// `[non-member staff, member staff]` entries of one unit.
fn authority_items(
    site: &Site,
    tera: &Tera,
    options: &RenderOptions,
    unit: &Unit,
    card: &Value,
) -> Option<[String; 2]> {
    if !options.list_fragments || !tera.templates.contains_key(AUTHORITY_ITEM) {
        return None;
    }
    let render = |member: bool| {
        let mut ctx = Context::new();
        ctx.insert("unit", &staff_card(site, unit, card, member));
        ctx.insert("kommune_id", ID_STAND_IN);
        ctx.insert("kommune_name", NAME_STAND_IN);
        tera.render(AUTHORITY_ITEM, &ctx).ok()
    };
    Some([render(false)?, render(true)?])
}

/// A unit card with the price that applies to an authority's staff.
fn staff_card(site: &Site, unit: &Unit, card: &Value, member: bool) -> Value {
    let mut card = card.clone();
    let price = site.prices.for_staff_of(site.unit_price(unit), member);
    merge(&mut card, json!({ "price_for_staff": price.0 }));
    card
}

fn authority_units_html(views: &Views, a: &crate::model::Authority, name: &str) -> Option<String> {
    let (id, name) = (escape_html(&a.id), escape_html(name));
    let mut html = String::new();
    for u in &a.units {
        let item = &views.authority_items[*u].as_ref()?[usize::from(a.member)];
        html.push_str(&item.replace(ID_STAND_IN, &id).replace(NAME_STAND_IN, &name));
        html.push('\n');
    }
    Some(html)
}

fn catalog_item(tera: &Tera, options: &RenderOptions, card: &Value) -> Option<String> {
    if !options.list_fragments || !tera.templates.contains_key(CATALOG_ITEM) {
        return None;
    }
    let mut ctx = Context::new();
    ctx.insert("unit", card);
    // A broken entry fails the build where the catalog calls the macro.
    tera.render(CATALOG_ITEM, &ctx).ok()
}

fn template_problem(path: &Path, e: &tera::Error, root: &Path) -> Problem {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    let line = message
        .split("-->")
        .nth(1)
        .and_then(|rest| rest.trim().split(':').next()?.trim().parse::<u64>().ok());
    let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
    let p = Problem::new(path, ProblemKind::Template { message }).relative_to(root);
    match line {
        Some(l) => p.at(l, None),
        None => p,
    }
}

fn escape_html(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + 8);
    for ch in input.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn register_filters(tera: &mut Tera) {
    tera.register_filter("euro", |v: &Value, _: &HashMap<String, Value>| {
        let cents = v
            .as_i64()
            .ok_or_else(|| tera::Error::msg("euro: Zahl (Cent) erwartet"))?;
        Ok(Value::String(Cents(cents).to_string()))
    });
    fn date_filter(f: fn(NaiveDate) -> String) -> impl tera::Filter {
        move |v: &Value, _: &HashMap<String, Value>| {
            let s = v
                .as_str()
                .ok_or_else(|| tera::Error::msg("Datum als Text erwartet"))?;
            let d = crate::model::parse_date(s)
                .ok_or_else(|| tera::Error::msg(format!("kein Datum: {s}")))?;
            Ok(Value::String(f(d)))
        }
    }
    tera.register_filter("date_long", date_filter(time::german_long_date));
    tera.register_filter("date_short", date_filter(time::german_short_date));
}

// ---------------------------------------------------------------- views

/// Pre-computed view data shared by all pages. The form backend keeps one
/// per loaded site and day, and renders its single pages from it.
#[derive(Clone)]
pub struct Views {
    pub(crate) global: Value,
    pub(crate) unit_cards: Vec<Value>,
    pub(crate) course_cards: Vec<Value>,
    pub(crate) topic_cards: Vec<Value>,
    /// Finished catalog entry per unit (see [`RenderOptions::list_fragments`]).
    pub(crate) catalog_items: Vec<Option<String>>,
    /// Finished entries of authority pages per unit (see [`AUTHORITY_ITEM`]).
    pub(crate) authority_items: Vec<Option<[String; 2]>>,
    /// The day the views were made for (next dates depend on it).
    pub(crate) today: NaiveDate,
}

fn unit_url(id: &str) -> String {
    urls::unit(id)
}

fn hours_label(h: f64) -> String {
    let text = if h.fract() == 0.0 {
        format!("{}", h as i64)
    } else {
        format!("{h}").replace('.', ",")
    };
    format!("{text} Std.")
}

fn date_view(unit: &Unit, d: &LiveDate) -> Value {
    let iso = d.date.format("%Y-%m-%d").to_string();
    json!({
        "iso": iso,
        "long": time::german_long_date(d.date),
        "short": time::german_short_date(d.date),
        "capacity": d.capacity,
        "taken": d.taken,
        "free": d.free(),
        "full": d.free() == 0,
        "nearly_full": (1..=2).contains(&d.free()),
        "preparation_opens": time::german_long_date(time::preparation_opens(d.date)),
        "follow_up_opens": time::german_long_date(time::follow_up_opens(d.date)),
        "ics_url": format!("/termine/{}-{iso}.ics", unit.id),
    })
}

fn unit_card(site: &Site, unit: &Unit, today: NaiveDate) -> Value {
    let price = site.unit_price(unit);
    let level = &site.levels[unit.level];
    json!({
        "id": unit.id,
        "url": unit_url(&unit.id),
        "title": unit.title,
        "summary": unit.summary,
        "format": match unit.format { Format::Hybrid => "hybrid", Format::OnDemand => "on-demand" },
        "format_label": match unit.format { Format::Hybrid => "Hybrid", Format::OnDemand => "On-Demand" },
        "level": { "id": level.id, "name": level.name },
        "topics": unit.topics.iter().map(|t| {
            let t = &site.topics[*t];
            json!({ "id": t.id, "title": t.title, "url": urls::topic(&t.id) })
        }).collect::<Vec<_>>(),
        "workload_hours": unit.workload_hours,
        "workload_label": hours_label(unit.workload_hours),
        "is_free": price.member.is_zero(),
        "price": { "member": price.member.0, "non_member": price.non_member.0 },
        "next_date": unit.next_free_date(today).map(|d| date_view(unit, d)),
        "has_free_date": unit.next_free_date(today).is_some(),
        "upcoming_count": unit.upcoming_dates(today).count(),
    })
}

fn course_card(site: &Site, course: &crate::model::Course) -> Value {
    let price = site.course_price(course);
    json!({
        "id": course.id,
        "url": urls::course(&course.id),
        "title": course.title,
        "summary": course.summary,
        "unit_count": course.units.len(),
        "workload_hours": site.course_workload(course),
        "workload_label": hours_label(site.course_workload(course)),
        "price": { "member": price.member.0, "non_member": price.non_member.0 },
    })
}

/// Up to this many authorities, forms offer them in a select.
pub const AUTHORITY_SELECT_LIMIT: usize = 300;

/// Authorities sorted by name, as forms offer them.
fn authority_list(site: &Site) -> Vec<Value> {
    let mut list: Vec<Value> = site
        .authorities
        .iter()
        .map(|a| json!({ "id": a.id, "name": a.display_name(), "member": a.member }))
        .collect();
    list.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    list
}

impl Views {
    pub fn build(site: &Site, tera: &Tera, options: &RenderOptions) -> Views {
        let made: Vec<(Value, Option<String>, Option<[String; 2]>)> = site
            .units
            .par_iter()
            .map(|u| {
                let card = unit_card(site, u, options.today);
                let item = catalog_item(tera, options, &card);
                let staff_items = authority_items(site, tera, options, u, &card);
                (card, item, staff_items)
            })
            .collect();
        let mut unit_cards = Vec::with_capacity(made.len());
        let mut catalog_items = Vec::with_capacity(made.len());
        let mut authority_items = Vec::with_capacity(made.len());
        for (card, item, staff_items) in made {
            unit_cards.push(card);
            catalog_items.push(item);
            authority_items.push(staff_items);
        }
        let (global, course_cards, topic_cards) = site_views(site, options);
        Views {
            global,
            unit_cards,
            course_cards,
            topic_cards,
            catalog_items,
            authority_items,
            today: options.today,
        }
    }

    /// Brings views made for an earlier state of `site` up to date when
    /// only the units at `units` were read again (same units otherwise).
    /// Everything but the unit cards is cheap and made anew.
    pub(crate) fn refresh(
        &mut self,
        site: &Site,
        tera: &Tera,
        options: &RenderOptions,
        units: &[usize],
    ) {
        for &i in units {
            let card = unit_card(site, &site.units[i], options.today);
            self.catalog_items[i] = catalog_item(tera, options, &card);
            self.authority_items[i] = authority_items(site, tera, options, &site.units[i], &card);
            self.unit_cards[i] = card;
        }
        (self.global, self.course_cards, self.topic_cards) = site_views(site, options);
    }

    /// The day the views were made for.
    pub fn today(&self) -> NaiveDate {
        self.today
    }
}

/// The global context, course cards and topic cards.
fn site_views(site: &Site, options: &RenderOptions) -> (Value, Vec<Value>, Vec<Value>) {
    let course_cards = site.courses.iter().map(|c| course_card(site, c)).collect();
    let mut units_per_topic = vec![0usize; site.topics.len()];
    for u in &site.units {
        for t in &u.topics {
            units_per_topic[*t] += 1;
        }
    }
    let topic_cards = site
        .topics
        .iter()
        .enumerate()
        .map(|(i, t)| {
            json!({
                "id": t.id,
                "url": urls::topic(&t.id),
                "title": t.title,
                "summary": t.summary,
                "unit_count": units_per_topic[i],
            })
        })
        .collect();
    let page_link = |id: &str| {
        site.page(id)
            .map(|p| json!({ "title": p.title, "url": format!("/{}/", p.id) }))
    };
    let legal: Vec<Value> = [
        "impressum",
        "datenschutz",
        "barrierefreiheit",
        "leichte-sprache",
        "gebaerdensprache",
    ]
    .iter()
    .filter_map(|id| page_link(id))
    .collect();
    let mut nav = vec![
        json!({ "title": "Lerneinheiten", "url": "/lerneinheiten/" }),
        json!({ "title": "Kurse", "url": "/kurse/" }),
        json!({ "title": "Themen", "url": "/themen/" }),
        json!({ "title": "Kommunen", "url": "/kommunen/" }),
    ];
    nav.extend(["mitgliedschaft"].iter().filter_map(|id| page_link(id)));
    if !site.competence_areas.is_empty() && !site.role_profiles.is_empty() {
        nav.push(json!({ "title": "Selbstcheck", "url": "/selbstcheck/" }));
    }
    nav.push(json!({ "title": "FAQ", "url": "/faq/" }));
    nav.extend(["kontakt"].iter().filter_map(|id| page_link(id)));
    // Every page gets the global context; a select of 11,000 authorities on
    // each page would dominate build time and page weight. Above the limit
    // forms take a typed name (completed from /kommunen.json by script).
    let authorities: Vec<Value> = if site.authorities.len() <= AUTHORITY_SELECT_LIMIT {
        authority_list(site)
    } else {
        Vec::new()
    };
    let c = &site.config;
    let global = json!({
        "name": c.site.name,
        "description": c.site.beschreibung,
        "base_url": c.site.base_url,
        "forms_url": c.forms.url,
        "contact": c.kontakt,
        "nav": nav,
        "legal": legal,
        "year": options.today.year(),
        "live_reload": options.live_reload,
        "live_start": time::live_start_text(),
        "live_end": time::live_end_text(),
        "vat_percent": site.prices.vat_percent,
        "surcharge_percent": site.prices.non_member_surcharge_percent,
        "authorities": authorities,
    });
    (global, course_cards, topic_cards)
}

// ---------------------------------------------------------------- pages

/// A page to render: output path, template, and its own context values.
#[derive(Clone)]
pub(crate) struct Job {
    pub(crate) path: String,
    pub(crate) template: &'static str,
    pub(crate) url: String,
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) values: Vec<(&'static str, Value)>,
}

impl Job {
    pub(crate) fn new(
        url: impl Into<String>,
        template: &'static str,
        title: impl Into<String>,
    ) -> Job {
        let url = url.into();
        let path = if url.ends_with('/') {
            format!("{}index.html", url.trim_start_matches('/'))
        } else {
            url.trim_start_matches('/').to_string()
        };
        Job {
            path,
            template,
            url,
            title: title.into(),
            description: String::new(),
            values: Vec::new(),
        }
    }

    pub(crate) fn describe(mut self, d: &str) -> Job {
        self.description = d.to_string();
        self
    }

    pub(crate) fn with(mut self, key: &'static str, value: Value) -> Job {
        self.values.push((key, value));
        self
    }

    /// The units of a catalog page (`units_html` or `units`, see
    /// [`RenderOptions::list_fragments`]) and `visible_count`.
    pub(crate) fn with_units(self, r: &Renderer, units: &[usize]) -> Job {
        let items: Option<Vec<&str>> = units
            .iter()
            .map(|i| r.views.catalog_items[*i].as_deref())
            .collect();
        let job = match items {
            Some(items) => {
                let html: String = items.iter().flat_map(|item| [*item, "\n"]).collect();
                self.with("units_html", Value::String(html))
            }
            None => {
                let cards = units
                    .iter()
                    .map(|i| r.views.unit_cards[*i].clone())
                    .collect();
                self.with("units", Value::Array(cards))
            }
        };
        job.with("visible_count", json!(units.len()))
    }
}

/// Pages that exist once per item: their contexts are built only when the
/// page is rendered, so a Germany-scale site never holds 13,000 contexts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PageRef {
    Unit(usize),
    Course(usize),
    Topic(usize),
    Lecturer(usize),
    Authority(usize),
    /// One of the site-wide pages built by [`page_jobs`].
    Single(usize),
}

/// A site-wide page (home, lists, FAQ, editor pages, form results, 404).
/// Its context is built only when it is rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Single {
    Home,
    Catalog,
    Courses,
    Topics,
    Authorities,
    Faq,
    /// An editor page, by index in `site.pages`.
    Page(usize),
    FormatCatalog(Format),
    /// Catalog of one level, by index in `site.levels`.
    LevelCatalog(usize),
    Search,
    SelfCheck,
    /// By index in [`FORM_RESULTS`].
    FormResult(usize),
    NotFound,
}

impl PageRef {
    /// The kind of page, for profiles.
    pub fn kind(self) -> &'static str {
        match self {
            PageRef::Unit(_) => "Lerneinheiten",
            PageRef::Course(_) => "Kurse",
            PageRef::Topic(_) => "Themen",
            PageRef::Lecturer(_) => "Dozierende",
            PageRef::Authority(_) => "Kommunen",
            PageRef::Single(_) => "Übersichten",
        }
    }
}

impl Single {
    /// Every site-wide page of `site`, in a stable order.
    pub fn all(site: &Site) -> Vec<Single> {
        let mut all = vec![
            Single::Home,
            Single::Catalog,
            Single::Courses,
            Single::Topics,
            Single::Authorities,
            Single::Faq,
        ];
        all.extend((0..site.pages.len()).map(Single::Page));
        all.extend([Format::Hybrid, Format::OnDemand].map(Single::FormatCatalog));
        all.extend((0..site.levels.len()).map(Single::LevelCatalog));
        all.push(Single::Search);
        if !site.competence_areas.is_empty() && !site.role_profiles.is_empty() {
            all.push(Single::SelfCheck);
        }
        all.extend((0..FORM_RESULTS.len()).map(Single::FormResult));
        all.push(Single::NotFound);
        all
    }

    pub fn url(self, site: &Site) -> String {
        match self {
            Single::Home => "/".into(),
            Single::Catalog => urls::CATALOG.into(),
            Single::Courses => "/kurse/".into(),
            Single::Topics => "/themen/".into(),
            Single::Authorities => "/kommunen/".into(),
            Single::Faq => "/faq/".into(),
            Single::Page(i) => format!("/{}/", site.pages[i].id),
            Single::FormatCatalog(f) => crate::discovery::format_url(f),
            Single::LevelCatalog(i) => urls::level_catalog(&site.levels[i].id),
            Single::Search => "/suche/".into(),
            Single::SelfCheck => "/selbstcheck/".into(),
            Single::FormResult(i) => urls::form_result(FORM_RESULTS[i].0),
            Single::NotFound => "/404.html".into(),
        }
    }

    pub fn template(self, site: &Site) -> &'static str {
        match self {
            Single::Home => "index.html",
            Single::Catalog | Single::FormatCatalog(_) | Single::LevelCatalog(_) => "catalog.html",
            Single::Courses => "courses.html",
            Single::Topics => "topics.html",
            Single::Authorities => "authorities.html",
            Single::Faq => "faq.html",
            Single::Page(i) => match site.pages[i].template {
                PageTemplate::Seite => "page.html",
                PageTemplate::Mitgliedschaft => "membership.html",
                PageTemplate::Kontakt => "contact.html",
                PageTemplate::Newsletter => "newsletter.html",
                PageTemplate::Registrierung => "registration.html",
            },
            Single::Search => "search.html",
            Single::SelfCheck => "selfcheck.html",
            Single::FormResult(_) => "form_result.html",
            Single::NotFound => "404.html",
        }
    }
}

/// Everything shared by the pages of one render: views and reverse indexes.
pub struct Renderer<'a> {
    pub(crate) site: &'a Site,
    tera: &'a Tera,
    pub(crate) options: &'a RenderOptions,
    /// Own views (a build) or views kept by the caller (the form backend).
    pub(crate) views: std::borrow::Cow<'a, Views>,
    pub(crate) by_title: Vec<usize>,
    pub(crate) courses_by_unit: Vec<Vec<usize>>,
    pub(crate) authorities_by_unit: Vec<Vec<usize>>,
    pub(crate) singles: Vec<Single>,
    /// Filter data per unit, made once for all pre-filtered catalogs.
    filter_units: std::sync::OnceLock<Vec<crate::discovery::FilterUnit>>,
    /// Whether finished authority entries equal what the macro makes.
    authority_items_match: std::sync::OnceLock<bool>,
}

impl<'a> Renderer<'a> {
    pub fn new(site: &'a Site, tera: &'a Tera, options: &'a RenderOptions) -> Renderer<'a> {
        Renderer::with_views(site, tera, options, Views::build(site, tera, options))
    }

    /// A renderer with views made before (see [`Views::refresh`]).
    pub(crate) fn with_views(
        site: &'a Site,
        tera: &'a Tera,
        options: &'a RenderOptions,
        views: Views,
    ) -> Renderer<'a> {
        Renderer::with_cow(site, tera, options, std::borrow::Cow::Owned(views))
    }

    /// A renderer on views the caller keeps (made for `options.today`).
    pub fn with_shared_views(
        site: &'a Site,
        tera: &'a Tera,
        options: &'a RenderOptions,
        views: &'a Views,
    ) -> Renderer<'a> {
        Renderer::with_cow(site, tera, options, std::borrow::Cow::Borrowed(views))
    }

    fn with_cow(
        site: &'a Site,
        tera: &'a Tera,
        options: &'a RenderOptions,
        views: std::borrow::Cow<'a, Views>,
    ) -> Renderer<'a> {
        let mut by_title: Vec<usize> = (0..site.units.len()).collect();
        by_title.sort_by(|a, b| site.units[*a].title.cmp(&site.units[*b].title));
        Renderer {
            site,
            tera,
            options,
            views,
            by_title,
            courses_by_unit: site.courses_by_unit(),
            authorities_by_unit: site.authorities_by_unit(),
            singles: Single::all(site),
            filter_units: std::sync::OnceLock::new(),
            authority_items_match: std::sync::OnceLock::new(),
        }
    }

    /// Renders one entry of a member and of a non-member authority with the
    /// macro itself and compares: a theme whose macro tests or transforms
    /// the authority's id or name gets the macro on every page instead.
    fn authority_items_match(&self) -> bool {
        *self.authority_items_match.get_or_init(|| {
            let (site, views) = (self.site, &self.views);
            [false, true].iter().all(|member| {
                let Some(a) = site
                    .authorities
                    .iter()
                    .find(|a| a.member == *member && !a.units.is_empty())
                else {
                    return true;
                };
                let u = a.units[0];
                let name = a.display_name();
                let mut ctx = Context::new();
                ctx.insert(
                    "unit",
                    &staff_card(site, &site.units[u], &views.unit_cards[u], a.member),
                );
                ctx.insert("kommune_id", &a.id);
                ctx.insert("kommune_name", &name);
                let direct = self.tera.render(AUTHORITY_ITEM, &ctx).ok();
                let pasted = views.authority_items[u].as_ref().map(|items| {
                    items[usize::from(a.member)]
                        .replace(ID_STAND_IN, &escape_html(&a.id))
                        .replace(NAME_STAND_IN, &escape_html(&name))
                });
                direct.is_some() && direct == pasted
            })
        })
    }

    pub(crate) fn filter_units(&self) -> &[crate::discovery::FilterUnit] {
        self.filter_units.get_or_init(|| {
            self.site
                .units
                .iter()
                .map(|u| crate::discovery::FilterUnit::of(self.site, u, self.options.today))
                .collect()
        })
    }

    /// Every page of the site, in a stable order.
    pub fn pages(&self) -> Vec<PageRef> {
        all_pages(self.site, self.singles.len())
    }

    /// The URL path of a page, without rendering it.
    pub fn url(&self, page: PageRef) -> String {
        page_url(self.site, &self.singles, page)
    }

    pub fn render(&self, page: PageRef) -> Result<Output, Problem> {
        render_job(self.site, self.tera, &self.views, self.job(page))
    }

    /// Renders `page` with `extra` context values added (form errors, ...).
    pub fn render_with(
        &self,
        page: PageRef,
        extra: &[(&'static str, Value)],
    ) -> Result<Output, Problem> {
        let mut job = self.job(page);
        job.values.extend(extra.iter().cloned());
        render_job(self.site, self.tera, &self.views, job)
    }

    pub fn find(&self, url: &str) -> Option<PageRef> {
        self.pages().into_iter().find(|p| self.url(*p) == url)
    }

    fn cards(&self, idx: impl Iterator<Item = usize>) -> Value {
        Value::Array(idx.map(|i| self.views.unit_cards[i].clone()).collect())
    }

    fn job(&self, page: PageRef) -> Job {
        let (site, views, today) = (self.site, &self.views, self.options.today);
        match page {
            PageRef::Unit(i) => {
                let unit = &site.units[i];
                let price = site.unit_price(unit);
                let level = &site.levels[unit.level];
                let mut view = views.unit_cards[i].clone();
                merge(
                    &mut view,
                    json!({
                        "content": markdown::to_html(&unit.body),
                        "competences": unit.competences,
                        "lecturers": unit.lecturers.iter().map(|l| {
                            let l = &site.lecturers[*l];
                            json!({ "id": l.id, "name": l.name, "role": l.role, "url": urls::lecturer(&l.id) })
                        }).collect::<Vec<_>>(),
                        "dates": unit.upcoming_dates(today).map(|d| date_view(unit, d)).collect::<Vec<_>>(),
                        "start_link": unit.start_link,
                        "vat_percent": site.prices.vat_percent,
                        "vat_member": price.member.vat_included(site.prices.vat_percent).0,
                        "vat_non_member": price.non_member.vat_included(site.prices.vat_percent).0,
                        "surcharge_percent": site.prices.non_member_surcharge_percent,
                        "billing_unit": level.billing_unit,
                    }),
                );
                let courses: Vec<Value> = self.courses_by_unit[i]
                    .iter()
                    .map(|ci| views.course_cards[*ci].clone())
                    .collect();
                let selected_by: Vec<Value> = self.authorities_by_unit[i]
                    .iter()
                    .map(|ai| {
                        let a = &site.authorities[*ai];
                        json!({ "id": a.id, "name": a.display_name(), "url": urls::authority(&a.id) })
                    })
                    .collect();
                Job::new(unit_url(&unit.id), "unit.html", &unit.title)
                    .describe(&unit.summary)
                    .with(
                        "section",
                        json!({ "title": "Lerneinheiten", "url": "/lerneinheiten/" }),
                    )
                    .with("unit", view)
                    .with("courses", Value::Array(courses))
                    .with("selected_by", Value::Array(selected_by))
            }
            PageRef::Course(ci) => {
                let course = &site.courses[ci];
                let mut view = views.course_cards[ci].clone();
                merge(
                    &mut view,
                    json!({
                        "content": markdown::to_html(&course.body),
                        "certificate": course.certificate,
                        "electives_required": course.electives_required,
                        "vat_percent": site.prices.vat_percent,
                        "units": course.units.iter().map(|cu| json!({
                            "role": match cu.role { UnitRole::Pflicht => "pflicht", UnitRole::Wahlpflicht => "wahlpflicht" },
                            "role_label": match cu.role { UnitRole::Pflicht => "Pflicht", UnitRole::Wahlpflicht => "Wahlpflicht" },
                            "unit": views.unit_cards[cu.unit],
                        })).collect::<Vec<_>>(),
                    }),
                );
                Job::new(urls::course(&course.id), "course.html", &course.title)
                    .describe(&course.summary)
                    .with("section", json!({ "title": "Kurse", "url": "/kurse/" }))
                    .with("course", view)
            }
            PageRef::Topic(ti) => {
                let topic = &site.topics[ti];
                let mut view = views.topic_cards[ti].clone();
                merge(
                    &mut view,
                    json!({ "content": markdown::to_html(&topic.body) }),
                );
                let units = self
                    .by_title
                    .iter()
                    .copied()
                    .filter(|u| site.units[*u].topics.contains(&ti));
                Job::new(urls::topic(&topic.id), "topic.html", &topic.title)
                    .describe(&topic.summary)
                    .with("section", json!({ "title": "Themen", "url": "/themen/" }))
                    .with("topic", view)
                    .with("units", self.cards(units))
            }
            PageRef::Lecturer(li) => {
                let lecturer = &site.lecturers[li];
                let units = self
                    .by_title
                    .iter()
                    .copied()
                    .filter(|u| site.units[*u].lecturers.contains(&li));
                Job::new(urls::lecturer(&lecturer.id), "lecturer.html", &lecturer.name)
                    .describe(&lecturer.role)
                    .with("lecturer", json!({ "id": lecturer.id, "name": lecturer.name, "role": lecturer.role, "content": markdown::to_html(&lecturer.body) }))
                    .with("units", self.cards(units))
            }
            PageRef::Authority(ai) => {
                let a = &site.authorities[ai];
                let name = a.display_name();
                let pasted = self
                    .authority_items_match()
                    .then(|| authority_units_html(views, a, &name))
                    .flatten();
                let units = match pasted {
                    Some(html) => ("units_html", Value::String(html)),
                    None => (
                        "units",
                        a.units
                            .iter()
                            .map(|u| {
                                staff_card(site, &site.units[*u], &views.unit_cards[*u], a.member)
                            })
                            .collect(),
                    ),
                };
                Job::new(urls::authority(&a.id), "authority.html", &name)
                    .with("section", json!({ "title": "Kommunen", "url": "/kommunen/" }))
                    .describe(&format!("Lernangebote der KommunalCampus eG für die Beschäftigten von {name}."))
                    .with(
                        "authority",
                        json!({
                            "id": a.id, "url": urls::authority(&a.id), "name": name, "kind": a.kind,
                            "member": a.member, "employees": a.employees, "logo": a.logo,
                            "picture": { "file": a.picture.file, "alt": a.picture.alt },
                            "content": markdown::to_html(&a.body), "contact": a.contact,
                            "approval": match a.approval { Approval::Genossenschaft => "genossenschaft", Approval::Kommune => "kommune" },
                            "approver_email": a.approver_email,
                            "selfcheck_url": (!site.competence_areas.is_empty() && !site.role_profiles.is_empty())
                                .then(|| format!("{}{}?kommune={}", site.config.forms.url, urls::SELFCHECK, a.id)),
                        }),
                    )
                    .with(units.0, units.1)
                    .with("unit_count", json!(a.units.len()))
            }
            PageRef::Single(i) => self.single_job(self.singles[i]),
        }
    }

    /// Calendar files, sitemap, robots.txt and the authority list for forms.
    pub fn extra_outputs(&self) -> Vec<Output> {
        extra_outputs(self.site, self.options)
    }
}

/// Every page of `site`, in a stable order (see [`Renderer::pages`]).
fn all_pages(site: &Site, singles: usize) -> Vec<PageRef> {
    (0..singles)
        .map(PageRef::Single)
        .chain((0..site.units.len()).map(PageRef::Unit))
        .chain((0..site.courses.len()).map(PageRef::Course))
        .chain((0..site.topics.len()).map(PageRef::Topic))
        .chain((0..site.lecturers.len()).map(PageRef::Lecturer))
        .chain((0..site.authorities.len()).map(PageRef::Authority))
        .collect()
}

fn page_url(site: &Site, singles: &[Single], page: PageRef) -> String {
    match page {
        PageRef::Unit(i) => unit_url(&site.units[i].id),
        PageRef::Course(i) => urls::course(&site.courses[i].id),
        PageRef::Topic(i) => urls::topic(&site.topics[i].id),
        PageRef::Lecturer(i) => urls::lecturer(&site.lecturers[i].id),
        PageRef::Authority(i) => urls::authority(&site.authorities[i].id),
        PageRef::Single(i) => singles[i].url(site),
    }
}

/// The files besides pages: calendar files, authority list for forms,
/// search index, sitemap and robots.txt. Needs no templates, so `campus
/// serve` makes them apart from the pages, after them.
pub fn extra_outputs(site: &Site, options: &RenderOptions) -> Vec<Output> {
    extra_outputs_with_index(
        site,
        options,
        &crate::search::site_index(site, options.today),
    )
}

/// [`extra_outputs`] with a search index made by the caller (`campus serve`
/// hands the same index to the form backend's search).
pub fn extra_outputs_with_index(
    site: &Site,
    options: &RenderOptions,
    index: &crate::search::Index,
) -> Vec<Output> {
    let mut outputs = calendar_files(site, options);
    outputs.push(Output {
        path: "kommunen.json".into(),
        bytes: Value::Array(authority_list(site)).to_string().into_bytes(),
    });
    outputs.extend(crate::discovery::outputs(index));
    let singles = Single::all(site);
    let mut urls: Vec<String> = all_pages(site, singles.len())
        .into_iter()
        .map(|p| page_url(site, &singles, p))
        .filter(|u| u.ends_with('/') && !u.starts_with("/formular/"))
        .collect();
    urls.sort();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    for u in urls {
        xml.push_str(&format!(
            "  <url><loc>{}{}</loc></url>\n",
            site.config.site.base_url, u
        ));
    }
    xml.push_str("</urlset>\n");
    outputs.push(Output {
        path: "sitemap.xml".into(),
        bytes: xml.into_bytes(),
    });
    outputs.push(Output {
        path: "robots.txt".into(),
        bytes: format!(
            "User-agent: *\nAllow: /\nDisallow: /forms/\n\nSitemap: {}/sitemap.xml\n",
            site.config.site.base_url
        )
        .into_bytes(),
    });
    outputs
}

impl Renderer<'_> {
    /// The job of a site-wide page, its context built now.
    fn single_job(&self, single: Single) -> Job {
        let (site, views, today) = (self.site, &self.views, self.options.today);
        let cards = |idx: &[usize]| {
            Value::Array(idx.iter().map(|i| views.unit_cards[*i].clone()).collect())
        };
        let url = single.url(site);
        let template = single.template(site);
        match single {
            Single::Home => {
                let mut upcoming: Vec<(NaiveDate, usize)> = site
                    .units
                    .iter()
                    .enumerate()
                    .filter_map(|(i, u)| u.next_free_date(today).map(|d| (d.date, i)))
                    .collect();
                upcoming.sort();
                let upcoming: Vec<usize> = upcoming.into_iter().take(6).map(|(_, i)| i).collect();
                Job::new(url, template, &site.home.title)
                    .describe(&site.home.description)
                    .with(
                        "home",
                        json!({ "title": site.home.title, "content": markdown::to_html(&site.home.body) }),
                    )
                    .with("topics", Value::Array(views.topic_cards.clone()))
                    .with("upcoming", cards(&upcoming))
                    .with("courses", Value::Array(views.course_cards.clone()))
                    .with("authority_count", json!(site.authorities.len()))
                    .with("unit_count", json!(site.units.len()))
            }
            Single::Catalog => Job::new(url, template, "Alle Lerneinheiten")
                .describe("Alle Lerneinheiten der KommunalCampus eG mit Format, Niveau, Preis und Terminen.")
                .with_units(self, &self.by_title)
                .with("topics", Value::Array(views.topic_cards.clone()))
                .with("levels", Value::Array(site.levels.iter().map(|l| json!({ "id": l.id, "name": l.name })).collect()))
                .with("formats", json!([{ "id": "hybrid", "label": "Hybrid" }, { "id": "on-demand", "label": "On-Demand" }])),
            Single::Courses => Job::new(url, template, "Kurse")
                .describe("Kurse aus mehreren Lerneinheiten mit Zertifikat.")
                .with("courses", Value::Array(views.course_cards.clone())),
            Single::Topics => Job::new(url, template, "Themen")
                .describe("Die Themen und Module der Lerneinheiten.")
                .with("topics", Value::Array(views.topic_cards.clone())),
            Single::Authorities => {
                let mut list: Vec<&crate::model::Authority> =
                    site.authorities.iter().map(std::sync::Arc::as_ref).collect();
                list.sort_by_key(|a| a.display_name());
                Job::new(url, template, "Kommunen")
                    .describe("Die Kommunen der KommunalCampus eG und ihre Lernangebote.")
                    .with("authorities", Value::Array(list.iter().map(|a| json!({ "id": a.id, "url": urls::authority(&a.id), "name": a.display_name(), "kind": a.kind, "member": a.member, "logo": a.logo })).collect()))
            }
            Single::Faq => {
                let categories: Vec<Value> = site
                    .faq_categories
                    .iter()
                    .enumerate()
                    .map(|(ci, c)| {
                        let mut entries: Vec<&crate::model::FaqEntry> = site.faq.iter().filter(|e| e.category == ci).collect();
                        entries.sort_by(|a, b| (a.order.unwrap_or(i64::MAX), &a.question).cmp(&(b.order.unwrap_or(i64::MAX), &b.question)));
                        json!({
                            "id": c.id, "name": c.name,
                            "entries": entries.iter().map(|e| json!({ "id": e.id, "question": e.question, "content": markdown::to_html_below(&e.body, 4) })).collect::<Vec<_>>(),
                        })
                    })
                    .filter(|c| c["entries"].as_array().is_some_and(|e| !e.is_empty()))
                    .collect();
                Job::new(url, template, "Häufige Fragen")
                    .describe("Antworten auf häufige Fragen zu Mitgliedschaft, Kosten, Buchung und Plattform.")
                    .with("categories", Value::Array(categories))
            }
            Single::Page(i) => {
                let page = &site.pages[i];
                let job = Job::new(url, template, &page.title)
                    .describe(&page.description)
                    .with("page", json!({ "id": page.id, "title": page.title, "content": markdown::to_html(&page.body) }));
                if page.template == PageTemplate::Mitgliedschaft {
                    job.with("membership", membership_view(site))
                } else {
                    job
                }
            }
            Single::FormatCatalog(format) => crate::discovery::format_catalog_job(self, format),
            Single::LevelCatalog(level) => crate::discovery::level_catalog_job(self, level),
            Single::Search => crate::discovery::search_job(site),
            Single::SelfCheck => crate::discovery::selfcheck_job(site),
            Single::FormResult(i) => {
                let (id, kind) = FORM_RESULTS[i];
                Job::new(url, template, "").with("result", json!({ "id": id, "kind": kind }))
            }
            Single::NotFound => Job::new(url, template, "Seite nicht gefunden"),
        }
    }
}

/// The share table and the rules the calculator script needs.
pub fn membership_view(site: &Site) -> Value {
    let m = &site.membership;
    let rows: Vec<Value> = m
        .table()
        .into_iter()
        .map(|(from, to, q)| {
            let label = match to {
                Some(to) => format!("{} bis {}", group_thousands(from.into()), group_thousands(to.into())),
                None => format!("mehr als {}", group_thousands((from - 1).into())),
            };
            json!({ "from": from, "to": to, "label": label, "shares": q.shares, "deposit": q.deposit.0, "annual_fee": q.annual_fee.0 })
        })
        .collect();
    let rules = json!({
        "share_value_cents": m.share_value.0,
        "brackets": m.brackets.iter().map(|(to, shares)| json!([to, shares])).collect::<Vec<_>>(),
        "fee_factor": m.annual_fee_factor,
    });
    json!({
        "share_value": m.share_value.0,
        "rows": rows,
        "fee_factor": m.annual_fee_factor,
        "reduction_percent": m.reduction_percent_of_bookings,
        "reduction_max_percent": m.reduction_max_percent,
        // Escaped so the JSON cannot close its <script> element.
        "rules_json": rules.to_string().replace('<', "\\u003c"),
        "calculator_url": format!("{}{}", site.config.forms.url, urls::CALCULATOR),
    })
}

fn merge(target: &mut Value, extra: Value) {
    if let (Value::Object(t), Value::Object(e)) = (target, extra) {
        t.extend(e);
    }
}

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
    let profile = Profile::new();
    let started = std::time::Instant::now();
    let renderer = Renderer::new(site, tera, options);
    profile.add("Sichten", started.elapsed());
    let pages = renderer.pages();
    // The derived files (mostly the search index) are made beside the pages,
    // not after them.
    let (mut problems, extra) = rayon::join(
        || -> Vec<Problem> {
            pages
                .par_iter()
                .filter_map(|p| {
                    let started = std::time::Instant::now();
                    let page = renderer.render(*p);
                    let rendered = started.elapsed();
                    let written = page.and_then(sink);
                    profile.add(p.kind(), rendered);
                    profile.add("schreiben", started.elapsed() - rendered);
                    written.err()
                })
                .collect()
        },
        || {
            let started = std::time::Instant::now();
            let extra = renderer.extra_outputs();
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
    let count = pages.len() + extra.len();
    for o in extra {
        sink(o)?;
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

/// Renders one job. The job is consumed: its values move into the template
/// context instead of being deep-copied (copying JSON dominated build time).
fn render_job(site: &Site, tera: &Tera, views: &Views, job: Job) -> Result<Output, Problem> {
    let mut data = serde_json::Map::with_capacity(job.values.len() + 4);
    data.insert("site".into(), views.global.clone());
    data.insert("page_url".into(), Value::String(job.url));
    data.insert("page_title".into(), Value::String(job.title));
    data.insert("description".into(), Value::String(job.description));
    for (k, v) in job.values {
        data.insert(k.into(), v);
    }
    // The form macros read `form` (a form the backend shows again); on
    // generated pages it names no form.
    data.entry("form").or_insert_with(
        || json!({ "name": "", "values": {}, "errors": {}, "error_list": [], "ts": "" }),
    );
    let ctx = Context::from_value(Value::Object(data)).expect("an object is a valid context");
    let html = tera.render(job.template, &ctx).map_err(|e| {
        let theme_file = site
            .config
            .theme_dir(&site.root)
            .join("templates")
            .join(job.template);
        template_problem(&theme_file, &e, &site.root)
    })?;
    Ok(Output {
        path: job.path,
        bytes: html.into_bytes(),
    })
}

fn calendar_files(site: &Site, options: &RenderOptions) -> Vec<Output> {
    let host = site
        .config
        .site
        .base_url
        .split("://")
        .nth(1)
        .unwrap_or("kommunalcampus")
        .split(['/', ':'])
        .next()
        .unwrap_or("kommunalcampus")
        .to_string();
    site.units
        .iter()
        .flat_map(|u| u.upcoming_dates(options.today).map(move |d| (u, d)))
        .map(|(u, d)| {
            let event = ics::LiveEvent {
                uid: ics::uid_for(&u.id, d.date, &host),
                sequence: 0,
                summary: &u.title,
                description: ics::describe(d.date),
                date: d.date,
                url: Some(format!("{}{}", site.config.site.base_url, unit_url(&u.id))),
                stamp: options.stamp,
            };
            Output {
                path: format!("termine/{}-{}.ics", u.id, d.date.format("%Y-%m-%d")),
                bytes: ics::calendar(&event).into_bytes(),
            }
        })
        .collect()
}
