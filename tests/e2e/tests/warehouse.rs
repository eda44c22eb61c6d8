//! The IntelliTrack database end to end: a plugin's import batch through the
//! DB handle, the warehouse's own transactions from the CLI (items made by
//! hand included), each item's store references in the listings, the change
//! feed the plugin reads back, and the example low-stock plugin's report.

use std::collections::BTreeMap;
use std::path::Path;

use e2e_tests::{Install, LOW_STOCK, SAMPLE_SOURCE, SandboxStore, WOOCOMMERCE};
use serde_json::{Value, json};

#[test]
fn warehouse_transactions_reach_the_change_feed_and_refusals_change_nothing() {
    let install = Install::with_plugins(&[SAMPLE_SOURCE, LOW_STOCK]);
    install.activate("sample-source");
    install.activate("low-stock");
    let ran = install.run(&["run", "sample-source", "import"]).success();
    assert!(
        ran.stdout().contains("created 4"),
        "3 items and 1 order: {}",
        ran.stdout()
    );
    // Imported twice, still once; sent again unchanged, nothing is updated.
    let ran = install.run(&["run", "sample-source", "import"]).success();
    assert!(
        ran.stdout().contains("created 0 updated 0"),
        "{}",
        ran.stdout()
    );

    let items = install.json(&["items", "--json"]);
    let numbers: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["MUG", "SHIRT", "SHIRT-RED"]);

    install.run(&["receive", "SHIRT-RED", "10"]).success();
    install.run(&["receive", "MUG", "3"]).success();
    install.run(&["pick", "S-500", "1", "2"]).success();

    let before = install.json(&["inventory", "--json"]);
    for refused in [
        &["pick", "S-500", "2", "5"][..],
        &["pick", "S-500", "9", "1"],
        &["pick", "S-404", "1", "1"],
        &["receive", "NOPE", "1"],
        &["receive", "MUG", "0"],
        &[
            "ship",
            "S-500",
            "--carrier",
            "UPS",
            "--tracking",
            "1Z",
            "2=1",
        ],
    ] {
        let ran = install.run(refused);
        assert_ne!(ran.code(), Some(0), "{refused:?} must be refused");
        assert!(
            ran.stderr().contains("error:"),
            "{refused:?}: {}",
            ran.stderr()
        );
    }
    assert_eq!(
        install.json(&["inventory", "--json"]),
        before,
        "refusals changed nothing"
    );

    install
        .run(&["ship", "S-500", "--carrier", "UPS", "--tracking", "1Z999"])
        .success();
    let order = install.json(&["order", "S-500", "--json"]);
    assert_eq!(order["status"], "partially-shipped");

    // The order's import allocated two items (`order-allocation`, a kind
    // the plugin API does not name: `other`), then the receipts, the pick
    // and the shipment.
    let ran = install.run(&["run", "sample-source", "feed"]).success();
    assert!(
        ran.stdout().contains(
            "events: 1 other, 2 other, 3 inventory-received, 4 inventory-received, 5 pick-recorded, 6 shipment-recorded"
        ),
        "{}",
        ran.stdout()
    );
    let ran = install.run(&["run", "sample-source", "feed"]).success();
    assert!(
        ran.stdout().contains("events: \n") || ran.stdout().contains("updated 0"),
        "the cursor acknowledged the events: {}",
        ran.stdout()
    );

    let ran = install.run(&["run", "low-stock", "report"]).success();
    assert!(
        ran.stdout().contains("2 of 3 items at or below the reorder point of 5: MUG (2 available), SHIRT (0 available)"),
        "{}",
        ran.stdout()
    );
}

