//! The one place SQL runs, on SQLite or on PostgreSQL.
//!
//! Domain methods are written once, in portable SQL with `?1`-style
//! placeholders, against [`Tx`]: `execute`, `query_row`, `query_map`,
//! `row.get(i)` (close to rusqlite, so code ports mechanically). Values
//! cross the boundary as [`Value`]; on PostgreSQL `?N` becomes `$N` and each
//! value is encoded as the type the server expects for that placeholder
//! (an `i64` for an `INTEGER` compared with a literal, a `bool` for a
//! `BOOLEAN`), so one SQL text serves both engines.
//!
//! Why `tokio-postgres` driven by a background runtime instead of the
//! synchronous `postgres` crate: `postgres` blocks through a runtime of its
//! own and panics when called on a thread that is already inside tokio
//! (the handlers and tests call the store from async code, as they do with
//! SQLite's blocking calls). Here the connections run on one background
//! thread and the caller waits for each answer with a tiny `block_on`, which
//! works from any thread.
//!
//! Each pooled PostgreSQL connection keeps the statements it has prepared
//! ([`PgConn`]): a statement is parsed once per connection and then only
//! bound and executed (one round trip instead of two).

use super::{Result, StoreError};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Wake};
use std::time::Duration;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type};

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A value of a column or a parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Bool(bool),
    Text(String),
    Blob(Vec<u8>),
}

/// What can be bound to a placeholder.
pub trait ToValue {
    fn to_value(&self) -> Value;
}

/// What a column can be read as.
pub trait FromValue: Sized {
    fn from_value(v: Value) -> std::result::Result<Self, String>;
}

/// `params![a, b]`: the parameters of one statement.
macro_rules! params {
    () => { &[] as &[&dyn $crate::store::ToValue] };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::store::ToValue),+] as &[&dyn $crate::store::ToValue] };
}
pub(crate) use params;

impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}
impl ToValue for i64 {
    fn to_value(&self) -> Value {
        Value::Int(*self)
    }
}
impl ToValue for i32 {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}
impl ToValue for u32 {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}
impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
}
impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_string())
    }
}
impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}
impl ToValue for [u8] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}
impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
}
impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

