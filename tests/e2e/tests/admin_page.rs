//! The admin page served by the real `plugin-host serve`: every security
//! rule over HTTP, the WooCommerce plugin set up, activated and run by hand
//! through the page against the real sandbox store, and the same in a real
//! headless Chromium over WebDriver (`browser` module).

#[path = "support/admin_page.rs"]
#[allow(dead_code)]
mod page;

use std::time::Duration;

use e2e_tests::{FUTURE_API, Install, LOW_STOCK, SandboxStore, WOOCOMMERCE, wait_until};
use page::{ADMIN, PASSWORD, PageClient, READER, add_users, post_routes, run_by_hand};
use serde_json::{Value, json};

const SECURITY_HEADERS: [(&str, &str); 3] = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
];

fn assert_secure_headers(answer: &page::Answer, what: &str) {
    let csp = answer.header("content-security-policy");
    for rule in [
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(rule), "{what}: CSP {csp:?} lacks {rule}");
    }
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    for (name, value) in SECURITY_HEADERS {
        assert_eq!(answer.header(name), value, "{what}: {name}");
    }
    // No inline script or handler: every script is a file from /static.
    let body = &answer.body;
    for (at, _) in body.match_indices("<script") {
        let tag = &body[at..at + body[at..].find('>').unwrap()];
        assert!(
            tag.contains("src=\"/static/"),
            "{what}: inline script {tag}"
        );
    }
    for handler in [" onclick=", " onload=", " onerror=", " style="] {
        assert!(!body.contains(handler), "{what}: {handler} in the page");
    }
}

fn audit_len(install: &Install) -> usize {
    install
        .json(&["audit", "--json", "--limit", "1000"])
        .as_array()
        .unwrap()
        .len()
}

/// A virtual product (so the import leaves it out and names it in an
/// issue) whose name is a script.
fn script_product() -> Value {
    json!({
        "name": "<script>alert(1)</script>",
        "type": "simple",
        "sku": "XSS-1",
        "virtual": true,
        "regular_price": "1.00",
    })
}

#[test]
fn with_no_user_every_page_is_only_the_notice_how_to_add_the_first_admin() {
    let install = Install::with_plugins(&[LOW_STOCK]);
    let service = install.serve();
    let mut client = PageClient::new(&service);
    for path in [
        "/",
        "/login",
        "/plugins",
        "/runs",
        "/plugins/low-stock/settings",
    ] {
        let answer = client.get(path);
        assert_eq!(answer.status, 503, "{path}");
        assert!(
            answer
                .body
                .contains("plugin-host users add NAME --role admin --password-stdin"),
            "{path}: {}",
            answer.body
        );
        assert!(!answer.body.contains("<form"), "{path}: no form at all");
        assert_secure_headers(&answer, path);
    }
    let answer = client.post("/plugins/low-stock/activate", &[]);
    assert_eq!(answer.status, 503);

    // The page is never reachable from elsewhere without being asked to.
    let remote = install.run(&["serve", "--listen", "0.0.0.0:0"]).refused();
    assert!(
        remote.stderr().contains("--allow-remote"),
        "{}",
        remote.stderr()
    );
    assert_eq!(
        install.json(&["plugins", "list", "--json"])[0]["state"],
        "inactive"
    );
}

