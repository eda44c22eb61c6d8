//! The IntelliTrack database: one SQLite file in the host's data dir.
//!
//! This crate owns the schema, its versioned migrations and every SQL
//! statement. Callers (the host) get typed operations, never SQL. It must not
//! know about plugins' libraries, HTTP, or the clock: times come in as
//! arguments (milliseconds since the Unix epoch), so callers can inject a clock.
//!
//! Two kinds of records live here:
//!
//! - the host's own: plugins, their settings, credentials and state
//!   ([`plugins`](Db::plugin)), job runs ([`runs`](Db::start_run)), users,
//!   roles and features ([`users`](Db::user_features)); what the admin
//!   page's overview sums up ([`overview`](Db::run_days)); pruning what
//!   the retention lets go ([`retention`](Db::prune)), with how far each
//!   plugin has acknowledged the change feed
//!   ([`feed_acks`](Db::acknowledge_feed));
//! - the warehouse's: items with their external references, locations and
//!   stock ([`items`](Db::items), [`inventory`](Db::receive); items made by
//!   hand: [`add_item`](Db::add_item)), orders
//!   ([`orders`](Db::order)), picks and shipments ([`fulfilment`](Db::pick)),
//!   the change feed ([`change_feed`](Db::changes_after)) and plugins'
//!   import batches ([`import_batch`](Db::apply_batch)). Their types are the
//!   DB handle's, from [`plugin_api::warehouse`]; every operation a plugin
//!   calls takes the plugin's id as `source`, bound by the host, so a plugin
//!   reaches only its own external references and orders.
//!
//! Quantities are whole numbers (`i64`); unit cost is a decimal string kept
//! exactly as given. Every warehouse write is one `BEGIN IMMEDIATE`
//! transaction, and every refusal ([`DbError::Refused`]) is decided inside
//! it, so a refusal changes nothing.
//!
//! Concurrency: each process opens its own [`Db`]; SQLite's WAL mode lets
//! one writer and many readers work at once, and a busy timeout makes a
//! writer wait for another instead of failing with "database is locked".

mod annotations;
mod backup;
mod change_feed;
mod feed_acks;
pub mod feed_horizon;
mod fulfilment;
mod hand_items;
mod import_batch;
mod instances;
mod inventory;
pub mod issue_bound;
mod items;
mod migrate;
mod orders;
mod overview;
mod parked;
mod plugins;
mod retention;
mod runs;
#[cfg(test)]
mod testing;
mod users;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, Transaction, TransactionBehavior};

pub use annotations::OrderNotes;
pub use change_feed::{
    Glance, ITEM_CREATED, ITEM_DEACTIVATED, MAX_CHANGES_PAGE, ORDER_ALLOCATION, OrderAllocation,
    is_feed_kind,
};
pub use feed_acks::FeedAck;
pub use feed_horizon::FeedHorizon;
pub use fulfilment::ShipRequest;
pub use hand_items::NewItem;
pub use instances::{InstanceRow, instance_id};
pub use inventory::DEFAULT_LOCATION;
pub use items::{StoreRef, WithStoreRefs};
pub use migrate::SCHEMA_VERSION;
pub use overview::RunDay;
pub use parked::ParkedRow;
pub use plugins::{PluginRecord, PluginRegistration};
pub use retention::{PRUNE_BATCH, PruneCutoffs, PruneReport, TableRows};
pub use runs::{
    IssueGroup, NewRun, RunFilter, RunFinish, RunIssueRow, RunOutcome, RunPage, RunRow, RunTrigger,
};
pub use users::{
    Access, AuditFilter, AuditRow, EVERY_PLUGIN, FeatureGrant, INTEGRATE, RoleRow, UserRow,
};

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
    /// A request the warehouse's rules do not allow; nothing was changed.
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
    switched_to_incremental_vacuum: bool,
}

impl Db {
    /// Opens (creating if needed) the database at `path` and brings its
    /// schema up to date. A schema newer than this build knows is refused
    /// before anything is written. The file is kept in `auto_vacuum =
    /// INCREMENTAL` mode, so a prune gives space back: a new database from
    /// its creation, an older one switched once, here, by a `VACUUM`
    /// ([`Db::switched_to_incremental_vacuum`] tells).
    pub fn open(path: &Path) -> Result<Self> {
        let mut conn = connect(path)?;
        let switched = retention::ensure_incremental_vacuum(&conn)?;
        conn.pragma_update(None, "journal_mode", "wal")?;
        conn.pragma_update(None, "synchronous", "normal")?;
        migrate::run(&mut conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
            switched_to_incremental_vacuum: switched,
        })
    }

    /// Opens the database at `path` as an earlier release of the host
    /// left it, for a tool working beside that host (the soak benchmark's
    /// warehouse before it upgrades the host): no migration and no change
    /// of its vacuum mode, so the host upgraded later finds the file as its
    /// predecessor wrote it. A schema newer than this build knows is
    /// refused, as by [`Db::open`]. Only what the earlier schema has may be
    /// used through it (a table a later migration adds is missing).
    pub fn open_unmigrated(path: &Path) -> Result<Self> {
        let conn = connect(path)?;
        conn.pragma_update(None, "synchronous", "normal")?;
        Ok(Self {
            conn: Mutex::new(conn),
            switched_to_incremental_vacuum: false,
        })
    }

    /// Whether opening switched an existing database to incremental
    /// auto-vacuum (a one-time `VACUUM`), for the log.
    pub fn switched_to_incremental_vacuum(&self) -> bool {
        self.switched_to_incremental_vacuum
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` in one write transaction, taken at once (`BEGIN IMMEDIATE`)
    /// so that a concurrent writer waits for the busy timeout instead of
    /// failing on a lock upgrade. An error rolls everything back.
    fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` in one read transaction: a consistent snapshot.
    fn read<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        f(&tx)
    }
}

/// A connection to the database at `path` (created if needed), waiting
/// for a busy file, checking foreign keys, refused if its schema is newer
/// than this build knows.
fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    migrate::check_not_newer(&conn, path)?;
    Ok(conn)
}

/// A refusal: the request breaks a rule, and nothing is changed.
pub(crate) fn refuse<T>(message: impl Into<String>) -> Result<T> {
    Err(DbError::Refused(message.into()))
}

/// Refuses a quantity that is not a whole number greater than zero.
pub(crate) fn require_positive(quantity: i64, what: &str) -> Result<()> {
    if quantity <= 0 {
        return refuse(format!("{what} must be greater than zero (got {quantity})"));
    }
    Ok(())
}
