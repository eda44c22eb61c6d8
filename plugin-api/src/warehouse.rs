//! The IntelliTrack DB handle: the warehouse's records as a plugin reads and
//! writes them (API 1.1). A typed domain API, not SQL.
//!
//! - **Read**: items by external reference or item number
//!   ([`WarehouseDb::items`]), quantities on hand / allocated / available
//!   ([`WarehouseDb::quantities`]), orders by external reference
//!   ([`WarehouseDb::orders`]).
//! - **Write**: an [`ImportBatch`] (item upserts and deactivations, order
//!   upserts and cancellations, and the plugin's own state changes) is applied
//!   in one transaction: all of it or none of it ([`WarehouseDb::apply`]).
//!   Since 1.2 an [`Import`] adds what a store integration needs on top
//!   ([`WarehouseDb::apply_import`]): opening stock for the items it creates,
//!   the units the store had already taken out of its own count for an
//!   order, order lines the warehouse has no item for (kept, never shipped),
//!   and a record-by-record mode in which a refused record is reported and
//!   the rest lands.
//! - **Change feed**: what happened on the IntelliTrack side (picks,
//!   shipments, inventory changes, cancellations), in sequence order, read
//!   after a cursor the plugin keeps in its state ([`WarehouseDb::changes_after`]).
//!   Putting the page's [`ChangePage::cursor`] into the next batch's
//!   `state_changes` (or [`Context::put_state`]) is how a plugin keeps its
//!   place. Since 1.5 it also tells the host, naming the consumer
//!   ([`WarehouseDb::acknowledge_changes`]): the host keeps every event
//!   some reader of the feed has not acknowledged, and, from a plugin that
//!   reads the feed and never acknowledges, the whole feed.
//!
//! A plugin sees and touches only what is its own: the host binds every
//! external reference to the calling plugin's id, so `external_id` here
//! always means "this plugin's id for the record". Order events are shown
//! only to the plugin the order came from; inventory events to every plugin
//! whose store sells the item.
//!
//! Several plugins (several stores) may sell one item, each through its own
//! external id, and a deactivation is the calling plugin's alone: an
//! [`ImportBatch::item_deactivations`] entry says *this* store no longer
//! sells the item. The plugin then sees the item inactive ([`Item::active`]
//! `false`) and no longer hears of its stock, while the warehouse keeps it
//! active as long as another store still sells it; the item is inactive for
//! everyone once no store does. Its external id still finds the item (an
//! old order's lines resolve), and the plugin's next upsert of the item
//! makes it the plugin's, and active, again.
//!
//! Quantities are whole numbers (`i64`) in the item's unit of measure. Unit
//! cost is a decimal string (`"12.50"`), kept exactly as sent, never a float.
//!
//! Compatibility: new fields only ever arrive with defaults, and readers
//! ignore fields they do not know, so a plugin built against 1.1 reads the
//! answers of every later 1.x host. Enumerations the host may grow
//! ([`ChangeKind`], [`OrderStatus`], [`ItemKind`]) have an `Other` case for
//! values a plugin does not know yet.

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::context::{Context, HostError};
use crate::protocol;

/// How a plugin names an item: by its own external id or by item number (SKU).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemRef {
    ExternalId(String),
    Number(String),
}

/// What kind of item a record is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemKind {
    /// A stocked item on its own.
    #[default]
    Simple,
    /// A product whose variations are the stocked items.
    Variable,
    /// One variation of a variable product (see [`ItemUpsert::parent`]).
    Variation,
    /// A kind this plugin's API version does not know.
    #[serde(other)]
    Other,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Simple => "simple",
            Self::Variable => "variable",
            Self::Variation => "variation",
            Self::Other => "other",
        }
    }
}

