//! The warehouse's orders, read-only: first the orders that need a
//! person's attention (what their store said of them), then every order,
//! newest first, a page at a time, by status; and each order's page (its
//! header, the attention reason, its lines with what the store refunded and
//! why a line is kept but not shipped, its shipments). Nothing here changes
//! anything, so there is no form.
//!
//! An order number may hold any character (`/`, spaces, `%`): links carry
//! it percent-encoded as one path segment ([`order_href`]) and the route
//! decodes it.
//!
//! The list reads every order of the status asked and pages in memory:
//! the database has no paged query of orders yet.

use std::cmp::Ordering;
use std::fmt::Write as _;

use axum::Extension;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use intellitrack_db::{DbError, OrderNotes};
use maud::{Markup, html};
use plugin_api::warehouse::{Order, OrderLineView, OrderStatus};

use super::form::Form;
use super::guard::Viewer;
use super::layout::{Failure, frame};
use super::{State, blocking};
use crate::cli::format_time;

/// How many orders a page of the list shows.
const PAGE_SIZE: usize = 50;

/// The statuses the list can be filtered by.
const STATUSES: [OrderStatus; 7] = [
    OrderStatus::Open,
    OrderStatus::Picking,
    OrderStatus::Picked,
    OrderStatus::PartiallyShipped,
    OrderStatus::Shipped,
    OrderStatus::Cancelled,
    OrderStatus::Exception,
];

/// What the list's address asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ListQuery {
    /// `None`: every status.
    status: Option<OrderStatus>,
    /// From 1.
    page: usize,
}

/// Reads `?status=STATUS&page=N` (both optional; `status=all` is every
/// status); anything else in the query is passed over.
fn list_query(raw: Option<&str>) -> Result<ListQuery, String> {
    let form = Form::read(raw.unwrap_or_default().as_bytes());
    if !form.refused.is_empty() {
        return Err(format!("The address's {}.", form.refusals()));
    }
    let status = match form.field("status") {
        None | Some("" | "all") => None,
        Some(word) => Some(OrderStatus::parse(word).ok_or_else(|| {
            let known: Vec<&str> = STATUSES.iter().map(|s| s.as_str()).collect();
            format!(
                "There is no order status {word:?}; the statuses are {}.",
                known.join(", ")
            )
        })?),
    };
    let page = match form.field("page") {
        None | Some("") => 1,
        Some(n) => n
            .parse::<usize>()
            .ok()
            .filter(|&n| n >= 1)
            .ok_or_else(|| format!("The page must be a whole number from 1, not {n:?}."))?,
    };
    Ok(ListQuery { status, page })
}

/// The list's address for a status and page.
fn list_href(status: Option<OrderStatus>, page: usize) -> String {
    let mut href = String::from("/orders");
    let mut sep = '?';
    if let Some(status) = status {
        let _ = write!(href, "{sep}status={}", status.as_str());
        sep = '&';
    }
    if page > 1 {
        let _ = write!(href, "{sep}page={page}");
    }
    href
}

/// An order's page: its number percent-encoded as one path segment (every
/// byte but ASCII letters, digits and `-._~`).
fn order_href(number: &str) -> String {
    let mut href = String::from("/orders/");
    for byte in number.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            href.push(char::from(byte));
        } else {
            let _ = write!(href, "%{byte:02X}");
        }
    }
    href
}

/// Newest first: by when the order was placed (when the warehouse got it,
/// if its source did not say), then by number, the higher first.
fn newest_first(a: &Order, b: &Order) -> Ordering {
    let placed = |o: &Order| o.ordered_at_ms.unwrap_or(o.created_at_ms);
    placed(b)
        .cmp(&placed(a))
        .then_with(|| by_number(&b.number, &a.number))
}

/// Order numbers compared with each run of digits as a number, so that
/// `WC-9` comes before `WC-10`.
fn by_number(mut a: &str, mut b: &str) -> Ordering {
    loop {
        let (Some(x), Some(y)) = (a.chars().next(), b.chars().next()) else {
            return a.len().cmp(&b.len());
        };
        if x.is_ascii_digit() && y.is_ascii_digit() {
            let (digits_a, rest_a) =
                a.split_at(a.find(|c: char| !c.is_ascii_digit()).unwrap_or(a.len()));
            let (digits_b, rest_b) =
                b.split_at(b.find(|c: char| !c.is_ascii_digit()).unwrap_or(b.len()));
            let (value_a, value_b) = (
                digits_a.trim_start_matches('0'),
                digits_b.trim_start_matches('0'),
            );
            let order = value_a
                .len()
                .cmp(&value_b.len())
                .then_with(|| value_a.cmp(value_b))
                .then_with(|| digits_a.len().cmp(&digits_b.len()));
            if order != Ordering::Equal {
                return order;
            }
            (a, b) = (rest_a, rest_b);
        } else if x != y {
            return x.cmp(&y);
        } else {
            (a, b) = (&a[x.len_utf8()..], &b[y.len_utf8()..]);
        }
    }
}

