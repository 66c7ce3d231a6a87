//! The environment layer.

use std::collections::BTreeMap;

use super::error::ConfigError;
use super::raw::{RawApi, RawDatabase, RawFile};
use super::secret::{Secret, SecretSource};
use super::settings::Config;
use super::validate::{Origin, log_level};

impl Config {
    /// The environment layer; every bad variable is reported.
    pub(super) fn apply_env_all(&mut self, env: &BTreeMap<String, String>) -> Vec<ConfigError> {
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
        self.refresh_workspaces();
        problems
    }
}
