//! The validated, linked content model shared by the generator and the form
//! backend. References are indices into the site's vectors, so lookups are
//! cheap and nothing is copied per page. No rendering happens here.

use crate::config::Config;
use crate::content::{
    self, Approval, AuthorityKind, Format, PageTemplate, RawAuthority, RawCompetenceArea,
    RawContact, RawCourse, RawEvent, RawFaq, RawFaqCategory, RawHome, RawLecturer, RawLevel,
    RawMembership, RawPage, RawPostalAddress, RawPriceRules, RawProvider, RawRoleProfile, RawTopic,
    RawUnit, SourceFile, UnitRole,
};
use crate::error::{Problem, ProblemKind, Problems, RefKind};
use crate::links::{self, SiteLink};
use crate::money::Cents;
use crate::slug;
use chrono::NaiveDate;
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use names::NameForms;
pub use video::Video;

pub mod cancellation;
mod checks;
pub mod domains;
pub mod evaluation;
mod event;
pub mod exclusive;
mod internal;
mod link;
mod names;
mod patch;
mod pricing;
mod provider;
mod video;

pub use event::{Event, Venue};
pub use link::parse_date;
pub use patch::{patch, Patched};
pub use pricing::{Membership, MembershipQuote, Price, PriceRules, YearlyFee};
pub use provider::{Certification, Provider};

use checks::{
    check_data_entries, check_image, check_prerequisite_cycles, check_svg_files, drop_consequences,
    StaticFiles,
};
use link::{
    accept_ids, collect, index_of, link_areas, link_authority, link_course, link_faq,
    link_lecturer, link_membership, link_page, link_profiles, link_unit, with_broken, UnitRefs,
};

/// Pages every site must have, by id.
pub const REQUIRED_PAGES: [&str; 8] = [
    "mitgliedschaft",
    "kontakt",
    "newsletter",
    "impressum",
    "datenschutz",
    "barrierefreiheit",
    "leichte-sprache",
    "registrierung",
];

/// The folders below `content/` the build reads, one per kind of content.
pub const CONTENT_FOLDERS: [&str; 9] = [
    "themen",
    "dozierende",
    "anbieter",
    "einheiten",
    "kurse",
    "kommunen",
    "faq",
    "seiten",
    "veranstaltungen",
];

/// First path segments the generator uses itself; pages cannot take them.
pub const RESERVED_IDS: [&str; 15] = [
    "lerneinheiten",
    "anbieter",
    "kurse",
    "themen",
    "dozierende",
    "kommunen",
    "faq",
    "termine",
    "formular",
    "forms",
    "assets",
    "bilder",
    "suche",
    "selbstcheck",
    "veranstaltungen",
];

#[derive(Debug, Clone)]
pub struct Site {
    pub root: PathBuf,
    pub config: Config,
    pub levels: Vec<Level>,
    pub prices: PriceRules,
    pub membership: Membership,
    /// `data/stornobedingungen.yaml`; without it cancelling is always free.
    pub cancellation: Option<cancellation::CancellationTerms>,
    pub faq_categories: Vec<FaqCategory>,
    pub topics: Vec<Topic>,
    pub lecturers: Vec<Lecturer>,
    /// Education providers, sorted by name.
    pub providers: Vec<Provider>,
    pub units: Vec<Arc<Unit>>,
    pub courses: Vec<Course>,
    /// Shared, so a rebuild after one edit copies pointers, not 11,000 texts.
    pub authorities: Vec<Arc<Authority>>,
    pub faq: Vec<FaqEntry>,
    /// Events, by date and start time.
    pub events: Vec<Event>,
    pub pages: Vec<Page>,
    pub home: Home,
    /// Self-check: competence areas (empty when `data/kompetenzen.yaml` is absent).
    pub competence_areas: Vec<CompetenceArea>,
    /// Self-check: role profiles (empty when `data/rollenprofile.yaml` is absent).
    pub role_profiles: Vec<RoleProfile>,
    /// Questions of the evaluation form (empty when `data/bewertung.yaml` is absent).
    pub evaluation: Vec<evaluation::Question>,
    /// Links of the bodies to pages and anchors of this site, checked once
    /// the pages are rendered.
    /// Shared between a site and its patched successors while no edit
    /// changes a link.
    pub links: Arc<Vec<SiteLink>>,
    /// What the editors should know but does not stop the build.
    pub warnings: Vec<Problem>,
    /// The raster pictures below `static/`: sizes and smaller copies.
    pub images: crate::images::Images,
    /// Style sheets and scripts, minified under fingerprinted names.
    pub assets: crate::assets::Assets,
}

