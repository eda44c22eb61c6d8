//! What End of Day cannot go below on a store, measured with woo-client
//! alone (no host, no plugin, no database) from this process: the slim
//! read (every product's and variation's stock fields and the hold fields
//! of every order placed since the first item was opened, as End of Day
//! reads them, `concurrency` requests at a time) and one stock batch's latency (`POST products/batch` of 100
//! counts moved by 0, which changes nothing; the median of a few, one
//! after another).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use intellitrack_db::Db;

use woo_client::model::{ProductType, StockMove};
use woo_client::{ClientConfig, Scope, WooClient};

use crate::host::PLUGIN;
use crate::sandbox::{KEY, SECRET};
use crate::stock::Counted;

/// Batches timed for the latency of one.
const BATCHES_TIMED: usize = 5;

/// The floors of one store and concurrency.
#[derive(Debug, Clone, Copy)]
pub struct Floors {
    /// Seconds of the slim read.
    pub read_secs: f64,
    /// Its requests.
    pub read_requests: u64,
    /// Seconds of one `products/batch` of 100.
    pub batch_secs: f64,
}

impl Floors {
    /// The least `batches` batch writes take at `concurrency` at a time.
    pub fn writes_secs(&self, batches: u64, concurrency: u32) -> f64 {
        batches.div_ceil(u64::from(concurrency.max(1))) as f64 * self.batch_secs
    }
}

/// `orders_after`: End of Day's `after` for the held orders, a second
/// before the first item's opening (see [`orders_after`]).
pub fn measure(
    url: &str,
    concurrency: u32,
    variations_route: bool,
    counted: &[Counted],
    orders_after: Option<jiff::Timestamp>,
) -> anyhow::Result<Floors> {
    let mut config = ClientConfig::new(url, KEY, SECRET);
    config.concurrency = woo_client::Concurrency::AtMost(concurrency.max(1) as usize);
    let client = WooClient::new(config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let started = Instant::now();
        let (stock_pages, held) = tokio::try_join!(
            slim_stock(&client, variations_route),
            client.list_held_orders(Scope::Full, orders_after)
        )?;
        let read_secs = started.elapsed().as_secs_f64();
        let read_requests = stock_pages + u64::from(held.pages);
        let moves: Vec<StockMove> = counted
            .iter()
            .filter(|c| c.parent == 0)
            .take(100)
            .map(|c| StockMove {
                id: c.id,
                inventory_delta: 0,
            })
            .collect();
        let mut timed = Vec::with_capacity(BATCHES_TIMED);
        for _ in 0..BATCHES_TIMED {
            let started = Instant::now();
            client.move_products_stock(&moves).await?;
            timed.push(started.elapsed().as_secs_f64());
        }
        timed.sort_by(f64::total_cmp);
        Ok(Floors {
            read_secs,
            read_requests,
            batch_secs: timed[BATCHES_TIMED / 2],
        })
    })
}

/// Every product's and variation's stock fields, as End of Day reads them
/// (the two listings side by side where the store lists every variation
/// at once); the pages read.
async fn slim_stock(client: &WooClient, variations_route: bool) -> Result<u64, woo_client::Error> {
    let kept = woo_client::as_is();
    if variations_route {
        let (products, variations) = tokio::try_join!(
            client.list_product_stock(kept.clone()),
            client.list_all_variation_stock(kept)
        )?;
        return Ok(u64::from(products.pages) + u64::from(variations.pages));
    }
    let products = client.list_product_stock(kept.clone()).await?;
    let mut pages = u64::from(products.pages);
    let limit = Arc::new(tokio::sync::Semaphore::new(client.max_in_flight()));
    let mut tasks = tokio::task::JoinSet::new();
    for id in products
        .records
        .iter()
        .filter(|p| p.kind == ProductType::Variable)
        .map(|p| p.id)
    {
        let (client, limit, kept) = (client.clone(), Arc::clone(&limit), kept.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            client.list_variation_stock(id, kept).await
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let listing = joined.expect("a listing task ended abnormally")?;
        pages += u64::from(listing.pages);
    }
    Ok(pages)
}

/// The `after` End of Day lists the held orders with: a second before the
/// first opening of the installation's items (`None`, every order, when
/// none was opened).
pub fn orders_after(db_path: &Path) -> anyhow::Result<Option<jiff::Timestamp>> {
    let db = Db::open(db_path).with_context(|| format!("open {}", db_path.display()))?;
    let first = db
        .stock_basis(PLUGIN)?
        .into_iter()
        .filter_map(|b| b.opened_at_ms)
        .min();
    Ok(first
        .map(|ms| jiff::Timestamp::from_millisecond(ms - 1000))
        .transpose()?)
}
