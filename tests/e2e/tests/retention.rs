//! Retention, end to end: the real `plugin-host` (CLI and `serve`), the
//! real plugin libraries, `woo-sandbox` as its own process and the real
//! SQLite file, aged with the host's clock (`PLUGIN_HOST_CLOCK_OFFSET_SECONDS`)
//! or filled through the database crate with old records.
//!
//! - Nothing unacknowledged or parked is pruned: an export consumer behind
//!   the newest events, a parked event, and a plugin reading the feed that
//!   never acknowledges (it holds the whole feed until its instance is
//!   removed); `prune --dry-run` changes nothing and says who holds the feed.
//! - `serve` prunes once a day: old runs, their issues (a run kept longer
//!   than its issues says so) and audit lines go, the run history and a
//!   run's page still answer, and the database file shrinks.
//! - The retention settings: bad values are refused and change nothing;
//!   the admin page (over HTTP and in headless Chromium) changes them with
//!   an audit line, for admins only.
//! - A run with more than 1,000 issues keeps counts by reason and the first
//!   of each reason; its page, `runs` and the CSV say how many were not kept.
//! - A database an earlier host left without auto-vacuum is switched to
//!   incremental auto-vacuum at the first open, once, with a log line.

#[path = "support/admin_page.rs"]
#[allow(dead_code)]
mod page;
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use e2e_tests::{Install, SAMPLE_SOURCE, SandboxStore, WOOCOMMERCE};
use intellitrack_db::{Db, NewRun, RunFinish, RunOutcome, RunTrigger};
use page::browser::{
    Driver, chromium, click, log_in, shot, skipped_without_chromedriver, text, type_into,
};
use page::{ADMIN, PageClient, READER, add_users};
use plugin_api::{IssueOutcome, RecordIssue};
use serde_json::{Value, json};
use support::{PLUGIN, run_record, seed_store};

const DAY_SECONDS: i64 = 86_400;
const DAY_MS: i64 = DAY_SECONDS * 1000;

fn database(install: &Install) -> std::path::PathBuf {
    install.data_dir.join("intellitrack.db")
}

/// Rows of every table the prune touches, read from the file itself.
fn row_counts(install: &Install) -> BTreeMap<String, i64> {
    let conn = rusqlite::Connection::open(database(install)).unwrap();
    [
        "runs",
        "run_issues",
        "run_issues_not_kept",
        "run_tables",
        "change_feed",
        "parked_changes",
        "audit_log",
        "feed_acks",
        "feed_readers",
    ]
    .iter()
    .map(|t| {
        let n = conn
            .query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0))
            .unwrap();
        ((*t).to_owned(), n)
    })
    .collect()
}

fn feed_seqs(install: &Install) -> Vec<i64> {
    let conn = rusqlite::Connection::open(database(install)).unwrap();
    let mut stmt = conn
        .prepare("SELECT seq FROM change_feed ORDER BY seq")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Each consumer's acknowledgement, from the file itself.
fn feed_acks(install: &Install) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(database(install)).unwrap();
    let mut stmt = conn
        .prepare("SELECT consumer, seq FROM feed_acks ORDER BY consumer")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// `plugin-host prune ARGS` with the host's clock `days` ahead.
fn prune_at(install: &Install, days: i64, args: &[&str]) -> String {
    let offset = (days * DAY_SECONDS).to_string();
    let mut all = vec!["prune"];
    all.extend_from_slice(args);
    install
        .run_with_env(&all, &[("PLUGIN_HOST_CLOCK_OFFSET_SECONDS", &offset)])
        .success()
        .stdout()
}

fn table_rows(report: &Value, table: &str) -> u64 {
    report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == table)
        .unwrap_or_else(|| panic!("no {table} in {report:#}"))["rows"]
        .as_u64()
        .unwrap()
}

fn notes_with(store: &SandboxStore, order: u64, needle: &str) -> usize {
    store
        .ok("GET", &format!("/wc/v3/orders/{order}/notes"), None)
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["note"].as_str().unwrap().contains(needle))
        .count()
}

