//! A fresh `plugin-host` installation (temporary data dir, plugin dir with a
//! copy of the WooCommerce plugin library) driven through its CLI as an
//! admin would, each job run a measured child process. The run's counts
//! come from `plugin-host runs woocommerce --json`; the phases of a run are
//! read from the progress lines it prints on stderr.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::binaries::{Binaries, plugin_file};
use crate::process::{self, Line, Measured};

pub const PLUGIN: &str = "woocommerce";

pub struct Install {
    _tmp: tempfile::TempDir,
    host: PathBuf,
    data_dir: PathBuf,
    plugin_dir: PathBuf,
    /// Environment every command of this installation gets (the soak's
    /// stepped clock).
    env: Vec<(String, String)>,
}

/// One job run: what it cost and what it did.
pub struct JobRun {
    pub measured: Measured,
    pub counts: RunCounts,
    pub phases: Phases,
}

/// The run as `plugin-host runs --json` records it.
#[derive(Debug, Clone, Deserialize)]
pub struct RunCounts {
    pub outcome: String,
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    pub failed: u64,
    pub error: Option<String>,
    #[serde(default)]
    pub summary: String,
}

impl RunCounts {
    /// Records the run wrote: created and updated.
    pub fn written(&self) -> u64 {
        self.created + self.updated
    }
}

/// When the progress lines of a run arrived, in seconds after its start.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Phases {
    /// The plugin said it is connected (the connection check is done).
    pub connected: Option<f64>,
    /// The last "reading ... (pages)" progress line, and its pages.
    pub last_read: Option<(f64, u64)>,
    /// The first "... imported" progress line: the first batch written.
    pub first_write: Option<f64>,
    /// "... imported" progress lines: batches written.
    pub batches: u64,
}

impl Phases {
    pub fn from_stderr(lines: &[Line]) -> Self {
        let mut phases = Phases::default();
        for line in lines {
            let text = line.text.as_str();
            if text.contains("connected to the store") {
                phases.connected.get_or_insert(line.at);
            } else if let Some(progress) = text.strip_prefix('[')
                && let Some((_, rest)) = progress.split_once("] ")
            {
                let done = rest
                    .split(['/', ' '])
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                if rest.contains(" reading ") {
                    phases.last_read = Some((line.at, done));
                } else if rest.ends_with(" imported") {
                    phases.first_write.get_or_insert(line.at);
                    phases.batches += 1;
                }
            }
        }
        phases
    }

    /// `connected 0.05 s · read+plan+1st batch 8.1 s · other 19 batches
    /// 4.0 s · RSS ...`, the resident set sampled before and after the
    /// first batch was written.
    pub fn describe(&self, measured: &Measured) -> String {
        let wall = measured.wall;
        let connected = self.connected.unwrap_or(0.0);
        let mut parts = vec![format!("start+connection check {connected:.2} s")];
        if let Some((at, pages)) = self.last_read {
            parts.push(format!(
                "last read progress at {at:.2} s ({pages} pages, shown every 0.5 s)"
            ));
        }
        match self.first_write {
            Some(first) => {
                parts.push(format!("read+plan+1st batch {:.2} s", first - connected));
                parts.push(format!(
                    "other {} batches {:.2} s",
                    self.batches.saturating_sub(1),
                    wall - first
                ));
            }
            None => parts.push(format!("no batch written; rest {:.2} s", wall - connected)),
        }
        let read_end = self.last_read.map_or(0.0, |(at, _)| at);
        let split = self.first_write.unwrap_or(wall);
        let mib = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.0}"));
        parts.push(format!(
            "sampled RSS peak {} MiB by the last read progress line, {} MiB by the 1st batch, {} MiB after",
            mib(measured.sampled_peak_mib(0.0, read_end + 0.001)),
            mib(measured.sampled_peak_mib(0.0, split)),
            mib(measured.sampled_peak_mib(split, f64::INFINITY))
        ));
        parts.join(" · ")
    }
}