/// An item as a plugin sends it; matched by the plugin's external id, then
/// by item number (an existing item with that number is linked, not doubled).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemUpsert {
    pub external_id: String,
    /// The item number (SKU); unique in the warehouse.
    pub number: String,
    #[serde(default)]
    pub description: String,
    /// Decimal string, e.g. `"12.50"`.
    #[serde(default)]
    pub unit_cost: Option<String>,
    /// Defaults to `"EA"`.
    #[serde(default)]
    pub unit_of_measure: Option<String>,
    #[serde(default)]
    pub kind: ItemKind,
    /// A variation's variable product, by this plugin's external id; it must
    /// exist already or come earlier in the same batch.
    #[serde(default)]
    pub parent: Option<String>,
}

/// An item as the warehouse knows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub number: String,
    pub description: String,
    pub unit_cost: Option<String>,
    pub unit_of_measure: String,
    /// Whether the item is sold: `false` when the warehouse made it
    /// inactive (no store sells it, or deactivated by hand), and for the
    /// calling plugin also once it deactivated its own external id for it,
    /// though another store still sells it.
    pub active: bool,
    pub kind: ItemKind,
    /// The parent item's number.
    pub parent: Option<String>,
    /// The calling plugin's external id for it, if it has one.
    #[serde(default)]
    pub external_id: Option<String>,
}

/// Which items to report quantities for.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QuantitiesRequest {
    /// `None`: every item; `external_id` tells which ones the plugin's store
    /// sells (not one it deactivated).
    #[serde(default)]
    pub items: Option<Vec<ItemRef>>,
}

/// How much of an item there is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quantities {
    pub item_number: String,
    /// The calling plugin's external id for the item, if it has one.
    #[serde(default)]
    pub external_id: Option<String>,
    /// In stock at the warehouse's locations.
    pub on_hand: i64,
    /// Ordered on open orders and not yet picked.
    pub allocated: i64,
    /// `on_hand - allocated` (may be negative when oversold).
    pub available: i64,
    #[serde(default)]
    pub locations: Vec<LocationQuantity>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationQuantity {
    pub location: String,
    pub on_hand: i64,
}

/// A ship-to address. Every field may be empty.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Address {
    pub name: String,
    pub company: String,
    pub line1: String,
    pub line2: String,
    pub city: String,
    pub state: String,
    pub postcode: String,
    pub country: String,
    pub phone: String,
    pub email: String,
}

impl Address {
    /// The filled-in parts on one line, comma-separated (API 1.3), e.g.
    /// `Jane Buyer, 10 Loop Road, Testville, CA, 94016, US`.
    pub fn one_line(&self) -> String {
        [
            &self.name,
            &self.company,
            &self.line1,
            &self.line2,
            &self.city,
            &self.state,
            &self.postcode,
            &self.country,
        ]
        .into_iter()
        .map(|part| part.trim())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// An order as a plugin sends it, matched by the plugin's external id.
///
/// Re-sending an order updates its header; its lines are matched by
/// `external_line_id`: quantities change, new lines are added, and lines no
/// longer sent are removed, as long as nothing of the order was picked. Once
/// something was, changed lines are not applied: the order becomes an
/// [`OrderStatus::Exception`] with the reason, for a person to decide. An
/// order that is shipped or cancelled keeps its lines.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderUpsert {
    pub external_id: String,
    /// The order number shown in the warehouse; unique there.
    pub number: String,
    #[serde(default)]
    pub customer: String,
    #[serde(default)]
    pub ship_to: Address,
    #[serde(default)]
    pub shipping_method: String,
    #[serde(default)]
    pub customer_note: String,
    /// When the customer placed it, in ms since the Unix epoch.
    #[serde(default)]
    pub ordered_at_ms: Option<i64>,
    pub lines: Vec<OrderLine>,
}

/// One line of an [`OrderUpsert`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub external_line_id: String,
    pub item: ItemRef,
    /// Greater than zero.
    pub quantity: i64,
    /// Kept on the order for the record but never picked or shipped.
    #[serde(default)]
    pub not_shipped: bool,
}

