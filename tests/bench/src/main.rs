//! `bench`: how fast, and at what cost, IntelliTrack for WooCommerce imports
//! a large store and sends stock and fulfilment back, against what the same
//! reads and writes cost at least.
//!
//! ```text
//! cargo run --release -p bench -- import [--quick] [--products 100000 --variable 10000
//!     --variations 5 --orders 20000 --latency-ms 0,100 --wc-version 10.0.2,10.3.0
//!     --concurrency 4 --no-python --no-build]
//! cargo run --release -p bench -- outbound [--quick] [the same store flags
//!     --wc-version 10.3.0 --picks 10000 --shipments 5000 --no-python]
//! cargo run --release -p bench -- all [--sizes 1000,10000,100000] [--latency 0,100]
//!     [--orders 20000 --picks 10000 --shipments 5000 --no-python --no-build]
//! cargo run --release -p bench -- bulk-edit [--quick] [--products 100000 --latency-ms 100
//!     --wc-version 10.3.0 --no-build]
//! cargo run --release -p bench -- webhooks [--orders 10 --latency-ms 0 --no-build]
//! cargo run --release -p bench -- adaptive [--workers 2,8,32 --latency-ms 100
//!     --products 10000 --settings 1,2,4,8,16,32,64,auto --no-build]
//! cargo run --release -p bench -- soak [--days 30 --seed 1 --plot docs/soak.svg --no-build
//!     --upgrade-from REV --upgrade-day D]
//! ```
//!
//! `soak` (module `soak`): a simulated stretch of time against two stores
//! on a stepped clock, a seeded driver, the invariants checked every day.
//!
//! `webhooks` (module `webhooks`): the time from an order placed to the
//! warehouse through webhooks and with a one-minute Sync Interval, and the
//! requests per order.
//! `adaptive` (module `adaptive`): `concurrency=auto` against each fixed
//! setting on sandboxes with a PHP-FPM pool's capacity (`--workers`).
//!
//! `bulk-edit` (module `bulk_edit`): a bulk edit of the whole catalogue,
//! then the full product import and three incremental ones, each with its
//! product reads and "updated" count, against the target that later runs
//! read at most 2 times for products.
//! `outbound` (module `outbound`): End of Day with 1 % and with every item
//! differing, and the export of picks and shipments, with the batch writes
//! counted against `ceil(differing/100)` per route, the walls against their
//! floors (module `floors`: the slim read and one batch's latency, measured
//! with woo-client alone), the export's events a second against ten times
//! 17, and the same End of Day writes sent by WooCommerce's Python client. `all` (module
//! `overall`): the whole cycle, the host's start-up, activation and idle
//! `serve`, and the readers, by catalogue size and latency in one table.
//! The `import` benchmark:
//!
//! For each WooCommerce version and latency it starts `woo-sandbox` as its
//! own process with a generated store, installs the real WooCommerce plugin
//! library into a fresh `plugin-host` data dir, and times `plugin-host run
//! woocommerce import-products`, then `import-orders`, then — after 1 % of
//! the products (and a few variations) changed — `import-products` again,
//! each as a child process (wall, its own CPU and peak RSS, the requests
//! the store counted). Beside them, against the same store: the floor (the
//! same pages fetched with woo-client alone, as concurrently as the plugin
//! may) and WooCommerce's official Python client reading them one page
//! after another. It prints a table per setting and the targets as
//! PASS / MISS.
//!
//! What it must not do: fake or bypass any part it measures (it drives the
//! real binaries through their CLI, built in release); measure its own
//! process instead of the child's; change the plugin, the host or the
//! sandbox; fail on a MISS (a miss is a measurement, the exit code is for
//! errors); reach anything but the sandbox it started on 127.0.0.1; or leave
//! a process or a temporary folder behind.

mod adaptive;
mod binaries;
mod bulk_edit;
mod floors;
mod fulfilment;
mod host;
mod isolation;
mod machine;
mod outbound;
mod overall;
mod previous;
mod process;
mod python;
mod raw_fetch;
mod requests;
mod sandbox;
mod soak;
mod stock;
mod table;
mod transcript;
mod webhooks;