/// Page `page` (from 1) of `orders`, and how many pages there are (at
/// least one); `None` past the last page.
fn page_of<T>(orders: &[T], page: usize) -> Option<(&[T], usize)> {
    let pages = orders.len().div_ceil(PAGE_SIZE).max(1);
    if page == 0 || page > pages {
        return None;
    }
    let start = (page - 1) * PAGE_SIZE;
    Some((&orders[start..(start + PAGE_SIZE).min(orders.len())], pages))
}

/// Where an order came from: its plugin, or the warehouse itself.
fn source(order: &Order) -> &str {
    order.source.as_deref().unwrap_or("warehouse")
}

/// The sum of one quantity over an order's lines.
fn total(order: &Order, quantity: fn(&OrderLineView) -> i64) -> i64 {
    order.lines.iter().map(quantity).sum()
}

pub async fn list(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    RawQuery(query): RawQuery,
) -> Result<Response, Failure> {
    let asked =
        list_query(query.as_deref()).map_err(|why| Failure::new(StatusCode::BAD_REQUEST, why))?;
    let host = page.host.clone();
    let (mut flagged, mut orders, attention) = blocking(move || -> Result<_, DbError> {
        let db = &host.core.db;
        let attention = db.orders_needing_attention()?;
        let mut flagged = Vec::new();
        for (number, why) in &attention {
            if let Some(order) = db.order(number)? {
                flagged.push((order, why.clone()));
            }
        }
        Ok((flagged, db.orders(asked.status)?, attention))
    })
    .await?
    .map_err(Failure::from_db)?;
    flagged.sort_by(|(a, _), (b, _)| newest_first(a, b));
    orders.sort_by(newest_first);
    let (shown, pages) = page_of(&orders, asked.page).ok_or_else(|| {
        Failure::not_found(&format!(
            "There is no page {} of these orders: the last is {}.",
            asked.page,
            orders.len().div_ceil(PAGE_SIZE).max(1)
        ))
    })?;
    let body = html! {
        h2 { "Needs attention" }
        @if flagged.is_empty() {
            p id="no-attention" { "No order needs attention." }
        } @else {
            table id="attention" {
                thead { tr { th { "Order" } th { "Source" } th { "Status" } th { "Why it needs attention" } } }
                tbody {
                    @for (o, why) in &flagged {
                        tr data-order=(o.number) {
                            td { a href=(order_href(&o.number)) { (o.number) } }
                            td { (source(o)) }
                            td class="status" { (o.status.as_str()) }
                            td class="reason" { (why) }
                        }
                    }
                }
            }
        }
        h2 {
            @match asked.status {
                Some(status) => { "Orders with status " (status.as_str()) }
                None => "All orders",
            }
        }
        p class="filter" {
            "Status: "
            @if asked.status.is_none() { strong { "all" } } @else { a href=(list_href(None, 1)) { "all" } }
            @for status in STATUSES {
                " · "
                @if asked.status == Some(status) {
                    strong { (status.as_str()) }
                } @else {
                    a href=(list_href(Some(status), 1)) { (status.as_str()) }
                }
            }
        }
        @if shown.is_empty() {
            p id="no-orders" { "No orders." }
        } @else {
            table id="orders" {
                thead { tr {
                    th { "Order" } th { "Placed" } th { "Status" } th { "Source" } th { "Customer" }
                    th { "Lines" } th { "Ordered" } th { "Picked" } th { "Shipped" } th { "Attention" }
                } }
                tbody {
                    @for o in shown {
                        tr data-order=(o.number) {
                            td { a href=(order_href(&o.number)) { (o.number) } }
                            td class="placed" { (format_time(o.ordered_at_ms.unwrap_or(o.created_at_ms))) }
                            td class="status" { (o.status.as_str()) }
                            td { (source(o)) }
                            td { (o.customer) }
                            td { (o.lines.len()) }
                            td { (total(o, |l| l.ordered)) }
                            td { (total(o, |l| l.picked)) }
                            td { (total(o, |l| l.shipped)) }
                            td class="attention" {
                                @if attention.contains_key(&o.number) { span class="run-error" { "needs attention" } }
                            }
                        }
                    }
                }
            }
        }
        p class="pages" {
            "Page " (asked.page) " of " (pages) " (" (orders.len()) " orders)"
            @if asked.page > 1 {
                " " a id="previous-page" href=(list_href(asked.status, asked.page - 1)) { "Previous page" }
            }
            @if asked.page < pages {
                " " a id="next-page" href=(list_href(asked.status, asked.page + 1)) { "Next page" }
            }
        }
    };
    Ok(frame("Orders", Some(&viewer), body).into_response())
}

