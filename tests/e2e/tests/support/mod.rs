//! Shared pieces of the fault, crash, outage and bad-input tests: running
//! jobs and reading their records, a seeded generator, a TCP proxy that can
//! take the store off the network (or answer in its place), snapshots of
//! both sides for comparison, and the database's own integrity check.
//!
//! Each test file includes this with `mod support;`; not every file uses
//! every piece.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use e2e_tests::{Install, SandboxStore, WOOCOMMERCE};
use serde_json::{Value, json};

pub const PLUGIN: &str = "woocommerce";
pub const JOBS: [&str; 4] = [
    "import-products",
    "import-orders",
    "export-fulfillment",
    "end-of-day",
];

/// A host with the WooCommerce plugin pointed at `url` (plus `extra`
/// settings) and activated.
pub fn install_for(url: &str, extra: &[&str]) -> Install {
    let install = Install::with_plugins(&[WOOCOMMERCE]);
    let mut settings = vec![
        format!("store_url={url}"),
        format!("consumer_key={}", SandboxStore::KEY),
        format!("consumer_secret={}", SandboxStore::SECRET),
    ];
    settings.extend(extra.iter().map(|s| (*s).to_owned()));
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    install.set(PLUGIN, &settings);
    install.activate(PLUGIN);
    install
}

/// The e2e seed store (`tests/e2e/seeds/import.json`).
pub fn seed_path() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("seeds/import.json")
        .display()
        .to_string()
}

/// The e2e seed store started with `flags`, `before(store)` done to it,
/// and a host with the plugin active on it (the store's settings, plus
/// `settings`).
pub fn seed_store(
    flags: &[&str],
    settings: &[&str],
    before: impl FnOnce(&SandboxStore),
) -> (SandboxStore, Install) {
    let seed = seed_path();
    let mut all = vec!["--seed", seed.as_str()];
    all.extend_from_slice(flags);
    let store = SandboxStore::start_with(&all);
    before(&store);
    let install = Install::with_plugins(&[WOOCOMMERCE]);
    let mut wanted = store.settings();
    wanted.extend(settings.iter().map(|s| (*s).to_owned()));
    let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
    install.set(PLUGIN, &wanted);
    install.activate(PLUGIN);
    (store, install)
}

/// [`seed_store`] with the products and then the orders imported (each
/// must succeed); the product import's run record last.
pub fn imported_seed_store(
    flags: &[&str],
    settings: &[&str],
    before: impl FnOnce(&SandboxStore),
) -> (SandboxStore, Install, Value) {
    let (store, install) = seed_store(flags, settings, before);
    let products = run_record(&install, "import-products", &[]);
    assert_eq!(products["outcome"], "succeeded", "{products:#}");
    let orders = run_record(&install, "import-orders", &[]);
    assert_eq!(orders["outcome"], "succeeded", "{orders:#}");
    (store, install, products)
}

/// Runs a job by hand with `--json` (and `flags`); returns its run record,
/// failing the test if the host printed none.
pub fn run_record(install: &Install, job: &str, flags: &[&str]) -> Value {
    let mut args = vec!["run", PLUGIN, job, "--json"];
    args.extend_from_slice(flags);
    let ran = install.run(&args);
    serde_json::from_str(&ran.stdout())
        .unwrap_or_else(|e| panic!("{job}: not JSON ({e}): {}\n{}", ran.stdout(), ran.stderr()))
}

/// The e2e seed store behind a [`Proxy`] (the store signs for the proxy's
/// address), and a host pointed at the proxy with the plugin active.
pub fn seed_store_behind_a_proxy() -> (SandboxStore, Proxy, Install) {
    let proxy = Proxy::bind();
    let store = SandboxStore::start_with(&["--seed", &seed_path(), "--home-url", &proxy.url]);
    proxy.forward_to(&store.url);
    let install = install_for(&proxy.url, &[]);
    (store, proxy, install)
}

/// How one `plugin-host run woocommerce JOB --json` ended.
#[derive(Debug)]
pub struct JobRun {
    pub code: Option<i32>,
    /// The run as recorded (absent when the host refused before starting it).
    pub record: Option<Value>,
    pub stderr: String,
}

impl JobRun {
    pub fn succeeded(&self) -> bool {
        self.code == Some(0) && self.outcome() == Some("succeeded")
    }