impl FromValue for Value {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        Ok(v)
    }
}
impl FromValue for i64 {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        match v {
            Value::Int(i) => Ok(i),
            Value::Bool(b) => Ok(i64::from(b)),
            other => Err(format!("{other:?} ist keine ganze Zahl")),
        }
    }
}
impl FromValue for u32 {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        let i = i64::from_value(v)?;
        u32::try_from(i).map_err(|_| format!("{i} liegt außerhalb von u32"))
    }
}
impl FromValue for bool {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        match v {
            Value::Bool(b) => Ok(b),
            Value::Int(i) => Ok(i != 0),
            other => Err(format!("{other:?} ist kein Wahrheitswert")),
        }
    }
}
impl FromValue for String {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        match v {
            Value::Text(s) => Ok(s),
            other => Err(format!("{other:?} ist kein Text")),
        }
    }
}
impl FromValue for Vec<u8> {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        match v {
            Value::Blob(b) => Ok(b),
            Value::Text(s) => Ok(s.into_bytes()),
            other => Err(format!("{other:?} sind keine Bytes")),
        }
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        match v {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// One result row.
#[derive(Debug, Clone)]
pub struct Row {
    values: Vec<Value>,
}

impl Row {
    /// Column `i` (0-based) as `T`.
    pub fn get<T: FromValue>(&self, i: usize) -> Result<T> {
        let v = self
            .values
            .get(i)
            .cloned()
            .ok_or_else(|| StoreError::Value {
                column: i,
                message: "Spalte fehlt".into(),
            })?;
        T::from_value(v).map_err(|message| StoreError::Value { column: i, message })
    }

    /// All columns (for copying rows between databases).
    pub fn into_values(self) -> Vec<Value> {
        self.values
    }
}

/// `query_row(..).optional()`: no row is `None`, not an error.
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(StoreError::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A connection the statements of one [`super::Tx`] run on.
#[derive(Clone, Copy)]
pub(crate) enum Conn<'a> {
    Sqlite(&'a rusqlite::Connection),
    Postgres(&'a PgConn),
}

impl Conn<'_> {
    pub(crate) fn engine(&self) -> Engine {
        match self {
            Conn::Sqlite(_) => Engine::Sqlite,
            Conn::Postgres(_) => Engine::Postgres,
        }
    }

    pub(crate) fn execute(&self, sql: &str, params: &[&dyn ToValue]) -> Result<usize> {
        match self {
            Conn::Sqlite(c) => {
                Ok(c.execute(sql, rusqlite::params_from_iter(sqlite_values(params)))?)
            }
            Conn::Postgres(c) => {
                let values = pg_values(params);
                let refs = pg_refs(&values);
                let statement = c.statement(sql)?;
                let changed = c.send_statement(sql, c.client.execute(&statement, &refs));
                Ok(changed? as usize)
            }
        }
    }

    /// Runs a statement whose answer nobody needs before the next one (an
    /// insert whose id is not read). On PostgreSQL it is sent at once and
    /// its answer read with the next statement that waits, or by
    /// [`Conn::flush`]: statements of one transaction travel together
    /// instead of one round trip each. Its error, if any, is then that
    /// later statement's error; the commit of [`super::Store::write`]
    /// always waits, so an error is never lost.
    pub(crate) fn execute_pipelined(&self, sql: &str, params: &[&dyn ToValue]) -> Result<()> {
        match self {
            Conn::Sqlite(_) => self.execute(sql, params).map(|_| ()),
            Conn::Postgres(c) => c.pipeline(sql, pg_values(params)),
        }
    }

    /// While on, inserts whose answer can wait ([`Conn::execute_pipelined`])
    /// are held back and sent as one multi-row insert per SQL text, just
    /// before the next statement that is not such an insert, or at
    /// [`Conn::flush`] (PostgreSQL; SQLite runs each at once). Held rows of
    /// one table keep their order; the tables go in the order their first
    /// row came. Turning it off drops what is still held: the caller rolls
    /// back, or flushed before.
    pub(crate) fn coalesce_inserts(&self, on: bool) {
        if let Conn::Postgres(c) = self {
            c.coalescing.set(on);
            if !on {
                c.held.borrow_mut().clear();
            }
        }
    }

    /// See [`super::Tx::reserved_id`].
    pub(crate) fn reserved_id(&self, table: &'static str) -> Result<Option<i64>> {
        match self {
            Conn::Sqlite(_) => Ok(None),
            Conn::Postgres(c) => c.reserved_id(table).map(Some),
        }
    }

    /// Reads the answers of the pipelined statements; the first error.
    pub(crate) fn flush(&self) -> Result<()> {
        match self {
            Conn::Sqlite(_) => Ok(()),
            Conn::Postgres(c) => c.flush(),
        }
    }

    pub(crate) fn execute_batch(&self, sql: &str) -> Result<()> {
        match self {
            Conn::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Conn::Postgres(c) => c.send(c.client.batch_execute(sql)),
        }
    }

    /// Runs commands without parameters whose answer nobody needs before
    /// the next statement (`BEGIN`, `SAVEPOINT`). On PostgreSQL they go out
    /// together with the next statement, saving a round trip each; their
    /// error, if any, is that statement's error.
    pub(crate) fn defer(&self, sql: &str) -> Result<()> {
        match self {
            Conn::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Conn::Postgres(c) => {
                let mut pending = c.pending.borrow_mut();
                match pending.as_mut() {
                    Some(ahead) => {
                        ahead.push_str("; ");
                        ahead.push_str(sql);
                    }
                    None => *pending = Some(sql.to_owned()),
                }
                Ok(())
            }
        }
    }

    pub(crate) fn query(&self, sql: &str, params: &[&dyn ToValue]) -> Result<Vec<Row>> {
        match self {
            Conn::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let columns = stmt.column_count();
                let mut rows = stmt.query(rusqlite::params_from_iter(sqlite_values(params)))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    let mut values = Vec::with_capacity(columns);
                    for i in 0..columns {
                        values.push(match r.get_ref(i)? {
                            rusqlite::types::ValueRef::Null => Value::Null,
                            rusqlite::types::ValueRef::Integer(i) => Value::Int(i),
                            rusqlite::types::ValueRef::Real(f) => Value::Real(f),
                            rusqlite::types::ValueRef::Text(t) => {
                                Value::Text(String::from_utf8_lossy(t).into_owned())
                            }
                            rusqlite::types::ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                        });
                    }
                    out.push(Row { values });
                }
                Ok(out)
            }
            Conn::Postgres(c) => {
                let values = pg_values(params);
                let refs = pg_refs(&values);
                let statement = c.statement(sql)?;
                let rows = c.send_statement(sql, c.client.query(&statement, &refs))?;
                rows.iter()
                    .map(|r| {
                        let values = (0..r.len())
                            .map(|i| r.try_get::<_, Value>(i))
                            .collect::<std::result::Result<Vec<_>, _>>()?;
                        Ok(Row { values })
                    })
                    .collect()
            }
        }
    }
}

fn sqlite_values(params: &[&dyn ToValue]) -> Vec<rusqlite::types::Value> {
    use rusqlite::types::Value as S;
    params
        .iter()
        .map(|p| match p.to_value() {
            Value::Null => S::Null,
            Value::Int(i) => S::Integer(i),
            Value::Real(f) => S::Real(f),
            Value::Bool(b) => S::Integer(i64::from(b)),
            Value::Text(t) => S::Text(t),
            Value::Blob(b) => S::Blob(b),
        })
        .collect()
}

fn pg_values(params: &[&dyn ToValue]) -> Vec<Value> {
    params.iter().map(|p| p.to_value()).collect()
}

fn pg_refs(values: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

/// `?N` → `$N` outside string literals (the SQL is ours, never user input).
pub(crate) fn pg_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut in_literal = false;
    for c in sql.chars() {
        match c {
            '\'' => {
                in_literal = !in_literal;
                out.push(c);
            }
            '?' if !in_literal => out.push('$'),
            _ => out.push(c),
        }
    }
    out
}

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, BoxError> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                _ => i.to_string().as_str().to_sql(ty, out),
            },
            Value::Bool(b) => match *ty {
                Type::BOOL => b.to_sql(ty, out),
                _ => Value::Int(i64::from(*b)).to_sql(ty, out),
            },
            Value::Real(f) => match *ty {
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                _ => f.to_sql(ty, out),
            },
            Value::Text(s) => s.as_str().to_sql(ty, out),
            Value::Blob(b) => b.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

