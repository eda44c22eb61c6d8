//! The WooCommerce mapping rules, both ways: store records -> what
//! IntelliTrack imports, warehouse events -> store writes, warehouse stock
//! -> the store's counts. Pure logic, tested without a store or a host.

pub mod carriers;
pub mod cost;
pub mod fulfilment;
pub mod holds;
pub mod orders;
pub mod products;
pub mod refunds;
pub mod settled_orders;
pub mod stock;
pub mod webhooks;
