//! The sandbox store as its own process, and talking to it around the
//! measured runs: its request counters, what it holds (census), and the
//! 1 % of products (and a few variations) changed before the incremental
//! run — through its REST API with Basic auth, which it accepts over plain
//! HTTP because it is started `--behind-tls`. The measured readers sign
//! with OAuth 1.0a as they would over HTTP.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use woo_sandbox::announce;

use crate::process::cpu_so_far;
use crate::requests::{Census, Changed, PER_PAGE, Requests, pages};
use crate::stock::{self, Counted, Drift};

pub const KEY: &str = "ck_bench_key";
pub const SECRET: &str = "cs_bench_secret";

/// The generated store.
#[derive(Debug, Clone, Copy)]
pub struct StoreSpec {
    pub products: u64,
    pub variable: u64,
    pub variations: u64,
    pub orders: u64,
    pub random_seed: u64,
}

/// The bulk edit made before `bench bulk-edit`'s runs.
#[derive(Debug, Clone, Copy)]
pub struct BulkEdit {
    /// Top-level products written.
    pub products: u64,
    /// Variations written.
    pub variations: u64,
    /// Batch requests it took.
    pub requests: u64,
    /// Seconds from its first write sent to its last answered: the store's
    /// clock is not moved meanwhile, so also the store time it spans.
    pub wall: f64,
}

/// A running `woo-sandbox`; killed on drop.
pub struct Sandbox {
    child: Child,
    pub url: String,
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
}

/// Whether this WooCommerce version has `GET /wc/v3/variations` (10.3+).
pub fn has_variations_route(version: &str) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (10, 3)
}

impl Sandbox {
    /// Starts the sandbox on a free port with the generated store and
    /// waits for the line that names its address.
    pub fn start(
        binary: &Path,
        spec: &StoreSpec,
        latency_ms: u64,
        wc_version: &str,
    ) -> anyhow::Result<Self> {
        Self::start_with(binary, spec, latency_ms, wc_version, &[])
    }

