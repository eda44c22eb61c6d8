//! `export-fulfillment`: the warehouse's picks, shipments and cancellations
//! -> the store's orders, each exactly once.
//!
//! The change feed is read from the job's cursor a page at a time. Events
//! of different orders go out concurrently, those of one order in order.
//! Before a page is written, the state records how far writing may have
//! got (`doubt_upto`); an event at or below it (a crash, a timeout, a 5xx
//! after the write landed) is checked against the order before each write
//! that would appear twice (a note, a tracking entry). The cursor moves
//! only past events that are done or parked. An event that cannot succeed
//! (the order is gone from the store) is parked with its reason and never
//! blocks the others; a store that fails leaves the rest pending, in order,
//! for the next run.

use std::collections::BTreeMap;
use std::sync::Arc;

use plugin_api::warehouse::ChangeEvent;
use plugin_api::{Context, JobReport, PluginError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use woo_client::model::{Carrier, NewShipment, OrderNote, ShipmentTracking, meta_value};
use woo_client::{Error, WooClient};

use crate::mapping::fulfilment::{
    self, Delivery, PICKED_META, StoreWrite, TRACKING_META, Tracking,
};
use crate::settings::ExportRules;
use crate::store::StoreConnection;

/// The plugin state key of the export's progress.
pub const STATE_KEY: &str = "export_fulfillment";
/// Change-feed events read at a time.
const PAGE: u32 = 500;

/// How far the export got.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct ExportState {
    /// Every event up to here is done (delivered, parked or not the store's business).
    cursor: i64,
    /// Writing may have started for events up to here.
    doubt_upto: i64,
}

/// How one event went.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Delivered,
    Nothing,
    Park(String),
    /// The store failed; the event stays pending.
    Pending(String),
}

pub fn run(ctx: &Context, store: &StoreConnection) -> Result<JobReport, PluginError> {
    let rules = ExportRules::from_settings(&ctx.settings()?);
    // Unknown since activation (the probe's answer told nothing): ask again
    // rather than guess; a shipment written the wrong way cannot be undone.
    let tracking_extension = match store.facts(ctx).shipment_tracking {
        Some(known) => known,
        None => store
            .runtime
            .block_on(store.client.shipment_tracking_installed())
            .map_err(|e| {
                PluginError::other(format!(
                    "cannot tell whether the store has Shipment Tracking ({e}); nothing was sent, the events wait for the next run"
                ))
            })?,
    };
    let cx = fulfilment::Context {
        rules: &rules,
        tracking_extension,
    };
    let mut tally = Tally::default();
    let retries = ctx.db().parked_retries()?;
    if !retries.is_empty() {
        let outcomes = deliver(ctx, store, &retries, cx, |_| true)?;
        for (event, outcome) in retries.iter().zip(&outcomes) {
            match outcome {
                Outcome::Delivered | Outcome::Nothing => ctx.db().unpark(event.seq)?,
                Outcome::Park(reason) => ctx.db().park(event.seq, reason)?,
                Outcome::Pending(_) => {}
            }
        }
        tally.count(&retries, &outcomes);
        if let Some(error) = tally.store_error.clone() {
            return Err(tally.failure(&error));
        }
    }
    let mut state: ExportState = ctx.state(STATE_KEY)?.unwrap_or_default();
    loop {
        if ctx.is_cancelled() {
            tally.report.stopped = true;
            break;
        }
        let page = ctx.db().changes_after(state.cursor, PAGE)?;
        let Some(top) = page.events.last().map(|e| e.seq) else {
            state.cursor = page.cursor;
            ctx.put_state(STATE_KEY, &state)?;
            break;
        };
        let doubt_before = state.doubt_upto;
        state.doubt_upto = state.doubt_upto.max(top);
        ctx.put_state(STATE_KEY, &state)?;
        let outcomes = deliver(ctx, store, &page.events, cx, |seq| seq <= doubt_before)?;
        for (event, outcome) in page.events.iter().zip(&outcomes) {
            if let Outcome::Park(reason) = outcome {
                ctx.db().park(event.seq, reason)?;
            }
        }
        tally.count(&page.events, &outcomes);
        // Past every event that is done, up to the first still pending.
        let first_pending = page
            .events
            .iter()
            .zip(&outcomes)
            .find(|(_, o)| matches!(o, Outcome::Pending(_)))
            .map(|(e, _)| e.seq);
        state.cursor = match first_pending {
            Some(seq) => seq - 1,
            None => page.cursor.max(top),
        };
        ctx.put_state(STATE_KEY, &state)?;
        ctx.progress(
            tally.report.created + tally.report.failed,
            None,
            "events sent to WooCommerce",
        );
        if let Some(error) = tally.store_error.clone() {
            return Err(tally.failure(&error));
        }
    }
    tally.report.summary = format!(
        "{} events sent to WooCommerce, {} parked",
        tally.report.created, tally.report.failed
    );
    Ok(tally.report)
}

