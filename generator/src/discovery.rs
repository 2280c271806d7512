//! Finding the right unit: the catalog filter (the same rules as the theme's
//! `campus-suche.js`, held to `tests/filter-vectors.json`), the search views
//! and the self-check. The pages the generator writes from them (pre-filtered
//! catalogs, search page and index, self-check page) are rendering jobs in
//! `render/discovery_pages.rs`; this module does not depend on `render`.
//!
//! The form backend renders the no-JavaScript answers (filtered catalog,
//! search results, self-check result) with the views built here, so static
//! pages, backend pages and JSON answers share one implementation.

use crate::content::Format;
use crate::model::{Site, Unit};
use crate::search;
use crate::selfcheck::{self, Answers, Plan};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

// ---------------------------------------------------------------- filter

/// Workload bands of the catalog filter: (id, label, upper bound in hours).
pub const WORKLOAD_BANDS: [(&str, &str, f64); 3] = [
    ("bis-4", "bis 4 Std.", 4.0),
    ("4-bis-10", "über 4 bis 10 Std.", 10.0),
    ("ueber-10", "mehr als 10 Std.", f64::INFINITY),
];

/// The band a workload falls into.
pub fn workload_band(hours: f64) -> &'static str {
    WORKLOAD_BANDS
        .iter()
        .find(|(_, _, upper)| hours <= *upper)
        .map_or("ueber-10", |(id, _, _)| id)
}

/// The catalog filter as it travels in the URL (`?thema=…&format=…`).
/// Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CatalogFilter {
    pub thema: String,
    pub format: String,
    pub niveau: String,
    /// Only units bookable now: on-demand, or a live date with free places.
    pub freier_termin: bool,
    /// A workload band id from [`WORKLOAD_BANDS`].
    pub aufwand: String,
}

/// What the filter looks at, per unit (the catalog cards' data attributes).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FilterUnit {
    pub themen: Vec<String>,
    pub format: String,
    pub niveau: String,
    pub buchbar: bool,
    pub stunden: f64,
}

impl FilterUnit {
    pub fn of(site: &Site, unit: &Unit, today: NaiveDate) -> FilterUnit {
        FilterUnit {
            themen: unit
                .topics
                .iter()
                .map(|t| site.topics[*t].id.clone())
                .collect(),
            format: format_id(unit.format).into(),
            niveau: site.levels[unit.level].id.clone(),
            buchbar: unit.format == Format::OnDemand || unit.next_free_date(today).is_some(),
            stunden: unit.workload_hours,
        }
    }
}

impl CatalogFilter {
    /// Reads `thema`, `format`, `niveau`, `freier_termin=ja`, `aufwand`;
    /// other parameters are ignored, the last value of a repeated one wins.
    pub fn from_query(pairs: &[(String, String)]) -> CatalogFilter {
        let mut f = CatalogFilter::default();
        for (k, v) in pairs {
            let v = v.trim().to_string();
            match k.as_str() {
                "thema" => f.thema = v,
                "format" => f.format = v,
                "niveau" => f.niveau = v,
                "freier_termin" => f.freier_termin = v == "ja",
                "aufwand" => f.aufwand = v,
                _ => {}
            }
        }
        f
    }

    pub fn is_empty(&self) -> bool {
        *self == CatalogFilter::default()
    }

    pub fn matches(&self, u: &FilterUnit) -> bool {
        (self.thema.is_empty() || u.themen.contains(&self.thema))
            && (self.format.is_empty() || u.format == self.format)
            && (self.niveau.is_empty() || u.niveau == self.niveau)
            && (!self.freier_termin || u.buchbar)
            && (self.aufwand.is_empty() || workload_band(u.stunden) == self.aufwand)
    }
}

pub(crate) fn format_id(f: Format) -> &'static str {
    match f {
        Format::Hybrid => "hybrid",
        Format::OnDemand => "on-demand",
    }
}

