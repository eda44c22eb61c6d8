//! `plugin-host` on the demo's data dir, driven through its CLI as an admin
//! would; the plugin folder is the default one (beside the executable).

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use anyhow::{Context, bail};

use crate::report::RunRecord;

/// The plugin the demo configures.
pub const PLUGIN: &str = "woocommerce";

pub struct Host {
    pub binary: PathBuf,
    pub data_dir: PathBuf,
}

impl Host {
    fn output(&self, args: &[&str]) -> anyhow::Result<Output> {
        Command::new(&self.binary)
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(args)
            .env("RUST_LOG", "warn")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("cannot run {}", self.binary.display()))
    }

    /// Runs `plugin-host ARGS`; its standard output, or why it failed.
    pub fn admin(&self, args: &[&str]) -> anyhow::Result<String> {
        let output = self.output(args)?;
        if !output.status.success() {
            bail!(
                "plugin-host {} failed ({}):\n{}{}",
                args.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// `plugin-host run woocommerce JOB --json`: the run as recorded;
    /// fails unless it succeeded.
    pub fn run_job(&self, job: &str) -> anyhow::Result<RunRecord> {
        let args = ["run", PLUGIN, job, "--json"];
        let output = self.output(&args)?;
        let run: RunRecord = serde_json::from_slice(&output.stdout).with_context(|| {
            format!(
                "plugin-host {} printed no run ({}):\n{}",
                args.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )
        })?;
        if run.outcome != "succeeded" {
            bail!(
                "{job} {}: {}",
                run.outcome,
                run.error.as_deref().unwrap_or("no error recorded")
            );
        }
        Ok(run)
    }
}
