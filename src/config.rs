//! Configuration: defaults < file < environment < command-line flags.
//!
//! Every value is validated where it enters, so an error can name the exact place the user
//! must fix (`config.toml: [api] page_size.subscriptions = 500: must be 1..=200`,
//! `environment GLP_BASE_URL = "x": …`, `--database-url …`). Secrets are held in [`Secret`],
//! whose `Debug`/`Display` never print the value, and are resolved lazily (inline, from a
//! named environment variable, or from a command such as `pass show glp`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Name of the config file inside the config directory.
pub const CONFIG_FILE_NAME: &str = "config.toml";

/// A secret string. Printing it in any way shows `****`, so it cannot leak through
/// `{:?}` in a log line, an error or a panic message.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The only way to read the value; grep for `expose` to audit every use.
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

/// A configuration problem, always naming where the bad value came from and what is expected.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{origin} = {value}: {expected}")]
    Invalid {
        origin: String,
        value: String,
        expected: String,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: cannot read the config file: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Missing(String),
    #[error("client secret: {0}")]
    Secret(String),
    /// More than one of the above, each on its own line: a person fixes them all in one go
    /// instead of discovering them one run at a time.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Several(Vec<ConfigError>),
}

impl ConfigError {
    /// One error from a list of problems (`None` when there are none).
    pub fn from_problems(mut problems: Vec<ConfigError>) -> Option<ConfigError> {
        match problems.len() {
            0 => None,
            1 => problems.pop(),
            _ => Some(ConfigError::Several(problems)),
        }
    }
}

/// Where the client secret comes from. Resolved only when a client is built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretSource {
    None,
    Inline(Secret),
    Env(String),
    Command(String),
}

impl SecretSource {
    /// A description that is safe to print.
    pub fn describe(&self) -> String {
        match self {
            SecretSource::None => "not set".into(),
            SecretSource::Inline(_) => "inline (****)".into(),
            SecretSource::Env(v) => format!("from environment variable {v}"),
            SecretSource::Command(c) => format!("from command `{c}`"),
        }
    }