#[test]
fn items_are_made_received_and_deactivated_by_hand() {
    let install = Install::with_plugins(&[]);
    let ran = install.run(&["receive", "BOLT-M6", "5"]).refused();
    assert!(
        ran.stderr().contains("error: unknown item \"BOLT-M6\""),
        "{}",
        ran.stderr()
    );

    let ran = install
        .run(&[
            "items",
            "add",
            "BOLT-M6",
            "--description",
            "Hex bolt M6",
            "--unit-cost",
            "0.15",
            "--uom",
            "BOX",
        ])
        .success();
    assert_eq!(
        ran.stdout(),
        "added item BOLT-M6 (Hex bolt M6; unit BOX, unit cost 0.15); receive stock with `plugin-host receive BOLT-M6 QTY`\n"
    );
    let nut = install.json(&[
        "items",
        "add",
        "NUT-M6",
        "--description",
        "Nut M6",
        "--json",
    ]);
    assert_eq!(nut["number"], "NUT-M6");
    assert_eq!(nut["unit_of_measure"], "EA");
    assert_eq!(nut["unit_cost"], serde_json::Value::Null);
    assert_eq!(nut["active"], true);

    install.run(&["receive", "BOLT-M6", "5"]).success();
    let inventory = install.json(&["inventory", "BOLT-M6", "--json"]);
    assert_eq!(inventory[0]["on_hand"], 5);
    assert_eq!(inventory[0]["available"], 5);

    let before = (
        install.json(&["items", "--json"]),
        install.json(&["inventory", "--json"]),
    );
    let mut refusals: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["items", "add", "BOLT-M6", "--description", "Again"],
            "item \"BOLT-M6\" already exists (active)".into(),
        ),
        (
            vec!["items", "add", "", "--description", "No number"],
            "the item number (SKU) is empty".into(),
        ),
        (
            vec!["items", "add", "WASHER", "--description", " "],
            "the description is empty".into(),
        ),
        (
            vec!["items", "deactivate", "WASHER"],
            "unknown item \"WASHER\"".into(),
        ),
    ];
    for cost in ["abc", "-1", "1e5"] {
        refusals.push((
            vec![
                "items",
                "add",
                "WASHER",
                "--description",
                "Washer",
                "--unit-cost",
                cost,
            ],
            format!("unit cost {cost:?} is not a decimal number like \"12.50\""),
        ));
    }
    for (args, reason) in &refusals {
        let ran = install.run(args).refused();
        let stderr = ran.stderr();
        assert_eq!(
            stderr.lines().filter(|l| l.starts_with("error:")).count(),
            1,
            "{args:?}: {stderr}"
        );
        assert!(stderr.contains(reason), "{args:?}: {stderr}");
    }
    let after = (
        install.json(&["items", "--json"]),
        install.json(&["inventory", "--json"]),
    );
    assert_eq!(after, before, "refusals changed nothing");

    let ran = install.run(&["items", "deactivate", "BOLT-M6"]).success();
    assert_eq!(
        ran.stdout(),
        "deactivated item BOLT-M6; it can no longer be received\n"
    );
    let ran = install.run(&["receive", "BOLT-M6", "1"]).refused();
    assert!(
        ran.stderr()
            .contains("error: item \"BOLT-M6\" is inactive and cannot be received"),
        "{}",
        ran.stderr()
    );
    let ran = install.run(&["items", "deactivate", "BOLT-M6"]).refused();
    assert!(
        ran.stderr()
            .contains("item \"BOLT-M6\" is already inactive"),
        "{}",
        ran.stderr()
    );
    // The stock stays, and can be counted out.
    assert_eq!(
        install.json(&["inventory", "BOLT-M6", "--json"])[0]["on_hand"],
        5
    );
    install
        .run(&["adjust", "BOLT-M6", "-5", "--reason", "scrapped"])
        .success();

    let listed = install.run(&["items"]).success().stdout();
    let active = |number: &str| {
        listed
            .lines()
            .find(|l| l.starts_with(number))
            .unwrap_or_else(|| panic!("no {number} in:\n{listed}"))
            .split_whitespace()
            .nth(2)
            .unwrap()
            .to_string()
    };
    assert_eq!(
        (active("BOLT-M6"), active("NUT-M6")),
        ("no".into(), "yes".into())
    );
    let items = install.json(&["items", "--json"]);
    assert_eq!(items[0]["active"], false);
    assert_eq!(items[1]["active"], true);
}

#[test]
fn runs_by_hand_from_the_cli_need_no_page_role_and_are_recorded_as_the_machines_user() {
    use intellitrack_db::{Access, Db, FeatureGrant};

    let install = Install::with_plugins(&[LOW_STOCK]);
    install.activate("low-stock");
    install.run(&["run", "low-stock", "report"]).success();

    let db = Db::open(&install.data_dir.join("intellitrack.db")).unwrap();
    let grant = |feature: &str| FeatureGrant {
        feature: feature.into(),
        access: Access::Edit,
    };
    db.put_role("packer", "Picks and packs", &[grant("warehouse")])
        .unwrap();
    db.put_user("ann", "ann", 0).unwrap();
    db.grant_role("ann", "packer").unwrap();
    drop(db);

    install.run(&["run", "low-stock", "report"]).success();
    let runs = install.json(&["runs", "--json"]);
    assert_eq!(runs.as_array().unwrap().len(), 2);
    for run in runs.as_array().unwrap() {
        assert!(run["user"].as_str().unwrap().starts_with("cli:"), "{run}");
    }
}