/// An order the store cancelled. An order nothing was picked from is
/// cancelled; one the warehouse already picked or shipped from is kept and
/// becomes an [`OrderStatus::Exception`] with the reason instead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCancellation {
    pub external_id: String,
    #[serde(default)]
    pub reason: String,
}

/// Where an order is in the warehouse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OrderStatus {
    Open,
    Picking,
    Picked,
    PartiallyShipped,
    Shipped,
    Cancelled,
    Exception,
    /// A status this plugin's API version does not know.
    #[serde(other)]
    Other,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Picking => "picking",
            Self::Picked => "picked",
            Self::PartiallyShipped => "partially-shipped",
            Self::Shipped => "shipped",
            Self::Cancelled => "cancelled",
            Self::Exception => "exception",
            Self::Other => "other",
        }
    }

    /// Parses [`OrderStatus::as_str`]'s words (`None` for anything else).
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Open,
            Self::Picking,
            Self::Picked,
            Self::PartiallyShipped,
            Self::Shipped,
            Self::Cancelled,
            Self::Exception,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
    }
}

/// An order as the warehouse knows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub number: String,
    /// The plugin the order came from (`None`: entered in the warehouse).
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
    pub status: OrderStatus,
    pub customer: String,
    pub ship_to: Address,
    pub shipping_method: String,
    pub customer_note: String,
    pub ordered_at_ms: Option<i64>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    /// Why it was cancelled, once it is; for an [`OrderStatus::Exception`],
    /// why the order needs a person's attention.
    #[serde(default)]
    pub cancel_reason: Option<String>,
    pub lines: Vec<OrderLineView>,
    #[serde(default)]
    pub shipments: Vec<Shipment>,
}

/// An order line, numbered from 1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLineView {
    pub line: i64,
    /// Empty for a not-shipped line the warehouse has no item for (1.2,
    /// [`NonStockLine`]).
    pub item_number: String,
    pub ordered: i64,
    pub picked: i64,
    pub shipped: i64,
    pub external_line_id: Option<String>,
    pub not_shipped: bool,
}

/// A shipment of (part of) an order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    pub carrier: String,
    pub service: String,
    pub tracking: String,
    pub shipped_at_ms: i64,
    pub lines: Vec<ShippedLine>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippedLine {
    pub line: i64,
    pub item_number: String,
    #[serde(default)]
    pub external_line_id: Option<String>,
    pub quantity: i64,
}

/// A change to the plugin's private state, applied with the batch's data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StateChange {
    pub key: String,
    /// `None` removes the key.
    pub value: Option<serde_json::Value>,
}

/// Everything a plugin writes in one go: all of it lands, or none of it.
///
/// Applied in this order: item upserts, item deactivations, order upserts,
/// order cancellations, state changes. The first record that is refused
/// refuses the whole batch, naming that record.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImportBatch {
    pub item_upserts: Vec<ItemUpsert>,
    /// External ids of items the store no longer sells: each makes the item
    /// inactive for this plugin, and for the warehouse once no other
    /// plugin's store sells it (see the module docs).
    pub item_deactivations: Vec<String>,
    pub order_upserts: Vec<OrderUpsert>,
    pub order_cancellations: Vec<OrderCancellation>,
    pub state_changes: Vec<StateChange>,
}

/// What a batch did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchSummary {
    pub items_created: u64,
    pub items_updated: u64,
    /// The deactivations of items this plugin's store still sold until
    /// then; one deactivated already counts nothing.
    pub items_deactivated: u64,
    pub orders_created: u64,
    pub orders_updated: u64,
    pub orders_cancelled: u64,
    pub state_changes: u64,
}

