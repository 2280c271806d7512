//! The draft content file of a new member's landing page
//! (`content/kommunen/<id>.md`), written from its application in the real
//! front-matter format. What only the editors can supply is a placeholder
//! `campus check` refuses at file:line until it is filled: the logo and
//! the picture name files that do not exist yet, the Leitweg-ID is not one,
//! and the welcome text and the picture's description carry the marker
//! [`TODO`] (see docs/redaktion.md).

use super::Application;
use campus_generator::content::Approval;

/// The marker of every text the editor completes.
pub const TODO: &str = campus_generator::links::PLACEHOLDER;

/// What stands for the Leitweg-ID until the editor has it (refused as no
/// Leitweg-ID; without the marker, so that one cause is one message).
pub const LEITWEG_PLACEHOLDER: &str = "Leitweg-ID eintragen";

/// The id (file name without `.md`) of the new authority's page.
pub fn id_of(a: &Application) -> String {
    campus_generator::slug::slugify(&a.name)
}

/// A YAML string in double quotes (names may hold `:` or `#`).
fn quoted(text: &str) -> String {
    let escaped: String = text
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    format!("\"{escaped}\"")
}

/// The file's text. `number` is the application's number (`M-12`).
pub fn landing_page(a: &Application, number: &str) -> String {
    let id = id_of(a);
    let kind = serde_json::to_value(a.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let approval = match a.approval {
        Approval::Genossenschaft => "genossenschaft".to_string(),
        Approval::Kommune => format!("kommune\nfreigabe_email: {}", quoted(&a.approver_email)),
    };
    format!(
        "---
# ENTWURF aus dem Mitgliedsantrag {number}. Bitte alle Stellen mit „{TODO}“ ausfüllen,
# Wappen und Bild unter static{logo_dir} ablegen, die Leitweg-ID der Rechnungsstelle
# eintragen und die Lerneinheiten auswählen. Bis dahin meldet „campus check“ diese
# Datei mit jeder offenen Stelle als Fehler. Danach diese Kommentarzeilen löschen.
name: {name}
art: {kind}
mitglied: true
beschaeftigte: {employees}
logo: {logo_dir}/{id}-logo.svg
bild:
  datei: {logo_dir}/{id}-bild.svg
  alt: {alt}
einheiten: []
ansprechperson:
  name: {contact}
  email: {email}
  telefon: {phone}
freigabe: {approval}
dienstliche_domains: [{domain}]
# Leitweg-ID der Rechnungsstelle, z. B. 06999101-rechnung-57
leitweg_id: {leitweg}
rechnungsanschrift:
  strasse: {street}
  plz: {postcode}
  ort: {town}
---
{TODO}: Begrüßungstext für die Beschäftigten von {plain_name} (zum Beispiel: wer die Fortbildung in Ihrem Haus betreut, welche Vorhaben die Lerneinheiten unterstützen und wie Buchungen freigegeben werden).
",
        logo_dir = "/bilder/kommunen",
        name = quoted(&a.name),
        employees = a.employees,
        alt = quoted(&format!("{TODO}: Was das Bild zeigt")),
        contact = quoted(&a.contact_name),
        email = quoted(&a.contact_email),
        phone = quoted(&a.contact_phone),
        domain = quoted(a.official_domain()),
        leitweg = quoted(LEITWEG_PLACEHOLDER),
        street = quoted(&a.street),
        postcode = quoted(&a.postcode),
        town = quoted(&a.town),
        plain_name = a.name,
    )
}
