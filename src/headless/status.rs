//! `glp-console status` across workspaces: one line per stored workspace, judged by the rules
//! of the single-workspace status ([`super::reports::health`]); exit 7 when any workspace is
//! failing or stale, each one named on stderr so the cron mail says which. A database with
//! one workspace prints exactly what it always did. A workspace the configuration declares
//! but the database does not hold yet has never synced: it is listed, and stale. A workspace
//! the database holds but this configuration does not sync (a tenant `[msp] exclude` or the
//! cap leaves out, a `[[workspaces]]` entry taken out of the file) is listed as "not synced" and
//! never alerts: cron could do nothing about it.

use std::collections::BTreeSet;

use super::Failure;
use super::reports::{self, Health, human_age, run_brief};
use crate::cli::exit;
use crate::config::{Config, MspConfig};
use crate::domain::{WorkspaceId, WorkspaceKind};
use crate::store::Store;
use crate::store::workspaces::WorkspaceRecord;

/// What `status` prints, its exit code, and the message for stderr when that is not 0.
pub struct StatusReport {
    pub text: String,
    pub code: i32,
    pub problem: Option<String>,
}

/// `glp-console status [--workspace NAME]… [--json]`. One workspace stored, or one named:
/// that workspace's runs in full (the output of earlier versions). Several: the table of
/// workspaces. A tenant the MSP no longer lists (removed) is shown but never alerts: nothing
/// syncs it any more, so it would be stale for ever.
pub async fn run(
    store: &Store,
    stale_after: std::time::Duration,
    json: bool,
    names: &[String],
    configured: &[WorkspaceRecord],
    served: Option<&Served>,
) -> Result<StatusReport, Failure> {
    let mut stored = store.workspaces().await?;
    let missing: Vec<WorkspaceRecord> = configured
        .iter()
        .filter(|c| !stored.iter().any(|s| s.id == c.id))
        .cloned()
        .collect();
    stored.extend(missing);
    stored.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    let chosen = super::workspaces::select(&stored, names)?;
    let several = chosen.as_ref().map_or(stored.len() > 1, |c| c.len() > 1);
    if !several {
        let one = chosen.as_ref().unwrap_or(&stored).first().cloned();
        return single(store, one, stale_after, json, !names.is_empty()).await;
    }
    let synced = served.map(|s| s.ids(&stored));
    let list = chosen.unwrap_or(stored);
    let mut judged = Vec::with_capacity(list.len());
    for ws in list {
        let h = reports::health(&store.for_workspace(ws.id.clone()), stale_after).await?;
        let served = synced.as_ref().is_none_or(|s| s.contains(&ws.id));
        judged.push(Judged { ws, h, served });
    }
    let alerting: Vec<&Judged> = judged.iter().filter(|j| j.alerts()).collect();
    let code = if alerting.is_empty() {
        exit::OK
    } else {
        exit::STALE
    };
    let problem = (!alerting.is_empty()).then(|| {
        let lines: Vec<String> = alerting
            .iter()
            .map(|j| format!("{}: {}", j.ws.name, verdict(&j.h)))
            .collect();
        let judged_n = judged.iter().filter(|j| j.counts()).count();
        format!(
            "{} of {judged_n} workspace(s) failing or stale:\n  {}",
            alerting.len(),
            lines.join("\n  ")
        )
    });
    let text = if json {
        render_json(&judged, stale_after, code)
    } else {
        render_text(&judged, stale_after, alerting.len())
    };
    Ok(StatusReport {
        text,
        code,
        problem,
    })
}

/// A stored workspace, its health, and whether this configuration syncs it.
struct Judged {
    ws: WorkspaceRecord,
    h: Health,
    served: bool,
}

impl Judged {
    /// Judged at all: not removed, and synced by this configuration.
    fn counts(&self) -> bool {
        self.ws.removed_at.is_none() && self.served
    }

    fn alerts(&self) -> bool {
        self.counts() && !self.h.ok()
    }
}

/// What a multi-workspace configuration syncs: the workspaces it declares and the tenants its
/// `[msp]` chooses — by the rules discovery chooses with, over the tenants stored as listed.
pub struct Served {
    declared: BTreeSet<WorkspaceId>,
    msp: Option<MspConfig>,
}

impl Served {
    /// `None` for the single-workspace configuration: its status judges what the database
    /// holds.
    pub fn of(cfg: &Config) -> Option<Served> {
        cfg.is_multi_workspace().then(|| Served {
            declared: configured(cfg).into_iter().map(|w| w.id).collect(),
            msp: cfg.msp.clone(),
        })
    }

    fn ids(&self, stored: &[WorkspaceRecord]) -> BTreeSet<WorkspaceId> {
        let mut ids = self.declared.clone();
        if let Some(msp) = &self.msp {
            let tenants: Vec<&WorkspaceRecord> = stored
                .iter()
                .filter(|w| {
                    w.kind == WorkspaceKind::Tenant
                        && w.parent_id.as_ref() == Some(&msp.workspace.id)
                        && w.removed_at.is_none()
                })
                .collect();
            let (chosen, _) = msp.choose(tenants, |w| (&w.id, w.name.as_str()));
            ids.extend(chosen.into_iter().map(|w| w.id.clone()));
        }
        ids
    }
}

