//! `import-orders`: WooCommerce orders in the chosen statuses ->
//! IntelliTrack orders, once each, whatever the re-runs and overlaps.
//!
//! The first run walks every order in the import statuses by id; later
//! runs read the orders modified since the watermark in those statuses and
//! in the statuses that end an order (to cancel what IntelliTrack has). A
//! status added to the import statuses gets a full walk of its own. A line
//! whose product is not an item yet has that product imported in the same
//! transaction as the order.

use std::collections::{HashMap, HashSet};

use plugin_api::warehouse::{Import, ItemKind, ItemRef, OrderAnnotation};
use plugin_api::{Context, JobReport, PluginError};
use woo_client::model::{LineItem, Order, OrderRefund, Product, Variation};
use woo_client::{Error, Listing, Scope, WooClient};

use super::sync_state::{SyncState, advance};
use super::{apply, concurrently, id_filters};
use crate::mapping::orders::{
    ENDING_STATUSES, LineTarget, OrderVerdict, judge, line_key, order_record, product_id,
};
use crate::mapping::products::{Count, PlannedItem, plan, product_record};
use crate::mapping::refunds::{self, Refunded, refunded_by_line};
use crate::settings::ImportRules;
use crate::store::StoreConnection;

/// The plugin state key of the order import's progress.
pub const STATE_KEY: &str = "import_orders";
/// Orders written per transaction.
const CHUNK: usize = 500;

