//! Rendering store records as the wc/v3 JSON WooCommerce 10.0.2 returns:
//! every field the real response has, with the real JSON types (prices as
//! strings, line-item `price` and COGS values as numbers, naive dates,
//! `null` stock when unmanaged).

use jiff::{Timestamp, tz::TimeZone};
use serde_json::{Map, Value, json};

use crate::dates::{format_gmt, format_local};
use crate::model::{
    Address, LineItem, MetaEntry, Note, Order, Product, ProductType, Refund, ShippingLine,
};
use crate::store::Store;
use crate::version::WcVersion;

/// What rendering needs to know about the site.
#[derive(Debug, Clone)]
pub struct Site {
    /// Home URL without trailing slash, e.g. `http://127.0.0.1:8080`.
    pub home: String,
    /// Site time zone.
    pub tz: TimeZone,
    /// Native cost of goods sold feature on.
    pub cogs: bool,
    /// The WooCommerce version the store plays.
    pub wc_version: WcVersion,
}

impl Site {
    fn api(&self, path: &str) -> String {
        format!("{}/wp-json/wc/v3{path}", self.home)
    }
    fn local(&self, ts: Timestamp) -> Value {
        Value::String(format_local(ts, &self.tz))
    }
    fn local_opt(&self, ts: Option<Timestamp>) -> Value {
        ts.map_or(Value::Null, |t| self.local(t))
    }
}

fn gmt_opt(ts: Option<Timestamp>) -> Value {
    ts.map_or(Value::Null, |t| Value::String(format_gmt(t)))
}

/// A COGS amount: whole values as integers (6), others as floats (8.25).
pub fn number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        json!(v as i64)
    } else {
        json!(v)
    }
}

/// Money as the API formats it: two decimals.
pub fn money(v: f64) -> String {
    format!("{v:.2}")
}

fn parse_money(s: &str) -> f64 {
    s.trim().parse().unwrap_or(0.0)
}

fn meta(entries: &[MetaEntry]) -> Value {
    Value::Array(
        entries
            .iter()
            .map(|m| json!({ "id": m.id, "key": m.key, "value": m.value }))
            .collect(),
    )
}

fn self_links(href: String, collection: String, up: Option<String>) -> Value {
    let mut links = json!({
        "self": [{ "href": href, "targetHints": { "allow": ["GET", "POST", "PUT", "PATCH", "DELETE"] } }],
        "collection": [{ "href": collection }],
    });
    if let Some(up) = up {
        links["up"] = json!([{ "href": up }]);
    }
    links
}

/// The price a product sells at: sale price if set, else regular; for
/// variable and grouped parents the lowest child price.
pub fn effective_price(store: &Store, p: &Product) -> String {
    match p.kind {
        ProductType::Variable | ProductType::Grouped => {
            let kids: Vec<u64> = if p.kind == ProductType::Variable {
                store.child_variation_ids(p.id)
            } else {
                p.grouped_products.clone()
            };
            kids.iter()
                .filter_map(|id| store.product(*id))
                .map(|c| effective_price(store, c))
                .filter(|s| !s.is_empty())
                .map(|s| parse_money(&s))
                .reduce(f64::min)
                .map(money)
                .unwrap_or_default()
        }
        _ if !p.sale_price.is_empty() => p.sale_price.clone(),
        _ => p.regular_price.clone(),
    }
}

fn cogs_value(p: &Product) -> f64 {
    p.cost_of_goods_sold.unwrap_or(0.0)
}

fn product_cogs(p: &Product) -> Value {
    let defined = p.cost_of_goods_sold.map_or(Value::Null, number);
    let mut v = json!({
        "values": [{ "defined_value": defined, "effective_value": number(cogs_value(p)) }],
        "total_value": number(cogs_value(p)),
    });
    if p.kind == ProductType::Variation {
        v["defined_value_is_additive"] = json!(false);
    }
    v
}