/// An import (API 1.2): a batch plus what a store integration needs on top.
///
/// Applied in one transaction. With `record_by_record` false it lands whole
/// or not at all, like [`ImportBatch`]. With it true, a record the warehouse
/// refuses is left out with its own effects (an order line naming that item
/// is then refused too) and listed in [`ImportOutcome::refused`]; the rest of
/// the batch, its state changes included, lands.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Import {
    pub batch: ImportBatch,
    pub record_by_record: bool,
    /// Opening stock for items this import creates. An item that already
    /// existed (updated, or linked by item number) gets none.
    pub opening_stock: Vec<OpeningStock>,
    /// Units the store had already taken out of its own stock count for
    /// order lines of this import. When such a line's item got its opening
    /// stock from this plugin's count taken *after* `reduced_at_ms`, that
    /// count already lacked these units: the warehouse adds them to on hand
    /// once (an opening balance correction), so that on hand minus the open
    /// orders equals the store's count.
    pub store_reductions: Vec<StoreReduction>,
    /// Order lines the warehouse has no item for (a virtual product, say):
    /// kept on the order, flagged not to ship, with this description. The
    /// line itself is in the order upsert with `not_shipped` set.
    pub non_stock_lines: Vec<NonStockLine>,
}

/// Opening stock for one item (see [`Import::opening_stock`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpeningStock {
    /// The item, by this plugin's external id.
    pub item_external_id: String,
    /// The store's count. A negative count (a backorder) opens at zero;
    /// its units are kept as owed ([`StockBasis::owed`]) until orders of
    /// this plugin that took them are imported (API 1.3).
    pub quantity: i64,
    /// When the store's count was read, in ms since the Unix epoch.
    pub counted_at_ms: i64,
    /// Where the stock is put; the default location when `None`.
    #[serde(default)]
    pub location: Option<String>,
    /// Recorded with the inventory transaction, e.g. "opening balance from WooCommerce".
    pub reason: String,
}

/// The store's own reduction of its stock count for one order line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreReduction {
    pub order_external_id: String,
    pub external_line_id: String,
    /// Units taken out of the store's count (greater than zero).
    pub quantity: i64,
    /// When the store took them out (or the best known bound), in ms since
    /// the Unix epoch.
    pub reduced_at_ms: i64,
}

/// A line kept on an order without a warehouse item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonStockLine {
    pub order_external_id: String,
    pub external_line_id: String,
    pub description: String,
}

/// What an [`Import`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImportOutcome {
    pub summary: BatchSummary,
    /// Records left out in record-by-record mode, with the warehouse's reason.
    pub refused: Vec<RefusedRecord>,
    /// Items that got opening stock (zero counts included).
    pub opening_balances: u64,
    /// Order lines whose store reduction was added to an opening balance.
    pub opening_corrections: u64,
    /// Orders that could not follow the store because the warehouse had
    /// already picked or shipped from them; they are now
    /// [`OrderStatus::Exception`] with the reason.
    pub exceptions: Vec<OrderException>,
}

/// A record the warehouse refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedRecord {
    pub kind: RecordKind,
    /// The record's external id (an item's, an order's).
    pub external_id: String,
    pub reason: String,
}

/// Which part of a batch a refused record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordKind {
    ItemUpsert,
    ItemDeactivation,
    OrderUpsert,
    OrderCancellation,
    /// A kind this plugin's API version does not know.
    #[serde(other)]
    Other,
}

/// An order put in exception by an import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderException {
    pub external_id: String,
    pub number: String,
    pub reason: String,
}

/// What End of Day needs to know of one of the plugin's items beside its
/// quantities (API 1.3): how its stock was opened from this plugin's
/// store, and whether the warehouse has counted it since.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockBasis {
    /// The item, by this plugin's external id.
    pub external_id: String,
    /// When this plugin's count opened the item's stock (see
    /// [`OpeningStock::counted_at_ms`]); `None` when it was not opened
    /// from this plugin's store.
    #[serde(default)]
    pub opened_at_ms: Option<i64>,
    /// What the store still owes from a negative opening count (a
    /// backorder): the units its count lacks for orders the warehouse does
    /// not have. It shrinks as the store's reductions of this plugin's
    /// orders are corrected into the opening balance.
    #[serde(default)]
    pub owed: i64,
    /// The warehouse has received or adjusted the item's stock at least
    /// once (its opening balance counts too).
    #[serde(default)]
    pub counted: bool,
}

