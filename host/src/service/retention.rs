//! How long the host keeps what grows: the retention settings (host-wide),
//! the cutoffs they give at a time, and the prune that `serve` runs once a
//! day and `plugin-host prune` runs by hand.
//!
//! A run's row (outcome, counts, summary) and its issue list have a time
//! each: issues may go sooner than the run, never later (a run's issues go
//! with it). Acknowledged change-feed events go after their own time, and
//! only as far as every reader of the feed has acknowledged
//! ([`intellitrack_db::FeedHorizon`]); parked events never. The rules of
//! the settings and of when a prune is due are pure; the rest is the
//! database's ([`intellitrack_db::Db::prune`]).

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use intellitrack_db::{Db, PruneCutoffs, PruneReport};
use serde::{Deserialize, Serialize};

use crate::service::schedule_store::SITE;
use crate::services::HostCore;

/// The host setting holding the [`RetentionSettings`].
const RETENTION: &str = "host.retention";
/// The host setting holding when the last prune (not a dry run) ran.
const LAST_PRUNE: &str = "host.retention.last_prune";
const DAY_MS: i64 = 86_400_000;
/// The longest time a setting may say: 100 years.
const MAX_DAYS: u32 = 36_500;
/// How long the service waits before trying a failed daily prune again.
const RETRY_FAILED: Duration = Duration::from_secs(3600);

/// How long each kind of record is kept, in days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetentionSettings {
    /// A run's row: outcome, counts, summary, tables.
    pub runs_days: u32,
    /// A run's issue list (never longer than the run).
    pub run_issues_days: u32,
    /// A change-feed event every reader has acknowledged and none parked.
    pub feed_days: u32,
    /// A line of the audit log.
    pub audit_days: u32,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self {
            runs_days: 90,
            run_issues_days: 90,
            feed_days: 30,
            audit_days: 365,
        }
    }
}

/// Each setting's name, and what it keeps.
pub const SETTINGS: [(&str, &str); 4] = [
    ("runs_days", "Run history: a run's outcome and counts"),
    ("run_issues_days", "Run issues: a run's issue list"),
    (
        "feed_days",
        "Change-feed events every reader has acknowledged",
    ),
    ("audit_days", "Audit log"),
];

impl RetentionSettings {
    /// The value of the setting `name`.
    pub fn get(&self, name: &str) -> Option<u32> {
        Some(match name {
            "runs_days" => self.runs_days,
            "run_issues_days" => self.run_issues_days,
            "feed_days" => self.feed_days,
            "audit_days" => self.audit_days,
            _ => return None,
        })
    }

    fn slot(&mut self, name: &str) -> Option<&mut u32> {
        Some(match name {
            "runs_days" => &mut self.runs_days,
            "run_issues_days" => &mut self.run_issues_days,
            "feed_days" => &mut self.feed_days,
            "audit_days" => &mut self.audit_days,
            _ => return None,
        })
    }

    /// These settings with `changes` (setting name, value as typed)
    /// applied, or every refusal (`name: why`): all or nothing.
    pub fn with(&self, changes: &[(String, String)]) -> Result<Self, Vec<String>> {
        let mut next = *self;
        let mut refused = Vec::new();
        for (name, value) in changes {
            let Some(slot) = next.slot(name) else {
                let known: Vec<&str> = SETTINGS.iter().map(|(n, _)| *n).collect();
                refused.push(format!(
                    "{name}: not a retention setting (they are {})",
                    known.join(", ")
                ));
                continue;
            };
            match value.trim().parse::<u32>() {
                Ok(days) if (1..=MAX_DAYS).contains(&days) => *slot = days,
                _ => refused.push(format!(
                    "{name}: {value:?} is not a number of days from 1 to {MAX_DAYS}"
                )),
            }
        }
        if refused.is_empty() && next.run_issues_days > next.runs_days {
            refused.push(format!(
                "run_issues_days: {} is longer than runs_days ({}); a run's issues go with the run at the latest",
                next.run_issues_days, next.runs_days
            ));
        }
        if refused.is_empty() {
            Ok(next)
        } else {
            Err(refused)
        }
    }

    /// The times before which things go, at `now_ms`.
    pub fn cutoffs(&self, now_ms: i64) -> PruneCutoffs {
        let before = |days: u32| now_ms - i64::from(days) * DAY_MS;
        PruneCutoffs {
            runs_ended_before_ms: before(self.runs_days),
            run_issues_ended_before_ms: before(self.run_issues_days),
            feed_before_ms: before(self.feed_days),
            audit_before_ms: before(self.audit_days),
        }
    }
}

impl std::fmt::Display for RetentionSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "runs_days={} run_issues_days={} feed_days={} audit_days={}",
            self.runs_days, self.run_issues_days, self.feed_days, self.audit_days
        )
    }
}

/// `KEY=VALUE` assignments as (setting name, value), or the first one
/// without `=`.
pub fn assignments(raw: &[String]) -> Result<Vec<(String, String)>, String> {
    raw.iter()
        .map(|a| {
            a.split_once('=')
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                .ok_or_else(|| format!("{a:?}: write KEY=VALUE, e.g. runs_days=120"))
        })
        .collect()
}

