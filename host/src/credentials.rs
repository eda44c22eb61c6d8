//! Sealing plugin secrets: encrypted at rest, bound to the plugin they belong to.
//!
//! The key is 32 random bytes in `secret.key` in the data dir, created on
//! first use with owner-only permissions. Each secret is sealed with
//! ChaCha20-Poly1305 under a fresh nonce, with `plugin-id/setting-key` as
//! associated data: a sealed value copied to another plugin's row does not
//! open. Plain values never leave this module except to the plugin itself.

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, bail};
use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use plugin_api::Secret;

const NONCE_LEN: usize = 12;

/// The key's file in the data dir.
pub const KEY_FILE: &str = "secret.key";

/// The host's credential key.
pub struct CredentialKey(ChaCha20Poly1305);

impl CredentialKey {
    /// Reads the key file in `data_dir`, creating it if it does not exist.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Self> {
        let path = data_dir.join(KEY_FILE);
        if !path.exists() {
            let key = Key::generate();
            let mut file = create_private(&path)
                .with_context(|| format!("cannot create the key file {}", path.display()))?;
            file.write_all(key.as_slice())?;
        }
        let bytes = fs::read(&path)
            .with_context(|| format!("cannot read the key file {}", path.display()))?;
        let cipher = ChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| {
            anyhow::anyhow!(
                "the key file {} is damaged (expected 32 bytes)",
                path.display()
            )
        })?;
        Ok(Self(cipher))
    }

    pub fn seal(&self, plugin: &str, key: &str, secret: &Secret) -> anyhow::Result<Vec<u8>> {
        let nonce = Nonce::generate();
        let aad = associated_data(plugin, key);
        let sealed = self
            .0
            .encrypt(
                &nonce,
                Payload {
                    msg: secret.expose().as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("cannot seal the credential {plugin}/{key}"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn open(&self, plugin: &str, key: &str, sealed: &[u8]) -> anyhow::Result<Secret> {
        if sealed.len() < NONCE_LEN {
            bail!("the stored credential {plugin}/{key} is damaged");
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).expect("split at the nonce length");
        let aad = associated_data(plugin, key);
        let plain = self
            .0
            .decrypt(
                &nonce,
                Payload {
                    msg: body,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| {
                anyhow::anyhow!(
                    "the stored credential {plugin}/{key} does not open with this data dir's secret.key; set it again"
                )
            })?;
        Ok(Secret::new(String::from_utf8(plain)?))
    }
}

fn associated_data(plugin: &str, key: &str) -> String {
    format!("{plugin}/{key}")
}

#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_for_their_owner() {
        let dir = tempfile::tempdir().unwrap();
        let key = CredentialKey::load_or_create(dir.path()).unwrap();
        let sealed = key
            .seal("woo", "consumer_secret", &Secret::new("cs_123"))
            .unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"cs_123"));
        let again = CredentialKey::load_or_create(dir.path()).unwrap();
        assert_eq!(
            again
                .open("woo", "consumer_secret", &sealed)
                .unwrap()
                .expose(),
            "cs_123"
        );
        assert!(again.open("other", "consumer_secret", &sealed).is_err());
    }
}
