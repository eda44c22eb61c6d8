//! The warehouse's side: IntelliTrack's own transactions from the CLI
//! (items, items add / deactivate, orders, inventory, receive, adjust, pick,
//! ship, cancel).
//!
//! Every transaction is one database transaction that also writes its event
//! to the change feed; a refusal is printed as one clear line and changes
//! nothing. `listing` formats the `items` and `inventory` listings (their
//! tables and JSON rows).

mod listing;

use super::format_time;
use std::io::Write;

use anyhow::Context as _;
use clap::Subcommand;
use intellitrack_db::{Db, NewItem, OrderNotes, ShipRequest};
use plugin_api::warehouse::{Order, OrderStatus};
use serde::Serialize;

#[derive(Subcommand)]
pub enum WarehouseCommand {
    /// Every item, by item number (active or not), with its store
    /// references; or add or deactivate one.
    ///
    /// STORE REFS names every plugin instance's external id for the item:
    /// `woocommerce=101, woocommerce:shop-at=7`, or `-` when it has none.
    Items {
        #[command(subcommand)]
        command: Option<ItemsCommand>,
        /// Print JSON instead of a table.
        ///
        /// Each item has its fields and `store_refs`: every
        /// instance's reference, by instance id (`[{"instance":
        /// "woocommerce", "external_id": "101"}, ...]`). There is no
        /// `external_id` field: an item has one per instance.
        #[arg(long)]
        json: bool,
    },
    /// Orders, by number (all, or those with one status).
    Orders {
        /// open, picking, picked, partially-shipped, shipped, cancelled or exception.
        #[arg(long, value_parser = parse_status)]
        status: Option<OrderStatus>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// One order with its lines (numbered from 1) and shipments.
    Order {
        /// The order number.
        number: String,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// On hand, allocated and available, of one item or of every item,
    /// with its store references.
    ///
    /// STORE REFS names every plugin instance's external id for the item:
    /// `woocommerce=101, woocommerce:shop-at=7`, or `-` when it has none.
    Inventory {
        /// The item number (SKU); all items if left out.
        item: Option<String>,
        /// Print JSON instead of a table.
        ///
        /// Each item has its quantities and `store_refs`: every
        /// instance's reference, by instance id (`[{"instance":
        /// "woocommerce", "external_id": "101"}, ...]`). There is no
        /// `external_id` field: an item has one per instance.
        #[arg(long)]
        json: bool,
    },
    /// Receive stock of an item.
    Receive {
        /// The item number (SKU).
        item: String,
        /// A whole number.
        #[arg(value_parser = parse_quantity, allow_negative_numbers = true)]
        qty: i64,
        /// The location code.
        #[arg(long, default_value = intellitrack_db::DEFAULT_LOCATION)]
        location: String,
    },
    /// Adjust stock of an item up or down (e.g. -3), with a reason.
    Adjust {
        /// The item number (SKU).
        item: String,
        /// A whole number.
        #[arg(value_parser = parse_quantity, allow_negative_numbers = true)]
        qty: i64,
        #[arg(long)]
        reason: String,
        /// The location code.
        #[arg(long, default_value = intellitrack_db::DEFAULT_LOCATION)]
        location: String,
    },
    /// Pick a quantity of an order line.
    Pick {
        /// The order number.
        order: String,
        /// The line number, from 1.
        line: i64,
        /// A whole number.
        #[arg(value_parser = parse_quantity, allow_negative_numbers = true)]
        qty: i64,
        /// The location code.
        #[arg(long, default_value = intellitrack_db::DEFAULT_LOCATION)]
        location: String,
    },
    /// Ship picked units: the lines given, or everything picked and not yet shipped.
    Ship {
        /// The order number.
        order: String,
        #[arg(long)]
        carrier: String,
        #[arg(long)]
        tracking: String,
        #[arg(long, default_value = "")]
        service: String,
        /// LINE=QTY pairs.
        #[arg(value_name = "LINE=QTY", value_parser = parse_ship_line)]
        lines: Vec<(i64, i64)>,
    },
    /// Cancel an order in the warehouse; picked stock goes back on hand.
    Cancel {
        /// The order number.
        order: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
pub enum ItemsCommand {
    /// Make an item (a simple item, active) by hand.
    Add {
        /// The item number (SKU); must not exist yet.
        number: String,
        /// What the item is, as listings show it.
        #[arg(long)]
        description: String,
        /// A plain decimal, e.g. 12.50 [default: none].
        #[arg(long, allow_hyphen_values = true)]
        unit_cost: Option<String>,
        /// The unit of measure [default: EA].
        #[arg(long)]
        uom: Option<String>,
        /// Print the item as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Deactivate an item: it can no longer be received; what is on hand
    /// stays (adjust to count it out) and open orders can still be picked.
    Deactivate {
        /// The item number (SKU).
        number: String,
        /// Print the item as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a warehouse command as `user`, printing to stdout.
pub fn run(command: WarehouseCommand, db: &Db, user: &str, now_ms: i64) -> anyhow::Result<()> {
    run_to(command, db, user, now_ms, &mut std::io::stdout().lock())
}

fn run_to(
    command: WarehouseCommand,
    db: &Db,
    user: &str,
    now_ms: i64,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    match command {
        WarehouseCommand::Items {
            command: Some(command),
            ..
        } => items(command, db, user, now_ms, out)?,
        WarehouseCommand::Items {
            command: None,
            json,
        } => {
            let items = db.items_with_store_refs()?;
            if json {
                return print_json(out, &listing::items_json(&items));
            }
            out.write_all(listing::items_table(&items).as_bytes())?;
        }
        WarehouseCommand::Orders { status, json } => {
            let orders = db.orders(status)?;
            let attention = db.orders_needing_attention()?;
            if json {
                let listed: Vec<serde_json::Value> = orders
                    .iter()
                    .map(|o| with_attention(o, attention.get(&o.number)))
                    .collect::<Result<_, _>>()?;
                return print_json(out, &listed);
            }
            writeln!(
                out,
                "{:<16} {:<18} {:<10} {:>5} {:>8} {:>7} {:>8} CUSTOMER",
                "ORDER", "STATUS", "SOURCE", "LINES", "ORDERED", "PICKED", "SHIPPED"
            )?;
            for o in orders {
                let sum = |f: fn(&plugin_api::warehouse::OrderLineView) -> i64| {
                    o.lines.iter().map(f).sum::<i64>()
                };
                writeln!(
                    out,
                    "{:<16} {:<18} {:<10} {:>5} {:>8} {:>7} {:>8} {}",
                    o.number,
                    o.status.as_str(),
                    o.source.as_deref().unwrap_or("-"),
                    o.lines.len(),
                    sum(|l| l.ordered),
                    sum(|l| l.picked),
                    sum(|l| l.shipped),
                    o.customer
                )?;
                if let Some(why) = attention.get(&o.number) {
                    writeln!(out, "{:<16} ! needs attention: {why}", "")?;
                }
            }
        }
        WarehouseCommand::Order { number, json } => {
            let order = db
                .order(&number)?
                .with_context(|| format!("unknown order {number:?}"))?;
            let notes = db.order_notes(&number)?;
            if json {
                return print_json(out, &order_json(&order, &notes)?);
            }
            print_order(out, &order, &notes)?;
        }
        WarehouseCommand::Inventory { item, json } => {
            let quantities = db.inventory_with_store_refs(item.as_deref())?;
            if json {
                return print_json(out, &listing::inventory_json(&quantities));
            }
            out.write_all(listing::inventory_table(&quantities).as_bytes())?;
        }
        WarehouseCommand::Receive {
            item,
            qty,
            location,
        } => {
            let change = db.receive(&item, qty, Some(&location), user, now_ms)?;
            writeln!(
                out,
                "received {qty} of {item} at {}; {} on hand there",
                change.location, change.on_hand_at_location
            )?;
        }
        WarehouseCommand::Adjust {
            item,
            qty,
            reason,
            location,
        } => {
            let change = db.adjust(&item, qty, &reason, Some(&location), user, now_ms)?;
            writeln!(
                out,
                "adjusted {item} by {qty:+} at {}; {} on hand there",
                change.location, change.on_hand_at_location
            )?;
        }
        WarehouseCommand::Pick {
            order,
            line,
            qty,
            location,
        } => {
            let pick = db.pick(&order, line, qty, Some(&location), user, now_ms)?;
            writeln!(
                out,
                "picked {qty} for order {order} line {line} from {}; {} of {} picked; order {}",
                pick.location,
                pick.picked,
                pick.ordered,
                pick.order_status.as_str()
            )?;
        }
        WarehouseCommand::Ship {
            order,
            carrier,
            tracking,
            service,
            lines,
        } => {
            let request = ShipRequest {
                carrier,
                service,
                tracking,
                lines,
            };
            let shipped = db.ship(&order, &request, user, now_ms)?;
            let lines = shipped
                .shipment
                .lines
                .iter()
                .map(|l| format!("line {} x{}", l.line, l.quantity))
                .collect::<Vec<_>>()
                .join(", ");
            writeln!(
                out,
                "shipped order {order} by {} ({}): {lines}; order {}",
                shipped.shipment.carrier,
                shipped.shipment.tracking,
                shipped.order_status.as_str()
            )?;
        }
        WarehouseCommand::Cancel { order, reason } => {
            db.cancel_order(&order, &reason, user, now_ms)?;
            writeln!(out, "cancelled order {order}")?;
        }
    }
    Ok(())
}

fn items(
    command: ItemsCommand,
    db: &Db,
    user: &str,
    now_ms: i64,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let (item, json) = match command {
        ItemsCommand::Add {
            number,
            description,
            unit_cost,
            uom,
            json,
        } => {
            let new = NewItem {
                number,
                description,
                unit_cost,
                unit_of_measure: uom,
            };
            (db.add_item(&new, user, now_ms)?, json)
        }
        ItemsCommand::Deactivate { number, json } => {
            (db.deactivate_item(&number, user, now_ms)?, json)
        }
    };
    if json {
        return print_json(out, &item);
    }
    if item.active {
        writeln!(
            out,
            "added item {} ({}; unit {}, unit cost {}); receive stock with `plugin-host receive {} QTY`",
            item.number,
            item.description,
            item.unit_of_measure,
            item.unit_cost.as_deref().unwrap_or("not set"),
            item.number
        )?;
    } else {
        writeln!(
            out,
            "deactivated item {}; it can no longer be received",
            item.number
        )?;
    }
    Ok(())
}

fn print_json(out: &mut impl Write, value: &impl Serialize) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}

/// An order as JSON with why it needs attention (`null`: it does not).
fn with_attention(o: &Order, attention: Option<&String>) -> serde_json::Result<serde_json::Value> {
    let mut value = serde_json::to_value(o)?;
    value["attention"] = serde_json::json!(attention);
    Ok(value)
}

/// An order as JSON with what its store said of it: attention, and each
/// line's refunded units and description.
fn order_json(o: &Order, notes: &OrderNotes) -> serde_json::Result<serde_json::Value> {
    let mut value = with_attention(o, notes.attention.as_ref())?;
    if let Some(lines) = value["lines"].as_array_mut() {
        for (line, view) in lines.iter_mut().zip(&o.lines) {
            line["refunded"] = notes.refunded.get(&view.line).copied().unwrap_or(0).into();
            line["description"] = serde_json::json!(notes.descriptions.get(&view.line));
        }
    }
    Ok(value)
}

fn print_order(out: &mut impl Write, o: &Order, notes: &OrderNotes) -> anyhow::Result<()> {
    writeln!(out, "order     {}", o.number)?;
    writeln!(out, "status    {}", o.status.as_str())?;
    if let (Some(source), Some(id)) = (&o.source, &o.external_id) {
        writeln!(out, "source    {source} #{id}")?;
    }
    writeln!(out, "customer  {}", o.customer)?;
    let address = o.ship_to.one_line();
    writeln!(out, "ship to   {address}")?;
    writeln!(out, "shipping  {}", o.shipping_method)?;
    if !o.customer_note.is_empty() {
        writeln!(out, "note      {}", o.customer_note)?;
    }
    if let Some(reason) = &o.cancel_reason {
        writeln!(out, "cancelled {reason}")?;
    }
    if let Some(why) = &notes.attention {
        writeln!(out, "attention {why}")?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:>4} {:<20} {:>8} {:>7} {:>8} {:>8}",
        "LINE", "ITEM", "ORDERED", "PICKED", "SHIPPED", "REFUNDED"
    )?;
    for l in &o.lines {
        let kept = match (l.not_shipped, notes.descriptions.get(&l.line)) {
            (true, Some(description)) => format!("  not to be shipped: {description}"),
            (true, None) => "  (not to be shipped)".to_owned(),
            (false, _) => String::new(),
        };
        writeln!(
            out,
            "{:>4} {:<20} {:>8} {:>7} {:>8} {:>8}{kept}",
            l.line,
            l.item_number,
            l.ordered,
            l.picked,
            l.shipped,
            notes.refunded.get(&l.line).copied().unwrap_or(0),
        )?;
    }
    for s in &o.shipments {
        let lines = s
            .lines
            .iter()
            .map(|l| format!("{}={}", l.line, l.quantity))
            .collect::<Vec<_>>()
            .join(" ");
        writeln!(
            out,
            "shipment  {} {} {} at {}: {lines}",
            s.carrier,
            s.service,
            s.tracking,
            format_time(s.shipped_at_ms)
        )?;
    }
    Ok(())
}

/// A whole-number quantity; its sign and size are the transaction's to judge.
fn parse_quantity(s: &str) -> Result<i64, String> {
    s.parse()
        .map_err(|_| format!("the quantity must be a whole number, not {s:?}"))
}

fn parse_status(s: &str) -> Result<OrderStatus, String> {
    OrderStatus::parse(s).ok_or_else(|| {
        format!(
            "unknown status {s:?}: one of open, picking, picked, partially-shipped, shipped, cancelled, exception"
        )
    })
}

fn parse_ship_line(s: &str) -> Result<(i64, i64), String> {
    let (line, qty) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not LINE=QTY"))?;
    let line = line
        .parse()
        .map_err(|_| format!("the line in {s:?} must be a whole number"))?;
    Ok((line, parse_quantity(qty)?))
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use serde_json::json;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: WarehouseCommand,
    }

    fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("it.db")).unwrap();
        (dir, db)
    }

    /// Runs a command line; the output, or the error's text.
    fn cli(db: &Db, args: &[&str]) -> Result<String, String> {
        let parsed =
            Cli::try_parse_from(std::iter::once("plugin-host").chain(args.iter().copied()))
                .map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        run_to(parsed.command, db, "ann", 1_700_000_000_000, &mut out)
            .map_err(|e| format!("{e:#}"))?;
        Ok(String::from_utf8(out).unwrap())
    }

    fn seeded() -> (tempfile::TempDir, Db) {
        let (dir, db) = db();
        let batch = serde_json::from_value(json!({
            "item_upserts": [
                {"external_id": "10", "number": "MUG", "description": "Mug", "unit_cost": "2.50"}
            ],
            "order_upserts": [{
                "external_id": "500", "number": "WC-500", "customer": "Ada",
                "lines": [{"external_line_id": "1", "item": {"external_id": "10"}, "quantity": 3}]
            }],
            "state_changes": [{"key": "cursor", "value": 0}]
        }))
        .unwrap();
        db.apply_batch("woo", &batch, 1).unwrap();
        (dir, db)
    }

    #[test]
    fn a_warehouse_session_from_receipt_to_shipment() {
        let (_d, db) = seeded();
        assert_eq!(
            cli(&db, &["receive", "MUG", "5"]).unwrap(),
            "received 5 of MUG at MAIN; 5 on hand there\n"
        );
        assert_eq!(
            cli(&db, &["adjust", "MUG", "-1", "--reason", "chipped"]).unwrap(),
            "adjusted MUG by -1 at MAIN; 4 on hand there\n"
        );
        assert_eq!(
            cli(&db, &["pick", "WC-500", "1", "2"]).unwrap(),
            "picked 2 for order WC-500 line 1 from MAIN; 2 of 3 picked; order picking\n"
        );
        assert_eq!(
            cli(
                &db,
                &["ship", "WC-500", "--carrier", "UPS", "--tracking", "1Z1"]
            )
            .unwrap(),
            "shipped order WC-500 by UPS (1Z1): line 1 x2; order partially-shipped\n"
        );
        let order = cli(&db, &["order", "WC-500"]).unwrap();
        assert!(
            order.contains("   1 MUG                         3       2        2"),
            "{order}"
        );
        let inventory: serde_json::Value =
            serde_json::from_str(&cli(&db, &["inventory", "MUG", "--json"]).unwrap()).unwrap();
        assert_eq!(inventory[0]["on_hand"], 2);
        assert_eq!(inventory[0]["allocated"], 1);
        let listed = cli(&db, &["orders", "--status", "partially-shipped"]).unwrap();
        assert_eq!(listed.lines().count(), 2, "{listed}");
        assert_eq!(
            cli(&db, &["orders", "--status", "open"])
                .unwrap()
                .lines()
                .count(),
            1
        );
        assert!(cli(&db, &["items"]).unwrap().contains("MUG"));

        // The commands' events (the order's import wrote its allocations,
        // `other` to the plugin API, before them).
        let page = db.changes_after("woo", 0, 10).unwrap();
        let events: Vec<_> = page
            .events
            .iter()
            .filter(|e| e.kind != plugin_api::warehouse::ChangeKind::Other)
            .collect();
        let kinds: Vec<_> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "inventory-received",
                "inventory-adjusted",
                "pick-recorded",
                "shipment-recorded"
            ]
        );
        assert_eq!(events[3].payload["shipment"]["tracking"], "1Z1");
        assert_eq!(events[3].order_external_id.as_deref(), Some("500"));
    }

