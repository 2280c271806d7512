//! The booking workflow: hybrid units with live dates and on-demand
//! enrolments, approval by the cooperative's office or the authority,
//! waiting list with offers, cancellation and the calendar attachment.
//!
//! States of a booking (`bookings.state`) and who moves it:
//!
//! ```text
//! request ─► unbestaetigt ─(person confirms, POST)─► freigabe ─(approver, POST)─► allocate
//!                 │                                      └─(approver rejects)─► abgelehnt
//!                 └─(free unit: no approval)─► allocate
//! allocate: place free on the wanted date ─► bestaetigt, else ─► warteliste
//! warteliste ─(place frees / date published)─► angebot ─(accept, POST)─► bestaetigt
//!                                                 └─(holding time over)─► verfallen (next one gets it)
//! bestaetigt | angebot | warteliste | freigabe ─(cancel)─► storniert (frees the place)
//! bestaetigt | angebot ─(date removed from content)─► warteliste (next possible date)
//! on-demand: free ─► eingeschrieben at once; paid ─► approval like above ─► eingeschrieben
//! ```
//!
//! Every function runs one `BEGIN IMMEDIATE` transaction ([`Store::write`]):
//! reading free places and taking one happen under the same write lock, so
//! two approvers (two processes, two connections) can never give away the
//! same place. Each change is a conditional update recorded in
//! `booking_events` with time and actor.

use crate::mail::FileAttachment;
use crate::sign::{random_token, token_hash, Purpose};
use crate::store::{self, BookingRow, Change, NewBooking, NewConsent, Store, Tx};
use crate::validate::{BookingRequest, FormKind};
use crate::workflow::{Ctx, WorkflowError, CONSENT_VERSION};
use crate::AppState;
use campus_generator::content::{self, Format};
use campus_generator::money::Cents;
use campus_generator::{ics, time, urls, Site};
use chrono::{DateTime, NaiveDate};
use serde_json::json;
use std::time::Duration;

mod state;
pub use state::{Actor, Approver, BookingKind, BookingState};
use BookingState::{
    Approval, Cancelled, Confirmed, Enrolled, Lapsed, Offered, Rejected, Unconfirmed, Waiting,
};

/// `wanted` of people waiting for the next possible date.
pub const NEXT: &str = "naechster";

pub type Result<T> = std::result::Result<T, WorkflowError>;

/// What a booking step needs: the mail/storage context, the content and
/// the `[buchung]` settings.
pub struct Env<'a> {
    pub ctx: Ctx<'a>,
    pub site: &'a Site,
    /// Today in Berlin (dates before it are past).
    pub today: NaiveDate,
    pub offer_hold: Duration,
    pub approval_valid: Duration,
}

/// Runs `f` with an [`Env`] for `state` at the time of its clock.
pub fn with_env<T>(state: &AppState, ip_hash: &str, f: impl FnOnce(&Env) -> T) -> T {
    with_env_at(state, ip_hash, state.settings.clock.now(), f)
}

/// Runs `f` with an [`Env`] for `state` at `now` (Unix seconds; tests and
/// the command line).
pub fn with_env_at<T>(state: &AppState, ip_hash: &str, now: i64, f: impl FnOnce(&Env) -> T) -> T {
    let loaded = state.loaded();
    let env = Env {
        ctx: Ctx {
            store: &state.store,
            letterhead: &loaded.letterhead,
            signer: &state.signer,
            backend_url: &loaded.backend_url,
            office: &state.settings.office,
            confirm_valid: state.settings.confirm_valid,
            per_recipient_per_hour: state.settings.per_recipient_per_hour,
            ip_hash,
            now,
        },
        site: &loaded.site,
        today: berlin_date(now),
        offer_hold: state.settings.offer_hold,
        approval_valid: state.settings.approval_valid,
    };
    f(&env)
}

fn berlin_local(ts: i64) -> chrono::NaiveDateTime {
    let utc = DateTime::from_timestamp(ts, 0)
        .unwrap_or_default()
        .naive_utc();
    utc + chrono::Duration::hours(time::berlin_offset_hours_at_utc(utc))
}

fn berlin_date(ts: i64) -> NaiveDate {
    berlin_local(ts).date()
}

/// "Mittwoch, 10. Februar 2027, 18:30 Uhr"
fn berlin_time_text(ts: i64) -> String {
    let local = berlin_local(ts);
    format!(
        "{}, {} Uhr",
        time::german_long_date(local.date()),
        local.format("%H:%M")
    )
}

fn parse_date(iso: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(iso, "%Y-%m-%d").ok()
}

