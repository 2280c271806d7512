//! The raw shapes editors write: front matter and data files as they are
//! deserialized, before `model` checks and links them.

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Hybrid,
    OnDemand,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawLevel {
    pub id: Located<String>,
    pub name: String,
    #[serde(default)]
    pub beschreibung: String,
    pub preis: crate::money::Cents,
    pub abrechnung: String,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawPriceRules {
    pub mehrwertsteuer_prozent: i64,
    pub aufschlag_nichtmitglieder_prozent: i64,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawMembership {
    pub anteil_euro: i64,
    pub staffel: Vec<Located<RawBracket>>,
    pub jahresbeitrag_faktor: Located<i64>,
    pub beitragsminderung: RawReduction,
}

/// `data/stornobedingungen.yaml`: when cancelling a live booking is free
/// and what a late cancellation or a no-show costs.
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawCancellationTerms {
    pub kostenfrei_bis_tage_vorher: Located<i64>,
    pub spaete_stornierung_prozent: Located<i64>,
    pub nichterscheinen_prozent: Located<i64>,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawBracket {
    #[serde(default)]
    pub bis: Option<u32>,
    pub anteile: u32,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawReduction {
    pub prozent_der_buchungen: Located<i64>,
    pub hoechstens_prozent: Located<i64>,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawFaqCategory {
    pub id: Located<String>,
    pub name: String,
}

/// One competence area of the self-check (`data/kompetenzen.yaml`).
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawCompetenceArea {
    pub id: Located<String>,
    pub name: String,
    #[serde(default)]
    pub beschreibung: String,
    /// Names of the levels, from level 0 upwards (e.g. four names for 0 to 3).
    pub stufen: Located<Vec<String>>,
}

/// One role profile of the self-check (`data/rollenprofile.yaml`): the
/// target level per competence area.
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoleProfile {
    pub id: Located<String>,
    pub name: String,
    #[serde(default)]
    pub beschreibung: String,
    pub ziele: BTreeMap<String, Located<i64>>,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawTopic {
    pub titel: String,
    pub kurzbeschreibung: String,
    #[serde(default)]
    pub reihenfolge: Option<i64>,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawLecturer {
    pub name: String,
    #[serde(default)]
    pub funktion: String,
}

/// What kind of institution an education provider is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Hochschule,
    Kammer,
    Unternehmen,
    Verwaltung,
}

/// An education provider (`content/anbieter/<id>.md`) with its quality facts.
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawProvider {
    pub name: String,
    pub art: ProviderKind,
    #[serde(default)]
    pub ort: String,
    /// When the provider was onboarded against the quality criteria.
    pub aufgenommen: Located<String>,
    /// Lecturers the Fachbeirat qualified for this provider.
    #[serde(default)]
    pub dozierende: Vec<RawQualifiedLecturer>,
    /// External audits and certifications.
    #[serde(default)]
    pub zertifizierungen: Vec<RawCertification>,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawQualifiedLecturer {
    pub person: Located<String>,
    /// Date of the Fachbeirat's decision.
    pub qualifiziert: Located<String>,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawCertification {
    pub bezeichnung: String,
    /// The external body that audited or certified.
    pub stelle: String,
    pub datum: Located<String>,
    #[serde(default)]
    pub gueltig_bis: Option<Located<String>>,
    /// The units the audit covers (unit ids); empty: the whole provider.
    #[serde(default)]
    pub einheiten: Vec<Located<String>>,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawUnit {
    pub titel: String,
    pub kurzbeschreibung: String,
    pub format: Format,
    pub niveau: Located<String>,
    pub themen: Located<Vec<Located<String>>>,
    #[serde(default)]
    pub dozierende: Vec<Located<String>>,
    /// The education provider (id in `content/anbieter/`).
    #[serde(default)]
    pub anbieter: Option<Located<String>>,
    pub aufwand_stunden: Located<f64>,
    #[serde(default)]
    pub kompetenzen: Vec<String>,
    #[serde(default)]
    pub termine: Option<Located<Vec<RawLiveDate>>>,
    #[serde(default)]
    pub start_link: Option<Located<String>>,
    /// Hybrid units: where the preparation module is (sent in the mail when it opens).
    #[serde(default)]
    pub vorbereitung_link: Option<Located<String>>,
    /// Competence areas (ids from `data/kompetenzen.yaml`) this unit raises,
    /// and the level a participant reaches in each.
    #[serde(default)]
    pub kompetenzstufen: BTreeMap<String, Located<i64>>,
    /// Units to take before this one (unit ids).
    #[serde(default)]
    pub voraussetzungen: Vec<Located<String>>,
    /// An authority's own internal unit (authority id): shown only on its
    /// landing page and bookable only by its staff.
    #[serde(default)]
    pub intern_fuer: Option<Located<String>>,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawLiveDate {
    pub datum: Located<String>,
    pub plaetze: Located<u32>,
    #[serde(default)]
    pub vergeben: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UnitRole {
    Pflicht,
    Wahlpflicht,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawCourse {
    pub titel: String,
    pub kurzbeschreibung: String,
    pub einheiten: Located<Vec<RawCourseUnit>>,
    #[serde(default)]
    pub wahlpflicht_anzahl: Option<Located<u32>>,
    pub zertifikat: String,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawCourseUnit {
    pub einheit: Located<String>,
    pub art: UnitRole,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
pub enum AuthorityKind {
    Gemeinde,
    Stadt,
    Landkreis,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Approval {
    Genossenschaft,
    Kommune,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuthority {
    pub name: String,
    pub art: AuthorityKind,
    pub mitglied: bool,
    pub beschaeftigte: u32,
    pub logo: Located<String>,
    pub bild: RawPicture,
    pub einheiten: Vec<Located<String>>,
    pub ansprechperson: RawContact,
    pub freigabe: Located<Approval>,
    #[serde(default)]
    pub freigabe_email: Option<String>,
    /// Mail domains of the authority's staff (`stadt.example`); bookings and
    /// registrations for it need an address in one of them.
    #[serde(default)]
    pub dienstliche_domains: Vec<Located<String>>,
    /// Leitweg-ID of the authority's invoice inbox (XRechnung BT-10).
    #[serde(default)]
    pub leitweg_id: Option<Located<String>>,
    /// Postal address invoices go to.
    #[serde(default)]
    pub rechnungsanschrift: Option<RawPostalAddress>,
    /// The name with article in its four cases, for names the rule of
    /// `art` gets wrong (see `model::names`).
    #[serde(default)]
    pub namensformen: Option<RawNameForms>,
}

/// "der Markt Oberau", "des Marktes Oberau", "dem Markt Oberau", "den Markt Oberau".
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawNameForms {
    pub nominativ: String,
    pub genitiv: String,
    pub dativ: String,
    pub akkusativ: String,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawPostalAddress {
    /// Department or office the invoice is for, e.g. „Fachbereich Finanzen“.
    #[serde(default)]
    pub zusatz: String,
    pub strasse: String,
    pub plz: String,
    pub ort: String,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawPicture {
    pub datei: Located<String>,
    pub alt: Located<String>,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawContact {
    pub name: String,
    #[serde(default)]
    pub funktion: String,
    pub email: String,
    #[serde(default)]
    pub telefon: String,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawFaq {
    pub frage: String,
    pub kategorie: Located<String>,
    #[serde(default)]
    pub reihenfolge: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PageTemplate {
    #[default]
    Seite,
    Mitgliedschaft,
    Kontakt,
    Newsletter,
    Registrierung,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawPage {
    pub titel: String,
    #[serde(default)]
    pub beschreibung: String,
    #[serde(default)]
    pub vorlage: PageTemplate,
    /// Self-hosted videos below the text (e.g. in sign language), each with captions.
    #[serde(default)]
    pub videos: Vec<RawVideo>,
}

/// A video file below `static/` with a WebVTT caption file beside it.
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawVideo {
    pub titel: Located<String>,
    pub datei: Located<String>,
    pub untertitel: Located<String>,
    #[serde(default)]
    pub vorschaubild: Option<Located<String>>,
    /// What the video says, for people who neither see it nor read captions.
    #[serde(default)]
    pub beschreibung: String,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawHome {
    pub titel: String,
    #[serde(default)]
    pub beschreibung: String,
}

/// Who may register for an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    /// Staff of member authorities (an address in a member's official domains).
    Mitglieder,
    /// Everyone.
    Alle,
}

/// An event (`content/veranstaltungen/<id>.md`): one date with its own
/// times, online or at a place, free of charge.
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvent {
    pub titel: String,
    pub kurzbeschreibung: String,
    pub datum: Located<String>,
    /// Local Berlin time, `HH:MM`.
    pub beginn: Located<String>,
    pub ende: Located<String>,
    /// The address of the place (one of `ort` and `online_link`).
    #[serde(default)]
    pub ort: Option<Located<String>>,
    /// The meeting link, given only to people with a confirmed place.
    #[serde(default)]
    pub online_link: Option<Located<String>>,
    pub plaetze: Located<u32>,
    pub teilnahme: Located<Audience>,
}
