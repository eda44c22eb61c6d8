//! woo-sandbox (being written).
