//! The values templates see: view data built once per item and shared by
//! every page that shows it, and the pre-rendered catalog and authority entries.

use super::*;

/// The theme's `catalog_item` component, rendered once per unit: catalog
/// pages of 2,000 units then paste finished entries instead of running the
/// component per unit and page, which made the catalog the slowest page to
/// re-render after an edit.
pub(super) const CATALOG_ITEM: &str = "catalog_item";
/// The theme's component for one entry of a topic's or lecturer's units.
pub(super) const LIST_CARD: &str = "list_card";

/// The theme's `authority_item` component: 11,000 authority pages with ten
/// units each would otherwise run the card component 110,000 times. It is
/// rendered per unit for staff of members and of non-members (the price
/// differs) with stand-ins for the authority, which
/// [`authority_units_html`] replaces; a check against the component guards it.
pub(super) const AUTHORITY_ITEM: &str = "authority_item";
pub(super) const ID_STAND_IN: &str = "\u{E000}kommune-id\u{E000}";
pub(super) const NAME_STAND_IN: &str = "\u{E000}kommune-name\u{E000}";

/// Renders one of the theme's components on its own (HTML, escaped).
pub(super) fn render_component(
    tera: &Tera,
    name: &str,
    args: &[(&'static str, &Value)],
) -> Option<String> {
    let mut ctx = Context::new();
    for (key, value) in args {
        ctx.insert_value(*key, tera_value(value));
    }
    tera.render_component(name, &ctx, None, true).ok()
}

/// `[non-member staff, member staff]` entries of one unit.
pub(super) fn authority_items(
    site: &Site,
    tera: &Tera,
    options: &RenderOptions,
    unit: &Unit,
    card: &Value,
) -> Option<[String; 2]> {
    if !options.list_fragments || !tera.contains_component(AUTHORITY_ITEM) {
        return None;
    }
    let (id, name) = (json!(ID_STAND_IN), json!(NAME_STAND_IN));
    let render = |member: bool| {
        let card = staff_card(site, unit, card, member);
        render_component(
            tera,
            AUTHORITY_ITEM,
            &[
                ("unit", &card),
                ("kommune_id", &id),
                ("kommune_name", &name),
            ],
        )
    };
    Some([render(false)?, render(true)?])
}

/// A unit card with the price that applies to an authority's staff.
pub(super) fn staff_card(site: &Site, unit: &Unit, card: &Value, member: bool) -> Value {
    let mut card = card.clone();
    let price = site.prices.for_staff_of(site.unit_price(unit), member);
    merge(&mut card, json!({ "price_for_staff": price.0 }));
    card
}

pub(super) fn authority_units_html(
    views: &Views,
    a: &crate::model::Authority,
    name: &str,
) -> Option<String> {
    let (id, name) = (escape_html(&a.id), escape_html(name));
    let mut html = String::new();
    for u in &a.units {
        let item = &views.authority_items[*u].as_ref()?[usize::from(a.member)];
        html.push_str(&item.replace(ID_STAND_IN, &id).replace(NAME_STAND_IN, &name));
        html.push('\n');
    }
    Some(html)
}

pub(super) fn catalog_item(tera: &Tera, options: &RenderOptions, card: &Value) -> Option<String> {
    if !options.list_fragments || !tera.contains_component(CATALOG_ITEM) {
        return None;
    }
    // A broken entry fails the build where the catalog calls the component.
    // The page's typography pass does not see the entries (see
    // `Job::with_units`): they get it here, once per entry.
    render_component(tera, CATALOG_ITEM, &[("unit", card)])
        .map(crate::typography::keep_together_html)
}

/// A unit's entry in the lists of topic and lecturer pages (see
/// [`catalog_item`]).
pub(super) fn list_card(tera: &Tera, options: &RenderOptions, card: &Value) -> Option<String> {
    if !options.list_fragments || !tera.contains_component(LIST_CARD) {
        return None;
    }
    render_component(tera, LIST_CARD, &[("unit", card)]).map(crate::typography::keep_together_html)
}

/// Pre-computed view data shared by all pages. The form backend keeps one
/// per loaded site and day, and renders its single pages from it.
#[derive(Clone)]
pub struct Views {
    pub(crate) global: Value,
    /// `global` as Tera's value, made once: every page shares it.
    pub(super) global_for_tera: tera::Value,
    pub(crate) unit_cards: Vec<Value>,
    pub(crate) course_cards: Vec<Value>,
    pub(crate) topic_cards: Vec<Value>,
    /// Finished catalog entry per unit (see [`RenderOptions::list_fragments`]).
    pub(crate) catalog_items: Vec<Option<String>>,
    /// Finished entry per unit for topic and lecturer pages.
    pub(crate) list_cards: Vec<Option<String>>,
    /// Finished entries of authority pages per unit (see [`AUTHORITY_ITEM`]).
    pub(crate) authority_items: Vec<Option<[String; 2]>>,
    /// The day the views were made for (next dates depend on it).
    pub(crate) today: NaiveDate,
    pub(crate) lookups: super::pages::Lookups,
}

pub(super) fn unit_url(id: &str) -> String {
    urls::unit(id)
}

pub(super) fn hours_label(h: f64) -> String {
    let text = if h.fract() == 0.0 {
        format!("{}", h as i64)
    } else {
        format!("{h}").replace('.', ",")
    };
    format!("{text} Std.")
}

pub(super) fn date_view(unit: &Unit, d: &LiveDate) -> Value {
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

pub(super) fn unit_card(site: &Site, unit: &Unit, today: NaiveDate) -> Value {
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
        "internal": unit.internal_to.map(|a| {
            let a = &site.authorities[a];
            json!({ "id": a.id, "name": a.display_name(), "cases": a.names, "member": a.member, "url": urls::authority(&a.id) })
        }),
    })
}

pub(super) fn course_card(site: &Site, course: &crate::model::Course) -> Value {
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
pub(super) fn authority_list(site: &Site) -> Vec<Value> {
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
        type Made = (Value, Option<String>, Option<String>, Option<[String; 2]>);
        let made: Vec<Made> = site
            .units
            .par_iter()
            .map(|u| {
                let card = unit_card(site, u, options.today);
                let item = catalog_item(tera, options, &card);
                let list_item = list_card(tera, options, &card);
                let staff_items = authority_items(site, tera, options, u, &card);
                (card, item, list_item, staff_items)
            })
            .collect();
        let mut unit_cards = Vec::with_capacity(made.len());
        let mut catalog_items = Vec::with_capacity(made.len());
        let mut list_cards = Vec::with_capacity(made.len());
        let mut authority_items = Vec::with_capacity(made.len());
        for (card, item, list_item, staff_items) in made {
            unit_cards.push(card);
            catalog_items.push(item);
            list_cards.push(list_item);
            authority_items.push(staff_items);
        }
        let (global, course_cards, topic_cards) = site_views(site, options);
        Views {
            global_for_tera: tera_value(&global),
            global,
            unit_cards,
            course_cards,
            topic_cards,
            catalog_items,
            list_cards,
            authority_items,
            today: options.today,
            lookups: super::pages::Lookups::build(site),
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
            self.list_cards[i] = list_card(tera, options, &card);
            self.authority_items[i] = authority_items(site, tera, options, &site.units[i], &card);
            self.unit_cards[i] = card;
        }
        (self.global, self.course_cards, self.topic_cards) = site_views(site, options);
        self.global_for_tera = tera_value(&self.global);
        self.lookups = super::pages::Lookups::build(site);
    }

    /// The day the views were made for.
    pub fn today(&self) -> NaiveDate {
        self.today
    }
}

/// The global context, course cards and topic cards.
pub(super) fn site_views(site: &Site, options: &RenderOptions) -> (Value, Vec<Value>, Vec<Value>) {
    let course_cards = site.courses.iter().map(|c| course_card(site, c)).collect();
    let mut units_per_topic = vec![0usize; site.topics.len()];
    for u in site.units.iter().filter(|u| u.is_public()) {
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
    if !site.events.is_empty() {
        nav.push(json!({ "title": "Veranstaltungen", "url": crate::urls::EVENTS }));
    }
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
        "assets": site.assets.urls(),
        "live_start": time::live_start_text(),
        "live_end": time::live_end_text(),
        "vat_percent": site.prices.vat_percent,
        "surcharge_percent": site.prices.non_member_surcharge_percent,
        "authorities": authorities,
        "cancellation": site.cancellation.as_ref().map(|c| c.summary()),
    });
    (global, course_cards, topic_cards)
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
        "reduction_percent": m.reduction_percent_of_bookings,
        "reduction_max_percent": m.reduction_max_percent,
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

pub(super) fn merge(target: &mut Value, extra: Value) {
    if let (Value::Object(t), Value::Object(e)) = (target, extra) {
        t.extend(e);
    }
}
