//! Store products -> warehouse items. Pure: the records in, the plan out.
//!
//! - a simple product is one item; a variable product is kept as an item of
//!   kind `variable` (not stocked) and each of its variations is an item;
//!   a grouped product is never imported (its children are products of
//!   their own and are judged as what they are);
//! - external/affiliate products, and any product or variation that is
//!   virtual or downloadable, are left out, each judged on its own;
//! - a product outside the chosen statuses, or in the trash, is left out
//!   (and its item, if it has one, deactivated by the job);
//! - the item number is the SKU; a variation showing its parent's SKU has
//!   none of its own; without one, the `missing_sku` rule decides;
//! - two records with one SKU are both reported, neither imported;
//! - an item gets opening stock from WooCommerce's managed count (the host
//!   applies it only when the import creates the item).
//!
//! Each record is judged on its own ([`judge_product`], then
//! [`judge_variation`] with what its variable product left in a
//! [`Parent`]), so a job can judge records as their pages arrive and keep
//! only the small [`PlannedItem`]s; [`assemble`] then orders them and drops
//! the shared SKUs, which needs the whole catalogue. [`plan`] does it all
//! for records already in hand.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use plugin_api::warehouse::{ItemKind, ItemUpsert, OpeningStock};
use woo_client::model::{CostOfGoods, ManageStock, Meta, Product, ProductType, Variation};

use super::cost::{CostFields, unit_cost};
use crate::settings::{ImportRules, MissingSku};

/// The reason given with the opening stock transaction.
pub const OPENING_REASON: &str = "opening balance from WooCommerce";

/// An item to import: only what the import needs, since a large
/// catalogue's items are all held until the SKU check.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedItem {
    /// The product's or variation's id: the item's external id.
    pub id: u64,
    pub number: String,
    pub description: String,
    pub unit_cost: Option<String>,
    pub kind: ItemKind,
    /// A variation's variable product, when that is an item too.
    pub parent: Option<u64>,
    /// WooCommerce's count where it manages the record's stock itself: the
    /// item's opening stock.
    pub store_count: Option<i64>,
    /// A variation whose variable product keeps one count for all its
    /// variations (`manage_stock: "parent"`): that shared count. Such an
    /// item gets no opening stock: the pool cannot be split.
    pub shared_count: Option<i64>,
}

impl PlannedItem {
    /// The record in an admin's words, e.g. `product 11 "Widget"`.
    pub fn record(&self) -> String {
        let noun = match self.kind {
            ItemKind::Variation => "variation",
            _ => "product",
        };
        format!("{noun} {} {:?}", self.id, self.description)
    }

    /// No unit cost was found (the item is imported without one); a
    /// variable product is not stocked and needs none.
    pub fn cost_missing(&self) -> bool {
        self.unit_cost.is_none() && self.kind != ItemKind::Variable
    }

    pub fn upsert(&self, rules: &ImportRules) -> ItemUpsert {
        ItemUpsert {
            external_id: self.id.to_string(),
            number: self.number.clone(),
            description: self.description.clone(),
            unit_cost: self.unit_cost.clone(),
            unit_of_measure: Some(rules.unit_of_measure.clone()),
            kind: self.kind,
            parent: self.parent.map(|id| id.to_string()),
        }
    }

    /// The opening stock the item gets if the import creates it.
    pub fn opening(&self, count: Count<'_>) -> Option<OpeningStock> {
        self.store_count.map(|quantity| OpeningStock {
            item_external_id: self.id.to_string(),
            quantity,
            counted_at_ms: count.counted_at_ms,
            location: Some(count.rules.location.clone()),
            reason: OPENING_REASON.into(),
        })
    }
}

/// The pools among `items` that the warehouse has not counted yet, each
/// in an admin's words: "RED, BLUE share the store's count of 17: count
/// them in the warehouse". `counted`: by the item's id.
pub fn pools_to_count<'a>(
    items: impl IntoIterator<Item = &'a PlannedItem>,
    counted: impl Fn(u64) -> bool,
) -> Vec<String> {
    // By the variable product (the variation itself when that is no item).
    let mut pools: std::collections::BTreeMap<u64, (i64, Vec<&str>, bool)> =
        std::collections::BTreeMap::new();
    for item in items {
        let Some(shared) = item.shared_count else {
            continue;
        };
        let pool =
            pools
                .entry(item.parent.unwrap_or(item.id))
                .or_insert((shared, Vec::new(), true));
        pool.1.push(&item.number);
        pool.2 &= counted(item.id);
    }
    pools
        .into_values()
        .filter(|(_, _, all_counted)| !all_counted)
        .map(|(shared, mut numbers, _)| {
            numbers.sort_unstable();
            format!(
                "{} share the store's count of {shared}: count them in the warehouse",
                numbers.join(", ")
            )
        })
        .collect()
}

