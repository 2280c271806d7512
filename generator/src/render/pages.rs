//! The page list and its rendering jobs: what pages a site has, their
//! addresses, and the context each one is rendered with.

use super::*;

/// A page to render: output path, template, and its own context values.
#[derive(Clone)]
pub(crate) struct Job {
    pub(crate) path: String,
    pub(crate) template: &'static str,
    pub(crate) url: String,
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) values: Vec<(&'static str, Value)>,
    /// Finished HTML that replaces [`SPLICE_MARK`] in the rendered page (see
    /// [`Job::with_units`]).
    pub(crate) spliced: Option<String>,
}

/// Stands in the template for a list of finished entries: a private-use
/// character and a name no editor's text contains.
pub(crate) const SPLICE_MARK: &str = "\u{e000}campus-liste\u{e000}";

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
            spliced: None,
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
        self.with_entries(r, &r.views.catalog_items, units)
    }

    /// The units of a topic or lecturer page, like [`Job::with_units`].
    pub(crate) fn with_list_cards(self, r: &Renderer, units: &[usize]) -> Job {
        self.with_entries(r, &r.views.list_cards, units)
    }

    fn with_entries(self, r: &Renderer, entries: &[Option<String>], units: &[usize]) -> Job {
        let items: Option<Vec<&str>> = units.iter().map(|i| entries[*i].as_deref()).collect();
        let job = match items {
            // The template and the typography pass see a short stand-in;
            // the entries (typography applied when they were made) are
            // pasted in afterwards. At Germany scale the catalog carries
            // 2 MB of entries, and passing them through Tera and the
            // typography pass made it the slowest page of an edit.
            Some(items) => {
                let mut job = self.with("units_html", Value::String(SPLICE_MARK.to_string()));
                job.spliced = Some(items.iter().flat_map(|item| [*item, "\n"]).collect());
                job
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
    /// One of the site-wide pages (home, catalogs, search …), by its index in the list of them.
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
    /// The education providers and their quality facts.
    Providers,
    /// The index of all lecturers.
    Lecturers,
    /// The events, upcoming first.
    Events,
    /// One event, by index in `site.events`.
    Event(usize),
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
            Single::Providers,
            Single::Lecturers,
            Single::Events,
        ];
        all.extend((0..site.events.len()).map(Single::Event));
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
            Single::Providers => urls::PROVIDERS.into(),
            Single::Lecturers => urls::LECTURERS.into(),
            Single::Events => urls::EVENTS.into(),
            Single::Event(i) => urls::event(&site.events[i].id),
            Single::Page(i) => format!("/{}/", site.pages[i].id),
            Single::FormatCatalog(f) => discovery_pages::format_url(f),
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
            Single::Providers => "providers.html",
            Single::Lecturers => "lecturers.html",
            Single::Events => "events.html",
            Single::Event(_) => "event.html",
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
}

/// Reverse indexes of a site, made with its views: once per build, and
/// once per loaded site and day in the form backend (not per request, so
/// a page it renders costs the same on a small and a Germany-scale site).
#[derive(Clone)]
pub(crate) struct Lookups {
    pub(crate) by_title: Vec<usize>,
    pub(crate) courses_by_unit: Vec<Vec<usize>>,
    pub(crate) authorities_by_unit: Vec<Vec<usize>>,
    pub(crate) singles: Vec<Single>,
    /// Page by URL path, made at the first look-up.
    by_url: std::sync::OnceLock<std::collections::HashMap<String, PageRef>>,
    /// Filter data per unit, made once for all pre-filtered catalogs.
    filter_units: std::sync::OnceLock<Vec<crate::discovery::FilterUnit>>,
    /// Whether finished authority entries equal what the macro makes.
    authority_items_match: std::sync::OnceLock<bool>,
}

impl Lookups {
    pub(crate) fn build(site: &Site) -> Lookups {
        // The public programme: internal units show only on their
        // authority's page, so every list built from this leaves them out.
        let mut by_title: Vec<usize> = (0..site.units.len())
            .filter(|i| site.units[*i].is_public())
            .collect();
        by_title.sort_by(|a, b| site.units[*a].title.cmp(&site.units[*b].title));
        Lookups {
            by_title,
            courses_by_unit: site.courses_by_unit(),
            authorities_by_unit: site.authorities_by_unit(),
            singles: Single::all(site),
            by_url: std::sync::OnceLock::new(),
            filter_units: std::sync::OnceLock::new(),
            authority_items_match: std::sync::OnceLock::new(),
        }
    }
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
        Renderer {
            site,
            tera,
            options,
            views,
        }
    }

    /// Renders one entry of a member and of a non-member authority with the
    /// macro itself and compares: a theme whose macro tests or transforms
    /// the authority's id or name gets the macro on every page instead.
    fn authority_items_match(&self) -> bool {
        *self.views.lookups.authority_items_match.get_or_init(|| {
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
                let name = &a.names.genitive;
                let card = staff_card(site, &site.units[u], &views.unit_cards[u], a.member);
                let direct = render_component(
                    self.tera,
                    AUTHORITY_ITEM,
                    &[
                        ("unit", &card),
                        ("kommune_id", &json!(a.id)),
                        ("kommune_name", &json!(name)),
                    ],
                );
                let pasted = views.authority_items[u].as_ref().map(|items| {
                    items[usize::from(a.member)]
                        .replace(ID_STAND_IN, &escape_html(&a.id))
                        .replace(NAME_STAND_IN, &escape_html(name))
                });
                direct.is_some() && direct == pasted
            })
        })
    }

    pub(crate) fn filter_units(&self) -> &[crate::discovery::FilterUnit] {
        self.views.lookups.filter_units.get_or_init(|| {
            self.site
                .units
                .iter()
                .map(|u| crate::discovery::FilterUnit::of(self.site, u, self.options.today))
                .collect()
        })
    }

    /// Every page of the site, in a stable order.
    pub fn pages(&self) -> Vec<PageRef> {
        all_pages(self.site, self.views.lookups.singles.len())
    }

    /// The URL path of a page, without rendering it.
    pub fn url(&self, page: PageRef) -> String {
        page_url(self.site, &self.views.lookups.singles, page)
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
        let by_url = self
            .views
            .lookups
            .by_url
            .get_or_init(|| self.pages().into_iter().map(|p| (self.url(p), p)).collect());
        by_url.get(url).copied()
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
                        "content": markdown::to_html_with(&unit.body, 2, &site.images),
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
                let courses: Vec<Value> = self.views.lookups.courses_by_unit[i]
                    .iter()
                    .map(|ci| views.course_cards[*ci].clone())
                    .collect();
                let selected_by: Vec<Value> = self.views.lookups.authorities_by_unit[i]
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
                    .with("quality", quality::unit_quality(site, unit))
                    .with(
                        "internal_authorities",
                        json!(view_internal_authorities(site, unit)),
                    )
            }
            PageRef::Course(ci) => {
                let course = &site.courses[ci];
                let mut view = views.course_cards[ci].clone();
                merge(
                    &mut view,
                    json!({
                        "content": markdown::to_html_with(&course.body, 2, &site.images),
                        "certificate": course.certificate,
                        "electives_required": course.electives_required,
                        "vat_percent": site.prices.vat_percent,
                        // The whole course for one authority (data/exklusivkurse.yaml).
                        "exclusive": course.exclusive.map(|e| {
                            let price = site.prices.price(e.member);
                            json!({ "member": price.member.0, "non_member": price.non_member.0, "max": e.max_participants })
                        }),
                        "units": course.units.iter().map(|cu| json!({
                            "role": match cu.role { UnitRole::Pflicht => "pflicht", UnitRole::Wahlpflicht => "wahlpflicht" },
                            "role_label": match cu.role { UnitRole::Pflicht => "Pflicht", UnitRole::Wahlpflicht => "Wahlpflicht" },
                            "unit": views.unit_cards[cu.unit],
                            // The date choice of the course booking form.
                            "dates": site.units[cu.unit].upcoming_dates(today).map(|d| date_view(&site.units[cu.unit], d)).collect::<Vec<_>>(),
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
                    json!({ "content": markdown::to_html_with(&topic.body, 2, &site.images) }),
                );
                let units = self
                    .views
                    .lookups
                    .by_title
                    .iter()
                    .copied()
                    .filter(|u| site.units[*u].topics.contains(&ti))
                    .collect::<Vec<usize>>();
                Job::new(urls::topic(&topic.id), "topic.html", &topic.title)
                    .describe(&topic.summary)
                    .with("section", json!({ "title": "Themen", "url": "/themen/" }))
                    .with("topic", view)
                    .with_list_cards(self, &units)
            }
            PageRef::Lecturer(li) => {
                let lecturer = &site.lecturers[li];
                let units = self
                    .views
                    .lookups
                    .by_title
                    .iter()
                    .copied()
                    .filter(|u| site.units[*u].lecturers.contains(&li))
                    .collect::<Vec<usize>>();
                Job::new(urls::lecturer(&lecturer.id), "lecturer.html", &lecturer.name)
                    .describe(&lecturer.role)
                    .with(
                        "section",
                        json!({ "title": "Dozierende", "url": urls::LECTURERS }),
                    )
                    .with("lecturer", json!({ "id": lecturer.id, "name": lecturer.name, "role": lecturer.role, "content": markdown::to_html_with(&lecturer.body, 2, &site.images) }))
                    .with_list_cards(self, &units)
            }
            PageRef::Authority(ai) => {
                let a = &site.authorities[ai];
                let name = a.display_name();
                let pasted = self
                    .authority_items_match()
                    .then(|| authority_units_html(views, a, &a.names.genitive))
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
                    .describe(&format!("Lernangebote der KommunalCampus eG für die Beschäftigten {}.", a.names.genitive))
                    .with(
                        "authority",
                        json!({
                            "id": a.id, "url": urls::authority(&a.id), "name": name, "cases": a.names, "kind": a.kind,
                            "member": a.member, "employees": a.employees, "logo": a.logo,
                            "picture": { "file": a.picture.file, "alt": a.picture.alt,
                                "markup": site.images.markup(&a.picture.file, &markdown::escape_attribute(&a.picture.alt), "(min-width: 50em) 46em, 100vw", "") },
                            "content": markdown::to_html_with(&a.body, 2, &site.images), "contact": a.contact,
                            "approval": match a.approval { Approval::Genossenschaft => "genossenschaft", Approval::Kommune => "kommune" },
                            "approver_email": a.approver_email,
                            "selfcheck_url": (!site.competence_areas.is_empty() && !site.role_profiles.is_empty())
                                .then(|| format!("{}{}?kommune={}", site.config.forms.url, urls::SELFCHECK, a.id)),
                        }),
                    )
                    .with(units.0, units.1)
                    .with("unit_count", json!(a.units.len()))
                    .with("events", events::next_events(site, today, a.member, 3))
            }
            PageRef::Single(i) => self.single_job(self.views.lookups.singles[i]),
        }
    }
}

/// Every page of `site`, in a stable order (see [`Renderer::pages`]).
pub(super) fn all_pages(site: &Site, singles: usize) -> Vec<PageRef> {
    (0..singles)
        .map(PageRef::Single)
        .chain((0..site.units.len()).map(PageRef::Unit))
        .chain((0..site.courses.len()).map(PageRef::Course))
        .chain((0..site.topics.len()).map(PageRef::Topic))
        .chain((0..site.lecturers.len()).map(PageRef::Lecturer))
        .chain((0..site.authorities.len()).map(PageRef::Authority))
        .collect()
}

pub(super) fn page_url(site: &Site, singles: &[Single], page: PageRef) -> String {
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
    // Static hosts that read `_headers` (Netlify, Cloudflare Pages, …) send
    // the same security headers as `campus run`; part of the output, so it is
    // swapped in with the pages and never left stale.
    outputs.push(Output {
        path: "_headers".into(),
        bytes: crate::headers::headers_file_with_lifetimes(
            site.assets.0.iter().map(|a| a.path.as_str()),
        )
        .into_bytes(),
    });
    outputs.push(Output {
        path: "kommunen.json".into(),
        bytes: Value::Array(authority_list(site)).to_string().into_bytes(),
    });
    outputs.extend(discovery_pages::outputs(index));
    let singles = Single::all(site);
    let mut urls: Vec<String> = all_pages(site, singles.len())
        .into_iter()
        .filter(|p| !matches!(p, PageRef::Unit(i) if !site.units[*i].is_public()))
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
                    .filter(|(_, u)| u.is_public())
                    .filter_map(|(i, u)| u.next_free_date(today).map(|d| (d.date, i)))
                    .collect();
                upcoming.sort();
                let upcoming: Vec<usize> = upcoming.into_iter().take(6).map(|(_, i)| i).collect();
                Job::new(url, template, &site.home.title)
                    .describe(&site.home.description)
                    .with(
                        "home",
                        json!({ "title": site.home.title, "content": markdown::to_html_with(&site.home.body, 2, &site.images) }),
                    )
                    .with("topics", Value::Array(views.topic_cards.clone()))
                    .with("upcoming", cards(&upcoming))
                    .with("courses", Value::Array(views.course_cards.clone()))
                    .with("authority_count", json!(site.authorities.len()))
                    .with("events", events::next_events(site, today, true, 3))
                    .with("unit_count", json!(site.units.len()))
            }
            Single::Catalog => Job::new(url, template, "Alle Lerneinheiten")
                .describe("Alle Lerneinheiten der KommunalCampus eG mit Format, Niveau, Preis und Terminen.")
                .with_units(self, &self.views.lookups.by_title)
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
                            "entries": entries.iter().map(|e| json!({ "id": e.id, "question": e.question, "content": markdown::to_html_with(&e.body, 4, &site.images) })).collect::<Vec<_>>(),
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
                    // Retention periods come from `[aufbewahrung]`, not from typed numbers.
                    .with("page", json!({ "id": page.id, "title": page.title, "content": markdown::to_html_with(&crate::retention::expand(&page.body, &site.config), 2, &site.images), "videos": page.videos }));
                if page.template == PageTemplate::Mitgliedschaft {
                    job.with("membership", membership_view(site))
                } else {
                    job
                }
            }
            Single::Providers => quality::providers_job(site, url, template),
            Single::Lecturers => quality::lecturers_job(site, &self.views.lookups.by_title, url, template),
            Single::Events => events::events_job(site, today, url, template),
            Single::Event(i) => events::event_job(site, today, i, url, template),
            Single::FormatCatalog(format) => discovery_pages::format_catalog_job(self, format),
            Single::LevelCatalog(level) => discovery_pages::level_catalog_job(self, level),
            Single::Search => discovery_pages::search_job(site),
            Single::SelfCheck => discovery_pages::selfcheck_job(site),
            Single::FormResult(i) => {
                let (id, kind) = FORM_RESULTS[i];
                Job::new(url, template, "").with("result", json!({ "id": id, "kind": kind }))
            }
            Single::NotFound => Job::new(url, template, "Seite nicht gefunden"),
        }
    }
}

/// The one authority an internal unit's forms offer (empty for public units).
fn view_internal_authorities(site: &Site, unit: &crate::model::Unit) -> Vec<Value> {
    unit.internal_to
        .map(|a| {
            let a = &site.authorities[a];
            json!({ "id": a.id, "name": a.display_name(), "member": a.member })
        })
        .into_iter()
        .collect()
}
