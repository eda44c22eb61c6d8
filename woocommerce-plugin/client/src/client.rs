//! The typed operations the plugin's jobs call.

use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::config::ClientConfig;
use crate::error::{Endpoint, Error};
use crate::listing::{Collection, Listing, RecordMap, as_is, list};
use crate::model::{
    BATCH_LIMIT, BatchItem, Meta, NewShipment, NoteVisibility, Order, OrderNote, OrderRefund,
    OrderUpdate, Product, ShipmentTracking, StockMove, StockRecord, StockUpdate, Variation,
    batch_item,
};
use crate::paging::{Scope, gmt_query_date};
use crate::request::Call;
use crate::transport::{Answer, Transport};

/// A client for one store. Cheap to clone; clones share connections.
#[derive(Clone)]
pub struct WooClient {
    transport: Arc<Transport>,
}

impl std::fmt::Debug for WooClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WooClient")
            .field("config", self.config())
            .finish()
    }
}

impl WooClient {
    /// Checks the settings and sets up HTTPS; makes no request.
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        Ok(Self {
            transport: Arc::new(Transport::new(config)?),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        self.transport.config()
    }

    /// The limit every request of this client and its clones waits under.
    pub fn limiter(&self) -> &crate::limiter::Limiter {
        self.transport.limiter()
    }

    /// How many requests a caller should have under way at once to keep
    /// the limit busy: its ceiling (the limiter holds back the rest).
    pub fn max_in_flight(&self) -> usize {
        self.config().concurrency.ceiling()
    }

    /// `(pages read, pages known so far)` over every listing this client
    /// (and its clones) made: for showing progress while a listing runs.
    pub fn page_progress(&self) -> (u64, u64) {
        self.transport.pages().get()
    }

    pub(crate) fn transport(&self) -> &Arc<Transport> {
        &self.transport
    }

    pub(crate) async fn send(&self, call: &Call) -> Result<Answer, Error> {
        self.transport.send(call).await
    }

    /// Products (all types and statuses except trash; not variations).
    pub async fn list_products(&self, scope: Scope) -> Result<Listing<Product>, Error> {
        self.list_products_as(Products::All, scope, as_is()).await
    }

    /// These products (not variations), in any status but the trash: an id
    /// missing from the answer is trashed or deleted. Pass at most
    /// [`ID_FILTER_MAX`] ids, so the request stays short.
    pub async fn list_products_by_id(&self, ids: &[u64]) -> Result<Listing<Product>, Error> {
        self.list_products_as(Products::ById(ids), Scope::Full, as_is())
            .await
    }

    /// A product listing whose records are turned by `map` as each page
    /// arrives: for a caller that keeps only a little of each record.
    pub async fn list_products_as<U: Send + 'static>(
        &self,
        which: Products<'_>,
        scope: Scope,
        map: RecordMap<Product, U>,
    ) -> Result<Listing<U>, Error> {
        let filters = match which {
            Products::All => Vec::new(),
            Products::Trashed => vec![("status".into(), "trash".into())],
            Products::ById(ids) => vec![("include".into(), id_list(ids))],
        };
        let collection = Collection {
            route: "/wc/v3/products".into(),
            filters,
            fields: Product::FIELDS,
            scope,
        };
        list(&self.transport, collection, map).await
    }

    /// The variations of one variable product.
    pub async fn list_variations(&self, product_id: u64) -> Result<Listing<Variation>, Error> {
        self.list_variations_as(Variations::Of(product_id), Scope::Full, as_is())
            .await
    }

    /// These variations of one variable product (at most [`ID_FILTER_MAX`]
    /// ids); an id missing from the answer is not one of its variations.
    pub async fn list_variations_by_id(
        &self,
        product_id: u64,
        ids: &[u64],
    ) -> Result<Listing<Variation>, Error> {
        self.list_variations_as(Variations::OfById(product_id, ids), Scope::Full, as_is())
            .await
    }

