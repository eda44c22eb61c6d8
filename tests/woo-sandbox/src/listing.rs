//! Collection requests: reading and validating the query parameters of a
//! list route (paging, ordering, filters) the way the WordPress REST schema
//! does, and building the paging headers of the answer.

use jiff::{Timestamp, tz::TimeZone};

use crate::dates::parse_filter_date;
use crate::error::{ApiError, InvalidParam};
use crate::model::{ORDER_STATUSES, ProductType};
use crate::php_query::PhpParams;

/// Which collection is being listed (their schemas differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    /// `/products`
    Products,
    /// `/products/{id}/variations`
    Variations,
    /// `/orders`
    Orders,
    /// `/orders/{id}/refunds` and `/refunds` (no `status`, `type` or
    /// `stock_status` filters; the orders' `orderby` values).
    Refunds,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    /// Ascending.
    Asc,
    /// Descending (the default).
    Desc,
}

/// What to sort by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Creation date (default).
    Date,
    /// Post id.
    Id,
    /// The order of `include`.
    Include,
    /// Name.
    Title,
    /// Slug.
    Slug,
    /// Modification date.
    Modified,
    /// Price (products).
    Price,
    /// Accepted by the schema; the sandbox sorts these by date.
    Other,
}

/// A validated collection request.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionQuery {
    /// 1-based page.
    pub page: u64,
    /// 1..=100.
    pub per_page: u64,
    /// Direction.
    pub order: SortOrder,
    /// Key.
    pub orderby: SortKey,
    /// Only these ids (empty: no restriction).
    pub include: Vec<u64>,
    /// Not these ids.
    pub exclude: Vec<u64>,
    /// Search terms (all must match).
    pub search: Option<String>,
    /// Modified strictly after.
    pub modified_after: Option<Timestamp>,
    /// Modified strictly before.
    pub modified_before: Option<Timestamp>,
    /// Created strictly after.
    pub after: Option<Timestamp>,
    /// Created strictly before.
    pub before: Option<Timestamp>,
    /// Allowed statuses; `None` is `any` (everything but trash).
    pub statuses: Option<Vec<String>>,
    /// Exact SKUs (products: also finds variations).
    pub sku: Option<Vec<String>>,
    /// Product type.
    pub kind: Option<ProductType>,
    /// Stock status.
    pub stock_status: Option<String>,
    /// Parent ids (products).
    pub parent: Vec<u64>,
}

/// The product `orderby` enum, verbatim from WooCommerce 10.0.2's schema.
const PRODUCT_ORDERBY: [&str; 19] = [
    "date",
    "id",
    "include",
    "title",
    "slug",
    "modified",
    "popularity",
    "rating",
    "post__in",
    "price",
    "sales",
    "menu_order",
    "random",
    "popularity",
    "rating",
    "menu_order",
    "price",
    "popularity",
    "rating",
];
const ORDER_ORDERBY: [&str; 6] = ["date", "id", "include", "title", "slug", "modified"];
const PRODUCT_STATUS: [&str; 7] = [
    "any", "future", "trash", "draft", "pending", "private", "publish",
];
const PRODUCT_TYPES: [&str; 4] = ["simple", "grouped", "external", "variable"];
const STOCK_STATUSES: [&str; 3] = ["instock", "outofstock", "onbackorder"];

/// The `status` filter values an order list accepts.
pub fn order_status_filter_enum() -> Vec<&'static str> {
    let mut v = vec!["any", "trash"];
    v.extend(ORDER_STATUSES.iter().map(|(s, _)| *s));
    v
}