    pub fn outcome(&self) -> Option<&str> {
        self.record.as_ref()?.get("outcome")?.as_str()
    }

    /// The recorded error, else the host's last line on stderr.
    pub fn reason(&self) -> String {
        self.record
            .as_ref()
            .and_then(|r| r["error"].as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| {
                self.stderr
                    .lines()
                    .rfind(|l| l.starts_with("error:"))
                    .unwrap_or("")
                    .to_owned()
            })
    }
}

/// Runs a job by hand with `--json`; never fails the test by itself.
pub fn run_job(install: &Install, job: &str, flags: &[&str]) -> JobRun {
    let mut args = vec!["run", PLUGIN, job, "--json"];
    args.extend_from_slice(flags);
    let ran = install.run(&args);
    JobRun {
        code: ran.code(),
        record: serde_json::from_str(&ran.stdout()).ok(),
        stderr: ran.stderr(),
    }
}

/// Runs a job until it succeeds, at most `limit` times; returns the runs
/// that did not succeed (the test fails if none did).
pub fn run_until_succeeded(install: &Install, job: &str, limit: usize) -> Vec<JobRun> {
    let mut failed = Vec::new();
    for _ in 0..limit {
        let run = run_job(install, job, &[]);
        assert!(
            matches!(run.code, Some(0) | Some(1)),
            "{job} crashed ({:?}): {}",
            run.code,
            run.stderr
        );
        if run.succeeded() {
            return failed;
        }
        failed.push(run);
    }
    let reasons: Vec<String> = failed.iter().map(JobRun::reason).collect();
    panic!("{job} did not succeed in {limit} runs: {reasons:#?}");
}

/// A small seeded generator (xorshift64*): the same seed, the same draws.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `range` (end excluded).
    pub fn below(&mut self, end: u64) -> u64 {
        self.next() % end.max(1)
    }

    pub fn between(&mut self, start: u64, end: u64) -> u64 {
        start + self.below(end - start)
    }
}

/// A whole-number environment variable, or `default`.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Answers a request in the store's place: `(method, path with query)` in,
/// the raw HTTP answer out (`None`: pass it on to the store).
pub type Stand = dyn Fn(&str, &str) -> Option<Vec<u8>> + Send + Sync;

/// A plain TCP proxy in front of a store: one request per connection,
/// passed on as it came. It can go down (its port then refuses
/// connections, as a host that is off) and come back on the same port,
/// and it can answer chosen requests itself ([`Proxy::stand_in`]).
pub struct Proxy {
    pub url: String,
    addr: SocketAddr,
    target: Arc<Mutex<Option<SocketAddr>>>,
    stand: Arc<Mutex<Option<Box<Stand>>>>,
    pub requests: Arc<AtomicU64>,
    /// What the store's answers passed on were: `ok`, `429`, `5xx`,
    /// `dropped` (closed without an answer), `garbled` (a 2xx whose body is
    /// not JSON), `4xx` (the store's own refusals, not faults).
    pub answers: Arc<Mutex<BTreeMap<&'static str, u64>>>,
    running: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

impl Proxy {
    /// Takes a free port, passing nothing on until [`Proxy::forward_to`].
    pub fn bind() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let addr = listener.local_addr().unwrap();
        let mut proxy = Self {
            url: format!("http://{addr}"),
            addr,
            target: Arc::default(),
            stand: Arc::default(),
            requests: Arc::default(),
            answers: Arc::default(),
            running: None,
        };
        proxy.serve(listener);
        proxy
    }

    /// Passes requests on to the store at `url` (`http://HOST:PORT`).
    pub fn forward_to(&self, url: &str) {
        let addr = url
            .trim_start_matches("http://")
            .parse()
            .expect("host:port");
        *self.target.lock().unwrap() = Some(addr);
    }

    /// Answers matching requests itself from now on.
    pub fn stand_in(&self, stand: Box<Stand>) {
        *self.stand.lock().unwrap() = Some(stand);
    }

    /// Closes the port: connecting is refused until [`Proxy::up`].
    pub fn down(&mut self) {
        if let Some((stop, thread)) = self.running.take() {
            stop.store(true, Ordering::SeqCst);
            thread.join().unwrap();
        }
        assert!(
            TcpStream::connect(self.addr).is_err(),
            "the port still accepts"
        );
    }