/// What the store says of one of the plugin's orders beyond its lines
/// (API 1.3), sent with [`WarehouseDb::annotate_orders`] after the order
/// was imported. Sending it again replaces what was said before.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderAnnotation {
    /// The order, by this plugin's external id.
    pub external_id: String,
    /// Why the order needs a person's attention (a line the warehouse
    /// cannot ship, say); `None`: it needs none.
    #[serde(default)]
    pub attention: Option<String>,
    /// Units the store refunded, by line; a line not listed has none.
    #[serde(default)]
    pub refunded: Vec<LineRefund>,
}

/// Units of one order line the store refunded (see [`OrderAnnotation`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineRefund {
    pub external_line_id: String,
    pub quantity: i64,
}

/// What happened in the warehouse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// Payload: [`PickRecorded`].
    PickRecorded,
    /// Payload: [`ShipmentRecorded`].
    ShipmentRecorded,
    /// Stock counted in or out by hand. Payload: [`InventoryChanged`].
    InventoryAdjusted,
    /// Stock received. Payload: [`InventoryChanged`].
    InventoryReceived,
    /// The warehouse cancelled an order. Payload: [`OrderCancelled`].
    OrderCancelled,
    /// A kind this plugin's API version does not know; skip it unless its
    /// payload says what it is. The host also writes kinds no API version
    /// names: `item-created` and `item-deactivated` (an item made or
    /// deactivated by hand), and `order-allocation` (an import changed
    /// what an order allocates of the event's item; payload
    /// `{"allocated_before": n, "allocated": m}`). An `order-allocation`
    /// event of another source's order reaches every plugin with the item,
    /// with no order named: the item's available quantity moved.
    #[serde(other)]
    Other,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PickRecorded => "pick-recorded",
            Self::ShipmentRecorded => "shipment-recorded",
            Self::InventoryAdjusted => "inventory-adjusted",
            Self::InventoryReceived => "inventory-received",
            Self::OrderCancelled => "order-cancelled",
            Self::Other => "other",
        }
    }
}

/// One event of the change feed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeEvent {
    /// Increases with every event; never reused.
    pub seq: i64,
    pub at_ms: i64,
    pub kind: ChangeKind,
    /// The order it concerns (only the plugin that sent the order sees it).
    #[serde(default)]
    pub order_number: Option<String>,
    #[serde(default)]
    pub order_external_id: Option<String>,
    /// The item it concerns, and the calling plugin's external id for it.
    #[serde(default)]
    pub item_number: Option<String>,
    #[serde(default)]
    pub item_external_id: Option<String>,
    /// Details by kind; see [`ChangeKind`] and [`ChangeEvent::details`].
    pub payload: serde_json::Value,
}

impl ChangeEvent {
    /// The payload as its typed form, e.g. `event.details::<PickRecorded>()`.
    pub fn details<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&self.payload)
    }
}

/// Payload of [`ChangeKind::PickRecorded`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickRecorded {
    pub line: i64,
    #[serde(default)]
    pub external_line_id: Option<String>,
    pub quantity: i64,
    pub location: String,
    /// The line's picked quantity after this pick.
    pub picked: i64,
    pub ordered: i64,
    pub order_status: OrderStatus,
}

/// Payload of [`ChangeKind::ShipmentRecorded`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentRecorded {
    pub shipment: Shipment,
    /// The order's status after this shipment (`shipped` when complete).
    pub order_status: OrderStatus,
}