impl Install {
    pub fn new(binaries: &Binaries) -> anyhow::Result<Self> {
        let tmp = tempfile::Builder::new().prefix("bench-host-").tempdir()?;
        let data_dir = tmp.path().join("data");
        let plugin_dir = tmp.path().join("plugins");
        std::fs::create_dir_all(&plugin_dir)?;
        std::fs::copy(&binaries.plugin, plugin_dir.join(plugin_file()))
            .with_context(|| format!("copy {}", binaries.plugin.display()))?;
        Ok(Self {
            _tmp: tmp,
            host: binaries.host.clone(),
            data_dir,
            plugin_dir,
            env: Vec::new(),
        })
    }

    /// Installs `host` and the plugin library `plugin` over the ones this
    /// installation has, as a package upgrade does (the library written
    /// beside the old one, then renamed over it); every later command runs
    /// the new host. Its data dir is left as it is.
    pub fn replace_binaries(
        &mut self,
        host: &std::path::Path,
        plugin: &std::path::Path,
    ) -> anyhow::Result<()> {
        let library = self.plugin_dir.join(plugin_file());
        let partial = library.with_extension("partial");
        std::fs::copy(plugin, &partial).with_context(|| format!("copy {}", plugin.display()))?;
        std::fs::rename(&partial, &library)?;
        self.host = host.to_owned();
        Ok(())
    }

    /// Leaves the installation's files behind when it is dropped (to look
    /// into after a failure); returns where they are.
    pub fn keep_files(&mut self) -> PathBuf {
        self._tmp.disable_cleanup(true);
        self._tmp.path().to_owned()
    }

    /// Gives every later command of this installation `NAME=VALUE`.
    pub fn set_env(&mut self, name: &str, value: &str) {
        self.env.push((name.to_owned(), value.to_owned()));
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.host);
        command
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--plugin-dir")
            .arg(&self.plugin_dir)
            .args(args)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    fn admin(&self, args: &[&str]) -> anyhow::Result<Measured> {
        process::run(self.command(args))?
            .require_success(&format!("plugin-host {}", args.join(" ")))
    }

    /// Points the plugin at the store, at most `concurrency` requests at once.
    pub fn configure(
        &self,
        url: &str,
        key: &str,
        secret: &str,
        concurrency: u32,
    ) -> anyhow::Result<()> {
        self.configure_as(url, key, secret, &concurrency.to_string())
    }

    /// Points the plugin at the store with this `concurrency` setting
    /// (`auto` or a number).
    pub fn configure_as(
        &self,
        url: &str,
        key: &str,
        secret: &str,
        concurrency: &str,
    ) -> anyhow::Result<()> {
        let settings = [
            format!("store_url={url}"),
            format!("consumer_key={key}"),
            format!("consumer_secret={secret}"),
            format!("concurrency={concurrency}"),
        ];
        let mut args = vec!["plugins", "settings", PLUGIN];
        for setting in &settings {
            args.extend(["--set", setting.as_str()]);
        }
        self.admin(&args)?;
        Ok(())
    }

    /// `plugins activate woocommerce` (which runs the connection check), measured.
    pub fn activate(&self) -> anyhow::Result<Measured> {
        self.admin(&["plugins", "activate", PLUGIN])
    }

    /// `plugins list`, measured: the host starting, opening its database
    /// and loading every plugin, then ending.
    pub fn start_up(&self) -> anyhow::Result<Measured> {
        self.admin(&["plugins", "list"])
    }

