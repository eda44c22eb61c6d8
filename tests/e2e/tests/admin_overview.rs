//! What the admin page shows of what happened, against the real
//! `plugin-host serve`, the WooCommerce plugin and `woo-sandbox` seeded
//! with the e2e store (a virtual variation, a product without a SKU, a
//! grouped and an external product: the product import leaves them out,
//! each with its reason).
//!
//! Over HTTP: a run's page groups its issues by reason, failures first,
//! with counts that add up to the run's and a CSV for each group; the
//! history is one line per run, filtered and paged; a dry run and a run
//! that parked an event say so. In headless Chromium over WebDriver
//! (`browser` module): the overview after real runs, a run cancelled from
//! its page and recorded as cancelled, and a run's page polled across a
//! restart of `serve`; screenshots of the overview and of a run's page.

#[path = "support/admin_page.rs"]
#[allow(dead_code)]
mod page;

use std::path::Path;
use std::time::Duration;

use e2e_tests::{Install, LOW_STOCK, SandboxStore, WOOCOMMERCE, wait_until};
use page::{ADMIN, PageClient, add_users, run_by_hand};
use serde_json::Value;

/// The store of the e2e seed, started with `flags`.
fn seeded_store(flags: &[&str]) -> SandboxStore {
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/import.json");
    let mut all = vec!["--seed", seed.to_str().unwrap()];
    all.extend_from_slice(flags);
    SandboxStore::start_with(&all)
}

/// An install of `plugins` with the WooCommerce plugin set up for `store`
/// and activated, and the page's users.
fn install_for(store: &SandboxStore, plugins: &[&str]) -> Install {
    let install = Install::with_plugins(plugins);
    let settings = store.settings();
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    install.set("woocommerce", &settings);
    install.activate("woocommerce");
    add_users(&install);
    install
}

/// Runs a WooCommerce job from the CLI, failing the test unless it succeeds.
fn run(install: &Install, job: &str) -> Value {
    let ran = install.run(&["run", "woocommerce", job, "--json"]);
    let record: Value = serde_json::from_str(&ran.stdout())
        .unwrap_or_else(|e| panic!("{job}: not JSON ({e}): {}\n{}", ran.stdout(), ran.stderr()));
    assert_eq!(record["outcome"], "succeeded", "{job}: {record:#}");
    record
}

/// Every run the host recorded, newest first, with its issues.
fn recorded_runs(install: &Install) -> Vec<Value> {
    install
        .json(&["runs", "--json", "--limit", "1000"])
        .as_array()
        .unwrap()
        .clone()
}

/// The text between `start` and the next `end` after it, from `from` on.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let at = text
        .find(start)
        .unwrap_or_else(|| panic!("no {start:?} in:\n{text}"))
        + start.len();
    &text[at..at + text[at..].find(end).unwrap()]
}

fn unescaped(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&gt;", ">")
        .replace("&lt;", "<")
        .replace("&amp;", "&")
}

/// One issue group as a run's page shows it.
#[derive(Debug)]
struct Group {
    count: u64,
    outcome: String,
    reason: String,
    csv: String,
}

fn groups(run_page: &str) -> Vec<Group> {
    run_page
        .split("<details class=\"issue-group ")
        .skip(1)
        .map(|g| Group {
            count: between(g, "class=\"group-count\">", "<").parse().unwrap(),
            outcome: between(g, "</span> ", ":").to_owned(),
            reason: unescaped(between(g, "class=\"group-reason\">", "</span>")),
            csv: unescaped(between(g, "class=\"group-csv\" href=\"", "\"")),
        })
        .collect()
}

