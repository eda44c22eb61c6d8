//! The report job against a seeded warehouse, through `plugin-test-kit`.

use std::collections::BTreeSet;

use plugin_api::warehouse::{ImportBatch, ItemRef, OrderLine, OrderUpsert};
use plugin_test_kit::{LogLevel, TestHost};

use super::*;

fn host() -> TestHost {
    let host = TestHost::new(LowStock).unwrap();
    host.add_item("MUG", "Mug", 2).unwrap();
    host.add_item("CUP", "Cup", 10).unwrap();
    host.add_item("BOWL", "Bowl", 6).unwrap();
    host
}

#[test]
fn reports_the_items_at_or_below_the_reorder_point_and_logs_only_changes() {
    let host = host();
    host.set_settings(&[("reorder_point", "3")]).unwrap();
    host.activate().unwrap();

    let run = host.run_job(REPORT);
    assert_eq!(
        run.report().unwrap().summary,
        "1 of 3 items at or below the reorder point of 3: MUG (2 available)"
    );
    assert_eq!(run.logged_field(LogLevel::Warn, "item"), ["MUG"]);
    assert!(run.logged(LogLevel::Warn, "ran low"));
    let last_low: BTreeSet<String> = host.state(LAST_LOW).unwrap().unwrap();
    assert_eq!(last_low, BTreeSet::from(["MUG".to_string()]));

    // An order of 4 bowls leaves 2 available; 5 mugs arrive.
    host.context()
        .db()
        .apply(&ImportBatch {
            order_upserts: vec![OrderUpsert {
                external_id: "1001".into(),
                number: "1001".into(),
                customer: "A. Buyer".into(),
                ship_to: Default::default(),
                shipping_method: String::new(),
                customer_note: String::new(),
                ordered_at_ms: None,
                lines: vec![OrderLine {
                    external_line_id: "1".into(),
                    item: ItemRef::Number("BOWL".into()),
                    quantity: 4,
                    not_shipped: false,
                }],
            }],
            ..ImportBatch::default()
        })
        .unwrap();
    host.warehouse()
        .receive("MUG", 5, None, "clerk", host.now_ms())
        .unwrap();

    let run = host.run_job(REPORT);
    assert_eq!(
        run.report().unwrap().summary,
        "1 of 3 items at or below the reorder point of 3: BOWL (2 available)"
    );
    assert_eq!(run.logged_field(LogLevel::Warn, "item"), ["BOWL"]);
    assert_eq!(run.logged_field(LogLevel::Info, "item"), ["MUG"]);
    assert_eq!(host.orders(None).unwrap()[0].number, "1001");
    assert_eq!(
        host.warehouse().runs(Some("low-stock"), 10).unwrap().len(),
        2
    );
}

#[test]
fn a_malformed_watch_list_is_refused_and_changes_nothing() {
    let host = host();
    host.set_settings(&[("items", "MUG,CUP")]).unwrap();
    let err = host
        .set_settings(&[("reorder_point", "1"), ("items", "MUG CUP")])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid settings: items: \"MUG CUP\" is not an item number; separate item numbers with commas"
    );
    let settings = host.settings().unwrap();
    assert_eq!(settings.text("items"), Some("MUG,CUP"));
    assert_eq!(settings.integer("reorder_point"), Some(5));

    host.activate().unwrap();
    let run = host.run_job(REPORT);
    assert_eq!(
        run.report().unwrap().summary,
        "1 of 2 items at or below the reorder point of 5: MUG (2 available)"
    );
}