pub(crate) fn format_label(f: Format) -> &'static str {
    match f {
        Format::Hybrid => "Hybrid",
        Format::OnDemand => "On-Demand",
    }
}

/// The units a filtered view shows, in site order.
pub fn visible_units<'a>(
    site: &'a Site,
    filter: &'a CatalogFilter,
    today: NaiveDate,
) -> impl Iterator<Item = &'a Unit> + 'a {
    site.units
        .iter()
        .map(|u| &**u)
        .filter(|u| u.is_public())
        .filter(move |u| filter.matches(&FilterUnit::of(site, u, today)))
}

impl CatalogFilter {
    /// The filter as a query string (without `?`), empty fields left out.
    pub fn query(&self) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("thema", &self.thema),
            ("format", &self.format),
            ("niveau", &self.niveau),
            ("aufwand", &self.aufwand),
        ] {
            if !v.is_empty() {
                parts.push(format!("{k}={}", query_component(v)));
            }
        }
        if self.freier_termin {
            parts.push("freier_termin=ja".into());
        }
        parts.join("&")
    }
}

// ---------------------------------------------------------------- paging

/// Hits per page of the backend's search answer.
pub const SEARCH_PAGE_SIZE: usize = 20;
/// Cards per page of the backend's filtered catalog (2, 3 or 4 per row).
pub const CATALOG_PAGE_SIZE: usize = 24;

/// One page of a long result list. Backend answers show one page with
/// plain links to the pages before and after (`?seite=N`, works without
/// JavaScript), so an answer costs the same on a small and a large site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paging {
    /// 1-based; a page past the end shows the last page.
    pub page: usize,
    pub pages: usize,
    pub total: usize,
    pub per_page: usize,
}

impl Paging {
    pub fn new(total: usize, per_page: usize, requested: usize) -> Paging {
        let pages = total.div_ceil(per_page).max(1);
        Paging {
            page: requested.clamp(1, pages),
            pages,
            total,
            per_page,
        }
    }

    /// The requested page from `seite=N` (1 when absent or not a number).
    pub fn requested(pairs: &[(String, String)]) -> usize {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == "seite")
            .and_then(|(_, v)| v.trim().parse().ok())
            .unwrap_or(1)
    }

    /// The positions of this page's items in the whole list.
    pub fn range(&self) -> std::ops::Range<usize> {
        let start = (self.page - 1) * self.per_page;
        start.min(self.total)..(start + self.per_page).min(self.total)
    }

    /// What the templates see (`pagination`): page, pages, first and last
    /// position shown (1-based) and the links before and after (`null` at
    /// the ends). `link(n)` is the address of page `n`.
    pub fn view(&self, link: impl Fn(usize) -> String) -> Value {
        let range = self.range();
        json!({
            "page": self.page,
            "pages": self.pages,
            "from": if range.is_empty() { 0 } else { range.start + 1 },
            "to": range.end,
            "prev_url": (self.page > 1).then(|| link(self.page - 1)),
            "next_url": (self.page < self.pages).then(|| link(self.page + 1)),
        })
    }
}

// ---------------------------------------------------------------- search

/// Context of `search.html` and `search_results.html`: the query, the
/// action of the no-JavaScript form, one page of the results (`results`
/// and `paging` from [`search_site`]; `count` is all hits) and the
/// corrected query with its address ("Meinten Sie …?").
pub fn search_view(site: &Site, query: &str, results: &SiteResults, paging: &Paging) -> Value {
    let action = format!("{}{}", site.config.forms.url, crate::urls::SEARCH);
    let address = |q: &str| format!("{action}?q={}", query_component(q));
    json!({
        "query": query,
        "index_url": "/suche/index.json",
        "selfcheck_url": selfcheck_form(site).map(|_| "/selbstcheck/"),
        "count": results.total,
        "results": results.hits.iter().map(|(d, score)| json!({
            "title": d.title, "url": d.url, "kind": d.kind, "kind_label": d.kind_label,
            "format": d.format, "level": d.level, "next_date": d.next_date,
            "summary": d.summary, "score": score,
        })).collect::<Vec<_>>(),
        "pagination": paging.view(|n| format!("{}&seite={n}", address(query))),
        "suggestion": results.suggestion.as_ref().map(|s| json!({
            "query": s,
            "url": address(s),
        })),
        "action": action,
    })
}