/// The rows of a CSV file (header first).
fn csv_rows(body: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

/// The run ids a history page lists, in its order.
fn listed_runs(history: &str) -> Vec<i64> {
    history
        .split("<tr class=\"run ")
        .skip(1)
        .map(|row| between(row, "id=\"run-", "\"").parse().unwrap())
        .collect()
}

#[test]
fn a_runs_issues_are_grouped_by_reason_with_a_csv_each_and_the_history_is_filtered_and_paged() {
    let store = seeded_store(&[]);
    let install = install_for(&store, &[WOOCOMMERCE, LOW_STOCK]);
    install.activate("low-stock");
    // More runs than one page of the history holds.
    for _ in 0..51 {
        install.run(&["run", "low-stock", "report"]).success();
    }
    let service = install.serve();
    let mut admin = PageClient::logged_in(&service, ADMIN);
    wait_until(Duration::from_secs(30), || {
        admin
            .get("/plugins/woocommerce/jobs")
            .body
            .contains("The service holds")
    })
    .expect("the service activates the plugin");

    // The product import leaves records out: its page groups them.
    let run_page = run_by_hand(&mut admin, "woocommerce", "import-products", &[]);
    let run_id: i64 = run_page.trim_start_matches("/runs/").parse().unwrap();
    let recorded = recorded_runs(&install)
        .into_iter()
        .find(|r| r["id"] == run_id)
        .unwrap();
    let issues = recorded["issues"].as_array().unwrap();
    let page = admin.get(&run_page);
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("<strong>succeeded</strong>"),
        "{}",
        page.body
    );
    let shown = groups(&page.body);
    assert!(shown.len() >= 2, "{shown:?}");
    let total: u64 = shown.iter().map(|g| g.count).sum();
    assert_eq!(
        total,
        recorded["skipped"].as_u64().unwrap() + recorded["failed"].as_u64().unwrap()
    );
    assert_eq!(total, issues.len() as u64);
    let reasons: Vec<String> = shown.iter().map(|g| g.reason.to_lowercase()).collect();
    assert!(
        reasons.iter().any(|r| r.contains("virtual")) && reasons.iter().any(|r| r.contains("sku")),
        "{reasons:?}"
    );
    // Failures first, then the biggest groups.
    let failed_last = shown.iter().rposition(|g| g.outcome == "failed");
    let skipped_first = shown.iter().position(|g| g.outcome == "skipped");
    if let (Some(f), Some(s)) = (failed_last, skipped_first) {
        assert!(f < s, "{shown:?}");
    }
    let skipped: Vec<&Group> = shown.iter().filter(|g| g.outcome == "skipped").collect();
    assert!(
        skipped.windows(2).all(|w| w[0].count >= w[1].count),
        "{shown:?}"
    );
    let summary = between(&page.body, "<ul id=\"issue-summary\">", "</ul>");
    let skipped_total: u64 = skipped.iter().map(|g| g.count).sum();
    assert!(
        summary.contains(&format!("{skipped_total} skipped: {} ", skipped[0].count)),
        "{summary}"
    );

    // Each group's CSV holds exactly its records, as recorded.
    for group in &shown {
        let csv = admin.get(&group.csv);
        assert_eq!(csv.status, 200, "{}", group.csv);
        assert_eq!(csv.header("content-type"), "text/csv; charset=utf-8");
        assert!(
            csv.header("content-disposition")
                .starts_with(&format!("attachment; filename=\"run-{run_id}-issues.csv\"")),
            "{}",
            csv.header("content-disposition")
        );
        let rows = csv_rows(&csv.body);
        assert_eq!(rows[0], ["record", "outcome", "reason"]);
        let expected: Vec<Vec<String>> = issues
            .iter()
            .filter(|i| {
                i["outcome"] == group.outcome.as_str() && i["reason"] == group.reason.as_str()
            })
            .map(|i| {
                ["record", "outcome", "reason"]
                    .iter()
                    .map(|k| i[k].as_str().unwrap().to_owned())
                    .collect()
            })
            .collect();
        assert_eq!(rows[1..], expected[..], "{}", group.csv);
        assert_eq!(expected.len() as u64, group.count);
    }
    let all = csv_rows(&admin.get(&format!("/runs/{run_id}/issues.csv")).body);
    assert_eq!(all.len() as u64, total + 1);
    assert_eq!(admin.get("/runs/999999/issues.csv").status, 404);

    // A dry run is marked as one, in the history and on its page.
    let dry_page = run_by_hand(
        &mut admin,
        "woocommerce",
        "end-of-day",
        &[("dry_run", "true")],
    );
    let dry = admin.get(&dry_page);
    assert!(
        dry.body.contains("<strong>succeeded, dry run</strong>"),
        "{}",
        dry.body
    );
    assert!(dry.body.contains("<caption>End of Day:"), "{}", dry.body);

    // An event for an order deleted in the store is parked: the run says so.
    run_by_hand(&mut admin, "woocommerce", "import-orders", &[]);
    let orders = install.json(&["orders", "--json"]);
    let order = &orders[0];
    install
        .run(&[
            "cancel",
            order["number"].as_str().unwrap(),
            "--reason",
            "damaged",
        ])
        .success();
    store.ok(
        "DELETE",
        &format!(
            "/wc/v3/orders/{}?force=true",
            order["external_id"].as_str().unwrap()
        ),
        None,
    );
    let export_page = run_by_hand(&mut admin, "woocommerce", "export-fulfillment", &[]);
    let export = admin.get(&export_page);
    assert!(
        export
            .body
            .contains("<strong>succeeded, 1 event parked</strong>"),
        "{}",
        export.body
    );

    // The history: one line per run, filtered and paged in the database.
    let history = admin.get("/runs");
    assert_eq!(history.status, 200);
    assert!(
        history.body.contains("succeeded, dry run")
            && history.body.contains("succeeded, 1 event parked"),
        "{}",
        history.body
    );
    assert!(
        !history.body.contains("class=\"issues\""),
        "no issues in the history"
    );
    let low_stock = recorded_runs(&install)
        .iter()
        .filter(|r| r["plugin"] == "low-stock")
        .count();
    assert!(low_stock >= 51);
    let first = admin.get("/runs?plugin=low-stock");
    assert!(
        first.body.contains(&format!("{low_stock} runs match.")),
        "{}",
        first.body
    );
    let first_ids = listed_runs(&first.body);
    assert_eq!(first_ids.len(), 50);
    assert!(
        first
            .body
            .contains("rel=\"next\" href=\"/runs?plugin=low-stock&amp;page=2\"")
    );
    let second_ids = listed_runs(&admin.get("/runs?plugin=low-stock&page=2").body);
    assert_eq!(second_ids.len(), low_stock - 50);
    assert!(second_ids.iter().all(|id| id < first_ids.last().unwrap()));
    let imports = admin.get("/runs?job=import-products&outcome=succeeded");
    assert_eq!(listed_runs(&imports.body), vec![run_id]);
    assert!(
        imports
            .body
            .contains("<option value=\"import-products\" selected>")
    );
    let none = admin.get("/runs?job=import-products&outcome=cancelled");
    assert!(listed_runs(&none.body).is_empty());
    let bad = admin.get("/runs?outcome=won");
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("There is no run outcome"), "{}", bad.body);
    assert_eq!(admin.get("/runs?plugin=low-stock&page=9").status, 404);
    assert_eq!(admin.get("/runs/999999").status, 404);
}

