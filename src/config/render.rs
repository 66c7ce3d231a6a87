//! The effective configuration printed back, secrets masked.

use super::duration::format_duration;
use super::secret::mask_url;
use super::settings::Config;

impl Config {
    /// The effective configuration as TOML, secrets masked — what `config check` prints.
    pub fn render_masked(&self) -> String {
        let a = &self.api;
        let mut s = String::new();
        let q = |v: &str| format!("{v:?}");
        s.push_str("[api]\n");
        s.push_str(&format!("base_url = {}\n", q(&a.base_url)));
        s.push_str(&format!("token_url = {}\n", q(&a.token_url)));
        s.push_str(&format!("client_id = {}\n", q(&a.client_id)));
        s.push_str(&format!(
            "# client secret: {}\n",
            a.client_secret.describe()
        ));
        s.push_str(&format!("timeout_secs = {}\n", a.timeout.as_secs()));
        s.push_str(&format!(
            "connect_timeout_secs = {}\n",
            a.connect_timeout.as_secs()
        ));
        s.push_str(&format!("max_concurrency = {}\n", a.max_concurrency));
        s.push_str(&format!(
            "page_size = {{ devices = {}, subscriptions = {} }}\n",
            a.page_size.devices, a.page_size.subscriptions
        ));
        let r = &a.rate_limits;
        s.push_str(&format!(
            "rate_limits = {{ devices_get = {}, subscriptions_get = {}, devices_patch = {}, \
             devices_post = {}, async_operations_get = {}, service_catalog_get = {} }}\n",
            r.devices_get,
            r.subscriptions_get,
            r.devices_patch,
            r.devices_post,
            r.async_operations_get,
            r.service_catalog_get
        ));
        s.push_str(&format!(
            "retry = {{ max_attempts = {}, base_delay_ms = {}, max_delay_secs = {}, \
             max_total_secs = {} }}\n",
            a.retry.max_attempts,
            a.retry.base_delay.as_millis(),
            a.retry.max_delay.as_secs(),
            a.retry.max_total.as_secs()
        ));
        s.push_str(&format!(
            "breaker = {{ failure_threshold = {}, cooldown_secs = {}, success_threshold = {} }}\n",
            a.breaker.failure_threshold,
            a.breaker.cooldown.as_secs(),
            a.breaker.success_threshold
        ));
        s.push_str("\n[database]\n");
        s.push_str(&format!("url = {}\n", q(&mask_url(&self.database.url))));
        s.push_str(&format!("pool_size = {}\n", self.database.pool_size));
        s.push_str("\n[sync]\n");
        s.push_str(&format!(
            "full_every_runs = {}\n",
            self.sync.full_every_runs
        ));
        s.push_str(&format!(
            "full_every_hours = {}\n",
            self.sync.full_every.as_secs() / 3600
        ));
        s.push_str(&format!(
            "incremental_skew_secs = {}\n",
            self.sync.incremental_skew.as_secs()
        ));
        s.push_str(&format!(
            "stale_after_minutes = {}\n",
            self.sync.stale_after.as_secs() / 60
        ));
        s.push_str(&format!(
            "patience = {}\n",
            q(&format_duration(self.sync.patience))
        ));
        s.push_str("\n[ui]\n");
        s.push_str(&format!("expiring_days = {}\n", self.ui.expiring_days));
        s.push_str(&format!("theme = {}\n", q(&self.ui.theme)));
        s.push_str(&format!("mouse = {}\n", self.ui.mouse));
        if !self.ui.colors.is_empty() {
            s.push_str("[ui.colors]\n");
            for (k, v) in &self.ui.colors {
                s.push_str(&format!("{k} = {}\n", q(v)));
            }
        }
        if !self.ui.keys.is_empty() {
            s.push_str("[ui.keys]\n");
            for (k, v) in &self.ui.keys {
                s.push_str(&format!("{k} = {}\n", q(v)));
            }
        }
        s.push_str("\n[log]\n");
        s.push_str(&format!("level = {}\n", q(&self.log.level)));
        s.push_str(&format!(
            "dir = {}\n",
            q(&self.log_dir().display().to_string())
        ));
        s
    }
}
