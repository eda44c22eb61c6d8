//! The library entry point: build a sandbox, start it on a port (in the
//! caller's runtime or on its own thread), and reach into it from tests.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::api::Features;
use crate::auth::{ApiKey, Authenticator};
use crate::capacity::{Capacity, CapacityStats, Pool};
use crate::clock::{Clock, SystemClock};
use crate::dates::site_zone;
use crate::faults::{FaultRule, Faults};
use crate::model::{Note, Order, Product, Tracking};
use crate::render::Site;
use crate::seed::Seed;
use crate::server::{Shared, serve};
use crate::stats::Stats;
use crate::store::Store;
use crate::version::WcVersion;

/// Namespace for [`Sandbox::builder`].
pub struct Sandbox;

impl Sandbox {
    /// A builder with: listen on 127.0.0.1 (free port), no keys, empty
    /// store, plain HTTP, site zone Europe/Berlin, real clock, ±15 min
    /// OAuth window, COGS and Shipment Tracking on, no faults, playing
    /// WooCommerce 10.0.2, no limit on requests served at once.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            keys: Vec::new(),
            seed: Seed::default(),
            tls: false,
            behind_tls: false,
            home_url: None,
            timezone: "Europe/Berlin".into(),
            clock: Arc::new(SystemClock),
            timestamp_window_secs: Some(900),
            features: Features::default(),
            faults: Vec::new(),
            fault_seed: 1,
            wc_version: WcVersion::RECORDED,
            capacity: None,
        }
    }
}

/// Configuration of a sandbox before it starts.
pub struct SandboxBuilder {
    listen: SocketAddr,
    keys: Vec<ApiKey>,
    seed: Seed,
    tls: bool,
    behind_tls: bool,
    home_url: Option<String>,
    timezone: String,
    clock: Arc<dyn Clock>,
    timestamp_window_secs: Option<i64>,
    features: Features,
    faults: Vec<FaultRule>,
    fault_seed: u64,
    wc_version: WcVersion,
    capacity: Option<Capacity>,
}

