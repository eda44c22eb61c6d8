//! `plugin-host`: the plugin host's service and admin CLI.
//!
//! It loads every plugin in the plugin folder, keeps their activation and
//! settings in the IntelliTrack database in the data dir, and runs their
//! jobs. It knows nothing about any particular plugin: everything it shows
//! and asks about a plugin comes from the plugin's manifest.

mod cli;
mod data_dir;
mod heap;
mod host;
mod logging;
mod plugins;
mod runs;
mod service;
mod web;

use cli::outln;

use plugin_host::{clock, credentials, job_answer, process_owner, services, settings_change};

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::host::Host;
use crate::logging::LogFormat;

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
    /// The shape of log lines on standard error: text, or json (one object
    /// a line) for log shippers.
    #[arg(
        long,
        global = true,
        env = "PLUGIN_HOST_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run as a service: keep plugins active as the admin set them, and serve
    /// the admin page, until SIGTERM.
    Serve(web::WebArgs),
    /// Write a new plugin crate to start from (manifest, a setting, a job, a test, a README).
    NewPlugin(cli::new_plugin::NewPluginArgs),
    /// Plugins: list, activate, deactivate, settings.
    #[command(subcommand)]
    Plugins(cli::plugins::PluginsCommand),
    /// Copy the database to FILE, safely while the service runs.
    Backup(cli::backup::BackupArgs),
    /// Run a plugin's job now and print its report.
    Run(cli::runs::RunArgs),
    /// Change-feed events plugins parked (could not deliver); `parked retry` sends them again, `parked discard` drops them.
    Parked(cli::runs::ParkedArgs),
    /// Show a plugin's schedule, or change it.
    Schedule(cli::schedule::ScheduleArgs),
    /// Show the site's time zone, or set it.
    Timezone(cli::schedule::TimezoneArgs),
    /// How long run history, run issues, acknowledged change-feed events
    /// and the audit log are kept: show, or change with --set KEY=DAYS.
    Retention(cli::retention::RetentionArgs),
    /// Prune what the retention settings let go now (`serve` does it once
    /// a day) and give the space back; --dry-run only shows what would go.
    Prune(cli::retention::PruneArgs),
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
    /// serving the host's calls over standard input and output; with
    /// `--probe`, only answers what the file holds.
    #[command(hide = true)]
    PluginRunner {
        file: PathBuf,
        #[arg(long)]
        probe: bool,
    },
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
    heap::limit_retention();
    let cli = Cli::parse();
    let log_format = cli.log_format;
    logging::init(log_format);
    match run(cli) {
        Ok(code) => code,
        // The reader of our output went away (`| head`): it has all it
        // wanted, as for cargo, git or ripgrep.
        Err(e) if is_closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            match log_format {
                LogFormat::Text => eprintln!("error: {e:#}"),
                LogFormat::Json => tracing::error!("{e:#}"),
            }
            ExitCode::FAILURE
        }
    }
}

/// Whether the error is a write into a pipe whose reader closed it.
fn is_closed_pipe(e: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
                == Some(BrokenPipe)
    })
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Command::PluginRunner { file, probe } = &cli.command {
        if *probe {
            plugins::plugin_side::probe(file)?;
        } else {
            plugins::plugin_side::run(file)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Backup(args) = &cli.command {
        cli::backup::backup(&cli.data_dir, args)?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::NewPlugin(args) = cli.command {
        let (dir, note) = cli::new_plugin::run(args)?;
        outln!(
            "wrote a plugin crate in {}; see its README.md",
            dir.display()
        );
        if let Some(note) = note {
            outln!("{note}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let plugin_dir = cli.plugin_dir.unwrap_or_else(host::default_plugin_dir);
    let host = Host::start(&cli.data_dir, &plugin_dir)?;
    match cli.command {
        Command::Serve(args) => {
            let shutdown = Arc::new(AtomicBool::new(false));
            for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
                signal_hook::flag::register(signal, shutdown.clone())
                    .context("cannot install the signal handler")?;
            }
            let host = Arc::new(host);
            let active = service::serve::ActivePlugins::default();
            let webhooks = service::hooks::Webhooks::default();
            let page = web::start(
                host.clone(),
                active.clone(),
                webhooks.clone(),
                &args,
                &cli.data_dir,
                shutdown.clone(),
            )?;
            let served = service::serve::serve(&host, &shutdown, &active, &webhooks);
            shutdown.store(true, std::sync::atomic::Ordering::SeqCst);
            if page.join().is_err() {
                tracing::error!("the admin page's thread panicked");
            }
            served?;
        }
        Command::Backup(_) => unreachable!("answered before the host starts"),
        Command::NewPlugin(_) => unreachable!("handled before the host starts"),
        Command::Plugins(command) => cli::plugins::run(&host, command)?,
        Command::Run(args) => return cli::runs::run_job(&host, args, cli.log_format),
        Command::Parked(args) => cli::runs::parked(&host, args)?,
        Command::Schedule(args) => cli::schedule::schedule(&host, args)?,
        Command::Timezone(args) => cli::schedule::timezone(&host, args)?,
        Command::Retention(args) => cli::retention::retention(&host, args)?,
        Command::Prune(args) => cli::retention::prune(&host, args)?,
        Command::Warehouse(command) => {
            let user = cli::cli_actor();
            cli::warehouse::run(command, &host.core.db, &user, host.core.clock.now_ms())?
        }
        Command::Users(command) => cli::users::users(
            &host.core.db,
            command,
            &cli::cli_actor(),
            host.core.clock.now_ms(),
        )?,
        Command::Roles(command) => cli::users::roles(
            &host.core.db,
            command,
            &cli::cli_actor(),
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
