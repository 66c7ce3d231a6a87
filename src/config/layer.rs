//! One raw layer (a file key, an environment variable, a flag) checked and applied.
//!
//! Values are applied in the order they are checked and the first bad one stops the layer;
//! the file is applied one key at a time (see `file`), so that stops only that key.

use std::time::Duration;

use super::error::ConfigError;
use super::paths::expand_home;
use super::raw::{
    RawApi, RawBreaker, RawDatabase, RawFile, RawLog, RawPageSize, RawRateLimits, RawRetry,
    RawSync, RawUi,
};
use super::secret::{Secret, SecretSource};
use super::settings::{ApiConfig, Config};
use super::validate::{
    Origin, db_url, duration_in, http_url, int_in, invalid, log_level, nonempty, workspace_id,
};
use super::workspace::RateLimitScope;

impl Config {
    pub(super) fn apply_raw(&mut self, raw: RawFile, o: &Origin) -> Result<(), ConfigError> {
        if let Some(api) = raw.api {
            apply_api(&mut self.api, api, o)?;
        }
        if let Some(db) = raw.database {
            self.apply_database(db, o)?;
        }
        if let Some(s) = raw.sync {
            self.apply_sync(&s, o)?;
        }
        if let Some(u) = raw.ui {
            self.apply_ui(u, o)?;
        }
        if let Some(l) = raw.log {
            self.apply_log(l, o)?;
        }
        Ok(())
    }

    fn apply_database(&mut self, db: RawDatabase, o: &Origin) -> Result<(), ConfigError> {
        if let Some(v) = db.url {
            self.database.url = db_url(o, &v)?;
        }
        if let Some(v) = db.pool_size {
            self.database.pool_size = int_in(o, "database", "pool_size", v, 1, 64)?;
        }
        Ok(())
    }

    fn apply_sync(&mut self, s: &RawSync, o: &Origin) -> Result<(), ConfigError> {
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
        if let Some(v) = s.history_retention_days {
            self.sync.history_retention_days =
                int_in(o, "sync", "history_retention_days", v, 1, 36_500)?;
        }
        if let Some(v) = s.workspace_concurrency {
            self.sync.workspace_concurrency = int_in(o, "sync", "workspace_concurrency", v, 1, 64)?;
        }
        if let Some(v) = &s.rate_limit_scope {
            self.sync.rate_limit_scope = RateLimitScope::parse(v).ok_or_else(|| {
                invalid(
                    o.name("sync", "rate_limit_scope"),
                    format!("{v:?}"),
                    "must be \"workspace\" (one budget per workspace) or \"client\" (one per \
                     API client, shared by the workspaces it serves)",
                )
            })?;
        }
        Ok(())
    }

    fn apply_ui(&mut self, u: RawUi, o: &Origin) -> Result<(), ConfigError> {
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
        Ok(())
    }

    fn apply_log(&mut self, l: RawLog, o: &Origin) -> Result<(), ConfigError> {
        if let Some(v) = l.level {
            self.log.level = log_level(o, &v)?;
        }
        if let Some(v) = l.dir {
            let d = nonempty(o, "log", "dir", &v)?;
            self.log.dir = Some(expand_home(&d));
        }
        Ok(())
    }
}

fn apply_api(a: &mut ApiConfig, api: RawApi, o: &Origin) -> Result<(), ConfigError> {
    if let Some(v) = api.base_url {
        a.base_url = http_url(o, "api", "base_url", &v)?;
    }
    if let Some(v) = api.token_url {
        a.token_url = http_url(o, "api", "token_url", &v)?;
    }
    if let Some(v) = api.client_id {
        a.client_id = nonempty(o, "api", "client_id", &v)?;
    }
    if let Some(v) = api.workspace_id {
        a.workspace_id = Some(workspace_id(o, "api", "workspace_id", &v)?);
    }
    if let Some(s) = secret_source(
        api.client_secret,
        api.client_secret_env,
        api.client_secret_command,
        o,
        "api",
    )? {
        a.client_secret = s;
    }
    if let Some(v) = api.timeout_secs {
        a.timeout = Duration::from_secs(int_in(o, "api", "timeout_secs", v, 1, 600)?.into());
    }
    if let Some(v) = api.connect_timeout_secs {
        a.connect_timeout =
            Duration::from_secs(int_in(o, "api", "connect_timeout_secs", v, 1, 120)?.into());
    }
    if let Some(v) = api.max_concurrency {
        a.max_concurrency = int_in(o, "api", "max_concurrency", v, 1, 32)?;
    }
    if let Some(p) = api.page_size {
        apply_page_size(a, &p, o)?;
    }
    if let Some(r) = api.rate_limits {
        apply_rate_limits(a, &r, o)?;
    }
    if let Some(r) = api.retry {
        apply_retry(a, &r, o)?;
    }
    if let Some(b) = api.breaker {
        apply_breaker(a, &b, o)?;
    }
    Ok(())
}

