//! `bench adaptive`: the plugin's `concurrency=auto` against every fixed
//! setting, on stores of different capacity.
//!
//! For each pool size (`woo-sandbox --workers N`, each REST request
//! spending `--latency-ms` on a worker, a backlog of 4 per worker, 503 past
//! it) it starts one sandbox with a generated catalogue and, for each
//! setting (1, 2, 4, ... 64 and `auto`), a fresh `plugin-host` installation
//! that activates the real plugin and runs `import-products` (the same
//! workload each time: every product read and imported). It prints the
//! run's wall, products/s, the requests the pool served and refused and
//! its peak in flight, then for each pool: `auto` reaches >= 85 % of the
//! best fixed setting's products/s, refuses <= 1 %, fails no run, as
//! PASS / MISS. A failed run is a row (and a MISS for `auto`), not an
//! error.

use crate::transcript::outln;
use std::fmt::Write as _;

use crate::binaries::Binaries;
use crate::host::Install;
use crate::sandbox::{KEY, SECRET, Sandbox, StoreSpec};
use crate::table::Check;

#[derive(clap::Args)]
pub struct AdaptiveArgs {
    /// Pool sizes (`woo-sandbox --workers`), one table each.
    #[arg(long, value_delimiter = ',', default_value = "2,8,32")]
    workers: Vec<u16>,
    /// What each request spends on a worker, in ms.
    #[arg(long, default_value_t = 100)]
    latency_ms: u64,
    /// Products in the generated store (simple ones).
    #[arg(long, default_value_t = 10_000)]
    products: u64,
    /// The settings compared (`auto` among them).
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8,16,32,64,auto")]
    settings: Vec<String>,
    /// The WooCommerce version the store plays.
    #[arg(long, default_value = "10.3.0")]
    wc_version: String,
    /// Use the release binaries as they are instead of building them.
    #[arg(long)]
    no_build: bool,
}

/// `auto` must reach this share of the best fixed setting's throughput.
const SHARE_OF_BEST: f64 = 0.85;
/// And have at most this share of its requests refused.
const MOST_REFUSED: f64 = 0.01;

/// One setting's run against one pool.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    pub setting: String,
    /// `Err`: the run failed, with why.
    pub outcome: Result<Ran, String>,
}

/// A run that succeeded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ran {
    pub wall: f64,
    pub products: u64,
    pub served: u64,
    pub refused: u64,
    pub peak_in_flight: usize,
}

impl Ran {
    pub fn rate(&self) -> f64 {
        if self.wall > 0.0 {
            self.products as f64 / self.wall
        } else {
            0.0
        }
    }

    pub fn refused_share(&self) -> f64 {
        let all = self.served + self.refused;
        if all == 0 {
            0.0
        } else {
            self.refused as f64 / all as f64
        }
    }
}

pub fn run(args: &AdaptiveArgs) -> anyhow::Result<()> {
    let binaries = crate::binaries::prepare(!args.no_build)?;
    outln!(
        "# adaptive concurrency: import-products of {} products, {} ms a request on a worker, \
         WooCommerce {}; a backlog of 4 per worker, 503 past it\nbinaries: {}; {}\n",
        args.products,
        args.latency_ms,
        args.wc_version,
        binaries.provenance,
        crate::machine::describe(),
    );
    let spec = StoreSpec {
        products: args.products,
        variable: 0,
        variations: 0,
        orders: 0,
        random_seed: 7,
    };
    let mut checks = Vec::new();
    for &workers in &args.workers {
        let flags = vec!["--workers".to_owned(), workers.to_string()];
        let store = Sandbox::start_with(
            &binaries.sandbox,
            &spec,
            args.latency_ms,
            &args.wc_version,
            &flags,
        )?;
        let trials: Vec<Trial> = args
            .settings
            .iter()
            .map(|setting| Trial {
                setting: setting.clone(),
                outcome: trial(&binaries, &store, setting),
            })
            .collect();
        outln!("## --workers {workers}\n\n{}", render(&trials));
        checks.push((workers, verdict(&trials)));
    }
    outln!("## targets\n");
    for (workers, check) in checks {
        outln!("--workers {workers}: {}", check.render());
    }
    Ok(())
}

