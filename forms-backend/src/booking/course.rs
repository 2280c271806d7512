//! Booking a course as a whole: one request stores a booking per unit
//! (linked by a `course_bookings` row), one confirmation link confirms all
//! of them, one approval (link or back-office) decides on all of them in
//! one transaction. Each unit then gets a place on its wanted date, a
//! waiting-list place (the date is full or not set yet) or an enrolment
//! (on-demand units), exactly as a single booking would, under the same
//! bookings lock; one mail tells the person what became of every unit.
//!
//! ```text
//! request ─► unbestaetigt ─(person confirms)─► freigabe ─(approver)─► freigegeben
//!                 │                                └─(rejects)─► abgelehnt
//!                 └─(free course: no approval)─► freigegeben
//! ```
//! Units are priced one by one (`data/niveaus.yaml`, non-members with the
//! surcharge); the course price is their sum: the data know no separate
//! price for a course booked by one person.

use super::capacity::{place, Placed};
use super::*;
use crate::store::{CourseBookingRow, CourseState, NewCourseBooking};
use crate::validate::course::CourseRequest;

/// Purposes of the course links (`course_tokens.purpose`).
const CONFIRM: &str = "kurs-bestaetigen";
const APPROVAL: &str = "kurs-freigabe";

/// A course booking with its unit bookings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseBooking {
    pub course: CourseBookingRow,
    pub units: Vec<BookingRow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CourseRequested {
    New(Box<CourseBooking>),
    /// The person already holds an active booking for this unit of the
    /// course; nothing was stored or sent.
    Existing(Box<BookingRow>),
}

/// Stores a course booking request and sends the one confirmation link.
/// The check for existing bookings of the person runs in the same
/// transaction as the inserts (see [`request`]).
pub fn request_course(env: &Env, r: &CourseRequest) -> Result<CourseRequested> {
    let site = env.site;
    let course = site
        .courses
        .iter()
        .find(|c| c.id == r.kurs)
        .ok_or_else(|| WorkflowError::Invalid(format!("Kurs {} fehlt", r.kurs)))?;
    let authority = site.authority(&r.kommune);
    let member = authority.is_some_and(|a| a.member);
    let mut units = Vec::new();
    for (id, wanted) in &r.units {
        let unit = site
            .units
            .iter()
            .find(|u| &u.id == id)
            .ok_or_else(|| WorkflowError::Invalid(format!("Lerneinheit {id} fehlt")))?;
        let price = site.prices.for_staff_of(site.unit_price(unit), member);
        units.push((unit, wanted.as_str(), price));
    }
    let total = units.iter().fold(Cents(0), |sum, (_, _, p)| sum + *p);
    let (approver, approver_email) = if total.is_zero() {
        (Approver::NotNeeded, String::new())
    } else {
        match authority {
            Some(a) if a.approval == content::Approval::Kommune => (
                Approver::Authority,
                a.approver_email
                    .clone()
                    .unwrap_or_else(|| env.ctx.office.to_string()),
            ),
            _ => (Approver::Cooperative, env.ctx.office.to_string()),
        }
    };
    write(env, |tx| {
        for (unit, _, _) in &units {
            if let Some(existing) = tx.active_booking(&unit.id, &r.email)? {
                return Ok(CourseRequested::Existing(Box::new(existing)));
            }
        }
        let consent = tx.insert_consent(&NewConsent {
            submission_id: None,
            email: &r.email,
            purpose: BookingKind::Booking.as_str(),
            text_version: CONSENT_VERSION,
            ip_hash: env.ctx.ip_hash,
            now: env.ctx.now,
        })?;
        let c = tx.insert_course_booking(&NewCourseBooking {
            course_id: &course.id,
            course_title: &course.title,
            name: &r.name,
            email: &r.email,
            authority_id: &r.kommune,
            organisation: &r.organisation,
            member,
            price_cents: total.0,
            approver,
            approver_email: &approver_email,
            now: env.ctx.now,
        })?;
        let mut rows = Vec::new();
        for (unit, wanted, price) in &units {
            let kind = match unit.format {
                Format::OnDemand => BookingKind::Enrolment,
                Format::Hybrid => BookingKind::Booking,
            };
            let b = tx.insert_booking(&NewBooking {
                kind,
                unit_id: &unit.id,
                unit_title: &unit.title,
                wanted,
                name: &r.name,
                email: &r.email,
                authority_id: &r.kommune,
                member,
                price_cents: price.0,
                approver,
                approver_email: &approver_email,
                state: Unconfirmed,
                consent_id: Some(consent),
                ip_hash: env.ctx.ip_hash,
                actor: &Actor::Participant,
                now: env.ctx.now,
            })?;
            tx.link_to_course(b.id, c.id)?;
            if !r.organisation.is_empty() {
                tx.set_booking_organisation(b.id, &r.organisation)?;
            }
            rows.push(b);
        }
        let booked = CourseBooking {
            course: c,
            units: rows,
        };
        let expires = env.ctx.now + env.ctx.confirm_valid.as_secs() as i64;
        let link = course_link(env, tx, CONFIRM, booked.course.id, Some(consent), expires)?;
        let draft = env.ctx.letterhead.draft(
            "kurs-bestaetigen",
            &r.email,
            &r.name,
            json!({
                "course": env.course_view(tx, &booked)?,
                "approver": approver,
                "link": link,
                "hours": env.ctx.confirm_valid.as_secs() / 3600,
            }),
        )?;
        env.ctx.queue(tx, &draft, None)?;
        Ok(CourseRequested::New(Box::new(booked)))
    })
}

