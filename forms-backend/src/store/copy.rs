//! Moving over: every table of an SQLite database into an empty PostgreSQL
//! database of the same schema version, in one PostgreSQL transaction,
//! verified by counting the rows of each table on both sides.

use super::{params, Engine, Result, Store, StoreError, Tx};
use std::path::Path;

/// Rows copied per table, in the order they were copied.
pub type CopyReport = Vec<(String, i64)>;

impl Store {
    /// Copies the SQLite database at `from` into the (empty) PostgreSQL
    /// database `to`. Both are migrated to the current schema first. Stop
    /// the service before: rows written during the copy would be missed.
    pub fn copy_sqlite_to_postgres(from: &Path, to: &str) -> Result<CopyReport> {
        if !from.is_file() {
            return Err(StoreError::Copy(format!(
                "Es gibt keine SQLite-Datenbank {}.",
                from.display()
            )));
        }
        let source = Store::open(from)?;
        let target = Store::open_postgres(to, 2)?;
        let tables = source.read(tables_in_dependency_order)?;
        let report = target.write(|out| {
            for (table, _) in &tables {
                let n: i64 =
                    out.query_row(&format!("SELECT count(*) FROM {table}"), params![], |r| {
                        r.get(0)
                    })?;
                if n > 0 {
                    return Err(StoreError::Copy(format!(
                        "Die Ziel-Datenbank ist nicht leer (Tabelle {table}: {n} Zeilen); \
                         kopiert wird nur in eine leere Datenbank."
                    )));
                }
            }
            let mut report = Vec::new();
            for (table, columns) in &tables {
                let list = columns.join(", ");
                let rows = source.read(|tx| {
                    tx.query_map(&format!("SELECT {list} FROM {table}"), params![], |r| {
                        Ok(r.clone().into_values())
                    })
                })?;
                let marks: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
                let insert = format!("INSERT INTO {table} ({list}) VALUES ({})", marks.join(", "));
                for row in &rows {
                    let values: Vec<&dyn super::ToValue> =
                        row.iter().map(|v| v as &dyn super::ToValue).collect();
                    out.execute(&insert, &values)?;
                }
                if columns.iter().any(|c| c == "id") && has_identity(out, table)? {
                    // The next id continues after the copied ones.
                    out.execute(
                        &format!(
                            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) \
                             FROM {table} HAVING max(id) IS NOT NULL"
                        ),
                        params![],
                    )?;
                }
                report.push((table.clone(), rows.len() as i64));
            }
            Ok(report)
        })?;
        // Verified after the commit, on both sides.
        for (table, copied) in &report {
            let count = |s: &Store| {
                s.read(|tx| {
                    tx.query_row(&format!("SELECT count(*) FROM {table}"), params![], |r| {
                        r.get::<i64>(0)
                    })
                })
            };
            let (a, b) = (count(&source)?, count(&target)?);
            if a != b || a != *copied {
                return Err(StoreError::Copy(format!(
                    "Tabelle {table}: {a} Zeilen in SQLite, {b} in PostgreSQL"
                )));
            }
        }
        Ok(report)
    }
}

/// Whether `table.id` is an identity column on PostgreSQL.
fn has_identity(tx: &Tx, table: &str) -> Result<bool> {
    debug_assert_eq!(tx.engine(), Engine::Postgres);
    let seq: Option<String> = tx.query_row(
        "SELECT pg_get_serial_sequence(?1, 'id')",
        params![table],
        |r| r.get(0),
    )?;
    Ok(seq.is_some())
}

/// The SQLite tables with their columns, each after the tables it refers to.
fn tables_in_dependency_order(tx: &Tx) -> Result<Vec<(String, Vec<String>)>> {
    let names: Vec<String> = tx.query_map(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid",
        params![],
        |r| r.get(0),
    )?;
    let mut pending: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
    for name in names {
        let columns = tx.query_map(
            &format!("SELECT name FROM pragma_table_info('{name}') ORDER BY cid"),
            params![],
            |r| r.get(0),
        )?;
        let refers: Vec<String> = tx.query_map(
            &format!("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list('{name}')"),
            params![],
            |r| r.get(0),
        )?;
        pending.push((name, columns, refers));
    }
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    while !pending.is_empty() {
        let ready = pending.iter().position(|(name, _, refers)| {
            refers
                .iter()
                .all(|r| r == name || out.iter().any(|(done, _)| done == r))
        });
        let Some(i) = ready else {
            return Err(StoreError::Copy(
                "Fremdschlüssel im Kreis: keine Reihenfolge zum Kopieren".into(),
            ));
        };
        let (name, columns, _) = pending.remove(i);
        out.push((name, columns));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::OutgoingMail;

    #[test]
    fn copies_every_row_and_ids_continue() {
        let Some(url) = super::super::test_pg::fresh_database() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        let sqlite = Store::open(&path).unwrap();
        let payload = serde_json::json!({"name": "Ä"});
        sqlite
            .write(|tx| {
                let id = tx.insert_submission(&crate::store::NewSubmission {
                    form: "kontakt",
                    payload: &payload,
                    email: Some("a@b.de"),
                    status: "eingegangen",
                    ip_hash: "h",
                    now: 5,
                })?;
                for i in 0..3 {
                    tx.enqueue(
                        &OutgoingMail {
                            message_id: format!("<{i}@x>"),
                            kind: "k".into(),
                            envelope_from: "a@b.de".into(),
                            recipient: "c@d.de".into(),
                            raw: vec![0, 159, 255, i],
                            submission_id: Some(id),
                        },
                        7,
                    )?;
                }
                Ok::<_, StoreError>(())
            })
            .unwrap();
        drop(sqlite);
        let report = Store::copy_sqlite_to_postgres(&path, &url).unwrap();
        let outbox = report.iter().find(|(t, _)| t == "outbox").unwrap();
        assert_eq!(outbox.1, 3);
        let pg = Store::open(super::super::Location::Postgres(url.clone())).unwrap();
        assert_eq!(pg.raw_message(3).unwrap(), vec![0, 159, 255, 2]);
        assert_eq!(pg.export("kontakt").unwrap()[0].payload, payload);
        // A new row gets the next id, not one of the copied.
        pg.write(|tx| {
            tx.enqueue(
                &OutgoingMail {
                    message_id: "<new@x>".into(),
                    kind: "k".into(),
                    envelope_from: "a@b.de".into(),
                    recipient: "c@d.de".into(),
                    raw: vec![1],
                    submission_id: None,
                },
                9,
            )
        })
        .unwrap();
        let next: i64 = pg
            .read(|tx| {
                tx.query_row(
                    "SELECT id FROM outbox WHERE message_id = '<new@x>'",
                    params![],
                    |r| r.get(0),
                )
            })
            .unwrap();
        assert_eq!(next, 4);
        // A second copy into the now filled database is refused.
        let again = Store::copy_sqlite_to_postgres(&path, &url).unwrap_err();
        assert!(again.to_string().contains("nicht leer"), "{again}");
    }
}
