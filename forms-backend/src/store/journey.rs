//! SQL of the participant's journey after a booking: the calendar entry a
//! booking's mails carry (its SEQUENCE), the reminders and notices already
//! sent (one row per mail, so each goes out exactly once), and the
//! retention purge of bookings, their history and sessions.

use super::{params, BookingRow, OptionalExtension, Result, Tx};
use crate::booking::BookingState;

pub(crate) const MIGRATION: &str = "
    CREATE TABLE booking_calendar (
        booking_id INTEGER PRIMARY KEY REFERENCES bookings (id) ON DELETE CASCADE,
        live_date TEXT NOT NULL,
        title TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        cancelled INTEGER NOT NULL
    );

    CREATE TABLE booking_reminders (
        booking_id INTEGER NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        -- the live date the reminder was about ('' when none)
        live_date TEXT NOT NULL,
        sent_at INTEGER NOT NULL,
        PRIMARY KEY (booking_id, kind, live_date)
    );
    CREATE INDEX bookings_state_date ON bookings (state, live_date);
";

/// The calendar entry a booking's mails last carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEntry {
    pub live_date: String,
    pub title: String,
    pub sequence: i64,
    pub cancelled: bool,
}

impl Tx<'_> {
    /// The calendar entry last sent for booking `id`, if any.
    pub fn calendar_entry(&self, id: i64) -> Result<Option<CalendarEntry>> {
        self.query_row(
                "SELECT live_date, title, sequence, cancelled FROM booking_calendar WHERE booking_id = ?1",
                params![id],
                |r| {
                    Ok(CalendarEntry {
                        live_date: r.get(0)?,
                        title: r.get(1)?,
                        sequence: r.get(2)?,
                        cancelled: r.get(3)?,
                    })
                },
            )
            .optional()
    }

    /// Records the calendar entry about to be sent for booking `id`: the
    /// SEQUENCE stays while date, title and status stay, and rises by one
    /// when any of them changed. Returns the SEQUENCE to send.
    pub fn issue_calendar_entry(
        &self,
        id: i64,
        live_date: &str,
        title: &str,
        cancelled: bool,
    ) -> Result<i64> {
        let sequence = match self.calendar_entry(id)? {
            None => 0,
            Some(e) if e.live_date == live_date && e.title == title && e.cancelled == cancelled => {
                return Ok(e.sequence)
            }
            Some(e) => e.sequence + 1,
        };
        self.execute(
            "INSERT INTO booking_calendar (booking_id, live_date, title, sequence, cancelled)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (booking_id) DO UPDATE SET live_date = excluded.live_date,
                 title = excluded.title, sequence = excluded.sequence, cancelled = excluded.cancelled",
            params![id, live_date, title, sequence, cancelled],
        )?;
        Ok(sequence)
    }

    /// Notes that reminder `kind` about `live_date` goes to booking `id`.
    /// False if it was noted before (by this or another process): then the
    /// caller sends nothing. Unique key, so two workers cannot both pass.
    pub fn note_reminder(&self, id: i64, kind: &str, live_date: &str, now: i64) -> Result<bool> {
        let n = self.execute(
            "INSERT INTO booking_reminders (booking_id, kind, live_date, sent_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (booking_id, kind, live_date) DO NOTHING",
            params![id, kind, live_date, now],
        )?;
        Ok(n == 1)
    }

    /// Bookings in `state` with a live date between `from` and `to`
    /// (ISO dates, both included) that have no reminder `kind` for it yet.
    pub fn due_for_reminder(
        &self,
        state: BookingState,
        from: &str,
        to: &str,
        kind: &str,
    ) -> Result<Vec<BookingRow>> {
        self.bookings_where(
            "state = ?1 AND live_date IS NOT NULL AND live_date >= ?2 AND live_date <= ?3
             AND NOT EXISTS (SELECT 1 FROM booking_reminders r
                 WHERE r.booking_id = bookings.id AND r.kind = ?4 AND r.live_date = bookings.live_date)",
            params![state, from, to, kind],
        )
    }

    /// Every booking and enrolment of one address, by id.
    pub fn bookings_of(&self, email: &str) -> Result<Vec<BookingRow>> {
        self.bookings_where("email = ?1", params![email])
    }

    /// Bookings waiting for approval since before `before` without reminder `kind`.
    pub fn approvals_waiting_since(&self, before: i64, kind: &str) -> Result<Vec<BookingRow>> {
        self.bookings_where(
            "state = ?1 AND updated_at < ?2
             AND NOT EXISTS (SELECT 1 FROM booking_reminders r
                 WHERE r.booking_id = bookings.id AND r.kind = ?3)",
            params![BookingState::Approval, before, kind],
        )
    }
}

