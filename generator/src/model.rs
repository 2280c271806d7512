//! The validated, linked content model shared by the generator and the form
//! backend. References are indices into the site's vectors, so lookups are
//! cheap and nothing is copied per page. No rendering happens here.

use crate::config::Config;
use crate::content::{
    self, Approval, AuthorityKind, Format, PageTemplate, RawAuthority, RawCompetenceArea,
    RawContact, RawCourse, RawFaq, RawFaqCategory, RawHome, RawLecturer, RawLevel, RawMembership,
    RawPage, RawPriceRules, RawRoleProfile, RawTopic, RawUnit, SourceFile, UnitRole,
};
use crate::error::{Problem, ProblemKind, Problems, RefKind};
use crate::links::{self, SiteLink};
use crate::money::Cents;
use crate::slug;
use chrono::NaiveDate;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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

/// First path segments the generator uses itself; pages cannot take them.
pub const RESERVED_IDS: [&str; 11] = [
    "lerneinheiten",
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
];

#[derive(Debug, Clone)]
pub struct Site {
    pub root: PathBuf,
    pub config: Config,
    pub levels: Vec<Level>,
    pub prices: PriceRules,
    pub membership: Membership,
    pub faq_categories: Vec<FaqCategory>,
    pub topics: Vec<Topic>,
    pub lecturers: Vec<Lecturer>,
    pub units: Vec<Arc<Unit>>,
    pub courses: Vec<Course>,
    /// Shared, so a rebuild after one edit copies pointers, not 11,000 texts.
    pub authorities: Vec<Arc<Authority>>,
    pub faq: Vec<FaqEntry>,
    pub pages: Vec<Page>,
    pub home: Home,
    /// Self-check: competence areas (empty when `data/kompetenzen.yaml` is absent).
    pub competence_areas: Vec<CompetenceArea>,
    /// Self-check: role profiles (empty when `data/rollenprofile.yaml` is absent).
    pub role_profiles: Vec<RoleProfile>,
    /// Links of the bodies to pages and anchors of this site, checked once
    /// the pages are rendered.
    pub links: Vec<SiteLink>,
    /// What the editors should know but does not stop the build.
    pub warnings: Vec<Problem>,
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

#[derive(Debug, Clone, Copy)]
pub struct PriceRules {
    pub vat_percent: i64,
    pub non_member_surcharge_percent: i64,
}

/// The price of one offer for members and non-members, both gross.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Price {
    pub member: Cents,
    pub non_member: Cents,
}

impl PriceRules {
    pub fn price(&self, member: Cents) -> Price {
        Price {
            member,
            non_member: member.plus_percent(self.non_member_surcharge_percent),
        }
    }

    pub fn for_staff_of(&self, price: Price, member_authority: bool) -> Cents {
        if member_authority {
            price.member
        } else {
            price.non_member
        }
    }
}

#[derive(Debug, Clone)]
pub struct Membership {
    pub share_value: Cents,
    /// (upper bound of employees inclusive, shares); the last bound is `None`.
    pub brackets: Vec<(Option<u32>, u32)>,
    pub annual_fee_factor: i64,
    pub reduction_percent_of_bookings: i64,
    pub reduction_max_percent: i64,
}

/// What an authority of a given size pays to join and per year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct MembershipQuote {
    pub shares: u32,
    pub deposit: Cents,
    pub annual_fee: Cents,
}

impl Membership {
    pub fn shares_for(&self, employees: u32) -> u32 {
        self.brackets
            .iter()
            .find(|(upper, _)| upper.is_none_or(|u| employees <= u))
            .map_or(0, |(_, shares)| *shares)
    }

    pub fn quote(&self, employees: u32) -> MembershipQuote {
        let shares = self.shares_for(employees);
        let deposit = self.share_value * shares as i64;
        MembershipQuote {
            shares,
            deposit,
            annual_fee: deposit * self.annual_fee_factor,
        }
    }

    /// The annual fee after crediting a share of last year's bookings.
    pub fn reduced_fee(&self, annual_fee: Cents, bookings: Cents) -> Cents {
        let credit = bookings.percent_of(self.reduction_percent_of_bookings);
        let cap = annual_fee.percent_of(self.reduction_max_percent);
        annual_fee - credit.min(cap)
    }

    /// Rows of the share table: (from, to, shares, deposit, annual fee).
    pub fn table(&self) -> Vec<(u32, Option<u32>, MembershipQuote)> {
        let mut from = 1;
        self.brackets
            .iter()
            .map(|(upper, _)| {
                let row = (from, *upper, self.quote(from));
                from = upper.map_or(from, |u| u + 1);
                row
            })
            .collect()
    }
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
    pub workload_hours: f64,
    pub competences: Vec<String>,
    /// Sorted by date.
    pub dates: Vec<LiveDate>,
    pub start_link: Option<String>,
    /// (competence area index, level reached), sorted by area.
    pub raises: Vec<(usize, u8)>,
    /// Units to take before this one (indices), in the editor's order.
    pub prerequisites: Vec<usize>,
    pub body: String,
    pub source: PathBuf,
}

impl Unit {
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
    pub body: String,
    pub source: PathBuf,
}

