//! `bench webhooks`: how soon an order placed in the store is in the
//! warehouse, through webhooks and by polling, and what each order costs
//! in requests.
//!
//! With webhooks: `plugin-host serve` (release) with `webhook_url` set and
//! the Sync Interval off, against `woo-sandbox`, which delivers as
//! WooCommerce does. Orders are placed one at a time through the REST API;
//! each is timed from its `POST` answered to `plugin-host order NUMBER`
//! finding it (polled every 20 ms), and the store's requests are counted
//! from the order placed to its run ended (the order's own `POST` left
//! out).
//!
//! By polling with a one-minute interval the order waits for the next run:
//! half a minute on average when orders come at random times, a whole one
//! at worst, plus the run itself. The service's clock can be sped up but the
//! store's cannot be made to place orders on it, so this is computed, not
//! waited for: 30 s (60 s) + the mean run time measured above + half a poll
//! of the service loop; the requests are those of a scheduled run that
//! finds the order (measured: the same runs), and a run every minute costs
//! its requests even when no order came (measured with `run import-orders`
//! on an unchanged store, less the 4 requests of the connection check a
//! command-line run makes first).

use crate::transcript::outln;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::binaries;
use crate::host::{Install, PLUGIN};
use crate::requests::Requests;
use crate::sandbox::{KEY, SECRET, Sandbox, StoreSpec};

/// The job the webhooks trigger.
const JOB: &str = "import-orders";
/// Requests of the connection check each command-line run makes first.
const CONNECTION_CHECK: u64 = 4;
/// The route of the order placed itself, left out of its cost.
const PLACED: &str = "POST /wc/v3/orders";

#[derive(clap::Args)]
pub struct WebhooksArgs {
    /// Orders placed and timed one after another.
    #[arg(long, default_value_t = 10)]
    orders: usize,
    /// Latency the store adds to every REST request.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Use the release binaries as they are instead of building them.
    #[arg(long)]
    no_build: bool,
}

/// One order through webhooks.
struct Timed {
    seconds: f64,
    requests: Requests,
}

pub fn run(args: &WebhooksArgs) -> anyhow::Result<()> {
    let binaries = binaries::prepare(!args.no_build)?;
    let spec = StoreSpec {
        products: 200,
        variable: 20,
        variations: 3,
        orders: 50,
        random_seed: 7,
    };
    let store = Sandbox::start(&binaries.sandbox, &spec, args.latency_ms, "10.3.0")?;
    let install = Install::new(&binaries)?;
    install.configure(&store.url, KEY, SECRET, 4)?;
    let listen = free_address()?;
    install.set(&[&format!("webhook_url=http://{listen}/hooks/{PLUGIN}")])?;
    install.command_ok(&["schedule", PLUGIN, "--interval", "off"])?;
    install.activate()?;
    install.run_job("import-products", &[])?;
    let log = std::fs::File::create(install.data_dir().join("serve.log"))?;
    let mut serve = install.serve_on(&listen, log)?;
    let measured = measure(&store, &install, args.orders);
    stop(&mut serve);
    let timed = measured?;

    // The same import by polling: one run after one order, and one with
    // nothing new.
    let product = first_product(&store)?;
    store.place_order(product, 1)?;
    store.reset_stats()?;
    install.run_job(JOB, &[])?;
    let polled = without_check(store.stats()?.total());
    store.reset_stats()?;
    install.run_job(JOB, &[])?;
    let idle = without_check(store.stats()?.total());

    let runs = install.runs()?;
    let run_secs: Vec<f64> = runs
        .iter()
        .filter(|r| r["job"] == JOB && r["trigger"] == "webhook")
        .filter_map(|r| Some((r["ended_ms"].as_i64()? - r["started_ms"].as_i64()?) as f64 / 1000.0))
        .collect();
    let mean_run = mean(&run_secs);
    let mut seconds: Vec<f64> = timed.iter().map(|t| t.seconds).collect();
    seconds.sort_by(f64::total_cmp);
    let requests: Vec<u64> = timed.iter().map(|t| t.requests.total()).collect();
    outln!(
        "\nbench webhooks: {} orders placed one at a time, store latency {} ms",
        timed.len(),
        args.latency_ms
    );
    outln!(
        "{:<38} {:>10} {:>10} {:>10} {:>18}",
        "path",
        "mean s",
        "median s",
        "max s",
        "requests/order"
    );
    outln!(
        "{:<38} {:>10.2} {:>10.2} {:>10.2} {:>18.1}",
        "webhooks (debounce 2 s)",
        mean(&seconds),
        seconds[seconds.len() / 2],
        seconds[seconds.len() - 1],
        mean(&requests.iter().map(|&r| r as f64).collect::<Vec<_>>())
    );
    outln!(
        "{:<38} {:>10.2} {:>10} {:>10.2} {:>18}",
        "1-minute interval (computed)",
        30.0 + mean_run + 0.25,
        "-",
        60.0 + mean_run + 0.5,
        polled
    );
    outln!(
        "run time {mean_run:.2} s (mean of {} webhook runs); requests by route of the last webhook order: {}",
        run_secs.len(),
        timed
            .last()
            .map(|t| t.requests.by_route())
            .unwrap_or_default()
    );
    outln!("polling also costs {idle} requests a minute with no order at all (webhooks: none)");
    Ok(())
}

/// Places and times `orders` orders with the service running.
fn measure(store: &Sandbox, install: &Install, orders: usize) -> anyhow::Result<Vec<Timed>> {
    wait(Duration::from_secs(60), "the webhooks registered", || {
        Ok(store.webhooks()?.len() == 2 && finished(install)? >= 1)
    })?;
    let product = first_product(store)?;
    let mut timed = Vec::new();
    for _ in 0..orders {
        let runs_before = finished(install)?;
        store.reset_stats()?;
        let (_, number) = store.place_order(product, 1)?;
        let placed = Instant::now();
        wait(Duration::from_secs(60), "the order imported", || {
            Ok(install.has_order(&number))
        })?;
        let seconds = placed.elapsed().as_secs_f64();
        wait(Duration::from_secs(60), "its run ended", || {
            Ok(finished(install)? > runs_before)
        })?;
        let mut requests = store.stats()?;
        requests.0.remove(PLACED);
        timed.push(Timed { seconds, requests });
    }
    Ok(timed)
}

/// Webhook runs of the job that ended.
fn finished(install: &Install) -> anyhow::Result<usize> {
    Ok(install
        .runs()?
        .iter()
        .filter(|r| r["job"] == JOB && r["outcome"] != "running")
        .count())
}

fn first_product(store: &Sandbox) -> anyhow::Result<u64> {
    store
        .simple_product()?
        .context("the generated store has no simple product")
}

fn wait(
    limit: Duration,
    what: &str,
    mut done: impl FnMut() -> anyhow::Result<bool>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if done()? {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    bail!("waited {limit:?} for {what}")
}

fn without_check(requests: u64) -> u64 {
    requests.saturating_sub(CONNECTION_CHECK)
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.iter().sum::<f64>() / values.len() as f64
}

/// A free loopback address for the service to listen on.
fn free_address() -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.to_string())
}

/// Stops `serve` with SIGTERM, as a service manager would.
fn stop(serve: &mut std::process::Child) {
    if let Ok(pid) = libc::pid_t::try_from(serve.id()) {
        // SAFETY: kill has no memory preconditions; the pid is our child's,
        // not yet waited for.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
    let _ = serve.wait();
}
