//! The application form on `/forms/mitgliedsantrag`: the page (rendered by
//! the backend, so "Berechnen" works without JavaScript: it posts the form,
//! and the page comes back with the figures and everything typed, nothing
//! stored), the fields and their German messages, and the post that stores.

use super::{figures, FORM};
use crate::sign::FormStamp;
use crate::validate::{email_ok, german_whole_number, Errors};
use crate::web::{blocking, check_ip_limit, html_headers};
use crate::workflow::Ctx;
use crate::{AppError, AppState, Loaded};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use campus_generator::content::{Approval, AuthorityKind};
use campus_generator::Site;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const URL: &str = "/forms/mitgliedsantrag";
pub const THANKS_URL: &str = "/forms/mitgliedsantrag/danke";

/// The form's fields in page order (besides `website`, `ts`, `aktion`).
pub const FIELDS: &[&str] = &[
    "name",
    "art",
    "strasse",
    "plz",
    "ort",
    "beschaeftigte",
    "beschluss_datum",
    "beschluss_gremium",
    "kontakt_name",
    "kontakt_email",
    "kontakt_telefon",
    "freigabe",
    "freigabe_email",
    "einwilligung",
];

/// A valid application as it is stored (the submission's payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    pub name: String,
    pub kind: AuthorityKind,
    pub street: String,
    pub postcode: String,
    pub town: String,
    pub employees: u32,
    /// "1.500".
    pub employees_label: String,
    /// What the applicant saw and commits to (from `data/mitgliedschaft.yaml`).
    pub shares: u32,
    pub deposit_cents: i64,
    pub annual_fee_cents: i64,
    /// `YYYY-MM-DD`.
    pub resolution_date: String,
    /// "Dienstag, 10. November 2026".
    pub resolution_date_label: String,
    pub resolution_body: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub approval: Approval,
    /// Who approves the staff's bookings when `approval` is `kommune`.
    pub approver_email: String,
}

impl Application {
    /// The domain of the contact person's official address: the staff's
    /// mail domain on the landing page.
    pub fn official_domain(&self) -> &str {
        self.contact_email
            .rsplit_once('@')
            .map_or("", |(_, domain)| domain)
    }
}

/// The first value of each known field, trimmed; the honeypot, the time
/// stamp and the pressed button apart.
#[derive(Debug, Default)]
struct Sent {
    values: BTreeMap<String, String>,
    honeypot: String,
    ts: String,
    calculate: bool,
}

impl Sent {
    fn from_pairs(pairs: Vec<(String, String)>) -> Sent {
        let mut sent = Sent::default();
        for (k, v) in pairs {
            match k.as_str() {
                "website" => sent.honeypot = v,
                "ts" => sent.ts = v.trim().to_string(),
                "aktion" => sent.calculate = v == "berechnen",
                _ if FIELDS.contains(&k.as_str()) => {
                    sent.values.entry(k).or_insert_with(|| v.trim().to_string());
                }
                _ => {}
            }
        }
        sent
    }

    fn get(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }
}

const EMPLOYEES_RANGE: &str = "Bitte geben Sie die Zahl der Beschäftigten als ganze Zahl ab 1 an, zum Beispiel 600 oder 1.500.";

/// The number of employees, or the message for the field.
fn employees(raw: &str) -> Result<u32, String> {
    if raw.is_empty() {
        return Err("Bitte geben Sie die Zahl der Beschäftigten Ihrer Kommune an.".into());
    }
    german_whole_number(raw)
        .map_err(str::to_string)
        .and_then(|n| {
            u32::try_from(n)
                .ok()
                .filter(|n| (1..=10_000_000).contains(n))
                .ok_or_else(|| EMPLOYEES_RANGE.to_string())
        })
}

/// "2026-11-10" (a date field) or "10.11.2026" (typed where the browser has no date field).
fn date(raw: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%d.%m.%Y"))
        .ok()
}

struct Check<'a> {
    sent: &'a Sent,
    errors: Errors,
}

