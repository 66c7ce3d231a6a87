//! The sheet's Tenant column: which of the MSP's tenants a row names, by name or id (either
//! spelling of the id, glp-api §11), or [`TENANT_POOL`] for the MSP's own pool.
//!
//! Resolved against the tenants stored for the run's workspace (the MSP's), so a typo is a
//! row error before anything is sent, not a failed call.

use super::header::Field;
use super::load::{InputRow, Sheet, TENANT_POOL};
use super::matching::RowMatch;
use super::plan::{Desired, TenantTarget, tenant_key};
use super::validate::{Issue, IssueKind};
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

/// One warning when the sheet has a Tenant column but the workspace no tenants (not an MSP
/// workspace, or its tenants not synced yet): the column is ignored rather than every row
/// refused, since a "Customer" column may be a note in an ordinary workspace's sheet.
pub fn ignored_column(
    sheet: &Sheet,
    matches: &[RowMatch],
    tenants: &[TenantChoice],
) -> Option<Issue> {
    let used = matches.iter().filter(|m| m.input.tenant.is_some()).count();
    if !tenants.is_empty() || used == 0 {
        return None;
    }
    Some(Issue::warning(
        IssueKind::UnknownTenant,
        &sheet.sheet,
        None,
        sheet.header.column(&Field::Tenant).map(|c| c.describe()),
        format!(
            "the Tenant column is ignored ({used} rows name a tenant): this workspace has no \
             stored tenants; only an MSP workspace, once synced, can place devices in tenants"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assign::plan::{DeviceState, DeviceTarget};

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

    fn device(
        i: usize,
        management: &str,
        tenant: Option<&str>,
        to: Desired<TenantTarget>,
    ) -> DeviceTarget {
        DeviceTarget {
            serial: format!("SN{i:03}"),
            row: Some(i as u32 + 2),
            device_id: Some(format!("id-{i:03}")),
            current: Some(DeviceState {
                management: Some(management.into()),
                tenant: tenant.map(str::to_string),
                ..DeviceState::default()
            }),
            add: None,
            application: Desired::Keep,
            subscription: Desired::Keep,
            tags: Default::default(),
            tenant: to,
        }
    }

    #[test]
    fn moves_are_batched_per_tenant_and_only_msp_owned_devices_move() {
        let ts = tenants();
        let to = |t: &TenantChoice| {
            Desired::Set(TenantTarget {
                id: t.id.as_str().into(),
                name: t.name.clone(),
            })
        };
        let mut targets: Vec<DeviceTarget> = (0..30)
            .map(|i| device(i, "MSP", None, to(&ts[0])))
            .collect();
        targets.push(device(30, "MSP", None, to(&ts[1])));
        targets.push(device(31, "MSP", Some(ts[1].id.as_str()), to(&ts[1])));
        targets.push(device(32, "TENANT", None, to(&ts[1])));
        targets.push(device(33, "MSP", Some(ts[0].id.as_str()), Desired::Clear));
        targets[0].application = Desired::Set(crate::assign::plan::AppTarget {
            application_id: "app".into(),
            region: "us-west".into(),
        });
        let p = crate::assign::plan::plan(&targets);
        let tenant_steps: Vec<_> = p
            .steps
            .iter()
            .filter(|s| s.phase == crate::assign::plan::Phase::Tenant)
            .collect();
        let sizes: Vec<usize> = tenant_steps.iter().map(|s| s.device_ids.len()).collect();
        assert_eq!(sizes, vec![25, 5, 1, 1]);
        assert_eq!(tenant_steps[0].body["tenantWorkspaceId"], ts[0].id.dashed());
        assert!(
            tenant_steps[3].body["tenantWorkspaceId"].is_null(),
            "back to the pool"
        );
        // The application goes in its own PATCH, never with a tenant change.
        assert!(
            p.steps
                .iter()
                .all(|s| s.body.as_object().unwrap().len() == 1
                    || s.body.get("tenantWorkspaceId").is_none())
        );
        assert!(
            tenant_steps
                .iter()
                .all(|s| s.body.get("application").is_none())
        );
        assert_eq!(p.unchanged, vec!["SN031", "SN032"]);
        assert!(
            p.notes
                .iter()
                .any(|n| n.contains("SN032") && n.contains("managed by TENANT")),
            "{:?}",
            p.notes
        );
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
