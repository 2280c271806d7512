//! The quality pages: the education providers with their quality facts,
//! the lecturers index, and the quality facts shown on a unit page.

use super::*;
use crate::model::{Certification, Provider};

fn provider_view(site: &Site, p: &Provider) -> Value {
    json!({
        "id": p.id,
        "url": urls::provider(&p.id),
        "name": p.name,
        "kind": p.kind.label(),
        "place": p.place,
        "onboarded": time::german_date(p.onboarded),
        "content": markdown::to_html_below(&p.body, 3),
        "qualified": p.qualified.iter().map(|(l, on)| {
            let l = &site.lecturers[*l];
            json!({ "name": l.name, "url": urls::lecturer(&l.id), "on": time::german_date(*on) })
        }).collect::<Vec<_>>(),
        "certifications": p.certifications.iter().map(|c| {
            let mut view = certification_view(c);
            view["units"] = c.units.iter().map(|u| &site.units[*u]).filter(|u| u.is_public()).map(|u| {
                json!({ "title": u.title, "url": urls::unit(&u.id) })
            }).collect();
            view
        }).collect::<Vec<_>>(),
    })
}

fn certification_view(c: &Certification) -> Value {
    json!({
        "title": c.title,
        "body": c.body,
        "date": time::german_date(c.date),
        "valid_until": c.valid_until.map(time::german_date),
    })
}

pub(super) fn providers_job(site: &Site, url: String, template: &'static str) -> Job {
    let providers: Vec<Value> = site
        .providers
        .iter()
        .map(|p| provider_view(site, p))
        .collect();
    Job::new(url, template, "Bildungsanbieter")
        .describe(
            "Die Bildungsanbieter der KommunalCampus eG und wie ihre Qualität gesichert wird.",
        )
        .with("providers", Value::Array(providers))
        .with("quality_page", quality_page(site))
}

/// The editors' page about the quality management, when the site has one.
fn quality_page(site: &Site) -> Value {
    site.page("qualitaet")
        .map(|p| json!({ "title": p.title, "url": format!("/{}/", p.id) }))
        .unwrap_or(Value::Null)
}

pub(super) fn lecturers_job(
    site: &Site,
    by_title: &[usize],
    url: String,
    template: &'static str,
) -> Job {
    let mut order: Vec<usize> = (0..site.lecturers.len()).collect();
    order.sort_by(|a, b| site.lecturers[*a].name.cmp(&site.lecturers[*b].name));
    let lecturers: Vec<Value> = order
        .into_iter()
        .map(|li| {
            let l = &site.lecturers[li];
            let qualified: Vec<Value> = site
                .providers
                .iter()
                .filter_map(|p| {
                    p.qualified_on(li).map(|on| {
                        json!({ "provider": p.name, "provider_url": urls::provider(&p.id), "on": time::german_date(on) })
                    })
                })
                .collect();
            let units: Vec<Value> = by_title
                .iter()
                .map(|u| &site.units[*u])
                .filter(|u| u.lecturers.contains(&li))
                .map(|u| json!({ "title": u.title, "url": urls::unit(&u.id) }))
                .collect();
            json!({
                "id": l.id, "name": l.name, "role": l.role, "url": urls::lecturer(&l.id),
                "qualified": qualified, "units": units,
            })
        })
        .collect();
    Job::new(url, template, "Dozierende")
        .describe("Die Dozentinnen und Dozenten der Lerneinheiten, vom Fachbeirat qualifiziert.")
        .with("lecturers", Value::Array(lecturers))
        .with("quality_page", quality_page(site))
}

/// What a unit page shows about quality: its provider with audits and
/// certifications, and which of its lecturers the Fachbeirat qualified.
pub(super) fn unit_quality(site: &Site, unit: &Unit) -> Value {
    let Some(pi) = unit.provider else {
        return Value::Null;
    };
    let p = &site.providers[pi];
    let lecturers: Vec<Value> = unit
        .lecturers
        .iter()
        .map(|l| {
            let lecturer = &site.lecturers[*l];
            json!({
                "name": lecturer.name,
                "url": urls::lecturer(&lecturer.id),
                "qualified_on": p.qualified_on(*l).map(time::german_date),
            })
        })
        .collect();
    let index = site.unit_index(&unit.id);
    let certifications: Vec<Value> = p
        .certifications
        .iter()
        .filter(|c| index.is_some_and(|i| c.covers(i)))
        .map(certification_view)
        .collect();
    json!({
        "provider": provider_view(site, p),
        "certifications": certifications,
        "lecturers": lecturers,
        "quality_page": quality_page(site),
    })
}
