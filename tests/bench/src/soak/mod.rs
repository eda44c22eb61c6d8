//! `bench soak`: a simulated stretch of time, a seeded driver, the
//! invariants checked every day (a deterministic simulation in the manner
//! of FoundationDB's and TigerBeetle's).
//!
//! Two `woo-sandbox` stores (one generated catalogue, so they share every
//! SKU) and `plugin-host serve` with an instance of the WooCommerce plugin
//! for each, on a Sync Interval of two hours inside 07:00-20:00 and End of
//! Day at 21:00, Europe/Berlin ([`world`]). Time moves an hour a step on
//! a stepped clock: both stores' clocks and the host's are set, `serve`
//! runs what fell due and says so, then the seeded driver acts for the
//! hour ([`actions`]). Faults ride on a few hours of some days (5xx, 429,
//! dropped connections, answers lost after the write landed, 5xx after the
//! write), a store has an outage of five hours about once a month, and every simulated
//! week `serve` is killed with SIGKILL while its runs are going and
//! started again. The driver's own requests go out while no fault is set.
//! With `--upgrade-from REV` the run starts on that revision's host and
//! plugin and upgrades them once ([`upgrade`]).
//!
//! The invariants ([`checks`]) are checked after each day's first sync,
//! after each End of Day and at the end of each day; the first break stops the run with the seed and
//! the day to replay it. Each day prints `serve`'s RSS, the database's
//! size, the rows per table and the store requests ([`figures`]); `--plot`
//! draws them.
//!
//! What a seed fixes: every decision of the driver (orders, products,
//! warehouse work, fault windows, the kills' hours). What it does not: how
//! `serve`'s concurrent requests interleave, hence which of them a fault
//! rate strikes, and the real milliseconds a kill lands into a run.

mod actions;
mod checks;
mod figures;
mod upgrade;
mod world;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::binaries;
use crate::machine;
use crate::sandbox::StoreSpec;
use crate::transcript::outln;
use actions::{Done, Shop, Streams};
use figures::{Day, Target};
use upgrade::Upgrade;
use world::{INSTANCES, TIME_RANGE, World, ZONE};

#[derive(clap::Args)]
pub struct SoakArgs {
    /// Simulated days.
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// The driver's seed: the same seed makes the same decisions.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The first simulated instant (UTC); the default puts the spring's
    /// summer time change into the first 30 days.
    #[arg(long, default_value = "2027-03-15T00:00:00Z")]
    start: Timestamp,
    /// End of Day of the first store and of the second (local time, whole
    /// hours). The same time for both is the hardest case: each store's
    /// End of Day imports orders of items the other sells while the other
    /// sends its counts (docs/soak.md).
    #[arg(long, value_delimiter = ',', default_value = "21:00,21:00")]
    end_of_day: Vec<jiff::civil::Time>,
    /// Top-level products in each store's generated catalogue.
    #[arg(long, default_value_t = 150)]
    products: u64,
    /// Days of run history the host keeps (its retention setting's
    /// default): RSS and database size are held flat after this many days.
    #[arg(long, default_value_t = 90)]
    retention_days: u32,
    /// Write the curves as SVG to this file (e.g. docs/soak.svg).
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
    /// Use the release binaries as they are instead of building them.
    #[arg(long)]
    no_build: bool,
    /// Drive the debug binaries (`target/debug`, as `cargo test` built
    /// them) instead of release ones: a check of the invariants without
    /// a release build (CI); its times are not the benchmark's.
    #[arg(long)]
    debug_binaries: bool,
    /// Start on this git revision's `plugin-host` and plugin library
    /// (built once into the target dir's `soak-previous/`, same profile)
    /// and upgrade the host to the current binaries once (docs/soak.md).
    #[arg(long, value_name = "REV")]
    upgrade_from: Option<String>,
    /// The simulated day at whose start the host is upgraded [default:
    /// the middle of the run, `--days` / 2 + 1].
    #[arg(long, value_name = "D", requires = "upgrade_from")]
    upgrade_day: Option<u32>,
}

/// The driver's state between hours.
struct Driver {
    rng: ChaCha8Rng,
    /// The streams of the decisions added since (variations, refunds).
    streams: Streams,
    shops: [Shop; 2],
    next_sku: u64,
    /// Per instance, the highest change-feed event checked as delivered.
    delivered: [i64; 2],
    upgrade: Option<Upgrade>,
}

