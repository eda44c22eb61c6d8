//! The comparison with WooCommerce's official Python client: a venv under
//! the target dir (`bench-venv`, made with `python3 -m venv` and given the
//! `woocommerce` package from PyPI when it lacks it), and measured runs of
//! `python/woo_fetch.py`, which reads the same pages one after another, and
//! of `python/woo_stock_batches.py`, which sends End of Day's counts as
//! batches of 100 one after another.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use woo_client::model::{Order, Product, Variation};

use crate::process::{self, Measured};
use crate::raw_fetch::{FetchArgs, Fetched};

pub struct Python {
    interpreter: PathBuf,
    script: PathBuf,
    batches_script: PathBuf,
}

/// What `woo_stock_batches.py` printed.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct Batched {
    pub batches: u64,
    pub refused: u64,
    pub secs: f64,
}

fn quiet(command: &mut Command, what: &str) -> anyhow::Result<()> {
    let output = command
        .output()
        .with_context(|| format!("cannot run {what}"))?;
    if !output.status.success() {
        bail!(
            "{what} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

impl Python {
    /// The venv with the `woocommerce` package, made if missing.
    pub fn prepare(target_dir: &Path) -> anyhow::Result<Self> {
        let venv = target_dir.join("bench-venv");
        let interpreter = venv.join("bin").join("python");
        if !interpreter.exists() {
            eprintln!("[bench] python3 -m venv {}", venv.display());
            quiet(
                Command::new("python3").args(["-m", "venv"]).arg(&venv),
                "python3 -m venv (is python3 with its venv module installed?)",
            )?;
        }
        let has_client = Command::new(&interpreter)
            .args(["-c", "import woocommerce"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !has_client {
            eprintln!("[bench] pip install woocommerce (into {})", venv.display());
            quiet(
                Command::new(&interpreter).args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "woocommerce",
                ]),
                "pip install woocommerce",
            )?;
        }
        let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("python");
        Ok(Self {
            interpreter,
            script: scripts.join("woo_fetch.py"),
            batches_script: scripts.join("woo_stock_batches.py"),
        })
    }

    /// Runs the script against the store with the plugin's `_fields`.
    pub fn measure(&self, args: &FetchArgs) -> anyhow::Result<(Measured, Fetched)> {
        let mut command = Command::new(&self.interpreter);
        command
            .arg(&self.script)
            .args(args.store_flags())
            .args(["--product-fields", Product::FIELDS])
            .args(["--variation-fields", Variation::FIELDS])
            .args(["--order-fields", Order::FIELDS]);
        let measured = process::run(command)?.require_success("the Python script")?;
        let fetched = serde_json::from_str(measured.stdout.trim())
            .context("the Python script printed no figures")?;
        Ok((measured, fetched))
    }

    /// Sends `batches` (`[{"route", "update"}]`) one after another, with
    /// the client's OAuth 1.0a over plain HTTP, as a plain script would.
    pub fn send_batches(
        &self,
        url: &str,
        batches: &serde_json::Value,
    ) -> anyhow::Result<(Measured, Batched)> {
        let file = tempfile::NamedTempFile::new()?;
        serde_json::to_writer(&file, batches)?;
        let mut command = Command::new(&self.interpreter);
        command
            .arg(&self.batches_script)
            .args(["--url", url, "--key", crate::sandbox::KEY])
            .args(["--secret", crate::sandbox::SECRET])
            .arg("--batches")
            .arg(file.path());
        let measured = process::run(command)?.require_success("the Python batches script")?;
        let batched = serde_json::from_str(measured.stdout.trim())
            .context("the Python batches script printed no figures")?;
        Ok((measured, batched))
    }
}
