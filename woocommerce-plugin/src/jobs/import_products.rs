//! `import-products`: WooCommerce products and variations -> IntelliTrack
//! items, with unit cost and, for the items it creates, opening stock.
//!
//! The first run (and one a day after) walks the whole catalogue by id and
//! deactivates the items whose products are gone; the others read only
//! what changed since the watermark (`modified_after`, GMT: the store's
//! time when the last complete listing began, less a minute), the trash
//! included, and the variations of the variable
//! products that changed (changing a variation bumps its parent): on
//! WooCommerce 10.3 and later a page of those products a request
//! (`GET /wc/v3/variations?parent=`), else one request a product.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use jiff::Timestamp;
use plugin_api::warehouse::{Import, ItemRef};
use plugin_api::{Context, JobReport, PluginError};
use woo_client::model::{Product, ProductType, Variation};
use woo_client::{Products, RecordMap, Scope, SkippedRecord, Variations, WooClient};

use super::sync_state::{SyncState, advance};
use super::{apply, concurrently, id_filters};
use crate::mapping::products::{
    Catalogue, Count, JudgedProduct, LeftOut, Parent, PlannedItem, assemble, judge_product,
    judge_variation, pools_to_count,
};
use crate::settings::ImportRules;
use crate::store::StoreConnection;

/// The plugin state key of the product import's progress.
pub const STATE_KEY: &str = "import_products";
/// A full walk (which also finds deleted products) at least this often.
const FULL_WALK_EVERY_MS: i64 = 24 * 60 * 60 * 1000;
/// Items written per transaction.
const CHUNK: usize = 500;

pub fn run(ctx: &Context, store: &StoreConnection) -> Result<JobReport, PluginError> {
    let rules = Arc::new(ImportRules::from_settings(&ctx.settings()?));
    let state: SyncState = ctx.state(STATE_KEY)?.unwrap_or_default();
    let now_ms = ctx.now_millis()?;
    let rules_key = rules.products_key();
    let full = match (state.modified_after(), state.last_full_ms) {
        (Some(after), Some(last))
            if now_ms - last < FULL_WALK_EVERY_MS && state.rules == rules_key =>
        {
            Scope::ModifiedAfter(after)
        }
        _ => Scope::Full,
    };
    let facts = store.facts(ctx);
    let read = store.read(
        ctx,
        "products",
        read(
            &store.client,
            full,
            facts.has_variations_route(),
            Arc::clone(&rules),
        ),
    )?;
    let count = Count {
        counted_at_ms: read.started_at.map_or(now_ms, |t| t.as_millisecond()),
        rules: &rules,
    };
    let Read {
        products,
        variations,
        unreadable,
        newest,
        started_at,
        seen,
    } = read;
    let catalogue = assemble(products, variations);
    let mut report = JobReport::default();
    for skipped in &unreadable {
        report.fail(unreadable_record(skipped), skipped.reason.clone());
    }
    for left_out in &catalogue.left_out {
        report.skip(left_out.record.clone(), left_out.reason.clone());
    }
    for duplicate in &catalogue.duplicates {
        report.fail(duplicate.record.clone(), duplicate.reason.clone());
    }
    let deactivations = deactivations(ctx, &seen, &catalogue, full == Scope::Full)?;
    let next = SyncState {
        watermark: advance(state.watermark, newest, started_at),
        last_full_ms: if full == Scope::Full {
            Some(now_ms)
        } else {
            state.last_full_ms
        },
        rules: rules_key,
        ..SyncState::default()
    };
    drop(seen);
    let mut report = write(ctx, &catalogue, count, deactivations, next, &mut report)?;
    let pools = pools_not_counted(ctx, &catalogue)?;
    if !pools.is_empty() {
        report.summary = format!("{}; {}", report.summary, pools.join("; "));
    }
    Ok(report)
}

/// The pools (variations sharing their product's count) the warehouse has
/// yet to count: End of Day leaves their count alone until it has.
fn pools_not_counted(ctx: &Context, catalogue: &Catalogue) -> Result<Vec<String>, PluginError> {
    if !catalogue.items().any(|i| i.shared_count.is_some()) {
        return Ok(Vec::new());
    }
    let counted: HashSet<u64> = ctx
        .db()
        .stock_basis()?
        .into_iter()
        .filter(|b| b.counted)
        .filter_map(|b| b.external_id.parse().ok())
        .collect();
    Ok(pools_to_count(catalogue.items(), |id| {
        counted.contains(&id)
    }))
}