/// A competence area of the self-check with its named levels (0 upwards).
#[derive(Debug, Clone)]
pub struct CompetenceArea {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Level names; index = level.
    pub levels: Vec<String>,
}

impl CompetenceArea {
    pub fn max_level(&self) -> u8 {
        self.levels.len().saturating_sub(1) as u8
    }
}

/// A role profile: the target level per competence area.
#[derive(Debug, Clone)]
pub struct RoleProfile {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Target level per competence area, by area index (0 = no target).
    pub targets: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct Level {
    pub id: String,
    pub name: String,
    pub description: String,
    pub member_price: Cents,
    /// What one price buys: "Lizenz", "Teilnahme", "Person".
    pub billing_unit: String,
}

#[derive(Debug, Clone)]
pub struct FaqCategory {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct Topic {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub order: Option<i64>,
    pub body: String,
    pub source: PathBuf,
}

#[derive(Debug, Clone)]
pub struct Lecturer {
    pub id: String,
    pub name: String,
    pub role: String,
    pub body: String,
    pub source: PathBuf,
}

/// Places booked on the platform per (unit id, live date).
pub type Bookings = HashMap<(String, NaiveDate), u32>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveDate {
    pub date: NaiveDate,
    pub capacity: u32,
    /// Places already taken when the content was written.
    pub taken: u32,
    /// File line of the date, for messages.
    pub line: u64,
}

impl LiveDate {
    pub fn free(&self) -> u32 {
        self.capacity.saturating_sub(self.taken)
    }
}

#[derive(Debug, Clone)]
pub struct Unit {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub format: Format,
    pub level: usize,
    pub topics: Vec<usize>,
    pub lecturers: Vec<usize>,
    /// The education provider (index in `site.providers`).
    pub provider: Option<usize>,
    /// The authority (index) whose own internal unit this is; `None` for
    /// the public programme.
    pub internal_to: Option<usize>,
    pub workload_hours: f64,
    pub competences: Vec<String>,
    /// Sorted by date.
    pub dates: Vec<LiveDate>,
    pub start_link: Option<String>,
    /// Hybrid units: the preparation module in the learning platform.
    pub preparation_link: Option<String>,
    /// (competence area index, level reached), sorted by area.
    pub raises: Vec<(usize, u8)>,
    /// Units to take before this one (indices), in the editor's order.
    pub prerequisites: Vec<usize>,
    pub body: String,
    pub source: PathBuf,
}

impl Unit {
    /// Whether the unit belongs to the public programme (catalog, search,
    /// sitemap); an internal unit shows only on its authority's page.
    pub fn is_public(&self) -> bool {
        self.internal_to.is_none()
    }

    /// The first date on or after `today` that still has free places.
    pub fn next_free_date(&self, today: NaiveDate) -> Option<&LiveDate> {
        self.dates.iter().find(|d| d.date >= today && d.free() > 0)
    }

