//! The warehouse's orders on the admin page, read-only, against the real
//! `plugin-host serve`: orders imported by the WooCommerce plugin from
//! `woo-sandbox` (the e2e seed, plus an order whose number holds `/`,
//! spaces and markup, plus older orders enough for a second page). A
//! product ordered and then deleted from the store leaves its orders in
//! need of attention; a refund before the import leaves refunded units.
//! Over HTTP: the attention list, the list by page and status, an order's
//! page, read-only users and no login; in headless Chromium over WebDriver
//! (`browser` module), a screenshot of each page.

#[path = "support/admin_page.rs"]
#[allow(dead_code)]
mod page;

use std::path::Path;

use e2e_tests::{Install, SandboxStore, WOOCOMMERCE};
use page::{ADMIN, Answer, PageClient, READER, add_users};
use serde_json::{Value, json};

/// The order whose number holds a slash, spaces, `#`, `+`, `?`, `&`, `%`
/// and markup.
const ODD: &str = "WC/2026 #7+?a=1&b=<i>50%</i>";
/// Its id in the store.
const ODD_ID: u64 = 600;
/// The store's mug and the kit part deleted after it was ordered.
const MUG: u64 = 101;
const KIT_PART: u64 = 131;
/// The seeded order with the kit part and a lamp.
const KIT_ORDER: &str = "505";

/// A store seeded with the e2e seed, the odd order (two mugs and a kit
/// part, newer than every other) and `older` orders of a lamp placed
/// before all the others; the kit part deleted and one mug of the odd
/// order refunded before the import; then the warehouse picks and ships
/// the odd order's mug. Returns the store, the host and the seed's folder.
fn warehouse(older: usize) -> (SandboxStore, Install, tempfile::TempDir) {
    let seed_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/import.json");
    let mut seed: Value = serde_json::from_str(&std::fs::read_to_string(seed_file).unwrap())
        .expect("the e2e seed is JSON");
    let orders = seed["orders"].as_array_mut().unwrap();
    orders.push(json!({
        "id": ODD_ID, "number": ODD, "status": "processing",
        "date_created": "2026-11-21T10:00:00Z", "date_modified": "2026-11-21T10:00:00Z",
        "date_paid": "2026-11-21T10:00:00Z",
        "billing": {"first_name": "Oda", "last_name": "<b>Odd</b>", "address_1": "9 Slash St",
                    "city": "Leeds", "country": "GB", "email": "oda@example.test"},
        "shipping": {"first_name": "Oda", "last_name": "<b>Odd</b>", "address_1": "9 Slash St",
                     "city": "Leeds", "postcode": "LS1 1AA", "country": "GB"},
        "shipping_lines": [{"method_id": "flat_rate", "method_title": "Flat rate", "total": "5.00"}],
        "line_items": [
            {"id": 9600, "name": "Mug", "product_id": MUG, "variation_id": 0,
             "quantity": 2, "total": "18.00"},
            {"id": 9601, "name": "Kit part A", "product_id": KIT_PART, "variation_id": 0,
             "quantity": 1, "total": "3.00"}
        ]
    }));
    for n in 0..older {
        let at = format!("2026-11-20T{:02}:{:02}:00Z", n / 60, n % 60);
        orders.push(json!({
            "id": 700 + n, "status": "processing",
            "date_created": at, "date_modified": at, "date_paid": at,
            "billing": {"first_name": "Lou", "last_name": format!("Lamp {n}"),
                        "address_1": "1 Light Rd", "city": "York", "country": "GB"},
            "line_items": [{"id": 9700 + n, "name": "Lamp", "product_id": 103,
                            "variation_id": 0, "quantity": 1, "total": "30.00"}]
        }));
    }
    let folder = tempfile::tempdir().unwrap();
    let seed_path = folder.path().join("seed.json");
    std::fs::write(&seed_path, seed.to_string()).unwrap();
    let store = SandboxStore::start_with(&["--seed", seed_path.to_str().unwrap()]);
    let install = Install::with_plugins(&[WOOCOMMERCE]);
    let settings = store.settings();
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    install.set("woocommerce", &settings);
    install.activate("woocommerce");
    run(&install, "import-products");
    store.ok(
        "DELETE",
        &format!("/wc/v3/products/{KIT_PART}?force=true"),
        None,
    );
    let odd = store.ok("GET", &format!("/wc/v3/orders/{ODD_ID}"), None);
    let mug_line = odd["line_items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "Mug")
        .unwrap_or_else(|| panic!("the mug line: {odd:#}"))["id"]
        .as_u64()
        .unwrap();
    store.ok(
        "POST",
        &format!("/wc/v3/orders/{ODD_ID}/refunds"),
        Some(
            json!({"api_refund": false, "api_restock": true, "reason": "one broke",
                    "line_items": [{"id": mug_line, "quantity": 1, "refund_total": "9.00"}]}),
        ),
    );
    run(&install, "import-orders");
    install.run(&["pick", ODD, "1", "1"]).success();
    install
        .run(&[
            "ship",
            ODD,
            "--carrier",
            "UPS",
            "--tracking",
            "1Z999AA10123456784",
        ])
        .success();
    add_users(&install);
    (store, install, folder)
}

/// Runs a WooCommerce job from the CLI, failing the test unless it succeeds.
fn run(install: &Install, job: &str) {
    let ran = install.run(&["run", "woocommerce", job, "--json"]);
    let record: Value = serde_json::from_str(&ran.stdout())
        .unwrap_or_else(|e| panic!("{job}: not JSON ({e}): {}\n{}", ran.stdout(), ran.stderr()));
    assert_eq!(record["outcome"], "succeeded", "{job}: {record:#}");
}

/// Text as maud writes it into the page.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn unescaped(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&gt;", ">")
        .replace("&lt;", "<")
        .replace("&amp;", "&")
}

