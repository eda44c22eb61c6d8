//! The soak's host upgrade (`--upgrade-from REV --upgrade-day D`): the run
//! starts on an earlier revision's `plugin-host` and plugin library (its
//! CLI sets the installation up, its `serve` runs the first days), and at
//! the start of simulated day D the driver upgrades the host as a package
//! upgrade does: `serve` stopped with SIGTERM and waited for, the host
//! binary and the plugin library replaced by the current ones, `serve`
//! started again on the same data dir. The new host migrates the database;
//! then its schema version must be this build's, no run may be left
//! running, and the day's checks go on as on any other day (nothing lost
//! or doubled across the upgrade).
//!
//! Until the upgrade the driver's warehouse opens the database without
//! migrating it ([`intellitrack_db::Db::open_unmigrated`]), so the upgraded
//! host finds the file at the schema its predecessor left.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::bail;
use intellitrack_db::Db;
use jiff::Timestamp;

use super::checks;
use super::world::World;
use crate::binaries::{Binaries, Profile};
use crate::previous::{self, Previous};
use crate::transcript::outln;

/// How long the old `serve` may take to end after SIGTERM.
const STOP_LIMIT: Duration = Duration::from_secs(120);

/// The simulated day (1-based) `--upgrade-day` leaves to the run: the
/// middle of it, so about as many days run on each side.
pub fn default_day(days: u32) -> u32 {
    days / 2 + 1
}

/// Where a run stands with its upgrade.
pub struct Upgrade {
    previous: Previous,
    /// The simulated day (0-based) it happens at the start of.
    day: u32,
    /// The current `plugin-host` and plugin library (the run's copies).
    host: PathBuf,
    plugin: PathBuf,
    done: bool,
}

impl Upgrade {
    /// The upgrade from `rev` at the start of simulated day `day`
    /// (1-based, from the second; past the run's last day the whole run
    /// stays on the previous binaries), to `current`; builds the
    /// revision's binaries unless built before.
    pub fn prepare(
        rev: &str,
        day: u32,
        profile: Profile,
        current: &Binaries,
    ) -> anyhow::Result<Self> {
        if day < 2 {
            bail!(
                "--upgrade-day {day}: the upgrade needs a day on the previous binaries before it"
            );
        }
        let previous = previous::prepare(rev, profile, current)?;
        Ok(Self {
            previous,
            day: day - 1,
            host: current.host.clone(),
            plugin: current.plugin.clone(),
            done: false,
        })
    }

    /// The binaries the run starts on: the previous revision's host and
    /// plugin library.
    pub fn start_binaries(&self) -> &Binaries {
        &self.previous.binaries
    }

    /// For the header: where the previous binaries come from, and when the
    /// upgrade is.
    pub fn describe(&self, days: u32) -> String {
        let when = if self.day < days {
            format!("at the start of day {}", self.day + 1)
        } else {
            "never in this run (--upgrade-day past its end)".to_owned()
        };
        format!(
            "upgrade: the run starts on {} ({}), upgraded to the binaries above {when}",
            self.previous.rev, self.previous.binaries.provenance
        )
    }

    /// The warehouse database the driver works through: as the previous
    /// host left it until the upgrade, migrated by the current one after.
    pub fn open_warehouse(&self, path: &std::path::Path) -> anyhow::Result<Db> {
        Ok(if self.done {
            Db::open(path)?
        } else {
            Db::open_unmigrated(path)?
        })
    }

    /// At the start of simulated day `day` (0-based), the clock standing
    /// at `at`: the upgrade, if this is its day. Prints what it did.
    pub fn at_day_start(
        &mut self,
        world: &mut World,
        day: u32,
        at: Timestamp,
    ) -> anyhow::Result<()> {
        if self.done || day != self.day {
            return Ok(());
        }
        let schema_before = schema_version(world)?;
        let stopping = Instant::now();
        let status = world.terminate_serve(STOP_LIMIT)?;
        let stopped_s = stopping.elapsed().as_secs_f64();
        if !status.success() {
            bail!(
                "upgrade: the old serve ended {status} on SIGTERM, not cleanly\n{}",
                world.log_tail()
            );
        }
        world.install.replace_binaries(&self.host, &self.plugin)?;
        let starting = Instant::now();
        world.start_serve_settled(at)?;
        let up_s = starting.elapsed().as_secs_f64();
        self.done = true;
        let schema_after = schema_version(world)?;
        outln!(
            "upgrade at the start of day {}: serve of {}{} (schema {schema_before}) ended on \
             SIGTERM in {stopped_s:.2} s; plugin-host and the plugin library replaced; the new \
             serve migrated the database to schema {schema_after} and settled in {up_s:.2} s",
            day + 1,
            self.previous.commit,
            if self.previous.grafted {
                " (stepped clock grafted)"
            } else {
                ""
            },
        );
        let mut broken = Vec::new();
        if schema_after != intellitrack_db::SCHEMA_VERSION {
            broken.push(format!(
                "after the upgrade the database is at schema {schema_after}, not {}",
                intellitrack_db::SCHEMA_VERSION
            ));
        }
        broken.extend(checks::runs_and_parked(&checks::open(
            &world.install.db_path(),
        )?)?);
        if !broken.is_empty() {
            bail!("upgrade: {}", broken.join("\n"));
        }
        Ok(())
    }
}

/// The warehouse database's schema version (`PRAGMA user_version`).
fn schema_version(world: &World) -> anyhow::Result<i64> {
    Ok(checks::open(&world.install.db_path())?
        .pragma_query_value(None, "user_version", |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_day_is_the_middle_of_the_run() {
        assert_eq!(default_day(2), 2);
        assert_eq!(default_day(12), 7);
        assert_eq!(default_day(365), 183);
    }
}
