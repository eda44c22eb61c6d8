//! The plugin's manifest: identity, settings schema and jobs.

use plugin_api::{
    API_VERSION, ChoiceOption, FieldKind, JobSpec, Manifest, ScheduleKind, SettingField,
};

pub const PLUGIN_ID: &str = "woocommerce";
/// The role feature that allows running this plugin's jobs by hand.
pub const FEATURE: &str = "intellitrack-for-woocommerce";

pub const IMPORT_PRODUCTS: &str = "import-products";
pub const IMPORT_ORDERS: &str = "import-orders";
pub const EXPORT_FULFILLMENT: &str = "export-fulfillment";
pub const END_OF_DAY: &str = "end-of-day";
pub const PUSH_STOCK: &str = "push-stock";

/// WooCommerce's core order statuses, as its REST API names them.
pub const ORDER_STATUSES: &[(&str, &str)] = &[
    ("pending", "Pending payment"),
    ("processing", "Processing"),
    ("on-hold", "On hold"),
    ("completed", "Completed"),
    ("cancelled", "Cancelled"),
    ("refunded", "Refunded"),
    ("failed", "Failed"),
    ("checkout-draft", "Draft"),
];

/// The product statuses an admin may choose to import.
pub const PRODUCT_STATUSES: &[(&str, &str)] = &[
    ("publish", "Published"),
    ("private", "Private"),
    ("draft", "Draft"),
    ("pending", "Pending review"),
];

pub fn manifest() -> Manifest {
    Manifest {
        id: PLUGIN_ID.into(),
        name: "IntelliTrack for WooCommerce".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        description: "Imports WooCommerce products and orders into IntelliTrack, exports picks, \
                      shipments and end-of-day stock back to the store."
            .into(),
        feature: FEATURE.into(),
        api_version: API_VERSION,
        settings: settings(),
        jobs: vec![
            job(
                IMPORT_PRODUCTS,
                "Import products",
                "Simple products, variations and grouped products' children, with unit cost.",
                ScheduleKind::SyncInterval,
            ),
            job(
                IMPORT_ORDERS,
                "Import orders",
                "Orders whose status is one of the import statuses.",
                ScheduleKind::SyncInterval,
            ),
            job(
                EXPORT_FULFILLMENT,
                "Export fulfilment",
                "Picks and shipments (carrier, tracking) to the store's orders.",
                ScheduleKind::SyncInterval,
            ),
            job(
                PUSH_STOCK,
                "Push stock",
                "The counts of the items whose warehouse quantity changed since the last push, \
                 to the store's stock (with stock_push = every_sync; End of Day still checks every item daily).",
                ScheduleKind::SyncInterval,
            ),
            job(
                END_OF_DAY,
                "End of day stock",
                "The current quantity of every item, to the store's stock.",
                ScheduleKind::EndOfDay,
            ),
        ],
    }
}

fn job(id: &str, title: &str, description: &str, schedule: ScheduleKind) -> JobSpec {
    JobSpec {
        id: id.into(),
        title: title.into(),
        description: description.into(),
        schedule,
    }
}