/// Payload of [`ChangeKind::InventoryAdjusted`] and [`ChangeKind::InventoryReceived`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryChanged {
    pub location: String,
    /// The change (negative: out).
    pub quantity: i64,
    /// On hand at the location after the change.
    pub on_hand_at_location: i64,
    #[serde(default)]
    pub reason: String,
}

/// Payload of [`ChangeKind::OrderCancelled`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCancelled {
    #[serde(default)]
    pub reason: String,
}

/// An event to park (see [`WarehouseDb::park`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParkRequest {
    pub seq: i64,
    pub reason: String,
}

/// Where to read the change feed from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangesRequest {
    /// Events with a greater sequence number are returned.
    pub after: i64,
    /// At most this many (the host may return fewer).
    pub limit: u32,
}

/// A consumer's acknowledgement of the change feed (see
/// [`WarehouseDb::acknowledge_changes`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangesAck {
    /// Which of the plugin's cursors: one name per reader of the feed
    /// (`export`, `push_stock`), 1 to 64 bytes.
    pub consumer: String,
    /// Every event up to this sequence number is done with.
    pub seq: i64,
}

/// A page of the change feed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChangePage {
    pub events: Vec<ChangeEvent>,
    /// The `after` for the next read: past every event returned and every
    /// event skipped because it belongs to another plugin. Store it to
    /// acknowledge the page. Equal to the request's `after` when nothing new.
    pub cursor: i64,
}

/// The DB handle: the warehouse as the calling plugin sees it. Get it with
/// [`Context::db`].
#[derive(Clone, Copy)]
pub struct WarehouseDb<'a> {
    ctx: &'a Context,
}

impl<'a> WarehouseDb<'a> {
    pub(crate) fn new(ctx: &'a Context) -> Self {
        Self { ctx }
    }

    /// Items by reference, in the order asked (`None`: no such item).
    pub fn items(&self, refs: &[ItemRef]) -> Result<Vec<Option<Item>>, HostError> {
        self.ctx.call::<protocol::FindItems>(&refs.to_vec())
    }

    /// One item by reference.
    pub fn item(&self, item: &ItemRef) -> Result<Option<Item>, HostError> {
        Ok(self.items(std::slice::from_ref(item))?.pop().flatten())
    }

    /// Quantities of the given items (unknown ones are left out), or with
    /// `None` of every item (`external_id` set on those the plugin's store
    /// sells: not on one it deactivated).
    pub fn quantities(&self, items: Option<&[ItemRef]>) -> Result<Vec<Quantities>, HostError> {
        self.ctx
            .call::<protocol::GetQuantities>(&QuantitiesRequest {
                items: items.map(<[ItemRef]>::to_vec),
            })
    }

    /// The plugin's orders by external id, in the order asked.
    pub fn orders(&self, external_ids: &[String]) -> Result<Vec<Option<Order>>, HostError> {
        self.ctx
            .call::<protocol::FindOrders>(&external_ids.to_vec())
    }

    /// One of the plugin's orders by external id.
    pub fn order(&self, external_id: &str) -> Result<Option<Order>, HostError> {
        Ok(self.orders(&[external_id.to_owned()])?.pop().flatten())
    }

    /// Applies a batch in one transaction; a refusal changes nothing.
    pub fn apply(&self, batch: &ImportBatch) -> Result<BatchSummary, HostError> {
        self.ctx.call::<protocol::ApplyBatch>(batch)
    }

    /// Applies an [`Import`] in one transaction (API 1.2).
    pub fn apply_import(&self, import: &Import) -> Result<ImportOutcome, HostError> {
        self.ctx.call::<protocol::ApplyImport>(import)
    }

    /// Says what the store says of the plugin's orders beyond their lines:
    /// whether each needs attention, and its refunded units (API 1.3).
    /// Orders the warehouse does not have are passed over.
    pub fn annotate_orders(&self, annotations: &[OrderAnnotation]) -> Result<(), HostError> {
        self.ctx
            .call::<protocol::AnnotateOrders>(&annotations.to_vec())
    }

