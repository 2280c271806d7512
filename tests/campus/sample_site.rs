//! The repository's sample site, built into a temporary folder and checked
//! page by page against the content and the business rules.

use crate::support::*;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// Builds the sample site once per test (each test gets its own copy).
fn built() -> tempfile::TempDir {
    let site = sample();
    build(site.path()).unwrap_or_else(|p| panic!("sample site does not build:\n{p}"));
    site
}

/// German euro format, computed here independently of the generator.
fn euro(cents: i64) -> String {
    let euros = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in euros.chars().enumerate() {
        if i > 0 && (euros.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(ch);
    }
    // text() normalises the no-break space before € to a plain space.
    format!("{grouped},{:02} €", cents % 100)
}

fn yaml_number(text: &str, key: &str) -> i64 {
    text.lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix(&format!("{key}:"))
                .map(|v| v.split('#').next().unwrap().trim().parse::<f64>().unwrap())
        })
        .unwrap_or_else(|| panic!("{key} missing")) as i64
}

#[test]
fn sample_content_has_the_promised_breadth() {
    let site = sample();
    let s = load(site.path());
    assert!(s.units.len() >= 18, "{} units", s.units.len());
    let topics_used: HashSet<usize> = s
        .units
        .iter()
        .flat_map(|u| u.topics.iter().copied())
        .collect();
    assert!(topics_used.len() >= 6);
    let levels_used: HashSet<usize> = s.units.iter().map(|u| u.level).collect();
    assert_eq!(levels_used.len(), s.levels.len(), "every level is used");
    assert!(s
        .units
        .iter()
        .any(|u| u.format == campus_generator::content::Format::Hybrid && u.dates.is_empty()));
    assert!(s
        .units
        .iter()
        .flat_map(|u| &u.dates)
        .any(|d| (1..=2).contains(&d.free())));
    assert!(s.courses.len() >= 3);
    assert!(s.authorities.len() >= 5);
    assert!(s.authorities.iter().any(|a| !a.member));
    assert!(s.authorities.iter().any(|a| a.employees > 2000));
    assert!(s.faq.len() >= 15);
}

#[test]
fn authority_pages_list_exactly_their_units_with_the_staff_price() {
    let site = built();
    let s = load(site.path());
    let prices = read(site.path(), "data/preise.yaml");
    let surcharge = yaml_number(&prices, "aufschlag_nichtmitglieder_prozent");
    for a in &s.authorities {
        let doc = html(site.path(), &format!("kommunen/{}/index.html", a.id));
        let cards = select(&doc, "main ul.karten > li");
        let listed: Vec<String> = cards
            .iter()
            .map(|li| {
                let link = select_in(li, "a[href^='/lerneinheiten/']");
                link.split('/').nth(2).unwrap().to_string()
            })
            .collect();
        let expected: Vec<String> = a.units.iter().map(|u| s.units[*u].id.clone()).collect();
        assert_eq!(listed, expected, "units on the page of {}", a.id);
        for (li, unit) in cards.iter().zip(&a.units) {
            let unit = &s.units[*unit];
            let member = s.levels[unit.level].member_price.0;
            let staff = if a.member {
                member
            } else {
                member + (member * surcharge + 50) / 100
            };
            let card = text(li);
            if member == 0 {
                assert!(
                    card.to_lowercase().contains("kostenlos"),
                    "{}: {card}",
                    a.id
                );
            } else {
                assert!(
                    card.contains(&euro(staff)),
                    "{} / {}: expected {} in {card}",
                    a.id,
                    unit.id,
                    euro(staff)
                );
            }
        }
    }
}

fn select_in(el: &scraper::ElementRef, css: &str) -> String {
    el.select(&scraper::Selector::parse(css).unwrap())
        .next()
        .unwrap_or_else(|| panic!("no {css}"))
        .value()
        .attr("href")
        .unwrap()
        .to_string()
}

#[test]
fn unit_pages_show_member_and_non_member_prices_with_vat() {
    let site = built();
    let s = load(site.path());
    for unit in s
        .units
        .iter()
        .filter(|u| !s.levels[u.level].member_price.is_zero())
    {
        let page = text(
            &select(
                &html(
                    site.path(),
                    &format!("lerneinheiten/{}/index.html", unit.id),
                ),
                "main",
            )[0],
        );
        let member = s.levels[unit.level].member_price.0;
        assert!(page.contains(&euro(member)), "{}: member price", unit.id);
        assert!(
            page.contains(&euro(member * 120 / 100)),
            "{}: non-member price",
            unit.id
        );
        assert!(page.contains("MwSt"), "{}: VAT stated", unit.id);
    }
}

