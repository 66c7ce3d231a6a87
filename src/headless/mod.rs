//! The non-interactive commands: no raw mode, no alternate screen; plain or `--json` output
//! on stdout, problems on stderr, and the exit codes of [`crate::cli::exit`].

pub mod assign;
pub mod changes;
pub mod export;
pub mod metrics;
pub mod report;
pub mod reports;
pub mod status;
pub mod stdout;
pub mod sync_fleet;
pub mod sync_only;
pub mod workspaces;

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

/// What `config check` found: the text to print and how many problems it lists.
pub struct ConfigReport {
    pub text: String,
    /// Every problem, also told on stderr so a redirected stdout does not hide them.
    pub problems: Vec<String>,
}

/// Every problem in the configuration, one line each: the values that failed to load
/// (`load_problems`, all of them, see [`Config::load_all`]), then what the console itself
/// would warn about at start — `[ui.keys]` (unknown actions, unparsable keys, conflicts) through
/// the console's own keymap code so the two can never disagree, and `[ui.colors]` through its
/// theme code — then the credentials: the secret source is resolved (e.g. the command is run)
/// so a broken one is caught here, though only its length is shown.
pub fn config_problems(cfg: &Config, load_problems: Vec<ConfigError>) -> Vec<String> {
    fn flatten(e: ConfigError, out: &mut Vec<String>) {
        match e {
            ConfigError::Several(list) => list.into_iter().for_each(|e| flatten(e, out)),
            other => out.push(other.to_string()),
        }
    }
    let mut problems = Vec::new();
    for e in load_problems {
        flatten(e, &mut problems);
    }
    let file = cfg
        .source_file
        .as_ref()
        .map(|p| format!("{}: ", p.display()))
        .unwrap_or_default();
    // Checked as a writing console: a read-only one merely skips some of these bindings.
    let (_, key_warnings) = crate::tui::keys::Keymap::new(&cfg.ui.keys, false);
    let (_, colour_warnings) =
        crate::tui::theme::Theme::from_config(&cfg.ui.theme, &cfg.ui.colors, false);
    problems.extend(
        key_warnings
            .into_iter()
            .chain(colour_warnings)
            .map(|w| format!("{file}{w}")),
    );
    problems.extend(cfg.credential_problems());
    problems
}

/// `glp-console config check`: every problem (see [`config_problems`]), then the effective
/// configuration, secrets masked. The caller exits 2 when a problem is listed.
pub fn config_check(cfg: &Config, load_problems: Vec<ConfigError>, json: bool) -> ConfigReport {
    let problems = config_problems(cfg, load_problems);
    let secret_len = cfg
        .api
        .client_secret
        .resolve()
        .ok()
        .map(|s| s.expose().chars().count());
    if json {
        let v = serde_json::json!({
            "ok": problems.is_empty(),
            "problems": problems,
            "file": cfg.source_file.as_ref().map(|p| p.display().to_string()),
            "warnings": cfg.warnings,
            "api": {
                "base_url": cfg.api.base_url,
                "token_url": cfg.api.token_url,
                "client_id": cfg.api.client_id,
                "client_secret": cfg.api.client_secret.describe(),
                "client_secret_ok": secret_len.is_some(),
            },
            "workspaces": cfg.workspaces_json(),
            "database": { "url": mask_url(&cfg.database.url), "pool_size": cfg.database.pool_size },
            "sync": { "patience_secs": cfg.sync.patience.as_secs() },
            "log": { "level": cfg.log.level, "dir": cfg.log_dir().display().to_string() },
        });
        return ConfigReport {
            text: format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default()),
            problems: problems.clone(),
        };
    }
    let mut out = String::new();
    match &cfg.source_file {
        Some(p) => out.push_str(&format!("# read {}\n", p.display())),
        None => out.push_str("# no config file; defaults, environment and flags only\n"),
    }
    for w in &cfg.warnings {
        out.push_str(&format!("# warning: {w}\n"));
    }
    for p in &problems {
        for (i, line) in p.lines().enumerate() {
            let lead = if i == 0 { "# problem: " } else { "#   " };
            out.push_str(&format!("{lead}{line}\n"));
        }
    }
    match (problems.len(), secret_len) {
        (0, Some(n)) => out.push_str(&format!(
            "# no problems; client secret resolved ({n} characters)\n"
        )),
        (n, Some(len)) => out.push_str(&format!(
            "# {n} problem(s); client secret resolved ({len} characters)\n"
        )),
        (0, None) => out.push_str("# no problems\n"),
        (n, None) => out.push_str(&format!("# {n} problem(s)\n")),
    }
    out.push_str(&cfg.render_masked());
    ConfigReport {
        text: out,
        problems: problems.clone(),
    }
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
