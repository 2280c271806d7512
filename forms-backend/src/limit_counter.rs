//! The per-address request limit on PostgreSQL, counted in batches.
//!
//! Several nodes share the limit through the database
//! ([`Store::count_requests`]). Counting each request in a call of its own
//! would cost every form post a round trip and a transaction; instead one
//! thread per node takes every request that is waiting (at most
//! [`MAX_BATCH`]) and counts them in one call, as the intake's group commit
//! does for submissions. A lone request is counted at once; under load the
//! batches grow by themselves while the previous call is under way.
//!
//! SQLite keeps the in-memory limiter of `web::guard` (one process).

use crate::clock::Clock;
use crate::store::{RequestLimit, Store, StoreError};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// At most this many requests share one call.
pub const MAX_BATCH: usize = 256;

/// `Ok(())` when counted, else the seconds until a hit leaves the window.
pub type Verdict = Result<(), u64>;

struct Pending {
    key_hash: String,
    done: oneshot::Sender<Result<Verdict, Arc<StoreError>>>,
}

/// Handle to the counting thread; the thread ends with the last handle.
pub struct LimitCounter {
    queue: mpsc::Sender<Pending>,
}

impl std::fmt::Debug for LimitCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LimitCounter")
    }
}

impl LimitCounter {
    pub fn start(store: Arc<Store>, limit: RequestLimit, clock: Clock) -> LimitCounter {
        let (queue, rx) = mpsc::channel(4 * MAX_BATCH);
        std::thread::Builder::new()
            .name("campus-limits".into())
            .spawn(move || counter(&store, limit, &clock, rx))
            .expect("limit thread");
        LimitCounter { queue }
    }

    /// Counts a hit of `key_hash` (a hash of client and form) now.
    pub async fn count(&self, key_hash: String) -> Result<Verdict, Arc<StoreError>> {
        let closed = || Arc::new(StoreError::Io(std::io::Error::other("Zählung beendet")));
        let (done, answer) = oneshot::channel();
        self.queue
            .send(Pending { key_hash, done })
            .await
            .map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

fn counter(store: &Store, limit: RequestLimit, clock: &Clock, mut rx: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut last_sweep = 0;
    while crate::intake::next_batch(&mut rx, &mut batch, MAX_BATCH) {
        let now = clock.now();
        // Seconds that left the window go now and then (each node sweeps;
        // a sweep is one indexed delete).
        if now - last_sweep >= (limit.window / 10).max(1) {
            last_sweep = now;
            if let Err(e) = store.sweep_request_limits(now, limit) {
                tracing::warn!(error = %e, "Abgelaufene Anfrage-Zähler nicht gelöscht");
            }
        }
        let keys: Vec<String> = batch.iter().map(|p| p.key_hash.clone()).collect();
        match store.count_requests(&keys, now, limit) {
            Ok(verdicts) => {
                for (p, verdict) in batch.drain(..).zip(verdicts) {
                    let _ = p.done.send(Ok(verdict));
                }
            }
            Err(e) => {
                let e = Arc::new(e);
                for p in batch.drain(..) {
                    let _ = p.done.send(Err(e.clone()));
                }
            }
        }
    }
}
