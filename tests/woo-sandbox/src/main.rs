//! `woo-sandbox`: run the WooCommerce sandbox store as a process.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use woo_sandbox::capacity::default_queue;
use woo_sandbox::generate::{DEFAULT_VARIATIONS, generate_with};
use woo_sandbox::{
    ApiKey, Capacity, FaultRule, GenerateSpec, Permissions, Sandbox, Seed, WcVersion, announce,
};

/// A WooCommerce (wc/v3) compatible sandbox store for tests and demos.
#[derive(Debug, Parser)]
#[command(name = "woo-sandbox", version)]
struct Cli {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Consumer key of the read/write API key.
    #[arg(long)]
    consumer_key: String,
    /// Consumer secret of the read/write API key.
    #[arg(long)]
    consumer_secret: String,
    /// Extra keys as KEY:SECRET:PERMISSIONS (read, write or read_write).
    #[arg(long = "extra-key", value_name = "KEY:SECRET:PERMS")]
    extra_keys: Vec<String>,
    /// Seed file (JSON; see README). Without it and without --products the
    /// built-in quick-start store is used.
    #[arg(long, conflicts_with = "products")]
    seed: Option<PathBuf>,
    /// Generate this many top-level products.
    #[arg(long)]
    products: Option<u64>,
    /// How many generated products are variable.
    #[arg(long, default_value_t = 0)]
    variable: u64,
    /// Variations per generated variable product.
    #[arg(long, default_value_t = DEFAULT_VARIATIONS)]
    variations: u64,
    /// Generate this many orders.
    #[arg(long, default_value_t = 0)]
    orders: u64,
    /// Seed of the generator (same seed, same store) and of fault draws.
    #[arg(long, default_value_t = 1)]
    random_seed: u64,
    /// Serve HTTPS with a self-signed certificate.
    #[arg(long)]
    tls: bool,
    /// Write the self-signed certificate (PEM) here.
    #[arg(long, requires = "tls")]
    cert_out: Option<PathBuf>,
    /// Accept Basic / query-string keys over plain HTTP (a TLS proxy is in front).
    #[arg(long)]
    behind_tls: bool,
    /// Accept OAuth 1.0a requests whatever their timestamp (nonces are
    /// still checked): a store on a simulated clock (`/__sandbox/clock`)
    /// while its clients sign with the real one.
    #[arg(long)]
    any_oauth_timestamp: bool,
    /// The site's home URL (OAuth base URL). Default: the listen URL.
    #[arg(long)]
    home_url: Option<String>,
    /// Site time zone (IANA).
    #[arg(long, default_value = "Europe/Berlin")]
    timezone: String,
    /// The WooCommerce version to play (reported by system_status and on
    /// orders; 10.3.0 and later add GET /wc/v3/variations).
    #[arg(long, default_value_t = WcVersion::RECORDED)]
    wc_version: WcVersion,
    /// Turn the native cost-of-goods-sold fields off.
    #[arg(long)]
    no_cogs: bool,
    /// Turn the Shipment Tracking extension routes off.
    #[arg(long)]
    no_shipment_tracking: bool,
    /// Fault rules as JSON (one rule object or a list; see README).
    #[arg(long)]
    faults: Option<String>,
    /// Added latency in ms for every REST request (shorthand for a rule).
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Rate (0..1) of 500/502/503 answers (shorthand for a rule).
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Serve at most this many REST requests at once, like a PHP-FPM pool
    /// of so many workers (latency is spent on a worker); the rest wait.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    workers: Option<u16>,
    /// Requests that may wait for a worker before the next is refused with
    /// 503 and Retry-After (default: 4 per worker).
    #[arg(long, requires = "workers")]
    queue: Option<u16>,
}

fn parse_key(s: &str) -> anyhow::Result<ApiKey> {
    let mut parts = s.splitn(3, ':');
    let (Some(k), Some(sec), Some(p)) = (parts.next(), parts.next(), parts.next()) else {
        anyhow::bail!("--extra-key wants KEY:SECRET:PERMS, got {s}");
    };
    let permissions =
        Permissions::parse(p).ok_or_else(|| anyhow::anyhow!("unknown permissions {p}"))?;
    Ok(ApiKey {
        consumer_key: k.into(),
        consumer_secret: sec.into(),
        permissions,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let cli = Cli::parse();
    let seed = match (&cli.seed, cli.products) {
        (Some(path), _) => Seed::from_file(path)?,
        (None, Some(products)) => {
            let started = std::time::Instant::now();
            let spec = GenerateSpec {
                products,
                variable: cli.variable,
                orders: cli.orders,
                random_seed: cli.random_seed,
                now: jiff::Timestamp::now(),
            };
            let seed = generate_with(&spec, cli.variations);
            eprintln!(
                "generated {} products/variations and {} orders in {:?}",
                seed.products.len(),
                seed.orders.len(),
                started.elapsed()
            );
            seed
        }
        (None, None) => Seed::quickstart(),
    };
    let mut rules: Vec<FaultRule> = match &cli.faults {
        Some(json) => woo_sandbox::faults::parse_rules(json.as_bytes())
            .map_err(|e| anyhow::anyhow!("--faults: {e}"))?,
        None => Vec::new(),
    };
    if cli.latency_ms > 0 || cli.error_rate > 0.0 {
        rules.push(FaultRule {
            latency_ms: cli.latency_ms,
            error_rate: cli.error_rate,
            ..FaultRule::default()
        });
    }
    let mut builder = Sandbox::builder()
        .listen(cli.listen)
        .consumer(&cli.consumer_key, &cli.consumer_secret)
        .seed(seed)
        .tls(cli.tls)
        .behind_tls(cli.behind_tls)
        .timestamp_window(if cli.any_oauth_timestamp {
            None
        } else {
            Some(900)
        })
        .timezone(&cli.timezone)
        .cogs(!cli.no_cogs)
        .shipment_tracking(!cli.no_shipment_tracking)
        .wc_version(cli.wc_version)
        .faults(rules)
        .fault_seed(cli.random_seed)
        .capacity(cli.workers.map(|workers| {
            let workers = usize::from(workers);
            Capacity {
                workers,
                queue: cli.queue.map_or(default_queue(workers), usize::from),
            }
        }));
    for k in &cli.extra_keys {
        builder = builder.key(parse_key(k)?);
    }
    if let Some(home) = &cli.home_url {
        builder = builder.home_url(home);
    }
    let sandbox = builder.start().await?;
    if let Some(pem) = sandbox.cert_pem() {
        match &cli.cert_out {
            Some(path) => {
                std::fs::write(path, pem)?;
                eprintln!("certificate written to {}", path.display());
            }
            None => eprintln!("self-signed certificate:\n{pem}"),
        }
    }
    eprintln!("{}", announce::line(sandbox.url(), sandbox.home_url()));
    tokio::signal::ctrl_c().await?;
    sandbox.shutdown().await;
    Ok(())
}