/// The workspaces a multi-workspace configuration declares (each `[[workspaces]]` and the
/// `[msp]` itself; tenants are known only once discovered), for [`run`]. Empty for the
/// single-workspace configuration, whose status is judged by what the database holds.
pub fn configured(cfg: &Config) -> Vec<WorkspaceRecord> {
    if !cfg.is_multi_workspace() {
        return Vec::new();
    }
    let now = chrono::Utc::now();
    cfg.workspaces
        .iter()
        .chain(cfg.msp.as_ref().map(|m| &m.workspace))
        .map(|w| WorkspaceRecord {
            id: w.id.clone(),
            name: w.name.clone(),
            kind: w.kind,
            parent_id: None,
            inventory_ownership: None,
            first_seen_at: now,
            last_seen_at: now,
            removed_at: None,
        })
        .collect()
}

/// One workspace: the runs table of earlier versions; `named` adds a first line saying which
/// workspace it is (a legacy database's one workspace needs none).
async fn single(
    store: &Store,
    ws: Option<WorkspaceRecord>,
    stale_after: std::time::Duration,
    json: bool,
    named: bool,
) -> Result<StatusReport, Failure> {
    let scoped = match &ws {
        Some(w) => store.for_workspace(w.id.clone()),
        None => store.clone(),
    };
    let (mut text, code) = reports::status(&scoped, stale_after, json).await?;
    if named
        && !json
        && let Some(w) = &ws
    {
        text = format!(
            "workspace: {} ({}, {})\n{text}",
            w.name,
            w.id,
            w.kind.as_str()
        );
    }
    let problem = (code != exit::OK).then(|| match &ws {
        Some(w) if named => format!(
            "workspace {}: the last sync failed or is too old (see above)",
            w.name
        ),
        _ => "the last sync failed or is too old (see above)".to_string(),
    });
    Ok(StatusReport {
        text,
        code,
        problem,
    })
}

/// Why a workspace alerts, in a few words.
fn verdict(h: &Health) -> String {
    let mut parts = Vec::new();
    if h.failing
        && let Some(r) = &h.last_completed
    {
        let err = r
            .error
            .as_deref()
            .and_then(|e| e.lines().next())
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        parts.push(format!(
            "last completed sync (run {}) {}{err}",
            r.id, r.outcome
        ));
    }
    if h.stale {
        parts.push(match h.age {
            Some(a) => format!("stale: last good sync {} ago", human_age(a.num_seconds())),
            None => "stale: never synced successfully".to_string(),
        });
    }
    parts.join("; ")
}

fn state(j: &Judged) -> &'static str {
    let (ws, h) = (&j.ws, &j.h);
    match (ws.removed_at.is_some(), h.failing, h.stale) {
        (true, _, _) => "removed",
        _ if !j.served => "not synced",
        (false, true, true) => "FAILING+STALE",
        (false, true, false) => "FAILING",
        (false, false, true) => "STALE",
        (false, false, false) => "ok",
    }
}

fn render_text(judged: &[Judged], stale_after: std::time::Duration, alerting: usize) -> String {
    let name_w = judged
        .iter()
        .map(|j| j.ws.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(9);
    let mut out = format!(
        "{:<name_w$}  {:<10} {:<13}  {:<20}  {:>9}  {:<6} {:<10}  {}\n",
        "WORKSPACE", "KIND", "STATE", "LAST GOOD SYNC (UTC)", "AGE", "RUN", "OUTCOME", "ERROR"
    );
    for j in judged {
        let (ws, h) = (&j.ws, &j.h);
        let good = h
            .last_good
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_else(|| "never".into());
        let age = h
            .age
            .map(|a| human_age(a.num_seconds()))
            .unwrap_or_else(|| "-".into());
        let (run, outcome, error) = match &h.last_completed {
            Some(r) => (
                r.id.to_string(),
                r.outcome.as_str(),
                r.error
                    .as_deref()
                    .and_then(|e| e.lines().next())
                    .unwrap_or(""),
            ),
            None => ("-".to_string(), "-", ""),
        };
        out.push_str(&format!(
            "{:<name_w$}  {:<10} {:<13}  {:<20}  {:>9}  {:<6} {:<10}  {}\n",
            ws.name,
            ws.kind.as_str(),
            state(j),
            good,
            age,
            run,
            outcome,
            error
        ));
    }
    let judged_n = judged.iter().filter(|j| j.counts()).count();
    out.push_str(&format!(
        "{} of {judged_n} workspace(s) ok, {alerting} failing or stale (stale after {})\n",
        judged_n - alerting,
        human_age(stale_after.as_secs() as i64),
    ));
    out
}

fn render_json(judged: &[Judged], stale_after: std::time::Duration, code: i32) -> String {
    let lines: Vec<serde_json::Value> = judged
        .iter()
        .map(|j| {
            let (ws, h) = (&j.ws, &j.h);
            serde_json::json!({
                "name": ws.name,
                "id": ws.id.as_str(),
                "kind": ws.kind.as_str(),
                "removed_at": ws.removed_at,
                "state": state(j),
                "synced_by_this_configuration": j.served,
                "ok": !j.alerts(),
                "failing": h.failing,
                "stale": h.stale,
                "last_success": h.last_good,
                "last_success_age_seconds": h.age.map(|a| a.num_seconds()),
                "last_completed": h.last_completed.as_ref().map(run_brief),
            })
        })
        .collect();
    let failing: Vec<&str> = judged
        .iter()
        .filter(|j| j.alerts())
        .map(|j| j.ws.name.as_str())
        .collect();
    let v = serde_json::json!({
        "ok": code == exit::OK,
        "stale_after_seconds": stale_after.as_secs(),
        "failing_or_stale": failing,
        "workspaces": lines,
    });
    serde_json::to_string_pretty(&v).unwrap_or_default()
}
