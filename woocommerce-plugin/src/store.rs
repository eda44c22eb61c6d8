//! The plugin's connection to the store while it is active: its own tokio
//! runtime (created on activate, dropped on deactivate) and the client,
//! whose request limit every job of the instance shares.

use std::time::Duration;

use plugin_api::{Context, JobReport, PluginError, Settings};
use woo_client::connection::Severity;
use woo_client::{ApiPath, AuthMode, ClientConfig, ConsumerSecret, WooClient};

use crate::settings::StoreSettings;

/// What the activation check learned about the store; kept in the plugin's
/// state so jobs know what the store offers.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StoreFacts {
    pub woocommerce_version: Option<String>,
    pub shipment_tracking: Option<bool>,
    pub native_cost_of_goods: Option<bool>,
}

pub const STORE_FACTS: &str = "store_facts";

impl StoreFacts {
    /// Whether the store lists every variation at once
    /// (`GET /wc/v3/variations`, WooCommerce 10.3 and later).
    pub fn has_variations_route(&self) -> bool {
        self.at_least(10, 3)
    }

    /// Whether the store lists refunds of every order at once
    /// (`GET /wc/v3/refunds`, WooCommerce 9.0 and later).
    pub fn has_refunds_route(&self) -> bool {
        self.at_least(9, 0)
    }

    fn at_least(&self, major: u32, minor: u32) -> bool {
        let Some(version) = &self.woocommerce_version else {
            return false;
        };
        let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (major, minor)
    }
}

pub struct StoreConnection {
    pub runtime: tokio::runtime::Runtime,
    pub client: WooClient,
}

impl StoreConnection {
    /// Runs a job, adding to its report's summary how many requests it had
    /// in flight at once and whether the store made it slow down.
    pub fn run_job(
        &self,
        job: impl FnOnce(&Self) -> Result<JobReport, PluginError>,
    ) -> Result<JobReport, PluginError> {
        let watch = self.client.limiter().watch();
        let mut report = job(self)?;
        if let Some(line) = watch.describe() {
            report.summary = if report.summary.is_empty() {
                line
            } else {
                format!("{}; {line}", report.summary)
            };
        }
        Ok(report)
    }

    /// Runs a read of the store on the plugin's runtime, telling the host
    /// every half second how many listing pages it has read of those known,
    /// and how many requests it has in flight at once.
    pub fn read<T>(&self, ctx: &Context, what: &str, read: impl Future<Output = T>) -> T {
        let (done_before, planned_before) = self.client.page_progress();
        self.runtime.block_on(async {
            let mut read = std::pin::pin!(read);
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            loop {
                tokio::select! {
                    out = &mut read => return out,
                    _ = tick.tick() => {
                        let (done, planned) = self.client.page_progress();
                        // No total until a listing's first page has said it.
                        ctx.progress(
                            done - done_before,
                            (planned > planned_before).then(|| planned - planned_before),
                            &format!("reading {what} from WooCommerce (pages)"),
                        );
                        // A step of its own, so that the pages' step keeps
                        // one name while the limit moves.
                        ctx.progress(
                            self.client.limiter().limit() as u64,
                            Some(self.client.max_in_flight() as u64),
                            "store requests at a time (of the most allowed)",
                        );
                    }
                }
            }
        })
    }

    /// What the activation check learned about the store (nothing known
    /// when the state cannot be read).
    pub fn facts(&self, ctx: &Context) -> StoreFacts {
        ctx.state(STORE_FACTS).ok().flatten().unwrap_or_default()
    }

    /// Builds the client from the settings and checks the store: it answers,
    /// the keys read and write. Refuses with every problem, in words for the admin.
    pub fn open(settings: &Settings, ctx: &Context) -> Result<Self, PluginError> {
        let store = StoreSettings::read(settings, ctx)?;
        let config = client_config(settings, store);
        let client = WooClient::new(config).map_err(PluginError::other)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("woocommerce")
            .enable_all()
            .build()
            .map_err(|e| PluginError::other(format!("cannot start the plugin's runtime: {e}")))?;
        let report = runtime.block_on(client.check_connection());
        for finding in &report.findings {
            match finding.severity {
                Severity::Problem => {}
                Severity::Warning => tracing::warn!("{}", finding.explanation),
                Severity::Note => tracing::info!("{}", finding.explanation),
            }
        }
        if !report.is_usable() {
            let problems: Vec<&str> = report.problems().map(|f| f.explanation.as_str()).collect();
            return Err(PluginError::other(if problems.is_empty() {
                "the store cannot be used with these settings".to_string()
            } else {
                problems.join("; ")
            }));
        }
        ctx.put_state(
            STORE_FACTS,
            &StoreFacts {
                woocommerce_version: report.woocommerce_version.clone(),
                shipment_tracking: report.shipment_tracking,
                native_cost_of_goods: report.native_cost_of_goods,
            },
        )?;
        tracing::info!(
            version = report.woocommerce_version.as_deref().unwrap_or("unknown"),
            "connected to the store"
        );
        Ok(Self { runtime, client })
    }
}

fn client_config(settings: &Settings, store: StoreSettings) -> ClientConfig {
    let mut config = ClientConfig::new(
        store.store_url,
        store.consumer_key,
        ConsumerSecret::new(store.consumer_secret.expose()),
    );
    config.auth = match settings.text("auth_mode") {
        Some("basic") => AuthMode::Basic,
        Some("oauth") => AuthMode::OAuth,
        Some("query_string") => AuthMode::QueryString,
        _ => AuthMode::Auto,
    };
    if settings.text("api_path") == Some("rest_route") {
        config.api_path = ApiPath::RestRoute;
    }
    config.extra_ca_file = settings
        .text("ca_file")
        .filter(|f| !f.trim().is_empty())
        .map(Into::into);
    if let Some(secs) = settings.integer("request_timeout_seconds") {
        config.timeout = Duration::from_secs(secs.max(1) as u64);
    }
    config.concurrency = crate::settings::concurrency(settings).unwrap_or_default();
    config
}