    pub fn upcoming_dates(&self, today: NaiveDate) -> impl Iterator<Item = &LiveDate> {
        self.dates.iter().filter(move |d| d.date >= today)
    }
}

#[derive(Debug, Clone)]
pub struct CourseUnit {
    pub unit: usize,
    pub role: UnitRole,
}

#[derive(Debug, Clone)]
pub struct Course {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub units: Vec<CourseUnit>,
    pub electives_required: u32,
    pub certificate: String,
    /// The price of the whole course for one authority's staff
    /// (`data/exklusivkurse.yaml`); `None`: not offered exclusively.
    pub exclusive: Option<exclusive::ExclusivePrice>,
    pub body: String,
    pub source: PathBuf,
}

#[derive(Debug, Clone)]
pub struct Picture {
    pub file: String,
    pub alt: String,
}

#[derive(Debug, Clone)]
pub struct Authority {
    pub id: String,
    pub name: String,
    pub kind: AuthorityKind,
    pub member: bool,
    pub employees: u32,
    pub logo: String,
    pub picture: Picture,
    pub units: Vec<usize>,
    pub contact: RawContact,
    pub approval: Approval,
    pub approver_email: Option<String>,
    /// Lower-case mail domains of its staff; empty = not restricted.
    pub mail_domains: Vec<String>,
    pub leitweg_id: Option<String>,
    pub billing_address: Option<RawPostalAddress>,
    /// The name with article in every case ("des Landkreises Falkenried").
    pub names: NameForms,
    pub body: String,
    pub source: PathBuf,
}

impl Authority {
    /// Whether `email` may book or register for this authority: its domain is
    /// one of the listed ones exactly (a subdomain counts only if listed).
    pub fn accepts_email(&self, email: &str) -> bool {
        self.mail_domains.is_empty()
            || domains::domain_of(email).is_some_and(|d| self.mail_domains.contains(&d))
    }

    /// "Stadt Lindenfeld", "Landkreis Musterkreis".
    pub fn display_name(&self) -> String {
        names::display_name(self.kind, &self.name)
    }
}

#[derive(Debug, Clone)]
pub struct FaqEntry {
    pub id: String,
    pub question: String,
    pub category: usize,
    pub order: Option<i64>,
    pub body: String,
    pub source: PathBuf,
}

#[derive(Debug, Clone)]
pub struct Page {
    pub id: String,
    pub title: String,
    pub description: String,
    pub template: PageTemplate,
    pub videos: Vec<Video>,
    pub body: String,
    pub source: PathBuf,
}

#[derive(Debug, Clone)]
pub struct Home {
    pub title: String,
    pub description: String,
    pub body: String,
}

impl Site {
    pub fn unit_index(&self, id: &str) -> Option<usize> {
        self.units.iter().position(|u| u.id == id)
    }

    pub fn authority(&self, id: &str) -> Option<&Authority> {
        self.authorities
            .iter()
            .map(Arc::as_ref)
            .find(|a| a.id == id)
    }

    /// The authority a person named in a form: its id, or its name typed
    /// with or without the kind ("Ahornfeld", "Stadt Ahornfeld"), any case.
    pub fn find_authority(&self, input: &str) -> Option<&Authority> {
        let wanted = input.trim();
        self.authority(wanted).or_else(|| {
            let lower = wanted.to_lowercase();
            self.authorities.iter().map(Arc::as_ref).find(|a| {
                a.display_name().to_lowercase() == lower || a.name.to_lowercase() == lower
            })
        })
    }

    pub fn page(&self, id: &str) -> Option<&Page> {
        self.pages.iter().find(|p| p.id == id)
    }

    pub fn unit_price(&self, unit: &Unit) -> Price {
        self.prices.price(self.levels[unit.level].member_price)
    }

    /// Mandatory units plus the cheapest required electives.
    pub fn course_price(&self, course: &Course) -> Price {
        let member = self.course_sum(course, |u| self.levels[u.level].member_price.0 as f64);
        self.prices.price(Cents(member as i64))
    }

    /// Workload of mandatory units plus the shortest required electives.
    pub fn course_workload(&self, course: &Course) -> f64 {
        self.course_sum(course, |u| u.workload_hours)
    }

    fn course_sum(&self, course: &Course, value: impl Fn(&Unit) -> f64) -> f64 {
        let mut mandatory = 0.0;
        let mut electives = Vec::new();
        for cu in &course.units {
            let v = value(&self.units[cu.unit]);
            match cu.role {
                UnitRole::Pflicht => mandatory += v,
                UnitRole::Wahlpflicht => electives.push(v),
            }
        }
        electives.sort_by(f64::total_cmp);
        mandatory
            + electives
                .iter()
                .take(course.electives_required as usize)
                .sum::<f64>()
    }

