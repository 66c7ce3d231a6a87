//! Where the configuration, the logs and the reports live.

use std::path::PathBuf;

use super::settings::Config;

/// Name of the config file inside the config directory.
pub const CONFIG_FILE_NAME: &str = "config.toml";

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

    /// Where the console keeps what it learns between sessions (saved views): the platform
    /// state directory (`$XDG_STATE_HOME/glp-console`, `~/.local/state/glp-console` on
    /// Linux), the data directory where the platform has none.
    pub fn state_dir(&self) -> PathBuf {
        directories::ProjectDirs::from("", "", "glp-console")
            .map(|d| {
                d.state_dir()
                    .unwrap_or_else(|| d.data_local_dir())
                    .to_path_buf()
            })
            .unwrap_or_else(|| std::env::temp_dir().join("glp-console-state"))
    }

    pub fn log_dir(&self) -> PathBuf {
        self.log.dir.clone().unwrap_or_else(Self::default_log_dir)
    }
}

pub(super) fn expand_home(p: &str) -> PathBuf {
    if let Some(rest) = p.strip_prefix("~/")
        && let Some(home) = directories::BaseDirs::new()
    {
        return home.home_dir().join(rest);
    }
    PathBuf::from(p)
}
