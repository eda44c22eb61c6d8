//! A plugin's settings form, built from its manifest alone (a third-party
//! plugin gets its form for free) and the host's own settings for the
//! instance (`host.job_deadline`, `host.isolation`, ...), and the form's
//! answer turned back into the `key=value` assignments and the keys to
//! clear that [`crate::service::admin::change_settings`] takes. Pure: no
//! host, no I/O.
//!
//! Secrets are write-only: the form shows whether one is set, never its
//! value, and an empty secret field leaves the stored one as it is. So does
//! any empty field: to remove a value, an optional field with a stored
//! value has a "clear" box (`clear=KEY`), after which the default applies.
//! A check box or multi-choice sends nothing when none is ticked, so the
//! form marks each one it showed (`shown=KEY`): a marked one that sent
//! nothing means "none"; an unmarked one is left as it is.

use std::collections::HashMap;

use maud::{Markup, html};
use plugin_api::{FieldKind, Manifest, SettingField, Settings};
use serde_json::Value;

use super::form::{FormPairs, field};
use crate::host::{self, HOST_SETTINGS, HostSetting, JOB_DEADLINE};
use crate::plugins::isolation;

/// The form field that marks a check box or multi-choice as shown.
const SHOWN: &str = "shown";
/// The form field naming a setting whose stored value is to be removed.
const CLEAR: &str = "clear";

/// The keys a submitted form asks to clear.
pub fn cleared(form: &FormPairs) -> Vec<String> {
    form.iter()
        .filter(|(k, _)| k == CLEAR)
        .map(|(_, v)| v.clone())
        .collect()
}

/// Why each of `assignments` is refused by its field's type, if it is (the
/// plugin's own rules are asked only when none is, and only by the host).
pub fn type_errors(manifest: &Manifest, assignments: &[String]) -> HashMap<String, String> {
    assignments
        .iter()
        .filter_map(|a| {
            let (key, raw) = a.split_once('=')?;
            let refused = match host::parse_host_setting(key, raw) {
                Some(parsed) => parsed.err(),
                None => manifest
                    .field(key)?
                    .parse_input(raw)
                    .err()
                    .map(|e| e.reason),
            };
            refused.map(|reason| (key.to_owned(), reason))
        })
        .collect()
}

/// The `key=value` assignments a submitted form asks for.
pub fn assignments(manifest: &Manifest, form: &FormPairs) -> Vec<String> {
    let mut out = Vec::new();
    for setting in &HOST_SETTINGS {
        if let Some(v) = field(form, setting.key)
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            out.push(format!("{}={v}", setting.key));
        }
    }
    for f in &manifest.settings {
        let key = &f.key;
        let given: Vec<&str> = form
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect();
        let shown = form.iter().any(|(k, v)| k == SHOWN && v == key);
        match &f.kind {
            FieldKind::Bool if shown => out.push(format!("{key}={}", given.contains(&"true"))),
            FieldKind::MultiChoice { .. } if shown => {
                out.push(format!("{key}={}", given.join(",")))
            }
            FieldKind::Bool | FieldKind::MultiChoice { .. } => {}
            FieldKind::Secret => match given.first() {
                Some(v) if !v.is_empty() => out.push(format!("{key}={v}")),
                _ => {}
            },
            _ => match given.first().map(|v| v.trim()) {
                Some(v) if !v.is_empty() => out.push(format!("{key}={v}")),
                _ => {}
            },
        }
    }
    out
}

/// The values a refused form showed, to show them again (never a secret's);
/// the host settings' as they were typed.
pub fn submitted(manifest: &Manifest, form: &FormPairs) -> Settings {
    let mut values = Settings::default();
    for setting in &HOST_SETTINGS {
        let typed = field(form, setting.key).unwrap_or_default();
        values.insert(setting.key, Value::String(typed.to_owned()));
    }
    for f in &manifest.settings {
        let value = match &f.kind {
            FieldKind::Secret => continue,
            FieldKind::Bool => Value::Bool(field(form, &f.key) == Some("true")),
            FieldKind::MultiChoice { .. } => Value::Array(
                form.iter()
                    .filter(|(k, _)| k == &f.key)
                    .map(|(_, v)| Value::String(v.clone()))
                    .collect(),
            ),
            _ => Value::String(field(form, &f.key).unwrap_or_default().to_owned()),
        };
        values.insert(&f.key, value);
    }
    values
}

/// A host setting's stored value as an admin types it (`2h`, `512M`).
pub fn host_text(key: &str, value: &Value) -> String {
    let Some(n) = value.as_u64() else {
        return text_of(value);
    };
    let units: &[(u64, &str)] = match key {
        JOB_DEADLINE => &[(3600, "h"), (60, "m"), (1, "s")],
        isolation::MEMORY_LIMIT => &[(1 << 30, "G"), (1 << 20, "M"), (1 << 10, "K")],
        _ => &[],
    };
    units.iter().find(|(size, _)| n % size == 0).map_or_else(
        || n.to_string(),
        |(size, unit)| format!("{}{unit}", n / size),
    )
}

