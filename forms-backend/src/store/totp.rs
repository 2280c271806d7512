//! SQL of the office accounts' optional second factor (TOTP): one secret
//! per address, pending until a first code confirms it, and the last step
//! used, so a code works only once.

use super::{params, OptionalExtension, Result, Row, Store, Tx};

pub(super) const MIGRATION: &str = "
    CREATE TABLE office_totp (
        email TEXT PRIMARY KEY,
        secret_hex TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        confirmed_at INTEGER,
        last_step INTEGER NOT NULL DEFAULT 0
    );
";

/// The second factor of one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeTotp {
    pub secret_hex: String,
    /// False while set up but not yet confirmed with a code.
    pub confirmed: bool,
    pub last_step: i64,
}

const SELECT: &str =
    "SELECT secret_hex, confirmed_at IS NOT NULL, last_step FROM office_totp WHERE email = ?1";

fn row(r: &Row) -> Result<OfficeTotp> {
    Ok(OfficeTotp {
        secret_hex: r.get(0)?,
        confirmed: r.get(1)?,
        last_step: r.get(2)?,
    })
}

impl Store {
    pub fn office_totp(&self, email: &str) -> Result<Option<OfficeTotp>> {
        self.read(|tx| tx.query_row(SELECT, params![email], row).optional())
    }
}

impl Tx<'_> {
    pub fn office_totp(&self, email: &str) -> Result<Option<OfficeTotp>> {
        self.query_row(SELECT, params![email], row).optional()
    }

    /// A new pending secret; a confirmed one is never replaced here.
    pub fn set_pending_totp(&self, email: &str, secret_hex: &str, now: i64) -> Result<bool> {
        Ok(self.execute(
            "INSERT INTO office_totp (email, secret_hex, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (email) DO UPDATE SET secret_hex = excluded.secret_hex,
                 created_at = excluded.created_at, last_step = 0
             WHERE office_totp.confirmed_at IS NULL",
            params![email, secret_hex, now],
        )? == 1)
    }

    /// Confirms the pending secret with the step of a first valid code.
    pub fn confirm_totp(&self, email: &str, step: i64, now: i64) -> Result<bool> {
        Ok(self.execute(
            "UPDATE office_totp SET confirmed_at = ?3, last_step = ?2
             WHERE email = ?1 AND confirmed_at IS NULL",
            params![email, step, now],
        )? == 1)
    }

    /// Uses the code of `step`; false when it (or a later one) was used.
    pub fn use_totp_step(&self, email: &str, step: i64) -> Result<bool> {
        Ok(self.execute(
            "UPDATE office_totp SET last_step = ?2
             WHERE email = ?1 AND confirmed_at IS NOT NULL AND last_step < ?2",
            params![email, step],
        )? == 1)
    }

    pub fn remove_totp(&self, email: &str) -> Result<bool> {
        Ok(self.execute("DELETE FROM office_totp WHERE email = ?1", params![email])? == 1)
    }
}
