//! `plugin-host run`, `runs` and `parked`: running a job by hand, the run
//! history, and the change-feed events plugins parked.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};
use intellitrack_db::{ParkedRow, RunOutcome, RunRow};
use plugin_api::protocol::Progress;
use plugin_api::{RunOptions, Table};

use super::format_time;
use crate::host::Host;
use crate::logging::LogFormat;
use crate::service::admin::{self, HandRun, Holder};

/// `run`'s arguments. The run is recorded as `cli:` and the machine's
/// user ([`super::cli_actor`]): the CLI is the machine's admin, and names
/// no user of the admin page.
#[derive(Args)]
pub struct RunArgs {
    plugin: String,
    job: String,
    /// Show what the job would do, and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Go past the job's safety limits (e.g. End of Day's share of changed items).
    #[arg(long)]
    force: bool,
    /// Print the run (counts, issues, tables) as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
pub enum ParkedCommand {
    /// Ask a plugin to send parked events again on its next run of the job
    /// that parked them.
    Retry {
        plugin: String,
        /// The event's number (`seq`), as `parked` lists it.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<i64>,
        /// Every parked event of the plugin.
        #[arg(long)]
        all: bool,
    },
    /// Drop parked events for good: they are never sent.
    Discard {
        plugin: String,
        /// The event's number (`seq`), as `parked` lists it.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<i64>,
        /// Every parked event of the plugin.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Args)]
pub struct ParkedArgs {
    #[command(subcommand)]
    command: Option<ParkedCommand>,
    /// Only this plugin's.
    plugin: Option<String>,
    #[arg(long)]
    json: bool,
}

pub fn run_job(host: &Host, args: RunArgs, log_format: LogFormat) -> anyhow::Result<ExitCode> {
    let RunArgs {
        plugin: plugin_id,
        job,
        dry_run,
        force,
        json,
    } = args;
    let label = format!("{plugin_id}/{job}");
    let progress_label = label.clone();
    let on_progress = Arc::new(move |p: &Progress| match log_format {
        LogFormat::Text => {
            let total = p.total.map(|t| format!("/{t}")).unwrap_or_default();
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "[{progress_label}] {}{total} {}", p.done, p.message);
        }
        LogFormat::Json => tracing::info!(
            target: "progress",
            run = %progress_label,
            done = p.done,
            total = p.total,
            "{}",
            p.message
        ),
    });
    let actor = super::cli_actor();
    let result = admin::run_by_hand(
        host,
        HandRun {
            plugin: &plugin_id,
            job: &job,
            user: None,
            recorded_as: &actor,
            options: RunOptions::new(dry_run, force),
            on_progress,
            on_recorded: Box::new(|_| {}),
        },
        Holder::ThisRun,
    );
    let result = result?;
    let recorded = host
        .core
        .db
        .runs(Some(&plugin_id), u32::MAX)?
        .into_iter()
        .find(|r| r.id == result.run_id);
    match (json, recorded) {
        (true, Some(run)) => outln!("{}", serde_json::to_string_pretty(&run)?),
        (_, recorded) => {
            let r = &result.report;
            outln!(
                "{label}: {} (run #{}) created {} updated {} skipped {} failed {}",
                result.outcome.as_str(),
                result.run_id,
                r.created,
                r.updated,
                r.skipped,
                r.failed
            );
            if !r.summary.is_empty() {
                outln!("{}", r.summary);
            }
            for issue in &r.issues {
                outln!("  {:?} {}: {}", issue.outcome, issue.record, issue.reason);
            }
            for table in recorded.iter().flat_map(|run| &run.tables) {
                print_table(table)?;
            }
            if let Some(error) = &result.error {
                outln!("error: {error}");
            }
        }
    }
    Ok(if result.outcome == RunOutcome::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A table as aligned columns.
fn print_table(table: &Table) -> std::io::Result<()> {
    outln!("{}", table.title);
    outln!(
        "{}",
        super::columns::aligned("  ", &table.columns, &table.rows).trim_end()
    );
    Ok(())
}

pub fn print_runs(runs: &[RunRow], json: bool) -> anyhow::Result<()> {
    if json {
        outln!("{}", serde_json::to_string_pretty(runs)?);
        return Ok(());
    }
    if runs.is_empty() {
        outln!("no runs yet");
    }
    for run in runs {
        let ended = run.ended_ms.map_or_else(
            || "-".to_string(),
            |e| format!("{:.1}s", (e - run.started_ms) as f64 / 1000.0),
        );
        outln!(
            "#{:<5} {:<14} {:<20} {:<9} {:<11} {} took {ended}  +{} ~{} skipped {} failed {}{}",
            run.id,
            run.plugin,
            run.job,
            run.trigger.as_str(),
            run.outcome.as_str(),
            format_time(run.started_ms),
            run.created,
            run.updated,
            run.skipped,
            run.failed,
            run.user
                .as_deref()
                .map(|u| format!("  by {u}"))
                .unwrap_or_default()
        );
        if let Some(error) = &run.error {
            outln!("       error: {error}");
        }
        for issue in &run.issues {
            outln!(
                "       {} {}: {}",
                issue.outcome,
                issue.record,
                issue.reason
            );
        }
        for group in &run.issues_not_kept {
            outln!(
                "       {} more {} not kept (counted only): {}",
                group.not_kept,
                group.outcome,
                group.reason
            );
        }
        if run.issues_pruned {
            outln!("       its issue list was pruned by the retention settings");
        }
    }
    Ok(())
}

pub fn parked(host: &Host, args: ParkedArgs) -> anyhow::Result<()> {
    let db = &host.core.db;
    match args.command {
        Some(ParkedCommand::Retry { plugin, id, all }) => {
            let seq = if all { None } else { id };
            let asked = admin::retry_parked(host, &plugin, seq, &super::cli_actor())?;
            outln!("{asked} parked event(s) of {plugin} will be sent again on its next export run");
        }
        Some(ParkedCommand::Discard { plugin, id, all }) => {
            let seq = if all { None } else { id };
            let dropped = admin::discard_parked(host, &plugin, seq, &super::cli_actor())?;
            outln!("{dropped} parked event(s) of {plugin} discarded; they will never be sent");
        }
        None => print_parked(&db.parked(args.plugin.as_deref())?, args.json)?,
    }
    Ok(())
}

fn print_parked(rows: &[ParkedRow], json: bool) -> anyhow::Result<()> {
    if json {
        outln!("{}", serde_json::to_string_pretty(rows)?);
        return Ok(());
    }
    if rows.is_empty() {
        outln!("no parked events");
    }
    for row in rows {
        outln!(
            "{:<14} #{:<7} {:<18} order {:<12} parked {}{}\n    {}",
            row.plugin,
            row.seq,
            row.kind,
            row.order_number.as_deref().unwrap_or("-"),
            format_time(row.parked_ms),
            if row.retry_requested {
                "  (retry asked)"
            } else {
                ""
            },
            row.reason
        );
    }
    Ok(())
}
