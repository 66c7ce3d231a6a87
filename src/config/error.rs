//! What goes wrong with a configuration, each problem naming the place to fix.

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
