//! What an operator reads and copies while the service runs: Prometheus
//! figures from the database ([`metrics`]) and a consistent online copy of
//! it ([`backup`]). Both use a connection of their own, so they never wait
//! for the intake's writer longer than SQLite's busy timeout.

use crate::store::{self, Location, Store};
use rusqlite::{Connection, OpenFlags};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

fn read_only(database: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        database,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}

/// The database figures in Prometheus text format: submissions per form,
/// outbox mails per state, age of the oldest mail waiting, bookings per
/// state; `queued` is the intake queue's current depth. On SQLite read
/// through a read-only connection of its own; on PostgreSQL through the
/// pool (a connection of its own anyway).
pub fn metrics(state: &crate::AppState, queued: usize, now: i64) -> store::Result<String> {
    match &state.settings.database {
        Location::File(path) => {
            let conn = read_only(path)?;
            figures(&Store::on_connection(&conn), queued, now)
        }
        Location::Postgres(_) => state.store.read(|tx| figures(tx, queued, now)),
    }
}

fn figures(tx: &store::Tx, queued: usize, now: i64) -> store::Result<String> {
    let mut out = String::new();
    let gauge = |out: &mut String, name: &str, help: &str| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
    };
    gauge(
        &mut out,
        "campus_intake_queue_depth",
        "Form submissions waiting for the group commit.",
    );
    let _ = writeln!(out, "campus_intake_queue_depth {queued}");

    let grouped = |out: &mut String, sql: &str, metric: &str, label: &str| -> store::Result<()> {
        let rows = tx.query_map(sql, store::params![], |r| {
            Ok((r.get::<String>(0)?, r.get::<i64>(1)?))
        })?;
        for (key, n) in rows {
            let key = key.replace('\\', "\\\\").replace('"', "\\\"");
            let _ = writeln!(out, "{metric}{{{label}=\"{key}\"}} {n}");
        }
        Ok(())
    };
    gauge(
        &mut out,
        "campus_submissions",
        "Stored form submissions per form.",
    );
    grouped(
        &mut out,
        "SELECT form, count(*) FROM submissions GROUP BY form ORDER BY form",
        "campus_submissions",
        "form",
    )?;
    gauge(
        &mut out,
        "campus_outbox_mails",
        "Mails in the outbox per state (failed: given up).",
    );
    // Every state, also those with no mail, so alerts see a 0.
    for state in ["queued", "sending", "retry", "sent", "failed"] {
        let n: i64 = tx.query_row(
            "SELECT count(*) FROM outbox WHERE state = ?1",
            store::params![state],
            |r| r.get(0),
        )?;
        let _ = writeln!(out, "campus_outbox_mails{{state=\"{state}\"}} {n}");
    }
    gauge(
        &mut out,
        "campus_outbox_oldest_waiting_seconds",
        "Age of the oldest mail not yet sent (0 when none waits).",
    );
    let oldest: Option<i64> = tx.query_row(
        "SELECT min(created_at) FROM outbox WHERE state IN ('queued', 'retry', 'sending')",
        store::params![],
        |r| r.get(0),
    )?;
    let _ = writeln!(
        out,
        "campus_outbox_oldest_waiting_seconds {}",
        oldest.map_or(0, |t| (now - t).max(0))
    );
    gauge(&mut out, "campus_bookings", "Bookings per state.");
    grouped(
        &mut out,
        "SELECT state, count(*) FROM bookings GROUP BY state ORDER BY state",
        "campus_bookings",
        "state",
    )?;
    Ok(out)
}

/// Copies the database to `to` while the service keeps running
/// (`VACUUM INTO`: one read transaction, so the copy is consistent; the
/// target must not exist yet).
pub fn backup(database: &Path, to: &Path) -> Result<(), String> {
    if to.exists() {
        return Err(format!(
            "{} gibt es schon; eine Sicherung überschreibt nichts.",
            to.display()
        ));
    }
    let conn = read_only(database).map_err(|e| format!("{}: {e}", database.display()))?;
    let target = to.to_str().ok_or("Der Zielpfad muss UTF-8 sein.")?;
    conn.execute("VACUUM INTO ?1", [target])
        .map_err(|e| format!("Sicherung nach {} fehlgeschlagen: {e}", to.display()))?;
    let check: String = Connection::open_with_flags(to, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .and_then(|c| c.query_row("PRAGMA integrity_check", [], |r| r.get(0)))
        .map_err(|e| format!("Sicherung {} nicht lesbar: {e}", to.display()))?;
    if check != "ok" {
        return Err(format!(
            "Sicherung {} ist beschädigt: {check}",
            to.display()
        ));
    }
    Ok(())
}
