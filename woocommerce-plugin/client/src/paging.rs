//! How a collection is walked: the query for each page, and which pages are
//! left once page 1 has told how many there are.
//!
//! The `Link` header is never followed: under OAuth it carries the previous
//! request's nonce and signature, which the store refuses a second time.
//! Each page is built and signed afresh from its number.

use jiff::Timestamp;

/// WooCommerce's largest page.
pub const PER_PAGE: u32 = 100;

/// Which records a listing covers, and in which stable order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every record, oldest id first.
    Full,
    /// Records modified after this instant (compared in UTC), oldest
    /// modification first.
    ModifiedAfter(Timestamp),
}

/// The query of page `page` of a listing, `_fields` limiting what travels.
pub fn page_query(
    scope: &Scope,
    fields: &str,
    filters: &[(String, String)],
    page: u32,
) -> Vec<(String, String)> {
    let mut query: Vec<(String, String)> = filters.to_vec();
    match scope {
        Scope::Full => {
            query.push(("orderby".into(), "id".into()));
            query.push(("order".into(), "asc".into()));
        }
        Scope::ModifiedAfter(after) => {
            query.push(("modified_after".into(), gmt_query_date(*after)));
            query.push(("dates_are_gmt".into(), "true".into()));
            query.push(("orderby".into(), "modified".into()));
            query.push(("order".into(), "asc".into()));
        }
    }
    query.push(("_fields".into(), fields.into()));
    query.push(("per_page".into(), PER_PAGE.to_string()));
    query.push(("page".into(), page.to_string()));
    query
}

/// `YYYY-MM-DDTHH:MM:SS` in UTC, the form WooCommerce reads with
/// `dates_are_gmt=true` (no `+` to be mangled into a space).
pub fn gmt_query_date(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

/// What page 1's headers say about the collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PageInfo {
    /// `X-WP-Total`.
    pub total: Option<u64>,
    /// `X-WP-TotalPages`.
    pub total_pages: Option<u32>,
}

impl PageInfo {
    pub fn from_headers(total: Option<&str>, total_pages: Option<&str>) -> Self {
        Self {
            total: total.and_then(|v| v.trim().parse().ok()),
            total_pages: total_pages.and_then(|v| v.trim().parse().ok()),
        }
    }
}

/// What is left to fetch after page 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Page 1 was all there is.
    Done,
    /// These pages, which may be fetched concurrently.
    Pages(std::ops::RangeInclusive<u32>),
    /// The store sent no page count: fetch one page after another until a
    /// short or empty page.
    UntilShortPage,
}

/// Plans the rest of a listing from page 1.
pub fn plan_after_first(info: &PageInfo, first_page_len: usize) -> Plan {
    match info.total_pages {
        Some(pages) if pages > 1 => Plan::Pages(2..=pages),
        Some(_) => Plan::Done,
        None if first_page_len < PER_PAGE as usize => Plan::Done,
        None => Plan::UntilShortPage,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value<'a>(query: &'a [(String, String)], key: &str) -> Option<&'a str> {
        query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn full_scans_are_ordered_by_id() {
        let q = page_query(&Scope::Full, "id,sku", &[], 3);
        assert_eq!(value(&q, "orderby"), Some("id"));
        assert_eq!(value(&q, "order"), Some("asc"));
        assert_eq!(value(&q, "per_page"), Some("100"));
        assert_eq!(value(&q, "page"), Some("3"));
        assert_eq!(value(&q, "_fields"), Some("id,sku"));
        assert_eq!(value(&q, "modified_after"), None);
    }

    #[test]
    fn incremental_runs_are_ordered_by_modification_in_gmt() {
        let after: Timestamp = "2026-11-26T14:35:36Z".parse().unwrap();
        let filters = vec![("status".to_owned(), "processing,on-hold".to_owned())];
        let q = page_query(&Scope::ModifiedAfter(after), "id", &filters, 1);
        assert_eq!(value(&q, "modified_after"), Some("2026-11-26T14:35:36"));
        assert_eq!(value(&q, "dates_are_gmt"), Some("true"));
        assert_eq!(value(&q, "orderby"), Some("modified"));
        assert_eq!(value(&q, "order"), Some("asc"));
        assert_eq!(value(&q, "status"), Some("processing,on-hold"));
    }

    #[test]
    fn the_page_count_decides_the_remaining_pages() {
        let info = PageInfo::from_headers(Some("160"), Some("32"));
        assert_eq!(info.total, Some(160));
        assert_eq!(plan_after_first(&info, 5), Plan::Pages(2..=32));
        let one = PageInfo::from_headers(Some("4"), Some("1"));
        assert_eq!(plan_after_first(&one, 4), Plan::Done);
        let empty = PageInfo::from_headers(Some("0"), Some("0"));
        assert_eq!(plan_after_first(&empty, 0), Plan::Done);
    }

    #[test]
    fn without_a_page_count_pages_are_walked_until_a_short_one() {
        let none = PageInfo::from_headers(None, Some("garbage"));
        assert_eq!(plan_after_first(&none, 100), Plan::UntilShortPage);
        assert_eq!(plan_after_first(&none, 99), Plan::Done);
    }
}