fn permalink(site: &Site, store: &Store, p: &Product) -> String {
    match p.kind {
        ProductType::Variation => {
            let parent_slug = store
                .product(p.parent_id)
                .map_or("product", |pp| pp.slug.as_str());
            let query: Vec<String> = p
                .attributes
                .iter()
                .map(|a| {
                    format!(
                        "attribute_{}={}",
                        a.name.to_lowercase(),
                        a.option.clone().unwrap_or_default()
                    )
                })
                .collect();
            format!("{}/product/{parent_slug}/?{}", site.home, query.join("&"))
        }
        _ => format!("{}/product/{}/", site.home, p.slug),
    }
}

/// Stock fields as `managing_stock()` & co. show them: a variation that
/// does not manage its own stock while its parent does shows
/// `manage_stock: "parent"` and the parent's quantity, status and
/// backorders.
struct StockView<'a> {
    manage_stock: Value,
    managed: bool,
    quantity: Option<i64>,
    stock_status: &'a str,
    backorders: &'a str,
}

impl<'a> StockView<'a> {
    fn of(store: &'a Store, p: &'a Product) -> Self {
        let parent = store
            .product(p.parent_id)
            .filter(|pp| p.kind == ProductType::Variation && !p.manage_stock && pp.manage_stock);
        match parent {
            Some(pp) => Self {
                manage_stock: json!("parent"),
                managed: true,
                quantity: Some(pp.stock_quantity.unwrap_or(0)),
                stock_status: &pp.stock_status,
                backorders: &pp.backorders,
            },
            None => Self {
                manage_stock: json!(p.manage_stock),
                managed: p.manage_stock,
                quantity: p.manage_stock.then(|| p.stock_quantity.unwrap_or(0)),
                stock_status: &p.stock_status,
                backorders: &p.backorders,
            },
        }
    }

    fn insert_into(&self, obj: &mut Map<String, Value>) {
        obj.insert("manage_stock".into(), self.manage_stock.clone());
        obj.insert("stock_quantity".into(), json!(self.quantity));
        obj.insert("stock_status".into(), json!(self.stock_status));
        obj.insert("backorders".into(), json!(self.backorders));
        obj.insert("backorders_allowed".into(), json!(self.backorders != "no"));
        obj.insert(
            "backordered".into(),
            json!(self.managed && self.quantity.unwrap_or(0) < 0 && self.backorders != "no"),
        );
    }
}

fn attributes_of(p: &Product) -> Value {
    Value::Array(
        p.attributes
            .iter()
            .enumerate()
            .map(|(i, a)| match &a.option {
                Some(opt) => {
                    json!({ "id": 0, "name": a.name, "slug": a.name.to_lowercase(), "option": opt })
                }
                None => json!({
                    "id": 0, "name": a.name, "slug": a.name, "position": i, "visible": true,
                    "variation": p.kind == ProductType::Variable, "options": a.options,
                }),
            })
            .collect(),
    )
}