#[test]
fn sessions_csrf_read_only_and_the_throttle_guard_every_route() {
    let install = Install::with_plugins(&[LOW_STOCK, FUTURE_API]);
    add_users(&install);
    let service = install.serve();

    // Not logged in: pages lead to the login form; changes are refused.
    let mut anonymous = PageClient::new(&service);
    let answer = anonymous.get("/plugins");
    assert_eq!(
        (answer.status, answer.header("location").as_str()),
        (303, "/login")
    );
    assert_eq!(
        anonymous.post("/plugins/low-stock/activate", &[]).status,
        403
    );
    let form = anonymous.get("/login");
    assert_secure_headers(&form, "/login");

    // The login form has its own token.
    let answer = anonymous.post(
        "/login",
        &[("user", ADMIN), ("password", PASSWORD), ("csrf", "forged")],
    );
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert!(!anonymous.cookies.contains_key("plugin_host_session"));

    // The session cookie: HttpOnly, SameSite=Strict; Secure behind TLS.
    let answer = anonymous.login(ADMIN, PASSWORD);
    assert_eq!(answer.status, 303, "{}", answer.body);
    let session = answer
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("plugin_host_session="))
        .expect("a session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict"),
        "{session}"
    );
    assert!(
        !session.contains("Secure"),
        "plain HTTP on loopback: {session}"
    );
    let mut behind_tls = PageClient::new(&service);
    behind_tls.extra.push(("x-forwarded-proto", "https".into()));
    let answer = behind_tls.login(ADMIN, PASSWORD);
    assert!(
        answer
            .set_cookies()
            .iter()
            .any(|c| c.starts_with("plugin_host_session=") && c.contains("; Secure")),
        "{:?}",
        answer.set_cookies()
    );

    // Every page an admin sees carries the headers and escapes no script in.
    let mut admin = anonymous;
    for path in [
        "/plugins",
        "/plugins/low-stock/settings",
        "/plugins/low-stock/schedule",
        "/plugins/low-stock/jobs",
        "/runs",
        "/parked",
    ] {
        let answer = admin.get(path);
        assert_eq!(answer.status, 200, "{path}");
        assert_secure_headers(&answer, path);
    }

    // A forged POST (no token, a wrong one) changes nothing.
    let before = install.json(&["plugins", "settings", "low-stock", "--json"]);
    let audited = audit_len(&install);
    for token in [None, Some("0123456789abcdef")] {
        let mut fields = vec![("reorder_point", "9")];
        if let Some(t) = token {
            fields.push(("csrf", t));
        }
        let answer = admin.post("/plugins/low-stock/settings", &fields);
        assert_eq!(answer.status, 403, "token {token:?}: {}", answer.body);
        assert!(answer.body.contains("security token"), "{}", answer.body);
    }
    assert_eq!(
        install.json(&["plugins", "settings", "low-stock", "--json"]),
        before
    );
    assert_eq!(audit_len(&install), audited);

    // The read-only user sees every page and is refused every change.
    let mut reader = PageClient::logged_in(&service, READER);
    let plugins = reader.get("/plugins");
    assert_eq!(plugins.status, 200);
    assert!(plugins.body.contains("Low stock report"));
    let refused = &plugins.body[plugins
        .body
        .find(r#"<tr class="refused">"#)
        .expect("the refused file's row")..];
    assert!(
        refused.contains("1.99") && refused.contains("refused"),
        "{refused}"
    );
    assert!(
        !plugins.body.contains("activate-low-stock"),
        "no buttons for a reader"
    );
    let settings = reader.get("/plugins/low-stock/settings");
    assert!(
        settings.body.contains("disabled"),
        "the form is shown disabled"
    );
    let token = plugins.csrf();
    let routes = post_routes();
    assert!(routes.len() >= 11, "{routes:?}");
    let mut tried = 0;
    for route in &routes {
        if route == "/login" || route == "/logout" {
            continue;
        }
        let path = route
            .replace("{id}", "low-stock")
            .replace("{job}", "report")
            .replace("{key}", "import_products")
            .replace("{n}", "1");
        let answer = reader.post(
            &path,
            &[
                ("csrf", &token),
                ("reorder_point", "1"),
                ("interval", "5"),
                ("zone", "Europe/Berlin"),
                ("back", "low-stock"),
            ],
        );
        assert_eq!(answer.status, 403, "{path}: {}", answer.body);
        assert!(
            answer.body.contains("nothing was changed"),
            "{path}: {}",
            answer.body
        );
        tried += 1;
    }
    assert!(tried >= 8);
    assert_eq!(
        install.json(&["plugins", "settings", "low-stock", "--json"]),
        before
    );
    assert_eq!(audit_len(&install), audited, "no change was recorded");
    assert_eq!(
        install.json(&["plugins", "list", "--json"])[0]["state"],
        "inactive"
    );

    // The admin's own change goes through and is recorded as theirs.
    let answer = admin.submit(
        "/plugins/low-stock/settings",
        "/plugins/low-stock/settings",
        &[("reorder_point", "9")],
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body.contains("Settings saved"));
    let refused = admin.submit(
        "/plugins/low-stock/settings",
        "/plugins/low-stock/settings",
        &[("reorder_point", "-3")],
    );
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains(r#"id="error-reorder_point""#),
        "{}",
        refused.body
    );
    let now = install.json(&["plugins", "settings", "low-stock", "--json"]);
    assert_eq!(now["reorder_point"]["value"], 9, "{now}");
    let audit = install.json(&["audit", "--json"]);
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["user"] == "web:ann" && a["action"] == "settings changed"),
        "{audit}"
    );

    // The schedule: a good change is stored, a bad one changes nothing.
    const SCHEDULE: &str = "/plugins/low-stock/schedule";
    let saved = admin.submit(
        SCHEDULE,
        SCHEDULE,
        &[
            ("interval", "15"),
            ("time_range", "06:00-22:00"),
            ("end_of_day", "23:30"),
        ],
    );
    assert_eq!(saved.status, 200, "{}", saved.body);
    let refused = admin.submit(
        SCHEDULE,
        SCHEDULE,
        &[("interval", "0"), ("end_of_day", "25:00")],
    );
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("Nothing was saved"),
        "{}",
        refused.body
    );
    let zone = admin.submit(
        SCHEDULE,
        "/timezone",
        &[("zone", "Europe/Berlin"), ("back", "low-stock")],
    );
    assert_eq!(zone.status, 200, "{}", zone.body);
    let bad_zone = admin.submit(
        SCHEDULE,
        "/timezone",
        &[("zone", "Mars/Olympus"), ("back", "low-stock")],
    );
    assert_eq!(bad_zone.status, 422, "{}", bad_zone.body);
    let shown = install.run(&["schedule", "low-stock"]).success().stdout();
    for line in [
        "interval   = 15",
        "time-range = 06:00-22:00",
        "end-of-day = 23:30",
        "Europe/Berlin",
    ] {
        assert!(shown.contains(line), "{line}: {shown}");
    }

    // The throttle: five wrong passwords lock this user out from here, even
    // with the right one; another user is not locked out.
    let mut guesser = PageClient::new(&service);
    for _ in 0..5 {
        assert_eq!(guesser.login(ADMIN, "wrong password here").status, 401);
    }
    let locked = guesser.login(ADMIN, PASSWORD);
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert!(locked.header("retry-after").parse::<u64>().unwrap() > 0);
    assert_eq!(
        PageClient::new(&service).login(READER, PASSWORD).status,
        303
    );
    assert_eq!(guesser.login("nobody-at-all", PASSWORD).status, 401);

    // Logging out ends the session: its cookie opens nothing any more.
    let cookie = admin.cookies["plugin_host_session"].clone();
    let answer = admin.submit("/plugins", "/logout", &[]);
    assert_eq!(
        (answer.status, answer.header("location").as_str()),
        (303, "/login")
    );
    admin.cookies.insert("plugin_host_session".into(), cookie);
    assert_eq!(admin.get("/plugins").status, 303);
}