/// Each imported item's store references, in `items` and `inventory` (JSON
/// and tables): the WooCommerce plugin's first instance imports the e2e seed
/// store, then instance `shop-at` a store that sells the mug as its product
/// 7 and a product of its own.
#[test]
fn items_and_inventory_show_each_items_store_references() {
    const FIRST: &str = "woocommerce";
    const SHOP_AT: &str = "woocommerce:shop-at";
    let install = Install::with_plugins(&[WOOCOMMERCE]);
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/import.json");
    let seed_at = install.data_dir.parent().unwrap().join("seed-at.json");
    let at = "2026-11-20T10:00:00Z";
    std::fs::write(
        &seed_at,
        json!({"products": [
            {"id": 7, "type": "simple", "name": "Mug (AT)", "sku": "MUG", "manage_stock": true,
             "stock_quantity": 2, "date_created": at, "date_modified": at},
            {"id": 8, "type": "simple", "name": "AT only", "sku": "AT-ONLY", "manage_stock": true,
             "stock_quantity": 1, "date_created": at, "date_modified": at}
        ]})
        .to_string(),
    )
    .unwrap();
    let store = SandboxStore::start_with(&["--seed", &seed.display().to_string()]);
    let store_at = SandboxStore::start_with(&["--seed", &seed_at.display().to_string()]);
    install
        .run(&["plugins", "add-instance", FIRST, "shop-at"])
        .success();
    for (id, store) in [(FIRST, &store), (SHOP_AT, &store_at)] {
        let settings = store.settings();
        let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
        install.set(id, &settings);
        install.activate(id);
    }

    // Each listing's references by item number, as `instance=id` strings;
    // no row has a single `external_id` any more.
    let refs_of = |args: &[&str], number_field: &str| -> BTreeMap<String, Vec<String>> {
        let listed = install.json(args);
        listed
            .as_array()
            .unwrap()
            .iter()
            .map(|row| {
                assert!(row.get("external_id").is_none(), "{args:?}: {row}");
                let refs = row["store_refs"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{args:?}: no store_refs in {row}"))
                    .iter()
                    .map(|r| {
                        format!(
                            "{}={}",
                            r["instance"].as_str().unwrap(),
                            r["external_id"].as_str().unwrap()
                        )
                    })
                    .collect();
                (row[number_field].as_str().unwrap().to_owned(), refs)
            })
            .collect()
    };
    let expected = |pairs: &[(&str, &[&str])]| -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(number, refs)| {
                (
                    (*number).to_owned(),
                    refs.iter().map(|r| (*r).to_owned()).collect(),
                )
            })
            .collect()
    };

    install.run(&["run", FIRST, "import-products"]).success();
    let after_first = expected(&[
        ("CAP", &["woocommerce=120"]),
        ("CAP-RED", &["woocommerce=121"]),
        ("HOODIE", &["woocommerce=110"]),
        ("HOODIE-S", &["woocommerce=111"]),
        ("KIT-A", &["woocommerce=131"]),
        ("LAMP", &["woocommerce=103"]),
        ("MUG", &["woocommerce=101"]),
        ("POSTER", &["woocommerce=102"]),
    ]);
    assert_eq!(refs_of(&["items", "--json"], "number"), after_first);
    assert_eq!(
        refs_of(&["inventory", "--json"], "item_number"),
        after_first
    );

    install.run(&["run", SHOP_AT, "import-products"]).success();
    let mut after_both = after_first.clone();
    after_both.insert("AT-ONLY".into(), vec![format!("{SHOP_AT}=8")]);
    after_both.insert(
        "MUG".into(),
        vec!["woocommerce=101".into(), format!("{SHOP_AT}=7")],
    );
    assert_eq!(refs_of(&["items", "--json"], "number"), after_both);
    assert_eq!(refs_of(&["inventory", "--json"], "item_number"), after_both);
    let mug = install.json(&["inventory", "MUG", "--json"]);
    assert_eq!(
        mug[0]["store_refs"],
        json!([
            {"instance": "woocommerce", "external_id": "101"},
            {"instance": SHOP_AT, "external_id": "7"}
        ])
    );

    // The tables: a STORE REFS column, and an item made by hand has none.
    install
        .run(&["items", "add", "BOLT", "--description", "Made by hand"])
        .success();
    for command in ["items", "inventory"] {
        let table = install.run(&[command]).success().stdout();
        let line = |number: &str| -> String {
            table
                .lines()
                .find(|l| l.split_whitespace().next() == Some(number))
                .unwrap_or_else(|| panic!("no {number} in:\n{table}"))
                .to_owned()
        };
        assert!(
            table.lines().next().unwrap().contains("STORE REFS"),
            "{table}"
        );
        assert!(
            line("MUG").contains(" woocommerce=101, woocommerce:shop-at=7 "),
            "{command}:\n{table}"
        );
        assert!(
            line("POSTER").contains(" woocommerce=102 "),
            "{command}:\n{table}"
        );
        assert!(
            line("AT-ONLY").contains(" woocommerce:shop-at=8 "),
            "{command}:\n{table}"
        );
        assert!(line("BOLT").contains(" - "), "{command}:\n{table}");
    }
    let bolt: Value = install
        .json(&["items", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["number"] == "BOLT")
        .cloned()
        .unwrap();
    assert_eq!(bolt["store_refs"], json!([]));
}
