//! Picks and shipments made in IntelliTrack for the export to send, through
//! the database crate the host itself uses (the same transactions and
//! change-feed events as `plugin-host pick` / `ship`, without a process
//! per transaction), in a child process of its own (this program run as
//! `bench make-fulfilment`): the database's memory must not count into
//! the peak RSS of the runs spawned after it. Run while no host process is
//! running.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use intellitrack_db::{Db, DbError, ShipRequest};
use plugin_api::warehouse::OrderStatus;
use serde::{Deserialize, Serialize};

const USER: &str = "bench";
/// Received when a pick finds too little on hand.
const TOP_UP: i64 = 100;

/// The child's arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct MakeArgs {
    /// The installation's database.
    #[arg(long)]
    pub db: PathBuf,
    #[arg(long)]
    pub picks: u64,
    #[arg(long)]
    pub shipments: u64,
}

/// What was made, and how long it took (the child prints it as JSON).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Made {
    pub picks: u64,
    pub shipments: u64,
    /// Orders picked from (the export coalesces each one's events).
    pub orders: u64,
    pub secs: f64,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Runs `bench make-fulfilment` as a child and reads what it made.
pub fn make_in_child(db: &Path, picks: u64, shipments: u64) -> anyhow::Result<Made> {
    let mut command = Command::new(std::env::current_exe()?);
    command
        .arg("make-fulfilment")
        .arg("--db")
        .arg(db)
        .args(["--picks", &picks.to_string()])
        .args(["--shipments", &shipments.to_string()]);
    let done = crate::process::run(command)?.require_success("making picks and shipments")?;
    serde_json::from_str(done.stdout.trim()).context("make-fulfilment printed no figures")
}

/// The child: make them, print what was made.
pub fn child_main(args: &MakeArgs) -> anyhow::Result<()> {
    let made = make(&args.db, args.picks, args.shipments)?;
    println!("{}", serde_json::to_string(&made)?);
    Ok(())
}

/// Up to `picks` picks of one unit each, line after line of the open
/// orders, then up to `shipments` shipments of one picked line each.
fn make(db_path: &Path, picks: u64, shipments: u64) -> anyhow::Result<Made> {
    let started = Instant::now();
    let db = Db::open(db_path).with_context(|| format!("open {}", db_path.display()))?;
    let orders = db.orders(Some(OrderStatus::Open))?;
    let mut picked_lines = Vec::new();
    let mut made = Made {
        picks: 0,
        shipments: 0,
        orders: 0,
        secs: 0.0,
    };
    'orders: for order in &orders {
        for line in order.lines.iter().filter(|l| !l.not_shipped) {
            let mut units = 0;
            for _ in line.picked..line.ordered {
                if made.picks == picks {
                    break;
                }
                pick_one(&db, &order.number, line.line, &line.item_number)?;
                made.picks += 1;
                units += 1;
            }
            if units > 0 {
                if picked_lines
                    .last()
                    .is_none_or(|(o, _, _)| *o != order.number.as_str())
                {
                    made.orders += 1;
                }
                picked_lines.push((order.number.as_str(), line.line, units));
            }
            if made.picks == picks {
                break 'orders;
            }
        }
    }
    for (n, (order, line, units)) in picked_lines.into_iter().enumerate() {
        if made.shipments == shipments {
            break;
        }
        let request = ShipRequest {
            carrier: "UPS".into(),
            service: "Ground".into(),
            tracking: format!("1ZBENCH{n:08}"),
            lines: vec![(line, units)],
        };
        db.ship(order, &request, USER, now_ms())
            .with_context(|| format!("ship order {order} line {line}"))?;
        made.shipments += 1;
    }
    made.secs = started.elapsed().as_secs_f64();
    Ok(made)
}

/// One unit of an order line, receiving stock first if too little is on hand.
fn pick_one(db: &Db, order: &str, line: i64, item: &str) -> anyhow::Result<()> {
    match db.pick(order, line, 1, None, USER, now_ms()) {
        Ok(_) => Ok(()),
        Err(DbError::Refused(_)) => {
            db.receive(item, TOP_UP, None, USER, now_ms())?;
            db.pick(order, line, 1, None, USER, now_ms())
                .with_context(|| format!("pick order {order} line {line}"))?;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}
