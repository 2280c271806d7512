//! SQL of course bookings: one request for all units of a course, stored as
//! a group (`course_bookings`) that links the unit bookings
//! (`bookings.course_booking_id`), with its own one-time links (confirm,
//! approve/reject the whole course).
//!
//! The group's state moves by conditional updates like a booking's: two
//! approvers deciding at once change it once.

use super::{params, OptionalExtension, Result, Row, Store, Tx};
use crate::booking::Approver;

pub(super) const MIGRATION: &str = "
    CREATE TABLE course_bookings (
        id INTEGER PRIMARY KEY,
        course_id TEXT NOT NULL,
        course_title TEXT NOT NULL,
        name TEXT NOT NULL,
        email TEXT NOT NULL,
        authority_id TEXT NOT NULL,
        organisation TEXT NOT NULL DEFAULT '',
        member INTEGER NOT NULL,
        price_cents INTEGER NOT NULL,
        approver TEXT NOT NULL,
        approver_email TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('unbestaetigt', 'freigabe', 'freigegeben', 'abgelehnt')),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX course_bookings_email ON course_bookings (email);

    ALTER TABLE bookings ADD COLUMN course_booking_id INTEGER REFERENCES course_bookings (id);
    CREATE INDEX bookings_course ON bookings (course_booking_id);

    CREATE TABLE course_tokens (
        token_hash TEXT PRIMARY KEY,
        purpose TEXT NOT NULL,
        course_booking_id INTEGER NOT NULL REFERENCES course_bookings (id) ON DELETE CASCADE,
        consent_id INTEGER REFERENCES consents (id) ON DELETE SET NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER
    );
";

pub use state::CourseState;

/// In a module of its own: the enum macro needs the standard `Result`.
mod state {
    crate::stored::stored_enum! {
        /// Where a course booking stands as a whole (`course_bookings.state`);
        /// each unit booking has its own state besides.
        pub enum CourseState ("einen Status einer Kursbuchung") {
            /// Requested, the person has not confirmed by mail yet.
            Unconfirmed = "unbestaetigt",
            /// Confirmed by the person, waiting for the one approval.
            Approval = "freigabe",
            /// Approved (or free): every unit got a place, a waiting-list place or an enrolment.
            Approved = "freigegeben",
            Rejected = "abgelehnt",
        }
    }

    impl CourseState {
        pub fn label(self) -> &'static str {
            match self {
                CourseState::Unconfirmed => "nicht bestätigt",
                CourseState::Approval => "wartet auf Freigabe",
                CourseState::Approved => "freigegeben",
                CourseState::Rejected => "abgelehnt",
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewCourseBooking<'a> {
    pub course_id: &'a str,
    pub course_title: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub authority_id: &'a str,
    pub organisation: &'a str,
    pub member: bool,
    pub price_cents: i64,
    pub approver: Approver,
    pub approver_email: &'a str,
    pub now: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CourseBookingRow {
    pub id: i64,
    pub course_id: String,
    pub course_title: String,
    pub name: String,
    pub email: String,
    pub authority_id: String,
    pub organisation: String,
    pub member: bool,
    pub price_cents: i64,
    pub approver: Approver,
    pub approver_email: String,
    pub state: CourseState,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str =
    "id, course_id, course_title, name, email, authority_id, organisation, member,
    price_cents, approver, approver_email, state, created_at, updated_at";

fn row(r: &Row) -> Result<CourseBookingRow> {
    Ok(CourseBookingRow {
        id: r.get(0)?,
        course_id: r.get(1)?,
        course_title: r.get(2)?,
        name: r.get(3)?,
        email: r.get(4)?,
        authority_id: r.get(5)?,
        organisation: r.get(6)?,
        member: r.get(7)?,
        price_cents: r.get(8)?,
        approver: r.get(9)?,
        approver_email: r.get(10)?,
        state: r.get(11)?,
        created_at: r.get(12)?,
        updated_at: r.get(13)?,
    })
}

/// A one-time link of a course booking, found by its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseToken {
    pub purpose: String,
    pub course_booking_id: i64,
    pub consent_id: Option<i64>,
}

impl Tx<'_> {
    pub fn insert_course_booking(&self, c: &NewCourseBooking) -> Result<CourseBookingRow> {
        self.query_row(
            &format!(
                "INSERT INTO course_bookings (course_id, course_title, name, email, authority_id,
                    organisation, member, price_cents, approver, approver_email, state, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)
                 RETURNING {COLUMNS}"
            ),
            params![
                c.course_id,
                c.course_title,
                c.name,
                c.email,
                c.authority_id,
                c.organisation,
                c.member,
                c.price_cents,
                c.approver,
                c.approver_email,
                CourseState::Unconfirmed,
                c.now
            ],
            row,
        )
    }

