//! Several workspaces and MSP mode: the effective `[[workspaces]]` and `[msp]`, and the legacy
//! `[api]` client as the one workspace of a configuration that names none.
//!
//! The file declares the workspaces (see `workspaces_file`); [`Config::refresh_workspaces`]
//! derives [`Config::workspaces`] and [`Config::msp`] from that declaration and `[api]`, so a
//! default token URL follows `[api] base_url` whichever layer set it.

use super::secret::SecretSource;
use super::settings::Config;
use super::workspace::{Declared, MspConfig, WorkspaceConfig};
use crate::domain::{WorkspaceId, WorkspaceKind};

impl Config {
    /// Derive [`Config::workspaces`] and [`Config::msp`] again from the file's declaration
    /// and `[api]`. Loading does this; call it after changing `[api]` in code (the demo
    /// points it at the simulator) so the legacy workspace and default token URLs follow.
    pub fn refresh_workspaces(&mut self) {
        let base = self.api.base_url.clone();
        self.workspaces = self
            .declared
            .workspaces
            .iter()
            .map(|d| d.effective(&base))
            .collect();
        self.msp = self.declared.msp.as_ref().map(|m| MspConfig {
            workspace: m.ws.effective(&base),
            include: m.include.clone(),
            exclude: m.exclude.clone(),
            max_tenants: m.max_tenants,
        });
        if self.workspaces.is_empty() && self.msp.is_none() {
            self.workspaces.push(self.legacy_workspace());
        }
    }

    /// Drop what the file declared about workspaces, leaving the `[api]` client as the one
    /// workspace: for code that points `[api]` at another GreenLake (the demo's simulator)
    /// whatever the user's file lists.
    pub fn forget_declared_workspaces(&mut self) {
        self.declared = Declared::default();
        self.refresh_workspaces();
    }

    fn legacy_workspace(&self) -> WorkspaceConfig {
        WorkspaceConfig {
            name: WorkspaceId::DEFAULT.into(),
            id: self
                .api
                .workspace_id
                .clone()
                .unwrap_or_else(WorkspaceId::default_id),
            kind: WorkspaceKind::Standalone,
            client_id: self.api.client_id.clone(),
            client_secret: self.api.client_secret.clone(),
            token_url: self.api.token_url.clone(),
            legacy: true,
        }
    }

    /// More than one workspace, or an MSP (whose tenants make more): the console shows a
    /// workspace column and the switcher.
    pub fn is_multi_workspace(&self) -> bool {
        self.workspaces.len() > 1 || self.msp.is_some()
    }

    /// True when the workspaces come from `[[workspaces]]` / `[msp]`, not from `[api]`.
    pub fn declares_workspaces(&self) -> bool {
        !self.declared.workspaces.is_empty() || self.declared.msp.is_some()
    }

    /// The workspace a single-workspace front end serves (the console without a switcher,
    /// `assign`, a one-workspace `--sync-only`): the first configured, else the MSP's.
    pub fn primary_workspace(&self) -> WorkspaceId {
        self.clients()
            .next()
            .map_or_else(WorkspaceId::default_id, |w| w.id.clone())
    }

    /// Every workspace with a client of its own: the standalone ones, then the MSP's.
    pub fn clients(&self) -> impl Iterator<Item = &WorkspaceConfig> {
        self.workspaces
            .iter()
            .chain(self.msp.as_ref().map(|m| &m.workspace))
    }

    /// The credential problems `config check` lists: the legacy `[api]` client's as before
    /// (no client id, a secret source that does not resolve); with declared workspaces, every
    /// secret source that does not resolve, naming its workspace. Resolving runs a
    /// `client_secret_command`, so a broken one is caught here; the secret is never shown.
    pub fn credential_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !self.declares_workspaces() {
            if self.api.client_id.is_empty() {
                problems.push("no API client id: set GLP_CLIENT_ID or [api] client_id".into());
            }
            if let Err(e) = self.api.client_secret.resolve() {
                problems.push(e.to_string());
            }
            return problems;
        }
        for w in self.clients() {
            if let Err(e) = w.resolve_secret() {
                problems.push(e.to_string());
            }
        }
        problems
    }

    /// A warning when `[api]` names a client or workspace that is not used because the file
    /// declares its workspaces.
    pub(super) fn warn_unused_legacy_client(&mut self) {
        if !self.declares_workspaces() {
            return;
        }
        let mut unused = Vec::new();
        if !self.api.client_id.is_empty() {
            unused.push("client_id");
        }
        if self.api.client_secret != SecretSource::None {
            unused.push("client secret");
        }
        if self.api.workspace_id.is_some() {
            unused.push("workspace_id");
        }
        if !unused.is_empty() {
            self.warnings.push(format!(
                "[api] {} not used: [[workspaces]] / [msp] name the workspaces and their \
                 clients (the [api] client is a workspace only when neither is given)",
                unused.join(", ")
            ));
        }
    }
}