impl Authority {
    /// "Stadt Lindenfeld", "Landkreis Musterkreis".
    pub fn display_name(&self) -> String {
        let kind = match self.kind {
            AuthorityKind::Gemeinde => "Gemeinde",
            AuthorityKind::Stadt => "Stadt",
            AuthorityKind::Landkreis => "Landkreis",
        };
        if self.name.starts_with(kind) {
            self.name.clone()
        } else {
            format!("{kind} {}", self.name)
        }
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

    let raw_topics_folder = loader.load_folder::<RawTopic>(&content_dir.join("themen"));
    problems.extend(raw_topics_folder.problems);
    let raw_topics_broken = raw_topics_folder.broken_ids;
    let raw_topics = raw_topics_folder.items;
    let raw_lecturers_folder = loader.load_folder::<RawLecturer>(&content_dir.join("dozierende"));
    problems.extend(raw_lecturers_folder.problems);
    let raw_lecturers_broken = raw_lecturers_folder.broken_ids;
    let raw_lecturers = raw_lecturers_folder.items;
    let raw_units_folder = loader.load_folder::<RawUnit>(&content_dir.join("einheiten"));
    problems.extend(raw_units_folder.problems);
    let raw_units_broken = raw_units_folder.broken_ids;
    let raw_units = raw_units_folder.items;
    let raw_courses_folder = loader.load_folder::<RawCourse>(&content_dir.join("kurse"));
    problems.extend(raw_courses_folder.problems);
    let raw_courses = raw_courses_folder.items;
    let raw_authorities_folder = loader.load_folder::<RawAuthority>(&content_dir.join("kommunen"));
    problems.extend(raw_authorities_folder.problems);
    let raw_authorities = raw_authorities_folder.items;
    let raw_faq_folder = loader.load_folder::<RawFaq>(&content_dir.join("faq"));
    problems.extend(raw_faq_folder.problems);
    let raw_faq = raw_faq_folder.items;
    let raw_pages_folder = loader.load_folder::<RawPage>(&content_dir.join("seiten"));
    problems.extend(raw_pages_folder.problems);
    let raw_pages_broken = raw_pages_folder.broken_ids;
    let raw_pages = raw_pages_folder.items;
    let home_file = content_dir.join("start.md");
    let home = collect(
        SourceFile::read(&home_file).and_then(|f| f.front_matter::<RawHome>().map(|h| (f, h))),
        &mut problems,
    );

    let mut site_links = Vec::new();
    {
        let mut check = |f: &SourceFile, page: String| {
            links::check_body(f, &page, &static_files.0, &mut problems, &mut site_links)
        };
        raw_topics
            .iter()
            .for_each(|(f, _)| check(f, page_url("themen", &f.id)));
        raw_lecturers
            .iter()
            .for_each(|(f, _)| check(f, page_url("dozierende", &f.id)));
        raw_units
            .iter()
            .for_each(|(f, _)| check(f, page_url("einheiten", &f.id)));
        raw_courses
            .iter()
            .for_each(|(f, _)| check(f, page_url("kurse", &f.id)));
        raw_authorities
            .iter()
            .for_each(|(f, _)| check(f, page_url("kommunen", &f.id)));
        raw_faq
            .iter()
            .for_each(|(f, _)| check(f, page_url("faq", &f.id)));
        raw_pages
            .iter()
            .for_each(|(f, _)| check(f, page_url("seiten", &f.id)));
        if let Some((f, _)) = &home {
            check(f, "/".into());
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
    // Where each unit's prerequisites are written, for cycle reports.
    let mut prerequisite_refs: Vec<(SourceFile, Vec<content::Located<String>>)> = Vec::new();
    let refs = UnitRefs {
        levels: &level_ids,
        topics: &topic_ids,
        lecturers: &lecturer_ids,
        units: &prerequisite_ids,
        areas: &area_ids,
        area_list: &competence_areas,
    };
    let units: Vec<Unit> = accepted_units
        .into_iter()
        .map(|(f, u)| {
            let written = u.voraussetzungen.clone();
            let unit = link_unit(&f, u, &refs, &mut problems);
            prerequisite_refs.push((f, written));
            unit
        })
        .collect();
    check_prerequisite_cycles(&units, &prerequisite_refs, &mut problems);
    let unit_ids = with_broken(
        index_of(units.iter().map(|u| u.id.as_str())),
        &raw_units_broken,
    );

    let courses: Vec<Course> = accept_ids(raw_courses, &mut problems)
        .into_iter()
        .map(|(f, c)| link_course(f, c, &unit_ids, &mut problems))
        .collect();

    let authorities: Vec<Arc<Authority>> = accept_ids(raw_authorities, &mut problems)
        .into_iter()
        .map(|(f, a)| {
            Arc::new(link_authority(
                f,
                a,
                &unit_ids,
                &static_files,
                &mut problems,
            ))
        })
        .collect();

    let faq: Vec<FaqEntry> = accept_ids(raw_faq, &mut problems)
        .into_iter()
        .map(|(f, q)| link_faq(f, q, &category_ids, &mut problems))
        .collect();

    let pages: Vec<Page> = accept_ids(raw_pages, &mut problems)
        .into_iter()
        .map(|(f, p)| link_page(f, p))
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
    Ok(Site {
        root: root.to_path_buf(),
        config: config.expect("no problems means the config loaded"),
        levels,
        prices: raw_prices
            .map(|p| PriceRules {
                vat_percent: p.mehrwertsteuer_prozent,
                non_member_surcharge_percent: p.aufschlag_nichtmitglieder_prozent,
            })
            .expect("no problems means the prices loaded"),
        membership: membership.expect("no problems means the membership rules loaded"),
        faq_categories: categories,
        topics,
        lecturers,
        units: units.into_iter().map(Arc::new).collect(),
        courses,
        authorities,
        faq,
        pages,
        home: Home {
            title: home.titel,
            description: home.beschreibung,
            body: home_file.body,
        },
        competence_areas,
        role_profiles,
        links: site_links,
        warnings: Problems(warnings).sorted().0,
    })
}

/// The address a content file's body is shown on, by its content folder.
fn page_url(folder: &str, id: &str) -> String {
    match folder {
        "einheiten" => format!("/lerneinheiten/{id}/"),
        "faq" => "/faq/".into(),
        "seiten" => format!("/{id}/"),
        _ => format!("/{folder}/{id}/"),
    }
}

/// What [`patch`] made.
#[derive(Debug)]
pub struct Patched {
    pub site: Site,
    /// Indices of the units read again.
    pub units: Vec<usize>,
}

/// Applies edits of content files that already belong to `prev` without
/// re-linking the rest: after one saved file, a Germany-scale site would
/// otherwise re-link 13,000 items. Problems are those [`load_with`] would
/// report, since every other file was valid in `prev`.
///
/// `None` when the change needs [`load_with`]: a new, deleted or renamed
/// file, a topic (topic order comes from topic content), the home page,
/// data, config or static files, or new prerequisites (cycles span files).
pub fn patch(
    prev: &Site,
    changed: &[PathBuf],
    loader: &content::Loader,
) -> Option<Result<Patched, Problems>> {
    let content_dir = prev.root.join("content");
    let mut edits: Vec<(&str, &Path, String)> = Vec::new();
    for path in changed {
        let rel = path.strip_prefix(&content_dir).ok()?;
        let mut parts = rel.components();
        let folder = parts.next()?.as_os_str().to_str()?;
        let _file = parts.next()?;
        if parts.next().is_some() || !content::is_content_file(path) {
            // Only `.md` files directly in a content folder are read: editor
            // temp files and anything deeper change nothing.
            continue;
        }
        if !path.is_file() {
            return None;
        }
        let id = path.file_stem()?.to_str()?.to_string();
        let folder = match folder {
            "einheiten" | "kommunen" | "kurse" | "dozierende" | "faq" | "seiten" => folder,
            _ => return None,
        };
        edits.push((folder, path.as_path(), id));
    }
    edits.sort_by(|a, b| a.1.cmp(b.1));
    edits.dedup_by(|a, b| a.1 == b.1);

    let mut site = prev.clone();
    let mut problems = Vec::new();
    let mut units_read = Vec::new();
    let level_ids = index_of(prev.levels.iter().map(|l| l.id.as_str()));
    let topic_ids = index_of(prev.topics.iter().map(|t| t.id.as_str()));
    let lecturer_ids = index_of(prev.lecturers.iter().map(|l| l.id.as_str()));
    let unit_ids = index_of(prev.units.iter().map(|u| u.id.as_str()));
    let area_ids = index_of(prev.competence_areas.iter().map(|a| a.id.as_str()));
    let category_ids = index_of(prev.faq_categories.iter().map(|c| c.id.as_str()));
    let refs = UnitRefs {
        levels: &level_ids,
        topics: &topic_ids,
        lecturers: &lecturer_ids,
        units: &unit_ids,
        areas: &area_ids,
        area_list: &prev.competence_areas,
    };
    fn position<'a>(mut ids: impl Iterator<Item = &'a str>, id: &str) -> Option<usize> {
        ids.position(|x| x == id)
    }
    let statics = StaticFiles::list(&prev.root.join("static"));
    let mut new_links = Vec::new();
    for (folder, path, _) in &edits {
        site.links.retain(|l| l.file != *path);
        site.warnings.retain(|w| prev.root.join(&w.file) != *path);
        if let Ok(f) = SourceFile::read(path) {
            let id = f.id.clone();
            links::check_body(
                &f,
                &page_url(folder, &id),
                &statics.0,
                &mut problems,
                &mut new_links,
            );
        }
    }
    site.links.extend(new_links);
    for (folder, path, id) in edits {
        match folder {
            "einheiten" => {
                let i = *unit_ids.get(id.as_str())?;
                match loader.load_file::<RawUnit>(path) {
                    Ok((f, raw)) => {
                        let unit = link_unit(&f, raw, &refs, &mut problems);
                        if unit.prerequisites != prev.units[i].prerequisites {
                            return None;
                        }
                        site.units[i] = Arc::new(unit);
                        units_read.push(i);
                    }
                    Err(p) => problems.push(p),
                }
            }
            "kommunen" => {
                let i = position(prev.authorities.iter().map(|a| a.id.as_str()), &id)?;
                match loader.load_file::<RawAuthority>(path) {
                    Ok((f, raw)) => {
                        let a = link_authority(f, raw, &unit_ids, &statics, &mut problems);
                        site.authorities[i] = Arc::new(a);
                    }
                    Err(p) => problems.push(p),
                }
            }
            "kurse" => {
                let i = position(prev.courses.iter().map(|c| c.id.as_str()), &id)?;
                match loader.load_file::<RawCourse>(path) {
                    Ok((f, raw)) => site.courses[i] = link_course(f, raw, &unit_ids, &mut problems),
                    Err(p) => problems.push(p),
                }
            }
            "dozierende" => {
                let i = position(prev.lecturers.iter().map(|l| l.id.as_str()), &id)?;
                match loader.load_file::<RawLecturer>(path) {
                    Ok((f, raw)) => site.lecturers[i] = link_lecturer(f, raw),
                    Err(p) => problems.push(p),
                }
            }
            "faq" => {
                let i = position(prev.faq.iter().map(|e| e.id.as_str()), &id)?;
                match loader.load_file::<RawFaq>(path) {
                    Ok((f, raw)) => site.faq[i] = link_faq(f, raw, &category_ids, &mut problems),
                    Err(p) => problems.push(p),
                }
            }
            _ => {
                let i = position(prev.pages.iter().map(|p| p.id.as_str()), &id)?;
                match loader.load_file::<RawPage>(path) {
                    Ok((f, raw)) => site.pages[i] = link_page(f, raw),
                    Err(p) => problems.push(p),
                }
            }
        }
    }
    let (warnings, problems): (Vec<Problem>, Vec<Problem>) = problems
        .into_iter()
        .map(|p| p.relative_to(&prev.root))
        .partition(|p| p.kind.is_warning());
    if !problems.is_empty() {
        return Some(Err(Problems(problems).sorted()));
    }
    site.warnings.extend(warnings);
    Some(Ok(Patched {
        site,
        units: units_read,
    }))
}

fn link_lecturer(f: SourceFile, l: RawLecturer) -> Lecturer {
    Lecturer {
        id: f.id,
        name: l.name,
        role: l.funktion,
        body: f.body,
        source: f.path,
    }
}

fn link_faq(
    f: SourceFile,
    q: RawFaq,
    categories: &HashMap<&str, usize>,
    problems: &mut Vec<Problem>,
) -> FaqEntry {
    let category =
        resolve(&f, &q.kategorie, RefKind::FaqCategory, categories, problems).unwrap_or(0);
    FaqEntry {
        id: f.id,
        question: q.frage,
        category,
        order: q.reihenfolge,
        body: f.body,
        source: f.path,
    }
}

fn link_page(f: SourceFile, p: RawPage) -> Page {
    Page {
        id: f.id,
        title: p.titel,
        description: p.beschreibung,
        template: p.vorlage,
        body: f.body,
        source: f.path,
    }
}

/// One cause, one error: a reference that fails only because the file
/// defining it has an error of its own (a data file that did not load, a
/// content file with an invalid name) is not reported a second time in the
/// files that are correct.
fn drop_consequences(problems: &mut Vec<Problem>, defined_in: &[(RefKind, &PathBuf)]) {
    let failed: Vec<RefKind> = defined_in
        .iter()
        .filter(|(_, file)| {
            problems
                .iter()
                .any(|p| p.file == **file && !p.kind.is_warning())
        })
        .map(|(kind, _)| *kind)
        .collect();
    let misnamed: std::collections::HashSet<String> = problems
        .iter()
        .filter_map(|p| match &p.kind {
            ProblemKind::InvalidId { id, suggestion } => Some([id.clone(), suggestion.clone()]),
            _ => None,
        })
        .flatten()
        .collect();
    problems.retain(|p| match &p.kind {
        ProblemKind::UnknownReference { kind, id, .. } => {
            !failed.contains(kind) && !misnamed.contains(id)
        }
        ProblemKind::LevelOutOfRange { .. } => !failed.contains(&RefKind::CompetenceArea),
        _ => true,
    });
}

/// Entries of a data list: each id once, each name written.
fn check_data_entries<'a>(
    path: &Path,
    entries: impl Iterator<Item = (&'a content::Located<String>, &'a str)>,
    problems: &mut Vec<Problem>,
) {
    let mut first: HashMap<&str, u64> = HashMap::new();
    for (id, name) in entries {
        let at =
            |kind| Problem::new(path, kind).at(id.referenced.line(), Some(id.referenced.column()));
        if let Some(line) = first.get(id.value.as_str()) {
            problems.push(at(ProblemKind::DuplicateEntry {
                id: id.value.clone(),
                first_line: *line,
            }));
        } else {
            first.insert(&id.value, id.referenced.line());
        }
        if name.trim().is_empty() {
            problems.push(at(ProblemKind::BlankText {
                field: "name".into(),
            }));
        }
    }
}

fn collect<T>(r: Result<T, Problem>, problems: &mut Vec<Problem>) -> Option<T> {
    r.map_err(|p| problems.push(p)).ok()
}

/// Adds ids of unparseable files with an index that is never used: the run
/// fails on their own problem, and references to them are not "unknown".
fn with_broken<'a>(
    mut ids: HashMap<&'a str, usize>,
    broken: &'a [String],
) -> HashMap<&'a str, usize> {
    for id in broken {
        ids.entry(id.as_str()).or_insert(usize::MAX);
    }
    ids
}