pub async fn show(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    number: Result<Path<String>, PathRejection>,
) -> Result<Response, Failure> {
    let Path(number) = number.map_err(|_| {
        Failure::new(
            StatusCode::BAD_REQUEST,
            "The address does not name an order number that can be read.",
        )
    })?;
    let host = page.host.clone();
    let wanted = number.clone();
    let found = blocking(move || -> Result<_, DbError> {
        let db = &host.core.db;
        let Some(order) = db.order(&wanted)? else {
            return Ok(None);
        };
        Ok(Some((order, db.order_notes(&wanted)?)))
    })
    .await?
    .map_err(Failure::from_db)?;
    let (order, notes) =
        found.ok_or_else(|| Failure::not_found(&format!("There is no order {number:?}.")))?;
    let title = format!("Order {}", order.number);
    Ok(frame(&title, Some(&viewer), order_body(&order, &notes)).into_response())
}

/// An order's page: what needs attention, the header, lines, shipments.
fn order_body(o: &Order, notes: &OrderNotes) -> Markup {
    html! {
        @if let Some(why) = &notes.attention {
            p class="message error" id="attention" role="alert" { strong { "Needs attention: " } (why) }
        }
        table id="order" {
            tbody {
                tr { th { "Status" } td id="status" { (o.status.as_str()) } }
                tr { th { "Source" } td {
                    (source(o))
                    @if let Some(id) = &o.external_id { " #" (id) }
                } }
                tr { th { "Customer" } td { (o.customer) } }
                tr { th { "Ship to" } td { (o.ship_to.one_line()) } }
                tr { th { "Shipping" } td { (o.shipping_method) } }
                @if !o.customer_note.is_empty() {
                    tr { th { "Customer's note" } td { (o.customer_note) } }
                }
                tr { th { "Placed" } td { (format_time(o.ordered_at_ms.unwrap_or(o.created_at_ms))) } }
                @if let Some(reason) = &o.cancel_reason {
                    tr {
                        th { @if o.status == OrderStatus::Exception { "Exception" } @else { "Cancelled" } }
                        td id="cancel-reason" { (reason) }
                    }
                }
            }
        }
        h2 { "Lines" }
        table id="lines" {
            thead { tr {
                th { "Line" } th { "Item" } th { "Ordered" } th { "Picked" } th { "Shipped" } th { "Refunded" } th { "Not shipped" }
            } }
            tbody {
                @for l in &o.lines {
                    tr id=(format!("line-{}", l.line)) class=[l.not_shipped.then_some("not-shipped")] {
                        td { (l.line) }
                        td { @if l.item_number.is_empty() { "-" } @else { (l.item_number) } }
                        td { (l.ordered) }
                        td { (l.picked) }
                        td { (l.shipped) }
                        td class="refunded" { (notes.refunded.get(&l.line).copied().unwrap_or(0)) }
                        td class="description" {
                            @if l.not_shipped {
                                @match notes.descriptions.get(&l.line) {
                                    Some(description) => { "not to be shipped: " (description) }
                                    None => "not to be shipped",
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Shipments" }
        @if o.shipments.is_empty() {
            p id="no-shipments" { "Nothing shipped yet." }
        } @else {
            table id="shipments" {
                thead { tr { th { "Shipped" } th { "Carrier" } th { "Service" } th { "Tracking" } th { "Lines" } } }
                tbody {
                    @for s in &o.shipments {
                        tr {
                            td { (format_time(s.shipped_at_ms)) }
                            td { (s.carrier) }
                            td { (s.service) }
                            td { (s.tracking) }
                            td {
                                @for (i, l) in s.lines.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    "line " (l.line) " × " (l.quantity)
                                }
                            }
                        }
                    }
                }
            }
        }
        p { a href="/orders" { "All orders" } }
    }
}

#[cfg(test)]
mod tests {
    use plugin_api::warehouse::Address;

    use super::*;

    fn order(number: &str, ordered_at: Option<i64>, created_at: i64) -> Order {
        Order {
            number: number.into(),
            source: None,
            external_id: None,
            status: OrderStatus::Open,
            customer: String::new(),
            ship_to: Address::default(),
            shipping_method: String::new(),
            customer_note: String::new(),
            ordered_at_ms: ordered_at,
            created_at_ms: created_at,
            updated_at_ms: created_at,
            cancel_reason: None,
            lines: vec![],
            shipments: vec![],
        }
    }

    #[test]
    fn the_query_asks_for_a_status_and_a_page_or_is_refused_with_why() {
        let all = ListQuery {
            status: None,
            page: 1,
        };
        assert_eq!(list_query(None), Ok(all));
        assert_eq!(list_query(Some("status=all&page=&x=y")), Ok(all));
        assert_eq!(
            list_query(Some("status=partially-shipped&page=3")),
            Ok(ListQuery {
                status: Some(OrderStatus::PartiallyShipped),
                page: 3
            })
        );
        let unknown = list_query(Some("status=lost")).unwrap_err();
        assert!(
            unknown.contains("\"lost\"") && unknown.contains("partially-shipped"),
            "{unknown}"
        );
        for page in ["0", "-1", "two", "1.5"] {
            assert!(list_query(Some(&format!("page={page}"))).is_err(), "{page}");
        }
        assert!(list_query(Some("status=open%0A")).is_err());
    }

    #[test]
    fn list_links_keep_the_status_and_leave_out_page_one() {
        assert_eq!(list_href(None, 1), "/orders");
        assert_eq!(list_href(None, 2), "/orders?page=2");
        assert_eq!(
            list_href(Some(OrderStatus::Open), 3),
            "/orders?status=open&page=3"
        );
        for status in STATUSES {
            for page in [1, 7] {
                let href = list_href(Some(status), page);
                let query = href.split_once('?').map(|(_, q)| q);
                assert_eq!(
                    list_query(query),
                    Ok(ListQuery {
                        status: Some(status),
                        page
                    })
                );
            }
        }
    }

    #[test]
    fn an_order_link_is_one_percent_encoded_segment() {
        assert_eq!(order_href("WC-1043"), "/orders/WC-1043");
        assert_eq!(
            order_href("WC/2026 #7+?a=1&b=<i>50%</i>"),
            "/orders/WC%2F2026%20%237%2B%3Fa%3D1%26b%3D%3Ci%3E50%25%3C%2Fi%3E"
        );
        assert_eq!(order_href("Bestellung-ü"), "/orders/Bestellung-%C3%BC");
    }

    #[test]
    fn newest_orders_come_first_then_the_higher_number() {
        let mut orders = [
            order("WC-9", Some(1_000), 5_000),
            order("WC-10", Some(1_000), 5_000),
            order("WC-100", Some(3_000), 5_000),
            order("by-hand", None, 2_000),
            order("WC-09", Some(1_000), 5_000),
        ];
        orders.sort_by(newest_first);
        let numbers: Vec<&str> = orders.iter().map(|o| o.number.as_str()).collect();
        assert_eq!(numbers, ["WC-100", "by-hand", "WC-10", "WC-09", "WC-9"]);
        assert_eq!(by_number("A2", "A10"), Ordering::Less);
        assert_eq!(by_number("A", "A1"), Ordering::Less);
        assert_eq!(by_number("B1", "A9"), Ordering::Greater);
        assert_eq!(by_number("2026-0042", "2026-0042"), Ordering::Equal);
    }

    #[test]
    fn pages_hold_fifty_orders_and_one_page_is_always_there() {
        let none: [u8; 0] = [];
        assert_eq!(page_of(&none, 1), Some((&none[..], 1)));
        assert_eq!(page_of(&none, 2), None);
        let orders: Vec<usize> = (0..101).collect();
        assert_eq!(
            page_of(&orders, 1).map(|(p, n)| (p.len(), p[0], n)),
            Some((50, 0, 3))
        );
        assert_eq!(
            page_of(&orders, 3).map(|(p, n)| (p.len(), p[0], n)),
            Some((1, 100, 3))
        );
        assert_eq!(page_of(&orders, 4), None);
        assert_eq!(page_of(&orders, 0), None);
    }
}