pub fn run(args: &SoakArgs) -> anyhow::Result<()> {
    let profile = if args.debug_binaries {
        binaries::Profile::Debug
    } else {
        binaries::Profile::Release
    };
    let binaries = binaries::prepare_profile(!args.no_build, profile)?;
    let upgrade = match &args.upgrade_from {
        Some(rev) => Some(Upgrade::prepare(
            rev,
            upgrade_day(args),
            profile,
            &binaries,
        )?),
        None => None,
    };
    let spec = StoreSpec {
        products: args.products,
        variable: args.products / 10,
        variations: 3,
        orders: 40,
        random_seed: 7,
    };
    let zone = TimeZone::get(ZONE)?;
    let end_of_day: [jiff::civil::Time; 2] = args.end_of_day.clone().try_into().map_err(|_| {
        anyhow::anyhow!("--end-of-day takes two times, the first store's and the second's")
    })?;
    outln!("machine: {}", machine::describe());
    outln!("binaries: {}", binaries.provenance);
    if let Some(upgrade) = &upgrade {
        outln!("{}", upgrade.describe(args.days));
    }
    outln!(
        "soak: --days {} --seed {} from {} ({ZONE}); two stores of {} products ({} variable) \
         sharing SKUs; Sync Interval {} min in {TIME_RANGE}, End of Day {} and {}",
        args.days,
        args.seed,
        args.start,
        spec.products,
        spec.variable,
        world::INTERVAL_MINUTES,
        end_of_day[0],
        end_of_day[1],
    );
    let wall = Instant::now();
    let start_binaries = upgrade.as_ref().map_or(&binaries, Upgrade::start_binaries);
    let mut world = World::start(start_binaries, &spec, args.start, &end_of_day)?;
    let rng = ChaCha8Rng::seed_from_u64(args.seed);
    let shops = [Shop::read(&world.stores[0])?, Shop::read(&world.stores[1])?];
    let mut driver = Driver {
        rng,
        streams: Streams::new(args.seed),
        shops,
        next_sku: 0,
        delivered: [0, 0],
        upgrade,
    };
    world.take_requests()?;
    outln!(
        "\n{:>4} {:>10} {:>6} {:>7} {:>7} {:>7} {:>7} {:>8} {:>6} {}  (orders/part refunds/picks/shipments that day)",
        "day",
        "date",
        "RSS",
        "plugins",
        "db MiB",
        "host's",
        "whouse",
        "requests",
        "wall",
        checks::TABLES.join(" ")
    );
    let mut days = Vec::new();
    for day in 0..args.days {
        let started = Instant::now();
        let done = match simulate_day(&mut world, &mut driver, args, day, &zone, &end_of_day) {
            Ok(done) => done,
            Err(e) => {
                outln!("MISS  zero invariant breaks: {e:#}");
                outln!("{}", world.keep_files());
                return Err(e.context(replay(args, day)));
            }
        };
        let requests = world.take_requests()?;
        let broken = daily_checks(&world, &mut driver, args, day, &zone)?;
        world.take_requests()?;
        if !broken.is_empty() {
            outln!("MISS  zero invariant breaks: {}", broken.join("\n      "));
            outln!("{}", world.keep_files());
            bail!("{}: {}", replay(args, day), broken.join("; "));
        }
        let conn = checks::open(&world.install.db_path())?;
        let (host, warehouse) = checks::bytes_by_owner(&conn)?;
        let figures = Day {
            day: day + 1,
            rss_mib: world.serve_rss_kib().unwrap_or(0) as f64 / 1024.0,
            plugins_rss_mib: world.plugins_rss_kib().unwrap_or(0) as f64 / 1024.0,
            db_mib: mib(world.db_bytes()),
            host_mib: mib(host),
            warehouse_mib: mib(warehouse),
            requests,
            rows: checks::rows(&conn)?,
            wall_s: started.elapsed().as_secs_f64(),
        };
        outln!(
            "{:>4} {:>10} {:>6.1} {:>7.1} {:>7.2} {:>7.2} {:>7.2} {:>8} {:>5.1}s {}  ({}/{}/{}/{})",
            figures.day,
            args.start.to_zoned_datetime(zone.clone()).date() + i64::from(day).days(),
            figures.rss_mib,
            figures.plugins_rss_mib,
            figures.db_mib,
            figures.host_mib,
            figures.warehouse_mib,
            figures.requests,
            figures.wall_s,
            figures
                .rows
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" "),
            done.orders,
            done.refunds,
            done.picks,
            done.shipments
        );
        days.push(figures);
        // Drawn every day, so a run stopped early leaves its curves so far.
        if let Some(plot) = &args.plot {
            draw(plot, args, &days)?;
        }
    }
    let final_breaks = final_checks(&world, &mut driver)?;
    let wall_s = wall.elapsed().as_secs_f64();
    let targets = [
        figures::flat_after(&days, args.retention_days, "serve RSS (MiB)", |d| d.rss_mib),
        figures::flat_after(
            &days,
            args.retention_days,
            "its plugin processes' RSS (MiB)",
            |d| d.plugins_rss_mib,
        ),
        figures::flat_after(
            &days,
            args.retention_days,
            "the host's records in the database (MiB)",
            |d| d.host_mib,
        ),
        Target {
            pass: Some(final_breaks.is_empty()),
            text: format!(
                "zero invariant breaks over {} simulated days{}",
                args.days,
                if final_breaks.is_empty() {
                    String::new()
                } else {
                    format!(": {}", final_breaks.join("; "))
                }
            ),
        },
        Target {
            // Debug binaries check the invariants; their time is no figure.
            pass: (!args.debug_binaries).then_some(wall_s <= 3600.0 * f64::from(args.days) / 365.0),
            text: format!(
                "wall {:.1} min for {} days: a year in under an hour (at this pace a year takes {:.0} min{})",
                wall_s / 60.0,
                args.days,
                wall_s / 60.0 * 365.0 / f64::from(args.days.max(1)),
                if args.debug_binaries {
                    "; debug binaries: judged only on release ones"
                } else {
                    ""
                }
            ),
        },
    ];
    outln!();
    for target in &targets {
        outln!("{}", target.render());
    }
    if let Some(plot) = &args.plot {
        outln!("plot: {}", plot.display());
    }
    if !final_breaks.is_empty() {
        bail!("{}", replay(args, args.days));
    }
    Ok(())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Writes the curves of `days` as SVG to `plot`.