fn index_of<'a>(ids: impl Iterator<Item = &'a str>) -> HashMap<&'a str, usize> {
    ids.enumerate().map(|(i, id)| (id, i)).collect()
}

/// Keeps files whose id is valid and unique within their folder.
fn accept_ids<T>(items: Vec<(SourceFile, T)>, problems: &mut Vec<Problem>) -> Vec<(SourceFile, T)> {
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    let mut out = Vec::with_capacity(items.len());
    for (file, item) in items {
        if !slug::is_valid_id(&file.id) {
            problems.push(file.problem(ProblemKind::InvalidId {
                id: file.id.clone(),
                suggestion: slug::slugify(&file.id),
            }));
        } else if let Some(other) = seen.get(&file.id) {
            problems.push(file.problem(ProblemKind::DuplicateId {
                id: file.id.clone(),
                other: other.clone(),
            }));
        } else {
            seen.insert(file.id.clone(), file.path.clone());
            out.push((file, item));
        }
    }
    out
}

fn resolve<K: std::borrow::Borrow<str> + std::hash::Hash + Eq>(
    file: &SourceFile,
    reference: &content::Located<String>,
    kind: RefKind,
    known: &HashMap<K, usize>,
    problems: &mut Vec<Problem>,
) -> Option<usize> {
    let id = reference.value.as_str();
    if let Some(i) = known.get(id) {
        return Some(*i);
    }
    let suggestion = slug::closest(id, known.keys().map(|k| k.borrow())).map(str::to_string);
    problems.push(file.problem_at(
        reference,
        ProblemKind::UnknownReference {
            kind,
            id: id.to_string(),
            suggestion,
        },
    ));
    None
}

