//! The sheet's Tenant column: which of the MSP's tenants a row names, by name or id (either
//! spelling of the id, glp-api §11), or [`TENANT_POOL`] for the MSP's own pool.
//!
//! Resolved against the tenants stored for the run's workspace (the MSP's), so a typo is a
//! row error before anything is sent, not a failed call.

use super::load::{InputRow, TENANT_POOL};
use super::plan::{Desired, TenantTarget, tenant_key};
use crate::domain::{WorkspaceId, WorkspaceKind};
use crate::store::workspaces::WorkspaceRecord;

/// A tenant the Tenant column can name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantChoice {
    pub id: WorkspaceId,
    pub name: String,
}

/// How many known tenants an "unknown tenant" message lists.
const NAMED_IN_ERROR: usize = 5;

/// The tenants of `msp` among the stored workspaces (still listed by the MSP), by name.
pub fn tenants_of(workspaces: &[WorkspaceRecord], msp: &WorkspaceId) -> Vec<TenantChoice> {
    let mut out: Vec<TenantChoice> = workspaces
        .iter()
        .filter(|w| {
            w.kind == WorkspaceKind::Tenant
                && w.parent_id.as_ref() == Some(msp)
                && w.removed_at.is_none()
        })
        .map(|w| TenantChoice {
            id: w.id.clone(),
            name: w.name.clone(),
        })
        .collect();
    out.sort_by_key(|a| a.name.to_lowercase());
    out
}

/// The row's tenant: `Keep` without a Tenant cell, `Clear` for [`TENANT_POOL`], else the
/// tenant it names; `Err` with the message when no stored tenant matches.
pub fn resolve_tenant(
    r: &InputRow,
    tenants: &[TenantChoice],
) -> Result<Desired<TenantTarget>, String> {
    let Some(raw) = r.tenant.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(Desired::Keep);
    };
    if raw.eq_ignore_ascii_case(TENANT_POOL) {
        return Ok(Desired::Clear);
    }
    let key = tenant_key(raw);
    let hit = tenants.iter().find(|t| t.id.as_str() == key).or_else(|| {
        tenants
            .iter()
            .find(|t| t.name.trim().eq_ignore_ascii_case(raw))
    });
    match hit {
        Some(t) => Ok(Desired::Set(TenantTarget {
            id: t.id.as_str().to_string(),
            name: t.name.clone(),
        })),
        None => Err(unknown(raw, tenants)),
    }
}

fn unknown(raw: &str, tenants: &[TenantChoice]) -> String {
    if tenants.is_empty() {
        return format!(
            "tenant \"{raw}\" is unknown: this workspace has no stored tenants (is it an MSP \
             workspace, and has it been synced?); nothing is sent for this row"
        );
    }
    let names: Vec<&str> = tenants
        .iter()
        .take(NAMED_IN_ERROR)
        .map(|t| t.name.as_str())
        .collect();
    let more = tenants.len().saturating_sub(NAMED_IN_ERROR);
    format!(
        "tenant \"{raw}\" is not a tenant of this MSP workspace; known tenants: {}{}; give a \
         tenant's name or id, or {TENANT_POOL} for the MSP pool; nothing is sent for this row",
        names.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenants() -> Vec<TenantChoice> {
        ["Acme", "Globex"]
            .iter()
            .enumerate()
            .map(|(i, n)| TenantChoice {
                id: WorkspaceId::parse(&format!("131846d43af111f08e4ebe50c5e8c00{i}")).unwrap(),
                name: n.to_string(),
            })
            .collect()
    }

    fn row(t: Option<&str>) -> InputRow {
        InputRow {
            tenant: t.map(str::to_string),
            ..InputRow::default()
        }
    }

    #[test]
    fn by_name_or_either_id_spelling() {
        let ts = tenants();
        for v in ["acme", " ACME ", "131846D4-3AF1-11F0-8E4E-BE50C5E8C000"] {
            match resolve_tenant(&row(Some(v)), &ts).unwrap() {
                Desired::Set(t) => assert_eq!(t.name, "Acme", "{v}"),
                other => panic!("{v}: {other:?}"),
            }
        }
        assert_eq!(resolve_tenant(&row(None), &ts).unwrap(), Desired::Keep);
        assert_eq!(
            resolve_tenant(&row(Some("<POOL>")), &ts).unwrap(),
            Desired::Clear
        );
        let e = resolve_tenant(&row(Some("Initech")), &ts).unwrap_err();
        assert!(
            e.contains("\"Initech\"") && e.contains("Acme, Globex"),
            "{e}"
        );
    }
}