/// Everything one run read from the store, each record judged as its
/// page arrived (the records themselves are not kept).
struct Read {
    products: Vec<JudgedProduct>,
    /// By variable product id.
    variations: HashMap<u64, Vec<Result<PlannedItem, LeftOut>>>,
    unreadable: Vec<SkippedRecord>,
    /// The newest modification among the records read.
    newest: Option<Timestamp>,
    started_at: Option<Timestamp>,
    /// Every product and variation id read (a full walk: what exists).
    seen: HashSet<u64>,
}

/// What a product listing keeps of each product.
struct ProductRead {
    modified: Option<Timestamp>,
    variable: bool,
    judged: JudgedProduct,
}

/// What a variation listing keeps of each variation: its verdict, when
/// its variable product is imported or has its variations imported.
struct VariationRead {
    id: u64,
    parent_id: u64,
    verdict: Option<Result<PlannedItem, LeftOut>>,
}

async fn read(
    client: &WooClient,
    scope: Scope,
    variations_route: bool,
    rules: Arc<ImportRules>,
) -> Result<Read, PluginError> {
    let judge: RecordMap<Product, ProductRead> = {
        let rules = Arc::clone(&rules);
        Arc::new(move |product: Product| ProductRead {
            modified: product.date_modified_gmt,
            variable: product.kind == ProductType::Variable,
            judged: judge_product(&product, &rules),
        })
    };
    let mut listings = vec![
        client
            .list_products_as(Products::All, scope, Arc::clone(&judge))
            .await
            .map_err(PluginError::other)?,
    ];
    if scope != Scope::Full {
        listings.push(
            client
                .list_products_as(Products::Trashed, scope, judge)
                .await
                .map_err(PluginError::other)?,
        );
    }
    let started_at = listings[0].started_at;
    let mut read = Read {
        products: Vec::new(),
        variations: HashMap::new(),
        unreadable: Vec::new(),
        newest: None,
        started_at,
        seen: HashSet::new(),
    };
    let mut variable = Vec::new();
    for listing in listings {
        read.take_unreadable(listing.skipped);
        for product in listing.records {
            read.seen.insert(product.judged.id);
            read.newest = read.newest.max(product.modified);
            if product.variable {
                variable.push(product.judged.id);
            }
            read.products.push(product.judged);
        }
    }
    let parents: HashMap<u64, Parent> = read
        .products
        .iter()
        .filter_map(|p| p.parent.as_deref())
        .map(|p| (p.id, p.clone()))
        .collect();
    let judge: RecordMap<Variation, VariationRead> =
        Arc::new(move |variation: Variation| VariationRead {
            id: variation.id,
            parent_id: variation.parent_id,
            verdict: parents
                .get(&variation.parent_id)
                .map(|parent| judge_variation(&variation, parent, &rules)),
        });
    // Where the store lists variations across products, a full walk reads
    // them all at once and a later run those of up to a page of changed
    // products a listing; elsewhere, one listing a variable product.
    let listings = match (variations_route, scope) {
        (true, Scope::Full) => vec![
            client
                .list_variations_as(Variations::All, Scope::Full, judge)
                .await
                .map_err(PluginError::other)?,
        ],
        (true, _) => {
            concurrently(client, id_filters(&variable), |client, ids| {
                let judge = Arc::clone(&judge);
                async move {
                    client
                        .list_variations_as(Variations::OfParents(&ids), Scope::Full, judge)
                        .await
                }
            })
            .await?
        }
        (false, _) => {
            concurrently(client, variable, |client, id| {
                let judge = Arc::clone(&judge);
                async move {
                    client
                        .list_variations_as(Variations::Of(id), Scope::Full, judge)
                        .await
                }
            })
            .await?
        }
    };
    for listing in listings {
        read.take_unreadable(listing.skipped);
        for variation in listing.records {
            read.seen.insert(variation.id);
            if let Some(verdict) = variation.verdict {
                read.variations
                    .entry(variation.parent_id)
                    .or_default()
                    .push(verdict);
            }
        }
    }
    Ok(read)
}

impl Read {
    /// A record that could not be read still exists: it is not deleted.
    fn take_unreadable(&mut self, skipped: Vec<SkippedRecord>) {
        self.seen.extend(skipped.iter().filter_map(|s| s.id));
        self.unreadable.extend(skipped);
    }
}

