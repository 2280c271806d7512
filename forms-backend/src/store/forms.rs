//! Form submissions, consents (the proof of each), one-time tokens and
//! newsletter subscribers; the retention purge and the export.

use super::{params, OptionalExtension, Result, Store, Tx};
use crate::sign::Purpose;
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct NewSubmission<'a> {
    pub form: &'a str,
    pub payload: &'a Value,
    pub email: Option<&'a str>,
    pub status: &'a str,
    pub ip_hash: &'a str,
    pub now: i64,
}

#[derive(Debug, Clone)]
pub struct NewConsent<'a> {
    pub submission_id: Option<i64>,
    pub email: &'a str,
    pub purpose: &'a str,
    pub text_version: &'a str,
    pub ip_hash: &'a str,
    pub now: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub purpose: Purpose,
    pub consent_id: Option<i64>,
    pub submission_id: Option<i64>,
    pub booking_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRow {
    pub email: String,
    pub purpose: String,
}

/// Proof of one consent (DSGVO Art. 7 (1)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRecord {
    pub purpose: String,
    pub text_version: String,
    pub given_at: i64,
    pub given_ip_hash: String,
    pub confirmed_at: Option<i64>,
    pub confirm_ip_hash: Option<String>,
    pub confirm_user_agent: Option<String>,
    pub withdrawn_at: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeReport {
    pub submissions: usize,
    pub unconfirmed: usize,
    pub subscribers: usize,
    pub consents: usize,
    pub tokens: usize,
    pub mails: usize,
    /// Bookings, their history, booking consents and office sessions
    /// (see `Store::purge_journey`).
    pub journey: super::JourneyPurge,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExportRow {
    pub id: i64,
    pub created_at: i64,
    pub status: String,
    pub payload: Value,
}

impl Store {
    /// The consents recorded for an address, oldest first.
    pub fn consents(&self, email: &str) -> Result<Vec<ConsentRecord>> {
        self.read(|tx| {
            tx.query_map(
                "SELECT purpose, text_version, given_at, given_ip_hash, confirmed_at, confirm_ip_hash,
                    confirm_user_agent, withdrawn_at FROM consents WHERE email = ?1 ORDER BY id",
                params![email],
                |r| {
                    Ok(ConsentRecord {
                        purpose: r.get(0)?,
                        text_version: r.get(1)?,
                        given_at: r.get(2)?,
                        given_ip_hash: r.get(3)?,
                        confirmed_at: r.get(4)?,
                        confirm_ip_hash: r.get(5)?,
                        confirm_user_agent: r.get(6)?,
                        withdrawn_at: r.get(7)?,
                    })
                },
            )
        })
    }

    /// Deletes what is past its retention: submissions per form
    /// (`retention_days(form)`), unconfirmed sign-ups older than
    /// `unconfirmed_before`, withdrawn consents, used or expired tokens and
    /// sent or failed mails older than `mail_days`.
    pub fn purge(
        &self,
        now: i64,
        retention_days: &dyn Fn(&str) -> u32,
        unconfirmed_before: i64,
        mail_days: u32,
    ) -> Result<PurgeReport> {
        self.write(|tx| {
            let t = tx;
            let mut report = PurgeReport::default();
            let forms: Vec<String> =
                t.query_map("SELECT DISTINCT form FROM submissions", params![], |r| r.get(0))?;
            for form in forms {
                let before = now - 86_400 * i64::from(retention_days(&form));
                // A subscription that is still active keeps its sign-up and
                // consent (the proof) until it ends.
                report.submissions += t.execute(
                    "DELETE FROM submissions WHERE form = ?1 AND created_at < ?2
                       AND NOT (form = 'newsletter' AND email IN
                           (SELECT email FROM newsletter_subscribers WHERE status = 'aktiv'))",
                    params![form, before],
                )?;
            }
            report.unconfirmed += t.execute(
                "DELETE FROM submissions WHERE status = 'unbestaetigt' AND created_at < ?1",
                params![unconfirmed_before],
            )?;
            // Booking requests nobody confirmed by mail (their history goes with them).
            report.unconfirmed += t.execute(
                "DELETE FROM bookings WHERE state = ?2 AND created_at < ?1",
                params![unconfirmed_before, crate::booking::BookingState::Unconfirmed],
            )?;
            report.subscribers += t.execute(
                "DELETE FROM newsletter_subscribers WHERE status = 'unbestaetigt' AND created_at < ?1",
                params![unconfirmed_before],
            )?;
            let newsletter_before = now - 86_400 * i64::from(retention_days("newsletter"));
            report.consents += t.execute(
                "DELETE FROM consents WHERE (confirmed_at IS NULL AND given_at < ?1)
                    OR (withdrawn_at IS NOT NULL AND withdrawn_at < ?2)",
                params![unconfirmed_before, newsletter_before],
            )?;
            report.tokens += t.execute(
                "DELETE FROM action_tokens WHERE expires_at < ?1 OR used_at IS NOT NULL",
                params![now],
            )?;
            report.mails += t.execute(
                "DELETE FROM outbox WHERE state IN ('sent', 'failed') AND created_at < ?1",
                params![now - 86_400 * i64::from(mail_days)],
            )?;
            Ok(report)
        })
    }

    pub fn export(&self, form: &str) -> Result<Vec<ExportRow>> {
        self.read(|tx| {
            tx.query_map(
                "SELECT id, created_at, status, payload FROM submissions WHERE form = ?1
                 ORDER BY created_at, id",
                params![form],
                |r| {
                    let payload: String = r.get(3)?;
                    Ok(ExportRow {
                        id: r.get(0)?,
                        created_at: r.get(1)?,
                        status: r.get(2)?,
                        payload: serde_json::from_str(&payload).unwrap_or(Value::Null),
                    })
                },
            )
        })
    }
}

impl Tx<'_> {
    pub fn insert_submission(&self, s: &NewSubmission) -> Result<i64> {
        // On PostgreSQL the id comes from the connection's reserved block,
        // so the insert need not wait for its answer; on SQLite a NULL id
        // is the next row id, read back.
        let reserved = self.reserved_id("submissions")?;
        let sql = "INSERT INTO submissions (id, form, payload, email, status, ip_hash, created_at)
                   VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id";
        let payload = s.payload.to_string();
        let params = params![reserved, s.form, payload, s.email, s.status, s.ip_hash, s.now];
        match reserved {
            Some(id) => self.execute_pipelined(sql, params).map(|()| id),
            None => self.query_row(sql, params, |r| r.get(0)),
        }
    }

    pub fn insert_consent(&self, c: &NewConsent) -> Result<i64> {
        self.query_row(
            "INSERT INTO consents (submission_id, email, purpose, text_version, given_at, given_ip_hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
            params![c.submission_id, c.email, c.purpose, c.text_version, c.now, c.ip_hash],
            |r| r.get(0),
        )
    }

    /// A consent given and confirmed with the same request (a contact
    /// post: no double opt-in), in one statement whose answer can wait.
    pub fn insert_confirmed_consent(&self, c: &NewConsent, user_agent: &str) -> Result<()> {
        self.execute_pipelined(
            "INSERT INTO consents (submission_id, email, purpose, text_version, given_at, given_ip_hash,
                                   confirmed_at, confirm_ip_hash, confirm_user_agent)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?5, ?6, ?7)",
            params![c.submission_id, c.email, c.purpose, c.text_version, c.now, c.ip_hash, user_agent],
        )
    }

    pub fn insert_token(
        &self,
        hash: &str,
        purpose: Purpose,
        consent_id: Option<i64>,
        submission_id: Option<i64>,
        now: i64,
        expires_at: i64,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO action_tokens (token_hash, purpose, consent_id, submission_id, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![hash, purpose, consent_id, submission_id, now, expires_at],
        )?;
        Ok(())
    }

    /// A valid (unused, unexpired) token, without using it.
    pub fn find_token(&self, hash: &str, now: i64) -> Result<Option<TokenRow>> {
        self.query_row(
            "SELECT purpose, consent_id, submission_id, booking_id FROM action_tokens
                 WHERE token_hash = ?1 AND used_at IS NULL AND expires_at >= ?2",
            params![hash, now],
            |r| {
                Ok(TokenRow {
                    purpose: r.get(0)?,
                    consent_id: r.get(1)?,
                    submission_id: r.get(2)?,
                    booking_id: r.get(3)?,
                })
            },
        )
        .optional()
    }

    /// Uses a valid token once; `None` if it is unknown, used or expired.
    pub fn use_token(&self, hash: &str, now: i64) -> Result<Option<TokenRow>> {
        let row = self.find_token(hash, now)?;
        if row.is_some() {
            self.execute(
                "UPDATE action_tokens SET used_at = ?2 WHERE token_hash = ?1",
                params![hash, now],
            )?;
        }
        Ok(row)
    }

    pub fn has_confirmed(&self, form: &str, email: &str) -> Result<bool> {
        Ok(self
            .query_row(
                "SELECT 1 FROM submissions WHERE form = ?1 AND email = ?2 AND status = 'bestaetigt' LIMIT 1",
                params![form, email],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    pub fn subscriber_status(&self, email: &str) -> Result<Option<String>> {
        self.query_row(
            "SELECT status FROM newsletter_subscribers WHERE email = ?1",
            params![email],
            |r| r.get(0),
        )
        .optional()
    }

    pub fn upsert_pending_subscriber(
        &self,
        email: &str,
        name: &str,
        consent_id: i64,
        now: i64,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO newsletter_subscribers (email, name, status, consent_id, created_at)
             VALUES (?1, ?2, 'unbestaetigt', ?3, ?4)
             ON CONFLICT (email) DO UPDATE SET name = excluded.name, consent_id = excluded.consent_id,
                 created_at = excluded.created_at
             WHERE newsletter_subscribers.status = 'unbestaetigt'",
            params![email, name, consent_id, now],
        )?;
        Ok(())
    }

    /// Records the confirmation of a consent with the confirming request.
    pub fn confirm_consent(
        &self,
        consent_id: i64,
        now: i64,
        ip_hash: &str,
        user_agent: &str,
    ) -> Result<Option<ConsentRow>> {
        self.execute(
            "UPDATE consents SET confirmed_at = ?2, confirm_ip_hash = ?3, confirm_user_agent = ?4
             WHERE id = ?1 AND confirmed_at IS NULL",
            params![consent_id, now, ip_hash, user_agent],
        )?;
        self.query_row(
            "SELECT email, purpose FROM consents WHERE id = ?1",
            params![consent_id],
            |r| {
                Ok(ConsentRow {
                    email: r.get(0)?,
                    purpose: r.get(1)?,
                })
            },
        )
        .optional()
    }

    pub fn confirm_submission(&self, id: i64, now: i64) -> Result<()> {
        self.execute(
            "UPDATE submissions SET status = 'bestaetigt', confirmed_at = ?2 WHERE id = ?1",
            params![id, now],
        )?;
        Ok(())
    }

    pub fn activate_subscriber(&self, email: &str, now: i64) -> Result<()> {
        self.execute(
            "UPDATE newsletter_subscribers SET status = 'aktiv', confirmed_at = ?2 WHERE email = ?1",
            params![email, now],
        )?;
        Ok(())
    }

    /// Removes a subscriber and marks the newsletter consent withdrawn.
    pub fn unsubscribe(&self, email: &str, now: i64) -> Result<bool> {
        let removed = self.execute(
            "DELETE FROM newsletter_subscribers WHERE email = ?1",
            params![email],
        )?;
        self.execute(
            "UPDATE consents SET withdrawn_at = ?2 WHERE email = ?1 AND purpose = 'newsletter' AND withdrawn_at IS NULL",
            params![email, now],
        )?;
        Ok(removed > 0)
    }
}