fn resolve_list<K: std::borrow::Borrow<str> + std::hash::Hash + Eq>(
    file: &SourceFile,
    references: &[content::Located<String>],
    kind: RefKind,
    known: &HashMap<K, usize>,
    problems: &mut Vec<Problem>,
) -> Vec<usize> {
    let mut out = Vec::with_capacity(references.len());
    for r in references {
        if let Some(i) = resolve(file, r, kind, known, problems) {
            if out.contains(&i) {
                problems.push(file.problem_at(
                    r,
                    ProblemKind::DuplicateReference {
                        kind,
                        id: r.value.clone(),
                    },
                ));
            } else {
                out.push(i);
            }
        }
    }
    out
}

/// What a unit's references resolve against.
struct UnitRefs<'a> {
    levels: &'a HashMap<&'a str, usize>,
    topics: &'a HashMap<&'a str, usize>,
    lecturers: &'a HashMap<&'a str, usize>,
    /// All unit ids (for prerequisites), including broken files.
    units: &'a HashMap<&'a str, usize>,
    areas: &'a HashMap<&'a str, usize>,
    area_list: &'a [CompetenceArea],
}

fn link_unit(f: &SourceFile, u: RawUnit, refs: &UnitRefs, problems: &mut Vec<Problem>) -> Unit {
    let (levels, topics, lecturers) = (refs.levels, refs.topics, refs.lecturers);
    let level = resolve(f, &u.niveau, RefKind::Level, levels, problems).unwrap_or(0);
    if u.themen.value.is_empty() {
        problems.push(f.problem_at(
            &u.themen,
            ProblemKind::InvalidValue {
                field: "themen",
                message: "Mindestens ein Thema angeben.".into(),
            },
        ));
    }
    let topic_list = resolve_list(f, &u.themen.value, RefKind::Topic, topics, problems);
    let lecturer_list = resolve_list(f, &u.dozierende, RefKind::Lecturer, lecturers, problems);
    if !(u.aufwand_stunden.value > 0.0 && u.aufwand_stunden.value <= 500.0) {
        problems.push(f.problem_at(
            &u.aufwand_stunden,
            ProblemKind::InvalidValue {
                field: "aufwand_stunden",
                message: "Eine Stundenzahl größer als 0 angeben.".into(),
            },
        ));
    }
    let mut dates = Vec::new();
    match (u.format, &u.termine, &u.start_link) {
        (Format::Hybrid, _, Some(link)) => problems.push(f.problem_at(
            link,
            ProblemKind::ForbiddenField {
                field: "start_link",
                why: "Hybrid-Einheiten starten mit dem Live-Termin",
            },
        )),
        (Format::OnDemand, Some(t), _) => problems.push(f.problem_at(
            t,
            ProblemKind::ForbiddenField {
                field: "termine",
                why: "On-Demand-Einheiten haben keine Live-Termine",
            },
        )),
        (Format::OnDemand, None, None) => problems.push(f.problem(ProblemKind::MissingField {
            field: "start_link",
            why: "On-Demand-Einheiten brauchen den Link zum Start",
        })),
        _ => {}
    }
    if let Some(link) = &u.start_link {
        if !(link.value.starts_with("https://") || link.value.starts_with("http://")) {
            problems.push(f.problem_at(
                link,
                ProblemKind::InvalidValue {
                    field: "start_link",
                    message: "Der Link muss mit https:// beginnen.".into(),
                },
            ));
        }
    }
    for raw in u.termine.iter().flat_map(|t| t.value.iter()) {
        let Some(date) = parse_date(&raw.datum.value) else {
            problems.push(f.problem_at(
                &raw.datum,
                ProblemKind::InvalidDate {
                    value: raw.datum.value.clone(),
                },
            ));
            continue;
        };
        if crate::time::is_weekend(date) {
            problems.push(f.problem_at(
                &raw.datum,
                ProblemKind::WeekendDate {
                    value: raw.datum.value.clone(),
                },
            ));
        }
        if dates.iter().any(|d: &LiveDate| d.date == date) {
            problems.push(f.problem_at(
                &raw.datum,
                ProblemKind::DuplicateDate {
                    value: raw.datum.value.clone(),
                },
            ));
        }
        if raw.plaetze.value == 0 {
            problems.push(f.problem_at(
                &raw.plaetze,
                ProblemKind::InvalidValue {
                    field: "plaetze",
                    message: "Ein Termin braucht mindestens einen Platz.".into(),
                },
            ));
        }
        if raw.vergeben > raw.plaetze.value {
            problems.push(f.problem_at(
                &raw.plaetze,
                ProblemKind::Overbooked {
                    date: raw.datum.value.clone(),
                    capacity: raw.plaetze.value,
                    taken: raw.vergeben,
                },
            ));
        }
        dates.push(LiveDate {
            date,
            capacity: raw.plaetze.value,
            taken: raw.vergeben,
            line: f.file_line(&raw.datum),
        });
    }
    dates.sort_by_key(|d| d.date);
    let mut raises = Vec::new();
    for (area_id, level) in &u.kompetenzstufen {
        let Some(&area) = refs.areas.get(area_id.as_str()) else {
            let suggestion = slug::closest(area_id, refs.areas.keys().copied()).map(str::to_string);
            problems.push(f.problem_at(
                level,
                ProblemKind::UnknownReference {
                    kind: RefKind::CompetenceArea,
                    id: area_id.clone(),
                    suggestion,
                },
            ));
            continue;
        };
        let max = refs.area_list[area].max_level();
        if !(1..=i64::from(max)).contains(&level.value) {
            problems.push(f.problem_at(
                level,
                ProblemKind::LevelOutOfRange {
                    area: area_id.clone(),
                    level: level.value,
                    max: max.into(),
                },
            ));
            continue;
        }
        raises.push((area, level.value as u8));
    }
    raises.sort_unstable();
    let mut prerequisites = Vec::new();
    for r in &u.voraussetzungen {
        if r.value == f.id {
            problems.push(f.problem_at(
                r,
                ProblemKind::PrerequisiteCycle {
                    cycle: vec![f.id.clone(), f.id.clone()],
                },
            ));
            continue;
        }
        if let Some(i) = resolve(f, r, RefKind::Unit, refs.units, problems) {
            if prerequisites.contains(&i) {
                problems.push(f.problem_at(
                    r,
                    ProblemKind::DuplicateReference {
                        kind: RefKind::Unit,
                        id: r.value.clone(),
                    },
                ));
            } else if i != usize::MAX {
                prerequisites.push(i);
            }
        }
    }
    Unit {
        id: f.id.clone(),
        title: u.titel,
        summary: u.kurzbeschreibung,
        format: u.format,
        level,
        topics: topic_list,
        lecturers: lecturer_list,
        workload_hours: u.aufwand_stunden.value,
        competences: u.kompetenzen,
        dates,
        start_link: u.start_link.map(|l| l.value),
        raises,
        prerequisites,
        body: f.body.clone(),
        source: f.path.clone(),
    }
}