pub fn run(ctx: &Context, store: &StoreConnection) -> Result<JobReport, PluginError> {
    let rules = ImportRules::from_settings(&ctx.settings()?);
    let state: SyncState = ctx.state(STATE_KEY)?.unwrap_or_default();
    let now_ms = ctx.now_millis()?;
    let read = store.read(
        ctx,
        "orders",
        read(&store.client, &state, &rules.order_statuses),
    )?;
    let mut report = JobReport::default();
    for skipped in &read.unreadable {
        let record = skipped.id.map_or_else(
            || "an order without an id".into(),
            |id| format!("order {id}"),
        );
        report.fail(record, skipped.reason.clone());
    }
    let ids: Vec<String> = read.orders.iter().map(|o| o.id.to_string()).collect();
    let known: HashSet<String> = ctx
        .db()
        .orders(&ids)?
        .into_iter()
        .zip(&ids)
        .filter_map(|(order, id)| order.map(|_| id.clone()))
        .collect();
    let wanted: Vec<&Order> = read
        .orders
        .iter()
        .filter(|o| rules.order_statuses.contains(&o.status))
        .collect();
    let lines = resolve_lines(ctx, store, &wanted, &rules)?;
    let refunded = store.read(
        ctx,
        "refunds",
        read_refunds(&store.client, store.facts(ctx).has_refunds_route(), &wanted),
    )?;
    let mut imports = vec![Import {
        opening_stock: lines
            .new_items
            .iter()
            .filter_map(|i| {
                i.opening(Count {
                    counted_at_ms: now_ms,
                    rules: &rules,
                })
            })
            .collect(),
        batch: plugin_api::warehouse::ImportBatch {
            item_upserts: lines.new_items.iter().map(|i| i.upsert(&rules)).collect(),
            ..Default::default()
        },
        ..Import::default()
    }];
    let mut records = HashMap::new();
    let mut retry = Vec::new();
    let mut unshippable = Vec::new();
    let mut annotations = Vec::new();
    for order in &read.orders {
        let id = order.id.to_string();
        let verdict = judge(order, &rules.order_statuses, known.contains(&id), |line| {
            lines.target(line)
        });
        let record = order_record(order);
        let current = imports.last_mut().expect("one import at least");
        match verdict {
            OrderVerdict::Import(mut planned) => {
                let refunds = refunded
                    .get(&order.id)
                    .map(|r| refunds::apply(&mut planned, order, r))
                    .unwrap_or_default();
                annotations.push(OrderAnnotation {
                    external_id: id.clone(),
                    attention: (!planned.unshippable.is_empty())
                        .then(|| planned.unshippable.join("; ")),
                    refunded: refunds,
                });
                if !planned.unshippable.is_empty() {
                    // Told once, when it comes in; read again quietly.
                    if !known.contains(&id) {
                        report.fail(
                            record.clone(),
                            format!(
                                "{}; imported with the lines the warehouse can ship, the others kept not to ship: it needs attention",
                                planned.unshippable.join("; ")
                            ),
                        );
                    }
                    unshippable.push(order.id);
                }
                current.batch.order_upserts.push(planned.upsert);
                current.store_reductions.extend(planned.reductions);
                current.non_stock_lines.extend(planned.non_stock);
            }
            OrderVerdict::Cancel(cancellation) => {
                current.batch.order_cancellations.push(cancellation);
            }
            OrderVerdict::Ignore => continue,
            OrderVerdict::LeftOut(reason) => {
                report.skip(record, reason);
                continue;
            }
            OrderVerdict::Failed(reason) => {
                report.fail(record, format!("{reason}; tried again on every run"));
                retry.push(order.id);
                continue;
            }
        }
        records.insert(id, record);
        let current = imports.last().expect("one import at least");
        if current.batch.order_upserts.len() + current.batch.order_cancellations.len() >= CHUNK {
            imports.push(Import::default());
        }
    }
    let watermark = advance(state.watermark, read.newest, read.started_at);
    // Every order read is planned into `imports`: free the records.
    drop(read);
    let next = SyncState {
        watermark,
        last_full_ms: state.last_full_ms.or(Some(now_ms)),
        statuses: rules.order_statuses.clone(),
        retry,
        unshippable,
        ..SyncState::default()
    };
    let record = |id: &str| {
        records
            .get(id)
            .cloned()
            .unwrap_or_else(|| format!("product {id}"))
    };
    let total = records.len() as u64;
    let (mut done, mut cancelled, mut new_items) = (0, 0, 0);
    for mut import in imports {
        if ctx.is_cancelled() {
            report.stopped = true;
            break;
        }
        import.record_by_record = true;
        let outcome = apply(ctx, &import, &record, &mut report)?;
        report.created += outcome.summary.orders_created;
        report.updated += outcome.summary.orders_updated;
        cancelled += outcome.summary.orders_cancelled;
        new_items += outcome.summary.items_created;
        for exception in &outcome.exceptions {
            report.fail(
                record(&exception.external_id),
                format!("{}; kept in IntelliTrack as an exception", exception.reason),
            );
        }
        done += (import.batch.order_upserts.len() + import.batch.order_cancellations.len()) as u64;
        ctx.progress(done, Some(total), "orders imported");
        ctx.report_counts(&report);
    }
    if !report.stopped {
        ctx.db().annotate_orders(&annotations)?;
        // The watermark moves last, once the orders and what the store
        // said of them (refunded units, attention) are all in: a run that
        // ends before this, killed or refused, reads the same orders again.
        let progress = Import {
            batch: plugin_api::warehouse::ImportBatch {
                state_changes: vec![next.change(STATE_KEY)],
                ..Default::default()
            },
            ..Import::default()
        };
        apply(ctx, &progress, &record, &mut report)?;
    }
    report.summary = format!(
        "{} orders created, {} updated, {cancelled} cancelled, {} left out, {} failed; {new_items} items created for their lines",
        report.created, report.updated, report.skipped, report.failed
    );
    Ok(report)
}

/// What one run read.
struct Read {
    /// Each order once (its newest reading), oldest change first.
    orders: Vec<Order>,
    unreadable: Vec<woo_client::SkippedRecord>,
    newest: Option<jiff::Timestamp>,
    started_at: Option<jiff::Timestamp>,
}

fn as_strs(list: &[String]) -> Vec<&str> {
    list.iter().map(String::as_str).collect()
}