    #[test]
    fn items_and_inventory_show_every_store_reference() {
        let (_d, db) = seeded();
        let batch = serde_json::from_value(json!({
            "item_upserts": [{"external_id": "7", "number": "MUG", "description": "Mug"}]
        }))
        .unwrap();
        db.apply_batch("woo:shop-at", &batch, 2).unwrap();
        cli(&db, &["items", "add", "BOLT", "--description", "Bolt"]).unwrap();
        let both = json!([
            {"instance": "woo", "external_id": "10"},
            {"instance": "woo:shop-at", "external_id": "7"}
        ]);

        let items: serde_json::Value =
            serde_json::from_str(&cli(&db, &["items", "--json"]).unwrap()).unwrap();
        assert_eq!(
            (&items[0]["number"], &items[0]["store_refs"]),
            (&json!("BOLT"), &json!([]))
        );
        assert_eq!(
            (&items[1]["number"], &items[1]["store_refs"]),
            (&json!("MUG"), &both)
        );
        assert!(
            items[1].get("external_id").is_none(),
            "no single external id: {items}"
        );
        let inventory: serde_json::Value =
            serde_json::from_str(&cli(&db, &["inventory", "--json"]).unwrap()).unwrap();
        assert_eq!(inventory[0]["store_refs"], json!([]));
        assert_eq!(inventory[1]["store_refs"], both);
        assert!(inventory[1].get("external_id").is_none(), "{inventory}");
        let mug: serde_json::Value =
            serde_json::from_str(&cli(&db, &["inventory", "MUG", "--json"]).unwrap()).unwrap();
        assert_eq!(mug, json!([inventory[1]]));

        for args in [&["items"][..], &["inventory"]] {
            let table = cli(&db, args).unwrap();
            let line = |number: &str| {
                table
                    .lines()
                    .find(|l| l.starts_with(number))
                    .unwrap_or_else(|| panic!("no {number} in:\n{table}"))
                    .to_owned()
            };
            assert!(
                table.lines().next().unwrap().contains("STORE REFS"),
                "{table}"
            );
            assert!(line("MUG").contains(" woo=10, woo:shop-at=7 "), "{table}");
            assert!(line("BOLT").contains(" - "), "{table}");
        }
    }

