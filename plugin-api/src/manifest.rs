//! What a plugin says about itself: identity, settings schema and jobs.
//!
//! The host builds its forms, its CLI and its schedule from the manifest, so
//! a plugin gets all three without writing any of them.

use serde::{Deserialize, Serialize};

use crate::settings::{FieldError, Settings};
use crate::version::ApiVersion;

/// A plugin's description of itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Stable identifier: lower-case letters, digits and `-`; the key of the
    /// plugin's settings, state, credentials and runs in the host.
    pub id: String,
    pub name: String,
    /// The plugin's own version (not the API version).
    pub version: String,
    pub description: String,
    /// The role feature a user needs to run this plugin's jobs by hand.
    pub feature: String,
    /// The API version the plugin was built against; filled in by the export glue.
    #[serde(default = "legacy_api_version")]
    pub api_version: ApiVersion,
    pub settings: Vec<SettingField>,
    pub jobs: Vec<JobSpec>,
}

fn legacy_api_version() -> ApiVersion {
    ApiVersion::new(1, 0)
}

/// One typed setting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SettingField {
    /// The key: lower-case letters, digits and `_`.
    pub key: String,
    pub label: String,
    #[serde(default)]
    pub help: String,
    pub kind: FieldKind,
    /// Whether activation is refused while the field has no value.
    #[serde(default)]
    pub required: bool,
    /// The value used when none is set (never for secrets).
    #[serde(default)]
    pub default: Option<serde_json::Value>,
}

/// The type of a setting, and the rules a value must follow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    /// Stored encrypted by the host, never shown, never logged; read with
    /// [`crate::Context::credential`].
    Secret,
    Bool,
    Integer {
        #[serde(default)]
        min: Option<i64>,
        #[serde(default)]
        max: Option<i64>,
    },
    Choice {
        options: Vec<ChoiceOption>,
    },
    MultiChoice {
        options: Vec<ChoiceOption>,
    },
    /// A local time of day, `HH:MM`.
    TimeOfDay,
    /// An `http://` or `https://` URL.
    Url,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChoiceOption {
    pub value: String,
    pub label: String,
}

impl ChoiceOption {
    pub fn new(value: &str, label: &str) -> Self {
        Self {
            value: value.into(),
            label: label.into(),
        }
    }
}

/// A job the plugin offers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobSpec {
    /// Stable identifier, e.g. `import-orders`.
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub schedule: ScheduleKind,
}

/// Which of the host's per-plugin schedules a job follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleKind {
    /// Every Sync Interval, inside the Sync Time Range.
    SyncInterval,
    /// Once a day at the End of Day time.
    EndOfDay,
    /// Only when a user runs it.
    ByHand,
}

impl ScheduleKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::SyncInterval => "sync interval",
            Self::EndOfDay => "end of day",
            Self::ByHand => "by hand only",
        }
    }
}

/// A manifest that breaks the rules above.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("invalid manifest: {0}")]
pub struct ManifestError(pub String);

impl Manifest {
    pub fn field(&self, key: &str) -> Option<&SettingField> {
        self.settings.iter().find(|f| f.key == key)
    }

    pub fn job(&self, id: &str) -> Option<&JobSpec> {
        self.jobs.iter().find(|j| j.id == id)
    }

    /// Checks identifiers, duplicate keys and defaults.
    pub fn check(&self) -> Result<(), ManifestError> {
        let bad = |what: String| Err(ManifestError(what));
        if !is_identifier(&self.id, '-') {
            return bad(format!(
                "plugin id {:?} must be lower-case letters, digits and '-'",
                self.id
            ));
        }
        for (i, field) in self.settings.iter().enumerate() {
            if !is_identifier(&field.key, '_') {
                return bad(format!(
                    "setting key {:?} must be lower-case letters, digits and '_'",
                    field.key
                ));
            }
            if self.settings[..i].iter().any(|f| f.key == field.key) {
                return bad(format!("setting {:?} is declared twice", field.key));
            }
            if let Some(default) = &field.default {
                if field.kind == FieldKind::Secret {
                    return bad(format!("secret {:?} cannot have a default", field.key));
                }
                if let Err(e) = field.check_value(default) {
                    return bad(format!("default of {e}"));
                }
            }
        }
        for (i, job) in self.jobs.iter().enumerate() {
            if !is_identifier(&job.id, '-') {
                return bad(format!(
                    "job id {:?} must be lower-case letters, digits and '-'",
                    job.id
                ));
            }
            if self.jobs[..i].iter().any(|j| j.id == job.id) {
                return bad(format!("job {:?} is declared twice", job.id));
            }
        }
        Ok(())
    }

