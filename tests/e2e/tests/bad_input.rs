//! Hostile input through the real binary.
//!
//! From the store: a proxy in front of the sandbox answers the product or
//! order listing itself with a hostile page (wrong types, fractional and
//! negative stock, duplicate ids and SKUs, HTML and scripts in names, huge
//! text, control characters, missing ids) or with something that is not a
//! page at all (an HTML error page with status 200, text, JSON that is not
//! a list). Each bad record is reported on its own and the others land; a
//! bad answer fails the run with its reason and writes nothing.
//!
//! From the admin: bad URLs, Basic auth over plain HTTP, huge and negative
//! numbers, unknown keys and choices, bad times and time zones, bad CLI
//! transactions. Each is refused with a line naming what and why, and
//! changes nothing (`plugins settings --json`, the secret, the schedule,
//! the warehouse, compared before and after).

mod support;

use e2e_tests::Install;
use serde_json::{Value, json};
use support::{
    Proxy, http_answer, plugin_state, run_job, seed_store_behind_a_proxy, warehouse_snapshot,
};

/// Answers the store's product listing (not the trash, not one product)
/// with `body` (status 200, one page).
fn products_answered_with(proxy: &Proxy, content_type: &'static str, body: Vec<u8>) {
    proxy.stand_in(Box::new(move |method, path| {
        let listing =
            path.starts_with("/wp-json/wc/v3/products?") && !path.contains("status=trash");
        (method == "GET" && listing).then(|| {
            http_answer(
                "200 OK",
                &[
                    ("Content-Type", content_type),
                    ("X-WP-Total", "1"),
                    ("X-WP-TotalPages", "1"),
                ],
                &body,
            )
        })
    }));
}

fn product(id: u64, extra: Value) -> Value {
    let mut p = json!({"id": id, "type": "simple", "status": "publish", "name": format!("Thing {id}"),
                       "sku": format!("T-{id}"), "manage_stock": true, "stock_quantity": 4,
                       "regular_price": "3.00", "date_modified_gmt": "2026-11-20T10:00:00",
                       "date_modified": "2026-11-20T11:00:00"});
    p.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    p
}

/// (on hand, available) of an item.
fn stock(install: &Install, number: &str) -> (i64, i64) {
    let q = &install.json(&["inventory", number, "--json"])[0];
    (
        q["on_hand"].as_i64().unwrap(),
        q["available"].as_i64().unwrap(),
    )
}

#[test]
fn a_hostile_product_page_is_judged_record_by_record() {
    let (_store, proxy, install) = seed_store_behind_a_proxy();
    let script = "<script>alert('x')</script> Mug &amp; <b>cup</b> \"quoted\"";
    let page = json!([
        product(9001, json!({"name": "First reading"})),
        product(9002, json!({"stock_quantity": "lots"})),
        product(9003, json!({"stock_quantity": -5})),
        product(9004, json!({"stock_quantity": 2.5})),
        product(9005, json!({"sku": "DUP"})),
        product(9006, json!({"sku": "DUP"})),
        product(9007, json!({"name": "Ω".repeat(1 << 20)})),
        {"name": "a product without an id", "sku": "NO-ID"},
        product(9008, json!({"manage_stock": "sometimes"})),
        product(9009, json!({"sku": ["T-9009"]})),
        product(9010, json!({"regular_price": "12,50", "sku": "T-9010"})),
        product(9011, json!({"date_modified_gmt": "the day after tomorrow"})),
        product(9012, json!({"name": script})),
        product(9001, json!({"name": "Second reading"})),
    ]);
    products_answered_with(&proxy, "application/json", page.to_string().into_bytes());
    let ran = run_job(&install, "import-products", &[]);
    let run = ran.record.expect("a run record");
    assert_eq!(run["outcome"], "succeeded", "{run:#}");
    let failed = |record: &str, reason: &str| json!({"record": record, "outcome": "failed", "reason": reason});
    assert_eq!(
        run["issues"],
        json!([
            failed("product 9002", "\"lots\" is not a number"),
            failed("product 9004", "2.5 is not a whole number"),
            failed("a product without an id", "missing field `id`"),
            failed("product 9008", "\"sometimes\" is not a manage_stock value"),
            failed("product 9009", "[\"T-9009\"] is not text"),
            failed("product 9010", "\"12,50\" is not a decimal amount"),
            failed("product 9011", "\"the day after tomorrow\" is not a date"),
            failed(
                "product 9005 \"Thing 9005\"",
                "SKU \"DUP\" is also used by product 9006 \"Thing 9006\"; neither is imported until the SKUs differ"
            ),
            failed(
                "product 9006 \"Thing 9006\"",
                "SKU \"DUP\" is also used by product 9005 \"Thing 9005\"; neither is imported until the SKUs differ"
            ),
        ]),
        "{run:#}"
    );
    let items = install.json(&["items", "--json"]);
    let described: Vec<(String, usize)> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["number"].as_str().unwrap().to_owned(),
                i["description"].as_str().unwrap().chars().count(),
            )
        })
        .collect();
    assert_eq!(
        described,
        [
            ("T-9001".to_owned(), "Second reading".len()),
            ("T-9003".to_owned(), 10),
            ("T-9007".to_owned(), 1 << 20),
            ("T-9012".to_owned(), script.chars().count()),
        ],
        "only the readable records, each once, the newest reading of a repeated id"
    );
    assert_eq!(items[3]["description"], script, "kept as text, as sent");
    assert_eq!(stock(&install, "T-9001"), (4, 4));
    assert_eq!(
        stock(&install, "T-9003"),
        (0, 0),
        "a negative count opens nothing"
    );
}

