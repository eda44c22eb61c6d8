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
    // 2: the warehouse: items, locations, stock, inventory transactions,
    // orders, picks, shipments, the change feed; users, roles and features.
    r#"
    CREATE TABLE sites (
        id   INTEGER PRIMARY KEY,
        code TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL
    );
    CREATE TABLE locations (
        id   INTEGER PRIMARY KEY,
        site INTEGER NOT NULL REFERENCES sites (id),
        code TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL
    );
    INSERT INTO sites (id, code, name) VALUES (1, 'MAIN', 'Main site');
    INSERT INTO locations (id, site, code, name) VALUES (1, 1, 'MAIN', 'Main location');
    CREATE TABLE items (
        id              INTEGER PRIMARY KEY,
        number          TEXT NOT NULL UNIQUE,
        description     TEXT NOT NULL,
        unit_cost       TEXT,
        unit_of_measure TEXT NOT NULL,
        active          INTEGER NOT NULL DEFAULT 1,
        kind            TEXT NOT NULL,
        parent          INTEGER REFERENCES items (id),
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL
    );
    CREATE TABLE item_refs (
        source      TEXT NOT NULL,
        external_id TEXT NOT NULL,
        item        INTEGER NOT NULL REFERENCES items (id),
        PRIMARY KEY (source, external_id),
        UNIQUE (item, source)
    );
    CREATE TABLE on_hand (
        item     INTEGER NOT NULL REFERENCES items (id),
        location INTEGER NOT NULL REFERENCES locations (id),
        quantity INTEGER NOT NULL,
        PRIMARY KEY (item, location)
    );
    CREATE TABLE orders (
        id              INTEGER PRIMARY KEY,
        number          TEXT NOT NULL UNIQUE,
        source          TEXT,
        external_id     TEXT,
        status          TEXT NOT NULL CHECK (status IN ('open', 'picking', 'picked',
                            'partially-shipped', 'shipped', 'cancelled', 'exception')),
        customer        TEXT NOT NULL,
        ship_to         TEXT NOT NULL,
        shipping_method TEXT NOT NULL,
        customer_note   TEXT NOT NULL,
        ordered_at      INTEGER,
        cancel_reason   TEXT,
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL,
        UNIQUE (source, external_id)
    );
    CREATE INDEX orders_by_status ON orders (status);
    CREATE TABLE order_lines (
        id               INTEGER PRIMARY KEY,
        order_id         INTEGER NOT NULL REFERENCES orders (id),
        line_no          INTEGER NOT NULL,
        item             INTEGER NOT NULL REFERENCES items (id),
        ordered          INTEGER NOT NULL CHECK (ordered > 0),
        picked           INTEGER NOT NULL DEFAULT 0 CHECK (picked BETWEEN 0 AND ordered),
        shipped          INTEGER NOT NULL DEFAULT 0 CHECK (shipped BETWEEN 0 AND picked),
        external_line_id TEXT,
        not_shipped      INTEGER NOT NULL DEFAULT 0,
        UNIQUE (order_id, line_no)
    );
    CREATE INDEX order_lines_by_item ON order_lines (item);
    CREATE TABLE inventory_transactions (
        id          INTEGER PRIMARY KEY,
        kind        TEXT NOT NULL CHECK (kind IN ('receive', 'adjust', 'move', 'pick', 'ship')),
        item        INTEGER NOT NULL REFERENCES items (id),
        location    INTEGER REFERENCES locations (id),
        to_location INTEGER REFERENCES locations (id),
        quantity    INTEGER NOT NULL,
        reason      TEXT NOT NULL DEFAULT '',
        order_line  INTEGER REFERENCES order_lines (id),
        user        TEXT NOT NULL,
        at          INTEGER NOT NULL
    );
    CREATE INDEX inventory_transactions_by_item ON inventory_transactions (item, at);
    CREATE TABLE picks (
        id         INTEGER PRIMARY KEY,
        order_line INTEGER NOT NULL REFERENCES order_lines (id),
        location   INTEGER NOT NULL REFERENCES locations (id),
        quantity   INTEGER NOT NULL CHECK (quantity > 0),
        user       TEXT NOT NULL,
        at         INTEGER NOT NULL
    );
    CREATE TABLE shipments (
        id         INTEGER PRIMARY KEY,
        order_id   INTEGER NOT NULL REFERENCES orders (id),
        carrier    TEXT NOT NULL,
        service    TEXT NOT NULL,
        tracking   TEXT NOT NULL,
        shipped_at INTEGER NOT NULL,
        user       TEXT NOT NULL
    );
    CREATE INDEX shipments_by_order ON shipments (order_id);
    CREATE TABLE shipment_lines (
        shipment   INTEGER NOT NULL REFERENCES shipments (id),
        order_line INTEGER NOT NULL REFERENCES order_lines (id),
        quantity   INTEGER NOT NULL CHECK (quantity > 0),
        PRIMARY KEY (shipment, order_line)
    );
    CREATE TABLE change_feed (
        seq      INTEGER PRIMARY KEY AUTOINCREMENT,
        at       INTEGER NOT NULL,
        kind     TEXT NOT NULL,
        order_id INTEGER REFERENCES orders (id),
        item     INTEGER REFERENCES items (id),
        payload  TEXT NOT NULL
    );
    CREATE TABLE users (
        name          TEXT PRIMARY KEY,
        display_name  TEXT NOT NULL,
        password_hash TEXT,
        active        INTEGER NOT NULL DEFAULT 1,
        created_at    INTEGER NOT NULL
    );
    CREATE TABLE roles (
        name        TEXT PRIMARY KEY,
        description TEXT NOT NULL
    );
    CREATE TABLE role_features (
        role    TEXT NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
        feature TEXT NOT NULL,
        access  TEXT NOT NULL CHECK (access IN ('edit', 'read')),
        PRIMARY KEY (role, feature)
    );
    CREATE TABLE user_roles (
        user TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
        role TEXT NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
        PRIMARY KEY (user, role)
    );
    "#,
    // 3: opening stock taken from a plugin's store, the store's own stock
    // reductions corrected once per order line, and order lines kept without
    // a warehouse item (a virtual product's line, never shipped). SQLite
    // cannot drop NOT NULL in place: order_lines is rebuilt, ids kept.
    // Parked change-feed events; the tables a run shows its user.
    r#"
    ALTER TABLE items ADD COLUMN opening_source TEXT;
    ALTER TABLE items ADD COLUMN opening_counted_at INTEGER;
    ALTER TABLE items ADD COLUMN opening_location TEXT;
    CREATE TABLE order_lines_rebuilt (
        id                INTEGER PRIMARY KEY,
        order_id          INTEGER NOT NULL REFERENCES orders (id),
        line_no           INTEGER NOT NULL,
        item              INTEGER REFERENCES items (id),
        description       TEXT NOT NULL DEFAULT '',
        ordered           INTEGER NOT NULL CHECK (ordered > 0),
        picked            INTEGER NOT NULL DEFAULT 0 CHECK (picked BETWEEN 0 AND ordered),
        shipped           INTEGER NOT NULL DEFAULT 0 CHECK (shipped BETWEEN 0 AND picked),
        external_line_id  TEXT,
        not_shipped       INTEGER NOT NULL DEFAULT 0,
        opening_corrected INTEGER NOT NULL DEFAULT 0,
        UNIQUE (order_id, line_no),
        CHECK (item IS NOT NULL OR not_shipped = 1)
    );
    INSERT INTO order_lines_rebuilt
        (id, order_id, line_no, item, ordered, picked, shipped, external_line_id, not_shipped)
        SELECT id, order_id, line_no, item, ordered, picked, shipped, external_line_id, not_shipped
        FROM order_lines;
    DROP TABLE order_lines;
    ALTER TABLE order_lines_rebuilt RENAME TO order_lines;
    CREATE INDEX order_lines_by_item ON order_lines (item);
    CREATE TABLE parked_changes (
        plugin          TEXT NOT NULL,
        seq             INTEGER NOT NULL REFERENCES change_feed (seq),
        reason          TEXT NOT NULL,
        parked_at       INTEGER NOT NULL,
        retry_requested INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (plugin, seq)
    );
    CREATE TABLE run_tables (
        run      INTEGER NOT NULL REFERENCES runs (id),
        position INTEGER NOT NULL,
        tab      TEXT NOT NULL,
        PRIMARY KEY (run, position)
    );
    "#,
    // 4: plugin instances: one plugin file configured several times (one
    // store each). The first instance is the plugin itself and has no row;
    // the others are named here, their records keyed by their instance id.
    r#"
    CREATE TABLE plugin_instances (
        id         TEXT PRIMARY KEY,
        plugin     TEXT NOT NULL,
        name       TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (plugin, name)
    );
    "#,
    // 5: the built-in roles, and who did what. `admin` may do everything,
    // every plugin's feature included (`*`, so plugins added later count);
    // `read-only` may look at the admin but change nothing.
    r#"
    INSERT OR IGNORE INTO roles (name, description) VALUES
        ('admin', 'Everything: the admin page and every plugin''s jobs'),
        ('read-only', 'Sees the admin page, changes nothing');
    INSERT OR IGNORE INTO role_features (role, feature, access) VALUES
        ('admin', 'integrate', 'edit'),
        ('admin', '*', 'edit'),
        ('read-only', 'integrate', 'read');
    CREATE TABLE audit_log (
        id     INTEGER PRIMARY KEY,
        at     INTEGER NOT NULL,
        user   TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );
    "#,
    // 6: a run's owner beside its pid: the boot and start time of the
    // process running it, so a run left by a process that died is known
    // even when its pid has been reused; and the process each plugin
    // instance runs in (isolation), known the same way.
    r#"
    ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT '';
    CREATE TABLE plugin_processes (
        plugin TEXT PRIMARY KEY,
        pid    INTEGER NOT NULL,
        owner  TEXT NOT NULL
    );
    "#,
    // 7: what a negative (backordered) opening count still owes to store
    // orders the warehouse does not have (see `import_batch`); what a
    // store says of an order beyond its lines (see `annotations`).
    r#"
    ALTER TABLE items ADD COLUMN opening_owed INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE orders ADD COLUMN attention TEXT;
    ALTER TABLE order_lines ADD COLUMN refunded INTEGER NOT NULL DEFAULT 0;
    "#,
    // 8: what a run was asked to be (a dry run, forced) and how many
    // change-feed events it parked, for the run history; runs by outcome
    // for its filters.
    r#"
    ALTER TABLE runs ADD COLUMN dry_run INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE runs ADD COLUMN forced INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE runs ADD COLUMN parked INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX runs_by_outcome ON runs (outcome);
    CREATE INDEX run_issues_by_reason ON run_issues (run, outcome, reason);
    "#,
    // 9: retention. Which plugin instances read the change feed and how far
    // each of their consumers acknowledged it; a run's issues past the
    // bound kept as counts by reason; a run whose issue list was pruned;
    // the indexes pruning selects by.
    r#"
    CREATE TABLE feed_readers (
        plugin TEXT PRIMARY KEY
    );
    CREATE TABLE feed_acks (
        plugin   TEXT NOT NULL,
        consumer TEXT NOT NULL,
        seq      INTEGER NOT NULL,
        at       INTEGER NOT NULL,
        PRIMARY KEY (plugin, consumer)
    );
    CREATE TABLE run_issues_not_kept (
        run     INTEGER NOT NULL REFERENCES runs (id),
        outcome TEXT NOT NULL,
        reason  TEXT NOT NULL,
        count   INTEGER NOT NULL,
        PRIMARY KEY (run, outcome, reason)
    );
    ALTER TABLE runs ADD COLUMN issues_pruned INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX runs_by_end ON runs (ended_at);
    CREATE INDEX audit_log_by_at ON audit_log (at);
    CREATE INDEX parked_changes_by_seq ON parked_changes (seq);
    "#,
    // 10: deactivation per store. A reference's `gone_at` is when its
    // store stopped selling the item (NULL: it still does); the item is
    // inactive only once every store has let go (see `items::deactivate`).
    // Until now one store's deactivation made the item inactive for all:
    // the references of an item inactive today are taken as gone since it
    // changed last, and a store still selling it brings its own back at
    // its next import of the product.
    r#"
    ALTER TABLE item_refs ADD COLUMN gone_at INTEGER;
    UPDATE item_refs
    SET gone_at = (SELECT i.updated_at FROM items i WHERE i.id = item_refs.item)
    WHERE item IN (SELECT id FROM items WHERE active = 0);
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

