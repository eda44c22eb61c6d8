//! The floor: the same pages the plugin's full import reads, fetched with
//! woo-client and nothing else (no mapping, no database), in a child
//! process of its own (this program run as `bench raw-fetch`) so that its
//! CPU time and peak RSS are its own. Products by id; variations the way
//! the plugin reads them (`GET /wc/v3/variations` from WooCommerce 10.3,
//! else one listing per variable product, `concurrency` at a time); then
//! the orders in the import statuses.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use woo_client::model::ProductType;
use woo_client::{ClientConfig, Scope, WooClient};

use crate::process::{self, Measured};

/// What a reader read (the raw fetch and the Python script print this as
/// one JSON line).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Fetched {
    pub products: u64,
    pub variable: u64,
    pub variations: u64,
    pub orders: u64,
    /// Records that could not be decoded.
    pub skipped: u64,
    /// Seconds spent on each part, as the reader timed itself.
    pub products_secs: f64,
    pub variations_secs: f64,
    pub orders_secs: f64,
}

impl Fetched {
    pub fn records(&self) -> u64 {
        self.products + self.variations + self.orders
    }

    /// `products 3.1 s, variations 9.0 s, orders 0.4 s`
    pub fn describe(&self) -> String {
        format!(
            "{} products {:.2} s, {} variations ({} variable products) {:.2} s, {} orders {:.2} s",
            self.products,
            self.products_secs,
            self.variations,
            self.variable,
            self.variations_secs,
            self.orders,
            self.orders_secs
        )
    }
}

/// The child's arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct FetchArgs {
    #[arg(long)]
    pub url: String,
    #[arg(long)]
    pub key: String,
    #[arg(long)]
    pub secret: String,
    #[arg(long)]
    pub concurrency: usize,
    /// Read variations through `GET /wc/v3/variations` (WooCommerce 10.3+).
    #[arg(long)]
    pub variations_route: bool,
    #[arg(long, value_delimiter = ',')]
    pub statuses: Vec<String>,
}

impl FetchArgs {
    /// The sandbox's store as the benchmark's readers see it: its key, the
    /// import statuses, `concurrency` requests at a time.
    pub fn new(url: &str, concurrency: u32, variations_route: bool) -> Self {
        Self {
            url: url.to_owned(),
            key: crate::sandbox::KEY.into(),
            secret: crate::sandbox::SECRET.into(),
            concurrency: concurrency as usize,
            variations_route,
            statuses: crate::IMPORT_STATUSES.map(String::from).to_vec(),
        }
    }

    /// The store, what to read and how: the flags every reader takes.
    pub fn store_flags(&self) -> Vec<String> {
        let mut flags = vec![
            "--url".into(),
            self.url.clone(),
            "--key".into(),
            self.key.clone(),
            "--secret".into(),
            self.secret.clone(),
            "--statuses".into(),
            self.statuses.join(","),
        ];
        if self.variations_route {
            flags.push("--variations-route".into());
        }
        flags
    }
}

/// Runs `bench raw-fetch ARGS` as a child and measures it.
pub fn measure(exe: &Path, args: &FetchArgs) -> anyhow::Result<(Measured, Fetched)> {
    let mut command = Command::new(exe);
    command
        .arg("raw-fetch")
        .args(args.store_flags())
        .args(["--concurrency", &args.concurrency.to_string()]);
    let measured = process::run(command)?.require_success("the raw fetch")?;
    let fetched =
        serde_json::from_str(measured.stdout.trim()).context("the raw fetch printed no figures")?;
    Ok((measured, fetched))
}

/// The child: fetch everything, print the figures.
pub fn child_main(args: &FetchArgs) -> anyhow::Result<()> {
    // The plugin's own runtime has two workers; so does this one.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let fetched = runtime.block_on(fetch(args))?;
    println!("{}", serde_json::to_string(&fetched)?);
    Ok(())
}

async fn fetch(args: &FetchArgs) -> anyhow::Result<Fetched> {
    let mut config = ClientConfig::new(&args.url, &args.key, args.secret.as_str());
    config.concurrency = woo_client::Concurrency::AtMost(args.concurrency);
    let client = WooClient::new(config)?;
    let mut fetched = Fetched::default();

    let started = Instant::now();
    let products = client.list_products(Scope::Full).await?;
    fetched.products = products.records.len() as u64;
    fetched.skipped += products.skipped.len() as u64;
    let variable: Vec<u64> = products
        .records
        .iter()
        .filter(|p| p.kind == ProductType::Variable)
        .map(|p| p.id)
        .collect();
    fetched.variable = variable.len() as u64;
    fetched.products_secs = started.elapsed().as_secs_f64();

    // Every listing is kept until the end, as the plugin keeps what it
    // read until it has planned the import.
    let mut variations = Vec::new();
    let started = Instant::now();
    if args.variations_route {
        let listing = client.list_all_variations(Scope::Full).await?;
        fetched.variations = listing.records.len() as u64;
        fetched.skipped += listing.skipped.len() as u64;
        variations.push(listing);
    } else {
        let limit = Arc::new(tokio::sync::Semaphore::new(args.concurrency));
        let mut tasks = tokio::task::JoinSet::new();
        for id in variable {
            let client = client.clone();
            let limit = Arc::clone(&limit);
            tasks.spawn(async move {
                let _permit = limit.acquire_owned().await;
                client.list_variations(id).await
            });
        }
        while let Some(joined) = tasks.join_next().await {
            let listing = joined??;
            fetched.variations += listing.records.len() as u64;
            fetched.skipped += listing.skipped.len() as u64;
            variations.push(listing);
        }
    }
    fetched.variations_secs = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let statuses: Vec<&str> = args.statuses.iter().map(String::as_str).collect();
    let orders = client.list_orders(&statuses, Scope::Full).await?;
    fetched.orders = orders.records.len() as u64;
    fetched.skipped += orders.skipped.len() as u64;
    fetched.orders_secs = started.elapsed().as_secs_f64();
    drop((products, variations, orders));
    Ok(fetched)
}