/// Reports every cycle in the prerequisite graph once, at the entry that
/// closes it (depth-first search; linear in units plus prerequisites).
fn check_prerequisite_cycles(
    units: &[Unit],
    written: &[(SourceFile, Vec<content::Located<String>>)],
    problems: &mut Vec<Problem>,
) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark = vec![Mark::New; units.len()];
    for start in 0..units.len() {
        if mark[start] != Mark::New {
            continue;
        }
        // Explicit stack of (unit, next prerequisite position).
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        mark[start] = Mark::Open;
        while let Some(&mut (u, ref mut next)) = stack.last_mut() {
            if let Some(&p) = units[u].prerequisites.get(*next) {
                *next += 1;
                match mark[p] {
                    Mark::New => {
                        mark[p] = Mark::Open;
                        stack.push((p, 0));
                    }
                    Mark::Open => {
                        let from = stack.iter().position(|(x, _)| *x == p).unwrap_or(0);
                        let mut cycle: Vec<String> = stack[from..]
                            .iter()
                            .map(|(x, _)| units[*x].id.clone())
                            .collect();
                        cycle.push(units[p].id.clone());
                        let (file, refs) = &written[u];
                        let kind = ProblemKind::PrerequisiteCycle { cycle };
                        problems.push(match refs.iter().find(|r| r.value == units[p].id) {
                            Some(r) => file.problem_at(r, kind),
                            None => file.problem(kind),
                        });
                    }
                    Mark::Done => {}
                }
            } else {
                mark[u] = Mark::Done;
                stack.pop();
            }
        }
    }
}

