//! The IntelliTrack database end to end: a plugin's import batch through the
//! DB handle, the warehouse's own transactions from the CLI, the change feed
//! the plugin reads back, and the example low-stock plugin's report.

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
