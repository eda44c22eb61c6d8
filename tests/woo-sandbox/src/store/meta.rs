//! Meta writes as `WC_Data::update_meta_data` makes them and WordPress
//! stores them: by `id` when one is sent (an unknown id adds the key anew,
//! replacing every entry under it), else by key (the first entry under the
//! key takes the value, the others are deleted), else added; a `null` (or
//! missing) value deletes. What is stored is what WordPress reads back: a
//! scalar as a string (`5` → `"5"`, `true` → `"1"`, `false` → `""`), an
//! object or array as a PHP array (kept as JSON objects and arrays; an
//! object keyed `"0".."n-1"` in order, or an empty one, comes back as a
//! JSON array, as `json_encode` writes PHP lists).

use serde_json::{Map, Number, Value};

use super::Store;
use crate::model::MetaEntry;
use crate::writes::MetaWrite;

impl Store {
    /// Apply `writes` to `target` in order; new entries get the next meta
    /// ids once all are applied (as `save_meta_data` inserts them).
    pub(crate) fn apply_meta(&mut self, target: &mut Vec<MetaEntry>, writes: &[MetaWrite]) {
        // (id, key, value): `None` marks an entry deleted on save, as
        // WooCommerce nulls a value until the object is saved.
        let mut work: Vec<(u64, String, Option<Value>)> = target
            .drain(..)
            .map(|m| (m.id, m.key, Some(m.value)))
            .collect();
        for w in writes {
            let value = stored_value(&w.value);
            let at = match w.id {
                Some(id) => work.iter().position(|e| e.0 == id),
                None => {
                    let mut matches = work
                        .iter_mut()
                        .enumerate()
                        .filter(|(_, e)| e.1 == w.key)
                        .map(|(i, e)| (i, &mut e.2));
                    let first = matches.next().map(|(i, _)| i);
                    for (_, rest) in matches {
                        *rest = None;
                    }
                    first
                }
            };
            match at {
                Some(i) => {
                    work[i].1.clone_from(&w.key);
                    work[i].2 = value;
                }
                None => {
                    // add_meta_data( $key, $value, true ): unique.
                    for e in work.iter_mut().filter(|e| e.1 == w.key) {
                        e.2 = None;
                    }
                    work.push((0, w.key.clone(), value));
                }
            }
        }
        for (id, key, value) in work {
            let Some(value) = value else { continue };
            let id = if id == 0 {
                self.next_meta_id += 1;
                self.next_meta_id - 1
            } else {
                id
            };
            target.push(MetaEntry { id, key, value });
        }
    }
}

/// The value WordPress reads back for a meta value written as `v`; `None`
/// for `null` (the entry is deleted).
pub fn stored_value(v: &Value) -> Option<Value> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => Value::String(if *b { "1" } else { "" }.into()),
        Value::Number(n) => Value::String(php_number_string(n)),
        Value::String(s) => Value::String(s.clone()),
        Value::Array(_) | Value::Object(_) => php_array(v),
    })
}

/// A JSON value after a round trip through a PHP array
/// (`json_decode(..., true)`, `serialize`, `json_encode`).
fn php_array(v: &Value) -> Value {
    match v {
        Value::Array(items) => Value::Array(items.iter().map(php_array).collect()),
        Value::Object(map) => {
            let is_list = map.keys().enumerate().all(|(i, k)| *k == i.to_string());
            if is_list {
                Value::Array(map.values().map(php_array).collect())
            } else {
                Value::Object(
                    map.iter()
                        .map(|(k, v)| (k.clone(), php_array(v)))
                        .collect::<Map<_, _>>(),
                )
            }
        }
        other => other.clone(),
    }
}

/// A number as PHP casts it to a string when the database stores it:
/// integers as they are, floats with 14 significant digits (`precision`),
/// whole floats without a fraction (`5.0` → `"5"`).
fn php_number_string(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    if f.fract() == 0.0 && f.abs() < 1e15 {
        return format!("{}", f as i64);
    }
    let rounded: f64 = format!("{f:.13e}").parse().unwrap_or(f);
    format!("{rounded}")
}

#[cfg(test)]
mod tests {
    use super::super::testing::store;
    use super::*;
    use serde_json::json;

    fn write(key: &str, value: Value) -> MetaWrite {
        MetaWrite {
            id: None,
            key: key.into(),
            value,
        }
    }

    fn entries(list: &[MetaEntry]) -> Vec<(u64, &str, &Value)> {
        list.iter()
            .map(|m| (m.id, m.key.as_str(), &m.value))
            .collect()
    }

    #[test]
    fn scalars_come_back_as_strings_arrays_as_php_arrays() {
        assert_eq!(stored_value(&json!(5)), Some(json!("5")));
        assert_eq!(stored_value(&json!(8.25)), Some(json!("8.25")));
        assert_eq!(stored_value(&json!(5.0)), Some(json!("5")));
        assert_eq!(
            stored_value(&json!(0.300_000_000_000_000_04)),
            Some(json!("0.3"))
        );
        assert_eq!(stored_value(&json!(true)), Some(json!("1")));
        assert_eq!(stored_value(&json!(false)), Some(json!("")));
        assert_eq!(stored_value(&Value::Null), None);
        assert_eq!(
            stored_value(&json!({"carrier": "ups", "boxes": [1, 2.5, true, null], "n": 3})),
            Some(json!({"carrier": "ups", "boxes": [1, 2.5, true, null], "n": 3})),
            "inside arrays PHP keeps the types"
        );
        assert_eq!(stored_value(&json!({})), Some(json!([])));
        assert_eq!(
            stored_value(&json!({"0": "a", "1": {"1": "b"}})),
            Some(json!(["a", {"1": "b"}]))
        );
    }

    #[test]
    fn writes_update_by_key_or_id_and_null_deletes() {
        let mut s = store();
        let first = s.next_meta_id;
        let mut meta = Vec::new();
        s.apply_meta(
            &mut meta,
            &[write("a", json!(1)), write("b", json!({"x": 1}))],
        );
        assert_eq!(
            entries(&meta),
            [
                (first, "a", &json!("1")),
                (first + 1, "b", &json!({"x": 1}))
            ]
        );
        // Duplicates (as seeds or plugins leave them): by key, the first
        // takes the value and the rest go.
        meta.push(MetaEntry {
            id: 900,
            key: "a".into(),
            value: json!("dup"),
        });
        s.apply_meta(&mut meta, &[write("a", json!("2"))]);
        assert_eq!(
            entries(&meta),
            [
                (first, "a", &json!("2")),
                (first + 1, "b", &json!({"x": 1}))
            ]
        );
        // By id: that entry, even under another key.
        s.apply_meta(
            &mut meta,
            &[MetaWrite {
                id: Some(first + 1),
                key: "c".into(),
                value: json!("3"),
            }],
        );
        assert_eq!(entries(&meta)[1], (first + 1, "c", &json!("3")));
        // An unknown id adds the key anew, replacing its entries.
        s.apply_meta(
            &mut meta,
            &[MetaWrite {
                id: Some(12_345),
                key: "a".into(),
                value: json!("4"),
            }],
        );
        assert_eq!(
            entries(&meta),
            [(first + 1, "c", &json!("3")), (first + 2, "a", &json!("4"))]
        );
        s.apply_meta(
            &mut meta,
            &[write("c", Value::Null), write("zz", Value::Null)],
        );
        assert_eq!(entries(&meta), [(first + 2, "a", &json!("4"))]);
    }
}
