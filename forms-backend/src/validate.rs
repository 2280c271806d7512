//! Step 2 of a request: turn raw fields into a valid form or German
//! messages per field. Nothing here touches storage or mail.
//!
//! Single-line fields must not contain control characters (CR/LF above
//! all): they may end up in mail headers (name in `To`, subject).

use campus_generator::content::Format;
use campus_generator::Site;
use chrono::NaiveDateTime;
use serde::Serialize;
use std::collections::BTreeMap;

pub mod course;
pub mod exclusive;

/// Field name → German message.
pub type Errors = BTreeMap<String, String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FormKind {
    Registrierung,
    Kontakt,
    Newsletter,
    Buchung,
    Einschreibung,
    /// Registration for an event.
    Veranstaltung,
}

impl FormKind {
    pub fn name(self) -> &'static str {
        match self {
            FormKind::Registrierung => "registrierung",
            FormKind::Kontakt => "kontakt",
            FormKind::Newsletter => "newsletter",
            FormKind::Buchung => "buchung",
            FormKind::Einschreibung => "einschreibung",
            FormKind::Veranstaltung => "veranstaltung",
        }
    }

    /// The site page that shows this form (booking forms: the unit's page).
    pub fn page_url(self, input: &Input) -> String {
        match self {
            FormKind::Registrierung => "/registrierung/".into(),
            FormKind::Kontakt => "/kontakt/".into(),
            FormKind::Newsletter => "/newsletter/".into(),
            FormKind::Buchung | FormKind::Einschreibung => {
                let unit = input.get("einheit");
                if !unit.is_empty()
                    && unit
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                {
                    campus_generator::urls::unit(unit)
                } else {
                    "/lerneinheiten/".into()
                }
            }
            FormKind::Veranstaltung => {
                let id = input.get("veranstaltung");
                if !id.is_empty()
                    && id
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                {
                    campus_generator::urls::event(id)
                } else {
                    campus_generator::urls::EVENTS.into()
                }
            }
        }
    }

    /// Fields the form has (besides `website` and `ts`), in page order.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            FormKind::Registrierung => {
                &["name", "email", "kommune", "organisation", "einwilligung"]
            }
            FormKind::Kontakt => &[
                "anliegen",
                "name",
                "organisation",
                "email",
                "telefon",
                "termin1",
                "termin2",
                "termin3",
                "nachricht",
                "einwilligung",
            ],
            FormKind::Newsletter => &["email", "name", "einwilligung"],
            FormKind::Buchung => &[
                "einheit",
                "termin",
                "name",
                "email",
                "kommune",
                "organisation",
                "einwilligung",
            ],
            FormKind::Veranstaltung => &[
                "veranstaltung",
                "name",
                "email",
                "kommune",
                "organisation",
                "einwilligung",
            ],
            FormKind::Einschreibung => &[
                "einheit",
                "name",
                "email",
                "kommune",
                "organisation",
                "einwilligung",
            ],
        }
    }
}

/// The fields of one request: the first value of each known field, trimmed.
#[derive(Debug, Clone, Default)]
pub struct Input {
    pub values: BTreeMap<String, String>,
    pub honeypot: String,
    pub ts: String,
}