    #[test]
    fn refusals_are_one_clear_line_and_change_nothing() {
        let (_d, db) = seeded();
        cli(&db, &["receive", "MUG", "2"]).unwrap();
        let before = (
            cli(&db, &["inventory", "--json"]).unwrap(),
            cli(&db, &["orders", "--json"]).unwrap(),
        );
        for (args, expected) in [
            (&["receive", "CUP", "1"][..], "unknown item \"CUP\""),
            (
                &["receive", "MUG", "0"],
                "the quantity received must be greater than zero (got 0)",
            ),
            (
                &["receive", "MUG", "1.5"],
                "the quantity must be a whole number, not \"1.5\"",
            ),
            (
                &["adjust", "MUG", "0", "--reason", "x"],
                "an adjustment of zero changes nothing",
            ),
            (&["pick", "WC-9", "1", "1"], "unknown order \"WC-9\""),
            (
                &["pick", "WC-500", "1", "4"],
                "3 ordered, 0 already picked; cannot pick 4 more",
            ),
            (
                &["pick", "WC-500", "1", "3"],
                "only 2 on hand at MAIN; cannot take out 3",
            ),
            (
                &["pick", "WC-500", "1", "-1"],
                "the quantity picked must be greater than zero (got -1)",
            ),
            (
                &[
                    "ship",
                    "WC-500",
                    "--carrier",
                    "UPS",
                    "--tracking",
                    "T",
                    "1=1",
                ],
                "0 picked, 0 already shipped; cannot ship 1 more",
            ),
            (
                &["ship", "WC-500", "--carrier", "UPS", "--tracking", "T", "1"],
                "\"1\" is not LINE=QTY",
            ),
            (&["order", "WC-9"], "unknown order \"WC-9\""),
            (&["orders", "--status", "lost"], "unknown status \"lost\""),
        ] {
            let err = cli(&db, args).unwrap_err();
            assert!(err.contains(expected), "{args:?}: {err}");
        }
        let after = (
            cli(&db, &["inventory", "--json"]).unwrap(),
            cli(&db, &["orders", "--json"]).unwrap(),
        );
        assert_eq!(after, before);
        cli(&db, &["cancel", "WC-500", "--reason", "fraud"]).unwrap();
        let err = cli(&db, &["pick", "WC-500", "1", "1"]).unwrap_err();
        assert_eq!(err, "order WC-500 is cancelled");
    }