    /// Adds places booked on the platform (from the form backend) to the
    /// places taken per live date, so pages show what is really still free.
    pub fn apply_bookings(&mut self, booked: &Bookings) {
        let all: Vec<usize> = (0..self.units.len()).collect();
        self.apply_bookings_to(&all, booked);
    }

    /// Like [`Site::apply_bookings`], for the units at `indices` only (units
    /// freshly read from their files).
    pub fn apply_bookings_to(&mut self, indices: &[usize], booked: &Bookings) {
        for event in &mut self.events {
            if let Some(n) = booked.get(&(event.id.clone(), event.date)) {
                event.taken = (*n).min(event.capacity);
            }
        }
        for &i in indices {
            let unit = Arc::make_mut(&mut self.units[i]);
            for date in &mut unit.dates {
                if let Some(n) = booked.get(&(unit.id.clone(), date.date)) {
                    date.taken = (date.taken + n).min(date.capacity);
                }
            }
        }
    }

    /// For each unit, the indices of the courses that contain it.
    pub fn courses_by_unit(&self) -> Vec<Vec<usize>> {
        let mut out = vec![Vec::new(); self.units.len()];
        for (ci, c) in self.courses.iter().enumerate() {
            for cu in &c.units {
                out[cu.unit].push(ci);
            }
        }
        out
    }