impl<'a> FromSql<'a> for Value {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> std::result::Result<Self, BoxError> {
        Ok(match *ty {
            Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => Value::Int(i64::from(i32::from_sql(ty, raw)?)),
            Type::INT2 => Value::Int(i64::from(i16::from_sql(ty, raw)?)),
            Type::BOOL => Value::Bool(bool::from_sql(ty, raw)?),
            Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Value::Real(f64::from(f32::from_sql(ty, raw)?)),
            Type::BYTEA => Value::Blob(Vec::<u8>::from_sql(ty, raw)?),
            _ => Value::Text(String::from_sql(ty, raw)?),
        })
    }

    fn from_sql_null(_: &Type) -> std::result::Result<Self, BoxError> {
        Ok(Value::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Waits for `f` on the calling thread (the connection itself is driven by
/// the pool's background runtime, so this needs no runtime here).
pub(crate) fn block_on<F: Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Arc::new(Unpark(std::thread::current())).into();
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

/// Both futures to the end, `first` always polled first: a request goes
/// out when its future is first polled, so `first`'s is sent before
/// `second`'s and the connection answers them in that order.
fn both<A: Future, B: Future>(first: A, second: B) -> impl Future<Output = (A::Output, B::Output)> {
    let mut first = Box::pin(first);
    let mut second = Box::pin(second);
    let (mut a, mut b) = (None, None);
    std::future::poll_fn(move |cx| {
        if a.is_none() {
            if let Poll::Ready(v) = first.as_mut().poll(cx) {
                a = Some(v);
            }
        }
        if b.is_none() {
            if let Poll::Ready(v) = second.as_mut().poll(cx) {
                b = Some(v);
            }
        }
        if a.is_some() && b.is_some() {
            Poll::Ready((a.take().expect("first"), b.take().expect("second")))
        } else {
            Poll::Pending
        }
    })
}

/// Every answer in order; the first error (the others are read too, so
/// the connection is ready for the next request).
async fn answers(in_flight: Vec<InFlight>) -> std::result::Result<(), tokio_postgres::Error> {
    let mut first_error = None;
    for f in in_flight {
        if let Err(e) = f.await {
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// One PostgreSQL connection with the statements prepared on it, keyed by
/// their portable SQL text. The cache lives and dies with the connection,
/// so a new connection starts empty. Migrations run before the first
/// domain statement is prepared; a statement that fails (for example
/// after another node changed the schema under it) is dropped from the
/// cache and prepared again on its next use.
pub(crate) struct PgConn {
    client: Arc<tokio_postgres::Client>,
    statements: RefCell<HashMap<String, tokio_postgres::Statement>>,
    /// Commands whose answer nobody waits for (`BEGIN`, `SAVEPOINT`): sent
    /// together with the next statement, in one round trip (see
    /// [`Conn::defer`]).
    pending: RefCell<Option<String>>,
    /// Statements already sent whose answers have not been read yet
    /// ([`Conn::execute_pipelined`]), oldest first.
    in_flight: RefCell<Vec<InFlight>>,
    /// Ids taken from a table's sequence and not used yet, next last.
    reserved: RefCell<HashMap<&'static str, Vec<i64>>>,
    /// See [`Conn::coalesce_inserts`].
    coalescing: Cell<bool>,
    /// Rows held back while coalescing, by SQL text in the order first seen.
    held: RefCell<Vec<HeldRows>>,
}

/// The rows of one single-row insert held back to go as one statement.
struct HeldRows {
    sql: String,
    rows: Vec<Vec<Value>>,
}

/// Held rows go in statements of these many rows (largest first): at most
/// seven texts per insert for a connection to prepare, whatever the batch,
/// and at most seven statements for a batch below 128 jobs.
const ROWS_PER_INSERT: [usize; 7] = [64, 32, 16, 8, 4, 2, 1];

/// A single-row `INSERT ... VALUES (...)` with `?N` placeholders (and
/// perhaps a `RETURNING` nobody reads), taken apart so it can be written
/// for many rows.
struct InsertRow<'a> {
    /// Up to and including `VALUES `.
    head: &'a str,
    /// The row as text before each placeholder and the placeholder's number.
    parts: Vec<(&'a str, usize)>,
    /// The row's text after its last placeholder.
    tail: &'a str,
    /// The highest placeholder: the parameters one row takes.
    per_row: usize,
}

impl<'a> InsertRow<'a> {
    /// `None` for any other statement (literals, plain `?`, a function
    /// call in the row, anything after the row but `RETURNING`).
    fn parse(sql: &'a str) -> Option<InsertRow<'a>> {
        let sql = sql.trim();
        if !sql.starts_with("INSERT INTO ") || sql.contains('\'') {
            return None;
        }
        let values = sql.rfind(" VALUES ")?;
        let (head, rest) = sql.split_at(values + " VALUES ".len());
        let close = rest.find(')')?;
        if !rest.starts_with('(') || rest[1..close].contains('(') {
            return None;
        }
        let after = rest[close + 1..].trim();
        if !(after.is_empty() || after.starts_with("RETURNING ")) || head.contains('?') {
            return None;
        }
        let row = &rest[..=close];
        let mut parts = Vec::new();
        let mut text_start = 0;
        while let Some(at) = row[text_start..].find('?').map(|i| text_start + i) {
            let digits = row[at + 1..]
                .find(|c: char| !c.is_ascii_digit())
                .map_or(row.len(), |i| at + 1 + i);
            parts.push((&row[text_start..at], row[at + 1..digits].parse().ok()?));
            text_start = digits;
        }
        let per_row = parts.iter().map(|&(_, n)| n).max()?;
        Some(InsertRow {
            head,
            parts,
            tail: &row[text_start..],
            per_row,
        })
    }

    /// The insert of `rows` rows: row `i` takes the parameters
    /// `i * per_row + 1 ..= (i + 1) * per_row`.
    fn for_rows(&self, rows: usize) -> String {
        let mut out = String::with_capacity(self.head.len() + rows * 64);
        out.push_str(self.head);
        for r in 0..rows {
            if r > 0 {
                out.push_str(", ");
            }
            for &(text, n) in &self.parts {
                out.push_str(text);
                out.push('?');
                out.push_str(&(r * self.per_row + n).to_string());
            }
            out.push_str(self.tail);
        }
        out
    }
}

/// `sql` (see [`InsertRow`]) as an insert of `rows` rows.
pub(crate) fn multi_row_insert(sql: &str, rows: usize) -> Option<String> {
    InsertRow::parse(sql).map(|row| row.for_rows(rows))
}

/// The number of parameters one row of `sql` takes (its highest `?N`).
fn params_per_row(sql: &str) -> Option<usize> {
    InsertRow::parse(sql).map(|row| row.per_row)
}

/// Ids a connection takes from a sequence at once ([`Conn::reserved_id`]).
pub(crate) const ID_BLOCK: i64 = 64;

/// A sent statement's answer, still to be read.
type InFlight =
    std::pin::Pin<Box<dyn Future<Output = std::result::Result<u64, tokio_postgres::Error>> + Send>>;

/// More distinct SQL texts than this on one connection means SQL is built
/// with varying text somewhere; the cache then starts over instead of
/// growing without bound (our store has far fewer).
const STATEMENT_CACHE_MAX: usize = 512;

impl PgConn {
    fn new(client: tokio_postgres::Client) -> PgConn {
        PgConn {
            client: Arc::new(client),
            statements: RefCell::new(HashMap::new()),
            pending: RefCell::new(None),
            in_flight: RefCell::new(Vec::new()),
            reserved: RefCell::new(HashMap::new()),
            coalescing: Cell::new(false),
            held: RefCell::new(Vec::new()),
        }
    }

    /// The next reserved id of `table`, reserving a new block when none is
    /// left. Sequence values are never handed out twice, even when the
    /// transaction that took them rolls back.
    fn reserved_id(&self, table: &'static str) -> Result<i64> {
        if let Some(id) = self.reserved.borrow_mut().get_mut(table).and_then(Vec::pop) {
            return Ok(id);
        }
        let statement = self.statement(
            "SELECT nextval(pg_get_serial_sequence(?1, 'id')) FROM generate_series(1, CAST(?2 AS BIGINT))",
        )?;
        let rows = self.send(self.client.query(&statement, &[&table, &ID_BLOCK]))?;
        let mut ids = rows
            .iter()
            .map(|r| r.try_get::<_, i64>(0))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        ids.sort_unstable_by(|a, b| b.cmp(a));
        let id = ids.pop().ok_or(StoreError::NoRows)?;
        self.reserved.borrow_mut().insert(table, ids);
        Ok(id)
    }

    /// Waits for `f`, sending the pending commands ahead of it without
    /// waiting for them in between: both requests go out before either
    /// answer is read. An error of the pending commands or of a statement
    /// still in flight wins (the statement behind them then failed too,
    /// inside the aborted transaction).
    fn send<T>(
        &self,
        f: impl Future<Output = std::result::Result<T, tokio_postgres::Error>>,
    ) -> Result<T> {
        self.send_pending();
        self.send_held()?;
        let in_flight = std::mem::take(&mut *self.in_flight.borrow_mut());
        if in_flight.is_empty() {
            return Ok(block_on(f)?);
        }
        let (ahead, answer) = block_on(both(answers(in_flight), f));
        self.forget_statements_after(&ahead);
        ahead?;
        Ok(answer?)
    }

    /// A pipelined statement that failed may have been prepared before
    /// another node changed the schema; which one is not known here, so
    /// every statement is prepared again on its next use.
    fn forget_statements_after<T>(&self, result: &std::result::Result<T, tokio_postgres::Error>) {
        if result.is_err() {
            self.statements.borrow_mut().clear();
        }
    }

    /// Sends `f`'s request now and keeps its answer for later: a future of
    /// tokio-postgres sends its request when it is first polled.
    fn launch(&self, f: InFlight) {
        let mut f = f;
        let waker = std::task::Waker::noop();
        if let Poll::Ready(result) = f.as_mut().poll(&mut Context::from_waker(waker)) {
            f = Box::pin(std::future::ready(result));
        }
        self.in_flight.borrow_mut().push(f);
    }

    /// Sends the pending commands (`BEGIN`, `SAVEPOINT`) now, so that a
    /// statement sent after them runs inside their transaction.
    fn send_pending(&self) {
        if let Some(pending) = self.pending.borrow_mut().take() {
            let client = self.client.clone();
            self.launch(Box::pin(async move {
                client.batch_execute(&pending).await.map(|()| 0)
            }));
        }
    }

    /// Sends a statement without waiting for its answer (see
    /// [`Conn::execute_pipelined`]).
    fn pipeline(&self, sql: &str, values: Vec<Value>) -> Result<()> {
        if self.coalescing.get() {
            let mut held = self.held.borrow_mut();
            if let Some(h) = held.iter_mut().find(|h| h.sql == sql) {
                h.rows.push(values);
                return Ok(());
            }
            if params_per_row(sql) == Some(values.len()) {
                held.push(HeldRows {
                    sql: sql.to_owned(),
                    rows: vec![values],
                });
                return Ok(());
            }
        }
        self.send_held()?;
        let statement = self.statement(sql)?;
        self.send_pending();
        let client = self.client.clone();
        self.launch(Box::pin(async move {
            client.execute_raw(&statement, values.iter()).await
        }));
        Ok(())
    }

    /// Sends the held rows (see [`Conn::coalesce_inserts`]) as multi-row
    /// inserts whose answers are read later, like any pipelined statement.
    fn send_held(&self) -> Result<()> {
        let held = std::mem::take(&mut *self.held.borrow_mut());
        if held.is_empty() {
            return Ok(());
        }
        self.send_pending();
        for HeldRows { sql, rows } in held {
            let mut rows = rows.into_iter();
            let mut left = rows.len();
            while left > 0 {
                let n = ROWS_PER_INSERT
                    .into_iter()
                    .find(|&n| n <= left)
                    .unwrap_or(1);
                let combined = multi_row_insert(&sql, n).ok_or_else(|| StoreError::Value {
                    column: 0,
                    message: format!("keine einzeilige Einfügung: {sql}"),
                })?;
                let statement = self.statement(&combined)?;
                let values: Vec<Value> = rows.by_ref().take(n).flatten().collect();
                left -= n;
                let client = self.client.clone();
                self.launch(Box::pin(async move {
                    client.execute_raw(&statement, values.iter()).await
                }));
            }
        }
        Ok(())
    }

    /// Reads the answers of every statement in flight; the first error.
    fn flush(&self) -> Result<()> {
        self.send_held()?;
        let in_flight = std::mem::take(&mut *self.in_flight.borrow_mut());
        if in_flight.is_empty() {
            return Ok(());
        }
        let result = block_on(answers(in_flight));
        self.forget_statements_after(&result);
        Ok(result?)
    }

    /// The prepared statement for `sql`, prepared on first use.
    fn statement(&self, sql: &str) -> Result<tokio_postgres::Statement> {
        if let Some(statement) = self.statements.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.send(self.client.prepare(&pg_sql(sql)))?;
        let mut statements = self.statements.borrow_mut();
        if statements.len() >= STATEMENT_CACHE_MAX {
            statements.clear();
        }
        statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    /// Runs a prepared statement of `sql`; one that fails is prepared
    /// again on its next use.
    fn send_statement<T>(
        &self,
        sql: &str,
        f: impl Future<Output = std::result::Result<T, tokio_postgres::Error>>,
    ) -> Result<T> {
        let result = self.send(f);
        if result.is_err() {
            self.statements.borrow_mut().remove(sql);
        }
        result
    }
}

/// A bounded pool of PostgreSQL connections.
pub(crate) struct PgPool {
    config: tokio_postgres::Config,
    runtime: tokio::runtime::Handle,
    /// Ends the background thread (and with it every connection) on drop.
    _stop: tokio::sync::oneshot::Sender<()>,
    max: usize,
    state: Mutex<PoolState>,
    returned: Condvar,
}

struct PoolState {
    idle: Vec<PgConn>,
    open: usize,
}

/// How long a request waits for a free connection before it fails.
const POOL_WAIT: Duration = Duration::from_secs(30);

impl PgPool {
    pub(crate) fn new(url: &str, max: usize) -> Result<PgPool> {
        let config: tokio_postgres::Config = url.parse()?;
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("campus-postgres".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("PostgreSQL-Laufzeit");
                let _ = tx.send(runtime.handle().clone());
                let _ = runtime.block_on(stopped);
            })?;
        let runtime = rx.recv().map_err(|_| {
            StoreError::Io(std::io::Error::other("PostgreSQL-Laufzeit startet nicht"))
        })?;
        Ok(PgPool {
            config,
            runtime,
            _stop: stop,
            max: max.max(1),
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                open: 0,
            }),
            returned: Condvar::new(),
        })
    }

    fn connect(&self) -> Result<PgConn> {
        let config = self.config.clone();
        let (client, connection) = block_on(
            self.runtime
                .spawn(async move { config.connect(tokio_postgres::NoTls).await }),
        )
        .map_err(|e| StoreError::Io(std::io::Error::other(e)))??;
        self.runtime.spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(error = %e, "PostgreSQL-Verbindung beendet");
            }
        });
        Ok(PgConn::new(client))
    }

    /// A connection for one transaction; back into the pool when dropped.
    pub(crate) fn get(&self) -> Result<Pooled<'_>> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let deadline = std::time::Instant::now() + POOL_WAIT;
        loop {
            while let Some(client) = state.idle.pop() {
                if !client.client.is_closed() {
                    return Ok(Pooled {
                        pool: self,
                        client: Some(client),
                    });
                }
                state.open -= 1;
            }
            if state.open < self.max {
                state.open += 1;
                drop(state);
                return match self.connect() {
                    Ok(client) => Ok(Pooled {
                        pool: self,
                        client: Some(client),
                    }),
                    Err(e) => {
                        self.state.lock().unwrap_or_else(|p| p.into_inner()).open -= 1;
                        self.returned.notify_one();
                        Err(e)
                    }
                };
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(StoreError::PoolExhausted);
            }
            state = self
                .returned
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

/// A connection taken from a [`PgPool`].
pub(crate) struct Pooled<'a> {
    pool: &'a PgPool,
    client: Option<PgConn>,
}

impl Pooled<'_> {
    pub(crate) fn conn(&self) -> &PgConn {
        self.client.as_ref().expect("connection present until drop")
    }

    /// Closes the connection instead of returning it (after an error that
    /// may have left it inside a transaction).
    pub(crate) fn discard(mut self) {
        self.client = None;
        self.pool
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .open -= 1;
        self.pool.returned.notify_one();
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let mut state = self.pool.state.lock().unwrap_or_else(|p| p.into_inner());
            if client.client.is_closed() {
                state.open -= 1;
            } else if !client.in_flight.borrow().is_empty() {
                // Answers never read: its state is unknown, so it is closed.
                state.open -= 1;
            } else {
                // Never sent: the server saw none of it.
                client.pending.borrow_mut().take();
                state.idle.push(client);
            }
            drop(state);
            self.pool.returned.notify_one();
        }
    }
}

/// The SQLite DDL of a migration for PostgreSQL: 64-bit integer ids from an
/// identity column, `BIGINT` for every integer (times are Unix seconds),
/// `BYTEA` for bytes. Everything else in our migrations is the same on
/// both.
pub(crate) fn pg_ddl(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 64);
    let words: Vec<&str> = sql
        .split_inclusive(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .collect();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        let (word, sep) = w.split_at(
            w.trim_end_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .len(),
        );
        let next_is = |n: usize, want: &str| {
            words.get(i + n).is_some_and(|w| {
                w.trim_end_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                    .eq_ignore_ascii_case(want)
            })
        };
        if word.eq_ignore_ascii_case("INTEGER") && next_is(1, "PRIMARY") && next_is(2, "KEY") {
            out.push_str("BIGINT GENERATED BY DEFAULT AS IDENTITY");
            out.push_str(sep);
        } else if word.eq_ignore_ascii_case("INTEGER") {
            out.push_str("BIGINT");
            out.push_str(sep);
        } else if word.eq_ignore_ascii_case("BLOB") {
            out.push_str("BYTEA");
            out.push_str(sep);
        } else {
            out.push_str(w);
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_numbered_outside_literals() {
        assert_eq!(
            pg_sql("SELECT '?' FROM t WHERE a = ?1 AND b IN (?2, ?12)"),
            "SELECT '?' FROM t WHERE a = $1 AND b IN ($2, $12)"
        );
    }

    #[test]
    fn a_single_row_insert_becomes_one_of_many_rows() {
        let sql = "INSERT INTO consents (a, b, c, d)\n VALUES (?1, ?2, ?1, ?3) RETURNING id";
        assert_eq!(
            multi_row_insert(sql, 3).unwrap(),
            "INSERT INTO consents (a, b, c, d)\n VALUES (?1, ?2, ?1, ?3), (?4, ?5, ?4, ?6), (?7, ?8, ?7, ?9)"
        );
        assert_eq!(params_per_row(sql), Some(3));
        assert_eq!(
            multi_row_insert("INSERT INTO t (a) VALUES (?1)", 1).unwrap(),
            "INSERT INTO t (a) VALUES (?1)"
        );
        // Kept apart: what a row copy could change or that reads back.
        for other in [
            "INSERT INTO t (a, b) VALUES (?1, 'x')",
            "INSERT INTO t (a) VALUES (lower(?1))",
            "INSERT INTO t (a) VALUES (?)",
            "INSERT INTO t (a) VALUES (?1) ON CONFLICT (a) DO NOTHING",
            "INSERT INTO t (a) SELECT ?1",
            "UPDATE t SET a = ?1",
        ] {
            assert_eq!(multi_row_insert(other, 2), None, "{other}");
        }
    }

    #[test]
    fn ddl_gets_postgres_types() {
        assert_eq!(
            pg_ddl("CREATE TABLE t (\n id INTEGER PRIMARY KEY,\n raw BLOB NOT NULL, n INTEGER,\n x_integer TEXT);"),
            "CREATE TABLE t (\n id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,\n raw BYTEA NOT NULL, n BIGINT,\n x_integer TEXT);"
        );
    }
}
