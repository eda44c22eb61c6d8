//! Warehouse events -> writes to the store's orders. Pure: the event and
//! the warehouse's view of its order in, the planned writes out.
//!
//! - a pick: a private note (item, quantity, location) and the order meta
//!   `_intellitrack_picked` (picked quantity by line item id, the whole
//!   order's, absolute, so writing it again changes nothing);
//! - a shipment: a tracking entry (through the Shipment Tracking routes,
//!   or, without the extension, in its meta `_wc_shipment_tracking_items`
//!   plus a note to the customer), then `completed` once everything
//!   shippable shipped (or a private note of what shipped so far);
//! - a warehouse cancellation: a private note with the reason, and the
//!   store's order cancelled only if the admin chose so.
//!
//! Private notes carry the event's mark (`[IntelliTrack event 17]`) so that
//! after any doubt (a timeout, a crash) the job can see whether the note
//! landed before writing it again; the customer's note is found by its
//! tracking number instead.

use std::collections::BTreeMap;

use plugin_api::warehouse::{
    ChangeEvent, ChangeKind, Order, OrderCancelled, OrderStatus, PickRecorded, ShipmentRecorded,
};
use woo_client::model::NoteVisibility;

use super::carriers::{Provider, provider};
use crate::settings::ExportRules;

/// The order meta holding the picked quantity of each line item.
pub const PICKED_META: &str = "_intellitrack_picked";
/// The Shipment Tracking extension's order meta.
pub const TRACKING_META: &str = "_wc_shipment_tracking_items";

/// One write to a store order.
#[derive(Clone, Debug, PartialEq)]
pub enum StoreWrite {
    /// A note; `look_for` tells it among the order's notes.
    Note {
        text: String,
        visibility: NoteVisibility,
        look_for: String,
    },
    /// `_intellitrack_picked`: picked quantity by line item id.
    Picked(BTreeMap<String, i64>),
    /// A shipment's tracking, unless the order has that number already.
    Tracking(Tracking),
    /// The order's status.
    Status(&'static str),
}

/// A tracking number and how the extension is to record it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tracking {
    pub provider: Provider,
    pub number: String,
    pub shipped_at_s: i64,
    /// Through the extension's routes (installed), else into its meta.
    pub through_extension: bool,
    /// The entry's id in the meta (the extension's own are random).
    pub entry_id: String,
}

/// What to do with one event.
#[derive(Clone, Debug, PartialEq)]
pub enum Delivery {
    /// Write these, in order; then the event is done.
    Write {
        order_id: u64,
        writes: Vec<StoreWrite>,
    },
    /// Nothing for the store (an inventory event).
    Nothing,
    /// Can never succeed: keep it aside with this reason.
    Park(String),
}

/// The store facts and settings the plan depends on.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    pub rules: &'a ExportRules,
    pub tracking_extension: bool,
}

/// Plans the writes for `event`; `order` is the warehouse's current view
/// of the event's order.
pub fn plan(event: &ChangeEvent, order: Option<&Order>, cx: Context<'_>) -> Delivery {
    if !matches!(
        event.kind,
        ChangeKind::PickRecorded | ChangeKind::ShipmentRecorded | ChangeKind::OrderCancelled
    ) {
        return Delivery::Nothing;
    }
    let number = event.order_number.as_deref().unwrap_or("?");
    let Some(order_id) = event
        .order_external_id
        .as_deref()
        .and_then(|id| id.parse::<u64>().ok())
    else {
        return Delivery::Park(format!("order {number} did not come from this store"));
    };
    let mark = format!("[IntelliTrack event {}]", event.seq);
    let writes = match event.kind {
        ChangeKind::PickRecorded => match event.details::<PickRecorded>() {
            Ok(pick) => pick_writes(event, &pick, order, mark),
            Err(e) => return Delivery::Park(format!("unreadable pick: {e}")),
        },
        ChangeKind::ShipmentRecorded => match event.details::<ShipmentRecorded>() {
            Ok(shipment) => shipment_writes(event, &shipment, cx, mark),
            Err(e) => return Delivery::Park(format!("unreadable shipment: {e}")),
        },
        _ => {
            let reason = event
                .details::<OrderCancelled>()
                .map(|c| c.reason)
                .unwrap_or_default();
            let mut writes = vec![private_note(
                format!(
                    "Cancelled in the warehouse{}.",
                    if reason.is_empty() {
                        String::new()
                    } else {
                        format!(": {reason}")
                    }
                ),
                mark,
            )];
            if cx.rules.cancel_in_store {
                writes.push(StoreWrite::Status("cancelled"));
            }
            writes
        }
    };
    Delivery::Write { order_id, writes }
}

fn private_note(text: String, mark: String) -> StoreWrite {
    StoreWrite::Note {
        text: format!("{text} {mark}"),
        visibility: NoteVisibility::Private,
        look_for: mark,
    }
}