#[test]
fn nothing_unacknowledged_or_parked_is_pruned_and_a_silent_reader_holds_the_feed() {
    let (store, install) = seed_store(&[], &[], |_| {});
    for job in ["import-products", "import-orders"] {
        assert_eq!(run_record(&install, job, &[])["outcome"], "succeeded");
    }
    // Order 501's pick cannot be delivered (the order is gone): parked.
    install.run(&["pick", "501", "1", "1"]).success();
    install.run(&["pick", "505", "1", "1"]).success();
    store.ok("DELETE", "/wc/v3/orders/501?force=true", None);
    let exported = run_record(&install, "export-fulfillment", &[]);
    assert_eq!(
        (exported["created"].as_u64(), exported["failed"].as_u64()),
        (Some(1), Some(1)),
        "{exported:#}"
    );
    let parked = install.json(&["parked", "--json"]);
    let parked_seq = parked[0]["seq"].as_i64().unwrap();
    // The stock push is the instance's second consumer of the feed.
    let pushed = run_record(&install, "push-stock", &[]);
    assert_eq!(pushed["outcome"], "succeeded", "{pushed:#}");
    assert_eq!(
        feed_acks(&install),
        [
            (
                "export_fulfillment".to_owned(),
                *feed_seqs(&install).last().unwrap()
            ),
            (
                "push_stock".to_owned(),
                *feed_seqs(&install).last().unwrap()
            )
        ]
    );
    // The export acknowledged its cursor; a pick after it is not acknowledged.
    let acked = install
        .json(&["prune", "--dry-run", "--json"])
        .get("feed_horizon")
        .cloned()
        .unwrap();
    assert_eq!(acked["state"], "acknowledged", "{acked:#}");
    assert_eq!(
        (acked["plugin"].as_str(), acked["consumer"].as_str()),
        (Some(PLUGIN), Some("export_fulfillment"))
    );
    let acked_seq = acked["seq"].as_i64().unwrap();
    install.run(&["pick", "502", "1", "1"]).success();
    let behind = *feed_seqs(&install).last().unwrap();
    assert!(behind > acked_seq && parked_seq <= acked_seq);

    // A plugin reading the feed without acknowledging (sample-source keeps
    // its cursor to itself) holds all of it, until its instance goes.
    install.add_plugin(SAMPLE_SOURCE);
    install
        .run(&["plugins", "add-instance", "sample-source", "old"])
        .success();
    install.activate("sample-source:old");
    install.run(&["run", "sample-source:old", "feed"]).success();
    let before = row_counts(&install);
    let held = prune_at(&install, 40, &["--dry-run"]);
    assert!(
        held.contains("sample-source:old reads the change feed but has never acknowledged it"),
        "{held}"
    );
    assert!(held.contains("dry run: nothing was changed"), "{held}");
    assert_eq!(row_counts(&install), before, "a dry run changes nothing");
    let report: Value =
        serde_json::from_str(&prune_at(&install, 40, &["--dry-run", "--json"])).unwrap();
    assert_eq!(table_rows(&report, "change_feed"), 0, "{report:#}");
    assert_eq!(report["feed_horizon"]["state"], "held");

    install
        .run(&["plugins", "deactivate", "sample-source:old"])
        .success();
    install
        .run(&["plugins", "remove-instance", "sample-source:old"])
        .success();
    let before = row_counts(&install);
    assert_eq!(
        before["feed_readers"], 1,
        "its record as a reader went with it"
    );
    let report: Value =
        serde_json::from_str(&prune_at(&install, 40, &["--dry-run", "--json"])).unwrap();
    assert_eq!(report["feed_horizon"]["plugin"], PLUGIN, "{report:#}");
    let prunable = table_rows(&report, "change_feed");
    assert_eq!(row_counts(&install), before, "a dry run changes nothing");

    // Forty days on, the prune takes what was acknowledged and not parked.
    let all_before = feed_seqs(&install);
    let pruned: Value = serde_json::from_str(&prune_at(&install, 40, &["--json"])).unwrap();
    assert_eq!(table_rows(&pruned, "change_feed"), prunable);
    let left = feed_seqs(&install);
    let expected: Vec<i64> = all_before
        .iter()
        .copied()
        .filter(|s| *s > acked_seq || *s == parked_seq)
        .collect();
    assert_eq!(left, expected, "the parked and the unacknowledged stay");
    assert!(left.contains(&behind) && left.contains(&parked_seq));
    assert_eq!(prunable as usize, all_before.len() - left.len());
    assert!(prunable > 0);

    // The parked event is still listed and the pick behind the cursor
    // still reaches its order, once.
    let parked = install.json(&["parked", "--json"]);
    assert_eq!(parked[0]["seq"], parked_seq, "{parked:#}");
    let again = run_record(&install, "export-fulfillment", &[]);
    assert_eq!(again["created"], 1, "{again:#}");
    assert_eq!(notes_with(&store, 502, "Picked 1 × HOODIE-S"), 1);
    let last = run_record(&install, "export-fulfillment", &[]);
    assert_eq!(last["created"], 0, "{last:#}");
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A finished run of `job` that ended `days_ago`, with `issues` issues.
fn old_run(db: &Db, job: &str, days_ago: i64, issues: usize) -> i64 {
    let ended_ms = now_ms() - days_ago * DAY_MS;
    let run = db
        .start_run(
            &NewRun {
                plugin: PLUGIN,
                job,
                trigger: RunTrigger::Schedule,
                user: None,
                pid: 1,
                owner: "",
                started_ms: ended_ms - 1000,
                dry_run: false,
                forced: false,
            },
            |_, _| true,
        )
        .unwrap();
    let issues: Vec<RecordIssue> = (0..issues)
        .map(|n| {
            RecordIssue::new(
                format!("product {n} {}", "x".repeat(120)),
                IssueOutcome::Skipped,
                format!("reason {}", n % 5),
            )
        })
        .collect();
    db.finish_run(
        run,
        &RunFinish {
            outcome: RunOutcome::Succeeded,
            ended_ms,
            created: 3,
            updated: 0,
            skipped: issues.len() as u64,
            failed: 0,
            summary: "filled",
            error: None,
            issues: &issues,
        },
    )
    .unwrap();
    run
}

#[test]
fn serve_prunes_daily_the_run_pages_still_answer_and_the_file_shrinks() {
    let install = Install::with_plugins(&[WOOCOMMERCE]);
    add_users(&install);
    // Runs are kept 150 days, their issues 90: a run of 100 days ago keeps
    // its row and counts, not its issues.
    install
        .run(&["retention", "--set", "runs_days=150"])
        .success();
    let (gone, issues_gone, kept) = {
        let db = Db::open(&database(&install)).unwrap();
        let mut gone = Vec::new();
        for n in 0..600 {
            gone.push(old_run(&db, &format!("job-{}", n % 3), 200, 40));
            db.audit(
                "cli:ann",
                "filled",
                "site",
                &"y".repeat(400),
                now_ms() - 400 * DAY_MS,
            )
            .unwrap();
        }
        let issues_gone = old_run(&db, "import-products", 100, 12);
        let kept = old_run(&db, "import-orders", 1, 7);
        (gone, issues_gone, kept)
    };
    let full = std::fs::metadata(database(&install)).unwrap().len();

    let service = install.serve();
    service.wait_for_log("pruned by the retention settings", Duration::from_secs(60));
    let log = service.log();
    assert!(log.contains("runs 600"), "{log}");
    let mut admin = PageClient::logged_in(&service, ADMIN);
    let history = admin.get("/runs");
    assert_eq!(history.status, 200, "{}", history.body);
    assert!(history.body.contains(&format!("run-{kept}")));
    assert!(history.body.contains(&format!("run-{issues_gone}")));
    assert!(!history.body.contains(&format!("id=\"run-{}\"", gone[0])));
    let shown = admin.get(&format!("/runs/{kept}"));
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(shown.body.contains("7 skipped"), "{}", shown.body);
    let pruned = admin.get(&format!("/runs/{issues_gone}"));
    assert_eq!(pruned.status, 200, "{}", pruned.body);
    assert!(
        pruned.body.contains("issue list was pruned"),
        "{}",
        pruned.body
    );
    assert!(pruned.body.contains("12 skipped"), "its counts stay");
    assert_eq!(admin.get(&format!("/runs/{}", gone[0])).status, 404);

    // The retention page: a bad value changes nothing; a good one is audited.
    let refused = admin.submit(
        "/retention",
        "/retention",
        &[("runs_days", "0"), ("audit_days", "400")],
    );
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("not a number of days"),
        "{}",
        refused.body
    );
    let settings = install.json(&["retention", "--json"]);
    assert_eq!(
        settings,
        json!({"runs_days": 150, "run_issues_days": 90, "feed_days": 30, "audit_days": 365})
    );
    let saved = admin.submit("/retention", "/retention", &[("audit_days", "400")]);
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert!(saved.body.contains("Retention saved."), "{}", saved.body);
    assert_eq!(install.json(&["retention", "--json"])["audit_days"], 400);
    let audit = install.run(&["audit"]).success().stdout();
    assert!(
        audit.contains("web:ann") && audit.contains("retention changed"),
        "{audit}"
    );
    drop(admin);
    service.stop();

    let after = std::fs::metadata(database(&install)).unwrap().len();
    println!("the database file: {full} bytes before serve's prune, {after} after");
    assert!(
        after * 3 < full,
        "the file shrank from {full} to {after} bytes"
    );
    let counts = row_counts(&install);
    assert_eq!(counts["runs"], 2, "{counts:?}");
    assert_eq!(counts["run_issues"], 7, "{counts:?}");
}

