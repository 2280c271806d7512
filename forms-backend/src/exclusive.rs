//! Exclusive courses: an authority's contact person requests a whole course
//! for its own staff; the office sees it in the back-office and answers
//! with dates (for that authority only: they do not appear on the public
//! pages) or declines. Each step is one transaction with a conditional
//! update on the request's state and its mail through the outbox. A
//! scheduled course is billed as a whole (`invoice::run`).
//!
//! ```text
//! eingegangen ─(office sets dates)─► terminiert
//!      └──────(office declines)────► abgelehnt
//! ```

use crate::store::{ExclusiveRequest, ExclusiveState, NewExclusiveRequest, Tx};
use crate::validate::exclusive::ExclusiveRequestForm;
use crate::workflow::{Ctx, WorkflowError};
use campus_generator::content::Format;
use campus_generator::money::Cents;
use campus_generator::{time, Site};
use chrono::NaiveDate;
use serde_json::json;

/// The whole-course price for `authority_id` (members: the data's price,
/// others with the surcharge); None if the course is not offered exclusively.
pub fn price(site: &Site, course_id: &str, authority_id: &str) -> Option<Cents> {
    let offer = site.courses.iter().find(|c| c.id == course_id)?.exclusive?;
    let member = site.authority(authority_id).is_some_and(|a| a.member);
    Some(
        site.prices
            .for_staff_of(site.prices.price(offer.member), member),
    )
}

/// What the mails and the office page show of a request.
pub fn view(
    site: &Site,
    r: &ExclusiveRequest,
    dates: &[crate::store::ExclusiveDate],
) -> serde_json::Value {
    let authority = site.authority(&r.authority_id);
    let price = Cents(r.price_cents);
    let vat = site.prices.vat_percent;
    json!({
        "id": r.id,
        "course_title": r.course_title,
        "authority": authority.map(|a| a.display_name()).unwrap_or_else(|| r.authority_id.clone()),
        "member": authority.is_some_and(|a| a.member),
        "name": r.name,
        "email": r.email,
        "group_size": r.group_size,
        "period": r.period,
        "remarks": r.remarks,
        "price": price.to_string(),
        "vat_percent": vat,
        "vat": price.vat_included(vat).to_string(),
        "surcharge_percent": site.prices.non_member_surcharge_percent,
        "state": r.state,
        "state_label": r.state.label(),
        "answer": r.answer,
        "dates": dates.iter().map(|d| json!({
            "unit_title": d.unit_title,
            "date": NaiveDate::parse_from_str(&d.date, "%Y-%m-%d").map(time::german_long_date).unwrap_or_default(),
        })).collect::<Vec<_>>(),
    })
}

/// Stores a request and tells the office (one mail, replies go to the
/// contact person). The price is fixed now, from the data files.
pub fn request(ctx: &Ctx, site: &Site, f: &ExclusiveRequestForm) -> Result<i64, WorkflowError> {
    let course = site
        .courses
        .iter()
        .find(|c| c.id == f.kurs)
        .ok_or_else(|| WorkflowError::Invalid(format!("Kurs {} fehlt", f.kurs)))?;
    let price = price(site, &f.kurs, &f.kommune)
        .ok_or_else(|| WorkflowError::Invalid(format!("Kurs {} nicht exklusiv", f.kurs)))?;
    ctx.store.write(|tx| {
        let r = tx.insert_exclusive_request(&NewExclusiveRequest {
            course_id: &course.id,
            course_title: &course.title,
            authority_id: &f.kommune,
            name: &f.name,
            email: &f.email,
            group_size: f.group_size,
            period: &f.period,
            remarks: &f.remarks,
            price_cents: price.0,
            now: ctx.now,
        })?;
        let mut draft = ctx.letterhead.draft(
            "kurs-exklusiv-anfrage",
            ctx.office,
            "",
            json!({ "request": view(site, &r, &[]), "link": format!("{}/verwaltung/exklusivkurse/{}", ctx.backend_url, r.id) }),
        )?;
        draft.reply_to = Some(r.email.clone());
        let mail = ctx.letterhead.compose(&draft, None)?;
        tx.enqueue(&mail, ctx.now)?;
        Ok(r.id)
    })
}

/// What became of an office answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    Done,
    /// Answered before (or unknown): nothing changed.
    Unchanged,
}

/// The office answers with a date per hybrid unit of the course
/// (`dates`: unit id and date, checked by the back-office form).
pub fn schedule(
    ctx: &Ctx,
    site: &Site,
    id: i64,
    dates: &[(String, NaiveDate)],
    note: &str,
    by: &str,
) -> Result<Answered, WorkflowError> {
    ctx.store.write(|tx| {
        if !tx.answer_exclusive_request(id, ExclusiveState::Scheduled, note, by, ctx.now)? {
            return Ok(Answered::Unchanged);
        }
        for (unit_id, date) in dates {
            let title = site
                .units
                .iter()
                .find(|u| &u.id == unit_id)
                .map_or(unit_id.as_str(), |u| u.title.as_str());
            tx.insert_exclusive_date(id, unit_id, title, &date.format("%Y-%m-%d").to_string())?;
        }
        tx.record_office_action(by, "exklusivkurs-terminiert", &format!("X-{id}"), ctx.now)?;
        tell(ctx, site, tx, id, "kurs-exklusiv-termine")?;
        Ok(Answered::Done)
    })
}

/// The office declines with a reason the contact person reads.
pub fn decline(
    ctx: &Ctx,
    site: &Site,
    id: i64,
    reason: &str,
    by: &str,
) -> Result<Answered, WorkflowError> {
    ctx.store.write(|tx| {
        if !tx.answer_exclusive_request(id, ExclusiveState::Declined, reason, by, ctx.now)? {
            return Ok(Answered::Unchanged);
        }
        tx.record_office_action(by, "exklusivkurs-abgelehnt", &format!("X-{id}"), ctx.now)?;
        tell(ctx, site, tx, id, "kurs-exklusiv-abgelehnt")?;
        Ok(Answered::Done)
    })
}

fn tell(ctx: &Ctx, site: &Site, tx: &Tx, id: i64, kind: &'static str) -> Result<(), WorkflowError> {
    let r = tx
        .exclusive_request(id)?
        .ok_or_else(|| WorkflowError::Invalid(format!("Anfrage {id} fehlt")))?;
    let dates = tx.exclusive_dates(id)?;
    let draft = ctx.letterhead.draft(
        kind,
        &r.email,
        &r.name,
        json!({ "request": view(site, &r, &dates) }),
    )?;
    let mail = ctx.letterhead.compose(&draft, None)?;
    tx.enqueue(&mail, ctx.now)?;
    Ok(())
}

/// The hybrid units of a course: the ones the office sets a date for.
pub fn live_units<'a>(site: &'a Site, course_id: &str) -> Vec<&'a campus_generator::model::Unit> {
    site.courses
        .iter()
        .find(|c| c.id == course_id)
        .map(|c| {
            c.units
                .iter()
                .map(|cu| site.units[cu.unit].as_ref())
                .filter(|u| u.format == Format::Hybrid)
                .collect()
        })
        .unwrap_or_default()
}
