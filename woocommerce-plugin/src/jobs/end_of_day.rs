//! `end-of-day`: the warehouse's quantity of every item -> the store's
//! stock counts, once a day.
//!
//! It imports orders (so that what was ordered since the last sync is
//! allocated) while it reads the store's current counts (`_fields`: id,
//! type, manage_stock, stock_quantity, backorders, a variable product's
//! variation ids) and the orders the store holds stock for (every order
//! placed since the first item was opened: status, date and lines), takes
//! off what the store holds for orders the warehouse does not have
//! ([`crate::mapping::holds`]) and writes only the counts that differ:
//! products through `products/batch`, variations through their product's
//! `variations/batch`, 100 a request, as many requests at once as the
//! connection's concurrency allows.
//!
//! The import runs on a thread of its own beside the reads, and nothing
//! is planned before it is done: the warehouse's counts, the copies of the
//! orders and the items' openings are taken after it, as when it ran
//! first. The reads do not depend on it. The listing of held orders starts
//! from the openings as they were before the import, which can only open
//! items later than the first: it holds every order the plan may need
//! (and perhaps a few more, which hold nothing). What the overlap adds is
//! an order placed after its item's count was read and imported before
//! the plan: it is counted (allocated) while the count read still had its
//! units, so the store is left short by it, never over — the same as an
//! order placed between the count's read and the held orders' read, which
//! the recheck below mends when it reads the order as news.
//!
//! Each write is a difference (`inventory_delta`) from the count it read,
//! which WooCommerce adds to the count it has when it handles the request:
//! an order placed between the read and the write keeps its reduction.
//! After the writes it reads the orders changed since it started; if one
//! not read before, placed after the first opening (an older one holds
//! nothing), touches an item it wrote, it imports them, reads the counts of
//! the written items those orders touch again (`include=` ids, a
//! variation's or pool's product's variations) and writes what still
//! differs (a few rounds at most). Only those can be off: importing an
//! order changes the warehouse's count of the items on its lines and
//! nothing else, and an order read before was planned with.
//!
//! The other side can move too: another store selling the same items
//! (another instance) may import its orders, or stock may be received or
//! adjusted, after the warehouse's counts were read. So it notes where the
//! change feed ends just before it reads those counts, and after the
//! writes the items the feed's later events move
//! ([`crate::mapping::stock::moves_the_count`]: another store's orders,
//! receipts, adjustments, cancellations) join the recheck, read again and
//! written where they still differ. Two stores' End of Day side by side
//! each end at their truth. The feed's end is kept in its state
//! ([`FEED_STATE_KEY`]), where the next run starts looking for it.
//!
//! Its full read of the held orders is the day's reference: it leaves the
//! stock pushes until the next End of Day a checkpoint of which orders can
//! still hold anything ([`super::held_orders`]), so they need not read the
//! whole order history again.
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
//! soon as the held orders are read, the import is done and a route has
//! 100 differing counts, while later pages are still being read. A
//! variable product's batch goes once its own variations are all read:
//! its record names them (`variations`), and the listing's pages come in
//! any order. A batch sent is right whatever comes after it: each count
//! is planned from its own record, the held orders and the warehouse
//! alone, so a later page that fails ends the run with what was sent
//! correct, and the next run, reading afresh, writes the rest. Pools wait
//! for the whole catalogue either way (the parent's count is the sum of its
//! variations, read anywhere in the listing). Variations go through their
//! own parent's `variations/batch`: WooCommerce has no route that writes
//! variations of many parents (`/wc/v3/variations`, 10.3, only lists
//! them), so one batch a parent, the batches running side by side.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use plugin_api::warehouse::{ItemKind, ItemRef, Order as WarehouseOrder, StockBasis};
use plugin_api::{Context, JobReport, PluginError};
use tokio::sync::mpsc::UnboundedSender;
use woo_client::model::{
    BATCH_LIMIT, BatchItem, ManageStock, Order, ProductType, StockMove, StockRecord,
};
use woo_client::{Listing, RecordMap, Scope, WooClient};