impl SandboxBuilder {
    /// Listen address (port 0: any free port).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }
    /// Add an API key.
    pub fn key(mut self, key: ApiKey) -> Self {
        self.keys.push(key);
        self
    }
    /// Add a read/write key.
    pub fn consumer(self, key: &str, secret: &str) -> Self {
        self.key(ApiKey::read_write(key, secret))
    }
    /// Initial records.
    pub fn seed(mut self, seed: Seed) -> Self {
        self.seed = seed;
        self
    }
    /// Serve HTTPS with a self-signed certificate.
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }
    /// Act as if a TLS proxy sits in front (Basic and query-string keys are
    /// then accepted over plain HTTP, as WordPress with `is_ssl()` true).
    pub fn behind_tls(mut self, on: bool) -> Self {
        self.behind_tls = on;
        self
    }
    /// The site's home URL (OAuth base URL, links). Default: the URL the
    /// sandbox listens on.
    pub fn home_url(mut self, url: &str) -> Self {
        self.home_url = Some(url.trim_end_matches('/').to_owned());
        self
    }
    /// The site's time zone (IANA name).
    pub fn timezone(mut self, name: &str) -> Self {
        self.timezone = name.to_owned();
        self
    }
    /// The clock (e.g. a [`crate::clock::ManualClock`]).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }
    /// OAuth timestamp window in seconds; `None` disables the check.
    pub fn timestamp_window(mut self, secs: Option<i64>) -> Self {
        self.timestamp_window_secs = secs;
        self
    }
    /// Native cost of goods sold on or off.
    pub fn cogs(mut self, on: bool) -> Self {
        self.features.cogs = on;
        self
    }
    /// Shipment Tracking routes on or off.
    pub fn shipment_tracking(mut self, on: bool) -> Self {
        self.features.shipment_tracking = on;
        self
    }
    /// Fault rules in force from the start.
    pub fn faults(mut self, rules: Vec<FaultRule>) -> Self {
        self.faults = rules;
        self
    }
    /// Seed of the fault generator.
    pub fn fault_seed(mut self, seed: u64) -> Self {
        self.fault_seed = seed;
        self
    }
    /// The WooCommerce version to play (reported by `system_status` and on
    /// orders; 10.3.0 and later add `GET /wc/v3/variations`).
    pub fn wc_version(mut self, version: WcVersion) -> Self {
        self.wc_version = version;
        self
    }

    /// Serve REST requests as a PHP-FPM pool of this size does (see
    /// [`crate::capacity`]); `None`: no limit.
    pub fn capacity(mut self, capacity: Option<Capacity>) -> Self {
        self.capacity = capacity;
        self
    }

    /// Bind and serve on the current tokio runtime.
    pub async fn start(self) -> anyhow::Result<RunningSandbox> {
        let listener = TcpListener::bind(self.listen).await?;
        let addr = listener.local_addr()?;
        let scheme = if self.tls { "https" } else { "http" };
        let url = format!("{scheme}://{addr}");
        let home = self.home_url.clone().unwrap_or_else(|| url.clone());
        let (acceptor, cert_pem) = if self.tls {
            let host = home
                .split("://")
                .nth(1)
                .unwrap_or("")
                .split([':', '/'])
                .next()
                .unwrap_or("")
                .to_owned();
            let cert = crate::tls::self_signed(&[host])?;
            (
                Some(tokio_rustls::TlsAcceptor::from(cert.config)),
                Some(cert.cert_pem),
            )
        } else {
            (None, None)
        };
        let shared = Arc::new(Shared {
            store: RwLock::new(Store::from_seed(self.seed)),
            site: Site {
                home,
                tz: site_zone(&self.timezone)?,
                cogs: self.features.cogs,
                wc_version: self.wc_version,
            },
            features: Mutex::new(self.features),
            auth: Authenticator::new(self.keys, self.timestamp_window_secs),
            clock: self.clock,
            clock_offset: AtomicI64::new(0),
            wc_version: Mutex::new(self.wc_version),
            faults: Faults::new(self.faults, self.fault_seed),
            stats: Stats::default(),
            pool: Pool::new(self.capacity),
            behind_tls: self.behind_tls,
            webhooks: Mutex::default(),
        });
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(serve(listener, acceptor, shared.clone(), stopped));
        Ok(RunningSandbox {
            addr,
            url,
            cert_pem,
            shared,
            stop,
            task,
        })
    }

    /// Start on a thread of its own with its own runtime, for synchronous
    /// test code. The sandbox stops when the handle is dropped.
    pub fn start_blocking(self) -> anyhow::Result<BlockingSandbox> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let running = runtime.block_on(self.start())?;
        Ok(BlockingSandbox {
            running: Some(running),
            runtime: Some(runtime),
        })
    }
}

