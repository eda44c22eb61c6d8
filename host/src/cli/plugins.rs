//! `plugin-host plugins ...`: list, activate, deactivate, settings, and
//! the instances of a plugin (one per store).

use clap::Subcommand;

use crate::cli::{cli_actor, settings};
use crate::host::{Host, PluginState};
use crate::plugins::isolation::Isolation;
use crate::process_owner;
use crate::service::admin;

#[derive(Subcommand)]
pub enum PluginsCommand {
    /// Every plugin file found, loaded or refused.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Activate a plugin instance (its settings and connection are checked first).
    Activate { id: String },
    /// Deactivate a plugin instance.
    Deactivate { id: String },
    /// Configure a plugin once more, as instance PLUGIN:NAME with its own
    /// settings, credentials, schedule, state and runs (e.g. a second store).
    /// A running `serve` picks it up within a second.
    AddInstance { plugin: String, name: String },
    /// Remove an added instance (not while active); its run history stays.
    RemoveInstance { id: String },
    /// Show a plugin's settings, or change them with --set key=value.
    Settings {
        id: String,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(serde::Serialize)]
struct PluginLine {
    /// The instance id (a plugin's own id for its first instance).
    id: Option<String>,
    /// The plugin the instance is of.
    plugin: Option<String>,
    /// An added instance's name.
    instance: Option<String>,
    name: Option<String>,
    version: Option<String>,
    api_version: Option<String>,
    state: PluginState,
    /// Where it runs: `process` or `in-process`.
    isolation: Option<Isolation>,
    /// The pid of its process, while one runs.
    pid: Option<u32>,
    file: String,
    reason: Option<String>,
}

pub fn run(host: &Host, command: PluginsCommand) -> anyhow::Result<()> {
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
                    plugin: Some(p.plugin_id.clone()),
                    instance: p.instance.clone(),
                    name: Some(m.name.clone()),
                    version: Some(m.version.clone()),
                    api_version: Some(m.api_version.to_string()),
                    state,
                    isolation: Some(if p.process.is_some() {
                        Isolation::Process
                    } else {
                        Isolation::InProcess
                    }),
                    pid: db
                        .plugin_process(&m.id)?
                        .filter(|(pid, owner)| process_owner::alive(*pid, owner))
                        .map(|(pid, _)| pid),
                    file: p.file.display().to_string(),
                    reason: fault,
                });
            }
            for r in &host.plugins.refused {
                lines.push(PluginLine {
                    id: None,
                    plugin: None,
                    instance: None,
                    name: None,
                    version: None,
                    api_version: r.api_version.map(|v| v.to_string()),
                    state: PluginState::Refused,
                    isolation: None,
                    pid: None,
                    file: r.file.display().to_string(),
                    reason: Some(r.reason.clone()),
                });
            }
            if json {
                outln!("{}", serde_json::to_string_pretty(&lines)?);
            } else if lines.is_empty() {
                outln!("no plugin files found");
            } else {
                let header: Vec<String> = ["ID", "NAME", "VERSION", "API", "STATE", "MODE", "FILE"]
                    .map(String::from)
                    .to_vec();
                let mut rows = Vec::new();
                for l in &lines {
                    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
                    // An added instance is shown under its plugin.
                    let id = match &l.instance {
                        Some(_) => format!("  {}", dash(&l.id)),
                        None => dash(&l.id),
                    };
                    let mode = match (l.isolation, l.pid) {
                        (Some(mode), Some(pid)) => format!("{} {pid}", mode.as_str()),
                        (Some(mode), None) => mode.as_str().to_string(),
                        (None, _) => "-".into(),
                    };
                    rows.push(vec![
                        id,
                        dash(&l.name),
                        dash(&l.version),
                        dash(&l.api_version),
                        format!("{:?}", l.state).to_lowercase(),
                        mode,
                        l.file.clone(),
                    ]);
                }
                let table = super::columns::aligned("", &header, &rows);
                // A refused file's reason goes under its line.
                for (line, l) in table
                    .lines()
                    .zip(std::iter::once(None).chain(lines.iter().map(Some)))
                {
                    outln!("{line}");
                    if let Some(reason) = l.and_then(|l| l.reason.as_ref()) {
                        outln!("    {reason}");
                    }
                }
            }
        }
        PluginsCommand::Activate { id } => {
            admin::activate(host, &id, &cli_actor())?;
            outln!("{id} is active");
        }
        PluginsCommand::Deactivate { id } => {
            admin::deactivate(host, &id, &cli_actor())?;
            outln!("{id} is inactive");
        }
        PluginsCommand::AddInstance { plugin, name } => {
            let id = host.add_instance(&plugin, &name)?;
            db.audit(&cli_actor(), "instance added", &id, "", now)?;
            outln!(
                "{id} added: set it up with `plugin-host plugins settings {id} --set ...`, then activate it"
            );
        }
        PluginsCommand::RemoveInstance { id } => {
            db.remove_instance(&id)?;
            db.audit(&cli_actor(), "instance removed", &id, "", now)?;
            outln!("{id} removed; its run history stays");
        }
        PluginsCommand::Settings { id, set, json } => {
            let plugin = host.plugin(&id)?;
            if !set.is_empty() {
                admin::change_settings(host, &id, &set, &[], &cli_actor())?;
            }
            settings::print(host, plugin, json)?;
        }
    }
    Ok(())
}
