//! `push-stock`: the counts of the items whose warehouse quantity changed
//! since the last push -> the store's stock, every Sync Interval
//! (`stock_push = every_sync`; with `end_of_day` it does nothing).
//!
//! It reads the change feed after its own cursor: receipts, adjustments,
//! cancellations, picks when on hand is sent, and orders another store
//! selling the same items sent in ([`stock::moves_the_count`]: the host's
//! `order-allocation` events, which name no order of this store; this
//! store's own orders move nothing, the store took their units off when
//! they were placed). With nothing there it is done without a
//! single request to the store. Otherwise it reads just those items'
//! store counts (`include=` ids, 100 a request; a changed variation's
//! product and all its variations, so a pool the parent keeps is compared
//! whole), then the orders the store holds stock for (those End of Day's
//! checkpoint leaves to read: [`held_orders`]), and applies End of
//! Day's rules ([`crate::mapping::stock`], [`crate::mapping::holds`]):
//! holds, backorders, pools, the safety limit (a share of every item).
//! It writes only the counts that differ, as differences from the count it
//! read (`inventory_delta`), through End of Day's own writes.
//!
//! The counts are read before the orders: an order placed between the two
//! reads is counted as held although the count read still had its units,
//! so the store is left short by it (never over) until the item's next
//! change or End of Day.
//!
//! The cursor (its own state key) moves only once the writes are done: a
//! failed write leaves it, and the next run reads the same items again.
//! Each move is acknowledged to the host (the consumer [`STATE_KEY`]), so
//! it may prune the change feed behind it.
//! Each run computes every difference from a fresh read of the store's
//! count, so a run repeated after a crash between its writes and its
//! cursor finds nothing left to write: nothing is applied twice. Items
//! whose count WooCommerce refused are kept in the state and read again
//! next run.
//!
//! Another store's import does not wait for this store's schedule: the
//! push wakes on the host's `order-allocation` events ([`feed_wakes`],
//! plugin API 1.6), so the host runs it within a second of another store's
//! order being imported, even after End of Day and outside the Sync Time
//! Range (where it would otherwise offer sold units until the next
//! morning). Such a run does what every push does: reads the feed after
//! its cursor and writes only what differs.

use std::collections::{BTreeSet, HashMap};

use plugin_api::warehouse::{ItemKind, ItemRef};
use plugin_api::{Context, FeedWake, JobReport, PluginError, Settings};
use serde::{Deserialize, Serialize};
use woo_client::WooClient;
use woo_client::model::{Order, StockRecord};

use super::{concurrently, end_of_day, held_orders, id_filters};
use crate::manifest::PUSH_STOCK;
use crate::mapping::holds;
use crate::mapping::stock::{self, StockPlan};
use crate::settings::{ExportRules, StockPush};
use crate::store::StoreConnection;

/// The plugin state key of the push's progress.
pub const STATE_KEY: &str = "push_stock";
/// Change-feed events read at a time.
const PAGE: u32 = 1_000;

/// How far the push got.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct PushState {
    /// Every change up to here is in the store.
    cursor: i64,
    /// Items (store ids) whose count WooCommerce refused or a stopped run
    /// did not write: read again on the next run.
    #[serde(default)]
    retry: Vec<u64>,
}

/// The items the change feed names after a cursor, and where it ends.
pub(super) struct Changes {
    pub(super) items: BTreeSet<u64>,
    pub(super) cursor: i64,
}

/// What runs the push outside its schedule: another store's order taking
/// an item this store sells moves the available count it sends. Nothing
/// while the counts go by End of Day only, or on hand is sent (an order
/// does not move on hand).
pub fn feed_wakes(settings: &Settings) -> Vec<FeedWake> {
    if StockPush::from_settings(settings) == StockPush::EndOfDay
        || ExportRules::from_settings(settings).send_on_hand
    {
        return Vec::new();
    }
    vec![FeedWake::new(PUSH_STOCK, &[stock::ORDER_ALLOCATION])]
}

