//! Query strings parsed the way PHP fills `$_GET`: the last duplicate wins
//! but keeps the position of the first, and `key[]` / `key[sub]` build
//! arrays. WooCommerce signs and filters on that parsed form, so the sandbox
//! must see requests the same way.

/// One parsed value: a string, or an ordered array with string keys
/// (`status[]=a&status[]=b` becomes `status => [0 => a, 1 => b]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhpValue {
    /// A plain value.
    Scalar(String),
    /// An ordered array; list entries have the keys "0", "1", ...
    Array(Vec<(String, PhpValue)>),
}

/// An ordered map of top-level parameters, as PHP's `$_GET`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhpParams {
    entries: Vec<(String, PhpValue)>,
}

impl PhpParams {
    /// Parse a raw (still percent-encoded) query string.
    pub fn parse(query: &str) -> Self {
        let mut params = Self::default();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            params.insert_raw(&key, value.into_owned());
        }
        params
    }

    /// Add one decoded `key=value` pair, with PHP's bracket handling.
    pub fn insert_raw(&mut self, key: &str, value: String) {
        let (base, path) = split_key(key);
        if base.is_empty() {
            return;
        }
        let slot = entry_mut(&mut self.entries, &base);
        set_path(slot, &path, value);
    }

    /// Set a top-level scalar, replacing any earlier value in place
    /// (PHP's `array_merge` with a string key).
    pub fn set(&mut self, key: &str, value: String) {
        *entry_mut(&mut self.entries, key) = PhpValue::Scalar(value);
    }

    /// Remove a top-level key.
    pub fn remove(&mut self, key: &str) -> Option<PhpValue> {
        let at = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(at).1)
    }

    /// The value under a top-level key.
    pub fn get(&self, key: &str) -> Option<&PhpValue> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The value under `key` if it is a scalar.
    pub fn scalar(&self, key: &str) -> Option<&str> {
        match self.get(key)? {
            PhpValue::Scalar(s) => Some(s),
            PhpValue::Array(_) => None,
        }
    }

    /// A list parameter as WordPress reads it: a comma-separated scalar or
    /// an array of scalars.
    pub fn list(&self, key: &str) -> Option<Vec<String>> {
        match self.get(key)? {
            PhpValue::Scalar(s) => Some(
                s.split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            PhpValue::Array(items) => Some(
                items
                    .iter()
                    .filter_map(|(_, v)| match v {
                        PhpValue::Scalar(s) => Some(s.clone()),
                        PhpValue::Array(_) => None,
                    })
                    .collect(),
            ),
        }
    }

    /// All top-level entries in order.
    pub fn entries(&self) -> &[(String, PhpValue)] {
        &self.entries
    }

    /// Serialise back to a query string (`key[sub]=value`, form-encoded),
    /// as WordPress's `add_query_arg` does when it builds `Link` headers.
    pub fn to_query_string(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        fn walk(out: &mut form_urlencoded::Serializer<'_, String>, key: &str, value: &PhpValue) {
            match value {
                PhpValue::Scalar(s) => {
                    out.append_pair(key, s);
                }
                PhpValue::Array(items) => {
                    for (sub, v) in items {
                        walk(out, &format!("{key}[{sub}]"), v);
                    }
                }
            }
        }
        for (key, value) in &self.entries {
            walk(&mut out, key, value);
        }
        out.finish()
    }
}

fn entry_mut<'a>(entries: &'a mut Vec<(String, PhpValue)>, key: &str) -> &'a mut PhpValue {
    let at = match entries.iter().position(|(k, _)| k == key) {
        Some(at) => at,
        None => {
            entries.push((key.to_owned(), PhpValue::Scalar(String::new())));
            entries.len() - 1
        }
    };
    &mut entries[at].1
}

/// `a[b][]` -> ("a", [Some("b"), None]). PHP turns '.' and ' ' in the base
/// name into '_'; an unclosed bracket makes the whole key literal.
fn split_key(key: &str) -> (String, Vec<Option<String>>) {
    let (base, mut rest) = match key.find('[') {
        Some(at) if at > 0 && key[at..].contains(']') => (&key[..at], &key[at..]),
        _ => (key, ""),
    };
    let base: String = base
        .chars()
        .map(|c| if c == '.' || c == ' ' { '_' } else { c })
        .collect();
    let mut path = Vec::new();
    while let Some(stripped) = rest.strip_prefix('[') {
        let Some(close) = stripped.find(']') else {
            break;
        };
        let sub = &stripped[..close];
        path.push((!sub.is_empty()).then(|| sub.to_owned()));
        rest = &stripped[close + 1..];
    }
    (base, path)
}

fn set_path(slot: &mut PhpValue, path: &[Option<String>], value: String) {
    let Some((first, rest)) = path.split_first() else {
        *slot = PhpValue::Scalar(value);
        return;
    };
    if matches!(slot, PhpValue::Scalar(_)) {
        *slot = PhpValue::Array(Vec::new());
    }
    let PhpValue::Array(items) = slot else {
        unreachable!("slot was just made an array")
    };
    let key = match first {
        Some(k) => k.clone(),
        None => {
            let next = items
                .iter()
                .filter_map(|(k, _)| k.parse::<i64>().ok())
                .max()
                .map_or(0, |m| m + 1);
            next.to_string()
        }
    };
    let child = entry_mut(items, &key);
    set_path(child, rest, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_duplicate_wins_at_first_position() {
        let p = PhpParams::parse("per_page=100&page=1&x=y&per_page=5&page=2");
        let keys: Vec<_> = p.entries().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["per_page", "page", "x"]);
        assert_eq!(p.scalar("per_page"), Some("5"));
        assert_eq!(p.scalar("page"), Some("2"));
    }

    #[test]
    fn brackets_build_indexed_arrays() {
        let p = PhpParams::parse("status%5B%5D=completed&status[]=cancelled&filter[period]=week");
        assert_eq!(
            p.get("status"),
            Some(&PhpValue::Array(vec![
                ("0".into(), PhpValue::Scalar("completed".into())),
                ("1".into(), PhpValue::Scalar("cancelled".into())),
            ]))
        );
        assert_eq!(
            p.list("status").unwrap(),
            vec!["completed".to_owned(), "cancelled".to_owned()]
        );
        assert_eq!(
            p.get("filter"),
            Some(&PhpValue::Array(vec![(
                "period".into(),
                PhpValue::Scalar("week".into())
            )]))
        );
    }

    #[test]
    fn comma_lists_and_plus_as_space() {
        let p = PhpParams::parse("status=processing,on-hold&search=Rig+T-Shirt");
        assert_eq!(p.list("status").unwrap(), vec!["processing", "on-hold"]);
        assert_eq!(p.scalar("search"), Some("Rig T-Shirt"));
    }

    #[test]
    fn round_trips_to_a_query_string() {
        let p = PhpParams::parse("a=1&s[]=x&b=two+words");
        assert_eq!(p.to_query_string(), "a=1&s%5B0%5D=x&b=two+words");
    }
}
