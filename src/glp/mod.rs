//! The GreenLake API: auth, pacing, retries, circuit breaker, pagination and the item types.
//! Must not touch the database (design.md §2).

pub mod breaker;
pub mod model;