/// A new one-time course link of `purpose` to the page `step`.
fn course_link(
    env: &Env,
    tx: &Tx,
    purpose: &str,
    course_booking_id: i64,
    consent: Option<i64>,
    expires_at: i64,
) -> Result<String> {
    let token = random_token();
    tx.insert_course_token(
        &token_hash(&token),
        purpose,
        course_booking_id,
        consent,
        env.ctx.now,
        expires_at,
    )?;
    let step = if purpose == CONFIRM {
        "bestaetigen"
    } else {
        "freigeben"
    };
    Ok(format!(
        "{}{}",
        env.ctx.backend_url,
        urls::course_step(step, &token)
    ))
}

/// The course booking behind an unused link of the given step
/// (`bestaetigen`, or `freigeben`/`ablehnen`), for the page a GET shows.
pub fn peek_course(
    store: &Store,
    token: &str,
    step: &str,
    now: i64,
) -> store::Result<Option<CourseBooking>> {
    let purpose = if step == "bestaetigen" {
        CONFIRM
    } else {
        APPROVAL
    };
    store.read(|tx| {
        let Some(t) = tx.find_course_token(&token_hash(token), now)? else {
            return Ok(None);
        };
        if t.purpose != purpose {
            return Ok(None);
        }
        load(tx, t.course_booking_id)
    })
}

fn load(tx: &Tx, id: i64) -> store::Result<Option<CourseBooking>> {
    let Some(course) = tx.course_booking(id)? else {
        return Ok(None);
    };
    let units = tx.course_unit_bookings(id)?;
    Ok(Some(CourseBooking { course, units }))
}

/// Uses a course link of `purpose`; the course booking it belongs to.
fn use_link(
    tx: &Tx,
    token: &str,
    purpose: &str,
    now: i64,
) -> store::Result<Option<(CourseBooking, Option<i64>)>> {
    let hash = token_hash(token);
    let Some(t) = tx.find_course_token(&hash, now)? else {
        return Ok(None);
    };
    if t.purpose != purpose || !tx.use_course_token(&hash, now)? {
        return Ok(None);
    }
    Ok(load(tx, t.course_booking_id)?.map(|c| (c, t.consent_id)))
}

