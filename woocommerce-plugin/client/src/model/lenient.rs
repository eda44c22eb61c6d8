//! Field decoders that accept what real stores send, not what the schema says.
//!
//! WooCommerce's JSON is loosely typed: prices are strings that may be empty,
//! some numbers arrive as strings and some strings as numbers, dates carry no
//! offset, and plugins put `null` where a string is documented.

use std::fmt;

use jiff::Timestamp;
use jiff::civil::DateTime;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A decimal amount as WooCommerce formats it (`"17.50"`), kept as text so no
/// precision is lost; `None` where the store sends `""` or `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Amount(String);

impl Amount {
    /// Parses a decimal in WooCommerce's format (optional sign, digits, dot).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let digits = text.strip_prefix('-').unwrap_or(text);
        let mut parts = digits.splitn(2, '.');
        let whole = parts.next().unwrap_or_default();
        let fraction = parts.next().unwrap_or("0");
        let valid = !whole.is_empty()
            && whole.bytes().all(|b| b.is_ascii_digit())
            && !fraction.is_empty()
            && fraction.bytes().all(|b| b.is_ascii_digit());
        valid.then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn to_f64(&self) -> f64 {
        self.0.parse().expect("an Amount holds a valid decimal")
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A price or total: a decimal string, `""`/`null` for unset, or a number.
pub fn amount<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Amount>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Amount::parse(&s)
            .map(Some)
            .ok_or_else(|| de::Error::custom(format!("{s:?} is not a decimal amount"))),
        Value::Number(n) => Amount::parse(&n.to_string())
            .map(Some)
            .ok_or_else(|| de::Error::custom(format!("{n} is not a decimal amount"))),
        other => Err(de::Error::custom(format!("{other} is not an amount"))),
    }
}

/// A JSON number, or a numeric string, or `null`.
pub fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Number(n) => Ok(n.as_f64()),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| de::Error::custom(format!("{s:?} is not a number"))),
        other => Err(de::Error::custom(format!("{other} is not a number"))),
    }
}

/// A whole number: an integer, a float with no fraction, a numeric string,
/// or `null`. A fractional quantity is an error, not a silent rounding.
pub fn whole<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let Some(n) = number(d)? else {
        return Ok(None);
    };
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Ok(Some(n as i64))
    } else {
        Err(de::Error::custom(format!("{n} is not a whole number")))
    }
}

/// An id: like [`whole`], with `null`/`""` read as 0 (WooCommerce's "none").
pub fn id<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match whole(d)? {
        None => Ok(0),
        Some(n) if n >= 0 => Ok(n as u64),
        Some(n) => Err(de::Error::custom(format!("{n} is not an id"))),
    }
}

/// A string that may arrive as `null` (read as `""`) or as a number.
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(de::Error::custom(format!("{other} is not text"))),
    }
}

/// A string that may be `null` and where `null` means something (a line
/// item's SKU is `null` when its product was deleted).
pub fn optional_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        other => Err(de::Error::custom(format!("{other} is not text"))),
    }
}

/// A boolean that some plugins send as `"yes"`/`"no"`, `1`/`0` or `null`.
pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(false),
        Value::Bool(b) => Ok(b),
        Value::Number(n) => Ok(n.as_f64().is_some_and(|v| v != 0.0)),
        Value::String(s) => match s.as_str() {
            "yes" | "true" | "1" => Ok(true),
            "no" | "false" | "0" | "" => Ok(false),
            _ => Err(de::Error::custom(format!("{s:?} is not a yes/no value"))),
        },
        other => Err(de::Error::custom(format!("{other} is not a yes/no value"))),
    }
}

/// A [`flag`] that may be absent or `null` (`None`).
pub fn optional_flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        other => flag(other).map(Some).map_err(de::Error::custom),
    }
}

