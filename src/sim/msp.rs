//! MSP mode's settings and the tenant directory (glp-api.md §11): how many tenant workspaces,
//! what they hold, whose inventory each is, whose rate-limit budget requests draw from, and
//! the faults a single tenant can have. A leaf: the configuration and the shared state build
//! on it.
//!
//! Decisions where GreenLake's behaviour is not documented:
//! * tenant ids are 32 lower-case hex digits; `GET /workspaces/v1/msp-tenants` serves them
//!   dashed (the spec types `id` as a UUID and its filter example is dashed), token URLs and
//!   `inUseWorkspace.id` dashless, `tenantWorkspaceId` dashed (the spec's example);
//! * devices of a `CUSTOMER_OWNED_INVENTORY` tenant have `management: null` in the tenant's
//!   own view (to the tenant it is an ordinary workspace) and are not in the MSP's view;
//! * subscriptions are never consolidated: each workspace lists only its own.

use std::collections::BTreeMap;

use chrono::Duration as CDuration;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::data::{anchor, ts};

/// Whose inventory a tenant's devices and subscriptions are (`inventoryOwnership`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Ownership {
    /// The MSP owns them: they are in the MSP's consolidated device view too.
    MspOwnedInventory,
    /// The customer owns them: only the tenant's own token lists them.
    CustomerOwnedInventory,
}

impl Ownership {
    pub fn as_str(self) -> &'static str {
        match self {
            Ownership::MspOwnedInventory => "MSP_OWNED_INVENTORY",
            Ownership::CustomerOwnedInventory => "CUSTOMER_OWNED_INVENTORY",
        }
    }
}

/// Whose budget a rate-limited request draws from (glp-api.md §11: the documentation says
/// both "per workspace" and "per API client").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitScope {
    /// Each workspace (the MSP and every tenant) has its own buckets.
    #[default]
    Workspace,
    /// All workspaces reached through the MSP's API client share one set of buckets.
    Client,
}

/// Faults of one tenant, settable at start ([`MspSim::tenant_faults`]) and at run time
/// (`SimHandle::set_tenant_faults`, `PUT /_sim/tenants/{id}`). `Default` is "none".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TenantFaults {
    /// The token exchange for this tenant is refused with this status (401 or 403): the MSP's
    /// client may no longer act for the tenant.
    pub exchange_refused: Option<u16>,
    /// Every call to this tenant (token exchange included) answers 503.
    pub outage: bool,
    /// The tenant is left out of `GET /workspaces/v1/msp-tenants` (the MSP removed it); its
    /// data and tokens stay.
    pub unlisted: bool,
}

/// MSP mode: the configured workspace (`SimConfig::workspace_id`, its `devices` the MSP's pool
/// and `subscriptions` its own) plus `tenants` tenant workspaces.
#[derive(Debug, Clone)]
pub struct MspSim {
    pub tenants: usize,
    pub devices_per_tenant: usize,
    pub subscriptions_per_tenant: usize,
    /// Every n-th tenant (tenant-04, tenant-08, … for 4) is `CUSTOMER_OWNED_INVENTORY`, the
    /// others `MSP_OWNED_INVENTORY`; 0 makes every tenant MSP-owned.
    pub customer_owned_every: usize,
    /// Of an MSP-owned tenant's devices, the share the MSP placed there (`management: "MSP"`,
    /// `tenantWorkspaceId` set); the rest are managed by the tenant (`management: "TENANT"`).
    pub placed_share: f64,
    pub limit_scope: LimitScope,
    /// Faults from the start, by 1-based tenant number (1 is tenant-01).
    pub tenant_faults: BTreeMap<usize, TenantFaults>,
}

impl Default for MspSim {
    fn default() -> MspSim {
        MspSim {
            tenants: 25,
            devices_per_tenant: 40,
            subscriptions_per_tenant: 10,
            customer_owned_every: 4,
            placed_share: 0.5,
            limit_scope: LimitScope::Workspace,
            tenant_faults: BTreeMap::new(),
        }
    }
}

/// One tenant workspace as the MSP lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantMeta {
    /// Dashless lower-case hex.
    pub id: String,
    pub name: String,
    pub ownership: Ownership,
    pub created_at: String,
    pub updated_at: String,
    /// The seed of the tenant's data.
    pub seed: u64,
}

/// 8-4-4-4-12 form of a 32-hex-digit id.
pub fn dashed(id: &str) -> String {
    if id.len() != 32 || !id.is_ascii() {
        return id.to_string();
    }
    format!(
        "{}-{}-{}-{}-{}",
        &id[..8],
        &id[8..12],
        &id[12..16],
        &id[16..20],
        &id[20..]
    )
}

/// Dashless lower case (both spellings GreenLake uses name one workspace).
pub fn dashless(id: &str) -> String {
    id.trim()
        .chars()
        .filter(|c| *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

impl MspSim {
    /// The tenants for `seed`: the same seed gives the same ids, names and dates.
    pub fn directory(&self, seed: u64) -> Vec<TenantMeta> {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x0073_5754_E4A4);
        let width = self.tenants.to_string().len().max(2);
        (1..=self.tenants)
            .map(|n| {
                let id = uuid::Builder::from_random_bytes(rng.random())
                    .into_uuid()
                    .simple()
                    .to_string();
                let created = anchor() - CDuration::days(2 * (self.tenants - n + 1) as i64);
                let updated = created + CDuration::hours(rng.random_range(1..48));
                let customer = self.customer_owned_every > 0 && n % self.customer_owned_every == 0;
                TenantMeta {
                    id,
                    name: format!("tenant-{n:0width$}"),
                    ownership: if customer {
                        Ownership::CustomerOwnedInventory
                    } else {
                        Ownership::MspOwnedInventory
                    },
                    created_at: ts(created),
                    updated_at: ts(updated),
                    seed: seed.wrapping_add(0x9E37_79B9_7F4A_7C15u64.wrapping_mul(n as u64)),
                }
            })
            .collect()
    }
}

impl TenantMeta {
    /// The item of `GET /workspaces/v1/msp-tenants`.
    pub fn tenant_json(&self) -> Value {
        let id = dashed(&self.id);
        json!({"id": id, "type": "workspace", "workspaceName": self.name,
            "inventoryOwnership": self.ownership.as_str(), "createdBy": "msp-admin@example.com",
            "generation": 1, "resourceUri": format!("/workspaces/v1/workspaces/{id}"),
            "createdAt": self.created_at, "updatedAt": self.updated_at})
    }
}

/// The answer of `GET /workspaces/v1/workspaces/{id}`.
pub fn workspace_json(id: &str, name: &str, kind: &str, created_at: &str) -> Value {
    let id = dashed(id);
    json!({"id": id, "type": "workspace", "workspaceName": name, "workspaceType": kind,
        "createdBy": "msp-admin@example.com", "generation": 1,
        "resourceUri": format!("/workspaces/v1/workspaces/{id}"),
        "createdAt": created_at, "updatedAt": created_at})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_is_deterministic_and_mixed() {
        let m = MspSim::default();
        let a = m.directory(7);
        assert_eq!(a, m.directory(7));
        assert_eq!(a.len(), 25);
        assert_eq!(a[0].name, "tenant-01");
        assert!(a.iter().all(|t| t.id.len() == 32));
        assert_eq!(
            a.iter()
                .filter(|t| t.ownership == Ownership::CustomerOwnedInventory)
                .count(),
            6
        );
        assert_eq!(dashless(&dashed(&a[0].id)), a[0].id);
    }
}