/// A product (or a variation) as `/products` and `/products/{id}` show it.
pub fn product(site: &Site, store: &Store, p: &Product) -> Value {
    let price = effective_price(store, p);
    let is_parent = matches!(p.kind, ProductType::Variable | ProductType::Grouped);
    let on_sale = !is_parent && !p.sale_price.is_empty();
    let shipping_required = !p.is_virtual;
    let mut v = json!({
        "id": p.id,
        "name": p.name,
        "slug": p.slug,
        "permalink": permalink(site, store, p),
        "date_created": site.local(p.date_created),
        "date_created_gmt": format_gmt(p.date_created),
        "date_modified": site.local(p.date_modified),
        "date_modified_gmt": format_gmt(p.date_modified),
        "type": p.kind.as_str(),
        "status": p.status,
        "featured": false,
        "catalog_visibility": "visible",
        "description": p.description,
        "short_description": p.short_description,
        "sku": p.sku,
        "price": price,
        "regular_price": if is_parent { String::new() } else { p.regular_price.clone() },
        "sale_price": if is_parent { String::new() } else { p.sale_price.clone() },
        "date_on_sale_from": null,
        "date_on_sale_from_gmt": null,
        "date_on_sale_to": null,
        "date_on_sale_to_gmt": null,
        "on_sale": on_sale,
        "purchasable": !matches!(p.kind, ProductType::Grouped | ProductType::External) && !price.is_empty(),
        "total_sales": if p.kind == ProductType::Variation { json!(p.total_sales.to_string()) } else { json!(p.total_sales) },
        "virtual": p.is_virtual,
        "downloadable": p.downloadable,
        "downloads": p.downloads,
        "download_limit": if p.downloadable { 5 } else { -1 },
        "download_expiry": -1,
        "external_url": p.external_url,
        "button_text": p.button_text,
        "tax_status": "taxable",
        "tax_class": "",
        "manage_stock": null,
        "stock_quantity": null,
        "backorders": null,
        "backorders_allowed": null,
        "backordered": null,
        "low_stock_amount": null,
        "sold_individually": false,
        "weight": p.weight,
        "dimensions": { "length": "", "width": "", "height": "" },
        "shipping_required": shipping_required,
        "shipping_taxable": shipping_required,
        "shipping_class": "",
        "shipping_class_id": 0,
        "reviews_allowed": p.kind != ProductType::Variation,
        "average_rating": "0.00",
        "rating_count": 0,
        "upsell_ids": [],
        "cross_sell_ids": [],
        "parent_id": p.parent_id,
        "purchase_note": "",
        "categories": if p.kind == ProductType::Variation { json!([]) } else { json!([{ "id": 15, "name": "Uncategorized", "slug": "uncategorized" }]) },
        "brands": [],
        "tags": [],
        "images": [],
        "attributes": attributes_of(p),
        "default_attributes": [],
        "variations": if p.kind == ProductType::Variable { store.child_variation_ids(p.id) } else { Vec::new() },
        "grouped_products": p.grouped_products,
        "menu_order": 0,
        "price_html": if price.is_empty() { String::new() } else { format!("<span class=\"woocommerce-Price-amount amount\"><bdi><span class=\"woocommerce-Price-currencySymbol\">&#36;</span>{price}</bdi></span>") },
        "related_ids": [],
        "meta_data": meta(&p.meta_data),
        "stock_status": null,
        "has_options": p.kind == ProductType::Variable,
        "post_password": "",
        "global_unique_id": "",
    });
    let obj = v.as_object_mut().expect("object");
    StockView::of(store, p).insert_into(obj);
    if site.cogs {
        obj.insert("cost_of_goods_sold".into(), product_cogs(p));
    }
    let up = (p.parent_id != 0).then(|| site.api(&format!("/products/{}", p.parent_id)));
    obj.insert(
        "_links".into(),
        self_links(
            site.api(&format!("/products/{}", p.id)),
            site.api("/products"),
            up,
        ),
    );
    v
}

/// A product as a write route answers it (the `edit` context adds the
/// permalink template and the generated slug).
pub fn product_edit(site: &Site, store: &Store, p: &Product) -> Value {
    let mut v = product(site, store, p);
    let obj = v.as_object_mut().expect("object");
    let links = obj.remove("_links");
    obj.insert(
        "permalink_template".into(),
        json!(format!("{}/product/%pagename%/", site.home)),
    );
    obj.insert("generated_slug".into(), json!(p.slug));
    if let Some(links) = links {
        obj.insert("_links".into(), links);
    }
    v
}

