//! Warehouse events -> writes to the store's orders. Pure: the event and
//! the warehouse's view of its order in, the planned writes out.
//!
//! - a pick: a private note (item, quantity, location) and the order meta
//!   `_intellitrack_picked` (picked quantity by line item id, the whole
//!   order's, absolute, so writing it again changes nothing);
//! - a shipment: a tracking entry (through the Shipment Tracking routes,
//!   or, without the extension, in its meta `_wc_shipment_tracking_items`
//!   plus a note to the customer; neither when an earlier shipment of the
//!   order had the same number, a parcel shipped in parts), then
//!   `completed` once everything shippable shipped (or a private note of
//!   what shipped so far);
//! - a warehouse cancellation: a private note with the reason, and the
//!   store's order cancelled only if the admin chose so.
//!
//! Private notes carry the event's mark (`[IntelliTrack event 17]`) so that
//! after any doubt (a timeout, a crash) the job can see whether the note
//! landed before writing it again; the customer's note is found by its
//! tracking number instead.
//!
//! The events one run finds for an order are coalesced ([`coalesce`]):
//! one private note listing them (a line each, each line with its event's
//! mark), the tracking entries and customer notes in event order, and one
//! update of the order carrying the picked meta, the tracking meta (without
//! the extension) and the last status asked for.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use plugin_api::warehouse::{
    ChangeEvent, ChangeKind, Order, OrderCancelled, OrderStatus, PickRecorded, Shipment,
    ShipmentRecorded,
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
            Ok(shipment) => shipment_writes(event, &shipment, order, cx, mark),
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

/// A write that must land once: `in_doubt` when an earlier attempt may
/// have landed it already, so the store is checked first.
#[derive(Clone, Debug, PartialEq)]
pub struct Once<T> {
    pub write: T,
    pub in_doubt: bool,
}

/// One line of an order's private note: the event's text, ending with its
/// mark, and the mark to find it by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteLine {
    pub text: String,
    pub mark: String,
}

/// A note to the customer (a shipment without the extension), found again
/// by `look_for` (the tracking number).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerNote {
    pub text: String,
    pub look_for: String,
}

/// Everything one run sends to one order, its events coalesced, in the
/// order the job writes them: the private note, the tracking entries and
/// customer notes, then one update of the order (meta and status).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OrderDelivery {
    /// The private note's lines, in event order.
    pub note: Vec<Once<NoteLine>>,
    /// Tracking entries, in event order, each number once.
    pub trackings: Vec<Once<Tracking>>,
    /// Notes to the customer, in event order.
    pub customer_notes: Vec<Once<CustomerNote>>,
    /// `_intellitrack_picked`, every event's picked quantities merged.
    pub picked: Option<BTreeMap<String, i64>>,
    /// The status the last event that sets one asks for.
    pub status: Option<&'static str>,
}

/// Coalesces one order's planned writes, event by event in order (`true`
/// with an event whose writes may already have landed).
pub fn coalesce<'a>(events: impl IntoIterator<Item = (&'a [StoreWrite], bool)>) -> OrderDelivery {
    let mut out = OrderDelivery::default();
    for (writes, in_doubt) in events {
        for write in writes {
            match write {
                StoreWrite::Note {
                    text,
                    visibility: NoteVisibility::Private,
                    look_for,
                } => out.note.push(Once {
                    write: NoteLine {
                        text: text.clone(),
                        mark: look_for.clone(),
                    },
                    in_doubt,
                }),
                StoreWrite::Note { text, look_for, .. } => out.customer_notes.push(Once {
                    write: CustomerNote {
                        text: text.clone(),
                        look_for: look_for.clone(),
                    },
                    in_doubt,
                }),
                StoreWrite::Picked(picked) => {
                    let merged = out.picked.get_or_insert_with(BTreeMap::new);
                    for (line, quantity) in picked {
                        let known = merged.entry(line.clone()).or_insert(*quantity);
                        *known = (*known).max(*quantity);
                    }
                }
                StoreWrite::Tracking(tracking) => {
                    let number = tracking.number.trim();
                    if !out
                        .trackings
                        .iter()
                        .any(|t| t.write.number.trim() == number)
                    {
                        out.trackings.push(Once {
                            write: tracking.clone(),
                            in_doubt,
                        });
                    }
                }
                StoreWrite::Status(status) => out.status = Some(status),
            }
        }
    }
    out
}