#[test]
fn bad_retention_values_are_refused_and_change_nothing() {
    let install = Install::with_plugins(&[]);
    let before = install.json(&["retention", "--json"]);
    for (args, why) in [
        (
            vec!["--set", "runs_days=0"],
            "runs_days: \"0\" is not a number of days from 1 to 36500",
        ),
        (
            vec!["--set", "forever=1"],
            "forever: not a retention setting",
        ),
        (vec!["--set", "feed_days"], "write KEY=VALUE"),
        (
            vec!["--set", "runs_days=30", "--set", "audit_days=10"],
            "run_issues_days: 90 is longer than runs_days (30)",
        ),
    ] {
        let mut all = vec!["retention"];
        all.extend(args);
        let refused = install.run(&all).refused();
        assert!(refused.stderr().contains(why), "{}", refused.stderr());
        assert!(refused.stderr().contains("nothing was changed"));
    }
    assert_eq!(install.json(&["retention", "--json"]), before);
    let audit = install.run(&["audit"]).success().stdout();
    assert!(!audit.contains("retention changed"), "{audit}");
}

#[test]
fn a_run_past_1000_issues_keeps_counts_by_reason_and_the_first_of_each() {
    // A catalogue the product import skips whole: 1,100 grouped products
    // (one reason), then 200 without a SKU (a reason each, naming it).
    let products: Vec<Value> = (0..1_300)
        .map(|n| {
            let grouped = n < 1_100;
            json!({
                "id": 1000 + n,
                "type": if grouped { "grouped" } else { "simple" },
                "name": format!("Product {n}"),
                "sku": if grouped { format!("G-{n}") } else { String::new() },
                "regular_price": "1.00",
                "manage_stock": !grouped,
                "stock_quantity": 1,
                "date_created": "2026-11-20T10:00:00Z",
                "date_modified": "2026-11-20T10:00:00Z"
            })
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("bad.json");
    std::fs::write(&seed, json!({"products": products}).to_string()).unwrap();
    let store = SandboxStore::start_with(&["--seed", seed.to_str().unwrap()]);
    let install = Install::with_plugins(&[WOOCOMMERCE]);
    let settings = store.settings();
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    install.set(PLUGIN, &settings);
    install.activate(PLUGIN);
    add_users(&install);
    let run = run_record(&install, "import-products", &[]);
    assert_eq!(run["outcome"], "succeeded", "{run:#}");
    assert_eq!(run["skipped"], 1_300, "{run:#}");

    // Past 1,000: the grouped products' first 20 are kept and the rest
    // counted; 99 reasons without a SKU keep their one issue each, until
    // the run has 100 reasons; the other 101 are counted together.
    let listed = &install.json(&["runs", "--json", "--limit", "1"])[0];
    let kept = listed["issues"].as_array().unwrap();
    let not_kept: Vec<(u64, u64, bool)> = listed["issues_not_kept"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["count"].as_u64().unwrap(),
                g["not_kept"].as_u64().unwrap(),
                g["reason"].as_str().unwrap().starts_with("other reasons"),
            )
        })
        .collect();
    assert_eq!(
        not_kept,
        [(1_100, 1_080, false), (101, 101, true)],
        "{listed:#}"
    );
    assert_eq!(kept.len(), 20 + 99, "{listed:#}");
    let text = install.run(&["runs", "--limit", "1"]).success().stdout();
    assert!(text.contains("1080 more skipped not kept"), "{text}");

    let service = install.serve();
    let mut admin = PageClient::logged_in(&service, ADMIN);
    let id = listed["id"].as_i64().unwrap();
    let shown = admin.get(&format!("/runs/{id}"));
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(
        shown.body.contains("1080 of these were counted, not kept"),
        "{}",
        shown.body
    );
    assert!(shown.body.contains("1300 skipped"), "{}", shown.body);
    let csv = admin.get(&format!("/runs/{id}/issues.csv"));
    assert_eq!(csv.status, 200);
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines.len(), 1 + 119 + 2, "{}", csv.body);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("(1080 more not kept),skipped,grouped")),
        "{}",
        csv.body
    );
    assert!(Path::new(&database(&install)).exists());
}

