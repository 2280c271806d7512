//! Invoices in the back-office, `/verwaltung/rechnungen/`: the same service
//! as `campus invoices` ([`invoice::statements`], [`invoice::run`],
//! [`invoice::credit_note`]), a second front end. The office picks a month
//! and sees per authority the lines a run would invoice (GET reads only),
//! starts the run with a confirmed POST, downloads each invoice's PDF and
//! XRechnung and the month's CSV, and reverses an invoice with a credit
//! note (a confirmation page, then a POST). Approvers see the invoices of
//! their own authorities; any other invoice is "not found" for them.

use super::{
    answer, date_text, field, not_found, office_post, redirect, render, staff, Role, Staff,
};
use crate::invoice::{self, Invoice, InvoiceError, Period, Seller, Statement};
use crate::store::InvoiceRow;
use crate::web::blocking;
use crate::{AppError, AppState};
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use campus_generator::money::Cents;
use chrono::Datelike;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/verwaltung/rechnungen/", get(invoices_page))
        .route("/verwaltung/rechnungen/lauf", post(run_post))
        .route("/verwaltung/rechnungen/{file}", get(download))
        .route(
            "/verwaltung/rechnungen/{number}/gutschrift",
            get(credit_page).post(credit_post),
        )
}

const PAGE: &str = "/verwaltung/rechnungen/";
/// The form's name: field ids are `rechnungslauf-<field>` (form_errors.html).
const FORM: &str = "rechnungslauf";

/// The month and fee choice of the page (query) or the run (form).
struct Choice {
    month: String,
    period: Option<Period>,
    /// Also bill the yearly fee of the month's year.
    fee: bool,
}

impl Choice {
    fn of(pairs: &[(String, String)], default_month: String) -> Choice {
        let month = match field(pairs, "monat").trim() {
            "" => default_month,
            m => m.to_string(),
        };
        Choice {
            period: Period::month(&month),
            fee: field(pairs, "jahresbeitrag") == "ja",
            month,
        }
    }

    fn fee_year(&self) -> Option<i32> {
        self.period.filter(|_| self.fee).map(|p| p.from.year())
    }
}

/// The month before today's (Berlin): what the office usually invoices.
fn last_month(state: &AppState) -> String {
    let today = crate::booking::berlin_date(state.settings.clock.now());
    let first = today.with_day(1).unwrap_or(today);
    (first - chrono::Duration::days(1))
        .format("%Y-%m")
        .to_string()
}

fn pairs_of(query: &RawQuery) -> Vec<(String, String)> {
    query
        .0
        .as_deref()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default()
}

fn short_date(iso: &str) -> String {
    chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d")
        .map(|d| d.format("%d.%m.%Y").to_string())
        .unwrap_or_else(|_| iso.to_string())
}

fn money(cents: i64) -> String {
    Cents(cents).to_string()
}

fn statement_json(s: &Statement) -> Value {
    let mut rates: BTreeMap<i64, (i64, i64, i64)> = BTreeMap::new();
    for l in &s.lines {
        let r = rates.entry(l.vat_percent).or_default();
        r.0 += l.net_cents;
        r.1 += l.vat_cents;
        r.2 += l.gross_cents;
    }
    json!({
        "name": s.name,
        "refused": s.refused,
        "lines": s.lines.iter().map(|l| json!({
            "description": l.description,
            "date": short_date(&l.service_date),
            "net": money(l.net_cents),
            "vat": money(l.vat_cents),
            "gross": money(l.gross_cents),
        })).collect::<Vec<_>>(),
        "rates": rates.iter().map(|(rate, (n, v, g))| json!({
            "rate": rate, "net": money(*n), "vat": money(*v), "gross": money(*g),
        })).collect::<Vec<_>>(),
        "net": money(s.net_cents()),
        "vat": money(s.vat_cents()),
        "gross": money(s.gross_cents()),
        "unrecorded": s.unrecorded.iter().map(|b| json!({
            "id": b.id,
            "url": format!("/verwaltung/buchungen/{}", b.id),
            "unit": b.unit_title,
            "date": date_text(&b.service_date),
            "name": b.name,
        })).collect::<Vec<_>>(),
    })
}