pub fn run(ctx: &Context, store: &StoreConnection) -> Result<JobReport, PluginError> {
    let settings = ctx.settings()?;
    if StockPush::from_settings(&settings) == StockPush::EndOfDay {
        return Ok(JobReport {
            summary: "nothing done: stock_push is end_of_day, so the store's counts are sent by End of Day only".into(),
            ..JobReport::default()
        });
    }
    let rules = ExportRules::from_settings(&settings);
    let options = ctx.run_options();
    let mut state: PushState = ctx.state(STATE_KEY)?.unwrap_or_default();
    let changes = changes_after(ctx, state.cursor, rules.send_on_hand)?;
    let mut changed = changes.items;
    changed.extend(&state.retry);
    if changed.is_empty() {
        if !options.dry_run && changes.cursor != state.cursor {
            state.cursor = changes.cursor;
            save_cursor(ctx, &state)?;
        }
        return Ok(JobReport {
            summary: "no item's quantity changed since the last push; nothing was read or sent"
                .into(),
            ..JobReport::default()
        });
    }
    let Compared {
        plan,
        records,
        items,
    } = compare(ctx, store, &changed, rules.send_on_hand)?;
    let mut report = JobReport::default();
    end_of_day::report_skips(&plan, &mut report);
    let mut table = stock::drift_table(&plan, rules.send_on_hand);
    table.title = format!(
        "Stock push: {} of {} changed items differ",
        plan.writes.len(),
        plan.compared
    );
    if options.dry_run {
        ctx.show_table(&table)?;
        report.summary = format!(
            "dry run: {} of {} changed items differ; nothing was written",
            plan.writes.len(),
            plan.compared
        );
        return Ok(report);
    }
    if !options.force
        && let Some(why) = stock::safety_stop_among(&plan, items, rules.max_change_percent)
    {
        ctx.show_table(&table)?;
        return Err(PluginError::other(why));
    }
    if !plan.writes.is_empty() {
        ctx.show_table(&end_of_day::kept_with_the_run(table))?;
    }
    end_of_day::write(ctx, store, &plan, &mut report)?;
    state.retry = if report.failed > 0 || report.stopped {
        stock::items_written(&plan, &records).into_iter().collect()
    } else {
        Vec::new()
    };
    state.cursor = changes.cursor;
    save_cursor(ctx, &state)?;
    report.summary = summary(&plan, &report, changed.len());
    Ok(report)
}

/// Where the push's cursor is: every change up to it is in the store.
pub(super) fn cursor(ctx: &Context) -> Result<i64, PluginError> {
    Ok(ctx
        .state::<PushState>(STATE_KEY)?
        .unwrap_or_default()
        .cursor)
}

/// Stores the push's progress, then acknowledges its cursor to the host
/// as the consumer [`STATE_KEY`] (never ahead of what is stored).
fn save_cursor(ctx: &Context, state: &PushState) -> Result<(), PluginError> {
    ctx.put_state(STATE_KEY, state)?;
    ctx.db().acknowledge_changes(STATE_KEY, state.cursor)?;
    Ok(())
}

/// The changed items against the store, and what the plan needs beside.
struct Compared {
    plan: StockPlan,
    /// The store's records read (a pool's parent and variations included).
    records: Vec<StockRecord>,
    /// How many items the plugin has (the base of the safety limit).
    items: usize,
}

/// Reads the changed items' counts, then the orders holding stock, and
/// plans by End of Day's rules; a pool a changed variation shares is
/// compared whole.
fn compare(
    ctx: &Context,
    store: &StoreConnection,
    changed: &BTreeSet<u64>,
    send_on_hand: bool,
) -> Result<Compared, PluginError> {
    let basis = end_of_day::stock_basis(ctx)?;
    let (products, parents) = where_to_read(ctx, changed)?;
    let records = store.read(
        ctx,
        "the changed items' stock",
        read_stock(&store.client, products, parents),
    )?;
    let compared: BTreeSet<u64> = changed
        .iter()
        .copied()
        .chain(stock::pooled_with(&records, changed))
        .collect();
    let since = holds::orders_after(
        compared.iter().filter_map(|id| basis.get(id)),
        holds::first_opening(basis.values()),
    );
    // Items whose count is not sent hold nothing: no orders to read.
    let held: HashMap<u64, Order> = match since {
        Some(after) => held_orders::read(ctx, store, after)?,
        None => HashMap::new(),
    };
    let refs: Vec<ItemRef> = compared
        .iter()
        .map(|id| ItemRef::ExternalId(id.to_string()))
        .collect();
    let counts = end_of_day::counts_of(ctx, ctx.db().quantities(Some(&refs))?, &basis)?;
    let holds = end_of_day::holds(ctx, &held, &basis)?;
    Ok(Compared {
        plan: stock::plan(&records, &counts, &holds, send_on_hand),
        records,
        items: basis.len(),
    })
}

