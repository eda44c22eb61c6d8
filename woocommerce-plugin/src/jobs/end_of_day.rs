//! `end-of-day`: the warehouse's quantity of every item -> the store's
//! stock counts, once a day.
//!
//! It first imports orders (so that what was ordered since the last sync
//! is allocated), then reads the store's current counts (`_fields`: id,
//! type, manage_stock, stock_quantity, backorders) and the orders the store
//! holds stock for (every order placed since the first item was opened:
//! status, date and lines), takes off what the store holds for orders the
//! warehouse does not have ([`crate::mapping::holds`]) and writes only the
//! counts that differ: products through `products/batch`, variations
//! through their product's `variations/batch`, 100 a request, as many
//! requests at once as the connection's concurrency allows.
//!
//! Each write is a difference (`inventory_delta`) from the count it read,
//! which WooCommerce adds to the count it has when it handles the request:
//! an order placed between the read and the write keeps its reduction.
//! After the writes it reads the orders changed since it started; if one
//! touches an item it wrote, it imports them, reads the counts again and
//! writes what still differs (a few rounds at most).
//!
//! A safety limit stops it from changing too large a share of the items
//! unless forced; a dry run shows the drift table and writes nothing (it
//! does not import orders either: it changes nothing anywhere).

use std::collections::{BTreeMap, HashMap, HashSet};

use plugin_api::warehouse::{ItemKind, ItemRef, StockBasis};
use plugin_api::{Context, JobReport, PluginError};
use woo_client::model::{BATCH_LIMIT, BatchItem, Order, ProductType, StockMove, StockRecord};
use woo_client::{Scope, WooClient};

use super::{concurrently, import_orders};
use crate::mapping::holds::{Holds, store_holds};
use crate::mapping::orders::product_id;
use crate::mapping::stock::{self, Route, StockPlan, WarehouseCount};
use crate::settings::ExportRules;
use crate::store::StoreConnection;

/// Rounds of "orders came in while writing: import them, write again".
const RECHECK_ROUNDS: usize = 3;
/// Orders changed this long before the reads started are read again
/// after the writes (store clock; writes still committing in the store).
const RECHECK_MARGIN_MS: i64 = 60_000;

pub fn run(ctx: &Context, store: &StoreConnection) -> Result<JobReport, PluginError> {
    let options = ctx.run_options();
    let rules = ExportRules::from_settings(&ctx.settings()?);
    let orders = if options.dry_run {
        "orders not imported (dry run)".to_owned()
    } else {
        format!("orders first: {}", import_orders::run(ctx, store)?.summary)
    };
    let basis: HashMap<u64, StockBasis> = ctx
        .db()
        .stock_basis()?
        .into_iter()
        .filter_map(|b| Some((b.external_id.parse().ok()?, b)))
        .collect();
    let facts = store.facts(ctx);
    // `after` is exclusive and to the second: a second earlier keeps an
    // order placed in the second of the first count.
    let since = basis
        .values()
        .filter_map(|b| b.opened_at_ms)
        .min()
        .map(|ms| ms - 1000);
    let (records, held) = store.read(ctx, "stock and the orders holding it", async {
        tokio::try_join!(
            read_stock(&store.client, facts.has_variations_route()),
            read_held_orders(&store.client, Scope::Full, since),
        )
    })?;
    let started_at = held.started_at;
    let mut held: HashMap<u64, Order> = held.records.into_iter().map(|o| (o.id, o)).collect();
    let mut report = JobReport::default();
    let mut plan = plan(ctx, &records, &held, &basis, rules.send_on_hand)?;
    for (number, why) in &plan.unmanaged {
        report.skip(format!("item {number}"), why.clone());
    }
    for number in &plan.missing {
        report.skip(
            format!("item {number}"),
            "no longer in WooCommerce".to_owned(),
        );
    }
    for (number, quantity) in &plan.clamped {
        report.skip(
            format!("item {number}"),
            format!(
                "the warehouse's count less what the store holds is {quantity}; sent as 0 because WooCommerce allows no backorders for it"
            ),
        );
    }
    let table = stock::drift_table(&plan, rules.send_on_hand);
    if options.dry_run {
        ctx.show_table(&table)?;
        report.summary = format!(
            "dry run: {} of {} items differ; nothing was written",
            plan.writes.len(),
            plan.compared
        );
        return Ok(report);
    }
    if !options.force
        && let Some(why) = stock::safety_stop(&plan, rules.max_change_percent)
    {
        ctx.show_table(&table)?;
        return Err(PluginError::other(why));
    }
    if !plan.writes.is_empty() {
        ctx.show_table(&kept_with_the_run(table))?;
    }
    let compared = plan.compared;
    let unmanaged = plan.unmanaged.len();
    let mut written = HashSet::new();
    let mut rechecks = 0;
    let mut since_ms = started_at.map(|t| t.as_millisecond() - RECHECK_MARGIN_MS);
    loop {
        write(ctx, store, &plan, &mut report)?;
        written.extend(plan.writes.iter().map(|w| w.store_id));
        if rechecks == RECHECK_ROUNDS || report.stopped {
            break;
        }
        let Some(after) = since_ms.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok()) else {
            break;
        };
        let changed = store.read(
            ctx,
            "orders changed while writing",
            read_held_orders(&store.client, Scope::ModifiedAfter(after), None),
        )?;
        since_ms = changed
            .started_at
            .map(|t| t.as_millisecond() - RECHECK_MARGIN_MS);
        let touching: Vec<Order> = changed
            .records
            .into_iter()
            .filter(|o| is_news(o, held.get(&o.id)) && touches(o, &written))
            .collect();
        if touching.is_empty() {
            break;
        }
        rechecks += 1;
        import_orders::run(ctx, store)?;
        held.extend(touching.into_iter().map(|o| (o.id, o)));
        let records = store.read(
            ctx,
            "stock",
            read_stock(&store.client, facts.has_variations_route()),
        )?;
        plan = self::plan(ctx, &records, &held, &basis, rules.send_on_hand)?;
        plan.writes.retain(|w| written.contains(&w.store_id));
    }
    let again = if rechecks > 0 {
        format!(
            "; orders placed meanwhile were imported and the counts checked again {rechecks} times"
        )
    } else {
        String::new()
    };
    report.summary = format!(
        "{} of {compared} items' counts differed and were sent, {} refused by WooCommerce, {unmanaged} not counted by WooCommerce{again}; {orders}",
        report.updated, report.failed,
    );
    Ok(report)
}