fn link_areas(
    raw: Vec<RawCompetenceArea>,
    path: &Path,
    problems: &mut Vec<Problem>,
) -> Vec<CompetenceArea> {
    let mut out: Vec<CompetenceArea> = Vec::with_capacity(raw.len());
    let mut seen: Vec<(String, u64)> = Vec::new();
    for a in raw {
        let at = |v: &content::Located<String>, kind| {
            Problem::new(path, kind).at(v.referenced.line(), Some(v.referenced.column()))
        };
        if !slug::is_valid_id(&a.id.value) {
            problems.push(at(
                &a.id,
                ProblemKind::InvalidId {
                    id: a.id.value.clone(),
                    suggestion: slug::slugify(&a.id.value),
                },
            ));
            continue;
        }
        if let Some(first) = seen.iter().find(|(id, _)| *id == a.id.value) {
            problems.push(at(
                &a.id,
                ProblemKind::DuplicateEntry {
                    id: a.id.value.clone(),
                    first_line: first.1,
                },
            ));
            continue;
        }
        seen.push((a.id.value.clone(), a.id.referenced.line()));
        if !(2..=6).contains(&a.stufen.value.len()) {
            problems.push(
                Problem::new(
                    path,
                    ProblemKind::InvalidValue {
                        field: "stufen",
                        message: format!(
                            "Zwischen 2 und 6 Stufen angeben (ab Stufe 0), hier sind es {}.",
                            a.stufen.value.len()
                        ),
                    },
                )
                .at(
                    a.stufen.referenced.line(),
                    Some(a.stufen.referenced.column()),
                ),
            );
        }
        out.push(CompetenceArea {
            id: a.id.value,
            name: a.name,
            description: a.beschreibung,
            levels: a.stufen.value,
        });
    }
    out
}

