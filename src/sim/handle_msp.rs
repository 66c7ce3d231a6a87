//! The [`SimHandle`]'s controls for MSP mode: the tenants, each workspace's data, token URL,
//! faults and counters.

use serde_json::Value;

use super::faults::Faults;
use super::handle::{SimHandle, modify_device_of};
use super::msp::{TenantFaults, TenantMeta, dashless};
use super::state::{lock, read};
use super::stats::Stats;

impl SimHandle {
    /// Is this an MSP simulator (with tenants)?
    pub fn is_msp(&self) -> bool {
        self.world.dir.is_some()
    }

    /// The MSP's (or the only) workspace id, dashless.
    pub fn workspace_id(&self) -> String {
        dashless(&self.shared.cfg.workspace_id)
    }

    /// The tenants in creation order (empty for a standalone simulator), listed or not.
    pub fn tenants(&self) -> Vec<TenantMeta> {
        self.world
            .dir
            .as_ref()
            .map(|d| d.tenants.clone())
            .unwrap_or_default()
    }

    /// `<base>/authorization/v2/oauth2/<workspace, dashless>/token`.
    pub fn workspace_token_url(&self, workspace: &str) -> String {
        format!(
            "{}/authorization/v2/oauth2/{}/token",
            self.base_url(),
            dashless(workspace)
        )
    }

    /// A workspace's devices as its own token lists them (served order); `None` if unknown.
    pub fn devices_of(&self, workspace: &str) -> Option<Vec<Value>> {
        let sh = self.world.member(workspace)?;
        let d = read(&sh.data);
        Some(
            d.devices
                .entries()
                .iter()
                .map(|e| e.value.clone())
                .collect(),
        )
    }

    /// A workspace's subscriptions (served order); `None` if unknown.
    pub fn subscriptions_of(&self, workspace: &str) -> Option<Vec<Value>> {
        let sh = self.world.member(workspace)?;
        let d = read(&sh.data);
        Some(
            d.subscriptions
                .entries()
                .iter()
                .map(|e| e.value.clone())
                .collect(),
        )
    }

    /// [`SimHandle::modify_device`] in a workspace's view (copied to the other view holding
    /// the device). `false` if the workspace or the device is unknown.
    pub fn modify_device_in(&self, workspace: &str, id: &str, f: impl FnOnce(&mut Value)) -> bool {
        self.world
            .member(workspace)
            .is_some_and(|sh| modify_device_of(&sh, id, f))
    }

    /// Add `n` new random devices to a workspace (an MSP-owned tenant's reach the MSP's view,
    /// the MSP's are pool devices); their ids, `None` if the workspace is unknown.
    pub fn add_devices_in(&self, workspace: &str, n: usize) -> Option<Vec<String>> {
        Some(self.world.member(workspace)?.add_devices(n))
    }

    /// Remove a device from a workspace (and the other view holding it); `false` if unknown.
    pub fn remove_device_in(&self, workspace: &str, id: &str) -> bool {
        let Some(sh) = self.world.member(workspace) else {
            return false;
        };
        let old = read(&sh.data).devices.get(id).map(|e| e.value.clone());
        let gone = super::state::write(&sh.data).devices.remove(id);
        if gone {
            sh.mirror_device(old.as_ref(), None);
        }
        gone
    }

    /// Set a tenant's faults; `false` if no such tenant.
    pub fn set_tenant_faults(&self, tenant: &str, f: TenantFaults) -> bool {
        let Some(dir) = &self.world.dir else {
            return false;
        };
        match dir.tenant(tenant).and_then(|t| dir.member(&t.id)) {
            Some(sh) => {
                *lock(&sh.tenant_faults) = f;
                true
            }
            None => false,
        }
    }

    pub fn tenant_faults(&self, tenant: &str) -> Option<TenantFaults> {
        let dir = self.world.dir.as_ref()?;
        let sh = dir.member(&dir.tenant(tenant)?.id)?;
        Some(lock(&sh.tenant_faults).clone())
    }

    /// Replace one workspace's [`Faults`] (the outage counter restarts); `false` if unknown.
    pub fn set_workspace_faults(&self, workspace: &str, f: Faults) -> bool {
        match self.world.member(workspace) {
            Some(sh) => {
                lock(&sh.faults).set(f);
                true
            }
            None => false,
        }
    }

    /// One workspace's counters and request log.
    pub fn stats_of(&self, workspace: &str) -> Option<Stats> {
        let sh = self.world.member(workspace)?;
        Some(lock(&sh.stats).stats.clone())
    }

    /// Every token issued for one workspace answers 401 "expired" from now on.
    pub fn expire_tokens_of(&self, workspace: &str) -> bool {
        match self.world.member(workspace) {
            Some(sh) => {
                sh.expire_tokens();
                true
            }
            None => false,
        }
    }
}