fn settings() -> Vec<SettingField> {
    let choices = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(v, l)| ChoiceOption::new(v, l))
            .collect::<Vec<_>>()
    };
    vec![
        SettingField::new("store_url", "Store URL", FieldKind::Url)
            .help("The store's address, e.g. https://shop.example.com")
            .required(),
        SettingField::new("consumer_key", "Consumer key", FieldKind::Text)
            .help("WooCommerce > Settings > Advanced > REST API: a key with Read/Write permission (ck_...)")
            .required(),
        SettingField::new("consumer_secret", "Consumer secret", FieldKind::Secret)
            .help("The secret shown once when the key was made (cs_...)")
            .required(),
        SettingField::new(
            "auth_mode",
            "Authentication",
            FieldKind::Choice {
                options: choices(&[
                    ("auto", "Automatic: Basic over HTTPS, OAuth 1.0a over HTTP"),
                    ("basic", "HTTP Basic (HTTPS only)"),
                    ("oauth", "OAuth 1.0a"),
                    ("query_string", "Keys in the query string (for servers that drop the Authorization header)"),
                ]),
            },
        )
        .default_value("auto"),
        SettingField::new(
            "api_path",
            "API path",
            FieldKind::Choice {
                options: choices(&[
                    ("wp_json", "/wp-json/ (pretty permalinks, the usual)"),
                    ("rest_route", "?rest_route= (plain permalinks)"),
                ]),
            },
        )
        .help("Plain permalinks (Settings > Permalinks) have no /wp-json/ path")
        .default_value("wp_json"),
        SettingField::new("ca_file", "Extra CA certificate", FieldKind::Text)
            .help("A PEM file to trust besides the system's certificates (a store with its own CA)"),
        SettingField::new(
            "import_statuses",
            "Order import statuses",
            FieldKind::MultiChoice {
                options: choices(ORDER_STATUSES),
            },
        )
        .help("Orders in these statuses are imported into IntelliTrack")
        .default_value(serde_json::json!(["processing"])),
        SettingField::new(
            "product_statuses",
            "Product statuses",
            FieldKind::MultiChoice {
                options: choices(PRODUCT_STATUSES),
            },
        )
        .help("Products in these statuses are imported; a product that leaves them, or is trashed or deleted, has its item deactivated")
        .default_value(serde_json::json!(["publish"])),
        SettingField::new(
            "missing_sku",
            "Products without a SKU",
            FieldKind::Choice {
                options: choices(&[
                    ("skip", "Leave them out (and report them)"),
                    ("use_id", "Import them as WC-<product id>"),
                ]),
            },
        )
        .default_value("skip"),
        SettingField::new(
            "unit_cost_source",
            "Unit cost source",
            FieldKind::Choice {
                options: choices(&[
                    ("cost_of_goods", "WooCommerce's Cost of Goods field, else the meta field"),
                    ("meta", "The meta field only"),
                    ("none", "Do not import unit cost"),
                ]),
            },
        )
        .default_value("cost_of_goods"),
        SettingField::new("unit_cost_meta_key", "Unit cost meta key", FieldKind::Text)
            .help("The product meta field holding the unit cost (e.g. _wc_cog_cost of the Cost of Goods extension)")
            .default_value("_wc_cog_cost"),
        SettingField::new("default_location", "Location for opening stock", FieldKind::Text)
            .help("The IntelliTrack location that receives a new item's opening stock from WooCommerce")
            .default_value("MAIN"),
        SettingField::new("unit_of_measure", "Unit of measure", FieldKind::Text)
            .help("The unit of measure of new items")
            .default_value("EA"),
        SettingField::new(
            "status_when_shipped",
            "Status when shipped",
            FieldKind::Choice {
                options: choices(&[
                    ("completed", "Set the order to Completed once everything shipped"),
                    ("leave", "Leave the order's status as it is"),
                ]),
            },
        )
        .default_value("completed"),
        SettingField::new(
            "warehouse_cancel",
            "When the warehouse cancels an order",
            FieldKind::Choice {
                options: choices(&[
                    ("note", "Add a private note with the reason; leave the status"),
                    ("cancel", "Add the note and cancel the order in WooCommerce"),
                ]),
            },
        )
        .default_value("note"),
        SettingField::new(
            "stock_sent",
            "Stock sent at End of Day",
            FieldKind::Choice {
                options: choices(&[
                    ("available", "Available: on hand less what open orders hold"),
                    ("on_hand", "On hand"),
                ]),
            },
        )
        .default_value("available"),
        SettingField::new(
            "stock_push",
            "Stock push",
            FieldKind::Choice {
                options: choices(&[
                    ("every_sync", "With every sync: the items whose quantity changed, every Sync Interval"),
                    ("end_of_day", "Only at End of Day"),
                ]),
            },
        )
        .help("When the store's stock counts follow the warehouse; End of Day checks every item daily either way")
        .default_value("every_sync"),
        SettingField::new(
            "eod_max_change_percent",
            "End of Day safety limit (%)",
            FieldKind::Integer {
                min: Some(1),
                max: Some(100),
            },
        )
        .help("End of Day and the stock push write nothing when they would change (or set to zero) more than this share of the items; to go ahead, run End of Day with force (the force box beside its Run now on the jobs page)")
        .default_value(50),
        SettingField::new("webhook_url", "Webhook address", FieldKind::Text)
            .help("Where the store can reach this host's webhook endpoint, e.g. https://host.example.com/hooks/woocommerce (the instance's id at the end); new and changed orders then arrive within seconds. Empty: orders arrive at the Sync Interval only")
            .default_value(""),
        SettingField::new("webhook_secret", "Webhook secret", FieldKind::Secret)
            .help("Signs the store's webhook deliveries; generated at activation when empty"),
        SettingField::new(
            "request_timeout_seconds",
            "Request timeout (seconds)",
            FieldKind::Integer {
                min: Some(1),
                max: Some(300),
            },
        )
        .default_value(30),
        SettingField::new("concurrency", "Concurrent requests", FieldKind::Text)
            .help("auto: as many requests at once as the store answers without slowing down (up to 64), fewer when it refuses or slows; or a number from 1 to 64: at most that many, fewer while the store refuses requests")
            .default_value("auto"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_passes_the_hosts_checks() {
        let m = manifest();
        assert_eq!(m.check(), Ok(()));
        let kinds: Vec<_> = m.jobs.iter().map(|j| (j.id.as_str(), j.schedule)).collect();
        assert_eq!(
            kinds,
            [
                (IMPORT_PRODUCTS, ScheduleKind::SyncInterval),
                (IMPORT_ORDERS, ScheduleKind::SyncInterval),
                (EXPORT_FULFILLMENT, ScheduleKind::SyncInterval),
                (PUSH_STOCK, ScheduleKind::SyncInterval),
                (END_OF_DAY, ScheduleKind::EndOfDay),
            ]
        );
    }
}
