//! Helpers for the end-to-end tests: build the real binaries and plugin
//! libraries once, lay out a data dir and a plugin folder, and drive the
//! real `plugin-host` process.
//!
//! Nothing here fakes the host or a plugin: tests run the same binary and
//! the same `.so` files an admin would.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use woo_sandbox::announce;

/// The plugin libraries the workspace builds, by crate library name.
pub const WOOCOMMERCE: &str = "intellitrack_woocommerce";
pub const LOW_STOCK: &str = "low_stock_plugin";
pub const MISBEHAVING: &str = "misbehaving_plugin";
pub const FUTURE_API: &str = "future_api_plugin";
pub const SAMPLE_SOURCE: &str = "sample_source_plugin";
/// Ends the process loading it (how: `DIES_LOADING_AS`, where: `DIES_LOADING_IN`).
pub const DIES_LOADING: &str = "dies_loading_plugin";
/// Built in `tests/compat` against the frozen plugin-api 1.0.
pub const OLD_PLUGIN: &str = "old_plugin";

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where cargo builds: `CARGO_TARGET_DIR`, else the workspace's `target`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

fn cargo(args: &[&str]) {
    let output = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(workspace_root())
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo {} failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Builds the host, every plugin and the 1.0 compat plugin, once per test binary.
pub fn build() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        cargo(&[
            "build",
            "-p",
            "plugin-host",
            "-p",
            "woocommerce-plugin",
            "-p",
            "low-stock-plugin",
            "-p",
            "misbehaving-plugin",
            "-p",
            "future-api-plugin",
            "-p",
            "dies-loading-plugin",
            "-p",
            "sample-source-plugin",
            "-p",
            "woo-sandbox",
        ]);
        let target = target_dir();
        let target_arg = target.display().to_string();
        cargo(&[
            "build",
            "--manifest-path",
            "tests/compat/Cargo.toml",
            "--target-dir",
            &target_arg,
        ]);
        target.join("debug")
    })
}

pub fn library_file(name: &str) -> PathBuf {
    build().join(format!(
        "{}{name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ))
}

/// A host installation in a temporary folder: a data dir and a plugin folder.
pub struct Install {
    _tmp: tempfile::TempDir,
    pub data_dir: PathBuf,
    pub plugin_dir: PathBuf,
}

impl Install {
    /// A fresh install with copies of the named plugin libraries.
    pub fn with_plugins(names: &[&str]) -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let data_dir = tmp.path().join("data");
        let plugin_dir = tmp.path().join("plugins");
        std::fs::create_dir_all(&plugin_dir).unwrap();
        let install = Self {
            _tmp: tmp,
            data_dir,
            plugin_dir,
        };
        for name in names {
            install.add_plugin(name);
        }
        install
    }

    pub fn add_plugin(&self, name: &str) {
        let file = library_file(name);
        let dest = self.plugin_dir.join(file.file_name().unwrap());
        std::fs::copy(&file, &dest).unwrap_or_else(|e| panic!("copy {}: {e}", file.display()));
    }

    pub fn add_file(&self, name: &str, contents: &[u8]) {
        std::fs::write(self.plugin_dir.join(name), contents).unwrap();
    }

    /// `plugin-host ARGS` on this install, not started yet: stdin is
    /// empty and the log level is info; the rest of the environment is the
    /// test's own.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(build().join("plugin-host"));
        cmd.arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--plugin-dir")
            .arg(&self.plugin_dir)
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `plugin-host ARGS` to completion.
    pub fn run(&self, args: &[&str]) -> Ran {
        let output = self.command(args).output().expect("plugin-host runs");
        Ran(output)
    }

    /// Runs `plugin-host ARGS` to completion with extra environment variables.
    pub fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Ran {
        let output = self
            .command(args)
            .envs(env.iter().copied())
            .output()
            .expect("plugin-host runs");
        Ran(output)
    }

    /// Runs `plugin-host ARGS` with `input` on its standard input.
    pub fn run_with_input(&self, args: &[&str], input: &str) -> Ran {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("plugin-host runs");
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.as_bytes()).unwrap();
        Ran(child.wait_with_output().expect("plugin-host ends"))
    }

    /// Activates a plugin from the CLI, failing the test if it is refused.
    pub fn activate(&self, plugin: &str) -> Ran {
        self.run(&["plugins", "activate", plugin]).success()
    }

    /// Changes a plugin's settings (`key=value` each), failing the test if
    /// any is refused.
    pub fn set(&self, plugin: &str, assignments: &[&str]) -> Ran {
        self.run(&settings_args(plugin, assignments)).success()
    }

    /// Runs `plugin-host ARGS --json` (or with `--json` already in ARGS)
    /// and parses stdout, failing the test if the command failed.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let ran = self.run(args).success();
        serde_json::from_str(&ran.stdout())
            .unwrap_or_else(|e| panic!("stdout of {args:?} is not JSON ({e}):\n{}", ran.stdout()))
    }

    /// Starts `plugin-host serve`; stopped with SIGTERM (then killed) on drop.
    pub fn serve(&self) -> Service {
        self.serve_with_env(&[])
    }

    /// Starts `plugin-host serve` with extra environment variables (such as
    /// the clock's), its admin page on a free port ([`Service::admin_url`]);
    /// stopped with SIGTERM (then killed) on drop.
    pub fn serve_with_env(&self, env: &[(&str, &str)]) -> Service {
        self.serve_on("127.0.0.1:0", env)
    }

    /// Starts `plugin-host serve` with its admin page on `listen` (the
    /// same address again after a restart), with extra environment
    /// variables; stopped with SIGTERM (then killed) on drop.
    pub fn serve_on(&self, listen: &str, env: &[(&str, &str)]) -> Service {
        let log = self
            .data_dir
            .join(format!("serve-{}.log", std::process::id()));
        std::fs::create_dir_all(&self.data_dir).unwrap();
        let file = std::fs::File::create(&log).unwrap();
        let child = self
            .command(&["serve", "--listen", listen])
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("serve starts");
        Service { child, log }
    }
}

