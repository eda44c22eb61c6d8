//! The plugin's settings rules beyond their declared types, and the typed
//! view the jobs read. Pure: no I/O.

use plugin_api::{Context, FieldError, PluginError, Secret, Settings};
use woo_client::Concurrency;

/// Rules between fields; each refusal names the field and says what to do.
pub fn check(settings: &Settings) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let url = settings.text("store_url").unwrap_or_default();
    if settings.text("auth_mode") == Some("basic") && url.starts_with("http://") {
        errors.push(FieldError::new(
            "auth_mode",
            "Basic auth is ignored by WooCommerce over plain HTTP; use an https:// store URL or auth_mode=oauth",
        ));
    }
    if settings.choices("import_statuses").is_empty() {
        errors.push(FieldError::new(
            "import_statuses",
            "choose at least one order status to import",
        ));
    }
    if settings.choices("product_statuses").is_empty() {
        errors.push(FieldError::new(
            "product_statuses",
            "choose at least one product status to import",
        ));
    }
    for key in ["default_location", "unit_of_measure"] {
        if settings.text(key).is_some_and(|v| v.trim().is_empty()) {
            errors.push(FieldError::new(key, "must not be empty"));
        }
    }
    let webhook_url = settings.text("webhook_url").unwrap_or_default().trim();
    let is_address = ["https://", "http://"]
        .iter()
        .any(|scheme| webhook_url.starts_with(scheme));
    if !webhook_url.is_empty() && !is_address {
        errors.push(FieldError::new(
            "webhook_url",
            "must be an http:// or https:// address the store can reach, or empty for no webhooks",
        ));
    }
    if let Err(reason) = concurrency(settings) {
        errors.push(FieldError::new("concurrency", &reason));
    }
    if settings.text("unit_cost_source") == Some("meta")
        && settings
            .text("unit_cost_meta_key")
            .is_none_or(|k| k.trim().is_empty())
    {
        errors.push(FieldError::new(
            "unit_cost_meta_key",
            "name the meta field that holds the unit cost",
        ));
    }
    errors
}

/// The `concurrency` setting: `auto` (also when unset), or a ceiling. A
/// whole number stored before the setting took `auto` is a ceiling too.
pub fn concurrency(settings: &Settings) -> Result<Concurrency, String> {
    match settings.get("concurrency") {
        None => Ok(Concurrency::Auto),
        Some(serde_json::Value::Number(n)) => Concurrency::parse(&n.to_string()),
        Some(serde_json::Value::String(text)) => Concurrency::parse(text),
        Some(_) => Concurrency::parse(""),
    }
}

/// Where a product's unit cost comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CostSource {
    /// WooCommerce's own Cost of Goods field where defined, else the meta field.
    CostOfGoods,
    /// The meta field only.
    Meta,
    None,
}

/// What a product without a SKU becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissingSku {
    Skip,
    /// `WC-<id>`.
    UseId,
}

/// The import rules the admin chose, read once per run.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportRules {
    pub product_statuses: Vec<String>,
    pub order_statuses: Vec<String>,
    pub missing_sku: MissingSku,
    pub cost_source: CostSource,
    pub cost_meta_key: String,
    pub location: String,
    pub unit_of_measure: String,
}

impl ImportRules {
    /// The typed view of (already checked) settings, defaults filled in.
    pub fn from_settings(settings: &Settings) -> Self {
        let text = |key: &str, default: &str| {
            settings
                .text(key)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .unwrap_or(default)
                .to_owned()
        };
        let list = |key: &str| {
            settings
                .choices(key)
                .into_iter()
                .map(str::to_owned)
                .collect()
        };
        Self {
            product_statuses: list("product_statuses"),
            order_statuses: list("import_statuses"),
            missing_sku: match settings.text("missing_sku") {
                Some("use_id") => MissingSku::UseId,
                _ => MissingSku::Skip,
            },
            cost_source: match settings.text("unit_cost_source") {
                Some("meta") => CostSource::Meta,
                Some("none") => CostSource::None,
                _ => CostSource::CostOfGoods,
            },
            cost_meta_key: text("unit_cost_meta_key", "_wc_cog_cost"),
            location: text("default_location", "MAIN"),
            unit_of_measure: text("unit_of_measure", "EA"),
        }
    }
}

impl ImportRules {
    /// The rules that decide which products become items and how: when
    /// they change, the next product import reads the whole catalogue.
    pub fn products_key(&self) -> String {
        format!(
            "{:?}",
            (
                &self.product_statuses,
                self.missing_sku,
                self.cost_source,
                &self.cost_meta_key,
                &self.unit_of_measure,
            )
        )
    }
}

/// What happens in the store when the warehouse ships or cancels, and what
/// End of Day sends: the export rules the admin chose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportRules {
    /// Set the order to `completed` once every shippable line shipped.
    pub complete_when_shipped: bool,
    /// Cancel the order in the store when the warehouse cancels it.
    pub cancel_in_store: bool,
    /// Send on hand rather than available.
    pub send_on_hand: bool,
    /// End of Day's safety limit, in percent of the items.
    pub max_change_percent: u8,
}

