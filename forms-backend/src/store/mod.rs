//! Durable storage: SQLite (WAL, busy timeout, versioned migrations in
//! `PRAGMA user_version`), every write in a `BEGIN IMMEDIATE` transaction.
//!
//! This module is the storage boundary: the rest of the crate calls the
//! domain methods of [`Store`] and [`Tx`] only and never sees SQL, so a
//! PostgreSQL backend can follow by implementing the same methods. Times are
//! Unix seconds (UTC).
//!
//! Here: opening, migrations and the transaction functions; the SQL of each
//! kind of data in its submodule (`forms`: submissions, consents, tokens,
//! newsletter, retention; `outbox`; `bookings`).

use rusqlite::{Connection, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

mod billing;
mod bookings;
mod completion;
mod copy;
mod courses;
mod db;
mod events;
mod exclusive;
mod forms;
mod journey;
mod limits;
mod membership;
mod office;
mod office_tasks;
mod outbox;
mod totp;
pub use billing::{BillableBooking, InvoiceLineRow, InvoiceRow, NewInvoice, NewInvoiceLine};
pub use bookings::{
    BookingEvent, BookingFilter, BookingRow, Change, KnownDate, MoveError, NewBooking,
};
pub use completion::{AttendanceRow, CertificateRow, StoredEvaluation};
pub use copy::CopyReport;
pub use courses::{CourseBookingRow, CourseState, CourseToken, NewCourseBooking};
pub(crate) use db::params;
pub use db::{Engine, FromValue, OptionalExtension, Row, ToValue, Value};
pub use exclusive::{ExclusiveDate, ExclusiveRequest, ExclusiveState, NewExclusiveRequest};
pub use forms::{
    ConsentRecord, ConsentRow, ExportRow, NewConsent, NewSubmission, PurgeReport, TokenRow,
};
pub use journey::{CalendarEntry, JourneyCutoffs, JourneyPurge};
pub use limits::RequestLimit;
pub use membership::{ApplicationEvent, ApplicationRow};
pub use office::OfficeSession;
pub use office_tasks::{ContactRequest, FailedMail, OfficeAction};
pub use outbox::{ClaimedMail, OutboxRow, OutgoingMail};
pub use totp::OfficeTotp;

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("Datenbank: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("Datenbank: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("Datenbank: {0}")]
    Io(#[from] std::io::Error),
    #[error("Datenbank: Spalte {column}: {message}")]
    Value { column: usize, message: String },
    #[error("Datenbank: keine Zeile gefunden")]
    NoRows,
    #[error("Kopieren: {0}")]
    Copy(String),
    #[error("Datenbank: alle Verbindungen belegt (länger als 30 Sekunden)")]
    PoolExhausted,
    #[error("Datenbank: {0} (auch nach {1} Versuchen)")]
    Conflict(String, u32),
    #[error("Datenbank hat Schema-Version {found}, diese Version kennt nur bis {known}")]
    TooNew { found: i64, known: i64 },
}

/// Schema versions; index + 1 is the `user_version` after applying.
const MIGRATIONS: &[&str] = &[
    // 1: intake, consent, newsletter, one-time tokens, outbox
    "
    CREATE TABLE submissions (
        id INTEGER PRIMARY KEY,
        form TEXT NOT NULL,
        payload TEXT NOT NULL,
        email TEXT,
        status TEXT NOT NULL CHECK (status IN ('eingegangen', 'unbestaetigt', 'bestaetigt')),
        ip_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        confirmed_at INTEGER
    );
    CREATE INDEX submissions_form_created ON submissions (form, created_at);
    CREATE INDEX submissions_email ON submissions (email);

    CREATE TABLE consents (
        id INTEGER PRIMARY KEY,
        submission_id INTEGER REFERENCES submissions (id) ON DELETE CASCADE,
        email TEXT NOT NULL,
        purpose TEXT NOT NULL,
        text_version TEXT NOT NULL,
        given_at INTEGER NOT NULL,
        given_ip_hash TEXT NOT NULL,
        confirmed_at INTEGER,
        confirm_ip_hash TEXT,
        confirm_user_agent TEXT,
        withdrawn_at INTEGER
    );
    CREATE INDEX consents_email ON consents (email);

    CREATE TABLE newsletter_subscribers (
        email TEXT PRIMARY KEY,
        name TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL CHECK (status IN ('unbestaetigt', 'aktiv')),
        consent_id INTEGER REFERENCES consents (id) ON DELETE SET NULL,
        created_at INTEGER NOT NULL,
        confirmed_at INTEGER
    );

    CREATE TABLE action_tokens (
        token_hash TEXT PRIMARY KEY,
        purpose TEXT NOT NULL,
        consent_id INTEGER REFERENCES consents (id) ON DELETE CASCADE,
        submission_id INTEGER REFERENCES submissions (id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER
    );

    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL UNIQUE,
        submission_id INTEGER REFERENCES submissions (id) ON DELETE SET NULL,
        kind TEXT NOT NULL,
        envelope_from TEXT NOT NULL,
        recipient TEXT NOT NULL,
        raw BLOB NOT NULL,
        state TEXT NOT NULL DEFAULT 'queued'
            CHECK (state IN ('queued', 'sending', 'sent', 'retry', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        lease_until INTEGER,
        claimed_by TEXT,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        sent_at INTEGER
    );
    CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
    CREATE INDEX outbox_recipient ON outbox (recipient, created_at);
    ",
    // 2: bookings and enrolments with their history, live dates seen in content
    bookings::MIGRATION,
    // 3: back-office login links and sessions
    office::MIGRATION,
    // 4: contact requests marked done, the office's action log
    office_tasks::MIGRATION,
    // 5: attendance, evaluations (apart from the person), certificates
    completion::MIGRATION,
    // 6: calendar SEQUENCE per booking, reminders sent
    journey::MIGRATION,
    // 7: organisation of "andere Kommune", late cancellations, invoices
    billing::MIGRATION,
    // 8: second factor (TOTP) of office accounts
    totp::MIGRATION,
    // 9: request limits shared by several nodes (PostgreSQL)
    limits::MIGRATION,
    // 10: membership applications and their steps
    membership::MIGRATION,
    // 11: course bookings (one request, one approval for all units of a course)
    courses::MIGRATION,
    // 12: event registrations (bookings of kind "veranstaltung")
    events::MIGRATION,
    // 13: exclusive courses for one authority (request, answer with dates)
    exclusive::MIGRATION,
    // 14: the request limit counted in batches (PostgreSQL only)
    limits::COUNT_FUNCTION,
    // 15: the outbox's due index in claim order, ties by id included
    "
    CREATE INDEX outbox_due_in_order ON outbox (state, next_attempt_at, id);
    DROP INDEX outbox_due;
    ",
    // 16: mail texts compressed with lz4, a fraction of pglz's cost per
    // queued mail (PostgreSQL only; a server built without lz4 keeps pglz)
    "-- PostgreSQL only
    DO $$ BEGIN
        ALTER TABLE outbox ALTER COLUMN raw SET COMPRESSION lz4;
    EXCEPTION WHEN feature_not_supported THEN
        RAISE NOTICE 'lz4 fehlt, Mailtexte bleiben mit pglz komprimiert';
    END $$;
    ",
];

/// A migration that starts with this line runs on PostgreSQL only; SQLite
/// just counts its version.
pub(crate) const POSTGRES_ONLY: &str = "-- PostgreSQL only";

/// Where the data lives: an SQLite file (the default) or a PostgreSQL
/// server (`postgres://…`, for several nodes on one database).
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    Postgres(String),
}

impl Location {
    /// `postgres://…` / `postgresql://…` is a server, anything else a file
    /// (relative paths below `base`).
    pub fn parse(text: &str, base: &Path) -> Location {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Location::Postgres(text.to_string())
        } else {
            let p = PathBuf::from(text);
            Location::File(if p.is_absolute() { p } else { base.join(p) })
        }
    }

    /// The SQLite file, if it is one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Location::File(p) => Some(p),
            Location::Postgres(_) => None,
        }
    }

    /// Whether there is a database to read (a server is assumed to be there).
    pub fn exists(&self) -> bool {
        match self {
            Location::File(p) => p.is_file(),
            Location::Postgres(_) => true,
        }
    }
}

