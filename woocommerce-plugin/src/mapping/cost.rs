//! A product's or variation's unit cost, as a decimal string.
//!
//! WooCommerce's own Cost of Goods field (`cost_of_goods_sold`) counts when
//! a value is *defined* on the record: a product's defined values summed; a
//! variation's defined value alone when it overrides its parent, else added
//! to the parent's; a variation with none of its own takes its parent's.
//! Otherwise the meta field (e.g. `_wc_cog_cost`) holds it. Costs travel as
//! JSON numbers or strings and are kept as exact decimals, never floats.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;
use woo_client::model::{CostOfGoods, Meta, meta_value};

use crate::settings::CostSource;

/// What one record says about its cost.
#[derive(Clone, Copy, Debug, Default)]
pub struct CostFields<'a> {
    pub cost_of_goods: Option<&'a CostOfGoods>,
    pub meta: &'a [Meta],
}

/// The unit cost of a record (`parent`: a variation's variable product),
/// or `None` when no source defines one.
pub fn unit_cost(
    source: CostSource,
    meta_key: &str,
    own: CostFields<'_>,
    parent: Option<CostFields<'_>>,
) -> Option<String> {
    let cost = match source {
        CostSource::None => None,
        CostSource::Meta => meta_cost(meta_key, own, parent),
        CostSource::CostOfGoods => {
            native_cost(own, parent).or_else(|| meta_cost(meta_key, own, parent))
        }
    };
    cost.map(|c| c.normalize().to_string())
}

fn native_cost(own: CostFields<'_>, parent: Option<CostFields<'_>>) -> Option<Decimal> {
    let parent_defined = parent.and_then(|p| p.cost_of_goods).and_then(defined);
    let Some(cogs) = own.cost_of_goods else {
        return parent_defined;
    };
    let Some(own_defined) = defined(cogs) else {
        return parent_defined;
    };
    if parent.is_none() {
        return Some(own_defined);
    }
    let additive = cogs
        .defined_value_overrides_parent
        .map_or(cogs.defined_value_is_additive, |overrides| !overrides);
    match (additive, parent_defined) {
        (true, Some(parent_cost)) => Some(parent_cost + own_defined),
        _ => Some(own_defined),
    }
}

/// The sum of the defined values, or `None` when none is defined.
fn defined(cogs: &CostOfGoods) -> Option<Decimal> {
    let values: Vec<Decimal> = cogs
        .values
        .iter()
        .filter_map(|v| v.defined_value)
        .filter_map(decimal_from_f64)
        .collect();
    (!values.is_empty()).then(|| values.into_iter().sum())
}

fn meta_cost(key: &str, own: CostFields<'_>, parent: Option<CostFields<'_>>) -> Option<Decimal> {
    meta_decimal(own.meta, key).or_else(|| parent.and_then(|p| meta_decimal(p.meta, key)))
}

fn meta_decimal(meta: &[Meta], key: &str) -> Option<Decimal> {
    match meta_value(meta, key)? {
        Value::String(s) => parse_cost(s),
        Value::Number(n) => parse_cost(&n.to_string()),
        _ => None,
    }
}

/// A JSON number as WooCommerce wrote it: the shortest decimal that reads
/// back as the same `f64` (8.25 stays "8.25").
fn decimal_from_f64(value: f64) -> Option<Decimal> {
    value
        .is_finite()
        .then(|| parse_cost(&value.to_string()))
        .flatten()
}

/// A non-negative decimal; empty or anything else is no cost.
fn parse_cost(text: &str) -> Option<Decimal> {
    let text = text.trim();
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .ok()
        .filter(|d| !d.is_sign_negative())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn cogs(value: serde_json::Value) -> CostOfGoods {
        serde_json::from_value(value).unwrap()
    }

    fn meta(key: &str, value: serde_json::Value) -> Vec<Meta> {
        vec![serde_json::from_value(json!({"id": 1, "key": key, "value": value})).unwrap()]
    }

    const KEY: &str = "_wc_cog_cost";

    #[test]
    fn a_products_defined_value_wins_over_meta() {
        let c = cogs(
            json!({"values": [{"defined_value": 8.25, "effective_value": 8.25}], "total_value": 8.25}),
        );
        let m = meta(KEY, json!("7.00"));
        let own = CostFields {
            cost_of_goods: Some(&c),
            meta: &m,
        };
        assert_eq!(
            unit_cost(CostSource::CostOfGoods, KEY, own, None).as_deref(),
            Some("8.25")
        );
        assert_eq!(
            unit_cost(CostSource::Meta, KEY, own, None).as_deref(),
            Some("7")
        );
        assert_eq!(unit_cost(CostSource::None, KEY, own, None), None);
    }

    #[test]
    fn an_undefined_native_cost_falls_back_to_meta_or_nothing() {
        // As recorded: a variable parent with no defined value.
        let c = cogs(
            json!({"values": [{"defined_value": null, "effective_value": 0}], "total_value": 0}),
        );
        let m = meta(KEY, json!(12.5));
        let with_meta = CostFields {
            cost_of_goods: Some(&c),
            meta: &m,
        };
        assert_eq!(
            unit_cost(CostSource::CostOfGoods, KEY, with_meta, None).as_deref(),
            Some("12.5")
        );
        let bare = CostFields {
            cost_of_goods: Some(&c),
            meta: &[],
        };
        assert_eq!(unit_cost(CostSource::CostOfGoods, KEY, bare, None), None);
        let junk = meta(KEY, json!("n/a"));
        let junk = CostFields {
            cost_of_goods: None,
            meta: &junk,
        };
        assert_eq!(unit_cost(CostSource::Meta, KEY, junk, None), None);
    }

    #[test]
    fn variations_override_add_to_or_inherit_the_parents_cost() {
        let parent = cogs(json!({"values": [{"defined_value": 10.1}]}));
        let parent = CostFields {
            cost_of_goods: Some(&parent),
            meta: &[],
        };
        let var = |v: serde_json::Value| cogs(v);
        let cost = |c: &CostOfGoods| {
            unit_cost(
                CostSource::CostOfGoods,
                KEY,
                CostFields {
                    cost_of_goods: Some(c),
                    meta: &[],
                },
                Some(parent),
            )
        };
        // WooCommerce 10.0.2 as recorded: not additive, so the variation's own.
        let own =
            var(json!({"values": [{"defined_value": 6}], "defined_value_is_additive": false}));
        assert_eq!(cost(&own).as_deref(), Some("6"));
        let added =
            var(json!({"values": [{"defined_value": 0.2}], "defined_value_is_additive": true}));
        assert_eq!(
            cost(&added).as_deref(),
            Some("10.3"),
            "exact, not 10.299999"
        );
        let newer_added =
            var(json!({"values": [{"defined_value": 1}], "defined_value_overrides_parent": false}));
        assert_eq!(cost(&newer_added).as_deref(), Some("11.1"));
        let newer_own =
            var(json!({"values": [{"defined_value": 1}], "defined_value_overrides_parent": true}));
        assert_eq!(cost(&newer_own).as_deref(), Some("1"));
        let inherits = var(json!({"values": [{"defined_value": null}]}));
        assert_eq!(cost(&inherits).as_deref(), Some("10.1"));
    }
}
