//! The command-line layer, the last one.

use std::path::PathBuf;

use super::error::ConfigError;
use super::raw::{RawApi, RawDatabase, RawFile, RawLog};
use super::settings::Config;
use super::validate::Origin;

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

impl Config {
    /// Apply command-line flags (the last layer).
    pub fn apply_flags(&mut self, f: &FlagOverrides) -> Result<(), ConfigError> {
        match ConfigError::from_problems(self.apply_flags_all(f)) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The flag layer; every bad flag is reported.
    pub(super) fn apply_flags_all(&mut self, f: &FlagOverrides) -> Vec<ConfigError> {
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
        self.refresh_workspaces();
        problems
    }
}