/// Shown in logs and messages: a password in the URL is hidden.
impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::File(p) => write!(f, "{}", p.display()),
            Location::Postgres(url) => f.write_str(&hide_password(url)),
        }
    }
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")
    }
}

fn hide_password(url: &str) -> String {
    // postgres://user:password@host/db → postgres://user:***@host/db
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((user, host)) if user.contains(':') => {
            let name = user.split(':').next().unwrap_or("");
            format!("{scheme}://{name}:***@{host}")
        }
        _ => url.to_string(),
    }
}

impl From<&Path> for Location {
    fn from(p: &Path) -> Location {
        Location::File(p.to_path_buf())
    }
}
impl From<&PathBuf> for Location {
    fn from(p: &PathBuf) -> Location {
        Location::File(p.clone())
    }
}
impl From<PathBuf> for Location {
    fn from(p: PathBuf) -> Location {
        Location::File(p)
    }
}
impl From<&Location> for Location {
    fn from(l: &Location) -> Location {
        l.clone()
    }
}

/// Connections per node to PostgreSQL: the blocking workers that write
/// at once (intake group commit, mail worker, booking steps) plus reads.
pub const POSTGRES_POOL_SIZE: usize = 8;

pub struct Store {
    backend: Backend,
}

enum Backend {
    Sqlite(Mutex<Connection>),
    Postgres(Box<db::PgPool>),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

/// A transaction (or, for [`Store::read`], a plain connection); SQL runs
/// through the methods of `db` so it is the same on both engines.
pub struct Tx<'a> {
    conn: db::Conn<'a>,
    /// The first deadlock or serialization failure PostgreSQL reported in
    /// this transaction: [`Store::write`] runs it again even when the
    /// caller turned the error into its own type.
    retryable: std::cell::RefCell<Option<String>>,
}

impl<'a> Tx<'a> {
    fn new(conn: db::Conn<'a>) -> Tx<'a> {
        Tx {
            conn,
            retryable: std::cell::RefCell::new(None),
        }
    }

    pub fn engine(&self) -> Engine {
        self.conn.engine()
    }

    /// Notes a deadlock or serialization failure on its way out.
    fn seen<T>(&self, result: Result<T>) -> Result<T> {
        if let Err(e) = &result {
            if is_retryable(e) {
                self.retryable
                    .borrow_mut()
                    .get_or_insert_with(|| e.to_string());
            }
        }
        result
    }

    /// Runs one statement; the number of rows it changed.
    pub fn execute(&self, sql: &str, params: &[&dyn ToValue]) -> Result<usize> {
        self.seen(self.conn.execute(sql, params))
    }

    /// Runs one statement whose answer is not needed before the next one
    /// (an insert whose id nobody reads): on PostgreSQL it is sent at once
    /// and the statements of a transaction travel together instead of one
    /// round trip each. An error shows at the next statement that waits, at
    /// [`Tx::flush`] or at the commit, which then fails.
    pub fn execute_pipelined(&self, sql: &str, params: &[&dyn ToValue]) -> Result<()> {
        self.seen(self.conn.execute_pipelined(sql, params))
    }

    /// On PostgreSQL the next id of `table` out of a block this connection
    /// reserved from the table's sequence (one round trip per block of
    /// `db::ID_BLOCK` rows), so an insert with it can be pipelined. Ids
    /// stay unique across nodes but are not in commit order, and a block
    /// left unused when the connection closes leaves a gap. `None` on
    /// SQLite, where the insert itself is as cheap.
    pub fn reserved_id(&self, table: &'static str) -> Result<Option<i64>> {
        self.seen(self.conn.reserved_id(table))
    }

    /// Waits for the answers of the pipelined statements; the first error.
    pub fn flush(&self) -> Result<()> {
        self.seen(self.conn.flush())
    }

    /// Runs statements without parameters (DDL, savepoints).
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        self.seen(self.conn.execute_batch(sql))
    }

