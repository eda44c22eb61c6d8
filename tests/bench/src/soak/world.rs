//! The soak's processes: two `woo-sandbox` stores sharing their catalogue's
//! SKUs (one variable product of each keeping its variations' stock at
//! the parent), a `plugin-host` installation with an instance of the WooCommerce
//! plugin for each, and `plugin-host serve` on a stepped clock
//! (`PLUGIN_HOST_CLOCK_FILE`): the driver writes a time into the file, then
//! waits until `serve` writes it back into `FILE.settled`, which it does
//! once everything due at that time has run.

use std::path::PathBuf;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use jiff::Timestamp;
use reqwest::Method;
use serde_json::{Value, json};

use crate::binaries::Binaries;
use crate::host::Install;
use crate::process;
use crate::sandbox::{KEY, SECRET, Sandbox, StoreSpec};

/// The plugin instances, one a store, in the order of [`World::stores`].
pub const INSTANCES: [&str; 2] = ["woocommerce", "woocommerce:shop-b"];
/// The site's time zone: it has summer time.
pub const ZONE: &str = "Europe/Berlin";
/// The Sync Time Range and Sync Interval (minutes).
pub const TIME_RANGE: &str = "07:00-20:00";
pub const INTERVAL_MINUTES: &str = "120";
/// How long `serve` may take to settle one step before the soak gives up.
const SETTLE_LIMIT: Duration = Duration::from_secs(300);

pub struct World {
    pub stores: [Sandbox; 2],
    pub install: Install,
    clock_file: PathBuf,
    serve: Option<Child>,
    /// Where `serve` logs (kept over restarts, for a failure's tail).
    log: PathBuf,
    _tmp: tempfile::TempDir,
}

impl World {
    /// Starts both stores (the same generated catalogue, so every SKU is
    /// in both), the installation with both instances configured and
    /// scheduled (End of Day at `end_of_day`, one a store), its clock at
    /// `start`, and `serve`.
    pub fn start(
        binaries: &Binaries,
        spec: &StoreSpec,
        start: Timestamp,
        end_of_day: &[jiff::civil::Time; 2],
    ) -> anyhow::Result<Self> {
        let tmp = tempfile::Builder::new().prefix("bench-soak-").tempdir()?;
        let clock_file = tmp.path().join("clock");
        std::fs::write(&clock_file, start.as_millisecond().to_string())?;
        // The plugin signs OAuth with the real clock's time, the stores
        // run on simulated time.
        let flags = ["--any-oauth-timestamp".to_owned()];
        let stores = [
            Sandbox::start_with(&binaries.sandbox, spec, 0, "10.3.0", &flags)?,
            Sandbox::start_with(&binaries.sandbox, spec, 0, "10.3.0", &flags)?,
        ];
        for store in &stores {
            store.set_clock(start)?;
            stock_at_parent(store)?;
        }
        let mut install = Install::new(binaries)?;
        install.set_env("PLUGIN_HOST_CLOCK_FILE", &clock_file.display().to_string());
        install.command_ok(&["plugins", "add-instance", INSTANCES[0], "shop-b"])?;
        install.command_ok(&["timezone", ZONE])?;
        for ((id, store), end_of_day) in INSTANCES.iter().zip(&stores).zip(end_of_day) {
            let end_of_day = end_of_day.strftime("%H:%M").to_string();
            let url = format!("store_url={}", store.url);
            let key = format!("consumer_key={KEY}");
            let secret = format!("consumer_secret={SECRET}");
            install.command_ok(&[
                "plugins", "settings", id, "--set", &url, "--set", &key, "--set", &secret,
            ])?;
            install.command_ok(&[
                "schedule",
                id,
                "--interval",
                INTERVAL_MINUTES,
                "--time-range",
                TIME_RANGE,
                "--end-of-day",
                &end_of_day,
            ])?;
            install.command_ok(&["plugins", "activate", id])?;
        }
        let log = tmp.path().join("serve.log");
        let mut world = Self {
            stores,
            install,
            clock_file,
            serve: None,
            log,
            _tmp: tmp,
        };
        world.start_serve()?;
        Ok(world)
    }

    fn start_serve(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        self.serve = Some(self.install.serve_on("127.0.0.1:0", log)?);
        Ok(())
    }

    /// `serve`'s process id.
    pub fn serve_pid(&self) -> u32 {
        self.serve.as_ref().map_or(0, Child::id)
    }

    /// Moves both stores' clocks and the host's to `at`, then waits until
    /// `serve` has run everything due then.
    pub fn step(&mut self, at: Timestamp) -> anyhow::Result<()> {
        self.set_time(at)?;
        self.settle(at)
    }

    fn set_time(&self, at: Timestamp) -> anyhow::Result<()> {
        for store in &self.stores {
            store.set_clock(at)?;
        }
        let partial = self.clock_file.with_extension("partial");
        std::fs::write(&partial, at.as_millisecond().to_string())?;
        std::fs::rename(&partial, &self.clock_file)?;
        Ok(())
    }

    fn settled_file(&self) -> PathBuf {
        let mut name = self.clock_file.clone().into_os_string();
        name.push(".settled");
        name.into()
    }