fn invoice_json(state: &AppState, r: &InvoiceRow, credited: Option<i64>, office: bool) -> Value {
    let number = invoice::number_text(r.number);
    let authority = state
        .loaded()
        .site
        .authority(&r.authority_id)
        .map_or_else(|| r.authority_id.clone(), |a| a.display_name());
    json!({
        "number": number,
        "credit_note": r.credit_note,
        "kind": if r.credit_note { "Gutschrift" } else { "Rechnung" },
        "authority": authority,
        "period": format!("{} bis {}", short_date(&r.period_from), short_date(&r.period_to)),
        "issued": chrono::DateTime::from_timestamp(r.issued_at, 0)
            .map(|t| t.date_naive().format("%d.%m.%Y").to_string())
            .unwrap_or_default(),
        "gross": money(r.gross_cents),
        "corrects": r.corrects_number.map(invoice::number_text),
        "credited_by": credited.map(invoice::number_text),
        "pdf_url": format!("{PAGE}{number}.pdf"),
        "xml_url": format!("{PAGE}{number}.xml"),
        "credit_url": (office && !r.credit_note && credited.is_none())
            .then(|| format!("{PAGE}{number}/gutschrift")),
    })
}

/// The authorities whose invoices `staff` may see (`None`: all).
fn visible(staff: &Staff) -> Option<Vec<String>> {
    match &staff.role {
        Role::Office => None,
        Role::Approver(ids) => Some(ids.clone()),
    }
}