    /// Like [`Tx::execute_batch`] for commands whose answer is not needed
    /// before the next statement (`BEGIN`, `SAVEPOINT`): on PostgreSQL they
    /// travel with that statement, one round trip less each.
    pub(crate) fn defer(&self, sql: &str) -> Result<()> {
        self.seen(self.conn.defer(sql))
    }

    /// The first row mapped by `f`; [`StoreError::NoRows`] if there is none
    /// (`.optional()` turns that into `None`).
    pub fn query_row<T>(
        &self,
        sql: &str,
        params: &[&dyn ToValue],
        f: impl FnOnce(&Row) -> Result<T>,
    ) -> Result<T> {
        let rows = self.seen(self.conn.query(sql, params))?;
        f(rows.first().ok_or(StoreError::NoRows)?)
    }

    /// Every row mapped by `f`.
    pub fn query_map<T>(
        &self,
        sql: &str,
        params: &[&dyn ToValue],
        f: impl FnMut(&Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        self.seen(self.conn.query(sql, params))?
            .iter()
            .map(f)
            .collect()
    }

    /// Serializes this transaction with every other one that takes the same
    /// `key`, until it ends. SQLite has one writer at a time anyway; on
    /// PostgreSQL this is a transaction-scoped advisory lock, for decisions
    /// that read before they write (free places, the next queue number, the
    /// mails sent to one address).
    pub fn lock(&self, key: &str) -> Result<()> {
        if self.engine() == Engine::Postgres {
            self.query_row(
                "SELECT pg_advisory_xact_lock(hashtextextended(?1, 0))",
                params![key],
                |_| Ok(()),
            )?;
        }
        Ok(())
    }
}

impl Store {
    /// Opens (creating) the database and applies pending migrations.
    pub fn open(location: impl Into<Location>) -> Result<Store> {
        match location.into() {
            Location::File(path) => Store::open_sqlite(&path),
            Location::Postgres(url) => Store::open_postgres(&url, POSTGRES_POOL_SIZE),
        }
    }

    fn open_sqlite(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // Durability: in WAL mode `synchronous = FULL` syncs the WAL on every
        // commit, so a commit that returned survives a crash of the process
        // *and* of the machine (power loss). `NORMAL` would sync only at
        // checkpoints: the last commits could vanish on power loss although
        // the visitor was already told "received". The cost of FULL (one
        // fsync per transaction) is shared by many submissions through the
        // group commit in [`crate::intake`] and [`Store::write_batch`].
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate_sqlite(&mut conn)?;
        Ok(Store {
            backend: Backend::Sqlite(Mutex::new(conn)),
        })
    }

    /// PostgreSQL with at most `pool` connections.
    pub fn open_postgres(url: &str, pool: usize) -> Result<Store> {
        let pool = db::PgPool::new(url, pool)?;
        migrate_postgres(&pool)?;
        Ok(Store {
            backend: Backend::Postgres(Box::new(pool)),
        })
    }

    /// A [`Tx`] on a connection opened elsewhere (the read-only one of the
    /// metrics), for reads only.
    pub fn on_connection(conn: &Connection) -> Tx<'_> {
        Tx::new(db::Conn::Sqlite(conn))
    }

    pub fn engine(&self) -> Engine {
        match self.backend {
            Backend::Sqlite(_) => Engine::Sqlite,
            Backend::Postgres(_) => Engine::Postgres,
        }
    }

    /// Runs `f` in a write transaction (`BEGIN IMMEDIATE` on SQLite, READ
    /// COMMITTED plus row and advisory locks on PostgreSQL); commits when it
    /// returns Ok, rolls back when it fails. The error type is the caller's
    /// (a workflow's mail or validation error stays what it is).
    ///
    /// On PostgreSQL a transaction that the server aborts for a deadlock
    /// (40P01, two nodes taking the same locks in another order) or a
    /// serialization failure (40001) is rolled back and run again, up to
    /// [`WRITE_ATTEMPTS`] times: `f` must only write through `tx` (it is
    /// `FnMut` for that reason).
    pub fn write<T, E: From<StoreError>>(
        &self,
        mut f: impl FnMut(&Tx) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        match &self.backend {
            Backend::Sqlite(conn) => {
                let mut conn = conn.lock().unwrap_or_else(|p| p.into_inner());
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(StoreError::from)?;
                let value = f(&Tx::new(db::Conn::Sqlite(&tx)))?;
                tx.commit().map_err(StoreError::from)?;
                Ok(value)
            }
            Backend::Postgres(pool) => {
                let mut attempt = 1;
                loop {
                    match pg_transaction(pool, &mut f) {
                        Err(Attempt::Retry(e)) if attempt < WRITE_ATTEMPTS => {
                            tracing::info!(attempt, error = %e,
                                "Transaktion wegen Verklemmung oder Serialisierung wiederholt");
                            attempt += 1;
                        }
                        Err(Attempt::Retry(e)) => {
                            return Err(StoreError::Conflict(e, WRITE_ATTEMPTS).into())
                        }
                        Err(Attempt::Failed(e)) => return Err(e),
                        Ok(value) => return Ok(value),
                    }
                }
            }
        }
    }

    /// Runs one writing statement that is a transaction by itself (a
    /// conditional update, a claim with its lease): on PostgreSQL it is
    /// committed on its own, without `BEGIN` and `COMMIT` round trips, as
    /// durable as [`Store::write`]; on SQLite it is a write transaction.
    /// `f` must run a single statement: several would each commit alone.
    pub fn write_single<T>(&self, f: impl FnOnce(&Tx) -> Result<T>) -> Result<T> {
        match &self.backend {
            Backend::Sqlite(_) => {
                let mut f = Some(f);
                self.write(|tx| (f.take().expect("SQLite runs a write once"))(tx))
            }
            Backend::Postgres(_) => self.read(f),
        }
    }