/// One page of the answer to a query against the site: the documents of
/// that page with their scores, how many matched in all, and the corrected
/// query if a typo was corrected.
#[derive(Debug, Default)]
pub struct SiteResults {
    pub hits: Vec<(search::Doc, u32)>,
    pub total: usize,
    pub suggestion: Option<String>,
}

/// Runs a query against the site (the backend's no-JavaScript search) and
/// keeps the requested page of hits (only those documents are copied).
pub fn search_site(
    index: &search::Index,
    query: &str,
    per_page: usize,
    requested: usize,
) -> (SiteResults, Paging) {
    let results = index.search(query);
    let paging = Paging::new(results.hits.len(), per_page, requested);
    let page = SiteResults {
        hits: results.hits[paging.range()]
            .iter()
            .map(|h| (index.docs[h.doc].clone(), h.score))
            .collect(),
        total: results.hits.len(),
        suggestion: results.suggestion,
    };
    (page, paging)
}

/// `text` percent-encoded for a query string (UTF-8, unreserved characters kept).
fn query_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

// ---------------------------------------------------------------- self-check

/// Context of `selfcheck.html`; `None` without areas or role profiles.
pub fn selfcheck_form(site: &Site) -> Option<Value> {
    if site.competence_areas.is_empty() || site.role_profiles.is_empty() {
        return None;
    }
    Some(json!({
        "action": format!("{}{}", site.config.forms.url, crate::urls::SELFCHECK),
        "areas": site.competence_areas.iter().map(|a| json!({
            "id": a.id, "name": a.name, "description": a.description,
            "field": format!("ist-{}", a.id),
            "levels": a.levels.iter().enumerate().map(|(i, name)| json!({ "value": i, "name": name })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "profiles": site.role_profiles.iter().map(|p| json!({
            "id": p.id, "name": p.name, "description": p.description,
            "targets": p.targets.iter().enumerate().filter(|(_, t)| **t > 0).map(|(a, t)| json!({
                "area": site.competence_areas[a].name, "level": t,
                "level_name": site.competence_areas[a].levels.get(*t as usize),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    }))
}

/// Reads the self-check form (`profil`, `ist-<area>` = 0..max, optional
/// `kommune`). A missing rating counts as 0; an unknown authority is
/// ignored (it only changes preferences). Errors are German messages.
pub fn parse_selfcheck(site: &Site, pairs: &[(String, String)]) -> Result<Answers, Vec<String>> {
    let get = |name: &str| {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
    };
    let mut errors = Vec::new();
    let profile = match get("profil") {
        None | Some("") => {
            errors.push("Bitte wählen Sie ein Rollenprofil aus.".to_string());
            None
        }
        Some(id) => {
            let p = site.role_profiles.iter().position(|p| p.id == id);
            if p.is_none() {
                errors.push(format!(
                    "Das Rollenprofil „{id}“ gibt es nicht. Bitte wählen Sie eines aus der Liste."
                ));
            }
            p
        }
    };
    let mut ratings = Vec::with_capacity(site.competence_areas.len());
    for a in &site.competence_areas {
        let value = get(&format!("ist-{}", a.id)).unwrap_or("");
        let level = if value.is_empty() {
            Some(0)
        } else {
            value.parse::<u8>().ok().filter(|l| *l <= a.max_level())
        };
        match level {
            Some(l) => ratings.push(l),
            None => {
                errors.push(format!(
                    "Bitte wählen Sie für „{}“ eine Stufe von 0 bis {}.",
                    a.name,
                    a.max_level()
                ));
                ratings.push(0);
            }
        }
    }
    let authority = get("kommune")
        .filter(|k| !k.is_empty())
        .and_then(|k| site.find_authority(k))
        .and_then(|a| site.authorities.iter().position(|x| x.id == a.id));
    match profile {
        Some(profile) if errors.is_empty() => Ok(Answers {
            profile,
            ratings,
            authority,
        }),
        _ => Err(errors),
    }
}

/// Width class of a bar (percent of the area's top level, in steps of 5).
fn bar_class(level: u8, max: u8) -> String {
    let pct = if max == 0 {
        0
    } else {
        (u32::from(level) * 100 / u32::from(max) + 2) / 5 * 5
    };
    format!("balken-{pct}")
}

fn hours_label(hundredths: u64) -> String {
    let text = if hundredths.is_multiple_of(100) {
        (hundredths / 100).to_string()
    } else {
        format!("{}", hundredths as f64 / 100.0).replace('.', ",")
    };
    format!("{text} Std.")
}

/// The result of the self-check as the result page, the script and the
/// JSON answer see it. `result.path` is in the order to take the units.
pub fn selfcheck_result(site: &Site, answers: &Answers, plan: &Plan, today: NaiveDate) -> Value {
    let profile = &site.role_profiles[answers.profile];
    let authority = answers.authority.map(|a| &site.authorities[a]);
    let level_name = |area: usize, level: u8| {
        site.competence_areas[area]
            .levels
            .get(level as usize)
            .cloned()
            .unwrap_or_default()
    };
    let gaps: Vec<Value> = plan
        .gaps
        .iter()
        .map(|g| {
            let area = &site.competence_areas[g.area];
            let max = area.max_level();
            let unreachable = plan.unreachable.iter().find(|u| u.area == g.area);
            json!({
                "area_id": area.id, "area": area.name,
                "target": g.target, "target_name": level_name(g.area, g.target),
                "rating": g.rating, "rating_name": level_name(g.area, g.rating),
                "gap": g.size(), "max": max,
                "target_class": bar_class(g.target, max), "rating_class": bar_class(g.rating, max),
                "unreachable": unreachable.map(|u| json!({
                    "reachable": u.reachable, "reachable_name": level_name(g.area, u.reachable),
                })),
            })
        })
        .collect();
    let preferred: &[usize] = authority.map_or(&[], |a| a.units.as_slice());
    let mut total_member = 0i64;
    let mut total_non_member = 0i64;
    let mut total_staff = 0i64;
    let path: Vec<Value> = plan
        .path
        .iter()
        .map(|&i| {
            let u = &site.units[i];
            let price = site.unit_price(u);
            let staff = authority.map(|a| site.prices.for_staff_of(price, a.member).0);
            total_member += price.member.0;
            total_non_member += price.non_member.0;
            total_staff += staff.unwrap_or(0);
            let anchor = match u.format {
                Format::Hybrid => "#buchung-titel",
                Format::OnDemand => "#einschreibung-titel",
            };
            let kommune = authority.map_or(String::new(), |a| format!("?kommune={}", a.id));
            let needed_for: Vec<&str> = plan
                .path
                .iter()
                .filter(|j| site.units[**j].prerequisites.contains(&i))
                .map(|j| site.units[*j].title.as_str())
                .collect();
            json!({
                "id": u.id, "title": u.title, "summary": u.summary,
                "url": format!("{}{kommune}", crate::urls::unit(&u.id)),
                "booking_url": format!("{}{kommune}{anchor}", crate::urls::unit(&u.id)),
                "format": format_id(u.format), "format_label": format_label(u.format),
                "level": site.levels[u.level].name,
                "workload_label": hours_label(selfcheck::hundredths(u.workload_hours)),
                "is_free": price.member.is_zero(),
                "price": { "member": price.member.0, "non_member": price.non_member.0 },
                "price_for_staff": staff,
                "next_date": u.next_free_date(today).map(|d| crate::time::german_long_date(d.date)),
                "raises": u.raises.iter()
                    .filter(|(a, l)| *l > answers.ratings.get(*a).copied().unwrap_or(0))
                    .map(|(a, l)| json!({ "area": site.competence_areas[*a].name, "level": l, "level_name": level_name(*a, *l) }))
                    .collect::<Vec<_>>(),
                "preferred": preferred.contains(&i),
                "needed_for": needed_for,
            })
        })
        .collect();
    let open = plan.gaps.iter().filter(|g| g.size() > 0).count();
    let summary = match (open, plan.path.len()) {
        (0, _) => "Sie erfüllen das Rollenprofil in allen Bereichen bereits. Stöbern Sie trotzdem gern im Katalog.".to_string(),
        (_, 0) => "Für Ihre Lücken gibt es im Moment keine passende Lerneinheit.".to_string(),
        (_, 1) => format!("1 Lerneinheit mit {} Arbeitsaufwand schließt {}.", hours_label(plan.workload), if open == 1 { "Ihre Lücke" } else { "Ihre Lücken" }),
        (_, n) => format!("{n} Lerneinheiten mit zusammen {} Arbeitsaufwand schließen {}.", hours_label(plan.workload), if open == 1 { "Ihre Lücke" } else { "Ihre Lücken" }),
    };
    json!({
        "profile": { "id": profile.id, "name": profile.name },
        "authority": authority.map(|a| json!({ "id": a.id, "name": a.display_name(), "cases": a.names, "member": a.member })),
        "gaps": gaps,
        "open_count": open,
        "unreachable_count": plan.unreachable.len(),
        "path": path,
        "total_workload_label": hours_label(plan.workload),
        "total_price": { "member": total_member, "non_member": total_non_member, "for_staff": authority.map(|_| total_staff) },
        "exact": plan.exact,
        "summary": summary,
        "selfcheck_url": format!("/selbstcheck/{}", authority.map_or(String::new(), |a| format!("?kommune={}", a.id))),
    })
}

/// Parses, plans and builds the result view in one step.
pub fn run_selfcheck(
    site: &Site,
    pairs: &[(String, String)],
    today: NaiveDate,
) -> Result<Value, Vec<String>> {
    let answers = parse_selfcheck(site, pairs)?;
    let plan = selfcheck::plan_for_site(site, &answers);
    Ok(selfcheck_result(site, &answers, &plan, today))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_bands() {
        assert_eq!(workload_band(1.0), "bis-4");
        assert_eq!(workload_band(4.0), "bis-4");
        assert_eq!(workload_band(4.5), "4-bis-10");
        assert_eq!(workload_band(10.0), "4-bis-10");
        assert_eq!(workload_band(40.0), "ueber-10");
    }

    #[test]
    fn bars_round_to_steps_of_five() {
        assert_eq!(bar_class(0, 3), "balken-0");
        assert_eq!(bar_class(1, 3), "balken-35");
        assert_eq!(bar_class(2, 3), "balken-65");
        assert_eq!(bar_class(3, 3), "balken-100");
        assert_eq!(bar_class(1, 4), "balken-25");
    }

    #[test]
    fn filter_from_query() {
        let q = |s: &str| -> Vec<(String, String)> { serde_urlencoded_like(s) };
        let f = CatalogFilter::from_query(&q("thema=ozg&freier_termin=ja&x=1&aufwand=bis-4"));
        assert_eq!(f.thema, "ozg");
        assert!(f.freier_termin);
        assert_eq!(f.aufwand, "bis-4");
        assert!(CatalogFilter::from_query(&q("freier_termin=nein")).is_empty());
    }

    fn serde_urlencoded_like(s: &str) -> Vec<(String, String)> {
        s.split('&')
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}