fn summary(plan: &StockPlan, report: &JobReport, changed: usize) -> String {
    format!(
        "{changed} items changed in the warehouse; {} of {} counts differed and were sent, {} refused by WooCommerce, {} not counted by WooCommerce",
        report.updated,
        plan.compared,
        report.failed,
        plan.unmanaged.len(),
    )
}

/// The items (store ids) whose count the feed's events after `cursor` may
/// have changed, and the cursor past them all: an event's own item, or
/// the items of a cancelled order's lines.
pub(super) fn changes_after(
    ctx: &Context,
    mut cursor: i64,
    send_on_hand: bool,
) -> Result<Changes, PluginError> {
    let mut items = BTreeSet::new();
    let mut cancelled = Vec::new();
    loop {
        let page = ctx.db().changes_after(cursor, PAGE)?;
        for event in &page.events {
            if !stock::moves_the_count(event, send_on_hand) {
                continue;
            }
            match (&event.item_external_id, &event.order_external_id) {
                (Some(item), _) => items.extend(item.parse::<u64>().ok()),
                (None, Some(order)) => cancelled.push(order.clone()),
                (None, None) => {}
            }
        }
        cursor = page.cursor;
        if page.events.len() < PAGE as usize {
            break;
        }
    }
    items.extend(items_of_orders(ctx, &cancelled)?);
    Ok(Changes { items, cursor })
}

/// The items (store ids) on these orders' lines.
fn items_of_orders(ctx: &Context, orders: &[String]) -> Result<Vec<u64>, PluginError> {
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    let numbers: BTreeSet<String> = ctx
        .db()
        .orders(orders)?
        .into_iter()
        .flatten()
        .flat_map(|o| o.lines)
        .map(|l| l.item_number)
        .filter(|n| !n.is_empty())
        .collect();
    let refs: Vec<ItemRef> = numbers.into_iter().map(ItemRef::Number).collect();
    Ok(ctx
        .db()
        .items(&refs)?
        .into_iter()
        .flatten()
        .filter_map(|i| i.external_id?.parse().ok())
        .collect())
}

/// What to read for these items: the products (the simple items, and
/// each variation's product for a pool it may share), and the variable
/// products whose variations to read.
fn where_to_read(
    ctx: &Context,
    changed: &BTreeSet<u64>,
) -> Result<(Vec<u64>, Vec<u64>), PluginError> {
    let refs: Vec<ItemRef> = changed
        .iter()
        .map(|id| ItemRef::ExternalId(id.to_string()))
        .collect();
    let mut products = BTreeSet::new();
    let mut parent_numbers = BTreeSet::new();
    for (id, item) in changed.iter().zip(ctx.db().items(&refs)?) {
        match item {
            Some(item) if item.kind == ItemKind::Variation => {
                parent_numbers.extend(item.parent);
            }
            Some(item) if item.kind == ItemKind::Simple => {
                products.insert(*id);
            }
            _ => {}
        }
    }
    let refs: Vec<ItemRef> = parent_numbers.into_iter().map(ItemRef::Number).collect();
    let parents: Vec<u64> = ctx
        .db()
        .items(&refs)?
        .into_iter()
        .flatten()
        .filter_map(|i| i.external_id?.parse().ok())
        .collect();
    products.extend(&parents);
    Ok((products.into_iter().collect(), parents))
}

/// The stock records of these products (100 a request) and of every
/// variation of these variable products, as many requests at once as the
/// client's concurrency allows.
pub(super) async fn read_stock(
    client: &WooClient,
    products: Vec<u64>,
    parents: Vec<u64>,
) -> Result<Vec<StockRecord>, PluginError> {
    let (products, variations) = tokio::try_join!(
        concurrently(client, id_filters(&products), |client, ids| async move {
            Ok(client.list_product_stock_by_id(&ids).await?.records)
        }),
        concurrently(client, parents, end_of_day::variation_stock),
    )?;
    Ok(products.into_iter().chain(variations).flatten().collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_push_wakes_on_other_stores_orders_only_while_it_sends_available_every_sync() {
        let settings = |pairs: &[(&str, serde_json::Value)]| {
            let mut s = Settings::default();
            for (k, v) in pairs {
                s.insert(k, v.clone());
            }
            s
        };
        assert_eq!(
            feed_wakes(&settings(&[])),
            [FeedWake::new("push-stock", &["order-allocation"])]
        );
        assert!(feed_wakes(&settings(&[("stock_push", json!("end_of_day"))])).is_empty());
        assert!(feed_wakes(&settings(&[("stock_sent", json!("on_hand"))])).is_empty());
    }
}