/// The HTML of the element with `id`, up to its closing `tag`.
fn element<'a>(body: &'a str, tag: &str, id: &str) -> &'a str {
    let start = body
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in:\n{body}"));
    let end = body[start..]
        .find(&format!("</{tag}>"))
        .map_or(body.len(), |e| start + e);
    &body[start..end]
}

/// Every value of `attribute` in `html`, unescaped.
fn attributes(html: &str, attribute: &str) -> Vec<String> {
    let marker = format!("{attribute}=\"");
    html.match_indices(&marker)
        .map(|(at, _)| {
            let value = &html[at + marker.len()..];
            unescaped(&value[..value.find('"').unwrap()])
        })
        .collect()
}

/// The orders a table lists, in its order.
fn listed(body: &str, table: &str) -> Vec<String> {
    attributes(element(body, "table", table), "data-order")
}

/// The row of order `number` in `table`.
fn row<'a>(body: &'a str, table: &str, number: &str) -> &'a str {
    let html = element(body, "table", table);
    let start = html
        .find(&format!("data-order=\"{}\"", escaped(number)))
        .unwrap_or_else(|| panic!("{number} is not in #{table}:\n{html}"));
    &html[start..start + html[start..].find("</tr>").unwrap()]
}

/// The texts of the cells with `class` in `html`.
fn cells(html: &str, class: &str) -> Vec<String> {
    let marker = format!("class=\"{class}\">");
    html.match_indices(&marker)
        .map(|(at, _)| {
            let text = &html[at + marker.len()..];
            unescaped(&text[..text.find("</td>").unwrap()])
        })
        .collect()
}

/// The link of order `number`'s row in the list.
fn link(body: &str, number: &str) -> String {
    attributes(row(body, "orders", number), "href")[0].clone()
}

/// A page is served whole in the frame: 200, the navigation with Orders,
/// Log out, and no inline script or style.
fn assert_framed(answer: &Answer, what: &str) {
    assert_eq!(answer.status, 200, "{what}: {}", answer.body);
    let body = &answer.body;
    for wanted in ["<a href=\"/orders\">Orders</a>", "id=\"logout\""] {
        assert!(body.contains(wanted), "{what}: no {wanted} in:\n{body}");
    }
    assert!(
        answer
            .header("content-security-policy")
            .contains("script-src 'self'"),
        "{what}"
    );
    for inline in [" style=", " onclick=", "<script>"] {
        assert!(!body.contains(inline), "{what}: {inline}");
    }
}

