//! Keeping the MSP's consolidated device view and its tenants' views in step (MSP mode).
//!
//! A device of an MSP-owned tenant is stored twice: in the tenant's state (its own view) and
//! in the MSP's (the consolidated view), as the same JSON. A change made through either
//! workspace — a PATCH, a POST, the handle's test controls — is copied to the other; the MSP
//! moving a pool device into a tenant (`tenantWorkspaceId`) adds it to that tenant's view, and
//! moving it back to the pool (`null`) or to another tenant removes it there.

use serde_json::{Value, json};

use crate::sim::msp::{Ownership, dashed, dashless};
use crate::sim::state::{Shared, write};

/// The tenant a device of the MSP's view is placed in (`inUseWorkspace.id`), if any.
fn home(sh: &Shared, dev: Option<&Value>) -> Option<String> {
    let id = dev?.get("inUseWorkspace")?.get("id")?.as_str()?;
    let dir = sh.directory()?;
    dir.tenant(id).map(|t| t.id.clone())
}

fn upsert(target: &Shared, v: &Value) {
    let Some(id) = v["id"].as_str() else { return };
    let mut data = write(&target.data);
    if data.devices.get(id).is_some() {
        data.devices.modify(id, |x| *x = v.clone());
    } else {
        data.devices.push(v.clone());
    }
}

fn remove(target: &Shared, id: &str) {
    write(&target.data).devices.remove(id);
}

impl Shared {
    /// Copy a change of one device (`old` → `new`; `None`: absent) to the other views that
    /// hold it. Call it with no data lock held.
    pub(crate) fn mirror_device(&self, old: Option<&Value>, new: Option<&Value>) {
        let Some(dir) = self.directory() else { return };
        let id = new
            .or(old)
            .and_then(|v| v["id"].as_str())
            .unwrap_or_default()
            .to_string();
        if self.is_msp() {
            let (was, is) = (home(self, old), home(self, new));
            if let Some(w) = &was
                && was != is
                && let Some(t) = dir.member(w)
            {
                remove(&t, &id);
            }
            if let (Some(h), Some(v)) = (&is, new)
                && let Some(t) = dir.member(h)
            {
                upsert(&t, v);
            }
            return;
        }
        let msp_owned = self
            .tenant_meta()
            .is_some_and(|t| t.ownership == Ownership::MspOwnedInventory);
        if !msp_owned {
            return;
        }
        let Some(msp) = dir.member(&dir.msp_id) else {
            return;
        };
        match new {
            Some(v) => upsert(&msp, v),
            None => remove(&msp, &id),
        }
    }

    /// Apply a PATCH of `tenantWorkspaceId` to `dev` (a copy). Standalone: the value as
    /// given. MSP mode: only the MSP moves devices, only its own (`management: "MSP"`), and
    /// only into a tenant with MSP-owned inventory (`null` returns it to the pool);
    /// `tenantWorkspaceId` becomes the dashed id, `inUseWorkspace` the tenant (dashless).
    /// `Err` fails this device of the operation.
    pub(crate) fn place_device(&self, dev: &mut Value, target: &Value) -> Result<(), String> {
        let Some(dir) = self.directory() else {
            dev["tenantWorkspaceId"] = target.clone();
            return Ok(());
        };
        if !self.is_msp() {
            return Err("only the MSP workspace can move a device to a tenant".into());
        }
        if dev["management"] != "MSP" {
            return Err("the device is managed by its tenant, not owned by the MSP".into());
        }
        match target {
            Value::Null => {
                dev["tenantWorkspaceId"] = Value::Null;
                dev["inUseWorkspace"] = Value::Null;
                Ok(())
            }
            Value::String(s) => {
                let Some(t) = dir.tenant(s) else {
                    return Err(format!("no tenant workspace {s}"));
                };
                if t.ownership == Ownership::CustomerOwnedInventory {
                    return Err(format!(
                        "tenant {} has customer-owned inventory: MSP-owned devices cannot be \
                         placed there",
                        t.name
                    ));
                }
                let ws = dashless(&t.id);
                dev["tenantWorkspaceId"] = json!(dashed(&ws));
                dev["inUseWorkspace"] = json!({"id": ws,
                    "resourceUri": format!("/workspaces/v1/workspaces/{ws}"),
                    "type": "workspaces/workspace"});
                Ok(())
            }
            _ => Err("tenantWorkspaceId must be a tenant workspace id or null".into()),
        }
    }
}