    /// The settings a plugin sees: stored values over defaults, secrets left out.
    pub fn effective_settings(&self, stored: &Settings) -> Settings {
        let mut out = Settings::default();
        for field in &self.settings {
            if field.kind == FieldKind::Secret {
                continue;
            }
            if let Some(v) = stored.get(&field.key).or(field.default.as_ref()) {
                out.insert(&field.key, v.clone());
            }
        }
        out
    }

    /// Every required field without a value: `has_value(key)` says whether
    /// the host holds one (for secrets, in its credential store).
    pub fn missing_required(&self, has_value: impl Fn(&SettingField) -> bool) -> Vec<FieldError> {
        self.settings
            .iter()
            .filter(|f| f.required && f.default.is_none() && !has_value(f))
            .map(|f| FieldError::new(&f.key, "is required"))
            .collect()
    }
}

fn is_identifier(s: &str, sep: char) -> bool {
    !s.is_empty()
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == sep)
}

impl SettingField {
    pub fn new(key: &str, label: &str, kind: FieldKind) -> Self {
        Self {
            key: key.into(),
            label: label.into(),
            help: String::new(),
            kind,
            required: false,
            default: None,
        }
    }

    pub fn help(mut self, help: &str) -> Self {
        self.help = help.into();
        self
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn default_value(mut self, value: impl Into<serde_json::Value>) -> Self {
        self.default = Some(value.into());
        self
    }

    /// Parses a value typed by a person (CLI `key=value`, a form field) into
    /// its JSON form, or says why it is refused.
    ///
    /// Multi-choice values are comma lists; booleans accept
    /// `true/false/yes/no/on/off/1/0`.
    pub fn parse_input(&self, raw: &str) -> Result<serde_json::Value, FieldError> {
        use serde_json::Value;
        let raw = raw.trim();
        let value = match &self.kind {
            FieldKind::Bool => match raw.to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" | "1" => Value::Bool(true),
                "false" | "no" | "off" | "0" => Value::Bool(false),
                _ => return Err(self.error("must be true or false")),
            },
            FieldKind::Integer { .. } => match raw.parse::<i64>() {
                Ok(n) => Value::from(n),
                Err(_) => return Err(self.error("must be a whole number")),
            },
            FieldKind::MultiChoice { .. } => Value::Array(
                raw.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.into()))
                    .collect(),
            ),
            _ => Value::String(raw.into()),
        };
        self.check_value(&value)?;
        Ok(value)
    }

    /// Checks a JSON value against the field's kind and rules.
    pub fn check_value(&self, value: &serde_json::Value) -> Result<(), FieldError> {
        use serde_json::Value;
        match (&self.kind, value) {
            (FieldKind::Text, Value::String(_)) => Ok(()),
            (FieldKind::Secret, Value::String(s)) if s.is_empty() => {
                Err(self.error("must not be empty"))
            }
            (FieldKind::Secret, Value::String(_)) => Ok(()),
            (FieldKind::Bool, Value::Bool(_)) => Ok(()),
            (FieldKind::Integer { min, max }, Value::Number(n)) => {
                let Some(n) = n.as_i64() else {
                    return Err(self.error("must be a whole number"));
                };
                match (min, max) {
                    (Some(lo), _) if n < *lo => Err(self.error(&range_text(*min, *max))),
                    (_, Some(hi)) if n > *hi => Err(self.error(&range_text(*min, *max))),
                    _ => Ok(()),
                }
            }
            (FieldKind::Choice { options }, Value::String(s)) => {
                if options.iter().any(|o| &o.value == s) {
                    Ok(())
                } else {
                    Err(self.error(&format!("must be one of: {}", option_list(options))))
                }
            }
            (FieldKind::MultiChoice { options }, Value::Array(items)) => {
                for item in items {
                    let known = item
                        .as_str()
                        .is_some_and(|s| options.iter().any(|o| o.value == s));
                    if !known {
                        return Err(
                            self.error(&format!("{item} is not one of: {}", option_list(options)))
                        );
                    }
                }
                Ok(())
            }
            (FieldKind::TimeOfDay, Value::String(s)) => {
                if parse_time_of_day(s).is_some() {
                    Ok(())
                } else {
                    Err(self.error("must be a time of day as HH:MM, 00:00 to 23:59"))
                }
            }
            (FieldKind::Url, Value::String(s)) => check_url(s).map_err(|why| self.error(why)),
            _ => Err(self.error(&format!("has the wrong type for {}", self.kind_name()))),
        }
    }

    fn error(&self, reason: &str) -> FieldError {
        FieldError::new(&self.key, reason)
    }

    /// A short name of the kind, for forms and messages.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            FieldKind::Text => "text",
            FieldKind::Secret => "secret",
            FieldKind::Bool => "bool",
            FieldKind::Integer { .. } => "integer",
            FieldKind::Choice { .. } => "choice",
            FieldKind::MultiChoice { .. } => "multi-choice",
            FieldKind::TimeOfDay => "time of day",
            FieldKind::Url => "URL",
        }
    }
}