#[test]
fn the_orders_page_lists_what_needs_attention_then_every_order_newest_first_by_page_and_status() {
    let (_store, install, _seed) = warehouse(55);
    let service = install.serve();
    let mut admin = PageClient::logged_in(&service, ADMIN);
    let every = install.json(&["orders", "--json"]);
    let every = every.as_array().unwrap();
    assert!(every.len() > 60, "{}", every.len());

    let first = admin.get("/orders");
    assert_framed(&first, "/orders");
    // The attention list comes first: the two orders with the deleted kit
    // part, each with its source, status and reason.
    let body = &first.body;
    assert!(
        body.find("id=\"attention\"").unwrap() < body.find("id=\"orders\"").unwrap(),
        "{body}"
    );
    let mut flagged = listed(body, "attention");
    flagged.sort();
    assert_eq!(flagged, [KIT_ORDER, ODD], "{body}");
    for number in [KIT_ORDER, ODD] {
        let flagged = row(body, "attention", number);
        assert!(flagged.contains("<td>woocommerce</td>"), "{flagged}");
        let reason = cells(flagged, "reason").concat();
        assert!(
            reason.contains("Kit part A") && reason.contains("no longer exists"),
            "{reason}"
        );
    }
    assert_eq!(cells(row(body, "attention", ODD), "status"), ["shipped"]);
    assert_eq!(cells(row(body, "attention", KIT_ORDER), "status"), ["open"]);
    // The list: 50 a page, newest first, the odd order on top, flagged.
    let page_one = listed(body, "orders");
    assert_eq!(page_one.len(), 50);
    assert_eq!(page_one[0], ODD, "the newest");
    let placed = cells(element(body, "table", "orders"), "placed");
    assert!(placed.windows(2).all(|w| w[0] >= w[1]), "{placed:?}");
    let odd_row = row(body, "orders", ODD);
    assert!(odd_row.contains("needs attention"), "{odd_row}");
    // Lines, then ordered (one mug of two refunded), picked, shipped.
    assert!(
        odd_row.contains("<td>2</td><td>2</td><td>1</td><td>1</td>"),
        "{odd_row}"
    );
    assert!(
        !row(body, "orders", "501").contains("needs attention"),
        "{body}"
    );
    assert!(body.contains(&format!("Page 1 of 2 ({} orders)", every.len())));
    assert!(!body.contains("id=\"previous-page\""));
    let next = attributes(element(body, "a", "next-page"), "href")[0].clone();
    assert_eq!(next, "/orders?page=2");
    let second = admin.get(&next);
    assert_framed(&second, &next);
    let page_two = listed(&second.body, "orders");
    assert_eq!(page_two.len(), every.len() - 50);
    assert!(!second.body.contains("id=\"next-page\""));
    let mut all: Vec<String> = page_one.into_iter().chain(page_two).collect();
    all.sort();
    let mut expected: Vec<String> = every
        .iter()
        .map(|o| o["number"].as_str().unwrap().to_owned())
        .collect();
    expected.sort();
    assert_eq!(all, expected, "every order once over the two pages");
    // The attention list stays on every page.
    assert_eq!(listed(&second.body, "attention").len(), 2);
    let past = admin.get("/orders?page=3");
    assert_eq!(past.status, 404, "{}", past.body);
    assert!(past.body.contains("the last is 2"), "{}", past.body);

    // By status: shipped is the odd order alone; open has no shipped one.
    let shipped = admin.get("/orders?status=shipped");
    assert_framed(&shipped, "shipped");
    assert_eq!(listed(&shipped.body, "orders"), [ODD]);
    assert!(shipped.body.contains("<strong>shipped</strong>"));
    let open = admin.get("/orders?status=open");
    let open_listed = listed(&open.body, "orders");
    assert!(
        open_listed.contains(&KIT_ORDER.to_owned()),
        "{open_listed:?}"
    );
    assert!(!open_listed.contains(&ODD.to_owned()), "{open_listed:?}");
    let open_cli = install.json(&["orders", "--status", "open", "--json"]);
    let open_count = open_cli.as_array().unwrap().len();
    assert!(
        open.body.contains(&format!("({open_count} orders)")),
        "{}",
        open.body
    );
    let none = admin.get("/orders?status=picking");
    assert!(none.body.contains("id=\"no-orders\""), "{}", none.body);
    for bad in ["/orders?status=lost", "/orders?page=0", "/orders?page=x"] {
        let refused = admin.get(bad);
        assert_eq!(refused.status, 400, "{bad}: {}", refused.body);
        assert!(
            refused.body.contains("id=\"logout\""),
            "{bad}: in the frame"
        );
    }
}

