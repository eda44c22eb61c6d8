//! The plugin's settings rules beyond their declared types, and the typed
//! view the jobs read. Pure: no I/O.

use plugin_api::{Context, FieldError, PluginError, Secret, Settings};

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
    if settings.text("unit_cost_source") == Some("meta_field")
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
    fn an_empty_status_list_and_a_missing_meta_key_are_refused() {
        let errors = check(&settings(&[
            ("import_statuses", json!([])),
            ("unit_cost_source", json!("meta_field")),
            ("unit_cost_meta_key", json!(" ")),
        ]));
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["import_statuses", "unit_cost_meta_key"]);
    }
}