fn range_text(min: Option<i64>, max: Option<i64>) -> String {
    match (min, max) {
        (Some(lo), Some(hi)) => format!("must be from {lo} to {hi}"),
        (Some(lo), None) => format!("must be at least {lo}"),
        (None, Some(hi)) => format!("must be at most {hi}"),
        (None, None) => "is out of range".into(),
    }
}

fn option_list(options: &[ChoiceOption]) -> String {
    options
        .iter()
        .map(|o| o.value.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `HH:MM` as minutes after midnight.
pub fn parse_time_of_day(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    let two_digits = |p: &str| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit());
    if !two_digits(h) || !two_digits(m) {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

fn check_url(s: &str) -> Result<(), &'static str> {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or("must start with http:// or https://")?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err("must name a host, e.g. https://shop.example.com");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn statuses() -> SettingField {
        SettingField::new(
            "import_statuses",
            "Import statuses",
            FieldKind::MultiChoice {
                options: vec![
                    ChoiceOption::new("processing", "Processing"),
                    ChoiceOption::new("on-hold", "On hold"),
                ],
            },
        )
    }

    #[test]
    fn person_typed_values_are_parsed_by_kind() {
        let b = SettingField::new("b", "B", FieldKind::Bool);
        assert_eq!(b.parse_input("yes").unwrap(), json!(true));
        assert_eq!(b.parse_input("OFF").unwrap(), json!(false));
        assert!(b.parse_input("maybe").is_err());
        assert_eq!(
            statuses().parse_input("processing, on-hold").unwrap(),
            json!(["processing", "on-hold"])
        );
    }

    #[test]
    fn refusals_name_the_field_and_the_reason() {
        let n = SettingField::new(
            "timeout",
            "T",
            FieldKind::Integer {
                min: Some(1),
                max: Some(300),
            },
        );
        assert_eq!(
            n.parse_input("0").unwrap_err().to_string(),
            "timeout: must be from 1 to 300"
        );
        assert_eq!(
            n.parse_input("1.5").unwrap_err().to_string(),
            "timeout: must be a whole number"
        );
        assert_eq!(
            statuses().parse_input("shipped").unwrap_err().to_string(),
            "import_statuses: \"shipped\" is not one of: processing, on-hold"
        );
        let t = SettingField::new("eod", "E", FieldKind::TimeOfDay);
        assert!(t.parse_input("24:00").is_err());
        assert_eq!(t.parse_input("07:30").unwrap(), json!("07:30"));
        let u = SettingField::new("store_url", "U", FieldKind::Url);
        assert!(u.parse_input("shop.example.com").is_err());
        assert!(u.parse_input("https://").is_err());
        assert!(u.parse_input("http://127.0.0.1:8080/shop").is_ok());
        let s = SettingField::new("secret", "S", FieldKind::Secret);
        assert!(s.parse_input("").is_err());
    }

    #[test]
    fn check_refuses_bad_identifiers_and_defaults() {
        let mut m = Manifest {
            id: "good-id".into(),
            name: "n".into(),
            version: "1".into(),
            description: String::new(),
            feature: "f".into(),
            api_version: ApiVersion::new(1, 0),
            settings: vec![statuses().default_value(json!(["processing"]))],
            jobs: vec![],
        };
        assert_eq!(m.check(), Ok(()));
        m.settings.push(statuses());
        assert!(m.check().unwrap_err().0.contains("declared twice"));
        m.settings.pop();
        m.settings[0].default = Some(json!(["nope"]));
        assert!(
            m.check()
                .unwrap_err()
                .0
                .contains("default of import_statuses")
        );
        m.settings.clear();
        m.id = "Bad Id".into();
        assert!(m.check().is_err());
    }

    #[test]
    fn effective_settings_fill_defaults_and_leave_out_secrets() {
        let m = Manifest {
            id: "p".into(),
            name: "n".into(),
            version: "1".into(),
            description: String::new(),
            feature: "f".into(),
            api_version: ApiVersion::new(1, 0),
            settings: vec![
                statuses().default_value(json!(["processing"])),
                SettingField::new("key", "K", FieldKind::Secret).required(),
                SettingField::new("url", "U", FieldKind::Url).required(),
            ],
            jobs: vec![],
        };
        let mut stored = Settings::default();
        stored.insert("key", json!("s3cret"));
        let eff = m.effective_settings(&stored);
        assert_eq!(eff.get("import_statuses"), Some(&json!(["processing"])));
        assert_eq!(eff.get("key"), None);
        let missing = m.missing_required(|f| f.key == "key");
        assert_eq!(missing, vec![FieldError::new("url", "is required")]);
    }
}