impl Check<'_> {
    fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors
            .entry(field.to_string())
            .or_insert_with(|| message.into());
    }

    /// A required single-line text of at most `max` characters.
    fn line(&mut self, field: &str, max: usize, missing: &str) -> String {
        let v = self.sent.get(field);
        if v.is_empty() {
            self.fail(field, missing);
        } else if v.chars().any(char::is_control) {
            self.fail(
                field,
                "Bitte geben Sie hier keine Zeilenumbrüche oder Steuerzeichen ein.",
            );
        } else if v.chars().count() > max {
            self.fail(
                field,
                format!("Bitte kürzen Sie Ihre Eingabe auf höchstens {max} Zeichen."),
            );
        }
        v.to_string()
    }

    fn email(&mut self, field: &str, missing: &str) -> String {
        let v = self.line(field, 254, missing);
        if !self.errors.contains_key(field) && !email_ok(&v) {
            self.fail(
                field,
                "Bitte geben Sie eine gültige E-Mail-Adresse an, zum Beispiel name@kommune.de.",
            );
        }
        v.to_lowercase()
    }
}

/// Validates a sent form against the site's membership rules; `today` is
/// the Berlin date (a resolution cannot be in the future).
fn validate(sent: &Sent, site: &Site, today: NaiveDate) -> Result<Application, Errors> {
    let mut c = Check {
        sent,
        errors: Errors::new(),
    };
    let name = c.line(
        "name",
        200,
        "Bitte geben Sie den Namen Ihrer Kommune an, zum Beispiel Stadt Musterstadt.",
    );
    if let Some(known) = site.find_authority(&name).filter(|a| a.member) {
        c.fail(
            "name",
            format!(
                "„{}“ ist bereits Mitglied der Genossenschaft. Bei Fragen schreiben Sie uns bitte über die Kontaktseite.",
                known.display_name()
            ),
        );
    }
    let kind = match sent.get("art") {
        "Gemeinde" => Some(AuthorityKind::Gemeinde),
        "Stadt" => Some(AuthorityKind::Stadt),
        "Landkreis" => Some(AuthorityKind::Landkreis),
        _ => None,
    };
    if kind.is_none() {
        c.fail(
            "art",
            "Bitte wählen Sie aus, ob Ihre Kommune eine Gemeinde, eine Stadt oder ein Landkreis ist.",
        );
    }
    let street = c.line(
        "strasse",
        200,
        "Bitte geben Sie Straße und Hausnummer der Verwaltung an.",
    );
    let postcode = sent.get("plz").to_string();
    if postcode.len() != 5 || !postcode.chars().all(|ch| ch.is_ascii_digit()) {
        c.fail(
            "plz",
            "Bitte geben Sie die Postleitzahl mit fünf Ziffern an, zum Beispiel 64646.",
        );
    }
    let town = c.line("ort", 100, "Bitte geben Sie den Ort an.");
    let employees = employees(sent.get("beschaeftigte"))
        .map_err(|m| c.fail("beschaeftigte", m))
        .ok();
    let resolution = match date(sent.get("beschluss_datum")) {
        None if sent.get("beschluss_datum").is_empty() => {
            c.fail(
                "beschluss_datum",
                "Bitte geben Sie das Datum des Gremienbeschlusses an.",
            );
            None
        }
        None => {
            c.fail(
                "beschluss_datum",
                "Bitte geben Sie das Datum des Beschlusses als Datum an, zum Beispiel 10.11.2026.",
            );
            None
        }
        Some(d) if d > today => {
            c.fail(
                "beschluss_datum",
                "Das Datum des Beschlusses liegt in der Zukunft. Den Antrag stellen Sie bitte nach dem Beschluss.",
            );
            None
        }
        Some(d) => Some(d),
    };
    let resolution_body = c.line(
        "beschluss_gremium",
        200,
        "Bitte nennen Sie das Gremium, das den Beitritt beschlossen hat, zum Beispiel Gemeinderat, Stadtrat oder Kreistag.",
    );
    let contact_name = c.line(
        "kontakt_name",
        200,
        "Bitte geben Sie den Namen der Ansprechperson an.",
    );
    let contact_email = c.email(
        "kontakt_email",
        "Bitte geben Sie die dienstliche E-Mail-Adresse der Ansprechperson an.",
    );
    let contact_phone = c.line(
        "kontakt_telefon",
        50,
        "Bitte geben Sie eine Telefonnummer der Ansprechperson an.",
    );
    let digits = contact_phone.chars().filter(char::is_ascii_digit).count();
    if !c.errors.contains_key("kontakt_telefon")
        && (digits < 5
            || !contact_phone
                .chars()
                .all(|ch| ch.is_ascii_digit() || " +-/()".contains(ch)))
    {
        c.fail(
            "kontakt_telefon",
            "Bitte geben Sie die Telefonnummer nur mit Ziffern, Leerzeichen und + - / ( ) an, zum Beispiel 06251 123-45.",
        );
    }
    let approval = match sent.get("freigabe") {
        "genossenschaft" => Some(Approval::Genossenschaft),
        "kommune" => Some(Approval::Kommune),
        _ => {
            c.fail(
                "freigabe",
                "Bitte wählen Sie, wer die Buchungen Ihrer Beschäftigten freigibt.",
            );
            None
        }
    };
    let approver_email = if approval == Some(Approval::Kommune) {
        c.email(
            "freigabe_email",
            "Bitte geben Sie die E-Mail-Adresse der Stelle an, die in Ihrer Kommune die Buchungen freigibt.",
        )
    } else {
        String::new()
    };
    if sent.get("einwilligung") != "ja" {
        c.fail(
            "einwilligung",
            "Bitte stimmen Sie der Verarbeitung Ihrer Angaben zu, sonst können wir Ihren Antrag nicht bearbeiten.",
        );
    }
    match (kind, employees, resolution, approval) {
        (Some(kind), Some(employees), Some(resolution), Some(approval)) if c.errors.is_empty() => {
            let q = site.membership.quote(employees);
            Ok(Application {
                name,
                kind,
                street,
                postcode,
                town,
                employees,
                employees_label: campus_generator::money::group_thousands(employees.into()),
                shares: q.shares,
                deposit_cents: q.deposit.0,
                annual_fee_cents: q.annual_fee.0,
                resolution_date: resolution.format("%Y-%m-%d").to_string(),
                resolution_date_label: campus_generator::time::german_long_date(resolution),
                resolution_body,
                contact_name,
                contact_email,
                contact_phone,
                approval,
                approver_email,
            })
        }
        _ => Err(c.errors),
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(URL, get(form_page).post(form_post))
        .route(THANKS_URL, get(thanks_page))
}

/// Why the page came back without storing, besides field errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Notice {
    None,
    /// "Berechnen": the figures, nothing stored.
    Calculated,
    /// Sent too fast or with an old time stamp: send once more.
    SendAgain,
    /// Over the per-address limit: send again later.
    TooMany,
}