    fn settle(&mut self, at: Timestamp) -> anyhow::Result<()> {
        let started = Instant::now();
        let wanted = at.as_millisecond().to_string();
        loop {
            if std::fs::read_to_string(self.settled_file()).is_ok_and(|t| t == wanted) {
                return Ok(());
            }
            if let Some(child) = &mut self.serve
                && let Some(status) = child.try_wait()?
            {
                bail!("serve ended by itself ({status})\n{}", self.log_tail());
            }
            if started.elapsed() > SETTLE_LIMIT {
                bail!(
                    "serve did not settle at {at} within {} s\n{}",
                    SETTLE_LIMIT.as_secs(),
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Moves the clocks to `at`, kills `serve` with SIGKILL `after` into
    /// the runs that fall due then, starts it again and waits until it has
    /// settled.
    pub fn kill_serve_during(&mut self, at: Timestamp, after: Duration) -> anyhow::Result<()> {
        self.set_time(at)?;
        std::thread::sleep(after);
        if let Some(mut child) = self.serve.take() {
            child.kill().context("cannot kill serve")?;
            child.wait()?;
        }
        self.start_serve_settled(at)
    }

    /// Stops `serve` as a service manager does (SIGTERM), waiting at most
    /// `limit` for it to end; how it ended.
    pub fn terminate_serve(&mut self, limit: Duration) -> anyhow::Result<ExitStatus> {
        let mut child = self.serve.take().context("serve is not running")?;
        let pid = libc::pid_t::try_from(child.id())?;
        // SAFETY: kill has no memory preconditions; the pid is our child's,
        // not yet waited for.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(status);
            }
            if started.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                bail!(
                    "serve did not end within {} s of SIGTERM\n{}",
                    limit.as_secs(),
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Starts `serve` (none running) and waits until it has run everything
    /// due at `at`, the clock's time.
    pub fn start_serve_settled(&mut self, at: Timestamp) -> anyhow::Result<()> {
        let _ = std::fs::remove_file(self.settled_file());
        self.start_serve()?;
        self.settle(at)
    }

    /// Leaves the data dir, the clock file and `serve`'s log behind (after
    /// a break, to look into); says where.
    pub fn keep_files(&mut self) -> String {
        self._tmp.disable_cleanup(true);
        format!(
            "kept: the installation (data dir) in {}, serve's log {}",
            self.install.keep_files().display(),
            self.log.display()
        )
    }

    /// The last lines `serve` logged.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// `run INSTANCE end-of-day --dry-run --json`: the run's record.
    pub fn end_of_day_dry_run(&self, instance: &str) -> anyhow::Result<Value> {
        let ran =
            self.install
                .command_ok(&["run", instance, "end-of-day", "--dry-run", "--json"])?;
        serde_json::from_str(&ran.stdout).context("`run --json` is not JSON")
    }

    /// `serve`'s resident set in KiB.
    pub fn serve_rss_kib(&self) -> Option<u64> {
        process::resident_kib(self.serve_pid())
    }

    /// The resident sets of `serve`'s plugin processes together, KiB.
    pub fn plugins_rss_kib(&self) -> Option<u64> {
        let serve = self.serve_pid();
        Some(process::tree_resident_kib(serve)? - process::resident_kib(serve)?)
    }

    /// The database's size in bytes, its write-ahead log included.
    pub fn db_bytes(&self) -> u64 {
        let db = self.install.db_path();
        let wal = db.with_extension("db-wal");
        [db, wal]
            .iter()
            .filter_map(|f| std::fs::metadata(f).ok())
            .map(|m| m.len())
            .sum()
    }

    /// Each store's requests since the last call (the counters are reset).
    pub fn take_requests(&self) -> anyhow::Result<u64> {
        let mut total = 0;
        for store in &self.stores {
            total += store.stats()?.total();
            store.reset_stats()?;
        }
        Ok(total)
    }
}

/// Has the store's last variable product keep its variations' stock at
/// the parent, as a shop does for sizes drawn from one shelf: the parent
/// manages a count, its variations do not (they show `manage_stock:
/// "parent"`). The generated catalogue makes such a product only among
/// twenty variable ones.
fn stock_at_parent(store: &Sandbox) -> anyhow::Result<()> {
    let variable = store.list("wc/v3/products", "type=variable&orderby=id&order=desc")?;
    let Some(parent) = variable.first() else {
        return Ok(());
    };
    let parent = parent["id"].as_u64().context("product id")?;
    let pooled = json!({"manage_stock": true, "stock_quantity": 60});
    store.rest(
        Method::PUT,
        &format!("wc/v3/products/{parent}"),
        Some(&pooled),
    )?;
    for variation in store.list(&format!("wc/v3/products/{parent}/variations"), "orderby=id")? {
        let id = variation["id"].as_u64().context("variation id")?;
        store.rest(
            Method::PUT,
            &format!("wc/v3/products/{parent}/variations/{id}"),
            Some(&json!({"manage_stock": false})),
        )?;
    }
    Ok(())
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some(mut child) = self.serve.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