/// A record that is not imported, with the reason in an admin's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeftOut {
    pub record: String,
    /// Its external id (the product's or variation's id).
    pub external_id: String,
    pub reason: String,
}

/// What becomes of the catalogue read in one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Catalogue {
    /// Items to import, each variable product first in its group, then its
    /// variations (a variation's parent must come first).
    pub groups: Vec<Vec<PlannedItem>>,
    /// Left out on purpose.
    pub left_out: Vec<LeftOut>,
    /// Not imported because their SKU is not theirs alone.
    pub duplicates: Vec<LeftOut>,
}

impl Catalogue {
    pub fn items(&self) -> impl Iterator<Item = &PlannedItem> {
        self.groups.iter().flatten()
    }
}

/// When and where the store's counts were read, for opening stock.
#[derive(Clone, Copy, Debug)]
pub struct Count<'a> {
    pub counted_at_ms: i64,
    pub rules: &'a ImportRules,
}

/// One product, judged on its own.
#[derive(Clone, Debug, PartialEq)]
pub struct JudgedProduct {
    pub id: u64,
    /// Its item, or why it is left out.
    pub verdict: Result<PlannedItem, LeftOut>,
    /// A variable product whose variations are imported (with it, or
    /// without it when it has no SKU): what they need from it (boxed: most
    /// products are not variable, and every product read is held a while).
    pub parent: Option<Box<Parent>>,
}

/// What a variable product's variations need from it.
#[derive(Clone, Debug, PartialEq)]
pub struct Parent {
    pub id: u64,
    name: String,
    sku: String,
    /// The product itself is an item (the variations' parent item).
    imported: bool,
    cost_of_goods: Option<CostOfGoods>,
    /// Only the cost meta entry, if it has one.
    cost_meta: Vec<Meta>,
}

/// Plans the import of `products` (any order), with the variations read
/// for each variable product by its id.
pub fn plan(
    products: Vec<Product>,
    mut variations: HashMap<u64, Vec<Variation>>,
    rules: &ImportRules,
) -> Catalogue {
    let judged: Vec<JudgedProduct> = products.iter().map(|p| judge_product(p, rules)).collect();
    let mut judged_variations = HashMap::new();
    for parent in judged.iter().filter_map(|j| j.parent.as_ref()) {
        let verdicts = variations
            .remove(&parent.id)
            .into_iter()
            .flatten()
            .map(|v| judge_variation(&v, parent, rules))
            .collect();
        judged_variations.insert(parent.id, verdicts);
    }
    assemble(judged, judged_variations)
}

/// The catalogue from the products judged (in listing order) and the
/// variations judged, by their variable product's id. A left-out variable
/// product's variations are not looked at.
pub fn assemble(
    products: Vec<JudgedProduct>,
    mut variations: HashMap<u64, Vec<Result<PlannedItem, LeftOut>>>,
) -> Catalogue {
    let mut catalogue = Catalogue::default();
    for product in products {
        let own = match product.parent {
            Some(_) => variations.remove(&product.id).unwrap_or_default(),
            None => Vec::new(),
        };
        // Exactly as long as it needs: a catalogue is mostly one-item groups.
        let mut group = Vec::with_capacity(1 + own.len());
        match product.verdict {
            Ok(item) => group.push(item),
            Err(left_out) => catalogue.left_out.push(left_out),
        }
        for verdict in own {
            match verdict {
                Ok(item) => group.push(item),
                Err(left_out) => catalogue.left_out.push(left_out),
            }
        }
        if !group.is_empty() {
            catalogue.groups.push(group);
        }
    }
    drop_duplicate_numbers(&mut catalogue);
    catalogue
}

pub fn product_record(product: &Product) -> String {
    format!("product {} {:?}", product.id, product.name)
}

