//! What the host keeps per plugin: registration, activation wish, fault,
//! settings, host-owned settings, sealed credentials and private state.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::{Db, Result};

/// What the host learned from a plugin file at start-up.
#[derive(Clone, Debug)]
pub struct PluginRegistration {
    pub id: String,
    pub name: String,
    pub version: String,
    pub api_version: String,
    pub file: String,
}

/// A plugin as the database knows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PluginRecord {
    pub id: String,
    pub name: String,
    pub version: String,
    pub api_version: String,
    pub file: String,
    /// The admin asked for it to be active.
    pub enabled: bool,
    /// Why the last activation failed, while it stays failed.
    pub fault: Option<String>,
    /// Changes whenever the activation wish or the settings change.
    pub changed_at: i64,
}

/// The tables holding `(plugin, key, value)` rows.
#[derive(Clone, Copy)]
enum KeyValueTable {
    Settings,
    HostSettings,
    State,
}

impl KeyValueTable {
    fn name(self) -> &'static str {
        match self {
            Self::Settings => "plugin_settings",
            Self::HostSettings => "plugin_host_settings",
            Self::State => "plugin_state",
        }
    }
}

impl Db {
    /// Records (or refreshes) a plugin found at start-up; keeps its activation wish.
    pub fn register_plugin(&self, p: &PluginRegistration, now_ms: i64) -> Result<()> {
        self.conn().execute(
            "INSERT INTO plugins (id, name, version, api_version, file, changed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET name = ?2, version = ?3, api_version = ?4, file = ?5",
            params![p.id, p.name, p.version, p.api_version, p.file, now_ms],
        )?;
        Ok(())
    }