async fn read(
    client: &WooClient,
    state: &SyncState,
    statuses: &[String],
) -> Result<Read, PluginError> {
    let mut listings = Vec::new();
    match state.modified_after() {
        None => listings.push(
            client
                .list_orders(&as_strs(statuses), Scope::Full)
                .await
                .map_err(PluginError::other)?,
        ),
        Some(after) => {
            let added: Vec<String> = statuses
                .iter()
                .filter(|s| !state.statuses.contains(s))
                .cloned()
                .collect();
            let mut watched = statuses.to_vec();
            watched.extend(
                ENDING_STATUSES
                    .iter()
                    .filter(|s| !statuses.iter().any(|w| w == *s))
                    .map(|s| (*s).to_owned()),
            );
            listings.push(
                client
                    .list_orders(&as_strs(&watched), Scope::ModifiedAfter(after))
                    .await
                    .map_err(PluginError::other)?,
            );
            if !added.is_empty() {
                listings.push(
                    client
                        .list_orders(&as_strs(&added), Scope::Full)
                        .await
                        .map_err(PluginError::other)?,
                );
            }
        }
    }
    let again: Vec<u64> = state
        .retry
        .iter()
        .chain(&state.unshippable)
        .copied()
        .collect();
    for ids in super::id_filters(&again) {
        listings.push(
            client
                .list_orders_by_id(&ids)
                .await
                .map_err(PluginError::other)?,
        );
    }
    let started_at = listings[0].started_at;
    let mut by_id: HashMap<u64, Order> = HashMap::new();
    let mut unreadable = Vec::new();
    let mut newest = None;
    for listing in listings {
        unreadable.extend(listing.skipped);
        for order in listing.records {
            newest = newest.max(order.date_modified_gmt);
            match by_id.get(&order.id) {
                Some(seen) if seen.date_modified_gmt >= order.date_modified_gmt => {}
                _ => {
                    by_id.insert(order.id, order);
                }
            }
        }
    }
    let mut orders: Vec<Order> = by_id.into_values().collect();
    orders.sort_by_key(|o| (o.date_modified_gmt, o.id));
    Ok(Read {
        orders,
        unreadable,
        newest,
        started_at,
    })
}

/// What was refunded of each order that has refunds, by order id: 100
/// refunds a request on stores that list them across orders, else one
/// request an order. Orders without refunds cost nothing.
async fn read_refunds(
    client: &WooClient,
    refunds_route: bool,
    orders: &[&Order],
) -> Result<HashMap<u64, Refunded>, PluginError> {
    let refunded: Vec<&Order> = orders
        .iter()
        .copied()
        .filter(|o| !o.refunds.is_empty())
        .collect();
    let listings = if refunds_route {
        let ids: Vec<u64> = refunded
            .iter()
            .flat_map(|o| o.refunds.iter().map(|r| r.id))
            .collect();
        concurrently(client, id_filters(&ids), |client, ids| async move {
            client.list_refunds_by_id(&ids).await
        })
        .await?
    } else {
        let ids: Vec<u64> = refunded.iter().map(|o| o.id).collect();
        concurrently(client, ids, |client, id| async move {
            client.list_order_refunds(id).await
        })
        .await?
    };
    let mut by_order: HashMap<u64, Vec<OrderRefund>> = HashMap::new();
    for refund in listings.into_iter().flat_map(|l| l.records) {
        by_order.entry(refund.parent_id).or_default().push(refund);
    }
    Ok(by_order
        .into_iter()
        .map(|(order, refunds)| (order, refunded_by_line(&refunds)))
        .collect())
}

/// What each line's product is in the warehouse, and the items this run
/// imports for lines whose product was not one yet.
struct Lines {
    /// By the line's variation id, else product id.
    targets: HashMap<u64, LineTarget>,
    new_items: Vec<PlannedItem>,
}

impl Lines {
    fn target(&self, line: &LineItem) -> LineTarget {
        self.targets
            .get(&product_id(line))
            .cloned()
            .unwrap_or_else(|| LineTarget::Unknown("the product was not found".into()))
    }
}

