//! `plugin-host`: the plugin host's service and admin CLI.
//!
//! It loads every plugin in the plugin folder, keeps their activation and
//! settings in the IntelliTrack database in the data dir, and runs their
//! jobs. It knows nothing about any particular plugin: everything it shows
//! and asks about a plugin comes from the plugin's manifest.

mod cli;
mod clock;
mod credentials;
mod host;
mod isolation;
mod loader;
mod plugin_process;
mod plugin_runner;
mod process_owner;
mod runner;
mod schedule_store;
mod scheduler;
mod serve;
mod services;
mod wire;

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::host::Host;

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
    Plugins(cli::plugins::PluginsCommand),
    /// Run a plugin's job now and print its report.
    Run(cli::runs::RunArgs),
    /// Change-feed events plugins parked (could not deliver); `parked retry` sends them again.
    Parked(cli::runs::ParkedArgs),
    /// Show a plugin's schedule, or change it.
    Schedule(cli::schedule::ScheduleArgs),
    /// Show the site's time zone, or set it.
    Timezone(cli::schedule::TimezoneArgs),
    #[command(flatten)]
    Warehouse(cli::warehouse::WarehouseCommand),
    /// Users: add (password from standard input), passwd, list, remove.
    #[command(subcommand)]
    Users(cli::users::UsersCommand),
    /// Roles and the features they grant: list, add, grant, revoke.
    #[command(subcommand)]
    Roles(cli::users::RolesCommand),
    /// Who changed what: users, roles, activations, settings, schedules.
    Audit {
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Started by the host itself: runs one plugin file in this process,
    /// serving the host's calls over standard input and output.
    #[command(hide = true)]
    PluginRunner { file: PathBuf },
    /// The history of job runs, newest first.
    Runs {
        plugin: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
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
    if let Command::PluginRunner { file } = &cli.command {
        plugin_runner::run(file)?;
        return Ok(ExitCode::SUCCESS);
    }
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
        Command::Plugins(command) => cli::plugins::run(&host, command)?,
        Command::Run(args) => return cli::runs::run_job(&host, args),
        Command::Parked(args) => cli::runs::parked(&host, args)?,
        Command::Schedule(args) => cli::schedule::schedule(&host, args)?,
        Command::Timezone(args) => cli::schedule::timezone(&host, args)?,
        Command::Warehouse(command) => {
            let user = std::env::var("USER").unwrap_or_else(|_| "admin".into());
            cli::warehouse::run(command, &host.core.db, &user, host.core.clock.now_ms())?
        }
        Command::Users(command) => cli::users::users(
            &host.core.db,
            command,
            &cli::local_user(),
            host.core.clock.now_ms(),
        )?,
        Command::Roles(command) => cli::users::roles(
            &host.core.db,
            command,
            &cli::local_user(),
            host.core.clock.now_ms(),
        )?,
        Command::Audit { limit, json } => cli::users::audit(&host.core.db, limit, json)?,
        Command::PluginRunner { .. } => unreachable!("handled before the host starts"),
        Command::Runs {
            plugin,
            limit,
            json,
        } => cli::runs::print_runs(&host.core.db.runs(plugin.as_deref(), limit)?, json)?,
    }
    Ok(ExitCode::SUCCESS)
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
