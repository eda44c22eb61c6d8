//! A change to a plugin's own settings, as an admin types it: each value
//! checked against its manifest field, secrets kept apart to be sealed,
//! and everything written together or not at all.
//!
//! Shared by the host (the CLI, the page) and `plugin-test-kit`, so a
//! plugin under test gets its settings exactly as a real host stores them.
//! It does not ask the plugin's own rules (`validate_settings`): each
//! caller does that its own way (under a deadline, or directly), between
//! [`SettingsChange::add`] and [`SettingsChange::write`].

use plugin_api::{FieldError, FieldKind, Manifest, Secret, SettingField};
use serde_json::Value;

use crate::services::HostCore;

/// The assignments checked so far.
#[derive(Default)]
pub struct SettingsChange {
    /// Values of plain fields, as the plugin will see them.
    pub plain: Vec<(String, Value)>,
    /// Values of secret fields, still in the clear.
    pub secrets: Vec<(String, Secret)>,
    /// Every value refused, with why.
    pub errors: Vec<FieldError>,
}

impl SettingsChange {
    /// Checks `raw` against the manifest's field `key`; `false` when the
    /// plugin has no such field (the caller says so in its own words).
    pub fn add(&mut self, manifest: &Manifest, key: &str, raw: &str) -> bool {
        let Some(field) = manifest.field(key) else {
            return false;
        };
        match field.parse_input(raw) {
            Ok(value) if field.kind == FieldKind::Secret => self.secrets.push((
                key.to_owned(),
                Secret::new(value.as_str().unwrap_or_default()),
            )),
            Ok(value) => self.plain.push((key.to_owned(), value)),
            Err(e) => self.errors.push(e),
        }
        true
    }

    /// Seals the secrets, then stores every value: nothing is written if a
    /// secret cannot be sealed.
    pub fn write(self, core: &HostCore, plugin_id: &str) -> anyhow::Result<()> {
        let sealed = self
            .secrets
            .iter()
            .map(|(key, secret)| Ok((key, core.key.seal(plugin_id, key, secret)?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        core.db.put_settings(plugin_id, &self.plain)?;
        for (key, sealed) in sealed {
            core.db.put_sealed_credential(plugin_id, key, &sealed)?;
        }
        Ok(())
    }
}

/// Whether the plugin's setting `field` has a stored value (a secret: a
/// sealed one), for telling which required settings are missing.
pub fn is_set(core: &HostCore, plugin_id: &str, field: &SettingField) -> bool {
    if field.kind == FieldKind::Secret {
        matches!(
            core.db.sealed_credential(plugin_id, &field.key),
            Ok(Some(_))
        )
    } else {
        core.db
            .settings(plugin_id)
            .is_ok_and(|s| s.iter().any(|(k, _)| k == &field.key))
    }
}