fn resolve_lines(
    ctx: &Context,
    store: &StoreConnection,
    orders: &[&Order],
    rules: &ImportRules,
) -> Result<Lines, PluginError> {
    let mut lines: HashMap<u64, &LineItem> = HashMap::new();
    for order in orders {
        for line in &order.line_items {
            lines.entry(product_id(line)).or_insert(line);
        }
    }
    let ids: Vec<u64> = lines.keys().copied().collect();
    let by_id: Vec<ItemRef> = ids
        .iter()
        .map(|id| ItemRef::ExternalId(id.to_string()))
        .collect();
    let found = ctx.db().items(&by_id)?;
    let mut targets = HashMap::new();
    let mut missing = Vec::new();
    for (id, item) in ids.iter().zip(found) {
        match item {
            Some(item) if item.kind == ItemKind::Variable => {
                targets.insert(*id, variable_parent(&item.number));
            }
            Some(_) => {
                targets.insert(*id, LineTarget::Item(ItemRef::ExternalId(id.to_string())));
            }
            None => missing.push(*id),
        }
    }
    // Then by SKU: an item the warehouse has under that number.
    let skus: Vec<(u64, String)> = missing
        .iter()
        .filter_map(|id| {
            let sku = lines[id].sku.as_deref()?.trim();
            (!sku.is_empty()).then(|| (*id, sku.to_owned()))
        })
        .collect();
    let by_sku: Vec<ItemRef> = skus
        .iter()
        .map(|(_, s)| ItemRef::Number(s.clone()))
        .collect();
    for ((id, sku), item) in skus.iter().zip(ctx.db().items(&by_sku)?) {
        // A variation without its own SKU shows its parent's: never ship
        // a line as the variable product, which holds no stock.
        let target = match item {
            Some(item) if item.kind == ItemKind::Variable => variable_parent(&item.number),
            Some(_) => LineTarget::Item(ItemRef::Number(sku.clone())),
            None => continue,
        };
        targets.insert(*id, target);
    }
    missing.retain(|id| !targets.contains_key(id));
    let wanted: Vec<(u64, u64)> = missing
        .iter()
        .map(|id| (lines[id].product_id, lines[id].variation_id))
        .collect();
    let fetched = store
        .runtime
        .block_on(fetch_products(&store.client, &wanted))?;
    let Fetched {
        products,
        variations,
        not_shipped,
        gone,
    } = fetched;
    let catalogue = plan(products, variations, rules);
    let planned: HashSet<String> = catalogue.items().map(|i| i.id.to_string()).collect();
    let reasons: HashMap<String, String> = catalogue
        .left_out
        .iter()
        .chain(&catalogue.duplicates)
        .map(|l| (l.external_id.clone(), format!("{}: {}", l.record, l.reason)))
        .collect();
    for id in missing {
        let key = id.to_string();
        let target = if planned.contains(&key) {
            LineTarget::Item(ItemRef::ExternalId(key))
        } else if let Some(description) = not_shipped.get(&id) {
            LineTarget::NotShipped {
                description: description.clone(),
            }
        } else if let Some(reason) = reasons.get(&key) {
            LineTarget::Unknown(format!("{reason}; it is not an item"))
        } else {
            LineTarget::Unknown(
                gone.get(&id)
                    .cloned()
                    .unwrap_or_else(|| format!("product {id} is not an item")),
            )
        };
        targets.insert(id, target);
    }
    Ok(Lines {
        targets,
        new_items: catalogue.groups.into_iter().flatten().collect(),
    })
}

/// A line whose product resolves to a variable product's item: that item
/// holds no stock, so the line cannot be shipped as it.
fn variable_parent(number: &str) -> LineTarget {
    LineTarget::Unknown(format!(
        "its variation is not an item (no SKU of its own), and the variable product {number} holds no stock"
    ))
}

/// Products fetched for lines whose product is not an item yet.
#[derive(Default)]
struct Fetched {
    products: Vec<Product>,
    variations: HashMap<u64, Vec<Variation>>,
    /// Virtual or downloadable: kept on the order, not shipped.
    not_shipped: HashMap<u64, String>,
    /// Could not be read, with why.
    gone: HashMap<u64, String>,
}

/// The listings' records by id; each record a listing could not read goes
/// to `unreadable` as "`what` ID cannot be read: REASON".
fn by_id<T>(
    listings: Vec<Listing<T>>,
    what: &str,
    id: impl Fn(&T) -> u64,
    unreadable: &mut HashMap<u64, String>,
) -> HashMap<u64, T> {
    let mut records = HashMap::new();
    for listing in listings {
        for skipped in listing.skipped {
            if let Some(skipped_id) = skipped.id {
                unreadable.insert(
                    skipped_id,
                    format!("{what} {skipped_id} cannot be read: {}", skipped.reason),
                );
            }
        }
        records.extend(listing.records.into_iter().map(|r| (id(&r), r)));
    }
    records
}

