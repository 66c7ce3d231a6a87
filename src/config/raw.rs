//! Raw layers: every field optional, unknown keys rejected so typos are caught.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    pub(super) api: Option<RawApi>,
    pub(super) database: Option<RawDatabase>,
    pub(super) sync: Option<RawSync>,
    pub(super) ui: Option<RawUi>,
    pub(super) log: Option<RawLog>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApi {
    pub(super) base_url: Option<String>,
    pub(super) token_url: Option<String>,
    pub(super) client_id: Option<String>,
    pub(super) workspace_id: Option<String>,
    pub(super) client_secret: Option<String>,
    pub(super) client_secret_env: Option<String>,
    pub(super) client_secret_command: Option<String>,
    pub(super) timeout_secs: Option<i64>,
    pub(super) connect_timeout_secs: Option<i64>,
    pub(super) max_concurrency: Option<i64>,
    pub(super) page_size: Option<RawPageSize>,
    pub(super) rate_limits: Option<RawRateLimits>,
    pub(super) retry: Option<RawRetry>,
    pub(super) breaker: Option<RawBreaker>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPageSize {
    pub(super) devices: Option<i64>,
    pub(super) subscriptions: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRateLimits {
    pub(super) devices_get: Option<i64>,
    pub(super) subscriptions_get: Option<i64>,
    pub(super) devices_patch: Option<i64>,
    pub(super) devices_post: Option<i64>,
    pub(super) async_operations_get: Option<i64>,
    pub(super) service_catalog_get: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetry {
    pub(super) max_attempts: Option<i64>,
    pub(super) base_delay_ms: Option<i64>,
    pub(super) max_delay_secs: Option<i64>,
    pub(super) max_total_secs: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBreaker {
    pub(super) failure_threshold: Option<i64>,
    pub(super) cooldown_secs: Option<i64>,
    pub(super) success_threshold: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDatabase {
    pub(super) url: Option<String>,
    pub(super) pool_size: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSync {
    pub(super) full_every_runs: Option<i64>,
    pub(super) full_every_hours: Option<i64>,
    pub(super) incremental_skew_secs: Option<i64>,
    pub(super) stale_after_minutes: Option<i64>,
    pub(super) patience: Option<RawDuration>,
    pub(super) workspace_concurrency: Option<i64>,
    pub(super) history_retention_days: Option<i64>,
    pub(super) rate_limit_scope: Option<String>,
}

/// A duration written as whole seconds (`600`) or with a unit (`"90s"`, `"10m"`, `"1h"`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum RawDuration {
    Secs(i64),
    Text(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUi {
    pub(super) expiring_days: Option<i64>,
    pub(super) theme: Option<String>,
    pub(super) colors: Option<BTreeMap<String, String>>,
    pub(super) keys: Option<BTreeMap<String, String>>,
    pub(super) mouse: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLog {
    pub(super) level: Option<String>,
    pub(super) dir: Option<String>,
}
