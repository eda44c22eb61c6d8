//! Counting requests, and the fewest a reader could make.
//!
//! The sandbox counts requests per `"METHOD /route/pattern"`
//! (`/__sandbox/stats`). The minimum assumes pages of 100 (WooCommerce's
//! largest) and that every listing costs at least its first page.

use std::collections::BTreeMap;

/// WooCommerce's largest page.
pub const PER_PAGE: u64 = 100;

/// Request counts by `"METHOD /route/pattern"`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requests(pub BTreeMap<String, u64>);

impl Requests {
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    /// These counts less `other`'s, route by route (never below zero).
    pub fn minus(&self, other: &Requests) -> Requests {
        Requests(
            self.0
                .iter()
                .map(|(route, n)| {
                    let less = other.0.get(route).copied().unwrap_or(0);
                    (route.clone(), n.saturating_sub(less))
                })
                .filter(|(_, n)| *n > 0)
                .collect(),
        )
    }

    /// `GET /wc/v3/products 1000, GET /wc/v3/orders 26`, largest first.
    pub fn by_route(&self) -> String {
        let mut routes: Vec<(&String, &u64)> = self.0.iter().collect();
        routes.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        routes
            .iter()
            .map(|(route, n)| format!("{route} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What the store holds, as its listings count it (`X-WP-Total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Census {
    /// Top-level products in every status but the trash.
    pub products: u64,
    /// Of those, variable products.
    pub variable: u64,
    /// Variations of all products.
    pub variations: u64,
    /// Orders in the import statuses.
    pub orders: u64,
}

/// Pages of 100 a listing of `records` takes (one at least: an empty
/// listing still asks once).
pub fn pages(records: u64) -> u64 {
    records.div_ceil(PER_PAGE).max(1)
}

/// The fewest requests that read every product and variation: the product
/// pages, then either the pages of `GET /wc/v3/variations` (WooCommerce
/// 10.3 and later) or one listing per variable product (each holds fewer
/// than 100 variations).
pub fn products_minimum(census: &Census, variations_route: bool) -> u64 {
    let variations = if variations_route {
        pages(census.variations)
    } else {
        census.variable
    };
    pages(census.products) + variations
}

/// The fewest requests that read the orders in the import statuses.
pub fn orders_minimum(census: &Census) -> u64 {
    pages(census.orders)
}

/// What the incremental run has to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Changed {
    /// Products changed (variable ones included).
    pub products: u64,
    /// Of those, variable products.
    pub variable: u64,
    /// Every variation of those variable products (their descriptions
    /// follow the parent's name, so all are read again).
    pub variations_of_changed: u64,
    /// Variations changed themselves.
    pub variations: u64,
}

/// The fewest requests of an incremental product read: the changed
/// products' pages, one page of the trash (deletions), and the variations
/// of the changed variable products (by `parent` on `GET
/// /wc/v3/variations`, else one listing each).
pub fn incremental_minimum(changed: &Changed, variations_route: bool) -> u64 {
    let variations = match (changed.variable, variations_route) {
        (0, _) => 0,
        (_, true) => pages(changed.variations_of_changed),
        (n, false) => n,
    };
    pages(changed.products) + 1 + variations
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, u64)]) -> Requests {
        Requests(pairs.iter().map(|(r, n)| ((*r).to_owned(), *n)).collect())
    }

    #[test]
    fn pages_round_up_and_cost_one_at_least() {
        assert_eq!(pages(0), 1);
        assert_eq!(pages(1), 1);
        assert_eq!(pages(100), 1);
        assert_eq!(pages(101), 2);
        assert_eq!(pages(100_000), 1000);
    }

    #[test]
    fn the_minimum_follows_the_version_played() {
        let census = Census {
            products: 100_000,
            variable: 10_000,
            variations: 50_000,
            orders: 2_512,
        };
        assert_eq!(products_minimum(&census, false), 1000 + 10_000);
        assert_eq!(products_minimum(&census, true), 1000 + 500);
        assert_eq!(orders_minimum(&census), 26);
    }

    #[test]
    fn an_incremental_read_needs_the_changes_the_trash_and_their_variations() {
        let changed = Changed {
            products: 1000,
            variable: 100,
            variations_of_changed: 500,
            variations: 100,
        };
        assert_eq!(incremental_minimum(&changed, false), 10 + 1 + 100);
        assert_eq!(incremental_minimum(&changed, true), 10 + 1 + 5);
        let simple_only = Changed {
            products: 20,
            ..Changed::default()
        };
        assert_eq!(incremental_minimum(&simple_only, true), 2);
    }

    #[test]
    fn counts_are_subtracted_route_by_route() {
        let run = counts(&[("GET /wc/v3/products", 21), ("GET /wc/v3/system_status", 1)]);
        let check = counts(&[("GET /wc/v3/products", 1), ("GET /wc/v3/system_status", 1)]);
        let left = run.minus(&check);
        assert_eq!(left, counts(&[("GET /wc/v3/products", 20)]));
        assert_eq!(left.total(), 20);
        assert_eq!(
            counts(&[("GET /a", 1), ("GET /b", 5)]).by_route(),
            "GET /b 5, GET /a 1"
        );
    }
}
