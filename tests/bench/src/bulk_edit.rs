//! `bench bulk-edit`: what the product import reads after a bulk edit of
//! the whole catalogue. The store is edited (every product and variation
//! within about a minute of store time), its clock moved on 5 minutes; then
//! the full first `import-products` and three incremental ones, the store's
//! clock moved on 2 minutes before each. Each run is a measured child
//! process; its requests are the store's counters (`/__sandbox/stats`),
//! cleared before it.

use crate::IMPORT_STATUSES;
use crate::binaries;
use crate::host::{Install, JobRun};
use crate::machine;
use crate::requests::Requests;
use crate::sandbox::{KEY, SECRET, Sandbox, StoreSpec};
use crate::say;
use crate::table::Check;
use crate::transcript::outln;

/// Store seconds between the bulk edit and the full import.
const AFTER_EDIT_SECS: i64 = 300;
/// Store seconds before each incremental run.
const BEFORE_RUN_SECS: i64 = 120;
/// Incremental runs after the full import.
const INCREMENTAL_RUNS: usize = 3;
/// Requests the bulk edit keeps in flight.
const EDIT_IN_FLIGHT: usize = 32;
/// The most product reads the second and later incremental runs may make.
const READS_TARGET: u64 = 2;

#[derive(clap::Args)]
pub struct BulkEditArgs {
    /// Top-level products in the generated store [default: 100000; --quick: 2000].
    #[arg(long)]
    products: Option<u64>,
    /// Of those, variable products [default: a tenth of --products].
    #[arg(long)]
    variable: Option<u64>,
    /// Variations per variable product.
    #[arg(long, default_value_t = 5)]
    variations: u64,
    /// Seed of the generated store.
    #[arg(long, default_value_t = 7)]
    random_seed: u64,
    /// Latency the store adds to every REST request.
    #[arg(long, default_value_t = 100)]
    latency_ms: u64,
    /// The WooCommerce version the store plays.
    #[arg(long, default_value = "10.3.0")]
    wc_version: String,
    /// The plugin's `concurrency` setting.
    #[arg(long, default_value_t = 4)]
    concurrency: u32,
    /// 2,000 products (200 variable): a smoke check in about a minute.
    #[arg(long)]
    quick: bool,
    /// Use the release binaries as they are instead of building them.
    #[arg(long)]
    no_build: bool,
}

/// One measured `import-products`.
struct Ran {
    name: String,
    run: JobRun,
    requests: Requests,
}

/// Reads of products and variations: every `GET` of `/wc/v3/products…`
/// (listings, one product, a product's variations) and of
/// `/wc/v3/variations`.
fn product_reads(requests: &Requests) -> u64 {
    requests
        .0
        .iter()
        .filter(|(route, _)| {
            route.starts_with("GET /wc/v3/products") || route.starts_with("GET /wc/v3/variations")
        })
        .map(|(_, n)| n)
        .sum()
}

/// Reads of variations alone.
fn variation_reads(requests: &Requests) -> u64 {
    requests
        .0
        .iter()
        .filter(|(route, _)| route.starts_with("GET ") && route.contains("variations"))
        .map(|(_, n)| n)
        .sum()
}