#[test]
fn an_order_page_shows_refunds_the_not_shipped_lines_reason_and_its_shipment_under_an_odd_number() {
    let (_store, install, _seed) = warehouse(0);
    let service = install.serve();
    let mut admin = PageClient::logged_in(&service, ADMIN);
    let list = admin.get("/orders");
    let href = link(&list.body, ODD);
    assert_eq!(
        href,
        "/orders/WC%2F2026%20%237%2B%3Fa%3D1%26b%3D%3Ci%3E50%25%3C%2Fi%3E"
    );
    let order = admin.get(&href);
    assert_framed(&order, &href);
    let body = &order.body;
    // The number is shown as text: escaped, never markup.
    assert!(
        body.contains(&format!("<h1>Order {}</h1>", escaped(ODD))),
        "{body}"
    );
    assert!(!body.contains("<i>50%"), "{body}");
    assert!(body.contains("Oda &lt;b&gt;Odd&lt;/b&gt;"), "{body}");
    // What needs attention comes before the rest, prominently.
    assert!(body.contains("<p class=\"message error\" id=\"attention\""));
    let attention = element(body, "p", "attention");
    assert!(
        attention.contains("Kit part A") && attention.contains("no longer exists"),
        "{attention}"
    );
    assert!(body.find("id=\"attention\"").unwrap() < body.find("id=\"order\"").unwrap());
    let head = element(body, "table", "order");
    for wanted in [
        "<td id=\"status\">shipped</td>",
        &format!("woocommerce #{ODD_ID}"),
        "9 Slash St, Leeds, LS1 1AA, GB",
        "Flat rate",
        "2026-11-21 10:00:00Z",
    ] {
        assert!(head.contains(wanted), "{wanted} in {head}");
    }
    // Line 1: a mug of two refunded, the other picked and shipped.
    let mug = element(body, "tr", "line-1");
    assert!(
        mug.contains("<td>MUG</td><td>1</td><td>1</td><td>1</td><td class=\"refunded\">1</td>"),
        "{mug}"
    );
    // Line 2: kept, not shipped, with why.
    let kit = element(body, "tr", "line-2");
    let why = cells(kit, "description").concat();
    assert!(
        kit.contains("class=\"not-shipped\"")
            && why.starts_with("not to be shipped: Kit part A (cannot be shipped:")
            && why.contains("no longer exists"),
        "{kit}"
    );
    let shipments = element(body, "table", "shipments");
    assert!(
        shipments.contains("UPS") && shipments.contains("1Z999AA10123456784"),
        "{shipments}"
    );
    assert!(shipments.contains("line 1 × 1"), "{shipments}");
    // The page says what the CLI says.
    let cli = install.json(&["order", ODD, "--json"]);
    assert_eq!(cli["lines"][0]["refunded"], 1, "{cli:#}");
    assert_eq!(cli["status"], "shipped", "{cli:#}");

    // An order with nothing to attend to and nothing shipped.
    let plain = admin.get(&link(&list.body, "501"));
    assert_framed(&plain, "501");
    assert!(!plain.body.contains("id=\"attention\""));
    assert!(plain.body.contains("id=\"no-shipments\""));
    // An unknown number: 404 in the frame; a number that is not UTF-8: 400.
    for (path, status) in [
        ("/orders/WC%2F404", 404),
        ("/orders/%FF", 400),
        ("/orders/WC/2026", 404),
    ] {
        let missing = admin.get(path);
        assert_eq!(missing.status, status, "{path}: {}", missing.body);
        assert!(
            missing.body.contains("<a href=\"/orders\">Orders</a>")
                && missing.body.contains("id=\"logout\""),
            "{path}: {}",
            missing.body
        );
    }
    assert!(admin.get("/orders/WC%2F404").body.contains("WC/404"));
}