fn draw(plot: &std::path::Path, args: &SoakArgs, days: &[Day]) -> anyhow::Result<()> {
    let title = format!(
        "bench soak --days {} --seed {}: RSS, database, store requests, rows per table",
        args.days, args.seed
    );
    std::fs::write(plot, figures::svg(days, &checks::TABLES, &title))
        .with_context(|| format!("cannot write {}", plot.display()))
}

/// How to run this seed again up to `day`.
fn replay(args: &SoakArgs, day: u32) -> String {
    let upgrade = args.upgrade_from.as_ref().map_or_else(String::new, |rev| {
        format!(" --upgrade-from {rev} --upgrade-day {}", upgrade_day(args))
    });
    format!(
        "seed {} broke on simulated day {} (replay: cargo run --release -p bench -- soak --seed {} --days {}{upgrade})",
        args.seed,
        day + 1,
        args.seed,
        day + 1
    )
}

/// The day of the upgrade (1-based), given or the default.
fn upgrade_day(args: &SoakArgs) -> u32 {
    args.upgrade_day
        .unwrap_or_else(|| upgrade::default_day(args.days))
}

/// The fault rules of a faulty hour: a little of everything a real store
/// and its network do wrong.
fn flaky() -> Value {
    json!([{
        "error_rate": 0.02,
        "rate_limit_rate": 0.01,
        "retry_after_secs": 1,
        "drop_rate": 0.01,
        "lost_response_rate": 0.02,
        "error_after_write_rate": 0.02
    }])
}

/// Every request answered 503: the store is down.
fn down() -> Value {
    json!([{"error_rate": 1.0, "error_status": 503}])
}

