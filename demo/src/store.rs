//! The demo store: `woo-sandbox` as its own process on a free port of
//! 127.0.0.1, with its built-in catalogue and orders; stopped on drop.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::Context;
use woo_sandbox::announce;

/// The store's REST API key, made up for the demo store.
pub const KEY: &str = "ck_demo";
pub const SECRET: &str = "cs_demo";

/// A running `woo-sandbox`.
pub struct Store {
    child: Child,
    pub url: String,
}

impl Store {
    /// Starts the sandbox and waits for the line that names its address.
    pub fn start(binary: &Path) -> anyhow::Result<Self> {
        let mut child = Command::new(binary)
            .args(["--listen", "127.0.0.1:0"])
            .args(["--consumer-key", KEY, "--consumer-secret", SECRET])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let url = announce::wait_for_url(&mut child)?;
        Ok(Self { child, url })
    }

    /// The process id, to say what runs.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
