//! SQL of what follows a live date: attendance (with its history), the
//! evaluation (answers kept apart from the person) and the certificates.
//!
//! The answers of an evaluation carry no booking, person or time and get a
//! random id, so neither a column nor the order of rows links them to the
//! attendance; `evaluations_done` only says that an attendance was
//! evaluated, so there is one evaluation per attendance.

use super::bookings::{booking_row, BookingRow, COLUMNS};
use super::{params, OptionalExtension, Result, Row, Store, Tx};
use crate::attendance::Attendance;

pub(super) const MIGRATION: &str = "
    CREATE TABLE attendance (
        booking_id INTEGER PRIMARY KEY REFERENCES bookings (id) ON DELETE CASCADE,
        status TEXT NOT NULL CHECK (status IN ('teilgenommen', 'nicht-erschienen')),
        recorded_at INTEGER NOT NULL,
        recorded_by TEXT NOT NULL,
        -- when the link to the evaluation went out (once)
        invited_at INTEGER
    );
    CREATE TABLE attendance_events (
        id INTEGER PRIMARY KEY,
        booking_id INTEGER NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        status TEXT NOT NULL,
        -- 'verwaltung' (the form) or 'import' (CSV of the learning platform)
        source TEXT NOT NULL
    );
    CREATE INDEX attendance_events_booking ON attendance_events (booking_id, id);
    CREATE TABLE evaluations_done (
        booking_id INTEGER PRIMARY KEY REFERENCES bookings (id) ON DELETE CASCADE
    );
    CREATE TABLE evaluation_answers (
        id TEXT PRIMARY KEY,
        unit_id TEXT NOT NULL,
        live_date TEXT NOT NULL,
        answers TEXT NOT NULL,
        share_text INTEGER NOT NULL
    );
    CREATE INDEX evaluation_answers_date ON evaluation_answers (unit_id, live_date);
    CREATE TABLE certificates (
        number TEXT PRIMARY KEY,
        booking_id INTEGER UNIQUE REFERENCES bookings (id) ON DELETE SET NULL,
        course_id TEXT,
        email TEXT NOT NULL,
        name TEXT NOT NULL,
        title TEXT NOT NULL,
        -- 'YYYY-MM-DD' of the live date; '' for a course
        live_date TEXT NOT NULL,
        workload_tenths INTEGER NOT NULL,
        lecturers TEXT NOT NULL,
        -- a course certificate's units, one title per line
        units TEXT NOT NULL,
        issued_at INTEGER NOT NULL,
        UNIQUE (course_id, email)
    );
    CREATE INDEX certificates_email ON certificates (email);
";

/// A booking with its recorded attendance.
#[derive(Debug, Clone)]
pub struct AttendanceRow {
    pub booking: BookingRow,
    pub status: Option<Attendance>,
    pub recorded_by: Option<String>,
    pub invited: bool,
    pub evaluated: bool,
}

/// An issued certificate (the facts as they were at issue).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CertificateRow {
    pub number: String,
    pub booking_id: Option<i64>,
    pub course_id: Option<String>,
    pub email: String,
    pub name: String,
    pub title: String,
    pub live_date: String,
    pub workload_tenths: i64,
    pub lecturers: String,
    pub units: String,
    pub issued_at: i64,
}

const CERT_COLUMNS: &str = "number, booking_id, course_id, email, name, title, live_date,
    workload_tenths, lecturers, units, issued_at";

fn certificate_row(r: &Row) -> Result<CertificateRow> {
    Ok(CertificateRow {
        number: r.get(0)?,
        booking_id: r.get(1)?,
        course_id: r.get(2)?,
        email: r.get(3)?,
        name: r.get(4)?,
        title: r.get(5)?,
        live_date: r.get(6)?,
        workload_tenths: r.get(7)?,
        lecturers: r.get(8)?,
        units: r.get(9)?,
        issued_at: r.get(10)?,
    })
}

/// One stored evaluation (no person, no time).
#[derive(Debug, Clone)]
pub struct StoredEvaluation {
    pub answers: serde_json::Value,
    pub share_text: bool,
}

