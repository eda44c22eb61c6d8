//! `bench isolation`: what running a plugin in its own process costs,
//! against the same plugin loaded into the host (`host.isolation`).
//!
//! For each mode, in a fresh data dir with the release `plugin-host` and
//! the release test plugins: `plugins activate misbehaving` (the whole
//! command: host start, activation, deactivation), `run misbehaving ok` (a
//! job's round trip as a command), and `run sample-source import-bulk`,
//! which imports `--items` simple items through the DB handle in batches of
//! 1,000 (every batch a message across the pipe in process mode). Each is
//! timed as a child process (`crate::process`); the table shows medians
//! over `--rounds` and process / in-process ratios. It changes no plugin
//! and leaves no process or folder behind.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::binaries::{target_dir, workspace_root};
use crate::process::{self, Measured};

const MODES: [&str; 2] = ["in-process", "process"];
const PLUGINS: [&str; 2] = ["misbehaving_plugin", "sample_source_plugin"];
const BUILD_ARGS: [&str; 8] = [
    "build",
    "--release",
    "-p",
    "plugin-host",
    "-p",
    "misbehaving-plugin",
    "-p",
    "sample-source-plugin",
];

#[derive(clap::Args)]
pub struct IsolationArgs {
    /// Items the import brings in through the DB handle.
    #[arg(long, default_value_t = 100_000)]
    items: u64,
    /// Times each measurement is taken per mode (the median is shown).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Use the release binaries as they are instead of building them.
    #[arg(long)]
    no_build: bool,
}

/// One install of the host in one isolation mode.
struct Install {
    _dir: tempfile::TempDir,
    host: PathBuf,
    data: PathBuf,
    plugins: PathBuf,
}

impl Install {
    fn new(release: &Path, mode: &str, items: u64) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("bench-isolation-")
            .tempdir()?;
        let plugins = dir.path().join("plugins");
        std::fs::create_dir_all(&plugins)?;
        for name in PLUGINS {
            let file = library(name);
            std::fs::copy(release.join(&file), plugins.join(&file))
                .with_context(|| format!("copy {file}"))?;
        }
        let install = Self {
            host: release.join("plugin-host"),
            data: dir.path().join("data"),
            plugins,
            _dir: dir,
        };
        let isolation = format!("host.isolation={mode}");
        for plugin in ["misbehaving", "sample-source"] {
            install.run(&["plugins", "settings", plugin, "--set", &isolation])?;
        }
        install.run(&[
            "plugins",
            "settings",
            "sample-source",
            "--set",
            &format!("bulk_items={items}"),
        ])?;
        install.run(&["plugins", "activate", "sample-source"])?;
        Ok(install)
    }

    fn run(&self, args: &[&str]) -> anyhow::Result<Measured> {
        let mut command = Command::new(&self.host);
        command
            .arg("--data-dir")
            .arg(&self.data)
            .arg("--plugin-dir")
            .arg(&self.plugins)
            .args(args)
            .env("RUST_LOG", "warn");
        process::run(command)?.require_success(&args.join(" "))
    }
}

fn library(name: &str) -> String {
    format!(
        "{}{name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Median wall and CPU seconds of `rounds` runs of `measure`.
fn medians(
    rounds: usize,
    mut measure: impl FnMut() -> anyhow::Result<Measured>,
) -> anyhow::Result<(f64, f64)> {
    let runs = (0..rounds)
        .map(|_| measure())
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((
        median(runs.iter().map(|m| m.wall).collect()),
        median(runs.iter().map(|m| m.cpu).collect()),
    ))
}

pub fn run(args: &IsolationArgs) -> anyhow::Result<()> {
    if args.rounds == 0 {
        bail!("--rounds must be at least 1");
    }
    if !args.no_build {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        eprintln!("[bench] cargo {}", BUILD_ARGS.join(" "));
        let status = Command::new(&cargo)
            .args(BUILD_ARGS)
            .current_dir(workspace_root())
            .status()
            .with_context(|| format!("cannot run {}", cargo.display()))?;
        if !status.success() {
            bail!("cargo {} failed ({status})", BUILD_ARGS.join(" "));
        }
    }
    let release = target_dir().join("release");
    let mut results = [[(0.0, 0.0); 3]; 2];
    for (m, mode) in MODES.iter().enumerate() {
        eprintln!("[bench] {mode}");
        let install = Install::new(&release, mode, args.items)?;
        results[m][0] = medians(args.rounds, || {
            install.run(&["plugins", "activate", "misbehaving"])
        })?;
        results[m][1] = medians(args.rounds, || {
            install.run(&["run", "misbehaving", "ok", "--as", "bench"])
        })?;
        results[m][2] = medians(args.rounds, || {
            // Each import into a fresh data dir: every item is created.
            Install::new(&release, mode, args.items)?.run(&[
                "run",
                "sample-source",
                "import-bulk",
                "--as",
                "bench",
            ])
        })?;
    }
    let labels = [
        "plugins activate (command)".to_string(),
        "run ok (job round trip, command)".to_string(),
        format!("import {} items via DB handle", args.items),
    ];
    println!(
        "isolation: medians of {} rounds; wall / CPU seconds of the plugin-host command (CPU includes its plugin process)",
        args.rounds
    );
    println!(
        "{:<38} {:>16} {:>16} {:>12}",
        "", "in-process", "process", "wall ratio"
    );
    for (i, label) in labels.iter().enumerate() {
        let ((in_wall, in_cpu), (wall, cpu)) = (results[0][i], results[1][i]);
        println!(
            "{label:<38} {in_wall:>7.3} / {in_cpu:>6.3} {wall:>7.3} / {cpu:>6.3} {:>12.3}",
            wall / in_wall
        );
    }
    Ok(())
}
