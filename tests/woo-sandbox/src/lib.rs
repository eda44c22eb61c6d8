//! woo-sandbox
pub mod clock;
pub mod dates;
pub mod error;
pub mod listing;
pub mod model;
pub mod oauth;
pub mod php_query;
