//! The GreenLake HTTP client: one place where every request gets the breaker check, pacing,
//! a bearer token, classification of the answer, and retries.
//!
//! Per request:
//! 1. the breaker may refuse at once (open, or a half-open probe is already out);
//! 2. the endpoint's pacer slot is awaited (also after a 429, which blocks the endpoint);
//! 3. a token is taken from the cache (single-flight refresh);
//! 4. the answer is classified: 2xx and parsable → done; 401 → invalidate the token and send
//!    again once; 429 → wait `ratelimit-reset` / `Retry-After` / `retryAfterSeconds` /
//!    backoff, bounded by the total time budget only; 5xx, unreachable, malformed body →
//!    `Retry-After` / `retryAfterSeconds` / full-jitter backoff within the attempt and time
//!    budgets; other 4xx → error at once with GreenLake's message;
//! 5. with a patience set, a call whose budget ran out on a transient failure (or that met
//!    the breaker open) waits and starts again at step 1, until the patience runs out.

mod attempt;
mod call;
mod events;
mod execute;
mod handle;

pub(crate) use call::{Body, Call, Response};
pub use events::{ClientEvent, Counters};
pub use handle::Client;