/// A run that gets `body` for a listing instead of a page fails saying
/// so, and writes nothing: the warehouse and the plugin's state are as
/// before.
fn assert_refused_whole(install: &Install, job: &str, wanted: &[&str]) {
    let warehouse = warehouse_snapshot(install);
    let states = import_states(install);
    let ran = run_job(install, job, &[]);
    assert_eq!(ran.code, Some(1), "{ran:#?}");
    assert_eq!(ran.outcome(), Some("failed"), "{ran:#?}");
    let reason = ran.reason();
    for part in wanted {
        assert!(reason.contains(part), "{job}: {part:?} not in {reason}");
    }
    assert_eq!(
        warehouse_snapshot(install),
        warehouse,
        "{job} wrote something"
    );
    assert_eq!(import_states(install), states, "{job} moved a watermark");
}

fn import_states(install: &Install) -> Vec<Option<Value>> {
    ["import_products", "import_orders"]
        .iter()
        .map(|key| plugin_state(&install.data_dir, key))
        .collect()
}

#[test]
fn an_html_error_page_sent_as_200_fails_the_order_import_and_writes_nothing() {
    let (_store, proxy, install) = seed_store_behind_a_proxy();
    assert!(run_job(&install, "import-products", &[]).succeeded());
    let page = b"<!DOCTYPE html><html><head><title>Database Error</title></head>\
<body><h1>Error establishing a database connection</h1></body></html>"
        .to_vec();
    proxy.stand_in(Box::new(move |method, path| {
        (method == "GET" && path.starts_with("/wp-json/wc/v3/orders?")).then(|| {
            http_answer(
                "200 OK",
                &[("Content-Type", "text/html; charset=UTF-8")],
                &page,
            )
        })
    }));
    assert_refused_whole(
        &install,
        "import-orders",
        &[
            "GET /wc/v3/orders: HTTP 200: unexpected answer: not JSON: expected value at line 1 column 1",
            "(after 5 attempts)",
        ],
    );
    assert_eq!(install.json(&["orders", "--json"]), json!([]));
}

#[test]
fn a_product_listing_that_is_not_a_list_fails_the_import_and_writes_nothing() {
    let (_store, proxy, install) = seed_store_behind_a_proxy();
    products_answered_with(
        &proxy,
        "application/json",
        br#"{"code": "rest_ok", "message": "Everything is fine", "data": {"status": 200}}"#
            .to_vec(),
    );
    assert_refused_whole(
        &install,
        "import-products",
        &[
            "GET /wc/v3/products",
            "expected a JSON array, got an object",
        ],
    );
    assert_eq!(install.json(&["items", "--json"]), json!([]));
    // Invalid UTF-8 inside a string: the page is not JSON.
    products_answered_with(
        &proxy,
        "application/json",
        b"[{\"id\": 101, \"name\": \"M\xffug\", \"sku\": \"MUG\"}]".to_vec(),
    );
    assert_refused_whole(
        &install,
        "import-products",
        &["GET /wc/v3/products: HTTP 200: unexpected answer: not JSON: invalid unicode code point"],
    );
}

