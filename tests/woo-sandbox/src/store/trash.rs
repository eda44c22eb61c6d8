//! `DELETE` of products, variations and orders, as the REST controllers'
//! `delete_item` does it: without `force` the record is trashed (WordPress
//! keeps the previous status in `_wp_trash_meta_status`, the time in
//! `_wp_trash_meta_time`, and a trashed post's slug gets `__trashed`);
//! trashing twice is 410 `woocommerce_rest_already_trashed`. With `force`
//! it is gone for good (a variable product with its variations). Nothing
//! here touches stock: WooCommerce restocks on status changes, not on
//! deletion.

use jiff::Timestamp;
use serde_json::Value;

use super::{ProductRoute, Store, product_not_found};
use crate::error::ApiError;
use crate::model::{MetaEntry, Order, Product, ProductType};

fn already_trashed(post_type: &str) -> ApiError {
    ApiError::new(
        410,
        "woocommerce_rest_already_trashed",
        format!("The {post_type} has already been deleted."),
    )
}

fn trash_meta(status: String, now: Timestamp) -> [MetaEntry; 2] {
    [
        MetaEntry {
            id: 0,
            key: "_wp_trash_meta_status".into(),
            value: Value::String(status),
        },
        MetaEntry {
            id: 0,
            key: "_wp_trash_meta_time".into(),
            value: Value::String(now.as_second().to_string()),
        },
    ]
}

impl Store {
    /// `DELETE /products/{id}` (`route` Products or ProductsBatch) or
    /// `/products/{parent}/variations/{id}` (`route` Variations; like
    /// WooCommerce it looks the id up without checking the parent). The
    /// answer is `before` applied to the record as it was before the
    /// deletion, as WooCommerce prepares its response first.
    pub fn delete_product<R>(
        &mut self,
        id: u64,
        route: ProductRoute,
        force: bool,
        now: Timestamp,
        before: impl FnOnce(&Store, &Product) -> R,
    ) -> Result<R, ApiError> {
        let p = self
            .products
            .get(&id)
            .cloned()
            .ok_or_else(|| product_not_found(route, 404))?;
        let on_variations_route = matches!(route, ProductRoute::Variations { .. });
        if !on_variations_route && p.kind == ProductType::Variation {
            return Err(ApiError::new(
                404,
                "woocommerce_rest_invalid_product_id",
                "To manipulate product variations you should use the /products/&lt;product_id&gt;/variations/&lt;id&gt; endpoint.",
            ));
        }
        if !force && p.status == "trash" {
            let post_type = if on_variations_route {
                "product_variation"
            } else {
                "product"
            };
            return Err(already_trashed(post_type));
        }
        let answer = before(self, &p);
        if force {
            self.remove_product(id);
            return Ok(answer);
        }
        if p.kind == ProductType::Variable {
            for kid in self.variation_ids(id).to_vec() {
                self.trash_post(kid, now);
            }
        }
        self.trash_post(id, now);
        Ok(answer)
    }

    /// `wp_trash_post` on a product or variation.
    fn trash_post(&mut self, id: u64, now: Timestamp) {
        let Some(mut p) = self.products.get(&id).cloned() else {
            return;
        };
        if p.status == "trash" {
            return;
        }
        let previous = std::mem::replace(&mut p.status, "trash".into());
        p.meta_data.extend(trash_meta(previous, now));
        if !p.slug.ends_with("__trashed") {
            p.meta_data.push(MetaEntry {
                id: 0,
                key: "_wp_desired_post_slug".into(),
                value: Value::String(p.slug.clone()),
            });
            p.slug = format!("{}__trashed", p.slug);
        }
        p.date_modified = now;
        self.put_product(p);
    }

