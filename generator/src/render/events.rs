//! The events pages: the list (upcoming first, past ones without
//! registration) and one page per event; event cards for the home page and
//! the authority pages.

use super::pages::Job;
use super::*;
use crate::model::Event;

/// What every page shows of an event (`event` in the templates).
pub(super) fn event_card(site: &Site, e: &Event, today: NaiveDate) -> Value {
    let (start, end) = e.times_text();
    json!({
        "id": e.id,
        "url": urls::event(&e.id),
        "title": e.title,
        "summary": e.summary,
        "date": e.date.format("%Y-%m-%d").to_string(),
        "date_long": time::german_long_date(e.date),
        "start": start,
        "end": end,
        "online": e.online_link().is_some(),
        "place": match &e.venue { crate::model::Venue::Place { address } => address.as_str(), _ => "" },
        "capacity": e.capacity,
        "free": e.free(),
        "full": e.free() == 0,
        "members_only": e.members_only(),
        "audience": e.audience.label(),
        "upcoming": e.is_upcoming(today),
        "ics_url": e.is_upcoming(today).then(|| urls::event_calendar(&e.id)),
        "forms_url": site.config.forms.url,
    })
}

/// The next upcoming events, soonest first; `members` false leaves out the
/// members-only ones (for staff of a non-member authority).
pub(super) fn next_events(site: &Site, today: NaiveDate, members: bool, n: usize) -> Value {
    Value::Array(
        site.upcoming_events(today)
            .filter(|e| members || !e.members_only())
            .take(n)
            .map(|e| event_card(site, e, today))
            .collect(),
    )
}

pub(super) fn events_job(
    site: &Site,
    today: NaiveDate,
    url: String,
    template: &'static str,
) -> Job {
    let upcoming: Vec<Value> = site
        .upcoming_events(today)
        .map(|e| event_card(site, e, today))
        .collect();
    // Past events, the latest first: the record of what happened.
    let past: Vec<Value> = site
        .events
        .iter()
        .rev()
        .filter(|e| !e.is_upcoming(today))
        .map(|e| event_card(site, e, today))
        .collect();
    Job::new(url, template, "Veranstaltungen")
        .describe("Kostenlose Veranstaltungen der KommunalCampus eG: Rathausdialog, Marktplatz IT-Lösungen, Lernräume und mehr.")
        .with("upcoming_events", Value::Array(upcoming))
        .with("past_events", Value::Array(past))
}

pub(super) fn event_job(
    site: &Site,
    today: NaiveDate,
    i: usize,
    url: String,
    template: &'static str,
) -> Job {
    let e = &site.events[i];
    let mut view = event_card(site, e, today);
    view["content"] = json!(markdown::to_html_with(&e.body, 2, &site.images));
    // Members-only events offer the member authorities only; "andere" has no
    // place there.
    let authorities: Vec<Value> = {
        let mut list: Vec<&crate::model::Authority> = site
            .authorities
            .iter()
            .map(std::sync::Arc::as_ref)
            .filter(|a| !e.members_only() || a.member)
            .collect();
        list.sort_by_key(|a| a.display_name());
        list.iter()
            .map(|a| json!({ "id": a.id, "name": a.display_name(), "member": a.member }))
            .collect()
    };
    Job::new(url, template, &e.title)
        .describe(&e.summary)
        .with(
            "section",
            json!({ "title": "Veranstaltungen", "url": urls::EVENTS }),
        )
        .with("event", view)
        .with("event_authorities", Value::Array(authorities))
}
