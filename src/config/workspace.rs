//! The types of several workspaces and MSP mode: one workspace's client, an MSP with its
//! tenant selection, the rate-limit scope, and what the file declared (see `workspaces` for
//! how the effective list is derived, `workspaces_file` for how the tables are read).

use super::error::ConfigError;
use super::secret::{Secret, SecretSource};
use crate::domain::{WorkspaceId, WorkspaceKind};

/// One workspace the engine syncs with its own API client and token.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkspaceConfig {
    /// Unique among the configured workspaces; what `:ws NAME` and `--workspace NAME` take.
    pub name: String,
    pub id: WorkspaceId,
    pub kind: WorkspaceKind,
    pub client_id: String,
    pub client_secret: SecretSource,
    /// Where this workspace's client-credentials token comes from.
    pub token_url: String,
    /// True for the `[api]` client standing in for the single workspace of a configuration
    /// without `[[workspaces]]` and `[msp]` (GLP_CLIENT_ID and friends apply to it only).
    pub legacy: bool,
}

impl WorkspaceConfig {
    /// Resolve the client secret; errors name this workspace (or `[api]` for the legacy one),
    /// never the secret.
    pub fn resolve_secret(&self) -> Result<Secret, ConfigError> {
        if self.legacy {
            return self.client_secret.resolve();
        }
        self.client_secret.resolve_as(&self.label())
    }

    /// How messages name this workspace: `workspace "emea"`, `[msp] "acme"`, `[api]`.
    pub fn label(&self) -> String {
        match (self.legacy, self.kind) {
            (true, _) => "[api]".into(),
            (false, WorkspaceKind::Msp) => format!("[msp] {:?}", self.name),
            (false, _) => format!("workspace {:?}", self.name),
        }
    }
}

/// An MSP workspace whose tenants are discovered from `GET /workspaces/v1/msp-tenants`, each
/// tenant's token obtained by token exchange with the MSP's (glp-api.md §11).
#[derive(Clone, Debug, PartialEq)]
pub struct MspConfig {
    /// The MSP's own workspace ([`WorkspaceKind::Msp`]) and client.
    pub workspace: WorkspaceConfig,
    /// Tenants to sync, by name or id; empty means all (up to `max_tenants`).
    pub include: Vec<String>,
    /// Tenants never synced, by name or id; wins over `include` (validation keeps them apart).
    pub exclude: Vec<String>,
    /// At most this many tenants are synced, whatever the MSP lists.
    pub max_tenants: u32,
}

impl MspConfig {
    pub const DEFAULT_MAX_TENANTS: u32 = 1000;

    /// Whether the tenant `id` named `name` is to be synced: not excluded, and included when
    /// an include list is given. Names match case-insensitively, ids in either spelling.
    /// The cap (`max_tenants`) is the caller's to apply to the selected tenants.
    pub fn selects(&self, id: &WorkspaceId, name: &str) -> bool {
        let hit = |list: &[String]| list.iter().any(|e| tenant_matches(e, id, name));
        !hit(&self.exclude) && (self.include.is_empty() || hit(&self.include))
    }

    /// The tenants among `listed` that are synced: selected ([`MspConfig::selects`], never the
    /// MSP itself), by name then id, the first `max_tenants`. Also how many were selected
    /// before the cap. Discovery chooses with it, and `status` too (over the stored tenants),
    /// so a tenant this configuration does not sync is never judged stale.
    pub fn choose<T>(
        &self,
        listed: Vec<T>,
        key: impl Fn(&T) -> (&WorkspaceId, &str),
    ) -> (Vec<T>, usize) {
        let mut chosen: Vec<T> = listed
            .into_iter()
            .filter(|t| {
                let (id, name) = key(t);
                id != &self.workspace.id && self.selects(id, name)
            })
            .collect();
        chosen.sort_by(|a, b| {
            let ((ia, na), (ib, nb)) = (key(a), key(b));
            na.cmp(nb).then(ia.cmp(ib))
        });
        let selected = chosen.len();
        chosen.truncate(self.max_tenants as usize);
        (chosen, selected)
    }

    /// The token URL for a tenant's token exchange: the MSP's token URL with the MSP's id
    /// replaced by the tenant's (so a custom token URL, a simulator's say, keeps its shape),
    /// or the per-workspace default when the MSP's URL does not carry its id.
    pub fn tenant_token_url(&self, base_url: &str, tenant: &WorkspaceId) -> String {
        let url = &self.workspace.token_url;
        let own = self.workspace.id.as_str();
        let dashed = self.workspace.id.dashed();
        if url.contains(own) {
            url.replace(own, tenant.as_str())
        } else if url.contains(&dashed) {
            url.replace(&dashed, tenant.as_str())
        } else {
            workspace_token_url(base_url, tenant)
        }
    }
}