    /// Runs reads without a write transaction (each statement sees the
    /// latest committed data).
    pub fn read<T>(&self, f: impl FnOnce(&Tx) -> Result<T>) -> Result<T> {
        match &self.backend {
            Backend::Sqlite(conn) => {
                let conn = conn.lock().unwrap_or_else(|p| p.into_inner());
                f(&Tx::new(db::Conn::Sqlite(&conn)))
            }
            Backend::Postgres(pool) => {
                let conn = pool.get()?;
                let tx = Tx::new(db::Conn::Postgres(conn.conn()));
                let value = f(&tx)?;
                tx.flush()?;
                Ok(value)
            }
        }
    }

    /// Group commit: runs `f` for each job inside one write transaction and
    /// commits once (one WAL sync for the whole batch). A job whose `f`
    /// fails is rolled back alone and gets its error; the other jobs still
    /// commit. `Ok(results)` is returned only after the commit; `Err` means
    /// nothing was committed.
    ///
    /// Jobs are run optimistically first, all in one transaction without
    /// savepoints (a savepoint per job costs PostgreSQL a subtransaction).
    /// Only when one fails is that attempt rolled back and the batch run
    /// again with a savepoint per job, so the failing one goes alone. `f`
    /// may therefore run a job more than once (also when PostgreSQL aborts
    /// the batch for a deadlock and [`Store::write`] runs it again): jobs
    /// write only through `tx`.
    pub fn write_batch<J, T, E: From<StoreError>>(
        &self,
        jobs: impl IntoIterator<Item = J>,
        mut f: impl FnMut(&Tx, &mut J) -> std::result::Result<T, E>,
    ) -> Result<Vec<std::result::Result<T, E>>> {
        let mut jobs: Vec<J> = jobs.into_iter().collect();
        let optimistic = self.write(|tx| {
            // The jobs' inserts of one kind go as one statement: a failing
            // row fails the attempt, and the run with savepoints below
            // (which sends each job's own) finds out whose it was.
            tx.conn.coalesce_inserts(true);
            let mut run = || {
                let mut results = Vec::with_capacity(jobs.len());
                for job in jobs.iter_mut() {
                    match f(tx, job) {
                        Ok(value) => results.push(Ok(value)),
                        Err(_) => return Err(Optimistic::JobFailed),
                    }
                }
                // A pipelined statement that failed belongs to some job: the
                // run with savepoints finds out which.
                tx.flush().map_err(|_| Optimistic::JobFailed)?;
                Ok(results)
            };
            let outcome = run();
            tx.conn.coalesce_inserts(false);
            outcome
        });
        match optimistic {
            Ok(results) => return Ok(results),
            Err(Optimistic::Store(e)) => return Err(e),
            Err(Optimistic::JobFailed) => {}
        }
        self.write(|tx| {
            let mut results = Vec::with_capacity(jobs.len());
            // The savepoint of a job that succeeded is released together
            // with the next one's start, and both travel with the job's
            // first statement: no round trip of their own on PostgreSQL.
            // The last one is released on its own, so an error a job
            // passed over still fails the batch (PostgreSQL's COMMIT of an
            // aborted transaction rolls back without an error).
            let mut open = false;
            for job in jobs.iter_mut() {
                tx.defer(if open {
                    "RELEASE job; SAVEPOINT job"
                } else {
                    "SAVEPOINT job"
                })?;
                // The job's pipelined statements are answered before the
                // next job starts, so a failure is its own.
                let result =
                    f(tx, job).and_then(|value| tx.flush().map(|()| value).map_err(E::from));
                open = result.is_ok();
                if !open {
                    tx.execute_batch("ROLLBACK TO job; RELEASE job")?;
                    // The savepoint undid the job (a deadlock in it too):
                    // the rest of the batch is fine to commit.
                    tx.retryable.take();
                }
                results.push(result);
            }
            if open {
                tx.execute_batch("RELEASE job")?;
            }
            Ok(results)
        })
    }

    pub fn schema_version(&self) -> Result<i64> {
        self.read(|tx| match tx.engine() {
            Engine::Sqlite => tx.query_row("PRAGMA user_version", params![], |r| r.get(0)),
            Engine::Postgres => {
                tx.query_row("SELECT version FROM campus_schema", params![], |r| r.get(0))
            }
        })
    }

    /// Counts rows of a table (tests and the health check).
    pub fn count(&self, table: Table) -> Result<i64> {
        self.read(|tx| {
            tx.query_row(
                &format!("SELECT count(*) FROM {}", table.name()),
                params![],
                |r| r.get(0),
            )
        })
    }
}

/// How the optimistic attempt of [`Store::write_batch`] ended.
enum Optimistic {
    Store(StoreError),
    /// A job failed: the attempt was rolled back.
    JobFailed,
}

impl From<StoreError> for Optimistic {
    fn from(e: StoreError) -> Self {
        Optimistic::Store(e)
    }
}

/// Tables that may be counted from outside.
#[derive(Debug, Clone, Copy)]
pub enum Table {
    Submissions,
    Consents,
    Subscribers,
    Tokens,
    Outbox,
    Bookings,
    BookingEvents,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Submissions => "submissions",
            Table::Consents => "consents",
            Table::Subscribers => "newsletter_subscribers",
            Table::Tokens => "action_tokens",
            Table::Outbox => "outbox",
            Table::Bookings => "bookings",
            Table::BookingEvents => "booking_events",
        }
    }
}

/// How often [`Store::write`] runs a transaction that PostgreSQL aborted
/// for a deadlock or a serialization failure.
pub const WRITE_ATTEMPTS: u32 = 5;

/// How one PostgreSQL transaction ended, if not with a commit.
enum Attempt<E> {
    /// Aborted by the server for a deadlock or serialization failure:
    /// rolled back, may run again.
    Retry(String),
    Failed(E),
}