/// Judges one product on its own.
pub fn judge_product(product: &Product, rules: &ImportRules) -> JudgedProduct {
    let left_out = |reason: String| JudgedProduct {
        id: product.id,
        verdict: Err(LeftOut {
            record: product_record(product),
            external_id: product.id.to_string(),
            reason,
        }),
        parent: None,
    };
    let kind = match &product.kind {
        ProductType::Simple => ItemKind::Simple,
        ProductType::Variable => ItemKind::Variable,
        ProductType::Grouped => {
            return left_out("grouped product (its children are imported on their own)".into());
        }
        ProductType::External => return left_out("external/affiliate product".into()),
        ProductType::Variation => ItemKind::Variation,
        ProductType::Other(name) => {
            return left_out(format!(
                "product type {name:?} is not one IntelliTrack imports"
            ));
        }
    };
    if let Some(reason) = status_reason(&product.status, rules) {
        return left_out(reason);
    }
    if let Some(reason) = not_shipped_reason(product.is_virtual, product.downloadable) {
        return left_out(reason.into());
    }
    let number = match number(&product.sku, product.id, rules) {
        Ok(number) => number,
        Err(reason) if kind == ItemKind::Variable => {
            let mut judged = left_out(format!("{reason}; its variations are imported without it"));
            judged.parent = Some(Box::new(parent(product, false, rules)));
            return judged;
        }
        Err(reason) => return left_out(reason),
    };
    let stocked = kind != ItemKind::Variable;
    let unit_cost = stocked
        .then(|| {
            unit_cost(
                rules.cost_source,
                &rules.cost_meta_key,
                CostFields {
                    cost_of_goods: product.cost_of_goods_sold.as_ref(),
                    meta: &product.meta_data,
                },
                None,
            )
        })
        .flatten();
    JudgedProduct {
        id: product.id,
        verdict: Ok(PlannedItem {
            id: product.id,
            number,
            description: product.name.clone(),
            unit_cost,
            kind,
            parent: None,
            store_count: stocked
                .then(|| store_count(product.manage_stock, product.stock_quantity))
                .flatten(),
            shared_count: None,
        }),
        parent: (kind == ItemKind::Variable).then(|| Box::new(parent(product, true, rules))),
    }
}

fn parent(product: &Product, imported: bool, rules: &ImportRules) -> Parent {
    Parent {
        id: product.id,
        name: product.name.clone(),
        sku: product.sku.clone(),
        imported,
        cost_of_goods: product.cost_of_goods_sold.clone(),
        cost_meta: product
            .meta_data
            .iter()
            .filter(|m| m.key == rules.cost_meta_key)
            .cloned()
            .collect(),
    }
}

/// Judges one variation on its own, with what its variable product left.
pub fn judge_variation(
    variation: &Variation,
    parent: &Parent,
    rules: &ImportRules,
) -> Result<PlannedItem, LeftOut> {
    let description = variation_description(variation, &parent.name);
    let left_out = |reason: String| LeftOut {
        record: format!("variation {} {description:?}", variation.id),
        external_id: variation.id.to_string(),
        reason,
    };
    if let Some(reason) = status_reason(&variation.status, rules) {
        return Err(left_out(reason));
    }
    if let Some(reason) = not_shipped_reason(variation.is_virtual, variation.downloadable) {
        return Err(left_out(reason.into()));
    }
    // WooCommerce shows the parent's SKU on a variation without its own.
    let own_sku = if variation.sku.trim() == parent.sku.trim() {
        ""
    } else {
        variation.sku.as_str()
    };
    let number = number(own_sku, variation.id, rules).map_err(left_out)?;
    let unit_cost = unit_cost(
        rules.cost_source,
        &rules.cost_meta_key,
        CostFields {
            cost_of_goods: variation.cost_of_goods_sold.as_ref(),
            meta: &variation.meta_data,
        },
        Some(CostFields {
            cost_of_goods: parent.cost_of_goods.as_ref(),
            meta: &parent.cost_meta,
        }),
    );
    Ok(PlannedItem {
        id: variation.id,
        number,
        description,
        unit_cost,
        kind: ItemKind::Variation,
        parent: parent.imported.then_some(parent.id),
        store_count: store_count(variation.manage_stock, variation.stock_quantity),
        shared_count: (variation.manage_stock == ManageStock::Parent)
            .then(|| variation.stock_quantity.unwrap_or(0)),
    })
}

