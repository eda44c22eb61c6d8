//! The demo store: `woo-sandbox` as its own process on a free port of
//! 127.0.0.1, with its built-in catalogue and orders; stopped on drop.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};

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
        let stderr = child.stderr.take().context("piped stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let mut seen = Vec::new();
        let url = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                let _ = child.wait();
                bail!(
                    "woo-sandbox ended before saying where it listens:\n{}",
                    seen.join("\n")
                );
            };
            if line.contains("listening on")
                && let Some(url) = line.split_whitespace().find(|w| w.starts_with("http"))
            {
                break url.to_owned();
            }
            seen.push(line);
        };
        // Keep draining its stderr so that it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
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