fn link_profiles(
    raw: Vec<RawRoleProfile>,
    path: &Path,
    areas: &[CompetenceArea],
    area_ids: &HashMap<&str, usize>,
    problems: &mut Vec<Problem>,
) -> Vec<RoleProfile> {
    let mut out: Vec<RoleProfile> = Vec::with_capacity(raw.len());
    let mut seen: Vec<(String, u64)> = Vec::new();
    for p in raw {
        let at = |line: u64, col: u64, kind| Problem::new(path, kind).at(line, Some(col));
        if !slug::is_valid_id(&p.id.value) {
            problems.push(at(
                p.id.referenced.line(),
                p.id.referenced.column(),
                ProblemKind::InvalidId {
                    id: p.id.value.clone(),
                    suggestion: slug::slugify(&p.id.value),
                },
            ));
            continue;
        }
        if let Some(first) = seen.iter().find(|(id, _)| *id == p.id.value) {
            problems.push(at(
                p.id.referenced.line(),
                p.id.referenced.column(),
                ProblemKind::DuplicateEntry {
                    id: p.id.value.clone(),
                    first_line: first.1,
                },
            ));
            continue;
        }
        seen.push((p.id.value.clone(), p.id.referenced.line()));
        let mut targets = vec![0u8; areas.len()];
        for (area_id, level) in &p.ziele {
            let (line, col) = (level.referenced.line(), level.referenced.column());
            let Some(&area) = area_ids.get(area_id.as_str()) else {
                problems.push(at(
                    line,
                    col,
                    ProblemKind::UnknownReference {
                        kind: RefKind::CompetenceArea,
                        id: area_id.clone(),
                        suggestion: slug::closest(area_id, area_ids.keys().copied())
                            .map(str::to_string),
                    },
                ));
                continue;
            };
            let max = areas[area].max_level();
            if !(0..=i64::from(max)).contains(&level.value) {
                problems.push(at(
                    line,
                    col,
                    ProblemKind::LevelOutOfRange {
                        area: area_id.clone(),
                        level: level.value,
                        max: max.into(),
                    },
                ));
                continue;
            }
            targets[area] = level.value as u8;
        }
        out.push(RoleProfile {
            id: p.id.value,
            name: p.name,
            description: p.beschreibung,
            targets,
        });
    }
    out
}

/// Strict `YYYY-MM-DD`.
pub fn parse_date(value: &str) -> Option<NaiveDate> {
    if value.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()
}

fn link_course(
    f: SourceFile,
    c: RawCourse,
    units: &HashMap<&str, usize>,
    problems: &mut Vec<Problem>,
) -> Course {
    let count = c.einheiten.value.len();
    if !(3..=6).contains(&count) {
        problems.push(f.problem_at(&c.einheiten, ProblemKind::CourseUnitCount { count }));
    }
    let mut list: Vec<CourseUnit> = Vec::new();
    for cu in &c.einheiten.value {
        if let Some(unit) = resolve(&f, &cu.einheit, RefKind::Unit, units, problems) {
            if list.iter().any(|x| x.unit == unit) {
                problems.push(f.problem_at(
                    &cu.einheit,
                    ProblemKind::DuplicateReference {
                        kind: RefKind::Unit,
                        id: cu.einheit.value.clone(),
                    },
                ));
            } else {
                list.push(CourseUnit { unit, role: cu.art });
            }
        }
    }
    let electives = c
        .einheiten
        .value
        .iter()
        .filter(|cu| cu.art == UnitRole::Wahlpflicht)
        .count();
    let required = match &c.wahlpflicht_anzahl {
        Some(n) => {
            if n.value as usize > electives {
                problems.push(f.problem_at(
                    n,
                    ProblemKind::ElectiveCount {
                        required: n.value,
                        available: electives,
                    },
                ));
            }
            n.value
        }
        None => u32::from(electives > 0),
    };
    Course {
        id: f.id,
        title: c.titel,
        summary: c.kurzbeschreibung,
        units: list,
        electives_required: required,
        certificate: c.zertifikat,
        body: f.body,
        source: f.path,
    }
}

/// The files below `static/`, as site paths ("/bilder/logo.svg").
struct StaticFiles(std::collections::HashSet<String>);

impl StaticFiles {
    fn list(dir: &Path) -> StaticFiles {
        StaticFiles(
            walkdir::WalkDir::new(dir)
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file())
                .filter_map(|e| {
                    let rel = e
                        .path()
                        .strip_prefix(dir)
                        .ok()?
                        .to_string_lossy()
                        .replace('\\', "/");
                    Some(format!("/{rel}"))
                })
                .collect(),
        )
    }
}

/// Every SVG file below `static/` is checked for scripts and references
/// (see [`crate::svg`]).
fn check_svg_files(dir: &Path, files: &StaticFiles, problems: &mut Vec<Problem>) {
    for site_path in &files.0 {
        if !site_path.to_ascii_lowercase().ends_with(".svg") {
            continue;
        }
        let path = dir.join(site_path.trim_start_matches('/'));
        match std::fs::read_to_string(&path) {
            Ok(text) => problems.extend(crate::svg::check(&path, &text)),
            Err(e) => problems.push(Problem::new(
                &path,
                ProblemKind::Unreadable {
                    reason: e.to_string(),
                },
            )),
        }
    }
}

fn check_image(
    f: &SourceFile,
    path: &content::Located<String>,
    static_files: &StaticFiles,
    problems: &mut Vec<Problem>,
) {
    let ok = static_files.0.contains(&path.value);
    if !ok {
        problems.push(f.problem_at(
            path,
            ProblemKind::MissingImage {
                path: path.value.clone(),
            },
        ));
    }
}