/// The private note of these lines: one line each, in order.
pub fn note_text<'a>(lines: impl IntoIterator<Item = &'a NoteLine>) -> String {
    lines
        .into_iter()
        .map(|line| line.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The extension's meta with `trackings` appended as the extension would
/// add them, each number not already there; `None` when nothing is new.
pub fn tracking_meta<'a>(
    existing: Option<&Value>,
    trackings: impl IntoIterator<Item = &'a Tracking>,
) -> Option<Value> {
    let mut items: Vec<Value> = existing
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let before = items.len();
    for tracking in trackings {
        let number = tracking.number.trim();
        if items
            .iter()
            .any(|i| i["tracking_number"].as_str().map(str::trim) == Some(number))
        {
            continue;
        }
        let provider = &tracking.provider;
        let custom = provider.slug.is_none();
        items.push(json!({
            "tracking_provider": provider.slug.unwrap_or(""),
            "custom_tracking_provider": if custom { provider.name.as_str() } else { "" },
            "custom_tracking_link": if custom { provider.tracking_link.as_str() } else { "" },
            "tracking_number": number,
            "date_shipped": tracking.shipped_at_s.to_string(),
            "tracking_id": tracking.entry_id,
        }));
    }
    (items.len() > before).then_some(Value::Array(items))
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
    order: Option<&Order>,
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
    let mut writes = Vec::new();
    let new_number = !order.is_some_and(|o| tracked_before(o, shipment));
    if new_number {
        writes.push(StoreWrite::Tracking(Tracking {
            provider: provider.clone(),
            number: shipment.tracking.clone(),
            shipped_at_s: shipment.shipped_at_ms.div_euclid(1000),
            through_extension: cx.tracking_extension,
            entry_id: format!("intellitrack-{}", event.seq),
        }));
    }
    if new_number && !cx.tracking_extension {
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

/// Whether an earlier shipment of `order` carried `shipment`'s tracking
/// number (a parcel shipped in parts): the store has that tracking entry
/// and the customer its note already, from that shipment's export.
fn tracked_before(order: &Order, shipment: &Shipment) -> bool {
    let number = shipment.tracking.trim();
    let Some(at) = order.shipments.iter().position(|s| s == shipment) else {
        return false;
    };
    !number.is_empty()
        && order.shipments[..at]
            .iter()
            .any(|s| s.tracking.trim() == number)
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
    fn a_parcel_shipped_in_parts_sends_its_tracking_number_once() {
        let rules = rules();
        let second: ShipmentRecorded =
            serde_json::from_value(shipment_payload(OrderStatus::Shipped)).unwrap();
        let mut first = second.shipment.clone();
        first.shipped_at_ms -= 60_000;
        let mut warehouse_order = order(&[("9001", 3)]);
        warehouse_order.shipments = vec![first.clone(), second.shipment.clone()];
        for extension in [true, false] {
            let Delivery::Write { writes, .. } = plan(
                &event(
                    21,
                    ChangeKind::ShipmentRecorded,
                    serde_json::to_value(&second).unwrap(),
                ),
                Some(&warehouse_order),
                cx(&rules, extension),
            ) else {
                panic!();
            };
            assert_eq!(
                writes,
                [StoreWrite::Status("completed")],
                "extension: {extension}"
            );

            let earlier = ShipmentRecorded {
                shipment: first.clone(),
                order_status: OrderStatus::PartiallyShipped,
            };
            let Delivery::Write { writes, .. } = plan(
                &event(
                    20,
                    ChangeKind::ShipmentRecorded,
                    serde_json::to_value(&earlier).unwrap(),
                ),
                Some(&warehouse_order),
                cx(&rules, extension),
            ) else {
                panic!();
            };
            assert!(matches!(&writes[0], StoreWrite::Tracking(t) if t.number == "1Z999"));
        }
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

    fn writes(delivery: Delivery) -> Vec<StoreWrite> {
        match delivery {
            Delivery::Write { writes, .. } => writes,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_orders_events_coalesce_into_one_note_one_update_and_its_trackings_in_order() {
        let rules = rules();
        let order = order(&[("9001", 1)]);
        let first_pick = writes(plan(
            &event(17, ChangeKind::PickRecorded, pick_payload(1)),
            Some(&order),
            cx(&rules, true),
        ));
        let mut second = event(18, ChangeKind::PickRecorded, pick_payload(3));
        second.payload["external_line_id"] = json!("9002");
        let second_pick = writes(plan(&second, Some(&order), cx(&rules, true)));
        let partial = writes(plan(
            &event(
                19,
                ChangeKind::ShipmentRecorded,
                shipment_payload(OrderStatus::PartiallyShipped),
            ),
            None,
            cx(&rules, true),
        ));
        let mut last = event(
            20,
            ChangeKind::ShipmentRecorded,
            shipment_payload(OrderStatus::Shipped),
        );
        last.payload["shipment"]["tracking"] = json!("1Z000");
        let complete = writes(plan(&last, None, cx(&rules, true)));
        let delivery = coalesce([
            (first_pick.as_slice(), true),
            (second_pick.as_slice(), false),
            (partial.as_slice(), false),
            (complete.as_slice(), false),
        ]);

        let marks: Vec<(&str, bool)> = delivery
            .note
            .iter()
            .map(|l| (l.write.mark.as_str(), l.in_doubt))
            .collect();
        assert_eq!(
            marks,
            [
                ("[IntelliTrack event 17]", true),
                ("[IntelliTrack event 18]", false),
                ("[IntelliTrack event 19]", false)
            ]
        );
        assert_eq!(
            note_text(delivery.note.iter().map(|l| &l.write)),
            "Picked 2 × MUG from MAIN (line 1: 1 of 3 picked). [IntelliTrack event 17]\n\
             Picked 2 × MUG from MAIN (line 1: 3 of 3 picked). [IntelliTrack event 18]\n\
             Shipped 2 × MUG with UPS 1Z999; the rest is still to ship. [IntelliTrack event 19]"
        );
        let numbers: Vec<&str> = delivery
            .trackings
            .iter()
            .map(|t| t.write.number.as_str())
            .collect();
        assert_eq!(numbers, ["1Z999", "1Z000"]);
        assert_eq!(
            delivery.picked,
            Some(BTreeMap::from([("9001".into(), 1), ("9002".into(), 3)]))
        );
        assert_eq!(delivery.status, Some("completed"));
        assert!(delivery.customer_notes.is_empty());
    }

    #[test]
    fn without_the_extension_customer_notes_stay_one_a_shipment_and_a_number_is_tracked_once() {
        let rules = rules();
        let shipped = writes(plan(
            &event(
                18,
                ChangeKind::ShipmentRecorded,
                shipment_payload(OrderStatus::PartiallyShipped),
            ),
            None,
            cx(&rules, false),
        ));
        let again = writes(plan(
            &event(
                19,
                ChangeKind::ShipmentRecorded,
                shipment_payload(OrderStatus::Shipped),
            ),
            None,
            cx(&rules, false),
        ));
        let delivery = coalesce([(shipped.as_slice(), false), (again.as_slice(), true)]);
        assert_eq!(delivery.trackings.len(), 1, "{delivery:#?}");
        assert_eq!(delivery.customer_notes.len(), 2);
        assert!(delivery.customer_notes[1].in_doubt);
        assert_eq!(delivery.customer_notes[0].write.look_for, "1Z999");
        assert_eq!(delivery.status, Some("completed"));
        assert_eq!(delivery.picked, None);
    }

    #[test]
    fn a_cancellation_after_a_pick_is_the_last_status_and_a_line_of_the_note() {
        let cancel = ExportRules {
            cancel_in_store: true,
            ..rules()
        };
        let picked = writes(plan(
            &event(30, ChangeKind::PickRecorded, pick_payload(1)),
            None,
            cx(&cancel, true),
        ));
        let payload = serde_json::to_value(OrderCancelled {
            reason: "lost".into(),
        })
        .unwrap();
        let cancelled = writes(plan(
            &event(31, ChangeKind::OrderCancelled, payload),
            None,
            cx(&cancel, true),
        ));
        let delivery = coalesce([(picked.as_slice(), false), (cancelled.as_slice(), false)]);
        assert_eq!(delivery.status, Some("cancelled"));
        assert_eq!(
            delivery.note[1].write.text,
            "Cancelled in the warehouse: lost. [IntelliTrack event 31]"
        );
    }

    #[test]
    fn the_tracking_meta_appends_only_numbers_it_lacks() {
        let tracking = |number: &str| Tracking {
            provider: provider("UPS", number),
            number: number.into(),
            shipped_at_s: 1_795_700_000,
            through_extension: false,
            entry_id: format!("intellitrack-{number}"),
        };
        let (a, b) = (tracking("1ZA"), tracking("1ZB"));
        let first = tracking_meta(None, [&a]).unwrap();
        assert_eq!(first[0]["tracking_provider"], "ups");
        assert_eq!(first[0]["date_shipped"], "1795700000");
        assert_eq!(tracking_meta(Some(&first), [&a]), None);
        let both = tracking_meta(Some(&first), [&a, &b]).unwrap();
        let numbers: Vec<&str> = both
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["tracking_number"].as_str().unwrap())
            .collect();
        assert_eq!(numbers, ["1ZA", "1ZB"]);
    }
}