#[test]
fn an_admin_changes_the_retention_on_the_page_and_a_refused_value_changes_nothing() {
    if skipped_without_chromedriver() {
        return;
    }
    let install = Install::with_plugins(&[]);
    add_users(&install);
    let service = install.serve();
    let mut rita = PageClient::logged_in(&service, READER);
    assert_eq!(rita.get("/retention").status, 403, "admins only");
    let install = &install;
    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let base = service.admin_url();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let c = chromium(&driver.url, profile.path(), "1280,1000").await;
        log_in(&c, &base, ADMIN).await;
        click(&c, "retention-link").await;
        assert_eq!(text(&c, "h1").await, "Retention");
        assert!(
            text(&c, "#feed-horizon")
                .await
                .contains("No plugin instance has read the change feed")
        );
        type_into(&c, "runs_days", "0").await;
        type_into(&c, "feed_days", "45").await;
        click(&c, "save-retention").await;
        assert!(
            text(&c, ".message.error")
                .await
                .contains("runs_days: \"0\" is not a number of days"),
        );
        shot(&c, "retention-01-refused").await;
        assert_eq!(install.json(&["retention", "--json"])["feed_days"], 30);
        type_into(&c, "runs_days", "120").await;
        click(&c, "save-retention").await;
        assert_eq!(text(&c, ".message.ok").await, "Retention saved.");
        shot(&c, "retention-02-saved").await;
        c.close().await.unwrap();
    });
    let settings = install.json(&["retention", "--json"]);
    assert_eq!(
        (
            settings["runs_days"].as_u64(),
            settings["feed_days"].as_u64()
        ),
        (Some(120), Some(45))
    );
    let audit = install.run(&["audit"]).success().stdout();
    assert_eq!(audit.matches("retention changed").count(), 1, "{audit}");
    assert!(audit.contains("runs_days=120"), "{audit}");
}

#[test]
fn a_database_from_before_retention_is_switched_to_incremental_vacuum_once() {
    let install = Install::with_plugins(&[]);
    install
        .run(&["retention", "--set", "audit_days=500"])
        .success();
    // As an earlier host left it: no auto-vacuum.
    {
        let conn = rusqlite::Connection::open(database(&install)).unwrap();
        conn.execute_batch("PRAGMA auto_vacuum = NONE; VACUUM;")
            .unwrap();
        let mode: i64 = conn
            .query_row("PRAGMA auto_vacuum", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, 0);
    }
    let first = install.run(&["retention", "--json"]).success();
    assert!(
        first
            .stderr()
            .contains("the database was switched to incremental auto-vacuum"),
        "{}",
        first.stderr()
    );
    let kept: Value = serde_json::from_str(&first.stdout()).unwrap();
    assert_eq!(kept["audit_days"], 500, "its records are kept");
    let conn = rusqlite::Connection::open(database(&install)).unwrap();
    let mode: i64 = conn
        .query_row("PRAGMA auto_vacuum", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, 2, "incremental");
    drop(conn);
    let again = install.run(&["retention"]).success();
    assert!(
        !again.stderr().contains("switched"),
        "once: {}",
        again.stderr()
    );
}