    /// [`Sandbox::start`] with more flags (`--workers N`).
    pub fn start_with(
        binary: &Path,
        spec: &StoreSpec,
        latency_ms: u64,
        wc_version: &str,
        flags: &[String],
    ) -> anyhow::Result<Self> {
        let mut command = Command::new(binary);
        command
            .args(["--listen", "127.0.0.1:0", "--behind-tls"])
            .args(["--consumer-key", KEY, "--consumer-secret", SECRET])
            .args(["--products", &spec.products.to_string()])
            .args(["--variable", &spec.variable.to_string()])
            .args(["--variations", &spec.variations.to_string()])
            .args(["--orders", &spec.orders.to_string()])
            .args(["--random-seed", &spec.random_seed.to_string()])
            .args(["--latency-ms", &latency_ms.to_string()])
            .args(["--wc-version", wc_version])
            .args(flags)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let url = announce::wait_for_url(&mut child)?;
        // Plain HTTP only, but reqwest's rustls backend wants a provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Ok(Self {
            child,
            url,
            runtime: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()?,
            http: reqwest::Client::new(),
        })
    }

    /// CPU seconds the store has used so far.
    pub fn cpu(&self) -> f64 {
        cpu_so_far(self.child.id()).unwrap_or(0.0)
    }

    pub fn reset_stats(&self) -> anyhow::Result<()> {
        self.runtime.block_on(async {
            self.http
                .delete(format!("{}/__sandbox/stats", self.url))
                .send()
                .await?
                .error_for_status()?;
            Ok(())
        })
    }

    /// What the store's worker pool served and refused since the last
    /// reset, and its peaks (`/__sandbox/capacity`).
    pub fn capacity(&self) -> anyhow::Result<woo_sandbox::CapacityStats> {
        self.runtime.block_on(async {
            Ok(self
                .http
                .get(format!("{}/__sandbox/capacity", self.url))
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?)
        })
    }

    pub fn reset_capacity(&self) -> anyhow::Result<()> {
        self.runtime.block_on(async {
            self.http
                .delete(format!("{}/__sandbox/capacity", self.url))
                .send()
                .await?
                .error_for_status()?;
            Ok(())
        })
    }

    pub fn stats(&self) -> anyhow::Result<Requests> {
        self.runtime.block_on(async {
            let counts = self
                .http
                .get(format!("{}/__sandbox/stats", self.url))
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            Ok(Requests(counts))
        })
    }

    /// Counts what the store holds from its listings' `X-WP-Total`.
    /// Below WooCommerce 10.3 there is no listing of every variation, so
    /// the store plays 10.3 for that one question and then its version
    /// again (nothing is measured meanwhile).
    pub fn census(&self, statuses: &[&str], wc_version: &str) -> anyhow::Result<Census> {
        self.runtime.block_on(async {
            let products = self.total("products", &[]).await?;
            let variable = self.total("products", &[("type", "variable")]).await?;
            let variations = if has_variations_route(wc_version) {
                self.total("variations", &[]).await?
            } else {
                self.play(json!({"wc_version": "10.3.0"})).await?;
                let counted = self.total("variations", &[]).await;
                self.play(json!({ "wc_version": wc_version })).await?;
                counted?
            };
            let statuses = statuses.join(",");
            let orders = self.total("orders", &[("status", &statuses)]).await?;
            Ok(Census {
                products,
                variable,
                variations,
                orders,
            })
        })
    }

    async fn play(&self, features: Value) -> anyhow::Result<()> {
        self.http
            .put(format!("{}/__sandbox/features", self.url))
            .json(&features)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    async fn total(&self, route: &str, filters: &[(&str, &str)]) -> anyhow::Result<u64> {
        let mut query = vec![("per_page", "1")];
        query.extend_from_slice(filters);
        let response = self.get(route, &query).send().await?.error_for_status()?;
        response
            .headers()
            .get("x-wp-total")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("no X-WP-Total on GET {route}"))
    }

    /// `GET /wp-json/wc/v3/ROUTE?QUERY` as the shop admin (values are
    /// plain words, numbers and comma lists: nothing to escape).
    fn get(&self, route: &str, query: &[(&str, &str)]) -> reqwest::RequestBuilder {
        let query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        self.http
            .get(format!(
                "{}/wp-json/wc/v3/{route}?{}",
                self.url,
                query.join("&")
            ))
            .basic_auth(KEY, Some(SECRET))
    }

    /// Places an order of `quantity` of product `product_id` as a customer
    /// would (processing, paid); returns its id and number.
    pub fn place_order(&self, product_id: u64, quantity: u64) -> anyhow::Result<(u64, String)> {
        self.runtime.block_on(async {
            let order: Value = self
                .http
                .post(format!("{}/wp-json/wc/v3/orders", self.url))
                .basic_auth(KEY, Some(SECRET))
                .json(&json!({"status": "processing", "set_paid": true,
                    "line_items": [{"product_id": product_id, "quantity": quantity}]}))
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            let id = order["id"].as_u64().context("order id")?;
            let number = order["number"].as_str().context("order number")?.to_owned();
            Ok((id, number))
        })
    }

    /// `METHOD /wp-json/ROUTE` (`wc/v3/orders`; it may carry a query) as the
    /// shop admin, with a JSON body; the answer's JSON, or an error with
    /// the status and body when the store refused.
    pub fn rest(
        &self,
        method: reqwest::Method,
        route: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        self.runtime.block_on(async {
            let mut request = self
                .http
                .request(method.clone(), format!("{}/wp-json/{route}", self.url))
                .basic_auth(KEY, Some(SECRET));
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request.send().await?;
            let status = response.status();
            let text = response.text().await?;
            if !status.is_success() {
                bail!("{method} {route}: {status} {text}");
            }
            Ok(serde_json::from_str(&text)?)
        })
    }

    /// Every record of a listing (`ROUTE?QUERY&per_page=100&page=N`, pages
    /// until a short one).
    pub fn list(&self, route: &str, query: &str) -> anyhow::Result<Vec<Value>> {
        let mut all = Vec::new();
        for page in 1.. {
            let found = self.rest(
                reqwest::Method::GET,
                &format!("{route}?{query}&per_page={PER_PAGE}&page={page}"),
                None,
            )?;
            let records = found.as_array().context("a listing is not a list")?;
            all.extend(records.iter().cloned());
            if (records.len() as u64) < PER_PAGE {
                break;
            }
        }
        Ok(all)
    }

    /// Sets the store's clock to `at` (`PUT /__sandbox/clock` with the
    /// offset from its own clock, which then runs on in real time).
    pub fn set_clock(&self, at: jiff::Timestamp) -> anyhow::Result<()> {
        let offset = at.as_second() - jiff::Timestamp::now().as_second();
        self.control(
            reqwest::Method::PUT,
            "clock",
            &json!({ "offset_secs": offset }),
        )
    }

    /// Replaces the store's fault rules (`PUT /__sandbox/faults`; `[]`:
    /// none).
    pub fn set_faults(&self, rules: &Value) -> anyhow::Result<()> {
        self.control(reqwest::Method::PUT, "faults", rules)
    }

    fn control(&self, method: reqwest::Method, name: &str, body: &Value) -> anyhow::Result<()> {
        self.runtime.block_on(async {
            self.http
                .request(method, format!("{}/__sandbox/{name}", self.url))
                .json(body)
                .send()
                .await?
                .error_for_status()?;
            Ok(())
        })
    }

    /// A simple product's id, if the store has one.
    pub fn simple_product(&self) -> anyhow::Result<Option<u64>> {
        self.runtime.block_on(async {
            let found: Vec<Value> = self
                .get(
                    "products",
                    &[("type", "simple"), ("per_page", "1"), ("_fields", "id")],
                )
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            Ok(found.first().and_then(|p| p["id"].as_u64()))
        })
    }

    /// The store's webhooks (`GET /wc/v3/webhooks`).
    pub fn webhooks(&self) -> anyhow::Result<Vec<Value>> {
        self.runtime.block_on(async {
            Ok(self
                .get("webhooks", &[("per_page", "100")])
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?)
        })
    }

    /// Renames 1 % of the products (spread over the catalogue by id) and
    /// sets a new cost on the first variation of each variable product
    /// among them, a few requests at a time.
    pub fn change_one_percent(&self, products_total: u64) -> anyhow::Result<(Changed, f64)> {
        let started = Instant::now();
        let changed = self.runtime.block_on(async {
            let wanted = products_total.div_ceil(100).max(1);
            let total_pages = products_total.div_ceil(PER_PAGE).max(1);
            let page_count = wanted.div_ceil(PER_PAGE).min(total_pages);
            let mut chosen: Vec<Value> = Vec::new();
            for i in 0..page_count {
                let page = 1 + i * total_pages / page_count;
                let per_page = PER_PAGE.to_string();
                let page = page.to_string();
                let query = [
                    ("per_page", per_page.as_str()),
                    ("page", page.as_str()),
                    ("orderby", "id"),
                    ("order", "asc"),
                    ("_fields", "id,name,type,variations"),
                ];
                let records: Vec<Value> = self
                    .get("products", &query)
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await?;
                chosen.extend(records);
            }
            chosen.truncate(usize::try_from(wanted)?);
            let mut writes = Vec::new();
            let mut changed = Changed::default();
            for product in &chosen {
                let id = product["id"].as_u64().context("product id")?;
                let name = product["name"].as_str().unwrap_or_default();
                writes.push((
                    format!("products/{id}"),
                    json!({ "name": format!("{name} (changed)") }),
                ));
                changed.products += 1;
                if product["type"] == "variable" {
                    let variations = product["variations"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                    changed.variable += 1;
                    changed.variations_of_changed += variations.len() as u64;
                    if let Some(first) = variations.first().and_then(Value::as_u64) {
                        changed.variations += 1;
                        writes.push((
                            format!("products/{id}/variations/{first}"),
                            json!({"cost_of_goods_sold": {"values": [{"defined_value": 4.56}]}}),
                        ));
                    }
                }
            }
            self.send_all(reqwest::Method::PUT, writes.into_iter(), 8)
                .await?;
            Ok::<_, anyhow::Error>(changed)
        })?;
        Ok((changed, started.elapsed().as_secs_f64()))
    }

    /// Every record End of Day compares, products then variations, in id
    /// order, read eight pages at a time. Below WooCommerce 10.3 the store
    /// plays 10.3 for the variations (nothing is measured meanwhile).
    pub fn counted_stock(&self, census: &Census, wc_version: &str) -> anyhow::Result<Vec<Counted>> {
        self.runtime.block_on(async {
            let mut counted = self
                .list_all("products", census.products, stock::FIELDS, stock::counted)
                .await?;
            let variations = if has_variations_route(wc_version) {
                self.list_all(
                    "variations",
                    census.variations,
                    stock::FIELDS,
                    stock::counted,
                )
                .await
            } else {
                self.play(json!({"wc_version": "10.3.0"})).await?;
                let listed = self
                    .list_all(
                        "variations",
                        census.variations,
                        stock::FIELDS,
                        stock::counted,
                    )
                    .await;
                self.play(json!({ "wc_version": wc_version })).await?;
                listed
            };
            counted.extend(variations?);
            Ok(counted)
        })
    }

    /// What `keep` takes of each record of every page of a listing
    /// (`total` records, `_fields` as given), in id order. Each page is
    /// reduced as it arrives: this process stays small, and a child's peak
    /// RSS (`ru_maxrss`) starts from its parent's at the spawn.
    async fn list_all<T: Send + 'static>(
        &self,
        route: &str,
        total: u64,
        fields: &str,
        keep: fn(&Value) -> Option<T>,
    ) -> anyhow::Result<Vec<T>> {
        let limit = Arc::new(tokio::sync::Semaphore::new(8));
        let mut tasks = tokio::task::JoinSet::new();
        for page in 1..=pages(total) {
            let per_page = PER_PAGE.to_string();
            let page_text = page.to_string();
            let request = self.get(
                route,
                &[
                    ("per_page", per_page.as_str()),
                    ("page", page_text.as_str()),
                    ("orderby", "id"),
                    ("order", "asc"),
                    ("_fields", fields),
                ],
            );
            let limit = Arc::clone(&limit);
            tasks.spawn(async move {
                let _permit = limit.acquire_owned().await?;
                let records: Vec<Value> = request.send().await?.error_for_status()?.json().await?;
                anyhow::Ok((page, records.iter().filter_map(keep).collect::<Vec<_>>()))
            });
        }
        let mut pages = Vec::new();
        while let Some(done) = tasks.join_next().await {
            pages.push(done??);
        }
        pages.sort_by_key(|(page, _)| *page);
        Ok(pages.into_iter().flat_map(|(_, kept)| kept).collect())
    }

    /// Moves the store's clock on by `secs` (`PUT /__sandbox/clock`): its
    /// `Date` header and the dates it writes follow.
    pub fn advance_clock(&self, secs: i64) -> anyhow::Result<()> {
        self.runtime.block_on(async {
            self.http
                .put(format!("{}/__sandbox/clock", self.url))
                .json(&json!({ "advance_secs": secs }))
                .send()
                .await?
                .error_for_status()?;
            Ok(())
        })
    }

    /// A bulk edit of the whole catalogue, as a price change or a CSV
    /// import makes one: every product's ids are listed first (not
    /// timed), then every product gets `regular_price` 9.99 through
    /// `POST products/batch`, 100 a request, and every variation through
    /// its product's `POST products/{id}/variations/batch`, `in_flight`
    /// requests at a time. Every product's and variation's
    /// `date_modified` moves to the store's time of its write.
    pub fn bulk_edit(&self, products_total: u64, in_flight: usize) -> anyhow::Result<BulkEdit> {
        self.runtime.block_on(async {
            let catalogue = self
                .list_all("products", products_total, "id,variations", |record| {
                    let variations: Vec<u64> = record["variations"]
                        .as_array()
                        .map(|ids| ids.iter().filter_map(Value::as_u64).collect())
                        .unwrap_or_default();
                    Some((record["id"].as_u64()?, variations))
                })
                .await?;
            let price = |id: &u64| json!({"id": id, "regular_price": "9.99"});
            let product_writes = catalogue.chunks(PER_PAGE as usize).map(|chunk| {
                let update: Vec<Value> = chunk.iter().map(|(id, _)| price(id)).collect();
                ("products/batch".to_owned(), json!({ "update": update }))
            });
            let variation_writes = catalogue
                .iter()
                .filter(|(_, variations)| !variations.is_empty())
                .flat_map(|(id, variations): &(u64, Vec<u64>)| {
                    variations.chunks(PER_PAGE as usize).map(move |chunk| {
                        let update: Vec<Value> = chunk.iter().map(price).collect();
                        (
                            format!("products/{id}/variations/batch"),
                            json!({ "update": update }),
                        )
                    })
                });
            let edit = BulkEdit {
                products: catalogue.len() as u64,
                variations: catalogue.iter().map(|(_, v)| v.len() as u64).sum(),
                requests: pages(catalogue.len() as u64)
                    + catalogue
                        .iter()
                        .filter(|(_, v)| !v.is_empty())
                        .map(|(_, v)| pages(v.len() as u64))
                        .sum::<u64>(),
                wall: 0.0,
            };
            let started = Instant::now();
            self.send_all(
                reqwest::Method::POST,
                product_writes.chain(variation_writes),
                in_flight,
            )
            .await?;
            Ok(BulkEdit {
                wall: started.elapsed().as_secs_f64(),
                ..edit
            })
        })
    }

    /// Sets the drifted counts through the batch routes, 100 a request,
    /// eight requests at a time; fails if the store refuses any.
    pub fn set_stock(&self, drift: &Drift) -> anyhow::Result<f64> {
        let started = Instant::now();
        let routes = std::iter::once(("products/batch".to_owned(), &drift.products)).chain(
            drift
                .variations
                .iter()
                .map(|(parent, changes)| (format!("products/{parent}/variations/batch"), changes)),
        );
        let writes = routes.flat_map(|(route, changes)| {
            changes.chunks(PER_PAGE as usize).map(move |chunk| {
                let update: Vec<Value> = chunk
                    .iter()
                    .map(|(id, stock)| json!({"id": id, "stock_quantity": stock}))
                    .collect();
                (route.clone(), json!({ "update": update }))
            })
        });
        self.runtime
            .block_on(self.send_all(reqwest::Method::POST, writes, 8))?;
        Ok(started.elapsed().as_secs_f64())
    }

    /// Sends every body, `in_flight` at a time, each made only when it is
    /// sent (this process stays small); fails on the first refusal (a
    /// batch's refused item included).
    async fn send_all(
        &self,
        method: reqwest::Method,
        mut writes: impl Iterator<Item = (String, Value)>,
        in_flight: usize,
    ) -> anyhow::Result<()> {
        let mut tasks = tokio::task::JoinSet::new();
        loop {
            while tasks.len() < in_flight
                && let Some((route, body)) = writes.next()
            {
                let request = self
                    .http
                    .request(
                        method.clone(),
                        format!("{}/wp-json/wc/v3/{route}", self.url),
                    )
                    .basic_auth(KEY, Some(SECRET))
                    .json(&body);
                tasks.spawn(async move {
                    let response = request.send().await?;
                    let status = response.status();
                    let text = response.text().await.unwrap_or_default();
                    if !status.is_success() || text.contains("\"error\"") {
                        bail!("{route}: {status} {text}");
                    }
                    Ok(())
                });
            }
            match tasks.join_next().await {
                Some(done) => done??,
                None => return Ok(()),
            }
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variations_route_comes_with_10_3() {
        assert!(!has_variations_route("10.0.2"));
        assert!(!has_variations_route("10.2.9"));
        assert!(has_variations_route("10.3.0"));
        assert!(has_variations_route("11.0"));
    }
}