use super::{concurrently, held_orders, import_orders, push_stock};
use crate::mapping::holds::{self, Holds, store_holds};
use crate::mapping::orders::product_id;
use crate::mapping::settled_orders::HeldOrdersCheckpoint;
use crate::mapping::stock::{self, Route, StockPlan, WarehouseCount};
use crate::settings::ExportRules;
use crate::store::StoreConnection;

/// The plugin state key of where the change feed ended when End of Day
/// last read the warehouse's counts.
pub const FEED_STATE_KEY: &str = "end_of_day_feed";
/// Change-feed events read at a time while looking for its end.
const FEED_PAGE: u32 = 10_000;
/// Rounds of "orders came in while writing: import them, write again".
const RECHECK_ROUNDS: usize = 3;
/// Orders changed this long before the reads started are read again
/// after the writes (store clock; writes still committing in the store).
const RECHECK_MARGIN_MS: i64 = 60_000;

pub fn run(ctx: &Context, store: &StoreConnection) -> Result<JobReport, PluginError> {
    let options = ctx.run_options();
    let rules = ExportRules::from_settings(&ctx.settings()?);
    let facts = store.facts(ctx);
    // Read before the order import, which opens items only later than
    // those there are: the listing holds every order the plan may need.
    let since = {
        let before = stock_basis(ctx)?;
        holds::orders_after(before.values(), holds::first_opening(before.values())).flatten()
    };
    // Nothing can stop a forced run, or one without a limit, once its
    // counts are read: it writes each page's differences while the next
    // pages are read. Any other run first reads the whole catalogue, since
    // the safety limit is a share of all of it (module doc).
    let streams = !options.dry_run && (options.force || rules.max_change_percent >= 100);
    let mut report = JobReport::default();
    let mut written = HashSet::new();
    let (records, held, orders, side) = std::thread::scope(|scope| {
        let imported = import_beside(scope, ctx, store, options.dry_run);
        if streams {
            read_and_write(
                ctx,
                store,
                since,
                imported,
                rules.send_on_hand,
                &mut report,
                &mut written,
            )
        } else {
            let (records, held, orders) =
                store.read(ctx, "stock and the orders holding it", async {
                    tokio::try_join!(
                        read_stock(&store.client, facts.has_variations_route(), None),
                        read_held_orders(&store.client, Scope::Full, since),
                        imported,
                    )
                })?;
            let side = WarehouseSide::now(ctx, &by_id(&held))?;
            Ok((records, held, orders, side))
        }
    })?;
    let started_at = held.started_at;
    let mut held: HashMap<u64, Order> = held.records.into_iter().map(|o| (o.id, o)).collect();
    let mut plan = stock::plan(&records, &side.counts, &side.holds, rules.send_on_hand);
    let mut feed_end = side.feed_end;
    // What the pushes until the next End of Day need to read of the orders.
    let checkpoint = started_at.map(|t| {
        HeldOrdersCheckpoint::after_full_read(
            since,
            t.as_millisecond() - RECHECK_MARGIN_MS,
            held.values(),
            &side.copies,
        )
    });
    drop(side);
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
            .filter(|o| is_news(o, held.get(&o.id)) && may_hold(o, since) && touches(o, &written))
            .collect();
        // Items the warehouse's side moved since its counts were read.
        let moved = push_stock::changes_after(ctx, feed_end, rules.send_on_hand)?;
        feed_end = moved.cursor;
        if touching.is_empty() && moved.items.is_empty() {
            break;
        }
        rechecks += 1;
        if !touching.is_empty() {
            import_orders::run(ctx, store)?;
        }
        let basis = stock_basis(ctx)?;
        let mut items = touched(&touching, &written);
        items.extend(&moved.items);
        let (products, parents) = where_to_recheck(&records, &items);
        held.extend(touching.into_iter().map(|o| (o.id, o)));
        let again = store.read(
            ctx,
            "the counts those orders touch",
            push_stock::read_stock(&store.client, products, parents),
        )?;
        plan = self::plan(ctx, &again, &held, &basis, rules.send_on_hand)?;
        let rewritable = rechecked(&again, &written, &moved.items);
        plan.writes.retain(|w| rewritable.contains(&w.store_id));
    }
    ctx.put_state(FEED_STATE_KEY, &feed_end)?;
    if let Some(checkpoint) = &checkpoint {
        ctx.put_state(held_orders::STATE_KEY, checkpoint)?;
    }
    let again = if rechecks > 0 {
        format!(
            "; what changed meanwhile (orders placed, the warehouse's moves) was checked again {rechecks} times"
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

/// Starts the order import on a thread of its own beside the reads (none
/// in a dry run); the future ends with its summary once it is done.
fn import_beside<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    ctx: &'scope Context,
    store: &'scope StoreConnection,
    dry_run: bool,
) -> impl Future<Output = Result<String, PluginError>> + 'scope {
    let (done, imported) = tokio::sync::oneshot::channel();
    if dry_run {
        let _ = done.send(Ok("orders not imported (dry run)".to_owned()));
    } else {
        scope.spawn(move || {
            let summary =
                import_orders::run(ctx, store).map(|r| format!("orders first: {}", r.summary));
            // The receiver goes only when the reads failed.
            let _ = done.send(summary);
        });
    }
    async move {
        imported
            .await
            .unwrap_or_else(|_| Err(PluginError::other("the order import ended abnormally")))
    }
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

/// The warehouse's side of a plan of the whole catalogue.
struct WarehouseSide {
    /// Where the change feed ended just before the counts were read.
    feed_end: i64,
    /// Every active, stocked item's count.
    counts: Vec<WarehouseCount>,
    /// What the store holds for orders the warehouse does not have.
    holds: Holds,
    /// The warehouse's copies of the orders holding stock, by store id.
    copies: HashMap<u64, WarehouseOrder>,
}

impl WarehouseSide {
    /// As the warehouse is now, against the orders in `held`.
    fn now(ctx: &Context, held: &HashMap<u64, Order>) -> Result<Self, PluginError> {
        let feed_end = feed_end(ctx)?;
        let basis = stock_basis(ctx)?;
        let copies = warehouse_copies(ctx, held)?;
        Ok(Self {
            feed_end,
            counts: counts_of(ctx, ctx.db().quantities(None)?, &basis)?,
            holds: holds_against(held, &copies, &basis),
            copies,
        })
    }
}

/// Where the change feed ends now, looked for from the furthest of the
/// push's cursor and the end End of Day noted last.
fn feed_end(ctx: &Context) -> Result<i64, PluginError> {
    let noted = ctx.state::<i64>(FEED_STATE_KEY)?.unwrap_or(0);
    let mut cursor = noted.max(push_stock::cursor(ctx)?);
    loop {
        let page = ctx.db().changes_after(cursor, FEED_PAGE)?;
        cursor = page.cursor;
        if page.events.len() < FEED_PAGE as usize {
            return Ok(cursor);
        }
    }
}

/// The orders of a listing by id.
fn by_id(listing: &Listing<Order>) -> HashMap<u64, Order> {
    listing.records.iter().map(|o| (o.id, o.clone())).collect()
}

/// The plan of these records against the warehouse as it is now: their
/// items' counts, and what the store holds for the orders in `held`.
fn plan(
    ctx: &Context,
    records: &[StockRecord],
    held: &HashMap<u64, Order>,
    basis: &HashMap<u64, StockBasis>,
    send_on_hand: bool,
) -> Result<StockPlan, PluginError> {
    let refs: Vec<ItemRef> = records
        .iter()
        .map(|r| ItemRef::ExternalId(r.id.to_string()))
        .collect();
    let counts = counts_of(ctx, ctx.db().quantities(Some(&refs))?, basis)?;
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
    Ok(holds_against(held, &warehouse_copies(ctx, held)?, basis))
}

/// [`holds`] with the warehouse's copies already read.
fn holds_against(
    held: &HashMap<u64, Order>,
    copies: &HashMap<u64, WarehouseOrder>,
    basis: &HashMap<u64, StockBasis>,
) -> Holds {
    let first = holds::first_opening(basis.values());
    store_holds(held.values(), copies, |item| {
        holds::holding_since(basis.get(&item)?, first)
    })
}

/// The warehouse's copies of the orders of `held` with stock taken out,
/// by store order id (the others hold nothing whatever the warehouse has).
fn warehouse_copies(
    ctx: &Context,
    held: &HashMap<u64, Order>,
) -> Result<HashMap<u64, WarehouseOrder>, PluginError> {
    let holding: Vec<u64> = held
        .values()
        .filter(|o| {
            o.line_items
                .iter()
                .any(|l| crate::mapping::orders::reduced_stock(l).is_some())
        })
        .map(|o| o.id)
        .collect();
    let ids: Vec<String> = holding.iter().map(u64::to_string).collect();
    Ok(ctx
        .db()
        .orders(&ids)?
        .into_iter()
        .zip(holding)
        .filter_map(|(copy, order)| Some((order, copy?)))
        .collect())
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

/// Whether the order may hold stock at all: placed after `since` (every
/// order with `None`), as the listing of the held orders reads them. An
/// order placed before every opening holds nothing
/// ([`crate::mapping::holds`]).
fn may_hold(order: &Order, since: Option<i64>) -> bool {
    match (since, order.date_created_gmt) {
        (Some(since), Some(placed)) => placed.as_millisecond() > since,
        _ => true,
    }
}

/// The items End of Day wrote that these orders' lines touch (a pooled
/// variation's line touches its parent).
fn touched(orders: &[Order], written: &HashSet<u64>) -> BTreeSet<u64> {
    orders
        .iter()
        .flat_map(|o| &o.line_items)
        .flat_map(|line| [product_id(line), line.product_id])
        .filter(|id| written.contains(id))
        .collect()
}

/// The counts a recheck may write: those End of Day wrote, and those of
/// the items the warehouse's side moved (a pooled variation's through its
/// parent's).
fn rechecked(
    records: &[StockRecord],
    written: &HashSet<u64>,
    moved: &BTreeSet<u64>,
) -> HashSet<u64> {
    let pools = records
        .iter()
        .filter(|r| r.manage_stock == ManageStock::Parent && moved.contains(&r.id))
        .map(|r| r.parent_id);
    written.iter().chain(moved).copied().chain(pools).collect()
}

/// What to read again for these items, by the records first read: the
/// products (a simple product, a pool's parent), and the variable products
/// whose variations to list (a variation's, a pool's).
fn where_to_recheck(records: &[StockRecord], items: &BTreeSet<u64>) -> (Vec<u64>, Vec<u64>) {
    let mut products = BTreeSet::new();
    let mut parents = BTreeSet::new();
    for record in records.iter().filter(|r| items.contains(&r.id)) {
        if record.kind == ProductType::Variation {
            parents.insert(record.parent_id);
        } else {
            products.insert(record.id);
        }
    }
    parents.extend(
        records
            .iter()
            .filter(|r| r.manage_stock == ManageStock::Parent && products.contains(&r.parent_id))
            .map(|r| r.parent_id),
    );
    (
        products.into_iter().collect(),
        parents.into_iter().collect(),
    )
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
) -> Result<Listing<Order>, PluginError> {
    let created_after = since_ms.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok());
    client
        .list_held_orders(scope, created_after)
        .await
        .map_err(PluginError::other)
}

/// The store's counts: every product's, and every variation's (side by
/// side where the store lists every variation at once, else each variable
/// product's after the products); each record also goes to `sink` as its
/// page arrives.
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
    let listed = |listing: Result<Listing<StockRecord>, woo_client::Error>| {
        listing.map(|l| l.records).map_err(PluginError::other)
    };
    let products = async { listed(client.list_product_stock(tee(as_read, 0)).await) };
    if variations_route {
        // Every variation names its product: both listings side by side.
        let (mut records, variations) = tokio::try_join!(products, async {
            listed(client.list_all_variation_stock(tee(as_read, 0)).await)
        })?;
        records.extend(variations);
        return Ok(records);
    }
    let mut records = products.await?;
    let variable: Vec<u64> = records
        .iter()
        .filter(|r| r.kind == ProductType::Variable)
        .map(|r| r.id)
        .collect();
    let listings = concurrently(client, variable, |client, id| {
        let map = tee(as_variation_of, id);
        async move { Ok(client.list_variation_stock(id, map).await?.records) }
    })
    .await?;
    records.extend(listings.into_iter().flatten());
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
/// counted product's or variation's difference as soon as its page, the
/// orders and the order import (`imported`) are in, 100 a batch by route,
/// at most the connection's concurrency of batches at once: a product
/// batch when it is full, a variable product's batch once all its
/// variations are read (pools wait: a pool's count is the sum of
/// variations read anywhere in the catalogue). Only for a run the safety
/// limit cannot stop. What it wrote is tallied into `report` and
/// `written`; it returns the records, the held orders and the import's
/// summary.
fn read_and_write(
    ctx: &Context,
    store: &StoreConnection,
    since: Option<i64>,
    imported: impl Future<Output = Result<String, PluginError>>,
    send_on_hand: bool,
    report: &mut JobReport,
    written: &mut HashSet<u64>,
) -> Result<(Vec<StockRecord>, Listing<Order>, String, WarehouseSide), PluginError> {
    let client = &store.client;
    let variations_route = store.facts(ctx).has_variations_route();
    let (sink, mut read) = tokio::sync::mpsc::unbounded_channel::<StockRecord>();
    let mut batches = StreamedBatches::new(client);
    let (records, (held, orders, side)) = store.read(
        ctx,
        "stock and the orders holding it, writing what differs",
        async {
            let stock = read_stock(client, variations_route, Some(sink));
            let write = async {
                let (held, orders) =
                    tokio::try_join!(read_held_orders(client, Scope::Full, since), imported)?;
                // After the import: the items it opened are in.
                let side = WarehouseSide::now(ctx, &by_id(&held))?;
                let counts: HashMap<u64, &WarehouseCount> =
                    side.counts.iter().map(|c| (c.store_id, c)).collect();
                let mut variations = VariationsRead::default();
                let mut planned = 0;
                while let Some(record) = read.recv().await {
                    let complete = variations.read(&record);
                    if let Some(count) = counts
                        .get(&record.id)
                        .filter(|_| record.manage_stock == ManageStock::Yes && !batches.stopped)
                    {
                        // Asked of the host once a batch's worth of counts.
                        if planned % BATCH_LIMIT == 0 {
                            batches.stopped = ctx.is_cancelled();
                        }
                        planned += 1;
                        let plan = stock::plan(
                            std::slice::from_ref(&record),
                            std::slice::from_ref(*count),
                            &side.holds,
                            send_on_hand,
                        );
                        for write in plan.writes {
                            batches.push(write);
                        }
                    }
                    if let Some(parent) = complete {
                        batches.flush(Route::Variations { parent });
                    }
                }
                drop(counts);
                Ok::<_, PluginError>((held, orders, side))
            };
            tokio::try_join!(stock, write)
        },
    )?;
    let outcomes = store.runtime.block_on(batches.finish())?;
    report.stopped |= batches.stopped;
    tally(&outcomes, &batches.numbers, report);
    written.extend(batches.numbers.keys());
    Ok((records, held, orders, side))
}

/// Which variable products have had every variation read, from records
/// arriving in any order: a product's record names its variations
/// (`variations`), and a variation's record its product.
#[derive(Default)]
struct VariationsRead {
    /// Variations still to come, by variable product whose record is in.
    awaited: HashMap<u64, HashSet<u64>>,
    /// Variations read before their product's record.
    early: HashMap<u64, HashSet<u64>>,
}

impl VariationsRead {
    /// Takes one record in; the variable product whose variations it
    /// completes, if it does (a product without variations, or whose
    /// variations were all read before it, completes with its own record).
    fn read(&mut self, record: &StockRecord) -> Option<u64> {
        if record.kind == ProductType::Variable {
            let early = self.early.remove(&record.id).unwrap_or_default();
            let awaited: HashSet<u64> = record
                .variations
                .iter()
                .copied()
                .filter(|id| !early.contains(id))
                .collect();
            if awaited.is_empty() {
                return Some(record.id);
            }
            self.awaited.insert(record.id, awaited);
            return None;
        }
        if record.kind != ProductType::Variation || record.parent_id == 0 {
            return None;
        }
        let parent = record.parent_id;
        let Some(awaited) = self.awaited.get_mut(&parent) else {
            self.early.entry(parent).or_default().insert(record.id);
            return None;
        };
        awaited.remove(&record.id);
        if !awaited.is_empty() {
            return None;
        }
        self.awaited.remove(&parent);
        Some(parent)
    }
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
            self.flush(write.route);
        }
    }

    /// Sends what the route has filling, unless cancelled.
    fn flush(&mut self, route: Route) {
        let Some(moves) = self.filling.remove(&route) else {
            return;
        };
        if self.stopped || moves.is_empty() {
            return;
        }
        let client = self.client.clone();
        let limit = Arc::clone(&self.limit);
        self.sent.spawn(async move {
            let _permit = limit.acquire_owned().await;
            send_batch(&client, route, &moves).await
        });
    }

    /// Sends what is still filling and waits for every batch.
    async fn finish(&mut self) -> Result<Vec<BatchItem>, PluginError> {
        let routes: Vec<Route> = self.filling.keys().copied().collect();
        for route in routes {
            self.flush(route);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: u64, kind: &str, parent: u64, variations: &[u64]) -> StockRecord {
        serde_json::from_value(serde_json::json!({
            "id": id, "type": kind, "parent_id": parent, "manage_stock": true,
            "stock_quantity": 1, "variations": variations,
        }))
        .unwrap()
    }

    #[test]
    fn a_variable_product_is_complete_once_its_variations_are_read_in_any_order() {
        let mut read = VariationsRead::default();
        assert_eq!(read.read(&record(11, "variation", 10, &[])), None);
        assert_eq!(read.read(&record(10, "variable", 0, &[11, 12, 13])), None);
        assert_eq!(read.read(&record(20, "simple", 0, &[])), None);
        assert_eq!(read.read(&record(13, "variation", 10, &[])), None);
        assert_eq!(read.read(&record(12, "variation", 10, &[])), Some(10));
        // All read before the product's record: complete with it.
        assert_eq!(read.read(&record(31, "variation", 30, &[])), None);
        assert_eq!(read.read(&record(30, "variable", 0, &[31])), Some(30));
        // No variation ids (an older store): complete at once, its
        // variations' batch then waits for the end of the reads.
        assert_eq!(read.read(&record(40, "variable", 0, &[])), Some(40));
        assert_eq!(read.read(&record(41, "variation", 40, &[])), None);
    }

    #[test]
    fn an_order_placed_before_every_opening_holds_nothing() {
        let order = |placed: &str| -> Order {
            serde_json::from_value(serde_json::json!({
                "id": 1, "status": "processing", "date_created_gmt": placed, "line_items": [],
            }))
            .unwrap()
        };
        let since = "2026-12-01T00:00:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_millisecond();
        assert!(!may_hold(&order("2026-11-30T23:59:59"), Some(since)));
        assert!(!may_hold(&order("2026-12-01T00:00:00"), Some(since)));
        assert!(may_hold(&order("2026-12-01T00:00:01"), Some(since)));
        assert!(may_hold(&order("2020-01-01T00:00:00"), None));
    }

    #[test]
    fn a_recheck_reads_the_written_items_and_the_pools_they_share() {
        let mut pooled = record(51, "variation", 50, &[]);
        pooled.manage_stock = ManageStock::Parent;
        let records = [
            record(1, "simple", 0, &[]),
            record(2, "simple", 0, &[]),
            record(10, "variable", 0, &[11, 12]),
            record(11, "variation", 10, &[]),
            record(12, "variation", 10, &[]),
            record(50, "variable", 0, &[51]),
            pooled,
        ];
        let items = BTreeSet::from([1, 12, 50]);
        assert_eq!(
            where_to_recheck(&records, &items),
            (vec![1, 50], vec![10, 50])
        );
    }

    #[test]
    fn a_recheck_may_write_what_it_wrote_and_what_the_warehouse_moved() {
        let mut pooled = record(51, "variation", 50, &[]);
        pooled.manage_stock = ManageStock::Parent;
        let records = [
            record(1, "simple", 0, &[]),
            record(2, "simple", 0, &[]),
            record(3, "simple", 0, &[]),
            record(11, "variation", 10, &[]),
            pooled,
        ];
        let written = HashSet::from([1]);
        let moved = BTreeSet::from([2, 11, 51]);
        let mut may = Vec::from_iter(rechecked(&records, &written, &moved));
        may.sort();
        assert_eq!(
            may,
            [1, 2, 11, 50, 51],
            "a pooled variation's parent keeps its count; 3 did not move"
        );
    }
}