/// The client secret's source: at most one of the three keys (`None` when none is given).
/// `section` names the keys in messages, as [`Origin::name`] does.
pub(super) fn secret_source(
    inline: Option<String>,
    env: Option<String>,
    command: Option<String>,
    o: &Origin,
    section: &str,
) -> Result<Option<SecretSource>, ConfigError> {
    let given = [inline.is_some(), env.is_some(), command.is_some()];
    if given.iter().filter(|b| **b).count() > 1 {
        return Err(invalid(
            o.name(section, "client_secret*"),
            "several",
            "set only one of client_secret, client_secret_env, client_secret_command",
        ));
    }
    if let Some(v) = inline {
        let s = nonempty(o, section, "client_secret", &v)?;
        return Ok(Some(SecretSource::Inline(Secret::new(s))));
    }
    if let Some(v) = env {
        let name = nonempty(o, section, "client_secret_env", &v)?;
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(invalid(
                o.name(section, "client_secret_env"),
                format!("{name:?}"),
                "must be the NAME of an environment variable (letters, digits, _), \
                 not its value",
            ));
        }
        return Ok(Some(SecretSource::Env(name)));
    }
    if let Some(v) = command {
        let c = nonempty(o, section, "client_secret_command", &v)?;
        return Ok(Some(SecretSource::Command(c)));
    }
    Ok(None)
}

fn apply_page_size(a: &mut ApiConfig, p: &RawPageSize, o: &Origin) -> Result<(), ConfigError> {
    if let Some(v) = p.devices {
        a.page_size.devices = int_in(o, "api", "page_size.devices", v, 1, 2000)?;
    }
    if let Some(v) = p.subscriptions {
        a.page_size.subscriptions = int_in(o, "api", "page_size.subscriptions", v, 1, 200)?;
    }
    Ok(())
}

fn apply_rate_limits(a: &mut ApiConfig, r: &RawRateLimits, o: &Origin) -> Result<(), ConfigError> {
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
    Ok(())
}

fn apply_retry(a: &mut ApiConfig, r: &RawRetry, o: &Origin) -> Result<(), ConfigError> {
    if let Some(v) = r.max_attempts {
        a.retry.max_attempts = int_in(o, "api", "retry.max_attempts", v, 1, 20)?;
    }
    if let Some(v) = r.base_delay_ms {
        a.retry.base_delay =
            Duration::from_millis(int_in(o, "api", "retry.base_delay_ms", v, 1, 60_000)?.into());
    }
    if let Some(v) = r.max_delay_secs {
        a.retry.max_delay =
            Duration::from_secs(int_in(o, "api", "retry.max_delay_secs", v, 1, 3600)?.into());
    }
    if let Some(v) = r.max_total_secs {
        a.retry.max_total =
            Duration::from_secs(int_in(o, "api", "retry.max_total_secs", v, 1, 86_400)?.into());
    }
    Ok(())
}

fn apply_breaker(a: &mut ApiConfig, b: &RawBreaker, o: &Origin) -> Result<(), ConfigError> {
    if let Some(v) = b.failure_threshold {
        a.breaker.failure_threshold = int_in(o, "api", "breaker.failure_threshold", v, 1, 1000)?;
    }
    if let Some(v) = b.cooldown_secs {
        a.breaker.cooldown =
            Duration::from_secs(int_in(o, "api", "breaker.cooldown_secs", v, 1, 3600)?.into());
    }
    if let Some(v) = b.success_threshold {
        a.breaker.success_threshold = int_in(o, "api", "breaker.success_threshold", v, 1, 100)?;
    }
    Ok(())
}