/// Rows of the drift table kept with a run that wrote (a dry run shows
/// them all).
const TABLE_ROWS_KEPT: usize = 1_000;

/// The drift table as a run that writes keeps it: the first
/// [`TABLE_ROWS_KEPT`] rows, the title saying so when there were more.
fn kept_with_the_run(mut table: plugin_api::Table) -> plugin_api::Table {
    let rows = table.rows.len();
    if rows > TABLE_ROWS_KEPT {
        table.rows.truncate(TABLE_ROWS_KEPT);
        table.title = format!(
            "{} (the first {TABLE_ROWS_KEPT} of {rows} shown)",
            table.title
        );
    }
    table
}

/// The plan against the warehouse as it is now: its counts, and what the
/// store holds for the orders in `held`.
fn plan(
    ctx: &Context,
    records: &[StockRecord],
    held: &HashMap<u64, Order>,
    basis: &HashMap<u64, StockBasis>,
    send_on_hand: bool,
) -> Result<StockPlan, PluginError> {
    let counts = warehouse_counts(ctx, basis)?;
    let holds = holds(ctx, held, basis)?;
    Ok(stock::plan(records, &counts, &holds, send_on_hand))
}

/// What the store holds for each item: the orders holding stock, against
/// the warehouse's copies of them.
fn holds(
    ctx: &Context,
    held: &HashMap<u64, Order>,
    basis: &HashMap<u64, StockBasis>,
) -> Result<Holds, PluginError> {
    let holding: Vec<&Order> = held
        .values()
        .filter(|o| {
            o.line_items
                .iter()
                .any(|l| crate::mapping::orders::reduced_stock(l).is_some())
        })
        .collect();
    let ids: Vec<String> = holding.iter().map(|o| o.id.to_string()).collect();
    let copies = ctx
        .db()
        .orders(&ids)?
        .into_iter()
        .zip(&holding)
        .filter_map(|(copy, order)| Some((order.id, copy?)))
        .collect();
    Ok(store_holds(holding, &copies, |item| {
        basis.get(&item).and_then(|b| b.opened_at_ms)
    }))
}

/// An order read after the writes that was not read before (or changed).
fn is_news(order: &Order, before: Option<&Order>) -> bool {
    before != Some(order)
}

/// Whether the order has a line for a product or variation End of Day
/// wrote (a pooled variation's line touches its parent's count, and the
/// line names that parent as its product).
fn touches(order: &Order, written: &HashSet<u64>) -> bool {
    order
        .line_items
        .iter()
        .any(|line| written.contains(&product_id(line)) || written.contains(&line.product_id))
}

