//! SQL of the back-office `/verwaltung/`: one-time login links and the
//! server-side sessions of logged-in staff. Only hashes of the link token
//! and of the session cookie are stored.

use super::{params, OptionalExtension, Result, Store, Tx};

pub(super) const MIGRATION: &str = "
    CREATE TABLE office_login_links (
        token_hash TEXT PRIMARY KEY,
        email TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER
    );
    CREATE TABLE office_sessions (
        id_hash TEXT PRIMARY KEY,
        email TEXT NOT NULL,
        csrf TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        ended_at INTEGER
    );
";

/// A stored session (see [`crate::verwaltung`] for its expiry rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeSession {
    pub email: String,
    /// The token every POST of this session must carry.
    pub csrf: String,
    pub created_at: i64,
    pub last_seen_at: i64,
}

impl Tx<'_> {
    pub fn insert_login_link(
        &self,
        token_hash: &str,
        email: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO office_login_links (token_hash, email, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![token_hash, email, now, expires_at],
        )?;
        Ok(())
    }

    /// Uses a valid login link once: its address, or `None` if the link is
    /// unknown, used or expired.
    pub fn use_login_link(&self, token_hash: &str, now: i64) -> Result<Option<String>> {
        self.query_row(
            "UPDATE office_login_links SET used_at = ?2
                 WHERE token_hash = ?1 AND used_at IS NULL AND expires_at >= ?2
                 RETURNING email",
            params![token_hash, now],
            |r| r.get(0),
        )
        .optional()
    }

    pub fn insert_office_session(
        &self,
        id_hash: &str,
        email: &str,
        csrf: &str,
        now: i64,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO office_sessions (id_hash, email, csrf, created_at, last_seen_at)
             VALUES (?1, ?2, ?3, ?4, ?4)",
            params![id_hash, email, csrf, now],
        )?;
        Ok(())
    }

    /// Records activity (for the idle expiry).
    pub fn touch_office_session(&self, id_hash: &str, now: i64) -> Result<()> {
        self.execute(
            "UPDATE office_sessions SET last_seen_at = ?2 WHERE id_hash = ?1 AND ended_at IS NULL",
            params![id_hash, now],
        )?;
        Ok(())
    }

    pub fn end_office_session(&self, id_hash: &str, now: i64) -> Result<()> {
        self.execute(
            "UPDATE office_sessions SET ended_at = ?2 WHERE id_hash = ?1 AND ended_at IS NULL",
            params![id_hash, now],
        )?;
        Ok(())
    }
}

impl Store {
    /// The address a login link is for, if it can still be used (read only:
    /// the page behind the link uses nothing up).
    pub fn login_link_email(&self, token_hash: &str, now: i64) -> Result<Option<String>> {
        self.read(|tx| {
            tx.query_row(
                "SELECT email FROM office_login_links
                 WHERE token_hash = ?1 AND used_at IS NULL AND expires_at >= ?2",
                params![token_hash, now],
                |r| r.get(0),
            )
            .optional()
        })
    }

    /// A session that was not ended (expiry is checked by the caller).
    pub fn office_session(&self, id_hash: &str) -> Result<Option<OfficeSession>> {
        self.read(|tx| {
            tx.query_row(
                "SELECT email, csrf, created_at, last_seen_at FROM office_sessions
                 WHERE id_hash = ?1 AND ended_at IS NULL",
                params![id_hash],
                |r| {
                    Ok(OfficeSession {
                        email: r.get(0)?,
                        csrf: r.get(1)?,
                        created_at: r.get(2)?,
                        last_seen_at: r.get(3)?,
                    })
                },
            )
            .optional()
        })
    }
}