fn pick_writes(
    event: &ChangeEvent,
    pick: &PickRecorded,
    order: Option<&Order>,
    mark: String,
) -> Vec<StoreWrite> {
    let item = event.item_number.as_deref().unwrap_or("?");
    let mut picked: BTreeMap<String, i64> = order
        .into_iter()
        .flat_map(|o| &o.lines)
        .filter(|l| l.picked > 0)
        .filter_map(|l| Some((l.external_line_id.clone()?, l.picked)))
        .collect();
    if let Some(line) = &pick.external_line_id {
        let known = picked.entry(line.clone()).or_insert(pick.picked);
        *known = (*known).max(pick.picked);
    }
    vec![
        private_note(
            format!(
                "Picked {} × {item} from {} (line {}: {} of {} picked).",
                pick.quantity, pick.location, pick.line, pick.picked, pick.ordered
            ),
            mark,
        ),
        StoreWrite::Picked(picked),
    ]
}

fn shipment_writes(
    event: &ChangeEvent,
    shipped: &ShipmentRecorded,
    cx: Context<'_>,
    mark: String,
) -> Vec<StoreWrite> {
    let shipment = &shipped.shipment;
    let provider = provider(&shipment.carrier, &shipment.tracking);
    let what = shipment
        .lines
        .iter()
        .map(|l| format!("{} × {}", l.quantity, l.item_number))
        .collect::<Vec<_>>()
        .join(", ");
    let mut writes = vec![StoreWrite::Tracking(Tracking {
        provider: provider.clone(),
        number: shipment.tracking.clone(),
        shipped_at_s: shipment.shipped_at_ms.div_euclid(1000),
        through_extension: cx.tracking_extension,
        entry_id: format!("intellitrack-{}", event.seq),
    })];
    if !cx.tracking_extension {
        let link = if provider.tracking_link.is_empty() {
            String::new()
        } else {
            format!(" Follow it at {}", provider.tracking_link)
        };
        writes.push(StoreWrite::Note {
            text: format!(
                "Your order has shipped with {}: tracking number {}.{link}",
                provider.name, shipment.tracking
            ),
            visibility: NoteVisibility::Customer,
            look_for: shipment.tracking.clone(),
        });
    }
    let complete = shipped.order_status == OrderStatus::Shipped;
    match (complete, cx.rules.complete_when_shipped) {
        (true, true) => writes.push(StoreWrite::Status("completed")),
        (true, false) => writes.push(private_note(
            format!(
                "Shipped {what} with {} {}; everything has shipped.",
                provider.name, shipment.tracking
            ),
            mark,
        )),
        (false, _) => writes.push(private_note(
            format!(
                "Shipped {what} with {} {}; the rest is still to ship.",
                provider.name, shipment.tracking
            ),
            mark,
        )),
    }
    writes
}

#[cfg(test)]
mod tests {
    use plugin_api::warehouse::{OrderLineView, Shipment, ShippedLine};
    use serde_json::json;

    use super::*;

    fn rules() -> ExportRules {
        ExportRules {
            complete_when_shipped: true,
            cancel_in_store: false,
            send_on_hand: false,
            max_change_percent: 50,
        }
    }

    fn event(seq: i64, kind: ChangeKind, payload: serde_json::Value) -> ChangeEvent {
        ChangeEvent {
            seq,
            at_ms: 1_000,
            kind,
            order_number: Some("1043".into()),
            order_external_id: Some("176".into()),
            item_number: Some("MUG".into()),
            item_external_id: Some("101".into()),
            payload,
        }
    }

    fn order(lines: &[(&str, i64)]) -> Order {
        serde_json::from_value(json!({
            "number": "1043", "status": "picking", "customer": "Ada", "ship_to": {},
            "shipping_method": "", "customer_note": "", "ordered_at_ms": null,
            "created_at_ms": 0, "updated_at_ms": 0,
            "lines": lines.iter().enumerate().map(|(i, (ext, picked))| serde_json::to_value(OrderLineView {
                line: i as i64 + 1, item_number: "MUG".into(), ordered: 3, picked: *picked, shipped: 0,
                external_line_id: Some((*ext).into()), not_shipped: false,
            }).unwrap()).collect::<Vec<_>>(),
        }))
        .unwrap()
    }

