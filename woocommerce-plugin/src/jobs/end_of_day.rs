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
//!
//! Reading and writing overlap only where the limit cannot stop the run.
//! The limit is a share of every count compared, and no part of the
//! catalogue bounds it: after reading k of N records with w differing, the
//! rest may differ in none or in all, so the share ends anywhere between
//! w/N and (w + N - k)/N; until the last page is read a run the limit
//! would stop cannot be told from one it lets through, and one batch
//! written early would be a write the limit was there to prevent. So a run
//! the limit applies to reads the whole catalogue (its slim fields, the
//! products, variations and held orders side by side), decides, then
//! writes; a forced run, or one whose limit is 100 %, starts writing as
//! soon as the held orders are read and a route has 100 differing counts,
//! while later pages are still being read (a parent's variations, fewer
//! than 100 as a rule, go once every variation page is read: the listing's
//! pages come in any order). Pools wait for the whole
//! catalogue either way (the parent's count is the sum of its variations,
//! read anywhere in the listing). Variations go through their own parent's
//! `variations/batch`: WooCommerce has no route that writes variations of
//! many parents (`/wc/v3/variations`, 10.3, only lists them), so one batch
//! a parent, the batches running side by side.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use plugin_api::warehouse::{ItemKind, ItemRef, StockBasis};
use plugin_api::{Context, JobReport, PluginError};
use tokio::sync::mpsc::UnboundedSender;
use woo_client::model::{
    BATCH_LIMIT, BatchItem, ManageStock, Order, ProductType, StockMove, StockRecord,
};
use woo_client::{RecordMap, Scope, WooClient};

use super::{concurrently, import_orders};
use crate::mapping::holds::{self, Holds, store_holds};
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
    let basis = stock_basis(ctx)?;
    let facts = store.facts(ctx);
    let since = holds::orders_after(basis.values(), holds::first_opening(basis.values())).flatten();
    // Nothing can stop a forced run, or one without a limit, once its
    // counts are read: it writes each page's differences while the next
    // pages are read. Any other run first reads the whole catalogue, since
    // the safety limit is a share of all of it (module doc).
    let streams = !options.dry_run && (options.force || rules.max_change_percent >= 100);
    let mut report = JobReport::default();
    let mut written = HashSet::new();
    let (records, held) = if streams {
        read_and_write(
            ctx,
            store,
            &basis,
            since,
            rules.send_on_hand,
            &mut report,
            &mut written,
        )?
    } else {
        store.read(ctx, "stock and the orders holding it", async {
            tokio::try_join!(
                read_stock(&store.client, facts.has_variations_route(), None),
                read_held_orders(&store.client, Scope::Full, since),
            )
        })?
    };
    let started_at = held.started_at;
    let mut held: HashMap<u64, Order> = held.records.into_iter().map(|o| (o.id, o)).collect();
    let mut plan = plan(ctx, &records, &held, &basis, rules.send_on_hand)?;
    report_skips(&plan, &mut report);
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
    // Written while reading: the rest (pools, whose count is a sum of the
    // whole catalogue's) goes now.
    plan.writes.retain(|w| !written.contains(&w.store_id));
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
            read_stock(&store.client, facts.has_variations_route(), None),
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

/// Reports what the plan leaves alone: counts WooCommerce does not keep
/// (and pools not sent), items gone from the store, counts sent as 0.
pub(super) fn report_skips(plan: &StockPlan, report: &mut JobReport) {
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
}

/// Rows of the drift table kept with a run that wrote (a dry run shows
/// them all).
const TABLE_ROWS_KEPT: usize = 1_000;