    /// `DELETE /orders/{id}`; the answer is `before` applied to the order
    /// as it was.
    pub fn delete_order<R>(
        &mut self,
        id: u64,
        force: bool,
        now: Timestamp,
        before: impl FnOnce(&Store, &Order) -> R,
    ) -> Result<R, ApiError> {
        let o = self.orders.get(&id).cloned().ok_or_else(|| {
            ApiError::new(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        })?;
        if !force && o.status == "trash" {
            return Err(already_trashed("shop_order"));
        }
        let answer = before(self, &o);
        if force {
            self.orders.remove(&id);
            self.notes.remove(&id);
            return Ok(answer);
        }
        let mut trashed = o.clone();
        trashed
            .meta_data
            .extend(trash_meta(format!("wc-{}", o.status), now));
        trashed.status = "trash".into();
        trashed.date_modified = now;
        self.put_order(trashed);
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{now, query, store};
    use super::*;
    use crate::listing::Collection;
    use crate::writes::ProductPatch;

    fn ids(list: (Vec<&Product>, usize)) -> Vec<u64> {
        list.0.iter().map(|p| p.id).collect()
    }

    fn status(p: &Product) -> String {
        p.status.clone()
    }

    #[test]
    fn a_trashed_product_leaves_listings_and_frees_its_sku() {
        let mut s = store();
        let answered = s
            .delete_product(11, ProductRoute::Products, false, now(), |_, p| status(p))
            .unwrap();
        assert_eq!(answered, "publish", "the answer is the product before");
        let p = s.product(11).unwrap();
        assert_eq!((p.status.as_str(), p.date_modified), ("trash", now()));
        assert_eq!(p.slug, "rig-simple-widget__trashed");
        let meta: Vec<(&str, &Value)> = p
            .meta_data
            .iter()
            .skip(1) // the seed's _wc_cogs_cost
            .map(|m| (m.key.as_str(), &m.value))
            .collect();
        assert_eq!(
            meta,
            [
                ("_wp_trash_meta_status", &Value::from("publish")),
                (
                    "_wp_trash_meta_time",
                    &Value::from(now().as_second().to_string())
                ),
                ("_wp_desired_post_slug", &Value::from("rig-simple-widget")),
            ]
        );
        let e = s
            .delete_product(11, ProductRoute::Products, false, now(), |_, _| ())
            .unwrap_err();
        assert_eq!(
            (e.status, e.code.as_str(), e.message.as_str()),
            (
                410,
                "woocommerce_rest_already_trashed",
                "The product has already been deleted."
            )
        );
        let per_page = "per_page=100";
        assert!(!ids(s.list_products(&query(per_page, Collection::Products))).contains(&11));
        assert_eq!(
            ids(s.list_products(&query("status=trash", Collection::Products))),
            [11]
        );
        assert!(s.product_by_sku("RIG-SIMPLE-1").is_none());
        assert_eq!(
            ids(s.list_products(&query(
                "sku=RIG-SIMPLE-1&status=trash",
                Collection::Products
            ))),
            [11]
        );
        let patch = ProductPatch {
            sku: Some("RIG-SIMPLE-1".into()),
            ..ProductPatch::default()
        };
        let again = s.create_product(&patch, None, true, now()).unwrap();
        assert_eq!(s.product_by_sku("RIG-SIMPLE-1").unwrap().id, again);

        s.delete_product(11, ProductRoute::Products, true, now(), |_, _| ())
            .unwrap();
        assert!(s.product(11).is_none());
        let e = s
            .delete_product(11, ProductRoute::Products, true, now(), |_, _| ())
            .unwrap_err();
        assert_eq!(
            (e.status, e.code.as_str()),
            (404, "woocommerce_rest_product_invalid_id")
        );
    }

    #[test]
    fn variations_are_trashed_with_their_parent_or_on_their_own_route() {
        let mut s = store();
        let e = s
            .delete_product(13, ProductRoute::Products, true, now(), |_, _| ())
            .unwrap_err();
        assert_eq!(
            (e.status, e.code.as_str()),
            (404, "woocommerce_rest_invalid_product_id")
        );
        let on_route = ProductRoute::Variations { parent: 12 };
        s.delete_product(13, on_route, false, now(), |_, _| ())
            .unwrap();
        assert_eq!(s.product(13).unwrap().status, "trash");
        assert_eq!(s.child_variation_ids(12), [14, 15]);
        assert_eq!(
            ids(s.list_variations(12, &query("", Collection::Variations))),
            [15, 14]
        );
        let e = s
            .delete_product(13, on_route, false, now(), |_, _| ())
            .unwrap_err();
        assert_eq!(e.message, "The product_variation has already been deleted.");

        s.delete_product(12, ProductRoute::Products, false, now(), |_, _| ())
            .unwrap();
        assert!(
            [12, 14, 15]
                .iter()
                .all(|id| s.product(*id).unwrap().status == "trash")
        );
        s.delete_product(12, ProductRoute::Products, true, now(), |_, _| ())
            .unwrap();
        assert!([12, 13, 14, 15].iter().all(|id| s.product(*id).is_none()));
        let e = s
            .delete_product(13, on_route, true, now(), |_, _| ())
            .unwrap_err();
        assert_eq!(
            (e.status, e.code.as_str()),
            (404, "woocommerce_rest_product_variation_invalid_id")
        );
    }

    #[test]
    fn trashed_orders_keep_their_stock_and_force_deleted_ones_vanish() {
        let mut s = store();
        let stock = s.product(11).unwrap().stock_quantity;
        let was = s
            .delete_order(177, false, now(), |_, o| o.status.clone())
            .unwrap();
        assert_eq!(was, "processing");
        let o = s.order(177).unwrap();
        assert_eq!((o.status.as_str(), o.date_modified), ("trash", now()));
        assert_eq!(o.meta_data[0].value, Value::from("wc-processing"));
        assert_eq!(
            s.product(11).unwrap().stock_quantity,
            stock,
            "trashing does not restock"
        );
        let listed = |s: &Store, q: &str| -> Vec<u64> {
            s.list_orders(&query(q, Collection::Orders))
                .0
                .iter()
                .map(|o| o.id)
                .collect()
        };
        assert!(!listed(&s, "per_page=100").contains(&177));
        assert_eq!(listed(&s, "status=trash"), [177]);
        let e = s.delete_order(177, false, now(), |_, _| ()).unwrap_err();
        assert_eq!(
            (e.status, e.message.as_str()),
            (410, "The shop_order has already been deleted.")
        );
        s.delete_order(177, true, now(), |_, _| ()).unwrap();
        assert!(s.order(177).is_none() && s.notes(177).is_empty());
        let e = s.delete_order(177, true, now(), |_, _| ()).unwrap_err();
        assert_eq!(
            (e.status, e.code.as_str()),
            (404, "woocommerce_rest_shop_order_invalid_id")
        );
    }
}
