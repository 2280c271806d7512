//! SQL of membership applications (issue 17): an application enters when
//! its contact person confirmed the address (double opt-in through the
//! form's submission) and is moved by the office, each step a conditional
//! update with its event (who, when, from, to).
//!
//! The application keeps its own copy of the form's values: the submission
//! behind the opt-in is purged after the form's retention period, the
//! application (a membership record) is not.

use super::{params, OptionalExtension, Result, Row, Store, Tx};
use crate::membership::ApplicationState;
use serde_json::Value;

pub(super) const MIGRATION: &str = "
    CREATE TABLE membership_applications (
        id INTEGER PRIMARY KEY,
        submission_id INTEGER UNIQUE REFERENCES submissions (id) ON DELETE SET NULL,
        payload TEXT NOT NULL,
        state TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE membership_events (
        id INTEGER PRIMARY KEY,
        application_id INTEGER NOT NULL REFERENCES membership_applications (id) ON DELETE CASCADE,
        at INTEGER NOT NULL,
        from_state TEXT NOT NULL,
        to_state TEXT NOT NULL,
        actor TEXT NOT NULL
    );
    CREATE INDEX membership_events_application ON membership_events (application_id);
";

/// One stored membership application.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplicationRow {
    pub id: i64,
    /// The form's values (see `membership::Application`).
    pub payload: Value,
    pub state: ApplicationState,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One step of an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationEvent {
    pub at: i64,
    pub from: ApplicationState,
    pub to: ApplicationState,
    pub actor: String,
}

const SELECT: &str =
    "SELECT id, payload, state, created_at, updated_at FROM membership_applications";

fn application(r: &Row) -> Result<ApplicationRow> {
    let payload: String = r.get(1)?;
    Ok(ApplicationRow {
        id: r.get(0)?,
        payload: serde_json::from_str(&payload).unwrap_or(Value::Null),
        state: r.get(2)?,
        created_at: r.get(3)?,
        updated_at: r.get(4)?,
    })
}

impl Store {
    /// All applications, newest first.
    pub fn membership_applications(&self) -> Result<Vec<ApplicationRow>> {
        self.read(|tx| {
            tx.query_map(
                &format!("{SELECT} ORDER BY id DESC"),
                params![],
                application,
            )
        })
    }

    pub fn membership_application(&self, id: i64) -> Result<Option<ApplicationRow>> {
        self.read(|tx| tx.membership_application(id))
    }

    /// The steps of application `id`, oldest first.
    pub fn membership_events(&self, id: i64) -> Result<Vec<ApplicationEvent>> {
        self.read(|tx| {
            tx.query_map(
                "SELECT at, from_state, to_state, actor FROM membership_events
                 WHERE application_id = ?1 ORDER BY id",
                params![id],
                |r| {
                    Ok(ApplicationEvent {
                        at: r.get(0)?,
                        from: r.get(1)?,
                        to: r.get(2)?,
                        actor: r.get(3)?,
                    })
                },
            )
        })
    }
}

impl Tx<'_> {
    /// The payload of submission `id` (the form's values), if it is still there.
    pub fn submission_payload(&self, id: i64) -> Result<Option<Value>> {
        let text: Option<String> = self
            .query_row(
                "SELECT payload FROM submissions WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    pub fn membership_application(&self, id: i64) -> Result<Option<ApplicationRow>> {
        self.query_row(&format!("{SELECT} WHERE id = ?1"), params![id], application)
            .optional()
    }

    /// Stores the application behind confirmed submission `submission_id`;
    /// `None` when it was stored before (the id of a new one otherwise).
    pub fn insert_membership_application(
        &self,
        submission_id: i64,
        payload: &Value,
        now: i64,
    ) -> Result<Option<i64>> {
        self.query_row(
            "INSERT INTO membership_applications (submission_id, payload, state, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?4)
             ON CONFLICT (submission_id) DO NOTHING RETURNING id",
            params![
                submission_id,
                payload.to_string(),
                ApplicationState::Received,
                now
            ],
            |r| r.get(0),
        )
        .optional()
    }

    /// Moves application `id` from `from` to `to` and records the step;
    /// false (and nothing written) when it is not in state `from`.
    pub fn move_membership_application(
        &self,
        id: i64,
        from: ApplicationState,
        to: ApplicationState,
        actor: &str,
        now: i64,
    ) -> Result<bool> {
        let changed = self.execute(
            "UPDATE membership_applications SET state = ?3, updated_at = ?4
             WHERE id = ?1 AND state = ?2",
            params![id, from, to, now],
        )? == 1;
        if changed {
            self.execute(
                "INSERT INTO membership_events (application_id, at, from_state, to_state, actor)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, now, from, to, actor],
            )?;
        }
        Ok(changed)
    }
}