    /// How each of the plugin's items was opened and counted (API 1.3).
    pub fn stock_basis(&self) -> Result<Vec<StockBasis>, HostError> {
        self.ctx.call::<protocol::GetStockBasis>(&())
    }

    /// Up to `limit` events after the cursor `after`, oldest first.
    pub fn changes_after(&self, after: i64, limit: u32) -> Result<ChangePage, HostError> {
        self.ctx
            .call::<protocol::ChangesAfter>(&ChangesRequest { after, limit })
    }

    /// Parks an event that cannot succeed (API 1.2): it is kept, with the
    /// reason, for an admin to see (`plugin-host parked`) and send again,
    /// and the plugin moves on past it. Parking it again updates the reason.
    pub fn park(&self, seq: i64, reason: &str) -> Result<(), HostError> {
        self.ctx.call::<protocol::ParkChange>(&ParkRequest {
            seq,
            reason: reason.to_owned(),
        })
    }

    /// Takes an event off the parked list once it went through (API 1.2).
    pub fn unpark(&self, seq: i64) -> Result<(), HostError> {
        self.ctx.call::<protocol::UnparkChange>(&seq)
    }

    /// Tells the host that `consumer`, one of the plugin's readers of the
    /// feed, is done with every event up to `seq` (API 1.5): call it each
    /// time that consumer's cursor moves, after the cursor is stored (never
    /// ahead of it). The host prunes an event only when every consumer of
    /// every plugin reading the feed has acknowledged past it; a plugin
    /// that reads the feed without acknowledging holds all of it. The
    /// latest acknowledgement of a consumer counts; a sequence number past
    /// the feed's end is refused.
    pub fn acknowledge_changes(&self, consumer: &str, seq: i64) -> Result<(), HostError> {
        self.ctx.call::<protocol::AcknowledgeChanges>(&ChangesAck {
            consumer: consumer.to_owned(),
            seq,
        })
    }

