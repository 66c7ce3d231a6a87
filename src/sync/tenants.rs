//! An MSP's tenants as a fleet serves them: listed by the MSP's client, chosen by the
//! configuration's include/exclude lists and cap, each given a client whose tokens come from
//! exchanging the MSP's (glp-api.md §11), recorded in the `workspaces` table.
//!
//! When the tenant list cannot be read (the MSP's token refused, an outage), the tenants
//! stored from earlier discoveries are served instead — a tenant's own inventory does not
//! depend on the list — and nothing is marked removed: only a complete list says a tenant is
//! gone.

use std::sync::Arc;

use crate::config::{Config, MspConfig, RateLimitScope};
use crate::domain::{WorkspaceId, WorkspaceKind};
use crate::glp::pace::Pacer;
use crate::store::Store;
use crate::store::workspaces::WorkspaceSeen;
use crate::sync::FailureKind;
use crate::sync::fleet::{Member, WorkspaceOutcome};

/// The tenants to serve.
pub struct Tenants {
    pub members: Vec<Member>,
    pub unavailable: Vec<WorkspaceOutcome>,
    pub notes: Vec<String>,
}

/// A tenant: id, name, ownership.
struct Candidate {
    id: WorkspaceId,
    name: String,
    ownership: Option<String>,
}

/// Discover and choose the tenants of `msp`; `members` holds the MSP's own member (its client
/// lists the tenants and is the subject of every exchange).
pub async fn discover(cfg: &Config, msp: &MspConfig, store: &Store, members: &[Member]) -> Tenants {
    let mut out = Tenants {
        members: Vec::new(),
        unavailable: Vec::new(),
        notes: Vec::new(),
    };
    let msp_id = &msp.workspace.id;
    let Some(msp_client) = members
        .iter()
        .find(|m| &m.ws.id == msp_id)
        .map(|m| &m.client)
    else {
        // The MSP's own credentials failed: its outcome says why; stored tenants cannot be
        // reached without its token either.
        out.notes.push(format!(
            "the tenants of MSP {:?} are not synced: its own client could not be built",
            msp.workspace.name
        ));
        return out;
    };
    let (listed, complete) = match msp_client.list_msp_tenants().await {
        Ok(list) => (
            list.into_iter()
                .map(|t| Candidate {
                    name: if t.name.is_empty() {
                        t.id.to_string()
                    } else {
                        t.name.clone()
                    },
                    ownership: Some(t.inventory_ownership.as_str().to_string()),
                    id: t.id,
                })
                .collect::<Vec<_>>(),
            true,
        ),
        Err(e) => {
            out.notes.push(format!(
                "the tenant list of MSP {:?} could not be read ({e}); syncing the tenants stored \
                 from earlier runs",
                msp.workspace.name
            ));
            (stored_tenants(store, msp_id).await, false)
        }
    };
    if complete {
        let ids: Vec<WorkspaceId> = listed.iter().map(|c| c.id.clone()).collect();
        match store.mark_tenants_removed(msp_id, &ids).await {
            Ok(gone) if !gone.is_empty() => out.notes.push(format!(
                "tenants no longer listed by MSP {:?}, marked removed (their rows are kept): {}",
                msp.workspace.name,
                gone.join(", ")
            )),
            Ok(_) => {}
            Err(e) => out
                .notes
                .push(format!("could not mark removed tenants: {e}")),
        }
    }
    let (chosen, selected) = msp.choose(listed, |c| (&c.id, &c.name));
    if selected > chosen.len() {
        out.notes.push(format!(
            "MSP {:?} lists {selected} selected tenants; syncing the first {} by name ([msp] max_tenants)",
            msp.workspace.name,
            chosen.len()
        ));
    }
    let shared: Option<Arc<Pacer>> =
        (cfg.sync.rate_limit_scope == RateLimitScope::Client).then(|| msp_client.pacer());
    for c in chosen {
        let ws = WorkspaceSeen {
            id: c.id.clone(),
            name: c.name,
            kind: WorkspaceKind::Tenant,
            parent_id: Some(msp_id.clone()),
            inventory_ownership: c.ownership,
        };
        match msp_client.tenant_client(&c.id, shared.clone()) {
            Ok(client) => out.members.push(Member { ws, client }),
            Err(e) => out.unavailable.push(WorkspaceOutcome {
                ws,
                failure: Some((FailureKind::Auth, e.to_string())),
                summary: None,
            }),
        }
    }
    out
}

/// Tenants of `msp` stored by earlier discoveries and not marked removed.
async fn stored_tenants(store: &Store, msp: &WorkspaceId) -> Vec<Candidate> {
    let Ok(all) = store.workspaces().await else {
        return Vec::new();
    };
    all.into_iter()
        .filter(|w| {
            w.kind == WorkspaceKind::Tenant
                && w.parent_id.as_ref() == Some(msp)
                && w.removed_at.is_none()
        })
        .map(|w| Candidate {
            id: w.id,
            name: w.name,
            ownership: w.inventory_ownership,
        })
        .collect()
}