    /// Resolve the secret. Errors name the source but never contain the secret itself.
    pub fn resolve(&self) -> Result<Secret, ConfigError> {
        match self {
            SecretSource::None => Err(ConfigError::Secret(
                "no client secret configured: set GLP_CLIENT_SECRET, or [api] client_secret / \
                 client_secret_env / client_secret_command in config.toml"
                    .into(),
            )),
            SecretSource::Inline(s) => Ok(s.clone()),
            SecretSource::Env(var) => match std::env::var(var) {
                Ok(v) if !v.trim().is_empty() => Ok(Secret::new(v.trim().to_string())),
                _ => Err(ConfigError::Secret(format!(
                    "[api] client_secret_env names {var}, but that environment variable is empty \
                     or not set: export it, or point client_secret_env at another variable"
                ))),
            },
            SecretSource::Command(cmd) => {
                let out = std::process::Command::new("sh")
                    .arg("-c")
                    .arg(cmd)
                    .stdin(std::process::Stdio::null())
                    .output()
                    .map_err(|e| {
                        ConfigError::Secret(format!(
                            "[api] client_secret_command `{cmd}` could not be started: {e}"
                        ))
                    })?;
                if !out.status.success() {
                    return Err(ConfigError::Secret(format!(
                        "[api] client_secret_command `{cmd}` exited with {}: run it by hand to \
                         see why",
                        out.status
                    )));
                }
                // Like git's credential helpers: the first line is the secret.
                let text = String::from_utf8_lossy(&out.stdout);
                let first = text.lines().next().unwrap_or("").trim().to_string();
                if first.is_empty() {
                    return Err(ConfigError::Secret(format!(
                        "[api] client_secret_command `{cmd}` printed nothing on its first line"
                    )));
                }
                Ok(Secret::new(first))
            }
        }
    }
}

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
    /// May hold a password: print it only through [`mask_url`].
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
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            full_every_runs: 24,
            full_every: Duration::from_secs(24 * 3600),
            incremental_skew: Duration::from_secs(300),
            stale_after: Duration::from_secs(2 * 3600),
            patience: Duration::from_secs(600),
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
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Config {
    pub api: ApiConfig,
    pub database: DatabaseConfig,
    pub sync: SyncConfig,
    pub ui: UiConfig,
    pub log: LogConfig,
    /// The file that was read, if any.
    pub source_file: Option<PathBuf>,
    /// Non-fatal findings (world-readable file holding a secret, …) to show the user.
    pub warnings: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Raw layers: every field optional, unknown keys rejected so typos are caught.

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    api: Option<RawApi>,
    database: Option<RawDatabase>,
    sync: Option<RawSync>,
    ui: Option<RawUi>,
    log: Option<RawLog>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApi {
    base_url: Option<String>,
    token_url: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    client_secret_env: Option<String>,
    client_secret_command: Option<String>,
    timeout_secs: Option<i64>,
    connect_timeout_secs: Option<i64>,
    max_concurrency: Option<i64>,
    page_size: Option<RawPageSize>,
    rate_limits: Option<RawRateLimits>,
    retry: Option<RawRetry>,
    breaker: Option<RawBreaker>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPageSize {
    devices: Option<i64>,
    subscriptions: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRateLimits {
    devices_get: Option<i64>,
    subscriptions_get: Option<i64>,
    devices_patch: Option<i64>,
    devices_post: Option<i64>,
    async_operations_get: Option<i64>,
    service_catalog_get: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetry {
    max_attempts: Option<i64>,
    base_delay_ms: Option<i64>,
    max_delay_secs: Option<i64>,
    max_total_secs: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBreaker {
    failure_threshold: Option<i64>,
    cooldown_secs: Option<i64>,
    success_threshold: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    url: Option<String>,
    pool_size: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSync {
    full_every_runs: Option<i64>,
    full_every_hours: Option<i64>,
    incremental_skew_secs: Option<i64>,
    stale_after_minutes: Option<i64>,
    patience: Option<RawDuration>,
}

/// A duration written as whole seconds (`600`) or with a unit (`"90s"`, `"10m"`, `"1h"`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawDuration {
    Secs(i64),
    Text(String),
}

/// Seconds of a [`RawDuration`] in `lo..=hi`, or an error naming the key and the forms.
fn duration_in(
    o: &Origin,
    section: &str,
    key: &str,
    v: &RawDuration,
    lo: u64,
    hi: u64,
) -> Result<Duration, ConfigError> {
    let expected = || {
        format!(
            "must be seconds ({lo}..={hi}) or a number with s, m or h (e.g. \"90s\", \"10m\", \"1h\")"
        )
    };
    let secs = match v {
        RawDuration::Secs(n) => u64::try_from(*n).ok(),
        RawDuration::Text(t) => parse_duration_secs(t),
    };
    let shown = match v {
        RawDuration::Secs(n) => n.to_string(),
        RawDuration::Text(t) => format!("{t:?}"),
    };
    match secs {
        Some(n) if (lo..=hi).contains(&n) => Ok(Duration::from_secs(n)),
        _ => Err(invalid(o.name(section, key), shown, expected())),
    }
}

/// `"90"`, `"90s"`, `"10m"`, `"10 min"`, `"1h"` → seconds.
fn parse_duration_secs(t: &str) -> Option<u64> {
    let t = t.trim().to_ascii_lowercase();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult = match unit.trim() {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hour" | "hours" => 3600,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// A duration the way the config file accepts it back (`"10m"`, `"90s"`).
pub fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s > 0 && s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s > 0 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUi {
    expiring_days: Option<i64>,
    theme: Option<String>,
    colors: Option<BTreeMap<String, String>>,
    keys: Option<BTreeMap<String, String>>,
    mouse: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    level: Option<String>,
    dir: Option<String>,
}

/// Values given on the command line; `None` means "not given".
#[derive(Clone, Debug, Default)]
pub struct FlagOverrides {
    pub base_url: Option<String>,
    pub token_url: Option<String>,
    pub client_id: Option<String>,
    pub database_url: Option<String>,
    pub log_level: Option<String>,
    pub log_dir: Option<PathBuf>,
}

/// How a layer names a key in its messages.
enum Origin<'a> {
    File(&'a str),
    Env,
    Flag,
}

impl Origin<'_> {
    fn name(&self, section: &str, key: &str) -> String {
        match self {
            Origin::File(path) => format!("{path}: [{section}] {key}"),
            Origin::Env => format!("environment {}", env_name(section, key)),
            Origin::Flag => format!("--{}", flag_name(section, key)),
        }
    }
}

fn env_name(section: &str, key: &str) -> &'static str {
    match (section, key) {
        ("api", "base_url") => "GLP_BASE_URL",
        ("api", "token_url") => "GLP_TOKEN_URL",
        ("api", "client_id") => "GLP_CLIENT_ID",
        ("api", "client_secret") => "GLP_CLIENT_SECRET",
        ("database", "url") => "DATABASE_URL",
        ("log", "level") => "RUST_LOG",
        _ => "(unknown)",
    }
}

fn flag_name(section: &str, key: &str) -> String {
    match (section, key) {
        ("database", "url") => "database-url".into(),
        ("log", "level") => "log-level".into(),
        ("log", "dir") => "log-dir".into(),
        (_, k) => k.replace('_', "-"),
    }
}

fn invalid(origin: String, value: impl fmt::Display, expected: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        origin,
        value: value.to_string(),
        expected: expected.into(),
    }
}

fn int_in(
    o: &Origin,
    section: &str,
    key: &str,
    v: i64,
    lo: i64,
    hi: i64,
) -> Result<u32, ConfigError> {
    if v < lo || v > hi {
        return Err(invalid(
            o.name(section, key),
            v,
            format!("must be {lo}..={hi}"),
        ));
    }
    u32::try_from(v).map_err(|_| invalid(o.name(section, key), v, format!("must be {lo}..={hi}")))
}

fn http_url(o: &Origin, section: &str, key: &str, v: &str) -> Result<String, ConfigError> {
    let t = v.trim();
    let ok = (t.starts_with("https://") || t.starts_with("http://"))
        && t.len() > "https://".len()
        && !t.contains(char::is_whitespace);
    if !ok {
        return Err(invalid(
            o.name(section, key),
            format!("{t:?}"),
            "must be an http(s) URL, e.g. https://global.api.greenlake.hpe.com",
        ));
    }
    Ok(t.trim_end_matches('/').to_string())
}

fn db_url(o: &Origin, v: &str) -> Result<String, ConfigError> {
    let t = v.trim();
    if !(t.starts_with("postgres://") || t.starts_with("postgresql://")) {
        return Err(invalid(
            o.name("database", "url"),
            format!("{:?}", mask_url(t)),
            "must be a PostgreSQL URL, e.g. postgres://user@127.0.0.1:5432/glp_console",
        ));
    }
    Ok(t.to_string())
}

const LOG_LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

fn log_level(o: &Origin, v: &str) -> Result<String, ConfigError> {
    let t = v.trim().to_ascii_lowercase();
    // RUST_LOG may carry a full filter directive (`glp_console=debug,sqlx=warn`); accept
    // anything tracing-subscriber can parse there, plain levels elsewhere.
    if LOG_LEVELS.contains(&t.as_str()) {
        return Ok(t);
    }
    if matches!(o, Origin::Env) && tracing_subscriber::EnvFilter::try_new(v.trim()).is_ok() {
        return Ok(v.trim().to_string());
    }
    Err(invalid(
        o.name("log", "level"),
        format!("{v:?}"),
        format!("must be one of {}", LOG_LEVELS.join(", ")),
    ))
}

fn nonempty(o: &Origin, section: &str, key: &str, v: &str) -> Result<String, ConfigError> {
    let t = v.trim();
    if t.is_empty() {
        return Err(invalid(o.name(section, key), "\"\"", "must not be empty"));
    }
    Ok(t.to_string())
}

/// A key as messages name it: `[api] page_size.devices`, `[foo]`.
fn key_label(path: &[String]) -> String {
    match path.split_first() {
        Some((section, rest)) if !rest.is_empty() => format!("[{section}] {}", rest.join(".")),
        Some((section, _)) => format!("[{section}]"),
        None => String::new(),
    }
}

/// The document split into one small document per key (`[api] page_size.devices = 5` becomes
/// `{api = {page_size = {devices = 5}}}`) with the key's path, in file order. The `client_secret*` keys stay together: only one of
/// them may be set, which needs them side by side.
fn key_documents(table: &toml::Table) -> Vec<(Vec<String>, toml::Table)> {
    fn leaves(t: &toml::Table, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        for (k, v) in t {
            prefix.push(k.clone());
            match v {
                toml::Value::Table(sub) if !sub.is_empty() => leaves(sub, prefix, out),
                _ => out.push(prefix.clone()),
            }
            prefix.pop();
        }
    }
    fn get<'a>(t: &'a toml::Table, path: &[String]) -> Option<&'a toml::Value> {
        let (first, rest) = path.split_first()?;
        let v = t.get(first)?;
        match (rest.is_empty(), v) {
            (true, v) => Some(v),
            (false, toml::Value::Table(sub)) => get(sub, rest),
            _ => None,
        }
    }
    fn insert(doc: &mut toml::Table, path: &[String], value: toml::Value) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        if rest.is_empty() {
            doc.insert(first.clone(), value);
            return;
        }
        let entry = doc
            .entry(first.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(sub) = entry {
            insert(sub, rest, value);
        }
    }
    let mut paths = Vec::new();
    leaves(table, &mut Vec::new(), &mut paths);
    let mut docs: Vec<(Vec<String>, toml::Table)> = Vec::new();
    let mut secret_doc: Option<usize> = None;
    for path in paths {
        let Some(value) = get(table, &path).cloned() else {
            continue;
        };
        let is_secret = path.len() == 2 && path[0] == "api" && path[1].starts_with("client_secret");
        match (is_secret, secret_doc) {
            (true, Some(i)) => insert(&mut docs[i].1, &path, value),
            _ => {
                let mut doc = toml::Table::new();
                insert(&mut doc, &path, value);
                if is_secret {
                    secret_doc = Some(docs.len());
                }
                docs.push((path, doc));
            }
        }
    }
    docs
}

impl Config {
    /// The platform config directory (`~/.config/glp-console` on Linux).
    pub fn default_dir() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "glp-console").map(|d| d.config_dir().to_path_buf())
    }

    pub fn default_file() -> Option<PathBuf> {
        Self::default_dir().map(|d| d.join(CONFIG_FILE_NAME))
    }

    /// Where logs go when `[log] dir` is not set.
    pub fn default_log_dir() -> PathBuf {
        directories::ProjectDirs::from("", "", "glp-console")
            .map(|d| {
                d.state_dir()
                    .unwrap_or_else(|| d.data_local_dir())
                    .join("logs")
            })
            .unwrap_or_else(|| std::env::temp_dir().join("glp-console-logs"))
    }

    /// Where the console writes assignment reports: the platform data directory
    /// (`~/.local/share/glp-console/reports` on Linux), so they outlive the session and are
    /// found again in one place.
    pub fn reports_dir(&self) -> PathBuf {
        directories::ProjectDirs::from("", "", "glp-console")
            .map(|d| d.data_local_dir().join("reports"))
            .unwrap_or_else(|| std::env::temp_dir().join("glp-console-reports"))
    }

    pub fn log_dir(&self) -> PathBuf {
        self.log.dir.clone().unwrap_or_else(Self::default_log_dir)
    }

    /// Load with the real process environment.
    pub fn load(explicit: Option<&Path>, flags: &FlagOverrides) -> Result<Config, ConfigError> {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        Self::load_with(explicit, &env, flags)
    }

    /// Load from an explicit file (must exist) or the default location (may be absent), then
    /// apply the given environment and flags. Tests pass their own environment map. Every
    /// bad value is reported (see [`ConfigError::Several`]), not just the first.
    pub fn load_with(
        explicit: Option<&Path>,
        env: &BTreeMap<String, String>,
        flags: &FlagOverrides,
    ) -> Result<Config, ConfigError> {
        let (cfg, problems) = Self::load_with_all(explicit, env, flags);
        match ConfigError::from_problems(problems) {
            Some(e) => Err(e),
            None => Ok(cfg),
        }
    }

    /// [`Config::load`] that keeps going: the configuration with every valid value applied
    /// (a bad one leaves its default), and the list of every problem found. For
    /// `config check`, which must list them all.
    pub fn load_all(explicit: Option<&Path>, flags: &FlagOverrides) -> (Config, Vec<ConfigError>) {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        Self::load_with_all(explicit, &env, flags)
    }

    /// [`Config::load_with`] that keeps going (see [`Config::load_all`]).
    pub fn load_with_all(
        explicit: Option<&Path>,
        env: &BTreeMap<String, String>,
        flags: &FlagOverrides,
    ) -> (Config, Vec<ConfigError>) {
        let mut cfg = Config::default();
        let mut problems = Vec::new();
        let path = match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => Self::default_file().filter(|p| p.exists()),
        };
        if let Some(path) = path {
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    problems.extend(cfg.apply_file_text_all(&text, &path));
                    cfg.source_file = Some(path.clone());
                    cfg.check_permissions(&path);
                }
                Err(e) => problems.push(ConfigError::Read {
                    path: path.display().to_string(),
                    source: e,
                }),
            }
        }
        problems.extend(cfg.apply_env_all(env));
        problems.extend(cfg.apply_flags_all(flags));
        (cfg, problems)
    }

    /// Apply a TOML document as the file layer. `path` is used in messages.
    pub fn apply_file_text(&mut self, text: &str, path: &Path) -> Result<(), ConfigError> {
        match ConfigError::from_problems(self.apply_file_text_all(text, path)) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Apply a TOML document key by key, so that one bad or unknown key does not hide the
    /// others: each value is deserialised and validated on its own, and every problem is
    /// returned. Only a syntax error stops the walk (the document has no keys to check then).
    pub fn apply_file_text_all(&mut self, text: &str, path: &Path) -> Vec<ConfigError> {
        let shown = path.display().to_string();
        let table: toml::Table = match toml::from_str(text) {
            Ok(t) => t,
            Err(e) => {
                return vec![ConfigError::Parse {
                    path: shown,
                    message: format!(
                        "{} (see config.example.toml for every key)",
                        e.to_string().trim_end()
                    ),
                }];
            }
        };
        let origin = Origin::File(&shown);
        let mut problems = Vec::new();
        // An unknown section or table is one mistake however many keys it holds.
        let mut unknown = std::collections::HashSet::new();
        for (path, doc) in key_documents(&table) {
            match toml::Value::Table(doc).try_into::<RawFile>() {
                Ok(raw) => {
                    if let Err(e) = self.apply_raw(raw, &origin) {
                        problems.push(e);
                    }
                }
                Err(e) => {
                    let message = e.message().trim_end();
                    let mut shown_path = path.as_slice();
                    if let Some(name) = message
                        .strip_prefix("unknown field `")
                        .and_then(|m| m.split('`').next())
                        && let Some(i) = path.iter().rposition(|p| p == name)
                    {
                        shown_path = &path[..=i];
                        if !unknown.insert(shown_path.to_vec()) {
                            continue;
                        }
                    }
                    problems.push(ConfigError::Parse {
                        path: shown.clone(),
                        message: format!(
                            "{}: {message} (see config.example.toml for every key)",
                            key_label(shown_path)
                        ),
                    });
                }
            }
        }
        problems
    }

    #[allow(
        clippy::too_many_lines,
        reason = "188 lines; listed in issue 13's note to split next"
    )]
    fn apply_raw(&mut self, raw: RawFile, o: &Origin) -> Result<(), ConfigError> {
        if let Some(api) = raw.api {
            let a = &mut self.api;
            if let Some(v) = api.base_url {
                a.base_url = http_url(o, "api", "base_url", &v)?;
            }
            if let Some(v) = api.token_url {
                a.token_url = http_url(o, "api", "token_url", &v)?;
            }
            if let Some(v) = api.client_id {
                a.client_id = nonempty(o, "api", "client_id", &v)?;
            }
            let secret_keys = [
                api.client_secret.is_some(),
                api.client_secret_env.is_some(),
                api.client_secret_command.is_some(),
            ];
            if secret_keys.iter().filter(|b| **b).count() > 1 {
                return Err(invalid(
                    o.name("api", "client_secret*"),
                    "several",
                    "set only one of client_secret, client_secret_env, client_secret_command",
                ));
            }
            if let Some(v) = api.client_secret {
                a.client_secret =
                    SecretSource::Inline(Secret::new(nonempty(o, "api", "client_secret", &v)?));
            }
            if let Some(v) = api.client_secret_env {
                let name = nonempty(o, "api", "client_secret_env", &v)?;
                if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(invalid(
                        o.name("api", "client_secret_env"),
                        format!("{name:?}"),
                        "must be the NAME of an environment variable (letters, digits, _), \
                         not its value",
                    ));
                }
                a.client_secret = SecretSource::Env(name);
            }
            if let Some(v) = api.client_secret_command {
                a.client_secret =
                    SecretSource::Command(nonempty(o, "api", "client_secret_command", &v)?);
            }
            if let Some(v) = api.timeout_secs {
                a.timeout =
                    Duration::from_secs(int_in(o, "api", "timeout_secs", v, 1, 600)?.into());
            }
            if let Some(v) = api.connect_timeout_secs {
                a.connect_timeout = Duration::from_secs(
                    int_in(o, "api", "connect_timeout_secs", v, 1, 120)?.into(),
                );
            }
            if let Some(v) = api.max_concurrency {
                a.max_concurrency = int_in(o, "api", "max_concurrency", v, 1, 32)?;
            }
            if let Some(p) = api.page_size {
                if let Some(v) = p.devices {
                    a.page_size.devices = int_in(o, "api", "page_size.devices", v, 1, 2000)?;
                }
                if let Some(v) = p.subscriptions {
                    a.page_size.subscriptions =
                        int_in(o, "api", "page_size.subscriptions", v, 1, 200)?;
                }
            }
            if let Some(r) = api.rate_limits {
                let rl = &mut a.rate_limits;
                let f = |key: &str, v: i64| int_in(o, "api", key, v, 1, 100_000);
                if let Some(v) = r.devices_get {
                    rl.devices_get = f("rate_limits.devices_get", v)?;
                }
                if let Some(v) = r.subscriptions_get {
                    rl.subscriptions_get = f("rate_limits.subscriptions_get", v)?;
                }
                if let Some(v) = r.devices_patch {
                    rl.devices_patch = f("rate_limits.devices_patch", v)?;
                }
                if let Some(v) = r.devices_post {
                    rl.devices_post = f("rate_limits.devices_post", v)?;
                }
                if let Some(v) = r.async_operations_get {
                    rl.async_operations_get = f("rate_limits.async_operations_get", v)?;
                }
                if let Some(v) = r.service_catalog_get {
                    rl.service_catalog_get = f("rate_limits.service_catalog_get", v)?;
                }
            }
            if let Some(r) = api.retry {
                if let Some(v) = r.max_attempts {
                    a.retry.max_attempts = int_in(o, "api", "retry.max_attempts", v, 1, 20)?;
                }
                if let Some(v) = r.base_delay_ms {
                    a.retry.base_delay = Duration::from_millis(
                        int_in(o, "api", "retry.base_delay_ms", v, 1, 60_000)?.into(),
                    );
                }
                if let Some(v) = r.max_delay_secs {
                    a.retry.max_delay = Duration::from_secs(
                        int_in(o, "api", "retry.max_delay_secs", v, 1, 3600)?.into(),
                    );
                }
                if let Some(v) = r.max_total_secs {
                    a.retry.max_total = Duration::from_secs(
                        int_in(o, "api", "retry.max_total_secs", v, 1, 86_400)?.into(),
                    );
                }
            }
            if let Some(b) = api.breaker {
                if let Some(v) = b.failure_threshold {
                    a.breaker.failure_threshold =
                        int_in(o, "api", "breaker.failure_threshold", v, 1, 1000)?;
                }
                if let Some(v) = b.cooldown_secs {
                    a.breaker.cooldown = Duration::from_secs(
                        int_in(o, "api", "breaker.cooldown_secs", v, 1, 3600)?.into(),
                    );
                }
                if let Some(v) = b.success_threshold {
                    a.breaker.success_threshold =
                        int_in(o, "api", "breaker.success_threshold", v, 1, 100)?;
                }
            }
        }
        if let Some(db) = raw.database {
            if let Some(v) = db.url {
                self.database.url = db_url(o, &v)?;
            }
            if let Some(v) = db.pool_size {
                self.database.pool_size = int_in(o, "database", "pool_size", v, 1, 64)?;
            }
        }
        if let Some(s) = raw.sync {
            if let Some(v) = s.full_every_runs {
                self.sync.full_every_runs = int_in(o, "sync", "full_every_runs", v, 1, 10_000)?;
            }
            if let Some(v) = s.full_every_hours {
                self.sync.full_every = Duration::from_secs(
                    u64::from(int_in(o, "sync", "full_every_hours", v, 1, 24 * 365)?) * 3600,
                );
            }
            if let Some(v) = s.incremental_skew_secs {
                self.sync.incremental_skew = Duration::from_secs(
                    int_in(o, "sync", "incremental_skew_secs", v, 0, 86_400)?.into(),
                );
            }
            if let Some(v) = s.stale_after_minutes {
                self.sync.stale_after = Duration::from_secs(
                    u64::from(int_in(o, "sync", "stale_after_minutes", v, 1, 525_600)?) * 60,
                );
            }
            if let Some(v) = &s.patience {
                self.sync.patience = duration_in(o, "sync", "patience", v, 0, 86_400)?;
            }
        }
        if let Some(u) = raw.ui {
            if let Some(v) = u.expiring_days {
                self.ui.expiring_days = int_in(o, "ui", "expiring_days", v, 1, 3650)?;
            }
            if let Some(v) = u.theme {
                let t = v.trim().to_ascii_lowercase();
                if !["default", "mono"].contains(&t.as_str()) {
                    return Err(invalid(
                        o.name("ui", "theme"),
                        format!("{v:?}"),
                        "must be \"default\" or \"mono\" (colours can be changed in [ui.colors])",
                    ));
                }
                self.ui.theme = t;
            }
            // Merged: the file is applied one key at a time (see `apply_file_text_all`).
            if let Some(v) = u.colors {
                self.ui.colors.extend(v);
            }
            if let Some(v) = u.keys {
                self.ui.keys.extend(v);
            }
            if let Some(v) = u.mouse {
                self.ui.mouse = v;
            }
        }
        if let Some(l) = raw.log {
            if let Some(v) = l.level {
                self.log.level = log_level(o, &v)?;
            }
            if let Some(v) = l.dir {
                let d = nonempty(o, "log", "dir", &v)?;
                self.log.dir = Some(expand_home(&d));
            }
        }
        Ok(())
    }

    /// The environment layer; every bad variable is reported.
    fn apply_env_all(&mut self, env: &BTreeMap<String, String>) -> Vec<ConfigError> {
        let get = |k: &str| env.get(k).filter(|v| !v.trim().is_empty()).cloned();
        // GLP_CLIENT_SECRET overrides whatever source the file named.
        if let Some(s) = get("GLP_CLIENT_SECRET") {
            self.api.client_secret = SecretSource::Inline(Secret::new(s.trim().to_string()));
        }
        let api = |a: RawApi| RawFile {
            api: Some(a),
            ..Default::default()
        };
        let layers = [
            api(RawApi {
                base_url: get("GLP_BASE_URL"),
                ..Default::default()
            }),
            api(RawApi {
                token_url: get("GLP_TOKEN_URL"),
                ..Default::default()
            }),
            api(RawApi {
                client_id: get("GLP_CLIENT_ID"),
                ..Default::default()
            }),
            RawFile {
                database: Some(RawDatabase {
                    url: get("DATABASE_URL"),
                    pool_size: None,
                }),
                ..Default::default()
            },
        ];
        let mut problems = Vec::new();
        for raw in layers {
            if let Err(e) = self.apply_raw(raw, &Origin::Env) {
                problems.push(e);
            }
        }
        if let Some(v) = get("RUST_LOG") {
            match log_level(&Origin::Env, &v) {
                Ok(l) => self.log.level = l,
                Err(e) => problems.push(e),
            }
        }
        problems
    }

    /// Apply command-line flags (the last layer).
    pub fn apply_flags(&mut self, f: &FlagOverrides) -> Result<(), ConfigError> {
        match ConfigError::from_problems(self.apply_flags_all(f)) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The flag layer; every bad flag is reported.
    fn apply_flags_all(&mut self, f: &FlagOverrides) -> Vec<ConfigError> {
        let api = |a: RawApi| RawFile {
            api: Some(a),
            ..Default::default()
        };
        let layers = [
            api(RawApi {
                base_url: f.base_url.clone(),
                ..Default::default()
            }),
            api(RawApi {
                token_url: f.token_url.clone(),
                ..Default::default()
            }),
            api(RawApi {
                client_id: f.client_id.clone(),
                ..Default::default()
            }),
            RawFile {
                database: Some(RawDatabase {
                    url: f.database_url.clone(),
                    pool_size: None,
                }),
                ..Default::default()
            },
            RawFile {
                log: Some(RawLog {
                    level: f.log_level.clone(),
                    dir: None,
                }),
                ..Default::default()
            },
            RawFile {
                log: Some(RawLog {
                    level: None,
                    dir: f.log_dir.as_ref().map(|p| p.display().to_string()),
                }),
                ..Default::default()
            },
        ];
        let mut problems = Vec::new();
        for raw in layers {
            if let Err(e) = self.apply_raw(raw, &Origin::Flag) {
                problems.push(e);
            }
        }
        problems
    }

    /// Warn when a file that holds a secret can be read by other users.
    fn check_permissions(&mut self, path: &Path) {
        let holds_secret = matches!(self.api.client_secret, SecretSource::Inline(_))
            || url_has_password(&self.database.url);
        if !holds_secret {
            return;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if let Ok(meta) = std::fs::metadata(path) {
                let mode = meta.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    self.warnings.push(format!(
                        "{}: holds a secret but is readable by other users (mode {:o}); run \
                         `chmod 600 {}` or move the secret to client_secret_command",
                        path.display(),
                        mode,
                        path.display()
                    ));
                }
            }
        }
    }

    /// Fail early when something a command needs is missing.
    pub fn require_api_credentials(&self) -> Result<(), ConfigError> {
        if self.api.client_id.is_empty() {
            return Err(ConfigError::Missing(
                "no API client id: set GLP_CLIENT_ID or [api] client_id in config.toml \
                 (`glp-console config path` shows where that file lives)"
                    .into(),
            ));
        }
        if self.api.client_secret == SecretSource::None {
            return SecretSource::None.resolve().map(|_| ());
        }
        Ok(())
    }

    /// The effective configuration as TOML, secrets masked — what `config check` prints.
    pub fn render_masked(&self) -> String {
        let a = &self.api;
        let mut s = String::new();
        let q = |v: &str| format!("{v:?}");
        s.push_str("[api]\n");
        s.push_str(&format!("base_url = {}\n", q(&a.base_url)));
        s.push_str(&format!("token_url = {}\n", q(&a.token_url)));
        s.push_str(&format!("client_id = {}\n", q(&a.client_id)));
        s.push_str(&format!(
            "# client secret: {}\n",
            a.client_secret.describe()
        ));
        s.push_str(&format!("timeout_secs = {}\n", a.timeout.as_secs()));
        s.push_str(&format!(
            "connect_timeout_secs = {}\n",
            a.connect_timeout.as_secs()
        ));
        s.push_str(&format!("max_concurrency = {}\n", a.max_concurrency));
        s.push_str(&format!(
            "page_size = {{ devices = {}, subscriptions = {} }}\n",
            a.page_size.devices, a.page_size.subscriptions
        ));
        let r = &a.rate_limits;
        s.push_str(&format!(
            "rate_limits = {{ devices_get = {}, subscriptions_get = {}, devices_patch = {}, \
             devices_post = {}, async_operations_get = {}, service_catalog_get = {} }}\n",
            r.devices_get,
            r.subscriptions_get,
            r.devices_patch,
            r.devices_post,
            r.async_operations_get,
            r.service_catalog_get
        ));
        s.push_str(&format!(
            "retry = {{ max_attempts = {}, base_delay_ms = {}, max_delay_secs = {}, \
             max_total_secs = {} }}\n",
            a.retry.max_attempts,
            a.retry.base_delay.as_millis(),
            a.retry.max_delay.as_secs(),
            a.retry.max_total.as_secs()
        ));
        s.push_str(&format!(
            "breaker = {{ failure_threshold = {}, cooldown_secs = {}, success_threshold = {} }}\n",
            a.breaker.failure_threshold,
            a.breaker.cooldown.as_secs(),
            a.breaker.success_threshold
        ));
        s.push_str("\n[database]\n");
        s.push_str(&format!("url = {}\n", q(&mask_url(&self.database.url))));
        s.push_str(&format!("pool_size = {}\n", self.database.pool_size));
        s.push_str("\n[sync]\n");
        s.push_str(&format!(
            "full_every_runs = {}\n",
            self.sync.full_every_runs
        ));
        s.push_str(&format!(
            "full_every_hours = {}\n",
            self.sync.full_every.as_secs() / 3600
        ));
        s.push_str(&format!(
            "incremental_skew_secs = {}\n",
            self.sync.incremental_skew.as_secs()
        ));
        s.push_str(&format!(
            "stale_after_minutes = {}\n",
            self.sync.stale_after.as_secs() / 60
        ));
        s.push_str(&format!(
            "patience = {}\n",
            q(&format_duration(self.sync.patience))
        ));
        s.push_str("\n[ui]\n");
        s.push_str(&format!("expiring_days = {}\n", self.ui.expiring_days));
        s.push_str(&format!("theme = {}\n", q(&self.ui.theme)));
        s.push_str(&format!("mouse = {}\n", self.ui.mouse));
        if !self.ui.colors.is_empty() {
            s.push_str("[ui.colors]\n");
            for (k, v) in &self.ui.colors {
                s.push_str(&format!("{k} = {}\n", q(v)));
            }
        }
        if !self.ui.keys.is_empty() {
            s.push_str("[ui.keys]\n");
            for (k, v) in &self.ui.keys {
                s.push_str(&format!("{k} = {}\n", q(v)));
            }
        }
        s.push_str("\n[log]\n");
        s.push_str(&format!("level = {}\n", q(&self.log.level)));
        s.push_str(&format!(
            "dir = {}\n",
            q(&self.log_dir().display().to_string())
        ));
        s
    }
}

fn expand_home(p: &str) -> PathBuf {
    if let Some(rest) = p.strip_prefix("~/")
        && let Some(home) = directories::BaseDirs::new()
    {
        return home.home_dir().join(rest);
    }
    PathBuf::from(p)
}

fn url_has_password(url: &str) -> bool {
    mask_url(url) != url
}

/// Replace the password in `scheme://user:password@host…` with `****`, so a database URL can
/// be shown in messages and logs.
pub fn mask_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..auth_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_string();
    };
    let userinfo = &authority[..at];
    match userinfo.find(':') {
        Some(colon) => format!(
            "{}://{}:****@{}",
            &url[..scheme_end],
            &userinfo[..colon],
            &rest[at + 1..]
        ),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "Secret(****) ****");
        let src = SecretSource::Inline(s);
        assert!(!format!("{src:?}").contains("hunter2"));
    }

    #[test]
    fn mask_url_hides_password_only() {
        assert_eq!(
            mask_url("postgres://u:pw@h:5432/db?x=1"),
            "postgres://u:****@h:5432/db?x=1"
        );
        assert_eq!(mask_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(mask_url("postgres://h/db"), "postgres://h/db");
    }
}
