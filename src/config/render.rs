//! The effective configuration printed back, secrets masked.

use super::duration::format_duration;
use super::secret::mask_url;
use super::settings::Config;
use super::workspace::WorkspaceConfig;

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
        if let Some(id) = &a.workspace_id {
            s.push_str(&format!("workspace_id = {}\n", q(id.as_str())));
        }
        s.push_str(&format!(
            "# client secret: {}\n",
            one_line(&a.client_secret.describe())
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
        self.render_workspaces(&mut s);
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
        s.push_str(&format!(
            "workspace_concurrency = {}\n",
            self.sync.workspace_concurrency
        ));
        s.push_str(&format!(
            "rate_limit_scope = {}\n",
            q(self.sync.rate_limit_scope.as_str())
        ));
        s.push_str(&format!(
            "history_retention_days = {}\n",
            self.sync.history_retention_days
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

    /// The workspaces: the legacy one as a comment under `[api]`, declared ones as their
    /// tables, each with its kind, effective token URL and secret source (never the secret).
    fn render_workspaces(&self, s: &mut String) {
        if !self.declares_workspaces() {
            if let Some(w) = self.workspaces.first() {
                s.push_str(&format!(
                    "# one workspace, {:?} (id {}), with this [api] client\n",
                    w.name, w.id
                ));
            }
            return;
        }
        for w in &self.workspaces {
            s.push_str("\n[[workspaces]]\n");
            render_workspace(s, w);
        }
        if let Some(m) = &self.msp {
            s.push_str("\n[msp]\n");
            render_workspace(s, &m.workspace);
            let list = |l: &[String]| {
                let items: Vec<String> = l.iter().map(|e| format!("{e:?}")).collect();
                format!("[{}]", items.join(", "))
            };
            s.push_str(&format!("include = {}\n", list(&m.include)));
            if m.include.is_empty() {
                s.push_str("# include is empty: every tenant the MSP lists, up to max_tenants\n");
            }
            s.push_str(&format!("exclude = {}\n", list(&m.exclude)));
            s.push_str(&format!("max_tenants = {}\n", m.max_tenants));
        }
    }

    /// The workspaces for `config check --json`, secrets masked.
    pub fn workspaces_json(&self) -> serde_json::Value {
        let one = |w: &WorkspaceConfig| {
            serde_json::json!({
                "name": w.name,
                "id": w.id.as_str(),
                "kind": w.kind.as_str(),
                "client_id": w.client_id,
                "client_secret": w.client_secret.describe(),
                "token_url": w.token_url,
                "legacy": w.legacy,
            })
        };
        serde_json::json!({
            "workspaces": self.workspaces.iter().map(one).collect::<Vec<_>>(),
            "msp": self.msp.as_ref().map(|m| serde_json::json!({
                "workspace": one(&m.workspace),
                "include": m.include,
                "exclude": m.exclude,
                "max_tenants": m.max_tenants,
            })),
            "workspace_concurrency": self.sync.workspace_concurrency,
            "rate_limit_scope": self.sync.rate_limit_scope.as_str(),
        })
    }
}

fn render_workspace(s: &mut String, w: &WorkspaceConfig) {
    let q = |v: &str| format!("{v:?}");
    s.push_str(&format!("name = {}\n", q(&w.name)));
    s.push_str(&format!("id = {}\n", q(&w.id.dashed())));
    s.push_str(&format!("# kind: {}\n", w.kind.as_str()));
    s.push_str(&format!("token_url = {}\n", q(&w.token_url)));
    s.push_str(&format!("client_id = {}\n", q(&w.client_id)));
    s.push_str(&format!(
        "# client secret: {}\n",
        one_line(&w.client_secret.describe())
    ));
}

/// A value on one comment line: a command written with a newline would end the comment.
fn one_line(v: &str) -> String {
    v.replace('\n', "\\n")
}
