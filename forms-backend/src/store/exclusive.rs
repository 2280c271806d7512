//! SQL of exclusive courses: an authority's request for a whole course for
//! its own staff, the office's answer (dates for that authority only, or a
//! refusal) as a conditional update on the request's state, and the dates.

use super::{params, OptionalExtension, Result, Row, Store, Tx};

pub(super) const MIGRATION: &str = "
    CREATE TABLE exclusive_requests (
        id INTEGER PRIMARY KEY,
        course_id TEXT NOT NULL,
        course_title TEXT NOT NULL,
        authority_id TEXT NOT NULL,
        name TEXT NOT NULL,
        email TEXT NOT NULL,
        group_size INTEGER NOT NULL,
        period TEXT NOT NULL,
        remarks TEXT NOT NULL,
        -- the whole course, gross (data/exklusivkurse.yaml; non-members with the surcharge)
        price_cents INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('eingegangen', 'terminiert', 'abgelehnt')),
        answer TEXT NOT NULL DEFAULT '',
        answered_by TEXT,
        answered_at INTEGER,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX exclusive_requests_authority ON exclusive_requests (authority_id, state);

    -- The dates the office set: one per hybrid unit, for that authority only.
    CREATE TABLE exclusive_dates (
        request_id INTEGER NOT NULL REFERENCES exclusive_requests (id) ON DELETE CASCADE,
        unit_id TEXT NOT NULL,
        unit_title TEXT NOT NULL,
        date TEXT NOT NULL,
        PRIMARY KEY (request_id, unit_id)
    );
";

pub use state::ExclusiveState;

/// In a module of its own: the enum macro needs the standard `Result`.
mod state {
    crate::stored::stored_enum! {
        /// Where an exclusive course request stands (`exclusive_requests.state`).
        pub enum ExclusiveState ("einen Status einer Exklusivkurs-Anfrage") {
            Received = "eingegangen",
            /// The office answered with dates: the course is agreed (and billed).
            Scheduled = "terminiert",
            Declined = "abgelehnt",
        }
    }

    impl ExclusiveState {
        pub fn label(self) -> &'static str {
            match self {
                ExclusiveState::Received => "eingegangen",
                ExclusiveState::Scheduled => "Termine vereinbart",
                ExclusiveState::Declined => "abgelehnt",
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewExclusiveRequest<'a> {
    pub course_id: &'a str,
    pub course_title: &'a str,
    pub authority_id: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub group_size: u32,
    pub period: &'a str,
    pub remarks: &'a str,
    pub price_cents: i64,
    pub now: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExclusiveRequest {
    pub id: i64,
    pub course_id: String,
    pub course_title: String,
    pub authority_id: String,
    pub name: String,
    pub email: String,
    pub group_size: i64,
    pub period: String,
    pub remarks: String,
    pub price_cents: i64,
    pub state: ExclusiveState,
    pub answer: String,
    pub answered_by: Option<String>,
    pub answered_at: Option<i64>,
    pub created_at: i64,
}

/// A date the office set for an exclusive course.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExclusiveDate {
    pub unit_id: String,
    pub unit_title: String,
    pub date: String,
}

const COLUMNS: &str = "id, course_id, course_title, authority_id, name, email, group_size, period,
    remarks, price_cents, state, answer, answered_by, answered_at, created_at";

fn row(r: &Row) -> Result<ExclusiveRequest> {
    Ok(ExclusiveRequest {
        id: r.get(0)?,
        course_id: r.get(1)?,
        course_title: r.get(2)?,
        authority_id: r.get(3)?,
        name: r.get(4)?,
        email: r.get(5)?,
        group_size: r.get(6)?,
        period: r.get(7)?,
        remarks: r.get(8)?,
        price_cents: r.get(9)?,
        state: r.get(10)?,
        answer: r.get(11)?,
        answered_by: r.get(12)?,
        answered_at: r.get(13)?,
        created_at: r.get(14)?,
    })
}

impl Tx<'_> {
    pub fn insert_exclusive_request(&self, n: &NewExclusiveRequest) -> Result<ExclusiveRequest> {
        self.query_row(
            &format!(
                "INSERT INTO exclusive_requests (course_id, course_title, authority_id, name, email,
                    group_size, period, remarks, price_cents, state, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) RETURNING {COLUMNS}"
            ),
            params![
                n.course_id,
                n.course_title,
                n.authority_id,
                n.name,
                n.email,
                n.group_size,
                n.period,
                n.remarks,
                n.price_cents,
                ExclusiveState::Received,
                n.now
            ],
            row,
        )
    }