impl Notice {
    fn as_str(self) -> &'static str {
        match self {
            Notice::None => "",
            Notice::Calculated => "berechnet",
            Notice::SendAgain => "erneut",
            Notice::TooMany => "zu-viele",
        }
    }
}

/// The page with what was typed, the messages in field order and, for a
/// valid number of employees, the figures.
fn page(state: &AppState, loaded: &Loaded, sent: &Sent, errors: &Errors, notice: Notice) -> String {
    let error_list: Vec<Value> = FIELDS
        .iter()
        .filter_map(|f| errors.get(*f).map(|m| json!({ "field": f, "message": m })))
        .collect();
    let values: serde_json::Map<String, Value> = FIELDS
        .iter()
        .map(|f| (f.to_string(), json!(sent.get(f))))
        .collect();
    let quote = employees(sent.get("beschaeftigte"))
        .ok()
        .map_or(Value::Null, |n| figures(&loaded.site.membership, n));
    let form = json!({
        "name": FORM, "values": values, "errors": errors,
        "error_list": error_list, "ts": state.form_stamp(),
    });
    let title = "Mitgliedsantrag stellen";
    loaded.pages.own(
        "forms/mitgliedsantrag.html",
        URL,
        title,
        &[
            ("form", form),
            ("quote", quote),
            ("notice", json!(notice.as_str())),
            (
                "membership",
                campus_generator::render::membership_view(&loaded.site),
            ),
            ("action", json!(URL)),
        ],
    )
}

fn html(status: StatusCode, body: String) -> Response {
    (status, html_headers(), body).into_response()
}

