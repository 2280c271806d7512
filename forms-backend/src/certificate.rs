//! Certificates of attendance (Teilnahmebescheinigung) and of a course
//! (Kursbescheinigung): issued once, stored with the facts they state, made
//! into a tagged PDF/A-2a in German with the theme's DejaVu Sans (subset by
//! krilla), and checked by anybody at `/bescheinigung/pruefen/{number}`.
//!
//! The number is 60 random bits (`KC-XXXX-XXXX-XXXX`, Crockford base 32),
//! so numbers cannot be enumerated; the check accepts it in any case, with
//! or without spaces and dashes, and with O/I/L typed for 0/1.

use crate::store::{BookingRow, CertificateRow, Tx};
use crate::web::blocking;
use crate::{AppError, AppState};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use campus_generator::content::UnitRole;
use campus_generator::time::german_long_date;
use campus_generator::Site;
use chrono::NaiveDate;
use serde_json::{json, Value};

/// The theme's font, shipped unchanged (licence beside it).
const REGULAR: &[u8] = include_bytes!("../../themes/default/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../themes/default/fonts/DejaVuSans-Bold.ttf");

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/bescheinigung/pruefen/", get(check_form))
        .route("/bescheinigung/pruefen/{number}", get(check_page))
        .route("/bescheinigung/{token}", get(download))
}

/// A fresh certificate number, `KC-` and three groups of four.
pub fn new_number() -> String {
    let bytes = crate::sign::random_bytes();
    let chars: String = bytes[..12]
        .iter()
        .map(|b| ALPHABET[(b & 31) as usize] as char)
        .collect();
    format!("KC-{}-{}-{}", &chars[0..4], &chars[4..8], &chars[8..12])
}

