//! The overview, the page's landing page: per plugin instance whether its
//! store answered (from what the host already knows: the activation's
//! check and the last runs; the page never calls a store), each job's run
//! going on, last run and next scheduled run, the orders waiting to ship,
//! the change-feed events it has yet to read and those it parked, and End
//! of Day's last drift; below, a chart of the last 30 days of runs.

use std::collections::HashMap;

use axum::Extension;
use axum::response::{IntoResponse, Response};
use intellitrack_db::{Db, DbError, RunDay, RunRow};
use jiff::Timestamp;
use maud::{Markup, html};
use plugin_api::{JobSpec, ScheduleKind};
use sync_schedule::{ClockReading, Decision, Schedule};

use super::guard::Viewer;
use super::layout::{Failure, frame};
use super::plugins::state_name;
use super::run_chart::runs_chart;
use super::runs::{outcome_text, run_duration, run_href};
use super::{State, blocking};
use crate::cli::format_time;
use crate::host::{Host, PluginState};
use crate::plugins::loader::LoadedPlugin;
use crate::service::schedule_store::{self, PluginSchedule};
use crate::service::scheduler::job_kind;

/// The field of a plugin's state value that says how far it has read the
/// change feed (the WooCommerce export's `cursor`).
const CURSOR: &str = "cursor";
/// How many days the chart shows.
const CHART_DAYS: u32 = 30;
/// How many rows of End of Day's drift table the overview shows.
const DRIFT_ROWS: usize = 10;
const DAY_MS: i64 = 86_400_000;

/// One plugin instance as the overview shows it.
struct Instance {
    id: String,
    name: String,
    state: PluginState,
    /// What is known of whether its store answers, and whether that is good.
    store: (String, bool),
    jobs: Vec<JobLine>,
    orders_waiting: u64,
    /// `None`: it keeps no change-feed cursor (it has not read the feed).
    events_pending: Option<u64>,
    parked: u64,
    /// End of Day's last ended run, with its tables.
    end_of_day: Option<RunRow>,
}

struct JobLine {
    spec: JobSpec,
    running: Option<RunRow>,
    last: Option<RunRow>,
    next: String,
}

/// Everything the overview shows.
struct Overview {
    instances: Vec<Instance>,
    days: Vec<RunDay>,
    today: i64,
    zone: sync_schedule::SiteTimeZone,
}