/// The person confirms the course booking (POST): a free course is placed
/// at once, a paid one goes to the approver as one request. None if the
/// link is not valid (used, expired) or the booking moved on.
pub fn confirm_course(env: &Env, token: &str, user_agent: &str) -> Result<Option<CourseBooking>> {
    write(env, |tx| {
        let Some((c, consent)) = use_link(tx, token, CONFIRM, env.ctx.now)? else {
            return Ok(None);
        };
        if c.course.state != CourseState::Unconfirmed {
            return Ok(None);
        }
        let ua: String = user_agent
            .chars()
            .filter(|ch| !ch.is_control())
            .take(300)
            .collect();
        if let Some(id) = consent {
            tx.confirm_consent(id, env.ctx.now, env.ctx.ip_hash, &ua)?;
        }
        if c.course.approver == Approver::NotNeeded {
            let to = CourseState::Approved;
            if !tx.move_course_to(c.course.id, CourseState::Unconfirmed, to, env.ctx.now)? {
                return Ok(None);
            }
            place_all(env, tx, &c, Unconfirmed, &Actor::Participant)?;
            return Ok(load(tx, c.course.id)?);
        }
        let to = CourseState::Approval;
        if !tx.move_course_to(c.course.id, CourseState::Unconfirmed, to, env.ctx.now)? {
            return Ok(None);
        }
        for b in c.units.iter().filter(|b| b.state == Unconfirmed) {
            let change = Change::at(env.ctx.now).note("Kursbuchung per E-Mail bestätigt");
            tx.move_to(b.id, Unconfirmed, Approval, &Actor::Participant, change)?;
        }
        let c = load(tx, c.course.id)?.expect("just moved");
        let expires = env.ctx.now + env.approval_valid.as_secs() as i64;
        let approve = course_link(env, tx, APPROVAL, c.course.id, None, expires)?;
        let reject = approve.replacen(
            &urls::course_step("freigeben", ""),
            &urls::course_step("ablehnen", ""),
            1,
        );
        let view = env.course_view(tx, &c)?;
        let to = if c.course.approver == Approver::Authority {
            c.course.approver_email.clone()
        } else {
            env.ctx.office.to_string()
        };
        let mut draft = env.ctx.letterhead.draft(
            "kurs-freigabe-anfrage",
            &to,
            "",
            json!({
                "course": view,
                "approver": c.course.approver,
                "approve_link": approve,
                "reject_link": reject,
                "days": env.approval_valid.as_secs() / 86_400,
            }),
        )?;
        draft.reply_to = Some(c.course.email.clone());
        let mail = env.ctx.letterhead.compose(&draft, None)?;
        tx.enqueue(&mail, env.ctx.now)?;
        env.tell_course(
            tx,
            &c,
            "kurs-in-freigabe",
            json!({ "approver": c.course.approver }),
            &[],
        )?;
        Ok(Some(c))
    })
}

/// The outcome of the one decision on a course booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CourseDecision {
    Approved(CourseBooking),
    Rejected(CourseBooking),
    /// Link used, expired or forged, or the course booking is no longer
    /// waiting for approval.
    NotPending,
}

/// The approver decides through the link in their mail (POST).
pub fn decide_course(env: &Env, token: &str, approve: bool) -> Result<CourseDecision> {
    write(env, |tx| {
        let Some((c, _)) = use_link(tx, token, APPROVAL, env.ctx.now)? else {
            return Ok(CourseDecision::NotPending);
        };
        let actor = Actor::approver(c.course.approver, &c.course.approver_email);
        decide_course_in(env, tx, &c, approve, &actor)
    })
}

/// The office (back-office, command line) decides on course booking `id`.
pub fn decide_course_by_id(
    env: &Env,
    id: i64,
    approve: bool,
    actor: &Actor,
) -> Result<CourseDecision> {
    write(env, |tx| match load(tx, id)? {
        Some(c) => decide_course_in(env, tx, &c, approve, actor),
        None => Ok(CourseDecision::NotPending),
    })
}

/// The decision on a whole course in the caller's transaction: every unit
/// still waiting for approval is placed (or rejected) together.
pub(super) fn decide_course_in(
    env: &Env,
    tx: &Tx,
    c: &CourseBooking,
    approve: bool,
    actor: &Actor,
) -> Result<CourseDecision> {
    let to = if approve {
        CourseState::Approved
    } else {
        CourseState::Rejected
    };
    if c.course.state != CourseState::Approval
        || !tx.move_course_to(c.course.id, CourseState::Approval, to, env.ctx.now)?
    {
        return Ok(CourseDecision::NotPending);
    }
    tx.void_course_tokens(c.course.id, APPROVAL, env.ctx.now)?;
    if approve {
        place_all(env, tx, c, Approval, actor)?;
        let c = load(tx, c.course.id)?.expect("just moved");
        return Ok(CourseDecision::Approved(c));
    }
    for b in c.units.iter().filter(|b| b.state == Approval) {
        let note = "Kursbuchung abgelehnt";
        tx.move_to(
            b.id,
            Approval,
            Rejected,
            actor,
            Change::at(env.ctx.now).note(note),
        )?;
    }
    let c = load(tx, c.course.id)?.expect("just moved");
    env.tell_course(
        tx,
        &c,
        "kurs-abgelehnt",
        json!({ "approver": c.course.approver }),
        &[],
    )?;
    Ok(CourseDecision::Rejected(c))
}

/// [`decide_by_id`] for a unit booking `booking_id` of course booking
/// `course_booking_id`: decides the whole course; the decision as seen
/// from that unit.
pub(super) fn decide_course_in_tx(
    env: &Env,
    tx: &Tx,
    course_booking_id: i64,
    booking_id: i64,
    approve: bool,
    actor: &Actor,
) -> Result<Decision> {
    let Some(c) = load(tx, course_booking_id)? else {
        return Ok(Decision::NotPending);
    };
    Ok(match decide_course_in(env, tx, &c, approve, actor)? {
        CourseDecision::Approved(c) => match c.units.iter().find(|b| b.id == booking_id) {
            Some(b) => Decision::Approved(b.state),
            None => Decision::NotPending,
        },
        CourseDecision::Rejected(_) => Decision::Rejected,
        CourseDecision::NotPending => Decision::NotPending,
    })
}