/// What the page shows besides the preview: the form state and errors.
struct Shown {
    choice: Choice,
    /// `form` for form_errors.html when the month or the confirmation is wrong.
    errors: Vec<(&'static str, String)>,
    /// A problem of the run itself (no seller table, a refused authority).
    problem: Option<String>,
    /// After a redirect: invoices made, or the credit note made.
    made: Option<String>,
}

async fn page_of(state: &AppState, staff: &Staff, shown: Shown) -> Result<Response, AppError> {
    let office = staff.role == Role::Office;
    // A run that was refused (not a GET that merely shows the seller problem).
    let refused_run = shown.problem.is_some();
    let st = state.clone();
    let only = visible(staff);
    let rows = blocking(move || st.store.read(|tx| tx.invoices(only.as_deref()))).await?;
    let credited: BTreeMap<i64, i64> = rows
        .iter()
        .filter_map(|r| r.corrects_number.map(|c| (c, r.number)))
        .collect();
    let list: Vec<Value> = rows
        .iter()
        .map(|r| invoice_json(state, r, credited.get(&r.number).copied(), office))
        .collect();
    let loaded = state.loaded();
    let mut extra = staff.context();
    extra.push(("invoices", json!(list)));
    extra.push(("made", json!(shown.made)));
    let choice = &shown.choice;
    if office {
        let mut blocked = false;
        let preview = match (choice.period, shown.errors.is_empty()) {
            (Some(period), true) => {
                let st = state.clone();
                let fee_year = choice.fee_year();
                let statements = blocking(move || {
                    invoice::statements(&st.store, &st.loaded().site, period, fee_year)
                        .map_err(|e| AppError::Internal(Box::new(e)))
                })
                .await?;
                blocked = statements
                    .iter()
                    .any(|s| s.refused.is_some() && !s.lines.is_empty());
                Some(statements.iter().map(statement_json).collect::<Vec<_>>())
            }
            _ => None,
        };
        let month_has_invoices = choice.period.is_some_and(|p| {
            let from = p.from.to_string();
            rows.iter().any(|r| r.period_from == from)
        });
        let seller_problem = Seller::from_config(&loaded.site.config).err();
        let error_list: Vec<Value> = shown
            .errors
            .iter()
            .map(|(f, m)| json!({ "field": f, "message": m }))
            .collect();
        let errors: serde_json::Map<String, Value> = shown
            .errors
            .iter()
            .map(|(f, m)| (f.to_string(), json!(m)))
            .collect();
        let form = json!({
            "name": FORM,
            "values": { "monat": choice.month, "jahresbeitrag": if choice.fee { "ja" } else { "" } },
            "errors": errors,
            "error_list": error_list,
            "ts": "",
        });
        extra.extend([
            ("form", form),
            ("month", json!(choice.month)),
            ("fee", json!(choice.fee)),
            ("fee_year", json!(choice.period.map(|p| p.from.year()))),
            ("preview", json!(preview)),
            ("blocked", json!(blocked)),
            ("problem", json!(shown.problem.or(seller_problem))),
            (
                "csv_url",
                json!(month_has_invoices.then(|| format!("{PAGE}rechnungen-{}.csv", choice.month))),
            ),
        ]);
    }
    let status = if !shown.errors.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else if refused_run {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    let html = render(
        &loaded,
        "verwaltung/rechnungen.html",
        PAGE,
        "Rechnungen",
        &extra,
    );
    Ok(answer(status, html))
}

fn month_error(choice: &Choice) -> Option<(&'static str, String)> {
    choice.period.is_none().then(|| {
        (
            "monat",
            format!(
                "„{}“ ist kein Monat: bitte im Format JJJJ-MM angeben, z. B. 2027-03.",
                choice.month
            ),
        )
    })
}

pub(super) async fn invoices_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: RawQuery,
) -> Result<Response, AppError> {
    let Some(staff) = staff(&state, &headers).await? else {
        return Ok(redirect("/verwaltung/anmelden"));
    };
    let pairs = pairs_of(&query);
    let choice = Choice::of(&pairs, last_month(&state));
    let made = match (field(&pairs, "erstellt"), field(&pairs, "gutschrift")) {
        ("", "") => None,
        ("0", _) => Some("Nichts abzurechnen: Alle verbindlichen Buchungen des Monats stehen schon auf einer Rechnung.".to_string()),
        (n, "") => n
            .parse::<u32>()
            .ok()
            .map(|n| format!("Rechnungslauf abgeschlossen: {n} Rechnung(en) erstellt.")),
        (_, g) => g
            .strip_prefix("KC-")
            .filter(|d| d.chars().all(|c| c.is_ascii_digit()))
            .map(|_| format!("Gutschrift {g} erstellt.")),
    };
    let errors = if staff.role == Role::Office {
        month_error(&choice).into_iter().collect()
    } else {
        Vec::new()
    };
    page_of(
        &state,
        &staff,
        Shown {
            choice,
            errors,
            problem: None,
            made,
        },
    )
    .await
}

/// The run: a confirmed POST of the month shown in the preview.
pub(super) async fn run_post(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, AppError> {
    let (staff, form) = match office_post(&state, req).await {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let choice = Choice::of(&form, String::new());
    let mut errors: Vec<_> = month_error(&choice).into_iter().collect();
    if field(&form, "bestaetigt") != "ja" {
        errors.push((
            "bestaetigt",
            "Bitte bestätigen Sie, dass Sie die Positionen geprüft haben.".to_string(),
        ));
    }
    let seller = Seller::from_config(&state.loaded().site.config);
    let (Some(period), true, Ok(_)) = (choice.period, errors.is_empty(), &seller) else {
        let problem = seller.err();
        return page_of(
            &state,
            &staff,
            Shown {
                choice,
                errors,
                problem,
                made: None,
            },
        )
        .await;
    };
    let st = state.clone();
    let fee_year = choice.fee_year();
    let result = blocking(move || {
        let now = st.settings.clock.now();
        Ok::<_, AppError>(invoice::run(
            &st.store,
            &st.loaded().site,
            period,
            fee_year,
            now,
        ))
    })
    .await?;
    match result {
        Ok(made) => {
            tracing::info!(email = %staff.session.email, month = %choice.month, invoices = made.len(), "Verwaltung: Rechnungslauf");
            Ok(redirect(&format!(
                "{PAGE}?monat={}&erstellt={}",
                choice.month,
                made.len()
            )))
        }
        Err(InvoiceError::Refused(message)) => {
            page_of(
                &state,
                &staff,
                Shown {
                    choice,
                    errors: Vec::new(),
                    problem: Some(message),
                    made: None,
                },
            )
            .await
        }
        Err(e) => Err(AppError::Internal(Box::new(e))),
    }
}

fn download_answer(file: &str, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    r
}

/// `KC-000007` or `7` → 7.
fn number_of(text: &str) -> Option<i64> {
    let digits = text.strip_prefix("KC-").unwrap_or(text);
    (!digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// An invoice `staff` may see, or `None` (unknown, or another authority's).
async fn visible_invoice(
    state: &AppState,
    staff: &Staff,
    number: i64,
) -> Result<Option<Invoice>, AppError> {
    let st = state.clone();
    let inv = blocking(move || {
        invoice::load(&st.store, &st.loaded().site, number)
            .map_err(|e| AppError::Internal(Box::new(e)))
    })
    .await?;
    Ok(inv.filter(|i| visible(staff).is_none_or(|ids| ids.contains(&i.row.authority_id))))
}

/// `KC-000007.pdf`, `KC-000007.xml`, `rechnungen-2027-03.csv` (office only).
pub(super) async fn download(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(staff) = staff(&state, &headers).await? else {
        return Ok(redirect("/verwaltung/anmelden"));
    };
    if let Some(month) = file
        .strip_prefix("rechnungen-")
        .and_then(|f| f.strip_suffix(".csv"))
    {
        let (Some(period), Role::Office) = (Period::month(month), &staff.role) else {
            return Ok(not_found(&state, &staff));
        };
        let st = state.clone();
        let body = blocking(move || {
            let from = period.from.to_string();
            let rows = st.store.read(|tx| tx.invoices(None))?;
            let mut all = Vec::new();
            for r in rows.iter().rev().filter(|r| r.period_from == from) {
                all.extend(
                    invoice::load(&st.store, &st.loaded().site, r.number)
                        .map_err(|e| AppError::Internal(Box::new(e)))?,
                );
            }
            let mut out = Vec::new();
            invoice::csv::write(&mut out, &all).map_err(|e| AppError::Internal(Box::new(e)))?;
            Ok::<_, AppError>(out)
        })
        .await?;
        return Ok(download_answer(&file, "text/csv; charset=utf-8", body));
    }
    let (stem, pdf) = match (file.strip_suffix(".pdf"), file.strip_suffix(".xml")) {
        (Some(stem), _) => (stem, true),
        (None, Some(stem)) => (stem, false),
        _ => return Ok(not_found(&state, &staff)),
    };
    let Some(number) = number_of(stem) else {
        return Ok(not_found(&state, &staff));
    };
    let Some(inv) = visible_invoice(&state, &staff, number).await? else {
        return Ok(not_found(&state, &staff));
    };
    let seller = Seller::from_config(&state.loaded().site.config)
        .map_err(|e| AppError::Internal(e.into()))?;
    let st = state.clone();
    let body = blocking(move || {
        if pdf {
            invoice::pdf::pdf(&inv, &seller).map_err(|e| AppError::Internal(e.into()))
        } else {
            invoice::xml_of(&st.store, &inv, &seller)
                .map(String::into_bytes)
                .map_err(|e| AppError::Internal(Box::new(e)))
        }
    })
    .await?;
    Ok(if pdf {
        download_answer(&file, "application/pdf", body)
    } else {
        download_answer(&file, "application/xml; charset=utf-8", body)
    })
}

fn credit_view(
    state: &AppState,
    staff: &Staff,
    inv: &Invoice,
    problem: Option<String>,
) -> Response {
    let mut extra = staff.context();
    extra.extend([
        ("invoice", invoice_json(state, &inv.row, None, true)),
        ("lines", json!(inv.lines.len())),
        ("problem", json!(problem)),
    ]);
    let status = if extra.iter().any(|(k, v)| *k == "problem" && !v.is_null()) {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    let html = render(
        &state.loaded(),
        "verwaltung/gutschrift.html",
        &format!("{PAGE}{}/gutschrift", inv.number()),
        "Gutschrift",
        &extra,
    );
    answer(status, html)
}

/// The confirmation before a credit note (GET changes nothing).
pub(super) async fn credit_page(
    State(state): State<AppState>,
    Path(number): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let staff = match super::office_user(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let inv = match number_of(&number) {
        Some(n) => visible_invoice(&state, &staff, n).await?,
        None => None,
    };
    Ok(match inv {
        Some(inv) => credit_view(&state, &staff, &inv, None),
        None => not_found(&state, &staff),
    })
}

/// A credit note reversing the invoice in full, at most once.
pub(super) async fn credit_post(
    State(state): State<AppState>,
    Path(number): Path<String>,
    req: Request,
) -> Result<Response, AppError> {
    let (staff, _) = match office_post(&state, req).await {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let Some(n) = number_of(&number) else {
        return Ok(not_found(&state, &staff));
    };
    let Some(inv) = visible_invoice(&state, &staff, n).await? else {
        return Ok(not_found(&state, &staff));
    };
    let st = state.clone();
    let result = blocking(move || {
        let now = st.settings.clock.now();
        Ok::<_, AppError>(invoice::credit_note(&st.store, &st.loaded().site, n, now))
    })
    .await?;
    match result {
        Ok(note) => {
            tracing::info!(email = %staff.session.email, invoice = %inv.number(), note = %note.number(), "Verwaltung: Gutschrift");
            Ok(redirect(&format!("{PAGE}?gutschrift={}", note.number())))
        }
        Err(InvoiceError::Refused(message)) => Ok(credit_view(&state, &staff, &inv, Some(message))),
        Err(e) => Err(AppError::Internal(Box::new(e))),
    }
}