pub async fn show(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
) -> Result<Response, Failure> {
    let host = page.host.clone();
    let overview = blocking(move || read(&host))
        .await?
        .map_err(Failure::from_db)?;
    let now_ms = page.host.core.clock.now_ms();
    let label = |day: i64| {
        Timestamp::from_second(day * DAY_MS / 1000)
            .map(|t| t.strftime("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    let body = html! {
        p class="checked" {
            "As the host knows it at " (format_time(now_ms))
            ": the store's answer is from the plugin's activation check and its last runs; this page does not call the stores."
        }
        @for instance in &overview.instances { (instance_section(instance, now_ms)) }
        @if overview.instances.is_empty() { p { "No plugin is loaded." } }
        h2 { "Runs of the last " (CHART_DAYS) " days" }
        p class="legend" {
            span class="key moved" { "■" } " records moved (created or updated) "
            span class="key failed" { "■" } " failures (runs failed, timed out or interrupted, and records failed), per day in "
            (overview.zone.name())
        }
        (runs_chart(&overview.days, overview.today, CHART_DAYS, label))
    };
    Ok(frame("Overview", Some(&viewer), body).into_response())
}

fn instance_section(i: &Instance, now_ms: i64) -> Markup {
    html! {
        section class="instance" id=(format!("instance-{}", i.id)) {
            h2 { (i.name) " " code { (i.id) } }
            table class="facts" {
                tbody {
                    tr { th { "State" } td class="state" { (state_name(i.state)) } }
                    tr { th { "Store" } td class=(if i.store.1 { "store ok" } else { "store bad" }) { (i.store.0) } }
                    tr { th { "Orders waiting to ship" } td class="orders-waiting" { a href="/orders" { (i.orders_waiting) } } }
                    tr { th { "Events pending" } td class="events-pending" {
                        @match i.events_pending { Some(n) => (n), None => "none read yet" }
                    } }
                    tr { th { "Events parked" } td class="events-parked" { a href="/parked" { (i.parked) } } }
                }
            }
            table class="jobs" {
                thead { tr { th { "Job" } th { "Last run" } th { "When" } th { "Took" } th { "Records" } th { "Next scheduled run" } } }
                tbody {
                    @for job in &i.jobs {
                        tr data-job=(job.spec.id) {
                            td { (job.spec.title) br; code { (job.spec.id) } }
                            td class="last-outcome" {
                                @if let Some(run) = &job.running {
                                    a class="running" href=(run_href(run.id)) { "running now (#" (run.id) ")" } br;
                                }
                                @match &job.last {
                                    Some(run) => { a href=(run_href(run.id)) { "#" (run.id) " " (outcome_text(run)) } }
                                    None => "never ran",
                                }
                            }
                            td { @if let Some(run) = &job.last { (format_time(run.started_ms)) } }
                            td { @if let Some(run) = &job.last { (run_duration(run, now_ms)) } }
                            td class="counts" { @if let Some(run) = &job.last {
                                (run.created) " created, " (run.updated) " updated, " (run.skipped) " skipped, " (run.failed) " failed"
                            } }
                            td class="next" { (job.next) }
                        }
                    }
                }
            }
            @if let Some(run) = &i.end_of_day { (drift(run)) }
        }
    }
}

/// End of Day's last run: its counts, summary and drift table (cut short).
fn drift(run: &RunRow) -> Markup {
    html! {
        div class="drift" {
            h3 { "End of Day's last drift" }
            p {
                a href=(run_href(run.id)) { "Run #" (run.id) } ", " (format_time(run.started_ms)) ": " (outcome_text(run))
                @if !run.summary.is_empty() { " — " (run.summary) }
            }
            @for t in &run.tables {
                table class="run-table" {
                    caption { (t.title) }
                    thead { tr { @for c in &t.columns { th { (c) } } } }
                    tbody { @for r in t.rows.iter().take(DRIFT_ROWS) { tr { @for cell in r { td { (cell) } } } } }
                }
                @if t.rows.len() > DRIFT_ROWS {
                    p { (t.rows.len() - DRIFT_ROWS) " more rows on " a href=(run_href(run.id)) { "the run's page" } "." }
                }
            }
        }
    }
}

fn read(host: &Host) -> anyhow::Result<Overview> {
    let db = &host.core.db;
    let now = host.core.clock.now();
    let zone = schedule_store::site_time_zone(db).unwrap_or_else(|e| {
        tracing::warn!("the overview uses UTC: {e:#}");
        sync_schedule::SiteTimeZone::utc()
    });
    let mut last: HashMap<(String, String), RunRow> = HashMap::new();
    for run in db.last_ended_runs()? {
        last.insert((run.plugin.clone(), run.job.clone()), run);
    }
    let mut running: HashMap<(String, String), RunRow> = HashMap::new();
    for run in db.running_runs()? {
        running.insert((run.plugin.clone(), run.job.clone()), run);
    }
    let mut instances = Vec::new();
    for plugin in &host.plugins.loaded {
        instances.push(instance(host, plugin, &mut last, &mut running, &zone, now)?);
    }
    let offset_ms = i64::from(zone.zone().to_offset(now).seconds()) * 1000;
    let today = (now.as_millisecond() + offset_ms).div_euclid(DAY_MS);
    let since_ms = (today - i64::from(CHART_DAYS) + 1) * DAY_MS - offset_ms;
    Ok(Overview {
        instances,
        days: db.run_days(since_ms, offset_ms)?,
        today,
        zone,
    })
}

fn instance(
    host: &Host,
    plugin: &LoadedPlugin,
    last: &mut HashMap<(String, String), RunRow>,
    running: &mut HashMap<(String, String), RunRow>,
    zone: &sync_schedule::SiteTimeZone,
    now: Timestamp,
) -> anyhow::Result<Instance> {
    let db = &host.core.db;
    let manifest = &plugin.manifest;
    let id = manifest.id.clone();
    let state = host.state_of(&id)?;
    let fault = db.plugin(&id)?.and_then(|r| r.fault);
    let schedule = PluginSchedule::load(db, &id).ok();
    let mut jobs = Vec::new();
    for spec in &manifest.jobs {
        let key = (id.clone(), spec.id.clone());
        let next = match (&schedule, state) {
            (Some(stored), PluginState::Active) => next_run(stored, spec, zone, now),
            (None, PluginState::Active) => "the schedule cannot be read".into(),
            _ => "none: not active".into(),
        };
        jobs.push(JobLine {
            spec: spec.clone(),
            running: running.remove(&key),
            last: last.remove(&key),
            next,
        });
    }
    let end_of_day = match jobs
        .iter()
        .find(|j| j.spec.schedule == ScheduleKind::EndOfDay)
        .and_then(|j| j.last.as_ref())
    {
        Some(run) => db.run(run.id)?,
        None => None,
    };
    let store = store_word(
        fault.as_deref(),
        state,
        jobs.iter().filter_map(|j| j.last.as_ref()),
    );
    Ok(Instance {
        name: manifest.name.clone(),
        state,
        store,
        orders_waiting: db.orders_waiting(&id)?,
        events_pending: match cursor(db, &id)? {
            Some(at) => Some(db.events_pending(&id, at)?),
            None => None,
        },
        parked: db.parked_count(&id)?,
        jobs,
        end_of_day,
        id,
    })
}

/// How far the plugin has read the change feed: the furthest `cursor` of
/// its state values, if it keeps one.
fn cursor(db: &Db, plugin: &str) -> Result<Option<i64>, DbError> {
    Ok(db
        .states(plugin)?
        .iter()
        .filter_map(|(_, value)| value.get(CURSOR)?.as_i64())
        .max())
}

/// When `spec` runs next on the plugin's schedule, in words.
fn next_run(
    stored: &PluginSchedule,
    spec: &JobSpec,
    zone: &sync_schedule::SiteTimeZone,
    now: Timestamp,
) -> String {
    let schedule = Schedule::new(&stored.settings, zone);
    let clock = ClockReading {
        now,
        host_started: now,
    };
    match schedule.decide(job_kind(spec.schedule), &stored.history(&spec.id), clock) {
        Decision::Due(_) => "due now".into(),
        Decision::NotDue { wake_at: Some(at) } => format_time(at.as_millisecond()),
        Decision::NotDue { wake_at: None } => match spec.schedule {
            ScheduleKind::ByHand => "by hand only".into(),
            _ => "not scheduled".into(),
        },
    }
}

/// Whether the store answered, from what the host knows: the activation's
/// refusal, else the newest of the jobs' last runs; and whether that is
/// good news.
fn store_word<'a>(
    fault: Option<&str>,
    state: PluginState,
    last_runs: impl Iterator<Item = &'a RunRow>,
) -> (String, bool) {
    if let Some(fault) = fault {
        return (format!("activation refused: {fault}"), false);
    }
    let newest = last_runs.max_by_key(|r| r.ended_ms.unwrap_or(r.started_ms));
    match newest {
        Some(run) if run.outcome.is_failure() => (
            format!(
                "the last run ({} #{}) {} at {}: {}",
                run.job,
                run.id,
                run.outcome.as_str(),
                format_time(run.ended_ms.unwrap_or(run.started_ms)),
                run.error.as_deref().unwrap_or("no reason given")
            ),
            false,
        ),
        Some(run) => (
            format!(
                "answered: the last run ({} #{}) {} at {}",
                run.job,
                run.id,
                run.outcome.as_str(),
                format_time(run.ended_ms.unwrap_or(run.started_ms))
            ),
            true,
        ),
        None if state == PluginState::Active => {
            ("answered the activation's check; no run yet".into(), true)
        }
        None => ("not checked: not active and never run".into(), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use intellitrack_db::{RunOutcome, RunTrigger};

    fn run(id: i64, outcome: RunOutcome, ended_ms: i64, error: Option<&str>) -> RunRow {
        RunRow {
            id,
            plugin: "woo".into(),
            job: "import".into(),
            trigger: RunTrigger::Schedule,
            user: None,
            started_ms: ended_ms - 5,
            ended_ms: Some(ended_ms),
            outcome,
            dry_run: false,
            forced: false,
            parked: 0,
            created: 0,
            updated: 0,
            skipped: 0,
            failed: 0,
            summary: String::new(),
            error: error.map(String::from),
            issues: Vec::new(),
            issues_not_kept: Vec::new(),
            issues_pruned: false,
            tables: Vec::new(),
        }
    }

    #[test]
    fn the_store_is_judged_by_the_activation_then_the_newest_run() {
        let ok = run(1, RunOutcome::Succeeded, 1_000, None);
        let failed = run(2, RunOutcome::Failed, 2_000, Some("store unreachable"));
        let (text, good) = store_word(None, PluginState::Active, [&ok, &failed].into_iter());
        assert!(!good);
        assert!(
            text.starts_with("the last run (import #2) failed at")
                && text.ends_with("store unreachable"),
            "{text}"
        );
        let (text, good) = store_word(None, PluginState::Active, [&ok].into_iter());
        assert!(
            good && text.starts_with("answered: the last run (import #1) succeeded"),
            "{text}"
        );
        let (text, good) = store_word(
            Some("401: bad key"),
            PluginState::Faulted,
            [&ok].into_iter(),
        );
        assert_eq!(
            (text.as_str(), good),
            ("activation refused: 401: bad key", false)
        );
        assert!(store_word(None, PluginState::Active, std::iter::empty()).1);
        assert!(!store_word(None, PluginState::Inactive, std::iter::empty()).1);
    }
}
