//! Reading the store's orders that may hold stock for a stock push: after
//! End of Day's full read, only those modified since it began and those it
//! found not settled ([`crate::mapping::settled_orders`]), instead of every
//! order ever placed.
//!
//! End of Day keeps its full read (it is the day's reference) and leaves
//! the checkpoint in the plugin's state ([`STATE_KEY`]); a push uses it when
//! it covers the orders the push needs, and reads them all otherwise (no
//! End of Day yet, or items held since earlier than it read).

use std::collections::HashMap;

use jiff::Timestamp;
use plugin_api::{Context, PluginError};
use woo_client::Scope;
use woo_client::model::Order;

use super::end_of_day::read_held_orders;
use super::{concurrently, id_filters};
use crate::mapping::settled_orders::HeldOrdersCheckpoint;
use crate::store::StoreConnection;

/// The plugin state key of the last End of Day's [`HeldOrdersCheckpoint`].
pub const STATE_KEY: &str = "held_orders";

/// The orders placed after `since_ms` (`None`: every order) that may hold
/// stock, by id: those End of Day's checkpoint leaves to read when it
/// covers them, else every one.
pub fn read(
    ctx: &Context,
    store: &StoreConnection,
    since_ms: Option<i64>,
) -> Result<HashMap<u64, Order>, PluginError> {
    let what = "the orders holding stock";
    let checkpoint = ctx
        .state::<HeldOrdersCheckpoint>(STATE_KEY)?
        .filter(|c| c.covers(since_ms));
    let modified_after = checkpoint
        .as_ref()
        .and_then(|c| Timestamp::from_millisecond(c.modified_after_ms).ok());
    let (Some(checkpoint), Some(modified_after)) = (checkpoint, modified_after) else {
        let full = store.read(
            ctx,
            what,
            read_held_orders(&store.client, Scope::Full, since_ms),
        )?;
        return Ok(by_id(full.records));
    };
    let client = &store.client;
    let (changed, open) = store.read(ctx, what, async {
        tokio::try_join!(
            read_held_orders(client, Scope::ModifiedAfter(modified_after), since_ms),
            concurrently(
                client,
                id_filters(&checkpoint.open),
                |client, ids| async move {
                    client.list_held_orders_by_id(&ids).await.map(|l| l.records)
                }
            ),
        )
    })?;
    Ok(by_id(open.into_iter().flatten().chain(changed.records)))
}

/// `orders` by id; of two copies of one order, the later in `orders`.
fn by_id(orders: impl IntoIterator<Item = Order>) -> HashMap<u64, Order> {
    orders.into_iter().map(|o| (o.id, o)).collect()
}