#[test]
fn hybrid_unit_page_shows_timeline_and_booking_form() {
    let site = built();
    let s = load(site.path());
    let unit = s
        .units
        .iter()
        .find(|u| !u.dates.is_empty())
        .expect("a hybrid unit with dates");
    let doc = html(
        site.path(),
        &format!("lerneinheiten/{}/index.html", unit.id),
    );
    let main = text(&select(&doc, "main")[0]);
    let d = unit.dates[0].date;
    let prep = campus_generator::time::german_long_date(d - chrono::Duration::days(14));
    let follow = campus_generator::time::german_long_date(d + chrono::Duration::days(14));
    assert!(main.contains(&prep), "preparation opens {prep}");
    assert!(main.contains(&follow), "follow-up opens {follow}");
    assert!(main.contains("09:00") && main.contains("13:00"));
    let form = select(&doc, "form[action$='/forms/buchung']");
    assert_eq!(form.len(), 1, "one booking form");
    assert_eq!(form[0].value().attr("method"), Some("post"));
    let radios: Vec<_> = select(&doc, "input[name='termin']")
        .iter()
        .map(|r| r.value().attr("value").unwrap().to_string())
        .collect();
    assert!(radios.contains(&d.format("%Y-%m-%d").to_string()));
    assert!(radios.contains(&"naechster".to_string()));
    // The calendar file of the date exists and starts at 09:00 Berlin time.
    let ics = read(
        site.path(),
        &format!("public/termine/{}-{}.ics", unit.id, d.format("%Y-%m-%d")),
    );
    assert!(ics.contains("BEGIN:VEVENT") && ics.contains("DTSTART:"));
}

#[test]
fn membership_share_table_matches_the_rules() {
    let site = built();
    let doc = html(site.path(), "mitgliedschaft/index.html");
    let rows = select(&doc, "main table tbody tr");
    // DOMAIN.md: 1-50: 1 share; 51-250: 2; 251-500: 3; 501-1000: 4; 1001-2000: 5; more: 6.
    let expected = [
        ("1 bis 50", 1),
        ("51 bis 250", 2),
        ("251 bis 500", 3),
        ("501 bis 1.000", 4),
        ("1.001 bis 2.000", 5),
        ("mehr als 2.000", 6),
    ];
    assert_eq!(rows.len(), expected.len());
    for (row, (label, shares)) in rows.iter().zip(expected) {
        let t = text(row);
        assert!(t.starts_with(&format!("{label} {shares} ")), "{t}");
        assert!(t.contains(&euro(shares * 100_000)), "deposit in {t}");
        assert!(t.contains(&euro(shares * 200_000)), "annual fee in {t}");
    }
}

#[test]
fn faq_anchors_are_unique_and_listed_in_the_toc() {
    let site = built();
    let s = load(site.path());
    let doc = html(site.path(), "faq/index.html");
    let ids: Vec<String> = select(&doc, "[id]")
        .iter()
        .map(|e| e.value().attr("id").unwrap().to_string())
        .collect();
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate ids on the FAQ page");
    let toc: HashSet<String> = select(&doc, "a[href^='#']")
        .iter()
        .map(|a| a.value().attr("href").unwrap()[1..].to_string())
        .collect();
    for entry in &s.faq {
        assert!(ids.contains(&entry.id), "anchor for {}", entry.id);
        assert!(toc.contains(&entry.id), "toc entry for {}", entry.id);
    }
}

