//! The seed-file format: one JSON object with `products` (variations are
//! products of type `variation` with a `parent_id`), `orders` and `notes`.
//! Field names and meanings are those of [`crate::model`]; see the README
//! for an example. `seeds/quickstart.json` in this crate is a small store
//! modelled on a real WooCommerce 10.0.2 store.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::{Note, Order, Product};

/// The contents of a seed file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Seed {
    /// Products and variations.
    #[serde(default)]
    pub products: Vec<Product>,
    /// Orders.
    #[serde(default)]
    pub orders: Vec<Order>,
    /// Order notes.
    #[serde(default)]
    pub notes: Vec<Note>,
}

impl Seed {
    /// Read a seed file.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read seed file {}: {e}", path.display()))?;
        Self::from_json(&text)
            .map_err(|e| anyhow::anyhow!("invalid seed file {}: {e}", path.display()))
    }

    /// Parse seed JSON.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The small store shipped with the crate (the README quick start).
    pub fn quickstart() -> Self {
        Self::from_json(include_str!("../seeds/quickstart.json")).expect("shipped seed is valid")
    }
}