    pub fn plugin(&self, id: &str) -> Result<Option<PluginRecord>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, name, version, api_version, file, enabled, fault, changed_at FROM plugins WHERE id = ?1",
                [id],
                plugin_row,
            )
            .optional()?)
    }

    pub fn plugins(&self) -> Result<Vec<PluginRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, name, version, api_version, file, enabled, fault, changed_at FROM plugins ORDER BY id",
        )?;
        let rows = stmt.query_map([], plugin_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records the admin's wish; clears any fault.
    pub fn set_plugin_enabled(&self, id: &str, enabled: bool, now_ms: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE plugins SET enabled = ?2, fault = NULL, changed_at = MAX(changed_at + 1, ?3) WHERE id = ?1",
            params![id, enabled, now_ms],
        )?;
        Ok(())
    }

    /// Marks a plugin's settings as changed, so a running service re-activates it.
    pub fn touch_plugin(&self, id: &str, now_ms: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE plugins SET changed_at = MAX(changed_at + 1, ?2) WHERE id = ?1",
            params![id, now_ms],
        )?;
        Ok(())
    }

    /// Records the process a plugin instance runs in: its pid and owner
    /// token (who the process is beyond its pid).
    pub fn put_plugin_process(&self, plugin: &str, pid: u32, owner: &str) -> Result<()> {
        self.conn().execute(
            "INSERT INTO plugin_processes (plugin, pid, owner) VALUES (?1, ?2, ?3)
             ON CONFLICT (plugin) DO UPDATE SET pid = ?2, owner = ?3",
            params![plugin, pid, owner],
        )?;
        Ok(())
    }

    /// The last process recorded for a plugin instance (pid, owner); it
    /// may have ended since.
    pub fn plugin_process(&self, plugin: &str) -> Result<Option<(u32, String)>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT pid, owner FROM plugin_processes WHERE plugin = ?1",
                [plugin],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// Records why a plugin the admin wants active could not be activated
    /// (`None` once it is active again).
    pub fn set_plugin_fault(&self, id: &str, fault: Option<&str>) -> Result<()> {
        self.conn().execute(
            "UPDATE plugins SET fault = ?2 WHERE id = ?1",
            params![id, fault],
        )?;
        Ok(())
    }

    /// Records why an activation for the admin's change `changed_at` failed,
    /// unless the admin has changed the plugin since: a failure that comes
    /// late never undoes a newer wish (a reactivation clears the fault).
    pub fn set_activation_fault(&self, id: &str, fault: &str, changed_at: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE plugins SET fault = ?2 WHERE id = ?1 AND changed_at = ?3",
            params![id, fault, changed_at],
        )?;
        Ok(())
    }

    pub fn settings(&self, plugin: &str) -> Result<Vec<(String, serde_json::Value)>> {
        self.key_values(KeyValueTable::Settings, plugin)
    }

    /// Stores several settings at once: all or none.
    pub fn put_settings(&self, plugin: &str, values: &[(String, serde_json::Value)]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for (key, value) in values {
            tx.execute(
                "INSERT INTO plugin_settings (plugin, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (plugin, key) DO UPDATE SET value = ?3",
                params![plugin, key, value.to_string()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Removes a stored setting of the plugin's own (it falls back to its
    /// default, or to none).
    pub fn remove_setting(&self, plugin: &str, key: &str) -> Result<()> {
        self.put_key_value(KeyValueTable::Settings, plugin, key, None)
    }

    /// Removes a host setting kept for the plugin (the host's default applies).
    pub fn remove_host_setting(&self, plugin: &str, key: &str) -> Result<()> {
        self.put_key_value(KeyValueTable::HostSettings, plugin, key, None)
    }

    pub fn host_settings(&self, plugin: &str) -> Result<Vec<(String, serde_json::Value)>> {
        self.key_values(KeyValueTable::HostSettings, plugin)
    }

    pub fn put_host_setting(
        &self,
        plugin: &str,
        key: &str,
        value: &serde_json::Value,
    ) -> Result<()> {
        self.put_key_value(KeyValueTable::HostSettings, plugin, key, Some(value))
    }

    pub fn state(&self, plugin: &str, key: &str) -> Result<Option<serde_json::Value>> {
        let raw: Option<String> = self
            .conn()
            .query_row(
                "SELECT value FROM plugin_state WHERE plugin = ?1 AND key = ?2",
                [plugin, key],
                |r| r.get(0),
            )
            .optional()?;
        Ok(raw.map(|s| serde_json::from_str(&s)).transpose()?)
    }

    /// Every private state value of a plugin, by key.
    pub fn states(&self, plugin: &str) -> Result<Vec<(String, serde_json::Value)>> {
        self.key_values(KeyValueTable::State, plugin)
    }

    /// Stores (or with `None` removes) a private state value.
    pub fn put_state(
        &self,
        plugin: &str,
        key: &str,
        value: Option<&serde_json::Value>,
    ) -> Result<()> {
        self.put_key_value(KeyValueTable::State, plugin, key, value)
    }

    /// The sealed (encrypted) credential; the host opens it.
    pub fn sealed_credential(&self, plugin: &str, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT sealed FROM plugin_credentials WHERE plugin = ?1 AND key = ?2",
                [plugin, key],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn put_sealed_credential(&self, plugin: &str, key: &str, sealed: &[u8]) -> Result<()> {
        self.conn().execute(
            "INSERT INTO plugin_credentials (plugin, key, sealed) VALUES (?1, ?2, ?3)
             ON CONFLICT (plugin, key) DO UPDATE SET sealed = ?3",
            params![plugin, key, sealed],
        )?;
        Ok(())
    }

    fn key_values(
        &self,
        table: KeyValueTable,
        plugin: &str,
    ) -> Result<Vec<(String, serde_json::Value)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT key, value FROM {} WHERE plugin = ?1 ORDER BY key",
            table.name()
        ))?;
        let rows = stmt.query_map([plugin], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (key, raw) = row?;
            out.push((key, serde_json::from_str(&raw)?));
        }
        Ok(out)
    }

    fn put_key_value(
        &self,
        table: KeyValueTable,
        plugin: &str,
        key: &str,
        value: Option<&serde_json::Value>,
    ) -> Result<()> {
        let conn = self.conn();
        match value {
            Some(v) => conn.execute(
                &format!(
                    "INSERT INTO {} (plugin, key, value) VALUES (?1, ?2, ?3)
                     ON CONFLICT (plugin, key) DO UPDATE SET value = ?3",
                    table.name()
                ),
                params![plugin, key, v.to_string()],
            )?,
            None => conn.execute(
                &format!(
                    "DELETE FROM {} WHERE plugin = ?1 AND key = ?2",
                    table.name()
                ),
                params![plugin, key],
            )?,
        };
        Ok(())
    }
}

fn plugin_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PluginRecord> {
    Ok(PluginRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        version: r.get(2)?,
        api_version: r.get(3)?,
        file: r.get(4)?,
        enabled: r.get(5)?,
        fault: r.get(6)?,
        changed_at: r.get(7)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("it.db")).unwrap();
        (dir, db)
    }

    fn reg(id: &str) -> PluginRegistration {
        PluginRegistration {
            id: id.into(),
            name: "N".into(),
            version: "1.0.0".into(),
            api_version: "1.1".into(),
            file: "/p/lib.so".into(),
        }
    }

    #[test]
    fn activation_wish_survives_re_registration() {
        let (_d, db) = db();
        db.register_plugin(&reg("a"), 1).unwrap();
        db.set_plugin_enabled("a", true, 2).unwrap();
        db.register_plugin(&reg("a"), 3).unwrap();
        assert!(db.plugin("a").unwrap().unwrap().enabled);
        let before = db.plugin("a").unwrap().unwrap().changed_at;
        db.touch_plugin("a", 0).unwrap();
        assert!(db.plugin("a").unwrap().unwrap().changed_at > before);
    }

    #[test]
    fn a_late_activation_fault_does_not_undo_a_reactivation() {
        let (_d, db) = db();
        db.register_plugin(&reg("a"), 1).unwrap();
        db.set_plugin_enabled("a", true, 2).unwrap();
        let tried = db.plugin("a").unwrap().unwrap().changed_at;
        db.set_activation_fault("a", "refused", tried).unwrap();
        assert_eq!(
            db.plugin("a").unwrap().unwrap().fault.as_deref(),
            Some("refused")
        );
        db.set_plugin_enabled("a", true, 3).unwrap();
        db.set_activation_fault("a", "refused again", tried)
            .unwrap();
        assert_eq!(db.plugin("a").unwrap().unwrap().fault, None);
    }

    #[test]
    fn state_and_settings_are_per_plugin() {
        let (_d, db) = db();
        db.put_state("a", "cursor", Some(&json!(41))).unwrap();
        db.put_state("a", "cursor", Some(&json!(42))).unwrap();
        assert_eq!(db.state("a", "cursor").unwrap(), Some(json!(42)));
        assert_eq!(db.state("b", "cursor").unwrap(), None);
        db.put_state("a", "cursor", None).unwrap();
        assert_eq!(db.state("a", "cursor").unwrap(), None);
        db.put_settings("a", &[("x".into(), json!(true))]).unwrap();
        assert_eq!(db.settings("a").unwrap(), vec![("x".into(), json!(true))]);
        assert!(db.settings("b").unwrap().is_empty());
    }
}