use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::host::{Install, JobRun};
use crate::outbound::{Plan, Session};
use crate::overall::Cycle;
use crate::python::Python;
use crate::raw_fetch::{FetchArgs, Fetched};
use crate::requests::{Requests, incremental_minimum, orders_minimum, products_minimum};
use crate::sandbox::{KEY, SECRET, Sandbox, StoreSpec, has_variations_route};
use crate::table::{Check, Row};
use crate::transcript::outln;

/// The order statuses the plugin imports by default.
pub(crate) const IMPORT_STATUSES: [&str; 1] = ["processing"];

#[derive(Parser)]
#[command(name = "bench", about = "Benchmarks of IntelliTrack for WooCommerce")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
    /// Also write what the benchmark prints into this Markdown file (e.g.
    /// docs/benchmarks.md), replacing the benchmark's own section there.
    #[arg(long, global = true, value_name = "FILE")]
    doc: Option<std::path::PathBuf>,
}

#[derive(Subcommand)]
enum Cmd {
    /// The import benchmark: plugin runs, the raw fetch and the Python client.
    Import(ImportArgs),
    /// In-process vs process plugins: activation, a job's round trip, a bulk import.
    Isolation(isolation::IsolationArgs),
    /// End of Day (1 % and all items differing) and the fulfilment export.
    Outbound(OutboundArgs),
    /// The whole cycle by catalogue size and latency, in one table.
    All(AllArgs),
    /// A bulk edit of the whole catalogue, then the full and three incremental product imports.
    BulkEdit(bulk_edit::BulkEditArgs),
    /// Time from an order placed to the warehouse, through webhooks and by polling.
    Webhooks(webhooks::WebhooksArgs),
    /// `concurrency=auto` against fixed settings on stores with 2, 8 and 32 workers.
    Adaptive(adaptive::AdaptiveArgs),
    /// A simulated stretch of time (a year: --days 365) against two stores, checked every day.
    Soak(soak::SoakArgs),
    /// (internal) The raw fetch, run as a child of `import` and `all`.
    #[command(hide = true)]
    RawFetch(FetchArgs),
    /// (internal) Picks and shipments made in a database, run as a child of `outbound` and `all`.
    #[command(hide = true)]
    MakeFulfilment(fulfilment::MakeArgs),
}

/// The generated store, the latencies and the binaries: what every
/// benchmark takes.
#[derive(clap::Args)]
struct StoreArgs {
    /// Top-level products in the generated store [default: 100000; --quick: 2000].
    #[arg(long)]
    products: Option<u64>,
    /// Of those, variable products [default: 10000; --quick: 200].
    #[arg(long)]
    variable: Option<u64>,
    /// Variations per variable product.
    #[arg(long, default_value_t = 5)]
    variations: u64,
    /// Orders in the generated store (every status) [default: 20000; --quick: 500].
    #[arg(long)]
    orders: Option<u64>,
    /// Seed of the generated store.
    #[arg(long, default_value_t = 7)]
    random_seed: u64,
    /// Latencies the store adds to every REST request, one table each
    /// [default: 0,100; --quick: 0].
    #[arg(long, value_delimiter = ',')]
    latency_ms: Option<Vec<u64>>,
    /// The plugin's `concurrency` setting, also used by the raw fetch.
    #[arg(long, default_value_t = 4)]
    concurrency: u32,
    /// 2,000 products / 200 variable / 500 orders at 0 ms: a run well under
    /// a minute (flags given beside it still apply).
    #[arg(long)]
    quick: bool,
    /// Use the release binaries as they are instead of building them.
    #[arg(long)]
    no_build: bool,
}

#[derive(clap::Args)]
struct ImportArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// WooCommerce versions the store plays (10.3.0 and later list every
    /// variation at once), one table each.
    #[arg(long, value_delimiter = ',', default_value = "10.0.2")]
    wc_version: Vec<String>,
    /// Skip the Python client (sequential reads take long at high latency).
    #[arg(long)]
    no_python: bool,
}

