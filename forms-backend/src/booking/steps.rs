//! The steps people take: request, confirm, approve or reject, accept an
//! offer, cancel; and the expiry of offers nobody accepted.

use super::*;

/// What became of a booking request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    /// Stored with this id.
    New(i64),
    /// The person already holds this active booking for the unit (a double
    /// click, or asked twice); nothing was stored or sent.
    Existing(Box<BookingRow>),
}

/// Stores a booking or enrolment request. Every request, a free enrolment
/// too, gets a confirmation link first (double opt-in): no other mail goes
/// to an address its owner has not confirmed. A
/// person holds at most one active booking per unit: the check runs in the
/// same `BEGIN IMMEDIATE` transaction as the insert, so parallel posts
/// cannot both pass it.
pub fn request(env: &Env, r: &BookingRequest) -> Result<Requested> {
    let site = env.site;
    let authority = site.authority(&r.kommune);
    let member = authority.is_some_and(|a| a.member);
    // What is booked: an event (free, its one date) or a unit.
    let (id, title, price, kind, wanted) = if r.kind == FormKind::Veranstaltung {
        let event = site
            .event(&r.einheit)
            .ok_or_else(|| WorkflowError::Invalid(format!("Veranstaltung {} fehlt", r.einheit)))?;
        let date = iso(event.date);
        (&event.id, &event.title, Cents(0), BookingKind::Event, date)
    } else {
        let unit = site
            .units
            .iter()
            .find(|u| u.id == r.einheit)
            .ok_or_else(|| WorkflowError::Invalid(format!("Lerneinheit {} fehlt", r.einheit)))?;
        let price = site.prices.for_staff_of(site.unit_price(unit), member);
        let kind = if r.kind == FormKind::Einschreibung || unit.format == Format::OnDemand {
            BookingKind::Enrolment
        } else {
            BookingKind::Booking
        };
        let wanted = if kind == BookingKind::Booking {
            r.termin.clone()
        } else {
            String::new()
        };
        (&unit.id, &unit.title, price, kind, wanted)
    };
    let (approver, approver_email) = if price.is_zero() {
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
    // Without the bookings lock (see [`write`]): a request reads no places
    // and no queue. It locks this person and unit, then their mail count;
    // no other step takes a person-and-unit lock, so no step holding a mail
    // count waits for it (no cycle), and requests on several nodes run side
    // by side instead of one after the other.
    env.ctx.store.write(|tx| {
        if let Some(existing) = tx.active_booking(id, &r.email)? {
            return Ok(Requested::Existing(Box::new(existing)));
        }
        let consent = tx.insert_consent(&NewConsent {
            submission_id: None,
            email: &r.email,
            purpose: kind.as_str(),
            text_version: CONSENT_VERSION,
            ip_hash: env.ctx.ip_hash,
            now: env.ctx.now,
        })?;
        let b = tx.insert_booking(&NewBooking {
            kind,
            unit_id: id,
            unit_title: title,
            wanted: &wanted,
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
        let id = b.id;
        if !r.organisation.is_empty() {
            tx.set_booking_organisation(id, &r.organisation)?;
        }
        let link = env.one_time_link(
            tx,
            Purpose::BookingConfirm,
            id,
            Some(consent),
            env.ctx.now + env.ctx.confirm_valid.as_secs() as i64,
            "bestaetigen",
        )?;
        let draft = env.ctx.letterhead.draft(
            events::mail_kind(kind, "buchung-bestaetigen"),
            &r.email,
            &r.name,
            env.with_booking(
                &b,
                json!({
                    "approver": approver,
                    "link": link,
                    "hours": env.ctx.confirm_valid.as_secs() / 3600,
                }),
            ),
        )?;
        env.ctx.queue(tx, &draft, None)?;
        Ok(Requested::New(id))
    })
}

/// What an action link stands for, for the page a GET shows (changes nothing).
#[derive(Debug, Clone)]
pub struct LinkInfo {
    pub booking: BookingRow,
    pub purpose: Purpose,
}

/// Looks a one-time link up without using it (GET/HEAD).
pub fn peek(
    store: &Store,
    token: &str,
    purpose: Purpose,
    now: i64,
) -> store::Result<Option<LinkInfo>> {
    store.read(|tx| {
        let Some(row) = tx.find_token(&token_hash(token), now)? else {
            return Ok(None);
        };
        if row.purpose != purpose {
            return Ok(None);
        }
        let Some(id) = row.booking_id else {
            return Ok(None);
        };
        Ok(tx.booking(id)?.map(|booking| LinkInfo {
            booking,
            purpose: row.purpose,
        }))
    })
}

/// Uses a one-time link of `purpose`; the booking it belongs to.
fn use_link(
    tx: &Tx,
    token: &str,
    purpose: Purpose,
    now: i64,
) -> store::Result<Option<(BookingRow, Option<i64>)>> {
    let Some(row) = tx.find_token(&token_hash(token), now)? else {
        return Ok(None);
    };
    if row.purpose != purpose {
        return Ok(None);
    }
    let Some(id) = row.booking_id else {
        return Ok(None);
    };
    tx.use_token(&token_hash(token), now)?;
    Ok(tx.booking(id)?.map(|b| (b, row.consent_id)))
}

/// The person confirms their request (POST). Free bookings are allocated at
/// once; the rest goes to the approver. None if the link is not valid.
pub fn confirm(env: &Env, token: &str, user_agent: &str) -> Result<Option<BookingRow>> {
    write(env, |tx| {
        let Some((b, consent)) = use_link(tx, token, Purpose::BookingConfirm, env.ctx.now)? else {
            return Ok(None);
        };
        if b.state != Unconfirmed {
            return Ok(None);
        }
        let ua: String = user_agent
            .chars()
            .filter(|c| !c.is_control())
            .take(300)
            .collect();
        if let Some(c) = consent {
            tx.confirm_consent(c, env.ctx.now, env.ctx.ip_hash, &ua)?;
        }
        if b.approver == Approver::NotNeeded {
            allocate(env, tx, &b, &Actor::Participant)?;
            return Ok(tx.booking(b.id)?);
        }
        let change = Change::at(env.ctx.now).note("per E-Mail bestätigt");
        let b = tx.move_to(b.id, Unconfirmed, Approval, &Actor::Participant, change)?;
        let expires = env.ctx.now + env.approval_valid.as_secs() as i64;
        let approve = env.one_time_link(tx, Purpose::Approval, b.id, None, expires, "freigeben")?;
        // One token for both decisions.
        let reject = approve.replacen(
            &urls::booking_step("freigeben", ""),
            &urls::booking_step("ablehnen", ""),
            1,
        );
        let to = if b.approver == Approver::Authority {
            b.approver_email.clone()
        } else {
            env.ctx.office.to_string()
        };
        let mut draft = env.ctx.letterhead.draft(
            "buchung-freigabe-anfrage",
            &to,
            "",
            env.with_booking(
                &b,
                json!({
                    "approver": b.approver,
                    "approve_link": approve,
                    "reject_link": reject,
                    "days": env.approval_valid.as_secs() / 86_400,
                }),
            ),
        )?;
        draft.reply_to = Some(b.email.clone());
        let mail = env.ctx.letterhead.compose(&draft, None)?;
        tx.enqueue(&mail, env.ctx.now)?;
        env.tell(
            tx,
            &b,
            "buchung-in-freigabe",
            json!({ "approver": b.approver }),
            &[],
        )?;
        Ok(Some(b))
    })
}

/// The outcome of an approver's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Approved; the new state (confirmed, waiting or enrolled).
    Approved(BookingState),
    Rejected,
    /// Link used, expired or forged, or the booking is no longer waiting for approval.
    NotPending,
}

/// The approver decides through the link in their mail (POST). Returns the
/// decision and the booking after it.
pub fn decide(env: &Env, token: &str, approve: bool) -> Result<(Decision, Option<BookingRow>)> {
    write(env, |tx| {
        let Some((b, _)) = use_link(tx, token, Purpose::Approval, env.ctx.now)? else {
            return Ok((Decision::NotPending, None));
        };
        let actor = Actor::approver(b.approver, &b.approver_email);
        let decision = decide_in(env, tx, &b, approve, &actor)?;
        Ok((decision, tx.booking(b.id)?))
    })
}

/// The office decides on the command line (`campus bookings approve|reject`).
pub fn decide_by_id(env: &Env, id: i64, approve: bool, actor: &Actor) -> Result<Decision> {
    write(env, |tx| {
        let Some(b) = tx.booking(id)? else {
            return Ok(Decision::NotPending);
        };
        // A unit of a course booking is decided with its whole course.
        if let Some(c) = tx.course_of_booking(id)? {
            return course::decide_course_in_tx(env, tx, c, id, approve, actor);
        }
        decide_in(env, tx, &b, approve, actor)
    })
}

fn decide_in(env: &Env, tx: &Tx, b: &BookingRow, approve: bool, actor: &Actor) -> Result<Decision> {
    if b.state != Approval {
        return Ok(Decision::NotPending);
    }
    tx.void_booking_tokens(b.id, Purpose::Approval, env.ctx.now)?;
    if approve {
        return Ok(Decision::Approved(allocate(env, tx, b, actor)?));
    }
    let b = tx.move_to(b.id, Approval, Rejected, actor, Change::at(env.ctx.now))?;
    env.tell(
        tx,
        &b,
        "buchung-abgelehnt",
        json!({ "approver": b.approver }),
        &[],
    )?;
    Ok(Decision::Rejected)
}

/// The person accepts an offered place (POST). None if the link is not
/// valid (used, or the offer ran out).
pub fn accept_offer(env: &Env, token: &str) -> Result<Option<BookingRow>> {
    write(env, |tx| {
        let Some((b, _)) = use_link(tx, token, Purpose::Offer, env.ctx.now)? else {
            return Ok(None);
        };
        if b.state != Offered || b.offer_until.is_some_and(|u| u < env.ctx.now) {
            return Ok(None);
        }
        let change = Change::at(env.ctx.now)
            .live_date(b.live_date.as_deref())
            .note("Angebot angenommen");
        let b = tx.move_to(b.id, Offered, Confirmed, &Actor::Participant, change)?;
        env.tell_confirmed(tx, &b, false)?;
        Ok(Some(b))
    })
}

/// The booking id behind a signed cancellation link.
pub fn cancel_link_booking(env_signer: &crate::sign::Signer, token: &str) -> Option<i64> {
    env_signer.verify(Purpose::Cancel, token)?.parse().ok()
}

/// Cancels a booking (participant through the signed link, or the office).
/// A held place goes to the waiting list. None if there was nothing to cancel.
pub fn cancel(env: &Env, id: i64, actor: &Actor) -> Result<Option<BookingRow>> {
    write(env, |tx| {
        let Some(b) = tx.booking(id)? else {
            return Ok(None);
        };
        if !b.state.cancellable() {
            return Ok(None);
        }
        // A confirmed place cancelled after the free period stays billable
        // (data/stornobedingungen.yaml); the fee is stored with the booking.
        let fee = match (
            &env.site.cancellation,
            b.state,
            b.live_date.as_deref().and_then(parse_date),
        ) {
            (Some(terms), Confirmed, Some(date)) => {
                terms.fee(Cents(b.price_cents), date, berlin_date(env.ctx.now))
            }
            _ => None,
        };
        let note = match fee {
            Some(f) => format!("späte Stornierung, berechnet: {f}"),
            None => String::new(),
        };
        let change = Change::at(env.ctx.now)
            .live_date(b.live_date.as_deref())
            .note(&note);
        let after = tx.move_to(id, b.state, Cancelled, actor, change)?;
        if let Some(f) = fee {
            tx.set_cancel_fee(id, f.0)?;
        }
        for purpose in [Purpose::BookingConfirm, Purpose::Approval, Purpose::Offer] {
            tx.void_booking_tokens(id, purpose, env.ctx.now)?;
        }
        let cancel = env.calendar_cancel(tx, &after)?;
        env.tell(
            tx,
            &after,
            "buchung-storniert",
            json!({
                "by_participant": *actor == Actor::Participant,
                "calendar": !cancel.is_empty(),
                "fee": fee.map(|f| f.to_string()),
            }),
            &cancel,
        )?;
        if *actor == Actor::Participant {
            env.tell_approver_of_cancel(tx, &b)?;
        }
        if let (true, Some(date)) = (b.state.holds_place(), b.live_date.as_deref()) {
            fill(env, tx, &b.unit_id, date)?;
        }
        Ok(Some(after))
    })
}

/// Passes offers whose holding time ran out to the next person waiting.
/// Safe with several workers: each offer lapses in a conditional update,
/// so it is passed on exactly once. Returns the lapsed offers.
pub fn expire_offers(env: &Env) -> Result<usize> {
    write(env, |tx| {
        let mut lapsed = 0;
        for b in tx.expired_offers(env.ctx.now)? {
            let change = Change::at(env.ctx.now)
                .live_date(b.live_date.as_deref())
                .offer_until(b.offer_until)
                .note("Angebot nicht angenommen");
            let after = tx.move_to(b.id, Offered, Lapsed, &Actor::System, change)?;
            tx.void_booking_tokens(b.id, Purpose::Offer, env.ctx.now)?;
            lapsed += 1;
            env.tell(tx, &after, "buchung-angebot-verfallen", json!({}), &[])?;
            if let Some(date) = b.live_date.as_deref() {
                fill(env, tx, &b.unit_id, date)?;
            }
        }
        Ok(lapsed)
    })
}
