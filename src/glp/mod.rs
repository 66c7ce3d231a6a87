//! The GreenLake API: auth, pacing, retries, circuit breaker, pagination and the item types.
//! Must not touch the database (design.md §2).

pub mod audit_log;
pub mod auth;
pub mod breaker;
pub mod catalog;
pub mod client;
pub mod error;
pub mod exchange;
pub mod health;
pub mod model;
pub mod ops;
pub mod pace;
pub mod page;
pub mod patience;
pub mod retry;
pub mod tenants;

pub use breaker::{BreakerSnapshot, BreakerState};
pub use client::{Client, ClientEvent, Counters};
pub use error::{ApiErrorBody, ErrorKind, GlpError};
pub use model::{Device, Item, ItemError, Subscription};
pub use page::Page;
pub use tenants::{InventoryOwnership, MspTenant};