    /// Every variation of every product, with its `parent_id`: one listing
    /// instead of one per variable product. WooCommerce 10.3 and later only
    /// (`GET /wc/v3/variations`); older stores answer 404.
    pub async fn list_all_variations(&self, scope: Scope) -> Result<Listing<Variation>, Error> {
        self.list_variations_as(Variations::All, scope, as_is())
            .await
    }

    /// A variation listing whose records are turned by `map` as each page
    /// arrives.
    pub async fn list_variations_as<U: Send + 'static>(
        &self,
        which: Variations<'_>,
        scope: Scope,
        map: RecordMap<Variation, U>,
    ) -> Result<Listing<U>, Error> {
        let (route, filters) = match which {
            Variations::Of(product_id) => (
                format!("/wc/v3/products/{product_id}/variations"),
                Vec::new(),
            ),
            Variations::OfById(product_id, ids) => (
                format!("/wc/v3/products/{product_id}/variations"),
                vec![("include".into(), id_list(ids))],
            ),
            Variations::All => ("/wc/v3/variations".into(), Vec::new()),
            Variations::OfParents(product_ids) => (
                "/wc/v3/variations".into(),
                vec![("parent".into(), id_list(product_ids))],
            ),
        };
        let collection = Collection {
            route,
            filters,
            fields: Variation::FIELDS,
            scope,
        };
        list(&self.transport, collection, map).await
    }

    /// Every product's stock fields (not variations), oldest id first,
    /// each record turned by `map` as its page arrives (a caller can start
    /// on a page while later pages are read).
    pub async fn list_product_stock(
        &self,
        map: RecordMap<StockRecord, StockRecord>,
    ) -> Result<Listing<StockRecord>, Error> {
        self.stock_listing("/wc/v3/products".into(), map).await
    }

    /// These products' stock fields (not variations; at most
    /// [`ID_FILTER_MAX`] ids): an id missing from the answer is trashed,
    /// deleted or a variation.
    pub async fn list_product_stock_by_id(
        &self,
        ids: &[u64],
    ) -> Result<Listing<StockRecord>, Error> {
        list(
            &self.transport,
            Collection {
                route: "/wc/v3/products".into(),
                filters: vec![("include".into(), id_list(ids))],
                fields: StockRecord::FIELDS,
                scope: Scope::Full,
            },
            as_is(),
        )
        .await
    }

    /// One variable product's variations' stock fields, turned by `map`.
    pub async fn list_variation_stock(
        &self,
        product_id: u64,
        map: RecordMap<StockRecord, StockRecord>,
    ) -> Result<Listing<StockRecord>, Error> {
        self.stock_listing(format!("/wc/v3/products/{product_id}/variations"), map)
            .await
    }

    /// Every variation's stock fields at once (WooCommerce 10.3 and later),
    /// turned by `map`.
    pub async fn list_all_variation_stock(
        &self,
        map: RecordMap<StockRecord, StockRecord>,
    ) -> Result<Listing<StockRecord>, Error> {
        self.stock_listing("/wc/v3/variations".into(), map).await
    }

    async fn stock_listing(
        &self,
        route: String,
        map: RecordMap<StockRecord, StockRecord>,
    ) -> Result<Listing<StockRecord>, Error> {
        list(
            &self.transport,
            Collection {
                route,
                filters: Vec::new(),
                fields: StockRecord::FIELDS,
                scope: Scope::Full,
            },
            map,
        )
        .await
    }

    /// An order's notes, newest first (private and customer notes).
    pub async fn list_order_notes(&self, order_id: u64) -> Result<Vec<OrderNote>, Error> {
        let call = Call::get(
            format!("/wc/v3/orders/{order_id}/notes"),
            vec![("type".into(), "any".into())],
        );
        self.one(&call).await
    }

    /// An order's meta entries (the extension's tracking items among them).
    pub async fn order_meta(&self, order_id: u64) -> Result<Vec<Meta>, Error> {
        #[derive(serde::Deserialize)]
        struct OnlyMeta {
            #[serde(default, deserialize_with = "crate::model::lenient::list")]
            meta_data: Vec<Meta>,
        }
        let call = Call::get(
            format!("/wc/v3/orders/{order_id}"),
            vec![("_fields".into(), "id,meta_data".into())],
        );
        Ok(self.one::<OnlyMeta>(&call).await?.meta_data)
    }

    /// The trackings the Shipment Tracking extension holds for an order.
    pub async fn list_shipment_trackings(
        &self,
        order_id: u64,
    ) -> Result<Vec<ShipmentTracking>, Error> {
        let namespace = self.config().tracking_namespace.trim_matches('/');
        let route = format!("/{namespace}/orders/{order_id}/shipment-trackings");
        self.one(&Call::get(route, Vec::new())).await
    }

    /// One product (or a variation, by its id) with the listing's fields.
    pub async fn get_product(&self, product_id: u64) -> Result<Product, Error> {
        let call = Call::get(
            format!("/wc/v3/products/{product_id}"),
            vec![("_fields".into(), Product::FIELDS.into())],
        );
        self.one(&call).await
    }

    /// One variation of a variable product.
    pub async fn get_variation(
        &self,
        product_id: u64,
        variation_id: u64,
    ) -> Result<Variation, Error> {
        let call = Call::get(
            format!("/wc/v3/products/{product_id}/variations/{variation_id}"),
            vec![("_fields".into(), Variation::FIELDS.into())],
        );
        self.one(&call).await
    }

    /// Orders whose status is one of `statuses` (sent as a comma list).
    pub async fn list_orders(
        &self,
        statuses: &[&str],
        scope: Scope,
    ) -> Result<Listing<Order>, Error> {
        let mut filters = Vec::new();
        if !statuses.is_empty() {
            filters.push(("status".to_owned(), statuses.join(",")));
        }
        list(
            &self.transport,
            Collection {
                route: "/wc/v3/orders".into(),
                filters,
                fields: Order::FIELDS,
                scope,
            },
            as_is(),
        )
        .await
    }

    /// Every order in any status but the trash placed after `created_after`
    /// (all of them with `None`), or, with [`Scope::ModifiedAfter`], those
    /// modified since: only the fields of [`Order::HOLD_FIELDS`].
    pub async fn list_held_orders(
        &self,
        scope: Scope,
        created_after: Option<Timestamp>,
    ) -> Result<Listing<Order>, Error> {
        let mut filters = vec![("status".to_owned(), "any".to_owned())];
        if let Some(after) = created_after {
            filters.push(("after".into(), gmt_query_date(after)));
            filters.push(("dates_are_gmt".into(), "true".into()));
        }
        list(
            &self.transport,
            Collection {
                route: "/wc/v3/orders".into(),
                filters,
                fields: Order::HOLD_FIELDS,
                scope,
            },
            as_is(),
        )
        .await
    }

    /// These orders, whatever their status but the trash (at most 100 ids
    /// a page): only the fields of [`Order::HOLD_FIELDS`].
    pub async fn list_held_orders_by_id(&self, ids: &[u64]) -> Result<Listing<Order>, Error> {
        list(
            &self.transport,
            Collection {
                route: "/wc/v3/orders".into(),
                filters: vec![("include".into(), id_list(ids))],
                fields: Order::HOLD_FIELDS,
                scope: Scope::Full,
            },
            as_is(),
        )
        .await
    }

    /// These orders, whatever their status (at most 100 ids a page).
    pub async fn list_orders_by_id(&self, ids: &[u64]) -> Result<Listing<Order>, Error> {
        list(
            &self.transport,
            Collection {
                route: "/wc/v3/orders".into(),
                filters: vec![("include".into(), id_list(ids))],
                fields: Order::FIELDS,
                scope: Scope::Full,
            },
            as_is(),
        )
        .await
    }

    /// These refunds, whatever their order (`GET /wc/v3/refunds`,
    /// WooCommerce 9.0 and later; at most 100 ids a page).
    pub async fn list_refunds_by_id(&self, ids: &[u64]) -> Result<Listing<OrderRefund>, Error> {
        list(
            &self.transport,
            Collection {
                route: "/wc/v3/refunds".into(),
                filters: vec![("include".into(), id_list(ids))],
                fields: OrderRefund::FIELDS,
                scope: Scope::Full,
            },
            as_is(),
        )
        .await
    }

    /// One order's refunds (every WooCommerce version); each gets the
    /// order's id as its `parent_id`.
    pub async fn list_order_refunds(&self, order_id: u64) -> Result<Listing<OrderRefund>, Error> {
        let mut listing: Listing<OrderRefund> = list(
            &self.transport,
            Collection {
                route: format!("/wc/v3/orders/{order_id}/refunds"),
                filters: Vec::new(),
                fields: OrderRefund::FIELDS,
                scope: Scope::Full,
            },
            as_is(),
        )
        .await?;
        for refund in &mut listing.records {
            refund.parent_id = order_id;
        }
        Ok(listing)
    }

    pub async fn get_order(&self, order_id: u64) -> Result<Order, Error> {
        let call = Call::get(
            format!("/wc/v3/orders/{order_id}"),
            vec![("_fields".into(), Order::FIELDS.into())],
        );
        self.one(&call).await
    }

    /// Sets an order's status (`completed`, ...). Setting the status it
    /// already has changes nothing, so the call is safe to repeat.
    pub async fn update_order_status(&self, order_id: u64, status: &str) -> Result<Order, Error> {
        let call = Call::put(
            format!("/wc/v3/orders/{order_id}"),
            json!({ "status": status }),
        );
        self.one(&call).await
    }

    /// Updates many orders' meta and status through `orders/batch`, 100 a
    /// request (absolute writes: a request is repeated after an ambiguous
    /// failure). Each order's outcome is returned in order; an order the
    /// store refused is a [`BatchItem::Failed`] inside its 200 answer, not
    /// an error of the whole call.
    pub async fn update_orders(&self, updates: &[OrderUpdate]) -> Result<Vec<BatchItem>, Error> {
        self.batch_write("/wc/v3/orders/batch".into(), updates, true)
            .await
    }

    /// Adds a note to an order; a customer note is emailed to the shopper.
    /// Not repeated after an ambiguous failure (it would appear twice).
    pub async fn add_order_note(
        &self,
        order_id: u64,
        note: &str,
        visibility: NoteVisibility,
    ) -> Result<OrderNote, Error> {
        let body = json!({
            "note": note,
            "customer_note": visibility == NoteVisibility::Customer,
        });
        let call = Call::post(format!("/wc/v3/orders/{order_id}/notes"), body, false);
        self.one(&call).await
    }

    /// Records a shipment through the Shipment Tracking extension's routes
    /// (namespace from the settings; see the connection check).
    pub async fn add_shipment_tracking(
        &self,
        order_id: u64,
        shipment: &NewShipment,
    ) -> Result<ShipmentTracking, Error> {
        let namespace = self.config().tracking_namespace.trim_matches('/');
        let route = format!("/{namespace}/orders/{order_id}/shipment-trackings");
        self.one(&Call::post(route, shipment.body(), false)).await
    }

    /// Sets the stock of products (not variations), in batches of at most
    /// 100. Each item's outcome is returned in order; an item the store
    /// refused is a [`BatchItem::Failed`], not an error of the whole call.
    pub async fn update_products_stock(
        &self,
        updates: &[StockUpdate],
    ) -> Result<Vec<BatchItem>, Error> {
        self.batch_stock("/wc/v3/products/batch".into(), updates)
            .await
    }

    /// Sets the stock of variations of one product, in batches of at most 100.
    pub async fn update_variations_stock(
        &self,
        product_id: u64,
        updates: &[StockUpdate],
    ) -> Result<Vec<BatchItem>, Error> {
        self.batch_stock(
            format!("/wc/v3/products/{product_id}/variations/batch"),
            updates,
        )
        .await
    }

    /// Moves the stock of products (not variations) by differences, in
    /// batches of at most 100; a batch is not repeated once it may have
    /// reached the store. Outcomes as for [`WooClient::update_products_stock`].
    pub async fn move_products_stock(&self, moves: &[StockMove]) -> Result<Vec<BatchItem>, Error> {
        self.batch_write("/wc/v3/products/batch".into(), moves, false)
            .await
    }

    /// Moves the stock of variations of one product by differences.
    pub async fn move_variations_stock(
        &self,
        product_id: u64,
        moves: &[StockMove],
    ) -> Result<Vec<BatchItem>, Error> {
        self.batch_write(
            format!("/wc/v3/products/{product_id}/variations/batch"),
            moves,
            false,
        )
        .await
    }

    /// Sets one product's stock.
    pub async fn update_product_stock(
        &self,
        product_id: u64,
        stock_quantity: i64,
    ) -> Result<Product, Error> {
        let call = Call::put(
            format!("/wc/v3/products/{product_id}"),
            json!({ "stock_quantity": stock_quantity }),
        );
        self.one(&call).await
    }

    async fn batch_stock(
        &self,
        route: String,
        updates: &[StockUpdate],
    ) -> Result<Vec<BatchItem>, Error> {
        self.batch_write(route, updates, true).await
    }

    /// Sends `updates` as batch updates, 100 a request.
    async fn batch_write<T: Serialize>(
        &self,
        route: String,
        updates: &[T],
        idempotent: bool,
    ) -> Result<Vec<BatchItem>, Error> {
        let mut outcomes = Vec::with_capacity(updates.len());
        for chunk in updates.chunks(BATCH_LIMIT) {
            let call = Call::post(route.clone(), json!({ "update": chunk }), idempotent);
            let answer = self.send(&call).await?;
            let items = answer.body["update"]
                .as_array()
                .ok_or_else(|| Error::Body {
                    endpoint: endpoint(&call),
                    status: answer.status,
                    detail: "no \"update\" list in the batch answer".into(),
                })?;
            if items.len() != chunk.len() {
                return Err(Error::Body {
                    endpoint: endpoint(&call),
                    status: answer.status,
                    detail: format!("{} updates sent, {} answered", chunk.len(), items.len()),
                });
            }
            outcomes.extend(items.iter().map(batch_item));
        }
        Ok(outcomes)
    }

    async fn one<T: DeserializeOwned>(&self, call: &Call) -> Result<T, Error> {
        let answer = self.send(call).await?;
        decode_body(call, answer)
    }
}

