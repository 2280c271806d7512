//! The course booking form (`/forms/kurs`): one request for all units of a
//! course. Its fields depend on the course: the electives chosen (`wahl`,
//! one value per elective) and a date per hybrid unit (`termin-<unit>`).

use super::{Check, Errors, Input};
use campus_generator::content::{Format, UnitRole};
use campus_generator::Site;
use chrono::NaiveDate;
use serde::Serialize;

/// The form's name (ids of its fields, `form.name` when shown again).
pub const FORM: &str = "kurs";

/// A valid course booking: the units to book, each with its wanted date
/// (ISO, `naechster`, or empty for on-demand units).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CourseRequest {
    pub kurs: String,
    /// (unit id, wanted date) in the course's order.
    pub units: Vec<(String, String)>,
    pub name: String,
    pub email: String,
    /// Authority id or `andere`.
    pub kommune: String,
    /// The organisation named with `kommune: andere`, else empty.
    pub organisation: String,
}

/// The field name of a unit's date choice.
pub fn date_field(unit_id: &str) -> String {
    format!("termin-{unit_id}")
}

/// The fields of a course booking from the posted pairs: the first value
/// of each field, all values of `wahl` joined by commas (the send-again
/// page posts them that way too).
pub fn input(pairs: impl IntoIterator<Item = (String, String)>) -> Input {
    let mut input = Input::default();
    let mut chosen: Vec<String> = Vec::new();
    for (k, v) in pairs {
        let v = v.trim().to_string();
        match k.as_str() {
            "website" => input.honeypot = v,
            "ts" => input.ts = v,
            "wahl" => chosen.extend(
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from),
            ),
            "kurs" | "name" | "email" | "kommune" | "organisation" | "einwilligung" => {
                input.values.entry(k).or_insert(v);
            }
            _ if k.starts_with("termin-") && k.len() <= 120 => {
                input.values.entry(k).or_insert(v);
            }
            _ => {}
        }
    }
    chosen.dedup();
    input.values.insert("wahl".into(), chosen.join(","));
    input
}

/// The fields of `input`'s course in page order (for the error summary).
pub fn fields(site: &Site, input: &Input) -> Vec<String> {
    let mut out = vec!["wahl".to_string()];
    if let Some(course) = site.courses.iter().find(|c| c.id == input.get("kurs")) {
        for cu in &course.units {
            let unit = &site.units[cu.unit];
            if unit.format == Format::Hybrid {
                out.push(date_field(&unit.id));
            }
        }
    }
    for f in ["name", "email", "kommune", "organisation", "einwilligung"] {
        out.push(f.to_string());
    }
    out
}

pub fn validate(input: &Input, site: &Site, today: NaiveDate) -> Result<CourseRequest, Errors> {
    let mut c = Check {
        input,
        errors: Errors::new(),
    };
    let kurs = c.line("kurs", 100, Some("Bitte wählen Sie einen Kurs."));
    let course = site.courses.iter().find(|k| k.id == kurs);
    if course.is_none() && !kurs.is_empty() {
        c.fail(
            "kurs",
            "Diesen Kurs gibt es nicht (mehr). Bitte wählen Sie einen aus der Kursübersicht.",
        );
    }
    let mut units = Vec::new();
    if let Some(course) = course {
        let chosen: Vec<&str> = input
            .get("wahl")
            .split(',')
            .filter(|s| !s.is_empty())
            .collect();
        let electives: Vec<&str> = course
            .units
            .iter()
            .filter(|cu| cu.role == UnitRole::Wahlpflicht)
            .map(|cu| site.units[cu.unit].id.as_str())
            .collect();
        let wanted = course.electives_required as usize;
        if chosen.iter().any(|id| !electives.contains(id)) {
            c.fail(
                "wahl",
                "Diese Wahlpflichteinheit gehört nicht zu diesem Kurs. Bitte wählen Sie eine der genannten.",
            );
        } else if !electives.is_empty() && chosen.len() != wanted {
            c.fail(
                "wahl",
                &if wanted == 1 {
                    "Bitte wählen Sie eine Wahlpflichteinheit.".to_string()
                } else {
                    format!("Bitte wählen Sie genau {wanted} Wahlpflichteinheiten.")
                },
            );
        }
        for cu in &course.units {
            let unit = &site.units[cu.unit];
            if cu.role == UnitRole::Wahlpflicht && !chosen.contains(&unit.id.as_str()) {
                continue;
            }
            let mut termin = String::new();
            if unit.format == Format::Hybrid {
                let field = date_field(&unit.id);
                termin = c.line(
                    &field,
                    20,
                    Some(&format!(
                        "Bitte wählen Sie einen Termin für „{}“ oder „Nächster möglicher Termin“.",
                        unit.title
                    )),
                );
                let known = termin == crate::booking::NEXT
                    || unit
                        .upcoming_dates(today)
                        .any(|d| d.date.format("%Y-%m-%d").to_string() == termin);
                if !termin.is_empty() && !known {
                    c.fail(
                        &field,
                        &format!(
                            "Diesen Termin für „{}“ gibt es nicht mehr. Bitte wählen Sie einen anderen Termin oder „Nächster möglicher Termin“.",
                            unit.title
                        ),
                    );
                }
            }
            units.push((unit.id.clone(), termin));
        }
    }
    let name = c.line(
        "name",
        200,
        Some("Bitte geben Sie Ihren Vor- und Nachnamen an."),
    );
    let email = c.email("email");
    let kommune = c.authority(site);
    c.official_address(site, &email, &kommune);
    let organisation = c.other_organisation(&kommune);
    c.booking_confirmation();
    if c.errors.is_empty() {
        Ok(CourseRequest {
            kurs,
            units,
            name,
            email,
            kommune,
            organisation,
        })
    } else {
        Err(c.errors)
    }
}