#[test]
fn a_read_only_user_sees_the_orders_and_nobody_without_a_login_does() {
    let (_store, install, _seed) = warehouse(0);
    let service = install.serve();
    let href = {
        let mut admin = PageClient::logged_in(&service, ADMIN);
        link(&admin.get("/orders").body, ODD)
    };
    let mut reader = PageClient::logged_in(&service, READER);
    for path in ["/orders", "/orders?status=shipped", href.as_str()] {
        let answer = reader.get(path);
        assert_framed(&answer, path);
        assert!(answer.body.contains(&escaped(ODD)), "{path}");
        // Nothing to change: the only form is the logout.
        assert_eq!(answer.body.matches("<form").count(), 1, "{path}");
        assert!(answer.body.contains("(read-only)"), "{path}");
    }
    let order = reader.get(&href);
    assert!(order.body.contains("class=\"refunded\">1<"));
    // There is no change to make: a POST to an order is no route.
    let token = order.csrf();
    let posted = reader.post(&href, &[("csrf", &token)]);
    assert_eq!(posted.status, 403, "read-only: {}", posted.body);

    let mut anonymous = PageClient::new(&service);
    for path in ["/orders", href.as_str(), "/orders/WC%2F404"] {
        let answer = anonymous.get(path);
        assert_eq!(
            (answer.status, answer.header("location").as_str()),
            (303, "/login"),
            "{path}"
        );
        assert!(!answer.body.contains("Kit part A"), "{path}");
    }
}

/// The orders pages in a real headless Chromium driven over WebDriver,
/// with a screenshot of each in `target/e2e-screenshots/` (`orders-*.png`).
mod browser {
    use fantoccini::Locator;

    use super::page::browser::follow;
    use super::page::browser::{Driver, chromium, shot, skipped_without_chromedriver, text};
    use super::page::{PASSWORD, READER};
    use super::{ODD, warehouse};

    #[test]
    fn a_read_only_user_reads_the_orders_and_an_order_in_chromium() {
        if skipped_without_chromedriver() {
            return;
        }
        let (_store, install, _seed) = warehouse(6);
        let service = install.serve();
        let base = service.admin_url();
        let driver = Driver::start();
        let profile = tempfile::tempdir().unwrap();
        tokio::runtime::Runtime::new().unwrap().block_on(session(
            &driver.url,
            &base,
            profile.path(),
        ));
    }

    async fn session(driver: &str, base: &str, profile: &std::path::Path) {
        let c = chromium(driver, profile, "1280,1000").await;

        c.goto(&format!("{base}/login")).await.unwrap();
        c.find(Locator::Id("user"))
            .await
            .unwrap()
            .send_keys(READER)
            .await
            .unwrap();
        c.find(Locator::Id("password"))
            .await
            .unwrap()
            .send_keys(PASSWORD)
            .await
            .unwrap();
        follow(&c, Locator::Id("login")).await;
        assert_eq!(text(&c, "h1").await, "Overview");

        // From the navigation to the orders.
        follow(&c, Locator::LinkText("Orders")).await;
        assert_eq!(text(&c, "h1").await, "Orders");
        let attention = text(&c, "#attention").await;
        assert!(
            attention.contains(ODD) && attention.contains("no longer exists"),
            "{attention}"
        );
        let first = text(&c, "#orders tbody tr:first-child td:first-child").await;
        assert_eq!(first, ODD, "the newest first");
        assert!(c.get_alert_text().await.is_err(), "no alert was raised");
        shot(&c, "orders-list").await;

        // The odd order through its link: the number decoded, as text.
        follow(
            &c,
            Locator::Css("#orders tbody tr:first-child td:first-child a"),
        )
        .await;
        assert_eq!(text(&c, "h1").await, format!("Order {ODD}"));
        let path = c.current_url().await.unwrap().path().to_owned();
        assert!(path.starts_with("/orders/WC%2F2026%20"), "{path}");
        let attention = text(&c, "#attention").await;
        assert!(attention.starts_with("Needs attention:"), "{attention}");
        assert_eq!(text(&c, "#line-1 .refunded").await, "1");
        assert!(
            text(&c, "#line-2 .description")
                .await
                .starts_with("not to be shipped: Kit part A")
        );
        assert!(text(&c, "#shipments").await.contains("1Z999AA10123456784"));
        assert!(
            c.find_all(Locator::Css("main form"))
                .await
                .unwrap()
                .is_empty(),
            "nothing to change"
        );
        shot(&c, "orders-order").await;

        // Filtered by status.
        c.goto(&format!("{base}/orders?status=open")).await.unwrap();
        assert_eq!(
            text(&c, "h2:nth-of-type(2)").await,
            "Orders with status open"
        );
        shot(&c, "orders-open").await;
        c.close().await.unwrap();
    }
}