fn iso(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// One store transaction of a booking step.
fn write<T>(env: &Env, f: impl FnOnce(&Tx) -> Result<T>) -> Result<T> {
    env.ctx.store.write(f)
}

// ------------------------------------------------------------------ texts

impl Env<'_> {
    fn host(&self) -> String {
        self.site
            .config
            .site
            .base_url
            .split("://")
            .nth(1)
            .unwrap_or("kommunalcampus")
            .split(['/', ':'])
            .next()
            .unwrap_or("kommunalcampus")
            .to_string()
    }

    fn unit_url(&self, unit_id: &str) -> String {
        format!(
            "{}{}",
            self.ctx.letterhead.base_url.trim_end_matches('/'),
            urls::unit(unit_id)
        )
    }

    fn cancel_url(&self, id: i64) -> String {
        let token = self.ctx.signer.sign(Purpose::Cancel, &id.to_string());
        format!(
            "{}{}",
            self.ctx.backend_url,
            urls::booking_step("stornieren", &token)
        )
    }

    /// The facts of a booking every mail and page about it shows (as
    /// `booking` in `mail/buchung_fakten.txt` and the booking mails).
    fn booking_view(&self, b: &BookingRow) -> serde_json::Value {
        let authority = self.site.authority(&b.authority_id);
        let price = Cents(b.price_cents);
        let vat_percent = self.site.prices.vat_percent;
        let billing_unit = self
            .site
            .units
            .iter()
            .find(|u| u.id == b.unit_id)
            .map(|u| self.site.levels[u.level].billing_unit.clone())
            .unwrap_or_default();
        let date = b.live_date.as_deref().unwrap_or(&b.wanted);
        json!({
            "id": b.id,
            "kind": b.kind,
            "unit_title": b.unit_title,
            "date": parse_date(date).map(time::german_long_date).unwrap_or_default(),
            "name": b.name,
            "email": b.email,
            "authority": authority.map(|a| a.display_name()).unwrap_or_default(),
            "member": b.member,
            "free": b.price_cents == 0,
            "price": price.to_string(),
            "billing_unit": billing_unit,
            "vat_percent": vat_percent,
            "vat": price.vat_included(vat_percent).to_string(),
            "surcharge_percent": self.site.prices.non_member_surcharge_percent,
        })
    }

    /// The facts of a booking as (label, value) pairs for pages: the lines
    /// of `mail/buchung_fakten.txt`, so pages and mails say the same.
    pub fn facts(&self, b: &BookingRow) -> Vec<(String, String)> {
        let text = self
            .ctx
            .letterhead
            .render(
                "mail/buchung_fakten.txt",
                json!({ "booking": self.booking_view(b) }),
            )
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "Angaben zur Buchung nicht darstellbar");
                String::new()
            });
        text.lines()
            .filter_map(|l| l.split_once(": "))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect()
    }

    /// Queues the mail `kind` about `b` to the participant (no
    /// per-recipient limit: these mails follow actions of the office,
    /// approvers or the person). `values` get `booking` added.
    fn tell(
        &self,
        tx: &Tx,
        b: &BookingRow,
        kind: &'static str,
        values: serde_json::Value,
        attachments: &[FileAttachment],
    ) -> Result<()> {
        let draft =
            self.ctx
                .letterhead
                .draft(kind, &b.email, &b.name, self.with_booking(b, values))?;
        let mail = self
            .ctx
            .letterhead
            .compose_with(&draft, None, attachments)?;
        tx.enqueue(&mail, self.ctx.now)?;
        Ok(())
    }

    fn with_booking(&self, b: &BookingRow, mut values: serde_json::Value) -> serde_json::Value {
        values["booking"] = self.booking_view(b);
        values
    }

    fn one_time_link(
        &self,
        tx: &Tx,
        purpose: Purpose,
        b: i64,
        consent: Option<i64>,
        expires_at: i64,
        path: &str,
    ) -> Result<String> {
        let token = random_token();
        tx.insert_booking_token(
            &token_hash(&token),
            purpose,
            b,
            consent,
            self.ctx.now,
            expires_at,
        )?;
        Ok(format!(
            "{}{}",
            self.ctx.backend_url,
            urls::booking_step(path, &token)
        ))
    }

    /// The calendar file of a confirmed live date (no private links).
    pub fn calendar(&self, tx: &Tx, b: &BookingRow, date: NaiveDate) -> Result<FileAttachment> {
        let sequence = tx.date_sequence(&b.unit_id, &iso(date))?;
        let event = ics::LiveEvent {
            uid: ics::uid_for(&b.unit_id, date, &self.host()),
            sequence: sequence.max(0) as u32,
            summary: &b.unit_title,
            description: ics::describe(date),
            date,
            url: Some(self.unit_url(&b.unit_id)),
            stamp: DateTime::from_timestamp(self.ctx.now, 0)
                .unwrap_or_default()
                .naive_utc(),
        };
        Ok(FileAttachment {
            filename: format!("{}-{}.ics", b.unit_id, iso(date)),
            content_type: "text/calendar; charset=utf-8; method=PUBLISH".into(),
            body: ics::calendar(&event).into_bytes(),
        })
    }

    /// The confirmed place with the calendar file; `updated` when the
    /// event changed (same mail, other subject).
    fn tell_confirmed(&self, tx: &Tx, b: &BookingRow, updated: bool) -> Result<()> {
        let date = b
            .live_date
            .as_deref()
            .and_then(parse_date)
            .ok_or_else(|| WorkflowError::Invalid("bestätigte Buchung ohne Termin".into()))?;
        let ics = self.calendar(tx, b, date)?;
        self.tell(
            tx,
            b,
            "buchung-bestaetigt",
            json!({
                "updated": updated,
                "date": time::german_long_date(date),
                "preparation_opens": time::german_long_date(time::preparation_opens(date)),
                "follow_up_opens": time::german_long_date(time::follow_up_opens(date)),
                "cancel_link": self.cancel_url(b.id),
            }),
            &[ics],
        )
    }

    /// `b` is on the waiting list; `reason` is one of "kein-platz",
    /// "kein-termin", "termin-entfallen", "termin-abgesagt" (then
    /// `cancelled_date` is the date that was removed).
    fn tell_waiting(
        &self,
        tx: &Tx,
        b: &BookingRow,
        reason: &str,
        cancelled_date: &str,
    ) -> Result<()> {
        let position = tx.waiting_position(b)?;
        self.tell(
            tx,
            b,
            "buchung-warteliste",
            json!({
                "reason": reason,
                "cancelled_date": cancelled_date,
                "position": position,
                "hold_hours": self.offer_hold.as_secs() / 3600,
                "cancel_link": self.cancel_url(b.id),
            }),
            &[],
        )
    }
}