fn unreadable_record(skipped: &SkippedRecord) -> String {
    match skipped.id {
        Some(id) => format!("product {id}"),
        None => "a product without an id".into(),
    }
}

/// The plugin's items to deactivate: those left out that are still
/// active, and after a full walk those whose product no longer exists.
fn deactivations(
    ctx: &Context,
    seen: &HashSet<u64>,
    catalogue: &Catalogue,
    full: bool,
) -> Result<Vec<(String, String)>, PluginError> {
    let mut candidates: Vec<(String, String)> = catalogue
        .left_out
        .iter()
        .map(
            |LeftOut {
                 external_id,
                 reason,
                 ..
             }| (external_id.clone(), reason.clone()),
        )
        .collect();
    if full {
        for quantities in ctx.db().quantities(None)? {
            let Some(external_id) = quantities.external_id else {
                continue;
            };
            if external_id
                .parse::<u64>()
                .is_ok_and(|id| !seen.contains(&id))
            {
                candidates.push((external_id, "no longer in WooCommerce (deleted)".into()));
            }
        }
    }
    let refs: Vec<ItemRef> = candidates
        .iter()
        .map(|(id, _)| ItemRef::ExternalId(id.clone()))
        .collect();
    let items = ctx.db().items(&refs)?;
    Ok(candidates
        .into_iter()
        .zip(items)
        .filter(|(_, item)| item.as_ref().is_some_and(|i| i.active))
        .map(|(candidate, _)| candidate)
        .collect())
}

fn write(
    ctx: &Context,
    catalogue: &Catalogue,
    count: Count<'_>,
    deactivations: Vec<(String, String)>,
    next: SyncState,
    report: &mut JobReport,
) -> Result<JobReport, PluginError> {
    let total = catalogue.items().count() as u64;
    let (mut done, mut opened, mut deactivated) = (0, 0, 0);
    let mut groups = catalogue.groups.iter().peekable();
    // One transaction a chunk of whole groups (a variable product with its
    // variations), built as it is sent; the last one also deactivates and
    // moves the watermark.
    loop {
        let mut planned: Vec<&PlannedItem> = Vec::new();
        while let Some(group) =
            groups.next_if(|g| planned.is_empty() || planned.len() + g.len() <= CHUNK)
        {
            planned.extend(group);
        }
        let mut chunk = Import {
            record_by_record: true,
            opening_stock: planned.iter().filter_map(|i| i.opening(count)).collect(),
            ..Import::default()
        };
        chunk.batch.item_upserts = planned.iter().map(|i| i.upsert(count.rules)).collect();
        let last = groups.peek().is_none();
        if last {
            chunk.batch.item_deactivations =
                deactivations.iter().map(|(id, _)| id.clone()).collect();
            chunk.batch.state_changes = vec![next.change(STATE_KEY)];
        }
        if ctx.is_cancelled() {
            report.stopped = true;
            break;
        }
        let record = |id: &str| {
            planned
                .iter()
                .find(|i| i.id.to_string() == id)
                .map_or_else(|| format!("product {id}"), |i| i.record())
        };
        let outcome = apply(ctx, &chunk, &record, report)?;
        report.created += outcome.summary.items_created;
        report.updated += outcome.summary.items_updated;
        opened += outcome.opening_balances;
        deactivated += outcome.summary.items_deactivated;
        done += planned.len() as u64;
        ctx.progress(done, Some(total), "products imported");
        ctx.report_counts(report);
        if last {
            break;
        }
    }
    let mut without_cost = catalogue.items().filter(|i| i.cost_missing());
    let shown: Vec<String> = without_cost
        .by_ref()
        .take(5)
        .map(PlannedItem::record)
        .collect();
    let more = without_cost.count();
    report.summary = summary(report, opened, deactivated, &shown, more);
    Ok(std::mem::take(report))
}

fn summary(
    report: &JobReport,
    opened: u64,
    deactivated: u64,
    without_cost: &[String],
    more: usize,
) -> String {
    let mut parts = vec![format!(
        "{} items created ({opened} with opening stock), {} updated, {deactivated} deactivated, {} left out, {} failed",
        report.created, report.updated, report.skipped, report.failed
    )];
    if !without_cost.is_empty() {
        parts.push(format!(
            "{} imported without a unit cost: {}{}",
            without_cost.len() + more,
            without_cost.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
    }
    parts.join("; ")
}
