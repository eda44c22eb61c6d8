//! Pieces shared by products, variations and orders.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::lenient;

/// One `meta_data` entry. The value is whatever a plugin stored: any JSON.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Meta {
    #[serde(default, deserialize_with = "lenient::whole")]
    pub id: Option<i64>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub key: String,
    #[serde(default)]
    pub value: Value,
}

/// Finds the first meta entry with this key.
pub fn meta_value<'a>(meta: &'a [Meta], key: &str) -> Option<&'a Value> {
    meta.iter().find(|m| m.key == key).map(|m| &m.value)
}

/// Whether WooCommerce manages stock for the item: on a variation it can be
/// `"parent"` (the variation follows its parent's stock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ManageStock {
    Yes,
    #[default]
    No,
    Parent,
}

impl<'de> Deserialize<'de> for ManageStock {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Bool(true) => Ok(Self::Yes),
            Value::Bool(false) | Value::Null => Ok(Self::No),
            Value::String(s) => match s.as_str() {
                "parent" => Ok(Self::Parent),
                "yes" | "true" | "1" => Ok(Self::Yes),
                "no" | "false" | "0" | "" => Ok(Self::No),
                _ => Err(serde::de::Error::custom(format!(
                    "{s:?} is not a manage_stock value"
                ))),
            },
            other => Err(serde::de::Error::custom(format!(
                "{other} is not a manage_stock value"
            ))),
        }
    }
}

/// The native Cost of Goods Sold field of a product or variation (present
/// only when the store has the feature on).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct CostOfGoods {
    #[serde(default, deserialize_with = "lenient::list")]
    pub values: Vec<CostValue>,
    #[serde(default, deserialize_with = "lenient::number")]
    pub total_value: Option<f64>,
    /// Variations, WooCommerce 10.0-10.2: the defined value is added to the
    /// parent's.
    #[serde(default, deserialize_with = "lenient::flag")]
    pub defined_value_is_additive: bool,
    /// Variations, later WooCommerce: the defined value replaces the
    /// parent's (`false`: it is added to it).
    #[serde(default, deserialize_with = "lenient::optional_flag")]
    pub defined_value_overrides_parent: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct CostValue {
    #[serde(default, deserialize_with = "lenient::number")]
    pub defined_value: Option<f64>,
    #[serde(default, deserialize_with = "lenient::number")]
    pub effective_value: Option<f64>,
}

impl CostOfGoods {
    /// The unit cost WooCommerce computed: `total_value`, else the sum of the
    /// effective values.
    pub fn unit_cost(&self) -> Option<f64> {
        self.total_value.or_else(|| {
            let known: Vec<f64> = self
                .values
                .iter()
                .filter_map(|v| v.effective_value)
                .collect();
            (!known.is_empty()).then(|| known.iter().sum())
        })
    }
}