    pub fn exclusive_request(&self, id: i64) -> Result<Option<ExclusiveRequest>> {
        self.query_row(
            &format!("SELECT {COLUMNS} FROM exclusive_requests WHERE id = ?1"),
            params![id],
            row,
        )
        .optional()
    }

    /// Answers a request still `eingegangen` (conditional: of two office
    /// answers only the first changes it); false if it was answered before.
    pub fn answer_exclusive_request(
        &self,
        id: i64,
        to: ExclusiveState,
        answer: &str,
        by: &str,
        now: i64,
    ) -> Result<bool> {
        Ok(self.execute(
            "UPDATE exclusive_requests SET state = ?2, answer = ?3, answered_by = ?4, answered_at = ?5
             WHERE id = ?1 AND state = ?6",
            params![id, to, answer, by, now, ExclusiveState::Received],
        )? == 1)
    }

    pub fn insert_exclusive_date(
        &self,
        request_id: i64,
        unit_id: &str,
        unit_title: &str,
        date: &str,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO exclusive_dates (request_id, unit_id, unit_title, date) VALUES (?1, ?2, ?3, ?4)",
            params![request_id, unit_id, unit_title, date],
        )?;
        Ok(())
    }

    pub fn exclusive_dates(&self, request_id: i64) -> Result<Vec<ExclusiveDate>> {
        self.query_map(
            "SELECT unit_id, unit_title, date FROM exclusive_dates WHERE request_id = ?1 ORDER BY date, unit_id",
            params![request_id],
            |r| {
                Ok(ExclusiveDate {
                    unit_id: r.get(0)?,
                    unit_title: r.get(1)?,
                    date: r.get(2)?,
                })
            },
        )
    }

    /// Scheduled exclusive courses of an authority whose first date lies in
    /// `from..=to` and that no invoice line holds yet (`kurs-exklusiv:<id>`),
    /// with that first date.
    pub fn unbilled_exclusive_courses(
        &self,
        authority_id: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<(ExclusiveRequest, String)>> {
        let cols = COLUMNS
            .split(',')
            .map(|c| format!("r.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        self.query_map(
            &format!(
                "SELECT {cols}, (SELECT min(d.date) FROM exclusive_dates d WHERE d.request_id = r.id)
                 FROM exclusive_requests r
                 WHERE r.authority_id = ?1 AND r.state = ?4
                   AND (SELECT min(d.date) FROM exclusive_dates d WHERE d.request_id = r.id) BETWEEN ?2 AND ?3
                   AND NOT EXISTS (SELECT 1 FROM invoice_lines l
                       WHERE l.item_key = 'kurs-exklusiv:' || CAST(r.id AS TEXT))
                 ORDER BY r.id"
            ),
            params![authority_id, from, to, ExclusiveState::Scheduled],
            |r| Ok((row(r)?, r.get(15)?)),
        )
    }
}

impl Store {
    pub fn exclusive_requests(&self) -> Result<Vec<ExclusiveRequest>> {
        self.read(|tx| {
            tx.query_map(
                &format!("SELECT {COLUMNS} FROM exclusive_requests ORDER BY state, id DESC"),
                params![],
                row,
            )
        })
    }

    pub fn exclusive_request(
        &self,
        id: i64,
    ) -> Result<Option<(ExclusiveRequest, Vec<ExclusiveDate>)>> {
        self.read(|tx| match tx.exclusive_request(id)? {
            Some(r) => Ok(Some((r, tx.exclusive_dates(id)?))),
            None => Ok(None),
        })
    }
}