fn trial(binaries: &Binaries, store: &Sandbox, setting: &str) -> Result<Ran, String> {
    let attempt = || -> anyhow::Result<Ran> {
        let install = Install::new(binaries)?;
        install.configure_as(&store.url, KEY, SECRET, setting)?;
        install.activate()?;
        store.reset_capacity()?;
        let job = install.run_job("import-products", &[])?;
        let capacity = store.capacity()?;
        eprintln!("[bench] --concurrency {setting}: {}", job.counts.summary);
        Ok(Ran {
            wall: job.measured.wall,
            products: job.counts.written(),
            served: capacity.served,
            refused: capacity.refused,
            peak_in_flight: capacity.peak_in_flight,
        })
    };
    attempt().map_err(|e| format!("{e:#}").lines().next().unwrap_or("").to_owned())
}

/// The table of one pool's trials.
pub fn render(trials: &[Trial]) -> String {
    let mut out = String::from(
        "| concurrency | wall s | products/s | requests | refused % | peak in flight |\n\
         |---|---:|---:|---:|---:|---:|\n",
    );
    for trial in trials {
        let _ = match &trial.outcome {
            Ok(ran) => writeln!(
                out,
                "| {} | {:.2} | {:.0} | {} | {:.2} | {} |",
                trial.setting,
                ran.wall,
                ran.rate(),
                ran.served + ran.refused,
                ran.refused_share() * 100.0,
                ran.peak_in_flight
            ),
            Err(why) => writeln!(out, "| {} | run failed: {why} | | | | |", trial.setting),
        };
    }
    out
}

/// `auto` against the best fixed setting of one pool.
pub fn verdict(trials: &[Trial]) -> Check {
    let target = format!(
        "auto >= {:.0} % of the best fixed products/s, <= {:.0} % refused, no failed run",
        SHARE_OF_BEST * 100.0,
        MOST_REFUSED * 100.0
    );
    let best = trials
        .iter()
        .filter(|t| t.setting != "auto")
        .filter_map(|t| Some((t.setting.as_str(), t.outcome.as_ref().ok()?.rate())))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    let auto = trials.iter().find(|t| t.setting == "auto");
    let (pass, detail) = match (auto.map(|t| &t.outcome), best) {
        (None, _) => (None, "auto was not run".to_owned()),
        (Some(Err(why)), _) => (Some(false), format!("auto's run failed: {why}")),
        (Some(Ok(_)), None) => (None, "no fixed setting ran to compare with".to_owned()),
        (Some(Ok(auto)), Some((setting, best))) => {
            let share = auto.rate() / best;
            (
                Some(share >= SHARE_OF_BEST && auto.refused_share() <= MOST_REFUSED),
                format!(
                    "auto {:.0} products/s = {:.0} % of concurrency {setting}'s {best:.0}; \
                     {:.2} % refused; peak {} in flight",
                    auto.rate(),
                    share * 100.0,
                    auto.refused_share() * 100.0,
                    auto.peak_in_flight
                ),
            )
        }
    };
    Check {
        target,
        pass,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ran(setting: &str, wall: f64, refused: u64) -> Trial {
        Trial {
            setting: setting.into(),
            outcome: Ok(Ran {
                wall,
                products: 1000,
                served: 100,
                refused,
                peak_in_flight: 4,
            }),
        }
    }

    #[test]
    fn auto_is_held_to_the_best_fixed_setting() {
        let trials = [ran("1", 10.0, 0), ran("8", 2.0, 0), ran("auto", 2.2, 1)];
        let check = verdict(&trials);
        assert_eq!(check.pass, Some(true), "{}", check.render());
        assert!(
            check.detail.contains("= 91 % of concurrency 8's 500"),
            "{}",
            check.detail
        );
        let slow = [ran("8", 2.0, 0), ran("auto", 2.5, 0)];
        assert_eq!(verdict(&slow).pass, Some(false));
        let refusing = [ran("8", 2.0, 0), ran("auto", 2.0, 5)];
        assert_eq!(verdict(&refusing).pass, Some(false));
    }

    #[test]
    fn a_failed_run_is_a_row_and_a_miss_for_auto() {
        let failed = Trial {
            setting: "auto".into(),
            outcome: Err("run import-products: failed".into()),
        };
        let trials = [ran("4", 2.0, 0), failed];
        assert_eq!(verdict(&trials).pass, Some(false));
        assert!(render(&trials).contains("| auto | run failed: run import-products: failed |"));
    }
}
