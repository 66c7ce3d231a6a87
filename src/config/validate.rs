//! Checking one value where it enters, so an error names the exact key, variable or flag
//! it came from and what is expected there.

use std::fmt;
use std::time::Duration;

use super::duration::parse_duration_secs;
use super::error::ConfigError;
use super::raw::RawDuration;
use super::secret::mask_url;
use crate::domain::WorkspaceId;

/// How a layer names a key in its messages.
pub(super) enum Origin<'a> {
    File(&'a str),
    /// One table of an array or a section read as a whole (`workspaces[2]`, `[msp]`): its
    /// label replaces the section in messages.
    Table {
        path: &'a str,
        table: &'a str,
    },
    Env,
    Flag,
}

impl Origin<'_> {
    pub(super) fn name(&self, section: &str, key: &str) -> String {
        match self {
            Origin::File(path) => format!("{path}: [{section}] {key}"),
            Origin::Table { path, table } => format!("{path}: {table} {key}"),
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

pub(super) fn invalid(
    origin: String,
    value: impl fmt::Display,
    expected: impl Into<String>,
) -> ConfigError {
    ConfigError::Invalid {
        origin,
        value: value.to_string(),
        expected: expected.into(),
    }
}

pub(super) fn int_in(
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

pub(super) fn http_url(
    o: &Origin,
    section: &str,
    key: &str,
    v: &str,
) -> Result<String, ConfigError> {
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

pub(super) fn db_url(o: &Origin, v: &str) -> Result<String, ConfigError> {
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

pub(super) fn log_level(o: &Origin, v: &str) -> Result<String, ConfigError> {
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

pub(super) fn nonempty(
    o: &Origin,
    section: &str,
    key: &str,
    v: &str,
) -> Result<String, ConfigError> {
    let t = v.trim();
    if t.is_empty() {
        return Err(invalid(o.name(section, key), "\"\"", "must not be empty"));
    }
    Ok(t.to_string())
}

/// Seconds of a [`RawDuration`] in `lo..=hi`, or an error naming the key and the forms.
pub(super) fn duration_in(
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

/// A workspace id, dashed or dashless, normalised (see [`WorkspaceId`]).
pub(super) fn workspace_id(
    o: &Origin,
    section: &str,
    key: &str,
    v: &str,
) -> Result<WorkspaceId, ConfigError> {
    WorkspaceId::parse(v).ok_or_else(|| {
        invalid(
            o.name(section, key),
            format!("{v:?}"),
            "must be a workspace id, dashed or not (e.g. 131846d4-3af1-11f0-8e4e-be50c5e8c005: \
             GreenLake shows it under Manage Workspace)",
        )
    })
}