    /// `serve` left idle for `settle` (its activations started, no job
    /// due: no schedule is set), then its resident set in MiB; stopped
    /// with SIGTERM as a service manager would.
    pub fn serve_idle_rss(&self, settle: Duration) -> anyhow::Result<f64> {
        let mut child = self
            .command(&["serve"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start plugin-host serve")?;
        std::thread::sleep(settle);
        let rss = process::resident_kib(child.id());
        let pid = libc::pid_t::try_from(child.id())?;
        // SAFETY: kill has no memory preconditions; the pid is our child's,
        // not yet waited for.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let status = child.wait()?;
        let kib = rss.with_context(|| format!("serve ended before it settled ({status})"))?;
        Ok(kib as f64 / 1024.0)
    }

    /// Sets plugin settings (`KEY=VALUE` each).
    pub fn set(&self, assignments: &[&str]) -> anyhow::Result<()> {
        let mut args = vec!["plugins", "settings", PLUGIN];
        for assignment in assignments {
            args.extend(["--set", assignment]);
        }
        self.admin(&args).map(drop)
    }

    /// Any admin command, measured; fails unless it succeeded.
    pub fn command_ok(&self, args: &[&str]) -> anyhow::Result<Measured> {
        self.admin(args)
    }

    /// Whether the warehouse has the order numbered `number`.
    pub fn has_order(&self, number: &str) -> bool {
        self.command(&["order", number, "--json"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Every run of the plugin, newest first, as `runs --json` gives them.
    pub fn runs(&self) -> anyhow::Result<Vec<serde_json::Value>> {
        let ran = self.admin(&["runs", PLUGIN, "--limit", "100000", "--json"])?;
        serde_json::from_str(&ran.stdout).context("`runs --json` is not JSON")
    }

    /// `serve` with its admin listener (and webhook endpoint) on `listen`,
    /// logging to `log`; the caller stops it.
    pub fn serve_on(
        &self,
        listen: &str,
        log: std::fs::File,
    ) -> anyhow::Result<std::process::Child> {
        self.command(&["serve", "--listen", listen])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("cannot start plugin-host serve")
    }

    /// Where this installation keeps its files.
    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    /// The IntelliTrack database of this installation.
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("intellitrack.db")
    }

    /// `run woocommerce JOB [FLAGS]`, measured; fails unless the run succeeded.
    pub fn run_job(&self, job: &str, flags: &[&str]) -> anyhow::Result<JobRun> {
        let mut args = vec!["run", PLUGIN, job];
        args.extend_from_slice(flags);
        let measured = process::run(self.command(&args))?;
        let counts = self.last_run()?;
        if !measured.success() || counts.outcome != "succeeded" {
            bail!(
                "run {job}: {} ({})\n{}\n{}",
                counts.outcome,
                counts.error.as_deref().unwrap_or("no error recorded"),
                measured
                    .stdout
                    .lines()
                    .take(20)
                    .collect::<Vec<_>>()
                    .join("\n"),
                measured.stderr_tail(20)
            );
        }
        let phases = Phases::from_stderr(&measured.stderr);
        Ok(JobRun {
            measured,
            counts,
            phases,
        })
    }

    fn last_run(&self) -> anyhow::Result<RunCounts> {
        let ran = self.admin(&["runs", PLUGIN, "--limit", "1", "--json"])?;
        let mut runs: Vec<RunCounts> =
            serde_json::from_str(&ran.stdout).context("`runs --json` is not the expected JSON")?;
        runs.pop().context("no run recorded")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(at: f64, text: &str) -> Line {
        Line {
            at,
            text: text.to_owned(),
        }
    }

    #[test]
    fn phases_come_from_the_progress_lines() {
        let lines = [
            line(
                0.01,
                "2026-11-30T10:37:39Z  INFO plugin{id=\"woocommerce\"}: x: WooCommerce 10.0.2.",
            ),
            line(
                0.05,
                "2026-11-30T10:37:39Z  INFO plugin{id=\"woocommerce\"}: x: connected to the store version=10.0.2",
            ),
            line(
                0.55,
                "[woocommerce/import-products] 120/1001 reading products from WooCommerce (pages)",
            ),
            line(
                1.05,
                "[woocommerce/import-products] 900/1001 reading products from WooCommerce (pages)",
            ),
            line(
                2.00,
                "[woocommerce/import-products] 495/2840 products imported",
            ),
            line(
                2.50,
                "[woocommerce/import-products] 995/2840 products imported",
            ),
        ];
        let phases = Phases::from_stderr(&lines);
        assert_eq!(
            phases,
            Phases {
                connected: Some(0.05),
                last_read: Some((1.05, 900)),
                first_write: Some(2.0),
                batches: 2,
            }
        );
        let measured = Measured {
            wall: 3.0,
            cpu: 1.0,
            peak_rss_kib: 4096,
            code: Some(0),
            stdout: String::new(),
            stderr: lines.to_vec(),
            rss: vec![(1.0, 1024), (1.5, 2048), (2.5, 4096)],
        };
        let text = phases.describe(&measured);
        assert!(
            text.contains(
                "1 MiB by the last read progress line, 2 MiB by the 1st batch, 4 MiB after"
            ),
            "{text}"
        );
        assert!(text.contains("read+plan+1st batch 1.95 s"), "{text}");
        assert!(text.contains("other 1 batches 1.00 s"), "{text}");
    }
}