/// The stored form of a number as somebody typed it, or `None` when it
/// cannot be one.
pub fn normalize(typed: &str) -> Option<String> {
    let mut s: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if let Some(rest) = s.strip_prefix("KC") {
        s = rest.to_string();
    }
    let s: String = s
        .chars()
        .map(|c| match c {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect();
    (s.len() == 12 && s.bytes().all(|b| ALPHABET.contains(&b)))
        .then(|| format!("KC-{}-{}-{}", &s[0..4], &s[4..8], &s[8..12]))
}

/// "4" or "2,5" hours.
fn hours_text(tenths: i64) -> String {
    if tenths % 10 == 0 {
        format!("{}", tenths / 10)
    } else {
        format!("{},{}", tenths / 10, tenths % 10)
    }
}

fn date_text(iso: &str) -> String {
    NaiveDate::parse_from_str(iso, "%Y-%m-%d")
        .map(german_long_date)
        .unwrap_or_default()
}

fn issued_text(ts: i64) -> String {
    let utc = chrono::DateTime::from_timestamp(ts, 0)
        .unwrap_or_default()
        .naive_utc();
    let local =
        utc + chrono::Duration::hours(campus_generator::time::berlin_offset_hours_at_utc(utc));
    german_long_date(local.date())
}

/// Issues the certificate of an attended booking (once; the one it has
/// when issued before).
pub fn issue_for_booking(
    tx: &Tx,
    site: &Site,
    b: &BookingRow,
    now: i64,
) -> Result<CertificateRow, crate::store::StoreError> {
    let unit = site.units.iter().find(|u| u.id == b.unit_id);
    let lecturers = unit.map_or(String::new(), |u| {
        u.lecturers
            .iter()
            .filter_map(|i| site.lecturers.get(*i))
            .map(|l| l.name.clone())
            .collect::<Vec<_>>()
            .join(", ")
    });
    tx.issue_certificate(&CertificateRow {
        number: new_number(),
        booking_id: Some(b.id),
        course_id: None,
        email: b.email.to_lowercase(),
        name: b.name.clone(),
        title: unit.map_or(b.unit_title.clone(), |u| u.title.clone()),
        live_date: b.live_date.clone().unwrap_or_default(),
        workload_tenths: unit.map_or(0, |u| (u.workload_hours * 10.0).round() as i64),
        lecturers,
        units: String::new(),
        issued_at: now,
    })
}

/// Issues the course certificates a person has earned: every Pflicht unit
/// and at least the required number of Wahlpflicht units of a course
/// attended (a live date, or an on-demand unit completed on the learning
/// platform). The certificates of those courses, each with whether it is
/// new.
pub fn issue_for_courses(
    tx: &Tx,
    site: &Site,
    email: &str,
    name: &str,
    now: i64,
) -> Result<Vec<(CertificateRow, bool)>, crate::store::StoreError> {
    let email = email.to_lowercase();
    let attended = tx.attended_units(&email)?;
    let mut out = Vec::new();
    for course in &site.courses {
        let units: Vec<_> = course
            .units
            .iter()
            .filter_map(|cu| site.units.get(cu.unit).map(|u| (u, cu.role)))
            .collect();
        let done = |id: &str| attended.iter().any(|a| a == id);
        let mandatory_done = units
            .iter()
            .filter(|(_, role)| *role == UnitRole::Pflicht)
            .all(|(u, _)| done(&u.id));
        let electives_done = units
            .iter()
            .filter(|(u, role)| *role == UnitRole::Wahlpflicht && done(&u.id))
            .count() as u32;
        if !mandatory_done
            || electives_done < course.electives_required
            || !units.iter().any(|(u, _)| done(&u.id))
        {
            continue;
        }
        let taken: Vec<_> = units.iter().filter(|(u, _)| done(&u.id)).collect();
        let tenths: i64 = taken
            .iter()
            .map(|(u, _)| (u.workload_hours * 10.0).round() as i64)
            .sum();
        let number = new_number();
        let row = tx.issue_certificate(&CertificateRow {
            number: number.clone(),
            booking_id: None,
            course_id: Some(course.id.clone()),
            email: email.clone(),
            name: name.to_string(),
            title: course.title.clone(),
            live_date: String::new(),
            workload_tenths: tenths,
            lecturers: String::new(),
            units: taken
                .iter()
                .map(|(u, _)| u.title.clone())
                .collect::<Vec<_>>()
                .join("\n"),
            issued_at: now,
        })?;
        let new = row.number == number;
        out.push((row, new));
    }
    Ok(out)
}

/// Where anybody checks a certificate.
pub fn check_url(backend_url: &str, number: &str) -> String {
    format!(
        "{}/bescheinigung/pruefen/{number}",
        backend_url.trim_end_matches('/')
    )
}

/// The participant's download link of a certificate (signed number), as a
/// path: it appears on the backend's own pages only.
pub fn download_path(state: &AppState, number: &str) -> String {
    format!(
        "/bescheinigung/{}",
        state.signer.sign(crate::sign::Purpose::Certificate, number)
    )
}

/// What a certificate states, line by line, as (heading?, text) blocks.
fn statements(c: &CertificateRow) -> (String, Vec<String>) {
    let mut lines = Vec::new();
    let heading = if c.course_id.is_some() {
        lines.push(c.name.clone());
        lines.push(format!("hat den Kurs „{}“ abgeschlossen.", c.title));
        lines.push("Besuchte Lerneinheiten:".to_string());
        lines.extend(c.units.lines().map(|u| format!("– {u}")));
        "Kursbescheinigung".to_string()
    } else {
        lines.push(c.name.clone());
        lines.push(format!("hat an der Lerneinheit „{}“", c.title));
        lines.push(format!(
            "mit dem Live-Tutorium am {} teilgenommen.",
            date_text(&c.live_date)
        ));
        if !c.lecturers.is_empty() {
            lines.push(format!("Dozierende: {}", c.lecturers));
        }
        "Teilnahmebescheinigung".to_string()
    };
    lines.push(format!(
        "Zeitaufwand: {} Stunden",
        hours_text(c.workload_tenths)
    ));
    (heading, lines)
}

/// The certificate as a tagged PDF/A-2a document (language de-DE).
pub fn pdf(c: &CertificateRow, organisation: &str, check: &str) -> Result<Vec<u8>, String> {
    use krilla::configure::{Archival, ConfigurationBuilder};
    use krilla::geom::Point;
    use krilla::metadata::Metadata;
    use krilla::page::PageSettings;
    use krilla::surface::Surface;
    use krilla::tagging::{ContentTag, SpanTag, Tag, TagGroup, TagTree};
    use krilla::text::{Font, TextDirection};
    use krilla::{Document, SerializeSettings};

    let regular = Font::new(std::sync::Arc::new(REGULAR.to_vec()).into(), 0)
        .ok_or("Schrift DejaVuSans.ttf nicht lesbar")?;
    let bold = Font::new(std::sync::Arc::new(BOLD.to_vec()).into(), 0)
        .ok_or("Schrift DejaVuSans-Bold.ttf nicht lesbar")?;
    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A2_A)
        .finish()
        .map_err(|e| format!("{e:?}"))?;
    let settings = SerializeSettings {
        configuration,
        enable_tagging: true,
        ..SerializeSettings::default()
    };
    let mut document = Document::new_with(settings);
    let (heading, lines) = statements(c);
    let mut tree = TagTree::new().with_lang(Some("de-DE".to_string()));
    {
        let mut page = document
            .start_page_with(PageSettings::from_wh(595.0, 842.0).ok_or("Seitengröße ungültig")?);
        let mut surface = page.surface();
        let mut y = 110.0;
        // One line of text as one tagged span in a group of `tag`.
        let line = |surface: &mut Surface,
                    group: &mut TagGroup,
                    text: &str,
                    font: &Font,
                    size: f32,
                    y: f32| {
            let id = surface.start_tagged(ContentTag::Span(SpanTag::empty()));
            surface.draw_text(
                Point::from_xy(70.0, y),
                font.clone(),
                size,
                text,
                false,
                TextDirection::Auto,
            );
            surface.end_tagged();
            group.push(id);
        };
        let mut h1 = TagGroup::new(Tag::Hn(std::num::NonZeroU16::MIN, Some(heading.clone())));
        line(&mut surface, &mut h1, &heading, &bold, 26.0, y);
        tree.push(h1);
        y += 60.0;
        for (i, text) in lines.iter().enumerate() {
            for part in wrap(text, 60) {
                let mut p = TagGroup::new(Tag::P);
                let (font, size) = if i == 0 {
                    (&bold, 18.0)
                } else {
                    (&regular, 12.0)
                };
                line(&mut surface, &mut p, &part, font, size, y);
                tree.push(p);
                y += if i == 0 { 34.0 } else { 20.0 };
            }
        }
        y += 30.0;
        for text in [
            format!(
                "Ausgestellt am {} von {organisation}",
                issued_text(c.issued_at)
            ),
            format!("Bescheinigungsnummer: {}", c.number),
            "Echtheit prüfen:".to_string(),
            check.to_string(),
        ] {
            let mut p = TagGroup::new(Tag::P);
            line(&mut surface, &mut p, &text, &regular, 10.0, y);
            tree.push(p);
            y += 16.0;
        }
        surface.finish();
        page.finish();
    }
    document.set_tag_tree(tree);
    document.set_metadata(
        Metadata::new()
            .title(format!("{heading}: {}", c.title))
            .language("de-DE".to_string())
            .creator(organisation.to_string())
            .creation_date(creation_date(c.issued_at)),
    );
    document.finish().map_err(|e| format!("{e:?}"))
}

pub(crate) fn creation_date(ts: i64) -> krilla::metadata::DateTime {
    use chrono::{Datelike, Timelike};
    let t = chrono::DateTime::from_timestamp(ts, 0)
        .unwrap_or_default()
        .naive_utc();
    krilla::metadata::DateTime::new(t.year() as u16)
        .month(t.month() as u8)
        .day(t.day() as u8)
        .hour(t.hour() as u8)
        .minute(t.minute() as u8)
        .second(t.second() as u8)
        .utc_offset_hour(0)
        .utc_offset_minute(0)
}

/// Lines of at most about `width` characters, broken at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    out.push(current);
    out
}