    #[test]
    fn items_are_added_and_deactivated_by_hand() {
        let (_d, db) = db();
        assert_eq!(
            cli(&db, &["receive", "BOLT", "5"]).unwrap_err(),
            "unknown item \"BOLT\""
        );
        assert_eq!(
            cli(
                &db,
                &[
                    "items",
                    "add",
                    "BOLT",
                    "--description",
                    "Bolt M6",
                    "--unit-cost",
                    "0.15"
                ]
            )
            .unwrap(),
            "added item BOLT (Bolt M6; unit EA, unit cost 0.15); receive stock with `plugin-host receive BOLT QTY`\n"
        );
        let nut: serde_json::Value = serde_json::from_str(
            &cli(
                &db,
                &[
                    "items",
                    "add",
                    "NUT",
                    "--description",
                    "Nut",
                    "--uom",
                    "BOX",
                    "--json",
                ],
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            (&nut["number"], &nut["unit_of_measure"], &nut["active"]),
            (&json!("NUT"), &json!("BOX"), &json!(true))
        );
        cli(&db, &["receive", "BOLT", "5"]).unwrap();
        let before = cli(&db, &["items", "--json"]).unwrap();
        for (args, expected) in [
            (
                &["items", "add", "BOLT", "--description", "x"][..],
                "item \"BOLT\" already exists (active)",
            ),
            (
                &[
                    "items",
                    "add",
                    "X",
                    "--description",
                    "x",
                    "--unit-cost",
                    "-1",
                ],
                "unit cost \"-1\" is not a decimal number like \"12.50\"",
            ),
            (
                &["items", "add", "X", "--description", ""],
                "the description is empty",
            ),
            (&["items", "deactivate", "X"], "unknown item \"X\""),
        ] {
            let err = cli(&db, args).unwrap_err();
            assert!(err.contains(expected), "{args:?}: {err}");
        }
        assert_eq!(cli(&db, &["items", "--json"]).unwrap(), before);

        assert_eq!(
            cli(&db, &["items", "deactivate", "BOLT"]).unwrap(),
            "deactivated item BOLT; it can no longer be received\n"
        );
        assert_eq!(
            cli(&db, &["receive", "BOLT", "1"]).unwrap_err(),
            "item \"BOLT\" is inactive and cannot be received"
        );
        let listed = cli(&db, &["items"]).unwrap();
        let bolt = listed.lines().find(|l| l.starts_with("BOLT")).unwrap();
        assert!(bolt.contains(" no "), "{listed}");
    }
}