// ------------------------------------------------------------------ capacity

/// Free places of a content date: capacity − taken outside the platform −
/// places held by bookings (confirmed or offered).
fn free_places(
    tx: &Tx,
    capacity: u32,
    taken: u32,
    unit_id: &str,
    date: &str,
) -> store::Result<i64> {
    Ok(i64::from(capacity) - i64::from(taken) - i64::from(tx.places_held(unit_id, date)?))
}

/// The date a booking gets a place on now, if any: the wanted date when it
/// has a free place, or for `naechster` the first upcoming date that has one.
fn free_date_for(env: &Env, tx: &Tx, b: &BookingRow) -> Result<Option<String>> {
    let Some(unit) = env.site.units.iter().find(|u| u.id == b.unit_id) else {
        return Ok(None);
    };
    for d in unit.upcoming_dates(env.today) {
        let date = iso(d.date);
        if b.wanted != NEXT && b.wanted != date {
            continue;
        }
        if free_places(tx, d.capacity, d.taken, &unit.id, &date)? > 0 {
            return Ok(Some(date));
        }
    }
    Ok(None)
}

/// Gives `b` (in state `from`) a place, or puts it on the waiting list,
/// and tells the person. Returns the new state (None: somebody else changed
/// the booking first).
fn allocate(env: &Env, tx: &Tx, b: &BookingRow, actor: &Actor) -> Result<BookingState> {
    let now = env.ctx.now;
    if b.kind == BookingKind::Enrolment {
        tx.move_to(b.id, b.state, Enrolled, actor, Change::at(now))?;
        tell_enrolled(env, tx, b)?;
        return Ok(Enrolled);
    }
    // A wanted date that is no longer in content: wait for the next one.
    let still_offered = b.wanted == NEXT
        || env
            .site
            .units
            .iter()
            .find(|u| u.id == b.unit_id)
            .is_some_and(|u| u.upcoming_dates(env.today).any(|d| iso(d.date) == b.wanted));
    let target = if still_offered {
        free_date_for(env, tx, b)?
    } else {
        None
    };
    let (to, note) = match &target {
        Some(_) => (Confirmed, ""),
        None if !still_offered => (Waiting, "gewünschter Termin entfallen"),
        None => (Waiting, "kein freier Platz"),
    };
    let mut change = Change::at(now).live_date(target.as_deref()).note(note);
    if !still_offered {
        change = change.wanted(NEXT);
    }
    let b = tx.move_to(b.id, b.state, to, actor, change)?;
    if to == Confirmed {
        env.tell_confirmed(tx, &b, false)?;
    } else {
        let reason = if still_offered && b.wanted != NEXT {
            "kein-platz"
        } else if still_offered {
            "kein-termin"
        } else {
            "termin-entfallen"
        };
        env.tell_waiting(tx, &b, reason, "")?;
    }
    Ok(to)
}