/// The plugin's active, stocked items and their quantities.
fn warehouse_counts(
    ctx: &Context,
    basis: &HashMap<u64, StockBasis>,
) -> Result<Vec<WarehouseCount>, PluginError> {
    let ours: Vec<(u64, plugin_api::warehouse::Quantities)> = ctx
        .db()
        .quantities(None)?
        .into_iter()
        .filter_map(|q| Some((q.external_id.as_deref()?.parse().ok()?, q)))
        .collect();
    let refs: Vec<ItemRef> = ours
        .iter()
        .map(|(id, _)| ItemRef::ExternalId(id.to_string()))
        .collect();
    let items = ctx.db().items(&refs)?;
    Ok(ours
        .into_iter()
        .zip(items)
        .filter(|(_, item)| {
            item.as_ref()
                .is_some_and(|i| i.active && i.kind != ItemKind::Variable)
        })
        .map(|((store_id, q), _)| {
            let basis = basis.get(&store_id);
            WarehouseCount {
                store_id,
                number: q.item_number,
                on_hand: q.on_hand,
                available: q.available,
                owed: basis.map_or(0, |b| b.owed),
                counted: basis.is_some_and(|b| b.counted),
            }
        })
        .collect())
}

/// The orders that may hold stock: every order placed since `since_ms`
/// (all of them with `None`), or those changed in `scope`.
async fn read_held_orders(
    client: &WooClient,
    scope: Scope,
    since_ms: Option<i64>,
) -> Result<woo_client::Listing<Order>, PluginError> {
    let created_after = since_ms.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok());
    client
        .list_held_orders(scope, created_after)
        .await
        .map_err(PluginError::other)
}

/// The store's counts: every product's, and every variation's.
async fn read_stock(
    client: &WooClient,
    variations_route: bool,
) -> Result<Vec<StockRecord>, PluginError> {
    let mut records = client
        .list_product_stock()
        .await
        .map_err(PluginError::other)?
        .records;
    let variable: Vec<u64> = records
        .iter()
        .filter(|r| r.kind == ProductType::Variable)
        .map(|r| r.id)
        .collect();
    if variations_route {
        records.extend(
            client
                .list_all_variation_stock()
                .await
                .map_err(PluginError::other)?
                .records,
        );
    } else {
        let listings = concurrently(client, variable, |client, id| async move {
            let mut listing = client.list_variation_stock(id).await?;
            for record in &mut listing.records {
                record.kind = ProductType::Variation;
                if record.parent_id == 0 {
                    record.parent_id = id;
                }
            }
            Ok(listing.records)
        })
        .await?;
        records.extend(listings.into_iter().flatten());
    }
    Ok(records)
}

/// Writes the counts that differ, by route, 100 a request, each as the
/// difference from the count read, as many requests at once as the
/// client's concurrency allows (a wave at a time, so a cancellation stops
/// it between waves); an item the store refuses is reported (and tried
/// again next run: it still differs).
fn write(
    ctx: &Context,
    store: &StoreConnection,
    plan: &StockPlan,
    report: &mut JobReport,
) -> Result<(), PluginError> {
    let mut routes: BTreeMap<Route, Vec<StockMove>> = BTreeMap::new();
    let mut numbers = BTreeMap::new();
    for write in &plan.writes {
        routes.entry(write.route).or_default().push(StockMove {
            id: write.store_id,
            inventory_delta: write.delta(),
        });
        numbers.insert(write.store_id, write.number.clone());
    }
    let batches: Vec<(Route, Vec<StockMove>)> = routes
        .into_iter()
        .flat_map(|(route, moves)| {
            moves
                .chunks(BATCH_LIMIT)
                .map(|chunk| (route, chunk.to_vec()))
                .collect::<Vec<_>>()
        })
        .collect();
    let total = plan.writes.len() as u64;
    let wave = store.client.max_in_flight();
    for batches in batches.chunks(wave) {
        if ctx.is_cancelled() {
            report.stopped = true;
            break;
        }
        let answers = store.runtime.block_on(concurrently(
            &store.client,
            batches.to_vec(),
            |client, (route, moves)| async move {
                match route {
                    Route::Products => client.move_products_stock(&moves).await,
                    Route::Variations { parent } => {
                        client.move_variations_stock(parent, &moves).await
                    }
                }
            },
        ))?;
        for outcome in answers.into_iter().flatten() {
            let number = numbers.get(&outcome.id()).cloned().unwrap_or_default();
            match outcome {
                BatchItem::Updated { .. } => report.updated += 1,
                BatchItem::Failed { failure, .. } => {
                    report.fail(format!("item {number}"), failure.to_string());
                }
            }
        }
        ctx.progress(
            report.updated + report.failed,
            Some(total),
            "stock counts sent",
        );
    }
    Ok(())
}