// ------------------------------------------------------------------ pages

fn facts(c: &CertificateRow) -> Value {
    let (heading, _) = statements(c);
    json!({
        "kind": heading,
        "number": c.number,
        "name": c.name,
        "title": c.title,
        "date": date_text(&c.live_date),
        "hours": hours_text(c.workload_tenths),
        "lecturers": c.lecturers,
        "units": c.units.lines().collect::<Vec<_>>(),
        "issued": issued_text(c.issued_at),
    })
}

fn page(state: &AppState, status: StatusCode, values: &[(&'static str, Value)]) -> Response {
    let html = state.loaded().pages.own(
        "forms/bescheinigung-pruefen.html",
        "/bescheinigung/pruefen/",
        "Bescheinigung prüfen",
        values,
    );
    let mut r = (status, crate::web::html_headers(), html).into_response();
    r.headers_mut()
        .insert("x-robots-tag", HeaderValue::from_static("noindex"));
    r
}

#[derive(serde::Deserialize)]
struct CheckQuery {
    #[serde(default)]
    nummer: String,
}

/// The form to type a number; with `?nummer=` it checks that number.
async fn check_form(
    State(state): State<AppState>,
    Query(q): Query<CheckQuery>,
) -> Result<Response, AppError> {
    if q.nummer.trim().is_empty() {
        return Ok(page(
            &state,
            StatusCode::OK,
            &[("checked", json!(false)), ("typed", json!(""))],
        ));
    }
    check(&state, &q.nummer).await
}

async fn check_page(
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> Result<Response, AppError> {
    check(&state, &number).await
}

async fn check(state: &AppState, typed: &str) -> Result<Response, AppError> {
    let found = match normalize(typed) {
        Some(n) => {
            let st = state.clone();
            blocking(move || st.store.certificate(&n)).await?
        }
        None => None,
    };
    Ok(match found {
        Some(c) => page(
            state,
            StatusCode::OK,
            &[
                ("checked", json!(true)),
                ("valid", json!(true)),
                ("typed", json!(typed)),
                ("certificate", facts(&c)),
            ],
        ),
        None => page(
            state,
            StatusCode::NOT_FOUND,
            &[
                ("checked", json!(true)),
                ("valid", json!(false)),
                ("typed", json!(typed)),
            ],
        ),
    })
}

/// The PDF behind the participant's signed link (GET only reads).
async fn download(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let Some(number) = state
        .signer
        .verify(crate::sign::Purpose::Certificate, &token)
    else {
        return Err(AppError::NotFound { json: false });
    };
    let st = state.clone();
    let Some(c) = blocking(move || st.store.certificate(&number)).await? else {
        return Err(AppError::NotFound { json: false });
    };
    let loaded = state.loaded();
    let organisation = loaded.site.config.kontakt.organisation.clone();
    let check = check_url(&loaded.backend_url, &c.number);
    let bytes = tokio::task::spawn_blocking(move || pdf(&c, &organisation, &check).map(|b| (b, c)))
        .await?
        .map_err(|e| AppError::Internal(e.into()))?;
    let (bytes, c) = bytes;
    let file = format!(
        "attachment; filename=\"bescheinigung-{}.pdf\"",
        c.number.to_lowercase()
    );
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&file).map_err(|e| AppError::Internal(Box::new(e)))?,
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_random_and_survive_sloppy_typing() {
        let a = new_number();
        assert_ne!(a, new_number());
        assert_eq!(normalize(&a).as_deref(), Some(a.as_str()));
        let sloppy = a.to_lowercase().replace('-', " ");
        assert_eq!(normalize(&sloppy).as_deref(), Some(a.as_str()));
        assert_eq!(
            normalize(" kc-0o1i-lL23-4567 ").as_deref(),
            Some("KC-0011-1123-4567")
        );
        assert_eq!(normalize("KC-1234"), None);
        assert_eq!(
            normalize("KC-UUUU-1234-5678"),
            None,
            "U is not in the alphabet"
        );
    }

    #[test]
    fn lines_wrap_at_spaces() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap("kurz", 60), ["kurz"]);
    }
}
