//! The records the plugin reads and writes, decoded tolerantly.

mod common;
pub mod lenient;
mod order;
mod product;
mod writes;

pub use common::{CostOfGoods, CostValue, ManageStock, Meta, meta_value};
pub use lenient::Amount;
pub use order::{
    Address, LineCost, LineItem, Order, OrderCost, OrderRefund, Refund, RefundLine, ShippingLine,
};
pub use product::{Product, ProductType, StockRecord, Variation, VariationAttribute};
pub use writes::{
    BATCH_LIMIT, BatchItem, Carrier, ItemFailure, MetaWrite, NewShipment, NoteVisibility,
    OrderNote, OrderUpdate, ShipmentTracking, StockMove, StockUpdate, batch_item, unescape_html,
};
