//! Access to the exchanges recorded from a real WooCommerce 10.0.2 store,
//! kept in the repository as test data (`tests/woocommerce-recorded/`).

use std::path::PathBuf;

use serde_json::Value;

pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/woocommerce-recorded")
}

/// Every recording as (file name, parsed document), sorted by name.
pub fn all() -> Vec<(String, Value)> {
    let mut files: Vec<_> = std::fs::read_dir(dir())
        .expect("the recorded exchanges are in tests/woocommerce-recorded")
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable recording");
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (
                name,
                serde_json::from_str(&text).expect("recording is JSON"),
            )
        })
        .collect()
}

pub fn one(prefix: &str) -> Value {
    all()
        .into_iter()
        .find(|(name, _)| name.starts_with(prefix))
        .unwrap_or_else(|| panic!("no recording starts with {prefix}"))
        .1
}