/// A started sandbox. Dropping it stops the server.
pub struct RunningSandbox {
    addr: SocketAddr,
    url: String,
    cert_pem: Option<String>,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningSandbox {
    /// The socket the sandbox listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// `http(s)://127.0.0.1:PORT` (what to connect to).
    pub fn url(&self) -> &str {
        &self.url
    }
    /// The site's home URL (what OAuth signatures are computed over).
    pub fn home_url(&self) -> &str {
        &self.shared.site.home
    }
    /// The REST root in pretty-permalink form: `{url}/wp-json`.
    pub fn api_root(&self) -> String {
        format!("{}/wp-json", self.url)
    }
    /// The plain-permalink base: `{url}/?rest_route=` (append the route).
    pub fn base_url(&self) -> String {
        format!("{}/?rest_route=", self.url)
    }
    /// The self-signed certificate (PEM) when serving TLS.
    pub fn cert_pem(&self) -> Option<&str> {
        self.cert_pem.as_deref()
    }
    /// Request counts, keyed `"METHOD /route/pattern"`.
    pub fn stats(&self) -> BTreeMap<String, u64> {
        self.shared.stats.snapshot()
    }
    /// Count of one `"METHOD /route/pattern"` key (0 if never seen).
    pub fn count(&self, key: &str) -> u64 {
        self.stats().get(key).copied().unwrap_or(0)
    }
    /// Forget the request counts.
    /// The webhooks and their deliveries, as `/__sandbox/webhooks` shows them.
    pub fn webhooks(&self) -> serde_json::Value {
        self.shared
            .webhooks
            .lock()
            .expect("webhooks lock")
            .control_body()
    }

    pub fn reset_stats(&self) {
        self.shared.stats.reset();
    }
    /// What the worker pool served and refused, and its peaks.
    pub fn capacity_stats(&self) -> CapacityStats {
        self.shared.pool.stats()
    }
    /// Replace the fault rules (an empty list clears them).
    pub fn set_faults(&self, rules: Vec<FaultRule>) {
        self.shared.faults.set(rules);
    }
    /// Switch features at runtime.
    pub fn set_features(&self, features: Features) {
        *self.shared.features.lock().expect("features lock") = features;
    }
    /// Play another WooCommerce version from now on.
    pub fn set_wc_version(&self, version: WcVersion) {
        *self.shared.wc_version.lock().expect("version lock") = version;
    }
    /// The WooCommerce version played.
    pub fn wc_version(&self) -> WcVersion {
        self.shared.wc_version()
    }
    /// Move the sandbox's clock on by `secs` seconds (negative: back);
    /// the same as `PUT /__sandbox/clock {"advance_secs": secs}`.
    pub fn advance_clock(&self, secs: i64) {
        self.shared.clock_offset.fetch_add(secs, Ordering::Relaxed);
    }
    /// The sandbox's "now" (whole seconds, offset included).
    pub fn now(&self) -> jiff::Timestamp {
        self.shared.now()
    }
    /// Access to the records.
    pub fn store(&self) -> StoreHandle {
        StoreHandle {
            shared: self.shared.clone(),
        }
    }
    /// Stop serving and wait for the accept loop to end.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        let _ = (&mut self.task).await;
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// A sandbox running on its own thread; derefs to [`RunningSandbox`].
pub struct BlockingSandbox {
    running: Option<RunningSandbox>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl std::ops::Deref for BlockingSandbox {
    type Target = RunningSandbox;
    fn deref(&self) -> &RunningSandbox {
        self.running.as_ref().expect("running until dropped")
    }
}

impl Drop for BlockingSandbox {
    fn drop(&mut self) {
        drop(self.running.take());
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// Read and change the sandbox's records from a test.
#[derive(Clone)]
pub struct StoreHandle {
    shared: Arc<Shared>,
}

impl StoreHandle {
    /// Run `f` with read access to the store.
    pub fn read<R>(&self, f: impl FnOnce(&Store) -> R) -> R {
        f(&self.shared.store.read().expect("store lock"))
    }
    /// Run `f` with write access to the store.
    pub fn write<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        f(&mut self.shared.store.write().expect("store lock"))
    }
    /// A product or variation.
    pub fn product(&self, id: u64) -> Option<Product> {
        self.read(|s| s.product(id).cloned())
    }
    /// The product holding a SKU.
    pub fn product_by_sku(&self, sku: &str) -> Option<Product> {
        self.read(|s| s.product_by_sku(sku).cloned())
    }
    /// Stock quantity of a product (None: unknown id or unmanaged).
    pub fn stock(&self, id: u64) -> Option<i64> {
        self.read(|s| s.product(id).and_then(|p| p.stock_quantity))
    }
    /// Insert or replace a product as given.
    pub fn put_product(&self, p: Product) {
        self.write(|s| s.put_product(p));
    }
    /// Change a product with `f` and stamp it modified now.
    pub fn modify_product(&self, id: u64, f: impl FnOnce(&mut Product)) -> bool {
        let now = self.shared.now();
        self.write(|s| match s.product(id).cloned() {
            Some(mut p) => {
                f(&mut p);
                p.date_modified = now;
                s.put_product(p);
                true
            }
            None => false,
        })
    }
    /// An order.
    pub fn order(&self, id: u64) -> Option<Order> {
        self.read(|s| s.order(id).cloned())
    }
    /// Insert or replace an order as given.
    pub fn put_order(&self, o: Order) {
        self.write(|s| s.put_order(o));
    }
    /// Change an order with `f` and stamp it modified now.
    pub fn modify_order(&self, id: u64, f: impl FnOnce(&mut Order)) -> bool {
        let now = self.shared.now();
        self.write(|s| match s.order(id).cloned() {
            Some(mut o) => {
                f(&mut o);
                o.date_modified = now;
                s.put_order(o);
                true
            }
            None => false,
        })
    }
    /// Notes of an order, oldest first.
    pub fn notes(&self, order_id: u64) -> Vec<Note> {
        self.read(|s| s.notes(order_id).to_vec())
    }
    /// Shipment trackings of an order as the extension reads them from the
    /// order meta `_wc_shipment_tracking_items`, in the order stored.
    pub fn trackings(&self, order_id: u64) -> Vec<Tracking> {
        self.read(|s| s.trackings(order_id))
    }
}
