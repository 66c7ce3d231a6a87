//! An MSP's tenants: `GET /workspaces/v1/msp-tenants` (glp-api.md §11), every page.
//!
//! The list is small (tens to hundreds) and GreenLake states no rate limit for it; it is
//! paced with the service catalog's schedule (also unlimited by GreenLake, and not in any
//! sync's way). Items are read leniently: unknown fields are ignored, an item without a usable
//! `id` is skipped (and logged), a missing `inventoryOwnership` is the documented default
//! `MSP_OWNED_INVENTORY`.

use chrono::{DateTime, NaiveDateTime, Utc};
use reqwest::Method;
use serde_json::Value;

use crate::domain::WorkspaceId;
use crate::glp::client::{Call, Client};
use crate::glp::error::GlpError;
use crate::glp::ops::Accepted;
use crate::glp::pace::Endpoint;

/// Page size: the largest the endpoint accepts (and its default).
pub const TENANTS_PAGE: u32 = 300;

/// A runaway guard: 1 000 pages of 300 is far beyond any MSP.
const MAX_TENANT_PAGES: usize = 1_000;

/// Whose inventory a tenant's devices and subscriptions are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InventoryOwnership {
    /// `MSP_OWNED_INVENTORY`: the MSP's own token lists them too (consolidated view).
    MspOwned,
    /// `CUSTOMER_OWNED_INVENTORY`: only the tenant's (exchanged) token lists them.
    CustomerOwned,
    /// A value this version does not know, as sent.
    Other(String),
}

impl InventoryOwnership {
    pub fn parse(s: &str) -> InventoryOwnership {
        match s.trim().to_ascii_uppercase().as_str() {
            "MSP_OWNED_INVENTORY" => InventoryOwnership::MspOwned,
            "CUSTOMER_OWNED_INVENTORY" => InventoryOwnership::CustomerOwned,
            _ => InventoryOwnership::Other(s.to_string()),
        }
    }

    /// The API's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            InventoryOwnership::MspOwned => "MSP_OWNED_INVENTORY",
            InventoryOwnership::CustomerOwned => "CUSTOMER_OWNED_INVENTORY",
            InventoryOwnership::Other(s) => s,
        }
    }
}

/// One tenant workspace of an MSP.
#[derive(Debug, Clone, PartialEq)]
pub struct MspTenant {
    /// Normalised (dashless, lower case) whatever spelling the API sent.
    pub id: WorkspaceId,
    /// `workspaceName` (empty when the API sent none).
    pub name: String,
    pub inventory_ownership: InventoryOwnership,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

fn time(v: &Value, k: &str) -> Option<DateTime<Utc>> {
    let s = v.get(k)?.as_str()?.trim();
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            // The spec's examples also show times without an offset: UTC.
            NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

/// An item of the tenant list; `None` without a usable id.
pub fn parse_tenant(v: &Value) -> Option<MspTenant> {
    let id = WorkspaceId::parse(v.get("id")?.as_str()?)?;
    Some(MspTenant {
        id,
        name: v
            .get("workspaceName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        inventory_ownership: v
            .get("inventoryOwnership")
            .and_then(Value::as_str)
            .map_or(InventoryOwnership::MspOwned, InventoryOwnership::parse),
        created_at: time(v, "createdAt"),
        updated_at: time(v, "updatedAt"),
    })
}

impl Client {
    /// Every tenant of the MSP workspace this client's token is for, in the API's order
    /// (a tenant's or an ordinary workspace's token gets GreenLake's 403 as an error).
    pub async fn list_msp_tenants(&self) -> Result<Vec<MspTenant>, GlpError> {
        let mut out = Vec::new();
        let mut skipped = 0usize;
        let mut offset = 0u64;
        let mut complete = false;
        for _ in 0..MAX_TENANT_PAGES {
            let q = [
                ("offset", offset.to_string()),
                ("limit", TENANTS_PAGE.to_string()),
            ];
            let call = Call {
                method: Method::GET,
                endpoint: Endpoint::ServiceCatalogGet,
                url: self.url("/workspaces/v1/msp-tenants", &q)?,
                body: None,
            };
            let (items, total) = self
                .execute(&call, |r| {
                    let v: Value = serde_json::from_slice(&r.body)
                        .map_err(|e| format!("not a tenant list ({e})"))?;
                    let items = v
                        .get("items")
                        .and_then(Value::as_array)
                        .cloned()
                        .ok_or("a tenant list without items")?;
                    Ok((items, v.get("total").and_then(Value::as_u64)))
                })
                .await?;
            let n = items.len() as u64;
            for it in &items {
                match parse_tenant(it) {
                    Some(t) => out.push(t),
                    None => skipped += 1,
                }
            }
            offset += n;
            // Without a total, a full page means there may be more: only a short page ends it
            // (stopping early would leave tenants out, and they would be marked removed).
            let done = match total {
                Some(t) => offset >= t,
                None => n < TENANTS_PAGE as u64,
            };
            if n == 0 || done {
                complete = true;
                break;
            }
        }
        if !complete {
            return Err(GlpError::Invalid(format!(
                "the MSP's tenant list did not end within {MAX_TENANT_PAGES} pages; not used, \
                 so no tenant is marked removed"
            )));
        }
        if skipped > 0 {
            tracing::warn!(skipped, "MSP tenants without a usable id were skipped");
        }
        Ok(out)
    }
}

impl Client {
    /// Move MSP-owned devices into `tenant` (`None`: back to the MSP's pool) with the MSP's
    /// client: `PATCH /devices/v2beta1/devices?id=…` with `{"tenantWorkspaceId": …}` (the
    /// dashed id, as GreenLake shows it), an async operation like any device PATCH (wait for
    /// it with [`Client::wait_operation`]). Customer-owned devices, and devices a tenant
    /// manages, fail per device in the operation.
    pub async fn place_devices(
        &self,
        ids: &[String],
        tenant: Option<&WorkspaceId>,
        dry_run: bool,
    ) -> Result<Accepted, GlpError> {
        let body = serde_json::json!({"tenantWorkspaceId": tenant.map(WorkspaceId::dashed)});
        self.patch_devices(ids, &body, dry_run).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lenient_items() {
        let t = parse_tenant(&json!({"id": "131846D4-3AF1-11F0-8E4E-BE50C5E8C005",
            "workspaceName": "Acme", "inventoryOwnership": "CUSTOMER_OWNED_INVENTORY",
            "createdAt": "2020-09-21T14:19:09.769747", "updatedAt": "2026-01-02T03:04:05.000Z",
            "somethingNew": {"x": 1}}))
        .unwrap();
        assert_eq!(t.id.as_str(), "131846d43af111f08e4ebe50c5e8c005");
        assert_eq!(t.inventory_ownership, InventoryOwnership::CustomerOwned);
        assert!(t.created_at.is_some() && t.updated_at.is_some());
        let d = parse_tenant(&json!({"id": "131846d43af111f08e4ebe50c5e8c005"})).unwrap();
        assert_eq!(d.inventory_ownership, InventoryOwnership::MspOwned);
        assert_eq!(d.name, "");
        assert!(parse_tenant(&json!({"workspaceName": "no id"})).is_none());
        assert_eq!(
            InventoryOwnership::parse("NEW_KIND"),
            InventoryOwnership::Other("NEW_KIND".into())
        );
    }
}
