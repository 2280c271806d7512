//! Group commit for form submissions: one writer thread, a bounded queue.
//!
//! Handlers validate a post on the async side, then hand its writes (a
//! closure over [`Tx`]) to [`Intake::submit`] and wait. The writer takes
//! everything that is queued (at most [`MAX_BATCH`]), runs the jobs in one
//! `BEGIN IMMEDIATE` transaction ([`Store::write_batch`]: again with a
//! savepoint per job if one fails), commits once — one WAL sync for the
//! whole batch with `synchronous = FULL` — and only then answers every
//! waiting request.
//! There is no artificial wait: while one batch is being synced the next
//! one gathers by itself, so batches grow with the load and a lone request
//! is committed at once.
//!
//! Guarantees:
//! - a submission is acknowledged only after the transaction holding it
//!   (with its consent and its outbox mail) is durable;
//! - a job that fails is rolled back alone; a failed commit fails the batch
//!   (nobody in it is acknowledged);
//! - the queue is bounded: when it is full, [`Intake::submit`] refuses at
//!   once with [`IntakeError::Busy`] (HTTP 503 with `Retry-After`) instead of
//!   letting waiting requests pile up without limit.
//!
//! A request whose client went away while waiting is still committed (it
//! was accepted into the queue); it is simply not acknowledged to anybody.

use crate::store::{Store, StoreError, Tx};
use crate::workflow::WorkflowError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// The writes of one submission, run inside the batch transaction.
/// It may run more than once (see [`Store::write_batch`]): it writes only
/// through the transaction it gets.
pub type Job = Box<dyn FnMut(&Tx) -> Result<(), WorkflowError> + Send>;

/// At most this many jobs share one transaction.
pub const MAX_BATCH: usize = 256;

/// Default queue length (`[backend] annahme_warteschlange`).
pub const DEFAULT_QUEUE: usize = 512;

/// Seconds a refused client is asked to wait (`Retry-After`).
pub const RETRY_AFTER_SECS: u64 = 2;

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// The queue is full: the service is overloaded, try again later.
    #[error("Annahme ausgelastet")]
    Busy,
    /// The writer has stopped (the process is shutting down).
    #[error("Annahme beendet")]
    Closed,
    /// This job failed: nothing of it was stored.
    #[error("Formular nicht gespeichert")]
    Job(#[source] WorkflowError),
    /// This job panicked (a bug): it was rolled back alone.
    #[error("Abbruch beim Speichern eines Formulars")]
    Panicked,
    /// The batch's commit failed: nothing of it was stored.
    #[error("Stapel nicht gespeichert")]
    Batch(#[source] Arc<StoreError>),
}

/// A store error inside a job (a pipelined statement of it that failed)
/// is that job's failure.
impl From<StoreError> for IntakeError {
    fn from(e: StoreError) -> IntakeError {
        IntakeError::Job(WorkflowError::from(e))
    }
}

struct Pending {
    job: Job,
    done: oneshot::Sender<Result<(), IntakeError>>,
}

/// Handle to the writer thread; the thread ends when the last handle is dropped.
pub struct Intake {
    queue: mpsc::Sender<Pending>,
    capacity: usize,
    /// Refusals since the last warning (logged at most once a second, so
    /// an overload does not also flood the log).
    refused: AtomicU64,
    warned_at: AtomicU64,
}

impl std::fmt::Debug for Intake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Intake")
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl Intake {
    /// Starts the writer thread for `store` with a queue of `capacity` jobs.
    pub fn start(store: Arc<Store>, capacity: usize) -> Intake {
        let capacity = capacity.max(1);
        let (queue, rx) = mpsc::channel(capacity);
        std::thread::Builder::new()
            .name("campus-intake".into())
            .spawn(move || writer(&store, rx))
            .expect("writer thread");
        Intake {
            queue,
            capacity,
            refused: AtomicU64::new(0),
            warned_at: AtomicU64::new(0),
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Jobs waiting right now (not counting the batch being committed).
    pub fn queued(&self) -> usize {
        self.capacity - self.queue.capacity()
    }

    /// Queues `job` and waits until it is committed. Refuses at once with
    /// [`IntakeError::Busy`] when the queue is full.
    pub async fn submit(&self, job: Job) -> Result<(), IntakeError> {
        let (done, answer) = oneshot::channel();
        self.queue
            .try_send(Pending { job, done })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => {
                    self.note_refusal();
                    IntakeError::Busy
                }
                mpsc::error::TrySendError::Closed(_) => IntakeError::Closed,
            })?;
        answer.await.map_err(|_| IntakeError::Closed)?
    }

    fn note_refusal(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
        let now = crate::store::now() as u64;
        let last = self.warned_at.load(Ordering::Relaxed);
        if now != last
            && self
                .warned_at
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let refused = self.refused.swap(0, Ordering::Relaxed);
            tracing::warn!(
                refused,
                capacity = self.capacity,
                "Annahme ausgelastet: Formulare mit 503 abgewiesen"
            );
        }
    }
}