/// Whether the server aborted the transaction so that running it again may
/// succeed (40001 serialization_failure, 40P01 deadlock_detected).
fn is_retryable(e: &StoreError) -> bool {
    use tokio_postgres::error::SqlState;
    matches!(e, StoreError::Postgres(pg) if pg.code().is_some_and(|c|
        *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED))
}

/// One attempt of [`Store::write`] on PostgreSQL.
fn pg_transaction<T, E: From<StoreError>>(
    pool: &db::PgPool,
    f: impl FnOnce(&Tx) -> std::result::Result<T, E>,
) -> std::result::Result<T, Attempt<E>> {
    let conn = pool.get().map_err(|e| Attempt::Failed(e.into()))?;
    let tx = Tx::new(db::Conn::Postgres(conn.conn()));
    tx.defer("BEGIN").map_err(|e| Attempt::Failed(e.into()))?;
    let (outcome, healthy) = match f(&tx) {
        // A deadlock `f` passed over leaves the transaction aborted, and
        // COMMIT would roll it back without an error: run it again.
        Ok(_) if tx.retryable.borrow().is_some() => {
            let healthy = tx.execute_batch("ROLLBACK").is_ok();
            let cause = tx.retryable.take().unwrap_or_default();
            (Err(Attempt::Retry(cause)), healthy)
        }
        Ok(value) => match tx.execute_batch("COMMIT") {
            Ok(()) => (Ok(value), true),
            Err(e) if is_retryable(&e) => (Err(Attempt::Retry(e.to_string())), false),
            Err(e) => (Err(Attempt::Failed(e.into())), false),
        },
        Err(e) => {
            let healthy = tx.execute_batch("ROLLBACK").is_ok();
            match tx.retryable.take() {
                Some(cause) => (Err(Attempt::Retry(cause)), healthy),
                None => (Err(Attempt::Failed(e)), healthy),
            }
        }
    };
    drop(tx);
    if !healthy {
        // It may still be inside a transaction.
        conn.discard();
    }
    outcome
}

fn migrate_sqlite(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::TooNew {
            found: version,
            known,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        if !sql.trim_start().starts_with(POSTGRES_ONLY) {
            tx.execute_batch(sql)?;
        }
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tracing::info!(version = i + 1, "Datenbank-Migration angewendet");
    }
    tx.commit()?;
    Ok(())
}

/// Key of the advisory lock held while migrating, so two nodes starting at
/// once apply each migration once (the second waits, then finds nothing).
const MIGRATION_LOCK: i64 = 0x6361_6d70_7573; // "campus"

