//! The IntelliTrack database end to end: a plugin's import batch through the
//! DB handle, the warehouse's own transactions from the CLI (items made by
//! hand included), the change feed the plugin reads back, and the example
//! low-stock plugin's report.

use e2e_tests::{Install, LOW_STOCK, SAMPLE_SOURCE};

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
    // Imported twice, still once.
    let ran = install.run(&["run", "sample-source", "import"]).success();
    assert!(
        ran.stdout().contains("created 0 updated 4"),
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

    let ran = install.run(&["run", "sample-source", "feed"]).success();
    assert!(
        ran.stdout().contains(
            "events: 1 inventory-received, 2 inventory-received, 3 pick-recorded, 4 shipment-recorded"
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
fn runs_by_hand_need_a_role_with_the_plugins_feature_once_users_exist() {
    use intellitrack_db::{Access, Db, FeatureGrant};

    let install = Install::with_plugins(&[LOW_STOCK]);
    install.activate("low-stock");
    install
        .run(&["run", "low-stock", "report", "--as", "anyone"])
        .success();

    let db = Db::open(&install.data_dir.join("intellitrack.db")).unwrap();
    let grant = |feature: &str| FeatureGrant {
        feature: feature.into(),
        access: Access::Edit,
    };
    db.put_role("packer", "Picks and packs", &[grant("warehouse")])
        .unwrap();
    db.put_role("buyer", "Watches stock", &[grant("low-stock")])
        .unwrap();
    for (user, role) in [("ann", "packer"), ("bob", "buyer")] {
        db.put_user(user, user, 0).unwrap();
        db.grant_role(user, role).unwrap();
    }
    drop(db);

    let ran = install
        .run(&["run", "low-stock", "report", "--as", "ann"])
        .refused();
    assert!(
        ran.stderr().contains("ann may not run low-stock jobs by hand: none of their roles has the feature \"low-stock\""),
        "{}",
        ran.stderr()
    );
    install
        .run(&["run", "low-stock", "report", "--as", "bob"])
        .success();
    let runs = install.json(&["runs", "--json"]);
    assert_eq!(runs[0]["user"], "bob");
    assert_eq!(
        runs.as_array().unwrap().len(),
        2,
        "the refused run left no record"
    );
}
