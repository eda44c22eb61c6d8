//! `end-of-day`: the warehouse's quantity of every item -> the store's
//! stock counts, once a day.
//!
//! It first imports orders (so that what was ordered since the last sync
//! is allocated), then reads the store's current counts (`_fields`: id,
//! type, manage_stock, stock_quantity) and writes only the counts that
//! differ: products through `products/batch`, variations through their
//! product's `variations/batch`, 100 a request. A safety limit stops it
//! from changing too large a share of the items unless forced; a dry run
//! shows the drift table and writes nothing (it does not import orders
//! either: it changes nothing anywhere).

use std::collections::BTreeMap;

use plugin_api::warehouse::{ItemKind, ItemRef};
use plugin_api::{Context, JobReport, PluginError};
use woo_client::WooClient;
use woo_client::model::{BatchItem, ProductType, StockRecord, StockUpdate};

use super::{concurrently, import_orders};
use crate::mapping::stock::{self, Route, StockPlan, WarehouseCount};
use crate::settings::ExportRules;
use crate::store::StoreConnection;

pub fn run(ctx: &Context, store: &StoreConnection) -> Result<JobReport, PluginError> {
    let options = ctx.run_options();
    let rules = ExportRules::from_settings(&ctx.settings()?);
    let orders = if options.dry_run {
        "orders not imported (dry run)".to_owned()
    } else {
        format!("orders first: {}", import_orders::run(ctx, store)?.summary)
    };
    let counts = warehouse_counts(ctx)?;
    let facts = store.facts(ctx);
    let records = store.read(
        ctx,
        "stock",
        read_stock(&store.client, facts.has_variations_route()),
    )?;
    let plan = stock::plan(&records, &counts, rules.send_on_hand);
    let mut report = JobReport::default();
    for (number, why) in &plan.unmanaged {
        report.skip(format!("item {number}"), why.clone());
    }
    for number in &plan.missing {
        report.skip(
            format!("item {number}"),
            "no longer in WooCommerce".to_owned(),
        );
    }
    let table = stock::drift_table(&plan, &counts, rules.send_on_hand);
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
    write(ctx, store, &plan, &mut report)?;
    report.summary = format!(
        "{} of {} items' counts differed and were sent, {} refused by WooCommerce, {} not counted by WooCommerce; {orders}",
        report.updated,
        plan.compared,
        report.failed,
        plan.unmanaged.len()
    );
    Ok(report)
}

/// The plugin's active, stocked items and their quantities.
fn warehouse_counts(ctx: &Context) -> Result<Vec<WarehouseCount>, PluginError> {
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
        .map(|((store_id, q), _)| WarehouseCount {
            store_id,
            number: q.item_number,
            on_hand: q.on_hand,
            available: q.available,
        })
        .collect())
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

/// Writes the counts that differ, by route, 100 a request; an item the
/// store refuses is reported (and tried again next run: it still differs).
fn write(
    ctx: &Context,
    store: &StoreConnection,
    plan: &StockPlan,
    report: &mut JobReport,
) -> Result<(), PluginError> {
    let mut routes: BTreeMap<Route, Vec<StockUpdate>> = BTreeMap::new();
    let mut numbers = BTreeMap::new();
    for write in &plan.writes {
        routes.entry(write.route).or_default().push(StockUpdate {
            id: write.store_id,
            stock_quantity: write.send,
        });
        numbers.insert(write.store_id, write.number.clone());
    }
    let total = plan.writes.len() as u64;
    for (route, updates) in routes {
        if ctx.is_cancelled() {
            report.stopped = true;
            break;
        }
        let client = &store.client;
        let outcomes = store
            .runtime
            .block_on(async {
                match route {
                    Route::Products => client.update_products_stock(&updates).await,
                    Route::Variations { parent } => {
                        client.update_variations_stock(parent, &updates).await
                    }
                }
            })
            .map_err(PluginError::other)?;
        for outcome in outcomes {
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