/// The drift table as a run that writes keeps it: the first
/// [`TABLE_ROWS_KEPT`] rows, the title saying so when there were more.
pub(super) fn kept_with_the_run(mut table: plugin_api::Table) -> plugin_api::Table {
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
pub(super) fn holds(
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
    let first = holds::first_opening(basis.values());
    Ok(store_holds(holding, &copies, |item| {
        holds::holding_since(basis.get(&item)?, first)
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

/// How each of the plugin's items was opened and counted, by store id.
pub(super) fn stock_basis(ctx: &Context) -> Result<HashMap<u64, StockBasis>, PluginError> {
    Ok(ctx
        .db()
        .stock_basis()?
        .into_iter()
        .filter_map(|b| Some((b.external_id.parse().ok()?, b)))
        .collect())
}

/// The plugin's active, stocked items and their quantities.
fn warehouse_counts(
    ctx: &Context,
    basis: &HashMap<u64, StockBasis>,
) -> Result<Vec<WarehouseCount>, PluginError> {
    counts_of(ctx, ctx.db().quantities(None)?, basis)
}

/// Of these quantities, the plugin's active, stocked items'.
pub(super) fn counts_of(
    ctx: &Context,
    quantities: Vec<plugin_api::warehouse::Quantities>,
    basis: &HashMap<u64, StockBasis>,
) -> Result<Vec<WarehouseCount>, PluginError> {
    let ours: Vec<(u64, plugin_api::warehouse::Quantities)> = quantities
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
pub(super) async fn read_held_orders(
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

/// The store's counts: every product's, and every variation's; each
/// record also goes to `sink` as its page arrives.
async fn read_stock(
    client: &WooClient,
    variations_route: bool,
    sink: Option<UnboundedSender<StockRecord>>,
) -> Result<Vec<StockRecord>, PluginError> {
    let tee =
        |fix: fn(&mut StockRecord, u64), parent: u64| -> RecordMap<StockRecord, StockRecord> {
            let sink = sink.clone();
            Arc::new(move |mut record| {
                fix(&mut record, parent);
                if let Some(sink) = &sink {
                    // The receiver goes only when the run failed.
                    let _ = sink.send(record.clone());
                }
                record
            })
        };
    let as_read: fn(&mut StockRecord, u64) = |_, _| {};
    let mut records = client
        .list_product_stock(tee(as_read, 0))
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
                .list_all_variation_stock(tee(as_read, 0))
                .await
                .map_err(PluginError::other)?
                .records,
        );
    } else {
        let listings = concurrently(client, variable, |client, id| {
            let map = tee(as_variation_of, id);
            async move { Ok(client.list_variation_stock(id, map).await?.records) }
        })
        .await?;
        records.extend(listings.into_iter().flatten());
    }
    Ok(records)
}

/// Marks a record of a parent's variation listing as a variation of it.
fn as_variation_of(record: &mut StockRecord, parent: u64) {
    record.kind = ProductType::Variation;
    if record.parent_id == 0 {
        record.parent_id = parent;
    }
}

/// One variable product's variations' counts, each marked a variation of it.
pub(super) async fn variation_stock(
    client: WooClient,
    id: u64,
) -> Result<Vec<StockRecord>, woo_client::Error> {
    let mark: RecordMap<StockRecord, StockRecord> = Arc::new(move |mut record| {
        as_variation_of(&mut record, id);
        record
    });
    Ok(client.list_variation_stock(id, mark).await?.records)
}

/// Reads the store's counts and the orders holding stock, and writes each
/// counted product's or variation's difference as soon as its page and the
/// orders are in, 100 a batch by route, at most the connection's
/// concurrency of batches at once (pools wait: a pool's count is the sum
/// of variations read anywhere in the catalogue). Only for a run the safety
/// limit cannot stop. What it wrote is tallied into `report` and `written`.
fn read_and_write(
    ctx: &Context,
    store: &StoreConnection,
    basis: &HashMap<u64, StockBasis>,
    since: Option<i64>,
    send_on_hand: bool,
    report: &mut JobReport,
    written: &mut HashSet<u64>,
) -> Result<(Vec<StockRecord>, woo_client::Listing<Order>), PluginError> {
    let client = &store.client;
    let variations_route = store.facts(ctx).has_variations_route();
    let (sink, mut read) = tokio::sync::mpsc::unbounded_channel::<StockRecord>();
    let mut batches = StreamedBatches::new(client);
    let (records, held) = store.read(
        ctx,
        "stock and the orders holding it, writing what differs",
        async {
            let stock = read_stock(client, variations_route, Some(sink));
            let write = async {
                let held = read_held_orders(client, Scope::Full, since).await?;
                let orders: HashMap<u64, Order> =
                    held.records.iter().map(|o| (o.id, o.clone())).collect();
                let holds = holds(ctx, &orders, basis)?;
                let counts: HashMap<u64, WarehouseCount> = warehouse_counts(ctx, basis)?
                    .into_iter()
                    .map(|c| (c.store_id, c))
                    .collect();
                while let Some(record) = read.recv().await {
                    if record.manage_stock != ManageStock::Yes || batches.stopped {
                        continue;
                    }
                    let Some(count) = counts.get(&record.id) else {
                        continue;
                    };
                    let plan = stock::plan(
                        std::slice::from_ref(&record),
                        std::slice::from_ref(count),
                        &holds,
                        send_on_hand,
                    );
                    for write in plan.writes {
                        batches.push(write);
                    }
                    batches.stopped = ctx.is_cancelled();
                }
                Ok::<_, PluginError>(held)
            };
            tokio::try_join!(stock, write)
        },
    )?;
    let outcomes = store.runtime.block_on(batches.finish())?;
    report.stopped |= batches.stopped;
    tally(&outcomes, &batches.numbers, report);
    written.extend(batches.numbers.keys());
    Ok((records, held))
}

/// Batches of differences sent as they fill while the catalogue is read.
struct StreamedBatches {
    client: WooClient,
    limit: Arc<tokio::sync::Semaphore>,
    filling: BTreeMap<Route, Vec<StockMove>>,
    sent: tokio::task::JoinSet<Result<Vec<BatchItem>, woo_client::Error>>,
    /// The item number of each product or variation sent.
    numbers: HashMap<u64, String>,
    /// Cancelled: nothing more is sent.
    stopped: bool,
}

impl StreamedBatches {
    fn new(client: &WooClient) -> Self {
        Self {
            client: client.clone(),
            limit: Arc::new(tokio::sync::Semaphore::new(client.max_in_flight().max(1))),
            filling: BTreeMap::new(),
            sent: tokio::task::JoinSet::new(),
            numbers: HashMap::new(),
            stopped: false,
        }
    }

    fn push(&mut self, write: stock::StockWrite) {
        self.numbers.insert(write.store_id, write.number.clone());
        let moves = self.filling.entry(write.route).or_default();
        moves.push(StockMove {
            id: write.store_id,
            inventory_delta: write.delta(),
        });
        if moves.len() == BATCH_LIMIT {
            let moves = std::mem::take(moves);
            self.send(write.route, moves);
        }
    }

    fn send(&mut self, route: Route, moves: Vec<StockMove>) {
        let client = self.client.clone();
        let limit = Arc::clone(&self.limit);
        self.sent.spawn(async move {
            let _permit = limit.acquire_owned().await;
            send_batch(&client, route, &moves).await
        });
    }

    /// Sends what is still filling and waits for every batch.
    async fn finish(&mut self) -> Result<Vec<BatchItem>, PluginError> {
        if !self.stopped {
            for (route, moves) in std::mem::take(&mut self.filling) {
                self.send(route, moves);
            }
        }
        let mut outcomes = Vec::new();
        while let Some(joined) = self.sent.join_next().await {
            let answer = joined
                .map_err(|e| PluginError::other(format!("a stock batch ended abnormally: {e}")))?;
            outcomes.extend(answer.map_err(PluginError::other)?);
        }
        Ok(outcomes)
    }
}

/// One batch of differences on its route.
async fn send_batch(
    client: &WooClient,
    route: Route,
    moves: &[StockMove],
) -> Result<Vec<BatchItem>, woo_client::Error> {
    match route {
        Route::Products => client.move_products_stock(moves).await,
        Route::Variations { parent } => client.move_variations_stock(parent, moves).await,
    }
}

/// Counts each batch item's outcome into the report (a refused item is
/// reported, and tried again next run: it still differs).
fn tally(outcomes: &[BatchItem], numbers: &HashMap<u64, String>, report: &mut JobReport) {
    for outcome in outcomes {
        let number = numbers.get(&outcome.id()).cloned().unwrap_or_default();
        match outcome {
            BatchItem::Updated { .. } => report.updated += 1,
            BatchItem::Failed { failure, .. } => {
                report.fail(format!("item {number}"), failure.to_string());
            }
        }
    }
}

/// Writes the counts that differ, by route, 100 a request, each as the
/// difference from the count read, as many requests at once as the
/// client's concurrency allows (a wave at a time, so a cancellation stops
/// it between waves); an item the store refuses is reported (and tried
/// again next run: it still differs).
pub(super) fn write(
    ctx: &Context,
    store: &StoreConnection,
    plan: &StockPlan,
    report: &mut JobReport,
) -> Result<(), PluginError> {
    let mut routes: BTreeMap<Route, Vec<StockMove>> = BTreeMap::new();
    let mut numbers = HashMap::new();
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
            |client, (route, moves)| async move { send_batch(&client, route, &moves).await },
        ))?;
        tally(&answers.concat(), &numbers, report);
        ctx.progress(
            report.updated + report.failed,
            Some(total),
            "stock counts sent",
        );
        ctx.report_counts(report);
    }
    Ok(())
}
