//! Orders through webhooks, through the real binaries: `plugin-host serve`
//! with the WooCommerce plugin and `woo-sandbox`, which registers webhooks
//! and delivers them as WooCommerce does (signed, in the background, the
//! ping on creation, disabled after failed deliveries). The host is
//! reached through a proxy on a fixed port, the address the store knows,
//! so a restarted service keeps it.
//!
//! What is shown: a signed delivery imports the order within seconds; a
//! wrong secret, a tampered body, a missing signature or an unknown
//! instance is refused with 401 and runs nothing; a replayed delivery
//! doubles nothing; a burst is one run; activation registers, a restart
//! after a crash reuses, deactivation removes; a webhook the store
//! disabled is reported and enabled again; polling still imports an order
//! whose delivery was lost; the secret shows nowhere.

mod support;

#[path = "support/admin_page.rs"]
#[allow(dead_code)]
mod page;

use std::time::{Duration, Instant};

use e2e_tests::{Install, SandboxStore, Service, wait_until};
use serde_json::{Value, json};
use support::{PLUGIN, Proxy, seed_store};

const HOOK_JOB: &str = "import-orders";

/// A store with the plugin serving it, webhooks registered.
struct Served {
    store: SandboxStore,
    install: Install,
    service: Service,
    proxy: Proxy,
    hook_url: String,
}

/// The e2e seed store, the plugin with `webhook_url` set to the proxy in
/// front of the service, the Sync Interval as given (`off`: only webhooks
/// run the import), and the service started with `env`; returns once the
/// webhooks are registered and the run that registered them has ended.
fn served(interval: &str, env: &[(&str, &str)]) -> Served {
    let (store, install) = seed_store(&[], &[], |_| {});
    install
        .run(&["schedule", PLUGIN, "--interval", interval])
        .success();
    page::add_users(&install);
    let proxy = Proxy::bind();
    let hook_url = format!("{}/hooks/{PLUGIN}", proxy.url);
    install
        .set(PLUGIN, &[&format!("webhook_url={hook_url}")])
        .success();
    let service = install.serve_with_env(env);
    proxy.forward_to(&service.admin_url());
    let served = Served {
        store,
        install,
        service,
        proxy,
        hook_url,
    };
    wait_until(Duration::from_secs(60), || {
        ours(&served).len() == 2 && finished_import_runs(&served.install) >= 1
    })
    .unwrap_or_else(|| {
        panic!(
            "webhooks never registered: {:#?}\n{}",
            store_hooks(&served.store),
            served.service.log()
        )
    });
    served
}

fn store_hooks(store: &SandboxStore) -> Vec<Value> {
    store
        .ok("GET", "/wc/v3/webhooks?per_page=100", None)
        .as_array()
        .unwrap()
        .clone()
}

/// The store's webhooks delivering to the host, by topic.
fn ours(served: &Served) -> Vec<Value> {
    let mut hooks: Vec<Value> = store_hooks(&served.store)
        .into_iter()
        .filter(|h| h["delivery_url"] == served.hook_url.as_str())
        .collect();
    hooks.sort_by_key(|h| h["topic"].as_str().unwrap_or_default().to_owned());
    hooks
}

fn runs(install: &Install) -> Vec<Value> {
    install
        .json(&["runs", PLUGIN, "--limit", "10000", "--json"])
        .as_array()
        .unwrap()
        .clone()
}

fn hook_runs(install: &Install) -> Vec<Value> {
    runs(install)
        .into_iter()
        .filter(|r| r["job"] == HOOK_JOB && r["trigger"] == "webhook")
        .collect()
}

fn finished_hook_runs(install: &Install) -> usize {
    hook_runs(install)
        .iter()
        .filter(|r| r["outcome"] != "running")
        .count()
}

/// `import-orders` runs that ended, whatever started them (a scheduled
/// run due with the webhooks' first covers it).
fn finished_import_runs(install: &Install) -> usize {
    runs(install)
        .iter()
        .filter(|r| r["job"] == HOOK_JOB && r["outcome"] != "running")
        .count()
}

fn control(store: &SandboxStore) -> Value {
    store.control("GET", "webhooks")
}