async fn form_page(State(state): State<AppState>) -> Response {
    let loaded = state.loaded();
    html(
        StatusCode::OK,
        page(
            &state,
            &loaded,
            &Sent::default(),
            &Errors::new(),
            Notice::None,
        ),
    )
}

async fn thanks_page(State(state): State<AppState>) -> Response {
    let loaded = state.loaded();
    let hours = state.settings.confirm_valid.as_secs() / 3600;
    html(
        StatusCode::OK,
        loaded.pages.own(
            "forms/mitgliedsantrag-danke.html",
            THANKS_URL,
            "Bitte bestätigen Sie Ihren Antrag",
            &[("hours", json!(hours))],
        ),
    )
}

async fn form_post(State(state): State<AppState>, req: Request) -> Result<Response, AppError> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, state.settings.body_limit)
        .await
        .map_err(|_| AppError::TooLarge { json: false })?;
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(&bytes).map_err(|_| AppError::Unsupported { json: false })?;
    let sent = Sent::from_pairs(pairs);
    let loaded = state.loaded();
    if sent.calculate {
        // Only the figures: nothing is stored, and only the number is judged.
        let mut errors = Errors::new();
        if let Err(m) = employees(sent.get("beschaeftigte")) {
            errors.insert("beschaeftigte".into(), m);
        }
        let status = if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        return Ok(html(
            status,
            page(&state, &loaded, &sent, &errors, Notice::Calculated),
        ));
    }
    let ip = match check_ip_limit(&state, &parts, false).await {
        Ok(ip) => ip,
        Err(AppError::RateLimited { retry_after, .. }) => {
            let mut r = html(
                StatusCode::TOO_MANY_REQUESTS,
                page(&state, &loaded, &sent, &Errors::new(), Notice::TooMany),
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            return Ok(r);
        }
        Err(e) => return Err(e),
    };
    if !sent.honeypot.is_empty() {
        tracing::info!(form = FORM, "Honeypot ausgefüllt, Anfrage verworfen");
        return Ok(see_other(THANKS_URL));
    }
    let today = state.settings.clock.berlin_now().date();
    let application = match validate(&sent, &loaded.site, today) {
        Ok(a) => a,
        Err(errors) => {
            return Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                page(&state, &loaded, &sent, &errors, Notice::None),
            ))
        }
    };
    let stamp = state.check_form_stamp(&sent.ts);
    if stamp != FormStamp::Valid {
        tracing::info!(form = FORM, ?stamp, "Formular ohne gültigen Zeitstempel");
        return Ok(html(
            StatusCode::OK,
            page(&state, &loaded, &sent, &Errors::new(), Notice::SendAgain),
        ));
    }
    let ip_hash = state.signer.ip_hash(&ip);
    let st = state.clone();
    let ld = loaded.clone();
    blocking(move || {
        let ctx = Ctx {
            store: &st.store,
            letterhead: &ld.letterhead,
            signer: &st.signer,
            backend_url: &ld.backend_url,
            office: &st.settings.office,
            confirm_valid: st.settings.confirm_valid,
            per_recipient_per_hour: st.settings.per_recipient_per_hour,
            ip_hash: &ip_hash,
            now: st.settings.clock.now(),
        };
        super::submit(&ctx, &application)
    })
    .await?;
    state.wake.notify_one();
    tracing::info!(form = FORM, "Mitgliedsantrag gespeichert");
    Ok(see_other(THANKS_URL))
}

fn see_other(to: &'static str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, HeaderValue::from_static(to))],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn employees_as_people_type_them() {
        assert_eq!(employees("1.500"), Ok(1500));
        assert_eq!(employees("730"), Ok(730));
        assert!(employees("")
            .unwrap_err()
            .contains("Zahl der Beschäftigten"));
        assert!(employees("1,5").unwrap_err().contains("ohne Komma"));
        assert!(employees("0").unwrap_err().contains("ab 1"));
    }

    #[test]
    fn dates_from_a_date_field_or_typed() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 10);
        assert_eq!(date("2026-11-10"), d);
        assert_eq!(date("10.11.2026"), d);
        assert_eq!(date("10.11."), None);
    }
}
