//! Configuration: defaults < file < environment < command-line flags.
//!
//! Every value is validated where it enters, so an error can name the exact place the user
//! must fix (`config.toml: [api] page_size.subscriptions = 500: must be 1..=200`,
//! `environment GLP_BASE_URL = "x": …`, `--database-url …`). Secrets are held in [`Secret`],
//! whose `Debug`/`Display` never print the value, and are resolved lazily (inline, from a
//! named environment variable, or from a command such as `pass show glp`).
//!
//! The parts: `settings` is the effective configuration and its defaults; `raw` the
//! layers as read, every field optional; `validate` checks one value where it enters;
//! `layer` applies one raw layer, and `file`, `env` and `flags` build the layers; `load`
//! stacks them; `secret`, `duration`, `paths` and `render` are the values' own helpers.
//! `workspace` holds the workspace types, `workspaces` derives the effective ones (several,
//! an MSP, or the legacy `[api]` client as the one named "default") and `workspaces_file`
//! reads their tables.

mod duration;
mod env;
mod error;
mod file;
mod flags;
mod layer;
mod load;
mod paths;
mod raw;
mod render;
mod secret;
mod settings;
mod validate;
mod workspace;
mod workspaces;
mod workspaces_file;

pub use duration::format_duration;
pub use error::ConfigError;
pub use flags::FlagOverrides;
pub use paths::CONFIG_FILE_NAME;
pub use secret::{Secret, SecretSource, mask_url};
pub use settings::{
    ApiConfig, BreakerConfig, Config, DatabaseConfig, LogConfig, PageSizes, RateLimits,
    RetryConfig, SyncConfig, UiConfig,
};
pub use workspace::{MspConfig, RateLimitScope, WorkspaceConfig, workspace_token_url};