impl Tx<'_> {
    /// Records (or corrects) the attendance of booking `id` and its event.
    /// Returns whether anything changed (the same status again is no event).
    pub fn record_attendance(
        &self,
        id: i64,
        status: Attendance,
        actor: &str,
        source: &str,
        now: i64,
    ) -> Result<bool> {
        let changed = self.execute(
            "INSERT INTO attendance (booking_id, status, recorded_at, recorded_by)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (booking_id) DO UPDATE SET status = excluded.status,
                 recorded_at = excluded.recorded_at, recorded_by = excluded.recorded_by
             WHERE attendance.status <> excluded.status",
            params![id, status.as_str(), now, actor],
        )?;
        if changed > 0 {
            self.execute(
                "INSERT INTO attendance_events (booking_id, at, actor, status, source)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, now, actor, status.as_str(), source],
            )?;
        }
        Ok(changed > 0)
    }

    /// Marks the evaluation link of an attended booking as sent; false when
    /// it was sent before (conditional update: the mail goes out once).
    pub fn mark_evaluation_invited(&self, id: i64, now: i64) -> Result<bool> {
        Ok(self.execute(
            "UPDATE attendance SET invited_at = ?2
             WHERE booking_id = ?1 AND invited_at IS NULL AND status = 'teilgenommen'",
            params![id, now],
        )? > 0)
    }

    /// Stores one evaluation of attended booking `id`: false (and nothing
    /// stored) when this attendance was evaluated already or is no
    /// attendance.
    pub fn store_evaluation(
        &self,
        id: i64,
        unit_id: &str,
        live_date: &str,
        answers: &serde_json::Value,
        share_text: bool,
    ) -> Result<bool> {
        let attended: Option<i64> = self.query_row(
                "SELECT booking_id FROM attendance WHERE booking_id = ?1 AND status = 'teilgenommen'",
                params![id],
                |r| r.get(0),
            )
            .optional()?;
        if attended.is_none() {
            return Ok(false);
        }
        let first = self.execute(
            "INSERT INTO evaluations_done (booking_id) VALUES (?1)
             ON CONFLICT (booking_id) DO NOTHING",
            params![id],
        )?;
        if first == 0 {
            return Ok(false);
        }
        self.execute(
            "INSERT INTO evaluation_answers (id, unit_id, live_date, answers, share_text)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                crate::sign::random_token(),
                unit_id,
                live_date,
                answers.to_string(),
                share_text
            ],
        )?;
        Ok(true)
    }

    /// Issues a certificate unless its booking (or person and course) has
    /// one; the certificate that holds afterwards.
    pub fn issue_certificate(&self, c: &CertificateRow) -> Result<CertificateRow> {
        self.execute(
            "INSERT INTO certificates (number, booking_id, course_id, email, name, title, live_date,
                 workload_tenths, lecturers, units, issued_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT DO NOTHING",
            params![
                c.number,
                c.booking_id,
                c.course_id,
                c.email,
                c.name,
                c.title,
                c.live_date,
                c.workload_tenths,
                c.lecturers,
                c.units,
                c.issued_at
            ],
        )?;
        let row = match (&c.booking_id, &c.course_id) {
            (Some(id), _) => self.query_row(
                &format!("SELECT {CERT_COLUMNS} FROM certificates WHERE booking_id = ?1"),
                params![id],
                certificate_row,
            )?,
            (None, Some(course)) => self.query_row(
                &format!(
                    "SELECT {CERT_COLUMNS} FROM certificates WHERE course_id = ?1 AND email = ?2"
                ),
                params![course, c.email],
                certificate_row,
            )?,
            (None, None) => self.query_row(
                &format!("SELECT {CERT_COLUMNS} FROM certificates WHERE number = ?1"),
                params![c.number],
                certificate_row,
            )?,
        };
        Ok(row)
    }

    /// The units (ids) a person (lowercased address) attended a live date of.
    pub fn attended_units(&self, email: &str) -> Result<Vec<String>> {
        self.query_map(
            "SELECT DISTINCT b.unit_id FROM attendance a JOIN bookings b ON b.id = a.booking_id
             WHERE lower(b.email) = ?1 AND a.status = 'teilgenommen' ORDER BY b.unit_id",
            params![email],
            |r| r.get(0),
        )
    }

    pub fn booking_attendance(&self, id: i64) -> Result<Option<Attendance>> {
        let s: Option<String> = self
            .query_row(
                "SELECT status FROM attendance WHERE booking_id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()?;
        Ok(s.and_then(|s| Attendance::parse(&s).ok()))
    }
}