fn link_authority(
    f: SourceFile,
    a: RawAuthority,
    units: &HashMap<&str, usize>,
    static_files: &StaticFiles,
    problems: &mut Vec<Problem>,
) -> Authority {
    let unit_list = resolve_list(&f, &a.einheiten, RefKind::Unit, units, problems);
    check_image(&f, &a.logo, static_files, problems);
    check_image(&f, &a.bild.datei, static_files, problems);
    if a.bild.alt.value.trim().is_empty() {
        problems.push(f.problem_at(
            &a.bild.alt,
            ProblemKind::InvalidValue {
                field: "bild.alt",
                message: "Beschreiben Sie das Bild für Menschen, die es nicht sehen können.".into(),
            },
        ));
    }
    if !a.ansprechperson.email.contains('@') {
        problems.push(f.problem(ProblemKind::InvalidValue {
            field: "ansprechperson.email",
            message: format!("„{}“ ist keine E-Mail-Adresse.", a.ansprechperson.email),
        }));
    }
    match (a.freigabe.value, &a.freigabe_email) {
        (Approval::Kommune, None) => problems.push(f.problem_at(
            &a.freigabe,
            ProblemKind::MissingField {
                field: "freigabe_email",
                why: "bei „freigabe: kommune“ gehen Buchungsanfragen an diese Adresse",
            },
        )),
        (Approval::Kommune, Some(e)) if !e.contains('@') => problems.push(f.problem_at(
            &a.freigabe,
            ProblemKind::InvalidValue {
                field: "freigabe_email",
                message: format!("„{e}“ ist keine E-Mail-Adresse."),
            },
        )),
        _ => {}
    }
    Authority {
        id: f.id,
        name: a.name,
        kind: a.art,
        member: a.mitglied,
        employees: a.beschaeftigte,
        logo: a.logo.value,
        picture: Picture {
            file: a.bild.datei.value,
            alt: a.bild.alt.value,
        },
        units: unit_list,
        contact: a.ansprechperson,
        approval: a.freigabe.value,
        approver_email: a.freigabe_email,
        body: f.body,
        source: f.path,
    }
}

fn link_membership(
    m: RawMembership,
    path: &Path,
    problems: &mut Vec<Problem>,
) -> Option<Membership> {
    let mut brackets = Vec::new();
    let mut last_upper = 0u32;
    let count = m.staffel.len();
    for (i, b) in m.staffel.iter().enumerate() {
        let line = b.referenced.line();
        let bad = |message: String| {
            Problem::new(path, ProblemKind::InvalidShareBrackets { message })
                .at(line, Some(b.referenced.column()))
        };
        match b.value.bis {
            Some(u) if u <= last_upper => problems.push(bad(format!(
                "„bis: {u}“ ist nicht größer als die vorige Stufe ({last_upper})."
            ))),
            None if i + 1 != count => {
                problems.push(bad("Nur die letzte Stufe darf ohne „bis“ sein.".into()))
            }
            Some(_) if i + 1 == count => problems.push(bad(
                "Die letzte Stufe braucht kein „bis“: sie gilt für alle größeren Kommunen.".into(),
            )),
            _ => {}
        }
        last_upper = b.value.bis.unwrap_or(last_upper);
        brackets.push((b.value.bis, b.value.anteile));
    }
    if brackets.is_empty() {
        problems.push(Problem::new(
            path,
            ProblemKind::InvalidShareBrackets {
                message: "Keine Stufen angegeben.".into(),
            },
        ));
        return None;
    }
    Some(Membership {
        share_value: Cents::from_euros(m.anteil_euro),
        brackets,
        annual_fee_factor: m.jahresbeitrag_faktor,
        reduction_percent_of_bookings: m.beitragsminderung.prozent_der_buchungen,
        reduction_max_percent: m.beitragsminderung.hoechstens_prozent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn membership() -> Membership {
        Membership {
            share_value: Cents::from_euros(1000),
            brackets: vec![
                (Some(50), 1),
                (Some(250), 2),
                (Some(500), 3),
                (Some(1000), 4),
                (Some(2000), 5),
                (None, 6),
            ],
            annual_fee_factor: 2,
            reduction_percent_of_bookings: 50,
            reduction_max_percent: 100,
        }
    }

    #[test]
    fn shares_follow_the_brackets() {
        let m = membership();
        let cases = [
            (1, 1),
            (50, 1),
            (51, 2),
            (250, 2),
            (251, 3),
            (500, 3),
            (501, 4),
            (1000, 4),
            (1001, 5),
            (2000, 5),
            (2001, 6),
            (40_000, 6),
        ];
        for (employees, shares) in cases {
            assert_eq!(m.shares_for(employees), shares, "{employees} employees");
        }
        // Landkreis Bad Dürkheim: 501-1000 employees, 4 shares, 4.000 EUR.
        let q = m.quote(730);
        assert_eq!(q.deposit, Cents::from_euros(4000));
        assert_eq!(q.annual_fee, Cents::from_euros(8000));
    }

    #[test]
    fn share_table_covers_all_sizes() {
        let rows = membership().table();
        assert_eq!(rows.len(), 6);
        assert_eq!((rows[0].0, rows[0].1), (1, Some(50)));
        assert_eq!((rows[5].0, rows[5].1), (2001, None));
        assert_eq!(rows[5].2.deposit, Cents::from_euros(6000));
    }

    #[test]
    fn fee_reduction_is_capped() {
        let m = membership();
        assert_eq!(
            m.reduced_fee(Cents::from_euros(8000), Cents::from_euros(2000)),
            Cents::from_euros(7000)
        );
        assert_eq!(
            m.reduced_fee(Cents::from_euros(8000), Cents::from_euros(100_000)),
            Cents(0)
        );
    }

    #[test]
    fn strict_dates() {
        assert!(parse_date("2027-02-10").is_some());
        assert!(parse_date("2027-2-10").is_none());
        assert!(parse_date("2027-02-30").is_none());
        assert!(parse_date("10.02.2027").is_none());
    }
}