/// A SKU with a line break (or other control characters) must not become
/// an item number: a line-based listing of items then shows one item as
/// two lines, and the number cannot be typed back.
///
/// WooCommerce's own admin strips such characters (`wc_clean`), but a SKU
/// written through the REST API or by another plugin keeps them: the
/// warehouse refuses that record, and the import lands the rest.
#[test]
fn a_sku_with_control_characters_is_refused_for_its_record() {
    let (_store, proxy, install) = seed_store_behind_a_proxy();
    let page = json!([
        product(9020, json!({"sku": "LINE\nBREAK"})),
        product(9021, json!({}))
    ]);
    products_answered_with(&proxy, "application/json", page.to_string().into_bytes());
    let run = run_job(&install, "import-products", &[]).record.unwrap();
    let numbers: Vec<Value> = install
        .json(&["items", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].clone())
        .collect();
    assert_eq!(numbers, [json!("T-9021")], "{run:#}");
}

/// What an admin sees of the plugin's setup, before and after refusals:
/// the settings (`--json`), the sealed secret, the schedule and the site's
/// time zone.
fn setup_of(install: &Install) -> (Value, Option<Vec<u8>>, String, String) {
    let db = intellitrack_db::Db::open(&install.data_dir.join("intellitrack.db")).unwrap();
    (
        install.json(&["plugins", "settings", "woocommerce", "--json"]),
        db.sealed_credential("woocommerce", "consumer_secret")
            .unwrap(),
        install.run(&["schedule", "woocommerce"]).success().stdout(),
        install.run(&["timezone"]).success().stdout(),
    )
}

/// Runs `args`; it must be refused (exit 1, or 2 for a value the command
/// line itself cannot parse), never crash, and say each of `wanted`.
fn assert_refused(install: &Install, args: &[&str], wanted: &[&str]) {
    let ran = install.run(args);
    assert!(
        matches!(ran.code(), Some(1) | Some(2)),
        "{args:?} was not refused ({:?}):\n{}\n{}",
        ran.code(),
        ran.stdout(),
        ran.stderr()
    );
    let said = ran.stderr();
    for part in wanted {
        assert!(said.contains(part), "{args:?}: {part:?} not in {said}");
    }
    assert!(!said.contains("panicked"), "{args:?}: {said}");
}