impl Store {
    /// The bookings of one live date with their attendance, in booking order.
    pub fn attendance_of_date(&self, unit_id: &str, date: &str) -> Result<Vec<AttendanceRow>> {
        let cols: String = COLUMNS
            .split(',')
            .map(|c| format!("b.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let n = COLUMNS.split(',').count();
        self.read(|tx| {
            tx.query_map(
                &format!(
                    "SELECT {cols}, a.status, a.recorded_by, a.invited_at IS NOT NULL,
                            e.booking_id IS NOT NULL
                     FROM bookings b
                     LEFT JOIN attendance a ON a.booking_id = b.id
                     LEFT JOIN evaluations_done e ON e.booking_id = b.id
                     WHERE b.unit_id = ?1 AND b.live_date = ?2 AND b.state = 'bestaetigt'
                     ORDER BY b.id"
                ),
                params![unit_id, date],
                |r| {
                    let status: Option<String> = r.get(n)?;
                    Ok(AttendanceRow {
                        booking: booking_row(r)?,
                        status: status.and_then(|s| Attendance::parse(&s).ok()),
                        recorded_by: r.get(n + 1)?,
                        invited: r.get(n + 2)?,
                        evaluated: r.get(n + 3)?,
                    })
                },
            )
        })
    }

    /// Attended bookings whose evaluation link has not gone out yet, with
    /// a live date on or before `last_date` ('YYYY-MM-DD').
    pub fn evaluation_invites_due(&self, last_date: &str) -> Result<Vec<BookingRow>> {
        let cols: String = COLUMNS
            .split(',')
            .map(|c| format!("b.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        self.read(|tx| {
            tx.query_map(
                &format!(
                    "SELECT {cols} FROM bookings b JOIN attendance a ON a.booking_id = b.id
                     WHERE a.status = 'teilgenommen' AND a.invited_at IS NULL AND b.live_date <= ?1
                     ORDER BY b.id"
                ),
                params![last_date],
                booking_row,
            )
        })
    }

    pub fn attendance_status(&self, id: i64) -> Result<(Option<Attendance>, bool)> {
        self.read(|tx| {
            let status: Option<String> = tx
                .query_row(
                    "SELECT status FROM attendance WHERE booking_id = ?1",
                    params![id],
                    |r| r.get(0),
                )
                .optional()?;
            let evaluated: bool = tx.query_row(
                "SELECT count(*) > 0 FROM evaluations_done WHERE booking_id = ?1",
                params![id],
                |r| r.get(0),
            )?;
            Ok((status.and_then(|s| Attendance::parse(&s).ok()), evaluated))
        })
    }

    /// The evaluations of one live date.
    pub fn evaluations(&self, unit_id: &str, date: &str) -> Result<Vec<StoredEvaluation>> {
        self.read(|tx| {
            tx.query_map(
                "SELECT answers, share_text FROM evaluation_answers
                 WHERE unit_id = ?1 AND live_date = ?2 ORDER BY id",
                params![unit_id, date],
                |r| {
                    let text: String = r.get(0)?;
                    Ok(StoredEvaluation {
                        answers: serde_json::from_str(&text).unwrap_or_default(),
                        share_text: r.get(1)?,
                    })
                },
            )
        })
    }

    pub fn certificate(&self, number: &str) -> Result<Option<CertificateRow>> {
        self.read(|tx| {
            tx.query_row(
                &format!("SELECT {CERT_COLUMNS} FROM certificates WHERE number = ?1"),
                params![number],
                certificate_row,
            )
            .optional()
        })
    }

    /// The certificates of a person (lowercased address): units and courses.
    pub fn certificates_of(&self, email: &str) -> Result<Vec<CertificateRow>> {
        self.read(|tx| {
            tx.query_map(
                &format!(
                    "SELECT {CERT_COLUMNS} FROM certificates WHERE lower(email) = ?1
                     ORDER BY issued_at, number"
                ),
                params![email],
                certificate_row,
            )
        })
    }

    /// The attendance history of a booking: (at, actor, status, source).
    pub fn attendance_events(&self, id: i64) -> Result<Vec<(i64, String, String, String)>> {
        self.read(|tx| {
            tx.query_map(
                "SELECT at, actor, status, source FROM attendance_events WHERE booking_id = ?1 ORDER BY id",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
        })
    }
}
