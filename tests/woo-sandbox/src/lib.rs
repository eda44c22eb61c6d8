//! # woo-sandbox: a WooCommerce REST API (wc/v3) sandbox store
//!
//! A server that answers the wc/v3 routes the IntelliTrack for WooCommerce
//! plugin uses the way a real WooCommerce 10.0.2 store does — OAuth 1.0a and
//! Basic auth with the real rules and error bodies, paging headers, filters,
//! batch routes, stock and status writes, deletes and the trash, order
//! creation with WooCommerce's own stock reduction and restocking, refunds
//! (with their restocking and the gateway's refusal), notes,
//! Shipment Tracking, COGS, the version-gated `/variations` route,
//! webhooks with their signed deliveries ([`webhooks`]) —
//! and that misbehaves on demand (latency, 5xx, 429, dropped connections,
//! bad bodies, writes that land while their answer fails, is lost or
//! comes too late, and a customer's order placed just before a write is
//! applied: `place_order_before` in [`faults`]), and that has a PHP-FPM
//! pool's capacity when asked ([`capacity`]: so many workers, a backlog,
//! 503 past it). It runs as its own process
//! (`woo-sandbox --help`) or inside tests through [`Sandbox::builder`]; its
//! records live in memory, seeded from a JSON file ([`seed::Seed`]) or
//! generated ([`generate()`]).
//!
//! What it must not do: it is a test double, not a shop. It must not be
//! exposed beyond the machine it tests on (the `/__sandbox` control routes
//! have no authentication), it must not persist anything, and it must not
//! grow behaviour the real store does not have: every rule here is modelled
//! on WooCommerce's code or on the recorded exchanges in
//! `tests/woocommerce-recorded/`, and the replay test holds it to them.
//!
//! Layout: pure logic ([`oauth`], [`php_query`], [`dates`], [`listing`],
//! [`writes`], [`store`], [`render`], [`faults`], [`tracking`], [`version`],
//! [`capacity`]'s admission rule) is separate
//! from the HTTP plumbing ([`server`], [`tls`]), the library handle
//! ([`sandbox`]) and the line the binary announces its address with, read
//! back by the programs that start it ([`announce`]).
#![recursion_limit = "256"]

pub mod announce;
pub mod api;
pub mod auth;
pub mod capacity;
pub mod clock;
pub mod dates;
pub mod error;
pub mod faults;
pub mod generate;
pub mod listing;
pub mod model;
pub mod oauth;
pub mod php_query;
pub mod render;
pub mod sandbox;
pub mod seed;
pub mod server;
pub mod stats;
pub mod store;
pub mod tls;
pub mod tracking;
pub mod version;
pub mod webhooks;
pub mod writes;

pub use api::Features;
pub use auth::{ApiKey, Permissions};
pub use capacity::{Capacity, CapacityStats};
pub use clock::{Clock, ManualClock, SystemClock};
pub use faults::FaultRule;
pub use generate::{GenerateSpec, generate};
pub use sandbox::{BlockingSandbox, RunningSandbox, Sandbox, SandboxBuilder, StoreHandle};
pub use seed::Seed;
pub use version::WcVersion;
