//! Where the wizard writes in a console over several workspaces. A run made after
//! `:ws tenant-03` must plan against that tenant's rows, PATCH with that tenant's token and
//! have its refresh done by that tenant's engine; so the console keeps, per served workspace,
//! the client the roster gave it and its engine's command channel, and for a workspace it
//! cannot write to (a tenant whose exchange failed, one the MSP no longer lists) the reason.

use std::collections::HashMap;

use tokio::sync::mpsc;

use crate::domain::WorkspaceId;
use crate::glp::client::Client;
use crate::store::Store;
use crate::sync::events::SyncCommand;
use crate::sync::fleet::{FleetMember, Member, WorkspaceOutcome};

/// A served workspace's client and engine.
#[derive(Clone)]
struct Served {
    client: Client,
    engine: mpsc::Sender<SyncCommand>,
}

/// Every workspace a multi-workspace console can write to, and why the others cannot.
#[derive(Clone, Default)]
pub struct WorkspaceTargets {
    primary: Option<WorkspaceId>,
    served: HashMap<WorkspaceId, Served>,
    names: HashMap<WorkspaceId, String>,
    refused: HashMap<WorkspaceId, String>,
}

/// What one workspace's wizard effects run with.
#[derive(Clone)]
pub(super) struct Target {
    pub store: Store,
    pub client: Option<Client>,
    pub engine: mpsc::Sender<SyncCommand>,
}

impl WorkspaceTargets {
    /// The targets of a fleet: `members` are the roster's (their clients; read before the
    /// fleet takes them), `engines` the fleet's running members, `unavailable` the roster's
    /// workspaces without a client, with their failure.
    pub fn new(
        primary: WorkspaceId,
        members: &[Member],
        engines: &[FleetMember],
        unavailable: &[WorkspaceOutcome],
    ) -> WorkspaceTargets {
        let mut t = WorkspaceTargets {
            primary: Some(primary),
            ..WorkspaceTargets::default()
        };
        for m in members {
            t.names.insert(m.ws.id.clone(), m.ws.name.clone());
            if let Some(e) = engines.iter().find(|e| e.ws.id == m.ws.id) {
                let served = Served {
                    client: m.client.clone(),
                    engine: e.commands.clone(),
                };
                t.served.insert(m.ws.id.clone(), served);
            }
        }
        for o in unavailable {
            t.names.insert(o.ws.id.clone(), o.ws.name.clone());
            let why = o.failure.as_ref().map_or_else(
                || "it has no API client".to_string(),
                |(_, e)| format!("it has no API client ({e})"),
            );
            t.refused.insert(o.ws.id.clone(), why);
        }
        t
    }

    /// The workspace the wizard runs in when all workspaces are shown.
    pub fn primary(&self) -> Option<&WorkspaceId> {
        self.primary.as_ref()
    }

    /// `base` scoped to `id`, with `id`'s client and engine; or why the wizard cannot write
    /// there, naming the workspace (`name`: as the console knows it, when it does).
    pub(super) fn get(
        &self,
        base: &Store,
        id: &WorkspaceId,
        name: Option<&str>,
    ) -> Result<Target, String> {
        if let Some(s) = self.served.get(id) {
            return Ok(Target {
                store: base.for_workspace(id.clone()),
                client: Some(s.client.clone()),
                engine: s.engine.clone(),
            });
        }
        let name = name
            .map(str::to_string)
            .or_else(|| self.names.get(id).cloned())
            .unwrap_or_else(|| id.to_string());
        let why = self.refused.get(id).cloned().unwrap_or_else(|| {
            "this console serves it no client (the MSP no longer lists it, or it is not \
             configured)"
                .to_string()
        });
        Err(format!("workspace {name} cannot be written to: {why}"))
    }
}
