//! `plugin-host`: the plugin host's service and admin CLI.
//!
//! It loads every plugin in the plugin folder, keeps their activation and
//! settings in the IntelliTrack database in the data dir, and runs their
//! jobs. It knows nothing about any particular plugin: everything it shows
//! and asks about a plugin comes from the plugin's manifest.

mod clock;
mod credentials;
mod host;
mod loader;
mod runner;
mod schedule_cli;
mod schedule_store;
mod scheduler;
mod serve;
mod services;
mod settings_cli;
mod warehouse;

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use intellitrack_db::{RunOutcome, RunRow, RunTrigger};
use plugin_api::protocol::Progress;

use crate::host::{Host, PluginState};
use crate::runner::JobRequest;

#[derive(Parser)]
#[command(
    name = "plugin-host",
    version,
    about = "Loads plugins and runs their jobs"
)]
struct Cli {
    /// Where the database, the credential key and the logs live.
    #[arg(
        long,
        global = true,
        env = "PLUGIN_HOST_DATA_DIR",
        default_value = "plugin-host-data"
    )]
    data_dir: PathBuf,
    /// The folder searched for plugin libraries [default: the folder of this executable].
    #[arg(long, global = true, env = "PLUGIN_HOST_PLUGIN_DIR")]
    plugin_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run as a service: keep plugins active as the admin set them, until SIGTERM.
    Serve,
    /// Plugins: list, activate, deactivate, settings.
    #[command(subcommand)]
    Plugins(PluginsCommand),
    /// Run a plugin's job now and print its report.
    Run {
        plugin: String,
        job: String,
        /// Who runs it (recorded with the run).
        #[arg(long = "as", env = "USER", default_value = "admin")]
        user: String,
    },
    /// Show a plugin's schedule, or change it.
    Schedule(schedule_cli::ScheduleArgs),
    /// Show the site's time zone, or set it.
    Timezone(schedule_cli::TimezoneArgs),
    #[command(flatten)]
    Warehouse(warehouse::WarehouseCommand),
    /// The history of job runs, newest first.
    Runs {
        plugin: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum PluginsCommand {
    /// Every plugin file found, loaded or refused.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Activate a plugin (its settings and connection are checked first).
    Activate { id: String },
    /// Deactivate a plugin.
    Deactivate { id: String },
    /// Show a plugin's settings, or change them with --set key=value.
    Settings {
        id: String,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(log_colours(
            std::io::stderr().is_terminal(),
            std::env::var_os("NO_COLOR"),
        ))
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Whether log lines are coloured: only on a terminal, and never when
/// `NO_COLOR` is set to anything but the empty string (no-color.org).
fn log_colours(stderr_is_terminal: bool, no_color: Option<OsString>) -> bool {
    stderr_is_terminal && no_color.is_none_or(|v| v.is_empty())
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let plugin_dir = cli.plugin_dir.unwrap_or_else(host::default_plugin_dir);
    let host = Host::start(&cli.data_dir, &plugin_dir)?;
    match cli.command {
        Command::Serve => {
            let shutdown = Arc::new(AtomicBool::new(false));
            for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
                signal_hook::flag::register(signal, shutdown.clone())
                    .context("cannot install the signal handler")?;
            }
            serve::serve(&host, &shutdown)?;
        }
        Command::Plugins(command) => plugins(&host, command)?,
        Command::Run { plugin, job, user } => return run_job(&host, &plugin, &job, &user),
        Command::Schedule(args) => schedule_cli::schedule(&host, args)?,
        Command::Timezone(args) => schedule_cli::timezone(&host, args)?,
        Command::Warehouse(command) => {
            let user = std::env::var("USER").unwrap_or_else(|_| "admin".into());
            warehouse::run(command, &host.core.db, &user, host.core.clock.now_ms())?
        }
        Command::Runs {
            plugin,
            limit,
            json,
        } => print_runs(&host.core.db.runs(plugin.as_deref(), limit)?, json)?,
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(serde::Serialize)]
struct PluginLine {
    id: Option<String>,
    name: Option<String>,
    version: Option<String>,
    api_version: Option<String>,
    state: PluginState,
    file: String,
    reason: Option<String>,
}

fn plugins(host: &Host, command: PluginsCommand) -> anyhow::Result<()> {
    let db = &host.core.db;
    let now = host.core.clock.now_ms();
    match command {
        PluginsCommand::List { json } => {
            let mut lines = Vec::new();
            for p in &host.plugins.loaded {
                let m = &p.manifest;
                let state = host.state_of(&m.id)?;
                let fault = db.plugin(&m.id)?.and_then(|r| r.fault);
                lines.push(PluginLine {
                    id: Some(m.id.clone()),
                    name: Some(m.name.clone()),
                    version: Some(m.version.clone()),
                    api_version: Some(m.api_version.to_string()),
                    state,
                    file: p.file.display().to_string(),
                    reason: fault,
                });
            }
            for r in &host.plugins.refused {
                lines.push(PluginLine {
                    id: None,
                    name: None,
                    version: None,
                    api_version: r.api_version.map(|v| v.to_string()),
                    state: PluginState::Refused,
                    file: r.file.display().to_string(),
                    reason: Some(r.reason.clone()),
                });
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&lines)?);
            } else if lines.is_empty() {
                println!("no plugin files found");
            } else {
                println!(
                    "{:<16} {:<30} {:<9} {:<5} {:<9} FILE",
                    "ID", "NAME", "VERSION", "API", "STATE"
                );
                for l in &lines {
                    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
                    println!(
                        "{:<16} {:<30} {:<9} {:<5} {:<9} {}",
                        dash(&l.id),
                        dash(&l.name),
                        dash(&l.version),
                        dash(&l.api_version),
                        format!("{:?}", l.state).to_lowercase(),
                        l.file
                    );
                    if let Some(reason) = &l.reason {
                        println!("    {reason}");
                    }
                }
            }
        }
        PluginsCommand::Activate { id } => {
            let plugin = host.plugin(&id)?;
            host.try_activate(plugin)
                .map_err(|reason| anyhow::anyhow!("{id} was not activated: {reason}"))?;
            if let Err(e) = host.deactivate(plugin) {
                tracing::warn!(plugin = %id, "releasing the check's activation failed: {e}");
            }
            db.set_plugin_enabled(&id, true, now)?;
            println!("{id} is active");
        }
        PluginsCommand::Deactivate { id } => {
            host.plugin(&id)?;
            db.set_plugin_enabled(&id, false, now)?;
            println!("{id} is inactive");
        }
        PluginsCommand::Settings { id, set, json } => {
            let plugin = host.plugin(&id)?;
            if !set.is_empty() {
                host.set_settings(plugin, &set)?;
            }
            settings_cli::print(host, plugin, json)?;
        }
    }
    Ok(())
}

fn run_job(host: &Host, plugin_id: &str, job: &str, user: &str) -> anyhow::Result<ExitCode> {
    let plugin = host.plugin(plugin_id)?;
    host::may_run_by_hand(&host.core.db, user, &plugin.manifest)?;
    if host.state_of(plugin_id)? != PluginState::Active {
        anyhow::bail!(
            "{plugin_id} is not active; activate it first with `plugin-host plugins activate {plugin_id}`"
        );
    }
    host.try_activate(plugin)
        .map_err(|reason| anyhow::anyhow!("{plugin_id} could not be activated: {reason}"))?;
    let label = format!("{plugin_id}/{job}");
    let progress_label = label.clone();
    let on_progress = Arc::new(move |p: &Progress| {
        let total = p.total.map(|t| format!("/{t}")).unwrap_or_default();
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "[{progress_label}] {}{total} {}", p.done, p.message);
    });
    let result = runner::run_job(
        &host.core,
        plugin,
        JobRequest {
            job,
            trigger: RunTrigger::ByHand,
            user: Some(user),
            deadline: host.job_deadline(plugin_id),
            cancel: Arc::new(AtomicBool::new(false)),
            on_progress,
        },
    );
    if let Err(e) = host.deactivate(plugin) {
        tracing::warn!(plugin = %plugin_id, "deactivation after the run failed: {e}");
    }
    let result = result?;
    let r = &result.report;
    println!(
        "{label}: {} (run #{}) created {} updated {} skipped {} failed {}",
        result.outcome.as_str(),
        result.run_id,
        r.created,
        r.updated,
        r.skipped,
        r.failed
    );
    if !r.summary.is_empty() {
        println!("{}", r.summary);
    }
    for issue in &r.issues {
        println!("  {:?} {}: {}", issue.outcome, issue.record, issue.reason);
    }
    if let Some(error) = &result.error {
        println!("error: {error}");
    }
    Ok(if result.outcome == RunOutcome::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_runs(runs: &[RunRow], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(runs)?);
        return Ok(());
    }
    if runs.is_empty() {
        println!("no runs yet");
    }
    for run in runs {
        let ended = run.ended_ms.map_or_else(
            || "-".to_string(),
            |e| format!("{:.1}s", (e - run.started_ms) as f64 / 1000.0),
        );
        println!(
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
            println!("       error: {error}");
        }
        for issue in &run.issues {
            println!(
                "       {} {}: {}",
                issue.outcome, issue.record, issue.reason
            );
        }
    }
    Ok(())
}

/// A UTC timestamp from epoch milliseconds.
fn format_time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%SZ").to_string())
        .unwrap_or_else(|_| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_are_coloured_only_on_a_terminal_without_no_color() {
        assert!(log_colours(true, None));
        assert!(
            log_colours(true, Some("".into())),
            "an empty NO_COLOR is unset"
        );
        assert!(!log_colours(true, Some("1".into())));
        assert!(
            !log_colours(true, Some("false".into())),
            "any value disables"
        );
        assert!(!log_colours(false, None));
    }
}