impl Input {
    pub fn from_pairs(kind: FormKind, pairs: impl IntoIterator<Item = (String, String)>) -> Input {
        let mut input = Input::default();
        for (k, v) in pairs {
            match k.as_str() {
                "website" => input.honeypot = v,
                "ts" => input.ts = v.trim().to_string(),
                _ if kind.fields().contains(&k.as_str()) => {
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

    pub fn get(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Registration {
    pub name: String,
    pub email: String,
    pub kommune: String,
    /// The organisation named with `kommune: andere`, else empty.
    pub organisation: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    /// What the person wants; phone and dates only for an info call.
    pub anliegen: ContactTopic,
    pub name: String,
    pub organisation: String,
    pub email: String,
    pub telefon: String,
    pub termine: Vec<String>,
    pub nachricht: String,
}

/// The choice at the top of the contact form (data minimisation: a general
/// question needs no phone number and no dates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ContactTopic {
    #[serde(rename = "frage")]
    Question,
    #[serde(rename = "infogespraech")]
    InfoCall,
}

impl ContactTopic {
    /// The choice as sent; a client without the field (an old page, a JSON
    /// caller) asks for an info call when it sent a phone number or a date.
    fn from_input(input: &Input) -> Option<ContactTopic> {
        match input.get("anliegen") {
            "frage" => Some(ContactTopic::Question),
            "infogespraech" => Some(ContactTopic::InfoCall),
            "" if ["telefon", "termin1", "termin2", "termin3"]
                .iter()
                .any(|f| !input.get(f).is_empty()) =>
            {
                Some(ContactTopic::InfoCall)
            }
            "" => Some(ContactTopic::Question),
            _ => None,
        }
    }
}

/// "1. Terminvorschlag" …: each date field's messages name the field.
const DATE_FIELDS: [(&str, &str); 3] = [
    ("termin1", "1. Terminvorschlag"),
    ("termin2", "2. Terminvorschlag"),
    ("termin3", "3. Terminvorschlag"),
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewsletterSignup {
    pub email: String,
    pub name: String,
}

/// A booking of a hybrid unit or an enrolment in an on-demand unit. The
/// price is not part of it: the workflow computes it from content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BookingRequest {
    pub kind: FormKind,
    pub einheit: String,
    /// ISO date of a live date, `naechster`, or empty for on-demand units.
    pub termin: String,
    pub name: String,
    pub email: String,
    /// Authority id or `andere`.
    pub kommune: String,
    /// The organisation named with `kommune: andere`, else empty.
    pub organisation: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Valid {
    Registration(Registration),
    Contact(Contact),
    Newsletter(NewsletterSignup),
    Booking(BookingRequest),
}

struct Check<'a> {
    input: &'a Input,
    errors: Errors,
}

const NO_LINE_BREAKS: &str = "Bitte geben Sie hier keine Zeilenumbrüche oder Steuerzeichen ein.";

impl<'a> Check<'a> {
    fn fail(&mut self, field: &str, message: &str) {
        self.errors
            .entry(field.to_string())
            .or_insert_with(|| message.to_string());
    }

    /// A single-line text; `missing` is the message when empty and required.
    fn line(&mut self, field: &str, max: usize, missing: Option<&str>) -> String {
        let v = self.input.get(field);
        if v.chars().any(char::is_control) {
            self.fail(field, NO_LINE_BREAKS);
        } else if v.chars().count() > max {
            self.fail(
                field,
                &format!("Bitte kürzen Sie Ihre Eingabe auf höchstens {max} Zeichen."),
            );
        } else if v.is_empty() {
            if let Some(m) = missing {
                self.fail(field, m);
            }
        }
        v.to_string()
    }

    fn email(&mut self, field: &str) -> String {
        let v = self.line(field, 254, Some("Bitte geben Sie Ihre E-Mail-Adresse an."));
        if !v.is_empty() && !self.errors.contains_key(field) && !email_ok(&v) {
            self.fail(
                field,
                "Bitte geben Sie eine gültige E-Mail-Adresse an, zum Beispiel name@kommune.de.",
            );
        }
        // Domains are case-insensitive; local parts in practice too.
        v.to_lowercase()
    }

    /// Authority id (a typed name is resolved) or `andere`.
    fn authority(&mut self, site: &Site) -> String {
        let mut kommune = self.line("kommune", 100, Some("Bitte wählen Sie Ihre Kommune aus."));
        if !kommune.is_empty() && kommune != "andere" {
            // Large sites take a typed name instead of a select.
            match site.find_authority(&kommune) {
                Some(a) => kommune = a.id.clone(),
                None => self.fail(
                    "kommune",
                    "Diese Kommune kennen wir nicht. Bitte wählen Sie sie aus der Liste aus oder geben Sie „andere“ an.",
                ),
            }
        }
        kommune
    }

    /// An address outside the chosen authority's official domains is refused:
    /// bookings are billed to the authority. The message names the authority
    /// the address belongs to, or the way as another organisation.
    fn official_address(&mut self, site: &Site, email: &str, kommune: &str) {
        if self.errors.contains_key("email") || self.errors.contains_key("kommune") {
            return;
        }
        let Some(chosen) = site.authority(kommune) else {
            return;
        };
        if chosen.accepts_email(email) {
            return;
        }
        let listed = chosen
            .mail_domains
            .iter()
            .map(|d| format!("@{d}"))
            .collect::<Vec<_>>()
            .join(", ");
        let way = match site.authority_by_email(email) {
            Some(other) => format!(
                "Die Adresse ist eine dienstliche Adresse {}: Wählen Sie diese Kommune, wenn Sie dort beschäftigt sind.",
                other.names.genitive
            ),
            None => "Arbeiten Sie für eine andere Stelle, wählen Sie „Andere Kommune oder Behörde“ und nennen Sie Ihre Organisation; es gilt dann der Preis für Nichtmitglieder.".to_string(),
        };
        self.fail(
            "email",
            &format!(
                "Für {} können nur dienstliche Adressen ({listed}) buchen und sich anmelden, weil die Kommune die Buchungen bezahlt. Bitte geben Sie Ihre dienstliche Adresse an. {way}",
                chosen.names.accusative
            ),
        );
    }

    /// A members-only event takes staff of member authorities only: the
    /// chosen authority must be a member and the address one of its
    /// official domains (an authority without listed domains cannot vouch).
    fn members_only(&mut self, site: &Site, event: &campus_generator::model::Event, kommune: &str) {
        if self.errors.contains_key("email") || self.errors.contains_key("kommune") {
            return;
        }
        let title = &event.title;
        match site.authority(kommune) {
            Some(a) if a.member && !a.mail_domains.is_empty() => {}
            Some(a) if a.member => self.fail(
                "kommune",
                &format!(
                    "„{title}“ ist nur für Beschäftigte der Mitgliedskommunen. Für {} sind noch keine dienstlichen E-Mail-Adressen hinterlegt; bitte wenden Sie sich an die Geschäftsstelle.",
                    a.display_name()
                ),
            ),
            Some(a) => self.fail(
                "kommune",
                &format!(
                    "„{title}“ ist nur für Beschäftigte der Mitgliedskommunen der KommunalCampus eG; {} ist kein Mitglied. Offene Veranstaltungen für alle finden Sie in der Liste der Veranstaltungen.",
                    a.display_name()
                ),
            ),
            None => self.fail(
                "kommune",
                &format!(
                    "„{title}“ ist nur für Beschäftigte der Mitgliedskommunen der KommunalCampus eG. Bitte wählen Sie Ihre Kommune und melden Sie sich mit Ihrer dienstlichen E-Mail-Adresse an.",
                ),
            ),
        }
    }

    /// The organisation of somebody who chose "andere": the office bills it.
    fn other_organisation(&mut self, kommune: &str) -> String {
        let missing = (kommune == "andere").then_some(
            "Bitte nennen Sie Ihre Kommune, Behörde oder Organisation, wenn Sie „Andere Kommune oder Behörde“ wählen.",
        );
        let v = self.line("organisation", 200, missing);
        if kommune == "andere" {
            v
        } else {
            String::new()
        }
    }

    fn consent(&mut self) {
        if self.input.get("einwilligung") != "ja" {
            self.fail(
                "einwilligung",
                "Bitte stimmen Sie der Verarbeitung Ihrer Angaben zu, sonst können wir Ihre Anfrage nicht bearbeiten.",
            );
        }
    }

    /// Bookings rest on the contract (Art. 6 (1) (b) DSGVO), not on
    /// consent: the box confirms the binding booking and the notice.
    fn booking_confirmation(&mut self) {
        if self.input.get("einwilligung") != "ja" {
            self.fail(
                "einwilligung",
                "Bitte bestätigen Sie Ihre Anmeldung und dass Sie die Datenschutzhinweise zur Kenntnis genommen haben.",
            );
        }
    }
}

/// A whole number as Germans write it: "1500", "1.500", "1 500" (a dot or
/// space only between groups of three digits). Decimals and other doubtful
/// input ("1,5", "1.50") are refused with a message instead of guessed.
pub fn german_whole_number(raw: &str) -> Result<u64, &'static str> {
    let v = raw.trim();
    if v.is_empty() {
        return Err("Bitte geben Sie eine Zahl an.");
    }
    if v.contains(',') {
        return Err("Bitte geben Sie eine ganze Zahl ohne Komma an, zum Beispiel 1500 oder 1.500.");
    }
    let groups: Vec<&str> = v.split(['.', ' ', '\u{a0}', '\u{202f}']).collect();
    let digits = |g: &str| !g.is_empty() && g.chars().all(|c| c.is_ascii_digit());
    if !groups.iter().all(|g| digits(g)) {
        return Err("Bitte geben Sie nur Ziffern an, eine ganze Zahl wie 1500 oder 1.500.");
    }
    let grouped_well =
        groups.len() == 1 || (groups[0].len() <= 3 && groups[1..].iter().all(|g| g.len() == 3));
    if !grouped_well {
        return Err("Diese Zahl ist nicht eindeutig: Ein Punkt trennt nur Tausender (1.500). Bitte geben Sie eine ganze Zahl an, zum Beispiel 1500.");
    }
    groups
        .concat()
        .parse::<u64>()
        .map_err(|_| "Diese Zahl ist zu groß.")
}

/// A conservative address check (what lettre will also accept as a mailbox).
pub fn email_ok(v: &str) -> bool {
    let Some((local, domain)) = v.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !v
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\"\\".contains(c))
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.')
        && v.parse::<lettre::Address>().is_ok()
}

/// Validates `input` as `kind`. `now` is local (Berlin) time for the
/// proposed dates of the contact form.
pub fn validate(
    kind: FormKind,
    input: &Input,
    site: &Site,
    now: NaiveDateTime,
) -> Result<Valid, Errors> {
    let mut c = Check {
        input,
        errors: Errors::new(),
    };
    let valid = match kind {
        FormKind::Registrierung => {
            let name = c.line(
                "name",
                200,
                Some("Bitte geben Sie Ihren Vor- und Nachnamen an."),
            );
            let email = c.email("email");
            let kommune = c.authority(site);
            c.official_address(site, &email, &kommune);
            let organisation = c.other_organisation(&kommune);
            c.consent();
            Valid::Registration(Registration {
                name,
                email,
                kommune,
                organisation,
            })
        }
        FormKind::Kontakt => {
            let name = c.line(
                "name",
                200,
                Some("Bitte geben Sie Ihren Vor- und Nachnamen an."),
            );
            let organisation = c.line(
                "organisation",
                200,
                Some("Bitte geben Sie Ihre Kommune oder Organisation an."),
            );
            let email = c.email("email");
            let anliegen = ContactTopic::from_input(input);
            if anliegen.is_none() {
                c.fail(
                    "anliegen",
                    "Bitte wählen Sie, ob Sie eine Frage stellen oder ein Informationsgespräch vereinbaren möchten.",
                );
            }
            let info_call = anliegen == Some(ContactTopic::InfoCall);
            // A general question keeps no phone number and no dates, even if
            // the hidden fields were filled in before the choice changed.
            let mut telefon = String::new();
            let mut termine = Vec::new();
            if info_call {
                telefon = c.line(
                    "telefon",
                    40,
                    Some("Bitte geben Sie eine Telefonnummer an, unter der wir Sie zum Informationsgespräch anrufen."),
                );
                if !telefon.is_empty()
                    && !c.errors.contains_key("telefon")
                    && (!telefon
                        .chars()
                        .all(|ch| ch.is_ascii_digit() || " +-/()".contains(ch))
                        || telefon.chars().filter(char::is_ascii_digit).count() < 5)
                {
                    c.fail(
                        "telefon",
                        "Bitte geben Sie eine Telefonnummer nur mit Ziffern, Leerzeichen und + - / ( ) an.",
                    );
                }
                for (field, label) in DATE_FIELDS {
                    let missing = format!("{label}: Bitte schlagen Sie einen Termin vor.");
                    let v = c.line(field, 20, Some(&missing));
                    if v.is_empty() || c.errors.contains_key(field) {
                        continue;
                    }
                    match NaiveDateTime::parse_from_str(&v, "%Y-%m-%dT%H:%M") {
                        Err(_) => c.fail(
                            field,
                            &format!("{label}: Bitte geben Sie Datum und Uhrzeit an, zum Beispiel 10.02.2027, 10:00 Uhr."),
                        ),
                        Ok(t) if t <= now => c.fail(
                            field,
                            &format!("{label}: Bitte schlagen Sie einen Termin in der Zukunft vor."),
                        ),
                        Ok(_) if termine.contains(&v) => c.fail(
                            field,
                            &format!("{label}: Dieser Termin steht schon weiter oben. Bitte schlagen Sie drei verschiedene Termine vor."),
                        ),
                        Ok(_) => termine.push(v),
                    }
                }
            }
            let nachricht = input.get("nachricht").to_string();
            if nachricht.chars().count() > 5000 {
                c.fail(
                    "nachricht",
                    "Bitte kürzen Sie Ihre Nachricht auf höchstens 5.000 Zeichen.",
                );
            } else if nachricht
                .chars()
                .any(|ch| ch.is_control() && !matches!(ch, '\n' | '\r' | '\t'))
            {
                c.fail(
                    "nachricht",
                    "Ihre Nachricht enthält unzulässige Steuerzeichen.",
                );
            }
            if !info_call && nachricht.trim().is_empty() && !c.errors.contains_key("nachricht") {
                c.fail("nachricht", "Bitte schreiben Sie uns Ihre Frage.");
            }
            c.consent();
            Valid::Contact(Contact {
                anliegen: anliegen.unwrap_or(ContactTopic::Question),
                name,
                organisation,
                email,
                telefon,
                termine,
                nachricht: nachricht.replace("\r\n", "\n"),
            })
        }
        FormKind::Newsletter => {
            let email = c.email("email");
            let name = c.line("name", 200, None);
            c.consent();
            Valid::Newsletter(NewsletterSignup { email, name })
        }
        FormKind::Buchung | FormKind::Einschreibung => {
            let einheit = c.line("einheit", 100, Some("Bitte wählen Sie eine Lerneinheit."));
            let unit = site.units.iter().find(|u| u.id == einheit);
            let hybrid = kind == FormKind::Buchung;
            match unit {
                None if !einheit.is_empty() => c.fail(
                    "einheit",
                    "Diese Lerneinheit gibt es nicht (mehr). Bitte wählen Sie eine aus dem Katalog.",
                ),
                Some(u) if (u.format == Format::Hybrid) != hybrid => c.fail(
                    "einheit",
                    if hybrid {
                        "Für diese Lerneinheit gibt es keine Live-Termine; bitte schreiben Sie sich ein."
                    } else {
                        "Diese Lerneinheit hat Live-Termine; bitte buchen Sie einen Termin."
                    },
                ),
                _ => {}
            }
            let mut termin = String::new();
            if hybrid {
                termin = c.line(
                    "termin",
                    20,
                    Some("Bitte wählen Sie einen Termin oder „Nächster möglicher Termin“."),
                );
                if !termin.is_empty() && termin != "naechster" {
                    let today = now.date();
                    let known = unit.is_some_and(|u| {
                        u.upcoming_dates(today)
                            .any(|d| d.date.format("%Y-%m-%d").to_string() == termin)
                    });
                    if unit.is_some() && !known {
                        c.fail(
                            "termin",
                            "Diesen Termin gibt es nicht mehr. Bitte wählen Sie einen anderen Termin oder „Nächster möglicher Termin“.",
                        );
                    }
                }
            }
            let name = c.line(
                "name",
                200,
                Some("Bitte geben Sie Ihren Vor- und Nachnamen an."),
            );
            let email = c.email("email");
            let kommune = c.authority(site);
            if let Some((u, owner)) = unit.and_then(|u| Some((u, u.internal_to?))) {
                let owner = &site.authorities[owner];
                if !kommune.is_empty() && kommune != owner.id {
                    let names = &owner.names;
                    c.fail(
                        "kommune",
                        &format!(
                            "„{}“ ist ein internes Angebot {} und nur für deren Beschäftigte buchbar. Bitte wählen Sie {} als Ihre Kommune oder eine Lerneinheit aus dem Katalog.",
                            u.title, names.genitive, names.accusative
                        ),
                    );
                }
            }
            c.official_address(site, &email, &kommune);
            let organisation = c.other_organisation(&kommune);
            c.booking_confirmation();
            Valid::Booking(BookingRequest {
                kind,
                einheit,
                termin,
                name,
                email,
                kommune,
                organisation,
            })
        }
        FormKind::Veranstaltung => {
            let id = c.line(
                "veranstaltung",
                100,
                Some("Bitte wählen Sie eine Veranstaltung."),
            );
            let event = site.event(&id);
            match event {
                None if !id.is_empty() => c.fail(
                    "veranstaltung",
                    "Diese Veranstaltung gibt es nicht (mehr). Bitte wählen Sie eine aus der Liste der Veranstaltungen.",
                ),
                Some(e) if !e.open_at(now) => c.fail(
                    "veranstaltung",
                    "Diese Veranstaltung hat bereits stattgefunden; eine Anmeldung ist nicht mehr möglich.",
                ),
                _ => {}
            }
            let name = c.line(
                "name",
                200,
                Some("Bitte geben Sie Ihren Vor- und Nachnamen an."),
            );
            let email = c.email("email");
            let kommune = c.authority(site);
            if let Some(e) = event.filter(|e| e.members_only()) {
                c.members_only(site, e, &kommune);
            }
            c.official_address(site, &email, &kommune);
            let organisation = c.other_organisation(&kommune);
            c.booking_confirmation();
            Valid::Booking(BookingRequest {
                kind,
                einheit: id,
                termin: event
                    .map(|e| e.date.format("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
                name,
                email,
                kommune,
                organisation,
            })
        }
    };
    if c.errors.is_empty() {
        Ok(valid)
    } else {
        Err(c.errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_whole_numbers() {
        for (raw, n) in [
            ("1500", 1500),
            ("1.500", 1500),
            (" 1 500 ", 1500),
            ("12.000.000", 12_000_000),
            ("7", 7),
        ] {
            assert_eq!(german_whole_number(raw), Ok(n), "{raw}");
        }
        for raw in [
            "", "1,5", "1.50", "1.5", "15.00", "1500.", "zwölf", "-3", "1..500", "1500,00",
        ] {
            assert!(german_whole_number(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn addresses() {
        assert!(email_ok("e.mustermann@musterstadt.example"));
        assert!(!email_ok("a@b"));
        assert!(!email_ok("a b@c.de"));
        assert!(!email_ok("a@c.de\r\nBcc: x@y.de"));
        assert!(!email_ok("<a@c.de>"));
        assert!(!email_ok("a@c.de, b@d.de"));
    }

    #[test]
    fn honeypot_and_ts_are_separated_and_first_value_wins() {
        let input = Input::from_pairs(
            FormKind::Newsletter,
            [
                ("email".to_string(), " a@b.de ".to_string()),
                ("email".to_string(), "x@y.de".to_string()),
                ("website".to_string(), "spam".to_string()),
                ("unbekannt".to_string(), "x".to_string()),
            ],
        );
        assert_eq!(input.get("email"), "a@b.de");
        assert_eq!(input.honeypot, "spam");
        assert!(!input.values.contains_key("unbekannt"));
    }
}
