//! `export-fulfillment`: the warehouse's picks, shipments and cancellations
//! -> the store's orders, each exactly once.
//!
//! The change feed is read from the job's cursor a round (up to 5,000
//! events) at a time. The events a round finds for one order are coalesced
//! ([`fulfilment::coalesce`]): one private note listing them (each line
//! with its event's mark), the tracking entries and customer notes in
//! event order, then the order's meta and status in one update; those
//! updates go out through `orders/batch`, 100 orders a request. Orders go
//! out concurrently. Before a round is written, the state records how far
//! writing may have got (`doubt_upto`); an event at or below it (a crash, a
//! timeout, a 5xx after the write landed) is checked against the order
//! before each write that would appear twice (a note line, by its mark; a
//! tracking entry, by its number); meta and status are absolute and simply
//! sent again. An order's events share its outcome. The cursor moves only
//! past events that are done or parked, and each time it moves the host is
//! told (the consumer [`STATE_KEY`]), so it may prune what is done. An event that cannot succeed
//! (the order is gone from the store) is parked with its reason and never
//! blocks the others; a store that fails leaves the rest pending, in order,
//! for the next run.

use std::collections::BTreeMap;
use std::sync::Arc;

use plugin_api::warehouse::ChangeEvent;
use plugin_api::{Context, JobReport, PluginError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use woo_client::model::{
    BATCH_LIMIT, BatchItem, Carrier, ItemFailure, MetaWrite, NewShipment, NoteVisibility,
    OrderNote, OrderUpdate, ShipmentTracking, meta_value,
};
use woo_client::{Error, WooClient};

use crate::mapping::fulfilment::{
    self, Delivery, OrderDelivery, PICKED_META, StoreWrite, TRACKING_META, Tracking,
};
use crate::settings::ExportRules;
use crate::store::StoreConnection;

/// The plugin state key of the export's progress.
pub const STATE_KEY: &str = "export_fulfillment";
/// Change-feed events read at a time: a round, whose events for one
/// order go out together.
const PAGE: u32 = 5_000;

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
            save_cursor(ctx, &state)?;
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
        save_cursor(ctx, &state)?;
        ctx.progress(
            tally.report.created + tally.report.failed,
            None,
            "events sent to WooCommerce",
        );
        ctx.report_counts(&tally.report);
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

/// Stores the export's progress, then acknowledges its cursor to the host
/// (never ahead of what is stored).
fn save_cursor(ctx: &Context, state: &ExportState) -> Result<(), PluginError> {
    ctx.put_state(STATE_KEY, state)?;
    ctx.db().acknowledge_changes(STATE_KEY, state.cursor)?;
    Ok(())
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

/// Plans and writes `events`, the orders concurrently, each order's
/// events coalesced into one delivery; `doubt` tells the events whose
/// writes may already have landed.
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
    let mut planned: BTreeMap<u64, Vec<(usize, Vec<StoreWrite>, bool)>> = BTreeMap::new();
    for (i, event) in events.iter().enumerate() {
        let order = event
            .order_external_id
            .as_ref()
            .and_then(|id| orders.get(id));
        match fulfilment::plan(event, order, cx) {
            Delivery::Nothing => {}
            Delivery::Park(reason) => outcomes[i] = Outcome::Park(reason),
            Delivery::Write { order_id, writes } => {
                planned
                    .entry(order_id)
                    .or_default()
                    .push((i, writes, doubt(event.seq)));
            }
        }
    }
    let deliveries: Vec<OrderEvents> = planned
        .into_iter()
        .map(|(order_id, events)| OrderEvents {
            order_id,
            delivery: fulfilment::coalesce(
                events
                    .iter()
                    .map(|(_, writes, doubt)| (writes.as_slice(), *doubt)),
            ),
            events: events.into_iter().map(|(i, ..)| i).collect(),
        })
        .collect();
    let written = store
        .runtime
        .block_on(write_orders(&store.client, deliveries));
    for (events, outcome) in written {
        for i in events {
            outcomes[i] = outcome.clone();
        }
    }
    Ok(outcomes)
}

/// One order's events of a run (their places in the page) and what they
/// send, coalesced.
struct OrderEvents {
    order_id: u64,
    events: Vec<usize>,
    delivery: OrderDelivery,
}

/// Writes each order's note, trackings and customer notes (the orders a few
/// at a time), then the orders' meta and status through `orders/batch`, 100
/// orders a request. Every event of an order shares the order's outcome.
async fn write_orders(client: &WooClient, orders: Vec<OrderEvents>) -> Vec<(Vec<usize>, Outcome)> {
    let limit = Arc::new(tokio::sync::Semaphore::new(client.max_in_flight()));
    let mut tasks = tokio::task::JoinSet::new();
    for order in orders {
        let client = client.clone();
        let limit = Arc::clone(&limit);
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let mut writes = OrderWrites::new(client, order.order_id);
            let update = writes.write_once(&order.delivery).await;
            (order, update)
        });
    }
    let mut done = Vec::new();
    let mut updates = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((order, Ok(Some(update)))) => updates.push((order.events, update)),
            Ok((order, Ok(None))) => done.push((order.events, Outcome::Delivered)),
            Ok((order, Err(failure))) => done.push((order.events, failure.outcome())),
            Err(e) => tracing::error!("an order's export task ended abnormally: {e}"),
        }
    }
    let mut batches = tokio::task::JoinSet::new();
    let mut updates = updates.into_iter().peekable();
    while updates.peek().is_some() {
        let chunk: Vec<(Vec<usize>, OrderUpdate)> = updates.by_ref().take(BATCH_LIMIT).collect();
        let client = client.clone();
        let limit = Arc::clone(&limit);
        batches.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let sent: Vec<OrderUpdate> = chunk.iter().map(|(_, u)| u.clone()).collect();
            let answer = client.update_orders(&sent).await;
            chunk
                .into_iter()
                .enumerate()
                .map(|(n, (events, update))| {
                    let outcome = match &answer {
                        Ok(items) => match &items[n] {
                            BatchItem::Updated { .. } => Outcome::Delivered,
                            BatchItem::Failed { failure, .. } => {
                                refused(update.id, failure).outcome()
                            }
                        },
                        Err(error) => failure(error, update.id).outcome(),
                    };
                    (events, outcome)
                })
                .collect::<Vec<_>>()
        });
    }
    while let Some(joined) = batches.join_next().await {
        match joined {
            Ok(outcomes) => done.extend(outcomes),
            Err(e) => tracing::error!("an orders batch task ended abnormally: {e}"),
        }
    }
    done
}