    /// Opens the same port again.
    pub fn up(&mut self) {
        let listener = TcpListener::bind(self.addr).expect("the proxy's port is free again");
        self.serve(listener);
    }

    fn serve(&mut self, listener: TcpListener) {
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (target, stand, requests, answers) = (
            Arc::clone(&self.target),
            Arc::clone(&self.stand),
            Arc::clone(&self.requests),
            Arc::clone(&self.answers),
        );
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            while !stopping.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        requests.fetch_add(1, Ordering::SeqCst);
                        let (target, stand, answers) = (
                            Arc::clone(&target),
                            Arc::clone(&stand),
                            Arc::clone(&answers),
                        );
                        std::thread::spawn(move || {
                            let _ = relay(client, &target, &stand, &answers);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        self.running = Some((stop, thread));
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some((stop, _)) = &self.running {
            stop.store(true, Ordering::SeqCst);
        }
    }
}

/// One request: read it whole, answer it (or have the store answer it),
/// close.
fn relay(
    mut client: TcpStream,
    target: &Mutex<Option<SocketAddr>>,
    stand: &Mutex<Option<Box<Stand>>>,
    answers: &Mutex<BTreeMap<&'static str, u64>>,
) -> std::io::Result<()> {
    client.set_nonblocking(false)?;
    client.set_read_timeout(Some(Duration::from_secs(30)))?;
    let request = read_request(&mut client)?;
    let head_end = find(&request, b"\r\n\r\n").unwrap_or(request.len());
    let head = String::from_utf8_lossy(&request[..head_end]).into_owned();
    let mut first = head.lines().next().unwrap_or("").split_whitespace();
    let (method, path) = (first.next().unwrap_or(""), first.next().unwrap_or(""));
    let answer = stand.lock().unwrap().as_ref().and_then(|f| f(method, path));
    let answer = match answer {
        Some(answer) => answer,
        None => {
            let Some(addr) = *target.lock().unwrap() else {
                return client.shutdown(Shutdown::Both);
            };
            let mut store = TcpStream::connect(addr)?;
            store.write_all(&close_connection(&request, head_end))?;
            let mut answer = Vec::new();
            store.read_to_end(&mut answer)?;
            *answers.lock().unwrap().entry(kind_of(&answer)).or_default() += 1;
            answer
        }
    };
    client.write_all(&answer)?;
    client.shutdown(Shutdown::Both)
}

/// The request with `Connection: close`, so the store ends the answer by
/// closing.
fn close_connection(request: &[u8], head_end: usize) -> Vec<u8> {
    let head = String::from_utf8_lossy(&request[..head_end]);
    let mut out = String::new();
    for line in head.split("\r\n") {
        if !line.to_ascii_lowercase().starts_with("connection:") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&request[(head_end + 4).min(request.len())..]);
    bytes
}

fn read_request(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(buf);
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return Ok(buf);
            }
        }
    }
}

/// What kind of answer the store gave (see [`Proxy::answers`]).
fn kind_of(answer: &[u8]) -> &'static str {
    let Some(end) = find(answer, b"\r\n\r\n") else {
        return "dropped";
    };
    let head = String::from_utf8_lossy(&answer[..end]).to_ascii_lowercase();
    let status = head.split_whitespace().nth(1).unwrap_or("");
    let body = &answer[end + 4..];
    match status.as_bytes().first() {
        _ if status == "429" => "429",
        Some(b'5') => "5xx",
        Some(b'2') if head.contains("transfer-encoding: chunked") => "ok",
        Some(b'2') if !body.is_empty() && serde_json::from_slice::<Value>(body).is_err() => {
            "garbled"
        }
        Some(b'2') => "ok",
        _ => "4xx",
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A raw HTTP answer with these headers and body (and `Content-Length`).
pub fn http_answer(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

/// Drops every key ending in `_ms` (times this run chose) at any depth.
pub fn without_times(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| !k.ends_with("_ms"));
            map.values_mut().for_each(without_times);
        }
        Value::Array(items) => items.iter_mut().for_each(without_times),
        _ => {}
    }
}

