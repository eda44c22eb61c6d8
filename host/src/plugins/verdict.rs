//! What the host concludes of a plugin file, whoever looked at it (the
//! loader in the host, or a probe in a child process): its manifest held
//! to the manifest's rules, or a refusal with the reason. Shared by
//! `loader` and `probe`, so neither depends on the other for it.

use std::path::PathBuf;

use plugin_api::{API_VERSION, ApiVersion, Manifest};

/// A file that is not a plugin this host can run, and why.
#[derive(Clone, Debug)]
pub struct RefusedFile {
    pub file: PathBuf,
    pub api_version: Option<ApiVersion>,
    pub reason: String,
}

impl RefusedFile {
    /// The one line shown to the admin.
    pub fn line(&self) -> String {
        let version = self
            .api_version
            .map_or_else(|| "unknown".to_string(), |v| v.to_string());
        format!(
            "refused {} (plugin API {version}; this host offers {API_VERSION}): {}",
            self.file.display(),
            self.reason
        )
    }
}

/// A manifest from its JSON, held to the manifest's rules.
pub fn read_manifest(json: &str) -> Result<Manifest, String> {
    let manifest: Manifest =
        serde_json::from_str(json).map_err(|e| format!("its manifest is not readable: {e}"))?;
    manifest.check().map_err(|e| e.to_string())?;
    Ok(manifest)
}