#[derive(clap::Args)]
struct AllArgs {
    /// Catalogue sizes (top-level products; a tenth of them variable), one
    /// block of rows each.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000,100000")]
    sizes: Vec<u64>,
    /// Latencies the store adds to every REST request.
    #[arg(long = "latency", value_delimiter = ',', default_value = "0,100")]
    latency_ms: Vec<u64>,
    /// Variations per variable product.
    #[arg(long, default_value_t = 5)]
    variations: u64,
    /// Orders in the generated store (every status).
    #[arg(long, default_value_t = 20_000)]
    orders: u64,
    /// Seed of the generated store.
    #[arg(long, default_value_t = 7)]
    random_seed: u64,
    /// The WooCommerce version the store plays.
    #[arg(long, default_value = "10.3.0")]
    wc_version: String,
    /// The plugin's `concurrency` setting, also used by the raw fetch.
    #[arg(long, default_value_t = 4)]
    concurrency: u32,
    /// Picks (one unit each) made in IntelliTrack for the export.
    #[arg(long, default_value_t = 10_000)]
    picks: u64,
    /// Shipments (one picked line each) made for the export.
    #[arg(long, default_value_t = 5_000)]
    shipments: u64,
    /// Seconds `serve` idles before its resident set is read.
    #[arg(long, default_value_t = 5)]
    serve_settle_secs: u64,
    /// Skip the Python client (sequential reads take long at high latency).
    #[arg(long)]
    no_python: bool,
    /// Use the release binaries as they are instead of building them.
    #[arg(long)]
    no_build: bool,
}

#[derive(clap::Args)]
struct OutboundArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// WooCommerce versions the store plays, one table each.
    #[arg(long, value_delimiter = ',', default_value = "10.3.0")]
    wc_version: Vec<String>,
    /// Picks (one unit each) made in IntelliTrack for the export [default: 10000; --quick: 300].
    #[arg(long)]
    picks: Option<u64>,
    /// Shipments (one picked line each) made for the export [default: 5000; --quick: 150].
    #[arg(long)]
    shipments: Option<u64>,
    /// Skip the Python client's End of Day writes (sequential batches take
    /// long at high latency).
    #[arg(long)]
    no_python: bool,
}

impl StoreArgs {
    fn latencies(&self) -> Vec<u64> {
        match (&self.latency_ms, self.quick) {
            (Some(list), _) => list.clone(),
            (None, true) => vec![0],
            (None, false) => vec![0, 100],
        }
    }

    fn spec(&self) -> StoreSpec {
        let (products, variable, orders) = if self.quick {
            (2_000, 200, 500)
        } else {
            (100_000, 10_000, 20_000)
        };
        StoreSpec {
            products: self.products.unwrap_or(products),
            variable: self.variable.unwrap_or(variable),
            variations: self.variations,
            orders: self.orders.unwrap_or(orders),
            random_seed: self.random_seed,
        }
    }

    fn describe(&self, spec: &StoreSpec) -> String {
        format!(
            "store: --products {} --variable {} --variations {} --orders {} --random-seed {}; \
             plugin concurrency {}; import statuses {}",
            spec.products,
            spec.variable,
            spec.variations,
            spec.orders,
            spec.random_seed,
            self.concurrency,
            IMPORT_STATUSES.join(",")
        )
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let section = match cli.command {
        Cmd::Import(args) => import(&args).map(|()| "import"),
        Cmd::Isolation(args) => isolation::run(&args).map(|()| "isolation"),
        Cmd::Outbound(args) => outbound(&args).map(|()| "outbound"),
        Cmd::All(args) => all(&args).map(|()| "all"),
        Cmd::BulkEdit(args) => bulk_edit::run(&args).map(|()| "bulk-edit"),
        Cmd::Webhooks(args) => webhooks::run(&args).map(|()| "webhooks"),
        Cmd::Adaptive(args) => adaptive::run(&args).map(|()| "adaptive"),
        Cmd::Soak(args) => soak::run(&args).map(|()| "soak"),
        Cmd::MakeFulfilment(args) => return fulfilment::child_main(&args),
        Cmd::RawFetch(args) => return raw_fetch::child_main(&args),
    }?;
    match &cli.doc {
        Some(doc) => transcript::write_section(doc, section, &command_line()),
        None => Ok(()),
    }
}

/// How this run was started, without `--doc FILE`: the command a reader
/// runs to get the same figures.
fn command_line() -> String {
    let mut words = vec!["cargo run --release -p bench --".to_owned()];
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--doc" {
            args.next();
        } else if !arg.starts_with("--doc=") {
            words.push(arg);
        }
    }
    words.join(" ")
}

