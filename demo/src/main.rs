//! `demo`: the quick start. One command shows IntelliTrack for WooCommerce
//! end to end on a demo store:
//!
//! ```text
//! cargo run --release -p demo [-- --data-dir demo-data] [--debug]
//! ```
//!
//! It builds `plugin-host`, the WooCommerce plugin and `woo-sandbox`,
//! starts the sandbox with its built-in catalogue (simple, variable with
//! variations, grouped, external, virtual and downloadable products) and
//! orders, and on a fresh data dir configures and activates the plugin
//! against it. Then, each step through `plugin-host`'s own CLI: import
//! products and orders, pick and ship two orders (one partially), count
//! stock, export fulfilment, run End of Day. It prints what each run did
//! (counts, and each skipped or failed record with its reason), what flowed
//! each way, and how to open the admin page; then it stops the store.
//!
//! What it must not do: fake or bypass a part (it drives the real binaries
//! and the real plugin library); delete a folder it did not make (a data
//! dir is replaced only when it carries the quick start's mark); reach
//! anything but the store it started on 127.0.0.1; or leave a process
//! running.

mod binaries;
mod host;
mod report;
mod store;

use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Parser;

use crate::host::{Host, PLUGIN};
use crate::report::RunRecord;
use crate::store::Store;

/// The file that marks a data dir as the quick start's own, so that a
/// second run may replace it.
const MARK: &str = "made-by-quick-start";

/// The warehouse's work on the demo store's orders (its built-in orders
/// 176, one line of 2 T-shirts, and 179, one T-shirt and 2 of a grouped
/// product's child), and a stock count that differs from the store's.
const WAREHOUSE_STEPS: [&[&str]; 7] = [
    &["pick", "176", "1", "2"],
    &[
        "ship",
        "176",
        "--carrier",
        "UPS",
        "--tracking",
        "1Z999AA10123456784",
    ],
    &["pick", "179", "1", "1"],
    &["pick", "179", "2", "1"],
    &[
        "ship",
        "179",
        "--carrier",
        "DHL",
        "--tracking",
        "JD014600003",
        "1=1",
        "2=1",
    ],
    &["adjust", "RIG-SIMPLE-1", "-1", "--reason", "damaged"],
    &["receive", "RIG-TSHIRT-M", "6"],
];

/// The quick start: IntelliTrack for WooCommerce end to end on a demo store.
#[derive(Parser)]
#[command(name = "demo")]
struct Cli {
    /// The host's data dir; made afresh (a previous quick start's is replaced).
    #[arg(long, default_value = "demo-data")]
    data_dir: PathBuf,
    /// Build and use the debug binaries (quicker to build) instead of release.
    #[arg(long)]
    debug: bool,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let release = !cli.debug;
    fresh_data_dir(&cli.data_dir)?;
    println!(
        "Building: cargo {}",
        binaries::build_command(release).join(" ")
    );
    let binaries = binaries::build(release)?;
    let store = Store::start(&binaries.sandbox)?;
    println!(
        "Store: woo-sandbox at {} (pid {}), its built-in catalogue: simple, variable with \
         variations, grouped, external, virtual and downloadable products, and orders in \
         every status",
        store.url,
        store.pid()
    );
    let host = Host {
        binary: binaries.host,
        data_dir: cli.data_dir,
    };
    let shown = Shown::new(&host);
    connect(&host, &store, &shown)?;

    println!("\nWooCommerce -> IntelliTrack");
    let inbound = vec![run(&host, "import-products")?, run(&host, "import-orders")?];

    println!("\nIn the warehouse (IntelliTrack)");
    for args in WAREHOUSE_STEPS {
        println!("  $ plugin-host {}", args.join(" "));
        for line in host.admin(args)?.lines() {
            println!("    {line}");
        }
    }
    for line in host.admin(&["orders"])?.lines() {
        println!("    {line}");
    }

    println!("\nIntelliTrack -> WooCommerce");
    let outbound = vec![run(&host, "export-fulfillment")?, run(&host, "end-of-day")?];

    println!();
    for line in report::flows(&inbound, &outbound) {
        println!("{line}");
    }

    // The store goes away with the demo: leave the plugin inactive so that
    // `serve` does not try to reach it.
    host.admin(&["plugins", "deactivate", PLUGIN])?;
    drop(store);
    println!(
        "\nThe demo store is stopped; {PLUGIN} was deactivated (its store is gone). \
         The data dir {} stays for a look (the next quick start replaces it).",
        shown.data_dir
    );
    println!("\nOpen the admin page and log in:");
    println!(
        "  {} users add admin --role admin --password-stdin   # type a password, then Enter",
        shown.with_data_dir
    );
    println!(
        "  {} serve                                            # until Ctrl-C",
        shown.with_data_dir
    );
    println!("  then open http://127.0.0.1:8089 and log in as admin");
    Ok(())
}

/// Points the plugin at the store and activates it (which checks the
/// connection). The demo store's orders on hold are imported too, as a
/// warehouse shipping them would want.
fn connect(host: &Host, store: &Store, shown: &Shown) -> anyhow::Result<()> {
    let settings = [
        format!("store_url={}", store.url),
        format!("consumer_key={}", store::KEY),
        format!("consumer_secret={}", store::SECRET),
        "import_statuses=processing,on-hold".to_owned(),
    ];
    let mut args = vec!["plugins", "settings", PLUGIN];
    for setting in &settings {
        args.extend(["--set", setting.as_str()]);
    }
    host.admin(&args)?;
    host.admin(&["plugins", "activate", PLUGIN])?;
    println!(
        "Host: {}, data dir {} (fresh), plugin {PLUGIN} configured against the store \
         (orders in processing and on hold) and activated",
        shown.host, shown.data_dir
    );
    Ok(())
}

/// Runs a job and prints what it did.
fn run(host: &Host, job: &str) -> anyhow::Result<RunRecord> {
    let record = host.run_job(job)?;
    for line in record.describe() {
        println!("{line}");
    }
    Ok(record)
}

/// Makes the data dir afresh: a previous quick start's (it carries the
/// mark) is removed; any other existing folder is left alone and refused.
fn fresh_data_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        if !dir.join(MARK).exists() {
            bail!(
                "{} exists and was not made by the quick start; remove it or pass --data-dir",
                dir.display()
            );
        }
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("cannot remove the previous {}", dir.display()))?;
    }
    // Private, as the host makes its data dirs (it warns otherwise).
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(
        dir.join(MARK),
        "This data dir was made by the quick start (cargo run -p demo), which replaces it.\n",
    )?;
    Ok(())
}

/// Paths as a person would type them: relative to the current folder
/// when they are inside it.
struct Shown {
    host: String,
    data_dir: String,
    with_data_dir: String,
}

impl Shown {
    fn new(host: &Host) -> Self {
        let cwd = std::env::current_dir().ok();
        let show = |path: &Path| {
            let path = path.canonicalize().unwrap_or_else(|_| path.to_owned());
            cwd.as_ref()
                .and_then(|cwd| path.strip_prefix(cwd).ok())
                .unwrap_or(&path)
                .display()
                .to_string()
        };
        let binary = show(&host.binary);
        let data_dir = show(&host.data_dir);
        Self {
            with_data_dir: format!("{binary} --data-dir {data_dir}"),
            host: binary,
            data_dir,
        }
    }
}
