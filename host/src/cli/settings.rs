//! `plugins settings ID`: a plugin's settings as the admin sees them. Every
//! field with its value, label, type and help, and for a choice or
//! multi-choice field the values it allows (with their labels), so the admin
//! can type one without reading the plugin's code. Secrets show as
//! `********` (set) or nothing (not set), never their value.

use std::io::Write;

use plugin_api::{ChoiceOption, FieldKind, SettingField};
use serde::Serialize;

use crate::host::{self, Host};
use crate::plugins::isolation::{self, Isolation, Limits};
use crate::plugins::loader::LoadedPlugin;

/// One setting as shown (`--json`: an object per key).
#[derive(Debug, Serialize)]
struct Shown<'a> {
    #[serde(skip)]
    key: &'a str,
    value: serde_json::Value,
    label: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    required: bool,
    help: &'a str,
    /// The values a choice or multi-choice field allows.
    #[serde(skip_serializing_if = "Option::is_none")]
    options: Option<&'a [ChoiceOption]>,
}

impl<'a> Shown<'a> {
    fn field(field: &'a SettingField, value: serde_json::Value) -> Self {
        let options = match &field.kind {
            FieldKind::Choice { options } | FieldKind::MultiChoice { options } => {
                Some(options.as_slice())
            }
            _ => None,
        };
        Self {
            key: &field.key,
            value,
            label: &field.label,
            kind: field.kind_name(),
            required: field.required,
            help: &field.help,
            options,
        }
    }
}

impl Shown<'static> {
    /// A setting the host keeps for the plugin.
    fn host(
        key: &'static str,
        value: serde_json::Value,
        label: &'static str,
        kind: &'static str,
        help: &'static str,
    ) -> Self {
        Self {
            key,
            value,
            label,
            kind,
            required: false,
            help,
            options: None,
        }
    }
}

/// Prints a plugin's settings, and the host's own per-plugin ones: job
/// deadline, isolation and the limits of its process.
pub fn print(host: &Host, plugin: &LoadedPlugin, json: bool) -> anyhow::Result<()> {
    let settings = host.settings(plugin)?;
    let secrets = host.secrets_set(plugin)?;
    let value_of = |key: &str| -> serde_json::Value {
        if let Some((_, set)) = secrets.iter().find(|(k, _)| k == key) {
            return serde_json::Value::String(if *set { "********" } else { "" }.into());
        }
        settings
            .get(key)
            .cloned()
            .unwrap_or(serde_json::Value::Null)
    };
    let mut shown: Vec<Shown<'_>> = plugin
        .manifest
        .settings
        .iter()
        .map(|field| Shown::field(field, value_of(&field.key)))
        .collect();
    let stored = host.core.db.host_settings(&plugin.manifest.id)?;
    let limits = Limits::of(&stored);
    shown.extend(host::HOST_SETTINGS.iter().map(|setting| {
        let value = match setting.key {
            host::JOB_DEADLINE => host.job_deadline(&plugin.manifest.id).as_secs().into(),
            isolation::ISOLATION => Isolation::of(&stored).as_str().into(),
            isolation::MEMORY_LIMIT => limits.memory.into(),
            isolation::OPEN_FILES => limits.open_files.into(),
            _ => serde_json::Value::Null,
        };
        Shown::host(
            setting.key,
            value,
            setting.label,
            setting.kind,
            setting.help,
        )
    }));
    write(&mut std::io::stdout().lock(), &shown, json)
}

fn write(out: &mut impl Write, shown: &[Shown<'_>], json: bool) -> anyhow::Result<()> {
    if json {
        let map: serde_json::Map<String, serde_json::Value> = shown
            .iter()
            .map(|s| Ok((s.key.to_owned(), serde_json::to_value(s)?)))
            .collect::<serde_json::Result<_>>()?;
        serde_json::to_writer_pretty(&mut *out, &map)?;
        writeln!(out)?;
        return Ok(());
    }
    for s in shown {
        let value = match &s.value {
            serde_json::Value::Null => "(not set)".to_string(),
            serde_json::Value::String(v) if v.is_empty() => "(not set)".to_string(),
            serde_json::Value::String(v) => v.clone(),
            serde_json::Value::Number(n) if s.kind == "duration" => format!("{n}s"),
            serde_json::Value::Array(items) => items
                .iter()
                .filter_map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(","),
            other => other.to_string(),
        };
        let required = if s.required { " (required)" } else { "" };
        let help = if s.help.is_empty() {
            String::new()
        } else {
            format!(": {}", s.help)
        };
        writeln!(out, "{:<24} = {value}", s.key)?;
        writeln!(out, "    {} [{}]{required}{help}", s.label, s.kind)?;
        if let Some(options) = s.options {
            let how = if s.kind == "multi-choice" {
                "any of, separated by commas"
            } else {
                "one of"
            };
            writeln!(out, "    {how}:")?;
            let width = options.iter().map(|o| o.value.len()).max().unwrap_or(0);
            for o in options {
                if o.label.is_empty() || o.label == o.value {
                    writeln!(out, "      {}", o.value)?;
                } else {
                    writeln!(out, "      {:<width$}  {}", o.value, o.label)?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields() -> Vec<SettingField> {
        vec![
            SettingField::new("store_url", "Store URL", FieldKind::Url)
                .help("The store's address")
                .required(),
            SettingField::new(
                "auth_mode",
                "Authentication",
                FieldKind::Choice {
                    options: vec![
                        ChoiceOption::new("auto", "Automatic"),
                        ChoiceOption::new("basic", "HTTP Basic (HTTPS only)"),
                    ],
                },
            ),
            SettingField::new(
                "statuses",
                "Order statuses",
                FieldKind::MultiChoice {
                    options: vec![
                        ChoiceOption::new("processing", "Processing"),
                        ChoiceOption::new("on-hold", "on-hold"),
                    ],
                },
            )
            .help("Orders in these statuses are imported"),
        ]
    }

    fn shown(fields: &[SettingField]) -> Vec<Shown<'_>> {
        let values = [json!(null), json!("auto"), json!(["processing", "on-hold"])];
        fields
            .iter()
            .zip(values)
            .map(|(f, v)| Shown::field(f, v))
            .collect()
    }

    #[test]
    fn choices_show_the_values_they_allow_with_their_labels() {
        let fields = fields();
        let mut out = Vec::new();
        write(&mut out, &shown(&fields), false).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\
store_url                = (not set)
    Store URL [URL] (required): The store's address
auth_mode                = auto
    Authentication [choice]
    one of:
      auto   Automatic
      basic  HTTP Basic (HTTPS only)
statuses                 = processing,on-hold
    Order statuses [multi-choice]: Orders in these statuses are imported
    any of, separated by commas:
      processing  Processing
      on-hold
"
        );
    }

    #[test]
    fn json_has_an_object_per_key_with_the_options_of_choices() {
        let fields = fields();
        let mut out = Vec::new();
        write(&mut out, &shown(&fields), true).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            json["auth_mode"],
            json!({
                "value": "auto",
                "label": "Authentication",
                "type": "choice",
                "required": false,
                "help": "",
                "options": [
                    {"value": "auto", "label": "Automatic"},
                    {"value": "basic", "label": "HTTP Basic (HTTPS only)"}
                ]
            })
        );
        assert_eq!(json["statuses"]["options"][1]["value"], "on-hold");
        assert_eq!(json["store_url"]["value"], json!(null));
        assert!(json["store_url"].get("options").is_none());
    }
}