/// An include/exclude entry names this tenant: by name (case-insensitive) or by id.
fn tenant_matches(entry: &str, id: &WorkspaceId, name: &str) -> bool {
    let e = entry.trim();
    e.eq_ignore_ascii_case(name.trim()) || WorkspaceId::parse(e).as_ref() == Some(id)
}

/// Whose budget the configured rate limits are (glp-api.md §11: the endpoint pages say per
/// workspace, the general guide per API client).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RateLimitScope {
    /// Every workspace has the full budget of its own.
    #[default]
    Workspace,
    /// One budget per API client, shared by every workspace it serves (an MSP's tenants).
    Client,
}

impl RateLimitScope {
    pub fn as_str(self) -> &'static str {
        match self {
            RateLimitScope::Workspace => "workspace",
            RateLimitScope::Client => "client",
        }
    }
    pub fn parse(s: &str) -> Option<RateLimitScope> {
        match s.trim().to_ascii_lowercase().as_str() {
            "workspace" => Some(RateLimitScope::Workspace),
            "client" => Some(RateLimitScope::Client),
            _ => None,
        }
    }
}

/// The per-workspace token URL GreenLake documents (glp-api.md §11), with the dashless id as
/// HPE's own clients send it.
pub fn workspace_token_url(base_url: &str, id: &WorkspaceId) -> String {
    format!(
        "{}/authorization/v2/oauth2/{}/token",
        base_url.trim_end_matches('/'),
        id.as_str()
    )
}

/// A workspace as the file declared it: `token_url_given` false means "the default for the
/// effective base URL", filled in when the effective workspaces are derived.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct DeclaredWorkspace {
    pub(super) ws: WorkspaceConfig,
    pub(super) token_url_given: bool,
}

impl DeclaredWorkspace {
    pub(super) fn effective(&self, base_url: &str) -> WorkspaceConfig {
        let mut w = self.ws.clone();
        if !self.token_url_given {
            w.token_url = workspace_token_url(base_url, &w.id);
        }
        w
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct DeclaredMsp {
    pub(super) ws: DeclaredWorkspace,
    pub(super) include: Vec<String>,
    pub(super) exclude: Vec<String>,
    pub(super) max_tenants: u32,
}

/// What the file said: the valid `[[workspaces]]` tables and `[msp]`.
#[derive(Clone, Debug, PartialEq, Default)]
pub(super) struct Declared {
    pub(super) workspaces: Vec<DeclaredWorkspace>,
    pub(super) msp: Option<DeclaredMsp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msp(include: &[&str], exclude: &[&str]) -> MspConfig {
        let id = WorkspaceId::parse("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee").unwrap();
        MspConfig {
            workspace: WorkspaceConfig {
                name: "acme".into(),
                token_url: format!("http://sim/authorization/v2/oauth2/{id}/token"),
                id,
                kind: WorkspaceKind::Msp,
                client_id: "c".into(),
                client_secret: SecretSource::Env("X".into()),
                legacy: false,
            },
            include: include.iter().map(|s| s.to_string()).collect(),
            exclude: exclude.iter().map(|s| s.to_string()).collect(),
            max_tenants: 10,
        }
    }

    #[test]
    fn include_and_exclude_match_names_and_either_id_spelling() {
        let t = WorkspaceId::parse("131846d43af111f08e4ebe50c5e8c005").unwrap();
        assert!(msp(&[], &[]).selects(&t, "Tenant-01"));
        assert!(msp(&["tenant-01"], &[]).selects(&t, "Tenant-01"));
        assert!(msp(&["131846d4-3af1-11f0-8e4e-be50c5e8c005"], &[]).selects(&t, "x"));
        assert!(!msp(&["other"], &[]).selects(&t, "Tenant-01"));
        assert!(!msp(&[], &["131846D43AF111F08E4EBE50C5E8C005"]).selects(&t, "x"));
    }

    #[test]
    fn tenant_token_url_keeps_a_custom_shape() {
        let t = WorkspaceId::parse("131846d43af111f08e4ebe50c5e8c005").unwrap();
        let m = msp(&[], &[]);
        assert_eq!(
            m.tenant_token_url("https://g", &t),
            "http://sim/authorization/v2/oauth2/131846d43af111f08e4ebe50c5e8c005/token"
        );
        let mut m = m;
        m.workspace.token_url = "https://sso/token".into();
        assert_eq!(
            m.tenant_token_url("https://g/", &t),
            "https://g/authorization/v2/oauth2/131846d43af111f08e4ebe50c5e8c005/token"
        );
    }
}