/// Where each retention period of the journey ends (see `ops::purge`):
/// records from before these moments are deleted.
#[derive(Debug, Clone)]
pub struct JourneyCutoffs {
    /// Closed bookings last changed before this (Unix seconds) …
    pub bookings_before: i64,
    /// … and confirmed ones whose live date is before this ISO date.
    pub live_dates_before: String,
    pub events_before: i64,
    pub consents_before: i64,
    pub sessions_before: i64,
    /// Evaluations (kept without time or person) of live dates before this ISO date.
    pub evaluations_before: String,
    /// Certificates issued before this (Unix seconds); a verification after
    /// that says "unknown".
    pub certificates_before: i64,
    /// Membership applications rejected before this (Unix seconds).
    pub rejected_applications_before: i64,
}

/// What [`Store::purge_journey`](super::Store::purge_journey) deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JourneyPurge {
    pub bookings: usize,
    pub booking_events: usize,
    pub consents: usize,
    pub sessions: usize,
    pub evaluations: usize,
    pub certificates: usize,
    /// Course bookings whose unit bookings are all gone.
    pub course_bookings: usize,
    /// Answered exclusive-course requests whose dates are past.
    pub exclusive_requests: usize,
    /// Rejected membership applications (with their steps).
    pub membership_applications: usize,
}

impl super::Store {
    /// Deletes bookings, their history, consents, office sessions,
    /// evaluations and certificates past
    /// their retention, in one transaction. Bookings still open (requested,
    /// waiting for approval, on the waiting list, offered, or confirmed for a
    /// later date) are kept whatever their age.
    pub fn purge_journey(&self, cut: &JourneyCutoffs) -> Result<JourneyPurge> {
        self.write(|tx| {
            let t = tx;
            let mut report = JourneyPurge {
                bookings: t.execute(
                    "DELETE FROM bookings WHERE updated_at < ?1
                       AND (state IN (?3, ?4, ?5, ?6) OR (state = ?7 AND live_date < ?2))",
                    params![
                        cut.bookings_before,
                        cut.live_dates_before,
                        BookingState::Cancelled,
                        BookingState::Rejected,
                        BookingState::Lapsed,
                        BookingState::Enrolled,
                        BookingState::Confirmed,
                    ],
                )?,
                // The history of a booking still kept stays with it.
                booking_events: t.execute(
                    "DELETE FROM booking_events WHERE at < ?1
                       AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.id = booking_events.booking_id
                           AND (b.live_date >= ?2 OR b.state IN (?3, ?4, ?5, ?6)))",
                    params![
                        cut.events_before,
                        cut.live_dates_before,
                        BookingState::Unconfirmed,
                        BookingState::Approval,
                        BookingState::Waiting,
                        BookingState::Offered,
                    ],
                )?,
                ..JourneyPurge::default()
            };
            // A consent is proof for as long as what it allowed exists.
            report.consents = t.execute(
                "DELETE FROM consents WHERE coalesce(withdrawn_at, given_at) < ?1
                   AND submission_id IS NULL
                   AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.consent_id = consents.id)
                   AND NOT EXISTS (SELECT 1 FROM newsletter_subscribers n
                       WHERE n.consent_id = consents.id AND n.status = 'aktiv')",
                params![cut.consents_before],
            )?;
            report.sessions = t.execute(
                "DELETE FROM office_login_links WHERE expires_at < ?1",
                params![cut.sessions_before],
            )? + t.execute(
                "DELETE FROM office_sessions WHERE last_seen_at < ?1",
                params![cut.sessions_before],
            )?;
            report.evaluations = t.execute(
                "DELETE FROM evaluation_answers WHERE live_date < ?1",
                params![cut.evaluations_before],
            )?;
            report.certificates = t.execute(
                "DELETE FROM certificates WHERE issued_at < ?1",
                params![cut.certificates_before],
            )?;
            // A course booking (name, address) goes with the last of its
            // unit bookings; its one-time links go with it (ON DELETE CASCADE).
            report.course_bookings = t.execute(
                "DELETE FROM course_bookings WHERE updated_at < ?1
                   AND NOT EXISTS (SELECT 1 FROM bookings b
                       WHERE b.course_booking_id = course_bookings.id)",
                params![cut.bookings_before],
            )?;
            // An answered exclusive request is kept like a booking: for the
            // bookings' period after its answer and its last date.
            report.exclusive_requests = t.execute(
                "DELETE FROM exclusive_requests WHERE state <> ?2
                   AND coalesce(answered_at, created_at) < ?1
                   AND NOT EXISTS (SELECT 1 FROM exclusive_dates d
                       WHERE d.request_id = exclusive_requests.id AND d.date >= ?3)",
                params![
                    cut.bookings_before,
                    super::ExclusiveState::Received,
                    cut.live_dates_before,
                ],
            )?;
            // An application that led to membership is part of the
            // membership record and stays; a rejected one goes after its
            // period, its steps with it (ON DELETE CASCADE).
            report.membership_applications = t.execute(
                "DELETE FROM membership_applications WHERE state = ?1 AND updated_at < ?2",
                params![
                    crate::membership::ApplicationState::Rejected,
                    cut.rejected_applications_before
                ],
            )?;
            Ok(report)
        })
    }
}