/// Places every unit booking still in `from` (a place, the waiting list or
/// the enrolment) and sends the one mail that says what became of each,
/// with the calendar files of the booked dates.
fn place_all(
    env: &Env,
    tx: &Tx,
    c: &CourseBooking,
    from: BookingState,
    actor: &Actor,
) -> Result<()> {
    let mut reasons = Vec::new();
    let mut calendars = Vec::new();
    for b in c.units.iter().filter(|b| b.state == from) {
        let Placed {
            booking, reason, ..
        } = place(env, tx, b, actor)?;
        if let Some(date) = booking.live_date.as_deref().and_then(parse_date) {
            if booking.state == Confirmed {
                calendars.push(env.calendar(tx, &booking, date)?);
            }
        }
        reasons.push((booking.id, reason));
    }
    let c = load(tx, c.course.id)?.expect("course booking exists");
    let reasons: serde_json::Map<String, serde_json::Value> = reasons
        .into_iter()
        .map(|(id, r)| (id.to_string(), json!(r)))
        .collect();
    env.tell_course(
        tx,
        &c,
        "kurs-ergebnis",
        json!({ "reasons": reasons, "hold_hours": env.offer_hold.as_secs() / 3600 }),
        &calendars,
    )
}

impl Env<'_> {
    /// What every course mail and page shows: the course, the person, the
    /// price and per unit its date, state and links.
    pub fn course_view(&self, tx: &Tx, c: &CourseBooking) -> Result<serde_json::Value> {
        let vat_percent = self.site.prices.vat_percent;
        let price = Cents(c.course.price_cents);
        let mut units = Vec::new();
        for b in &c.units {
            let date = b.live_date.as_deref().unwrap_or(&b.wanted);
            let position = if b.state == Waiting {
                tx.waiting_position(b)?
            } else {
                0
            };
            let start_link = self
                .site
                .units
                .iter()
                .find(|u| u.id == b.unit_id)
                .and_then(|u| u.start_link.clone())
                .unwrap_or_else(|| self.unit_url(&b.unit_id));
            units.push(json!({
                "id": b.id,
                "title": b.unit_title,
                "kind": b.kind,
                "next": b.wanted == NEXT && b.live_date.is_none(),
                "date": parse_date(date).map(time::german_long_date).unwrap_or_default(),
                "state": b.state,
                "state_label": b.state.label(),
                "position": position,
                "free": b.price_cents == 0,
                "price": Cents(b.price_cents).to_string(),
                "cancel_link": self.cancel_url(b.id),
                "start_link": start_link,
            }));
        }
        let authority = self.site.authority(&c.course.authority_id);
        Ok(json!({
            "id": c.course.id,
            "title": c.course.course_title,
            "url": format!(
                "{}{}",
                self.ctx.letterhead.base_url.trim_end_matches('/'),
                urls::course(&c.course.course_id)
            ),
            "name": c.course.name,
            "email": c.course.email,
            "authority": authority.map(|a| a.display_name()).unwrap_or_default(),
            "organisation": c.course.organisation,
            "member": c.course.member,
            "free": c.course.price_cents == 0,
            "price": price.to_string(),
            "vat_percent": vat_percent,
            "vat": price.vat_included(vat_percent).to_string(),
            "surcharge_percent": self.site.prices.non_member_surcharge_percent,
            "state": c.course.state,
            "state_label": c.course.state.label(),
            "units": units,
        }))
    }

    /// Queues the course mail `kind` to the person; `values` get `course`.
    fn tell_course(
        &self,
        tx: &Tx,
        c: &CourseBooking,
        kind: &'static str,
        mut values: serde_json::Value,
        attachments: &[FileAttachment],
    ) -> Result<()> {
        values["course"] = self.course_view(tx, c)?;
        values["my_bookings_url"] = json!(format!("{}{MY_BOOKINGS_PATH}", self.ctx.backend_url));
        let draft = self
            .ctx
            .letterhead
            .draft(kind, &c.course.email, &c.course.name, values)?;
        let mail = self
            .ctx
            .letterhead
            .compose_with(&draft, None, attachments)?;
        tx.enqueue(&mail, self.ctx.now)?;
        Ok(())
    }
}