/// Read and validate a collection request; every bad parameter is named in
/// one `rest_invalid_param` error, as WordPress does.
pub fn parse_collection(
    params: &PhpParams,
    collection: Collection,
    site_tz: &TimeZone,
) -> Result<CollectionQuery, ApiError> {
    let mut bad = Vec::new();
    let mut int_param = |name: &str, default: i64, min: i64, max: i64| -> i64 {
        match params.scalar(name) {
            None => default,
            Some(v) => match v.trim().parse::<i64>() {
                Err(_) => {
                    bad.push(InvalidParam::wrong_type(name, "integer"));
                    default
                }
                Ok(n) if n < min || n > max => {
                    bad.push(if max == i64::MAX {
                        InvalidParam {
                            param: name.into(),
                            code: "rest_out_of_bounds",
                            message: format!("{name} must be greater than or equal to {min}"),
                            data: serde_json::Value::Null,
                        }
                    } else {
                        InvalidParam::out_of_bounds(name, min, max)
                    });
                    default
                }
                Ok(n) => n,
            },
        }
    };
    let page = int_param("page", 1, 1, i64::MAX) as u64;
    let per_page = int_param("per_page", 10, 1, 100) as u64;

    let order = match params.scalar("order") {
        None | Some("desc") => SortOrder::Desc,
        Some("asc") => SortOrder::Asc,
        Some(_) => {
            bad.push(InvalidParam::not_in_enum(
                "order",
                "order",
                &["asc", "desc"],
            ));
            SortOrder::Desc
        }
    };
    let allowed_orderby: &[&str] = match collection {
        Collection::Orders | Collection::Refunds => &ORDER_ORDERBY,
        Collection::Products | Collection::Variations => &PRODUCT_ORDERBY,
    };
    let orderby = match params.scalar("orderby") {
        None => SortKey::Date,
        Some(v) if allowed_orderby.contains(&v) => match v {
            "date" => SortKey::Date,
            "id" => SortKey::Id,
            "include" | "post__in" => SortKey::Include,
            "title" => SortKey::Title,
            "slug" => SortKey::Slug,
            "modified" => SortKey::Modified,
            "price" => SortKey::Price,
            _ => SortKey::Other,
        },
        Some(_) => {
            bad.push(InvalidParam::not_in_enum(
                "orderby",
                "orderby",
                allowed_orderby,
            ));
            SortKey::Date
        }
    };

    let dates_are_gmt = matches!(params.scalar("dates_are_gmt"), Some("true" | "1" | "yes"));
    let mut date = |name: &str| -> Option<Timestamp> {
        let v = params.scalar(name)?;
        let parsed = parse_filter_date(v, dates_are_gmt, site_tz);
        if parsed.is_none() {
            bad.push(InvalidParam::invalid_date(name));
        }
        parsed
    };
    let modified_after = date("modified_after");
    let modified_before = date("modified_before");
    let after = date("after");
    let before = date("before");

    let statuses = match collection {
        Collection::Orders => params.list("status").and_then(|list| {
            let allowed = order_status_filter_enum();
            if let Some((i, _)) = list
                .iter()
                .enumerate()
                .find(|(_, s)| !allowed.contains(&s.as_str()))
            {
                bad.push(InvalidParam::not_in_enum(
                    "status",
                    &format!("status[{i}]"),
                    &allowed,
                ));
            }
            (!list.iter().any(|s| s == "any")).then_some(list)
        }),
        Collection::Refunds => None,
        Collection::Products | Collection::Variations => match params.scalar("status") {
            None | Some("any") => None,
            Some(s) if PRODUCT_STATUS.contains(&s) => Some(vec![s.to_owned()]),
            Some(_) => {
                bad.push(InvalidParam::not_in_enum(
                    "status",
                    "status",
                    &PRODUCT_STATUS,
                ));
                None
            }
        },
    };

    let kind = match (collection, params.scalar("type")) {
        (Collection::Products, Some(t)) if PRODUCT_TYPES.contains(&t) => ProductType::parse(t),
        (Collection::Products, Some(_)) => {
            bad.push(InvalidParam::not_in_enum("type", "type", &PRODUCT_TYPES));
            None
        }
        _ => None,
    };
    let products = matches!(collection, Collection::Products | Collection::Variations);
    let stock_status = match params.scalar("stock_status") {
        Some(s) if products && !STOCK_STATUSES.contains(&s) => {
            bad.push(InvalidParam::not_in_enum(
                "stock_status",
                "stock_status",
                &STOCK_STATUSES,
            ));
            None
        }
        Some(s) if products => Some(s.to_owned()),
        _ => None,
    };

    if !bad.is_empty() {
        return Err(ApiError::invalid_params(bad));
    }
    let ids = |name: &str| -> Vec<u64> {
        params
            .list(name)
            .unwrap_or_default()
            .iter()
            .filter_map(|v| v.parse().ok())
            .filter(|v| *v > 0)
            .collect()
    };
    Ok(CollectionQuery {
        page,
        per_page,
        order,
        orderby,
        include: ids("include"),
        exclude: ids("exclude"),
        search: params
            .scalar("search")
            .map(str::to_owned)
            .filter(|s| !s.trim().is_empty()),
        modified_after,
        modified_before,
        after,
        before,
        statuses,
        sku: params
            .scalar("sku")
            .filter(|s| !s.is_empty())
            .map(|s| s.split(',').map(|v| v.trim().to_owned()).collect()),
        kind,
        stock_status,
        parent: ids("parent"),
    })
}

/// WordPress search: every whitespace-separated term must occur
/// (case-insensitively) in one of the texts; a term starting with '-'
/// must occur in none.
pub fn matches_search(search: &str, texts: &[&str]) -> bool {
    search.split_whitespace().all(|term| {
        let (exclude, term) = match term.strip_prefix('-') {
            Some(t) if !t.is_empty() => (true, t),
            _ => (false, term),
        };
        let needle = term.to_lowercase();
        let found = texts.iter().any(|t| t.to_lowercase().contains(&needle));
        found != exclude
    })
}

/// The slice of a result set one page covers, and the page count
/// (`ceil(total / per_page)`, 0 for an empty set).
pub fn page_window(total: usize, page: u64, per_page: u64) -> (std::ops::Range<usize>, u64) {
    let per_page = per_page.max(1);
    let pages = (total as u64).div_ceil(per_page);
    let start = ((page.saturating_sub(1)).saturating_mul(per_page)).min(total as u64) as usize;
    let end = (start as u64 + per_page).min(total as u64) as usize;
    (start..end, pages)
}

