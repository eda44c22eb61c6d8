//! woo-client: the WooCommerce REST API v3 client of IntelliTrack for WooCommerce.
pub mod decode;
pub mod model;
pub mod oauth;
pub mod secret;