#[test]
fn hostile_settings_schedules_and_time_zones_are_refused_and_change_nothing() {
    let install = Install::with_plugins(&[e2e_tests::WOOCOMMERCE]);
    install.set(
        "woocommerce",
        &[
            "store_url=http://127.0.0.1:9",
            "consumer_key=ck_start",
            "consumer_secret=cs_start",
        ],
    );
    install
        .run(&[
            "schedule",
            "woocommerce",
            "--interval",
            "15",
            "--end-of-day",
            "23:30",
        ])
        .success();
    let before = setup_of(&install);
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["store_url=ftp://shop.example.com"],
            &["store_url: must start with http:// or https://"],
        ),
        (
            &["store_url=javascript:alert(1)"],
            &["store_url: must start with http:// or https://"],
        ),
        (
            &["store_url="],
            &["store_url: must start with http:// or https://"],
        ),
        (&["store_url=https://"], &["store_url: must name a host"]),
        (
            &["store_url=http://exa mple.com"],
            &["store_url: must name a host"],
        ),
        (
            &["store_url=https:///wp-json"],
            &["store_url: must name a host"],
        ),
        (
            &["auth_mode=basic"],
            &["auth_mode: Basic auth is ignored by WooCommerce over plain HTTP"],
        ),
        (
            &["auth_mode=kerberos"],
            &["auth_mode: must be one of: auto, basic, oauth, query_string"],
        ),
        (
            &["concurrency=99999999999999999999"],
            &["concurrency: must be auto or a whole number from 1 to 64"],
        ),
        (
            &["concurrency=65"],
            &["concurrency: must be auto or a whole number from 1 to 64"],
        ),
        (
            &["concurrency=-1"],
            &["concurrency: must be auto or a whole number from 1 to 64"],
        ),
        (
            &["concurrency=fast"],
            &["concurrency: must be auto or a whole number from 1 to 64"],
        ),
        (
            &["request_timeout_seconds=1e3"],
            &["request_timeout_seconds: must be a whole number"],
        ),
        (
            &["request_timeout_seconds=9223372036854775807"],
            &["request_timeout_seconds: must be from 1 to 300"],
        ),
        (
            &["eod_max_change_percent=0x10"],
            &["eod_max_change_percent: must be a whole number"],
        ),
        (
            &["eod_max_change_percent=50%"],
            &["eod_max_change_percent: must be a whole number"],
        ),
        (
            &["import_statuses=processing,shipped"],
            &["import_statuses: \"shipped\" is not one of:"],
        ),
        (
            &["import_statuses="],
            &["import_statuses: choose at least one order status to import"],
        ),
        (
            &["import_statuses=,,,"],
            &["import_statuses: choose at least one order status to import"],
        ),
        (
            &["missing_sku=USE_ID"],
            &["missing_sku: must be one of: skip, use_id"],
        ),
        (
            &["consumer_secret="],
            &["consumer_secret: must not be empty"],
        ),
        (
            &["default_location=   "],
            &["default_location: must not be empty"],
        ),
        (
            &["unit_cost_source=meta", "unit_cost_meta_key= "],
            &["unit_cost_meta_key: name the meta field"],
        ),
        (
            &["no_such_setting=1"],
            &["no_such_setting: is not a setting of woocommerce; settings: store_url,"],
        ),
        (&["store_url"], &["store_url: expected key=value"]),
        (
            &["host.job_deadline=0"],
            &["host.job_deadline: must be longer than zero"],
        ),
        (
            &["host.job_deadline=-5m"],
            &["host.job_deadline: must be a duration such as 90s, 30m or 2h"],
        ),
        (
            &["host.job_deadline=1.5h"],
            &["host.job_deadline: must be a duration such as 90s, 30m or 2h"],
        ),
        (
            &["host.job_deadline=18446744073709551616"],
            &["host.job_deadline: must be a duration"],
        ),
        // A good change beside a bad one: neither is kept.
        (
            &["concurrency=2", "store_url=shop"],
            &["store_url: must start with http:// or https://"],
        ),
        (
            &["consumer_secret=cs_new", "auth_mode=basic"],
            &["auth_mode: Basic auth is ignored"],
        ),
    ];
    for (set, wanted) in cases {
        assert_refused(
            &install,
            &e2e_tests::settings_args("woocommerce", set),
            wanted,
        );
    }
    // Each bad value beside a good one of another option: neither is kept.
    let schedule = |args: &[&'static str]| {
        let good = if args[0].starts_with("--interval") {
            ["--end-of-day", "21:15"]
        } else {
            ["--interval", "30"]
        };
        let mut all = vec!["schedule", "woocommerce", good[0], good[1]];
        all.extend_from_slice(args);
        all
    };
    let interval = "interval must be a whole number of minutes from 1 to 1440, or off";
    let time = "time of day must be HH:MM on a 24-hour clock";
    let range = "time range must be HH:MM-HH:MM (a start before the end, or wrapping past midnight like 22:00-06:00), or all-day";
    let schedules: &[(&[&str], &str)] = &[
        (&["--interval", "0"], interval),
        (&["--interval", "1441"], interval),
        (&["--interval", "99999999999999999999"], interval),
        (&["--interval=-5"], interval),
        (&["--interval", "1.5"], interval),
        (&["--interval", "١٠"], interval),
        (&["--end-of-day", "24:00"], time),
        (&["--end-of-day", "23:60"], time),
        (&["--end-of-day", "7:3"], time),
        (&["--end-of-day", "12:00 PM"], time),
        (&["--end-of-day", "٠٧:٣٠"], time),
        (&["--end-of-day", "+7:30"], time),
        (&["--end-of-day", ""], time),
        (&["--time-range", "25:00-26:00"], range),
        (
            &["--time-range", "08:00-08:00"],
            "time range starts and ends at 08:00; use all-day",
        ),
        (&["--time-range", "08:00"], range),
        (&["--time-range", "08:00-09:00-10:00"], range),
        (&["--time-range", "8-9"], range),
    ];
    for (args, wanted) in schedules {
        assert_refused(&install, &schedule(args), &[wanted]);
    }
    for zone in [
        "Mars/Olympus_Mons",
        "../../../../etc/passwd",
        "UTC+25",
        "",
        "Europe/Berlin; rm -rf /",
    ] {
        assert_refused(
            &install,
            &["timezone", zone],
            &[&format!(
                "unknown time zone {zone:?}: expected an IANA name such as Europe/Berlin"
            )],
        );
    }
    assert_eq!(
        setup_of(&install),
        before,
        "a refused change changed something"
    );
}