/// What the warehouse holds, as its CLI shows it, without times.
pub fn warehouse_snapshot(install: &Install) -> Value {
    let mut snapshot = json!({
        "items": install.json(&["items", "--json"]),
        "inventory": install.json(&["inventory", "--json"]),
        "orders": install.json(&["orders", "--json"]),
        "parked": install.json(&["parked", "--json"]),
    });
    without_times(&mut snapshot);
    snapshot
}

/// Every page of a store listing (`route` without paging parameters).
pub fn store_list(store: &SandboxStore, route: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let sep = if route.contains('?') { '&' } else { '?' };
    for page in 1.. {
        let batch = store.ok(
            "GET",
            &format!("{route}{sep}per_page=100&page={page}"),
            None,
        );
        let batch = batch.as_array().cloned().unwrap_or_default();
        let last = batch.len() < 100;
        all.extend(batch);
        if last {
            break;
        }
    }
    all
}

/// Notes of an order: (to the customer, text), oldest first.
pub fn notes(store: &SandboxStore, order: u64) -> Vec<(bool, String)> {
    let mut notes: Vec<(bool, String)> = store
        .ok("GET", &format!("/wc/v3/orders/{order}/notes"), None)
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["customer_note"].as_bool().unwrap_or(false),
                n["note"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    notes.reverse();
    notes
}

/// An order's Shipment Tracking entries, as the extension's routes list them.
pub fn tracking_entries(store: &SandboxStore, order: u64) -> Vec<Value> {
    let route = format!("/wc-shipment-tracking/v3/orders/{order}/shipment-trackings");
    let entries = store.ok("GET", &route, None);
    entries.as_array().cloned().unwrap_or_default()
}

/// The tracking numbers on an order.
pub fn trackings(store: &SandboxStore, order: u64) -> Vec<String> {
    tracking_entries(store, order)
        .iter()
        .filter_map(|t| t["tracking_number"].as_str().map(str::to_owned))
        .collect()
}

/// What the store holds that the plugin writes or reads: every order's
/// status, notes, picked meta and trackings (number and provider), and
/// every product's and variation's stock.
pub fn store_snapshot(store: &SandboxStore) -> Value {
    let mut orders = BTreeMap::new();
    for order in store_list(store, "/wc/v3/orders?status=any") {
        let id = order["id"].as_u64().unwrap();
        let picked = order["meta_data"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["key"] == "_intellitrack_picked")
            .map(|m| m["value"].clone());
        let trackings: Vec<Value> = tracking_entries(store, id)
            .iter()
            .map(|t| {
                json!([
                    t["tracking_number"],
                    t["tracking_provider"],
                    t["custom_tracking_provider"]
                ])
            })
            .collect();
        // Notes written in one second list in no set order: compared as a
        // multiset (each note exactly as often on both sides).
        let mut notes = notes(store, id);
        notes.sort();
        orders.insert(
            id,
            json!({"status": order["status"], "notes": notes,
                   "picked": picked, "trackings": trackings}),
        );
    }
    let mut stock = BTreeMap::new();
    for product in store_list(store, "/wc/v3/products?status=any") {
        let id = product["id"].as_u64().unwrap();
        stock.insert(id, product["stock_quantity"].clone());
        if product["type"] == "variable" {
            for v in store_list(store, &format!("/wc/v3/products/{id}/variations")) {
                stock.insert(v["id"].as_u64().unwrap(), v["stock_quantity"].clone());
            }
        }
    }
    json!({"orders": orders, "stock": stock})
}

/// The differences between two snapshots, as paths (at most `limit`).
pub fn differences(a: &Value, b: &Value, path: &str, out: &mut Vec<String>, limit: usize) {
    if out.len() >= limit || a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let (va, vb) = (&x.get(k), &y.get(k));
                let (va, vb) = (va.unwrap_or(&Value::Null), vb.unwrap_or(&Value::Null));
                differences(va, vb, &format!("{path}.{k}"), out, limit);
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                differences(va, vb, &format!("{path}[{i}]"), out, limit);
            }
        }
        _ => out.push(format!("{path}: {a} vs {b}")),
    }
}

/// `PRAGMA integrity_check` of the host's database: `ok`, or what is wrong.
pub fn integrity(data_dir: &Path) -> String {
    let conn = rusqlite::Connection::open(data_dir.join("intellitrack.db")).expect("opens");
    let rows: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .unwrap()
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rows.join("; ")
}