/// A variation as the `/products/{id}/variations` routes show it.
pub fn variation(site: &Site, store: &Store, p: &Product) -> Value {
    let name: Vec<&str> = p
        .attributes
        .iter()
        .filter_map(|a| a.option.as_deref())
        .collect();
    let price = effective_price(store, p);
    let mut v = json!({
        "id": p.id,
        "type": "variation",
        "date_created": site.local(p.date_created),
        "date_created_gmt": format_gmt(p.date_created),
        "date_modified": site.local(p.date_modified),
        "date_modified_gmt": format_gmt(p.date_modified),
        "description": p.description,
        "permalink": permalink(site, store, p),
        "sku": p.sku,
        "global_unique_id": "",
        "price": price,
        "regular_price": p.regular_price,
        "sale_price": p.sale_price,
        "date_on_sale_from": null,
        "date_on_sale_from_gmt": null,
        "date_on_sale_to": null,
        "date_on_sale_to_gmt": null,
        "on_sale": !p.sale_price.is_empty(),
        "status": p.status,
        "purchasable": !price.is_empty(),
        "virtual": p.is_virtual,
        "downloadable": p.downloadable,
        "downloads": p.downloads,
        "download_limit": -1,
        "download_expiry": -1,
        "tax_status": "taxable",
        "tax_class": "",
        "manage_stock": null,
        "stock_quantity": null,
        "stock_status": null,
        "backorders": null,
        "backorders_allowed": null,
        "backordered": null,
        "low_stock_amount": null,
        "weight": p.weight,
        "dimensions": { "length": "", "width": "", "height": "" },
        "shipping_class": "",
        "shipping_class_id": 0,
        "image": null,
        "attributes": attributes_of(p),
        "menu_order": 0,
        "meta_data": meta(&p.meta_data),
        "name": name.join(", "),
        "parent_id": p.parent_id,
    });
    let obj = v.as_object_mut().expect("object");
    StockView::of(store, p).insert_into(obj);
    if site.cogs {
        obj.insert("cost_of_goods_sold".into(), product_cogs(p));
    }
    obj.insert(
        "_links".into(),
        self_links(
            site.api(&format!("/products/{}/variations/{}", p.parent_id, p.id)),
            site.api(&format!("/products/{}/variations", p.parent_id)),
            Some(site.api(&format!("/products/{}", p.parent_id))),
        ),
    );
    v
}

fn address(a: &Address, with_email: bool) -> Value {
    let mut v = json!({
        "first_name": a.first_name, "last_name": a.last_name, "company": a.company,
        "address_1": a.address_1, "address_2": a.address_2, "city": a.city, "state": a.state,
        "postcode": a.postcode, "country": a.country,
    });
    let obj = v.as_object_mut().expect("object");
    if with_email {
        obj.insert("email".into(), json!(a.email));
    }
    obj.insert("phone".into(), json!(a.phone));
    v
}

fn line_item(site: &Site, store: &Store, li: &LineItem) -> Value {
    let product = store.product(if li.variation_id != 0 {
        li.variation_id
    } else {
        li.product_id
    });
    let total = parse_money(&li.total);
    let price = if li.quantity != 0 {
        total / li.quantity as f64
    } else {
        0.0
    };
    let subtotal = if li.subtotal.is_empty() {
        &li.total
    } else {
        &li.subtotal
    };
    let parent_name = (li.variation_id != 0)
        .then(|| store.product(li.product_id).map(|p| p.name.clone()))
        .flatten();
    // A line whose product (or variation) was deleted for good shows 0,
    // as a real store does; its name and totals stay.
    let exists = |id: u64| if store.product(id).is_some() { id } else { 0 };
    let mut v = json!({
        "id": li.id,
        "name": li.name,
        "product_id": exists(li.product_id),
        "variation_id": exists(li.variation_id),
        "quantity": li.quantity,
        "tax_class": "",
        "subtotal": money(parse_money(subtotal)),
        "subtotal_tax": "0.00",
        "total": money(total),
        "total_tax": "0.00",
        "taxes": [],
        "meta_data": item_meta(&li.meta_data),
        "sku": product.map(|p| p.sku.clone()),
        "price": number(price),
        "image": if li.variation_id != 0 { json!({ "id": 0, "src": "" }) } else { json!({ "id": "", "src": "" }) },
        "parent_name": parent_name,
    });
    if site.cogs {
        let cost = product.map_or(0.0, cogs_value) * li.quantity as f64;
        v["cost_of_goods_sold"] = json!({ "value": number(cost) });
    }
    v
}

