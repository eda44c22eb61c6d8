//! The outbound benchmark: what goes back to the store. After the imports,
//! End of Day with 1 % of the items differing, then with every item
//! differing (`--force`, past the safety limit), then `export-fulfillment`
//! of picks and shipments made in IntelliTrack — each a measured
//! `plugin-host run` against the sandbox, with the reads and the batch
//! writes the store counted against the fewest possible.

use crate::binaries::Binaries;
use crate::floors::{self, Floors};
use crate::host::{Install, JobRun};
use crate::python::Python;
use crate::requests::{Census, PER_PAGE, Requests, orders_minimum, products_minimum};
use crate::sandbox::{KEY, SECRET, Sandbox, StoreSpec, has_variations_route};
use crate::say;
use crate::stock::{self, Drift, Writes};
use crate::table::{Check, Row};
use crate::{fulfilment, machine, process};

/// How far above its floor a run may be and still PASS.
const SLACK: f64 = 1.3;
/// Events a second the export sent before it coalesced orders' events
/// (2.2 requests an event, 4 at a time, 100 ms): the target is ten times it.
const EXPORT_BEFORE: f64 = 17.0;

/// A store version and latency: the sandbox with its generated store and
/// a fresh, activated installation pointed at it.
pub struct Session {
    pub store: Sandbox,
    pub install: Install,
    pub census: Census,
    pub version: String,
    /// The connection check every `run` repeats first (taken off each run).
    pub check: Requests,
    /// `plugins activate`, measured.
    pub activation: process::Measured,
    /// The load average when the session started.
    pub load: String,
    /// The plugin's `concurrency` setting.
    pub concurrency: u32,
}

/// A measured plugin run and what the store saw meanwhile.
pub struct Measured {
    pub run: JobRun,
    pub requests: Requests,
    pub store_cpu: f64,
}

impl Measured {
    pub fn row(&self, name: &str, records: u64, minimum: u64) -> Row {
        Row {
            name: name.into(),
            records,
            wall: self.run.measured.wall,
            requests: self.requests.total(),
            minimum,
            cpu: self.run.measured.cpu,
            store_cpu: self.store_cpu,
            peak_rss_mib: self.run.measured.peak_rss_mib(),
        }
    }
}

impl Session {
    pub fn start(
        binaries: &Binaries,
        spec: &StoreSpec,
        version: &str,
        latency: u64,
        concurrency: u32,
    ) -> anyhow::Result<Self> {
        let load = machine::load_average();
        say(format_args!(
            "WooCommerce {version}, latency {latency} ms, {} products: starting the sandbox (load average {load})",
            spec.products
        ));
        let store = Sandbox::start(&binaries.sandbox, spec, latency, version)?;
        let census = store.census(&crate::IMPORT_STATUSES, version)?;
        say(format_args!("{census:?}"));
        let install = Install::new(binaries)?;
        install.configure(&store.url, KEY, SECRET, concurrency)?;
        store.reset_stats()?;
        let activation = install.activate()?;
        let check = store.stats()?;
        Ok(Self {
            store,
            install,
            census,
            version: version.to_owned(),
            check,
            activation,
            load,
            concurrency,
        })
    }

    pub fn variations_route(&self) -> bool {
        has_variations_route(&self.version)
    }

    /// `run woocommerce JOB FLAGS`, measured, with the store's requests
    /// (less the connection check) and CPU meanwhile.
    pub fn run(&self, job: &str, flags: &[&str]) -> anyhow::Result<Measured> {
        self.store.reset_stats()?;
        let cpu_before = self.store.cpu();
        let run = self.install.run_job(job, flags)?;
        let store_cpu = self.store.cpu() - cpu_before;
        let requests = self.store.stats()?.minus(&self.check);
        say(format_args!(
            "{job} {}: {:.2} s, {} requests; {}",
            flags.join(" "),
            run.measured.wall,
            requests.total(),
            run.counts.summary
        ));
        Ok(Measured {
            run,
            requests,
            store_cpu,
        })
    }

    /// The title of this session's table.
    pub fn title(&self, latency: u64) -> String {
        format!(
            "WooCommerce {}, latency {latency} ms ({} products, {} variable, {} variations, {} orders in {})",
            self.version,
            self.census.products,
            self.census.variable,
            self.census.variations,
            self.census.orders,
            crate::IMPORT_STATUSES.join(","),
        )
    }
}

/// What to measure after the imports.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub picks: u64,
    pub shipments: u64,
    /// Also End of Day with every item differing (`--force`).
    pub every_item: bool,
}

/// The rows, the targets, and the details under the table.
pub struct Outbound {
    pub rows: Vec<Row>,
    pub checks: Vec<Check>,
    pub notes: String,
}

