//! woo-client (being written).