fn tell_enrolled(env: &Env, tx: &Tx, b: &BookingRow) -> Result<()> {
    let link = env
        .site
        .units
        .iter()
        .find(|u| u.id == b.unit_id)
        .and_then(|u| u.start_link.clone())
        .unwrap_or_else(|| env.unit_url(&b.unit_id));
    env.tell(tx, b, "einschreibung-start", json!({ "link": link }), &[])
}

/// Offers free places of one date to the people waiting, first come first
/// served, until the date is full or nobody waits. Returns the offers made.
fn fill(env: &Env, tx: &Tx, unit_id: &str, date: &str) -> Result<usize> {
    let Some(unit) = env.site.units.iter().find(|u| u.id == unit_id) else {
        return Ok(0);
    };
    let Some(d) = unit.upcoming_dates(env.today).find(|d| iso(d.date) == date) else {
        return Ok(0);
    };
    let mut offers = 0;
    while free_places(tx, d.capacity, d.taken, unit_id, date)? > 0 {
        let Some(w) = tx.first_waiting(unit_id, date)? else {
            break;
        };
        let until = env.ctx.now + env.offer_hold.as_secs() as i64;
        let change = Change::at(env.ctx.now)
            .live_date(Some(date))
            .offer_until(Some(until))
            .note("Platz frei");
        let w = tx.move_to(w.id, Waiting, Offered, &Actor::System, change)?;
        let link = env.one_time_link(tx, Purpose::Offer, w.id, None, until, "angebot")?;
        env.tell(
            tx,
            &w,
            "buchung-angebot",
            json!({
                "date": time::german_long_date(d.date),
                "until": berlin_time_text(until),
                "link": link,
                "cancel_link": env.cancel_url(w.id),
            }),
            &[],
        )?;
        offers += 1;
    }
    Ok(offers)
}

// ------------------------------------------------------------------ steps

/// What became of a booking request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    /// Stored with this id.
    New(i64),
    /// The person already holds this active booking for the unit (a double
    /// click, or asked twice); nothing was stored or sent.
    Existing(Box<BookingRow>),
}