/// Item meta with the display attributes `get_order_item_data` merges in.
fn item_meta(entries: &[MetaEntry]) -> Value {
    Value::Array(
        entries
            .iter()
            .map(|m| {
                json!({
                    "id": m.id, "key": m.key, "value": m.value,
                    "display_key": display_key(&m.key), "display_value": m.value,
                })
            })
            .collect(),
    )
}

/// A shipping line of an order or a refund.
fn shipping_line(s: &ShippingLine) -> Value {
    json!({
        "id": s.id, "method_title": s.method_title, "method_id": s.method_id,
        "instance_id": s.instance_id, "total": money(parse_money(&s.total)), "total_tax": "0.00",
        "taxes": [], "tax_status": "taxable", "meta_data": item_meta(&s.meta_data),
    })
}

fn display_key(key: &str) -> String {
    if key.starts_with('_') {
        return key.to_owned();
    }
    let mut chars = key.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Order totals: (line totals, shipping total, grand total).
pub fn order_totals(o: &Order) -> (f64, f64, f64) {
    let lines: f64 = o.line_items.iter().map(|l| parse_money(&l.total)).sum();
    let shipping: f64 = o.shipping_lines.iter().map(|s| parse_money(&s.total)).sum();
    (lines, shipping, lines + shipping)
}

/// An order as `/orders` and `/orders/{id}` show it.
pub fn order(site: &Site, store: &Store, o: &Order) -> Value {
    let (_, shipping, total) = order_totals(o);
    let mut v = json!({
        "id": o.id,
        "parent_id": 0,
        "status": o.status,
        "currency": o.currency,
        "version": site.wc_version.to_string(),
        "prices_include_tax": false,
        "date_created": site.local(o.date_created),
        "date_modified": site.local(o.date_modified),
        "discount_total": money(parse_money(&o.discount_total)),
        "discount_tax": "0.00",
        "shipping_total": money(shipping),
        "shipping_tax": "0.00",
        "cart_tax": "0.00",
        "total": money(total),
        "total_tax": "0.00",
        "customer_id": o.customer_id,
        "order_key": o.order_key,
        "billing": address(&o.billing, true),
        "shipping": address(&o.shipping, false),
        "payment_method": o.payment_method,
        "payment_method_title": o.payment_method_title,
        "transaction_id": o.transaction_id,
        "customer_ip_address": "",
        "customer_user_agent": "",
        "created_via": o.created_via,
        "customer_note": o.customer_note,
        "date_completed": site.local_opt(o.date_completed),
        "date_paid": site.local_opt(o.date_paid),
        "cart_hash": "",
        "number": o.number.clone().unwrap_or_else(|| o.id.to_string()),
        "meta_data": meta(&o.meta_data),
        "line_items": o.line_items.iter().map(|li| line_item(site, store, li)).collect::<Vec<_>>(),
        "tax_lines": [],
        "shipping_lines": o.shipping_lines.iter().map(shipping_line).collect::<Vec<_>>(),
        "fee_lines": [],
        "coupon_lines": [],
        "refunds": o.refunds.iter().map(|r| json!({ "id": r.id, "reason": r.reason, "total": r.total })).collect::<Vec<_>>(),
        "payment_url": format!("{}/checkout/order-pay/{}/?pay_for_order=true&key={}", site.home, o.id, o.order_key),
        "is_editable": matches!(o.status.as_str(), "pending" | "on-hold" | "auto-draft" | "checkout-draft"),
        "needs_payment": store.needs_payment(o),
        "needs_processing": store.needs_processing(o),
        "date_created_gmt": format_gmt(o.date_created),
        "date_modified_gmt": format_gmt(o.date_modified),
        "date_completed_gmt": gmt_opt(o.date_completed),
        "date_paid_gmt": gmt_opt(o.date_paid),
    });
    let obj = v.as_object_mut().expect("object");
    if site.cogs {
        let cost: f64 = o
            .line_items
            .iter()
            .map(|li| {
                let id = if li.variation_id != 0 {
                    li.variation_id
                } else {
                    li.product_id
                };
                store.product(id).map_or(0.0, cogs_value) * li.quantity as f64
            })
            .sum();
        obj.insert(
            "cost_of_goods_sold".into(),
            json!({ "total_value": number(cost) }),
        );
    }
    obj.insert(
        "currency_symbol".into(),
        json!(if o.currency == "EUR" { "€" } else { "$" }),
    );
    let mut links = self_links(
        site.api(&format!("/orders/{}", o.id)),
        site.api("/orders"),
        None,
    );
    links["email_templates"] = json!([{ "embeddable": true, "href": site.api(&format!("/orders/{}/actions/email_templates", o.id)) }]);
    if o.customer_id != 0 {
        links["customer"] = json!([{ "href": site.api(&format!("/customers/{}", o.customer_id)) }]);
    }
    obj.insert("_links".into(), links);
    v
}

/// Which route shows a refund: the order's refunds (`view` context), the
/// answer to creating one (`edit` context: no `refunded_payment`), or
/// `/refunds` (adds `parent_id` and a `refunded_by` link).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundView {
    /// `GET /orders/{id}/refunds[/{id}]`.
    OfOrder,
    /// `POST /orders/{id}/refunds`.
    Created,
    /// `GET /refunds`.
    All,
}