    fn cx(rules: &ExportRules, extension: bool) -> Context<'_> {
        Context {
            rules,
            tracking_extension: extension,
        }
    }

    fn pick_payload(picked: i64) -> serde_json::Value {
        serde_json::to_value(PickRecorded {
            line: 1,
            external_line_id: Some("9001".into()),
            quantity: 2,
            location: "MAIN".into(),
            picked,
            ordered: 3,
            order_status: OrderStatus::Picking,
        })
        .unwrap()
    }

    fn shipment_payload(status: OrderStatus) -> serde_json::Value {
        serde_json::to_value(ShipmentRecorded {
            shipment: Shipment {
                carrier: "UPS".into(),
                service: String::new(),
                tracking: "1Z999".into(),
                shipped_at_ms: 1_795_700_000_000,
                lines: vec![ShippedLine {
                    line: 1,
                    item_number: "MUG".into(),
                    external_line_id: Some("9001".into()),
                    quantity: 2,
                }],
            },
            order_status: status,
        })
        .unwrap()
    }

    #[test]
    fn a_pick_is_a_marked_private_note_and_the_picked_quantities() {
        let rules = rules();
        let delivery = plan(
            &event(17, ChangeKind::PickRecorded, pick_payload(2)),
            Some(&order(&[("9001", 2), ("9002", 1), ("9003", 0)])),
            cx(&rules, true),
        );
        let Delivery::Write { order_id, writes } = delivery else {
            panic!("{delivery:?}");
        };
        assert_eq!(order_id, 176);
        assert_eq!(
            writes[0],
            StoreWrite::Note {
                text: "Picked 2 × MUG from MAIN (line 1: 2 of 3 picked). [IntelliTrack event 17]"
                    .into(),
                visibility: NoteVisibility::Private,
                look_for: "[IntelliTrack event 17]".into(),
            }
        );
        assert_eq!(
            writes[1],
            StoreWrite::Picked(BTreeMap::from([("9001".into(), 2), ("9002".into(), 1)]))
        );
    }

    #[test]
    fn a_shipment_goes_through_the_extension_or_its_meta_and_a_customer_note() {
        let rules = rules();
        let complete = event(
            18,
            ChangeKind::ShipmentRecorded,
            shipment_payload(OrderStatus::Shipped),
        );
        let Delivery::Write { writes, .. } = plan(&complete, None, cx(&rules, true)) else {
            panic!();
        };
        assert!(
            matches!(&writes[0], StoreWrite::Tracking(t) if t.through_extension && t.provider.slug == Some("ups") && t.shipped_at_s == 1_795_700_000)
        );
        assert_eq!(writes[1], StoreWrite::Status("completed"));
        assert_eq!(writes.len(), 2);

        let Delivery::Write { writes, .. } = plan(&complete, None, cx(&rules, false)) else {
            panic!();
        };
        assert!(
            matches!(&writes[0], StoreWrite::Tracking(t) if !t.through_extension && t.entry_id == "intellitrack-18")
        );
        assert_eq!(
            writes[1],
            StoreWrite::Note {
                text: "Your order has shipped with UPS: tracking number 1Z999. Follow it at https://www.ups.com/track?tracknum=1Z999".into(),
                visibility: NoteVisibility::Customer,
                look_for: "1Z999".into(),
            }
        );

        let partial = event(
            19,
            ChangeKind::ShipmentRecorded,
            shipment_payload(OrderStatus::PartiallyShipped),
        );
        let Delivery::Write { writes, .. } = plan(&partial, None, cx(&rules, true)) else {
            panic!();
        };
        assert!(
            matches!(&writes[1], StoreWrite::Note { text, .. } if text == "Shipped 2 × MUG with UPS 1Z999; the rest is still to ship. [IntelliTrack event 19]")
        );
        let leave = ExportRules {
            complete_when_shipped: false,
            ..rules
        };
        let Delivery::Write { writes, .. } = plan(&complete, None, cx(&leave, true)) else {
            panic!();
        };
        assert!(!writes.contains(&StoreWrite::Status("completed")));
    }

    #[test]
    fn a_warehouse_cancellation_notes_and_cancels_only_if_asked() {
        let payload = serde_json::to_value(OrderCancelled {
            reason: "damaged in the warehouse".into(),
        })
        .unwrap();
        let cancelled = event(20, ChangeKind::OrderCancelled, payload);
        let rules = rules();
        let Delivery::Write { writes, .. } = plan(&cancelled, None, cx(&rules, true)) else {
            panic!();
        };
        assert_eq!(writes.len(), 1);
        let cancel = ExportRules {
            cancel_in_store: true,
            ..rules
        };
        let Delivery::Write { writes, .. } = plan(&cancelled, None, cx(&cancel, true)) else {
            panic!();
        };
        assert_eq!(writes[1], StoreWrite::Status("cancelled"));
    }

    #[test]
    fn inventory_events_need_nothing_and_foreign_orders_are_parked() {
        let rules = rules();
        let stock = event(21, ChangeKind::InventoryReceived, json!({}));
        assert_eq!(plan(&stock, None, cx(&rules, true)), Delivery::Nothing);
        let mut foreign = event(22, ChangeKind::PickRecorded, pick_payload(1));
        foreign.order_external_id = Some("SRC-9".into());
        assert_eq!(
            plan(&foreign, None, cx(&rules, true)),
            Delivery::Park("order 1043 did not come from this store".into())
        );
    }
}