fn import(args: &ImportArgs) -> anyhow::Result<()> {
    let binaries = binaries::prepare(!args.store.no_build)?;
    let python = if args.no_python {
        None
    } else {
        Some(Python::prepare(&binaries.target_dir)?)
    };
    let spec = args.store.spec();
    outln!("machine: {}", machine::describe());
    outln!("binaries: {}", binaries.provenance);
    outln!("{}", args.store.describe(&spec));
    for version in &args.wc_version {
        for latency in args.store.latencies() {
            let setting = Setting {
                binaries: &binaries,
                python: python.as_ref(),
                spec,
                version,
                latency,
                concurrency: args.store.concurrency,
            };
            outln!();
            outln!("{}", setting.measure()?);
        }
    }
    Ok(())
}

fn outbound(args: &OutboundArgs) -> anyhow::Result<()> {
    let binaries = binaries::prepare(!args.store.no_build)?;
    let python = if args.no_python {
        None
    } else {
        Some(Python::prepare(&binaries.target_dir)?)
    };
    let spec = args.store.spec();
    let (picks, shipments) = if args.store.quick {
        (300, 150)
    } else {
        (10_000, 5_000)
    };
    let plan = Plan {
        picks: args.picks.unwrap_or(picks),
        shipments: args.shipments.unwrap_or(shipments),
        every_item: true,
    };
    outln!("machine: {}", machine::describe());
    outln!("binaries: {}", binaries.provenance);
    outln!("{}", args.store.describe(&spec));
    for version in &args.wc_version {
        for latency in args.store.latencies() {
            let session =
                Session::start(&binaries, &spec, version, latency, args.store.concurrency)?;
            let measured = outbound::measure(&session, plan, python.as_ref())?;
            outln!();
            outln!(
                "{}",
                table::render(&format!("### {}", session.title(latency)), &measured.rows)
            );
            outln!("load average before: {}", session.load);
            for check in &measured.checks {
                outln!("{}", check.render());
            }
            outln!("{}", rss_floor());
            outln!("\n{}", measured.notes);
        }
    }
    Ok(())
}

fn all(args: &AllArgs) -> anyhow::Result<()> {
    let binaries = binaries::prepare(!args.no_build)?;
    let python = if args.no_python {
        None
    } else {
        Some(Python::prepare(&binaries.target_dir)?)
    };
    let cycle = Cycle {
        binaries: &binaries,
        python: python.as_ref(),
        version: &args.wc_version,
        concurrency: args.concurrency,
        plan: Plan {
            picks: args.picks,
            shipments: args.shipments,
            every_item: false,
        },
        settle: Duration::from_secs(args.serve_settle_secs),
    };
    outln!("machine: {}", machine::describe());
    outln!("binaries: {}", binaries.provenance);
    outln!(
        "store: WooCommerce {}, --sizes {} (products, 10% variable with {} variations) --orders {} --random-seed {}; \
         plugin concurrency {}; {} picks and {} shipments exported",
        args.wc_version,
        args.sizes
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(","),
        args.variations,
        args.orders,
        args.random_seed,
        args.concurrency,
        args.picks,
        args.shipments
    );
    let (mut rows, mut checks, mut notes) = (Vec::new(), Vec::new(), String::new());
    for &size in &args.sizes {
        for &latency in &args.latency_ms {
            let spec = StoreSpec {
                products: size,
                variable: size / 10,
                variations: args.variations,
                orders: args.orders,
                random_seed: args.random_seed,
            };
            let measured = cycle.measure(&spec, latency)?;
            rows.extend(measured.rows);
            checks.extend(measured.checks);
            notes += &measured.notes;
        }
    }
    outln!();
    outln!(
        "{}",
        table::render("### The cycle by catalogue size and latency", &rows)
    );
    for check in &checks {
        outln!("{}", check.render());
    }
    outln!("{}", rss_floor());
    outln!("\n{notes}");
    Ok(())
}