/// The `Link` header of a collection page: `rel="prev"` and `rel="next"`
/// built from the request's own query (OAuth parameters included, as
/// WooCommerce does) with `page` replaced. `None` when neither applies.
pub fn link_header(
    base_url: &str,
    params: &PhpParams,
    page: u64,
    total_pages: u64,
) -> Option<String> {
    let link = |to: u64| {
        let mut p = params.clone();
        p.set("page", to.to_string());
        let sep = if base_url.contains('?') { '&' } else { '?' };
        format!("{base_url}{sep}{}", p.to_query_string())
    };
    let mut parts = Vec::new();
    if page > 1 {
        parts.push(format!(
            "<{}>; rel=\"prev\"",
            link((page - 1).min(total_pages))
        ));
    }
    if total_pages > page {
        parts.push(format!("<{}>; rel=\"next\"", link(page + 1)));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str, c: Collection) -> Result<CollectionQuery, ApiError> {
        parse_collection(&PhpParams::parse(q), c, &TimeZone::UTC)
    }

    #[test]
    fn defaults() {
        let q = parse("", Collection::Products).unwrap();
        assert_eq!(
            (q.page, q.per_page, q.order, q.orderby),
            (1, 10, SortOrder::Desc, SortKey::Date)
        );
        assert_eq!(q.statuses, None);
    }

    #[test]
    fn per_page_bounds_and_type() {
        let e = parse("per_page=101", Collection::Products).unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(
            e.body()["data"]["details"]["per_page"]["code"],
            "rest_out_of_bounds"
        );
        let e = parse("per_page=abc", Collection::Products).unwrap_err();
        assert_eq!(
            e.body()["data"]["params"]["per_page"],
            "per_page is not of type integer."
        );
    }

    #[test]
    fn order_status_lists() {
        let q = parse("status=processing,on-hold", Collection::Orders).unwrap();
        assert_eq!(q.statuses.unwrap(), ["processing", "on-hold"]);
        let q = parse("status[]=completed&status[]=cancelled", Collection::Orders).unwrap();
        assert_eq!(q.statuses.unwrap(), ["completed", "cancelled"]);
        assert_eq!(
            parse("status=any", Collection::Orders).unwrap().statuses,
            None
        );
        let e = parse("status=bogus", Collection::Orders).unwrap_err();
        assert!(e.message.ends_with("status"));
        assert!(
            e.body()["data"]["params"]["status"]
                .as_str()
                .unwrap()
                .starts_with("status[0] is not one of any, trash,")
        );
    }

    #[test]
    fn product_status_is_one_value_not_a_list() {
        let q = parse("status=trash", Collection::Products).unwrap();
        assert_eq!(q.statuses.unwrap(), ["trash"]);
        assert_eq!(
            parse("status=any", Collection::Variations)
                .unwrap()
                .statuses,
            None
        );
        let e = parse("status=publish,draft", Collection::Products).unwrap_err();
        assert_eq!(
            e.body()["data"]["params"]["status"],
            "status is not one of any, future, trash, draft, pending, private, and publish."
        );
    }

    #[test]
    fn date_only_filter_is_invalid() {
        let e = parse("modified_after=2026-11-26", Collection::Orders).unwrap_err();
        assert_eq!(
            e.body()["data"]["details"]["modified_after"]["code"],
            "rest_invalid_date"
        );
    }

    #[test]
    fn bogus_orderby_lists_the_enum() {
        let e = parse("orderby=bogus", Collection::Products).unwrap_err();
        assert!(
            e.body()["data"]["params"]["orderby"]
                .as_str()
                .unwrap()
                .starts_with("orderby is not one of date, id, include")
        );
    }

    #[test]
    fn paging_windows() {
        assert_eq!(page_window(161, 1, 100), (0..100, 2));
        assert_eq!(page_window(161, 2, 100), (100..161, 2));
        assert_eq!(page_window(161, 3, 100), (161..161, 2));
        assert_eq!(page_window(0, 1, 10), (0..0, 0));
    }

    #[test]
    fn links_keep_the_query_and_replace_page() {
        let p = PhpParams::parse("per_page=100&page=2&oauth_nonce=n");
        let l = link_header("http://h/wp-json/wc/v3/products", &p, 2, 3).unwrap();
        assert_eq!(
            l,
            "<http://h/wp-json/wc/v3/products?per_page=100&page=1&oauth_nonce=n>; rel=\"prev\", \
             <http://h/wp-json/wc/v3/products?per_page=100&page=3&oauth_nonce=n>; rel=\"next\""
        );
        assert_eq!(link_header("http://h/x", &PhpParams::default(), 1, 1), None);
        let beyond = link_header("http://h/x", &PhpParams::parse("page=5"), 5, 1).unwrap();
        assert_eq!(beyond, "<http://h/x?page=1>; rel=\"prev\"");
    }

    #[test]
    fn search_terms_all_match() {
        assert!(matches_search("Rig T-Shirt", &["Rig T-Shirt - M", ""]));
        assert!(!matches_search("Rig Hoodie", &["Rig T-Shirt"]));
        assert!(matches_search("rig -hoodie", &["Rig T-Shirt"]));
    }
}