/// Reads the products the lines need: 100 products a request, then each
/// variable product's wanted variations in one listing. An id a listing
/// does not return is trashed or deleted: it is asked for on its own, to
/// tell which.
async fn fetch_products(client: &WooClient, wanted: &[(u64, u64)]) -> Result<Fetched, PluginError> {
    let mut product_ids: Vec<u64> = wanted.iter().map(|(product, _)| *product).collect();
    product_ids.sort_unstable();
    product_ids.dedup();
    let listings = concurrently(client, id_filters(&product_ids), |client, ids| async move {
        client.list_products_by_id(&ids).await
    })
    .await?;
    let mut gone: HashMap<u64, String> = HashMap::new();
    let mut products = by_id(listings, "product", |p: &Product| p.id, &mut gone);
    let unlisted: Vec<u64> = product_ids
        .iter()
        .filter(|id| !products.contains_key(id) && !gone.contains_key(id))
        .copied()
        .collect();
    for (id, looked) in concurrently(client, unlisted, |client, id| async move {
        match client.get_product(id).await {
            Ok(product) => Ok((id, Ok(product))),
            Err(e) if is_not_found(&e) => Ok((
                id,
                Err(format!("product {id} no longer exists in WooCommerce")),
            )),
            Err(e) => Err(e),
        }
    })
    .await?
    {
        match looked {
            Ok(product) => {
                products.insert(id, product);
            }
            Err(why) => {
                gone.insert(id, why);
            }
        }
    }
    let mut variation_ids: HashMap<u64, Vec<u64>> = HashMap::new();
    for &(product, variation) in wanted {
        if variation != 0 && products.contains_key(&product) {
            variation_ids.entry(product).or_default().push(variation);
        }
    }
    let per_parent: Vec<(u64, Vec<u64>)> = variation_ids
        .into_iter()
        .flat_map(|(parent, ids)| id_filters(&ids).into_iter().map(move |ids| (parent, ids)))
        .collect();
    let listings = concurrently(client, per_parent, |client, (parent, ids)| async move {
        client.list_variations_by_id(parent, &ids).await
    })
    .await?;
    let mut variations = by_id(listings, "variation", |v: &Variation| v.id, &mut gone);
    let mut fetched = Fetched::default();
    let mut parents = HashSet::new();
    for &(product_id, variation_id) in wanted {
        let Some(product) = products.get(&product_id) else {
            let why = gone
                .get(&product_id)
                .cloned()
                .unwrap_or_else(|| format!("product {product_id} no longer exists in WooCommerce"));
            fetched.gone.insert(line_key(product_id, variation_id), why);
            continue;
        };
        if variation_id == 0 {
            if product.is_virtual || product.downloadable {
                fetched.not_shipped.insert(
                    product_id,
                    not_shipped_description(&product.name, product.is_virtual),
                );
            }
            if parents.insert(product_id) {
                fetched.products.push(product.clone());
            }
            continue;
        }
        let Some(variation) = variations.remove(&variation_id) else {
            let why = gone.get(&variation_id).cloned().unwrap_or_else(|| {
                format!(
                    "variation {variation_id} of {} no longer exists in WooCommerce",
                    product_record(product)
                )
            });
            fetched.gone.insert(variation_id, why);
            continue;
        };
        if variation.is_virtual || variation.downloadable {
            fetched.not_shipped.insert(
                variation_id,
                not_shipped_description(&variation.name, variation.is_virtual),
            );
        }
        fetched
            .variations
            .entry(product_id)
            .or_default()
            .push(variation);
        if parents.insert(product_id) {
            fetched.products.push(product.clone());
        }
    }
    Ok(fetched)
}

fn not_shipped_description(name: &str, is_virtual: bool) -> String {
    let kind = if is_virtual {
        "virtual"
    } else {
        "downloadable"
    };
    format!("{name} ({kind}, not shipped)")
}

fn is_not_found(error: &Error) -> bool {
    matches!(error, Error::Status { status: 404, .. })
}
