//! The admin page as a place to change things, in a real headless Chromium
//! over WebDriver against the real `plugin-host serve` (and the sandbox
//! store where a plugin needs one), each outcome checked in the real
//! database through the CLI: forms that keep what was typed, the host's
//! settings and clearing a value, the next scheduled times; users and the
//! audit log; parked events retried and discarded; confirmation before
//! deactivating, a watermark reset and a forced End of Day; an instance
//! added while `serve` runs; the no-user notice's command. Over HTTP: every
//! new POST route refuses a read-only user and a form without the
//! session's CSRF token.

#[path = "support/admin_page.rs"]
#[allow(dead_code)]
mod page;

use std::time::Duration;

use e2e_tests::{Install, LOW_STOCK, SandboxStore, WOOCOMMERCE};
use fantoccini::{Client, Locator};
use page::browser::{
    Driver, chromium, click, eventually, log_in, shot, skipped_without_chromedriver, text,
    type_into,
};
use page::{ADMIN, PASSWORD, PageClient, READER, add_users};
use serde_json::Value;

/// Runs a browser session against the service at `base`.
fn in_chromium<F, Fut>(base: &str, session: F)
where
    F: FnOnce(Client, String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let c = chromium(&driver.url, profile.path(), "1280,1000").await;
        session(c.clone(), base.to_owned()).await;
        c.close().await.unwrap();
    });
}