/// A `*_gmt` date: `YYYY-MM-DDTHH:MM:SS` with no offset, meaning UTC; also
/// accepts an explicit `Z` or offset. `null` or `""` is `None`.
pub fn gmt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    let Some(text) = optional_text(d)?.filter(|s| !s.trim().is_empty()) else {
        return Ok(None);
    };
    parse_gmt(&text)
        .map(Some)
        .ok_or_else(|| de::Error::custom(format!("{text:?} is not a date")))
}

/// Parses a WooCommerce GMT date (no offset means UTC).
pub fn parse_gmt(text: &str) -> Option<Timestamp> {
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Some(ts);
    }
    let civil: DateTime = text.parse().ok()?;
    jiff::tz::TimeZone::UTC.to_timestamp(civil).ok()
}

/// A site-local date (no offset, in the store's time zone).
pub fn local_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime>, D::Error> {
    let Some(text) = optional_text(d)?.filter(|s| !s.trim().is_empty()) else {
        return Ok(None);
    };
    text.parse::<DateTime>()
        .map(Some)
        .map_err(|_| de::Error::custom(format!("{text:?} is not a date")))
}

/// A list that a plugin may have replaced with `null`.
pub fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Deserialize)]
    struct Probe {
        #[serde(default, deserialize_with = "amount")]
        amount: Option<Amount>,
        #[serde(default, deserialize_with = "whole")]
        whole: Option<i64>,
        #[serde(default, deserialize_with = "gmt_date")]
        gmt: Option<Timestamp>,
        #[serde(default, deserialize_with = "flag")]
        flag: bool,
        #[serde(default, deserialize_with = "text")]
        text: String,
    }

    fn probe(value: Value) -> Result<Probe, serde_json::Error> {
        serde_json::from_value(value)
    }

    #[test]
    fn amounts_accept_strings_numbers_and_empty() {
        assert_eq!(
            probe(json!({"amount": "17.50"}))
                .unwrap()
                .amount
                .unwrap()
                .as_str(),
            "17.50"
        );
        assert_eq!(
            probe(json!({"amount": 17.5}))
                .unwrap()
                .amount
                .unwrap()
                .to_f64(),
            17.5
        );
        assert!(probe(json!({"amount": ""})).unwrap().amount.is_none());
        assert!(probe(json!({"amount": null})).unwrap().amount.is_none());
        assert_eq!(
            probe(json!({"amount": "-5.00"}))
                .unwrap()
                .amount
                .unwrap()
                .to_f64(),
            -5.0
        );
        assert!(probe(json!({"amount": "12,50"})).is_err());
    }

    #[test]
    fn whole_numbers_accept_strings_and_integral_floats_only() {
        assert_eq!(probe(json!({"whole": 21})).unwrap().whole, Some(21));
        assert_eq!(probe(json!({"whole": "43"})).unwrap().whole, Some(43));
        assert_eq!(probe(json!({"whole": 6.0})).unwrap().whole, Some(6));
        assert_eq!(probe(json!({"whole": -2})).unwrap().whole, Some(-2));
        assert_eq!(probe(json!({"whole": null})).unwrap().whole, None);
        assert!(probe(json!({"whole": 2.7})).is_err());
    }

    #[test]
    fn dates_without_offset_are_utc() {
        let naive = probe(json!({"gmt": "2026-11-26T14:34:36"}))
            .unwrap()
            .gmt
            .unwrap();
        let zulu = probe(json!({"gmt": "2026-11-26T14:34:36Z"}))
            .unwrap()
            .gmt
            .unwrap();
        assert_eq!(naive, zulu);
        assert!(probe(json!({"gmt": null})).unwrap().gmt.is_none());
        assert!(probe(json!({"gmt": "yesterday"})).is_err());
    }

    #[test]
    fn flags_and_text_tolerate_php_forms() {
        assert!(probe(json!({"flag": "yes"})).unwrap().flag);
        assert!(!probe(json!({"flag": 0})).unwrap().flag);
        assert_eq!(probe(json!({"text": null})).unwrap().text, "");
        assert_eq!(probe(json!({"text": 1})).unwrap().text, "1");
    }
}