/// The overview, a cancelled run and a run's page across a restart of
/// `serve`, in a real headless Chromium, with screenshots
/// (`overview.png`, `run-page.png` in `target/e2e-screenshots/`).
mod browser {
    use std::net::TcpListener;
    use std::time::Duration;

    use e2e_tests::{SandboxStore, WOOCOMMERCE};
    use fantoccini::{Client, Locator};
    use serde_json::json;

    use super::page::browser::{Driver, chromium, shot, skipped_without_chromedriver, text};
    use super::page::browser::{eventually, follow, sign_in};
    use super::page::{ADMIN, PageClient};
    use super::{install_for, recorded_runs, run, seeded_store};

    /// Slow answers from the store (every request `latency_ms` late), so
    /// that a run is seen while it runs; 0 for none.
    fn slow(store: &SandboxStore, latency_ms: u64) {
        let rules = if latency_ms == 0 {
            json!([])
        } else {
            json!([{ "latency_ms": latency_ms }])
        };
        store.control_with("PUT", "faults", Some(rules));
    }

    #[test]
    fn the_overview_a_cancelled_run_and_a_run_polled_across_a_restart_in_chromium() {
        if skipped_without_chromedriver() {
            return;
        }
        let store = seeded_store(&[]);
        let install = install_for(&store, &[WOOCOMMERCE]);
        // What the overview reports: runs of every job, an order picked
        // after the export read the feed (pending), one parked.
        let import = run(&install, "import-products");
        run(&install, "import-orders");
        run(&install, "end-of-day");
        let orders = install.json(&["orders", "--json"]);
        let parked_order = &orders[0];
        install
            .run(&[
                "cancel",
                parked_order["number"].as_str().unwrap(),
                "--reason",
                "damaged",
            ])
            .success();
        store.ok(
            "DELETE",
            &format!(
                "/wc/v3/orders/{}?force=true",
                parked_order["external_id"].as_str().unwrap()
            ),
            None,
        );
        run(&install, "export-fulfillment");
        let picked = orders
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["status"] == "open" && o["number"] != parked_order["number"])
            .unwrap();
        install
            .run(&["pick", picked["number"].as_str().unwrap(), "1", "1"])
            .success();
        let waiting = install
            .json(&["orders", "--json"])
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| {
                ["open", "picking", "picked", "partially-shipped"]
                    .contains(&o["status"].as_str().unwrap())
            })
            .count();

        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let listen = format!("127.0.0.1:{port}");
        let service = install.serve_on(&listen, &[]);
        let base = service.admin_url();
        let driver = Driver::start();
        let profile = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let c = runtime.block_on(chromium(&driver.url, profile.path(), "1100,1450"));

        runtime.block_on(async {
            assert_eq!(sign_in(&c, &base, ADMIN).await, "Overview");
            let facts = "#instance-woocommerce";
            assert_eq!(text(&c, &format!("{facts} .events-parked")).await, "1");
            assert_eq!(text(&c, &format!("{facts} .events-pending")).await, "1");
            assert_eq!(
                text(&c, &format!("{facts} .orders-waiting")).await,
                waiting.to_string()
            );
            let answered = text(&c, &format!("{facts} td.store")).await;
            assert!(answered.starts_with("answered: the last run"), "{answered}");
            let products = text(&c, "tr[data-job='import-products'] .last-outcome").await;
            assert_eq!(products, format!("#{} succeeded", import["id"]));
            let counts = text(&c, "tr[data-job='import-products'] .counts").await;
            assert_eq!(
                counts,
                format!(
                    "{} created, {} updated, {} skipped, {} failed",
                    import["created"], import["updated"], import["skipped"], import["failed"]
                )
            );
            let next = text(&c, "tr[data-job='end-of-day'] .next").await;
            assert!(
                next == "due now"
                    || jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%SZ", &next).is_ok(),
                "{next}"
            );
            let drift = text(&c, ".drift").await;
            assert!(drift.starts_with("End of Day's last drift"), "{drift}");
            // The chart: 30 days, today's runs counted.
            let days = c
                .find_all(Locator::Css("svg.runs-chart g.day"))
                .await
                .unwrap();
            assert_eq!(days.len(), 30);
            let today = c
                .find(Locator::Css("svg.runs-chart g.day:last-of-type title"))
                .await
                .unwrap()
                .html(true)
                .await
                .unwrap();
            let runs_today: u64 = super::between(&today, ": ", " runs").parse().unwrap();
            assert!(runs_today >= 4, "{today}");
            assert!(c.get_alert_text().await.is_err(), "no alert was raised");
            shot(&c, "overview").await;

            // A run's page: its issues by reason, each group opened.
            c.goto(&format!("{base}/runs/{}", import["id"]))
                .await
                .unwrap();
            for group in c
                .find_all(Locator::Css("details.issue-group summary"))
                .await
                .unwrap()
            {
                group.click().await.unwrap();
            }
            let issues = text(&c, "#issue-summary").await;
            assert!(issues.contains(" skipped: "), "{issues}");
            let first = text(&c, "#group-0 ul.issues").await;
            assert!(!first.is_empty());
            c.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
            shot(&c, "run-page").await;
        });

        // A slow run cancelled from its page is recorded as cancelled.
        slow(&store, 2500);
        let cancelled = runtime.block_on(async {
            start_import(&c, &base).await;
            let head = text(&c, "#progress .progress-head").await;
            assert!(head.starts_with("Running: "), "{head}");
            // Pages read, with a total only once the store has said it.
            let reported = eventually(Duration::from_secs(20), || async {
                text(&c, "#progress .progress-steps")
                    .await
                    .contains("(pages): ")
            })
            .await;
            let pages = text(&c, "#progress .progress-steps").await;
            assert!(reported, "no pages reported: {pages}");
            let count = pages
                .split("(pages): ")
                .nth(1)
                .unwrap()
                .lines()
                .next()
                .unwrap();
            let known = count.split_once(" of ").is_some_and(|(done, total)| {
                let (done, total): (u64, u64) = (done.parse().unwrap(), total.parse().unwrap());
                total > 0 && done <= total
            });
            assert!(known || count.ends_with(", total unknown"), "{count}");
            follow(&c, Locator::Id("cancel")).await;
            // The page reloads itself once the run has ended.
            let ended = eventually(Duration::from_secs(60), || async {
                c.find_all(Locator::Css("#progress"))
                    .await
                    .is_ok_and(|found| found.is_empty())
            })
            .await;
            assert!(ended, "the cancelled run never ended");
            let outcome = text(&c, "#outcome").await;
            assert!(outcome.ends_with(": cancelled"), "{outcome}");
            assert_eq!(
                text(&c, ".run-error").await,
                "Error: cancelled by web:ann; stopped"
            );
            run_id(&c).await
        });
        let recorded = recorded_runs(&install);
        let record = recorded.iter().find(|r| r["id"] == cancelled).unwrap();
        assert_eq!(record["outcome"], "cancelled", "{record}");
        let audit = install.json(&["audit", "--json"]);
        assert!(
            audit
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["action"] == "run cancelled"
                    && a["user"] == "web:ann"
                    && a["detail"] == format!("run #{cancelled} of import-products")),
            "{audit}"
        );

        // A run's page polls on across a restart of the service: it says
        // the service does not answer, then (its session gone with the old
        // service) goes to the login; the same run's page shows how it ended.
        let interrupted = runtime.block_on(async {
            start_import(&c, &base).await;
            run_id(&c).await
        });
        assert!(interrupted > cancelled, "run ids are never used again");
        service.stop();
        runtime.block_on(async {
            let waiting = eventually(Duration::from_secs(30), || async {
                text(&c, "#progress .progress-head")
                    .await
                    .starts_with("The service does not answer")
            })
            .await;
            assert!(waiting, "the page never said the service did not answer");
        });
        slow(&store, 0);
        let service = install.serve_on(&listen, &[]);
        assert_eq!(service.admin_url(), base);
        runtime.block_on(async {
            let to_login = eventually(Duration::from_secs(30), || async {
                c.current_url().await.unwrap().path() == "/login"
            })
            .await;
            assert!(to_login, "the page never went to the login");
            assert_eq!(sign_in(&c, &base, ADMIN).await, "Overview");
            c.goto(&format!("{base}/runs/{interrupted}")).await.unwrap();
            let outcome = text(&c, "#outcome").await;
            assert!(outcome.ends_with(": interrupted"), "{outcome}");
            assert_eq!(text(&c, ".run-error").await, "Error: the service stopped");
        });
        let mut admin = PageClient::logged_in(&service, ADMIN);
        let progress: serde_json::Value =
            serde_json::from_str(&admin.get(&format!("/runs/{interrupted}/progress")).body)
                .unwrap();
        assert_eq!(
            (progress["finished"].as_bool(), progress["outcome"].as_str()),
            (Some(true), Some("interrupted"))
        );
        // The overview links the job's last run, now the interrupted one.
        runtime.block_on(async {
            c.goto(&format!("{base}/")).await.unwrap();
            let last = text(&c, "tr[data-job='import-products'] .last-outcome").await;
            assert_eq!(last, format!("#{interrupted} interrupted"));
            c.close().await.unwrap();
        });
    }

    /// Starts the product import from its jobs page once the service holds
    /// the plugin active; ends on the run's page.
    async fn start_import(c: &Client, base: &str) {
        let jobs = format!("{base}/plugins/woocommerce/jobs");
        let held = eventually(Duration::from_secs(30), || async {
            c.goto(&jobs).await.unwrap();
            c.source().await.unwrap().contains("The service holds")
        })
        .await;
        assert!(held, "the service never held the plugin active");
        follow(c, Locator::Id("run-import-products")).await;
        let path = c.current_url().await.unwrap().path().to_owned();
        assert!(path.starts_with("/runs/"), "{path}");
    }

    /// The id of the run whose page is open.
    async fn run_id(c: &Client) -> i64 {
        let path = c.current_url().await.unwrap().path().to_owned();
        path.trim_start_matches("/runs/").parse().unwrap()
    }
}
