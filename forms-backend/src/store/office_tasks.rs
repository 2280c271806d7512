//! SQL of the office's daily tasks in `/verwaltung/`: contact requests with
//! their "erledigt" marker, failed mails and their retry, and a log of the
//! office's actions that are not booking moves (those are in
//! `booking_events`).

use super::{params, Result, Store, Tx};
use serde_json::Value;

pub(super) const MIGRATION: &str = "
    CREATE TABLE contact_done (
        submission_id INTEGER PRIMARY KEY REFERENCES submissions (id) ON DELETE CASCADE,
        done_by TEXT NOT NULL,
        done_at INTEGER NOT NULL
    );
    CREATE TABLE office_actions (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL
    );
";

/// A submission of the contact form (an info-call request with three
/// proposed dates) and whether the office has marked it done.
#[derive(Debug, Clone)]
pub struct ContactRequest {
    pub id: i64,
    pub created_at: i64,
    pub payload: Value,
    /// Who marked it done and when.
    pub done: Option<(String, i64)>,
}

/// A mail the worker gave up on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedMail {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub attempts: u32,
    pub last_error: String,
    pub created_at: i64,
}

/// One line of the office's action log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeAction {
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub subject: String,
}

impl Store {
    /// Contact requests, newest first.
    pub fn contact_requests(&self) -> Result<Vec<ContactRequest>> {
        self.read(|tx| {
            tx.query_map(
                "SELECT s.id, s.created_at, s.payload, d.done_by, d.done_at
             FROM submissions s LEFT JOIN contact_done d ON d.submission_id = s.id
             WHERE s.form = 'kontakt' ORDER BY s.created_at DESC, s.id DESC",
                params![],
                |r| {
                    let payload: String = r.get(2)?;
                    let by: Option<String> = r.get(3)?;
                    let at: Option<i64> = r.get(4)?;
                    Ok(ContactRequest {
                        id: r.get(0)?,
                        created_at: r.get(1)?,
                        payload: serde_json::from_str(&payload).unwrap_or(Value::Null),
                        done: by.zip(at),
                    })
                },
            )
        })
    }

    /// Mails in state `failed` with the last error, oldest first.
    pub fn failed_mails(&self) -> Result<Vec<FailedMail>> {
        self.read(|tx| {
            tx.query_map(
                "SELECT id, kind, recipient, attempts, COALESCE(last_error, ''), created_at
             FROM outbox WHERE state = 'failed' ORDER BY id",
                params![],
                |r| {
                    Ok(FailedMail {
                        id: r.get(0)?,
                        kind: r.get(1)?,
                        recipient: r.get(2)?,
                        attempts: r.get(3)?,
                        last_error: r.get(4)?,
                        created_at: r.get(5)?,
                    })
                },
            )
        })
    }

    /// The action log, oldest first.
    pub fn office_actions(&self) -> Result<Vec<OfficeAction>> {
        self.read(|tx| {
            tx.query_map(
                "SELECT at, actor, action, subject FROM office_actions ORDER BY id",
                params![],
                |r| {
                    Ok(OfficeAction {
                        at: r.get(0)?,
                        actor: r.get(1)?,
                        action: r.get(2)?,
                        subject: r.get(3)?,
                    })
                },
            )
        })
    }
}

impl Tx<'_> {
    /// Marks contact request `id` done; false when it is no contact request
    /// or was already marked.
    pub fn mark_contact_done(&self, id: i64, actor: &str, now: i64) -> Result<bool> {
        Ok(self.execute(
            "INSERT INTO contact_done (submission_id, done_by, done_at)
             SELECT id, ?2, ?3 FROM submissions WHERE id = ?1 AND form = 'kontakt'
             ON CONFLICT (submission_id) DO NOTHING",
            params![id, actor, now],
        )? == 1)
    }

    /// Puts failed mail `id` back in the queue for one more attempt now;
    /// false when it is not (or no longer) failed.
    pub fn retry_failed_mail(&self, id: i64, now: i64) -> Result<bool> {
        Ok(self.execute(
            "UPDATE outbox SET state = 'retry', next_attempt_at = ?2
             WHERE id = ?1 AND state = 'failed'",
            params![id, now],
        )? == 1)
    }

    pub fn record_office_action(
        &self,
        actor: &str,
        action: &str,
        subject: &str,
        now: i64,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO office_actions (at, actor, action, subject) VALUES (?1, ?2, ?3, ?4)",
            params![now, actor, action, subject],
        )?;
        Ok(())
    }
}