    pub fn course_booking(&self, id: i64) -> Result<Option<CourseBookingRow>> {
        self.query_row(
            &format!("SELECT {COLUMNS} FROM course_bookings WHERE id = ?1"),
            params![id],
            row,
        )
        .optional()
    }

    /// Links unit booking `booking_id` to its course booking.
    pub fn link_to_course(&self, booking_id: i64, course_booking_id: i64) -> Result<()> {
        self.execute(
            "UPDATE bookings SET course_booking_id = ?2 WHERE id = ?1",
            params![booking_id, course_booking_id],
        )?;
        Ok(())
    }

    /// The course booking a unit booking belongs to, if any.
    pub fn course_of_booking(&self, booking_id: i64) -> Result<Option<i64>> {
        Ok(self
            .query_row(
                "SELECT course_booking_id FROM bookings WHERE id = ?1",
                params![booking_id],
                |r| r.get::<Option<i64>>(0),
            )
            .optional()?
            .flatten())
    }

    /// The unit bookings of a course booking, in the order they were asked for.
    pub fn course_unit_bookings(&self, course_booking_id: i64) -> Result<Vec<super::BookingRow>> {
        self.bookings_where("course_booking_id = ?1", params![course_booking_id])
    }

    /// Moves a course booking from `from` to `to` if it is still in `from`;
    /// false if somebody else moved it first.
    pub fn move_course_to(
        &self,
        id: i64,
        from: CourseState,
        to: CourseState,
        now: i64,
    ) -> Result<bool> {
        Ok(self.execute(
            "UPDATE course_bookings SET state = ?3, updated_at = ?4 WHERE id = ?1 AND state = ?2",
            params![id, from, to, now],
        )? == 1)
    }

    pub fn insert_course_token(
        &self,
        hash: &str,
        purpose: &str,
        course_booking_id: i64,
        consent_id: Option<i64>,
        now: i64,
        expires_at: i64,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO course_tokens (token_hash, purpose, course_booking_id, consent_id, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![hash, purpose, course_booking_id, consent_id, now, expires_at],
        )?;
        Ok(())
    }

    /// An unused, unexpired course link.
    pub fn find_course_token(&self, hash: &str, now: i64) -> Result<Option<CourseToken>> {
        self.query_row(
            "SELECT purpose, course_booking_id, consent_id FROM course_tokens
             WHERE token_hash = ?1 AND used_at IS NULL AND expires_at >= ?2",
            params![hash, now],
            |r| {
                Ok(CourseToken {
                    purpose: r.get(0)?,
                    course_booking_id: r.get(1)?,
                    consent_id: r.get(2)?,
                })
            },
        )
        .optional()
    }

    /// Uses a course link up (conditional: of two posts only one gets it).
    pub fn use_course_token(&self, hash: &str, now: i64) -> Result<bool> {
        Ok(self.execute(
            "UPDATE course_tokens SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL",
            params![hash, now],
        )? == 1)
    }

    /// Makes the open links of one purpose unusable (the office decided).
    pub fn void_course_tokens(
        &self,
        course_booking_id: i64,
        purpose: &str,
        now: i64,
    ) -> Result<()> {
        self.execute(
            "UPDATE course_tokens SET used_at = ?3
             WHERE course_booking_id = ?1 AND purpose = ?2 AND used_at IS NULL",
            params![course_booking_id, purpose, now],
        )?;
        Ok(())
    }
}

impl Store {
    pub fn course_booking(&self, id: i64) -> Result<Option<CourseBookingRow>> {
        self.read(|tx| tx.course_booking(id))
    }

    /// The course booking a unit booking belongs to (office pages).
    pub fn course_of_booking(&self, booking_id: i64) -> Result<Option<CourseBookingRow>> {
        self.read(|tx| match tx.course_of_booking(booking_id)? {
            Some(id) => tx.course_booking(id),
            None => Ok(None),
        })
    }
}