/// Waits for the first item, then takes what else is queued, up to `max`:
/// no artificial wait, so a batch grows only with the load. False when
/// every sender is gone.
pub(crate) fn next_batch<T>(rx: &mut mpsc::Receiver<T>, batch: &mut Vec<T>, max: usize) -> bool {
    let Some(first) = rx.blocking_recv() else {
        return false;
    };
    batch.push(first);
    while batch.len() < max {
        match rx.try_recv() {
            Ok(item) => batch.push(item),
            Err(_) => break,
        }
    }
    true
}

fn writer(store: &Store, mut rx: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while next_batch(&mut rx, &mut batch, MAX_BATCH) {
        let (jobs, answers): (Vec<Job>, Vec<_>) = batch.drain(..).map(|p| (p.job, p.done)).unzip();
        let size = jobs.len();
        // A job that panics is rolled back like a failed one; the writer
        // (and with it the intake) stays alive.
        let run = |tx: &Tx, job: &mut Job| match std::panic::catch_unwind(
            std::panic::AssertUnwindSafe(|| job(tx)),
        ) {
            Ok(result) => result.map_err(IntakeError::Job),
            Err(_) => Err(IntakeError::Panicked),
        };
        match store.write_batch(jobs, run) {
            Ok(results) => {
                for (result, done) in results.into_iter().zip(answers) {
                    let _ = done.send(result);
                }
            }
            Err(e) => {
                let e = Arc::new(e);
                for done in answers {
                    let _ = done.send(Err(IntakeError::Batch(e.clone())));
                }
            }
        }
        tracing::trace!(size, "Stapel gespeichert");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{OutgoingMail, Table};

    fn job(i: usize, fail: bool) -> Job {
        Box::new(move |tx: &Tx| {
            tx.enqueue(
                &OutgoingMail {
                    message_id: format!("<{i}@x>"),
                    kind: "test".into(),
                    envelope_from: "a@b.de".into(),
                    recipient: "c@d.de".into(),
                    raw: b"x".to_vec(),
                    submission_id: None,
                },
                0,
            )?;
            if fail {
                return Err(WorkflowError::Invalid("boom".into()));
            }
            Ok(())
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_acknowledged_job_is_committed_and_a_failure_stays_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path().join("x.db")).unwrap());
        let intake = Arc::new(Intake::start(store.clone(), 1000));
        let tasks: Vec<_> = (0..300)
            .map(|i| {
                let intake = intake.clone();
                tokio::spawn(async move { intake.submit(job(i, i % 100 == 7)).await })
            })
            .collect();
        let mut ok = 0;
        let mut failed = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(()) => ok += 1,
                Err(IntakeError::Job(WorkflowError::Invalid(_))) => failed += 1,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!((ok, failed), (297, 3));
        assert_eq!(store.count(Table::Outbox).unwrap(), 297);
    }

    #[tokio::test]
    async fn a_panicking_job_fails_alone_and_the_writer_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path().join("x.db")).unwrap());
        let intake = Intake::start(store.clone(), 10);
        let r = intake
            .submit(Box::new(|tx: &Tx| {
                job(1, false)(tx)?;
                panic!("bug in a workflow")
            }))
            .await;
        assert!(matches!(r, Err(IntakeError::Panicked)), "{r:?}");
        intake.submit(job(2, false)).await.unwrap();
        let ids: Vec<String> = store
            .outbox()
            .unwrap()
            .into_iter()
            .map(|m| m.message_id)
            .collect();
        assert_eq!(ids, ["<2@x>"]);
    }
}