/// `plugins settings PLUGIN --set A --set B ...`.
pub fn settings_args<'a>(plugin: &'a str, assignments: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["plugins", "settings", plugin];
    for assignment in assignments {
        args.extend(["--set", *assignment]);
    }
    args
}

/// A finished command.
pub struct Ran(pub Output);

impl Ran {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }

    pub fn code(&self) -> Option<i32> {
        self.0.status.code()
    }

    /// Fails the test unless the command exited 0.
    pub fn success(self) -> Self {
        assert!(
            self.0.status.success(),
            "command failed ({:?}):\nstdout:\n{}\nstderr:\n{}",
            self.0.status,
            self.stdout(),
            self.stderr()
        );
        self
    }

    /// Fails the test unless the command exited 1 (a refusal, not a crash).
    pub fn refused(self) -> Self {
        assert_eq!(
            self.code(),
            Some(1),
            "expected a refusal (exit 1):\nstdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }
}

/// A running `plugin-host serve`.
pub struct Service {
    child: Child,
    log: PathBuf,
}

impl Service {
    /// Everything the service has logged so far.
    pub fn log(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        text
    }

    /// The admin page's address as the service logged it: every test
    /// service listens on a free port (`--listen 127.0.0.1:0`).
    pub fn admin_url(&self) -> String {
        const LISTENING: &str = "admin page listening on ";
        self.wait_for_log(LISTENING, Duration::from_secs(30));
        self.log()
            .lines()
            .find_map(|line| line.split(LISTENING).nth(1))
            .map(|url| url.trim().to_owned())
            .expect("the logged line names the address")
    }

    /// Waits until the log contains `needle`, failing the test after `limit`.
    pub fn wait_for_log(&self, needle: &str, limit: Duration) -> Duration {
        let started = Instant::now();
        wait_until(limit, || self.log().contains(needle)).unwrap_or_else(|| {
            panic!(
                "the service never logged {needle:?}; its log:\n{}",
                self.log()
            )
        });
        started.elapsed()
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The service's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the service with SIGKILL, as a power loss would end it, and
    /// reaps it.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::forget(self);
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        terminate(self.child.id());
        let status = self.child.wait().expect("serve exits");
        std::mem::forget(self);
        status
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        terminate(self.child.id());
        if wait_until(Duration::from_secs(5), || {
            matches!(self.child.try_wait(), Ok(Some(_)))
        })
        .is_none()
        {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

fn terminate(pid: u32) {
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
}

/// Polls `done` every 50 ms until it holds or `limit` passes.
pub fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> Option<()> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if done() {
            return Some(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// The WooCommerce sandbox store, running as its own process on a free port.
pub struct SandboxStore {
    child: Child,
    pub url: String,
}

impl SandboxStore {
    pub const KEY: &'static str = "ck_e2e_key";
    pub const SECRET: &'static str = "cs_e2e_secret_never_printed";

    /// Starts `woo-sandbox` with the quick-start seed and the test keys.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts `woo-sandbox` with the test keys and these extra flags (a
    /// `--seed FILE`, `--wc-version`, `--no-cogs`, ...). It accepts Basic
    /// auth over plain HTTP (`--behind-tls`) so that tests can change the
    /// store through its REST API ([`SandboxStore::rest`]); the plugin
    /// signs with OAuth 1.0a as it would over HTTP.
    pub fn start_with(flags: &[&str]) -> Self {
        let mut child = Command::new(build().join("woo-sandbox"))
            .args([
                "--listen",
                "127.0.0.1:0",
                "--consumer-key",
                Self::KEY,
                "--consumer-secret",
                Self::SECRET,
                "--behind-tls",
            ])
            .args(flags)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("woo-sandbox starts");
        let url = announce::wait_for_url(&mut child).expect("woo-sandbox says where it listens");
        Self { child, url }
    }
}

impl SandboxStore {
    /// The plugin settings that point at this store.
    pub fn settings(&self) -> Vec<String> {
        vec![
            format!("store_url={}", self.url),
            format!("consumer_key={}", Self::KEY),
            format!("consumer_secret={}", Self::SECRET),
        ]
    }

    /// Calls the store's REST API as a shop admin would: `METHOD
    /// /wc/v3/...` with an optional JSON body; returns the status and body.
    pub fn rest(
        &self,
        method: &str,
        route: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "-X", method, "-u"])
            .arg(format!("{}:{}", Self::KEY, Self::SECRET))
            .args([
                "-w",
                "\n%{http_code}",
                "-H",
                "Content-Type: application/json",
            ]);
        if let Some(body) = body {
            cmd.args(["--data", &body.to_string()]);
        }
        let out = cmd
            .arg(format!("{}/wp-json{route}", self.url))
            .output()
            .expect("curl runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
        let status = status.trim().parse().unwrap_or(0);
        (
            status,
            serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
        )
    }

    /// [`SandboxStore::rest`], failing the test unless the store answers 2xx.
    pub fn ok(
        &self,
        method: &str,
        route: &str,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let (status, answer) = self.rest(method, route, body);
        assert!(
            (200..300).contains(&status),
            "{method} {route}: HTTP {status} {answer}"
        );
        answer
    }

    /// The store's request counters (`/__sandbox/stats`).
    pub fn stats(&self) -> serde_json::Value {
        self.control("GET", "stats")
    }

    /// Calls one of the sandbox's own control routes (`/__sandbox/NAME`).
    pub fn control(&self, method: &str, name: &str) -> serde_json::Value {
        self.control_with(method, name, None)
    }

    /// [`SandboxStore::control`] with a JSON body (faults, features, ...).
    pub fn control_with(
        &self,
        method: &str,
        name: &str,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let mut cmd = Command::new("curl");
        cmd.args([
            "-sS",
            "-X",
            method,
            &format!("{}/__sandbox/{name}", self.url),
        ]);
        if let Some(body) = body {
            cmd.args([
                "-H",
                "Content-Type: application/json",
                "--data",
                &body.to_string(),
            ]);
        }
        let out = cmd.output().expect("curl runs");
        serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
    }
}

impl Drop for SandboxStore {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
