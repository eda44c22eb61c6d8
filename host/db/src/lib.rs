//! The IntelliTrack database: one SQLite file in the host's data dir.
//!
//! This crate owns the schema, its versioned migrations and every SQL
//! statement. Callers (the host) get typed operations, never SQL. It must not
//! know about plugins' libraries, HTTP, or the clock: times come in as
//! arguments (milliseconds since the Unix epoch), so callers can inject a clock.
//!
//! Concurrency: each process opens its own [`Db`]; SQLite's WAL mode lets
//! one writer and many readers work at once, and a busy timeout makes a
//! writer wait for another instead of failing with "database is locked".

mod migrate;
mod plugins;
mod runs;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::Connection;

pub use migrate::SCHEMA_VERSION;
pub use plugins::{PluginRecord, PluginRegistration};
pub use runs::{NewRun, RunFinish, RunIssueRow, RunOutcome, RunRow, RunTrigger};

/// A database failure, in words for the admin.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(
        "the database {path} was written by a newer version of the host (schema {found}; this host knows up to {known}); it was left untouched, upgrade the host"
    )]
    NewerSchema {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("{0}")]
    Refused(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored value is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
}

pub type Result<T, E = DbError> = std::result::Result<T, E>;

/// An open IntelliTrack database.
pub struct Db {
    conn: Mutex<Connection>,
}

impl Db {
    /// Opens (creating if needed) the database at `path` and brings its
    /// schema up to date. A schema newer than this build knows is refused
    /// before anything is written.
    pub fn open(path: &Path) -> Result<Self> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(30))?;
        conn.pragma_update(None, "foreign_keys", true)?;
        migrate::check_not_newer(&conn, path)?;
        conn.pragma_update(None, "journal_mode", "wal")?;
        conn.pragma_update(None, "synchronous", "normal")?;
        migrate::run(&mut conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}