/// Which products a product listing walks.
#[derive(Clone, Copy, Debug)]
pub enum Products<'a> {
    /// Every product in any status but the trash (not variations).
    All,
    /// The products in the trash.
    Trashed,
    /// These products (at most [`ID_FILTER_MAX`]), in any status but the trash.
    ById(&'a [u64]),
}

/// Which variations a variation listing walks.
#[derive(Clone, Copy, Debug)]
pub enum Variations<'a> {
    /// Every variation of one variable product.
    Of(u64),
    /// These variations (at most [`ID_FILTER_MAX`]) of one variable product.
    OfById(u64, &'a [u64]),
    /// Every variation of every product (WooCommerce 10.3 and later).
    All,
    /// Every variation of these variable products (at most
    /// [`ID_FILTER_MAX`]) in one listing: `GET /wc/v3/variations?parent=`
    /// (WooCommerce 10.3 and later).
    OfParents(&'a [u64]),
}

/// The most ids an id filter should carry (the `include` of
/// [`WooClient::list_products_by_id`] and [`WooClient::list_variations_by_id`],
/// the `parent` of [`Variations::OfParents`]): one page's worth, so that a
/// request stays short.
pub const ID_FILTER_MAX: usize = crate::paging::PER_PAGE as usize;

/// Ids as an `include` filter's comma list.
fn id_list(ids: &[u64]) -> String {
    ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
}

pub(crate) fn endpoint(call: &Call) -> Endpoint {
    Endpoint {
        method: call.verb.as_str(),
        path: call.route.clone(),
    }
}

pub(crate) fn decode_body<T: DeserializeOwned>(call: &Call, answer: Answer) -> Result<T, Error> {
    let status = answer.status;
    serde_json::from_value(answer.body).map_err(|e| Error::Body {
        endpoint: endpoint(call),
        status,
        detail: e.to_string(),
    })
}
