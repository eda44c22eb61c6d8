//! Property tests (a fuzz target that runs in `cargo test`) of the settings
//! parser every host form and `plugins settings --set` goes through:
//! `SettingField::parse_input`, `SettingField::check_value` and
//! `parse_time_of_day`. Nothing may panic; a refusal is one line naming the
//! field; what is accepted passes the field's own check and reads back the
//! same.
//!
//! 256 cases per property by default; `PROPTEST_CASES=100000 cargo test -p
//! plugin-api --test fuzz_settings` runs longer.

use plugin_api::{ChoiceOption, FieldKind, SettingField, parse_time_of_day};
use proptest::prelude::*;
use serde_json::Value;

fn options() -> impl Strategy<Value = Vec<ChoiceOption>> {
    prop::collection::vec("[a-z_-]{1,8}|\\PC{0,6}", 0..6).prop_map(|values| {
        values
            .iter()
            .map(|v| ChoiceOption::new(v, "label"))
            .collect()
    })
}

fn kind() -> impl Strategy<Value = FieldKind> {
    prop_oneof![
        Just(FieldKind::Text),
        Just(FieldKind::Secret),
        Just(FieldKind::Bool),
        (any::<Option<i64>>(), any::<Option<i64>>())
            .prop_map(|(min, max)| FieldKind::Integer { min, max }),
        options().prop_map(|options| FieldKind::Choice { options }),
        options().prop_map(|options| FieldKind::MultiChoice { options }),
        Just(FieldKind::TimeOfDay),
        Just(FieldKind::Url),
    ]
}

/// What a person might type: anything, or something close to valid.
fn typed() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9+-]{0,3}:[0-9+-]{0,3}",
        "-?[0-9]{1,25}",
        "(https?|ftp|javascript)://[a-z .:/?#@\\[\\]]{0,20}",
        "( *(yes|no|on|off|true|false|1|0|[a-z_-]{1,8}) *,?){0,4}",
        "\\s{0,3}\\PC{0,12}\\s{0,3}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        typed().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("\\PC{0,4}", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// The text a person would type to get `value` back.
fn as_typed(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().unwrap_or_default())
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    }
}

proptest! {
    #[test]
    fn typed_values_are_accepted_consistently_or_refused_in_one_line(kind in kind(), raw in typed()) {
        let field = SettingField::new("field_key", "Field", kind);
        match field.parse_input(&raw) {
            Ok(value) => {
                prop_assert!(field.check_value(&value).is_ok(), "{value} passed parse, not check");
                let again = field.parse_input(&as_typed(&value));
                prop_assert_eq!(again.as_ref().ok(), Some(&value), "{} does not read back", value);
                if let (FieldKind::Integer { min, max }, Some(n)) = (&field.kind, value.as_i64()) {
                    prop_assert!(min.is_none_or(|lo| n >= lo) && max.is_none_or(|hi| n <= hi));
                }
            }
            Err(error) => {
                let text = error.to_string();
                prop_assert!(text.starts_with("field_key: "), "{}", text);
                prop_assert!(text.len() > "field_key: ".len(), "{}", text);
                prop_assert!(!field.kind_name().is_empty());
                if !matches!(field.kind, FieldKind::Choice { .. } | FieldKind::MultiChoice { .. }) {
                    prop_assert!(!text.contains('\n'), "{}", text);
                }
            }
        }
    }

    #[test]
    fn any_json_value_is_checked_without_panicking(kind in kind(), value in json_value()) {
        let field = SettingField::new("k", "K", kind);
        if let Err(error) = field.check_value(&value) {
            prop_assert!(error.to_string().starts_with("k: "));
        }
    }

    #[test]
    fn times_of_day_are_minutes_of_one_day(text in prop_oneof![any::<String>(), "[0-9+-]{0,3}:[0-9+-]{0,3}"]) {
        if let Some(minutes) = parse_time_of_day(&text) {
            prop_assert!(minutes < 24 * 60, "{} gave {}", text, minutes);
            let (h, m) = text.split_once(':').unwrap();
            let (h, m): (u16, u16) = (h.parse().unwrap(), m.parse().unwrap());
            prop_assert_eq!(minutes, h * 60 + m);
        }
    }

    #[test]
    fn every_real_time_of_day_is_accepted(h in 0u16..24, m in 0u16..60) {
        prop_assert_eq!(parse_time_of_day(&format!("{h:02}:{m:02}")), Some(h * 60 + m));
        let field = SettingField::new("at", "At", FieldKind::TimeOfDay);
        let typed = format!(" {h:02}:{m:02} ");
        prop_assert!(field.parse_input(&typed).is_ok());
    }
}

/// `HH:MM` means two ASCII digits, a colon, two ASCII digits (`u16`'s own
/// parser would take a leading `+`).
#[test]
fn a_time_of_day_is_exactly_two_digits_a_colon_and_two_digits() {
    for text in ["+1:30", "+0:+0", "0+:00"] {
        assert_eq!(parse_time_of_day(text), None, "{text}");
    }
}
