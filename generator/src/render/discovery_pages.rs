//! The pages of finding the right unit that the generator writes: the
//! pre-filtered catalogs per format and level, the search and self-check
//! pages, and the search index. They are rendering jobs, so they live here;
//! the filter and view rules they use stay in [`crate::discovery`], which
//! does not depend on rendering.

use super::{Job, Output, Renderer};
use crate::content::Format;
use crate::discovery::{
    format_id, format_label, search_view, selfcheck_form, CatalogFilter, Paging, SiteResults,
    CATALOG_PAGE_SIZE,
};
use crate::model::Site;
use crate::search;
use serde_json::{json, Value};

pub(super) fn format_url(format: Format) -> String {
    crate::urls::format_catalog(format_id(format))
}

/// The pre-filtered catalog of one format.
pub(super) fn format_catalog_job(r: &Renderer, format: Format) -> Job {
    let intro = match format {
        Format::Hybrid => format!("Hybride Lerneinheiten: Selbststudium zur Vorbereitung, ein Live-Tutorium von {} bis {} Uhr im virtuellen Gruppenraum und eine Nachbereitung.", crate::time::live_start_text(), crate::time::live_end_text()),
        Format::OnDemand => "On-Demand-Lerneinheiten zum Selbstlernen: Start jederzeit und von überall.".into(),
    };
    catalog_job(
        r,
        format_url(format),
        format!("Lerneinheiten im Format {}", format_label(format)),
        intro,
        CatalogFilter {
            format: format_id(format).into(),
            ..CatalogFilter::default()
        },
    )
}

/// The pre-filtered catalog of one level (index in `site.levels`).
pub(super) fn level_catalog_job(r: &Renderer, level: usize) -> Job {
    let level = &r.site.levels[level];
    let intro = if level.description.is_empty() {
        format!("Alle Lerneinheiten mit dem Niveau {}.", level.name)
    } else {
        format!("{}.", level.description.trim_end_matches('.'))
    };
    catalog_job(
        r,
        crate::urls::level_catalog(&level.id),
        format!("Lerneinheiten: {}", level.name),
        intro,
        CatalogFilter {
            niveau: level.id.clone(),
            ..CatalogFilter::default()
        },
    )
}

// Pre-filtered pages carry only their matching units: with every unit on
// every page (hidden), 35 level pages of a Germany-scale site cost 70,000
// rendered cards and re-rendered all on each edit.
fn catalog_job(
    r: &Renderer,
    url: String,
    heading: String,
    intro: String,
    filter: CatalogFilter,
) -> Job {
    let (site, views) = (r.site, &r.views);
    let filter_units = r.filter_units();
    let matching: Vec<usize> = r
        .views
        .lookups
        .by_title
        .iter()
        .copied()
        .filter(|i| filter.matches(&filter_units[*i]))
        .collect();
    Job::new(url, "catalog.html", &heading)
        .describe(&intro)
        .with_units(r, &matching)
        .with("topics", Value::Array(views.topic_cards.clone()))
        .with("levels", Value::Array(site.levels.iter().map(|l| json!({ "id": l.id, "name": l.name })).collect()))
        .with("formats", json!([{ "id": "hybrid", "label": "Hybrid" }, { "id": "on-demand", "label": "On-Demand" }]))
        .with("heading", json!(heading))
        .with("intro", json!(intro))
        .with("filter", json!(filter))
        // The page holds only its own units: filtering happens in the full
        // catalog, not in place.
        .with("prefiltered", json!(true))
}

/// The backend's filtered catalog (`/forms/katalog?…`): one page of the
/// units matching `filter`, in title order, with links to the pages before
/// and after. Only these cards are rendered, however large the site.
pub(super) fn filtered_catalog_job(
    r: &Renderer,
    filter: &CatalogFilter,
    requested: usize,
) -> (Job, Vec<usize>, Paging) {
    let (site, views) = (r.site, &r.views);
    let filter_units = r.filter_units();
    let matching: Vec<usize> = r
        .views
        .lookups
        .by_title
        .iter()
        .copied()
        .filter(|i| filter.matches(&filter_units[*i]))
        .collect();
    let paging = Paging::new(matching.len(), CATALOG_PAGE_SIZE, requested);
    let shown = matching[paging.range()].to_vec();
    let query = filter.query();
    let link = |n: usize| {
        let sep = if query.is_empty() { "" } else { "&" };
        format!(
            "{}{}?{query}{sep}seite={n}",
            site.config.forms.url,
            crate::urls::FILTERED_CATALOG
        )
    };
    let job = Job::new(
        crate::urls::FILTERED_CATALOG,
        "catalog.html",
        "Alle Lerneinheiten",
    )
    .describe("Alle Lerneinheiten der KommunalCampus eG mit Format, Niveau, Preis und Terminen.")
    .with_units(r, &shown)
    .with("visible_count", json!(matching.len()))
    .with("pagination", paging.view(link))
    .with("topics", Value::Array(views.topic_cards.clone()))
    .with(
        "levels",
        Value::Array(
            site.levels
                .iter()
                .map(|l| json!({ "id": l.id, "name": l.name }))
                .collect(),
        ),
    )
    .with(
        "formats",
        json!([{ "id": "hybrid", "label": "Hybrid" }, { "id": "on-demand", "label": "On-Demand" }]),
    )
    .with("filter", json!(filter))
    // Only the matching cards are in the page: the script must not
    // filter them further in place; the form asks the backend again.
    .with("prefiltered", json!(true));
    (job, shown, paging)
}

pub(super) fn search_job(site: &Site) -> Job {
    Job::new("/suche/", "search.html", "Suche")
        .describe("Lerneinheiten, Kurse, Themen, häufige Fragen und Seiten des KommunalCampus durchsuchen.")
        .with(
            "search",
            search_view(site, "", &SiteResults::default(), &Paging::new(0, 1, 1)),
        )
}

pub(super) fn selfcheck_job(site: &Site) -> Job {
    let job = Job::new("/selbstcheck/", "selfcheck.html", "Selbstcheck: Welche Lerneinheiten passen zu mir?")
        .describe("Vergleichen Sie Ihre Kompetenzen mit dem Profil Ihrer Rolle und erhalten Sie einen persönlichen Lernpfad.");
    match selfcheck_form(site) {
        Some(form) => job.with("selfcheck", form),
        None => job,
    }
}

/// Files of this module: the search index.
pub(super) fn outputs(index: &search::Index) -> Vec<Output> {
    vec![Output {
        path: "suche/index.json".into(),
        bytes: serde_json::to_vec(index).expect("index serializes"),
    }]
}