/// The plugin's state under `key`, read through the IntelliTrack DB.
pub fn plugin_state(data_dir: &Path, key: &str) -> Option<Value> {
    intellitrack_db::Db::open(&data_dir.join("intellitrack.db"))
        .unwrap()
        .state(PLUGIN, key)
        .unwrap()
}

/// Parses a store date (`2026-11-20T10:00:00`, GMT, or with `Z`) into
/// seconds, for comparing with a watermark.
pub fn gmt_seconds(text: &str) -> i64 {
    let text = text.trim_end_matches('Z');
    let ts: jiff::Timestamp = format!("{text}Z").parse().expect("a GMT date");
    ts.as_second()
}

/// The warehouse's items (`items --json`) by number.
pub fn items_by_number(install: &Install) -> std::collections::HashMap<String, Value> {
    let items = install.json(&["items", "--json"]);
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["number"].as_str().unwrap().to_owned(), i.clone()))
        .collect()
}

/// Works `count` open orders by hand through the CLI, as the warehouse
/// would, the same way for the same warehouse: in order-number order,
/// orders whose items are all active; every fourth is cancelled, every
/// fourth shipped in part (its first line), the rest picked and shipped
/// whole. Stock is received first so every pick has it. Tracking numbers
/// are `{prefix}{order number}`. Returns the orders worked.
pub fn work_orders(install: &Install, count: usize, prefix: &str) -> Vec<String> {
    const CARRIERS: [&str; 4] = ["UPS", "DHL", "FedEx", "Rig Freight"];
    let items = items_by_number(install);
    let active = |number: &str| items.get(number).is_some_and(|i| i["active"] == true);
    let mut open: Vec<Value> = install
        .json(&["orders", "--status", "open", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| {
            let lines = o["lines"].as_array().unwrap();
            lines.iter().any(|l| l["not_shipped"] == false)
                && lines
                    .iter()
                    .all(|l| l["not_shipped"] == true || active(l["item_number"].as_str().unwrap()))
        })
        .cloned()
        .collect();
    open.sort_by_key(|o| o["number"].as_str().unwrap().to_owned());
    let mut worked = Vec::new();
    for (i, order) in open.iter().take(count).enumerate() {
        let number = order["number"].as_str().unwrap();
        if i % 4 == 3 {
            install
                .run(&["cancel", number, "--reason", "damaged in the warehouse"])
                .success();
            worked.push(number.to_owned());
            continue;
        }
        let shippable: Vec<&Value> = order["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["not_shipped"] == false)
            .collect();
        let part = i % 4 == 2;
        let lines = if part {
            &shippable[..1]
        } else {
            &shippable[..]
        };
        let mut shipped = Vec::new();
        for line in lines {
            let (item, qty) = (
                line["item_number"].as_str().unwrap(),
                line["ordered"].as_i64().unwrap().to_string(),
            );
            let line_no = line["line"].as_i64().unwrap().to_string();
            install.run(&["receive", item, &qty]).success();
            install.run(&["pick", number, &line_no, &qty]).success();
            shipped.push(format!("{line_no}={qty}"));
        }
        let tracking = format!("{prefix}{number}");
        let mut ship = vec![
            "ship",
            number,
            "--carrier",
            CARRIERS[i % 4],
            "--tracking",
            &tracking,
        ];
        if part {
            ship.extend(shipped.iter().map(String::as_str));
        }
        install.run(&ship).success();
        worked.push(number.to_owned());
    }
    worked
}

/// Places an order for `quantity` of `product` in `status`, as a customer
/// (or the shop) would; returns its id.
pub fn place_order(store: &SandboxStore, product: u64, quantity: i64, status: &str) -> u64 {
    store.ok(
        "POST",
        "/wc/v3/orders",
        Some(serde_json::json!({
            "status": status,
            "billing": {"first_name": "Ada", "last_name": "Buyer", "email": "ada@example.test",
                        "address_1": "1 Loop Road", "city": "Testville", "country": "US"},
            "line_items": [{"product_id": product, "quantity": quantity}],
        })),
    )["id"]
        .as_u64()
        .unwrap()
}

/// The store's count of product `product`.
pub fn store_stock(store: &SandboxStore, product: u64) -> i64 {
    store.ok("GET", &format!("/wc/v3/products/{product}"), None)["stock_quantity"]
        .as_i64()
        .unwrap()
}
