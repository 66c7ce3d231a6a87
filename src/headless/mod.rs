//! The non-interactive commands: no raw mode, no alternate screen; plain or `--json` output
//! on stdout, problems on stderr, and the exit codes of [`crate::cli::exit`].

pub mod assign;
pub mod reports;
pub mod sync_only;

use std::path::Path;

use crate::cli::exit;
use crate::config::{Config, ConfigError, mask_url};
use crate::store::Store;

/// An error with the exit code it should produce. The message is already user-facing.
#[derive(Debug)]
pub struct Failure {
    pub code: i32,
    pub message: String,
}

impl Failure {
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }
}

impl Failure {
    /// An exit code whose explanation was already printed.
    pub fn silent(code: i32) -> Self {
        Failure {
            code,
            message: String::new(),
        }
    }
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure::new(exit::CONFIG, e.to_string())
    }
}

impl From<crate::store::StoreError> for Failure {
    fn from(e: crate::store::StoreError) -> Self {
        Failure::new(exit::DATABASE, e.to_string())
    }
}

/// `glp-console config check`: validate and print the effective config, secrets masked.
/// The secret source is resolved (e.g. the command is run) so a broken one is caught here,
/// but only its length is shown.
pub fn config_check(cfg: &Config, json: bool) -> Result<String, Failure> {
    let secret = cfg.api.client_secret.resolve();
    if json {
        let v = serde_json::json!({
            "file": cfg.source_file.as_ref().map(|p| p.display().to_string()),
            "warnings": cfg.warnings,
            "api": {
                "base_url": cfg.api.base_url,
                "token_url": cfg.api.token_url,
                "client_id": cfg.api.client_id,
                "client_secret": cfg.api.client_secret.describe(),
                "client_secret_ok": secret.is_ok(),
            },
            "database": { "url": mask_url(&cfg.database.url), "pool_size": cfg.database.pool_size },
            "sync": { "patience_secs": cfg.sync.patience.as_secs() },
            "log": { "level": cfg.log.level, "dir": cfg.log_dir().display().to_string() },
        });
        return Ok(serde_json::to_string_pretty(&v).unwrap_or_default());
    }
    let mut out = String::new();
    match &cfg.source_file {
        Some(p) => out.push_str(&format!("# read {}\n", p.display())),
        None => out.push_str("# no config file; defaults, environment and flags only\n"),
    }
    for w in &cfg.warnings {
        out.push_str(&format!("# warning: {w}\n"));
    }
    match &secret {
        Ok(s) => out.push_str(&format!(
            "# client secret resolved ({} characters)\n",
            s.expose().chars().count()
        )),
        Err(e) => out.push_str(&format!("# problem: {e}\n")),
    }
    if cfg.api.client_id.is_empty() {
        out.push_str("# problem: no client id (GLP_CLIENT_ID or [api] client_id)\n");
    }
    out.push_str(&cfg.render_masked());
    Ok(out)
}

/// `glp-console config path`.
pub fn config_path(cfg: &Config) -> String {
    let file = cfg
        .source_file
        .clone()
        .or_else(Config::default_file)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "(no config directory on this platform)".into());
    let exists = |p: &str| {
        if Path::new(p).exists() {
            ""
        } else {
            " (not present)"
        }
    };
    format!(
        "config file: {file}{}\nlog directory: {}\ndatabase: {}\n",
        exists(&file),
        cfg.log_dir().display(),
        mask_url(&cfg.database.url)
    )
}

/// `glp-console db migrate`.
pub async fn db_migrate(cfg: &Config) -> Result<String, Failure> {
    let store = Store::connect(&cfg.database.url, 1).await?;
    let before = applied_count(&store).await;
    store.migrate().await?;
    let after = applied_count(&store).await;
    store.close().await;
    Ok(format!(
        "schema up to date at {} ({} migration(s) applied now)",
        mask_url(&cfg.database.url),
        after.saturating_sub(before)
    ))
}

async fn applied_count(store: &Store) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(store.pool())
        .await
        .unwrap_or(0)
}
