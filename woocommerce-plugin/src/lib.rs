//! woocommerce-plugin (being written).
