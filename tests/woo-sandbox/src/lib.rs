//! woo-sandbox
#![recursion_limit = "256"]
pub mod clock;
pub mod dates;
pub mod error;
pub mod listing;
pub mod model;
pub mod oauth;
pub mod php_query;
pub mod render;
pub mod seed;
pub mod store;
pub mod writes;