/// A warehouse with one item made by hand and five of it on hand, and
/// its snapshot.
fn five_bolts() -> (Install, Value) {
    let install = Install::with_plugins(&[e2e_tests::WOOCOMMERCE]);
    install
        .run(&["items", "add", "BOLT", "--description", "Bolt"])
        .success();
    install.run(&["receive", "BOLT", "5"]).success();
    let snapshot = warehouse_snapshot(&install);
    (install, snapshot)
}

#[test]
fn hostile_warehouse_transactions_are_refused_and_change_nothing() {
    let (install, before) = five_bolts();
    let cases: &[(&[&str], &str)] = &[
        (
            &["receive", "BOLT", "99999999999999999999"],
            "invalid value '99999999999999999999'",
        ),
        (
            &["receive", "BOLT", "0"],
            "must be greater than zero (got 0)",
        ),
        (
            &["receive", "BOLT", "-3"],
            "the quantity received must be greater than zero (got -3)",
        ),
        (&["receive", "BOLT", "2.5"], "invalid value '2.5'"),
        (&["receive", "NOPE", "1"], "NOPE"),
        (&["receive", "BOLT", "1", "--location", ""], "location"),
        (
            &["adjust", "BOLT", "-6", "--reason", "count"],
            "only 5 on hand at MAIN; cannot take out 6",
        ),
        (
            &["adjust", "BOLT", "-99999999999999999999", "--reason", "x"],
            "invalid value",
        ),
        (
            &["items", "add", "BOLT", "--description", "Again"],
            "item \"BOLT\" already exists",
        ),
        (
            &["items", "add", "", "--description", "No number"],
            "the item number (SKU) is empty",
        ),
        (
            &["items", "add", "NUT", "--description", ""],
            "the description is empty",
        ),
        (
            &["items", "add", "NUT", "--description", "Nut", "--uom", ""],
            "the unit of measure is empty",
        ),
        (&["pick", "NO-SUCH-ORDER", "1", "1"], "NO-SUCH-ORDER"),
        (
            &[
                "ship",
                "NO-SUCH-ORDER",
                "--carrier",
                "UPS",
                "--tracking",
                "T",
            ],
            "NO-SUCH-ORDER",
        ),
        (&["items", "deactivate", "NOPE"], "NOPE"),
    ];
    for (args, wanted) in cases {
        assert_refused(&install, args, &[wanted]);
    }
    for cost in ["1e5", "-1", "NaN", "12,50", "0x10"] {
        let add = [
            "items",
            "add",
            "NUT",
            "--description",
            "Nut",
            "--unit-cost",
            cost,
        ];
        let wanted = format!("unit cost \"{cost}\" is not a decimal number like \"12.50\"");
        assert_refused(&install, &add, &[&wanted]);
    }
    assert_eq!(
        warehouse_snapshot(&install),
        before,
        "a refused transaction changed something"
    );
}

/// A quantity so large that on hand would pass the largest whole number
/// must be refused like any impossible quantity.
///
/// Checked arithmetic: a quantity or a duration past the largest number is
/// refused with the reason, never a panic or a wrapped-around value.
#[test]
fn quantities_and_durations_past_the_largest_number_are_refused() {
    let (install, before) = five_bolts();
    let max = i64::MAX.to_string();
    assert_refused(&install, &["receive", "BOLT", &max], &["BOLT"]);
    assert_refused(
        &install,
        &["adjust", "BOLT", &max, "--reason", "x"],
        &["BOLT"],
    );
    assert_eq!(warehouse_snapshot(&install), before);
    assert_refused(
        &install,
        &[
            "plugins",
            "settings",
            "woocommerce",
            "--set",
            "host.job_deadline=5124095576030432h",
        ],
        &["host.job_deadline"],
    );
}
