//! `plugin-host retention` shows or changes how long the host keeps run
//! history, run issues, acknowledged change-feed events and the audit log;
//! `plugin-host prune` prunes by them now (what `serve` does once a day),
//! or with `--dry-run` only shows what would go.

use intellitrack_db::PruneReport;

use super::{cli_actor, columns, format_time};
use crate::host::Host;
use crate::service::admin;
use crate::service::retention::{self, RetentionSettings, SETTINGS};

#[derive(clap::Args)]
pub struct RetentionArgs {
    /// Change a setting (days): runs_days, run_issues_days, feed_days, audit_days.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct PruneArgs {
    /// Only show what would go; change nothing.
    #[arg(long)]
    dry_run: bool,
    #[arg(long)]
    json: bool,
}

/// `plugin-host retention [--set KEY=VALUE]... [--json]`.
pub fn retention(host: &Host, args: RetentionArgs) -> anyhow::Result<()> {
    let settings = if args.set.is_empty() {
        retention::load(&host.core.db)?
    } else {
        let changes = retention::assignments(&args.set)
            .map_err(|e| anyhow::anyhow!("nothing was changed: {e}"))?;
        admin::change_retention(host, &changes, &cli_actor())?.0
    };
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&settings)?);
        return Ok(());
    }
    print_settings(&settings)?;
    Ok(())
}

fn print_settings(settings: &RetentionSettings) -> std::io::Result<()> {
    let rows: Vec<Vec<String>> = SETTINGS
        .iter()
        .map(|(name, what)| {
            vec![
                (*name).to_owned(),
                settings.get(name).unwrap_or_default().to_string(),
                (*what).to_owned(),
            ]
        })
        .collect();
    let header = ["setting", "days", "keeps"].map(String::from);
    outln!("retention (host-wide):");
    outln!("{}", columns::aligned("  ", &header, &rows).trim_end());
    Ok(())
}

/// `plugin-host prune [--dry-run] [--json]`.
pub fn prune(host: &Host, args: PruneArgs) -> anyhow::Result<()> {
    let (settings, report) = retention::prune(&host.core, args.dry_run)?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    print_report(host, &settings, &report)?;
    Ok(())
}

fn print_report(
    host: &Host,
    settings: &RetentionSettings,
    report: &PruneReport,
) -> std::io::Result<()> {
    let cutoffs = settings.cutoffs(host.core.clock.now_ms());
    outln!(
        "{} ({settings}):",
        if report.dry_run {
            "dry run: nothing was changed; these rows would go"
        } else {
            "pruned"
        }
    );
    let rows: Vec<Vec<String>> = report
        .tables
        .iter()
        .map(|t| vec![t.table.to_owned(), t.rows.to_string()])
        .collect();
    let header = ["table", "rows"].map(String::from);
    outln!("{}", columns::aligned("  ", &header, &rows).trim_end());
    outln!(
        "runs ended before {}, run issues before {}, audit lines before {}",
        format_time(cutoffs.runs_ended_before_ms),
        format_time(cutoffs.run_issues_ended_before_ms),
        format_time(cutoffs.audit_before_ms)
    );
    outln!(
        "change feed: events before {}, parked by none and acknowledged by every reader",
        format_time(cutoffs.feed_before_ms)
    );
    outln!("feed horizon: {}", report.feed_horizon);
    if !report.dry_run {
        outln!("{} free pages given back", report.pages_freed);
    }
    Ok(())
}
