//! The outbound benchmark: what goes back to the store. After the imports,
//! End of Day with 1 % of the items differing, then with every item
//! differing (`--force`, past the safety limit), then `export-fulfillment`
//! of picks and shipments made in IntelliTrack — each a measured
//! `plugin-host run` against the sandbox, with the reads and the batch
//! writes the store counted against the fewest possible.

use crate::binaries::Binaries;
use crate::fulfilment;
use crate::host::{Install, JobRun};
use crate::machine;
use crate::requests::{PER_PAGE, Requests, orders_minimum, products_minimum};
use crate::sandbox::{KEY, SECRET, Sandbox, StoreSpec, has_variations_route};
use crate::say;
use crate::stock::{self, Drift, Writes};
use crate::table::{self, Check, Row};

/// Store writes per exported event: a pick is a private note and the
/// order's picked meta; a shipment a tracking entry and then the order's
/// status (or a note of what is left to ship).
const WRITES_PER_EVENT: u64 = 2;

/// One table: a store version and latency.
pub struct Setting<'a> {
    pub binaries: &'a Binaries,
    pub spec: StoreSpec,
    pub version: &'a str,
    pub latency: u64,
    pub concurrency: u32,
    pub picks: u64,
    pub shipments: u64,
}

/// A measured plugin run and what the store saw meanwhile.
struct Measured {
    run: JobRun,
    requests: Requests,
    store_cpu: f64,
}

impl Measured {
    fn row(&self, name: &str, records: u64, minimum: u64) -> Row {
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

impl Setting<'_> {
    pub fn measure(&self) -> anyhow::Result<String> {
        let route = has_variations_route(self.version);
        let load = machine::load_average();
        say(format_args!(
            "WooCommerce {}, latency {} ms: starting the sandbox (load average {load})",
            self.version, self.latency
        ));
        let store = Sandbox::start(
            &self.binaries.sandbox,
            &self.spec,
            self.latency,
            self.version,
        )?;
        let census = store.census(&crate::IMPORT_STATUSES, self.version)?;
        say(format_args!("{census:?}"));
        let install = Install::new(self.binaries)?;
        install.configure(&store.url, KEY, SECRET, self.concurrency)?;
        store.reset_stats()?;
        install.activate()?;
        let check = store.stats()?;
        let run = |job: &str, flags: &[&str]| -> anyhow::Result<Measured> {
            store.reset_stats()?;
            let cpu_before = store.cpu();
            let run = install.run_job(job, flags)?;
            let store_cpu = store.cpu() - cpu_before;
            let requests = store.stats()?.minus(&check);
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
        };

        let products = run("import-products", &[])?;
        let orders = run("import-orders", &[])?;
        // The imports leave some counts apart (see the first End of Day's
        // row); it brings the store in line, so that the next differ only
        // by what is changed here.
        let baseline = run("end-of-day", &["--force"])?;
        let counted = store.counted_stock(&census, self.version)?;
        let one_percent = Drift::choose(&counted, 100);
        let secs = store.set_stock(&one_percent)?;
        say(format_args!(
            "{} of {} counted items made to differ in {secs:.1} s",
            one_percent.len(),
            counted.len()
        ));
        let eod_some = run("end-of-day", &[])?;
        let every = Drift::choose(&counted, 1);
        let secs = store.set_stock(&every)?;
        say(format_args!(
            "all {} counted items made to differ in {secs:.1} s",
            every.len()
        ));
        let eod_all = run("end-of-day", &["--force"])?;
        let made = fulfilment::make(&install.db_path(), self.picks, self.shipments)?;
        say(format_args!(
            "{} picks and {} shipments made in {:.1} s",
            made.picks, made.shipments, made.secs
        ));
        let export = run("export-fulfillment", &[])?;

        let reads =
            stock::reads_minimum(census.products, census.variable, census.variations, route);
        let events = made.picks + made.shipments;
        let rows = [
            products.row(
                "plugin import-products",
                products.run.counts.written(),
                products_minimum(&census, route),
            ),
            orders.row(
                "plugin import-orders",
                orders.run.counts.written(),
                orders_minimum(&census),
            ),
            baseline.row(
                "end-of-day after imports (--force)",
                baseline.run.counts.updated,
                reads + baseline.run.counts.updated.div_ceil(PER_PAGE),
            ),
            eod_some.row(
                "end-of-day, 1% differ",
                eod_some.run.counts.updated,
                reads + one_percent.writes().total(),
            ),
            eod_all.row(
                "end-of-day, all differ (--force)",
                eod_all.run.counts.updated,
                reads + every.writes().total(),
            ),
            export.row(
                "export-fulfillment",
                events_sent(&export.run.counts.summary),
                events * WRITES_PER_EVENT,
            ),
        ];
        let mut out = table::render(
            &format!(
                "### WooCommerce {}, latency {} ms ({} products, {} variable, {} variations, {} orders in {}; {} items End of Day compares)",
                self.version,
                self.latency,
                census.products,
                census.variable,
                census.variations,
                census.orders,
                crate::IMPORT_STATUSES.join(","),
                counted.len()
            ),
            &rows,
        );
        out += &format!("\nload average before: {load}\n");
        for (name, drift, eod) in [
            ("1% differ", &one_percent, &eod_some),
            ("all differ", &every, &eod_all),
        ] {
            out += &format!("{}\n", sent_check(name, drift, eod).render());
            out += &format!("{}\n", writes_check(name, drift, &eod.requests).render());
        }
        let sent = events_sent(&export.run.counts.summary);
        out += &format!(
            "{}\n",
            Check {
                target: "export-fulfillment sends every pick and shipment".into(),
                pass: Some(sent == events),
                detail: format!("{sent} events sent of {events}"),
            }
            .render()
        );
        out += &format!(
            "\nrecords: items/orders created + updated (imports), counts sent (end-of-day), events delivered (export).\n\
             minimum: end-of-day reads {reads} (product pages, {}, one page of orders) + ceil(differing/100) batch writes per route
(after the imports, whose differing items are not known beforehand: ceil(sent/100), a lower bound);\n\
             export {WRITES_PER_EVENT} writes per event ({} picks + {} shipments made in {:.1} s); events/s = records/s of the export row.\n",
            if route {
                "variation pages"
            } else {
                "one variation listing per variable product"
            },
            made.picks,
            made.shipments,
            made.secs
        );
        for (name, m) in [
            ("import-products", &products),
            ("import-orders", &orders),
            ("end-of-day after the imports", &baseline),
            ("end-of-day 1%", &eod_some),
            ("end-of-day all", &eod_all),
            ("export-fulfillment", &export),
        ] {
            out += &format!(
                "{name}: {}\n    requests: {}\n",
                m.run.counts.summary,
                m.requests.by_route()
            );
        }
        Ok(out)
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
    fn the_events_sent_come_from_the_summary() {
        assert_eq!(events_sent("448 events sent to WooCommerce, 0 parked"), 448);
        assert_eq!(events_sent("nothing to send"), 0);
    }
}