/// A refund as `WC_REST_Order_Refunds_Controller` (and, for
/// [`RefundView::All`], `WC_REST_Refunds_Controller`) shows it: its lines
/// as order lines are shown, with COGS (negative, as the quantities) when
/// the feature is on.
pub fn refund(site: &Site, store: &Store, o: &Order, r: &Refund, view: RefundView) -> Value {
    let created = r.date_created.unwrap_or(o.date_modified);
    let mut obj = Map::new();
    obj.insert("id".into(), json!(r.id));
    if view == RefundView::All {
        obj.insert("parent_id".into(), json!(o.id));
    }
    obj.insert("date_created".into(), site.local(created));
    obj.insert("date_created_gmt".into(), json!(format_gmt(created)));
    obj.insert("amount".into(), json!(money(r.amount())));
    obj.insert("reason".into(), json!(r.reason));
    obj.insert("refunded_by".into(), json!(r.refunded_by));
    if view != RefundView::Created {
        obj.insert("refunded_payment".into(), json!(r.refunded_payment));
    }
    obj.insert("meta_data".into(), meta(&r.meta_data));
    obj.insert(
        "line_items".into(),
        r.line_items
            .iter()
            .map(|li| line_item(site, store, li))
            .collect(),
    );
    obj.insert(
        "shipping_lines".into(),
        r.shipping_lines.iter().map(shipping_line).collect(),
    );
    obj.insert("tax_lines".into(), json!([]));
    obj.insert("fee_lines".into(), json!([]));
    if site.cogs {
        let cost: f64 = r
            .line_items
            .iter()
            .map(|li| store.product(li.sold_id()).map_or(0.0, cogs_value) * li.quantity as f64)
            .sum();
        obj.insert(
            "cost_of_goods_sold".into(),
            json!({ "value": number(cost) }),
        );
    }
    let base = format!("/orders/{}/refunds", o.id);
    let mut links = json!({
        "self": [{ "href": site.api(&format!("{base}/{}", r.id)), "targetHints": { "allow": ["GET", "DELETE"] } }],
        "collection": [{ "href": site.api(&base) }],
        "up": [{ "href": site.api(&format!("/orders/{}", o.id)) }],
    });
    if view == RefundView::All {
        links["refunded_by"] = json!([{
            "embeddable": true,
            "href": format!("{}/wp-json/wp/v2/users/{}", site.home, r.refunded_by),
        }]);
    }
    obj.insert("_links".into(), links);
    Value::Object(obj)
}