/// Runs the pending migrations. Foreign keys are off meanwhile (a table
/// rebuild needs it, and it cannot be switched inside a transaction); each
/// migration checks them itself before it commits.
pub(crate) fn run(conn: &mut Connection) -> Result<()> {
    conn.pragma_update(None, "foreign_keys", false)?;
    let migrated = run_pending(conn);
    conn.pragma_update(None, "foreign_keys", true)?;
    migrated
}

fn run_pending(conn: &mut Connection) -> Result<()> {
    let current = version(conn)?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Another process may have migrated while this one waited for the lock.
        if version(&tx)? > i as i64 {
            continue;
        }
        tx.execute_batch(sql)?;
        let broken: i64 =
            tx.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })?;
        if broken > 0 {
            return Err(DbError::Refused(format!(
                "migration {} would leave {broken} broken references; the database was left as it was",
                i + 1
            )));
        }
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
    fn migrates_a_version_1_database_keeping_its_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("it.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.execute_batch(
                "INSERT INTO plugin_state VALUES ('woo', 'cursor', '4'); PRAGMA user_version = 1;",
            )
            .unwrap();
        }
        let db = Db::open(&path).unwrap();
        assert_eq!(
            db.state("woo", "cursor").unwrap(),
            Some(serde_json::json!(4))
        );
        assert_eq!(db.inventory(None).unwrap(), []);
        assert_eq!(
            db.receive("SKU", 1, None, "u", 1).unwrap_err().to_string(),
            "unknown item \"SKU\""
        );
        let location: String = db
            .conn()
            .query_row("SELECT code FROM locations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(location, crate::DEFAULT_LOCATION);
    }

    #[test]
    fn migrates_a_version_2_database_keeping_order_lines_and_their_picks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("it.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.execute_batch(MIGRATIONS[1]).unwrap();
            conn.execute_batch(
                "INSERT INTO items (id, number, description, unit_of_measure, kind, created_at, updated_at)
                     VALUES (1, 'SKU-A', 'A', 'EA', 'simple', 1, 1);
                 INSERT INTO on_hand VALUES (1, 1, 4);
                 INSERT INTO orders (id, number, source, external_id, status, customer, ship_to,
                                     shipping_method, customer_note, created_at, updated_at)
                     VALUES (1, 'WC-1', 'woo', '1', 'picking', 'Ada', '{}', '', '', 1, 1);
                 INSERT INTO order_lines (id, order_id, line_no, item, ordered, picked, external_line_id)
                     VALUES (5, 1, 1, 1, 3, 1, '11');
                 INSERT INTO picks (order_line, location, quantity, user, at) VALUES (5, 1, 1, 'ann', 2);
                 PRAGMA user_version = 2;",
            )
            .unwrap();
        }
        let db = Db::open(&path).unwrap();
        let order = db.order("WC-1").unwrap().unwrap();
        assert_eq!(
            (order.lines[0].item_number.as_str(), order.lines[0].picked),
            ("SKU-A", 1)
        );
        db.pick("WC-1", 1, 2, None, "ann", 3).unwrap();
        let broken: i64 = db
            .conn()
            .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(broken, 0);
    }

    #[test]
    fn migrating_to_per_store_deactivation_marks_an_inactive_items_references_gone() {
        use plugin_api::warehouse::{ImportBatch, ItemRef};

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("it.db");
        {
            let conn = Connection::open(&path).unwrap();
            for sql in &MIGRATIONS[..9] {
                conn.execute_batch(sql).unwrap();
            }
            conn.execute_batch(
                "INSERT INTO items (id, number, description, unit_of_measure, active, kind,
                                    created_at, updated_at)
                     VALUES (1, 'MUG', 'Mug', 'EA', 0, 'simple', 1, 40),
                            (2, 'LAMP', 'Lamp', 'EA', 1, 'simple', 1, 2);
                 INSERT INTO item_refs (source, external_id, item)
                     VALUES ('woo', '101', 1), ('woo:shop-b', '901', 1), ('woo', '103', 2);
                 PRAGMA user_version = 9;",
            )
            .unwrap();
        }
        let db = Db::open(&path).unwrap();
        let gone = |source: &str, external_id: &str| -> Option<i64> {
            db.conn()
                .query_row(
                    "SELECT gone_at FROM item_refs WHERE source = ?1 AND external_id = ?2",
                    [source, external_id],
                    |r| r.get(0),
                )
                .unwrap()
        };
        assert_eq!(
            (
                gone("woo", "101"),
                gone("woo:shop-b", "901"),
                gone("woo", "103")
            ),
            (Some(40), Some(40), None)
        );
        // Store B still sells the mug: its next import brings its own
        // reference back, and the item with it; store A's stays gone.
        let summary = db
            .apply_batch(
                "woo:shop-b",
                &ImportBatch {
                    item_upserts: vec![crate::testing::item("901", "MUG")],
                    ..ImportBatch::default()
                },
                50,
            )
            .unwrap();
        assert_eq!(summary.items_updated, 1);
        assert!(db.item("MUG").unwrap().unwrap().active);
        assert_eq!(
            (gone("woo", "101"), gone("woo:shop-b", "901")),
            (Some(40), None)
        );
        let seen = |source: &str, external_id: &str| {
            db.find_items(source, &[ItemRef::ExternalId(external_id.into())])
                .unwrap()[0]
                .as_ref()
                .unwrap()
                .active
        };
        assert_eq!(
            (seen("woo", "101"), seen("woo:shop-b", "901")),
            (false, true)
        );
    }

    #[test]
    fn opened_unmigrated_an_older_database_keeps_its_version_until_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("it.db");
        {
            let conn = Connection::open(&path).unwrap();
            for sql in &MIGRATIONS[..2] {
                conn.execute_batch(sql).unwrap();
            }
            conn.execute_batch("PRAGMA user_version = 2;").unwrap();
        }
        let as_left = Db::open_unmigrated(&path).unwrap();
        assert_eq!(version(&as_left.conn()).unwrap(), 2);
        as_left
            .conn()
            .execute_batch(
                "INSERT INTO items (number, description, unit_of_measure, kind, created_at, updated_at)
                     VALUES ('SKU-A', 'A', 'EA', 'simple', 1, 1);",
            )
            .unwrap();
        drop(as_left);
        assert_eq!(
            version(&Db::open_unmigrated(&path).unwrap().conn()).unwrap(),
            2
        );
        let db = Db::open(&path).unwrap();
        assert_eq!(version(&db.conn()).unwrap(), SCHEMA_VERSION);
        assert_eq!(db.inventory(None).unwrap()[0].item_number, "SKU-A");
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