fn deliveries(store: &SandboxStore, topic: &str) -> Vec<Value> {
    control(store)["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["topic"] == topic)
        .cloned()
        .collect()
}

/// A customer's order of two mugs.
fn place_order(store: &SandboxStore) -> Value {
    store.ok(
        "POST",
        "/wc/v3/orders",
        Some(json!({"status": "processing", "set_paid": true,
                    "billing": {"first_name": "Wyn", "last_name": "Hook", "email": "wyn@example.test"},
                    "line_items": [{"product_id": 101, "quantity": 2}]})),
    )
}

fn in_warehouse(install: &Install, number: &str) -> bool {
    install.run(&["order", number, "--json"]).0.status.success()
}

fn warehouse_orders(install: &Install) -> Value {
    install.json(&["orders", "--json"])
}

/// POSTs a body to the host's webhook endpoint with these headers.
fn post_hook(url: &str, headers: &[(&str, &str)], body: &str) -> u16 {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut request = reqwest::blocking::Client::new()
        .post(url)
        .header("Content-Type", "application/json")
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().expect("the host answers").status().as_u16()
}

/// Waits for every webhook run to end and `quiet` to pass without a new one.
fn settled(install: &Install, quiet: Duration) -> usize {
    let mut seen = usize::MAX;
    let mut since = Instant::now();
    loop {
        let all = hook_runs(install);
        let running = all.iter().any(|r| r["outcome"] == "running");
        if all.len() != seen || running {
            seen = all.len();
            since = Instant::now();
        } else if since.elapsed() >= quiet {
            return seen;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_signed_delivery_imports_the_order_and_nothing_else_is_let_in() {
    let s = served("off", &[]);
    let before = settled(&s.install, Duration::from_secs(3));

    let order = place_order(&s.store);
    let number = order["number"].as_str().unwrap().to_owned();
    let started = Instant::now();
    wait_until(Duration::from_secs(30), || {
        in_warehouse(&s.install, &number)
    })
    .unwrap_or_else(|| panic!("order {number} never arrived\n{}", s.service.log()));
    eprintln!(
        "order {number} in the warehouse {:?} after it was placed",
        started.elapsed()
    );
    let after_order = settled(&s.install, Duration::from_secs(3));
    assert_eq!(after_order, before + 1, "one run for the order");

    // The delivery as the store made it, accepted.
    let delivery = deliveries(&s.store, "order.created")
        .into_iter()
        .find(|d| {
            d["body"]
                .as_str()
                .unwrap()
                .contains(&format!("\"id\":{}", order["id"]))
        })
        .expect("the store delivered the order");
    assert_eq!(delivery["response_code"], 200, "{delivery:#}");
    let body = delivery["body"].as_str().unwrap();
    let signature = delivery["signature"].as_str().unwrap();
    let signed = |sig: &str| vec![("X-WC-Webhook-Signature", sig.to_owned())];

    // Refused, with no detail, and nothing runs.
    let wrong_secret = woo_sandbox::webhooks::signature("not-the-secret", body.as_bytes());
    let tampered = body.replacen("\"quantity\":2", "\"quantity\":200", 1);
    assert_ne!(tampered, body);
    let unknown = format!("{}/hooks/nonesuch", s.proxy.url);
    let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(2 << 20));
    for (what, url, headers, body) in [
        ("a wrong secret", &s.hook_url, signed(&wrong_secret), body),
        (
            "a tampered body",
            &s.hook_url,
            signed(signature),
            tampered.as_str(),
        ),
        ("no signature", &s.hook_url, vec![], body),
        ("a garbled signature", &s.hook_url, signed("%%%"), body),
        ("an unknown instance", &unknown, signed(signature), body),
        (
            "a body over the bound",
            &s.hook_url,
            signed(signature),
            huge.as_str(),
        ),
    ] {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(post_hook(url, &headers, body), 401, "{what}");
    }
    // The store's ping, unsigned, is answered and runs nothing either.
    assert_eq!(post_hook(&s.hook_url, &[], "webhook_id=99"), 200);
    assert_eq!(
        settled(&s.install, Duration::from_secs(4)),
        after_order,
        "a refused delivery or a ping started a run"
    );

    // A replay of the old delivery: one run, which reads the store and
    // doubles nothing.
    let orders_before = warehouse_orders(&s.install);
    let headers = [("X-WC-Webhook-Signature", signature)];
    assert_eq!(post_hook(&s.hook_url, &headers, body), 200);
    assert_eq!(settled(&s.install, Duration::from_secs(4)), after_order + 1);
    assert_eq!(warehouse_orders(&s.install), orders_before);
    let imported = s.install.json(&["order", &number, "--json"]);
    assert_eq!(imported["lines"][0]["ordered"], 2, "{imported:#}");

    // The secret shows nowhere: not in the log, the settings, the runs or
    // the settings page.
    let secret = control(&s.store)["webhooks"][0]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(secret.len() >= 32, "a generated secret: {}", secret.len());
    let settings = s
        .install
        .run(&["plugins", "settings", PLUGIN])
        .success()
        .stdout();
    assert!(settings.contains("webhook_secret"), "{settings}");
    let mut client = page::PageClient::logged_in(&s.service, page::ADMIN);
    let settings_page = client.get(&format!("/plugins/{PLUGIN}/settings"));
    assert_eq!(settings_page.status, 200);
    assert!(settings_page.body.contains("webhook_secret"));
    for (place, text) in [
        ("the service's log", s.service.log()),
        ("the settings", settings),
        (
            "the runs",
            serde_json::to_string(&runs(&s.install)).unwrap(),
        ),
        ("the settings page", settings_page.body),
    ] {
        assert!(!text.contains(&secret), "the secret is in {place}");
    }
}

#[test]
fn a_burst_of_deliveries_is_one_run() {
    let s = served("off", &[]);
    let order = place_order(&s.store);
    let number = order["number"].as_str().unwrap().to_owned();
    wait_until(Duration::from_secs(30), || {
        in_warehouse(&s.install, &number)
    })
    .unwrap();
    let before = settled(&s.install, Duration::from_secs(3));
    let delivered_before = deliveries(&s.store, "order.updated").len();

    let route = format!("/wc/v3/orders/{}", order["id"]);
    for n in 0..20 {
        s.store.ok(
            "PUT",
            &route,
            Some(json!({"customer_note": format!("call first ({n})")})),
        );
    }
    wait_until(Duration::from_secs(30), || {
        let made = deliveries(&s.store, "order.updated");
        made.len() >= delivered_before + 20 && made.iter().all(|d| d["response_code"] != 0)
    })
    .expect("the store delivered the 20 changes");
    let accepted = deliveries(&s.store, "order.updated")[delivered_before..]
        .iter()
        .filter(|d| d["response_code"] == 200)
        .count();
    assert_eq!(accepted, 20);
    assert_eq!(
        settled(&s.install, Duration::from_secs(4)),
        before + 1,
        "20 deliveries, one run"
    );
}

#[test]
fn activation_registers_a_restart_reuses_and_deactivation_removes() {
    let s = served("off", &[]);
    let hooks = ours(&s);
    let topics: Vec<&str> = hooks.iter().map(|h| h["topic"].as_str().unwrap()).collect();
    assert_eq!(topics, ["order.created", "order.updated"]);
    for hook in &hooks {
        assert_eq!(hook["status"], "active", "{hook:#}");
        assert!(hook["name"].as_str().unwrap().starts_with("IntelliTrack"));
    }
    // The store pinged each new webhook; the host answered.
    assert_eq!(s.service.log().matches("webhook ping answered").count(), 2);
    let ids: Vec<&Value> = hooks.iter().map(|h| &h["id"]).collect();

    // The service dies without deactivating: its webhooks stay, and the
    // next activation takes them up again rather than adding two more.
    let Served {
        store,
        install,
        service,
        proxy,
        hook_url,
    } = s;
    let runs_before = finished_hook_runs(&install);
    service.kill();
    let service = install.serve();
    proxy.forward_to(&service.admin_url());
    wait_until(Duration::from_secs(60), || {
        finished_hook_runs(&install) > runs_before
    })
    .unwrap_or_else(|| panic!("no run after the restart\n{}", service.log()));
    let s = Served {
        store,
        install,
        service,
        proxy,
        hook_url,
    };
    let again = ours(&s);
    assert_eq!(again.iter().map(|h| &h["id"]).collect::<Vec<_>>(), ids);
    assert_eq!(store_hooks(&s.store).len(), 2, "no second pair");

    // Deactivation removes them from the store.
    s.install.run(&["plugins", "deactivate", PLUGIN]).success();
    wait_until(Duration::from_secs(30), || store_hooks(&s.store).is_empty()).unwrap_or_else(|| {
        panic!(
            "still there: {:#?}\n{}",
            store_hooks(&s.store),
            s.service.log()
        )
    });
}

#[test]
fn polling_catches_lost_deliveries_and_a_disabled_webhook_is_reported_and_enabled_again() {
    // The host's clock at 60 times: the one-minute Sync Interval is a second.
    let s = served("1", &[("PLUGIN_HOST_CLOCK_SPEED", "60")]);
    s.store
        .control_with("PUT", "webhooks", Some(json!({"drop_deliveries": true})));

    // Seven orders whose deliveries are lost: polling imports every one,
    // and the store disables the webhook after its failures.
    let numbers: Vec<String> = (0..7)
        .map(|_| place_order(&s.store)["number"].as_str().unwrap().to_owned())
        .collect();
    wait_until(Duration::from_secs(60), || {
        numbers.iter().all(|n| in_warehouse(&s.install, n))
    })
    .unwrap_or_else(|| panic!("polling did not import them\n{}", s.service.log()));
    let lost = deliveries(&s.store, "order.created");
    assert!(lost.len() >= 7 && lost.iter().all(|d| d["response_code"] == 0));
    s.store
        .control_with("PUT", "webhooks", Some(json!({"drop_deliveries": false})));

    // The next run reports the disabled webhook and enables it again.
    let created_id = ours(&s)[0]["id"].clone();
    let reported = |run: &Value| {
        run["issues"].as_array().unwrap().iter().any(|i| {
            i["record"] == format!("webhook {created_id} (order.created)")
                && i["reason"]
                    .as_str()
                    .unwrap()
                    .contains("disabled it after failed deliveries")
        })
    };
    wait_until(Duration::from_secs(60), || {
        runs(&s.install)
            .iter()
            .any(|r| r["job"] == HOOK_JOB && reported(r))
    })
    .unwrap_or_else(|| panic!("never reported: {:#?}", runs(&s.install).first()));
    wait_until(Duration::from_secs(30), || {
        ours(&s).iter().all(|h| h["status"] == "active")
    })
    .expect("enabled again");

    // Deliveries go through again.
    let order = place_order(&s.store);
    wait_until(Duration::from_secs(30), || {
        deliveries(&s.store, "order.created").iter().any(|d| {
            d["response_code"] == 200
                && d["body"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("\"id\":{}", order["id"]))
        })
    })
    .expect("delivered after it was enabled again");
}
