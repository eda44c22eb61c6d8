//! The wc/v3 routes (and the Shipment Tracking extension's), independent of
//! the HTTP transport: a parsed request in, status + headers + JSON out.
//! Order of checks as in WordPress: route, then parameter validation, then
//! the route's permission check for anonymous callers.

use std::sync::RwLock;

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::listing::{Collection, link_header, page_window, parse_collection};
use crate::model::ProductType;
use crate::php_query::PhpParams;
use crate::render::{self, RefundView, Site};
use crate::store::{ProductRoute, Store};
use crate::tracking::{self, NewTracking};
use crate::writes::{
    force_param, note_body, order_patch, product_patch, refund_request, variation_patch,
};

/// Most objects a batch request may carry.
pub const BATCH_LIMIT: usize = 100;

/// A request routed to the REST API.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    /// HTTP method, upper case.
    pub method: String,
    /// The REST route, e.g. `/wc/v3/products/11`.
    pub route: String,
    /// Query parameters (PHP view).
    pub params: PhpParams,
    /// The JSON body, if one was sent (`Err` when it did not parse).
    pub body: Option<Result<Value, ()>>,
    /// Base of `Link` URLs for this route's collection: pretty
    /// (`{home}/wp-json/wc/v3/products`) or plain (`{home}/?rest_route=...`).
    pub link_base: String,
    /// Who is calling.
    pub caller: Caller,
    /// Now.
    pub now: Timestamp,
}

/// What the route answers.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    /// HTTP status.
    pub status: u16,
    /// Extra headers (X-WP-Total, Link, Allow...).
    pub headers: Vec<(&'static str, String)>,
    /// JSON body.
    pub body: Value,
}

impl ApiResponse {
    fn ok(body: Value) -> Self {
        Self {
            status: 200,
            headers: Vec::new(),
            body,
        }
    }
    /// 201 with the `Location` of the new record, as `create_item` does.
    fn created(body: Value, location: String) -> Self {
        Self {
            status: 201,
            headers: vec![("Location", location)],
            body,
        }
    }
}

impl From<ApiError> for ApiResponse {
    fn from(e: ApiError) -> Self {
        Self {
            status: e.status,
            headers: Vec::new(),
            body: e.body(),
        }
    }
}

/// Switchable parts of the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    /// Native cost of goods sold (`cost_of_goods_sold` fields).
    pub cogs: bool,
    /// The Shipment Tracking extension's routes.
    pub shipment_tracking: bool,
}

impl Default for Features {
    fn default() -> Self {
        Self {
            cogs: true,
            shipment_tracking: true,
        }
    }
}

