//! Request limits kept in the database, so several nodes on one PostgreSQL
//! count together: hits per key (a keyed hash of client and form, never
//! the raw address) and second, each row gone once its second left the
//! window. So one key has at most one row per second of the window, and
//! the window slides by the second, as the in-memory limiter's does.
//!
//! SQLite (one process) keeps the in-memory limiter of `web::guard`: a
//! write transaction per request there would wait for the intake's group
//! commit and its fsync.

use super::{params, Engine, Result, Store, StoreError, Tx};

pub(super) const MIGRATION: &str = "
    CREATE TABLE request_limits (
        key_hash TEXT NOT NULL,
        at_second INTEGER NOT NULL,
        hits INTEGER NOT NULL,
        PRIMARY KEY (key_hash, at_second)
    );
    CREATE INDEX request_limits_at ON request_limits (at_second);
";

/// [`Store::count_requests`] on PostgreSQL: locks, counts and inserts for
/// many keys in one call, so a batch of requests costs one round trip (and
/// one transaction) instead of three each. The locks are taken in sorted
/// order, so two nodes' batches cannot deadlock. In PL/pgSQL each
/// statement takes a fresh snapshot, so a count after a lock sees every
/// hit committed by whoever held it before. Keys come comma-separated
/// (they are hashes); the answer has one comma-separated element per key:
/// `-` when counted, else the second of the oldest counted hit.
pub(super) const COUNT_FUNCTION: &str = "-- PostgreSQL only
    CREATE FUNCTION campus_count_requests(p_key_list TEXT, p_now BIGINT, p_after BIGINT, p_max BIGINT)
    RETURNS TEXT LANGUAGE plpgsql AS $$
    DECLARE
        p_keys TEXT[] := string_to_array(p_key_list, ',');
        k TEXT;
        used BIGINT;
        oldest BIGINT;
        answers BIGINT[] := '{}';
    BEGIN
        -- A count lost in a crash costs nothing: no wait for the WAL flush.
        PERFORM set_config('synchronous_commit', 'off', true);
        FOREACH k IN ARRAY (SELECT array_agg(DISTINCT x ORDER BY x) FROM unnest(p_keys) x) LOOP
            PERFORM pg_advisory_xact_lock(hashtextextended('limit:' || k, 0));
        END LOOP;
        FOREACH k IN ARRAY p_keys LOOP
            SELECT coalesce(sum(hits), 0), min(at_second) INTO used, oldest
                FROM request_limits WHERE key_hash = k AND at_second > p_after;
            IF used >= p_max THEN
                answers := array_append(answers, coalesce(oldest, p_now));
            ELSE
                INSERT INTO request_limits (key_hash, at_second, hits) VALUES (k, p_now, 1)
                    ON CONFLICT (key_hash, at_second) DO UPDATE SET hits = request_limits.hits + 1;
                answers := array_append(answers, NULL::BIGINT);
            END IF;
        END LOOP;
        RETURN array_to_string(answers, ',', '-');
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
    /// Counts a hit of each key (a keyed hash of client and form) at `now`
    /// (Unix seconds), in their order (the same key may come more than
    /// once). One answer per key: counted, or after how many seconds the
    /// oldest counted hit leaves the window (for `Retry-After`). A refused
    /// hit is not counted. Nodes counting the same key at once take turns
    /// (a lock of the key), so together they never let more than
    /// `limit.max` through.
    pub fn count_requests(
        &self,
        key_hashes: &[String],
        now: i64,
        limit: RequestLimit,
    ) -> Result<Vec<std::result::Result<(), u64>>> {
        let wait = |oldest: i64| (oldest + limit.window - now).max(1) as u64;
        if self.engine() == Engine::Postgres {
            if let Some(bad) = key_hashes.iter().find(|k| k.contains(',') || k.is_empty()) {
                return Err(StoreError::Value {
                    column: 0,
                    message: format!("Schlüssel {bad:?} ist kein Hash"),
                });
            }
            // Outside a transaction: the call is its own (one round trip).
            let answer: String = self.read(|tx| {
                tx.query_row(
                    "SELECT campus_count_requests(?1, ?2, ?3, ?4)",
                    params![
                        key_hashes.join(","),
                        now,
                        limit.counted_after(now),
                        i64::from(limit.max)
                    ],
                    |r| r.get(0),
                )
            })?;
            let answers: Vec<std::result::Result<(), u64>> = answer
                .split(',')
                .map(|a| match a {
                    "-" => Ok(Ok(())),
                    oldest => oldest.parse().map(|o| Err(wait(o))),
                })
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| StoreError::Value {
                    column: 0,
                    message: format!("Antwort {answer:?}: {e}"),
                })?;
            if answers.len() != key_hashes.len() {
                return Err(StoreError::Value {
                    column: 0,
                    message: format!(
                        "{} Antworten für {} Schlüssel",
                        answers.len(),
                        key_hashes.len()
                    ),
                });
            }
            return Ok(answers);
        }
        self.write(|tx| {
            key_hashes
                .iter()
                .map(|key_hash| {
                    tx.lock(&format!("limit:{key_hash}"))?;
                    tx.count_request(key_hash, now, limit)
                })
                .collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Location;

    const LIMIT: RequestLimit = RequestLimit {
        max: 2,
        window: 600,
    };

    fn stores() -> Vec<(Store, Store, Option<tempfile::TempDir>)> {
        let dir = tempfile::tempdir().unwrap();
        let file = Location::File(dir.path().join("x.db"));
        let mut out = vec![(
            Store::open(&file).unwrap(),
            Store::open(&file).unwrap(),
            Some(dir),
        )];
        if let Some(url) = crate::store::test_pg::fresh_database() {
            let pg = Location::Postgres(url);
            out.push((Store::open(&pg).unwrap(), Store::open(&pg).unwrap(), None));
        }
        out
    }

    #[test]
    fn a_batch_counts_each_hit_in_order_and_refuses_over_the_limit() {
        for (store, _, _dir) in stores() {
            let keys = ["a", "b", "a", "a"].map(String::from);
            let answers = store.count_requests(&keys, 1000, LIMIT).unwrap();
            assert_eq!(
                answers,
                [Ok(()), Ok(()), Ok(()), Err(600)],
                "{:?}",
                store.engine()
            );
            // 100 s later the first hit of "a" still counts; after the
            // window it is gone.
            assert_eq!(
                store.count_requests(&keys[..1], 1100, LIMIT).unwrap(),
                [Err(500)]
            );
            assert_eq!(
                store.count_requests(&keys[..1], 1600, LIMIT).unwrap(),
                [Ok(())]
            );
        }
    }

    #[test]
    fn two_nodes_counting_the_same_keys_at_once_never_pass_the_limit() {
        for (a, b, _dir) in stores() {
            // Eight threads on two nodes walk the same 40 keys in step, so
            // every key's last free place is contended.
            let keys: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
            let counted = std::thread::scope(|s| {
                let run = |store: &Store| {
                    keys.iter()
                        .filter(|k| {
                            store.count_requests(&[k.to_string()], 1000, LIMIT).unwrap()[0].is_ok()
                        })
                        .count()
                };
                let threads: Vec<_> = [&a, &b, &a, &b, &a, &b, &a, &b]
                    .into_iter()
                    .map(|store| s.spawn(move || run(store)))
                    .collect();
                threads
                    .into_iter()
                    .map(|t| t.join().unwrap())
                    .sum::<usize>()
            });
            assert_eq!(counted, 40 * LIMIT.max as usize, "{:?}", a.engine());
        }
    }

    #[test]
    fn batches_of_several_keys_in_any_order_on_two_nodes_never_pass_the_limit() {
        for (a, b, _dir) in stores() {
            // Each thread sends batches of five keys (one twice), rotated
            // differently, so batches overlap in other orders on both nodes.
            let keys: Vec<String> = (0..12).map(|i| format!("m{i}")).collect();
            let counted = std::thread::scope(|s| {
                let run = |store: &Store, turn: usize| {
                    let mut counted = vec![0usize; keys.len()];
                    for round in 0..6 {
                        let picks: Vec<usize> = (0..4)
                            .map(|j| (turn * 5 + round * 3 + j * 7) % keys.len())
                            .chain([(turn + round) % keys.len()])
                            .collect();
                        let batch: Vec<String> = picks.iter().map(|&i| keys[i].clone()).collect();
                        let answers = store.count_requests(&batch, 1000, LIMIT).unwrap();
                        for (&i, answer) in picks.iter().zip(answers) {
                            counted[i] += usize::from(answer.is_ok());
                        }
                    }
                    counted
                };
                let threads: Vec<_> = [&a, &b, &a, &b, &a, &b]
                    .into_iter()
                    .enumerate()
                    .map(|(turn, store)| s.spawn(move || run(store, turn)))
                    .collect();
                threads
                    .into_iter()
                    .map(|t| t.join().unwrap())
                    .fold(vec![0usize; keys.len()], |sum, c| {
                        sum.iter().zip(c).map(|(x, y)| x + y).collect()
                    })
            });
            // 36 batches of five hit every key more than twice.
            assert_eq!(
                counted,
                vec![LIMIT.max as usize; keys.len()],
                "{:?}",
                a.engine()
            );
        }
    }
}
