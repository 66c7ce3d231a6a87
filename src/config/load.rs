//! Loading the layers in order — defaults < file < environment < flags — and checking that
//! what a command needs is there.

use std::collections::BTreeMap;
use std::path::Path;

use super::error::ConfigError;
use super::flags::FlagOverrides;
use super::secret::SecretSource;
use super::settings::Config;

impl Config {
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
        cfg.refresh_workspaces();
        cfg.warn_unused_legacy_client();
        (cfg, problems)
    }

    /// Fail early when something a command needs is missing: the `[api]` client's id and
    /// secret source, or — with declared workspaces, which loading has checked already —
    /// every workspace's.
    pub fn require_api_credentials(&self) -> Result<(), ConfigError> {
        if self.declares_workspaces() {
            let missing: Vec<ConfigError> = self
                .clients()
                .filter(|w| w.client_id.is_empty() || w.client_secret == SecretSource::None)
                .map(|w| {
                    ConfigError::Missing(format!(
                        "{}: no API client id or secret: set client_id and one of \
                         client_secret, client_secret_env, client_secret_command",
                        w.label()
                    ))
                })
                .collect();
            return ConfigError::from_problems(missing).map_or(Ok(()), Err);
        }
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
}