pub fn run(args: &BulkEditArgs) -> anyhow::Result<()> {
    let binaries = binaries::prepare(!args.no_build)?;
    let products = args
        .products
        .unwrap_or(if args.quick { 2_000 } else { 100_000 });
    let spec = StoreSpec {
        products,
        variable: args.variable.unwrap_or(products / 10),
        variations: args.variations,
        orders: 0,
        random_seed: args.random_seed,
    };
    outln!("machine: {}", machine::describe());
    outln!("binaries: {}", binaries.provenance);
    outln!(
        "store: WooCommerce {}, latency {} ms, --products {} --variable {} --variations {} \
         --random-seed {}; plugin concurrency {}",
        args.wc_version,
        args.latency_ms,
        spec.products,
        spec.variable,
        spec.variations,
        spec.random_seed,
        args.concurrency
    );
    let load = machine::load_average();
    say(format_args!(
        "WooCommerce {}, latency {} ms: starting the sandbox (load average {load})",
        args.wc_version, args.latency_ms
    ));
    let store = Sandbox::start(&binaries.sandbox, &spec, args.latency_ms, &args.wc_version)?;
    let census = store.census(&IMPORT_STATUSES, &args.wc_version)?;
    say(format_args!("{census:?}; the bulk edit"));
    let edit = store.bulk_edit(census.products, EDIT_IN_FLIGHT)?;
    say(format_args!("{edit:?}"));
    store.advance_clock(AFTER_EDIT_SECS)?;

    let install = Install::new(&binaries)?;
    install.configure(&store.url, KEY, SECRET, args.concurrency)?;
    store.reset_stats()?;
    install.activate()?;
    // `run` repeats the activation's connection check before the job.
    let check = store.stats()?;
    let mut runs = Vec::new();
    for i in 0..=INCREMENTAL_RUNS {
        let name = if i == 0 {
            "full import".to_owned()
        } else {
            store.advance_clock(BEFORE_RUN_SECS)?;
            format!("incremental {i}")
        };
        store.reset_stats()?;
        let run = install.run_job("import-products", &[])?;
        let requests = store.stats()?;
        say(format_args!(
            "{name}: {:.2} s, {} requests, updated {}",
            run.measured.wall,
            requests.total(),
            run.counts.updated
        ));
        runs.push(Ran {
            name,
            run,
            requests,
        });
    }

    outln!();
    outln!(
        "### A bulk edit of {} products and {} variations, then import-products (WooCommerce {}, latency {} ms)\n",
        edit.products,
        edit.variations,
        args.wc_version,
        args.latency_ms
    );
    outln!("{}", render(&runs, product_reads(&check)));
    outln!(
        "load average before: {load}; after: {}",
        machine::load_average()
    );
    outln!("{}", target(&runs[2..], product_reads(&check)).render());
    outln!(
        "\nbulk edit: regular_price of every product (POST products/batch) and variation \
         (POST products/{{id}}/variations/batch), {} requests of at most 100, {EDIT_IN_FLIGHT} \
         in flight, in {:.1} s of store time; then the store's clock moved on {AFTER_EDIT_SECS} s, \
         and {BEFORE_RUN_SECS} s before each incremental run.",
        edit.requests,
        edit.wall
    );
    outln!(
        "requests: the store's counters, cleared before each run. *product reads* are the GETs of \
         /wc/v3/products (listings, one product, a product's variations) and /wc/v3/variations; \
         *of them the import's* leaves out the {} of the connection check `run` makes first ({}), \
         and the target is judged on it. *all* is every request of the run, the check's {} included.",
        product_reads(&check),
        check.by_route(),
        check.total()
    );
    for ran in &runs {
        outln!("{}: {}", ran.name, ran.requests.by_route());
    }
    Ok(())
}

/// The runs as a Markdown table; `check_reads`: the connection check's
/// product reads, in every run's.
fn render(runs: &[Ran], check_reads: u64) -> String {
    let mut out = String::from(
        "| run | wall s | product reads | of them the import's | of them variations | all requests | created | updated |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for ran in runs {
        let reads = product_reads(&ran.requests);
        out += &format!(
            "| {} | {:.2} | {} | {} | {} | {} | {} | {} |\n",
            ran.name,
            ran.run.measured.wall,
            reads,
            reads.saturating_sub(check_reads),
            variation_reads(&ran.requests),
            ran.requests.total(),
            ran.run.counts.created,
            ran.run.counts.updated
        );
    }
    out
}

/// The second and later incremental runs read at most [`READS_TARGET`]
/// times for products, the connection check's reads left out.
fn target(runs: &[Ran], check_reads: u64) -> Check {
    let reads: Vec<(String, u64)> = runs
        .iter()
        .map(|ran| {
            let own = product_reads(&ran.requests).saturating_sub(check_reads);
            (ran.name.clone(), own)
        })
        .collect();
    judge(&reads, check_reads)
}

fn judge(reads: &[(String, u64)], check_reads: u64) -> Check {
    Check {
        target: format!(
            "the second and third incremental runs make at most {READS_TARGET} requests each for products"
        ),
        pass: Some(reads.iter().all(|(_, n)| *n <= READS_TARGET)),
        detail: reads
            .iter()
            .map(|(name, n)| format!("{name}: {n} (+{check_reads} of the connection check)"))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, u64)]) -> Requests {
        Requests(pairs.iter().map(|(r, n)| ((*r).to_owned(), *n)).collect())
    }

    #[test]
    fn product_reads_are_the_gets_of_products_and_variations() {
        let run = counts(&[
            ("GET /wc/v3/products", 3),
            ("GET /wc/v3/products/{id}", 1),
            ("GET /wc/v3/products/{id}/variations", 2),
            ("GET /wc/v3/variations", 4),
            ("POST /wc/v3/products/batch", 1),
            ("GET /wc/v3/system_status", 1),
        ]);
        assert_eq!(product_reads(&run), 10);
        assert_eq!(variation_reads(&run), 6);
    }

    #[test]
    fn the_target_leaves_out_the_connection_check() {
        let pass = judge(
            &[("incremental 2".into(), 2), ("incremental 3".into(), 1)],
            1,
        );
        assert_eq!(pass.pass, Some(true));
        assert_eq!(
            pass.detail,
            "incremental 2: 2 (+1 of the connection check), incremental 3: 1 (+1 of the connection check)"
        );
        let miss = judge(
            &[("incremental 2".into(), 2), ("incremental 3".into(), 3)],
            1,
        );
        assert_eq!(miss.pass, Some(false));
    }
}
