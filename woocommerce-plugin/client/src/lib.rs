//! woo-client: the WooCommerce REST API v3 client of IntelliTrack for
//! WooCommerce.
//!
//! It reads products, variations and orders from a store and writes order
//! status, notes, shipment tracking and stock back, and manages the store's
//! webhooks, as typed async calls
//! (tokio + reqwest with rustls/ring). It authenticates as WooCommerce
//! expects (HTTP Basic over HTTPS, OAuth 1.0a over plain HTTP, or the
//! query-string fallback), pages with stable ordering, keeps as many
//! requests in flight as the store takes without slowing down (one
//! adaptive limit per client, shared by its clones, see [`limit`]), retries only what is safe to retry, decodes real-world
//! payloads tolerantly (one bad record is skipped and reported, never fatal)
//! and checks a connection for activation with explanations a shop admin
//! understands.
//!
//! What it must not do: know about IntelliTrack, the plugin host or the
//! mapping rules (those live in the plugin); create its own async runtime
//! (the caller owns it); follow `Link` headers or redirects (they break
//! OAuth signatures); retry a call that may already have taken effect unless
//! the call is idempotent; or let the consumer secret reach any error,
//! `Debug` output or log line.
//!
//! Pure logic (signing, request building, paging plans, retry decisions,
//! decoding, explanations) lives apart from I/O (`transport` is the only
//! module that touches the network) and is tested without a server.

mod client;
pub mod config;
pub mod connection;
pub mod decode;
pub mod error;
pub mod limit;
pub mod limiter;
mod listing;
pub mod model;
pub mod oauth;
pub mod paging;
pub mod request;
pub mod retry;
pub mod secret;
mod transport;
mod webhooks;

pub use client::{ID_FILTER_MAX, Products, Variations, WooClient};
pub use config::{ApiPath, AuthMode, ClientConfig};
pub use connection::{ConnectionReport, Finding};
pub use decode::SkippedRecord;
pub use error::Error;
pub use limit::{Concurrency, Usage};
pub use limiter::{Limiter, UsageWatch};
pub use listing::{Listing, PageProgress, RecordMap, as_is};
pub use paging::Scope;
pub use retry::RetryPolicy;
pub use secret::ConsumerSecret;
pub use webhooks::{NewWebhook, Webhook};