/// Stores a booking or enrolment request. Free on-demand units enrol at
/// once; everything else gets a confirmation link (double opt-in). A
/// person holds at most one active booking per unit: the check runs in the
/// same `BEGIN IMMEDIATE` transaction as the insert, so parallel posts
/// cannot both pass it.
pub fn request(env: &Env, r: &BookingRequest) -> Result<Requested> {
    let site = env.site;
    let unit = site
        .units
        .iter()
        .find(|u| u.id == r.einheit)
        .ok_or_else(|| WorkflowError::Invalid(format!("Lerneinheit {} fehlt", r.einheit)))?;
    let authority = site.authority(&r.kommune);
    let member = authority.is_some_and(|a| a.member);
    let price = site.prices.for_staff_of(site.unit_price(unit), member);
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
    let kind = if r.kind == FormKind::Einschreibung || unit.format == Format::OnDemand {
        BookingKind::Enrolment
    } else {
        BookingKind::Booking
    };
    let enrol_now = kind == BookingKind::Enrolment && price.is_zero();
    write(env, |tx| {
        if let Some(existing) = tx.active_booking(&unit.id, &r.email)? {
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
            unit_id: &unit.id,
            unit_title: &unit.title,
            wanted: if kind == BookingKind::Booking {
                &r.termin
            } else {
                ""
            },
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
        if enrol_now {
            // Nothing to approve and nothing private in the mail: the
            // consent is given with the post, as for a contact request.
            tx.confirm_consent(consent, env.ctx.now, env.ctx.ip_hash, "Formular")?;
            allocate(env, tx, &b, &Actor::Participant)?;
            return Ok(Requested::New(id));
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
            "buchung-bestaetigen",
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
    store.write(|tx| {
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
        let change = Change::at(env.ctx.now).live_date(b.live_date.as_deref());
        let after = tx.move_to(id, b.state, Cancelled, actor, change)?;
        for purpose in [Purpose::BookingConfirm, Purpose::Approval, Purpose::Offer] {
            tx.void_booking_tokens(id, purpose, env.ctx.now)?;
        }
        env.tell(
            tx,
            &after,
            "buchung-storniert",
            json!({ "by_participant": *actor == Actor::Participant }),
            &[],
        )?;
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

/// What a content reload changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub published: usize,
    pub removed: usize,
    pub changed: usize,
    pub moved_to_waiting: usize,
    pub offers: usize,
}

/// Compares the live dates in content with the ones seen before: bookings
/// on a removed date go to the waiting list (and are told), new dates and
/// new free places are offered to the people waiting, people waiting for
/// the next possible date hear about a new date, and a changed event gets a
/// higher SEQUENCE (participants receive the updated calendar file).
pub fn sync_content(env: &Env) -> Result<SyncReport> {
    write(env, |tx| {
        let mut report = SyncReport::default();
        let known = tx.known_dates()?;
        let current: Vec<(&campus_generator::model::Unit, String)> = env
            .site
            .units
            .iter()
            .map(std::sync::Arc::as_ref)
            .flat_map(|u| u.upcoming_dates(env.today).map(move |d| (u, iso(d.date))))
            .collect();
        // Removed dates (past dates that drop out of content are not news).
        for k in known.iter().filter(|k| !k.removed) {
            let upcoming = parse_date(&k.date).is_some_and(|d| d >= env.today);
            if !upcoming
                || current
                    .iter()
                    .any(|(u, d)| u.id == k.unit_id && *d == k.date)
            {
                continue;
            }
            report.removed += 1;
            tx.mark_date_removed(&k.unit_id, &k.date, env.ctx.now)?;
            let mut affected = tx.on_date(&k.unit_id, &k.date, Confirmed)?;
            affected.extend(tx.on_date(&k.unit_id, &k.date, Offered)?);
            affected.extend(tx.waiting_for(&k.unit_id, &k.date)?);
            affected.sort_by_key(|b| (b.queue_no.is_some(), b.queue_no, b.id));
            for b in affected {
                let change = Change::at(env.ctx.now)
                    .wanted(NEXT)
                    .note("Termin aus dem Angebot entfernt");
                let after = tx.move_to(b.id, b.state, Waiting, &Actor::System, change)?;
                tx.void_booking_tokens(b.id, Purpose::Offer, env.ctx.now)?;
                report.moved_to_waiting += 1;
                let date = parse_date(&k.date)
                    .map(time::german_long_date)
                    .unwrap_or_default();
                env.tell_waiting(tx, &after, "termin-abgesagt", &date)?;
            }
        }
        // New, reappearing and changed dates; then fill every upcoming date.
        for (unit, date) in &current {
            let k = known
                .iter()
                .find(|k| k.unit_id == unit.id && k.date == *date);
            let published = k.is_none_or(|k| k.removed);
            let changed = k.is_some_and(|k| !k.removed && k.title != unit.title);
            let sequence = match k {
                None => 0,
                Some(k) if k.removed || changed => k.sequence + 1,
                Some(k) => k.sequence,
            };
            if k.is_none() || published || changed {
                tx.upsert_known_date(&unit.id, date, &unit.title, sequence)?;
            }
            if changed {
                report.changed += 1;
                for mut b in tx.on_date(&unit.id, date, Confirmed)? {
                    b.unit_title = unit.title.clone();
                    env.tell_confirmed(tx, &b, true)?;
                }
            }
            report.offers += fill(env, tx, &unit.id, date)?;
            if published {
                report.published += 1;
                let d = parse_date(date)
                    .map(time::german_long_date)
                    .unwrap_or_default();
                for b in tx.waiting_for(&unit.id, NEXT)? {
                    env.tell(tx, &b, "buchung-neuer-termin", json!({ "date": d }), &[])?;
                }
            }
        }
        Ok(report)
    })
}

/// Background task: every `[buchung] pruefen_alle_sekunden` passes on
/// expired offers, until `stop` turns true.
pub fn spawn_ticker(
    state: AppState,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if *stop.borrow() {
                break;
            }
            let st = state.clone();
            match tokio::task::spawn_blocking(move || with_env(&st, "", expire_offers)).await {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => {
                    tracing::info!(lapsed = n, "Abgelaufene Angebote weitergegeben");
                    state.wake.notify_one();
                }
                Ok(Err(e)) => tracing::error!(error = %e, "Angebote nicht geprüft"),
                Err(e) => tracing::error!(error = %e, "Angebotsprüfung abgebrochen"),
            }
            tokio::select! {
                _ = tokio::time::sleep(state.settings.booking_tick) => {}
                _ = stop.changed() => {}
            }
        }
    })
}