/// Why a write did not go through.
enum Failure {
    /// It never will: park the event.
    Permanent(String),
    /// The store failed; try again later.
    Transient(String),
}

impl Failure {
    fn outcome(self) -> Outcome {
        match self {
            Self::Permanent(reason) => Outcome::Park(reason),
            Self::Transient(error) => Outcome::Pending(error),
        }
    }
}

fn failure(error: &Error, order_id: u64) -> Failure {
    match error {
        Error::Status { status, body, .. } => {
            classify(*status, body.code.as_deref(), order_id, error.to_string())
        }
        _ => Failure::Transient(error.to_string()),
    }
}

/// An order `orders/batch` refused inside its 200 answer.
fn refused(order_id: u64, item: &ItemFailure) -> Failure {
    classify(
        item.status.unwrap_or(500),
        Some(&item.code),
        order_id,
        item.to_string(),
    )
}

fn classify(status: u16, code: Option<&str>, order_id: u64, what: String) -> Failure {
    if status == 410 {
        Failure::Permanent(format!(
            "order {order_id} is in WooCommerce's trash ({what})"
        ))
    } else if code.is_some_and(|c| c.ends_with("_invalid_id")) {
        Failure::Permanent(format!(
            "order {order_id} no longer exists in WooCommerce ({what})"
        ))
    } else if status == 400 {
        Failure::Permanent(format!("WooCommerce refused it: {what}"))
    } else {
        Failure::Transient(what)
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

    /// Writes what must appear once, in order: the private note (its lines
    /// whose marks the order lacks, for lines in doubt), the tracking
    /// entries, the customer notes; then answers the order's update (meta,
    /// status) for `orders/batch`, if it needs one. A failed write may have
    /// landed all the same: its events stay within `doubt_upto`, so the next
    /// attempt checks.
    async fn write_once(
        &mut self,
        delivery: &OrderDelivery,
    ) -> Result<Option<OrderUpdate>, Failure> {
        let id = self.order_id;
        let mut lines = Vec::new();
        for line in &delivery.note {
            if !(line.in_doubt && self.has_note(&line.write.mark).await?) {
                lines.push(&line.write);
            }
        }
        if !lines.is_empty() {
            let note = self
                .client
                .add_order_note(id, &fulfilment::note_text(lines), NoteVisibility::Private)
                .await
                .map_err(|e| failure(&e, id))?;
            self.notes.get_or_insert_with(Vec::new).push(note);
        }
        let mut in_meta = Vec::new();
        for tracking in &delivery.trackings {
            if !tracking.write.through_extension {
                in_meta.push(&tracking.write);
                continue;
            }
            if tracking.in_doubt && self.has_tracking(&tracking.write.number).await? {
                continue;
            }
            let added = self
                .client
                .add_shipment_tracking(id, &new_shipment(&tracking.write))
                .await
                .map_err(|e| failure(&e, id))?;
            self.trackings.get_or_insert_with(Vec::new).push(added);
        }
        for note in &delivery.customer_notes {
            if note.in_doubt && self.has_note(&note.write.look_for).await? {
                continue;
            }
            let added = self
                .client
                .add_order_note(id, &note.write.text, NoteVisibility::Customer)
                .await
                .map_err(|e| failure(&e, id))?;
            self.notes.get_or_insert_with(Vec::new).push(added);
        }
        let mut meta_data = Vec::new();
        if let Some(picked) = &delivery.picked {
            meta_data.push(MetaWrite {
                key: PICKED_META.into(),
                value: json!(picked),
            });
        }
        if !in_meta.is_empty() {
            let meta = self
                .client
                .order_meta(id)
                .await
                .map_err(|e| failure(&e, id))?;
            if let Some(value) =
                fulfilment::tracking_meta(meta_value(&meta, TRACKING_META), in_meta)
            {
                meta_data.push(MetaWrite {
                    key: TRACKING_META.into(),
                    value,
                });
            }
        }
        if meta_data.is_empty() && delivery.status.is_none() {
            return Ok(None);
        }
        Ok(Some(OrderUpdate {
            id,
            meta_data,
            status: delivery.status.map(str::to_owned),
        }))
    }

    async fn has_note(&mut self, look_for: &str) -> Result<bool, Failure> {
        if self.notes.is_none() {
            let notes = self
                .client
                .list_order_notes(self.order_id)
                .await
                .map_err(|e| failure(&e, self.order_id))?;
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
                .map_err(|e| failure(&e, self.order_id))?;
            self.trackings = Some(trackings);
        }
        Ok(self
            .trackings
            .iter()
            .flatten()
            .any(|t| t.tracking_number.trim() == number.trim()))
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