/// What the form shows for one field.
pub struct Shown<'a> {
    /// The plugin's settings in force, and the host settings' stored values
    /// as text (or a refused form's values as typed).
    pub values: &'a Settings,
    /// The keys with a stored value, which may be cleared.
    pub stored: &'a [String],
    /// Secret keys and whether each has a value.
    pub secrets: &'a [(String, bool)],
    /// Field key -> why its value was refused.
    pub errors: &'a HashMap<String, String>,
    /// Whether the viewer may save (a read-only viewer sees the form disabled).
    pub editable: bool,
}

/// The fields of the form (the caller wraps them in its `<form>`): the
/// plugin's, then the host's for the instance.
pub fn fields(manifest: &Manifest, shown: &Shown<'_>) -> Markup {
    html! {
        @for f in &manifest.settings {
            div class="field" {
                label for=(input_id(&f.key)) {
                    (f.label)
                    @if f.required { " *" }
                }
                (control(f, shown))
                @if !f.required && f.kind != FieldKind::Secret { (clear_box(&f.key, shown)) }
                @if !f.help.is_empty() { small class="help" { (f.help) } }
                @if let Some(default) = &f.default {
                    small class="default" { "Default: " (text_of(default)) }
                }
                (field_error(&f.key, shown))
            }
        }
        fieldset id="host-settings" {
            legend { "The host's settings for this instance" }
            p class="help" { "Empty: leave as it is. Clear: back to the host's default." }
            @for setting in &HOST_SETTINGS { (host_field(setting, shown)) }
        }
    }
}

fn host_field(setting: &HostSetting, shown: &Shown<'_>) -> Markup {
    let id = input_id(setting.key);
    let text = shown
        .values
        .get(setting.key)
        .map(text_of)
        .unwrap_or_default();
    let disabled = !shown.editable;
    html! {
        div class="field" {
            label for=(id) { (setting.label) " " code { (setting.key) } }
            @if setting.key == isolation::ISOLATION {
                select id=(id) name=(setting.key) disabled[disabled] {
                    option value="" selected[text.is_empty()] { "(as it is)" }
                    @for choice in ["process", "in-process"] {
                        option value=(choice) selected[text == choice] { (choice) }
                    }
                }
            } @else {
                input type="text" id=(id) name=(setting.key) value=(text) placeholder="default" disabled[disabled];
            }
            (clear_box(setting.key, shown))
            small class="help" { (setting.help) }
            (field_error(setting.key, shown))
        }
    }
}

/// The box that clears a stored value, shown only when there is one.
fn clear_box(key: &str, shown: &Shown<'_>) -> Markup {
    html! {
        @if shown.stored.iter().any(|k| k == key) {
            label class="clear" {
                input type="checkbox" name=(CLEAR) value=(key) id=(format!("clear-{key}")) disabled[!shown.editable];
                " clear (use the default)"
            }
        }
    }
}

fn field_error(key: &str, shown: &Shown<'_>) -> Markup {
    html! {
        @if let Some(e) = shown.errors.get(key) {
            strong class="field-error" id=(format!("error-{key}")) { (e) }
        }
    }
}

fn input_id(key: &str) -> String {
    format!("field-{key}")
}

fn control(f: &SettingField, shown: &Shown<'_>) -> Markup {
    let id = input_id(&f.key);
    let value = shown.values.get(&f.key);
    let text = value.map(text_of).unwrap_or_default();
    let disabled = !shown.editable;
    match &f.kind {
        FieldKind::Secret => {
            let set = shown.secrets.iter().any(|(k, set)| k == &f.key && *set);
            let state = if set { "set" } else { "not set" };
            html! {
                input type="password" id=(id) name=(f.key) value="" autocomplete="new-password"
                    placeholder=(if set { "set (leave empty to keep)" } else { "not set" }) disabled[disabled];
                span class="secret-state" { "(" (state) ")" }
            }
        }
        FieldKind::Bool => html! {
            input type="hidden" name=(SHOWN) value=(f.key);
            input type="checkbox" id=(id) name=(f.key) value="true"
                checked[value == Some(&Value::Bool(true))] disabled[disabled];
        },
        FieldKind::Integer { min, max } => html! {
            input type="number" id=(id) name=(f.key) value=(text) min=[min] max=[max] disabled[disabled];
        },
        FieldKind::Choice { options } => html! {
            select id=(id) name=(f.key) disabled[disabled] {
                @if value.is_none() { option value="" selected { "(choose)" } }
                @for o in options {
                    option value=(o.value) selected[text == o.value] { (o.label) }
                }
            }
        },
        FieldKind::MultiChoice { options } => {
            let chosen: Vec<String> = match value {
                Some(Value::Array(items)) => items.iter().map(text_of).collect(),
                _ => Vec::new(),
            };
            html! {
                input type="hidden" name=(SHOWN) value=(f.key);
                fieldset id=(id) {
                    @for o in options {
                        label class="choice" {
                            input type="checkbox" name=(f.key) value=(o.value)
                                checked[chosen.contains(&o.value)] disabled[disabled];
                            (o.label)
                        }
                    }
                }
            }
        }
        FieldKind::TimeOfDay => html! {
            input type="time" id=(id) name=(f.key) value=(text) disabled[disabled];
        },
        FieldKind::Url => html! {
            input type="url" id=(id) name=(f.key) value=(text) disabled[disabled];
        },
        FieldKind::Text => html! {
            input type="text" id=(id) name=(f.key) value=(text) disabled[disabled];
        },
    }
}