#[test]
fn the_woocommerce_plugin_is_set_up_activated_and_run_through_the_page_values_escaped_secrets_never_shown()
 {
    let store = SandboxStore::start();
    store.ok("POST", "/wc/v3/products", Some(script_product()));
    let install = Install::with_plugins(&[WOOCOMMERCE]);
    add_users(&install);
    let service = install.serve();
    let mut admin = PageClient::logged_in(&service, ADMIN);
    const SETTINGS: &str = "/plugins/woocommerce/settings";

    // Activation is refused, with the reason, until the settings are there.
    let refused = admin.submit("/plugins", "/plugins/woocommerce/activate", &[]);
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("store_url"), "{}", refused.body);

    // A refused settings change shows the field's error and stores nothing.
    let bad = admin.submit(
        SETTINGS,
        SETTINGS,
        &[
            ("store_url", "not a url"),
            ("consumer_key", SandboxStore::KEY),
        ],
    );
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains(r#"id="error-store_url""#), "{}", bad.body);
    assert_eq!(
        install.json(&["plugins", "settings", "woocommerce", "--json"])["store_url"]["value"],
        Value::Null
    );

    let saved = admin.submit(
        SETTINGS,
        SETTINGS,
        &[
            ("store_url", &store.url),
            ("consumer_key", SandboxStore::KEY),
            ("consumer_secret", SandboxStore::SECRET),
        ],
    );
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert!(saved.body.contains("(set)"), "the secret shows as set");
    let tested = admin.submit(SETTINGS, "/plugins/woocommerce/test", &[]);
    assert!(
        tested.body.contains("The connection check passed"),
        "{}",
        tested.body
    );
    let active = admin.submit("/plugins", "/plugins/woocommerce/activate", &[]);
    assert_eq!(active.status, 200, "{}", active.body);

    // Run the import by hand once the service holds the plugin active.
    wait_until(Duration::from_secs(30), || {
        admin
            .get("/plugins/woocommerce/jobs")
            .body
            .contains("The service holds")
    })
    .expect("the service activates the plugin");
    let run_page = run_by_hand(&mut admin, "woocommerce", "import-products", &[]);
    let report = admin.get(&run_page);
    assert!(report.body.contains(r#"id="outcome""#), "{}", report.body);
    assert!(report.body.contains("succeeded"), "{}", report.body);

    // The product's name is shown, escaped, in the run's issues.
    assert!(
        report
            .body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        report.body
    );
    assert!(!report.body.contains("<script>alert(1)"));
    let runs = install.json(&["runs", "--json"]);
    assert_eq!(runs[0]["user"], "web:ann", "{runs}");

    // End of Day's dry run shows its drift table and changes nothing.
    let dry_page = run_by_hand(
        &mut admin,
        "woocommerce",
        "end-of-day",
        &[("dry_run", "true")],
    );
    let drift = admin.get(&dry_page);
    assert!(
        drift.body.contains("<caption>End of Day:"),
        "{}",
        drift.body
    );

    // An event for an order deleted in the store is parked; the page asks
    // for it to be sent again (recorded).
    run_by_hand(&mut admin, "woocommerce", "import-orders", &[]);
    let orders = install.json(&["orders", "--json"]);
    let order = &orders[0];
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
    run_by_hand(&mut admin, "woocommerce", "export-fulfillment", &[]);
    let parked = admin.get("/parked");
    assert!(parked.body.contains("no longer exists"), "{}", parked.body);
    let retry = admin.submit("/parked", "/parked/woocommerce/retry", &[]);
    assert_eq!(retry.status, 200, "{}", retry.body);
    assert!(retry.body.contains("1 parked event(s)"), "{}", retry.body);
    let parked = install.json(&["parked", "--json"]);
    assert_eq!(parked[0]["retry_requested"], true, "{parked}");

    // How far the import has synced, and its reset (recorded).
    let jobs = admin.get("/plugins/woocommerce/jobs");
    assert!(jobs.body.contains("reset-import_products"), "{}", jobs.body);
    let reset = admin.submit(
        "/plugins/woocommerce/jobs",
        "/plugins/woocommerce/watermarks/import_products/reset",
        &[("confirmed", "yes")],
    );
    assert_eq!(reset.status, 200, "{}", reset.body);
    assert!(reset.body.contains("is reset"), "{}", reset.body);
    assert!(!reset.body.contains("reset-import_products"));
    let audit = install.json(&["audit", "--json"]);
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["user"] == "web:ann"
                && a["action"] == "watermark reset"
                && a["target"] == "woocommerce"),
        "{audit}"
    );

    // No page shows the secret.
    for path in [
        "/plugins",
        SETTINGS,
        "/plugins/woocommerce/schedule",
        "/plugins/woocommerce/jobs",
        "/runs",
        "/parked",
        &run_page,
    ] {
        let answer = admin.get(path);
        assert!(
            !answer.body.contains(SandboxStore::SECRET),
            "{path} shows the secret"
        );
        assert_secure_headers(&answer, path);
    }
    assert!(!service.log().contains(SandboxStore::SECRET));
}

