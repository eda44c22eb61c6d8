//! Plugin instances: one plugin file configured more than once (a store
//! per country, B2B beside B2C). The first instance of a plugin is the
//! plugin itself (its id is the plugin's id, as before instances existed);
//! each further one is `PLUGIN:NAME`, and every record the host keeps per
//! plugin (settings, credentials, state, runs, schedule, parked events,
//! activation) is keyed by the instance id.

use rusqlite::params;
use serde::Serialize;

use crate::{Db, Result, refuse};

/// An added instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InstanceRow {
    /// `PLUGIN:NAME`.
    pub id: String,
    pub plugin: String,
    pub name: String,
}

/// The instance id of `plugin`'s instance `name`.
pub fn instance_id(plugin: &str, name: &str) -> String {
    format!("{plugin}:{name}")
}

/// The tables whose rows belong to one instance and go with it, the run
/// history apart (it stays, as the record of what happened).
const INSTANCE_TABLES: &[&str] = &[
    "plugin_settings",
    "plugin_host_settings",
    "plugin_credentials",
    "plugin_state",
    "parked_changes",
    "feed_readers",
    "feed_acks",
];

impl Db {
    /// Every added instance, by plugin then name.
    pub fn instances(&self) -> Result<Vec<InstanceRow>> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT id, plugin, name FROM plugin_instances ORDER BY plugin, name",
            )?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(InstanceRow {
                        id: r.get(0)?,
                        plugin: r.get(1)?,
                        name: r.get(2)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
    }

    /// Adds instance `name` of `plugin`; refuses a bad or taken name.
    pub fn add_instance(&self, plugin: &str, name: &str, now_ms: i64) -> Result<InstanceRow> {
        let valid = (1..=32).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !name.starts_with('-');
        if !valid {
            return refuse(format!(
                "instance name {name:?}: use 1 to 32 lowercase letters, digits and dashes, e.g. shop-at"
            ));
        }
        let row = InstanceRow {
            id: instance_id(plugin, name),
            plugin: plugin.to_owned(),
            name: name.to_owned(),
        };
        self.write(|tx| {
            let taken = tx
                .prepare_cached("INSERT OR IGNORE INTO plugin_instances (id, plugin, name, created_at) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![row.id, row.plugin, row.name, now_ms])?
                == 0;
            if taken {
                return refuse(format!("{} exists already", row.id));
            }
            Ok(())
        })?;
        Ok(row)
    }

    /// Removes an added instance with its settings, credentials, state,
    /// parked events and change-feed acknowledgements (so it holds the
    /// feed no more); its run history stays. Refused while it is active.
    pub fn remove_instance(&self, id: &str) -> Result<()> {
        self.write(|tx| {
            let enabled: Option<bool> = tx
                .prepare_cached("SELECT enabled FROM plugins WHERE id = ?1")?
                .query_row([id], |r| r.get(0))
                .ok();
            if enabled == Some(true) {
                return refuse(format!(
                    "{id} is active; deactivate it first (`plugin-host plugins deactivate {id}`)"
                ));
            }
            let removed = tx
                .prepare_cached("DELETE FROM plugin_instances WHERE id = ?1")?
                .execute([id])?;
            if removed == 0 {
                return refuse(format!(
                    "{id} is not an added instance (the first instance of a plugin is the plugin itself and stays)"
                ));
            }
            for table in INSTANCE_TABLES {
                tx.execute(&format!("DELETE FROM {table} WHERE plugin = ?1"), [id])?;
            }
            tx.prepare_cached("DELETE FROM plugins WHERE id = ?1")?
                .execute([id])?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::testing::{assert_refused, db};

    #[test]
    fn instances_are_added_named_and_removed_with_their_records() {
        let (_d, db) = db();
        let row = db.add_instance("woo", "shop-at", 1).unwrap();
        assert_eq!(row.id, "woo:shop-at");
        assert_refused(&db, "woo:shop-at exists already", |db| {
            db.add_instance("woo", "shop-at", 2)
        });
        assert_refused(&db, "use 1 to 32 lowercase letters", |db| {
            db.add_instance("woo", "Shop AT", 2)
        });
        db.put_state("woo:shop-at", "cursor", Some(&json!(3)))
            .unwrap();
        db.put_state("woo", "cursor", Some(&json!(9))).unwrap();
        db.changes_after("woo:shop-at", 0, 10).unwrap();
        db.acknowledge_feed("woo:shop-at", "export", 0, 2).unwrap();
        assert_eq!(db.feed_acks().unwrap()[0].plugin, "woo:shop-at");
        db.register_plugin(
            &crate::PluginRegistration {
                id: row.id.clone(),
                name: "Woo (shop-at)".into(),
                version: "1".into(),
                api_version: "1.2".into(),
                file: "libwoo.so".into(),
            },
            3,
        )
        .unwrap();
        db.set_plugin_enabled("woo:shop-at", true, 3).unwrap();
        assert_eq!(db.instances().unwrap(), [row]);
        assert_refused(&db, "woo:shop-at is active; deactivate it first", |db| {
            db.remove_instance("woo:shop-at")
        });
        db.set_plugin_enabled("woo:shop-at", false, 4).unwrap();
        db.remove_instance("woo:shop-at").unwrap();
        assert!(db.instances().unwrap().is_empty());
        assert_eq!(db.state("woo:shop-at", "cursor").unwrap(), None);
        assert!(
            db.feed_acks().unwrap().is_empty(),
            "a removed instance's acknowledgements go with it"
        );
        assert_eq!(db.state("woo", "cursor").unwrap(), Some(json!(9)));
        assert_refused(&db, "is not an added instance", |db| {
            db.remove_instance("woo")
        });
    }
}
