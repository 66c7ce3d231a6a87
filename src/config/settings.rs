//! The effective configuration, section by section, with its defaults.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::secret::SecretSource;
use super::workspace::{Declared, MspConfig, RateLimitScope, WorkspaceConfig};
use crate::domain::WorkspaceId;

/// Requests per minute allowed per endpoint (glp-api.md §5.1, §12). Defaults are the
/// published limits of the 2026-08-03 specs: PATCH 40/min and POST 50/min on `/devices/v1`
/// and `/devices/v2beta1`. The earlier values, PATCH 20 and POST 25 (the deprecated v1beta1
/// numbers GLP-Sync-2 still uses), are the conservative choice for a workspace that still
/// answers 429 at the new rates; the pacer also slows down by itself when the
/// `ratelimit-limit` header names a lower number.
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimits {
    pub devices_get: u32,
    pub subscriptions_get: u32,
    pub devices_patch: u32,
    pub devices_post: u32,
    pub async_operations_get: u32,
    pub service_catalog_get: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            devices_get: 160,
            subscriptions_get: 60,
            devices_patch: 40,
            devices_post: 50,
            async_operations_get: 90,
            service_catalog_get: 60,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct PageSizes {
    /// 1..=2000 (GET /devices/v1/devices).
    pub devices: u32,
    /// 1..=200: the newer API allows 200; the client falls back to 50 on a 400.
    pub subscriptions: u32,
}

impl Default for PageSizes {
    fn default() -> Self {
        PageSizes {
            devices: 2000,
            subscriptions: 200,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RetryConfig {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Give up on one request after this long, whatever the attempt count.
    pub max_total: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: 6,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_total: Duration::from_secs(300),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct BreakerConfig {
    pub failure_threshold: u32,
    pub cooldown: Duration,
    pub success_threshold: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failure_threshold: 5,
            cooldown: Duration::from_secs(60),
            success_threshold: 2,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ApiConfig {
    pub base_url: String,
    pub token_url: String,
    pub client_id: String,
    pub client_secret: SecretSource,
    /// `[api] workspace_id`: the id of the legacy single workspace, when the user gives it
    /// (its rows are stored under [`WorkspaceId::DEFAULT`] otherwise). Unused once
    /// `[[workspaces]]` or `[msp]` name the workspaces.
    pub workspace_id: Option<WorkspaceId>,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Pages fetched at once once the total is known (still inside the rate budget).
    pub max_concurrency: u32,
    pub page_size: PageSizes,
    pub rate_limits: RateLimits,
    pub retry: RetryConfig,
    pub breaker: BreakerConfig,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            base_url: "https://global.api.greenlake.hpe.com".into(),
            token_url: "https://sso.common.cloud.hpe.com/as/token.oauth2".into(),
            client_id: String::new(),
            client_secret: SecretSource::None,
            workspace_id: None,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            max_concurrency: 2,
            page_size: PageSizes::default(),
            rate_limits: RateLimits::default(),
            retry: RetryConfig::default(),
            breaker: BreakerConfig::default(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct DatabaseConfig {
    /// May hold a password: print it only through [`mask_url`](super::mask_url).
    pub url: String,
    pub pool_size: u32,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "postgres://postgres@127.0.0.1:5432/glp_console".into(),
            pool_size: 5,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct SyncConfig {
    /// Run a full (reconciling) sync after this many incremental runs.
    pub full_every_runs: u32,
    /// …or when the last full sync is older than this.
    pub full_every: Duration,
    /// Incremental windows start this much before the last good sync started (clock skew).
    pub incremental_skew: Duration,
    /// `glp-console status` exits non-zero when the last good sync is older than this.
    pub stale_after: Duration,
    /// How long a resource's phase of a sync waits for GreenLake to come back (outage,
    /// breaker open, failing token endpoint) before it gives up; zero gives up at once.
    pub patience: Duration,
    /// Workspaces synced at once (1..=64): an MSP with hundreds of tenants neither waits for
    /// them one by one nor opens hundreds of connections.
    pub workspace_concurrency: u32,
    /// Whose budget the rate limits are (glp-api.md §11: the documentation says both).
    pub rate_limit_scope: RateLimitScope,
    /// Field-by-field change history and audit-log entries older than this many days are
    /// pruned by the sync.
    pub history_retention_days: u32,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            full_every_runs: 24,
            full_every: Duration::from_secs(24 * 3600),
            incremental_skew: Duration::from_secs(300),
            stale_after: Duration::from_secs(2 * 3600),
            patience: Duration::from_secs(600),
            workspace_concurrency: 4,
            rate_limit_scope: RateLimitScope::Workspace,
            history_retention_days: 180,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct UiConfig {
    pub expiring_days: u32,
    pub theme: String,
    /// Per-role colour overrides (`[ui.colors] accent = "cyan"`), validated by the TUI.
    pub colors: BTreeMap<String, String>,
    /// Action → key overrides (`[ui.keys] sync = "F5"`, `""` unbinds), validated by the TUI.
    pub keys: BTreeMap<String, String>,
    pub mouse: bool,
}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig {
            expiring_days: 90,
            theme: "default".into(),
            colors: BTreeMap::new(),
            keys: BTreeMap::new(),
            mouse: false,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct LogConfig {
    pub level: String,
    /// `None`: the platform's state directory (`~/.local/state/glp-console/logs`).
    pub dir: Option<PathBuf>,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
            dir: None,
        }
    }
}

/// The effective configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub api: ApiConfig,
    /// Every standalone workspace to sync, in file order: the `[[workspaces]]` tables, or —
    /// when neither `[[workspaces]]` nor `[msp]` is given — the `[api]` client as one workspace
    /// named "default" (today's single-workspace configuration). Empty only when `[msp]` is
    /// given alone. Derived from the layers by [`Config::refresh_workspaces`].
    pub workspaces: Vec<WorkspaceConfig>,
    /// The MSP workspace whose tenants are discovered, if `[msp]` is given.
    pub msp: Option<MspConfig>,
    pub database: DatabaseConfig,
    pub sync: SyncConfig,
    pub ui: UiConfig,
    pub log: LogConfig,
    /// The file that was read, if any.
    pub source_file: Option<PathBuf>,
    /// Non-fatal findings (world-readable file holding a secret, …) to show the user.
    pub warnings: Vec<String>,
    /// What the file declared about workspaces, kept so that `workspaces` and `msp` can be
    /// derived again when a later layer (or code, like the demo) changes `[api]`.
    pub(super) declared: Declared,
}

impl Default for Config {
    fn default() -> Self {
        let mut c = Config {
            api: ApiConfig::default(),
            workspaces: Vec::new(),
            msp: None,
            database: DatabaseConfig::default(),
            sync: SyncConfig::default(),
            ui: UiConfig::default(),
            log: LogConfig::default(),
            source_file: None,
            warnings: Vec::new(),
            declared: Declared::default(),
        };
        c.refresh_workspaces();
        c
    }
}