    /// For each unit, the indices of the authorities that selected it.
    /// Built once: with 11,000 authorities a scan per unit would dominate.
    pub fn authorities_by_unit(&self) -> Vec<Vec<usize>> {
        let mut out = vec![Vec::new(); self.units.len()];
        for (ai, a) in self.authorities.iter().enumerate() {
            for u in &a.units {
                out[*u].push(ai);
            }
        }
        out
    }
}

// ---------------------------------------------------------------- loading

/// The files of a content folder with the address each one's body is
/// shown at (for the link check).
fn shown_at<'a, T>(
    folder: &'a str,
    files: &'a [(SourceFile, T)],
) -> impl Iterator<Item = (&'a SourceFile, String)> + 'a {
    files.iter().map(move |(f, _)| (f, page_url(folder, &f.id)))
}

/// Loads and validates the whole site. Every problem found is returned
/// together; nothing is partially accepted.
pub fn load(root: &Path) -> Result<Site, Problems> {
    load_with(root, &content::Loader::one_off())
}

/// Like [`load`], reusing the files `loader` parsed before and did not change.
pub fn load_with(root: &Path, loader: &content::Loader) -> Result<Site, Problems> {
    let mut problems = Vec::new();
    let config = match Config::load(root) {
        Ok(c) => Some(c),
        Err(p) => {
            problems.push(p);
            None
        }
    };
    let data = root.join("data");
    let content_dir = root.join("content");
    // Every file below static/, listed once: 11,000 authorities with two
    // images each would otherwise cost 22,000 file-system lookups per build.
    let static_files = StaticFiles::list(&root.join("static"));
    check_svg_files(&root.join("static"), &static_files, &mut problems);
    problems.extend(content::unread_files(&content_dir, &CONTENT_FOLDERS));
    problems.extend(content::unread_data_files(&data));

    let raw_levels: Vec<RawLevel> = collect(
        content::read_data(&data.join("niveaus.yaml")),
        &mut problems,
    )
    .unwrap_or_default();
    let raw_prices: Option<RawPriceRules> =
        collect(content::read_data(&data.join("preise.yaml")), &mut problems);
    let raw_membership: Option<RawMembership> = collect(
        content::read_data(&data.join("mitgliedschaft.yaml")),
        &mut problems,
    );
    let cancellation_file = data.join("stornobedingungen.yaml");
    let cancellation = if cancellation_file.exists() {
        collect(content::read_data(&cancellation_file), &mut problems)
            .and_then(|raw| cancellation::link(raw, &cancellation_file, &mut problems))
    } else {
        None
    };
    let raw_categories: Vec<RawFaqCategory> = collect(
        content::read_data(&data.join("faq-kategorien.yaml")),
        &mut problems,
    )
    .unwrap_or_default();

    let areas_file = data.join("kompetenzen.yaml");
    let raw_areas: Vec<RawCompetenceArea> = if areas_file.exists() {
        collect(content::read_data(&areas_file), &mut problems).unwrap_or_default()
    } else {
        Vec::new()
    };
    let profiles_file = data.join("rollenprofile.yaml");
    let raw_profiles: Vec<RawRoleProfile> = if profiles_file.exists() {
        collect(content::read_data(&profiles_file), &mut problems).unwrap_or_default()
    } else {
        Vec::new()
    };

    let evaluation = evaluation::load(&data, &mut problems);

    let raw_topics_folder = loader.load_folder::<RawTopic>(&content_dir.join("themen"));
    problems.extend(raw_topics_folder.problems);
    let raw_topics_broken = raw_topics_folder.broken_ids;
    let raw_topics = raw_topics_folder.items;
    let raw_lecturers_folder = loader.load_folder::<RawLecturer>(&content_dir.join("dozierende"));
    problems.extend(raw_lecturers_folder.problems);
    let raw_lecturers_broken = raw_lecturers_folder.broken_ids;
    let raw_lecturers = raw_lecturers_folder.items;
    let raw_providers_folder = loader.load_folder::<RawProvider>(&content_dir.join("anbieter"));
    problems.extend(raw_providers_folder.problems);
    let raw_providers_broken = raw_providers_folder.broken_ids;
    let raw_providers = raw_providers_folder.items;
    let raw_units_folder = loader.load_folder::<RawUnit>(&content_dir.join("einheiten"));
    problems.extend(raw_units_folder.problems);
    let raw_units_broken = raw_units_folder.broken_ids;
    let raw_units = raw_units_folder.items;
    let raw_courses_folder = loader.load_folder::<RawCourse>(&content_dir.join("kurse"));
    problems.extend(raw_courses_folder.problems);
    let raw_courses = raw_courses_folder.items;
    let raw_authorities_folder = loader.load_folder::<RawAuthority>(&content_dir.join("kommunen"));
    problems.extend(raw_authorities_folder.problems);
    let raw_authorities_broken = raw_authorities_folder.broken_ids;
    let raw_authorities = raw_authorities_folder.items;
    let raw_faq_folder = loader.load_folder::<RawFaq>(&content_dir.join("faq"));
    problems.extend(raw_faq_folder.problems);
    let raw_faq = raw_faq_folder.items;
    let raw_events_folder = loader.load_folder::<RawEvent>(&content_dir.join("veranstaltungen"));
    problems.extend(raw_events_folder.problems);
    let raw_events = raw_events_folder.items;
    let raw_pages_folder = loader.load_folder::<RawPage>(&content_dir.join("seiten"));
    problems.extend(raw_pages_folder.problems);
    let raw_pages_broken = raw_pages_folder.broken_ids;
    let raw_pages = raw_pages_folder.items;
    let home_file = content_dir.join("start.md");
    let home = collect(
        SourceFile::read(&home_file).and_then(|f| f.front_matter::<RawHome>().map(|h| (f, h))),
        &mut problems,
    );

    // Every body is parsed for its links: in parallel, the findings kept in
    // file order.
    let mut bodies: Vec<(&SourceFile, String)> = Vec::new();
    bodies.extend(shown_at("themen", &raw_topics));
    bodies.extend(shown_at("dozierende", &raw_lecturers));
    bodies.extend(shown_at("anbieter", &raw_providers));
    bodies.extend(shown_at("einheiten", &raw_units));
    bodies.extend(shown_at("kurse", &raw_courses));
    bodies.extend(shown_at("kommunen", &raw_authorities));
    bodies.extend(shown_at("faq", &raw_faq));
    bodies.extend(shown_at("seiten", &raw_pages));
    bodies.extend(shown_at("veranstaltungen", &raw_events));
    if let Some((f, _)) = &home {
        bodies.push((f, "/".into()));
    }
    let checked: Vec<(Vec<Problem>, Vec<SiteLink>)> = bodies
        .par_iter()
        .map(|(f, page)| {
            let (mut found, mut links) = (Vec::new(), Vec::new());
            links::check_body(f, page, &static_files.0, &mut found, &mut links);
            (found, links)
        })
        .collect();
    let mut site_links = Vec::new();
    for (found, links) in checked {
        problems.extend(found);
        site_links.extend(links);
    }
    {
        let mut text = |f: &SourceFile, field: &str, value: &str| {
            if value.trim().is_empty() {
                problems.push(blank_text(f, field));
            }
        };
        for (f, t) in &raw_topics {
            text(f, "titel", &t.titel);
            text(f, "kurzbeschreibung", &t.kurzbeschreibung);
        }
        for (f, l) in &raw_lecturers {
            text(f, "name", &l.name);
        }
        for (f, p) in &raw_providers {
            text(f, "name", &p.name);
        }
        for (f, u) in &raw_units {
            text(f, "titel", &u.titel);
            text(f, "kurzbeschreibung", &u.kurzbeschreibung);
        }
        for (f, c) in &raw_courses {
            text(f, "titel", &c.titel);
            text(f, "kurzbeschreibung", &c.kurzbeschreibung);
            text(f, "zertifikat", &c.zertifikat);
        }
        for (f, a) in &raw_authorities {
            text(f, "name", &a.name);
            text(f, "ansprechperson.name", &a.ansprechperson.name);
        }
        for (f, q) in &raw_faq {
            text(f, "frage", &q.frage);
        }
        for (f, p) in &raw_pages {
            text(f, "titel", &p.titel);
        }
        for (f, e) in &raw_events {
            text(f, "titel", &e.titel);
            text(f, "kurzbeschreibung", &e.kurzbeschreibung);
        }
        if let Some((f, h)) = &home {
            text(f, "titel", &h.titel);
        }
    }

    let levels_file = data.join("niveaus.yaml");
    let categories_file = data.join("faq-kategorien.yaml");
    check_data_entries(
        &levels_file,
        raw_levels.iter().map(|l| (&l.id, l.name.as_str())),
        &mut problems,
    );
    check_data_entries(
        &categories_file,
        raw_categories.iter().map(|c| (&c.id, c.name.as_str())),
        &mut problems,
    );
    let levels: Vec<Level> = raw_levels
        .into_iter()
        .map(|l| Level {
            id: l.id.value,
            name: l.name,
            description: l.beschreibung,
            member_price: l.preis,
            billing_unit: l.abrechnung,
        })
        .collect();
    let level_ids = index_of(levels.iter().map(|l| l.id.as_str()));
    let categories: Vec<FaqCategory> = raw_categories
        .into_iter()
        .map(|c| FaqCategory {
            id: c.id.value,
            name: c.name,
        })
        .collect();
    let category_ids = index_of(categories.iter().map(|c| c.id.as_str()));

    let mut raw_topics = raw_topics;
    raw_topics.sort_by(|(_, a), (_, b)| {
        (a.reihenfolge.unwrap_or(i64::MAX), &a.titel)
            .cmp(&(b.reihenfolge.unwrap_or(i64::MAX), &b.titel))
    });
    let competence_areas = link_areas(raw_areas, &areas_file, &mut problems);
    let area_ids = index_of(competence_areas.iter().map(|a| a.id.as_str()));
    let role_profiles = link_profiles(
        raw_profiles,
        &profiles_file,
        &competence_areas,
        &area_ids,
        &mut problems,
    );

    let raw_topics = accept_ids(raw_topics, &mut problems);
    let topics: Vec<Topic> = raw_topics
        .into_iter()
        .map(|(f, t)| Topic {
            id: f.id,
            title: t.titel,
            summary: t.kurzbeschreibung,
            order: t.reihenfolge,
            body: f.body,
            source: f.path,
        })
        .collect();
    let topic_ids = with_broken(
        index_of(topics.iter().map(|t| t.id.as_str())),
        &raw_topics_broken,
    );
    let lecturers: Vec<Lecturer> = accept_ids(raw_lecturers, &mut problems)
        .into_iter()
        .map(|(f, l)| link_lecturer(f, l))
        .collect();
    let lecturer_ids = with_broken(
        index_of(lecturers.iter().map(|l| l.id.as_str())),
        &raw_lecturers_broken,
    );

    // Units with problems stay in the list (the run fails anyway), so
    // references to them are not reported as unknown a second time.
    let accepted_units = accept_ids(raw_units, &mut problems);
    let accepted_unit_ids: Vec<String> = accepted_units.iter().map(|(f, _)| f.id.clone()).collect();
    let prerequisite_ids = with_broken(
        index_of(accepted_unit_ids.iter().map(String::as_str)),
        &raw_units_broken,
    );
    let mut providers: Vec<Provider> = accept_ids(raw_providers, &mut problems)
        .into_iter()
        .map(|(f, p)| {
            provider::link_provider(f, p, &lecturer_ids, &prerequisite_ids, &mut problems)
        })
        .collect();
    providers.sort_by(|a, b| a.name.cmp(&b.name));
    let provider_ids = with_broken(
        index_of(providers.iter().map(|p| p.id.as_str())),
        &raw_providers_broken,
    );
    // Accepted before the units, which may name one as their owner.
    let accepted_authorities = accept_ids(raw_authorities, &mut problems);
    let authority_id_list: Vec<String> = accepted_authorities
        .iter()
        .map(|(f, _)| f.id.clone())
        .collect();
    let authority_ids = with_broken(
        index_of(authority_id_list.iter().map(String::as_str)),
        &raw_authorities_broken,
    );
    // Where each unit's prerequisites are written, for cycle reports.
    let mut prerequisite_refs: Vec<(SourceFile, Vec<content::Located<String>>)> = Vec::new();
    let refs = UnitRefs {
        levels: &level_ids,
        topics: &topic_ids,
        lecturers: &lecturer_ids,
        providers: &provider_ids,
        authorities: &authority_ids,
        units: &prerequisite_ids,
        areas: &area_ids,
        area_list: &competence_areas,
    };
    let units: Vec<Unit> = accepted_units
        .into_iter()
        .map(|(mut f, u)| {
            let written = u.voraussetzungen.clone();
            let unit = link_unit(&mut f, u, &refs, &mut problems);
            prerequisite_refs.push((f, written));
            unit
        })
        .collect();
    check_prerequisite_cycles(&units, &prerequisite_refs, &mut problems);
    let unit_ids = with_broken(
        index_of(units.iter().map(|u| u.id.as_str())),
        &raw_units_broken,
    );

    let internal =
        internal::InternalUnits::of(units.iter().map(|u| u.internal_to), &authority_id_list);
    let mut courses: Vec<Course> = accept_ids(raw_courses, &mut problems)
        .into_iter()
        .map(|(f, c)| {
            let written = c.einheiten.value.iter().map(|cu| &cu.einheit);
            internal.check_refs(&f, written, None, &unit_ids, &mut problems);
            link_course(f, c, &unit_ids, &mut problems)
        })
        .collect();
    exclusive::load(&data, &mut courses, &mut problems);

    let mut domain_owners = domains::Owners::default();
    let mut authorities: Vec<Arc<Authority>> = accepted_authorities
        .into_iter()
        .enumerate()
        .map(|(ai, (f, a))| {
            internal.check_refs(&f, a.einheiten.iter(), Some(ai), &unit_ids, &mut problems);
            let mut authority = link_authority(
                f,
                a,
                &unit_ids,
                &static_files,
                &mut domain_owners,
                &mut problems,
            );
            internal.attach(ai, &mut authority);
            Arc::new(authority)
        })
        .collect();
    // Collected in place, the list keeps the allocation of the raw files it
    // came from: some 700 bytes per authority instead of 8.
    authorities.shrink_to_fit();

    let faq: Vec<FaqEntry> = accept_ids(raw_faq, &mut problems)
        .into_iter()
        .map(|(f, q)| link_faq(f, q, &category_ids, &mut problems))
        .collect();

    let mut events: Vec<Event> = accept_ids(raw_events, &mut problems)
        .into_iter()
        .map(|(f, e)| event::link_event(f, e, &mut problems))
        .collect();
    events.sort_by(|a, b| (a.date, a.start, &a.title).cmp(&(b.date, b.start, &b.title)));
    event::check_ids_apart(&events, &units, &mut problems);

    let pages: Vec<Page> = accept_ids(raw_pages, &mut problems)
        .into_iter()
        .map(|(f, p)| link_page(f, p, &static_files, &mut problems))
        .collect();
    for page in &pages {
        if RESERVED_IDS.contains(&page.id.as_str()) {
            problems.push(
                Problem::new(
                    &page.source,
                    ProblemKind::DuplicateId {
                        id: page.id.clone(),
                        other: PathBuf::from(format!("/{}/", page.id)),
                    },
                )
                .at(1, None),
            );
        }
    }
    for id in REQUIRED_PAGES {
        if !pages.iter().any(|p| p.id == id) && !raw_pages_broken.iter().any(|b| b == id) {
            problems.push(Problem::new(
                content_dir.join("seiten"),
                ProblemKind::MissingRequiredPage { id },
            ));
        }
    }

    let membership = raw_membership
        .and_then(|m| link_membership(m, &data.join("mitgliedschaft.yaml"), &mut problems));

    drop_consequences(
        &mut problems,
        &[
            (RefKind::Level, &levels_file),
            (RefKind::FaqCategory, &categories_file),
            (RefKind::CompetenceArea, &areas_file),
        ],
    );
    let (warnings, problems): (Vec<Problem>, Vec<Problem>) = problems
        .into_iter()
        .map(|p| p.relative_to(root))
        .partition(|p| p.kind.is_warning());
    if !problems.is_empty() {
        return Err(Problems(problems).sorted());
    }
    let (home_file, home) = home.expect("no problems means the home page loaded");
    let config = config.expect("no problems means the config loaded");
    let assets =
        crate::assets::Assets::scan(&config.theme_dir(root).join("static"), &root.join("static"));
    Ok(Site {
        root: root.to_path_buf(),
        config,
        levels,
        prices: raw_prices
            .map(|p| PriceRules {
                vat_percent: p.mehrwertsteuer_prozent,
                non_member_surcharge_percent: p.aufschlag_nichtmitglieder_prozent,
            })
            .expect("no problems means the prices loaded"),
        membership: membership.expect("no problems means the membership rules loaded"),
        cancellation,
        faq_categories: categories,
        topics,
        lecturers,
        providers,
        units: units.into_iter().map(Arc::new).collect(),
        courses,
        authorities,
        faq,
        events,
        pages,
        home: Home {
            title: home.titel,
            description: home.beschreibung,
            body: home_file.body,
        },
        competence_areas,
        role_profiles,
        evaluation,
        links: Arc::new(site_links),
        images: crate::images::Images::scan(&root.join("static"), &static_files.0),
        assets,
        warnings: Problems(warnings).sorted().0,
    })
}

/// A required text of only spaces, at the line of its field (a nested
/// field like `ansprechperson.name` is looked up by its last part).
fn blank_text(f: &SourceFile, field: &str) -> Problem {
    let key = field.rsplit('.').next().unwrap_or(field);
    let line = f.front.lines().position(|l| {
        l.trim_start()
            .strip_prefix(key)
            .is_some_and(|r| r.trim_start().starts_with(':'))
    });
    let problem = Problem::new(
        &f.path,
        ProblemKind::BlankText {
            field: field.to_string(),
        },
    );
    match line {
        Some(i) => problem.at(f.front_line + i as u64, None),
        None => problem.at(1, None),
    }
}

/// The address a content file's body is shown on, by its content folder.
fn page_url(folder: &str, id: &str) -> String {
    match folder {
        "einheiten" => format!("/lerneinheiten/{id}/"),
        "faq" => "/faq/".into(),
        "anbieter" => crate::urls::PROVIDERS.into(),
        "seiten" => format!("/{id}/"),
        _ => format!("/{folder}/{id}/"),
    }
}