fn migrate_postgres(pool: &db::PgPool) -> Result<()> {
    let conn = pool.get()?;
    let tx = Tx::new(db::Conn::Postgres(conn.conn()));
    tx.execute_batch("BEGIN")?;
    let result = (|| {
        tx.query_row(
            "SELECT pg_advisory_xact_lock(?1)",
            params![MIGRATION_LOCK],
            |_| Ok(()),
        )?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS campus_schema (version BIGINT NOT NULL);
             INSERT INTO campus_schema (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM campus_schema);",
        )?;
        let version: i64 =
            tx.query_row("SELECT version FROM campus_schema", params![], |r| r.get(0))?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(StoreError::TooNew {
                found: version,
                known,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(&db::pg_ddl(sql))?;
            tx.execute(
                "UPDATE campus_schema SET version = ?1",
                params![i as i64 + 1],
            )?;
            tracing::info!(
                version = i + 1,
                "Datenbank-Migration angewendet (PostgreSQL)"
            );
        }
        Ok(())
    })();
    match result {
        Ok(()) => tx.execute_batch("COMMIT"),
        Err(e) => {
            let _ = tx.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The throw-away PostgreSQL cluster of the integration tests.
#[cfg(test)]
#[path = "../../tests/backend/pg.rs"]
#[allow(dead_code)]
mod test_pg;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::Purpose;

    use super::test_pg as pg;

    /// A fresh SQLite file and, where the binaries are there, a fresh
    /// PostgreSQL database: the tests below run on both.
    fn databases() -> Vec<(Location, Option<tempfile::TempDir>)> {
        let dir = tempfile::tempdir().unwrap();
        let mut out = vec![(Location::File(dir.path().join("x.db")), Some(dir))];
        if let Some(url) = pg::fresh_database() {
            out.push((Location::Postgres(url), None));
        }
        out
    }

    /// The outbox's Message-IDs by row id.
    fn message_ids(store: &Store) -> Vec<String> {
        let rows = store.outbox().unwrap();
        rows.into_iter().map(|m| m.message_id).collect()
    }

    fn mail(id: &str) -> OutgoingMail {
        OutgoingMail {
            message_id: id.into(),
            kind: "test".into(),
            envelope_from: "a@b.de".into(),
            recipient: "c@d.de".into(),
            raw: b"x".to_vec(),
            submission_id: None,
        }
    }

    #[test]
    fn migrations_are_versioned_and_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        let mode: String = store
            .read(|tx| tx.query_row("PRAGMA journal_mode", params![], |r| r.get(0)))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn postgres_gets_its_own_migrations_and_sqlite_only_counts_them() {
        let Some(url) = pg::fresh_database() else {
            return;
        };
        let store = Store::open(Location::Postgres(url)).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        let (compression, function): (String, i64) = store
            .read(|tx| {
                tx.query_row(
                    "SELECT (SELECT CAST(attcompression AS TEXT) FROM pg_attribute
                             WHERE attrelid = 'outbox'::regclass AND attname = 'raw'),
                            (SELECT count(*) FROM pg_proc WHERE proname = 'campus_count_requests')",
                    params![],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
            })
            .unwrap();
        // Debian's PostgreSQL is built with lz4.
        assert_eq!((compression.as_str(), function), ("l", 1));
        let dir = tempfile::tempdir().unwrap();
        let sqlite = Store::open(dir.path().join("x.db")).unwrap();
        assert_eq!(sqlite.schema_version().unwrap(), MIGRATIONS.len() as i64);
    }

    #[test]
    fn a_failed_closure_rolls_back() {
        for (db, _dir) in databases() {
            let store = Store::open(&db).unwrap();
            let r: Result<()> = store.write(|tx| {
                tx.enqueue(&mail("<1@x>"), 0)?;
                Err(StoreError::Io(std::io::Error::other("boom")))
            });
            assert!(r.is_err());
            assert_eq!(store.count(Table::Outbox).unwrap(), 0);
        }
    }

    #[test]
    fn claims_are_exclusive_and_leases_expire() {
        for (db, _dir) in databases() {
            let a = Store::open(&db).unwrap();
            let b = Store::open(&db).unwrap();
            a.write(|tx| tx.enqueue(&mail("<1@x>"), 100)).unwrap();
            let lease = Duration::from_secs(60);
            let claimed = a.claim_next("wa", 100, lease).unwrap().unwrap();
            assert!(b.claim_next("wb", 100, lease).unwrap().is_none());
            // After the lease, another worker may take over; the first loses it.
            let again = b.claim_next("wb", 200, lease).unwrap().unwrap();
            assert_eq!(again.id, claimed.id);
            assert_eq!(again.attempts, 2);
            assert!(!a.mark_sent(claimed.id, "wa", 201).unwrap());
            assert!(b.mark_sent(claimed.id, "wb", 201).unwrap());
            assert!(a.claim_next("wa", 10_000, lease).unwrap().is_none());
        }
    }

    #[test]
    fn a_claim_is_marked_sent_at_once_but_only_where_it_still_holds() {
        for (db, _dir) in databases() {
            let a = Store::open(&db).unwrap();
            let b = Store::open(&db).unwrap();
            for id in 1..=3 {
                a.write(|tx| tx.enqueue(&mail(&format!("<{id}@x>")), 100))
                    .unwrap();
            }
            let lease = Duration::from_secs(60);
            let claimed: Vec<i64> = a
                .claim_due("wa", 100, lease, 3)
                .unwrap()
                .iter()
                .map(|m| m.id)
                .collect();
            assert_eq!(claimed.len(), 3);
            // The lease ran out and b took the second one over.
            a.write(|tx| {
                tx.execute(
                    "UPDATE outbox SET claimed_by = 'wb' WHERE id = ?1",
                    params![claimed[1]],
                )
            })
            .unwrap();
            let marked = a.mark_sent_all(&claimed, "wa", 150).unwrap();
            assert_eq!(marked, vec![claimed[0], claimed[2]]);
            let states: Vec<String> = a.outbox().unwrap().into_iter().map(|r| r.state).collect();
            assert_eq!(states, ["sent", "sending", "sent"]);
            assert!(b.mark_sent(claimed[1], "wb", 151).unwrap());
            assert!(a.mark_sent_all(&claimed, "wa", 152).unwrap().is_empty());
        }
    }

    #[test]
    fn a_claim_of_several_takes_them_in_due_order_and_leaves_the_rest() {
        for (db, _dir) in databases() {
            let a = Store::open(&db).unwrap();
            let b = Store::open(&db).unwrap();
            let lease = Duration::from_secs(60);
            for (id, due) in [(1, 105), (2, 101), (3, 104), (4, 102), (5, 103), (6, 500)] {
                a.write(|tx| tx.enqueue(&mail(&format!("<{id}@x>")), due))
                    .unwrap();
            }
            let ids = |mails: Vec<ClaimedMail>| -> Vec<String> {
                mails.into_iter().map(|m| m.message_id).collect()
            };
            let first = a.claim_due("wa", 200, lease, 3).unwrap();
            assert!(first.iter().all(|m| m.attempts == 1));
            assert_eq!(ids(first), ["<2@x>", "<4@x>", "<5@x>"], "on {db}");
            // Another worker gets the rest that is due, not what a holds.
            let second = b.claim_due("wb", 200, lease, 16).unwrap();
            assert_eq!(ids(second), ["<3@x>", "<1@x>"], "on {db}");
            assert!(b.claim_due("wb", 200, lease, 16).unwrap().is_empty());
        }
    }

    #[test]
    fn claims_take_the_earliest_due_mail_across_states() {
        for (db, _dir) in databases() {
            let store = Store::open(&db).unwrap();
            let lease = Duration::from_secs(60);
            // 1 becomes a retry due at 150, 2 is queued at 120, 3 a stale lease.
            store.write(|tx| tx.enqueue(&mail("<1@x>"), 100)).unwrap();
            store.write(|tx| tx.enqueue(&mail("<2@x>"), 120)).unwrap();
            store.write(|tx| tx.enqueue(&mail("<3@x>"), 90)).unwrap();
            let first = store.claim_next("w", 100, lease).unwrap().unwrap();
            assert_eq!(first.message_id, "<3@x>");
            let one = store.claim_next("w", 100, lease).unwrap().unwrap();
            assert_eq!(one.message_id, "<1@x>");
            store
                .mark_attempt_failed(one.id, "w", "later", Some(150))
                .unwrap();
            // At 130 only the queued one is due (the lease of 3 runs until 160).
            let two = store.claim_next("w", 130, lease).unwrap().unwrap();
            assert_eq!(two.message_id, "<2@x>");
            assert!(store.claim_next("w", 140, lease).unwrap().is_none());
            // At 170 the retry (due 150) and the stale lease of 3 (due 90) are
            // both due: the earlier due time goes first.
            assert_eq!(
                store
                    .claim_next("w", 170, lease)
                    .unwrap()
                    .unwrap()
                    .message_id,
                "<3@x>"
            );
            assert_eq!(
                store
                    .claim_next("w", 170, lease)
                    .unwrap()
                    .unwrap()
                    .message_id,
                "<1@x>"
            );
        }
    }

    #[test]
    fn purge_removes_unconfirmed_and_expired_but_keeps_the_rest() {
        for (db, _dir) in databases() {
            let store = Store::open(&db).unwrap();
            let day = 86_400;
            let now = 1_000 * day;
            let payload = serde_json::json!({});
            store
                .write(|tx| {
                    for (form, status, age, email) in [
                        ("kontakt", "eingegangen", 40, "alt@x.de"),
                        ("kontakt", "eingegangen", 10, "neu@x.de"),
                        ("newsletter", "unbestaetigt", 3, "offen@x.de"),
                        ("newsletter", "bestaetigt", 3, "aktiv@x.de"),
                    ] {
                        let id = tx.insert_submission(&NewSubmission {
                            form,
                            payload: &payload,
                            email: Some(email),
                            status,
                            ip_hash: "h",
                            now: now - age * day,
                        })?;
                        let consent = tx.insert_consent(&NewConsent {
                            submission_id: Some(id),
                            email,
                            purpose: form,
                            text_version: "v1",
                            ip_hash: "h",
                            now: now - age * day,
                        })?;
                        if status != "unbestaetigt" {
                            tx.confirm_consent(consent, now - age * day, "h", "ua")?;
                        }
                        if form == "newsletter" {
                            tx.upsert_pending_subscriber(email, "", consent, now - age * day)?;
                            if status == "bestaetigt" {
                                tx.activate_subscriber(email, now - age * day)?;
                            }
                        }
                    }
                    Ok::<_, StoreError>(())
                })
                .unwrap();
            // Newsletter retention (1 day) is shorter than the age of the active
            // sign-up: it is kept all the same while the subscription lasts.
            let report = store
                .purge(
                    now,
                    &|f| if f == "kontakt" { 30 } else { 1 },
                    now - 2 * day,
                    30,
                )
                .unwrap();
            // The old contact request and the unconfirmed sign-up.
            assert_eq!(report.submissions + report.unconfirmed, 2, "{report:?}");
            assert_eq!(report.subscribers, 1, "{report:?}");
            assert_eq!(store.count(Table::Submissions).unwrap(), 2);
            assert_eq!(store.count(Table::Subscribers).unwrap(), 1);
            // Consents went with their submissions (cascade).
            assert_eq!(store.count(Table::Consents).unwrap(), 2);
            let kept: Vec<String> = store
                .export("kontakt")
                .unwrap()
                .iter()
                .map(|r| r.status.clone())
                .collect();
            assert_eq!(kept, ["eingegangen"]);
            let newsletter: Vec<String> = store
                .export("newsletter")
                .unwrap()
                .iter()
                .map(|r| r.status.clone())
                .collect();
            assert_eq!(
                newsletter,
                ["bestaetigt"],
                "the active subscription keeps its proof"
            );
        }
    }

    #[test]
    fn a_batch_commits_once_and_a_failed_job_rolls_back_alone() {
        for (db, _dir) in databases() {
            let store = Store::open(&db).unwrap();
            let results = store
                .write_batch(1..=5, |tx, i| {
                    let i = *i;
                    tx.enqueue(&mail(&format!("<{i}@x>")), 0)?;
                    if i == 3 {
                        // The job wrote a row, then failed: its row must go.
                        return Err(StoreError::Io(std::io::Error::other("boom")));
                    }
                    Ok(i)
                })
                .unwrap();
            let ok: Vec<i32> = results
                .iter()
                .filter_map(|r| r.as_ref().ok().copied())
                .collect();
            assert_eq!(ok, [1, 2, 4, 5]);
            assert!(results[2].is_err());
            assert_eq!(store.count(Table::Outbox).unwrap(), 4);
            let ids = message_ids(&store);
            assert!(!ids.contains(&"<3@x>".to_string()), "{ids:?}");
        }
    }

    #[test]
    fn a_pipelined_statement_that_fails_fails_its_own_job_and_its_commit() {
        for (db, _dir) in databases() {
            let store = Store::open(&db).unwrap();
            // Job 3 repeats job 1's message id: its insert fails only on the
            // server, after the job itself returned Ok (on PostgreSQL).
            let results = store
                .write_batch(1..=5, |tx, i| {
                    let id = if *i == 3 { 1 } else { *i };
                    tx.enqueue(&mail(&format!("<{id}@x>")), 0).map(|()| *i)
                })
                .unwrap();
            let ok: Vec<i32> = results
                .iter()
                .filter_map(|r| r.as_ref().ok().copied())
                .collect();
            assert_eq!(ok, [1, 2, 4, 5], "{:?} on {db}", results[2]);
            assert_eq!(store.count(Table::Outbox).unwrap(), 4);
            // A plain transaction whose last statement fails commits nothing.
            let failed = store.write(|tx| {
                tx.enqueue(&mail("<6@x>"), 0)?;
                tx.enqueue(&mail("<2@x>"), 0)
            });
            assert!(failed.is_err(), "duplicate accepted on {db}");
            assert_eq!(store.count(Table::Outbox).unwrap(), 4);
            // The connections are fine afterwards.
            store.write(|tx| tx.enqueue(&mail("<7@x>"), 0)).unwrap();
            assert_eq!(store.count(Table::Outbox).unwrap(), 5);
        }
    }

    #[test]
    fn a_batchs_inserts_keep_the_job_order_and_are_seen_by_the_next_statement() {
        for (db, _dir) in databases() {
            let store = Store::open(&db).unwrap();
            // 69 mails held back and sent together (64 + 4 + 1 rows on
            // PostgreSQL) before job 69's query, then job 70's alone.
            let runs = std::cell::Cell::new(0);
            let results = store
                .write_batch(1..=70, |tx, i| {
                    runs.set(runs.get() + 1);
                    tx.enqueue(&mail(&format!("<{i}@x>")), 0)?;
                    if *i < 69 {
                        return Ok::<_, StoreError>(None);
                    }
                    let seen: i64 =
                        tx.query_row("SELECT count(*) FROM outbox", params![], |r| r.get(0))?;
                    Ok(Some(seen))
                })
                .unwrap();
            // A combined insert that failed would have run every job again.
            assert_eq!(runs.get(), 70, "jobs run again on {db}");
            assert_eq!(results[68].as_ref().unwrap(), &Some(69), "on {db}");
            assert_eq!(results[69].as_ref().unwrap(), &Some(70), "on {db}");
            let ids = message_ids(&store);
            let expected: Vec<String> = (1..=70).map(|i| format!("<{i}@x>")).collect();
            assert_eq!(ids, expected, "rows by id in job order on {db}");
            // The connection went back to sending each insert on its own.
            store.write(|tx| tx.enqueue(&mail("<71@x>"), 0)).unwrap();
            assert_eq!(store.count(Table::Outbox).unwrap(), 71);
        }
    }

    #[test]
    fn reserved_submission_ids_are_unique_across_nodes_and_never_reused() {
        let Some(url) = pg::fresh_database() else {
            return;
        };
        let nodes = [
            Store::open(Location::Postgres(url.clone())).unwrap(),
            Store::open(Location::Postgres(url)).unwrap(),
        ];
        let payload = serde_json::json!({});
        let submission = NewSubmission {
            form: "kontakt",
            payload: &payload,
            email: None,
            status: "eingegangen",
            ip_hash: "h",
            now: 1,
        };
        // A rolled-back insert uses up its id.
        let burnt = std::cell::Cell::new(0);
        let rolled_back: Result<()> = nodes[0].write(|tx| {
            burnt.set(tx.insert_submission(&submission)?);
            Err(StoreError::NoRows)
        });
        assert!(rolled_back.is_err());
        let mut ids = Vec::new();
        for i in 0..(2 * db::ID_BLOCK + 5) {
            let node = &nodes[(i % 2) as usize];
            ids.push(node.write(|tx| tx.insert_submission(&submission)).unwrap());
        }
        let distinct: std::collections::HashSet<i64> = ids.iter().copied().collect();
        assert_eq!(distinct.len(), ids.len(), "an id twice: {ids:?}");
        assert!(
            !distinct.contains(&burnt.get()),
            "id {} reused",
            burnt.get()
        );
        // Every insert with its reserved id is stored under that id.
        let stored: Vec<i64> = nodes[1]
            .read(|tx| tx.query_map("SELECT id FROM submissions", params![], |r| r.get(0)))
            .unwrap();
        let stored: std::collections::HashSet<i64> = stored.into_iter().collect();
        assert_eq!(stored, distinct);
    }

    #[test]
    fn a_batch_without_failures_runs_each_job_once() {
        for (db, _dir) in databases() {
            let store = Store::open(&db).unwrap();
            let mut runs = 0;
            let results = store
                .write_batch(1..=5, |tx, i| {
                    runs += 1;
                    tx.enqueue(&mail(&format!("<{i}@x>")), 0).map(|_| *i)
                })
                .unwrap();
            assert_eq!(runs, 5, "no second attempt when nothing failed");
            assert_eq!(results.len(), 5);
            assert_eq!(store.count(Table::Outbox).unwrap(), 5);
            // One failing job: the optimistic attempt stops at it (3 runs),
            // then every job runs again in its own savepoint (5 runs).
            let mut runs = 0;
            store
                .write_batch(6..=10, |tx, i| {
                    runs += 1;
                    tx.enqueue(&mail(&format!("<{i}@x>")), 0)?;
                    if *i == 8 {
                        return Err(StoreError::Io(std::io::Error::other("boom")));
                    }
                    Ok(())
                })
                .unwrap();
            assert_eq!(runs, 8);
            assert_eq!(store.count(Table::Outbox).unwrap(), 9);
        }
    }

    #[test]
    fn synchronous_is_full() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("x.db")).unwrap();
        let level: i64 = store
            .read(|tx| tx.query_row("PRAGMA synchronous", params![], |r| r.get(0)))
            .unwrap();
        assert_eq!(level, 2, "2 = FULL");
    }

    /// Two nodes taking two locks in opposite order: PostgreSQL aborts one
    /// transaction with a deadlock, and `write` runs it again (even though
    /// the closure passed over the error), so both commit and exactly one
    /// ran twice.
    #[test]
    fn a_deadlocked_transaction_is_run_again() {
        let Some(url) = pg::fresh_database() else {
            return;
        };
        let a = std::sync::Arc::new(Store::open(Location::Postgres(url.clone())).unwrap());
        let b = std::sync::Arc::new(Store::open(Location::Postgres(url)).unwrap());
        let runs = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let both = std::sync::Arc::new(std::sync::Barrier::new(2));
        let node = |store: std::sync::Arc<Store>,
                    first: &'static str,
                    second: &'static str,
                    id: &'static str| {
            let (runs, both) = (runs.clone(), both.clone());
            std::thread::spawn(move || {
                let mut attempt = 0;
                store.write(|tx| {
                    attempt += 1;
                    runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    tx.lock(first)?;
                    if attempt == 1 {
                        // Both hold their first lock before either asks for the second.
                        both.wait();
                    }
                    // Errors passed over on purpose: `write` must see
                    // by itself that the server aborted the transaction.
                    let _ = tx.lock(second);
                    let _ = tx.enqueue(&mail(id), 0);
                    Ok::<_, StoreError>(())
                })
            })
        };
        let one = node(a.clone(), "x", "y", "<a@x>");
        let two = node(b, "y", "x", "<b@x>");
        one.join().unwrap().unwrap();
        two.join().unwrap().unwrap();
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 3);
        assert_eq!(a.count(Table::Outbox).unwrap(), 2);
    }

    #[test]
    fn tokens_are_used_once() {
        for (db, _dir) in databases() {
            let store = Store::open(&db).unwrap();
            store
                .write(|tx| tx.insert_token("h", Purpose::Confirm, None, None, 0, 100))
                .unwrap();
            assert!(store.write(|tx| tx.find_token("h", 50)).unwrap().is_some());
            assert!(store.write(|tx| tx.find_token("h", 101)).unwrap().is_none());
            assert!(store.write(|tx| tx.use_token("h", 50)).unwrap().is_some());
            assert!(store.write(|tx| tx.use_token("h", 51)).unwrap().is_none());
        }
    }
}
