//! Request limits kept in the database, so several nodes on one PostgreSQL
//! count together: hits per key (a keyed hash of client and form, never
//! the raw address) and second, each row gone once its second left the
//! window. So one key has at most one row per second of the window, and
//! the window slides by the second, as the in-memory limiter's does.
//!
//! SQLite (one process) keeps the in-memory limiter of `web::guard`: a
//! write transaction per request there would wait for the intake's group
//! commit and its fsync.

use super::{params, Engine, Result, Store, Tx};

pub(super) const MIGRATION: &str = "
    CREATE TABLE request_limits (
        key_hash TEXT NOT NULL,
        at_second INTEGER NOT NULL,
        hits INTEGER NOT NULL,
        PRIMARY KEY (key_hash, at_second)
    );
    CREATE INDEX request_limits_at ON request_limits (at_second);
";

/// [`Store::count_request`] on PostgreSQL: lock, count and insert in one
/// call, so a request costs one round trip instead of three. In PL/pgSQL
/// each statement takes a fresh snapshot, so the count after the lock sees
/// every hit committed by the node that held it before.
pub(super) const COUNT_FUNCTION: &str = "-- PostgreSQL only
    CREATE FUNCTION campus_count_request(p_key TEXT, p_now BIGINT, p_after BIGINT, p_max BIGINT)
    RETURNS BIGINT LANGUAGE plpgsql AS $$
    DECLARE
        used BIGINT;
        oldest BIGINT;
    BEGIN
        -- A count lost in a crash costs nothing: no wait for the WAL flush.
        PERFORM set_config('synchronous_commit', 'off', true);
        PERFORM pg_advisory_xact_lock(hashtextextended('limit:' || p_key, 0));
        SELECT coalesce(sum(hits), 0), min(at_second) INTO used, oldest
            FROM request_limits WHERE key_hash = p_key AND at_second > p_after;
        IF used >= p_max THEN
            -- Refused: the second of the oldest counted hit.
            RETURN coalesce(oldest, p_now);
        END IF;
        INSERT INTO request_limits (key_hash, at_second, hits) VALUES (p_key, p_now, 1)
            ON CONFLICT (key_hash, at_second) DO UPDATE SET hits = request_limits.hits + 1;
        RETURN NULL;
    END
    $$;
";

/// A limit: at most `max` hits of one key within `window` seconds.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimit {
    pub max: u32,
    pub window: i64,
}

impl RequestLimit {
    /// Seconds after this one still count.
    fn counted_after(self, now: i64) -> i64 {
        now - self.window
    }
}

impl Store {
    /// Counts a hit of `key_hash` at `now` (Unix seconds), or says after
    /// how many seconds the oldest counted hit leaves the window (for
    /// `Retry-After`). A refused hit is not counted. Nodes counting the
    /// same key at once take turns (a lock of the key), so together they
    /// never let more than `limit.max` through.
    pub fn count_request(
        &self,
        key_hash: &str,
        now: i64,
        limit: RequestLimit,
    ) -> Result<std::result::Result<(), u64>> {
        if self.engine() == Engine::Postgres {
            // Outside a transaction: the call is its own (one round trip).
            let oldest: Option<i64> = self.read(|tx| {
                tx.query_row(
                    "SELECT campus_count_request(?1, ?2, ?3, ?4)",
                    params![
                        key_hash,
                        now,
                        limit.counted_after(now),
                        i64::from(limit.max)
                    ],
                    |r| r.get(0),
                )
            })?;
            return Ok(match oldest {
                None => Ok(()),
                Some(oldest) => Err((oldest + limit.window - now).max(1) as u64),
            });
        }
        self.write(|tx| {
            tx.lock(&format!("limit:{key_hash}"))?;
            tx.count_request(key_hash, now, limit)
        })
    }

    /// Deletes the seconds that left the window; the number removed.
    pub fn sweep_request_limits(&self, now: i64, limit: RequestLimit) -> Result<usize> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM request_limits WHERE at_second <= ?1",
                params![limit.counted_after(now)],
            )
        })
    }

    /// Rows kept now (for tests of the bound).
    pub fn request_limit_rows(&self) -> Result<i64> {
        self.read(|tx| {
            tx.query_row("SELECT count(*) FROM request_limits", params![], |r| {
                r.get(0)
            })
        })
    }
}

impl Tx<'_> {
    fn count_request(
        &self,
        key_hash: &str,
        now: i64,
        limit: RequestLimit,
    ) -> Result<std::result::Result<(), u64>> {
        let after = limit.counted_after(now);
        // Counted only while under the limit, in one statement (one round
        // trip); the wait is asked for only when refused.
        let counted = self.execute(
            "INSERT INTO request_limits (key_hash, at_second, hits)
             SELECT CAST(?1 AS TEXT), CAST(?2 AS BIGINT), 1
             WHERE (SELECT CAST(coalesce(sum(hits), 0) AS BIGINT) FROM request_limits
                    WHERE key_hash = ?1 AND at_second > ?3) < ?4
             ON CONFLICT (key_hash, at_second) DO UPDATE SET hits = request_limits.hits + 1",
            params![key_hash, now, after, i64::from(limit.max)],
        )?;
        if counted == 0 {
            let oldest: Option<i64> = self.query_row(
                "SELECT min(at_second) FROM request_limits WHERE key_hash = ?1 AND at_second > ?2",
                params![key_hash, after],
                |r| r.get(0),
            )?;
            let wait = oldest.unwrap_or(now) + limit.window - now;
            return Ok(Err(wait.max(1) as u64));
        }
        Ok(Ok(()))
    }
}
