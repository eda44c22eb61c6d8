//! `bench all`: the whole cycle in one table, for each catalogue size and
//! latency — import products, import orders, End of Day with 1 % of the
//! items differing, the export of picks and shipments; the host's start-up
//! with its plugins loaded, the activation and the idle resident set of
//! `serve`; and beside them the raw concurrent fetch (the floor) and
//! WooCommerce's official Python client paging the same products and
//! orders.

use std::time::Duration;

use crate::binaries::Binaries;
use crate::outbound::{self, Plan, Session};
use crate::python::Python;
use crate::raw_fetch::{self, FetchArgs, Fetched};
use crate::requests::{orders_minimum, products_minimum};
use crate::sandbox::StoreSpec;
use crate::table::{Check, Row};
use crate::{process, say};

/// What one `all` run covers.
pub struct Cycle<'a> {
    pub binaries: &'a Binaries,
    pub python: Option<&'a Python>,
    pub version: &'a str,
    pub concurrency: u32,
    pub plan: Plan,
    /// How long `serve` idles before its resident set is read.
    pub settle: Duration,
}

/// One size and latency: its rows (named `SIZE @LATENCY ms: run`), its
/// targets and the details under the table.
pub struct Measured {
    pub rows: Vec<Row>,
    pub checks: Vec<Check>,
    pub notes: String,
}

impl Cycle<'_> {
    pub fn measure(&self, spec: &StoreSpec, latency: u64) -> anyhow::Result<Measured> {
        let session = Session::start(self.binaries, spec, self.version, latency, self.concurrency)?;
        // The readers first, while the store is as generated (the export
        // completes orders).
        let census = &session.census;
        let route = session.variations_route();
        let fetch_args = FetchArgs::new(&session.store.url, self.concurrency, route);
        let minimum = products_minimum(census, route) + orders_minimum(census);
        let read = |name: &str,
                    read: &dyn Fn() -> anyhow::Result<(process::Measured, Fetched)>|
         -> anyhow::Result<(Row, Fetched)> {
            session.store.reset_stats()?;
            let cpu_before = session.store.cpu();
            let (measured, fetched) = read()?;
            let store_cpu = session.store.cpu() - cpu_before;
            let requests = session.store.stats()?.total();
            say(format_args!(
                "{name}: {:.2} s, {requests} requests",
                measured.wall
            ));
            let row = Row {
                name: name.into(),
                records: fetched.records(),
                wall: measured.wall,
                requests,
                minimum,
                cpu: measured.cpu,
                store_cpu,
                peak_rss_mib: measured.peak_rss_mib(),
            };
            Ok((row, fetched))
        };
        let exe = std::env::current_exe()?;
        let mut readers = vec![read(
            &format!("raw concurrent fetch (floor, c={})", self.concurrency),
            &|| raw_fetch::measure(&exe, &fetch_args),
        )?];
        if let Some(python) = self.python {
            readers.push(read("python client (sequential)", &|| {
                python.measure(&fetch_args)
            })?);
        }

        let start_up = session.install.start_up()?;
        let outbound = outbound::measure(&session, self.plan, None)?;
        let idle_rss = session.install.serve_idle_rss(self.settle)?;
        say(format_args!("serve idle: {idle_rss:.1} MiB"));

        let check = session.check.total();
        let host_rows = [
            Row {
                name: "host start-up (plugins list)".into(),
                records: 0,
                wall: start_up.wall,
                requests: 0,
                minimum: 0,
                cpu: start_up.cpu,
                store_cpu: 0.0,
                peak_rss_mib: start_up.peak_rss_mib(),
            },
            Row {
                name: "activation (plugins activate)".into(),
                records: 0,
                wall: session.activation.wall,
                requests: check,
                minimum: check,
                cpu: session.activation.cpu,
                store_cpu: 0.0,
                peak_rss_mib: session.activation.peak_rss_mib(),
            },
            Row {
                name: format!("serve, idle (RSS after {} s)", self.settle.as_secs()),
                records: 0,
                wall: self.settle.as_secs_f64(),
                requests: 0,
                minimum: 0,
                cpu: 0.0,
                store_cpu: 0.0,
                peak_rss_mib: idle_rss,
            },
        ];
        let prefix = format!("{} @{latency} ms: ", spec.products);
        let rows = host_rows
            .into_iter()
            .chain(outbound.rows)
            .chain(readers.iter().map(|(row, _)| row.clone()))
            .map(|row| Row {
                name: format!("{prefix}{}", row.name),
                ..row
            })
            .collect();
        let checks = outbound
            .checks
            .into_iter()
            .map(|c| Check {
                target: format!("{prefix}{}", c.target),
                ..c
            })
            .collect();
        let mut notes = format!(
            "{prefix}{}; load average before: {}\nhost start-up {:.1} ms, activation {:.1} ms\n{}",
            session.title(latency),
            session.load,
            start_up.wall * 1e3,
            session.activation.wall * 1e3,
            outbound.notes
        );
        for (row, fetched) in &readers {
            notes += &format!("{}: {}\n", row.name, fetched.describe());
        }
        Ok(Measured {
            rows,
            checks,
            notes,
        })
    }
}