/// The floor of the peak RSS column.
fn rss_floor() -> String {
    process::own_peak_rss_mib().map_or_else(String::new, |mib| {
        format!("peak RSS: no row is below this program's own peak, {mib:.1} MiB (counted into every child's)")
    })
}

/// One table: a store version and latency.
struct Setting<'a> {
    binaries: &'a binaries::Binaries,
    python: Option<&'a Python>,
    spec: StoreSpec,
    version: &'a str,
    latency: u64,
    concurrency: u32,
}

pub(crate) fn say(text: impl std::fmt::Display) {
    eprintln!("[bench] {text}");
}

impl Setting<'_> {
    fn measure(&self) -> anyhow::Result<String> {
        let route = has_variations_route(self.version);
        let load = machine::load_average();
        say(format_args!(
            "WooCommerce {}, latency {} ms: starting the sandbox (load average {})",
            self.version, self.latency, load
        ));
        let store = Sandbox::start(
            &self.binaries.sandbox,
            &self.spec,
            self.latency,
            self.version,
        )?;
        let census = store.census(&IMPORT_STATUSES, self.version)?;
        say(format_args!("{census:?}"));

        let install = Install::new(self.binaries)?;
        install.configure(&store.url, KEY, SECRET, self.concurrency)?;
        store.reset_stats()?;
        install.activate()?;
        // `run` repeats the activation's connection check before the job;
        // its requests are taken off each plugin row.
        let check = store.stats()?;

        let plugin_run = |job: &str, label: &str| -> anyhow::Result<(JobRun, Requests, f64)> {
            store.reset_stats()?;
            let cpu_before = store.cpu();
            let run = install.run_job(job, &[])?;
            let store_cpu = store.cpu() - cpu_before;
            let requests = store.stats()?.minus(&check);
            say(format_args!(
                "{label}: {:.2} s, {} requests",
                run.measured.wall,
                requests.total()
            ));
            Ok((run, requests, store_cpu))
        };
        let products = plugin_run("import-products", "plugin import-products")?;
        let orders = plugin_run("import-orders", "plugin import-orders")?;
        let (changed, change_secs) = store.change_one_percent(census.products)?;
        say(format_args!("changed {changed:?} in {change_secs:.1} s"));
        // The store's dates have whole seconds: the changes must land in a
        // later second than the last run's watermark.
        std::thread::sleep(Duration::from_millis(1100));
        let incremental = plugin_run("import-products", "plugin incremental")?;

        let fetch_args = FetchArgs::new(&store.url, self.concurrency, route);
        let reader = |label: &str,
                      read: &dyn Fn() -> anyhow::Result<(process::Measured, Fetched)>|
         -> anyhow::Result<(process::Measured, Fetched, Requests, f64)> {
            store.reset_stats()?;
            let cpu_before = store.cpu();
            let (measured, fetched) = read()?;
            let store_cpu = store.cpu() - cpu_before;
            let requests = store.stats()?;
            say(format_args!(
                "{label}: {:.2} s, {} requests",
                measured.wall,
                requests.total()
            ));
            Ok((measured, fetched, requests, store_cpu))
        };
        let exe = std::env::current_exe()?;
        let floor = reader("raw fetch", &|| raw_fetch::measure(&exe, &fetch_args))?;
        let python = match self.python {
            Some(python) => Some(reader("python client", &|| python.measure(&fetch_args))?),
            None => None,
        };

        let full_minimum = products_minimum(&census, route) + orders_minimum(&census);
        let plugin_row =
            |name: &str, (run, requests, store_cpu): &(JobRun, Requests, f64), minimum| Row {
                name: name.into(),
                records: run.counts.written(),
                wall: run.measured.wall,
                requests: requests.total(),
                minimum,
                cpu: run.measured.cpu,
                store_cpu: *store_cpu,
                peak_rss_mib: run.measured.peak_rss_mib(),
            };
        let reader_row = |name: &str,
                          (measured, fetched, requests, store_cpu): &(
            process::Measured,
            Fetched,
            Requests,
            f64,
        )| Row {
            name: name.into(),
            records: fetched.records(),
            wall: measured.wall,
            requests: requests.total(),
            minimum: full_minimum,
            cpu: measured.cpu,
            store_cpu: *store_cpu,
            peak_rss_mib: measured.peak_rss_mib(),
        };
        let mut rows = vec![
            plugin_row(
                "plugin import-products",
                &products,
                products_minimum(&census, route),
            ),
            plugin_row("plugin import-orders", &orders, orders_minimum(&census)),
            plugin_row(
                "plugin incremental (1%)",
                &incremental,
                incremental_minimum(&changed, route),
            ),
            reader_row(
                &format!("raw concurrent fetch (floor, c={})", self.concurrency),
                &floor,
            ),
        ];
        if let Some(python) = &python {
            rows.push(reader_row("python client (sequential)", python));
        }

        let import_wall = products.0.measured.wall + orders.0.measured.wall;
        let checks: Vec<Check> = vec![
            table::import_vs_floor(import_wall, floor.0.wall),
            table::import_vs_python(import_wall, python.as_ref().map(|p| p.0.wall), self.latency),
            table::peak_rss(&[
                ("import-products", products.0.measured.peak_rss_mib()),
                ("import-orders", orders.0.measured.peak_rss_mib()),
                ("incremental", incremental.0.measured.peak_rss_mib()),
            ]),
        ];

        let mut out = table::render(
            &format!(
                "### WooCommerce {}, latency {} ms ({} products, {} variable, {} variations, {} orders in {})",
                self.version,
                self.latency,
                census.products,
                census.variable,
                census.variations,
                census.orders,
                IMPORT_STATUSES.join(",")
            ),
            &rows,
        );
        out += &format!("\nload average before: {load}\n");
        for check in &checks {
            out += &format!("{}\n", check.render());
        }
        out += &format!(
            "\nrecords: plugin rows count items/orders created + updated (runs --json); readers count records read.\n\
             requests: plugin rows leave out the {} requests of the connection check `run` makes first ({}).\n",
            check.total(),
            check.by_route()
        );
        for (name, (run, requests, _)) in [
            ("import-products", &products),
            ("import-orders", &orders),
            ("incremental", &incremental),
        ] {
            let c = &run.counts;
            out += &format!(
                "{name}: created {} updated {} skipped {} failed {}; {}\n    requests: {}\n",
                c.created,
                c.updated,
                c.skipped,
                c.failed,
                run.phases.describe(&run.measured),
                requests.by_route()
            );
        }
        out += &format!(
            "incremental: changed {} products ({} variable, {} of their variations written, {} read again) through the REST API in {change_secs:.1} s before it\n",
            changed.products, changed.variable, changed.variations, changed.variations_of_changed
        );
        out += &format!(
            "raw fetch: {}\n    requests: {}\n",
            floor.1.describe(),
            floor.2.by_route()
        );
        if let Some(python) = &python {
            out += &format!(
                "python: {}\n    requests: {}\n",
                python.1.describe(),
                python.2.by_route()
            );
        }
        Ok(out)
    }
}