/// A JSON value as a person reads it.
fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(text_of).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use plugin_api::ChoiceOption;

    use super::*;

    fn manifest() -> Manifest {
        let options = vec![ChoiceOption::new("a", "A"), ChoiceOption::new("b", "B")];
        let settings = vec![
            SettingField::new("url", "URL", FieldKind::Url),
            SettingField::new("key", "Key", FieldKind::Secret),
            SettingField::new("flag", "Flag", FieldKind::Bool),
            SettingField::new(
                "kinds",
                "Kinds",
                FieldKind::MultiChoice {
                    options: options.clone(),
                },
            ),
            SettingField::new("mode", "Mode", FieldKind::Choice { options }),
        ];
        Manifest {
            id: "p".into(),
            name: "P".into(),
            version: "1".into(),
            description: String::new(),
            feature: "P".into(),
            api_version: plugin_api::ApiVersion::new(1, 2),
            settings,
            jobs: vec![],
        }
    }

    fn form(pairs: &[(&str, &str)]) -> FormPairs {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn a_form_becomes_assignments_empty_unshown_and_secret_fields_left_alone() {
        let m = manifest();
        let answer = form(&[
            ("csrf", "t"),
            ("url", " https://shop.example "),
            ("key", ""),
            ("shown", "flag"),
            ("shown", "kinds"),
            ("kinds", "a"),
            ("kinds", "b"),
            ("mode", ""),
            ("unknown", "x"),
        ]);
        assert_eq!(
            assignments(&m, &answer),
            ["url=https://shop.example", "flag=false", "kinds=a,b"]
        );
        let host_level = form(&[
            ("host.job_deadline", " 2h "),
            ("host.isolation", ""),
            ("clear", "host.memory_limit"),
            ("clear", "url"),
        ]);
        assert_eq!(assignments(&m, &host_level), ["host.job_deadline=2h"]);
        assert_eq!(cleared(&host_level), ["host.memory_limit", "url"]);
        let answer = form(&[
            ("key", "s3cret"),
            ("shown", "flag"),
            ("flag", "true"),
            ("shown", "kinds"),
        ]);
        assert_eq!(
            assignments(&m, &answer),
            ["key=s3cret", "flag=true", "kinds="]
        );
        let unmarked = form(&[("flag", "true"), ("kinds", "a")]);
        assert!(
            assignments(&m, &unmarked).is_empty(),
            "not shown: left alone"
        );
    }

    #[test]
    fn a_refused_form_shows_its_values_again_but_never_a_secret() {
        let m = manifest();
        let values = submitted(
            &m,
            &form(&[("url", "nope"), ("key", "s3cret"), ("kinds", "b")]),
        );
        assert_eq!(values.get("url"), Some(&Value::from("nope")));
        assert_eq!(values.get("key"), None);
        assert_eq!(values.get("kinds"), Some(&serde_json::json!(["b"])));
        let shown = Shown {
            values: &values,
            stored: &["url".into(), "host.open_files".into()],
            secrets: &[("key".into(), true)],
            errors: &HashMap::from([("url".to_string(), "must be a URL".to_string())]),
            editable: true,
        };
        let html = fields(&m, &shown).into_string();
        assert!(!html.contains("s3cret"));
        assert!(html.contains("(set)"));
        assert!(html.contains("must be a URL"));
        assert!(html.contains(r#"type="url""#));
        assert!(html.contains("<select"));
        assert!(html.contains(r#"id="clear-url""#));
        assert!(html.contains(r#"id="clear-host.open_files""#));
        assert!(
            !html.contains(r#"id="clear-mode""#),
            "nothing stored to clear"
        );
        assert!(html.contains(r#"name="host.job_deadline""#));
    }

    #[test]
    fn every_error_of_a_type_is_found_at_once_and_host_values_read_as_typed() {
        let m = manifest();
        let errors = type_errors(
            &m,
            &[
                "url=not a url".into(),
                "host.job_deadline=soon".into(),
                "host.open_files=64".into(),
                "flag=true".into(),
            ],
        );
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors.contains_key("url") && errors.contains_key("host.job_deadline"));
        assert_eq!(host_text(JOB_DEADLINE, &Value::from(7200)), "2h");
        assert_eq!(host_text(JOB_DEADLINE, &Value::from(90)), "90s");
        assert_eq!(
            host_text(isolation::MEMORY_LIMIT, &Value::from(512u64 << 20)),
            "512M"
        );
        assert_eq!(host_text(isolation::OPEN_FILES, &Value::from(64)), "64");
        assert_eq!(
            host_text(isolation::ISOLATION, &Value::from("in-process")),
            "in-process"
        );
    }
}