/// Imports, End of Day after them, with 1 % differing (and, per the plan,
/// with every item differing, and the same writes by the Python client),
/// then the export of picks and shipments.
pub fn measure(session: &Session, plan: Plan, python: Option<&Python>) -> anyhow::Result<Outbound> {
    let (census, store) = (&session.census, &session.store);
    let route = session.variations_route();
    let products = session.run("import-products", &[])?;
    let orders = session.run("import-orders", &[])?;
    // The imports leave some counts apart (see this run's row); it brings
    // the store in line, so that the next differ only by what is changed
    // here.
    let baseline = session.run("end-of-day", &["--force"])?;
    let counted = store.counted_stock(census, &session.version)?;
    let orders_after = floors::orders_after(&session.install.db_path())?;
    let floors = floors::measure(
        &store.url,
        session.concurrency,
        route,
        &counted,
        orders_after,
    )?;
    say(format_args!("{floors:?}"));
    let one_percent = Drift::choose(&counted, 100);
    let secs = store.set_stock(&one_percent)?;
    say(format_args!(
        "{} of {} counted items made to differ in {secs:.1} s",
        one_percent.len(),
        counted.len()
    ));
    let some = session.run("end-of-day", &[])?;
    let mut eods = vec![("1% differ", one_percent, some)];
    let mut by_python = None;
    if plan.every_item {
        let every = Drift::choose(&counted, 1);
        let secs = store.set_stock(&every)?;
        say(format_args!(
            "all {} counted items made to differ in {secs:.1} s",
            every.len()
        ));
        let all = session.run("end-of-day", &["--force"])?;
        if let Some(python) = python {
            store.set_stock(&every)?;
            let (measured, batched) = python.send_batches(&store.url, &every.batches_back())?;
            say(format_args!(
                "python: {} batches in {:.2} s, {} refused",
                batched.batches, measured.wall, batched.refused
            ));
            by_python = Some((measured, batched));
        }
        eods.push(("all differ (--force)", every, all));
    }
    let made = fulfilment::make_in_child(&session.install.db_path(), plan.picks, plan.shipments)?;
    say(format_args!(
        "{} picks and {} shipments made in {:.1} s",
        made.picks, made.shipments, made.secs
    ));
    let export = session.run("export-fulfillment", &[])?;

    let reads = stock::reads_minimum(census.products, census.variable, census.variations, route);
    let events = made.picks + made.shipments;
    let sent = events_sent(&export.run.counts.summary);
    let mut rows = vec![
        products.row(
            "import-products",
            products.run.counts.written(),
            products_minimum(census, route),
        ),
        orders.row(
            "import-orders",
            orders.run.counts.written(),
            orders_minimum(census),
        ),
        baseline.row(
            "end-of-day after imports (--force)",
            baseline.run.counts.updated,
            reads + baseline.run.counts.updated.div_ceil(PER_PAGE),
        ),
    ];
    let mut checks = Vec::new();
    for (name, drift, eod) in &eods {
        rows.push(eod.row(
            &format!("end-of-day, {name}"),
            eod.run.counts.updated,
            reads + drift.writes().total(),
        ));
        checks.push(sent_check(name, drift, eod));
        checks.push(writes_check(name, drift, &eod.requests));
        checks.push(floor_check(name, drift, eod, &floors, session.concurrency));
    }
    if let (Some((measured, batched)), Some((_, every, all))) = (&by_python, eods.get(1)) {
        rows.push(Row {
            name: "python client, the same writes (sequential)".into(),
            records: every.len(),
            wall: measured.wall,
            requests: batched.batches,
            minimum: batched.batches,
            cpu: measured.cpu,
            store_cpu: 0.0,
            peak_rss_mib: measured.peak_rss_mib(),
        });
        checks.push(Check {
            target: "end-of-day (all differ) against the Python client's sequential batches".into(),
            pass: None,
            detail: format!(
                "python {:.1} s (its batches alone; {:.1} s with the interpreter) / plugin {:.1} s = {:.1}x ({} batches, {} refused)",
                batched.secs,
                measured.wall,
                all.run.measured.wall,
                batched.secs / all.run.measured.wall.max(f64::EPSILON),
                batched.batches,
                batched.refused
            ),
        });
    }
    // Coalesced: a note and the trackings an order, and its meta and
    // status in one `orders/batch` item.
    let export_minimum = made.orders + made.shipments + made.orders.div_ceil(PER_PAGE);
    rows.push(export.row("export-fulfillment (events)", sent, export_minimum));
    checks.push(Check {
        target: "export-fulfillment sends every pick and shipment".into(),
        pass: Some(sent == events),
        detail: format!("{sent} events sent of {events}"),
    });
    let rate = sent as f64 / export.run.measured.wall.max(f64::EPSILON);
    checks.push(Check {
        target: format!(
            "export-fulfillment >= 10x {EXPORT_BEFORE} events/s (c={})",
            session.concurrency
        ),
        pass: Some(rate >= 10.0 * EXPORT_BEFORE),
        detail: format!(
            "{rate:.0} events/s; {:.2} requests an event ({} requests, {} events of {} orders)",
            export.requests.total() as f64 / events.max(1) as f64,
            export.requests.total(),
            events,
            made.orders
        ),
    });

    let mut notes = format!(
        "{} items End of Day compares; end-of-day minimum: reads {reads} (product pages, {}, one page of orders) \
         + ceil(differing/100) batch writes per route (after the imports, whose differing items are not known \
         beforehand: ceil(sent/100), a lower bound); export: a note an order, a tracking a shipment, an \
         orders/batch per 100 orders ({} picks + {} shipments made in {:.1} s); floors at c={}: slim read \
         {:.2} s ({} requests), one products/batch of 100 {:.3} s.\n",
        counted.len(),
        if route {
            "variation pages"
        } else {
            "one variation listing per variable product"
        },
        made.picks,
        made.shipments,
        made.secs,
        session.concurrency,
        floors.read_secs,
        floors.read_requests,
        floors.batch_secs
    );
    let runs = [
        ("import-products", &products),
        ("import-orders", &orders),
        ("end-of-day after the imports", &baseline),
    ]
    .into_iter()
    .chain(eods.iter().map(|(name, _, eod)| (*name, eod)))
    .chain([("export-fulfillment", &export)]);
    for (name, m) in runs {
        notes += &format!(
            "{name}: {}\n    requests: {}\n",
            shortened(&m.run.counts.summary),
            m.requests.by_route()
        );
    }
    Ok(Outbound {
        rows,
        checks,
        notes,
    })
}

