//! The outbox: mails stored with the writes that caused them, claimed by
//! the delivery workers with a lease, marked sent or failed.

use super::{params, Engine, Result, Row, Store, Tx};
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
    /// Claims the next due message for `worker` with a lease (see
    /// [`Store::claim_due`]).
    pub fn claim_next(
        &self,
        worker: &str,
        now: i64,
        lease: Duration,
    ) -> Result<Option<ClaimedMail>> {
        Ok(self.claim_due(worker, now, lease, 1)?.pop())
    }

    /// Claims up to `max` due messages for `worker` with one lease, earliest
    /// due first: queued and retry rows that are due, and `sending` rows
    /// whose lease ran out (a worker died). The lease must outlast the
    /// delivery of all of them.
    pub fn claim_due(
        &self,
        worker: &str,
        now: i64,
        lease: Duration,
        max: usize,
    ) -> Result<Vec<ClaimedMail>> {
        let lease_until = now + lease.as_secs() as i64;
        let max = max.max(1) as i64;
        if self.engine() == Engine::Postgres {
            // Several nodes claim at once: a row another worker is claiming
            // right now is skipped, not waited for; a row it claimed
            // meanwhile no longer matches when re-checked under the lock.
            // As on SQLite, one index-ordered probe per state: one query
            // with OR sorted the whole backlog (mail texts included) on
            // every claim, 100 ms with 20,000 mails queued. Pick and lease
            // are one statement, committed on its own: one round trip.
            let mut mails = self.write_single(|tx| {
                tx.query_map(
                    "WITH queued AS (SELECT id, next_attempt_at FROM outbox
                            WHERE state = 'queued' AND next_attempt_at <= ?1
                            ORDER BY next_attempt_at, id LIMIT ?4 FOR UPDATE SKIP LOCKED),
                          retry AS (SELECT id, next_attempt_at FROM outbox
                            WHERE state = 'retry' AND next_attempt_at <= ?1
                            ORDER BY next_attempt_at, id LIMIT ?4 FOR UPDATE SKIP LOCKED),
                          lapsed AS (SELECT id, next_attempt_at FROM outbox
                            WHERE state = 'sending' AND lease_until < ?1
                            ORDER BY next_attempt_at, id LIMIT ?4 FOR UPDATE SKIP LOCKED),
                          pick AS (SELECT id, next_attempt_at FROM (SELECT * FROM queued UNION ALL
                                                   SELECT * FROM retry UNION ALL SELECT * FROM lapsed) due
                                   ORDER BY next_attempt_at, id LIMIT ?4)
                     UPDATE outbox o SET state = 'sending', claimed_by = ?2, lease_until = ?3,
                                         attempts = o.attempts + 1
                     FROM pick WHERE o.id = pick.id
                     RETURNING o.id, o.message_id, o.envelope_from, o.recipient, o.raw, o.attempts,
                               pick.next_attempt_at",
                    params![now, worker, lease_until, max],
                    |r| Ok((r.get::<i64>(6)?, claimed(r)?)),
                )
            })?;
            // RETURNING comes in no particular order.
            mails.sort_by_key(|(due, mail)| (*due, mail.id));
            return Ok(mails.into_iter().map(|(_, mail)| mail).collect());
        }
        self.write(|tx| {
            // One index-ordered probe per state (outbox_due_in_order), so a
            // backlog of thousands of queued mails is not sorted on every
            // claim while the write lock is held.
            let rows = tx.query_map(
                "SELECT id, message_id, envelope_from, recipient, raw, attempts FROM outbox
                 WHERE id IN (SELECT id FROM (
                    SELECT * FROM (SELECT id, next_attempt_at FROM outbox
                        WHERE state = 'queued' AND next_attempt_at <= ?1
                        ORDER BY next_attempt_at, id LIMIT ?2)
                    UNION ALL
                    SELECT * FROM (SELECT id, next_attempt_at FROM outbox
                        WHERE state = 'retry' AND next_attempt_at <= ?1
                        ORDER BY next_attempt_at, id LIMIT ?2)
                    UNION ALL
                    SELECT * FROM (SELECT id, next_attempt_at FROM outbox
                        WHERE state = 'sending' AND lease_until < ?1
                        ORDER BY next_attempt_at, id LIMIT ?2)
                 ) ORDER BY next_attempt_at, id LIMIT ?2)
                 ORDER BY next_attempt_at, id",
                params![now, max],
                claimed,
            )?;
            let mut mails = Vec::with_capacity(rows.len());
            for mut mail in rows {
                let taken = tx.execute(
                    "UPDATE outbox SET state = 'sending', claimed_by = ?2, lease_until = ?3,
                            attempts = attempts + 1
                     WHERE id = ?1 AND (state IN ('queued', 'retry') OR lease_until < ?4)",
                    params![mail.id, worker, lease_until, now],
                )?;
                if taken == 1 {
                    mail.attempts += 1;
                    mails.push(mail);
                }
            }
            Ok(mails)
        })
    }

    /// Marks a claimed message sent; false if the claim was lost meanwhile.
    pub fn mark_sent(&self, id: i64, worker: &str, now: i64) -> Result<bool> {
        Ok(self.mark_sent_all(&[id], worker, now)? == [id])
    }

    /// Marks the claimed messages `ids` sent in one statement (one commit
    /// for a whole claim instead of one each); the ids whose claim still
    /// held, in the order given.
    pub fn mark_sent_all(&self, ids: &[i64], worker: &str, now: i64) -> Result<Vec<i64>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let listed = (3..3 + ids.len())
            .map(|n| format!("?{n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE outbox SET state = 'sent', sent_at = ?2, lease_until = NULL, last_error = NULL
             WHERE claimed_by = ?1 AND state = 'sending' AND id IN ({listed})
             RETURNING id"
        );
        let mut values: Vec<&dyn super::ToValue> = vec![&worker, &now];
        values.extend(ids.iter().map(|id| id as &dyn super::ToValue));
        let marked = self.write_single(|tx| tx.query_map(&sql, &values, |r| r.get::<i64>(0)))?;
        Ok(ids
            .iter()
            .copied()
            .filter(|id| marked.contains(id))
            .collect())
    }

    /// Records a failed attempt: `retry` at `next_at`, or `failed` for good.
    pub fn mark_attempt_failed(
        &self,
        id: i64,
        worker: &str,
        error: &str,
        next_at: Option<i64>,
    ) -> Result<bool> {
        self.write_single(|tx| {
            let (state, next) = match next_at {
                Some(t) => ("retry", t),
                None => ("failed", 0),
            };
            Ok(tx.execute(
                "UPDATE outbox SET state = ?3, next_attempt_at = CASE WHEN ?3 = 'retry' THEN ?4 ELSE next_attempt_at END,
                        lease_until = NULL, last_error = ?5
                 WHERE id = ?1 AND claimed_by = ?2 AND state = 'sending'",
                params![id, worker, state, next, error],
            )? == 1)
        })
    }

    pub fn outbox(&self) -> Result<Vec<OutboxRow>> {
        self.read(|tx| {
            tx.query_map(
                "SELECT id, message_id, kind, recipient, state, attempts FROM outbox ORDER BY id",
                params![],
                |r| {
                    Ok(OutboxRow {
                        id: r.get(0)?,
                        message_id: r.get(1)?,
                        kind: r.get(2)?,
                        recipient: r.get(3)?,
                        state: r.get(4)?,
                        attempts: r.get(5)?,
                    })
                },
            )
        })
    }

    /// The stored bytes of one outbox message.
    pub fn raw_message(&self, id: i64) -> Result<Vec<u8>> {
        self.read(|tx| {
            tx.query_row("SELECT raw FROM outbox WHERE id = ?1", params![id], |r| {
                r.get(0)
            })
        })
    }
}

fn claimed(r: &Row) -> Result<ClaimedMail> {
    Ok(ClaimedMail {
        id: r.get(0)?,
        message_id: r.get(1)?,
        envelope_from: r.get(2)?,
        recipient: r.get(3)?,
        raw: r.get(4)?,
        attempts: r.get(5)?,
    })
}

impl Tx<'_> {
    pub fn enqueue(&self, mail: &OutgoingMail, now: i64) -> Result<()> {
        // Nothing reads the new row's id: its answer can wait.
        self.execute_pipelined(
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
        )
    }

    /// Messages queued for `recipient` since `since` (per-recipient limit).
    ///
    /// Locks the address until the transaction ends, so two nodes queueing
    /// for it at once count each other's mails.
    pub fn mails_to_since(&self, recipient: &str, since: i64) -> Result<u32> {
        self.lock(&format!("mail:{recipient}"))?;
        self.query_row(
            "SELECT count(*) FROM outbox WHERE recipient = ?1 AND created_at >= ?2",
            params![recipient, since],
            |r| r.get(0),
        )
    }
}