#[test]
fn every_internal_link_and_anchor_resolves() {
    let site = built();
    let public = site.path().join("public");
    let broken = broken_links(&public);
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn mandatory_pages_are_linked_from_every_page() {
    let site = built();
    let public = site.path().join("public");
    for page in html_files(&public) {
        let doc = scraper::Html::parse_document(&std::fs::read_to_string(&page).unwrap());
        let hrefs: HashSet<String> = select(&doc, "footer a")
            .iter()
            .filter_map(|a| a.value().attr("href"))
            .map(str::to_string)
            .collect();
        for must in [
            "/impressum/",
            "/datenschutz/",
            "/barrierefreiheit/",
            "/leichte-sprache/",
        ] {
            assert!(
                hrefs.contains(must),
                "{} lacks a link to {must}",
                page.display()
            );
        }
    }
}

#[test]
fn privacy_page_shows_the_retention_periods_of_the_configuration() {
    let site = built();
    let page = read(site.path(), "public/datenschutz/index.html");
    assert!(!page.contains("[[aufbewahrung:"), "placeholders replaced");
    let config = campus_generator::config::Config::load(site.path()).unwrap();
    let years = campus_generator::retention::value(&config, "buchungen_jahre").unwrap();
    assert!(
        page.contains(&format!("löschen wir {years} Jahre nach Ablauf des Jahres")),
        "booking period from [aufbewahrung]"
    );
}

#[test]
fn sitemap_and_robots() {
    let site = built();
    let sitemap = read(site.path(), "public/sitemap.xml");
    let s = load(site.path());
    // Every public unit; an authority's internal units stay out.
    for u in &s.units {
        let listed = sitemap.contains(&format!("/lerneinheiten/{}/</loc>", u.id));
        assert_eq!(listed, u.is_public(), "{}", u.id);
    }
    assert!(read(site.path(), "public/robots.txt").contains("Sitemap: "));
    assert!(site.path().join("public/404.html").is_file());
}

fn html_files(root: &Path) -> Vec<std::path::PathBuf> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "html"))
        .map(|e| e.into_path())
        .collect()
}

/// Every `href`/`src` that points into the site must name an existing file,
/// and every `#fragment` an existing id on the target page.
pub fn broken_links(public: &Path) -> Vec<String> {
    let pages = html_files(public);
    let mut ids: HashMap<std::path::PathBuf, HashSet<String>> = HashMap::new();
    let mut links: Vec<(std::path::PathBuf, String)> = Vec::new();
    for page in &pages {
        let doc = scraper::Html::parse_document(&std::fs::read_to_string(page).unwrap());
        ids.insert(
            page.clone(),
            select(&doc, "[id]")
                .iter()
                .map(|e| e.value().attr("id").unwrap().to_string())
                .collect(),
        );
        for el in select(&doc, "a[href], link[href], img[src], script[src]") {
            let target = el.value().attr("href").or(el.value().attr("src")).unwrap();
            links.push((page.clone(), target.to_string()));
        }
    }
    let mut broken = Vec::new();
    for (page, target) in links {
        if target.contains("://")
            || target.starts_with("mailto:")
            || target.starts_with("tel:")
            || target.starts_with("/forms/")
            || target.starts_with("/__campus/")
        {
            continue;
        }
        let (path, fragment) = match target.split_once('#') {
            Some((p, f)) => (p, Some(f)),
            None => (target.as_str(), None),
        };
        let path = path.split('?').next().unwrap();
        let file = if path.is_empty() {
            page.clone()
        } else if let Some(abs) = path.strip_prefix('/') {
            let f = public.join(abs);
            if path.ends_with('/') {
                f.join("index.html")
            } else {
                f
            }
        } else {
            let f = page.parent().unwrap().join(path);
            if path.ends_with('/') {
                f.join("index.html")
            } else {
                f
            }
        };
        if !file.is_file() {
            broken.push(format!("{} → {target} (no file)", page.display()));
            continue;
        }
        if let Some(fragment) = fragment.filter(|f| !f.is_empty()) {
            if !ids.get(&file).is_some_and(|set| set.contains(fragment)) {
                broken.push(format!("{} → {target} (no anchor)", page.display()));
            }
        }
    }
    broken
}

/// Authority pages paste entries rendered once per unit with stand-ins for
/// the authority; a theme whose component transforms the authority's name
/// must still get exactly what its component makes.
#[test]
fn authority_entries_follow_a_component_that_transforms_the_name() {
    let site = sample();
    let macros = read(site.path(), "themes/default/templates/macros.html");
    let changed = macros.replace(
        "kommune_id={kommune_id} kommune_name={kommune_name} />}}</li>",
        "kommune_id={kommune_id} kommune_name={kommune_name | upper} />}}</li>",
    );
    assert_ne!(macros, changed, "authority_item not found");
    write(site.path(), "templates/macros.html", &changed);
    build(site.path()).unwrap_or_else(|p| panic!("{p}"));
    let page = read(site.path(), "public/kommunen/ahornfeld/index.html");
    assert!(!page.contains('\u{E000}'), "a stand-in is left in the page");
    assert!(
        page.contains("Preis für Beschäftigte DER STADT AHORNFELD"),
        "the component's transformation is missing"
    );
    assert!(page.contains("?kommune=ahornfeld"));
}
