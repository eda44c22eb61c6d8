//! The WooCommerce mapping rules: store records -> what IntelliTrack
//! imports. Pure logic, tested without a store or a host.

pub mod cost;
pub mod orders;
pub mod products;