/// The admin page in a real headless Chromium driven over WebDriver, with a
/// screenshot of each main page in `target/e2e-screenshots/`.
mod browser {
    use std::time::Duration;

    use e2e_tests::{Install, SandboxStore, WOOCOMMERCE};
    use fantoccini::Locator;

    use super::page::browser::{
        Driver, chromium, click, eventually, log_in, shot, skipped_without_chromedriver, text,
        type_into,
    };
    use super::page::{ADMIN, READER, add_users};

    #[test]
    fn an_admin_and_a_read_only_user_use_the_page_in_chromium() {
        if skipped_without_chromedriver() {
            return;
        }
        // Slow answers, so that the run by hand is seen in progress.
        let store = SandboxStore::start_with(&["--latency-ms", "150"]);
        store.ok("POST", "/wc/v3/products", Some(super::script_product()));
        let install = Install::with_plugins(&[WOOCOMMERCE]);
        add_users(&install);
        let service = install.serve();
        let base = service.admin_url();
        let driver = Driver::start();
        let profile = tempfile::tempdir().unwrap();
        tokio::runtime::Runtime::new().unwrap().block_on(session(
            &driver.url,
            &base,
            &store,
            profile.path(),
        ));
        let runs = install.json(&["runs", "--json"]);
        assert_eq!(runs[0]["user"], "web:ann", "{runs}");
        assert_eq!(runs[0]["trigger"], "by-hand", "{runs}");
    }