/// "Parent - options": the variations listing names a variation by its
/// attribute values alone ("L"); the product listing by the whole name.
fn variation_description(variation: &Variation, parent_name: &str) -> String {
    let own = variation.name.trim();
    if !own.is_empty() && own.starts_with(parent_name.trim()) {
        return own.to_owned();
    }
    let options = if own.is_empty() {
        variation
            .attributes
            .iter()
            .map(|a| a.option.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        own.to_owned()
    };
    format!("{} - {options}", parent_name.trim())
}

fn status_reason(status: &str, rules: &ImportRules) -> Option<String> {
    if status == "trash" {
        return Some("in the trash in WooCommerce".into());
    }
    (!rules.product_statuses.iter().any(|s| s == status)).then(|| {
        format!(
            "status {status:?} is not one of the imported product statuses ({})",
            rules.product_statuses.join(", ")
        )
    })
}

fn not_shipped_reason(is_virtual: bool, downloadable: bool) -> Option<&'static str> {
    match (is_virtual, downloadable) {
        (true, true) => Some("virtual and downloadable"),
        (true, false) => Some("virtual"),
        (false, true) => Some("downloadable"),
        (false, false) => None,
    }
}

fn number(sku: &str, id: u64, rules: &ImportRules) -> Result<String, String> {
    let sku = sku.trim();
    if !sku.is_empty() {
        return Ok(sku.to_owned());
    }
    match rules.missing_sku {
        MissingSku::UseId => Ok(format!("WC-{id}")),
        MissingSku::Skip => Err(format!(
            "no SKU (setting missing_sku=use_id imports it as WC-{id})"
        )),
    }
}

/// A count WooCommerce manages itself (`"parent"`: the variation shares
/// its parent's count, which is no count of its own).
fn store_count(manage_stock: ManageStock, stock_quantity: Option<i64>) -> Option<i64> {
    match (manage_stock, stock_quantity) {
        (ManageStock::Yes, Some(quantity)) => Some(quantity),
        _ => None,
    }
}