/// The value a form field holds now.
async fn value(c: &Client, id: &str) -> String {
    c.find(Locator::Css(&format!(r#"[id="{id}"]"#)))
        .await
        .unwrap_or_else(|e| panic!("#{id}: {e}"))
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// The text of the element with this id (ids may hold dots).
async fn text_of(c: &Client, id: &str) -> String {
    text(c, &format!(r#"[id="{id}"]"#)).await
}

/// Ticks a check box (or picks a select's option by value).
async fn tick(c: &Client, id: &str) {
    c.find(Locator::Css(&format!(r#"[id="{id}"]"#)))
        .await
        .unwrap_or_else(|e| panic!("#{id}: {e}"))
        .click()
        .await
        .unwrap();
}

async fn choose(c: &Client, id: &str, option: &str) {
    c.find(Locator::Css(&format!(r#"[id="{id}"]"#)))
        .await
        .unwrap_or_else(|e| panic!("#{id}: {e}"))
        .select_by_value(option)
        .await
        .unwrap();
}

/// Opens `path` and makes sure the browser is there: a run's page that
/// reloads itself when its run ends may still be navigating when the test
/// moves on, and its reload would win over a single `goto`.
async fn goto(c: &Client, base: &str, path: &str) {
    let url = format!("{base}{path}");
    let arrived = eventually(Duration::from_secs(10), || async {
        c.goto(&url).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        c.current_url().await.unwrap().as_str() == url
    })
    .await;
    assert!(arrived, "the browser stays off {url}");
}

fn audit(install: &Install) -> Vec<Value> {
    install
        .json(&["audit", "--json", "--limit", "1000"])
        .as_array()
        .unwrap()
        .clone()
}

fn settings(install: &Install, id: &str) -> Value {
    install.json(&["plugins", "settings", id, "--json"])
}

fn user_roles(install: &Install, name: &str) -> Option<Value> {
    install
        .json(&["users", "list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == name)
        .map(|u| u["roles"].clone())
}

/// Whether the audit log holds a line by `who` for `action` on `target`.
fn audited(lines: &[Value], who: &str, action: &str, target: &str) -> bool {
    lines
        .iter()
        .any(|a| a["user"] == who && a["action"] == action && a["target"] == target)
}

#[test]
fn refused_settings_and_schedules_keep_what_was_typed_and_an_unchanged_save_says_so() {
    if skipped_without_chromedriver() {
        return;
    }
    let install = Install::with_plugins(&[LOW_STOCK]);
    add_users(&install);
    install.run(&["timezone", "Europe/Berlin"]).success();
    let service = install.serve();
    let schedule_before = install.run(&["schedule", "low-stock"]).success().stdout();
    let install = &install;
    in_chromium(&service.admin_url(), |c, base| async move {
        log_in(&c, &base, ADMIN).await;
        goto(&c, &base, "/plugins/low-stock/settings").await;
        let lines = audit(install).len();

        // Two bad values (the plugin's and the host's) and a good one:
        // every error at once, beside its field, and all three kept.
        type_into(&c, "field-reorder_point", "-3").await;
        type_into(&c, "field-items", "BOLT").await;
        type_into(&c, "field-host.job_deadline", "soon").await;
        click(&c, "save").await;
        assert!(
            text(&c, ".message.error")
                .await
                .contains("Nothing was saved")
        );
        assert!(!text_of(&c, "error-reorder_point").await.is_empty());
        assert!(
            text_of(&c, "error-host.job_deadline")
                .await
                .contains("duration"),
            "{}",
            text_of(&c, "error-host.job_deadline").await
        );
        assert_eq!(value(&c, "field-reorder_point").await, "-3");
        assert_eq!(value(&c, "field-items").await, "BOLT");
        assert_eq!(value(&c, "field-host.job_deadline").await, "soon");
        shot(&c, "forms-01-settings-refused-as-typed").await;
        let stored = settings(install, "low-stock");
        assert_eq!(stored["reorder_point"]["value"], 5, "{stored}");
        assert_eq!(stored["items"]["value"], Value::Null, "{stored}");
        assert_eq!(audit(install).len(), lines, "nothing recorded");

        // Corrected: saved, the host's setting too.
        type_into(&c, "field-reorder_point", "9").await;
        type_into(&c, "field-host.job_deadline", "2h").await;
        click(&c, "save").await;
        assert_eq!(text(&c, ".message.ok").await, "Settings saved.");
        assert_eq!(value(&c, "field-host.job_deadline").await, "2h");
        let stored = settings(install, "low-stock");
        assert_eq!(stored["reorder_point"]["value"], 9, "{stored}");
        assert_eq!(stored["items"]["value"], "BOLT", "{stored}");
        assert_eq!(stored["host.job_deadline"]["value"], 7200, "{stored}");
        let lines = audit(install).len();

        // Saved again as it is: nothing changed, nothing recorded.
        click(&c, "save").await;
        assert_eq!(text(&c, ".message.ok").await, "Nothing changed.");
        assert_eq!(audit(install).len(), lines);

        // Cleared: the optional setting is gone, the host's is its default.
        tick(&c, "clear-items").await;
        tick(&c, "clear-host.job_deadline").await;
        shot(&c, "forms-02-settings-clear").await;
        click(&c, "save").await;
        assert_eq!(text(&c, ".message.ok").await, "Settings saved.");
        let stored = settings(install, "low-stock");
        assert_eq!(stored["items"]["value"], Value::Null, "{stored}");
        assert_eq!(stored["host.job_deadline"]["value"], 3600, "{stored}");
        assert_eq!(stored["reorder_point"]["value"], 9, "{stored}");
        let last = audit(install)[0].clone();
        assert_eq!(last["user"], "web:ann", "{last}");
        assert_eq!(
            last["detail"], "items cleared, host.job_deadline cleared",
            "{last}"
        );
        assert!(
            c.find_all(Locator::Id("clear-items"))
                .await
                .unwrap()
                .is_empty()
        );

        // A refused schedule keeps what was typed, each error by its field.
        goto(&c, &base, "/plugins/low-stock/schedule").await;
        type_into(&c, "interval", "0").await;
        type_into(&c, "end_of_day", "25:99").await;
        click(&c, "save-schedule").await;
        assert!(!text_of(&c, "error-interval").await.is_empty());
        assert!(!text_of(&c, "error-end_of_day").await.is_empty());
        assert!(
            c.find_all(Locator::Id("error-time_range"))
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(value(&c, "interval").await, "0");
        assert_eq!(value(&c, "end_of_day").await, "25:99");
        shot(&c, "forms-03-schedule-refused-as-typed").await;
        assert_eq!(
            install.run(&["schedule", "low-stock"]).success().stdout(),
            schedule_before
        );

        // Saved: the next three End of Day times, in the site's zone.
        type_into(&c, "interval", "15").await;
        type_into(&c, "end_of_day", "23:30").await;
        click(&c, "save-schedule").await;
        assert_eq!(text(&c, ".message.ok").await, "Schedule saved.");
        let times = text(&c, "#upcoming td.times").await;
        let times: Vec<&str> = times.split(", ").collect();
        assert_eq!(times.len(), 3, "{times:?}");
        assert!(times.iter().all(|t| t.ends_with("23:30")), "{times:?}");
        assert!(text(&c, "main").await.contains("Europe/Berlin"));
        shot(&c, "forms-04-schedule-next-times").await;
        let shown = install.run(&["schedule", "low-stock"]).success().stdout();
        assert!(shown.contains("23:30") && shown.contains("15"), "{shown}");
        let lines = audit(install).len();
        click(&c, "save-schedule").await;
        assert_eq!(text(&c, ".message.ok").await, "Nothing changed.");
        assert_eq!(audit(install).len(), lines);
    });
}

#[test]
fn an_admin_adds_changes_and_removes_users_and_reads_the_audit_log_filtered_and_paged() {
    if skipped_without_chromedriver() {
        return;
    }
    let install = Install::with_plugins(&[LOW_STOCK]);
    add_users(&install);
    let service = install.serve();
    let install = &install;
    let mut rita = PageClient::logged_in(&service, READER);
    assert_eq!(rita.get("/plugins").status, 200);
    assert_eq!(rita.get("/users").status, 403, "admins only");
    assert_eq!(rita.get("/audit").status, 403, "admins only");
    in_chromium(&service.admin_url(), |c, base| async move {
        log_in(&c, &base, ADMIN).await;
        click(&c, "users-link").await;
        assert_eq!(text(&c, "h1").await, "Users");

        // A weak password is refused beside its field; the name stays.
        type_into(&c, "new-name", "carl").await;
        choose(&c, "new-role", "read-only").await;
        type_into(&c, "new-password", "short").await;
        click(&c, "add").await;
        assert!(
            text(&c, "#error-password")
                .await
                .contains("shorter than 12")
        );
        assert_eq!(value(&c, "new-name").await, "carl");
        assert_eq!(value(&c, "new-password").await, "", "never shown again");
        shot(&c, "users-01-add-refused").await;
        assert_eq!(user_roles(install, "carl"), None);

        type_into(&c, "new-password", PASSWORD).await;
        click(&c, "add").await;
        assert_eq!(text(&c, ".message.ok").await, "carl added.");
        assert_eq!(
            user_roles(install, "carl"),
            Some(serde_json::json!(["read-only"]))
        );

        choose(&c, "role-carl", "admin").await;
        click(&c, "change-role-carl").await;
        assert_eq!(
            user_roles(install, "carl"),
            Some(serde_json::json!(["admin"]))
        );

        // A new password ends rita's session; removing her, her account.
        type_into(&c, "password-rita", "another fine passphrase").await;
        click(&c, "reset-password-rita").await;
        assert!(
            text(&c, ".message.ok")
                .await
                .contains("sessions have ended")
        );
        click(&c, "remove-rita").await;
        assert_eq!(user_roles(install, "rita"), None);

        // The last admin stays one.
        click(&c, "remove-carl").await;
        choose(&c, "role-ann", "read-only").await;
        click(&c, "change-role-ann").await;
        assert!(text(&c, ".message.error").await.contains("last admin"));
        assert_eq!(
            user_roles(install, "ann"),
            Some(serde_json::json!(["admin"]))
        );
        shot(&c, "users-02-last-admin").await;

        let lines = audit(install);
        for (action, target) in [
            ("user added", "carl"),
            ("role changed", "carl"),
            ("password changed", "rita"),
            ("user removed", "rita"),
            ("user removed", "carl"),
        ] {
            assert!(
                audited(&lines, "web:ann", action, target),
                "{action} {target}: {lines:?}"
            );
        }
        assert!(!audited(&lines, "web:ann", "role changed", "ann"));

        // The audit log, filtered by who and what.
        click(&c, "audit-link").await;
        choose(&c, "filter-user", "web:ann").await;
        choose(&c, "filter-action", "user removed").await;
        click(&c, "filter").await;
        let rows = c.find_all(Locator::Css("#audit tbody tr")).await.unwrap();
        assert_eq!(rows.len(), 2);
        let targets = text(&c, "#audit tbody").await;
        assert!(
            targets.contains("rita") && targets.contains("carl"),
            "{targets}"
        );
        assert!(!targets.contains("cli:"), "{targets}");
        shot(&c, "users-03-audit-filtered").await;
    });
    assert_eq!(rita.get("/plugins").status, 303, "rita's session ended");

    // Paged: 60 more lines, 50 a page, the newest first.
    let mut ann = PageClient::logged_in(&service, ADMIN);
    let token = ann.get("/plugins/low-stock/schedule").csrf();
    for n in 0..60 {
        let zone = if n % 2 == 0 { "Europe/Berlin" } else { "UTC" };
        let saved = ann.post(
            "/timezone",
            &[("csrf", &token), ("back", "low-stock"), ("zone", zone)],
        );
        assert_eq!(saved.status, 200, "{}", saved.body);
    }
    let total = audit(install).len();
    let first = ann.get("/audit");
    assert_eq!(first.body.matches(r#"<td class="who">"#).count(), 50);
    assert!(first.body.contains(r#"id="older""#));
    let second = ann.get("/audit?page=1");
    assert_eq!(
        second.body.matches(r#"<td class="who">"#).count(),
        total - 50
    );
    assert!(second.body.contains(r#"id="newer""#) && !second.body.contains(r#"id="older""#));
    let today = ann.get("/audit?action=time+zone+changed&from=2000-01-01&to=2999-12-31");
    assert_eq!(today.body.matches(r#"<td class="who">"#).count(), 50);
    let none = ann.get("/audit?from=2000-01-01&to=2000-01-02");
    assert!(none.body.contains(r#"id="no-audit""#), "{}", none.body);
    assert_eq!(ann.get("/audit?from=yesterday").status, 422);
}

/// A store with the plugin set up and its catalogue and orders imported;
/// two orders cancelled in the warehouse and deleted in the store, so the
/// export parks their events.
fn parked_store() -> (SandboxStore, Install) {
    let store = SandboxStore::start();
    let install = Install::with_plugins(&[WOOCOMMERCE]);
    let settings = store.settings();
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    install.set("woocommerce", &settings);
    install.activate("woocommerce");
    for job in ["import-products", "import-orders"] {
        install.run(&["run", "woocommerce", job]).success();
    }
    let orders = install.json(&["orders", "--json"]);
    let orders = orders.as_array().unwrap();
    assert!(orders.len() >= 2, "{orders:?}");
    for order in &orders[..2] {
        let number = order["number"].as_str().unwrap();
        install
            .run(&["cancel", number, "--reason", "damaged"])
            .success();
        let woo_id = order["external_id"].as_str().unwrap();
        store.ok(
            "DELETE",
            &format!("/wc/v3/orders/{woo_id}?force=true"),
            None,
        );
    }
    install.run(&["run", "woocommerce", "export-fulfillment"]);
    add_users(&install);
    (store, install)
}

#[test]
fn changes_hard_to_take_back_are_confirmed_first_and_parked_events_are_retried_or_discarded() {
    if skipped_without_chromedriver() {
        return;
    }
    let (store, install) = parked_store();
    let parked = install.json(&["parked", "--json"]);
    let parked = parked.as_array().unwrap().clone();
    assert_eq!(parked.len(), 2, "{parked:?}");
    let items = install.json(&["items", "--json"]);
    let linked = items
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| {
            i["active"] == true
                && i["store_refs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r["instance"] == "woocommerce")
        })
        .count();
    assert!(linked > 0);
    let service = install.serve();
    let install = &install;
    let url = store.url.clone();
    in_chromium(&service.admin_url(), |c, base| async move {
        log_in(&c, &base, ADMIN).await;

        // The safety limit's help speaks of the page's force box.
        goto(&c, &base, "/plugins/woocommerce/settings").await;
        let help = text(&c, "main").await;
        assert!(help.contains("the force box beside its Run now"), "{help}");
        assert!(!help.contains("--force"), "{help}");

        // A forced End of Day names what it writes where; Cancel runs nothing.
        let held = eventually(Duration::from_secs(30), || async {
            goto(&c, &base, "/plugins/woocommerce/jobs").await;
            text(&c, "main").await.contains("The service holds")
        })
        .await;
        assert!(held, "the service activates the plugin");
        let runs_before = install.json(&["runs", "--json"]).as_array().unwrap().len();
        let force =
            r#"form[action="/plugins/woocommerce/jobs/end-of-day/run"] input[name="force"]"#;
        c.find(Locator::Css(force))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        click(&c, "run-end-of-day").await;
        let consequence = text(&c, "#consequence").await;
        assert!(
            consequence.contains(&format!("up to {linked} items to {url}")),
            "{consequence}"
        );
        shot(&c, "confirm-01-forced-end-of-day").await;
        click(&c, "cancel").await;
        assert_eq!(
            install.json(&["runs", "--json"]).as_array().unwrap().len(),
            runs_before,
            "nothing ran"
        );

        // A watermark reset names the watermark and what the next run does.
        click(&c, "reset-import_products").await;
        let consequence = text(&c, "#consequence").await;
        assert!(
            consequence.contains("import_products") && consequence.contains("reads every record"),
            "{consequence}"
        );
        assert!(!audited(
            &audit(install),
            "web:ann",
            "watermark reset",
            "woocommerce"
        ));
        click(&c, "confirm").await;
        assert!(text(&c, ".message.ok").await.contains("is reset"));
        assert!(audited(
            &audit(install),
            "web:ann",
            "watermark reset",
            "woocommerce"
        ));

        // Confirmed, the forced End of Day runs, recorded as ann's.
        c.find(Locator::Css(force))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        click(&c, "run-end-of-day").await;
        click(&c, "confirm").await;
        // The run's page reloads itself once the run has ended.
        let ended = eventually(Duration::from_secs(60), || async {
            !c.find_all(Locator::Id("outcome")).await.unwrap().is_empty()
        })
        .await;
        assert!(ended, "the forced End of Day ran");
        let runs = install.json(&["runs", "--json"]);
        assert!(
            runs.as_array()
                .unwrap()
                .iter()
                .any(|r| r["job"] == "end-of-day" && r["user"] == "web:ann"),
            "{runs}"
        );

        // Parked events: the order's page, a retry, a discard.
        let (kept, dropped) = (
            parked[0]["seq"].as_i64().unwrap(),
            parked[1]["seq"].as_i64().unwrap(),
        );
        let number = parked[0]["order_number"].as_str().unwrap().to_owned();
        goto(&c, &base, "/parked").await;
        shot(&c, "parked-01-list").await;
        let row = text(&c, &format!("#parked-{kept}")).await;
        assert!(row.contains(&number), "{row}");
        assert!(row.contains(parked[0]["reason"].as_str().unwrap()), "{row}");
        c.find(Locator::Css(&format!("#parked-{kept} td.order a")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let opened = eventually(Duration::from_secs(10), || async {
            text(&c, "h1").await.contains(&number)
        })
        .await;
        assert!(opened, "the order's page opens");
        goto(&c, &base, "/parked").await;
        click(&c, &format!("retry-{kept}")).await;
        assert!(text(&c, ".message.ok").await.contains("1 parked event(s)"));
        click(&c, &format!("discard-{dropped}")).await;
        assert!(text(&c, ".message.ok").await.contains("discarded"));
        shot(&c, "parked-02-retried-and-discarded").await;
        let now = install.json(&["parked", "--json"]);
        let now = now.as_array().unwrap();
        assert_eq!(now.len(), 1, "{now:?}");
        assert_eq!(now[0]["seq"], kept);
        assert_eq!(now[0]["retry_requested"], true);
        let lines = audit(install);
        assert!(lines.iter().any(|a| a["user"] == "web:ann"
            && a["action"] == "parked discarded"
            && a["detail"] == format!("event {dropped}")));
        assert!(lines.iter().any(|a| a["user"] == "web:ann"
            && a["action"] == "parked retry asked"
            && a["detail"] == format!("event {kept}")));

        // Deactivation names what stops, and waits for the second button.
        goto(&c, &base, "/plugins").await;
        click(&c, "deactivate-woocommerce").await;
        let consequence = text(&c, "#consequence").await;
        assert!(
            consequence.contains("Import orders") && consequence.contains("End of day stock"),
            "{consequence}"
        );
        shot(&c, "confirm-02-deactivate").await;
        assert_eq!(
            install.json(&["plugins", "list", "--json"])[0]["state"],
            "active"
        );
        click(&c, "confirm").await;
        assert_eq!(
            install.json(&["plugins", "list", "--json"])[0]["state"],
            "inactive"
        );
    });
}

#[test]
fn an_instance_added_while_serve_runs_appears_on_the_page_and_is_activated_there() {
    if skipped_without_chromedriver() {
        return;
    }
    let store = SandboxStore::start();
    let install = Install::with_plugins(&[WOOCOMMERCE]);
    add_users(&install);
    let service = install.serve();
    let mut ann = PageClient::logged_in(&service, ADMIN);
    assert!(!ann.get("/plugins").body.contains("woocommerce:shop-at"));
    install
        .run(&["plugins", "add-instance", "woocommerce", "shop-at"])
        .success();
    const ID: &str = "woocommerce:shop-at";
    let settings = store.settings();
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    install.set(ID, &settings);
    in_chromium(&service.admin_url(), |c, base| async move {
        log_in(&c, &base, ADMIN).await;
        let shown = eventually(Duration::from_secs(10), || async {
            goto(&c, &base, "/plugins").await;
            !c.find_all(Locator::Id("activate-woocommerce:shop-at"))
                .await
                .unwrap()
                .is_empty()
        })
        .await;
        assert!(shown, "the new instance shows without a restart");
        click(&c, "activate-woocommerce:shop-at").await;
        assert!(text(&c, ".message.ok").await.contains("is active"));
        let held = eventually(Duration::from_secs(30), || async {
            goto(&c, &base, "/plugins/woocommerce:shop-at/jobs").await;
            text(&c, "main").await.contains("The service holds")
        })
        .await;
        assert!(held, "the service activates the new instance");
        shot(&c, "instances-01-added-while-serving").await;
    });
    let listed = install.json(&["plugins", "list", "--json"]);
    let instance = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == ID)
        .unwrap_or_else(|| panic!("{listed}"));
    assert_eq!(instance["state"], "active", "{listed}");
    assert!(service.log().contains("added instance picked up"));
}

#[test]
fn the_no_user_notice_gives_the_command_that_works_under_the_services_data_dir() {
    let install = Install::with_plugins(&[LOW_STOCK]);
    let service = install.serve();
    let mut client = PageClient::new(&service);
    let notice = client.get("/plugins");
    assert_eq!(notice.status, 503);
    let start =
        notice.body.find(r#"<pre id="first-admin">"#).unwrap() + r#"<pre id="first-admin">"#.len();
    let command = &notice.body[start..start + notice.body[start..].find("</pre>").unwrap()];
    let data_dir = install.data_dir.display().to_string();
    assert!(
        command.contains(&format!("--data-dir {data_dir}")),
        "{command}"
    );
    assert!(command.starts_with("sudo -u "), "{command}");

    // Followed from elsewhere (no --data-dir of the test's own), it works.
    let args: Vec<&str> = command
        .split_whitespace()
        .skip_while(|w| *w != "plugin-host")
        .skip(1)
        .map(|w| if w == "NAME" { ADMIN } else { w })
        .collect();
    let elsewhere = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(e2e_tests::build().join("plugin-host"));
    cmd.args(&args)
        .env_remove("PLUGIN_HOST_DATA_DIR")
        .env("PLUGIN_HOST_PLUGIN_DIR", &install.plugin_dir)
        .current_dir(elsewhere.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(client.get("/login").status, 200, "the page opened");
    assert_eq!(
        PageClient::logged_in(&service, ADMIN)
            .get("/plugins")
            .status,
        200
    );
}

#[test]
fn every_new_change_route_refuses_read_only_users_and_forms_without_the_csrf_token() {
    let (_store, install) = parked_store();
    let service = install.serve();
    let seq = install.json(&["parked", "--json"])[0]["seq"].to_string();
    let routes: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "/users",
            vec![
                ("name", "mallory"),
                ("role", "admin"),
                ("password", PASSWORD),
            ],
        ),
        ("/users/rita/role", vec![("role", "admin")]),
        ("/users/ann/role", vec![("role", "read-only")]),
        (
            "/users/ann/password",
            vec![("password", "mallory's own password")],
        ),
        ("/users/ann/remove", vec![]),
        ("/parked/woocommerce/retry", vec![("seq", &seq)]),
        ("/parked/woocommerce/discard", vec![("seq", &seq)]),
        ("/parked/woocommerce/discard", vec![]),
        (
            "/plugins/woocommerce/deactivate",
            vec![("confirmed", "yes")],
        ),
        (
            "/plugins/woocommerce/watermarks/import_products/reset",
            vec![("confirmed", "yes")],
        ),
        (
            "/plugins/woocommerce/jobs/end-of-day/run",
            vec![("force", "true"), ("confirmed", "yes")],
        ),
    ];
    let before = (
        audit(&install).len(),
        install.json(&["users", "list", "--json"]),
        install.json(&["parked", "--json"]),
        install.json(&["runs", "--json"]),
    );
    let mut rita = PageClient::logged_in(&service, READER);
    let rita_token = rita.get("/parked").csrf();
    assert!(!rita.get("/parked").body.contains(r#"id="discard-"#));
    let mut ann = PageClient::logged_in(&service, ADMIN);
    for (path, fields) in &routes {
        let with = |token: &str| {
            let mut all = vec![("csrf", token.to_owned())];
            all.extend(fields.iter().map(|(k, v)| (*k, (*v).to_owned())));
            all
        };
        let send = |client: &mut PageClient, fields: Vec<(&str, String)>| {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            client.post(path, &fields)
        };
        let refused = send(&mut rita, with(&rita_token));
        assert_eq!(refused.status, 403, "{path} as read-only: {}", refused.body);
        assert!(refused.body.contains("nothing was changed"), "{path}");
        let forged = send(&mut ann, with("forged"));
        assert_eq!(forged.status, 403, "{path} with a forged token");
        let missing = send(
            &mut ann,
            fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
        );
        assert_eq!(missing.status, 403, "{path} without a token");
    }
    std::thread::sleep(Duration::from_millis(300));
    let after = (
        audit(&install).len(),
        install.json(&["users", "list", "--json"]),
        install.json(&["parked", "--json"]),
        install.json(&["runs", "--json"]),
    );
    assert_eq!(after, before, "nothing was changed");
    assert_eq!(
        install.json(&["plugins", "list", "--json"])[0]["state"],
        "active"
    );
}