    async fn session(driver: &str, base: &str, store: &SandboxStore, profile: &std::path::Path) {
        let c = chromium(driver, profile, "1280,900").await;

        c.goto(&format!("{base}/login")).await.unwrap();
        shot(&c, "01-login").await;
        log_in(&c, base, ADMIN).await;

        // Activation is refused, with its reasons, before the settings exist.
        click(&c, "activate-woocommerce").await;
        let refusal = text(&c, ".message.error").await;
        assert!(
            refusal.contains("was not activated") && refusal.contains("store_url"),
            "{refusal}"
        );
        shot(&c, "02-plugins-activation-refused").await;

        // A refused settings change, then a good one.
        c.goto(&format!("{base}/plugins/woocommerce/settings"))
            .await
            .unwrap();
        type_into(&c, "field-store_url", "ftp://shop.example").await;
        type_into(&c, "field-consumer_key", SandboxStore::KEY).await;
        click(&c, "save").await;
        assert!(!text(&c, "#error-store_url").await.is_empty());
        shot(&c, "03-settings-refused").await;
        type_into(&c, "field-store_url", &store.url).await;
        type_into(&c, "field-consumer_secret", SandboxStore::SECRET).await;
        click(&c, "save").await;
        assert_eq!(text(&c, ".message.ok").await, "Settings saved.");
        let page = c.source().await.unwrap();
        assert!(
            !page.contains(SandboxStore::SECRET),
            "the secret is never sent back"
        );
        click(&c, "test").await;
        assert_eq!(
            text(&c, ".message.ok").await,
            "The connection check passed."
        );
        shot(&c, "04-settings-saved").await;

        c.goto(&format!("{base}/plugins")).await.unwrap();
        click(&c, "activate-woocommerce").await;
        assert!(text(&c, ".message.ok").await.contains("is active"));
        shot(&c, "05-plugins-active").await;

        // A run by hand: its page shows progress, then the report.
        let jobs = format!("{base}/plugins/woocommerce/jobs");
        let (browser, jobs) = (&c, jobs.as_str());
        assert!(
            eventually(Duration::from_secs(30), move || async move {
                browser.goto(jobs).await.unwrap();
                browser
                    .source()
                    .await
                    .unwrap()
                    .contains("The service holds")
            })
            .await,
            "the service never held the plugin active"
        );
        click(&c, "run-import-products").await;
        assert!(c.current_url().await.unwrap().path().starts_with("/runs/"));
        let running = text(&c, "#progress").await;
        assert!(running.starts_with("Running:"), "{running}");
        // The page reloads itself once the run has ended.
        assert!(
            eventually(Duration::from_secs(60), move || async move {
                browser
                    .find_all(Locator::Id("progress"))
                    .await
                    .is_ok_and(|found| found.is_empty())
            })
            .await,
            "the run's page never showed its outcome"
        );
        assert!(text(&c, "#outcome").await.contains("succeeded"));
        shot(&c, "06-run-by-hand").await;

        // The run's issues, the product's name shown as text (no script ran).
        for group in c
            .find_all(Locator::Css("details.issue-group summary"))
            .await
            .unwrap()
        {
            group.click().await.unwrap();
        }
        let issues = text(&c, "main").await;
        assert!(issues.contains("<script>alert(1)</script>"), "{issues}");
        assert!(c.get_alert_text().await.is_err(), "no alert was raised");
        c.goto(&format!("{base}/runs")).await.unwrap();
        let history = text(&c, "main").await;
        assert!(history.contains("web:ann"), "{history}");
        shot(&c, "07-run-history").await;
        click(&c, "logout").await;
        assert_eq!(text(&c, "h1").await, "Log in");

        // A read-only user sees everything and is offered no change.
        log_in(&c, base, READER).await;
        assert!(
            c.find_all(Locator::Css("button[id^='activate-']"))
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            c.find_all(Locator::Css("button[id^='deactivate-']"))
                .await
                .unwrap()
                .is_empty()
        );
        shot(&c, "08-read-only-plugins").await;
        c.goto(&format!("{base}/plugins/woocommerce/settings"))
            .await
            .unwrap();
        let url_field = c.find(Locator::Id("field-store_url")).await.unwrap();
        assert!(!url_field.is_enabled().await.unwrap());
        assert!(c.find_all(Locator::Id("save")).await.unwrap().is_empty());
        shot(&c, "09-read-only-settings").await;
        click(&c, "logout").await;
        assert_eq!(text(&c, "h1").await, "Log in");
        c.close().await.unwrap();
    }
}
