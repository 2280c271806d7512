//! The outbox: mails stored with the writes that caused them, claimed by
//! the delivery workers with a lease, marked sent or failed.

use super::{Result, Store, Tx};
use rusqlite::{params, OptionalExtension};
use std::time::Duration;

/// A message ready to send: formatted once, stored with its Message-ID, so
/// every attempt sends the same bytes.
#[derive(Debug, Clone)]
pub struct OutgoingMail {
    pub message_id: String,
    pub kind: String,
    pub envelope_from: String,
    pub recipient: String,
    pub raw: Vec<u8>,
    pub submission_id: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct ClaimedMail {
    pub id: i64,
    pub message_id: String,
    pub envelope_from: String,
    pub recipient: String,
    pub raw: Vec<u8>,
    pub attempts: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    pub message_id: String,
    pub kind: String,
    pub recipient: String,
    pub state: String,
    pub attempts: u32,
}

impl Store {
    /// Claims the next due message for `worker` with a lease: queued and retry
    /// rows that are due, and `sending` rows whose lease ran out (a worker died).
    pub fn claim_next(
        &self,
        worker: &str,
        now: i64,
        lease: Duration,
    ) -> Result<Option<ClaimedMail>> {
        self.write(|tx| {
            let row = tx
                .tx
                .query_row(
                    // One index-ordered probe per state (outbox_due), so a
                    // backlog of thousands of queued mails is not sorted on
                    // every claim while the write lock is held.
                    "SELECT id, message_id, envelope_from, recipient, raw, attempts FROM outbox
                     WHERE id = (SELECT id FROM (
                        SELECT * FROM (SELECT id, next_attempt_at FROM outbox
                            WHERE state = 'queued' AND next_attempt_at <= ?1
                            ORDER BY next_attempt_at, id LIMIT 1)
                        UNION ALL
                        SELECT * FROM (SELECT id, next_attempt_at FROM outbox
                            WHERE state = 'retry' AND next_attempt_at <= ?1
                            ORDER BY next_attempt_at, id LIMIT 1)
                        UNION ALL
                        SELECT * FROM (SELECT id, next_attempt_at FROM outbox
                            WHERE state = 'sending' AND lease_until < ?1
                            ORDER BY next_attempt_at, id LIMIT 1)
                     ) ORDER BY next_attempt_at, id LIMIT 1)",
                    [now],
                    |r| {
                        Ok(ClaimedMail {
                            id: r.get(0)?,
                            message_id: r.get(1)?,
                            envelope_from: r.get(2)?,
                            recipient: r.get(3)?,
                            raw: r.get(4)?,
                            attempts: r.get(5)?,
                        })
                    },
                )
                .optional()?;
            let Some(mut mail) = row else { return Ok(None) };
            tx.tx.execute(
                "UPDATE outbox SET state = 'sending', claimed_by = ?2, lease_until = ?3,
                        attempts = attempts + 1 WHERE id = ?1",
                params![mail.id, worker, now + lease.as_secs() as i64],
            )?;
            mail.attempts += 1;
            Ok(Some(mail))
        })
    }

    /// Marks a claimed message sent; false if the claim was lost meanwhile.
    pub fn mark_sent(&self, id: i64, worker: &str, now: i64) -> Result<bool> {
        self.write(|tx| {
            Ok(tx.tx.execute(
                "UPDATE outbox SET state = 'sent', sent_at = ?3, lease_until = NULL, last_error = NULL
                 WHERE id = ?1 AND claimed_by = ?2 AND state = 'sending'",
                params![id, worker, now],
            )? == 1)
        })
    }

    /// Records a failed attempt: `retry` at `next_at`, or `failed` for good.
    pub fn mark_attempt_failed(
        &self,
        id: i64,
        worker: &str,
        error: &str,
        next_at: Option<i64>,
    ) -> Result<bool> {
        self.write(|tx| {
            let (state, next) = match next_at {
                Some(t) => ("retry", t),
                None => ("failed", 0),
            };
            Ok(tx.tx.execute(
                "UPDATE outbox SET state = ?3, next_attempt_at = CASE WHEN ?3 = 'retry' THEN ?4 ELSE next_attempt_at END,
                        lease_until = NULL, last_error = ?5
                 WHERE id = ?1 AND claimed_by = ?2 AND state = 'sending'",
                params![id, worker, state, next, error],
            )? == 1)
        })
    }

    pub fn outbox(&self) -> Result<Vec<OutboxRow>> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let mut stmt = conn.prepare(
            "SELECT id, message_id, kind, recipient, state, attempts FROM outbox ORDER BY id",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(OutboxRow {
                    id: r.get(0)?,
                    message_id: r.get(1)?,
                    kind: r.get(2)?,
                    recipient: r.get(3)?,
                    state: r.get(4)?,
                    attempts: r.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The stored bytes of one outbox message.
    pub fn raw_message(&self, id: i64) -> Result<Vec<u8>> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        Ok(conn.query_row("SELECT raw FROM outbox WHERE id = ?1", [id], |r| r.get(0))?)
    }
}

impl Tx<'_> {
    pub fn enqueue(&self, mail: &OutgoingMail, now: i64) -> Result<i64> {
        self.tx.execute(
            "INSERT INTO outbox (message_id, submission_id, kind, envelope_from, recipient, raw,
                                 next_attempt_at, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            params![
                mail.message_id,
                mail.submission_id,
                mail.kind,
                mail.envelope_from,
                mail.recipient,
                mail.raw,
                now
            ],
        )?;
        Ok(self.tx.last_insert_rowid())
    }

    /// Messages queued for `recipient` since `since` (per-recipient limit).
    pub fn mails_to_since(&self, recipient: &str, since: i64) -> Result<u32> {
        Ok(self.tx.query_row(
            "SELECT count(*) FROM outbox WHERE recipient = ?1 AND created_at >= ?2",
            params![recipient, since],
            |r| r.get(0),
        )?)
    }
}
