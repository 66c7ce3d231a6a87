//! Service catalog reads for the assignment wizard (glp-api.md §2.7).
//!
//! GLP-Sync-2 guesses application/region pairs from devices already assigned, so a pair no
//! device uses yet can never be offered. The catalog lists every region's service managers
//! (applications) and which are provisioned, so the wizard can offer exactly the pairs a
//! PATCH will accept.

use reqwest::Method;
use serde_json::Value;

use crate::glp::client::{Call, Client};
use crate::glp::error::GlpError;
use crate::glp::pace::Endpoint;
use crate::glp::page::path_segment;

/// Catalog list endpoints accept up to 2000 per page.
const CATALOG_PAGE: u64 = 2000;
/// Guard against a server that never reports an end.
const MAX_CATALOG_PAGES: u64 = 100;

/// An application (service manager). Its id is what a device's `application.id` holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceManager {
    pub id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub raw: Value,
}

/// A region and the service managers offered there.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionServiceManagers {
    /// Region code, e.g. `us-west` (what PATCH's `region` takes).
    pub id: String,
    /// Display name, e.g. `US West`.
    pub region_name: Option<String>,
    pub service_managers: Vec<ServiceManager>,
    pub raw: Value,
}

/// A service manager provisioned (or being provisioned) in a region of this workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct Provision {
    pub id: Option<String>,
    pub service_manager_id: Option<String>,
    pub region: Option<String>,
    /// `PROVISIONED`, `PROVISION_INITIATED`, `UNPROVISIONED`, …
    pub provision_status: Option<String>,
    pub raw: Value,
}

impl Provision {
    /// Only a `PROVISIONED` application can receive devices.
    pub fn is_provisioned(&self) -> bool {
        self.provision_status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("PROVISIONED"))
    }
}

fn s(v: &Value, k: &str) -> Option<String> {
    match v.get(k)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn service_manager(v: &Value) -> Option<ServiceManager> {
    Some(ServiceManager {
        id: s(v, "id")?,
        name: s(v, "name"),
        description: s(v, "description"),
        raw: v.clone(),
    })
}

fn region(v: &Value) -> Option<RegionServiceManagers> {
    Some(RegionServiceManagers {
        id: s(v, "id")?,
        region_name: s(v, "regionName"),
        service_managers: v
            .get("serviceManagers")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(service_manager).collect())
            .unwrap_or_default(),
        raw: v.clone(),
    })
}

fn provision(v: &Value) -> Option<Provision> {
    if !v.is_object() {
        return None;
    }
    Some(Provision {
        id: s(v, "id"),
        service_manager_id: v.get("serviceManager").and_then(|m| s(m, "id")),
        region: s(v, "region"),
        provision_status: s(v, "provisionStatus"),
        raw: v.clone(),
    })
}

impl Client {
    async fn catalog_get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, GlpError> {
        let call = Call {
            method: Method::GET,
            endpoint: Endpoint::ServiceCatalogGet,
            url: self.url(path, query)?,
            body: None,
        };
        self.execute(&call, |r| {
            let v: Value =
                serde_json::from_slice(&r.body).map_err(|e| format!("not JSON ({e})"))?;
            if v.is_object() {
                Ok(v)
            } else {
                Err("not a JSON object".into())
            }
        })
        .await
    }

    /// All items of a catalog list, page by page (these lists are small).
    async fn catalog_list(&self, path: &str, filter: Option<&str>) -> Result<Vec<Value>, GlpError> {
        let mut out = Vec::new();
        let mut offset = 0u64;
        for _ in 0..MAX_CATALOG_PAGES {
            let mut q = vec![
                ("offset", offset.to_string()),
                ("limit", CATALOG_PAGE.to_string()),
            ];
            if let Some(f) = filter {
                q.push(("filter", f.to_string()));
            }
            let page = self.catalog_get(path, &q).await?;
            let items = match page.get("items") {
                Some(Value::Array(a)) => a.clone(),
                _ => Vec::new(),
            };
            let n = items.len() as u64;
            out.extend(items);
            let total = page.get("total").and_then(Value::as_u64);
            offset += n;
            let done = n == 0 || n < CATALOG_PAGE || total.is_some_and(|t| offset >= t);
            if done {
                break;
            }
        }
        Ok(out)
    }

    /// Every region with its service managers
    /// (`GET /service-catalog/v1/per-region-service-managers`).
    pub async fn regions(&self) -> Result<Vec<RegionServiceManagers>, GlpError> {
        let items = self
            .catalog_list("/service-catalog/v1/per-region-service-managers", None)
            .await?;
        Ok(items.iter().filter_map(region).collect())
    }

    /// One region by code (`us-west`, …).
    pub async fn region(&self, code: &str) -> Result<RegionServiceManagers, GlpError> {
        let path = format!(
            "/service-catalog/v1/per-region-service-managers/{}",
            path_segment(code)?
        );
        let v = self.catalog_get(&path, &[]).await?;
        region(&v).ok_or_else(|| GlpError::Malformed {
            method: "GET".into(),
            url: path,
            attempts: 1,
            detail: "the region has no id".into(),
        })
    }

    /// All service managers (`GET /service-catalog/v1/service-managers`).
    pub async fn service_managers(&self) -> Result<Vec<ServiceManager>, GlpError> {
        let items = self
            .catalog_list("/service-catalog/v1/service-managers", None)
            .await?;
        Ok(items.iter().filter_map(service_manager).collect())
    }

    /// Provisioned applications (`GET /service-catalog/v1/service-manager-provisions`),
    /// optionally filtered (`region eq 'us-west'`, `serviceManagerId eq '…'`).
    pub async fn provisions(&self, filter: Option<&str>) -> Result<Vec<Provision>, GlpError> {
        let items = self
            .catalog_list("/service-catalog/v1/service-manager-provisions", filter)
            .await?;
        Ok(items.iter().filter_map(provision).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lenient_shapes() {
        let r = region(&json!({"id":"us-west","regionName":"US West",
            "serviceManagers":[{"id":"sm1","name":"Aruba Central"},{"name":"no id"}]}))
        .unwrap();
        assert_eq!(r.service_managers.len(), 1);
        let p = provision(&json!({"serviceManager":{"id":"sm1"},"region":"us-west",
            "provisionStatus":"PROVISIONED"}))
        .unwrap();
        assert!(p.is_provisioned());
        assert_eq!(p.service_manager_id.as_deref(), Some("sm1"));
    }
}