    /// Parked events an admin asked to send again, oldest first (API 1.2).
    /// Each stays parked until [`WarehouseDb::unpark`] or parked again.
    pub fn parked_retries(&self) -> Result<Vec<ChangeEvent>, HostError> {
        self.ctx.call::<protocol::ParkedRetries>(&())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use abi_stable::sabi_trait::TD_Opaque;
    use abi_stable::std_types::{RArc, RResult, RStr, RString};
    use serde_json::json;

    use super::*;
    use crate::abi::{HostFrame, HostFrame_TO};
    use crate::version::{API_VERSION, ApiVersion};

    /// A host that records each call and answers with a canned response.
    #[derive(Clone)]
    struct FakeHost {
        version: ApiVersion,
        calls: Arc<Mutex<Vec<(String, serde_json::Value)>>>,
        answer: String,
    }

    impl HostFrame for FakeHost {
        fn api_version(&self) -> ApiVersion {
            self.version
        }

        fn call(&self, method: RStr<'_>, payload: RStr<'_>) -> RResult<RString, RString> {
            let payload = serde_json::from_str(payload.as_str()).unwrap();
            self.calls
                .lock()
                .unwrap()
                .push((method.as_str().into(), payload));
            RResult::ROk(self.answer.as_str().into())
        }
    }

    fn context(version: ApiVersion, answer: serde_json::Value) -> (Context, FakeHost) {
        let host = FakeHost {
            version,
            calls: Arc::default(),
            answer: answer.to_string(),
        };
        let frame = HostFrame_TO::from_ptr(RArc::new(host.clone()), TD_Opaque);
        (Context::new(frame), host)
    }

    #[test]
    fn wrappers_send_the_named_messages() {
        let (ctx, host) = context(API_VERSION, json!({"events": [], "cursor": 7}));
        let page = ctx.db().changes_after(7, 100).unwrap();
        assert_eq!(
            page,
            ChangePage {
                events: vec![],
                cursor: 7
            }
        );
        let (ctx2, host2) = context(API_VERSION, json!([null]));
        assert_eq!(
            ctx2.db().item(&ItemRef::Number("SKU-1".into())).unwrap(),
            None
        );
        assert_eq!(
            host.calls.lock().unwrap().as_slice(),
            [(
                "db.changes.after".to_owned(),
                json!({"after": 7, "limit": 100})
            )]
        );
        assert_eq!(
            host2.calls.lock().unwrap().as_slice(),
            [("db.items.find".to_owned(), json!([{"number": "SKU-1"}]))]
        );
    }

    #[test]
    fn an_older_host_is_not_asked() {
        let (ctx, host) = context(ApiVersion::new(1, 0), json!(null));
        let err = ctx.db().apply(&ImportBatch::default()).unwrap_err();
        assert!(
            err.to_string().contains(
                "needs host service \"db.batch.apply\" from plugin API 1.1; the host offers 1.0"
            ),
            "{err}"
        );
        assert!(host.calls.lock().unwrap().is_empty());
    }

    #[test]
    fn an_acknowledgement_names_its_consumer_and_a_1_4_host_is_not_asked() {
        let (ctx, host) = context(API_VERSION, json!(null));
        ctx.db().acknowledge_changes("export", 41).unwrap();
        assert_eq!(
            host.calls.lock().unwrap().as_slice(),
            [(
                "db.changes.ack".to_owned(),
                json!({"consumer": "export", "seq": 41})
            )]
        );
        let (old, old_host) = context(ApiVersion::new(1, 4), json!(null));
        let err = old.db().acknowledge_changes("export", 41).unwrap_err();
        assert!(
            err.to_string().contains(
                "needs host service \"db.changes.ack\" from plugin API 1.5; the host offers 1.4"
            ),
            "{err}"
        );
        assert!(old_host.calls.lock().unwrap().is_empty());
    }

    #[test]
    fn unknown_kinds_and_fields_from_a_newer_host_are_tolerated() {
        let event: ChangeEvent = serde_json::from_value(json!({
            "seq": 3, "at_ms": 1, "kind": "pallet-relabelled",
            "payload": {}, "added_later": true
        }))
        .unwrap();
        assert_eq!(event.kind, ChangeKind::Other);
        let batch: ImportBatch = serde_json::from_value(json!({"state_changes": []})).unwrap();
        assert_eq!(batch, ImportBatch::default());
    }

    #[test]
    fn an_address_on_one_line_leaves_out_empty_parts() {
        let address = Address {
            name: "Ada Lovelace".into(),
            line1: "1 Main St".into(),
            line2: " ".into(),
            city: "London".into(),
            country: "GB".into(),
            email: "ada@example.test".into(),
            ..Address::default()
        };
        assert_eq!(address.one_line(), "Ada Lovelace, 1 Main St, London, GB");
    }

    #[test]
    fn typed_payloads_round_trip() {
        let pick = PickRecorded {
            line: 1,
            external_line_id: Some("9".into()),
            quantity: 2,
            location: "MAIN".into(),
            picked: 2,
            ordered: 3,
            order_status: OrderStatus::Picking,
        };
        let event = ChangeEvent {
            seq: 1,
            at_ms: 0,
            kind: ChangeKind::PickRecorded,
            order_number: Some("WC-1".into()),
            order_external_id: Some("1".into()),
            item_number: Some("SKU-1".into()),
            item_external_id: None,
            payload: serde_json::to_value(&pick).unwrap(),
        };
        assert_eq!(event.details::<PickRecorded>().unwrap(), pick);
        assert_eq!(
            OrderStatus::parse("partially-shipped"),
            Some(OrderStatus::PartiallyShipped)
        );
        assert_eq!(OrderStatus::parse("lost"), None);
    }
}
