//! The request for an exclusive course (`/forms/kurs-exklusiv`): an
//! authority's contact person asks for a whole course for its own staff.

use super::{german_whole_number, Check, Errors, Input};
use campus_generator::Site;
use serde::Serialize;

/// The form's name (ids of its fields, `form.name` when shown again).
pub const FORM: &str = "exklusiv";

/// Its fields in page order.
pub const FIELDS: [&str; 8] = [
    "kurs",
    "kommune",
    "name",
    "email",
    "gruppengroesse",
    "zeitraum",
    "anmerkungen",
    "einwilligung",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExclusiveRequestForm {
    pub kurs: String,
    pub kommune: String,
    pub name: String,
    pub email: String,
    pub group_size: u32,
    pub period: String,
    pub remarks: String,
}

pub fn input(pairs: impl IntoIterator<Item = (String, String)>) -> Input {
    let mut input = Input::default();
    for (k, v) in pairs {
        match k.as_str() {
            "website" => input.honeypot = v,
            "ts" => input.ts = v.trim().to_string(),
            _ if FIELDS.contains(&k.as_str()) => {
                input
                    .values
                    .entry(k)
                    .or_insert_with(|| v.trim().to_string());
            }
            _ => {}
        }
    }
    input
}

pub fn validate(input: &Input, site: &Site) -> Result<ExclusiveRequestForm, Errors> {
    let mut c = Check {
        input,
        errors: Errors::new(),
    };
    let kurs = c.line("kurs", 100, Some("Bitte wählen Sie einen Kurs."));
    let course = site.courses.iter().find(|k| k.id == kurs);
    let offer = course.and_then(|k| k.exclusive);
    if !kurs.is_empty() && offer.is_none() {
        c.fail(
            "kurs",
            "Diesen Kurs bieten wir nicht exklusiv für eine Kommune an. Bitte wählen Sie einen Kurs mit Preis für die exklusive Buchung.",
        );
    }
    let kommune = c.line(
        "kommune",
        100,
        Some("Bitte wählen Sie die Kommune, für deren Beschäftigte der Kurs sein soll."),
    );
    let authority = site.find_authority(&kommune);
    if !kommune.is_empty() && authority.is_none() {
        c.fail(
            "kommune",
            "Einen exklusiven Kurs kann nur eine Kommune aus unserer Liste anfragen. Bitte wählen Sie Ihre Kommune aus.",
        );
    }
    let kommune = authority.map(|a| a.id.clone()).unwrap_or(kommune);
    let name = c.line(
        "name",
        200,
        Some("Bitte geben Sie Ihren Vor- und Nachnamen an."),
    );
    let email = c.email("email");
    c.official_address(site, &email, &kommune);
    let raw_size = input.get("gruppengroesse");
    let mut group_size = 0;
    match german_whole_number(raw_size) {
        Err(_) if raw_size.is_empty() => {
            c.fail(
                "gruppengroesse",
                "Bitte geben Sie an, wie viele Beschäftigte teilnehmen sollen.",
            );
        }
        Err(m) => c.fail("gruppengroesse", m),
        Ok(n) => {
            let max = offer.map_or(u32::MAX, |o| o.max_participants);
            if n == 0 || n > u64::from(max) {
                c.fail(
                    "gruppengroesse",
                    &format!("Die Gruppe kann 1 bis {max} Personen groß sein; für größere Gruppen sprechen Sie uns bitte an."),
                );
            } else {
                group_size = n as u32;
            }
        }
    }
    let period = c.line(
        "zeitraum",
        200,
        Some("Bitte nennen Sie den gewünschten Zeitraum, zum Beispiel „Frühjahr 2027“ oder „März bis Mai 2027“."),
    );
    let remarks = input.get("anmerkungen").replace("\r\n", "\n");
    if remarks.chars().count() > 2000 {
        c.fail(
            "anmerkungen",
            "Bitte kürzen Sie Ihre Anmerkungen auf höchstens 2.000 Zeichen.",
        );
    } else if remarks
        .chars()
        .any(|ch| ch.is_control() && !matches!(ch, '\n' | '\t'))
    {
        c.fail(
            "anmerkungen",
            "Ihre Anmerkungen enthalten unzulässige Steuerzeichen.",
        );
    }
    c.consent();
    if c.errors.is_empty() {
        Ok(ExclusiveRequestForm {
            kurs,
            kommune,
            name,
            email,
            group_size,
            period,
            remarks,
        })
    } else {
        Err(c.errors)
    }
}
