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
//!
//! Here: the [`Env`] a step runs with; the vocabulary in `state`, the
//! steps people take in `steps`, places and the waiting list in
//! `capacity`, content changes and the ticker in `sync`, facts and mails
//! in `texts`, reminders and notices by the calendar in `reminders`.

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

mod capacity;
mod course;
mod events;
mod my_bookings;
mod office;
mod reminders;
mod state;
mod steps;
mod sync;
mod texts;
use capacity::{allocate, fill};
pub use course::{
    confirm_course, decide_course, decide_course_by_id, peek_course, request_course, CourseBooking,
    CourseDecision, CourseRequested,
};
pub use my_bookings::{
    my_bookings, my_bookings_email, my_calendar, send_my_bookings_link, MY_BOOKINGS_PATH,
};
pub use office::{move_to_date, offer_by_hand, OfficeMove};
pub use reminders::{send_reminders, RawReminders, ReminderReport, ReminderSettings};
pub use state::{Actor, Approver, BookingKind, BookingState};
pub use steps::*;
pub use sync::*;
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

pub(crate) fn berlin_date(ts: i64) -> NaiveDate {
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

/// A date a booking can hold a place on: a live date of a unit, or the
/// one date of an event (bookings name either by id; the generator keeps
/// event and unit ids apart).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot {
    pub date: NaiveDate,
    pub capacity: u32,
    /// Places taken outside the platform (content `vergeben`; none for events).
    pub taken: u32,
}

impl Env<'_> {
    /// The upcoming dates of the unit or event `id` (empty when neither exists).
    pub(crate) fn upcoming_slots(&self, id: &str) -> Vec<Slot> {
        if let Some(unit) = self.site.units.iter().find(|u| u.id == id) {
            return unit
                .upcoming_dates(self.today)
                .map(|d| Slot {
                    date: d.date,
                    capacity: d.capacity,
                    taken: d.taken,
                })
                .collect();
        }
        self.site
            .event(id)
            .filter(|e| e.is_upcoming(self.today))
            .map(|e| Slot {
                date: e.date,
                capacity: e.capacity,
                taken: 0,
            })
            .into_iter()
            .collect()
    }
}

/// One store transaction of a booking step. On PostgreSQL it takes the
/// bookings lock first: every step reads places or the queue, and taking
/// that lock before any mail or row lock gives all steps one lock order
/// (no deadlock between two nodes; [`Store::write`] retries one anyway).
fn write<T>(env: &Env, mut f: impl FnMut(&Tx) -> Result<T>) -> Result<T> {
    env.ctx.store.write(|tx| {
        tx.lock_bookings()?;
        f(tx)
    })
}
