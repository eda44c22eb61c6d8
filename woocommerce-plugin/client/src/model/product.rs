//! Products and variations as the plugin reads them.

use jiff::Timestamp;
use jiff::civil::DateTime;
use serde::{Deserialize, Deserializer};

use super::common::{CostOfGoods, ManageStock, Meta};
use super::lenient::{self, Amount};

/// The product type; plugins register more than core's four.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ProductType {
    #[default]
    Simple,
    Variable,
    Grouped,
    External,
    Variation,
    Other(String),
}

impl ProductType {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Simple => "simple",
            Self::Variable => "variable",
            Self::Grouped => "grouped",
            Self::External => "external",
            Self::Variation => "variation",
            Self::Other(name) => name,
        }
    }
}

impl<'de> Deserialize<'de> for ProductType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match lenient::text(d)?.as_str() {
            "simple" | "" => Self::Simple,
            "variable" => Self::Variable,
            "grouped" => Self::Grouped,
            "external" => Self::External,
            "variation" => Self::Variation,
            other => Self::Other(other.to_owned()),
        })
    }
}

/// A product from `/products` (or a variation fetched through it).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Product {
    #[serde(deserialize_with = "lenient::id")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::text")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub sku: String,
    #[serde(default, rename = "type")]
    pub kind: ProductType,
    #[serde(default, deserialize_with = "lenient::text")]
    pub status: String,
    #[serde(default, deserialize_with = "lenient::id")]
    pub parent_id: u64,
    #[serde(default, rename = "virtual", deserialize_with = "lenient::flag")]
    pub is_virtual: bool,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub downloadable: bool,
    #[serde(default)]
    pub manage_stock: ManageStock,
    #[serde(default, deserialize_with = "lenient::whole")]
    pub stock_quantity: Option<i64>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub stock_status: String,
    #[serde(default, deserialize_with = "lenient::amount")]
    pub price: Option<Amount>,
    #[serde(default, deserialize_with = "lenient::amount")]
    pub regular_price: Option<Amount>,
    #[serde(default, deserialize_with = "lenient::amount")]
    pub sale_price: Option<Amount>,
    #[serde(default, deserialize_with = "lenient::local_date")]
    pub date_modified: Option<DateTime>,
    #[serde(default, deserialize_with = "lenient::gmt_date")]
    pub date_modified_gmt: Option<Timestamp>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub variations: Vec<u64>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub grouped_products: Vec<u64>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub meta_data: Vec<Meta>,
    #[serde(default)]
    pub cost_of_goods_sold: Option<CostOfGoods>,
}

impl Product {
    /// The `_fields` the client asks for, so only these travel.
    /// (Prices and the local dates are decoded when present, but the
    /// import does not ask for them: a large catalogue travels lighter.)
    pub const FIELDS: &'static str = "id,name,sku,type,status,parent_id,virtual,downloadable,\
manage_stock,stock_quantity,date_modified_gmt,variations,grouped_products,meta_data,\
cost_of_goods_sold";
}

/// One attribute choice of a variation (`Size: M`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct VariationAttribute {
    #[serde(default, deserialize_with = "lenient::text")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub option: String,
}

/// A variation from `/products/{id}/variations`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Variation {
    #[serde(deserialize_with = "lenient::id")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::id")]
    pub parent_id: u64,
    #[serde(default, deserialize_with = "lenient::text")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub sku: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub status: String,
    #[serde(default, rename = "virtual", deserialize_with = "lenient::flag")]
    pub is_virtual: bool,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub downloadable: bool,
    #[serde(default)]
    pub manage_stock: ManageStock,
    #[serde(default, deserialize_with = "lenient::whole")]
    pub stock_quantity: Option<i64>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub stock_status: String,
    #[serde(default, deserialize_with = "lenient::amount")]
    pub price: Option<Amount>,
    #[serde(default, deserialize_with = "lenient::amount")]
    pub regular_price: Option<Amount>,
    #[serde(default, deserialize_with = "lenient::amount")]
    pub sale_price: Option<Amount>,
    #[serde(default, deserialize_with = "lenient::local_date")]
    pub date_modified: Option<DateTime>,
    #[serde(default, deserialize_with = "lenient::gmt_date")]
    pub date_modified_gmt: Option<Timestamp>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub attributes: Vec<VariationAttribute>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub meta_data: Vec<Meta>,
    #[serde(default)]
    pub cost_of_goods_sold: Option<CostOfGoods>,
}

impl Variation {
    /// The `_fields` the client asks for, so only these travel.
    pub const FIELDS: &'static str = "id,parent_id,name,sku,status,virtual,downloadable,\
manage_stock,stock_quantity,date_modified_gmt,attributes,meta_data,cost_of_goods_sold";
}

/// A product's or variation's stock as End of Day reads it: only these
/// fields travel (`_fields`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StockRecord {
    #[serde(deserialize_with = "lenient::id")]
    pub id: u64,
    #[serde(default, rename = "type")]
    pub kind: ProductType,
    /// A variation's variable product; 0 for a product.
    #[serde(default, deserialize_with = "lenient::id")]
    pub parent_id: u64,
    #[serde(default)]
    pub manage_stock: ManageStock,
    #[serde(default, deserialize_with = "lenient::whole")]
    pub stock_quantity: Option<i64>,
    /// `no`, `notify` or `yes`: whether the count may go below zero.
    #[serde(default = "no_backorders", deserialize_with = "lenient::text")]
    pub backorders: String,
    /// A variable product's variations (their ids; empty for the others):
    /// a reader knows when it has read every variation of one.
    #[serde(default, deserialize_with = "lenient::list")]
    pub variations: Vec<u64>,
}

fn no_backorders() -> String {
    "no".into()
}

impl StockRecord {
    pub const FIELDS: &'static str =
        "id,type,parent_id,manage_stock,stock_quantity,backorders,variations";

    /// The store lets this count go below zero (backorders allowed).
    pub fn allows_backorders(&self) -> bool {
        !matches!(self.backorders.as_str(), "" | "no")
    }
}