/// The run's counts as events go out.
#[derive(Default)]
struct Tally {
    report: JobReport,
    pending: u64,
    store_error: Option<String>,
}

impl Tally {
    fn count(&mut self, events: &[ChangeEvent], outcomes: &[Outcome]) {
        for (event, outcome) in events.iter().zip(outcomes) {
            let record = format!(
                "event {} ({} of order {})",
                event.seq,
                event.kind.as_str(),
                event.order_number.as_deref().unwrap_or("?")
            );
            match outcome {
                Outcome::Delivered => self.report.created += 1,
                Outcome::Nothing => {}
                Outcome::Park(reason) => {
                    self.report.fail(record, format!("parked: {reason}"));
                }
                Outcome::Pending(error) => {
                    self.pending += 1;
                    self.store_error.get_or_insert_with(|| error.clone());
                }
            }
        }
    }

    fn failure(&self, error: &str) -> PluginError {
        PluginError::other(format!(
            "{} events sent, {} parked; then WooCommerce failed ({error}); the events not sent stay pending, in order, for the next run",
            self.report.created, self.report.failed
        ))
    }
}

/// Plans and writes `events`, the orders concurrently; `doubt` tells the
/// events whose writes may already have landed.
fn deliver(
    ctx: &Context,
    store: &StoreConnection,
    events: &[ChangeEvent],
    cx: fulfilment::Context<'_>,
    doubt: impl Fn(i64) -> bool,
) -> Result<Vec<Outcome>, PluginError> {
    let order_ids: Vec<String> = events
        .iter()
        .filter_map(|e| e.order_external_id.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let orders: BTreeMap<String, plugin_api::warehouse::Order> = order_ids
        .iter()
        .cloned()
        .zip(ctx.db().orders(&order_ids)?)
        .filter_map(|(id, order)| Some((id, order?)))
        .collect();
    let mut outcomes = vec![Outcome::Nothing; events.len()];
    let mut groups: BTreeMap<u64, Vec<(usize, Vec<StoreWrite>, bool)>> = BTreeMap::new();
    for (i, event) in events.iter().enumerate() {
        let order = event
            .order_external_id
            .as_ref()
            .and_then(|id| orders.get(id));
        match fulfilment::plan(event, order, cx) {
            Delivery::Nothing => {}
            Delivery::Park(reason) => outcomes[i] = Outcome::Park(reason),
            Delivery::Write { order_id, writes } => {
                groups
                    .entry(order_id)
                    .or_default()
                    .push((i, writes, doubt(event.seq)));
            }
        }
    }
    let written = store.runtime.block_on(write_groups(&store.client, groups));
    for (i, outcome) in written {
        outcomes[i] = outcome;
    }
    Ok(outcomes)
}

/// Each order's events in order; the orders a few at a time.
async fn write_groups(
    client: &WooClient,
    groups: BTreeMap<u64, Vec<(usize, Vec<StoreWrite>, bool)>>,
) -> Vec<(usize, Outcome)> {
    let limit = Arc::new(tokio::sync::Semaphore::new(client.max_in_flight()));
    let mut tasks = tokio::task::JoinSet::new();
    for (order_id, events) in groups {
        let client = client.clone();
        let limit = Arc::clone(&limit);
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let mut order = OrderWrites::new(client, order_id);
            let mut done = Vec::with_capacity(events.len());
            let mut failed = None;
            for (i, writes, doubt) in events {
                if let Some(error) = &failed {
                    done.push((
                        i,
                        Outcome::Pending(format!(
                            "waits for an earlier event of order {order_id}: {error}"
                        )),
                    ));
                    continue;
                }
                let outcome = match order.write_all(&writes, doubt).await {
                    Ok(()) => Outcome::Delivered,
                    Err(Failure::Permanent(reason)) => Outcome::Park(reason),
                    Err(Failure::Transient(error)) => {
                        failed = Some(error.clone());
                        Outcome::Pending(error)
                    }
                };
                done.push((i, outcome));
            }
            done
        });
    }
    let mut all = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(done) => all.extend(done),
            Err(e) => tracing::error!("an order's export task ended abnormally: {e}"),
        }
    }
    all
}

/// Why a write did not go through.
enum Failure {
    /// It never will: park the event.
    Permanent(String),
    /// The store failed; try again later.
    Transient(String),
}

