//! A plugin's settings form, built from its manifest alone (a third-party
//! plugin gets its form for free), and the form's answer turned back into
//! the `key=value` assignments [`crate::service::admin::change_settings`] takes.
//! Pure: no host, no I/O.
//!
//! Secrets are write-only: the form shows whether one is set, never its
//! value, and an empty secret field leaves the stored one as it is. So does
//! any empty field. A check box or multi-choice sends nothing when none is
//! ticked, so the form marks each one it showed (`shown=KEY`): a marked one
//! that sent nothing means "none"; an unmarked one is left as it is.

use std::collections::HashMap;

use maud::{Markup, html};
use plugin_api::{FieldKind, Manifest, SettingField, Settings};
use serde_json::Value;

use super::form::{FormPairs, field};

/// The form field that marks a check box or multi-choice as shown.
const SHOWN: &str = "shown";

/// The `key=value` assignments a submitted form asks for.
pub fn assignments(manifest: &Manifest, form: &FormPairs) -> Vec<String> {
    let mut out = Vec::new();
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

/// The values a refused form showed, to show them again (never a secret's).
pub fn submitted(manifest: &Manifest, form: &FormPairs) -> Settings {
    let mut values = Settings::default();
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

/// What the form shows for one field.
pub struct Shown<'a> {
    pub values: &'a Settings,
    /// Secret keys and whether each has a value.
    pub secrets: &'a [(String, bool)],
    /// Field key -> why its value was refused.
    pub errors: &'a HashMap<String, String>,
    /// Whether the viewer may save (a read-only viewer sees the form disabled).
    pub editable: bool,
}

/// The fields of the form (the caller wraps them in its `<form>`).
pub fn fields(manifest: &Manifest, shown: &Shown<'_>) -> Markup {
    html! {
        @for f in &manifest.settings {
            div class="field" {
                label for=(input_id(f)) {
                    (f.label)
                    @if f.required { " *" }
                }
                (control(f, shown))
                @if !f.help.is_empty() { small class="help" { (f.help) } }
                @if let Some(default) = &f.default {
                    small class="default" { "Default: " (text_of(default)) }
                }
                @if let Some(e) = shown.errors.get(&f.key) {
                    strong class="field-error" id=(format!("error-{}", f.key)) { (e) }
                }
            }
        }
    }
}

fn input_id(f: &SettingField) -> String {
    format!("field-{}", f.key)
}

fn control(f: &SettingField, shown: &Shown<'_>) -> Markup {
    let id = input_id(f);
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
    }
}
