//! Every public path of the site and of the form backend, in one place:
//! the generated pages link to them, the backend routes them and its mails
//! point to them. Paths are relative to the site (or the backend's) root;
//! callers put the base URL in front where a full address is needed.

/// The catalog of all learning units.
pub const CATALOG: &str = "/lerneinheiten/";

pub fn unit(id: &str) -> String {
    format!("/lerneinheiten/{id}/")
}

pub fn course(id: &str) -> String {
    format!("/kurse/{id}/")
}

pub fn topic(id: &str) -> String {
    format!("/themen/{id}/")
}

/// The index of all lecturers.
pub const LECTURERS: &str = "/dozierende/";

/// The education providers and their quality facts, one section each.
pub const PROVIDERS: &str = "/anbieter/";

/// A provider's section on the providers page.
pub fn provider(id: &str) -> String {
    format!("/anbieter/#{id}")
}

pub fn lecturer(id: &str) -> String {
    format!("/dozierende/{id}/")
}

/// The events (Veranstaltungen), upcoming first.
pub const EVENTS: &str = "/veranstaltungen/";

pub fn event(id: &str) -> String {
    format!("/veranstaltungen/{id}/")
}

/// The calendar file of an event on the site (no private links in it).
pub fn event_calendar(id: &str) -> String {
    format!("/veranstaltungen/{id}/kalender.ics")
}

pub fn authority(id: &str) -> String {
    format!("/kommunen/{id}/")
}

/// The catalog of one format (`hybrid`, `on-demand`).
pub fn format_catalog(format_id: &str) -> String {
    format!("/lerneinheiten/format/{format_id}/")
}

/// The catalog of one level.
pub fn level_catalog(level_id: &str) -> String {
    format!("/lerneinheiten/niveau/{level_id}/")
}

/// A thank-you or error page after a form (`danke-kontakt`, `bestaetigt`, ...).
pub fn form_result(id: &str) -> String {
    format!("/formular/{id}/")
}

/// Where a form of the backend posts to (`kontakt`, `buchung`, ...).
pub fn form(name: &str) -> String {
    format!("/forms/{name}")
}

pub const SEARCH: &str = "/forms/suche";
pub const FILTERED_CATALOG: &str = "/forms/katalog";
pub const SELFCHECK: &str = "/forms/selbstcheck";
pub const CALCULATOR: &str = "/forms/mitgliedschaft/rechner";

/// The double opt-in link of a registration or newsletter signup.
pub fn confirm(token: &str) -> String {
    format!("/forms/bestaetigen/{token}")
}

/// The signed unsubscribe link of newsletter mails.
pub fn unsubscribe(token: &str) -> String {
    format!("/forms/newsletter/abmelden/{token}")
}

/// A link of the booking workflow: `step` is `bestaetigen`, `freigeben`,
/// `ablehnen`, `angebot` or `stornieren`.
pub fn booking_step(step: &str, token: &str) -> String {
    format!("/forms/buchung/{step}/{token}")
}

/// The backend page behind a link in a course booking's mail
/// (`bestaetigen`, `freigeben`, `ablehnen`).
pub fn course_step(step: &str, token: &str) -> String {
    format!("/forms/kurs/{step}/{token}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_end_as_the_site_serves_them() {
        assert_eq!(unit("e-akte"), "/lerneinheiten/e-akte/");
        assert_eq!(authority("ahornfeld"), "/kommunen/ahornfeld/");
        assert_eq!(form_result("danke-kontakt"), "/formular/danke-kontakt/");
        assert_eq!(booking_step("freigeben", "t"), "/forms/buchung/freigeben/t");
        assert_eq!(form("kontakt"), "/forms/kontakt");
    }
}