/// An order note.
pub fn note(site: &Site, n: &Note) -> Value {
    json!({
        "id": n.id,
        "author": n.author,
        "date_created": site.local(n.date_created),
        "date_created_gmt": format_gmt(n.date_created),
        "note": n.note,
        "customer_note": n.customer_note,
        "_links": {
            "self": [{ "href": site.api(&format!("/orders/{}/notes/{}", n.order_id, n.id)), "targetHints": { "allow": ["GET", "DELETE"] } }],
            "collection": [{ "href": site.api(&format!("/orders/{}/notes", n.order_id)) }],
            "up": [{ "href": site.api(&format!("/orders/{}", n.order_id)) }],
        },
    })
}

/// Keep only the `_fields` asked for (top level, or `a.b` one level down).
pub fn filter_fields(value: Value, fields: &[String]) -> Value {
    match value {
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| filter_fields(v, fields))
                .collect(),
        ),
        Value::Object(obj) => {
            let mut out = Map::new();
            for (k, v) in obj {
                let nested: Vec<String> = fields
                    .iter()
                    .filter_map(|f| f.strip_prefix(&format!("{k}.")).map(str::to_owned))
                    .collect();
                if k == "_links" || fields.contains(&k) {
                    out.insert(k, v);
                } else if !nested.is_empty() {
                    out.insert(k, filter_fields(v, &nested));
                }
            }
            Value::Object(out)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cogs_numbers_drop_whole_fractions() {
        assert_eq!(number(6.0), json!(6));
        assert_eq!(number(8.25), json!(8.25));
        assert_eq!(money(17.5), "17.50");
    }

    #[test]
    /// `_links` survive `_fields`, as in WordPress (recorded 78).
    fn fields_filter_top_level_and_nested() {
        let v = json!([{ "id": 1, "sku": "A", "environment": { "version": "10", "x": 1 }, "other": 2, "_links": {} }]);
        let f = filter_fields(
            v,
            &["id".into(), "sku".into(), "environment.version".into()],
        );
        assert_eq!(
            f,
            json!([{ "id": 1, "sku": "A", "environment": { "version": "10" }, "_links": {} }])
        );
    }

    fn site() -> Site {
        Site {
            home: "http://h".into(),
            tz: TimeZone::UTC,
            cogs: true,
            wc_version: WcVersion::RECORDED,
        }
    }

    #[test]
    fn a_variation_stocked_at_its_parent_shows_parent() {
        let mut store = Store::from_seed(crate::seed::Seed::quickstart());
        let mut parent = store.product(12).unwrap().clone();
        (parent.manage_stock, parent.stock_quantity) = (true, Some(-1));
        parent.stock_status = "onbackorder".into();
        parent.backorders = "notify".into();
        store.put_product(parent);
        let mut v = store.product(15).unwrap().clone();
        (v.manage_stock, v.stock_quantity) = (false, None);
        store.put_product(v);
        let shown = variation(&site(), &store, store.product(15).unwrap());
        assert_eq!(shown["manage_stock"], "parent");
        assert_eq!(shown["stock_quantity"], -1);
        assert_eq!(
            (&shown["stock_status"], &shown["backordered"]),
            (&json!("onbackorder"), &json!(true))
        );
        let own = variation(&site(), &store, store.product(13).unwrap());
        assert_eq!(
            (&own["manage_stock"], &own["stock_quantity"]),
            (&json!(true), &json!(2))
        );
    }

    #[test]
    fn orders_say_whether_they_need_processing_and_payment() {
        let store = Store::from_seed(crate::seed::Seed::quickstart());
        let shown = |id| order(&site(), &store, store.order(id).unwrap());
        assert_eq!(shown(180)["needs_processing"], false, "a virtual download");
        assert_eq!(shown(178)["needs_processing"], true, "virtual only");
        assert_eq!(
            (&shown(175)["needs_payment"], &shown(176)["needs_payment"]),
            (&json!(true), &json!(false))
        );
        assert_eq!(shown(176)["version"], "10.0.2");
    }

    #[test]
    fn item_meta_display_keys() {
        assert_eq!(display_key("size"), "Size");
        assert_eq!(display_key("_reduced_stock"), "_reduced_stock");
    }
}
