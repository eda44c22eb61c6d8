//! WordPress REST error bodies: `{"code","message","data":{"status",...}}`,
//! with the exact codes and messages WooCommerce uses.

use serde_json::{Map, Value, json};

/// An error answer of the REST API.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status (also `data.status`).
    pub status: u16,
    /// Machine code, e.g. `woocommerce_rest_product_invalid_id`.
    pub code: String,
    /// Human message.
    pub message: String,
    /// Extra `data` members besides `status`, in order.
    pub extra: Vec<(String, Value)>,
}

/// One rejected request parameter of a `rest_invalid_param` error.
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidParam {
    /// Parameter name.
    pub param: String,
    /// Detail code, e.g. `rest_invalid_type`.
    pub code: &'static str,
    /// Message.
    pub message: String,
    /// Detail `data` (`null` or `{"param": name}`).
    pub data: Value,
}

impl InvalidParam {
    /// `<param> is not of type <ty>.`
    pub fn wrong_type(param: &str, ty: &str) -> Self {
        Self {
            param: param.into(),
            code: "rest_invalid_type",
            message: format!("{param} is not of type {ty}."),
            data: json!({ "param": param }),
        }
    }

    /// `<label> is not one of a, b, and c.`
    pub fn not_in_enum(param: &str, label: &str, allowed: &[&str]) -> Self {
        Self {
            param: param.into(),
            code: "rest_not_in_enum",
            message: format!("{label} is not one of {}.", english_list(allowed)),
            data: Value::Null,
        }
    }

    /// `<param> must be between <min> (inclusive) and <max> (inclusive)`
    pub fn out_of_bounds(param: &str, min: i64, max: i64) -> Self {
        Self {
            param: param.into(),
            code: "rest_out_of_bounds",
            message: format!("{param} must be between {min} (inclusive) and {max} (inclusive)"),
            data: Value::Null,
        }
    }

    /// `Invalid date.`
    pub fn invalid_date(param: &str) -> Self {
        Self {
            param: param.into(),
            code: "rest_invalid_date",
            message: "Invalid date.".into(),
            data: Value::Null,
        }
    }
}

/// "a, b, and c" as WordPress's `wp_sprintf_l` writes lists.
fn english_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [a, b] => format!("{a} and {b}"),
        [init @ .., last] => format!("{}, and {last}", init.join(", ")),
    }
}

impl ApiError {
    /// An error with no extra data.
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            extra: Vec::new(),
        }
    }

    /// Add a member to `data`.
    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.extra.push((key.into(), value));
        self
    }

    /// 400 `rest_invalid_param` naming every bad parameter.
    pub fn invalid_params(params: Vec<InvalidParam>) -> Self {
        let names: Vec<&str> = params.iter().map(|p| p.param.as_str()).collect();
        let mut messages = Map::new();
        let mut details = Map::new();
        for p in &params {
            messages.insert(p.param.clone(), Value::String(p.message.clone()));
            details.insert(
                p.param.clone(),
                json!({ "code": p.code, "message": p.message, "data": p.data }),
            );
        }
        Self::new(
            400,
            "rest_invalid_param",
            format!("Invalid parameter(s): {}", names.join(", ")),
        )
        .with("params", Value::Object(messages))
        .with("details", Value::Object(details))
    }

    /// An extra `data` member.
    pub fn extra(&self, key: &str) -> Option<&Value> {
        self.extra.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// 404 `rest_no_route`.
    pub fn no_route() -> Self {
        Self::new(
            404,
            "rest_no_route",
            "No route was found matching the URL and request method.",
        )
    }

    /// The error body.
    pub fn body(&self) -> Value {
        let mut data = Map::new();
        data.insert("status".into(), json!(self.status));
        data.extend(self.extra.iter().cloned());
        json!({ "code": self.code, "message": self.message, "data": data })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_param_body_matches_wordpress() {
        let e = ApiError::invalid_params(vec![InvalidParam::out_of_bounds("per_page", 1, 100)]);
        assert_eq!(
            e.body(),
            json!({"code":"rest_invalid_param","message":"Invalid parameter(s): per_page","data":{"status":400,
              "params":{"per_page":"per_page must be between 1 (inclusive) and 100 (inclusive)"},
              "details":{"per_page":{"code":"rest_out_of_bounds","message":"per_page must be between 1 (inclusive) and 100 (inclusive)","data":null}}}})
        );
    }

    #[test]
    fn enum_lists_read_like_wordpress() {
        let p = InvalidParam::not_in_enum("status", "status[0]", &["any", "trash", "pending"]);
        assert_eq!(
            p.message,
            "status[0] is not one of any, trash, and pending."
        );
    }
}
