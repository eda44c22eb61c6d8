//! Fetch benchmark: starts the woo-sandbox store as a separate process with
//! a generated catalogue, then lists every product twice, each run in a
//! fresh child process: once the way the client does it (page 1, then the
//! remaining pages concurrently) and once as a plain sequential walk of the
//! same pages (concurrency 1). Prints products/s, requests the store counted,
//! client CPU seconds and peak RSS for both.
//!
//! ```text
//! cargo build --release -p woo-sandbox --bin woo-sandbox
//! cargo run --release -p woo-client --example fetch_bench -- [--products N] [--concurrency C] [--latency-ms L]
//! ```
//!
//! The sandbox binary is looked up in the workspace's target/release (then
//! target/debug), or taken from `WOO_SANDBOX_BIN`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use woo_client::{ClientConfig, Scope, WooClient};
use woo_sandbox::announce;

const KEY: &str = "ck_bench";
const SECRET: &str = "cs_bench_secret";

struct Options {
    products: u64,
    concurrency: usize,
    latency_ms: u64,
}

fn options() -> Options {
    let mut options = Options {
        products: 100_000,
        concurrency: 4,
        latency_ms: 0,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).map(String::as_str).unwrap_or_default();
        match pair[0].as_str() {
            "--products" => options.products = value.parse().expect("--products N"),
            "--concurrency" => options.concurrency = value.parse().expect("--concurrency N"),
            "--latency-ms" => options.latency_ms = value.parse().expect("--latency-ms N"),
            other => panic!("unknown argument {other}"),
        }
    }
    options
}

fn sandbox_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("WOO_SANDBOX_BIN") {
        return path.into();
    }
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target");
    ["release", "debug"]
        .iter()
        .map(|profile| target.join(profile).join("woo-sandbox"))
        .find(|path| path.exists())
        .expect("build the sandbox first: cargo build --release -p woo-sandbox --bin woo-sandbox")
}

/// Starts the sandbox and waits for the line that names its URL.
fn start_sandbox(options: &Options) -> (Child, String) {
    let binary = sandbox_binary();
    eprintln!("sandbox: {}", binary.display());
    let mut command = Command::new(&binary);
    command.args([
        "--listen",
        "127.0.0.1:0",
        "--consumer-key",
        KEY,
        "--consumer-secret",
        SECRET,
        "--products",
        &options.products.to_string(),
    ]);
    if options.latency_ms > 0 {
        command.args(["--latency-ms", &options.latency_ms.to_string()]);
    }
    let mut child = command
        .stderr(Stdio::piped())
        .spawn()
        .expect("the sandbox starts");
    let url = announce::wait_for_url(&mut child).expect("the sandbox prints its URL");
    (child, url)
}

/// One measured fetch, in a process of its own so peak RSS is its own.
fn child_run(url: &str, concurrency: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let started = Instant::now();
    let listing = runtime.block_on(async {
        let mut config = ClientConfig::new(url, KEY, SECRET);
        config.concurrency = woo_client::Concurrency::AtMost(concurrency);
        WooClient::new(config)
            .expect("client")
            .list_products(Scope::Full)
            .await
            .expect("listing")
    });
    let wall = started.elapsed().as_secs_f64();
    let usage = rusage();
    println!(
        "{} {} {} {wall} {} {}",
        listing.records.len(),
        listing.skipped.len(),
        listing.pages,
        usage.0,
        usage.1
    );
}

/// (user + system CPU seconds, peak RSS in KiB) of this process.
fn rusage() -> (f64, i64) {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_SELF is valid.
    let usage = unsafe {
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()), 0);
        usage.assume_init()
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (
        seconds(usage.ru_utime) + seconds(usage.ru_stime),
        usage.ru_maxrss,
    )
}

struct Figures {
    records: u64,
    skipped: u64,
    pages: u64,
    wall: f64,
    cpu: f64,
    rss_kib: i64,
    requests: u64,
}

/// The sandbox's request counters (`/__sandbox/stats`).
struct SandboxStats {
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
    url: String,
}

impl SandboxStats {
    fn new(url: &str) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime"),
            http: reqwest::Client::new(),
            url: format!("{url}/__sandbox/stats"),
        }
    }

    fn reset(&self) {
        self.runtime
            .block_on(self.http.delete(&self.url).send())
            .expect("stats reset");
    }

    /// Requests counted on `GET /wc/v3/products`.
    fn product_requests(&self) -> u64 {
        let stats: serde_json::Value = self.runtime.block_on(async {
            let response = self.http.get(&self.url).send().await.expect("stats");
            response.json().await.expect("stats are JSON")
        });
        stats["GET /wc/v3/products"].as_u64().unwrap_or(0)
    }
}

fn measure(url: &str, concurrency: usize, stats: &SandboxStats) -> Figures {
    stats.reset();
    let output = Command::new(std::env::current_exe().expect("own path"))
        .args(["--child", url, &concurrency.to_string()])
        .output()
        .expect("child runs");
    assert!(
        output.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("utf-8");
    let fields: Vec<&str> = text.split_whitespace().collect();
    Figures {
        records: fields[0].parse().unwrap(),
        skipped: fields[1].parse().unwrap(),
        pages: fields[2].parse().unwrap(),
        wall: fields[3].parse().unwrap(),
        cpu: fields[4].parse().unwrap(),
        rss_kib: fields[5].parse().unwrap(),
        requests: stats.product_requests(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child") {
        child_run(&args[2], args[3].parse().expect("concurrency"));
        return;
    }
    let options = options();
    let (mut sandbox, url) = start_sandbox(&options);
    let stats = SandboxStats::new(&url);
    let runs = [
        (
            format!("woo-client (concurrency {})", options.concurrency),
            options.concurrency,
        ),
        ("plain sequential".to_owned(), 1),
    ];
    let figures: Vec<(String, Figures)> = runs
        .into_iter()
        .map(|(name, concurrency)| {
            let figures = measure(&url, concurrency, &stats);
            (name, figures)
        })
        .collect();
    sandbox.kill().ok();
    sandbox.wait().ok();

    println!(
        "fetch of {} products from woo-sandbox (OAuth 1.0a over HTTP, per_page=100, _fields, latency {} ms)",
        options.products, options.latency_ms
    );
    println!(
        "{:<28} {:>9} {:>7} {:>6} {:>9} {:>11} {:>10} {:>9} {:>12}",
        "run",
        "products",
        "skipped",
        "pages",
        "requests",
        "products/s",
        "wall s",
        "CPU s",
        "peak RSS MiB"
    );
    for (name, f) in &figures {
        println!(
            "{:<28} {:>9} {:>7} {:>6} {:>9} {:>11.0} {:>10.2} {:>9.2} {:>12.1}",
            name,
            f.records,
            f.skipped,
            f.pages,
            f.requests,
            f.records as f64 / f.wall,
            f.wall,
            f.cpu,
            f.rss_kib as f64 / 1024.0
        );
    }
}
