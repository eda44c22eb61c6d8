//! `bench isolation`: what running a plugin in its own process costs,
//! against the same plugin loaded into the host (`host.isolation`).
//!
//! For each mode, in a fresh data dir with the release `plugin-host` and
//! the release test plugins: `plugins activate misbehaving` (the whole
//! command: host start, activation, deactivation), `run misbehaving ok` (a
//! job's round trip as a command), and `run sample-source import-bulk`,
//! which imports `--items` simple items through the DB handle in batches of
//! 1,000 (every batch a message across the pipe in process mode). Each is
//! timed as a child process (`crate::process`), the modes taking turns
//! round by round; the table shows medians over `--rounds` and process /
//! in-process ratios. CPU is the command's own and that of the plugin
//! process it reaped (one killed at the command's exit is not counted).
//! A command's wall time includes starting the host and closing the
//! database at exit (a WAL checkpoint: after a bulk import, a large share);
//! the import is therefore also shown as its run record has it, the job
//! alone. It changes no plugin
//! and leaves no process or folder behind.

use crate::transcript::outln;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::binaries::{cargo, target_dir};
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

    /// How long the plugin's last run took, by its run record.
    fn last_run_seconds(&self, plugin: &str) -> anyhow::Result<f64> {
        let listed = self.run(&["runs", plugin, "--limit", "1", "--json"])?;
        let runs: serde_json::Value = serde_json::from_str(&listed.stdout)?;
        let run = &runs[0];
        match (run["started_ms"].as_i64(), run["ended_ms"].as_i64()) {
            (Some(started), Some(ended)) => Ok((ended - started) as f64 / 1000.0),
            _ => bail!("no finished run of {plugin}: {runs}"),
        }
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

pub fn run(args: &IsolationArgs) -> anyhow::Result<()> {
    if args.rounds == 0 {
        bail!("--rounds must be at least 1");
    }
    if !args.no_build {
        cargo(&BUILD_ARGS)?;
    }
    let release = target_dir().join("release");
    let installs = MODES
        .iter()
        .map(|mode| Install::new(&release, mode, args.items))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // Rounds alternate the modes, so neither gains from a warmer cache.
    let mut walls: [[Vec<(f64, f64)>; 3]; 2] = Default::default();
    // The import as its run record has it: start to end of the job alone.
    let mut recorded: [Vec<f64>; 2] = Default::default();
    for round in 0..args.rounds {
        eprintln!("[bench] round {}", round + 1);
        for (m, install) in installs.iter().enumerate() {
            let activate = install.run(&["plugins", "activate", "misbehaving"])?;
            let job = install.run(&["run", "misbehaving", "ok"])?;
            // Each import into a fresh data dir: every item is created.
            let fresh = Install::new(&release, MODES[m], args.items)?;
            let import = (
                fresh.run(&["run", "sample-source", "import-bulk"])?,
                fresh.last_run_seconds("sample-source")?,
            );
            for (i, measured) in [activate, job, import.0].iter().enumerate() {
                walls[m][i].push((measured.wall, measured.cpu));
            }
            recorded[m].push(import.1);
        }
    }
    let results = walls.map(|mode| {
        mode.map(|runs| {
            (
                median(runs.iter().map(|r| r.0).collect()),
                median(runs.iter().map(|r| r.1).collect()),
            )
        })
    });
    let labels = [
        "plugins activate (command)".to_string(),
        "run ok (job round trip, command)".to_string(),
        format!("import {} items via DB handle", args.items),
    ];
    outln!(
        "isolation: medians of {} rounds; wall / CPU seconds of the plugin-host command (CPU includes its plugin process)",
        args.rounds
    );
    outln!(
        "{:<38} {:>16} {:>16} {:>12}",
        "",
        "in-process",
        "process",
        "wall ratio"
    );
    let [in_job, job] = recorded.map(median);
    outln!(
        "{:<38} {in_job:>16.3} {job:>16.3} {:>12.3}",
        format!("import {} items, as recorded", args.items),
        job / in_job
    );
    for (i, label) in labels.iter().enumerate() {
        let ((in_wall, in_cpu), (wall, cpu)) = (results[0][i], results[1][i]);
        outln!(
            "{label:<38} {in_wall:>7.3} / {in_cpu:>6.3} {wall:>7.3} / {cpu:>6.3} {:>12.3}",
            wall / in_wall
        );
    }
    Ok(())
}