/// The route pattern used for request statistics: numeric path segments
/// become `{id}` (`/wc/v3/products/{id}/variations/{id}`).
pub fn route_pattern(route: &str) -> String {
    route
        .split('/')
        .map(|seg| {
            if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
                "{id}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[derive(Clone, Copy)]
enum Need {
    List,
    View,
    Edit,
    Create,
    Delete,
    Batch,
}

fn require(caller: &Caller, need: Need) -> Result<(), ApiError> {
    if *caller != Caller::Anonymous {
        return Ok(());
    }
    let (code, message) = match need {
        Need::List => (
            "woocommerce_rest_cannot_view",
            "Sorry, you cannot list resources.",
        ),
        Need::View => (
            "woocommerce_rest_cannot_view",
            "Sorry, you cannot view this resource.",
        ),
        Need::Edit => (
            "woocommerce_rest_cannot_edit",
            "Sorry, you are not allowed to edit this resource.",
        ),
        Need::Create => (
            "woocommerce_rest_cannot_create",
            "Sorry, you are not allowed to create resources.",
        ),
        Need::Delete => (
            "woocommerce_rest_cannot_delete",
            "Sorry, you are not allowed to delete this resource.",
        ),
        Need::Batch => (
            "woocommerce_rest_cannot_batch",
            "Sorry, you are not allowed to batch manipulate this resource.",
        ),
    };
    Err(ApiError::new(401, code, message))
}

fn body(req: &ApiRequest) -> Result<Value, ApiError> {
    match &req.body {
        None => Ok(json!({})),
        Some(Ok(v)) => Ok(v.clone()),
        Some(Err(())) => Err(ApiError::new(
            400,
            "rest_invalid_json",
            "Invalid JSON body passed.",
        )),
    }
}

fn fields(req: &ApiRequest) -> Option<Vec<String>> {
    req.params.list("_fields").filter(|f| !f.is_empty())
}

fn finish(req: &ApiRequest, mut resp: ApiResponse) -> ApiResponse {
    if resp.status < 300
        && let Some(f) = fields(req)
    {
        resp.body = render::filter_fields(resp.body, &f);
    }
    resp
}

/// Answer one REST request against the store.
pub fn handle(
    req: &ApiRequest,
    store: &RwLock<Store>,
    site: &Site,
    features: Features,
) -> ApiResponse {
    let resp = route(req, store, site, features).unwrap_or_else(ApiResponse::from);
    finish(req, resp)
}

fn id(seg: &str) -> Option<u64> {
    seg.parse().ok()
}

/// The `force` argument of a DELETE request.
fn force(req: &ApiRequest) -> Result<bool, ApiError> {
    let body = match &req.body {
        Some(Ok(v)) => Some(v),
        _ => None,
    };
    force_param(req.params.scalar("force"), body)
}

fn location(site: &Site, path: &str) -> String {
    format!("{}/wp-json/wc/v3{path}", site.home)
}

fn route(
    req: &ApiRequest,
    store: &RwLock<Store>,
    site: &Site,
    features: Features,
) -> Result<ApiResponse, ApiError> {
    let segs: Vec<&str> = req.route.trim_matches('/').split('/').collect();
    let m = req.method.as_str();
    let read = || store.read().expect("store lock");
    let write = || store.write().expect("store lock");
    match (m, segs.as_slice()) {
        ("GET", ["wc", "v3"]) => Ok(ApiResponse::ok(index(site))),
        ("GET", ["wc", "v3", "system_status"]) => {
            require(&req.caller, Need::List)?;
            Ok(ApiResponse::ok(system_status(site, features)))
        }
        ("GET", ["wc", "v3", "products"]) => {
            let q = parse_collection(&req.params, Collection::Products, &site.tz)?;
            require(&req.caller, Need::List)?;
            let s = read();
            let (page, total) = s.list_products(&q);
            let items = page.iter().map(|p| render::product(site, &s, p)).collect();
            Ok(collection(req, items, total, q.page, q.per_page))
        }
        ("POST", ["wc", "v3", "products"]) => {
            let patch = product_patch(&body(req)?)?;
            require(&req.caller, Need::Create)?;
            let mut s = write();
            let new_id = s.create_product(&patch, None, features.cogs, req.now)?;
            let p = s.product(new_id).expect("just created");
            Ok(ApiResponse::created(
                render::product_edit(site, &s, p),
                location(site, &format!("/products/{new_id}")),
            ))
        }
        ("POST", ["wc", "v3", "products", "batch"]) => {
            let b = body(req)?;
            require(&req.caller, Need::Batch)?;
            batch_products(&b, &mut write(), site, features, None, req.now)
        }
        ("GET", ["wc", "v3", "products", pid]) if id(pid).is_some() => {
            require(&req.caller, Need::View)?;
            let s = read();
            let p = s.product(id(pid).unwrap_or_default()).ok_or_else(|| {
                ApiError::new(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
            })?;
            Ok(ApiResponse::ok(render::product(site, &s, p)))
        }
        ("PUT" | "PATCH" | "POST", ["wc", "v3", "products", pid]) if id(pid).is_some() => {
            let patch = product_patch(&body(req)?)?;
            require(&req.caller, Need::Edit)?;
            let mut s = write();
            let pid =
                s.resolve_product(id(pid).unwrap_or_default(), ProductRoute::Products, 400)?;
            s.update_product(pid, &patch, features.cogs, req.now)?;
            Ok(ApiResponse::ok(render::product_edit(
                site,
                &s,
                s.product(pid).expect("exists"),
            )))
        }
        ("DELETE", ["wc", "v3", "products", pid]) if id(pid).is_some() => {
            delete_product(req, store, id(pid), ProductRoute::Products, |s, p| {
                render::product_edit(site, s, p)
            })
        }
        ("GET", ["wc", "v3", "products", pid, "variations"]) if id(pid).is_some() => {
            let q = parse_collection(&req.params, Collection::Variations, &site.tz)?;
            require(&req.caller, Need::List)?;
            let s = read();
            let parent = id(pid).unwrap_or_default();
            parent_product(&s, parent)?;
            let (page, total) = s.list_variations(parent, &q);
            let items = page
                .iter()
                .map(|p| render::variation(site, &s, p))
                .collect();
            Ok(collection(req, items, total, q.page, q.per_page))
        }
        ("POST", ["wc", "v3", "products", pid, "variations"]) if id(pid).is_some() => {
            let patch = variation_patch(&body(req)?)?;
            require(&req.caller, Need::Create)?;
            let mut s = write();
            let parent = id(pid).unwrap_or_default();
            parent_product(&s, parent)?;
            let new_id = s.create_product(&patch, Some(parent), features.cogs, req.now)?;
            // create_item's Location keeps the route pattern of the base.
            let location = location(
                site,
                &format!("/products/(?P<product_id>[\\d]+)/variations/{new_id}"),
            );
            Ok(ApiResponse::created(
                render::variation(site, &s, s.product(new_id).expect("created")),
                location,
            ))
        }
        ("POST", ["wc", "v3", "products", pid, "variations", "batch"]) if id(pid).is_some() => {
            let b = body(req)?;
            require(&req.caller, Need::Batch)?;
            let mut s = write();
            let parent = id(pid).unwrap_or_default();
            parent_product(&s, parent)?;
            batch_products(&b, &mut s, site, features, Some(parent), req.now)
        }
        ("GET", ["wc", "v3", "products", pid, "variations", vid])
            if id(pid).is_some() && id(vid).is_some() =>
        {
            require(&req.caller, Need::View)?;
            let s = read();
            let route = ProductRoute::Variations {
                parent: id(pid).unwrap_or_default(),
            };
            let vid = s.resolve_product(id(vid).unwrap_or_default(), route, 404)?;
            Ok(ApiResponse::ok(render::variation(
                site,
                &s,
                s.product(vid).expect("exists"),
            )))
        }
        ("PUT" | "PATCH" | "POST", ["wc", "v3", "products", pid, "variations", vid])
            if id(pid).is_some() && id(vid).is_some() =>
        {
            let patch = variation_patch(&body(req)?)?;
            require(&req.caller, Need::Edit)?;
            let mut s = write();
            let route = ProductRoute::Variations {
                parent: id(pid).unwrap_or_default(),
            };
            let vid = s.resolve_product(id(vid).unwrap_or_default(), route, 400)?;
            s.update_product(vid, &patch, features.cogs, req.now)?;
            Ok(ApiResponse::ok(render::variation(
                site,
                &s,
                s.product(vid).expect("exists"),
            )))
        }
        ("DELETE", ["wc", "v3", "products", pid, "variations", vid])
            if id(pid).is_some() && id(vid).is_some() =>
        {
            let route = ProductRoute::Variations {
                parent: id(pid).unwrap_or_default(),
            };
            delete_product(req, store, id(vid), route, |s, p| {
                render::variation(site, s, p)
            })
        }
        ("GET", ["wc", "v3", "variations"]) if site.wc_version.has_variations_route() => {
            let q = parse_collection(&req.params, Collection::Variations, &site.tz)?;
            require(&req.caller, Need::List)?;
            let s = read();
            let (page, total) = s.list_all_variations(&q);
            let items = page
                .iter()
                .map(|p| render::variation(site, &s, p))
                .collect();
            Ok(collection(req, items, total, q.page, q.per_page))
        }
        ("GET", ["wc", "v3", "orders"]) => {
            let q = parse_collection(&req.params, Collection::Orders, &site.tz)?;
            require(&req.caller, Need::List)?;
            let s = read();
            let (page, total) = s.list_orders(&q);
            // WooCommerce's HPOS order query counts nothing past the last page.
            let total = if page.is_empty() { 0 } else { total };
            let items = page.iter().map(|o| render::order(site, &s, o)).collect();
            Ok(collection(req, items, total, q.page, q.per_page))
        }
        ("POST", ["wc", "v3", "orders"]) => {
            let patch = order_patch(&body(req)?)?;
            require(&req.caller, Need::Create)?;
            let mut s = write();
            let oid = s.create_order(&patch, req.now)?;
            Ok(ApiResponse::created(
                render::order(site, &s, s.order(oid).expect("created")),
                location(site, &format!("/orders/{oid}")),
            ))
        }
        ("POST" | "PUT" | "PATCH", ["wc", "v3", "orders", "batch"]) => {
            let b = body(req)?;
            require(&req.caller, Need::Batch)?;
            batch_orders(&b, &mut write(), site, req.now)
        }
        ("GET", ["wc", "v3", "orders", oid]) if id(oid).is_some() => {
            require(&req.caller, Need::View)?;
            let s = read();
            let o = s
                .order(id(oid).unwrap_or_default())
                .ok_or_else(order_not_found)?;
            Ok(ApiResponse::ok(render::order(site, &s, o)))
        }
        ("PUT" | "PATCH" | "POST", ["wc", "v3", "orders", oid]) if id(oid).is_some() => {
            let patch = order_patch(&body(req)?)?;
            require(&req.caller, Need::Edit)?;
            let mut s = write();
            let oid = id(oid).unwrap_or_default();
            s.update_order(oid, &patch, req.now)?;
            Ok(ApiResponse::ok(render::order(
                site,
                &s,
                s.order(oid).expect("exists"),
            )))
        }
        ("DELETE", ["wc", "v3", "orders", oid]) if id(oid).is_some() => {
            let force = force(req)?;
            require(&req.caller, Need::Delete)?;
            let before =
                write().delete_order(id(oid).unwrap_or_default(), force, req.now, |s, o| {
                    render::order(site, s, o)
                })?;
            Ok(ApiResponse::ok(before))
        }
        ("GET" | "POST", ["wc", "v3", "orders", oid, "refunds"]) if id(oid).is_some() => {
            order_refunds(req, store, site, id(oid).unwrap_or_default())
        }
        ("GET" | "DELETE", ["wc", "v3", "orders", oid, "refunds", rid])
            if id(oid).is_some() && id(rid).is_some() =>
        {
            one_refund(
                req,
                store,
                site,
                id(oid).unwrap_or_default(),
                id(rid).unwrap_or_default(),
            )
        }
        ("GET", ["wc", "v3", "refunds"]) if site.wc_version.has_refunds_route() => {
            let q = parse_collection(&req.params, Collection::Refunds, &site.tz)?;
            require(&req.caller, Need::List)?;
            let s = read();
            let (page, total) = s.list_refunds(None, &q);
            let total = if page.is_empty() { 0 } else { total };
            let items = page
                .iter()
                .map(|(o, r)| render::refund(site, &s, o, r, RefundView::All))
                .collect();
            Ok(collection(req, items, total, q.page, q.per_page))
        }
        ("GET", ["wc", "v3", "orders", oid, "notes"]) if id(oid).is_some() => {
            let kind = note_type(&req.params)?;
            require(&req.caller, Need::List)?;
            let s = read();
            let oid = id(oid).unwrap_or_default();
            s.order(oid).ok_or_else(|| {
                ApiError::new(
                    404,
                    "woocommerce_rest_shop_order_invalid_id",
                    "Invalid order ID.",
                )
            })?;
            // get_comments: ORDER BY comment_date_gmt DESC and nothing else;
            // notes of the same second come in the order they were written
            // (recorded 39).
            let mut notes: Vec<&crate::model::Note> = s
                .notes(oid)
                .iter()
                .filter(|n| match kind {
                    "customer" => n.customer_note,
                    "internal" => !n.customer_note,
                    _ => true,
                })
                .collect();
            notes.sort_by_key(|n| std::cmp::Reverse(n.date_created));
            Ok(ApiResponse::ok(Value::Array(
                notes.iter().map(|n| render::note(site, n)).collect(),
            )))
        }
        ("POST", ["wc", "v3", "orders", oid, "notes"]) if id(oid).is_some() => {
            let b = body(req)?;
            let (text, customer) = note_body(&b)?;
            require(&req.caller, Need::Create)?;
            if b.get("id").is_some_and(php_truthy) {
                return Err(ApiError::new(
                    400,
                    "woocommerce_rest_shop_order_exists",
                    "Cannot create existing shop_order.",
                ));
            }
            let mut s = write();
            let oid = id(oid).unwrap_or_default();
            s.order(oid).ok_or_else(order_not_found_for_notes)?;
            let n = s.add_note(oid, &text, customer, req.now);
            let at = location(site, &format!("/orders/{oid}/notes/{}", n.id));
            Ok(ApiResponse::created(render::note(site, &n), at))
        }
        (
            "GET",
            [
                "wc-shipment-tracking",
                "v3",
                "shipment-trackings",
                "providers",
            ],
        )
        | (
            "GET",
            [
                "wc-shipment-tracking",
                "v3",
                "orders",
                _,
                "shipment-trackings",
                "providers",
            ],
        ) if features.shipment_tracking
            && (segs.len() == 4 || segs[3].bytes().all(|b| b.is_ascii_digit())) =>
        {
            // No permission callback: anyone may list the providers.
            Ok(ApiResponse::ok(tracking::providers()))
        }
        (
            "GET" | "POST",
            [
                "wc-shipment-tracking",
                "v3",
                "orders",
                oid,
                "shipment-trackings",
            ],
        ) if features.shipment_tracking && id(oid).is_some() => {
            trackings(req, store, site, id(oid).unwrap_or_default())
        }
        (
            "GET" | "DELETE",
            [
                "wc-shipment-tracking",
                "v3",
                "orders",
                oid,
                "shipment-trackings",
                tid,
            ],
        ) if features.shipment_tracking
            && id(oid).is_some()
            && tid.len() <= 32
            && tid.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            one_tracking(req, store, site, id(oid).unwrap_or_default(), tid)
        }
        _ => Err(ApiError::no_route()),
    }
}

/// `GET|POST /orders/{id}/refunds` (`WC_REST_Order_Refunds_Controller`):
/// the order's refunds (an unknown order has none: 200 `[]`), or a new
/// refund (201, in the `edit` context, with the `Location` of
/// `create_item`, which pastes the route pattern in).
fn order_refunds(
    req: &ApiRequest,
    store: &RwLock<Store>,
    site: &Site,
    oid: u64,
) -> Result<ApiResponse, ApiError> {
    if req.method == "GET" {
        let q = parse_collection(&req.params, Collection::Refunds, &site.tz)?;
        require(&req.caller, Need::List)?;
        let s = store.read().expect("store lock");
        let (page, total) = s.list_refunds(Some(oid), &q);
        let total = if page.is_empty() { 0 } else { total };
        let items = page
            .iter()
            .map(|(o, r)| render::refund(site, &s, o, r, RefundView::OfOrder))
            .collect();
        return Ok(collection(req, items, total, q.page, q.per_page));
    }
    let refund = refund_request(&body(req)?)?;
    require(&req.caller, Need::Create)?;
    if refund.has_id {
        return Err(ApiError::new(
            400,
            "woocommerce_rest_shop_order_refund_exists",
            "Cannot create existing shop_order_refund.",
        ));
    }
    let mut s = store.write().expect("store lock");
    let rid = s.create_refund(oid, &refund, req.now)?;
    let (o, r) = s.refund(rid).expect("just created");
    Ok(ApiResponse::created(
        render::refund(site, &s, o, r, RefundView::Created),
        location(site, &format!("/orders/(?P<order_id>[\\d]+)/refunds/{rid}")),
    ))
}

/// `GET|DELETE /orders/{oid}/refunds/{id}`. As the controller, the id is
/// looked up as any order (`wc_get_order`): nothing there is 404
/// `woocommerce_rest_shop_order_refund_invalid_id`; then the order in the
/// URL must exist (404 `woocommerce_rest_invalid_order_id`) and be the
/// refund's parent (404 `woocommerce_rest_invalid_order_refund_id`). A
/// DELETE (`force` defaults to true; false is 501, refunds have no trash)
/// prepares its answer first and deletes whatever the id named even when
/// that answer is one of those errors — an order id included, as
/// WooCommerce's `delete_item` does.
fn one_refund(
    req: &ApiRequest,
    store: &RwLock<Store>,
    site: &Site,
    oid: u64,
    rid: u64,
) -> Result<ApiResponse, ApiError> {
    let deleting = req.method == "DELETE";
    let force = if deleting {
        let sent = req.params.scalar("force").is_some()
            || matches!(&req.body, Some(Ok(b)) if b.get("force").is_some_and(|f| !f.is_null()));
        !sent || force(req)?
    } else {
        false
    };
    require(
        &req.caller,
        if deleting { Need::Delete } else { Need::View },
    )?;
    let mut s = store.write().expect("store lock");
    let is_order = s.order(rid).is_some();
    let parent = match s.refund(rid) {
        Some((o, _)) => o.id,
        None if is_order => 0,
        None => {
            return Err(ApiError::new(
                404,
                "woocommerce_rest_shop_order_refund_invalid_id",
                "Invalid ID.",
            ));
        }
    };
    if deleting && !force {
        return Err(ApiError::new(
            501,
            "woocommerce_rest_trash_not_supported",
            "The shop_order_refund does not support trashing.",
        ));
    }
    let view = if deleting {
        RefundView::Created
    } else {
        RefundView::OfOrder
    };
    let answer = if s.order(oid).is_none() {
        Err(ApiError::new(
            404,
            "woocommerce_rest_invalid_order_id",
            "Invalid order ID.",
        ))
    } else if parent != oid {
        Err(ApiError::new(
            404,
            "woocommerce_rest_invalid_order_refund_id",
            "Invalid order refund ID.",
        ))
    } else {
        let (o, r) = s.refund(rid).expect("found above");
        Ok(ApiResponse::ok(render::refund(site, &s, o, r, view)))
    };
    if deleting {
        if is_order {
            s.delete_order(rid, true, req.now, |_, _| ())?;
        } else {
            s.delete_refund(rid);
        }
    }
    answer
}

/// A product DELETE route: `force`, permission, then the store's
/// `delete_product`, answered with `render` of the record as it was.
fn delete_product(
    req: &ApiRequest,
    store: &RwLock<Store>,
    product: Option<u64>,
    route: ProductRoute,
    render: impl FnOnce(&Store, &crate::model::Product) -> Value,
) -> Result<ApiResponse, ApiError> {
    let force = force(req)?;
    require(&req.caller, Need::Delete)?;
    let mut s = store.write().expect("store lock");
    let before = s.delete_product(product.unwrap_or_default(), route, force, req.now, render)?;
    Ok(ApiResponse::ok(before))
}

fn parent_product(s: &Store, parent: u64) -> Result<(), ApiError> {
    match s.product(parent) {
        Some(p) if p.kind == ProductType::Variable => Ok(()),
        _ => Err(ApiError::new(
            404,
            "woocommerce_rest_product_invalid_id",
            "Invalid ID.",
        )),
    }
}

fn order_not_found() -> ApiError {
    ApiError::new(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
}

fn order_not_found_for_notes() -> ApiError {
    ApiError::new(
        404,
        "woocommerce_rest_order_invalid_id",
        "Invalid order ID.",
    )
}

fn collection(
    req: &ApiRequest,
    items: Vec<Value>,
    total: usize,
    page: u64,
    per_page: u64,
) -> ApiResponse {
    let (_, pages) = page_window(total, page, per_page);
    let mut headers = vec![
        ("X-WP-Total", total.to_string()),
        ("X-WP-TotalPages", pages.to_string()),
    ];
    if let Some(link) = link_header(&req.link_base, &req.params, page, pages) {
        headers.push(("Link", link));
    }
    ApiResponse {
        status: 200,
        headers,
        body: Value::Array(items),
    }
}

/// One batch request as `WC_REST_Controller::batch_items` runs it: at most
/// [`BATCH_LIMIT`] items together (else 413 for the whole request), the
/// creates, then the updates, then the deletes (id 0 skipped), each on its
/// own; an item that fails answers `{"id", "error"}` in its slot (id 0 for
/// a create) and the others still land, under a 200.
fn batch(
    b: &Value,
    s: &mut Store,
    create: impl Fn(&mut Store, &Value) -> Result<Value, ApiError>,
    update: impl Fn(&mut Store, u64, &Value) -> Result<Value, ApiError>,
    delete: impl Fn(&mut Store, u64) -> Result<Value, ApiError>,
) -> Result<ApiResponse, ApiError> {
    let list = |k: &str| {
        b.get(k)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let (creates, updates, deletes) = (list("create"), list("update"), list("delete"));
    if creates.len() + updates.len() + deletes.len() > BATCH_LIMIT {
        return Err(ApiError::new(
            413,
            "woocommerce_rest_request_entity_too_large",
            format!("Unable to accept more than {BATCH_LIMIT} items for this request."),
        ));
    }
    let item_error = |id: u64, e: ApiError| json!({ "id": id, "error": e.body() });
    let mut out = serde_json::Map::new();
    if !creates.is_empty() {
        let done = creates
            .iter()
            .map(|item| create(s, item).unwrap_or_else(|e| item_error(0, e)))
            .collect();
        out.insert("create".into(), Value::Array(done));
    }
    if !updates.is_empty() {
        let done = updates
            .iter()
            .map(|item| {
                let id = item.get("id").and_then(Value::as_u64).unwrap_or(0);
                update(s, id, item).unwrap_or_else(|e| item_error(id, e))
            })
            .collect();
        out.insert("update".into(), Value::Array(done));
    }
    if !deletes.is_empty() {
        let done = deletes
            .iter()
            .filter_map(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .filter(|id| *id != 0)
            .map(|id| delete(s, id).unwrap_or_else(|e| item_error(id, e)))
            .collect();
        out.insert("delete".into(), Value::Array(done));
    }
    Ok(ApiResponse::ok(Value::Object(out)))
}

fn batch_products(
    b: &Value,
    s: &mut Store,
    site: &Site,
    features: Features,
    parent: Option<u64>,
    now: Timestamp,
) -> Result<ApiResponse, ApiError> {
    let route = parent.map_or(ProductRoute::ProductsBatch, |parent| {
        ProductRoute::Variations { parent }
    });
    let render_one = |s: &Store, id: u64| {
        let p = s.product(id).expect("exists");
        if parent.is_some() {
            render::variation(site, s, p)
        } else {
            render::product_edit(site, s, p)
        }
    };
    batch(
        b,
        s,
        |s, item| {
            let id = s.create_product(&product_patch(item)?, parent, features.cogs, now)?;
            Ok(render_one(s, id))
        },
        |s, item_id, item| {
            let pid =
                s.resolve_product(item_id, route, if parent.is_some() { 404 } else { 400 })?;
            s.update_product(pid, &product_patch(item)?, features.cogs, now)?;
            Ok(render_one(s, pid))
        },
        |s, item_id| s.delete_product(item_id, route, true, now, |s, p| render_one(s, p.id)),
    )
}

/// `orders/batch` (`WC_REST_Orders_Controller`, through `batch_items`):
/// each update is `PUT /orders/{id}` with the item as its body (an unknown
/// id: 400 `woocommerce_rest_shop_order_invalid_id` in its slot), each
/// create `POST /orders`, each delete a forced delete; every landed item
/// answers the whole order.
fn batch_orders(
    b: &Value,
    s: &mut Store,
    site: &Site,
    now: Timestamp,
) -> Result<ApiResponse, ApiError> {
    let render_one = |s: &Store, id: u64| render::order(site, s, s.order(id).expect("exists"));
    batch(
        b,
        s,
        |s, item| {
            let id = s.create_order(&order_patch(item)?, now)?;
            Ok(render_one(s, id))
        },
        |s, id, item| {
            s.update_order(id, &order_patch(item)?, now)?;
            Ok(render_one(s, id))
        },
        |s, id| s.delete_order(id, true, now, |s, o| render::order(site, s, o)),
    )
}

/// The `type` argument of the notes listing: `any` (default), `customer`
/// or `internal`.
fn note_type(params: &PhpParams) -> Result<&str, ApiError> {
    let kind = params.scalar("type").unwrap_or("any");
    const TYPES: [&str; 3] = ["any", "customer", "internal"];
    TYPES.iter().find(|t| **t == kind).copied().ok_or_else(|| {
        ApiError::invalid_params(vec![crate::error::InvalidParam::not_in_enum(
            "type", "type", &TYPES,
        )])
    })
}

/// PHP's `! empty( $value )`.
pub(crate) fn php_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty() && s != "0",
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn tracking_order_not_found() -> ApiError {
    ApiError::new(
        404,
        "woocommerce_rest_order_invalid_id",
        "Invalid order ID.",
    )
}

/// `GET|POST …/orders/{id}/shipment-trackings`
/// (`WC_Shipment_Tracking_Order_REST_API_Controller::get_items` and
/// `create_item`).
fn trackings(
    req: &ApiRequest,
    store: &RwLock<Store>,
    site: &Site,
    oid: u64,
) -> Result<ApiResponse, ApiError> {
    if req.method == "GET" {
        require(&req.caller, Need::List)?;
        let s = store.read().expect("store lock");
        let o = s.order(oid).ok_or_else(tracking_order_not_found)?;
        return Ok(ApiResponse::ok(Value::Array(
            s.tracking_items(oid)
                .iter()
                .map(|item| tracking::render(&site.home, o, item))
                .collect(),
        )));
    }
    let b = body(req)?;
    // WordPress reads a parameter from the JSON body, else the query.
    let param = |k: &str| {
        b.get(k)
            .filter(|v| !v.is_null())
            .cloned()
            .or_else(|| req.params.scalar(k).map(|v| Value::String(v.to_owned())))
    };
    if param("tracking_number").is_none() {
        return Err(ApiError::new(
            400,
            "rest_missing_callback_param",
            "Missing parameter(s): tracking_number",
        )
        .with("params", json!(["tracking_number"])));
    }
    // The schema types `tracking_provider` and `custom_tracking_provider`
    // as strings; `tracking_number`'s arguments are replaced by `required`
    // alone and the link and date have types WordPress does not check.
    let bad: Vec<_> = ["tracking_provider", "custom_tracking_provider"]
        .into_iter()
        .filter(|k| param(k).is_some_and(|v| !v.is_string()))
        .map(|k| crate::error::InvalidParam::wrong_type(k, "string"))
        .collect();
    if !bad.is_empty() {
        return Err(ApiError::invalid_params(bad));
    }
    require(&req.caller, Need::Create)?;
    if param("tracking_id").is_some_and(|v| php_truthy(&v)) {
        return Err(ApiError::new(
            400,
            "woocommerce_rest_shop_order_shipment_tracking_exists",
            "Cannot create existing order shipment tracking.",
        ));
    }
    let mut s = store.write().expect("store lock");
    s.order(oid).ok_or_else(tracking_order_not_found)?;
    let new = NewTracking::from_params(param);
    let item = s.add_tracking(oid, new, req.now).expect("the order exists");
    let o = s.order(oid).expect("the order exists");
    let id = tracking::php_string(&item["tracking_id"]);
    Ok(ApiResponse::created(
        tracking::render(&site.home, o, &item),
        tracking::location(&site.home, oid, &id),
    ))
}

/// `GET|DELETE …/orders/{id}/shipment-trackings/{tracking_id}`: the item,
/// or (DELETE) the item as it was before it went.
fn one_tracking(
    req: &ApiRequest,
    store: &RwLock<Store>,
    site: &Site,
    oid: u64,
    tracking_id: &str,
) -> Result<ApiResponse, ApiError> {
    let deleting = req.method == "DELETE";
    require(
        &req.caller,
        if deleting { Need::Delete } else { Need::View },
    )?;
    let mut s = store.write().expect("store lock");
    let o = s.order(oid).ok_or_else(tracking_order_not_found)?;
    let shown = s
        .tracking_items(oid)
        .iter()
        .find(|i| i.get("tracking_id").and_then(Value::as_str) == Some(tracking_id))
        .map(|item| tracking::render(&site.home, o, item))
        .ok_or_else(|| {
            ApiError::new(
                404,
                "woocommerce_rest_order_shipment_tracking_invalid_id",
                "Invalid shipment tracking ID.",
            )
        })?;
    if deleting {
        s.delete_tracking(oid, tracking_id, req.now);
    }
    Ok(ApiResponse::ok(shown))
}

fn index(site: &Site) -> Value {
    let mut routes = serde_json::Map::new();
    let mut add = |route: &str, methods: &[&str]| {
        let concrete = !route.contains('(');
        let mut entry = json!({
            "namespace": "wc/v3",
            "methods": methods,
            "endpoints": methods.iter().map(|m| json!({ "methods": [m], "args": {} })).collect::<Vec<_>>(),
        });
        if concrete {
            entry["_links"] =
                json!({ "self": [{ "href": format!("{}/wp-json{route}", site.home) }] });
        }
        routes.insert(route.to_owned(), entry);
    };
    add("/wc/v3", &["GET"]);
    add("/wc/v3/orders", &["GET", "POST"]);
    add(
        "/wc/v3/orders/(?P<id>[\\d]+)",
        &["GET", "POST", "PUT", "PATCH", "DELETE"],
    );
    add("/wc/v3/orders/batch", &["POST", "PUT", "PATCH"]);
    add("/wc/v3/orders/(?P<order_id>[\\d]+)/notes", &["GET", "POST"]);
    add(
        "/wc/v3/orders/(?P<order_id>[\\d]+)/refunds",
        &["GET", "POST"],
    );
    add(
        "/wc/v3/orders/(?P<order_id>[\\d]+)/refunds/(?P<id>[\\d]+)",
        &["GET", "DELETE"],
    );
    add("/wc/v3/products", &["GET", "POST"]);
    add(
        "/wc/v3/products/(?P<id>[\\d]+)",
        &["GET", "POST", "PUT", "PATCH", "DELETE"],
    );
    add(
        "/wc/v3/products/(?P<product_id>[\\d]+)/variations",
        &["GET", "POST"],
    );
    add(
        "/wc/v3/products/(?P<product_id>[\\d]+)/variations/(?P<id>[\\d]+)",
        &["GET", "POST", "PUT", "PATCH", "DELETE"],
    );
    add(
        "/wc/v3/products/(?P<product_id>[\\d]+)/variations/batch",
        &["POST", "PUT", "PATCH"],
    );
    add("/wc/v3/products/batch", &["POST", "PUT", "PATCH"]);
    add("/wc/v3/system_status", &["GET"]);
    if site.wc_version.has_refunds_route() {
        add("/wc/v3/refunds", &["GET"]);
    }
    if site.wc_version.has_variations_route() {
        add("/wc/v3/variations", &["GET"]);
    }
    json!({
        "namespace": "wc/v3",
        "routes": routes,
        "_links": { "up": [{ "href": format!("{}/wp-json/", site.home) }] },
    })
}

fn system_status(site: &Site, features: Features) -> Value {
    let mut plugins = vec![
        json!({ "plugin": "woocommerce/woocommerce.php", "name": "WooCommerce", "version": site.wc_version.to_string() }),
    ];
    if features.shipment_tracking {
        plugins.push(json!({ "plugin": "woocommerce-shipment-tracking/woocommerce-shipment-tracking.php", "name": "WooCommerce Shipment Tracking", "version": "2.6.0" }));
    }
    json!({
        "environment": {
            "home_url": site.home,
            "site_url": site.home,
            "store_id": "00000000-0000-4000-8000-000000000000",
            "version": site.wc_version.to_string(),
            "log_directory": "/var/www/wordpress/wp-content/uploads/wc-logs/",
            "log_directory_writable": true,
            "wp_version": "6.8.3",
            "wp_multisite": false,
            "wp_memory_limit": 536_870_912,
            "wp_debug_mode": false,
            "wp_cron": true,
            "language": "en_US",
            "external_object_cache": null,
            "server_info": "woo-sandbox",
            "server_architecture": std::env::consts::ARCH,
            "php_version": "8.2.0",
            "php_post_max_size": 67_108_864,
            "php_max_execution_time": 300,
            "php_max_input_vars": 1000,
            "curl_version": "",
            "suhosin_installed": false,
            "max_upload_size": 67_108_864,
            "mysql_version": "10.11.0",
            "mysql_version_string": "10.11.0-MariaDB",
            "default_timezone": "UTC",
            "fsockopen_or_curl_enabled": true,
            "soapclient_enabled": false,
            "domdocument_enabled": true,
            "gzip_enabled": true,
            "mbstring_enabled": true,
            "remote_post_successful": false,
            "remote_post_response": false,
            "remote_get_successful": false,
            "remote_get_response": false,
        },
        "active_plugins": plugins,
        "settings": {
            "api_enabled": true,
            "currency": "USD",
            "currency_symbol": "&#36;",
            "timezone": site.tz.iana_name().unwrap_or("UTC"),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_replace_numeric_segments() {
        assert_eq!(
            route_pattern("/wc/v3/products/12/variations/14"),
            "/wc/v3/products/{id}/variations/{id}"
        );
        assert_eq!(
            route_pattern("/wc/v3/products/batch"),
            "/wc/v3/products/batch"
        );
    }
}