fn failure(error: Error, order_id: u64) -> Failure {
    match &error {
        Error::Status { status: 410, .. } => Failure::Permanent(format!(
            "order {order_id} is in WooCommerce's trash ({error})"
        )),
        Error::Status { body, .. }
            if body
                .code
                .as_deref()
                .is_some_and(|c| c.ends_with("_invalid_id")) =>
        {
            Failure::Permanent(format!(
                "order {order_id} no longer exists in WooCommerce ({error})"
            ))
        }
        Error::Status { status: 400, .. } => {
            Failure::Permanent(format!("WooCommerce refused it: {error}"))
        }
        _ => Failure::Transient(error.to_string()),
    }
}

/// The writes to one store order, with what was read of it for checks.
struct OrderWrites {
    client: WooClient,
    order_id: u64,
    notes: Option<Vec<OrderNote>>,
    trackings: Option<Vec<ShipmentTracking>>,
}

impl OrderWrites {
    fn new(client: WooClient, order_id: u64) -> Self {
        Self {
            client,
            order_id,
            notes: None,
            trackings: None,
        }
    }

    /// Writes in order; in `doubt`, first looks for each note or tracking
    /// entry that would otherwise appear twice. A failed write may have
    /// landed all the same: the event stays within `doubt_upto`, so the next
    /// attempt checks.
    async fn write_all(&mut self, writes: &[StoreWrite], doubt: bool) -> Result<(), Failure> {
        let id = self.order_id;
        for write in writes {
            let done = match write {
                StoreWrite::Note {
                    text,
                    visibility,
                    look_for,
                } => {
                    if doubt && self.has_note(look_for).await? {
                        continue;
                    }
                    self.client
                        .add_order_note(id, text, *visibility)
                        .await
                        .map(|note| self.notes.get_or_insert_with(Vec::new).push(note))
                }
                StoreWrite::Picked(picked) => {
                    self.client
                        .set_order_meta(id, &[(PICKED_META, json!(picked))])
                        .await
                }
                StoreWrite::Tracking(tracking) if tracking.through_extension => {
                    if self.has_tracking(&tracking.number).await? {
                        continue;
                    }
                    self.client
                        .add_shipment_tracking(id, &new_shipment(tracking))
                        .await
                        .map(|t| self.trackings.get_or_insert_with(Vec::new).push(t))
                }
                StoreWrite::Tracking(tracking) => self.add_tracking_meta(tracking).await,
                StoreWrite::Status(status) => {
                    self.client.update_order_status(id, status).await.map(drop)
                }
            };
            done.map_err(|error| failure(error, id))?;
        }
        Ok(())
    }

    async fn has_note(&mut self, look_for: &str) -> Result<bool, Failure> {
        if self.notes.is_none() {
            let notes = self
                .client
                .list_order_notes(self.order_id)
                .await
                .map_err(|e| failure(e, self.order_id))?;
            self.notes = Some(notes);
        }
        Ok(self
            .notes
            .iter()
            .flatten()
            .any(|n| n.note.contains(look_for)))
    }

    async fn has_tracking(&mut self, number: &str) -> Result<bool, Failure> {
        if self.trackings.is_none() {
            let trackings = self
                .client
                .list_shipment_trackings(self.order_id)
                .await
                .map_err(|e| failure(e, self.order_id))?;
            self.trackings = Some(trackings);
        }
        Ok(self
            .trackings
            .iter()
            .flatten()
            .any(|t| t.tracking_number.trim() == number.trim()))
    }

    /// Appends the entry to the extension's meta, as the extension would,
    /// unless the order has that number already.
    async fn add_tracking_meta(&mut self, tracking: &Tracking) -> Result<(), Error> {
        let meta = self.client.order_meta(self.order_id).await?;
        let mut items: Vec<Value> = meta_value(&meta, TRACKING_META)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let number = tracking.number.trim();
        if items
            .iter()
            .any(|i| i["tracking_number"].as_str().map(str::trim) == Some(number))
        {
            return Ok(());
        }
        let provider = &tracking.provider;
        items.push(json!({
            "tracking_provider": provider.slug.unwrap_or(""),
            "custom_tracking_provider": if provider.slug.is_some() { "" } else { provider.name.as_str() },
            "custom_tracking_link": if provider.slug.is_some() { "" } else { provider.tracking_link.as_str() },
            "tracking_number": number,
            "date_shipped": tracking.shipped_at_s.to_string(),
            "tracking_id": tracking.entry_id,
        }));
        self.client
            .set_order_meta(self.order_id, &[(TRACKING_META, Value::Array(items))])
            .await
    }
}

fn new_shipment(tracking: &Tracking) -> NewShipment {
    let provider = &tracking.provider;
    NewShipment {
        carrier: match provider.slug {
            Some(slug) => Carrier::Known(slug.to_owned()),
            None => Carrier::Custom {
                name: provider.name.clone(),
                tracking_link: provider.tracking_link.clone(),
            },
        },
        tracking_number: tracking.number.clone(),
        date_shipped: jiff::Timestamp::from_second(tracking.shipped_at_s)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH),
    }
}