/// The 24 hours of simulated day `day`, then End of Day's checks when it
/// fell in them.
fn simulate_day(
    world: &mut World,
    driver: &mut Driver,
    args: &SoakArgs,
    day: u32,
    zone: &TimeZone,
    end_of_day: &[jiff::civil::Time; 2],
) -> anyhow::Result<Done> {
    let mut done = Done::default();
    let db = match &mut driver.upgrade {
        Some(upgrade) => {
            let at = args.start + (i64::from(day) * 24 - 1).hours();
            upgrade.at_day_start(world, day, at)?;
            upgrade.open_warehouse(&world.install.db_path())?
        }
        None => intellitrack_db::Db::open(&world.install.db_path())?,
    };
    // Faults on two or three hours of a day in three, never on the day of
    // the weekly kill (an activation the faults refuse waits a real minute).
    let kill_day = day % 7 == 3;
    let faulty = !kill_day && driver.rng.random_bool(0.3);
    let fault_from = driver.rng.random_range(8..=14);
    let fault_hours = fault_from..fault_from + driver.rng.random_range(2..=3);
    let kill_hour = driver.rng.random_range(7..20);
    // A store down for five hours, once a month or so.
    let outage = (!kill_day && driver.rng.random_bool(1.0 / 30.0))
        .then(|| driver.rng.random_range(0..world.stores.len()));
    let first_sync = TIME_RANGE
        .split('-')
        .next()
        .unwrap_or_default()
        .parse::<jiff::civil::Time>()?;
    let kill_after = Duration::from_millis(driver.rng.random_range(0..400));
    for hour in 0..24 {
        let at = args.start + (i64::from(day) * 24 + hour).hours();
        let local = at.to_zoned_datetime(zone.clone());
        let local_hour = local.hour();
        let down_now = (9..14).contains(&local_hour);
        for (i, store) in world.stores.iter().enumerate() {
            if down_now && outage == Some(i) {
                store.set_faults(&down())?;
            } else if faulty && fault_hours.contains(&local_hour) {
                store.set_faults(&flaky())?;
            }
        }
        if kill_day && local_hour == kill_hour {
            world.kill_serve_during(at, kill_after)?;
        } else {
            world.step(at)?;
        }
        for store in &world.stores {
            store.set_faults(&json!([]))?;
        }
        let mut broken = Vec::new();
        for (instance, _) in INSTANCES
            .iter()
            .zip(end_of_day)
            .filter(|(_, t)| **t == local.time())
        {
            broken.extend(after_end_of_day(world, instance)?);
        }
        if local.time() == first_sync {
            broken.extend(after_first_sync(world)?);
        }
        if !broken.is_empty() {
            bail!("{}", broken.join("\n"));
        }
        let [a, b] = &mut driver.shops;
        let [store_a, store_b] = &world.stores;
        actions::store_hour(
            &mut driver.rng,
            &mut driver.streams,
            store_a,
            a,
            Some((store_b, b)),
            &mut driver.next_sku,
            local_hour,
            &mut done,
        )?;
        actions::store_hour(
            &mut driver.rng,
            &mut driver.streams,
            store_b,
            b,
            None,
            &mut driver.next_sku,
            local_hour,
            &mut done,
        )?;
        actions::warehouse_hour(&mut driver.rng, &db, at, local_hour, &mut done)?;
    }
    Ok(done)
}

/// Right after an instance's End of Day: its store's counts are the stock
/// truth.
fn after_end_of_day(world: &World, instance: &str) -> anyhow::Result<Vec<String>> {
    Ok(checks::stock_truth(
        instance,
        &world.end_of_day_dry_run(instance)?,
    ))
}

/// Right after the day's first sync (every order of the night imported):
/// every order in the import statuses is in the warehouse.
fn after_first_sync(world: &World) -> anyhow::Result<Vec<String>> {
    let conn = checks::open(&world.install.db_path())?;
    let mut broken = Vec::new();
    for (instance, store) in INSTANCES.iter().zip(&world.stores) {
        broken.extend(checks::orders_imported(&conn, store, instance)?);
    }
    Ok(broken)
}

/// At the end of a simulated day: runs and parked events, deliveries, and
/// the schedule of the local day that ended (the first from the second
/// simulated day on: the first day starts mid-way through a local day).
fn daily_checks(
    world: &World,
    driver: &mut Driver,
    args: &SoakArgs,
    day: u32,
    zone: &TimeZone,
) -> anyhow::Result<Vec<String>> {
    let conn = checks::open(&world.install.db_path())?;
    let mut broken = checks::runs_and_parked(&conn)?;
    broken.extend(checks::sold_items_active(&conn)?);
    for (i, (instance, store)) in INSTANCES.iter().zip(&world.stores).enumerate() {
        let (found, checked) = checks::deliveries(&conn, store, instance, driver.delivered[i])?;
        broken.extend(found);
        driver.delivered[i] = checked;
        if day > 0 {
            let end = args.start + (i64::from(day + 1) * 24).hours();
            let date = (end - 3.hours()).to_zoned_datetime(zone.clone()).date();
            broken.extend(checks::schedule_kept(
                &conn, instance, date, zone, TIME_RANGE,
            )?);
        }
    }
    Ok(broken)
}

/// At the end: every delivery of the whole run checked again from the
/// first event.
fn final_checks(world: &World, driver: &mut Driver) -> anyhow::Result<Vec<String>> {
    let conn = checks::open(&world.install.db_path())?;
    let mut broken = checks::runs_and_parked(&conn)?;
    broken.extend(checks::sold_items_active(&conn)?);
    for (i, (instance, store)) in INSTANCES.iter().zip(&world.stores).enumerate() {
        broken.extend(checks::deliveries(&conn, store, instance, 0)?.0);
        driver.delivered[i] = 0;
    }
    Ok(broken)
}
