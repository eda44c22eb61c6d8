//! Versioned migrations, tracked in SQLite's `user_version`.
//!
//! Each migration runs once, in its own transaction, in order. Append new
//! ones at the end; never edit one that has shipped.

use std::path::Path;

use rusqlite::Connection;

use crate::{DbError, Result};

const MIGRATIONS: &[&str] = &[
    // 1: the host's own records: plugins, their settings, secrets, state, runs.
    r#"
    CREATE TABLE plugins (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL,
        version     TEXT NOT NULL,
        api_version TEXT NOT NULL,
        file        TEXT NOT NULL,
        enabled     INTEGER NOT NULL DEFAULT 0,
        fault       TEXT,
        changed_at  INTEGER NOT NULL
    );
    CREATE TABLE plugin_settings (
        plugin TEXT NOT NULL,
        key    TEXT NOT NULL,
        value  TEXT NOT NULL,
        PRIMARY KEY (plugin, key)
    );
    CREATE TABLE plugin_host_settings (
        plugin TEXT NOT NULL,
        key    TEXT NOT NULL,
        value  TEXT NOT NULL,
        PRIMARY KEY (plugin, key)
    );
    CREATE TABLE plugin_credentials (
        plugin TEXT NOT NULL,
        key    TEXT NOT NULL,
        sealed BLOB NOT NULL,
        PRIMARY KEY (plugin, key)
    );
    CREATE TABLE plugin_state (
        plugin TEXT NOT NULL,
        key    TEXT NOT NULL,
        value  TEXT NOT NULL,
        PRIMARY KEY (plugin, key)
    );
    CREATE TABLE runs (
        id         INTEGER PRIMARY KEY,
        plugin     TEXT NOT NULL,
        job        TEXT NOT NULL,
        trigger    TEXT NOT NULL,
        user       TEXT,
        pid        INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        ended_at   INTEGER,
        outcome    TEXT NOT NULL,
        created    INTEGER NOT NULL DEFAULT 0,
        updated    INTEGER NOT NULL DEFAULT 0,
        skipped    INTEGER NOT NULL DEFAULT 0,
        failed     INTEGER NOT NULL DEFAULT 0,
        summary    TEXT NOT NULL DEFAULT '',
        error      TEXT
    );
    CREATE UNIQUE INDEX runs_one_running_per_job ON runs (plugin, job) WHERE outcome = 'running';
    CREATE INDEX runs_by_plugin ON runs (plugin, started_at);
    CREATE TABLE run_issues (
        run     INTEGER NOT NULL REFERENCES runs (id),
        record  TEXT NOT NULL,
        outcome TEXT NOT NULL,
        reason  TEXT NOT NULL
    );
    CREATE INDEX run_issues_by_run ON run_issues (run);
    "#,
];

/// The schema version this build creates.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

fn version(conn: &Connection) -> Result<i64> {
    Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
}

pub(crate) fn check_not_newer(conn: &Connection, path: &Path) -> Result<()> {
    let found = version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(DbError::NewerSchema {
            path: path.display().to_string(),
            found,
            known: SCHEMA_VERSION,
        });
    }
    Ok(())
}

pub(crate) fn run(conn: &mut Connection) -> Result<()> {
    let current = version(conn)?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Another process may have migrated while this one waited for the lock.
        if version(&tx)? > i as i64 {
            continue;
        }
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Db;

    #[test]
    fn migrates_from_empty_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("it.db");
        drop(Db::open(&path).unwrap());
        let db = Db::open(&path).unwrap();
        assert_eq!(version(&db.conn()).unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn refuses_a_newer_schema_and_leaves_it_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("it.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 999;")
                .unwrap();
        }
        let before = std::fs::read(&path).unwrap();
        let err = Db::open(&path).err().unwrap().to_string();
        assert!(
            err.contains("newer version of the host (schema 999"),
            "{err}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert!(!dir.path().join("it.db-wal").exists());
    }
}