/// Characters of a run's summary kept in the notes (an import's summary
/// names every pool it left alone: thousands of SKUs at 100,000 products).
const SUMMARY_KEPT: usize = 300;

/// A run's summary, cut after [`SUMMARY_KEPT`] characters.
fn shortened(summary: &str) -> String {
    match summary.char_indices().nth(SUMMARY_KEPT) {
        Some((at, _)) => format!("{} [...]", &summary[..at]),
        None => summary.to_owned(),
    }
}

/// The events an export reports sent (`448 events sent to WooCommerce, ...`).
fn events_sent(summary: &str) -> u64 {
    summary
        .split_once(" events sent")
        .and_then(|(n, _)| n.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0)
}

/// End of Day sent exactly the counts made to differ.
fn sent_check(name: &str, drift: &Drift, eod: &Measured) -> Check {
    let sent = eod.run.counts.updated;
    Check {
        target: format!("end-of-day ({name}) sends every differing count and no other"),
        pass: Some(sent == drift.len() && eod.run.counts.failed == 0),
        detail: format!(
            "{sent} sent, {} made to differ, {} refused",
            drift.len(),
            eod.run.counts.failed
        ),
    }
}

/// End of Day against its floor: with every item differing, its batches
/// `concurrency` at a time, each as long as one; with some differing, the
/// slim read and then those batches.
fn floor_check(
    name: &str,
    drift: &Drift,
    eod: &Measured,
    floors: &Floors,
    concurrency: u32,
) -> Check {
    let batches = drift.writes().total();
    let writes = floors.writes_secs(batches, concurrency);
    let (floor, what) = if name.starts_with("all") {
        (
            writes,
            format!(
                "{batches} batches / c={concurrency} x {:.3} s",
                floors.batch_secs
            ),
        )
    } else {
        (
            floors.read_secs + writes,
            format!(
                "slim read {:.2} s + {batches} batches / c={concurrency} x {:.3} s",
                floors.read_secs, floors.batch_secs
            ),
        )
    };
    let wall = eod.run.measured.wall;
    Check {
        target: format!("end-of-day ({name}) within {SLACK}x its floor"),
        pass: Some(wall <= SLACK * floor),
        detail: format!(
            "{wall:.1} s against {floor:.1} s ({what}) = {:.2}x",
            wall / floor.max(f64::EPSILON)
        ),
    }
}

/// Batch writes: exactly `ceil(differing/100)` per route.
fn writes_check(name: &str, drift: &Drift, requests: &Requests) -> Check {
    let target = drift.writes();
    let counted = Writes::counted(requests);
    Check {
        target: format!("end-of-day ({name}) writes exactly ceil(differing/100) per route"),
        pass: Some(counted == target),
        detail: format!(
            "products/batch {} (target {}), products/{{id}}/variations/batch {} (target {}, {} parents)",
            counted.products,
            target.products,
            counted.variations,
            target.variations,
            drift.variations.len()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_summary_is_cut_and_a_short_one_kept() {
        assert_eq!(shortened("3 sent"), "3 sent");
        let long = "é".repeat(SUMMARY_KEPT + 5);
        assert_eq!(
            shortened(&long),
            format!("{} [...]", "é".repeat(SUMMARY_KEPT))
        );
    }

    #[test]
    fn the_events_sent_come_from_the_summary() {
        assert_eq!(events_sent("448 events sent to WooCommerce, 0 parked"), 448);
        assert_eq!(events_sent("nothing to send"), 0);
    }
}