impl ExportRules {
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            complete_when_shipped: settings.text("status_when_shipped") != Some("leave"),
            cancel_in_store: settings.text("warehouse_cancel") == Some("cancel"),
            send_on_hand: settings.text("stock_sent") == Some("on_hand"),
            max_change_percent: settings
                .integer("eod_max_change_percent")
                .map_or(50, |p| p.clamp(1, 100) as u8),
        }
    }
}

/// When the store's counts follow the warehouse (`stock_push`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StockPush {
    /// With every sync: the items whose quantity changed since the last
    /// push, beside End of Day's daily reconciliation.
    EverySync,
    /// Only at End of Day.
    EndOfDay,
}

impl StockPush {
    pub fn from_settings(settings: &Settings) -> Self {
        match settings.text("stock_push") {
            Some("end_of_day") => Self::EndOfDay,
            _ => Self::EverySync,
        }
    }
}

/// What the jobs need to reach the store.
pub struct StoreSettings {
    pub store_url: String,
    pub consumer_key: String,
    pub consumer_secret: Secret,
}

impl StoreSettings {
    /// Reads the connection settings, refusing with the missing field.
    pub fn read(settings: &Settings, ctx: &Context) -> Result<Self, PluginError> {
        let required = |key: &str| {
            settings
                .text(key)
                .filter(|v| !v.trim().is_empty())
                .map(str::to_string)
                .ok_or_else(|| PluginError::Settings(vec![FieldError::new(key, "is required")]))
        };
        let store_url = required("store_url")?;
        let consumer_key = required("consumer_key")?;
        let consumer_secret = ctx.credential("consumer_secret")?.ok_or_else(|| {
            PluginError::Settings(vec![FieldError::new("consumer_secret", "is required")])
        })?;
        Ok(Self {
            store_url,
            consumer_key,
            consumer_secret,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(pairs: &[(&str, serde_json::Value)]) -> Settings {
        let mut s = Settings::default();
        s.insert("import_statuses", json!(["processing"]));
        s.insert("product_statuses", json!(["publish"]));
        for (k, v) in pairs {
            s.insert(k, v.clone());
        }
        s
    }

    #[test]
    fn basic_auth_over_plain_http_is_refused() {
        let errors = check(&settings(&[
            ("store_url", json!("http://shop.test")),
            ("auth_mode", json!("basic")),
        ]));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "auth_mode");
        assert!(
            check(&settings(&[
                ("store_url", json!("https://shop.test")),
                ("auth_mode", json!("basic")),
            ]))
            .is_empty()
        );
    }

    #[test]
    fn stock_is_pushed_with_every_sync_unless_end_of_day_is_chosen() {
        assert_eq!(
            StockPush::from_settings(&settings(&[])),
            StockPush::EverySync
        );
        assert_eq!(
            StockPush::from_settings(&settings(&[("stock_push", json!("end_of_day"))])),
            StockPush::EndOfDay
        );
    }

    #[test]
    fn a_webhook_address_is_empty_or_an_http_address() {
        for ok in [
            "",
            "  ",
            "https://host.example.com/hooks/woocommerce",
            "http://10.0.0.5:8089/hooks/woocommerce",
        ] {
            assert!(
                check(&settings(&[("webhook_url", json!(ok))])).is_empty(),
                "{ok:?}"
            );
        }
        let errors = check(&settings(&[(
            "webhook_url",
            json!("host.example.com/hooks"),
        )]));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "webhook_url");
    }

    #[test]
    fn concurrency_is_auto_or_a_ceiling_and_old_numbers_stay_valid() {
        assert_eq!(concurrency(&settings(&[])), Ok(Concurrency::Auto));
        for (value, wanted) in [
            (json!("auto"), Concurrency::Auto),
            (json!("8"), Concurrency::AtMost(8)),
            (json!(4), Concurrency::AtMost(4)),
        ] {
            let s = settings(&[("concurrency", value.clone())]);
            assert_eq!(concurrency(&s), Ok(wanted), "{value}");
            assert!(check(&s).is_empty(), "{value}");
        }
        for bad in [json!("0"), json!("fast"), json!(65), json!(true)] {
            let errors = check(&settings(&[("concurrency", bad.clone())]));
            assert_eq!(errors.len(), 1, "{bad}");
            assert_eq!(errors[0].field, "concurrency");
            assert_eq!(
                errors[0].reason,
                "must be auto or a whole number from 1 to 64"
            );
        }
    }

    #[test]
    fn an_empty_status_list_and_a_missing_meta_key_are_refused() {
        let errors = check(&settings(&[
            ("import_statuses", json!([])),
            ("unit_cost_source", json!("meta")),
            ("unit_cost_meta_key", json!(" ")),
        ]));
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["import_statuses", "unit_cost_meta_key"]);
    }
}
