//! Who a fleet serves: the configured workspaces, the MSP, and the MSP's tenants as
//! `GET /workspaces/v1/msp-tenants` lists them (include/exclude, capped), each with the client
//! that speaks for it, recorded in the `workspaces` table.
//!
//! A workspace that cannot even get a client (its secret does not resolve, the MSP token
//! cannot be had for an exchange) is not left out silently: it becomes an outcome of its own
//! ("not synced: …"), so the run's report and exit code count it. A tenant the MSP no longer
//! lists is marked removed — never deleted — once a complete tenant list says so.

use crate::cli::exit;
use crate::config::{ApiConfig, Config, WorkspaceConfig};
use crate::domain::WorkspaceId;
use crate::glp::client::Client;
use crate::store::workspaces::WorkspaceSeen;
use crate::store::{Store, StoreError};
use crate::sync::FailureKind;
use crate::sync::fleet::{Member, WorkspaceOutcome};

/// What a fleet will serve.
pub struct Roster {
    pub members: Vec<Member>,
    /// Workspaces that could not be served at all, already as outcomes.
    pub unavailable: Vec<WorkspaceOutcome>,
    /// What a person should know (tenants capped, tenants marked removed, a tenant list
    /// that could not be read).
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    #[error(
        "no workspace is named {name:?}; the configured ones are: {known} \
         (`glp-console workspaces` lists them with their ids)"
    )]
    UnknownWorkspace { name: String, known: String },
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl RosterError {
    pub fn exit_code(&self) -> i32 {
        match self {
            RosterError::UnknownWorkspace { .. } => exit::CONFIG,
            RosterError::Store(_) => exit::DATABASE,
        }
    }
}

/// The API settings of one workspace: the shared `[api]` settings with its own client id and
/// token URL.
pub fn api_for(base: &ApiConfig, w: &WorkspaceConfig) -> ApiConfig {
    ApiConfig {
        client_id: w.client_id.clone(),
        token_url: w.token_url.clone(),
        client_secret: w.client_secret.clone(),
        ..base.clone()
    }
}

fn seen_of(w: &WorkspaceConfig) -> WorkspaceSeen {
    WorkspaceSeen {
        id: w.id.clone(),
        name: w.name.clone(),
        kind: w.kind,
        parent_id: None,
        inventory_ownership: None,
    }
}

fn unavailable(ws: WorkspaceSeen, kind: FailureKind, error: String) -> WorkspaceOutcome {
    WorkspaceOutcome {
        ws,
        failure: Some((kind, error)),
        summary: None,
    }
}

/// A client for a workspace with credentials of its own, or why there is none.
fn own_client(cfg: &Config, w: &WorkspaceConfig) -> Result<Client, (FailureKind, String)> {
    let secret = w
        .resolve_secret()
        .map_err(|e| (FailureKind::Auth, e.to_string()))?;
    Client::new(&api_for(&cfg.api, w), secret).map_err(|e| (FailureKind::Auth, e.to_string()))
}

/// Open the database for `cfg`: migrated, speaking for the primary workspace, with every
/// configured workspace listed in `workspaces`, and the rows of a database from before
/// workspaces moved to the primary workspace's real id (see `Store::adopt_default_rows`), so
/// every front end — sync, console, status, reports — sees the same workspaces.
pub async fn open_store(cfg: &Config, pool_size: u32) -> Result<Store, StoreError> {
    let store = Store::open(&cfg.database.url, pool_size)
        .await?
        .for_workspace(cfg.primary_workspace());
    let default_configured = cfg.clients().any(|w| w.id.as_str() == WorkspaceId::DEFAULT);
    store.adopt_default_rows(default_configured).await?;
    let seen: Vec<WorkspaceSeen> = cfg.clients().map(seen_of).collect();
    store.register_workspaces(&seen).await?;
    Ok(store)
}

/// [`open_store`] for commands that only read (`status`, `workspaces`): scoped to the
/// primary workspace, nothing registered or moved, so a report lists what the database holds.
pub async fn open_store_read(cfg: &Config, pool_size: u32) -> Result<Store, StoreError> {
    Ok(Store::open(&cfg.database.url, pool_size)
        .await?
        .for_workspace(cfg.primary_workspace()))
}

/// Build the roster; `only` (names, or ids in either spelling) narrows it, an unknown
/// entry is an error naming the known workspaces.
pub async fn build(cfg: &Config, store: &Store, only: &[String]) -> Result<Roster, RosterError> {
    let mut roster = Roster {
        members: Vec::new(),
        unavailable: Vec::new(),
        notes: Vec::new(),
    };
    let mut seen = Vec::new();
    for w in cfg.clients() {
        seen.push(seen_of(w));
        match own_client(cfg, w) {
            Ok(client) => roster.members.push(Member {
                ws: seen_of(w),
                client,
            }),
            Err((kind, e)) => roster.unavailable.push(unavailable(seen_of(w), kind, e)),
        }
    }
    if let Some(msp) = &cfg.msp {
        let mut tenants = super::tenants::discover(cfg, msp, store, &roster.members).await;
        // A tenant also configured as a workspace of its own is served once, as configured.
        let configured: Vec<WorkspaceId> = seen.iter().map(|w| w.id.clone()).collect();
        let twice: Vec<String> = tenants
            .members
            .iter()
            .filter(|m| configured.contains(&m.ws.id))
            .map(|m| m.ws.name.clone())
            .collect();
        if !twice.is_empty() {
            roster.notes.push(format!(
                "tenants also configured as [[workspaces]] are synced once, as configured: {}",
                twice.join(", ")
            ));
        }
        tenants.members.retain(|m| !configured.contains(&m.ws.id));
        tenants
            .unavailable
            .retain(|o| !configured.contains(&o.ws.id));
        roster.notes.extend(tenants.notes);
        seen.extend(tenants.members.iter().map(|m| m.ws.clone()));
        seen.extend(tenants.unavailable.iter().map(|o| o.ws.clone()));
        roster.members.extend(tenants.members);
        roster.unavailable.extend(tenants.unavailable);
    }
    store.register_workspaces(&seen).await?;
    if !only.is_empty() {
        narrow(&mut roster, only)?;
    }
    Ok(roster)
}

/// Keep the workspaces `only` names.
fn narrow(roster: &mut Roster, only: &[String]) -> Result<(), RosterError> {
    let names = |r: &Roster| -> Vec<String> {
        r.members
            .iter()
            .map(|m| m.ws.name.clone())
            .chain(r.unavailable.iter().map(|o| o.ws.name.clone()))
            .collect()
    };
    let hit = |ws: &WorkspaceSeen, entry: &str| {
        ws.name.eq_ignore_ascii_case(entry.trim())
            || WorkspaceId::parse(entry).as_ref() == Some(&ws.id)
    };
    for entry in only {
        let known = roster.members.iter().any(|m| hit(&m.ws, entry))
            || roster.unavailable.iter().any(|o| hit(&o.ws, entry));
        if !known {
            let mut all = names(roster);
            all.sort();
            return Err(RosterError::UnknownWorkspace {
                name: entry.clone(),
                known: all.join(", "),
            });
        }
    }
    roster
        .members
        .retain(|m| only.iter().any(|e| hit(&m.ws, e)));
    roster
        .unavailable
        .retain(|o| only.iter().any(|e| hit(&o.ws, e)));
    Ok(())
}