/// Removes every item whose number is not its own alone and reports each.
fn drop_duplicate_numbers(catalogue: &mut Catalogue) {
    // Each number's first holder, and the holders of those held twice or
    // more (a catalogue holds ~100,000 numbers: one id each, no list).
    let mut first: HashMap<&str, u64> = HashMap::new();
    let mut shared: HashMap<String, Vec<u64>> = HashMap::new();
    for item in catalogue.items() {
        match first.entry(&item.number) {
            Entry::Vacant(holder) => {
                holder.insert(item.id);
            }
            Entry::Occupied(holder) => shared
                .entry(item.number.clone())
                .or_insert_with(|| vec![*holder.get()])
                .push(item.id),
        }
    }
    drop(first);
    if shared.is_empty() {
        return;
    }
    let records: HashMap<u64, String> = catalogue
        .items()
        .filter(|i| shared.contains_key(&i.number))
        .map(|i| (i.id, i.record()))
        .collect();
    for group in &mut catalogue.groups {
        let dropped_parents: Vec<u64> = group
            .iter()
            .filter(|i| i.kind == ItemKind::Variable && shared.contains_key(&i.number))
            .map(|i| i.id)
            .collect();
        group.retain(|item| {
            let Some(ids) = shared.get(&item.number) else {
                return true;
            };
            let others: Vec<&str> = ids
                .iter()
                .filter(|id| **id != item.id)
                .map(|id| records[id].as_str())
                .collect();
            catalogue.duplicates.push(LeftOut {
                record: records[&item.id].clone(),
                external_id: item.id.to_string(),
                reason: format!(
                    "SKU {:?} is also used by {}; neither is imported until the SKUs differ",
                    item.number,
                    others.join(", ")
                ),
            });
            false
        });
        for item in group.iter_mut() {
            if item.parent.is_some_and(|p| dropped_parents.contains(&p)) {
                item.parent = None;
            }
        }
    }
    catalogue.groups.retain(|g| !g.is_empty());
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::settings::CostSource;

    fn rules() -> ImportRules {
        ImportRules {
            product_statuses: vec!["publish".into()],
            order_statuses: vec!["processing".into()],
            missing_sku: MissingSku::Skip,
            cost_source: CostSource::CostOfGoods,
            cost_meta_key: "_wc_cog_cost".into(),
            location: "MAIN".into(),
            unit_of_measure: "EA".into(),
        }
    }

    fn product(fields: Value) -> Product {
        let mut base = json!({
            "id": 1, "name": "Thing", "sku": "", "type": "simple", "status": "publish",
            "virtual": false, "downloadable": false, "manage_stock": true, "stock_quantity": 5,
        });
        base.as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    }

    fn variation(fields: Value) -> Variation {
        serde_json::from_value(product_json(fields)).unwrap()
    }

    fn product_json(fields: Value) -> Value {
        let mut base = json!({
            "id": 1, "parent_id": 10, "name": "Shirt - S", "sku": "", "status": "publish",
            "virtual": false, "downloadable": false, "manage_stock": true, "stock_quantity": 3,
        });
        base.as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        base
    }

    fn run(products: &[Product], variations: &[Variation], rules: &ImportRules) -> Catalogue {
        let mut by_parent: HashMap<u64, Vec<Variation>> = HashMap::new();
        for v in variations {
            by_parent.entry(v.parent_id).or_default().push(v.clone());
        }
        plan(products.to_vec(), by_parent, rules)
    }

    fn numbers(c: &Catalogue) -> Vec<(&str, ItemKind, Option<u64>)> {
        c.items()
            .map(|i| (i.number.as_str(), i.kind, i.parent))
            .collect()
    }

    fn reasons(left_out: &[LeftOut]) -> Vec<(&str, &str)> {
        left_out
            .iter()
            .map(|l| (l.external_id.as_str(), l.reason.as_str()))
            .collect()
    }

    #[test]
    fn the_product_type_table() {
        let products = [
            product(json!({"id": 1, "sku": "S-1"})),
            product(
                json!({"id": 10, "sku": "SHIRT", "type": "variable", "manage_stock": false, "stock_quantity": null}),
            ),
            product(
                json!({"id": 20, "sku": "SET", "type": "grouped", "grouped_products": [21, 22]}),
            ),
            product(json!({"id": 21, "sku": "SET-A"})),
            product(json!({"id": 22, "sku": "SET-EXT", "type": "external"})),
            product(json!({"id": 30, "sku": "GIFT", "virtual": true})),
            product(json!({"id": 31, "sku": "EBOOK", "downloadable": true})),
            product(json!({"id": 32, "sku": "BUNDLE", "type": "woosb"})),
        ];
        let variations = [
            variation(json!({"id": 11, "sku": "SHIRT-S"})),
            variation(json!({"id": 12, "sku": "SHIRT-V", "virtual": true})),
            variation(json!({"id": 13, "sku": "SHIRT-D", "downloadable": true})),
        ];
        let c = run(&products, &variations, &rules());
        assert_eq!(
            numbers(&c),
            [
                ("S-1", ItemKind::Simple, None),
                ("SHIRT", ItemKind::Variable, None),
                ("SHIRT-S", ItemKind::Variation, Some(10)),
                ("SET-A", ItemKind::Simple, None),
            ]
        );
        assert_eq!(
            reasons(&c.left_out),
            [
                ("12", "virtual"),
                ("13", "downloadable"),
                (
                    "20",
                    "grouped product (its children are imported on their own)"
                ),
                ("22", "external/affiliate product"),
                ("30", "virtual"),
                ("31", "downloadable"),
                (
                    "32",
                    "product type \"woosb\" is not one IntelliTrack imports"
                ),
            ]
        );
        // The variable product is not stocked: no opening stock, no cost report.
        let shirt = c.items().find(|i| i.number == "SHIRT").unwrap();
        assert_eq!((shirt.store_count, shirt.cost_missing()), (None, false));
    }

    #[test]
    fn skus_missing_shared_with_the_parent_or_duplicated() {
        let products = [
            product(json!({"id": 1, "sku": ""})),
            product(json!({"id": 2, "sku": "DUP"})),
            product(json!({"id": 3, "sku": " DUP "})),
            product(json!({"id": 10, "sku": "SHIRT", "type": "variable"})),
        ];
        // WooCommerce shows the parent's SKU on a variation without its own.
        let variations = [variation(json!({"id": 11, "sku": "SHIRT"}))];
        let c = run(&products, &variations, &rules());
        assert_eq!(numbers(&c), [("SHIRT", ItemKind::Variable, None)]);
        assert_eq!(
            reasons(&c.left_out),
            [
                (
                    "1",
                    "no SKU (setting missing_sku=use_id imports it as WC-1)"
                ),
                (
                    "11",
                    "no SKU (setting missing_sku=use_id imports it as WC-11)"
                ),
            ]
        );
        assert_eq!(
            reasons(&c.duplicates),
            [
                (
                    "2",
                    "SKU \"DUP\" is also used by product 3 \"Thing\"; neither is imported until the SKUs differ"
                ),
                (
                    "3",
                    "SKU \"DUP\" is also used by product 2 \"Thing\"; neither is imported until the SKUs differ"
                ),
            ]
        );
        let mut use_id = rules();
        use_id.missing_sku = MissingSku::UseId;
        let c = run(&products, &variations, &use_id);
        assert_eq!(numbers(&c)[..1], [("WC-1", ItemKind::Simple, None)]);
        assert!(numbers(&c).contains(&("WC-11", ItemKind::Variation, Some(10))));
    }

    #[test]
    fn a_variable_product_without_sku_keeps_its_variations() {
        let products = [product(json!({"id": 10, "sku": "", "type": "variable"}))];
        let variations = [variation(json!({"id": 11, "sku": "S-RED"}))];
        let c = run(&products, &variations, &rules());
        assert_eq!(numbers(&c), [("S-RED", ItemKind::Variation, None)]);
        assert_eq!(c.left_out.len(), 1);
    }

    #[test]
    fn statuses_and_the_trash() {
        let products = [
            product(json!({"id": 1, "sku": "A", "status": "draft"})),
            product(json!({"id": 2, "sku": "B", "status": "private"})),
            product(json!({"id": 3, "sku": "C", "status": "trash"})),
        ];
        let c = run(&products, &[], &rules());
        assert_eq!(numbers(&c), []);
        assert_eq!(
            reasons(&c.left_out),
            [
                (
                    "1",
                    "status \"draft\" is not one of the imported product statuses (publish)"
                ),
                (
                    "2",
                    "status \"private\" is not one of the imported product statuses (publish)"
                ),
                ("3", "in the trash in WooCommerce"),
            ]
        );
        let mut wider = rules();
        wider.product_statuses = vec!["publish".into(), "draft".into(), "private".into()];
        assert_eq!(run(&products, &[], &wider).items().count(), 2);
    }

    #[test]
    fn opening_stock_only_where_woocommerce_manages_the_count() {
        let products = [
            product(json!({"id": 1, "sku": "MANAGED", "stock_quantity": 7})),
            product(
                json!({"id": 2, "sku": "UNMANAGED", "manage_stock": false, "stock_quantity": null}),
            ),
            product(
                json!({"id": 10, "sku": "SHIRT", "type": "variable", "manage_stock": true, "stock_quantity": 9}),
            ),
        ];
        let variations = [
            variation(json!({"id": 11, "sku": "SHIRT-OWN", "stock_quantity": 4})),
            variation(
                json!({"id": 12, "sku": "SHIRT-PARENT", "manage_stock": "parent", "stock_quantity": 9}),
            ),
        ];
        let c = run(&products, &variations, &rules());
        let openings: Vec<_> = c
            .items()
            .map(|i| (i.number.as_str(), i.store_count))
            .collect();
        assert_eq!(
            openings,
            [
                ("MANAGED", Some(7)),
                ("UNMANAGED", None),
                ("SHIRT", None),
                ("SHIRT-OWN", Some(4)),
                ("SHIRT-PARENT", None),
            ]
        );
        assert_eq!(
            pools_to_count(c.items(), |_| false),
            ["SHIRT-PARENT share the store's count of 9: count them in the warehouse"]
        );
        assert_eq!(
            pools_to_count(c.items(), |id| id == 12),
            Vec::<String>::new()
        );
        let rules = rules();
        let count = Count {
            counted_at_ms: 77,
            rules: &rules,
        };
        let managed = c.items().next().unwrap().opening(count).unwrap();
        assert_eq!(
            (
                managed.counted_at_ms,
                managed.reason.as_str(),
                managed.location.as_deref()
            ),
            (77, OPENING_REASON, Some("MAIN"))
        );
    }
}