/// The stored settings; the defaults where none were chosen.
pub fn load(db: &Db) -> anyhow::Result<RetentionSettings> {
    Ok(stored(db, RETENTION)?
        .map(serde_json::from_value)
        .transpose()
        .context("the stored retention settings are unreadable")?
        .unwrap_or_default())
}

pub fn put(db: &Db, settings: &RetentionSettings) -> anyhow::Result<()> {
    db.put_host_setting(SITE, RETENTION, &serde_json::to_value(settings)?)?;
    Ok(())
}

fn stored(db: &Db, key: &str) -> anyhow::Result<Option<serde_json::Value>> {
    Ok(db
        .host_settings(SITE)?
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v))
}

/// Whether a daily prune is due: never run, or a day since the last.
pub fn prune_due(last_ms: Option<i64>, now_ms: i64) -> bool {
    last_ms.is_none_or(|last| now_ms - last >= DAY_MS)
}

/// Prunes by the stored settings at the host's time (with `dry_run`,
/// only counts), and notes when a real prune ran.
pub fn prune(core: &HostCore, dry_run: bool) -> anyhow::Result<(RetentionSettings, PruneReport)> {
    let settings = load(&core.db)?;
    let now = core.clock.now_ms();
    let report = core.db.prune(&settings.cutoffs(now), dry_run)?;
    if !dry_run {
        core.db
            .put_host_setting(SITE, LAST_PRUNE, &serde_json::json!(now))?;
    }
    Ok((settings, report))
}

/// The daily prune inside `serve`, on its own thread so the service's
/// loop (activations, the scheduler) never waits for it.
#[derive(Default)]
pub struct DailyPrune {
    /// The prune going on; it answers whether it succeeded.
    running: Option<JoinHandle<bool>>,
    /// When the last one failed (tried again an hour later, not every poll).
    failed_at: Option<Instant>,
}

impl DailyPrune {
    /// Starts a prune when one is due and none is going on.
    pub fn tick(&mut self, core: &Arc<HostCore>) -> anyhow::Result<()> {
        if self.running.as_ref().is_some_and(|r| !r.is_finished()) {
            return Ok(());
        }
        if let Some(done) = self.running.take()
            && !done.join().unwrap_or(false)
        {
            self.failed_at = Some(Instant::now());
        }
        if self.failed_at.is_some_and(|at| at.elapsed() < RETRY_FAILED) {
            return Ok(());
        }
        let last = stored(&core.db, LAST_PRUNE)?.and_then(|v| v.as_i64());
        if !prune_due(last, core.clock.now_ms()) {
            return Ok(());
        }
        let core = core.clone();
        self.running = Some(
            std::thread::Builder::new()
                .name("prune".into())
                .spawn(move || match prune(&core, false) {
                    Ok((_, report)) => {
                        tracing::info!(
                            rows = report.rows(),
                            pages_freed = report.pages_freed,
                            "pruned by the retention settings: {}; change feed: {}",
                            report
                                .tables
                                .iter()
                                .map(|t| format!("{} {}", t.table, t.rows))
                                .collect::<Vec<_>>()
                                .join(", "),
                            report.feed_horizon
                        );
                        true
                    }
                    Err(e) => {
                        tracing::error!("the daily prune failed (tried again in an hour): {e:#}");
                        false
                    }
                })?,
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn settings_change_all_or_nothing_with_every_reason() {
        let defaults = RetentionSettings::default();
        let next = defaults
            .with(&change(&[("runs_days", "120"), ("audit_days", " 400 ")]))
            .unwrap();
        assert_eq!(
            (next.runs_days, next.audit_days, next.feed_days),
            (120, 400, 30)
        );
        let refused = defaults
            .with(&change(&[
                ("runs_days", "0"),
                ("feed_days", "soon"),
                ("keep", "1"),
            ]))
            .unwrap_err();
        assert_eq!(refused.len(), 3, "{refused:?}");
        assert!(refused[0].starts_with("runs_days: \"0\" is not a number of days"));
        assert!(refused[2].contains("not a retention setting"));
        let longer = defaults
            .with(&change(&[("run_issues_days", "91")]))
            .unwrap_err();
        assert!(
            longer[0].contains("longer than runs_days (90)"),
            "{longer:?}"
        );
        assert_eq!(
            assignments(&["runs_days".into()]).unwrap_err(),
            "\"runs_days\": write KEY=VALUE, e.g. runs_days=120"
        );
    }

    #[test]
    fn cutoffs_are_whole_days_before_now_and_a_prune_is_due_daily() {
        let now = 1_000 * DAY_MS;
        let cut = RetentionSettings::default().cutoffs(now);
        assert_eq!(cut.runs_ended_before_ms, 910 * DAY_MS);
        assert_eq!(cut.feed_before_ms, 970 * DAY_MS);
        assert_eq!(cut.audit_before_ms, 635 * DAY_MS);
        assert!(prune_due(None, now));
        assert!(!prune_due(Some(now - DAY_MS + 1), now));
        assert!(prune_due(Some(now - DAY_MS), now));
    }
}
